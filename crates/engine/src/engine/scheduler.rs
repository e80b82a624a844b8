//! The download queue: hands queued items to workers while honouring a global and a
//! per-host limit on concurrent downloads (both changeable while running), a per-host
//! minimum interval between requests, retry delays, per-host cool-downs, items held
//! (paused) by the user, and an engine-wide hold after a disk error.
//!
//! Per-host limits are fixed (`per_host` given) or adaptive ([`super::adapt`]): each host's
//! limit moves with how it answers, and a change is returned to the caller to report.
//!
//! Invariants: at most the host's limit leases are out for one host and at most `jobs` in all
//! (after a limit is lowered, running items finish and no new ones start until the
//! count is below it); no two requests to one host start less than `min_interval`
//! apart; no item of a host in cool-down starts before the cool-down ends; a held item
//! never starts; across hosts the ready item with the lowest rank goes first (rank is
//! queue order, and "move to top" lowers it); a retry waits for its delay; a job given
//! back is re-queued under the same lock that frees its slot, so a cancel, pause or
//! shutdown never misses it, and one that came while its attempt ended wins.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use url::Url;

use super::adapt::{self, Congestion, HostLimit};
use crate::item::ItemId;
use crate::net::fetch::{Resume, STOP_CANCEL, STOP_PAUSE};

/// A queued download. Kept small (about 170 bytes besides its URL's text): a queue
/// holds one per item, 100,000 of them for a big list. What only some jobs have is boxed.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: ItemId,
    /// Shared with the events and front ends that name the item: stored once.
    pub(crate) url: Arc<Url>,
    /// Raised to [`STOP_CANCEL`] or [`STOP_PAUSE`] to stop a running transfer; made when
    /// the job first starts (a waiting job needs none).
    pub(crate) stop: Option<Arc<AtomicU8>>,
    /// Queue order: lower goes first.
    pub(crate) rank: i64,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// Of those, attempts that ended in a stall.
    pub(crate) stalls: u32,
    /// An attempt already brought a damaged image (the next damaged one is final).
    pub(crate) damaged: bool,
    /// Not before this time (a retry's back-off).
    pub(crate) not_before: Option<Instant>,
    /// The part file of an earlier attempt, to continue.
    pub(crate) resume: Option<Box<Resume>>,
    /// A part file left by an earlier run, reopened when the job starts.
    pub(crate) part: Option<Box<crate::disk::library::PartRecord>>,
    /// The page the URL was found on (sent as its Referer unless a profile says
    /// otherwise), shared by the items found on it.
    pub(crate) page: Option<Arc<Url>>,
}

impl Job {
    pub(crate) fn new(id: ItemId, url: Arc<Url>, rank: i64) -> Self {
        Self {
            id,
            url,
            stop: None,
            rank,
            attempts: 0,
            stalls: 0,
            damaged: false,
            not_before: None,
            resume: None,
            part: None,
            page: None,
        }
    }
}

impl Job {
    /// A job for an item of the library (its URL already parsed), with its rank and
    /// the page it was found on; without the part (see [`Job::part`]).
    pub(crate) fn from_record(record: &crate::disk::library::Record, url: Arc<Url>) -> Self {
        let mut job = Self::new(record.id, url, record.rank);
        job.page = record
            .page
            .as_deref()
            .and_then(|p| Url::parse(p).ok())
            .map(Arc::new);
        job
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
    /// Sorted by rank.
    queue: VecDeque<Job>,
    /// Retries waiting for their back-off; they go before `queue` once due.
    delayed: Vec<Job>,
    active: usize,
    /// No new request to this host before this time (after 429/503).
    cool_until: Option<Instant>,
    /// When the last request to this host started.
    last_start: Option<Instant>,
}

impl HostQueue {
    fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.delayed.is_empty()
    }

    fn insert(&mut self, job: Job) {
        let at = self
            .queue
            .partition_point(|j| (j.rank, j.id) < (job.rank, job.id));
        self.queue.insert(at, job);
    }

    /// When the next request may start, given cool-down and politeness interval.
    fn open_at(&self, min_interval: Duration) -> Option<Instant> {
        let polite = self
            .last_start
            .filter(|_| !min_interval.is_zero())
            .map(|t| t + min_interval);
        match (self.cool_until, polite) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The (rank, id) of the job that would start now, if any.
    fn ready(&self, now: Instant, min_interval: Duration) -> Option<(i64, ItemId)> {
        if self.open_at(min_interval).is_some_and(|t| t > now) {
            return None;
        }
        let due = self
            .delayed
            .iter()
            .filter(|j| j.not_before.is_none_or(|t| t <= now))
            .map(|j| (j.rank, j.id))
            .min();
        due.or_else(|| self.queue.front().map(|j| (j.rank, j.id)))
    }

    /// When something here becomes ready, if it waits on a time.
    fn next_wake(&self, now: Instant, min_interval: Duration) -> Option<Instant> {
        if self.is_empty() {
            return None;
        }
        match self.open_at(min_interval).filter(|c| *c > now) {
            Some(open) => Some(open),
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

struct State {
    hosts: HashMap<String, HostQueue>,
    /// Stop flags of the items being downloaded right now.
    running: HashMap<ItemId, Arc<AtomicU8>>,
    /// Items paused by the user.
    held: HashMap<ItemId, Job>,
    /// Leases out in all.
    active: usize,
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

/// A job handed to a worker; give it back with [`Scheduler::finish`],
/// [`Scheduler::retry`] or [`Scheduler::park`]. A lease that is dropped any other way
/// (a worker that panicked mid-job) frees its slots all the same.
pub(crate) struct Lease<'a> {
    pub(crate) job: Job,
    host: String,
    /// The host's downloads when this one started, itself included.
    level: usize,
    /// The host's limit when this one started.
    limit: usize,
    /// When it started.
    started: Instant,
    scheduler: &'a Scheduler,
    /// The slots were freed already (the job was given back).
    returned: bool,
}

impl Lease<'_> {
    /// Frees the slots (under the caller's lock, so the job is never out of sight of
    /// cancel, pause or shutdown) and hands back the job and its host key.
    fn give_back(mut self, state: &mut State) -> (Job, String) {
        if !self.returned {
            Scheduler::release(state, &self.host, self.job.id);
        }
        self.returned = true;
        let placeholder = Job::new(self.job.id, self.job.url.clone(), self.job.rank);
        let job = std::mem::replace(&mut self.job, placeholder);
        (job, std::mem::take(&mut self.host))
    }
}

/// What [`Scheduler::answered`] needs of a lease, copied so a progress callback can
/// hold it while the lease itself is borrowed elsewhere.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    host: String,
    started: Instant,
    /// It started with every slot of its host taken (level = limit).
    at_limit: bool,
}

impl Attempt {
    /// A body announced this big confirms its host's level with its answer (see
    /// [`adapt::SMALL_BODY`]).
    fn small(size: Option<u64>) -> bool {
        size.is_some_and(|s| s <= adapt::SMALL_BODY)
    }

    /// When the attempt started.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }
}

impl Lease<'_> {
    /// This attempt's host and start, for [`Scheduler::answered`].
    pub(crate) fn attempt(&self) -> Attempt {
        Attempt {
            host: self.host.clone(),
            started: self.started,
            at_limit: self.level >= self.limit,
        }
    }
}

impl Lease<'_> {
    /// Frees the lease's slots now, while the worker goes on with the job: the network
    /// part of it is over (a complete file being checked needs no connection). Giving
    /// the lease back later frees nothing twice.
    pub(crate) fn free_slots(&mut self) {
        if self.returned {
            return;
        }
        self.returned = true;
        let mut state = self.scheduler.lock();
        Scheduler::release(&mut state, &self.host, self.job.id);
        drop(state);
        self.scheduler.ready.notify_all();
    }
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

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if !self.returned {
            let mut state = self.scheduler.lock();
            Scheduler::release(&mut state, &self.host, self.job.id);
            drop(state);
            self.scheduler.ready.notify_all();
        }
    }
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
        let mut state = self.lock();
        for job in jobs {
            let host = host_key(&job.url);
            if !state.adaptive.contains_key(&host) {
                let tls = job.url.scheme() == "https";
                state.adaptive.insert(host.clone(), HostLimit::new(tls));
            }
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
                    if h.active >= state.host_limit(host) {
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
                let state = &mut *state;
                if let Some(h) = state.hosts.get_mut(&host)
                    && let Some(mut job) = h.take(id)
                {
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
        let total = now.saturating_duration_since(attempt.started);
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
    /// (with its part) until [`Scheduler::resume`], unless a cancel came meanwhile or
    /// the scheduler shut down (then the job comes back, for the caller to finish).
    pub(crate) fn park(&self, lease: Lease<'_>) -> Returned {
        let mut state = self.lock();
        let (job, host) = lease.give_back(&mut state);
        let returned = Self::put_back(&mut state, job, host, false);
        drop(state);
        self.ready.notify_all();
        returned
    }

    fn release(state: &mut State, host: &str, id: ItemId) {
        state.running.remove(&id);
        state.active = state.active.saturating_sub(1);
        let min_interval = state.min_interval;
        if let Some(h) = state.hosts.get_mut(host) {
            h.active = h.active.saturating_sub(1);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stop_of(job: &Job) -> u8 {
        job.stop.as_ref().map_or(0, |s| s.load(Ordering::Relaxed))
    }

    fn job(id: u64, url: &str) -> Job {
        Job::new(
            ItemId(id),
            Arc::new(Url::parse(url).expect("test URL")),
            id as i64,
        )
    }

    #[test]
    fn per_host_limit_lets_other_hosts_through_in_order() {
        let s = Scheduler::new(8, Some(2));
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
    fn a_lease_dropped_by_a_panicking_worker_frees_its_slots() {
        let s = Arc::new(Scheduler::new(1, Some(1)));
        s.push([job(1, "http://a/1"), job(2, "http://a/2")]);
        let worker = {
            let s = s.clone();
            std::thread::Builder::new()
                .name("test-panicking-worker".into())
                .spawn(move || {
                    let _lease = s.next();
                    panic!("injected");
                })
                .expect("spawn")
        };
        assert!(worker.join().is_err(), "the worker panicked");
        // With one slot in all, the next item only starts if the dropped lease freed it.
        assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
    }

    #[test]
    fn slots_freed_early_are_freed_once() {
        let s = Scheduler::new(1, Some(1));
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://b/3"),
        ]);
        let mut first = s.next().expect("lease");
        first.free_slots();
        // The one slot is free while the first job goes on: the second starts.
        let second = s.next().expect("lease");
        assert_eq!(second.job.id.0, 2);
        // Giving the first back (a retry) frees nothing more: the slot is still taken.
        assert!(matches!(
            s.retry(first, Duration::ZERO, false),
            Returned::Queued
        ));
        let state = s.lock();
        assert_eq!(state.active, 1, "only the second job holds a slot");
        drop(state);
        drop(second);
        assert_eq!(s.lock().active, 0);
    }

    #[test]
    fn a_cancel_or_pause_that_races_a_retry_wins() {
        let s = Scheduler::new(8, Some(4));
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://a/3"),
        ]);
        let (one, two) = (s.next().expect("lease"), s.next().expect("lease"));
        // The user acts while the attempts are failing.
        assert!(s.cancel(ItemId(1)).is_none());
        assert!(matches!(s.pause(ItemId(2)), Paused::Stopping));
        assert!(
            matches!(s.retry(one, Duration::ZERO, false), Returned::Cancelled(j) if j.id == ItemId(1))
        );
        assert!(matches!(
            s.requeue_on_hold(two),
            Returned::Held(ItemId(2), 0)
        ));
        assert_eq!(s.held_ids(), [ItemId(2)]);
        s.release_hold();
        assert_eq!(
            s.next().map(|l| l.job.id.0),
            Some(3),
            "neither comes back on its own"
        );
        let late = s.shutdown();
        assert!(late.iter().any(|j| j.id == ItemId(2)));
    }

    #[test]
    fn cancel_removes_queued_and_flags_running() {
        let s = Scheduler::new(8, Some(4));
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://a/3"),
        ]);
        let running = s.next().expect("lease");
        assert!(s.cancel(ItemId(1)).is_none());
        assert_eq!(stop_of(&running.job), STOP_CANCEL);
        assert_eq!(s.cancel(ItemId(3)).map(|(j, _)| j.id.0), Some(3));
        assert_eq!(
            s.cancel_all()
                .iter()
                .map(|(j, _)| j.id.0)
                .collect::<Vec<_>>(),
            [2]
        );
    }

    #[test]
    fn a_retry_waits_for_its_delay_and_a_cool_down_holds_the_whole_host() {
        let s = Scheduler::new(8, Some(4));
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://b/3"),
        ]);
        let first = s.next().expect("lease");
        assert_eq!(first.job.id.0, 1);
        let start = Instant::now();
        assert!(matches!(
            s.retry(first, Duration::from_millis(150), true),
            Returned::Queued
        ));
        // Host a cools down: b goes first, then (after the delay) the retry before a/2.
        assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
        let again = s.next().expect("lease");
        assert_eq!(again.job.id.0, 1);
        assert!(start.elapsed() >= Duration::from_millis(150));
        assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
    }

    #[test]
    fn pause_holds_new_starts_until_resume() {
        let s = Arc::new(Scheduler::new(8, Some(1)));
        s.hold();
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
        s.release_hold();
        assert_eq!(waiter.join().expect("join"), Some(1));
    }

    #[test]
    fn shutdown_releases_waiting_workers() {
        let s = Arc::new(Scheduler::new(8, Some(1)));
        let waiter = {
            let s = s.clone();
            std::thread::Builder::new()
                .name("test-waiter".into())
                .spawn(move || s.next().is_none())
                .expect("spawn")
        };
        assert!(s.shutdown().is_empty());
        assert!(waiter.join().expect("join"));
    }

    #[test]
    fn paused_items_wait_until_resumed_and_running_ones_are_told_to_stop() {
        let s = Scheduler::new(8, Some(1));
        s.push([
            job(1, "http://a/1"),
            job(2, "http://a/2"),
            job(3, "http://a/3"),
        ]);
        let running = s.next().expect("lease");
        assert!(matches!(s.pause(ItemId(1)), Paused::Stopping));
        assert_eq!(stop_of(&running.job), STOP_PAUSE);
        assert!(matches!(s.pause(ItemId(2)), Paused::Held(ItemId(2), 0)));
        assert!(matches!(s.park(running), Returned::Held(ItemId(1), 0)));
        // 1 and 2 are held: 3 goes next although it was queued last.
        assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
        assert_eq!(s.held_ids(), [ItemId(1), ItemId(2)]);
        let back = s.take_held(&[ItemId(2), ItemId(9)]);
        assert_eq!(back.iter().map(|j| j.id).collect::<Vec<_>>(), [ItemId(2)]);
        assert_eq!(s.held_ids(), [ItemId(1)]);
        s.push(back);
        assert!(
            s.active_ids().contains(&ItemId(2)),
            "it waits in the queue again"
        );
    }

    #[test]
    fn limits_change_while_running_and_move_to_top_reorders() {
        let s = Scheduler::new(1, Some(4));
        s.push([
            job(1, "http://a/1"),
            job(2, "http://b/2"),
            job(3, "http://c/3"),
        ]);
        let first = s.next().expect("lease");
        assert_eq!(first.job.id.0, 1);
        // The global limit of 1 is reached: raise it and the next one starts.
        s.set_limits(3, Some(4));
        s.rerank(&[(ItemId(3), -5)]);
        assert_eq!(s.next().map(|l| l.job.id.0), Some(3));
        assert_eq!(s.next().map(|l| l.job.id.0), Some(2));
    }

    #[test]
    fn a_minimum_interval_spaces_requests_to_one_host() {
        let s = Scheduler::new(8, Some(8));
        s.set_min_interval(Duration::from_millis(120));
        s.push([job(1, "http://a/1"), job(2, "http://a/2")]);
        let start = Instant::now();
        let _first = s.next().expect("lease");
        let _second = s.next().expect("lease");
        assert!(start.elapsed() >= Duration::from_millis(120));
    }
}
