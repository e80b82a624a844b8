//! A worker's hold on one queued job ([`Lease`]): its host's slot, its lane, and what the
//! adaptive limit needs to know of the attempt ([`Attempt`]). Dropped or given back, it
//! frees its slot exactly once.

use std::time::Instant;

use super::super::adapt;
use super::{Job, Scheduler, State};

/// A job handed to a worker; give it back with [`Scheduler::finish`],
/// [`Scheduler::retry`] or [`Scheduler::park`]. A lease that is dropped any other way
/// (a worker that panicked mid-job) frees its slots all the same.
pub(crate) struct Lease<'a> {
    pub(crate) job: Job,
    pub(super) host: String,
    /// The host's downloads when this one started, itself included.
    pub(super) level: usize,
    /// The host's limit when this one started.
    pub(super) limit: usize,
    /// Which of the host's connections it goes over.
    pub(super) lane: usize,
    /// When it started.
    pub(super) started: Instant,
    pub(super) scheduler: &'a Scheduler,
    /// The slots were freed already (the job was given back).
    pub(super) returned: bool,
}

/// What [`Scheduler::answered`] needs of a lease, copied so a progress callback can
/// hold it while the lease itself is borrowed elsewhere.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub(super) host: String,
    started: Instant,
    /// It started with every slot of its host taken (level = limit).
    pub(super) at_limit: bool,
    /// Which of the host's connections it went over.
    pub(super) lane: usize,
}

impl Attempt {
    /// A body announced this big confirms its host's level with its answer (see
    /// [`adapt::SMALL_BODY`]).
    pub(super) fn small(size: Option<u64>) -> bool {
        size.is_some_and(|s| s <= adapt::SMALL_BODY)
    }

    /// When the attempt started.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }
}

impl Lease<'_> {
    /// Frees the slots (under the caller's lock, so the job is never out of sight of
    /// cancel, pause or shutdown) and hands back the job and its host key.
    pub(super) fn give_back(mut self, state: &mut State) -> (Job, String) {
        self.release_once(state);
        let placeholder = Job::new(self.job.id, self.job.url.clone(), self.job.rank);
        let job = std::mem::replace(&mut self.job, placeholder);
        (job, std::mem::take(&mut self.host))
    }

    /// Frees the slots under `state`'s lock, unless they were freed already.
    fn release_once(&mut self, state: &mut State) {
        if !self.returned {
            self.returned = true;
            Scheduler::release(state, &self.host, self.job.id, self.lane);
        }
    }

    /// This attempt's host and start, for [`Scheduler::answered`].
    pub(crate) fn attempt(&self) -> Attempt {
        Attempt {
            host: self.host.clone(),
            started: self.started,
            at_limit: self.level >= self.limit,
            lane: self.lane,
        }
    }

    /// Which of its host's connections this download goes over (see
    /// [`crate::net::client::Http::client`]).
    pub(crate) fn lane(&self) -> usize {
        self.lane
    }

    /// Frees the lease's slots now, while the worker goes on with the job: the network
    /// part of it is over (a complete file being checked needs no connection). Giving
    /// the lease back later frees nothing twice.
    pub(crate) fn free_slots(&mut self) {
        if self.returned {
            return;
        }
        let mut state = self.scheduler.lock();
        self.release_once(&mut state);
        drop(state);
        self.scheduler.ready.notify_all();
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.free_slots();
    }
}
