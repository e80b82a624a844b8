//! Where a `get` run's results go: a progress bar with lines above it on stderr, or
//! one JSON object per event on stdout; and the running totals both show.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pixgrab_engine::Span;
use pixgrab_engine::{Bytes, Event, ItemId};
use serde_json::json;

use crate::common::{peak_rss_kib, plural};

/// Running totals for the progress display and the summary.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) done: usize,
    /// Done in an earlier run (found in the folder's library).
    pub(super) already: usize,
    pub(super) failed: usize,
    pub(super) done_bytes: u64,
    /// Bytes received by items still in flight.
    in_flight: HashMap<ItemId, u64>,
}

impl Tally {
    pub(super) fn progress(&mut self, id: ItemId, bytes: u64) {
        self.in_flight.insert(id, bytes);
    }

    pub(super) fn forget(&mut self, id: ItemId) {
        self.in_flight.remove(&id);
    }

    fn received(&self) -> u64 {
        self.done_bytes + self.in_flight.values().sum::<u64>()
    }
}

/// Where results go: a progress bar on stderr, or JSON lines on stdout.
pub(super) enum Output {
    /// On a terminal the bar redraws in place; otherwise (logs, pipes) a plain status line
    /// is printed every few seconds.
    Human {
        bar: ProgressBar,
        started: Instant,
        last_line: Instant,
    },
    Json {
        stdout: std::io::Stdout,
    },
}

impl Output {
    pub(super) fn new(json: bool) -> Self {
        if json {
            return Self::Json {
                stdout: std::io::stdout(),
            };
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} images  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(125));
        Self::Human {
            bar,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// Prints a line above the bar (or plainly when there is no bar).
    fn say(bar: &ProgressBar, text: String) {
        if bar.is_hidden() {
            eprintln!("{text}");
        } else {
            bar.println(text);
        }
    }

    pub(super) fn rejected(&mut self, text: &str, reason: &str) {
        match self {
            Self::Human { bar, .. } => Self::say(bar, format!("skipped {text}: {reason}")),
            Self::Json { stdout } => line(
                stdout,
                &json!({"event": "rejected", "text": text, "reason": reason}),
            ),
        }
    }

    pub(super) fn begin(
        &mut self,
        count: usize,
        duplicates: usize,
        out_dir: &Path,
        already: usize,
    ) {
        match self {
            Self::Human { bar, .. } => {
                bar.set_length(count as u64);
                let dup = if duplicates > 0 {
                    format!(" ({duplicates} duplicates skipped)")
                } else {
                    String::new()
                };
                let had = if already > 0 {
                    format!("; {already} done in earlier runs")
                } else {
                    String::new()
                };
                Self::say(
                    bar,
                    format!(
                        "Downloading {}{dup} into {}{had}",
                        plural(count, "URL"),
                        out_dir.display()
                    ),
                );
            }
            Self::Json { stdout } => line(
                stdout,
                &json!({"event": "begin", "urls": count, "duplicates": duplicates,
                        "out_dir": out_dir, "already": already}),
            ),
        }
    }

    /// The run stops early, keeping its parts and queue for the next run.
    pub(super) fn paused(&mut self, reason: &str) {
        match self {
            Self::Human { bar, .. } => Self::say(
                bar,
                format!(
                    "paused: {reason}. Parts are kept: run the same command again to continue."
                ),
            ),
            Self::Json { stdout } => line(stdout, &json!({"event": "paused", "reason": reason})),
        }
    }

    pub(super) fn note(&mut self, text: &str) {
        if let Self::Human { bar, .. } = self {
            Self::say(bar, text.to_string());
        }
    }

    pub(super) fn failure(&mut self, url: &str, reason: &str) {
        if let Self::Human { bar, .. } = self {
            Self::say(bar, format!("failed {url}: {reason}"));
        }
    }

    pub(super) fn event(&mut self, event: &Event, url: &str, tally: &Tally) {
        match self {
            Self::Human {
                bar,
                started,
                last_line,
            } => {
                if matches!(
                    event,
                    Event::Done { .. } | Event::Failed { .. } | Event::Cancelled { .. }
                ) {
                    let length = bar.length().unwrap_or(0);
                    let position = (tally.done + tally.failed) as u64;
                    // Items left queued by an earlier run make the job bigger.
                    bar.set_length(length.max(position));
                    bar.set_position(position);
                }
                let received = tally.received();
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let status = format!(
                    "{}  {}/s",
                    Bytes(received),
                    Bytes((received as f64 / secs) as u64)
                );
                if bar.is_hidden() && last_line.elapsed() >= Duration::from_secs(2) {
                    *last_line = Instant::now();
                    eprintln!(
                        "[{secs:.0} s] {}/{} images  {status}",
                        bar.position(),
                        bar.length().unwrap_or(0)
                    );
                }
                bar.set_message(status);
            }
            Self::Json { stdout } => {
                if let Some(value) = event_json(event, url) {
                    line(stdout, &value);
                }
            }
        }
    }

    pub(super) fn finish(&mut self, tally: &Tally, total: usize) {
        match self {
            Self::Human { bar, started, .. } => {
                bar.finish_and_clear();
                let secs = started.elapsed().as_secs_f64();
                let had = if tally.already > 0 {
                    format!(" ({} of them in earlier runs)", tally.already)
                } else {
                    String::new()
                };
                eprintln!(
                    "Downloaded {} of {total} images{had} ({}) in {secs:.1} s; {} failed.",
                    tally.done,
                    Bytes(tally.done_bytes),
                    tally.failed
                );
            }
            Self::Json { stdout } => line(
                stdout,
                &json!({
                    "event": "summary", "done": tally.done, "failed": tally.failed,
                    "already": tally.already,
                    "bytes": tally.done_bytes, "peak_rss_kib": peak_rss_kib(),
                }),
            ),
        }
    }
}

/// A line on a watched page: what its last check found, and when the next comes.
pub(super) fn watch_line(watch: &pixgrab_engine::Watch) -> String {
    let next = watch.next_in(pixgrab_engine::unix_now_ms());
    if let Some(reason) = &watch.paused {
        return format!(
            "{}: {} new; {reason}. Run the command again to resume it",
            watch.page, watch.last_new
        );
    }
    let what = match (&watch.last_error, watch.last_check) {
        (Some(e), _) => format!("could not read it ({e}); trying again"),
        (None, Some(_)) => format!("{} new", watch.last_new),
        (None, None) => "watching".into(),
    };
    format!("{}: {what}; next check in {}", watch.page, Span(next))
}

fn event_json(event: &Event, url: &str) -> Option<serde_json::Value> {
    Some(match event {
        Event::Queued { id, url } => json!({"event": "queued", "id": id.0, "url": url.as_str()}),
        Event::Started { id, total } => {
            json!({"event": "started", "id": id.0, "url": url, "total": total})
        }
        Event::Progress { id, bytes, total } => {
            json!({"event": "progress", "id": id.0, "bytes": bytes, "total": total})
        }
        Event::Done { id, info } => json!({
            "event": "done", "id": id.0, "url": url, "final_url": info.final_url.as_str(),
            "path": info.path, "bytes": info.bytes, "format": info.format.name(),
            "content_type": info.content_type, "sha256": info.sha256,
            "width": info.dimensions.map(|d| d.0), "height": info.dimensions.map(|d| d.1),
            "earlier": info.restored, "duplicate_of": info.duplicate_of.map(|d| d.0),
        }),
        Event::Thumbnail { id, thumb, .. } => {
            json!({"event": "thumbnail", "id": id.0, "width": thumb.width, "height": thumb.height})
        }
        Event::ThumbnailCached {
            id, width, height, ..
        } => json!({"event": "thumbnail", "id": id.0, "width": width, "height": height}),
        Event::ThumbnailFailed { id, reason } => {
            json!({"event": "thumbnail_failed", "id": id.0, "reason": reason.to_string()})
        }
        Event::Failed { id, reason } => {
            json!({"event": "failed", "id": id.0, "url": url, "reason": reason.to_string()})
        }
        Event::Cancelled { id } => json!({"event": "cancelled", "id": id.0, "url": url}),
        Event::Removed { id, kept_file } => {
            json!({"event": "removed", "id": id.0, "url": url, "kept_file": kept_file})
        }
        Event::Retrying {
            id,
            attempt,
            delay,
            reason,
        } => json!({
            "event": "retrying", "id": id.0, "url": url, "attempt": attempt,
            "delay_ms": delay.as_millis() as u64, "reason": reason.to_string(),
        }),
        Event::Paused { reason } => json!({"event": "paused", "reason": reason}),
        Event::ItemPaused { id, bytes } => {
            json!({"event": "item_paused", "id": id.0, "url": url, "bytes": bytes})
        }
        Event::Requeued { id } => json!({"event": "requeued", "id": id.0, "url": url}),
        Event::HostLimit { host, limit } => {
            json!({"event": "host_limit", "host": host, "limit": limit})
        }
        Event::Watched(watch) => json!({
            "event": "watched", "page": watch.page.as_str(),
            "interval_ms": watch.interval_ms, "last_check_ms": watch.last_check,
            "next_check_ms": watch.next_check, "new": watch.last_new,
            "failures": watch.failures, "error": watch.last_error,
            "queued": watch.queued, "paused": watch.paused,
        }),
        Event::Unwatched { page } => json!({"event": "unwatched", "page": page.as_str()}),
        // The CLI adds with the blocking call, which answers itself.
        Event::Idle
        | Event::MovedToTop { .. }
        | Event::Added { .. }
        | Event::CommandFailed { .. } => return None,
    })
}

fn line(stdout: &mut std::io::Stdout, value: &serde_json::Value) {
    let mut lock = stdout.lock();
    // A closed stdout (`| head`) must not turn into a panic.
    let _ = writeln!(lock, "{value}");
}
