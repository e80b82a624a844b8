//! The download queue: hands queued items to workers while honouring a global and a
//! per-host limit on concurrent downloads.
//!
//! Invariants: at most `per_host` leases are out for one host at a time; items of one
//! host start in the order they were queued; across hosts, the item queued earliest
//! among the hosts with a free slot goes first. The global limit is the number of
//! workers, each holding at most one lease.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use url::Url;

use crate::engine::ItemId;

/// A queued download.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: ItemId,
    pub(crate) url: Url,
    pub(crate) cancel: Arc<AtomicBool>,
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
    active: usize,
}

#[derive(Default)]
struct State {
    hosts: HashMap<String, HostQueue>,
    /// Cancel flags of the items being downloaded right now.
    running: HashMap<ItemId, Arc<AtomicBool>>,
    shutdown: bool,
}

/// The shared queue. Workers block in [`Scheduler::next`].
pub(crate) struct Scheduler {
    state: Mutex<State>,
    ready: Condvar,
    per_host: usize,
}

/// A job handed to a worker; give it back with [`Scheduler::finish`].
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
        // A worker that panicked while holding the lock left consistent data (every
        // mutation is a single push/pop), so a poisoned lock is still usable.
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
            let best = state
                .hosts
                .iter()
                .filter(|(_, h)| h.active < self.per_host)
                .filter_map(|(host, h)| h.queue.front().map(|job| (job.id, host)))
                .min_by_key(|(id, _)| *id)
                .map(|(_, host)| host.clone());
            if let Some(host) = best {
                let entry = state.hosts.entry(host.clone()).or_default();
                if let Some(job) = entry.queue.pop_front() {
                    entry.active += 1;
                    state.running.insert(job.id, job.cancel.clone());
                    return Some(Lease { job, host });
                }
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Returns a lease: the host's slot is free again.
    pub(crate) fn finish(&self, lease: Lease) {
        let mut state = self.lock();
        state.running.remove(&lease.job.id);
        if let Some(h) = state.hosts.get_mut(&lease.host) {
            h.active = h.active.saturating_sub(1);
            if h.active == 0 && h.queue.is_empty() {
                state.hosts.remove(&lease.host);
            }
        }
        drop(state);
        self.ready.notify_all();
    }

    /// Cancels one item: a queued one is removed and returned, a running one is flagged.
    pub(crate) fn cancel(&self, id: ItemId) -> Option<Job> {
        let mut state = self.lock();
        if let Some(flag) = state.running.get(&id) {
            flag.store(true, Ordering::Relaxed);
            return None;
        }
        for h in state.hosts.values_mut() {
            if let Some(pos) = h.queue.iter().position(|j| j.id == id) {
                return h.queue.remove(pos);
            }
        }
        None
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
            .flat_map(|h| h.queue.drain(..))
            .collect();
        jobs.sort_by_key(|j| j.id);
        jobs
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
        Job {
            id: ItemId(id),
            url: Url::parse(url).expect("test URL"),
            cancel: Arc::default(),
        }
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
