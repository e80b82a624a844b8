//! The engine: queue URLs, download them on I/O worker threads, make thumbnails on
//! a CPU pool, and report everything as [`Event`]s on a channel.
//!
//! Data flows one way: [`Command::Add`](commands::Command::Add) → library → scheduler
//! → download worker (fetch → verify → store) → library → thumbnail pool → event
//! channel. Nothing in the engine ever waits for the receiver of events (the channel
//! is unbounded and only a wake-up callback is called), so a slow UI can never stall a
//! download.
//!
//! Every state change is committed to the folder's [`Library`] before it is reported,
//! and an engine starts by restoring the library: done items come back with their
//! thumbnails (from the cache), failed ones with their reasons, queued and paused ones
//! with their part files, to be continued with `Range`.

pub(crate) mod adapt;
mod add;
pub(crate) mod commands;
mod config;
mod events;
mod find;
pub(crate) mod folder;
mod inline;
mod priority;
mod publish;
mod restore;
pub(crate) mod scheduler;
mod similar;
mod watch;
mod worker;

use config::build_client;
use events::Events;
pub use events::{DoneInfo, Event};
pub use find::Finder;
use find::Prefetched;
pub use find::{MAX_PROBES, PROBE_BYTES, PageImages, Probe, Via, Want, wants};
use publish::keep_damaged;
pub use similar::SimilarGroups;
pub(crate) use similar::similar_groups;
pub use watch::WatchCaps;
use worker::{download_worker, pause_reason};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Receiver;
use url::Url;

use crate::disk::library::{ItemState, Library, LibraryError, Record};
use crate::disk::store::OutputDir;
use crate::disk::template::NameTemplate;
use crate::engine::scheduler::{Job, Paused, Scheduler};
use crate::error::EngineError;
use crate::net::client::Http;
use crate::net::fetch::FetchLimits;
use crate::net::pacer::Pacer;
use crate::net::profile::Profiles;

pub use crate::item::ItemId;
pub(crate) use config::Waker;
pub use config::{Config, DEFAULT_JOBS, MAX_JOBS, MAX_PER_HOST, install_tls_provider};

struct Shared {
    config: Config,
    out: OutputDir,
    /// The HTTP clients and the private-address rule.
    http: Http,
    scheduler: Scheduler,
    events: Events,
    thumbs: rayon::ThreadPool,
    thumb_cache: Option<PathBuf>,
    library: Mutex<Library>,
    pacer: Arc<Pacer>,
    profiles: RwLock<Arc<Profiles>>,
    /// How finished files are named (starts as the config's; the window may change it).
    name_template: RwLock<Arc<NameTemplate>>,
    /// Raised by every new Find: size probes of an earlier one stop.
    find_generation: AtomicUsize,
    /// Whole files a Find fetched, for the downloads that may follow.
    prefetched: Prefetched,
    /// Inline images (`data:` URLs) waiting to be saved, by short form.
    inline: inline::Inline,
    /// Wakes or stops the watch thread.
    watch: watch::Signal,
    /// Raised when the engine stops: a gallery-dl listing under way is stopped.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// Held by a download from publishing its file to recording it as done.
    publishing: Mutex<()>,
}

impl Shared {
    fn profiles(&self) -> Arc<Profiles> {
        self.profiles
            .read()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    fn name_template(&self) -> Arc<NameTemplate> {
        self.name_template
            .read()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    fn limits(&self) -> FetchLimits {
        FetchLimits {
            max_bytes: self.config.max_bytes,
            stall_timeout: self.config.stall_timeout,
            pacer: Some(self.pacer.clone()),
            deadline: None,
        }
    }

    fn library(&self) -> MutexGuard<'_, Library> {
        // Each library call is one transaction; a panic mid-call leaves SQLite consistent.
        self.library.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the work outside the engine at once: a gallery-dl listing, and the watches.
    fn interrupt(&self) {
        self.stopping.store(true, Ordering::Release);
        self.watch.stop();
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
        let http = client_on_its_thread(&config)?;
        let thumbs = thumb_pool(&config)?;
        // A thumbnail cache that cannot be created only costs speed.
        let thumb_cache = out.data_dir("thumbs").ok();
        let data_root = out.data_root().map_err(|source| EngineError::OutputDir {
            path: config.out_dir.clone(),
            source,
        })?;
        let library = Library::open(&data_root, config.sync_files)?;
        let records = library.all()?;
        // Items restored from the library are judged by where their pages were read
        // from, as before the restart.
        for (page, private) in library
            .page_origins(crate::net::netguard::MAX_PAGES)
            .unwrap_or_default()
        {
            http.guard.learn_page(&page, private);
        }
        let (tx, rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            scheduler: Scheduler::new(config.jobs, config.per_host),
            events: Events {
                tx,
                waker: config.waker.clone(),
                outstanding: AtomicUsize::new(0),
            },
            out,
            http,
            thumbs,
            thumb_cache,
            library: Mutex::new(library),
            pacer: Arc::new(Pacer::new(config.bandwidth)),
            profiles: RwLock::new(Arc::new(config.profiles.clone())),
            name_template: RwLock::new(Arc::new(config.name_template.clone())),
            find_generation: AtomicUsize::new(0),
            prefetched: Prefetched::default(),
            inline: inline::Inline::default(),
            watch: watch::Signal::default(),
            stopping: Arc::default(),
            publishing: Mutex::new(()),
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
        restore::restore(&handle.shared, records);
        if handle.shared.config.run_watches {
            handle.start_watching()?;
        }
        Ok((handle, rx))
    }
}

/// The HTTP clients, built on a thread of their own: reqwest's blocking client runs its
/// connections on a thread that takes the priority of the thread that builds it.
fn client_on_its_thread(config: &Config) -> Result<Http, EngineError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("pixgrab-client".into())
            .spawn_scoped(scope, || {
                priority::enter(config.background_priority);
                build_client(config)
            })
            .map_err(EngineError::Threads)?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The thumbnail pool: one thread per core unless the config says how many.
fn thumb_pool(config: &Config) -> Result<rayon::ThreadPool, EngineError> {
    let thumb_threads = match config.thumb_threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let background = config.background_priority;
    rayon::ThreadPoolBuilder::new()
        .num_threads(thumb_threads)
        .thread_name(|i| format!("pixgrab-thumb-{i}"))
        .start_handler(move |_| priority::enter(background))
        .build()
        .map_err(|e| EngineError::Threads(std::io::Error::other(e.to_string())))
}

impl EngineHandle {
    /// Carries out [`Command::Retry`](commands::Command::Retry): returns the items that
    /// went back to the queue.
    fn requeue(&self, ids: &[ItemId]) -> Result<Vec<ItemId>, EngineError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let records = self
            .shared
            .library()
            .find(ids, &[ItemState::Failed, ItemState::Cancelled])?;
        let mut jobs = Vec::new();
        for r in records {
            if let Ok(url) = Url::parse(&r.url) {
                jobs.push(Job::from_record(&r, Arc::new(url)));
            }
        }
        let ids: Vec<ItemId> = jobs.iter().map(|j| j.id).collect();
        self.shared.library().set_states(&ids, ItemState::Queued)?;
        self.requeued(&ids);
        self.shared.scheduler.push(jobs);
        Ok(ids)
    }

    /// Carries out [`Command::RetryFailed`](commands::Command::RetryFailed): returns the
    /// items queued again.
    fn retry_failed(&self) -> Result<Vec<ItemId>, EngineError> {
        let failed = self.shared.library().ids_in_state(ItemState::Failed)?;
        self.requeue(&failed)
    }

    fn requeued(&self, ids: &[ItemId]) {
        let events = &self.shared.events;
        events.enter(ids.len());
        for &id in ids {
            events.send(Event::Requeued { id });
        }
    }

    /// Carries out [`Command::Pause`](commands::Command::Pause).
    fn pause(&self, ids: &[ItemId]) {
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

    /// Carries out [`Command::PauseAll`](commands::Command::PauseAll).
    fn pause_all(&self) {
        let ids = self.shared.scheduler.active_ids();
        self.pause(&ids);
    }

    /// Carries out [`Command::Resume`](commands::Command::Resume): returns the items queued
    /// again.
    fn resume(&self, ids: &[ItemId]) -> Vec<ItemId> {
        let jobs = self.shared.scheduler.take_held(ids);
        let resumed: Vec<ItemId> = jobs.iter().map(|j| j.id).collect();
        self.shared
            .record(|lib| lib.set_states(&resumed, ItemState::Queued));
        // Reported before a worker can pick them up, so `Requeued` precedes `Started`.
        self.requeued(&resumed);
        self.shared.scheduler.push(jobs);
        resumed
    }

    /// Carries out [`Command::ResumeAll`](commands::Command::ResumeAll): returns the items
    /// queued again.
    fn resume_all(&self) -> Vec<ItemId> {
        self.shared.scheduler.release_hold();
        let held = self.shared.scheduler.held_ids();
        self.resume(&held)
    }

    /// Carries out [`Command::MoveToTop`](commands::Command::MoveToTop).
    fn move_to_top(&self, ids: &[ItemId]) -> Result<(), EngineError> {
        let ranks = self.shared.library().move_to_top(ids)?;
        let pairs: Vec<(ItemId, i64)> = ids.iter().copied().zip(ranks).collect();
        self.shared.scheduler.rerank(&pairs);
        self.shared
            .events
            .send(Event::MovedToTop { ids: ids.to_vec() });
        Ok(())
    }

    /// Changes the number of concurrent downloads, in all and per host, while running.
    pub fn set_limits(&self, jobs: usize, per_host: Option<usize>) -> Result<(), EngineError> {
        let jobs = jobs.clamp(1, MAX_JOBS);
        self.spawn_workers(jobs)?;
        self.shared.scheduler.set_limits(jobs, per_host);
        Ok(())
    }

    /// Sets the least time between two requests to one host.
    pub fn set_host_interval(&self, interval: Duration) {
        self.shared.scheduler.set_min_interval(interval);
    }

    /// Carries out [`Command::Trash`](commands::Command::Trash).
    fn trash(&self, ids: &[ItemId]) -> Result<(), EngineError> {
        for &id in ids {
            let Some((file, shared)) = self.shared.library().done_file(id)? else {
                continue;
            };
            if !shared {
                self.shared
                    .out
                    .trash(&file, self.shared.config.trash_dir.as_deref())
                    .map_err(|source| EngineError::Trash {
                        file: file.clone(),
                        source,
                    })?;
            }
            self.shared.library().set_state(id, ItemState::Removed)?;
            self.shared.events.send(Event::Removed {
                id,
                kept_file: shared,
            });
        }
        Ok(())
    }

    /// Replaces the file-name template for files finished from now on.
    pub fn set_name_template(&self, template: NameTemplate) {
        if let Ok(mut guard) = self.shared.name_template.write() {
            *guard = Arc::new(template);
        }
    }

    /// Replaces the request profiles (User-Agent, Referer, headers, cookies by host);
    /// requests that start from now on use them.
    pub fn set_profiles(&self, profiles: Profiles) {
        if let Ok(mut guard) = self.shared.profiles.write() {
            *guard = Arc::new(profiles);
        }
    }

    /// Reads web pages and probes image sizes with this engine's client, request
    /// profiles and per-host limit ([`Finder::find_images`], [`Finder::probe`]): a
    /// handle that can move to another thread.
    pub fn finder(&self) -> Finder {
        Finder {
            shared: self.shared.clone(),
        }
    }

    /// Changes when page-caused requests may go to private addresses.
    pub fn set_private_rule(&self, rule: crate::net::netguard::PrivateRule) {
        self.shared.http.guard.set_rule(rule);
    }

    /// `page` was read by someone else (the browser), not by Pixgrab: the requests its
    /// images cause count it private only when its address is a private literal or
    /// `localhost`, never by what its name resolves to (a name that rebinds to a private
    /// address cannot open the private network), as for a page gallery-dl listed. Cheap:
    /// no lookup, no I/O. Kept for this run.
    pub fn page_seen_elsewhere(&self, page: &Url) {
        let private = crate::net::netguard::is_private_literal(page);
        self.shared.http.guard.learn_page(page, private);
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

    /// A job that finds the folder's groups of similar images (hashing files done before
    /// hashes were made). It reads files: run it off the UI thread.
    pub fn similar_finder(
        &self,
    ) -> impl FnOnce() -> Result<Vec<Vec<ItemId>>, String> + Send + 'static {
        let shared = self.shared.clone();
        move || {
            let found =
                similar_groups(&shared.library(), shared.out.root()).map_err(|e| e.to_string())?;
            Ok(found
                .groups
                .into_iter()
                .map(|g| g.into_iter().map(|(id, _)| id).collect())
                .collect())
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
                .spawn(move || {
                    priority::enter(shared.config.background_priority);
                    download_worker(&shared)
                })
                .map_err(EngineError::Threads)?;
            workers.push(worker);
        }
        Ok(())
    }

    /// Cancels one item, for [`Command::Cancel`](commands::Command::Cancel).
    fn cancel(&self, id: ItemId) {
        if let Some((job, held)) = self.shared.scheduler.cancel(id) {
            self.cancelled(job, held);
        }
    }

    /// Carries out [`Command::CancelAll`](commands::Command::CancelAll).
    fn cancel_all(&self) {
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

    /// A handle for one of the engine's own threads: dropping it stops nothing.
    fn helper(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            workers: Arc::clone(&self.workers),
            commands: commands::Commands::default(),
            owner: false,
        }
    }

    /// A function another thread (a signal handler) may call to stop the engine's work
    /// outside itself at once: a gallery-dl listing under way is stopped (within 50 ms)
    /// and no watch check starts. [`EngineHandle::shutdown`] still ends the rest.
    pub fn interrupter(&self) -> impl Fn() + Send + Sync + 'static {
        let shared = self.shared.clone();
        move || shared.interrupt()
    }

    fn stop(&self) {
        self.shared.interrupt();
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
