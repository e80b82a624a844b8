//! Watched pages: each is read again every so often (with jitter, and backing off while
//! it fails), and only images the page shows for the first time are queued (and failed
//! ones it still shows tried again, a few times; never what the user cancelled), with
//! the page as their Referer. Watches live in the folder's library, so they survive a
//! restart; the `pixgrab-watch` thread schedules them while the engine runs with
//! [`Config::run_watches`](super::Config::run_watches), and each check runs on a thread
//! of its own (a few at once), so a slow page never holds up the others.
//!
//! A watch cannot grow without bound: a page whose image addresses change at every
//! visit (signed or cache-busting query strings) pauses its watch without queueing, and
//! so do more new images in one check, or in all, than [`WatchCaps`] allows. A paused
//! watch is not read until the user resumes it (watches it again).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use url::Url;

use super::{EngineHandle, Event, Shared, find};
use crate::disk::library::{Watch, unix_now_ms as now_ms};
use crate::error::EngineError;

/// Longest wait between two checks of a failing page.
const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);

/// Most checks under way at once (each on its own thread).
const CHECKS_AT_ONCE: usize = 4;

/// How much one watch may queue before it pauses and asks the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchCaps {
    /// New images queued by one check at most (the rest wait for the next check, and
    /// the watch pauses).
    pub per_check: usize,
    /// New images queued by one watch at most, since it began or was resumed.
    pub per_watch: u64,
    /// Times a failed image still on the page is tried again.
    pub retries: u32,
}

impl Default for WatchCaps {
    fn default() -> Self {
        Self {
            per_check: 200,
            per_watch: 2000,
            retries: 3,
        }
    }
}

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
    /// Carries out [`Command::Watch`](super::commands::Command::Watch).
    pub(super) fn watch(
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
            // Resuming a paused watch checks at once; a new one waits an interval.
            next_check: if earlier.as_ref().is_some_and(|w| w.paused.is_some()) {
                now_ms()
            } else {
                now_ms().saturating_add(ms(interval))
            },
            last_check: earlier.as_ref().and_then(|w| w.last_check),
            last_new: earlier.as_ref().map_or(0, |w| w.last_new),
            failures: 0,
            last_error: None,
            // Watching again is how a paused watch is resumed: its count starts over.
            queued: 0,
            paused: None,
        };
        lib.set_watch(&watch)?;
        drop(lib);
        self.shared
            .events
            .send(Event::Watched(Box::new(watch.clone())));
        self.shared.watch.poke();
        Ok(watch)
    }

    /// Carries out [`Command::Unwatch`](super::commands::Command::Unwatch).
    pub(super) fn unwatch(&self, page: &Url) -> Result<(), EngineError> {
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

/// The watch thread's bookkeeping, shared with the checks under way.
#[derive(Default)]
struct Schedule {
    /// Page → the earliest next check this thread knows of (a library that cannot be
    /// written, a full disk, must not make a page be read over and over).
    not_before: HashMap<Url, i64>,
    /// Pages being checked now.
    running: HashSet<Url>,
    /// The check threads started (finished ones are dropped as it goes).
    threads: Vec<std::thread::JoinHandle<()>>,
}

/// Starts each watch's check when it is due (each on a thread of its own, at most
/// [`CHECKS_AT_ONCE`] at once, never two of one page), sleeping in between, until the
/// engine stops.
///
/// Returns only once the checks under way have ended too (a page read stops reading
/// when the engine stops; at worst it ends at its deadline), so that nothing of the
/// engine outlives its shutdown.
fn watch_loop(engine: &EngineHandle) {
    let schedule: Arc<Mutex<Schedule>> = Arc::default();
    schedule_checks(engine, &schedule);
    let threads = schedule
        .lock()
        .map(|mut plan| std::mem::take(&mut plan.threads))
        .unwrap_or_default();
    for thread in threads {
        let _ = thread.join();
    }
}

/// The watch thread's loop (see [`watch_loop`]).
fn schedule_checks(engine: &EngineHandle, schedule: &Arc<Mutex<Schedule>>) {
    let shared: &Arc<Shared> = &engine.shared;
    loop {
        let pokes = shared.watch.pokes();
        if shared.watch.stopped() {
            return;
        }
        let watches: Vec<Watch> = shared
            .library()
            .watches()
            .unwrap_or_default()
            .into_iter()
            .filter(|w| w.paused.is_none())
            .collect();
        let now = now_ms();
        let due: Vec<Watch> = {
            let Ok(mut plan) = schedule.lock() else {
                return;
            };
            plan.not_before
                .retain(|page, _| watches.iter().any(|w| w.page == *page));
            let room = CHECKS_AT_ONCE.saturating_sub(plan.running.len());
            let due: Vec<Watch> = watches
                .iter()
                .filter(|w| !plan.running.contains(&w.page) && due_at(&plan.not_before, w) <= now)
                .take(room)
                .cloned()
                .collect();
            plan.running.extend(due.iter().map(|w| w.page.clone()));
            due
        };
        for watch in due {
            start_check(engine, schedule, watch);
        }
        // Until the soonest next check of a page not being checked (a check that ends,
        // and a watch added or removed, poke, which ends the wait at once).
        // With every slot taken, only a check that ends (its poke) can start another.
        let soonest = schedule.lock().ok().and_then(|plan| {
            if plan.running.len() >= CHECKS_AT_ONCE {
                return None;
            }
            watches
                .iter()
                .filter(|w| !plan.running.contains(&w.page))
                .map(|w| due_at(&plan.not_before, w))
                .min()
        });
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

/// Checks `watch` on a thread of its own; when it ends, records when to check it next
/// and wakes the watch thread.
fn start_check(engine: &EngineHandle, schedule: &Arc<Mutex<Schedule>>, watch: Watch) {
    let worker = engine.helper();
    let plan = schedule.clone();
    let page = watch.page.clone();
    let interval =
        Duration::from_millis(watch.interval_ms).max(engine.shared.config.min_watch_interval);
    let spawned = std::thread::Builder::new()
        .name("pixgrab-watch-check".into())
        .spawn(move || {
            super::priority::enter(worker.shared.config.background_priority);
            let page = watch.page.clone();
            // No longer watched (or the check panicked): not before an interval from now.
            let next =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&worker, watch)))
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| now_ms().saturating_add(ms(interval)));
            if let Ok(mut plan) = plan.lock() {
                plan.running.remove(&page);
                plan.not_before.insert(page, next);
            }
            worker.shared.watch.poke();
        });
    let Ok(mut plan) = schedule.lock() else {
        return;
    };
    plan.threads.retain(|t| !t.is_finished());
    match spawned {
        Ok(thread) => plan.threads.push(thread),
        Err(_) => {
            // Out of threads: tried again an interval from now.
            plan.running.remove(&page);
            plan.not_before
                .insert(page, now_ms().saturating_add(ms(interval)));
        }
    }
}

/// When `watch` is due: its stored next check, or later if this thread knows better.
fn due_at(not_before: &HashMap<Url, i64>, watch: &Watch) -> i64 {
    watch
        .next_check
        .max(not_before.get(&watch.page).copied().unwrap_or(i64::MIN))
}

/// What one check found to do.
struct Found {
    /// New images, at most a check's cap of them.
    new: Vec<Url>,
    /// Failed images still shown, to try again.
    again: Vec<Url>,
    /// Everything the page shows that is marked seen now (not the new ones left over
    /// for the next check).
    seen: Vec<Url>,
    /// Why the watch pauses after this check, if it does.
    pause: Option<String>,
}

/// Decides what a check of `page` that showed `urls` queues, within `caps` (`queued`
/// so far by the watch).
fn plan_check(
    shared: &Shared,
    page: &Url,
    urls: Vec<Url>,
    caps: WatchCaps,
    queued: u64,
) -> Result<Found, crate::disk::library::LibraryError> {
    let mut lib = shared.library();
    let mut new = lib.unseen(page, &urls)?;
    // Addresses that change at every visit: the same images, re-signed.
    let earlier = lib.seen_without_query(page)?;
    let bare: Vec<String> = new
        .iter()
        .map(|u| {
            let mut bare = u.clone();
            bare.set_query(None);
            bare.to_string()
        })
        .collect();
    let resigned = bare.iter().filter(|b| earlier.contains(b.as_str())).count();
    // Distinct images, not one script's `?id=N` addresses (which share one path).
    let distinct = bare.iter().collect::<HashSet<_>>().len();
    if new.len() >= 5
        && new.len() * 5 >= urls.len() * 4
        && resigned * 5 >= new.len() * 4
        && distinct * 5 >= new.len() * 4
    {
        return Ok(Found {
            pause: Some(format!(
                "paused: the page's image addresses change at every visit ({resigned} of its \
                 {} new ones differ from earlier ones only after the '?'); nothing was queued",
                new.len()
            )),
            new: Vec::new(),
            again: Vec::new(),
            seen: urls,
        });
    }
    let left = usize::try_from(caps.per_watch.saturating_sub(queued)).unwrap_or(usize::MAX);
    let cap = caps.per_check.min(left);
    let mut pause = None;
    let mut seen = urls.clone();
    if new.len() > cap {
        let over = new.split_off(cap);
        pause = Some(if cap < caps.per_check {
            format!(
                "paused: this watch queued {} images (the most one watch queues before \
                 asking); {} more are waiting",
                caps.per_watch,
                over.len()
            )
        } else {
            format!(
                "paused: the page showed {} new images at once (more than {}); {} were \
                 queued, the rest wait",
                new.len() + over.len(),
                caps.per_check,
                new.len()
            )
        });
        // What was not queued is not seen yet: resuming queues it.
        seen.retain(|u| !over.contains(u));
    }
    let again = lib.failed_among(&urls, caps.retries)?;
    Ok(Found {
        new,
        again,
        seen,
        pause,
    })
}

/// Reads a watched page once: queues what is new and records when to read it next
/// (returned; `None` when the page is no longer watched).
fn check(engine: &EngineHandle, mut watch: Watch) -> Option<i64> {
    let shared = &engine.shared;
    // Removed while waiting its turn: not read.
    let watched = |page: &Url| shared.library().watch_of(page).is_ok_and(|w| w.is_some());
    if !watched(&watch.page) {
        return None;
    }
    let interval = Duration::from_millis(watch.interval_ms).max(shared.config.min_watch_interval);
    let now = now_ms();
    let disk =
        |e: crate::disk::library::LibraryError| crate::error::FetchError::Disk(e.to_string());
    let caps = shared.config.watch_caps;
    let queued =
        super::worker::guarded(|| find::list_page(shared, &watch.page, true)).and_then(|found| {
            // Like `--page`: the largest variant of each picture.
            let urls = crate::input::page::largest_urls(&found.candidates);
            let plan = plan_check(shared, &watch.page, urls, caps, watch.queued).map_err(disk)?;
            if shared.watch.stopped() || !watched(&watch.page) {
                return Ok((0, None));
            }
            let count = plan.new.len();
            engine
                .add_counting(
                    plan.new.into_iter().chain(plan.again).collect(),
                    Some(&found.page),
                )
                .map_err(|e| crate::error::FetchError::Disk(e.0.to_string()))?;
            shared
                .library()
                .mark_seen(&watch.page, &plan.seen)
                .map_err(disk)?;
            Ok((count, plan.pause))
        });
    watch.last_check = Some(now);
    match queued {
        Ok((count, pause)) => {
            watch.last_new = count as u64;
            watch.queued = watch.queued.saturating_add(count as u64);
            watch.paused = pause;
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
