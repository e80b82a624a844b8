//! "Watched pages": each page the folder's engine reads again every so often, with when
//! it was last read (and what that found or why it failed), when it is read next, and a
//! button to stop watching it.

use std::collections::BTreeMap;
use std::time::Duration;

use pixgrab_engine::disk::library::Watch;
use pixgrab_engine::error::Span;
use url::Url;

/// The intervals the picker offers for "Queue and watch".
pub(crate) const INTERVALS: [(&str, Duration); 4] = [
    ("every 10 min", Duration::from_secs(600)),
    ("every hour", Duration::from_secs(3600)),
    ("every 6 hours", Duration::from_secs(6 * 3600)),
    ("every day", Duration::from_secs(86_400)),
];

/// What a watch's last check did and when the next comes, for people:
/// `checked 3 min ago: 2 new · next in 7 min`.
pub(crate) fn status(watch: &Watch, now: i64) -> String {
    let last = match (watch.last_ago(now), &watch.last_error) {
        (Some(ago), Some(e)) => format!("failed {} ago: {e}", Span(ago)),
        (Some(ago), None) => format!("checked {} ago: {} new", Span(ago), watch.last_new),
        (None, _) => "not checked yet".into(),
    };
    let next = match watch.next_in(now) {
        Duration::ZERO => "checking…".to_string(),
        wait => format!("next in {}", Span(wait)),
    };
    format!("{last} · {next}")
}

/// Draws the watched pages (nothing when there are none); returns the engine and page
/// to stop watching when the user asks.
pub(crate) fn watches_ui(
    ui: &mut egui::Ui,
    watches: &BTreeMap<(usize, String), Watch>,
) -> Option<(usize, Url)> {
    if watches.is_empty() {
        return None;
    }
    let mut stop = None;
    let now = pixgrab_engine::disk::library::unix_now_ms();
    egui::CollapsingHeader::new(format!("Watched pages ({})", watches.len()))
        .id_salt("watched pages")
        .default_open(true)
        .show(ui, |ui| {
            for ((engine, _), watch) in watches {
                ui.horizontal(|ui| {
                    if ui
                        .small_button("Stop")
                        .on_hover_text("Stop watching this page (what it gave stays)")
                        .clicked()
                    {
                        stop = Some((*engine, watch.page.clone()));
                    }
                    ui.label(super::gallery::elide(watch.page.as_str(), 48))
                        .on_hover_text(format!(
                            "{}\nread every {}",
                            watch.page,
                            Span(Duration::from_millis(watch.interval_ms))
                        ));
                });
                let text = status(watch, now);
                if watch.last_error.is_some() {
                    ui.colored_label(ui.visuals().warn_fg_color, text);
                } else {
                    ui.weak(text);
                }
            }
        });
    // The "ago" and "next in" texts move on by themselves.
    ui.ctx().request_repaint_after(Duration::from_secs(1));
    stop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_tells_its_last_and_next_check() {
        let mut watch = Watch {
            page: Url::parse("http://a.example/g").expect("url"),
            interval_ms: 600_000,
            next_check: 1_000_000 + 420_000,
            last_check: Some(1_000_000 - 180_000),
            last_new: 2,
            failures: 0,
            last_error: None,
        };
        assert_eq!(
            status(&watch, 1_000_000),
            "checked 3 min ago: 2 new · next in 7 min"
        );
        watch.last_error = Some("HTTP 404 Not Found".into());
        watch.last_check = Some(1_000_000 - 3_600_000);
        assert_eq!(
            status(&watch, 1_000_000),
            "failed 60 min ago: HTTP 404 Not Found · next in 7 min"
        );
        watch.last_check = None;
        watch.next_check = 0;
        assert_eq!(status(&watch, 1_000_000), "not checked yet · checking…");
    }
}
