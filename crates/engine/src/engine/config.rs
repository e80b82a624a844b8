//! How an engine runs: [`Config`] and the bounds the front ends offer.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::{WatchCaps, adapt};
use crate::disk::template::NameTemplate;
use crate::error::EngineError;
use crate::imaging::thumbs;
use crate::net::client::{ClientSettings, Http};
use crate::net::profile::Profiles;

/// A function the engine calls after sending events, e.g. `egui::Context::request_repaint`.
pub(crate) type Waker = Arc<dyn Fn() + Send + Sync>;

/// How an engine runs.
#[derive(Clone)]
pub struct Config {
    /// Where files go (created if missing).
    pub out_dir: PathBuf,
    /// Concurrent downloads in all (download worker threads).
    pub jobs: usize,
    /// Concurrent downloads per `host:port`, fixed; `None` (the default): adaptive per
    /// host (the engine's `adapt` module), from 4 at once up to 16 connections (48
    /// streams over HTTP/2) as the host answers, and never above `jobs`.
    pub per_host: Option<usize>,
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
    /// How finished files are named (`{name}.{ext}` by default; see the
    /// `disk::template` module); [`EngineHandle::set_name_template`] changes it.
    ///
    /// [`EngineHandle::set_name_template`]: crate::EngineHandle::set_name_template
    pub name_template: NameTemplate,
    /// Where [`Command::Trash`](crate::Command::Trash) moves files: `None`, the
    /// desktop's trash (the `trash` crate: the freedesktop.org trash on Linux, the
    /// Recycle Bin, the macOS Trash); a folder, there (tests use one so they never
    /// touch the user's trash).
    pub trash_dir: Option<PathBuf>,
    /// Run the engine's threads (downloads, checks, thumbnails, commands) at a lower
    /// priority than the process's others, so a window on the same cores stays smooth.
    pub background_priority: bool,
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
    /// Longest a page read may take in all (headers, redirects and body), whatever the
    /// server does (60 s).
    pub page_deadline: Duration,
    /// Longest a size probe may take in all (20 s).
    pub probe_deadline: Duration,
    /// Whether watched pages (see [`Command::Watch`](super::commands::Command::Watch)) are
    /// checked while the engine runs (the window: yes; the CLI: with `--watch`).
    pub run_watches: bool,
    /// The shortest interval a watch may have (a minute; tests use less).
    pub min_watch_interval: Duration,
    /// How much a watch may queue before it pauses (see [`WatchCaps`]).
    pub watch_caps: WatchCaps,
    /// Whether "Find images" asks gallery-dl for a page's media before reading its HTML.
    pub gallery_dl: crate::input::gallery_dl::Setting,
    /// For tests: ask gallery-dl through its generic extractor (which lists any page's
    /// images, served on port 80).
    pub gallery_dl_generic: bool,
    /// Called after events are sent (throttling is the callee's business).
    pub waker: Option<Waker>,
    /// Called by the download worker at the start of every attempt, with the URL. For
    /// tests: one that panics proves a bug in a job cannot hang the run.
    pub fault_hook: Option<FaultHook>,
    /// For tests: every `add` waits this long before it writes the library (a slow
    /// disk), to show that a front end using
    /// [`EngineHandle::send`](crate::EngineHandle::send) never waits on it.
    pub library_delay: Option<Duration>,
}

/// See [`Config::fault_hook`].
pub(crate) type FaultHook = Arc<dyn Fn(&Url) + Send + Sync>;

impl Config {
    /// Sensible defaults for an output folder.
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            jobs: DEFAULT_JOBS,
            per_host: None,
            thumb_side: thumbs::DEFAULT_THUMB_SIDE,
            max_bytes: 1 << 30,
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(15),
            progress_interval: Duration::from_millis(200),
            thumb_threads: 0,
            background_priority: false,
            name_template: NameTemplate::default(),
            trash_dir: None,
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
            page_deadline: Duration::from_secs(60),
            probe_deadline: Duration::from_secs(20),
            run_watches: false,
            min_watch_interval: Duration::from_secs(60),
            watch_caps: WatchCaps::default(),
            gallery_dl: crate::input::gallery_dl::Setting::Auto,
            gallery_dl_generic: false,
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

/// Most download worker threads an engine will run (the most `--jobs` and the window
/// allow).
pub const MAX_JOBS: usize = 256;

/// The most concurrent downloads per host that `--per-host` and the window allow.
pub const MAX_PER_HOST: usize = 64;

/// Download worker threads by default: enough for an HTTP/2 host's streams
/// (48, `adapt::H2_CAP`) or several HTTP/1.1 hosts at their cap.
pub const DEFAULT_JOBS: usize = adapt::H2_CAP;

/// Installs the process-wide rustls crypto provider (`ring`, which builds without cmake
/// or nasm). The engine calls it itself; call it before building any other reqwest client.
pub fn install_tls_provider() {
    // Err means one is installed already, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(super) fn build_client(config: &Config) -> Result<Http, EngineError> {
    Http::build(&ClientSettings {
        connect_timeout: config.connect_timeout,
        stall_timeout: config.stall_timeout,
        idle_per_host: config.per_host.unwrap_or(adapt::H1_CAP).clamp(1, MAX_JOBS),
        proxy: config.proxy.as_deref(),
        resolve: &config.resolve,
        rule: config.private,
        lanes: adapt::H2_CONNS,
    })
    .map_err(EngineError::Client)
}
