//! One host's queued jobs, in rank order, when the host may be asked next, and which of
//! its connections (lanes) its running downloads use.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::Job;
use crate::engine::adapt::H2_CONNS;
use crate::item::ItemId;

/// One of a host's connections, as the scheduler sees it.
#[derive(Default, Clone, Copy)]
pub(super) struct Lane {
    /// Downloads running over it.
    pub(super) running: usize,
    /// It answered once (its connection is up): more streams may share it. Until then
    /// it carries one request, so that two never race to open two connections.
    pub(super) up: bool,
}

#[derive(Default)]
pub(super) struct HostQueue {
    /// Sorted by rank.
    pub(super) queue: VecDeque<Job>,
    /// Retries waiting for their back-off; they go before `queue` once due.
    pub(super) delayed: Vec<Job>,
    pub(super) active: usize,
    /// No new request to this host before this time (after 429/503).
    pub(super) cool_until: Option<Instant>,
    /// When the last request to this host started.
    pub(super) last_start: Option<Instant>,
    /// Its connections (lane 0 is the one every host has).
    pub(super) lanes: [Lane; H2_CONNS],
}

impl HostQueue {
    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.delayed.is_empty()
    }

    pub(super) fn insert(&mut self, job: Job) {
        let at = self
            .queue
            .partition_point(|j| (j.rank, j.id) < (job.rank, job.id));
        self.queue.insert(at, job);
    }

    /// When the next request may start, given cool-down and politeness interval.
    pub(super) fn open_at(&self, min_interval: Duration) -> Option<Instant> {
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
    pub(super) fn ready(&self, now: Instant, min_interval: Duration) -> Option<(i64, ItemId)> {
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
    pub(super) fn next_wake(&self, now: Instant, min_interval: Duration) -> Option<Instant> {
        if self.is_empty() {
            return None;
        }
        match self.open_at(min_interval).filter(|c| *c > now) {
            Some(open) => Some(open),
            None => self.delayed.iter().filter_map(|j| j.not_before).min(),
        }
    }

    /// The lane for a download starting now when `spread` lanes are in use: the least
    /// busy of them (the lowest on a tie, lane 0 first), leaving out a lane not yet up
    /// that already carries its one request.
    pub(super) fn pick_lane(&self, spread: usize) -> usize {
        let spread = spread.clamp(1, H2_CONNS);
        (0..spread)
            .filter(|&i| i == 0 || self.lanes[i].up || self.lanes[i].running == 0)
            .min_by_key(|&i| (self.lanes[i].running, i))
            .unwrap_or(0)
    }

    pub(super) fn take(&mut self, id: ItemId) -> Option<Job> {
        if let Some(pos) = self.delayed.iter().position(|j| j.id == id) {
            return Some(self.delayed.swap_remove(pos));
        }
        let pos = self.queue.iter().position(|j| j.id == id)?;
        self.queue.remove(pos)
    }
}
