//! The engine: queue URLs, download them on I/O worker threads, make thumbnails on
//! a CPU pool, and report everything as [`Event`]s on a channel.
//!
//! Data flows one way: [`EngineHandle::add`] → library → scheduler → download worker
//! (fetch → verify → store) → library → thumbnail pool → event channel. Nothing in the
//! engine ever waits for the receiver of events (the channel is unbounded and only a
//! wake-up callback is called), so a slow UI can never stall a download.
//!
//! Every state change is committed to the folder's [`Library`] before it is reported,
//! and an engine starts by restoring the library: done items come back with their
//! thumbnails (from the cache), failed ones with their reasons, queued and paused ones
//! with their part files, to be continued with `Range`.

pub mod commands;
pub(crate) mod scheduler;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use url::Url;

use crate::disk::library::{DoneRecord, ItemState, Library, LibraryError, Record};
use crate::disk::store::OutputDir;
use crate::engine::scheduler::{Job, Paused, Returned, Scheduler};
use crate::error::{EngineError, FetchError, ThumbError};
use crate::imaging::sniff::ImageFormat;
use crate::imaging::thumbs::{self, Thumbnail};
use crate::input::page::Candidate;
use crate::net::fetch::{self, Downloaded, FetchLimits, Progress, Resume, Stopped};
use crate::net::pacer::Pacer;
use crate::net::profile::Profiles;

pub use crate::item::ItemId;

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
    /// Of those, at most this many after a stall (no byte for `stall_timeout`): a server
    /// that accepts and never answers costs `(stall_retries + 1) * stall_timeout`.
    pub stall_retries: u32,
    /// First back-off; doubles with each attempt (with jitter), capped at 30 s.
    pub retry_base: Duration,
    /// Longest wait honoured from a server's `Retry-After`.
    pub max_retry_wait: Duration,
    /// Least time between the starts of two requests to one host (politeness; 0: none).
    pub host_interval: Duration,
    /// Overall bandwidth limit in bytes per second (0: unlimited).
    pub bandwidth: u64,
    /// User-Agent, Referer, headers and cookies by host.
    pub profiles: Profiles,
    /// Proxy for every request: `http://host:port`, `https://...` or `socks5://...`.
    pub proxy: Option<String>,
    /// When requests that a page's content causes may go to private addresses.
    pub private: crate::net::netguard::PrivateRule,
    /// Host names resolved to fixed addresses instead of DNS (like curl's `--resolve`).
    pub resolve: Vec<(String, std::net::SocketAddr)>,
    /// Called after events are sent (throttling is the callee's business).
    pub waker: Option<Waker>,
    /// Called by the download worker at the start of every attempt, with the URL. For
    /// tests: one that panics proves a bug in a job cannot hang the run.
    pub fault_hook: Option<FaultHook>,
    /// For tests: every `add` waits this long before it writes the library (a slow
    /// disk), to show that a front end using [`EngineHandle::send`] never waits on it.
    pub library_delay: Option<Duration>,
}

/// See [`Config::fault_hook`].
pub type FaultHook = Arc<dyn Fn(&Url) + Send + Sync>;

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
            stall_timeout: Duration::from_secs(15),
            progress_interval: Duration::from_millis(200),
            thumb_threads: 0,
            sync_files: false,
            retries: 4,
            stall_retries: 1,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(300),
            host_interval: Duration::ZERO,
            bandwidth: 0,
            profiles: Profiles::default(),
            proxy: None,
            private: crate::net::netguard::PrivateRule::Auto,
            resolve: Vec::new(),
            waker: None,
            fault_hook: None,
            library_delay: None,
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
    /// The same bytes were already in the library: `path` is that item's file and
    /// nothing new was stored.
    pub duplicate_of: Option<ItemId>,
    /// Done in an earlier run (restored from the library).
    pub restored: bool,
}

/// What the engine reports. Per item the order is: `Queued`, then either
/// `Cancelled`, or one or more attempts (`Started`, `Progress`*, and `Retrying` between
/// attempts), then `Failed`/`Cancelled`/`ItemPaused`, or `Done` followed by exactly one
/// of `Thumbnail` / `ThumbnailFailed`. `Requeued` brings a paused, failed or cancelled
/// item back to the queue, and the sequence goes on from its attempts. Items restored
/// from the library start with `Queued` too, followed at once by the state they had.
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
    /// No new download starts until [`EngineHandle::resume_all`] (after a disk error).
    Paused {
        /// Why.
        reason: String,
    },
    /// The item is paused; its part file (if any) is kept to continue later.
    ItemPaused {
        /// The item.
        id: ItemId,
        /// Bytes kept in the part file.
        bytes: u64,
    },
    /// A paused, failed or cancelled item is back in the queue.
    Requeued {
        /// The item.
        id: ItemId,
    },
    /// Every item added so far has reached its last event.
    Idle,
    /// Items moved to the front of the queue, in this order (after
    /// [`commands::Command::MoveToTop`]); a front end's list follows the engine's order.
    MovedToTop {
        /// The items, first first.
        ids: Vec<ItemId>,
    },
    /// A [`commands::Command::Add`] was carried out: of `asked` URLs, `new` became new
    /// items; the others were in the library already (failed and cancelled ones were
    /// queued again).
    Added {
        /// URLs in the command.
        asked: usize,
        /// New items among them.
        new: usize,
    },
    /// A command could not be carried out (the library could not be written). For an
    /// `Add`, its URLs come back so nothing typed is lost.
    CommandFailed {
        /// Why, for people.
        reason: String,
        /// The URLs of a failed `Add` (empty for other commands).
        urls: Vec<Url>,
    },
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
            | Self::ItemPaused { id, .. }
            | Self::Requeued { id }
            | Self::Cancelled { id } => Some(*id),
            Self::Idle
            | Self::Paused { .. }
            | Self::MovedToTop { .. }
            | Self::Added { .. }
            | Self::CommandFailed { .. } => None,
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

    /// An item enters the queue (or comes back to it).
    fn enter(&self, count: usize) {
        self.outstanding.fetch_add(count, Ordering::AcqRel);
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
    library: Mutex<Library>,
    pacer: Arc<Pacer>,
    profiles: RwLock<Arc<Profiles>>,
    /// The private-address rule for page-caused requests.
    guard: crate::net::netguard::Guard,
    /// Raised by every new Find: size probes of an earlier one stop.
    find_generation: AtomicUsize,
}

impl Shared {
    fn profiles(&self) -> Arc<Profiles> {
        self.profiles
            .read()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    fn limits(&self) -> FetchLimits {
        FetchLimits {
            max_bytes: self.config.max_bytes,
            stall_timeout: self.config.stall_timeout,
            pacer: Some(self.pacer.clone()),
        }
    }

    fn library(&self) -> MutexGuard<'_, Library> {
        // Each library call is one transaction; a panic mid-call leaves SQLite consistent.
        self.library.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a library write; if it fails, holds new downloads and says why (the disk
    /// under the library is the same as the one under the files).
    fn record(&self, write: impl FnOnce(&mut Library) -> Result<(), LibraryError>) {
        let result = write(&mut self.library());
        if let Err(e) = result {
            self.scheduler.hold();
            self.events.send(Event::Paused {
                reason: pause_reason(format!("could not write the library: {e}")),
            });
        }
    }
}

/// Starts engines.
#[derive(Debug)]
pub struct Engine;

/// Controls a running engine. Dropping it cancels everything still queued or running.
pub struct EngineHandle {
    shared: Arc<Shared>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// The command thread, started by the first [`EngineHandle::send`].
    commands: commands::Commands,
    /// False for the command thread's own handle: dropping that one stops nothing.
    owner: bool,
}

/// Reads pages and probes sizes with an engine's client and request profiles, from any
/// thread (see [`EngineHandle::finder`]).
#[derive(Clone)]
pub struct Finder {
    shared: Arc<Shared>,
}

impl Finder {
    /// See [`EngineHandle::find_images`].
    pub fn find_images(&self, page: &Url) -> Result<(Url, Vec<Candidate>), FetchError> {
        guarded(|| find_images(&self.shared, page))
    }

    /// See [`EngineHandle::probe_sizes`].
    pub fn probe_sizes(&self, urls: &[Url], page: Option<&Url>) -> Vec<Option<u64>> {
        probe_sizes(&self.shared, urls, page)
    }
}

impl std::fmt::Debug for Finder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finder").finish_non_exhaustive()
    }
}

/// Most download worker threads an engine will run (the most `--jobs` and the window
/// allow).
pub const MAX_JOBS: usize = 256;

/// The most concurrent downloads per host that `--per-host` and the window allow.
pub const MAX_PER_HOST: usize = 64;

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
        let data_root = out.data_root().map_err(|source| EngineError::OutputDir {
            path: config.out_dir.clone(),
            source,
        })?;
        let library = Library::open(&data_root, config.sync_files)?;
        let records = library.all()?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            scheduler: Scheduler::new(config.jobs, config.per_host),
            events: Events {
                tx,
                waker: config.waker.clone(),
                outstanding: AtomicUsize::new(0),
            },
            out,
            client,
            thumbs,
            thumb_cache,
            library: Mutex::new(library),
            pacer: Arc::new(Pacer::new(config.bandwidth)),
            profiles: RwLock::new(Arc::new(config.profiles.clone())),
            guard: crate::net::netguard::Guard::new(config.private).behind_proxy(proxied(&config)),
            find_generation: AtomicUsize::new(0),
            config,
        });
        shared
            .scheduler
            .set_min_interval(shared.config.host_interval);
        let handle = EngineHandle {
            shared,
            workers: Arc::new(Mutex::new(Vec::new())),
            commands: commands::Commands::default(),
            owner: true,
        };
        handle.spawn_workers(handle.shared.config.jobs)?;
        restore(&handle.shared, records);
        Ok((handle, rx))
    }
}

/// The size of a part file in the output folder (0 if missing or oddly named).
fn part_len(shared: &Shared, name: &str) -> u64 {
    if !crate::disk::naming::is_safe_component(name) {
        return 0;
    }
    std::fs::symlink_metadata(shared.out.root().join(name)).map_or(0, |m| m.len())
}

/// Brings back what the library holds: events for every item, jobs for queued and
/// paused ones (with their parts), thumbnails (from the cache) for done ones.
fn restore(shared: &Arc<Shared>, records: Vec<Record>) {
    let events = &shared.events;
    let mut queued = Vec::new();
    let mut held = Vec::new();
    for record in records {
        let Ok(url) = Url::parse(&record.url) else {
            continue;
        };
        let id = record.id;
        events.send(Event::Queued {
            id,
            url: url.clone(),
        });
        match record.state {
            ItemState::Queued | ItemState::Paused => {
                let mut job = Job::from_record(&record, url);
                // Parts are reopened (and re-hashed) by the worker that continues them.
                let bytes = record
                    .part
                    .as_ref()
                    .map_or(0, |p| part_len(shared, &p.name));
                job.part = record.part;
                if record.state == ItemState::Queued {
                    events.enter(1);
                    queued.push(job);
                } else {
                    events.send(Event::ItemPaused { id, bytes });
                    held.push(job);
                }
            }
            ItemState::Done => {
                let (Some(file), Some(sha256)) = (record.file, record.sha256) else {
                    continue;
                };
                // The library is a file on disk like any other: a name in it that is not
                // one plain file name of this folder is never read, thumbnailed or opened.
                if !crate::disk::naming::is_safe_component(&file) {
                    events.send(Event::Failed {
                        id,
                        reason: FetchError::Earlier(format!(
                            "the library names a file outside the folder ({:?}); ignored",
                            file.chars().take(80).collect::<String>()
                        )),
                    });
                    continue;
                }
                let format = record
                    .format
                    .as_deref()
                    .and_then(ImageFormat::from_extension)
                    .unwrap_or(ImageFormat::Jpeg);
                let info = DoneInfo {
                    path: shared.out.root().join(file),
                    bytes: record.bytes.unwrap_or(0),
                    format,
                    content_type: record.content_type,
                    dimensions: record.dimensions,
                    sha256,
                    final_url: record
                        .final_url
                        .and_then(|u| Url::parse(&u).ok())
                        .unwrap_or(url),
                    duplicate_of: record.duplicate_of,
                    restored: true,
                };
                events.enter(1);
                report_done(shared, id, info, None);
            }
            ItemState::Failed => events.send(Event::Failed {
                id,
                reason: FetchError::Earlier(record.error.unwrap_or_default()),
            }),
            ItemState::Cancelled => events.send(Event::Cancelled { id }),
        }
    }
    shared.scheduler.push_held(held);
    shared.scheduler.push(queued);
}

impl EngineHandle {
    /// Queues URLs (in order) and returns their ids. A URL already in the library keeps
    /// its item: done, queued and paused ones stay as they are, failed and cancelled ones
    /// are queued again.
    pub fn add(&self, urls: impl IntoIterator<Item = Url>) -> Result<Vec<ItemId>, EngineError> {
        self.add_from(urls, None)
    }

    /// Like [`EngineHandle::add`], for URLs found on `page`: it is remembered with each
    /// item and sent as its Referer (unless a request profile sets one).
    pub fn add_from(
        &self,
        urls: impl IntoIterator<Item = Url>,
        page: Option<&Url>,
    ) -> Result<Vec<ItemId>, EngineError> {
        self.add_counting(urls.into_iter().collect(), page)
            .map(|(ids, _)| ids)
    }

    /// [`EngineHandle::add_from`], also saying how many items are new.
    fn add_counting(
        &self,
        urls: Vec<Url>,
        page: Option<&Url>,
    ) -> Result<(Vec<ItemId>, usize), EngineError> {
        if urls.is_empty() {
            return Ok((Vec::new(), 0));
        }
        if let Some(delay) = self.shared.config.library_delay {
            std::thread::sleep(delay);
        }
        let added = self.shared.library().add(&urls, page)?;
        let events = &self.shared.events;
        let mut jobs = Vec::new();
        let mut again = Vec::new();
        for (a, url) in added.iter().zip(urls) {
            match a.before {
                None => {
                    let mut job = Job::new(a.id, crate::disk::library::normalise(&url), a.rank);
                    job.page = page.cloned();
                    jobs.push(job);
                }
                Some(ItemState::Failed | ItemState::Cancelled) => again.push(a.id),
                Some(_) => {}
            }
        }
        events.enter(jobs.len());
        for job in &jobs {
            let _ = events.tx.send(Event::Queued {
                id: job.id,
                url: job.url.clone(),
            });
        }
        let new_jobs = jobs.len();
        self.shared.scheduler.push(jobs);
        let queued_nothing = new_jobs + self.requeue(&again)? == 0;
        // Nothing queued (everything was done already) and nothing else running: say so,
        // or a caller waiting for `Idle` would wait forever. When something was queued,
        // its own settling sends `Idle` (checking the count here instead would race with
        // items that finish at once, and send a second, stale `Idle`).
        if queued_nothing && events.outstanding.load(Ordering::Acquire) == 0 {
            events.send(Event::Idle);
        } else if let Some(wake) = &events.waker {
            wake();
        }
        Ok((added.iter().map(|a| a.id).collect(), new_jobs))
    }

    /// Queues failed or cancelled items again (from scratch).
    pub fn retry(&self, ids: &[ItemId]) -> Result<(), EngineError> {
        self.requeue(ids).map(|_| ())
    }

    /// [`EngineHandle::retry`], saying how many items went back to the queue.
    fn requeue(&self, ids: &[ItemId]) -> Result<usize, EngineError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let records = self
            .shared
            .library()
            .find(ids, &[ItemState::Failed, ItemState::Cancelled])?;
        let mut jobs = Vec::new();
        for r in records {
            if let Ok(url) = Url::parse(&r.url) {
                jobs.push(Job::from_record(&r, url));
            }
        }
        let ids: Vec<ItemId> = jobs.iter().map(|j| j.id).collect();
        self.shared.library().set_states(&ids, ItemState::Queued)?;
        self.requeued(&ids);
        let count = jobs.len();
        self.shared.scheduler.push(jobs);
        Ok(count)
    }

    /// Queues every failed item again.
    pub fn retry_failed(&self) -> Result<(), EngineError> {
        let failed = self.shared.library().ids_in_state(ItemState::Failed)?;
        self.retry(&failed)
    }

    fn requeued(&self, ids: &[ItemId]) {
        let events = &self.shared.events;
        events.enter(ids.len());
        for &id in ids {
            events.send(Event::Requeued { id });
        }
    }

    /// Pauses items: waiting ones at once, running ones within a read (their parts are
    /// kept). Done, failed and unknown ids are ignored.
    pub fn pause(&self, ids: &[ItemId]) {
        let mut held = Vec::new();
        for &id in ids {
            if let Paused::Held(id, bytes) = self.shared.scheduler.pause(id) {
                held.push((id, bytes));
            }
        }
        let held_ids: Vec<ItemId> = held.iter().map(|h| h.0).collect();
        self.shared
            .record(|lib| lib.set_states(&held_ids, ItemState::Paused));
        for (id, bytes) in held {
            self.shared.events.settle(Event::ItemPaused { id, bytes });
        }
    }

    /// Pauses every waiting and running item.
    pub fn pause_all(&self) {
        let ids = self.shared.scheduler.active_ids();
        self.pause(&ids);
    }

    /// Queues paused items again; their parts continue with `Range`.
    pub fn resume(&self, ids: &[ItemId]) {
        let jobs = self.shared.scheduler.take_held(ids);
        let resumed: Vec<ItemId> = jobs.iter().map(|j| j.id).collect();
        self.shared
            .record(|lib| lib.set_states(&resumed, ItemState::Queued));
        // Reported before a worker can pick them up, so `Requeued` precedes `Started`.
        self.requeued(&resumed);
        self.shared.scheduler.push(jobs);
    }

    /// Resumes every paused item and lifts a hold after a disk error (see [`Event::Paused`]).
    pub fn resume_all(&self) {
        self.shared.scheduler.release_hold();
        let held = self.shared.scheduler.held_ids();
        self.resume(&held);
    }

    /// Moves items to the front of the queue, in the given order.
    pub fn move_to_top(&self, ids: &[ItemId]) -> Result<(), EngineError> {
        let ranks = self.shared.library().move_to_top(ids)?;
        let pairs: Vec<(ItemId, i64)> = ids.iter().copied().zip(ranks).collect();
        self.shared.scheduler.rerank(&pairs);
        self.shared
            .events
            .send(Event::MovedToTop { ids: ids.to_vec() });
        Ok(())
    }

    /// Changes the number of concurrent downloads, in all and per host, while running.
    pub fn set_limits(&self, jobs: usize, per_host: usize) -> Result<(), EngineError> {
        let jobs = jobs.clamp(1, MAX_JOBS);
        self.spawn_workers(jobs)?;
        self.shared.scheduler.set_limits(jobs, per_host);
        Ok(())
    }

    /// Sets the least time between two requests to one host.
    pub fn set_host_interval(&self, interval: Duration) {
        self.shared.scheduler.set_min_interval(interval);
    }

    /// Replaces the request profiles (User-Agent, Referer, headers, cookies by host);
    /// requests that start from now on use them.
    pub fn set_profiles(&self, profiles: Profiles) {
        if let Ok(mut guard) = self.shared.profiles.write() {
            *guard = Arc::new(profiles);
        }
    }

    /// Fetches a web page and returns the images it points to (see [`crate::input::page`]),
    /// with the page's final URL (after redirects). Blocks: call it off the UI thread.
    pub fn find_images(&self, page: &Url) -> Result<(Url, Vec<Candidate>), FetchError> {
        guarded(|| find_images(&self.shared, page))
    }

    /// The sizes of `urls` by HEAD requests (a few at a time), `None` where the server
    /// did not say. Blocks: call it off the UI thread.
    pub fn probe_sizes(&self, urls: &[Url], page: Option<&Url>) -> Vec<Option<u64>> {
        probe_sizes(&self.shared, urls, page)
    }

    /// A handle for [`EngineHandle::find_images`] and [`EngineHandle::probe_sizes`] that
    /// can move to another thread.
    pub fn finder(&self) -> Finder {
        Finder {
            shared: self.shared.clone(),
        }
    }

    /// Changes when page-caused requests may go to private addresses.
    pub fn set_private_rule(&self, rule: crate::net::netguard::PrivateRule) {
        self.shared.guard.set_rule(rule);
    }

    /// Sets the overall bandwidth limit in bytes per second (0: unlimited).
    pub fn set_bandwidth(&self, bytes_per_sec: u64) {
        self.shared.pacer.set_rate(bytes_per_sec);
    }

    /// Every item of the library, in queue order (for export).
    pub fn records(&self) -> Result<Vec<Record>, EngineError> {
        Ok(self.shared.library().all()?)
    }

    /// A job that writes the library as CSV (or JSON) to a new file in the output
    /// folder (`pixgrab-library.csv`, numbered if taken) and returns its path. It does
    /// I/O: run it off the UI thread.
    pub fn exporter(
        &self,
        json: bool,
    ) -> impl FnOnce() -> Result<PathBuf, String> + Send + 'static {
        let shared = self.shared.clone();
        move || {
            let records = shared.library().all().map_err(|e| e.to_string())?;
            let (text, ext) = if json {
                (crate::disk::library::to_json(&records), "json")
            } else {
                (crate::disk::library::to_csv(&records), "csv")
            };
            shared
                .out
                .write_new("pixgrab-library", ext, text.as_bytes())
                .map_err(|e| format!("cannot write the export: {e}"))
        }
    }

    /// A job that keeps a damaged item anyway: the copy of its bytes set aside in
    /// `OUT/.pixgrab/damaged/` is moved into the folder and the item becomes done (its
    /// tile says it is damaged). It does file I/O: run it off the UI thread.
    pub fn keeper(&self, id: ItemId) -> impl FnOnce() -> Result<PathBuf, String> + Send + 'static {
        let shared = self.shared.clone();
        move || keep_damaged(&shared, id)
    }

    /// Makes sure at least `count` download workers run.
    fn spawn_workers(&self, count: usize) -> Result<(), EngineError> {
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        while workers.len() < count.clamp(1, MAX_JOBS) {
            let shared = self.shared.clone();
            let worker = std::thread::Builder::new()
                .name(format!("pixgrab-download-{}", workers.len()))
                .spawn(move || download_worker(&shared))
                .map_err(EngineError::Threads)?;
            workers.push(worker);
        }
        Ok(())
    }

    /// Cancels one item, queued, paused or running. Unknown or finished ids are ignored.
    pub fn cancel(&self, id: ItemId) {
        if let Some((job, held)) = self.shared.scheduler.cancel(id) {
            self.cancelled(job, held);
        }
    }

    /// Cancels every queued, paused and running item.
    pub fn cancel_all(&self) {
        for (job, held) in self.shared.scheduler.cancel_all() {
            self.cancelled(job, held);
        }
    }

    fn cancelled(&self, job: Job, held: bool) {
        let id = job.id;
        // A part from an earlier run that was never reopened: open it to remove it.
        if let Some(part) = &job.part {
            drop(self.shared.out.reopen_part(&part.name));
        }
        drop(job);
        self.shared
            .record(|lib| lib.set_state(id, ItemState::Cancelled));
        if held {
            // A paused item was already settled.
            self.shared.events.send(Event::Cancelled { id });
        } else {
            self.shared.events.settle(Event::Cancelled { id });
        }
    }

    /// True when nothing is queued or running (an `Idle` event may be older than a
    /// later `add`; this says how things are now).
    pub fn is_idle(&self) -> bool {
        self.shared.events.outstanding.load(Ordering::Acquire) == 0
    }

    /// The output folder, canonicalised.
    pub fn out_dir(&self) -> &Path {
        self.shared.out.root()
    }

    /// The long side of this engine's thumbnails ([`Config::thumb_side`]): a front end
    /// that remakes one (after evicting it) makes it the same size.
    pub fn thumb_side(&self) -> u32 {
        self.shared.config.thumb_side
    }

    /// Stops: running downloads are interrupted and, like queued ones, keep their part
    /// files and their place in the library, to continue in the next run. Waits for the
    /// download workers to exit.
    pub fn shutdown(self) {
        // Commands already sent are carried out first.
        self.commands.finish();
        self.stop();
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for worker in workers {
            let _ = worker.join();
        }
    }

    fn stop(&self) {
        for job in self.shared.scheduler.shutdown() {
            if let Some(resume) = job.resume {
                resume.keep();
            }
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        if self.owner {
            self.commands.close();
            self.stop();
        }
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
    let mut builder = reqwest::blocking::Client::builder()
        .user_agent(concat!("Pixgrab/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(config.connect_timeout)
        // In the blocking client this bounds each wait: headers, and every body read.
        .timeout(config.stall_timeout)
        .pool_max_idle_per_host(config.per_host.clamp(1, MAX_JOBS))
        // `fetch::get` follows redirects itself, so each hop gets its own host's
        // headers and cookies (and nothing of another host's).
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true);
    if let Some(proxy) = config.proxy.as_deref().filter(|p| !p.trim().is_empty()) {
        let proxy = reqwest::Proxy::all(proxy.trim()).map_err(|e| {
            EngineError::Client(format!(
                "bad proxy {:?}: {}",
                without_password(proxy.trim()),
                crate::net::fetch::innermost(&e)
            ))
        })?;
        builder = builder.proxy(proxy);
    }
    for (name, addr) in &config.resolve {
        builder = builder.resolve(name, *addr);
    }
    builder
        .build()
        .map_err(|e| EngineError::Client(e.to_string()))
}

/// `text` with the password of a `scheme://user:password@host` replaced by `***`, for
/// messages (a proxy URL carries one often).
pub fn without_password(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => text.to_string(),
        // Unparsable: cut everything up to the last '@' of the authority.
        Err(_) => match (text.find("://"), text.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}***{}", &text[..s + 3], &text[at..]),
            _ => text.to_string(),
        },
    }
}

/// Largest page [`find_images`] reads.
const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;

fn find_images(shared: &Shared, page: &Url) -> Result<(Url, Vec<Candidate>), FetchError> {
    use std::io::Read;
    // A new Find: the size probes of the one before stop.
    shared.find_generation.fetch_add(1, Ordering::AcqRel);
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page: None,
        guard: None,
    };
    let limits = shared.limits();
    let response = fetch::get(&shared.client, page, asker, &[], &limits)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Http {
            code: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            retry_after: None,
            hint: None,
        });
    }
    let final_url = response.url().clone();
    let mut body = Vec::new();
    response
        .take(MAX_PAGE_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| FetchError::Network(e.to_string()))?;
    if body.len() as u64 > MAX_PAGE_BYTES {
        return Err(FetchError::TooLarge(MAX_PAGE_BYTES));
    }
    if let crate::imaging::sniff::Sniffed::Image(format) = crate::imaging::sniff::sniff(&body) {
        return Err(FetchError::NotAnImage(
            format!("{} image", format.name()),
            Some("this is an image, not a page: add it as a URL".into()),
        ));
    }
    let html = String::from_utf8_lossy(&body);
    Ok((
        final_url.clone(),
        crate::input::page::extract(&html, &final_url),
    ))
}

/// Most candidates of one Find whose sizes are probed; the rest show no size.
pub const MAX_PROBES: usize = 1000;

fn probe_sizes(shared: &Shared, urls: &[Url], page: Option<&Url>) -> Vec<Option<u64>> {
    const AT_ONCE: usize = 8;
    let generation = shared.find_generation.load(Ordering::Acquire);
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page,
        guard: Some(&shared.guard),
    };
    let limits = shared.limits();
    let head = |url: &Url| -> Option<u64> {
        let response = fetch::send(
            &shared.client,
            reqwest::Method::HEAD,
            url,
            asker,
            &[],
            &limits,
        )
        .ok()?;
        // Read the header: for HEAD the body is empty, so reqwest's `content_length()`
        // says 0.
        response
            .status()
            .is_success()
            .then(|| response.headers().get(reqwest::header::CONTENT_LENGTH))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(crate::net::headers::content_length)
    };
    // A shared to-do list: each prober takes the first URL whose host has fewer than
    // `per_host` probes running, so one host never gets more than the downloads would.
    struct Work {
        pending: std::collections::VecDeque<usize>,
        active: std::collections::HashMap<String, usize>,
    }
    let per_host = shared.config.per_host.max(1);
    let count = urls.len().min(MAX_PROBES);
    let work = Mutex::new(Work {
        pending: (0..count).collect(),
        active: std::collections::HashMap::new(),
    });
    let freed = std::sync::Condvar::new();
    let sizes = Mutex::new(vec![None; urls.len()]);
    let stale = || shared.find_generation.load(Ordering::Acquire) != generation;
    let prober = || {
        loop {
            let (i, host) = {
                let mut w = work.lock().unwrap_or_else(|p| p.into_inner());
                loop {
                    if stale() || w.pending.is_empty() {
                        return;
                    }
                    let pick = w.pending.iter().position(|&i| {
                        let host = crate::engine::scheduler::host_key(&urls[i]);
                        w.active.get(&host).copied().unwrap_or(0) < per_host
                    });
                    if let Some(pos) = pick
                        && let Some(i) = w.pending.remove(pos)
                    {
                        let host = crate::engine::scheduler::host_key(&urls[i]);
                        *w.active.entry(host.clone()).or_default() += 1;
                        break (i, host);
                    }
                    w = freed
                        .wait_timeout(w, Duration::from_millis(100))
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            };
            // A panicking probe is one unknown size, not a lost Find.
            let size = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| head(&urls[i])))
                .ok()
                .flatten();
            if let Ok(mut sizes) = sizes.lock() {
                sizes[i] = size;
            }
            let mut w = work.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = w.active.get_mut(&host) {
                *n = n.saturating_sub(1);
            }
            drop(w);
            freed.notify_all();
        }
    };
    std::thread::scope(|scope| {
        for n in 0..AT_ONCE.min(count) {
            // A prober that cannot start only means fewer at once.
            let _ = std::thread::Builder::new()
                .name(format!("pixgrab-probe-{n}"))
                .spawn_scoped(scope, prober);
        }
    });
    sizes.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// True when requests go through a proxy: the one configured, or one reqwest takes from
/// the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, any case).
fn proxied(config: &Config) -> bool {
    let configured = config
        .proxy
        .as_deref()
        .is_some_and(|p| !p.trim().is_empty());
    let from_env = ["http_proxy", "https_proxy", "all_proxy"]
        .iter()
        .any(|name| {
            [name.to_string(), name.to_ascii_uppercase()]
                .iter()
                .any(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()))
        });
    configured || from_env
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
fn guarded<T>(job: impl FnOnce() -> Result<T, FetchError>) -> Result<T, FetchError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))
        .unwrap_or_else(|panic| Err(FetchError::Internal(panic_text(panic.as_ref()))))
}

/// The text of a panic's payload.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
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
    mut lease: crate::engine::scheduler::Lease<'_>,
    settled: &std::cell::Cell<bool>,
) {
    let id = lease.job.id;
    let events = &shared.events;
    let mut total = None;
    let mut last_progress = Instant::now();
    lease.job.attempts += 1;
    if lease.job.resume.is_none()
        && let Some(part) = lease.job.part.take()
    {
        lease.job.resume = Resume::reopen(&shared.out, &part);
    }
    if let Some(hook) = &shared.config.fault_hook {
        hook(&lease.job.url);
    }
    let stop = lease.job.stop.clone();
    let url = lease.job.url.clone();
    let page = lease.job.page.clone();
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page: page.as_ref(),
        guard: Some(&shared.guard),
    };
    // The second damaged copy in a row is kept aside (the user may want it anyway).
    let keep_if_damaged = lease.job.damaged;
    // The thumbnail the check made on the way, handed to `Done`'s report as it is.
    let mut made: Option<Made> = None;
    let mut resume = lease.job.resume.take();
    let lease_ref = &mut lease;
    let mut verify = |part: &Path, format: ImageFormat, hash: &str| {
        // The file is complete: checking it needs no connection, so its slots go to
        // the next download meanwhile (holding them cost 16% on small files).
        lease_ref.free_slots();
        made = Some(verify_on_pool(
            shared,
            id,
            part,
            format,
            hash,
            keep_if_damaged,
        )?);
        Ok(())
    };
    let result = fetch::download(
        &shared.client,
        &url,
        asker,
        &shared.out,
        limits,
        &stop,
        &mut resume,
        &mut verify,
        |p| match p {
            Progress::Started { total: t } => {
                total = t;
                events.send(Event::Started { id, total: t });
            }
            Progress::Part(part) => shared.record(|lib| lib.set_part(id, Some(&part))),
            Progress::Bytes(bytes) => {
                if last_progress.elapsed() >= shared.config.progress_interval {
                    last_progress = Instant::now();
                    events.send(Event::Progress { id, bytes, total });
                }
            }
        },
    );
    lease.job.resume = resume;
    settle_attempt(shared, lease, result, made, settled);
}

/// What an attempt's outcome makes of its item: done (published, reported with the
/// thumbnail the check made), cancelled, paused, tried again (after a damaged copy, a
/// transient failure, or a write error that pauses the run), or failed for good.
fn settle_attempt(
    shared: &Arc<Shared>,
    mut lease: crate::engine::scheduler::Lease<'_>,
    result: Result<Downloaded, Stopped>,
    mut made: Option<Made>,
    settled: &std::cell::Cell<bool>,
) {
    let id = lease.job.id;
    let events = &shared.events;
    let config = &shared.config;
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
            events.send(Event::Retrying {
                id,
                attempt: lease.job.attempts + 1,
                delay,
                reason,
            });
            settled.set(true);
            let returned = shared.scheduler.retry(lease, delay, false);
            settle_returned(shared, id, returned);
        }
        Err(Stopped::Failed(FetchError::Disk(problem))) => {
            // Nothing is lost on a full or failing disk: the part stays (to continue
            // with Range), the item waits in the queue, and no new download starts
            // until the user resumes (or, for the CLI, until the next run).
            settled.set(true);
            if let Some(record) = lease.job.resume.as_ref().map(Resume::record) {
                shared.record(|lib| lib.set_part(id, Some(&record)));
            }
            let returned = shared.scheduler.requeue_on_hold(lease);
            if matches!(returned, Returned::Queued) {
                events.send(Event::Requeued { id });
            }
            settle_returned(shared, id, returned);
            events.send(Event::Paused {
                reason: pause_reason(format!("could not write to the output folder: {problem}")),
            });
        }
        Err(Stopped::Failed(reason))
            if reason.is_retryable()
                && reason
                    .retry_after()
                    .is_none_or(|asked| asked <= config.max_retry_wait)
                && lease.job.attempts <= config.retries
                && (!matches!(reason, FetchError::Stalled(_))
                    || lease.job.stalls < config.stall_retries) =>
        {
            if matches!(reason, FetchError::Stalled(_)) {
                lease.job.stalls += 1;
            }
            let delay = backoff(config, lease.job.attempts, &reason);
            let attempt = lease.job.attempts + 1;
            let cool_down = reason.is_host_overloaded();
            events.send(Event::Retrying {
                id,
                attempt,
                delay,
                reason,
            });
            settled.set(true);
            let returned = shared.scheduler.retry(lease, delay, cool_down);
            settle_returned(shared, id, returned);
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

/// What the user reads when a write error holds the downloads: `problem` as it is,
/// led by "the disk is full" when its text says so (the OS's "No space left on
/// device", SQLite's "database or disk is full", a quota).
fn pause_reason(problem: String) -> String {
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

/// Finishes what [`Scheduler::retry`], [`Scheduler::requeue_on_hold`] or
/// [`Scheduler::park`] did not queue: an item held (paused), cancelled while its attempt
/// ended, or left at shutdown.
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

/// Checks a complete part by decoding it on the thumbnail pool (the thumbnail made on
/// the way is cached, so publishing costs no second decode) and waits for the verdict.
/// Damaged (cut or corrupt) is an `Err`; with `keep`, the bytes are first put aside in
/// `OUT/.pixgrab/damaged/ID-NAME` for "Keep anyway". Any other reason for no preview
/// (an unsupported format, too large) is not damage: the file is published.
fn verify_on_pool(
    shared: &Arc<Shared>,
    id: ItemId,
    part: &Path,
    format: ImageFormat,
    hash: &str,
    keep: bool,
) -> Result<Made, FetchError> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let (pool_shared, path, hash_owned) = (shared.clone(), part.to_path_buf(), hash.to_string());
    shared.thumbs.spawn_fifo(move || {
        let _ = tx.send(guarded_thumbnail(&pool_shared, &path, format, &hash_owned));
    });
    let made = rx
        .recv()
        .unwrap_or_else(|_| Err(ThumbError::Internal("the thumbnail pool stopped".into())));
    match made {
        Err(e) if e.is_damage() => {
            if keep {
                let name = part
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let name = name
                    .strip_suffix(crate::disk::store::PART_SUFFIX)
                    .unwrap_or(&name);
                // A copy that cannot be kept costs the user the choice, not the run.
                let _ = shared
                    .out
                    .keep_aside(part, "damaged", &format!("{}-{name}", id.0));
            }
            Err(FetchError::Damaged {
                reason: e.to_string(),
                preview: e.preview().cloned(),
            })
        }
        other => Ok(other),
    }
}

/// See [`EngineHandle::keeper`].
fn keep_damaged(shared: &Arc<Shared>, id: ItemId) -> Result<PathBuf, String> {
    let record = shared
        .library()
        .find(&[id], &[ItemState::Failed])
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("this item has not failed")?;
    let dir = shared.out.data_dir("damaged").map_err(|e| e.to_string())?;
    let prefix = format!("{}-", id.0);
    let kept = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && crate::disk::naming::is_safe_component(n))
        .min()
        .ok_or("no damaged copy of this item was kept")?;
    let name = &kept[prefix.len()..];
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "bin"));
    let format = ImageFormat::from_extension(ext).unwrap_or(ImageFormat::Jpeg);
    let from = dir.join(&kept);
    let sha256 = fetch::sha256_file(&from).map_err(|e| e.to_string())?;
    let path = shared
        .out
        .adopt(&from, stem, ext)
        .map_err(|e| format!("could not keep it: {e}"))?;
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let url = Url::parse(&record.url).map_err(|e| e.to_string())?;
    let final_url = record
        .final_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .unwrap_or(url);
    let why = record.error.clone().unwrap_or_default();
    let why = why.strip_prefix("damaged: ").unwrap_or(&why).to_string();
    shared
        .library()
        .set_done(
            id,
            &DoneRecord {
                final_url: final_url.as_str(),
                file: &file,
                bytes,
                sha256: &sha256,
                dimensions: None,
                format: format.extension(),
                content_type: record.content_type.as_deref(),
                duplicate_of: None,
            },
        )
        .map_err(|e| e.to_string())?;
    let info = DoneInfo {
        path: path.clone(),
        bytes,
        format,
        content_type: record.content_type,
        dimensions: None,
        sha256,
        final_url,
        duplicate_of: None,
        restored: false,
    };
    shared.events.enter(1);
    shared.events.send(Event::Requeued { id });
    report_done(shared, id, info, Some(Err(ThumbError::Corrupt(why))));
    Ok(path)
}

/// What the check before publishing made: the thumbnail (and its cache file), or why
/// there is none (for a reason other than damage).
type Made = Result<(Thumbnail, Option<PathBuf>), ThumbError>;

/// Records a finished download (recognising a duplicate of a file already in the
/// library), reports it and hands it to the thumbnail pool.
fn finish_download(shared: &Arc<Shared>, id: ItemId, done: Downloaded, made: Option<Made>) {
    let dimensions = thumbs::dimensions(&done.path, done.format);
    let mut info = DoneInfo {
        path: done.path,
        bytes: done.bytes,
        format: done.format,
        content_type: done.content_type,
        dimensions,
        sha256: done.sha256,
        final_url: done.final_url,
        duplicate_of: None,
        restored: false,
    };
    shared.record(|lib| {
        // Look up and record under one lock, so two identical files finishing at the
        // same moment cannot both be stored.
        // Only ever drop the new file when another file on disk holds the same bytes
        // right now: the library's record may name a file the user deleted or edited,
        // or the very path the new file was just published under.
        if let Some((other, file)) = lib.find_done_by_hash(&info.sha256, id)?
            && crate::disk::naming::is_safe_component(&file)
        {
            let existing = shared.out.root().join(&file);
            let same_bytes = existing != info.path
                && std::fs::symlink_metadata(&existing).is_ok_and(|m| m.is_file())
                && fetch::sha256_file(&existing).is_ok_and(|h| h == info.sha256);
            if same_bytes && shared.out.remove_published(&info.path).is_ok() {
                info.path = existing;
                info.duplicate_of = Some(other);
            }
        }
        let file = info
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        lib.set_done(
            id,
            &DoneRecord {
                final_url: info.final_url.as_str(),
                file: &file,
                bytes: info.bytes,
                sha256: &info.sha256,
                dimensions: info.dimensions,
                format: info.format.extension(),
                content_type: info.content_type.as_deref(),
                duplicate_of: info.duplicate_of,
            },
        )
    });
    report_done(shared, id, info, made);
}

/// Sends `Done` and queues the thumbnail (made, or loaded from the cache).
fn report_done(shared: &Arc<Shared>, id: ItemId, info: DoneInfo, made: Option<Made>) {
    let path = info.path.clone();
    let format = info.format;
    let hash = info.sha256.clone();
    shared.events.send(Event::Done { id, info });
    let thumbnail_event = move |made: Made| match made {
        Ok((thumb, cached)) => Event::Thumbnail {
            id,
            thumb: Arc::new(thumb),
            cached,
        },
        Err(reason) => Event::ThumbnailFailed { id, reason },
    };
    // Made already by the check before publishing: no second decode.
    if let Some(made) = made {
        shared.events.settle(thumbnail_event(made));
        return;
    }
    let pool_shared = shared.clone();
    shared.thumbs.spawn_fifo(move || {
        let made = guarded_thumbnail(&pool_shared, &path, format, &hash);
        pool_shared.events.settle(thumbnail_event(made));
    });
}

/// [`thumbnail`] on the pool: a panic in a decoder must not abort the process (rayon's
/// default for a spawned job) nor leave the item unsettled: it is a failed thumbnail.
fn guarded_thumbnail(shared: &Shared, path: &Path, format: ImageFormat, hash: &str) -> Made {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        thumbnail(shared, path, format, hash)
    }))
    .unwrap_or_else(|panic| Err(ThumbError::Internal(panic_text(panic.as_ref()))))
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
