//! "Watched pages": each page the folder's engine reads again every so often, with when
//! it was last read (and what that found or why it failed), when it is read next, and a
//! button to stop watching it.

use std::collections::BTreeMap;
use std::time::Duration;

use pixgrab_engine::Span;
use pixgrab_engine::Watch;
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
    if let Some(reason) = &watch.paused {
        return format!("{reason} · Resume to go on");
    }
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

/// What the user asked of a watched page (the engine's slot, and the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WatchAction {
    /// Stop watching it.
    Stop(usize, Url),
    /// Go on with a paused watch (its count starts over).
    Resume(usize, Url, Duration),
}

/// Draws the watched pages (nothing when there are none); returns what the user asked.
pub(crate) fn watches_ui(
    ui: &mut egui::Ui,
    watches: &BTreeMap<(usize, String), Watch>,
) -> Option<WatchAction> {
    if watches.is_empty() {
        return None;
    }
    let mut stop = None;
    let now = pixgrab_engine::unix_now_ms();
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
                        stop = Some(WatchAction::Stop(*engine, watch.page.clone()));
                    }
                    if watch.paused.is_some()
                        && ui
                            .small_button("Resume")
                            .on_hover_text("Go on checking this page (it may queue as much again)")
                            .clicked()
                    {
                        stop = Some(WatchAction::Resume(
                            *engine,
                            watch.page.clone(),
                            Duration::from_millis(watch.interval_ms),
                        ));
                    }
                    ui.label(super::gallery::elide(watch.page.as_str(), 48))
                        .on_hover_text(format!(
                            "{}\nread every {}",
                            watch.page,
                            Span(Duration::from_millis(watch.interval_ms))
                        ));
                });
                let text = status(watch, now);
                if watch.last_error.is_some() || watch.paused.is_some() {
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
            queued: 2,
            paused: None,
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
        watch.paused = Some("paused: too many".into());
        assert_eq!(
            status(&watch, 1_000_000),
            "paused: too many · Resume to go on"
        );
    }
}
