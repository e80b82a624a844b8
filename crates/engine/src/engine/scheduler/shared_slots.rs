//! Slots of a host's limit taken by requests that are not queued downloads: a Find's
//! size probes. A host's one limit counts downloads and probes together, so a page's
//! probes never add to what its downloads already ask of the host.

use super::{Scheduler, State};

/// A probe's hold on one of its host's slots; dropping it frees the slot.
pub(crate) struct ProbeSlot<'a> {
    scheduler: &'a Scheduler,
    host: String,
}

impl State {
    /// Requests `host` has running now: downloads and probes.
    pub(super) fn host_busy(&self, host: &str) -> usize {
        self.hosts.get(host).map_or(0, |h| h.active) + self.probing.get(host).copied().unwrap_or(0)
    }
}

impl Scheduler {
    /// Takes a slot of `host` (a [`super::host_key`]) for a probe when the host has
    /// fewer requests running than its limit (the same limit downloads obey, fixed or
    /// adaptive); `None` when it has not.
    pub(crate) fn try_probe(&self, host: &str) -> Option<ProbeSlot<'_>> {
        let mut state = self.lock();
        if state.host_busy(host) >= state.host_limit(host) {
            return None;
        }
        *state.probing.entry(host.to_string()).or_default() += 1;
        Some(ProbeSlot {
            scheduler: self,
            host: host.to_string(),
        })
    }
}

impl Drop for ProbeSlot<'_> {
    fn drop(&mut self) {
        let mut state = self.scheduler.lock();
        if let Some(n) = state.probing.get_mut(&self.host) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.probing.remove(&self.host);
            }
        }
        drop(state);
        self.scheduler.ready.notify_all();
    }
}
