//! An overall bandwidth limit shared by every download: a token bucket on one
//! timeline, changeable while running (0 turns it off).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Paces reads so that all downloads together stay under a rate.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Bytes per second; 0 means unlimited.
    rate: AtomicU64,
    /// When the bytes granted so far will have "passed" at the current rate.
    next_free: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer at `bytes_per_sec` (0: unlimited).
    pub(crate) fn new(bytes_per_sec: u64) -> Self {
        Self {
            rate: AtomicU64::new(bytes_per_sec),
            next_free: Mutex::new(None),
        }
    }

    /// Changes the rate (0: unlimited). Takes effect with the next read.
    pub(crate) fn set_rate(&self, bytes_per_sec: u64) {
        self.rate.store(bytes_per_sec, Ordering::Relaxed);
    }

    /// The rate in bytes per second, 0 when unlimited.
    pub(crate) fn rate(&self) -> u64 {
        self.rate.load(Ordering::Relaxed)
    }

    /// How many bytes to read at a time under the limit (about 1/10 s), if limited.
    pub(crate) fn slice(&self) -> Option<usize> {
        match self.rate() {
            0 => None,
            r => Some(usize::try_from(r / 10).unwrap_or(usize::MAX)),
        }
    }

    /// Accounts for `bytes` just read and sleeps until they fit under the rate. Sleeps
    /// in short steps and returns early when `stop` says so (pause, cancel).
    pub(crate) fn take(&self, bytes: u64, stop: impl Fn() -> bool) {
        let rate = self.rate();
        if rate == 0 {
            return;
        }
        let cost = Duration::from_secs_f64(bytes as f64 / rate as f64);
        let done_at = {
            let mut next = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            // Idle time is not saved up: a burst after a pause starts from now.
            let start = next.filter(|t| *t > now).unwrap_or(now);
            let done_at = start + cost;
            *next = Some(done_at);
            done_at
        };
        while !stop() {
            let now = Instant::now();
            if now >= done_at {
                break;
            }
            std::thread::sleep((done_at - now).min(Duration::from_millis(100)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_spaces_reads_and_zero_turns_it_off() {
        let pacer = Pacer::new(100_000);
        let start = Instant::now();
        for _ in 0..3 {
            pacer.take(10_000, || false);
        }
        // 30 kB at 100 kB/s: at least 0.3 s.
        assert!(start.elapsed() >= Duration::from_millis(290));
        pacer.set_rate(0);
        assert_eq!(pacer.slice(), None);
        let start = Instant::now();
        pacer.take(1 << 30, || false);
        assert!(start.elapsed() < Duration::from_millis(290));
    }
}
