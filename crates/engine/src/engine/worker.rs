//! A download worker's life: take a job, download it, verify it on the thumbnail pool,
//! and settle the attempt (done, retry later, failed, paused, cancelled), committing
//! each change to the library before its event.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::adapt::Congestion;
use super::scheduler::{Attempt, Job, Lease, Returned};
use super::{Config, DoneInfo, Event, ItemId, Shared};
use crate::disk::library::ItemState;
use crate::error::FetchError;
use crate::net::fetch::{self, FetchLimits, Progress, Resume, Stopped};

use super::publish::{Item, Made, finish_download, publish, templated_name, verify_on_pool};

/// The wait before attempt number `attempt + 1`: the server's `Retry-After` if given
/// (capped), else exponential back-off from `base` with jitter (50-100%).
fn backoff(config: &Config, attempt: u32, reason: &FetchError) -> Duration {
    if let Some(after) = reason.retry_after() {
        return after.min(config.max_retry_wait);
    }
    let exp = config
        .retry_base
        .saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let capped = exp.min(Duration::from_secs(30));
    capped.mul_f64(0.5 + fastrand::f64() * 0.5)
}

pub(super) fn download_worker(shared: &Arc<Shared>) {
    let limits = shared.limits();
    while let Some(lease) = shared.scheduler.next() {
        let id = lease.job.id;
        // Set once the item's last event went out (or it went back to the queue).
        let settled = std::cell::Cell::new(false);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_download(shared, &limits, lease, &settled);
        }));
        // A panic is a bug, not a reason to lose the run: the panic hook has printed it
        // once, the dropped lease has freed its slots, and the item fails saying so.
        if let Err(panic) = outcome
            && !settled.get()
        {
            let reason = FetchError::Internal(panic_text(panic.as_ref()));
            shared.record(|lib| lib.set_failed(id, &reason.to_string()));
            shared.events.settle(Event::Failed { id, reason });
        }
    }
}

/// Runs `job`, turning a panic into [`FetchError::Internal`].
pub(super) fn guarded<T>(job: impl FnOnce() -> Result<T, FetchError>) -> Result<T, FetchError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
        .unwrap_or_else(|panic| Err(FetchError::Internal(panic_text(panic.as_ref()))))
}

/// The text of a panic's payload.
pub(super) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a worker panicked".into())
}

/// One attempt at one item, and what follows from it (done, retry, pause, failure).
fn run_download(
    shared: &Arc<Shared>,
    limits: &FetchLimits,
    mut lease: Lease<'_>,
    settled: &std::cell::Cell<bool>,
) {
    let id = lease.job.id;
    let total = std::cell::Cell::new(None);
    lease.job.attempts += 1;
    if let Err(stopped) = starting_part(shared, &mut lease.job, limits) {
        settle_attempt(shared, lease, Err(stopped), None, settled);
        return;
    }
    if let Some(hook) = &shared.config.fault_hook {
        hook(&lease.job.url);
    }
    let stop = lease.job.stop.clone().unwrap_or_default();
    let url = lease.job.url.clone();
    let attempt = lease.attempt();
    // Time to the response headers, once they came; an adaptive limit's input.
    let ttfb = std::cell::Cell::new(None);
    let report_limit = |host: &str, limit: usize| send_host_limit(shared, host, limit);
    let page = lease.job.page.clone();
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page: page.as_deref(),
        first: None,
        lane: lease.lane(),
    };
    // The second damaged copy in a row is kept aside (the user may want it anyway).
    let keep_if_damaged = lease.job.damaged;
    let mut resume = lease.job.resume.take().map(|r| *r);
    let sink = fetch::Sink {
        out: &shared.out,
        limits,
        stop: &stop,
    };
    let fetched = fetch::download(
        &shared.http,
        &url,
        asker,
        sink,
        &mut resume,
        progress_reporter(shared, id, &attempt, &total, &ttfb),
    );
    // The thumbnail the check made on the way, handed to `Done`'s report as it is.
    let mut made: Option<Made> = None;
    // Held from the moment a checked file is published until it is recorded as done:
    // two items with the same bytes (a URL and a redirect to it) then publish and record
    // in one order, and the second finds the first's file (see `finish_download`).
    let mut publishing: Option<std::sync::MutexGuard<'_, ()>> = None;
    let result = fetched.and_then(|complete| {
        // The file is complete: checking it needs no connection, so its slots go to
        // the next download meanwhile (holding them cost 16% on small files).
        lease.free_slots();
        if let Some(waited) = ttfb.get() {
            shared
                .scheduler
                .completed(&attempt, waited, total.get(), report_limit);
        }
        let item = Item {
            id,
            url: &url,
            page: page.as_deref(),
        };
        made = Some(verify_on_pool(shared, id, &complete, keep_if_damaged)?);
        let name = templated_name(shared, item, &complete);
        publishing = Some(shared.publishing.lock().unwrap_or_else(|p| p.into_inner()));
        publish(&shared.out, complete, name.as_ref(), &mut resume)
    });
    lease.job.resume = resume.map(Box::new);
    if result.is_ok() && url.scheme() == "data" {
        shared.inline.forget(&url);
    }
    settle_attempt(shared, lease, result, made, settled);
    drop(publishing);
}

/// What a download's progress does: the response's size and HTTP version to the
/// scheduler (an adaptive limit's input) and the front end, its part to the library,
/// its bytes to the front end at most every `progress_interval`.
fn progress_reporter<'a>(
    shared: &'a Shared,
    id: ItemId,
    attempt: &'a Attempt,
    total: &'a Cell<Option<u64>>,
    ttfb: &'a Cell<Option<Duration>>,
) -> impl FnMut(Progress) + 'a {
    let events = &shared.events;
    let report_limit = move |host: &str, limit: usize| send_host_limit(shared, host, limit);
    let mut last_progress = Instant::now();
    move |p| match p {
        Progress::Started { total: t, http2 } => {
            total.set(t);
            events.send(Event::Started { id, total: t });
            let waited = attempt.started().elapsed();
            ttfb.set(Some(waited));
            shared
                .scheduler
                .answered(attempt, waited, http2, t, report_limit);
        }
        Progress::Part(part) => shared.record(|lib| lib.set_part(id, Some(&part))),
        Progress::Bytes(bytes) => {
            if last_progress.elapsed() >= shared.config.progress_interval {
                last_progress = Instant::now();
                events.send(Event::Progress {
                    id,
                    bytes,
                    total: total.get(),
                });
            }
        }
    }
}

/// What this attempt starts from: the part an earlier attempt left, an inline image's
/// bytes (a `data:` URL, saved with the same check and publishing as any download) or a
/// Find's whole fetch (published without a request, its part recorded like any part in
/// case publishing has to wait). `Err` when an inline image has nothing to save.
fn starting_part(shared: &Shared, job: &mut Job, limits: &FetchLimits) -> Result<(), Stopped> {
    if job.resume.is_none()
        && let Some(part) = job.part.take()
    {
        job.resume = Resume::reopen(&shared.out, &part).map(Box::new);
    }
    if job.resume.is_none() && job.url.scheme() == "data" {
        super::inline::inline_part(shared, job, limits)?;
    }
    if job.resume.is_none()
        && let Some(file) = shared.prefetched.take(&job.url)
    {
        job.resume = Resume::whole(&shared.out, file, limits).map(Box::new);
        if let Some(part) = &job.resume {
            let record = part.record();
            shared.record(|lib| lib.set_part(job.id, Some(&record)));
        }
    }
    Ok(())
}

/// What an attempt's outcome makes of its item: done (published, reported with the
/// thumbnail the check made), cancelled, paused, tried again (after a damaged copy, a
/// transient failure, or a write error that pauses the run), or failed for good.
fn settle_attempt(
    shared: &Arc<Shared>,
    mut lease: Lease<'_>,
    result: Result<DoneInfo, Stopped>,
    mut made: Option<Made>,
    settled: &std::cell::Cell<bool>,
) {
    let id = lease.job.id;
    let events = &shared.events;
    let config = &shared.config;
    if let Err(Stopped::Failed(reason)) = &result {
        let how = congestion_of(reason);
        shared.scheduler.congestion(&lease, how, |host, limit| {
            send_host_limit(shared, host, limit)
        });
    }
    match result {
        Ok(done) => {
            shared.scheduler.finish(lease);
            finish_download(shared, id, done, made.take());
            // Only now: a panic before `Done` went out must still settle the item.
            settled.set(true);
        }
        Err(Stopped::Cancelled) => {
            shared.scheduler.finish(lease);
            shared.record(|lib| lib.set_state(id, ItemState::Cancelled));
            settled.set(true);
            events.settle(Event::Cancelled { id });
        }
        Err(Stopped::Paused) => {
            settled.set(true);
            let returned = shared.scheduler.park(lease);
            settle_returned(shared, id, returned);
        }
        Err(Stopped::Failed(reason @ FetchError::Damaged { .. })) if !lease.job.damaged => {
            // The transfer may be what broke it: one more try, from scratch.
            lease.job.damaged = true;
            lease.job.resume = None;
            let delay = backoff(config, 1, &reason);
            settled.set(true);
            retry_later(shared, lease, reason, delay);
        }
        Err(Stopped::Failed(FetchError::Disk(problem))) => {
            settled.set(true);
            hold_for_disk(shared, lease, &problem);
        }
        Err(Stopped::Failed(reason)) if may_retry(config, &lease.job, &reason) => {
            if matches!(reason, FetchError::Stalled(_)) {
                lease.job.stalls += 1;
            }
            let delay = backoff(config, lease.job.attempts, &reason);
            settled.set(true);
            retry_later(shared, lease, reason, delay);
        }
        Err(Stopped::Failed(reason)) => {
            let reason = reason.beyond_wait(config.max_retry_wait);
            // A failed item keeps no part file.
            lease.job.resume = None;
            shared.scheduler.finish(lease);
            shared.record(|lib| lib.set_failed(id, &reason.to_string()));
            settled.set(true);
            events.settle(Event::Failed { id, reason });
        }
    }
}

/// Reports a host's new adaptive limit.
fn send_host_limit(shared: &Shared, host: &str, limit: usize) {
    shared.events.send(Event::HostLimit {
        host: host.to_string(),
        limit,
    });
}

/// What a failure says about its host's load, for the adaptive limit.
fn congestion_of(reason: &FetchError) -> Congestion {
    match reason {
        r if r.is_host_overloaded() => Congestion::Refused,
        FetchError::Connect(_)
        | FetchError::Stalled(_)
        | FetchError::Network(_)
        | FetchError::Truncated { .. } => Congestion::Trouble,
        _ => Congestion::None,
    }
}

/// True when a failed attempt should be tried again: a transient failure, a
/// Retry-After the run is willing to wait for, attempts left, and (for stalls) stall
/// retries left.
fn may_retry(config: &Config, job: &Job, reason: &FetchError) -> bool {
    reason.is_retryable()
        && reason
            .retry_after()
            .is_none_or(|asked| asked <= config.max_retry_wait)
        && job.attempts <= config.retries
        && (!matches!(reason, FetchError::Stalled(_)) || job.stalls < config.stall_retries)
}

/// Queues the item again after `delay` and says why. A host that said it is
/// overloaded (429/503) also cools down.
fn retry_later(shared: &Shared, lease: Lease<'_>, reason: FetchError, delay: Duration) {
    let id = lease.job.id;
    let cool_down = reason.is_host_overloaded();
    shared.events.send(Event::Retrying {
        id,
        attempt: lease.job.attempts + 1,
        delay,
        reason,
    });
    let returned = shared.scheduler.retry(lease, delay, cool_down);
    settle_returned(shared, id, returned);
}

/// A write error: nothing is lost on a full or failing disk. The part stays (to
/// continue with Range), the item waits in the queue, and no new download starts until
/// the user resumes (or, for the CLI, until the next run).
fn hold_for_disk(shared: &Shared, lease: Lease<'_>, problem: &str) {
    let id = lease.job.id;
    if let Some(record) = lease.job.resume.as_deref().map(Resume::record) {
        shared.record(|lib| lib.set_part(id, Some(&record)));
    }
    let returned = shared.scheduler.requeue_on_hold(lease);
    if matches!(returned, Returned::Queued) {
        shared.events.send(Event::Requeued { id });
    }
    settle_returned(shared, id, returned);
    shared.events.send(Event::Paused {
        reason: pause_reason(format!("could not write to the output folder: {problem}")),
    });
}

/// What the user reads when a write error holds the downloads: `problem` as it is,
/// led by "the disk is full" when its text says so (the OS's "No space left on
/// device", SQLite's "database or disk is full", a quota).
pub(super) fn pause_reason(problem: String) -> String {
    let lower = problem.to_ascii_lowercase();
    let full = ["no space", "disk is full", "storage full", "quota"]
        .iter()
        .any(|p| lower.contains(p));
    if full {
        format!("the disk is full ({problem}); free some space, then resume")
    } else {
        problem
    }
}

/// Finishes what `Scheduler::retry`, `requeue_on_hold` or `park` did not queue: an item
/// held (paused), cancelled while its attempt ended, or left at shutdown.
fn settle_returned(shared: &Shared, id: ItemId, returned: Returned) {
    match returned {
        Returned::Queued => {}
        Returned::Cancelled(job) => {
            drop(job);
            shared.record(|lib| lib.set_state(id, ItemState::Cancelled));
            shared.events.settle(Event::Cancelled { id });
        }
        Returned::Held(id, bytes) => {
            shared.record(|lib| lib.set_state(id, ItemState::Paused));
            shared.events.settle(Event::ItemPaused { id, bytes });
        }
        // The item stays queued in the library, its part on disk, for the next run.
        Returned::ShutDown(job) => {
            if let Some(resume) = job.resume {
                resume.keep();
            }
        }
    }
}
