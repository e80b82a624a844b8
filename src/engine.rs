//! The engine: queue URLs, download them on I/O worker threads, make thumbnails on
//! a CPU pool, and report everything as [`Event`]s on a channel.
//!
//! Data flows one way: [`EngineHandle::add`] → scheduler → download worker
//! (fetch → verify → store) → thumbnail pool → event channel. Nothing in the engine
//! ever waits for the receiver of events (the channel is unbounded and only a
//! wake-up callback is called), so a slow UI can never stall a download.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use url::Url;

use crate::error::{EngineError, FetchError, ThumbError};
use crate::fetch::{self, Downloaded, FetchLimits, Progress, Stopped};
use crate::scheduler::{Job, Scheduler};
use crate::sniff::ImageFormat;
use crate::store::OutputDir;
use crate::thumbs::{self, Thumbnail};

/// Identifies one queued item for the life of an engine. Ids grow in queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(pub u64);

/// A function the engine calls after sending events, e.g. `egui::Context::request_repaint`.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// How an engine runs.
#[derive(Clone)]
pub struct Config {
    /// Where files go (created if missing).
    pub out_dir: PathBuf,
    /// Concurrent downloads in all (download worker threads).
    pub jobs: usize,
    /// Concurrent downloads per `host:port`.
    pub per_host: usize,
    /// Longest side of thumbnails, in pixels.
    pub thumb_side: u32,
    /// Largest body accepted, in bytes.
    pub max_bytes: u64,
    /// Give up on a connection attempt after this long.
    pub connect_timeout: Duration,
    /// Fail a transfer when no byte arrives for this long.
    pub stall_timeout: Duration,
    /// Least time between two progress events of one item.
    pub progress_interval: Duration,
    /// Threads for thumbnails; 0 means one per core.
    pub thumb_threads: usize,
    /// Flush every file to the device before publishing it (survives power loss; off
    /// by default, like browsers and curl, since it costs a disk round trip per file).
    pub sync_files: bool,
    /// Further attempts after a retryable failure (connection trouble, stall, 5xx, 408, 429).
    pub retries: u32,
    /// First back-off; doubles with each attempt (with jitter), capped at 30 s.
    pub retry_base: Duration,
    /// Longest wait honoured from a server's `Retry-After`.
    pub max_retry_wait: Duration,
    /// Called after events are sent (throttling is the callee's business).
    pub waker: Option<Waker>,
}

impl Config {
    /// Sensible defaults for an output folder.
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            jobs: 8,
            per_host: 4,
            thumb_side: thumbs::DEFAULT_THUMB_SIDE,
            max_bytes: 1 << 30,
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
            progress_interval: Duration::from_millis(200),
            thumb_threads: 0,
            sync_files: false,
            retries: 4,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(300),
            waker: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("out_dir", &self.out_dir)
            .field("jobs", &self.jobs)
            .field("per_host", &self.per_host)
            .finish_non_exhaustive()
    }
}

/// A finished download, as reported in [`Event::Done`].
#[derive(Debug, Clone)]
pub struct DoneInfo {
    /// Final path inside the output folder.
    pub path: PathBuf,
    /// File size.
    pub bytes: u64,
    /// The format judged from the bytes.
    pub format: ImageFormat,
    /// The server's Content-Type, if any.
    pub content_type: Option<String>,
    /// Pixel width and height from the image header, if readable.
    pub dimensions: Option<(u32, u32)>,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// The URL after redirects.
    pub final_url: Url,
}

/// What the engine reports. Per item the order is: `Queued`, then either
/// `Cancelled`, or one or more attempts (`Started`, `Progress`*, and `Retrying` between
/// attempts), then `Failed`/`Cancelled`, or `Done` followed by exactly one of
/// `Thumbnail` / `ThumbnailFailed`.
#[derive(Debug, Clone)]
pub enum Event {
    /// The URL is in the queue.
    Queued {
        /// The item.
        id: ItemId,
        /// Its URL.
        url: Url,
    },
    /// The server answered; the body is coming.
    Started {
        /// The item.
        id: ItemId,
        /// Content-Length, if announced.
        total: Option<u64>,
    },
    /// Bytes so far (throttled to a few per second per item).
    Progress {
        /// The item.
        id: ItemId,
        /// Bytes received.
        bytes: u64,
        /// Content-Length, if announced.
        total: Option<u64>,
    },
    /// The file is complete, checked and in place.
    Done {
        /// The item.
        id: ItemId,
        /// Where and what.
        info: DoneInfo,
    },
    /// A thumbnail for a done item.
    Thumbnail {
        /// The item.
        id: ItemId,
        /// Pixels, at most `thumb_side` on the long side.
        thumb: Arc<Thumbnail>,
        /// The cache file holding the same thumbnail, if it could be written.
        cached: Option<PathBuf>,
    },
    /// No thumbnail could be made; the file is kept.
    ThumbnailFailed {
        /// The item.
        id: ItemId,
        /// Why.
        reason: ThumbError,
    },
    /// The download failed; nothing was kept.
    Failed {
        /// The item.
        id: ItemId,
        /// Why, for people.
        reason: FetchError,
    },
    /// The item was cancelled; nothing was kept.
    Cancelled {
        /// The item.
        id: ItemId,
    },
    /// An attempt failed in a way that may pass; the item is queued again.
    Retrying {
        /// The item.
        id: ItemId,
        /// The attempt that comes next (2 for the first retry).
        attempt: u32,
        /// How long until it may start.
        delay: Duration,
        /// What went wrong this time.
        reason: FetchError,
    },
    /// No new download starts until [`EngineHandle::resume`] (after a disk error).
    Paused {
        /// Why.
        reason: String,
    },
    /// Every item added so far has reached its last event.
    Idle,
}

impl Event {
    /// The item this event is about (`None` for [`Event::Idle`]).
    pub fn id(&self) -> Option<ItemId> {
        match self {
            Self::Queued { id, .. }
            | Self::Started { id, .. }
            | Self::Progress { id, .. }
            | Self::Done { id, .. }
            | Self::Thumbnail { id, .. }
            | Self::ThumbnailFailed { id, .. }
            | Self::Failed { id, .. }
            | Self::Retrying { id, .. }
            | Self::Cancelled { id } => Some(*id),
            Self::Idle | Self::Paused { .. } => None,
        }
    }
}

/// Sends events, wakes the receiver, and notices when all work is settled.
struct Events {
    tx: Sender<Event>,
    waker: Option<Waker>,
    /// Items added but not yet settled.
    outstanding: AtomicUsize,
}

impl Events {
    fn send(&self, event: Event) {
        // A closed channel only means nobody listens any more; the work goes on.
        let _ = self.tx.send(event);
        if let Some(wake) = &self.waker {
            wake();
        }
    }

    /// Sends an item's last event and, if it was the last outstanding item, `Idle`.
    fn settle(&self, event: Event) {
        self.send(event);
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.send(Event::Idle);
        }
    }
}

struct Shared {
    config: Config,
    out: OutputDir,
    client: reqwest::blocking::Client,
    scheduler: Scheduler,
    events: Events,
    thumbs: rayon::ThreadPool,
    thumb_cache: Option<PathBuf>,
}

/// Starts engines.
#[derive(Debug)]
pub struct Engine;

/// Controls a running engine. Dropping it cancels everything still queued or running.
pub struct EngineHandle {
    shared: Arc<Shared>,
    next_id: AtomicU64,
    workers: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Starts the worker threads. Events arrive on the returned receiver.
    pub fn start(config: Config) -> Result<(EngineHandle, Receiver<Event>), EngineError> {
        install_tls_provider();
        let out = OutputDir::open(&config.out_dir)
            .map_err(|source| EngineError::OutputDir {
                path: config.out_dir.clone(),
                source,
            })?
            .with_sync(config.sync_files);
        let client = build_client(&config)?;
        let thumb_threads = match config.thumb_threads {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let thumbs = rayon::ThreadPoolBuilder::new()
            .num_threads(thumb_threads)
            .thread_name(|i| format!("pixgrab-thumb-{i}"))
            .build()
            .map_err(|e| EngineError::Threads(std::io::Error::other(e.to_string())))?;
        // A thumbnail cache that cannot be created only costs speed.
        let thumb_cache = out.data_dir("thumbs").ok();
        let (tx, rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            scheduler: Scheduler::new(config.per_host),
            events: Events {
                tx,
                waker: config.waker.clone(),
                outstanding: AtomicUsize::new(0),
            },
            out,
            client,
            thumbs,
            thumb_cache,
            config,
        });
        let mut workers = Vec::new();
        for i in 0..shared.config.jobs.max(1) {
            let shared = shared.clone();
            let worker = std::thread::Builder::new()
                .name(format!("pixgrab-download-{i}"))
                .spawn(move || download_worker(&shared))
                .map_err(EngineError::Threads)?;
            workers.push(worker);
        }
        let handle = EngineHandle {
            shared,
            next_id: AtomicU64::new(1),
            workers,
        };
        Ok((handle, rx))
    }
}

impl EngineHandle {
    /// Queues URLs (in order) and returns their ids.
    pub fn add(&self, urls: impl IntoIterator<Item = Url>) -> Vec<ItemId> {
        let jobs: Vec<Job> = urls
            .into_iter()
            .map(|url| Job::new(ItemId(self.next_id.fetch_add(1, Ordering::Relaxed)), url))
            .collect();
        let events = &self.shared.events;
        events.outstanding.fetch_add(jobs.len(), Ordering::AcqRel);
        for job in &jobs {
            let _ = events.tx.send(Event::Queued {
                id: job.id,
                url: job.url.clone(),
            });
        }
        let ids = jobs.iter().map(|j| j.id).collect();
        self.shared.scheduler.push(jobs);
        if let Some(wake) = &events.waker {
            wake();
        }
        ids
    }

    /// Cancels one item, queued or running. Unknown or finished ids are ignored.
    pub fn cancel(&self, id: ItemId) {
        if let Some(job) = self.shared.scheduler.cancel(id) {
            self.shared.events.settle(Event::Cancelled { id: job.id });
        }
    }

    /// Cancels every queued and running item.
    pub fn cancel_all(&self) {
        for job in self.shared.scheduler.cancel_all() {
            self.shared.events.settle(Event::Cancelled { id: job.id });
        }
    }

    /// Starts new downloads again after a pause (see [`Event::Paused`]).
    pub fn resume(&self) {
        self.shared.scheduler.resume();
    }

    /// The output folder, canonicalised.
    pub fn out_dir(&self) -> &Path {
        self.shared.out.root()
    }

    /// Cancels everything and waits for the download workers to exit.
    pub fn shutdown(mut self) {
        self.stop();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }

    fn stop(&self) {
        self.cancel_all();
        self.shared.scheduler.shutdown();
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle")
            .field("out_dir", &self.shared.out.root())
            .finish_non_exhaustive()
    }
}

/// Installs the process-wide rustls crypto provider (`ring`, which builds without cmake
/// or nasm). The engine calls it itself; call it before building any other reqwest client.
pub fn install_tls_provider() {
    // Err means one is installed already, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn build_client(config: &Config) -> Result<reqwest::blocking::Client, EngineError> {
    reqwest::blocking::Client::builder()
        .user_agent(concat!("Pixgrab/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.connect_timeout)
        // In the blocking client this bounds each wait: headers, and every body read.
        .timeout(config.stall_timeout)
        .pool_max_idle_per_host(config.per_host.max(1))
        .redirect(redirect_policy())
        .tcp_nodelay(true)
        .build()
        .map_err(|e| EngineError::Client(e.to_string()))
}

/// At most 10 redirects, each to http or https only. (reqwest already drops
/// `Authorization`, `Cookie` and other sensitive headers when a redirect changes host.)
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 10 {
            attempt.error("more than 10 redirects")
        } else if !matches!(attempt.url().scheme(), "http" | "https") {
            let scheme = attempt.url().scheme().to_string();
            attempt.error(format!("redirect to a {scheme}: URL"))
        } else {
            attempt.follow()
        }
    })
}

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

fn download_worker(shared: &Arc<Shared>) {
    let limits = FetchLimits {
        max_bytes: shared.config.max_bytes,
        stall_timeout: shared.config.stall_timeout,
    };
    while let Some(mut lease) = shared.scheduler.next() {
        let id = lease.job.id;
        let events = &shared.events;
        let mut total = None;
        let mut last_progress = Instant::now();
        lease.job.attempts += 1;
        let cancel = lease.job.cancel.clone();
        let url = lease.job.url.clone();
        let result = fetch::download(
            &shared.client,
            &url,
            &shared.out,
            &limits,
            &cancel,
            &mut lease.job.resume,
            |p| match p {
                Progress::Started { total: t } => {
                    total = t;
                    events.send(Event::Started { id, total: t });
                }
                Progress::Bytes(bytes) => {
                    if last_progress.elapsed() >= shared.config.progress_interval {
                        last_progress = Instant::now();
                        events.send(Event::Progress { id, bytes, total });
                    }
                }
            },
        );
        match result {
            Ok(done) => {
                shared.scheduler.finish(lease);
                finish_download(shared, id, done);
            }
            Err(Stopped::Cancelled) => {
                shared.scheduler.finish(lease);
                events.settle(Event::Cancelled { id });
            }
            Err(Stopped::Failed(reason))
                if reason.is_retryable() && lease.job.attempts <= shared.config.retries =>
            {
                let delay = backoff(&shared.config, lease.job.attempts, &reason);
                let attempt = lease.job.attempts + 1;
                let cool_down = reason.is_host_overloaded();
                events.send(Event::Retrying {
                    id,
                    attempt,
                    delay,
                    reason,
                });
                shared.scheduler.retry(lease, delay, cool_down);
            }
            Err(Stopped::Failed(reason)) => {
                // A failed item keeps no part file.
                lease.job.resume = None;
                shared.scheduler.finish(lease);
                if let FetchError::Disk(problem) = &reason {
                    shared.scheduler.pause();
                    events.send(Event::Paused {
                        reason: format!("could not write to the output folder: {problem}"),
                    });
                }
                events.settle(Event::Failed { id, reason });
            }
        }
    }
}

/// Reports a finished download and hands it to the thumbnail pool.
fn finish_download(shared: &Arc<Shared>, id: ItemId, done: Downloaded) {
    let dimensions = thumbs::dimensions(&done.path, done.format);
    let info = DoneInfo {
        path: done.path,
        bytes: done.bytes,
        format: done.format,
        content_type: done.content_type,
        dimensions,
        sha256: done.sha256,
        final_url: done.final_url,
    };
    let path = info.path.clone();
    let format = info.format;
    let hash = info.sha256.clone();
    shared.events.send(Event::Done { id, info });
    let pool_shared = shared.clone();
    shared.thumbs.spawn_fifo(move || {
        let event = match thumbnail(&pool_shared, &path, format, &hash) {
            Ok((thumb, cached)) => Event::Thumbnail {
                id,
                thumb: Arc::new(thumb),
                cached,
            },
            Err(reason) => Event::ThumbnailFailed { id, reason },
        };
        pool_shared.events.settle(event);
    });
}

/// Loads the thumbnail from the cache, or makes it and caches it. Also returns the
/// cache file, from which a front end can reload the pixels after dropping them.
fn thumbnail(
    shared: &Shared,
    path: &Path,
    format: ImageFormat,
    hash: &str,
) -> Result<(Thumbnail, Option<PathBuf>), ThumbError> {
    let side = shared.config.thumb_side;
    let cache_stem = format!("{hash}-{side}");
    if let Some(dir) = &shared.thumb_cache {
        for ext in ["jpg", "png"] {
            let cached = dir.join(format!("{cache_stem}.{ext}"));
            if let Ok(bytes) = std::fs::read(&cached)
                && let Ok(thumb) = thumbs::decode_cached(&bytes)
            {
                return Ok((thumb, Some(cached)));
            }
        }
    }
    let thumb = thumbs::make_thumbnail(path, format, side)?;
    let mut cached = None;
    if shared.thumb_cache.is_some()
        && let Ok((ext, bytes)) = thumbs::encode_for_cache(&thumb)
    {
        // A cache write that fails costs a decode next time, nothing more.
        cached = shared
            .out
            .write_data_file("thumbs", &format!("{cache_stem}.{ext}"), &bytes)
            .ok();
    }
    Ok((thumb, cached))
}
