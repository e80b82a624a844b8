//! Following a `get` run: each engine event updates the totals and goes to the output,
//! until every item has settled (or, with `--watch`, until the process is stopped).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;
use pixgrab_engine::Secs;
use pixgrab_engine::{EngineHandle, Event, ItemId};
use url::Url;

use super::output::{Output, Tally, watch_line};

/// Reports a run's events and keeps its totals.
pub(super) struct Follower {
    pub(super) out: Output,
    pub(super) tally: Tally,
    /// Each item's URL, for the report (shared with the engine's queue).
    urls: HashMap<ItemId, Arc<Url>>,
}

impl Follower {
    /// A follower for a new run, with the totals and URLs of what the folder's library
    /// replayed at start (items done, failed or queued in earlier runs), and those
    /// events, to be reported once the run has begun.
    pub(super) fn resume(out: Output, events: &Receiver<Event>) -> (Self, Vec<Event>) {
        let mut run = Follower {
            out,
            tally: Tally::default(),
            urls: HashMap::new(),
        };
        let earlier: Vec<Event> = events
            .try_iter()
            .filter(|e| !matches!(e, Event::Idle))
            .collect();
        for event in &earlier {
            match event {
                Event::Queued { id, url } => {
                    run.urls.insert(*id, url.clone());
                }
                Event::Done { .. } => {
                    run.tally.done += 1;
                    run.tally.already += 1;
                }
                _ => {}
            }
        }
        (run, earlier)
    }

    /// Reports events as watched pages are read again, until the process is stopped.
    pub(super) fn watch_forever(&mut self, events: &Receiver<Event>, stopped: &Receiver<()>) {
        loop {
            let event = crossbeam_channel::select! {
                recv(events) -> event => match event {
                    Ok(event) => event,
                    Err(_) => return,
                },
                recv(stopped) -> _ => {
                    self.out.note("stopped watching");
                    return;
                }
            };
            if let Event::Watched(watch) = &event {
                self.out.note(&watch_line(watch));
            }
            if let Event::Done { info, .. } = &event {
                self.out.note(&format!("saved {}", info.path.display()));
            }
            self.handle(&event);
        }
    }

    /// Reports the events that are waiting. True when a disk error paused the run.
    pub(super) fn drain(&mut self, events: &Receiver<Event>) -> bool {
        events.try_iter().any(|event| self.handle(&event))
    }

    /// Reports events until every item has settled, or until a disk error pauses the run
    /// (then true: nothing more can be written now).
    pub(super) fn follow(&mut self, engine: &EngineHandle, events: &Receiver<Event>) -> bool {
        loop {
            match events.recv_timeout(Duration::from_millis(250)) {
                Ok(event) => {
                    if self.handle(&event) {
                        return true;
                    }
                    // An Idle sent after one `add` may come when a later one has
                    // queued more.
                    if matches!(event, Event::Idle) && engine.is_idle() {
                        return self.drain(events);
                    }
                }
                // Its Idle may have been reported while the URLs were still going in.
                Err(crossbeam_channel::RecvTimeoutError::Timeout) if engine.is_idle() => {
                    return self.drain(events);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Reports one event; true when it paused the run.
    fn handle(&mut self, event: &Event) -> bool {
        if let Event::Queued { id, url } = event {
            self.urls.insert(*id, url.clone());
        }
        let url = |id: &ItemId| self.urls.get(id).map_or("", |u| u.as_str());
        let (out, tally) = (&mut self.out, &mut self.tally);
        let mut paused = false;
        match event {
            Event::Progress { id, bytes, .. } => tally.progress(*id, *bytes),
            Event::Done { id, info } => {
                tally.forget(*id);
                tally.done += 1;
                tally.done_bytes += info.bytes;
            }
            Event::Failed { id, reason } => {
                tally.failed += 1;
                tally.forget(*id);
                out.failure(url(id), &reason.to_string());
            }
            Event::Cancelled { id } => {
                tally.failed += 1;
                tally.forget(*id);
                out.failure(url(id), "cancelled");
            }
            Event::Retrying {
                id,
                attempt,
                delay,
                reason,
            } => {
                tally.forget(*id);
                out.note(&format!(
                    "retrying {} in {} (attempt {attempt}): {reason}",
                    url(id),
                    Secs(*delay)
                ));
            }
            Event::Paused { reason } => {
                // Nothing more can be written now. Stop without losing anything: parts
                // and the queue stay in the library, and the next run continues them.
                out.paused(reason);
                paused = true;
            }
            Event::Requeued { id } => out.note(&format!("trying again: {}", url(id))),
            _ => {}
        }
        self.report(event);
        paused
    }

    /// Prints one event (a line of JSON, or the progress display).
    pub(super) fn report(&mut self, event: &Event) {
        let url = event
            .id()
            .and_then(|id| self.urls.get(&id))
            .map_or("", |u| u.as_str());
        self.out.event(event, url, &self.tally);
    }

    /// Prints the summary (all items, this run's and earlier ones) and gives the totals.
    pub(super) fn finish(self) -> Tally {
        let Follower {
            mut out,
            tally,
            urls,
        } = self;
        out.finish(&tally, urls.len());
        tally
    }
}
