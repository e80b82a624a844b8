//! Watched pages: each is read again every so often (with jitter, and backing off while
//! it fails), and only images the page shows for the first time are queued (and failed
//! ones it still shows tried again), with the page as their Referer. Watches live in the folder's library, so they survive a restart; one
//! thread, `pixgrab-watch`, checks them while the engine runs with
//! [`Config::run_watches`](super::Config::run_watches).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use url::Url;

use super::{EngineHandle, Event, Shared, find};
use crate::disk::library::{Watch, unix_now_ms as now_ms};
use crate::error::EngineError;

/// Longest wait between two checks of a failing page.
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// Wakes the watch thread (a watch was added or removed) or stops it.
#[derive(Default)]
pub(super) struct Signal {
    /// Stopped yet, and how many pokes so far.
    state: Mutex<(bool, u64)>,
    wake: Condvar,
}

impl Signal {
    /// Wakes the thread to look at the watches again.
    pub(super) fn poke(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 += 1;
        }
        self.wake.notify_all();
    }

    /// Stops the thread.
    pub(super) fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.0 = true;
        }
        self.wake.notify_all();
    }

    /// The pokes so far (a wait from this count returns at once if another came since).
    fn pokes(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.1)
    }

    /// Waits up to `timeout`, or until poked after `seen` pokes, or stopped; true when
    /// stopped.
    fn wait(&self, seen: u64, timeout: Duration) -> bool {
        let Ok(state) = self.state.lock() else {
            return true;
        };
        match self
            .wake
            .wait_timeout_while(state, timeout, |s| !s.0 && s.1 == seen)
        {
            Ok((state, _)) => state.0,
            Err(_) => true,
        }
    }

    fn stopped(&self) -> bool {
        self.state.lock().map_or(true, |s| s.0)
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `wait` give or take a tenth, so that many watches (and many users) do not all ask a
/// site at the same moment.
fn jittered(wait: Duration) -> Duration {
    wait.mul_f64(0.9 + fastrand::f64() * 0.2)
}

/// When to check again after a check at `now`: the interval after a success; after
/// `failures` failures in a row, the interval doubled for each (at most a day).
fn next_check(now: i64, interval: Duration, failures: u32) -> i64 {
    let wait = if failures == 0 {
        interval
    } else {
        interval
            .saturating_mul(1 << failures.min(16))
            .min(MAX_BACKOFF.max(interval))
    };
    now.saturating_add(ms(jittered(wait)))
}

impl EngineHandle {
    /// Watches `page`: every `interval` (at least
    /// [`Config::min_watch_interval`](super::Config::min_watch_interval)) it is read again
    /// and the images it shows for the first time are queued. `seen` are the images the
    /// caller found on it now: never queued by the watch (queued or left out, that was
    /// the user's choice). The first check comes one interval from now. Kept in the
    /// library.
    pub fn watch(
        &self,
        page: &Url,
        interval: Duration,
        seen: &[Url],
    ) -> Result<Watch, EngineError> {
        let interval = interval.max(self.shared.config.min_watch_interval);
        let mut lib = self.shared.library();
        lib.mark_seen(page, seen)?;
        let earlier = lib.watch_of(page)?;
        let watch = Watch {
            page: page.clone(),
            interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
            next_check: now_ms().saturating_add(ms(interval)),
            last_check: earlier.as_ref().and_then(|w| w.last_check),
            last_new: earlier.as_ref().map_or(0, |w| w.last_new),
            failures: 0,
            last_error: None,
        };
        lib.set_watch(&watch)?;
        drop(lib);
        self.shared
            .events
            .send(Event::Watched(Box::new(watch.clone())));
        self.shared.watch.poke();
        Ok(watch)
    }

    /// Stops watching `page`.
    pub fn unwatch(&self, page: &Url) -> Result<(), EngineError> {
        if self.shared.library().remove_watch(page)? {
            self.shared
                .events
                .send(Event::Unwatched { page: page.clone() });
        }
        self.shared.watch.poke();
        Ok(())
    }

    /// Starts the watch thread (see the module documentation), after telling the front
    /// end of every stored watch.
    pub(super) fn start_watching(&self) -> Result<(), EngineError> {
        for watch in self.shared.library().watches()? {
            self.shared.events.send(Event::Watched(Box::new(watch)));
        }
        let worker = self.helper();
        let thread = std::thread::Builder::new()
            .name("pixgrab-watch".into())
            .spawn(move || {
                super::priority::enter(worker.shared.config.background_priority);
                watch_loop(&worker);
            })
            .map_err(EngineError::Threads)?;
        if let Ok(mut workers) = self.workers.lock() {
            workers.push(thread);
        }
        Ok(())
    }
}

/// Checks each watch when it is due, sleeping in between, until the engine stops.
/// Next-check times are also kept here: a library that cannot be written (a full disk)
/// must not make a page be read over and over.
fn watch_loop(engine: &EngineHandle) {
    let shared: &Arc<Shared> = &engine.shared;
    let mut not_before: HashMap<Url, i64> = HashMap::new();
    loop {
        let pokes = shared.watch.pokes();
        if shared.watch.stopped() {
            return;
        }
        let watches = shared.library().watches().unwrap_or_default();
        not_before.retain(|page, _| watches.iter().any(|w| w.page == *page));
        let now = now_ms();
        let due: Vec<Watch> = watches
            .iter()
            .filter(|w| due_at(&not_before, w) <= now)
            .cloned()
            .collect();
        for watch in due {
            if shared.watch.stopped() {
                return;
            }
            if let Some(next) = check(engine, watch.clone()) {
                not_before.insert(watch.page, next);
            }
        }
        // Until the soonest next check (the checks just made are in `not_before`; a
        // watch added or removed meanwhile pokes, which ends the wait at once).
        let soonest = watches.iter().map(|w| due_at(&not_before, w)).min();
        let wait = soonest.map_or(Duration::from_secs(3600), |at| {
            Duration::from_millis(u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0))
        });
        if shared
            .watch
            .wait(pokes, wait.max(Duration::from_millis(10)))
        {
            return;
        }
    }
}

/// When `watch` is due: its stored next check, or later if this thread knows better.
fn due_at(not_before: &HashMap<Url, i64>, watch: &Watch) -> i64 {
    watch
        .next_check
        .max(not_before.get(&watch.page).copied().unwrap_or(i64::MIN))
}

/// Reads a watched page once: queues what is new and records when to read it next
/// (returned; `None` when the page is no longer watched).
fn check(engine: &EngineHandle, mut watch: Watch) -> Option<i64> {
    let shared = &engine.shared;
    // Removed while an earlier page was being read: not read.
    let watched = |page: &Url| shared.library().watch_of(page).is_ok_and(|w| w.is_some());
    if !watched(&watch.page) {
        return None;
    }
    let interval = Duration::from_millis(watch.interval_ms).max(shared.config.min_watch_interval);
    let now = now_ms();
    let disk =
        |e: crate::disk::library::LibraryError| crate::error::FetchError::Disk(e.to_string());
    let queued =
        super::worker::guarded(|| find::list_page(shared, &watch.page)).and_then(|found| {
            // Like `--page`: the largest variant of each picture.
            let urls = crate::input::page::largest_urls(&found.candidates);
            let (new, again) = {
                let lib = shared.library();
                let new = lib.unseen(&watch.page, &urls).map_err(disk)?;
                // An image that failed and is still on the page is tried again (it may
                // have been put up since).
                (new, lib.failed_among(&urls).map_err(disk)?)
            };
            if shared.watch.stopped() || !watched(&watch.page) {
                return Ok(0);
            }
            let count = new.len();
            engine
                .add_from(new.into_iter().chain(again), Some(&found.page))
                .map_err(|e| crate::error::FetchError::Disk(e.to_string()))?;
            shared
                .library()
                .mark_seen(&watch.page, &urls)
                .map_err(disk)?;
            Ok(count)
        });
    watch.last_check = Some(now);
    match queued {
        Ok(count) => {
            watch.last_new = count as u64;
            watch.failures = 0;
            watch.last_error = None;
        }
        Err(e) => {
            watch.last_new = 0;
            watch.failures = watch.failures.saturating_add(1);
            watch.last_error = Some(e.to_string());
        }
    }
    watch.next_check = next_check(now, interval, watch.failures);
    let next = watch.next_check;
    // Only the outcome is written: an interval changed meanwhile stays.
    if shared.library().record_check(&watch).unwrap_or(false) {
        shared.events.send(Event::Watched(Box::new(watch)));
    }
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_pages_back_off_doubling_up_to_a_day() {
        let hour = Duration::from_secs(3600);
        let after = |failures| Duration::from_millis((next_check(0, hour, failures)) as u64);
        for (failures, nominal) in [(0, hour), (1, hour * 2), (3, hour * 8), (9, MAX_BACKOFF)] {
            let got = after(failures);
            assert!(
                got >= nominal.mul_f64(0.9) && got <= nominal.mul_f64(1.1),
                "{failures} failures: {got:?}, not about {nominal:?}"
            );
        }
    }
}
