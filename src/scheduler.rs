//! The download queue: hands queued items to workers while honouring a global and a
//! per-host limit on concurrent downloads, retry delays, per-host cool-downs and pause.
//!
//! Invariants: at most `per_host` leases are out for one host at a time; items of one
//! host start in the order they were queued (a retry waits for its delay, then goes
//! first); no item of a host in cool-down starts before the cool-down ends; across
//! hosts, the earliest-queued ready item goes first. The global limit is the number of
//! workers, each holding at most one lease.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use url::Url;

use crate::engine::ItemId;
use crate::fetch::Resume;

/// A queued download.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: ItemId,
    pub(crate) url: Url,
    pub(crate) cancel: Arc<AtomicBool>,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// Not before this time (a retry's back-off).
    pub(crate) not_before: Option<Instant>,
    /// The part file of an earlier attempt, to continue.
    pub(crate) resume: Option<Resume>,
}

impl Job {
    pub(crate) fn new(id: ItemId, url: Url) -> Self {
        Self {
            id,
            url,
            cancel: Arc::default(),
            attempts: 0,
            not_before: None,
            resume: None,
        }
    }
}

/// The key that per-host limits are counted by: `host:port`.
pub(crate) fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

#[derive(Default)]
struct HostQueue {
    queue: VecDeque<Job>,
    /// Retries waiting for their back-off; they go before `queue` once due.
    delayed: Vec<Job>,
    active: usize,
    /// No new request to this host before this time (after 429/503).
    cool_until: Option<Instant>,
}

impl HostQueue {
    fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.delayed.is_empty()
    }

    /// The id of the job that would start now, if any.
    fn ready(&self, now: Instant) -> Option<ItemId> {
        if self.cool_until.is_some_and(|t| t > now) {
            return None;
        }
        let due = self
            .delayed
            .iter()
            .filter(|j| j.not_before.is_none_or(|t| t <= now))
            .map(|j| j.id)
            .min();
        due.or_else(|| self.queue.front().map(|j| j.id))
    }

    /// When something here becomes ready, if it waits on a time.
    fn next_wake(&self, now: Instant) -> Option<Instant> {
        match self.cool_until.filter(|c| *c > now) {
            Some(cool) => Some(cool),
            None => self.delayed.iter().filter_map(|j| j.not_before).min(),
        }
    }

    fn take(&mut self, id: ItemId) -> Option<Job> {
        if let Some(pos) = self.delayed.iter().position(|j| j.id == id) {
            return Some(self.delayed.swap_remove(pos));
        }
        let pos = self.queue.iter().position(|j| j.id == id)?;
        self.queue.remove(pos)
    }
}

#[derive(Default)]
struct State {
    hosts: HashMap<String, HostQueue>,
    /// Cancel flags of the items being downloaded right now.
    running: HashMap<ItemId, Arc<AtomicBool>>,
    paused: bool,
    shutdown: bool,
}

/// The shared queue. Workers block in [`Scheduler::next`].
pub(crate) struct Scheduler {
    state: Mutex<State>,
    ready: Condvar,
    per_host: usize,
}

/// A job handed to a worker; give it back with [`Scheduler::finish`] or [`Scheduler::retry`].
pub(crate) struct Lease {
    pub(crate) job: Job,
    host: String,
}

impl Scheduler {
    pub(crate) fn new(per_host: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
            per_host: per_host.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation under this lock is a single push/pop/flag, so data behind a
        // poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues jobs at the back.
    pub(crate) fn push(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut state = self.lock();
        for job in jobs {
            state
                .hosts
                .entry(host_key(&job.url))
                .or_default()
                .queue
                .push_back(job);
        }
        drop(state);
        self.ready.notify_all();
    }

    /// Blocks until a job may start; `None` once the scheduler shuts down.
    pub(crate) fn next(&self) -> Option<Lease> {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return None;
            }
            let now = Instant::now();
            let mut wake: Option<Instant> = None;
            let mut best: Option<(ItemId, String)> = None;
            if !state.paused {
                for (host, h) in &state.hosts {
                    if h.active >= self.per_host {
                        continue;
                    }
                    match h.ready(now) {
                        Some(id) if best.as_ref().is_none_or(|(b, _)| id < *b) => {
                            best = Some((id, host.clone()))
                        }
                        Some(_) => {}
                        None => {
                            if let Some(t) = h.next_wake(now) {
                                wake = Some(wake.map_or(t, |w| w.min(t)));
                            }
                        }
                    }
                }
            }
            if let Some((id, host)) = best
                && let Some(h) = state.hosts.get_mut(&host)
                && let Some(job) = h.take(id)
            {
                h.active += 1;
                state.running.insert(job.id, job.cancel.clone());
                return Some(Lease { job, host });
            }
            state = match wake {
                Some(t) => {
                    let wait = t
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(1));
                    self.ready
                        .wait_timeout(state, wait)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.ready.wait(state).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    /// Returns a lease: the host's slot is free again.
    pub(crate) fn finish(&self, lease: Lease) {
        let mut state = self.lock();
        Self::release(&mut state, &lease);
        drop(state);
        self.ready.notify_all();
    }

    /// Returns a lease and queues its job again after `delay`. With `cool_down`, no
    /// other item of the host starts before then either.
    pub(crate) fn retry(&self, lease: Lease, delay: Duration, cool_down: bool) {
        let mut state = self.lock();
        Self::release(&mut state, &lease);
        let at = Instant::now() + delay;
        let Lease { mut job, host } = lease;
        job.not_before = Some(at);
        let h = state.hosts.entry(host).or_default();
        if cool_down {
            h.cool_until = Some(h.cool_until.map_or(at, |c| c.max(at)));
        }
        h.delayed.push(job);
        drop(state);
        self.ready.notify_all();
    }

    fn release(state: &mut State, lease: &Lease) {
        state.running.remove(&lease.job.id);
        if let Some(h) = state.hosts.get_mut(&lease.host) {
            h.active = h.active.saturating_sub(1);
            if h.active == 0 && h.is_empty() && h.cool_until.is_none_or(|t| t <= Instant::now()) {
                state.hosts.remove(&lease.host);
            }
        }
    }

    /// Cancels one item: a queued one is removed and returned, a running one is flagged.
    pub(crate) fn cancel(&self, id: ItemId) -> Option<Job> {
        let mut state = self.lock();
        if let Some(flag) = state.running.get(&id) {
            flag.store(true, Ordering::Relaxed);
            return None;
        }
        state.hosts.values_mut().find_map(|h| h.take(id))
    }

    /// Cancels everything: flags running items and returns every queued job.
    pub(crate) fn cancel_all(&self) -> Vec<Job> {
        let mut state = self.lock();
        for flag in state.running.values() {
            flag.store(true, Ordering::Relaxed);
        }
        let mut jobs: Vec<Job> = state
            .hosts
            .values_mut()
            .flat_map(|h| h.queue.drain(..).chain(h.delayed.drain(..)))
            .collect();
        jobs.sort_by_key(|j| j.id);
        jobs
    }

    /// Stops handing out jobs (running ones go on) until [`Scheduler::resume`].
    pub(crate) fn pause(&self) {
        self.lock().paused = true;
    }

    /// Hands out jobs again after [`Scheduler::pause`].
    pub(crate) fn resume(&self) {
        self.lock().paused = false;
        self.ready.notify_all();
    }

    /// Wakes every worker and makes [`Scheduler::next`] return `None` from now on.
    pub(crate) fn shutdown(&self) {
        self.lock().shutdown = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, url: &str) -> Job {
        Job::new(ItemId(id), Url::parse(url).expect("test URL"))
    }

    #[test]
    fn per_host_limit_lets_other_hosts_through_in_order() {
        let s = Scheduler::new(2);
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://a/3"),
            job(4, "http://b/4"),
            job(5, "http://a/5"),
        ]);
        let l1 = s.next().expect("lease");
        let l2 = s.next().expect("lease");
        let l3 = s.next().expect("lease");
        // a has two running, so b's item jumps ahead of a/3.
        assert_eq!([l1.job.id.0, l2.job.id.0, l3.job.id.0], [1, 2, 4]);
        s.finish(l1);
        assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
    }

    #[test]
    fn cancel_removes_queued_and_flags_running() {
        let s = Scheduler::new(4);
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://a/3"),
        ]);
        let running = s.next().expect("lease");
        assert!(s.cancel(ItemId(1)).is_none());
        assert!(running.job.cancel.load(Ordering::Relaxed));
        assert_eq!(s.cancel(ItemId(3)).map(|j| j.id.0), Some(3));
        assert_eq!(
            s.cancel_all().iter().map(|j| j.id.0).collect::<Vec<_>>(),
            [2]
        );
    }

    #[test]
    fn a_retry_waits_for_its_delay_and_a_cool_down_holds_the_whole_host() {
        let s = Scheduler::new(4);
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://b/3"),
        ]);
        let first = s.next().expect("lease");
        assert_eq!(first.job.id.0, 1);
        let start = Instant::now();
        s.retry(first, Duration::from_millis(150), true);
        // Host a cools down: b goes first, then (after the delay) the retry before a/2.
        assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
        let again = s.next().expect("lease");
        assert_eq!(again.job.id.0, 1);
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
    }

    #[test]
    fn pause_holds_new_starts_until_resume() {
        let s = Arc::new(Scheduler::new(1));
        s.pause();
        s.push([job(1, "http://a/1")]);
        let waiter = {
            let s = s.clone();
            std::thread::Builder::new()
                .name("test-waiter".into())
                .spawn(move || s.next().map(|l| l.job.id.0))
                .expect("spawn")
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "a paused scheduler handed out a job");
        s.resume();
        assert_eq!(waiter.join().expect("join"), Some(1));
    }

    #[test]
    fn shutdown_releases_waiting_workers() {
        let s = Arc::new(Scheduler::new(1));
        let waiter = {
            let s = s.clone();
            std::thread::Builder::new()
                .name("test-waiter".into())
                .spawn(move || s.next().is_none())
                .expect("spawn")
        };
        s.shutdown();
        assert!(waiter.join().expect("join"));
    }
}
