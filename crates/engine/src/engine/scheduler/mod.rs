//! The download queue: hands queued items to workers while honouring a global and a
//! per-host limit on concurrent downloads (both changeable while running), a per-host
//! minimum interval between requests, retry delays, per-host cool-downs, items held
//! (paused) by the user, and an engine-wide hold after a disk error.
//!
//! Per-host limits are fixed (`per_host` given) or adaptive ([`super::adapt`]): each host's
//! limit moves with how it answers, and a change is returned to the caller to report.
//! Each lease also names its lane: which of its host's connections it goes over
//! ([`super::adapt::HostLimit::lanes`] says over how many an adaptive HTTP/2 host's
//! downloads spread; a fixed limit and HTTP/1.1 use lane 0).
//!
//! Invariants: at most the host's limit requests run on one host, downloads (leases)
//! and a Find's probes ([`ProbeSlot`]) counted together, and at most `jobs` leases in all
//! (after a limit is lowered, running items finish and no new ones start until the
//! count is below it); no two requests to one host start less than `min_interval`
//! apart; no item of a host in cool-down starts before the cool-down ends; a held item
//! never starts; across hosts the ready item with the lowest rank goes first (rank is
//! queue order, and "move to top" lowers it); a retry waits for its delay; a job given
//! back is re-queued under the same lock that frees its slot, so a cancel, pause or
//! shutdown never misses it, and one that came while its attempt ended wins.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod host_queue;
mod job;
mod lease;
mod shared_slots;
#[cfg(test)]
mod tests;

use super::adapt::{self, Congestion, HostLimit};
use crate::item::ItemId;
use crate::net::fetch::{Resume, STOP_CANCEL, STOP_PAUSE};

use host_queue::HostQueue;
pub(crate) use job::{Job, host_key};
pub(crate) use lease::{Attempt, Lease};
pub(crate) use shared_slots::ProbeSlot;

struct State {
    hosts: HashMap<String, HostQueue>,
    /// Stop flags of the items being downloaded right now.
    running: HashMap<ItemId, Arc<AtomicU8>>,
    /// Items paused by the user.
    held: HashMap<ItemId, Job>,
    /// Leases out in all.
    active: usize,
    /// Probes running per host (they share the host's limit with its downloads).
    probing: HashMap<String, usize>,
    jobs: usize,
    /// The user's fixed per-host limit; `None`: adaptive, per host in `adaptive`.
    per_host: Option<usize>,
    /// Each host's adaptive limit (kept while the host has nothing queued, so a host's
    /// lesson is not forgotten between batches).
    adaptive: HashMap<String, HostLimit>,
    min_interval: Duration,
    /// The engine-wide hold (after a disk error).
    on_hold: bool,
    shutdown: bool,
}

impl State {
    /// How many downloads `host` may have at once now.
    fn host_limit(&self, host: &str) -> usize {
        let limit = match self.per_host {
            Some(fixed) => fixed,
            None => self
                .adaptive
                .get(host)
                .map_or(adapt::START, HostLimit::limit),
        };
        limit.min(self.jobs).max(1)
    }

    /// Over how many connections `host`'s next downloads spread (never more than its
    /// limit; one under a fixed limit).
    fn lanes(&mut self, host: &str) -> usize {
        if self.per_host.is_some() {
            return 1;
        }
        let waiting = self
            .hosts
            .get(host)
            .map_or(0, |h| h.queue.len() + h.delayed.len());
        let lanes = self.adaptive.get_mut(host).map_or(1, |l| l.lanes(waiting));
        lanes.min(self.host_limit(host)).max(1)
    }

    /// Whether `attempt` may confirm its host's level: it ran with every slot of the
    /// host taken (it took the last one, or all are taken now), more of the host's items
    /// wait, and the global limit leaves room.
    fn busy(&self, attempt: &Attempt) -> bool {
        let limit = self.host_limit(&attempt.host);
        self.hosts.get(&attempt.host).is_some_and(|host| {
            (attempt.at_limit || host.active >= limit) && limit < self.jobs && !host.is_empty()
        })
    }
}

/// The shared queue. Workers block in [`Scheduler::next`].
pub(crate) struct Scheduler {
    state: Mutex<State>,
    ready: Condvar,
}

/// What became of a job given back with [`Scheduler::retry`],
/// [`Scheduler::requeue_on_hold`] or [`Scheduler::park`].
pub(crate) enum Returned {
    /// It waits in the queue again.
    Queued,
    /// It was cancelled while its attempt ended: the caller reports it cancelled.
    Cancelled(Job),
    /// It was paused while its attempt ended: it is held now (its id and part size).
    Held(ItemId, u64),
    /// The scheduler shut down: the caller keeps the job's part for the next run.
    ShutDown(Job),
}

/// What [`Scheduler::pause`] did with an item.
pub(crate) enum Paused {
    /// It was waiting; it is held now (its id and part size).
    Held(ItemId, u64),
    /// It is running; it stops shortly and comes back through [`Scheduler::park`].
    Stopping,
    /// Not queued or running (done, failed, already paused, unknown).
    NotHere,
}

impl Scheduler {
    /// A scheduler for `jobs` downloads in all and `per_host` per host (`None`:
    /// adaptive).
    pub(crate) fn new(jobs: usize, per_host: Option<usize>) -> Self {
        Self {
            state: Mutex::new(State {
                hosts: HashMap::new(),
                running: HashMap::new(),
                held: HashMap::new(),
                active: 0,
                probing: HashMap::new(),
                jobs: jobs.max(1),
                per_host: per_host.map(|n| n.max(1)),
                adaptive: HashMap::new(),
                min_interval: Duration::ZERO,
                on_hold: false,
                shutdown: false,
            }),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every mutation under this lock is a single push/pop/flag, so data behind a
        // poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues jobs by rank.
    pub(crate) fn push(&self, jobs: impl IntoIterator<Item = Job>) {
        let jobs: Vec<(String, Job)> = jobs
            .into_iter()
            .map(|job| (host_key(&job.url), job))
            .collect();
        // Each host's queue grows once, to its final size (100,000 jobs are megabytes).
        // Per host: its jobs here, and whether the first is over TLS.
        let mut room: HashMap<&str, (usize, bool)> = HashMap::new();
        for (host, job) in &jobs {
            room.entry(host)
                .or_insert((0, job.url.scheme() == "https"))
                .0 += 1;
        }
        let mut state = self.lock();
        for (host, (n, tls)) in room {
            let queue = &mut state.hosts.entry(host.to_owned()).or_default().queue;
            queue.reserve(n);
            let waiting = queue.len() + n;
            if !state.adaptive.contains_key(host) {
                state
                    .adaptive
                    .insert(host.to_owned(), HostLimit::new(tls, waiting));
            }
        }
        for (host, job) in jobs {
            state.hosts.entry(host).or_default().insert(job);
        }
        drop(state);
        self.ready.notify_all();
    }

    /// Holds jobs that were paused in an earlier run.
    pub(crate) fn push_held(&self, jobs: impl IntoIterator<Item = Job>) {
        let mut state = self.lock();
        for job in jobs {
            state.held.insert(job.id, job);
        }
    }

    /// Changes the global and per-host limits; running items are not interrupted.
    pub(crate) fn set_limits(&self, jobs: usize, per_host: Option<usize>) {
        let mut state = self.lock();
        state.jobs = jobs.max(1);
        state.per_host = per_host.map(|n| n.max(1));
        drop(state);
        self.ready.notify_all();
    }

    /// Sets the least time between the starts of two requests to one host.
    pub(crate) fn set_min_interval(&self, interval: Duration) {
        self.lock().min_interval = interval;
        self.ready.notify_all();
    }

    /// Blocks until a job may start; `None` once the scheduler shuts down.
    pub(crate) fn next(&self) -> Option<Lease<'_>> {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return None;
            }
            let now = Instant::now();
            let mut wake: Option<Instant> = None;
            let mut best: Option<((i64, ItemId), String)> = None;
            if !state.on_hold && state.active < state.jobs {
                for (host, h) in &state.hosts {
                    if state.host_busy(host) >= state.host_limit(host) {
                        continue;
                    }
                    match h.ready(now, state.min_interval) {
                        Some(key) if best.as_ref().is_none_or(|(b, _)| key < *b) => {
                            best = Some((key, host.clone()))
                        }
                        Some(_) => {}
                        None => {
                            if let Some(t) = h.next_wake(now, state.min_interval) {
                                wake = Some(wake.map_or(t, |w| w.min(t)));
                            }
                        }
                    }
                }
            }
            if let Some(((_, id), host)) = best {
                let limit = state.host_limit(&host);
                let spread = state.lanes(&host);
                let state = &mut *state;
                if let Some(h) = state.hosts.get_mut(&host)
                    && let Some(mut job) = h.take(id)
                {
                    let lane = h.pick_lane(spread);
                    h.lanes[lane].running += 1;
                    h.active += 1;
                    h.last_start = Some(now);
                    let level = h.active;
                    state.active += 1;
                    let stop = job.stop.get_or_insert_with(Arc::default).clone();
                    state.running.insert(job.id, stop);
                    return Some(Lease {
                        job,
                        host,
                        level,
                        limit,
                        lane,
                        started: now,
                        scheduler: self,
                        returned: false,
                    });
                }
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
    pub(crate) fn finish(&self, lease: Lease<'_>) {
        drop(lease);
    }

    /// The host of `attempt` answered (response headers) over HTTP/2 or not, `ttfb`
    /// after the request started, announcing a body of `total` bytes. A change of its
    /// adaptive limit is given to `report` (host, new limit) under the lock, so reports
    /// of one host arrive in the order the changes were made.
    pub(crate) fn answered(
        &self,
        attempt: &Attempt,
        ttfb: Duration,
        http2: bool,
        total: Option<u64>,
        report: impl FnOnce(&str, usize),
    ) {
        let mut state = self.lock();
        if let Some(lane) = state
            .hosts
            .get_mut(&attempt.host)
            .and_then(|h| h.lanes.get_mut(attempt.lane))
        {
            lane.up = true;
        }
        if state.per_host.is_some() {
            return;
        }
        let small_busy = Attempt::small(total) && state.busy(attempt);
        let changed = state
            .adaptive
            .entry(attempt.host.clone())
            .or_default()
            .answered(ttfb, http2, small_busy, Instant::now());
        if changed.is_some() {
            report(&attempt.host, state.host_limit(&attempt.host));
            drop(state);
            // A higher limit (after a TLS host's first answer) may let a job start.
            self.ready.notify_all();
        }
    }

    /// The body of `attempt` arrived whole (its answer came `ttfb` after it started,
    /// announcing `size` bytes): the host's adaptive limit may grow, unless the body was
    /// small and its answer already counted. Changes go to `report` as in
    /// [`Scheduler::answered`].
    pub(crate) fn completed(
        &self,
        attempt: &Attempt,
        ttfb: Duration,
        size: Option<u64>,
        report: impl FnOnce(&str, usize),
    ) {
        if Attempt::small(size) {
            return;
        }
        let now = Instant::now();
        let total = now.saturating_duration_since(attempt.started());
        let mut state = self.lock();
        if state.per_host.is_some() {
            return;
        }
        let busy = state.busy(attempt);
        let changed = state
            .adaptive
            .entry(attempt.host.clone())
            .or_default()
            .completed(ttfb, total, busy, now);
        if changed.is_some() {
            report(&attempt.host, state.host_limit(&attempt.host));
            drop(state);
            self.ready.notify_all();
        }
    }

    /// An attempt ended with this sign of the host's load: its adaptive limit may
    /// shrink. A change is given to `report` as in [`Scheduler::answered`].
    pub(crate) fn congestion(
        &self,
        lease: &Lease<'_>,
        how: Congestion,
        report: impl FnOnce(&str, usize),
    ) {
        if how == Congestion::None {
            return;
        }
        let mut state = self.lock();
        if state.per_host.is_some() {
            return;
        }
        let changed = state.adaptive.entry(lease.host.clone()).or_default().ended(
            how,
            lease.limit,
            lease.started,
            Instant::now(),
        );
        if changed.is_some() {
            report(&lease.host, state.host_limit(&lease.host));
        }
    }

    /// Returns a lease and queues its job again after `delay`. With `cool_down`, no
    /// other item of the host starts before then either. A cancel, pause or shutdown
    /// that came while the attempt ended wins.
    pub(crate) fn retry(&self, lease: Lease<'_>, delay: Duration, cool_down: bool) -> Returned {
        let mut state = self.lock();
        let (mut job, host) = lease.give_back(&mut state);
        let at = Instant::now() + delay;
        job.not_before = Some(at);
        if cool_down {
            let h = state.hosts.entry(host.clone()).or_default();
            h.cool_until = Some(h.cool_until.map_or(at, |c| c.max(at)));
        }
        let returned = Self::put_back(&mut state, job, host, true);
        drop(state);
        self.ready.notify_all();
        returned
    }

    /// Returns the lease of an item that stopped on a disk error: it waits in the queue
    /// again (its part kept, to continue) and the whole scheduler holds until
    /// [`Scheduler::release_hold`].
    pub(crate) fn requeue_on_hold(&self, lease: Lease<'_>) -> Returned {
        let mut state = self.lock();
        let (job, host) = lease.give_back(&mut state);
        state.on_hold = true;
        let returned = Self::put_back(&mut state, job, host, false);
        drop(state);
        self.ready.notify_all();
        returned
    }

    /// Queues a given-back job again, unless its stop flag or a shutdown says otherwise.
    fn put_back(state: &mut State, job: Job, host: String, delayed: bool) -> Returned {
        if state.shutdown {
            return Returned::ShutDown(job);
        }
        match job
            .stop
            .as_ref()
            .map_or(0, |s| s.swap(0, Ordering::Relaxed))
        {
            STOP_CANCEL => Returned::Cancelled(job),
            STOP_PAUSE => {
                let (id, bytes) = (job.id, job.resume.as_deref().map_or(0, Resume::bytes));
                let mut job = job;
                job.not_before = None;
                state.held.insert(id, job);
                Returned::Held(id, bytes)
            }
            _ => {
                let h = state.hosts.entry(host).or_default();
                if delayed {
                    h.delayed.push(job);
                } else {
                    h.insert(job);
                }
                Returned::Queued
            }
        }
    }

    /// Returns the lease of an item that stopped because it was paused: it is held
    /// (with its part) until [`Scheduler::take_held`], unless a cancel came meanwhile or
    /// the scheduler shut down (then the job comes back, for the caller to finish).
    pub(crate) fn park(&self, lease: Lease<'_>) -> Returned {
        let mut state = self.lock();
        let (job, host) = lease.give_back(&mut state);
        let returned = Self::put_back(&mut state, job, host, false);
        drop(state);
        self.ready.notify_all();
        returned
    }

    fn release(state: &mut State, host: &str, id: ItemId, lane: usize) {
        state.running.remove(&id);
        state.active = state.active.saturating_sub(1);
        let min_interval = state.min_interval;
        if let Some(h) = state.hosts.get_mut(host) {
            h.active = h.active.saturating_sub(1);
            if let Some(lane) = h.lanes.get_mut(lane) {
                lane.running = lane.running.saturating_sub(1);
            }
            let now = Instant::now();
            if h.active == 0 && h.is_empty() && h.open_at(min_interval).is_none_or(|t| t <= now) {
                state.hosts.remove(host);
            }
        }
    }

    /// Pauses one item: a waiting one is held at once, a running one is told to stop.
    pub(crate) fn pause(&self, id: ItemId) -> Paused {
        let mut state = self.lock();
        if let Some(flag) = state.running.get(&id) {
            flag.store(STOP_PAUSE, Ordering::Relaxed);
            return Paused::Stopping;
        }
        match state.hosts.values_mut().find_map(|h| h.take(id)) {
            Some(mut job) => {
                job.not_before = None;
                let bytes = job.resume.as_deref().map_or(0, Resume::bytes);
                state.held.insert(id, job);
                Paused::Held(id, bytes)
            }
            None => Paused::NotHere,
        }
    }

    /// Takes held items out of the hold (to [`Scheduler::push`] them again once their
    /// return is reported; their parts continue).
    pub(crate) fn take_held(&self, ids: &[ItemId]) -> Vec<Job> {
        let mut state = self.lock();
        ids.iter().filter_map(|id| state.held.remove(id)).collect()
    }

    /// Every held item's id, in rank order.
    pub(crate) fn held_ids(&self) -> Vec<ItemId> {
        let state = self.lock();
        let mut held: Vec<(i64, ItemId)> = state.held.values().map(|j| (j.rank, j.id)).collect();
        held.sort();
        held.into_iter().map(|(_, id)| id).collect()
    }

    /// Every waiting or running item's id (for "pause all").
    pub(crate) fn active_ids(&self) -> Vec<ItemId> {
        let state = self.lock();
        let mut ids: Vec<ItemId> = state.running.keys().copied().collect();
        for h in state.hosts.values() {
            ids.extend(h.queue.iter().chain(h.delayed.iter()).map(|j| j.id));
        }
        ids.sort();
        ids
    }

    /// Gives items new ranks (see [`crate::disk::library::Library::move_to_top`]).
    pub(crate) fn rerank(&self, ranks: &[(ItemId, i64)]) {
        let mut state = self.lock();
        for &(id, rank) in ranks {
            if let Some(job) = state.held.get_mut(&id) {
                job.rank = rank;
                continue;
            }
            for h in state.hosts.values_mut() {
                if let Some(j) = h.delayed.iter_mut().find(|j| j.id == id) {
                    j.rank = rank;
                    break;
                }
                if let Some(mut job) = h
                    .queue
                    .iter()
                    .position(|j| j.id == id)
                    .and_then(|p| h.queue.remove(p))
                {
                    job.rank = rank;
                    h.insert(job);
                    break;
                }
            }
        }
        drop(state);
        self.ready.notify_all();
    }

    /// Cancels one item: a waiting or held one is removed and returned (with `true`
    /// if it was held), a running one is flagged.
    pub(crate) fn cancel(&self, id: ItemId) -> Option<(Job, bool)> {
        let mut state = self.lock();
        if let Some(flag) = state.running.get(&id) {
            flag.store(STOP_CANCEL, Ordering::Relaxed);
            return None;
        }
        if let Some(job) = state.held.remove(&id) {
            return Some((job, true));
        }
        state
            .hosts
            .values_mut()
            .find_map(|h| h.take(id))
            .map(|j| (j, false))
    }

    /// Cancels everything: flags running items and returns every waiting and held job
    /// (with `true` for held ones).
    pub(crate) fn cancel_all(&self) -> Vec<(Job, bool)> {
        let mut jobs = Self::stop_all(&mut self.lock(), STOP_CANCEL);
        jobs.sort_by_key(|(j, _)| j.id);
        jobs
    }

    /// Raises every running item's stop flag to `stop` and takes every waiting and held
    /// job out (with `true` for held ones).
    fn stop_all(state: &mut State, stop: u8) -> Vec<(Job, bool)> {
        for flag in state.running.values() {
            flag.store(stop, Ordering::Relaxed);
        }
        let mut jobs: Vec<(Job, bool)> = state.held.drain().map(|(_, j)| (j, true)).collect();
        jobs.extend(
            state
                .hosts
                .values_mut()
                .flat_map(|h| h.queue.drain(..).chain(h.delayed.drain(..)))
                .map(|j| (j, false)),
        );
        jobs
    }

    /// Stops handing out jobs (running ones go on) until [`Scheduler::release_hold`].
    pub(crate) fn hold(&self) {
        self.lock().on_hold = true;
    }

    /// Hands out jobs again after [`Scheduler::hold`].
    pub(crate) fn release_hold(&self) {
        self.lock().on_hold = false;
        self.ready.notify_all();
    }

    /// Makes [`Scheduler::next`] return `None` from now on, tells running items to
    /// stop as if paused, and returns every waiting and held job (for the caller to
    /// keep their parts for the next run).
    pub(crate) fn shutdown(&self) -> Vec<Job> {
        let mut state = self.lock();
        state.shutdown = true;
        let jobs = Self::stop_all(&mut state, STOP_PAUSE);
        drop(state);
        self.ready.notify_all();
        jobs.into_iter().map(|(j, _)| j).collect()
    }
}
