//! Watched pages: each is read again every so often (with jitter, and backing off while
//! it fails), and only images no item has yet are queued, with the page as their
//! Referer. Watches live in the folder's library, so they survive a restart; one
//! thread, `pixgrab-watch`, checks them while the engine runs with
//! [`Config::run_watches`](super::Config::run_watches).

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use url::Url;

use super::{EngineHandle, Event, Shared, find};
use crate::disk::library::Watch;
use crate::error::EngineError;

/// Longest wait between two checks of a failing page.
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// Wakes the watch thread (a watch was added or removed) or stops it.
#[derive(Default)]
pub(super) struct Signal {
    /// True once the engine stops.
    stopped: Mutex<bool>,
    wake: Condvar,
}

impl Signal {
    /// Wakes the thread to look at the watches again.
    pub(super) fn poke(&self) {
        self.wake.notify_all();
    }

    /// Stops the thread.
    pub(super) fn stop(&self) {
        if let Ok(mut stopped) = self.stopped.lock() {
            *stopped = true;
        }
        self.wake.notify_all();
    }

    /// Waits up to `timeout` (or until poked or stopped); true when stopped.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(stopped) = self.stopped.lock() else {
            return true;
        };
        if *stopped {
            return true;
        }
        match self.wake.wait_timeout(stopped, timeout) {
            Ok((stopped, _)) => *stopped,
            Err(_) => true,
        }
    }

    fn stopped(&self) -> bool {
        self.stopped.lock().map_or(true, |s| *s)
    }
}

/// Unix time in milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
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
    /// Watches `page`: every `interval` (at least [`Config::min_watch_interval`](super::Config::min_watch_interval))
    /// it is read again and the images no item has yet are queued. The first check
    /// comes one interval from now (the caller has just read it). Kept in the library.
    pub fn watch(&self, page: &Url, interval: Duration) -> Result<Watch, EngineError> {
        let interval = interval.max(self.shared.config.min_watch_interval);
        let lib = self.shared.library();
        let earlier = lib.watches()?.into_iter().find(|w| w.page == *page);
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
fn watch_loop(engine: &EngineHandle) {
    let shared: &Arc<Shared> = &engine.shared;
    loop {
        if shared.watch.stopped() {
            return;
        }
        let watches = shared.library().watches().unwrap_or_default();
        let now = now_ms();
        for watch in watches.iter().filter(|w| w.next_check <= now) {
            if shared.watch.stopped() {
                return;
            }
            check(engine, watch.clone());
        }
        // Until the soonest next check (re-read: the checks just moved theirs).
        let soonest = shared
            .library()
            .watches()
            .ok()
            .and_then(|w| w.iter().map(|w| w.next_check).min());
        let wait = soonest.map_or(Duration::from_secs(3600), |at| {
            Duration::from_millis(u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0))
        });
        if shared.watch.wait(wait.max(Duration::from_millis(10))) {
            return;
        }
    }
}

/// Reads a watched page once: queues what is new, records when to read it next.
fn check(engine: &EngineHandle, mut watch: Watch) {
    let shared = &engine.shared;
    let interval = Duration::from_millis(watch.interval_ms).max(shared.config.min_watch_interval);
    let now = now_ms();
    let queued =
        super::worker::guarded(|| find::list_page(shared, &watch.page)).and_then(|found| {
            let urls: Vec<Url> = found
                .candidates
                .into_iter()
                .filter(|c| !c.smaller_variant)
                .map(|c| c.url)
                .collect();
            let new = shared
                .library()
                .unseen(&urls)
                .map_err(|e| crate::error::FetchError::Disk(e.to_string()))?;
            let count = new.len();
            if shared.watch.stopped() {
                return Ok(0);
            }
            engine
                .add_from(new, Some(&found.page))
                .map_err(|e| crate::error::FetchError::Disk(e.to_string()))?;
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
    // A watch removed while its page was read stays removed.
    let still = shared
        .library()
        .watches()
        .is_ok_and(|w| w.iter().any(|w| w.page == watch.page));
    if still && shared.library().set_watch(&watch).is_ok() {
        shared.events.send(Event::Watched(Box::new(watch)));
    }
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
