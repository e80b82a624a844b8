//! The command line's grammar: the window's options and every subcommand's, as clap
//! reads them (what `--help` shows). The subcommands' modules read these fields; the
//! value types with their own syntax are in `values`, the request options in `request`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use pixgrab_engine::DEFAULT_THUMB_SIDE;
use pixgrab_engine::NameTemplate;

use super::request::RequestArgs;
use super::values::{Interval, MinSize, Rate};

/// Download many images at once and watch their thumbnails arrive.
#[derive(Debug, Parser)]
#[command(
    name = "pixgrab",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Args {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// Serve sample images from this computer and fill the URL box with them.
    #[arg(long)]
    pub(crate) demo: bool,
    /// Number of sample images for --demo.
    #[arg(long, value_name = "N", default_value_t = pixgrab_testsite::demo::DEFAULT_COUNT, requires = "demo")]
    pub(crate) demo_count: usize,
    /// Output folder for this session (default: the one chosen last time).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Image URLs to add (any text containing URLs): to the window already running if
    /// there is one, else to a new window's URL box.
    #[arg(value_name = "URL")]
    pub(crate) urls: Vec<String>,
    /// A page whose images to pick from (as "Find images" does); repeatable. Goes to
    /// the window already running if there is one.
    #[arg(long = "page", value_name = "URL")]
    pub(crate) pages: Vec<String>,
    /// Add the image URLs on the clipboard, as if given here.
    #[arg(long)]
    pub(crate) from_clipboard: bool,
    /// Queue the URLs at once instead of leaving them in the URL box to check first.
    #[arg(long)]
    pub(crate) queue: bool,
    /// Press Download at once; when all items finish, save a screenshot to FILE and exit.
    #[arg(long, value_name = "FILE", hide = true)]
    pub(crate) autorun_screenshot: Option<PathBuf>,
    /// With --autorun-screenshot: once half the items are done, sort the gallery by
    /// this (name, size, pixels, host) and show only downloaded ones (the frame-time
    /// benchmark of a sort and filter switched mid-run).
    #[arg(
        long,
        value_name = "SORT",
        hide = true,
        requires = "autorun_screenshot"
    )]
    pub(crate) autorun_sort: Option<String>,
}

/// The subcommands; without one, the window opens.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Download images without a window.
    Get(Box<GetArgs>),
    /// Make thumbnails of image files already on disk.
    Thumbs(ThumbsArgs),
    /// Write an output folder's library (every item and its state) as CSV or JSON.
    Export(ExportArgs),
    /// List a page's images with their pixel sizes, types and bytes, fetching only the
    /// first bytes of each.
    Find(FindArgs),
    /// Groups of near-duplicate images (resized, recompressed, lightly cropped) in an
    /// output folder.
    Similar(SimilarArgs),
    /// Write the manifests that let the Pixgrab browser extension talk to this
    /// pixgrab (Chromium, Chrome, Brave, Edge, Firefox), in your configuration.
    InstallBrowserHost(InstallHostArgs),
    /// Speak the browsers' native-messaging protocol on stdin/stdout (the browser
    /// starts this itself; see `install-browser-host`).
    NativeHost,
    /// Write the man pages and shell completions (bash, zsh, fish) into DIR (for
    /// packagers; `assets/generated/` holds the current ones).
    #[command(hide = true)]
    PackageAssets {
        /// The folder to write into (made if missing).
        dir: PathBuf,
    },
}

/// Options of `pixgrab install-browser-host`.
#[derive(Debug, clap::Args)]
pub(crate) struct InstallHostArgs {
    /// Remove the manifests instead.
    #[arg(long)]
    pub(super) uninstall: bool,
}

/// Options of `pixgrab get`.
#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// URLs to download (any text containing URLs is fine).
    #[arg(value_name = "URL")]
    pub(super) urls: Vec<String>,
    /// Read URLs from a text or HTML file ('-' for stdin); repeatable.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub(super) inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = "pixgrab-downloads")]
    pub(super) out: PathBuf,
    /// Concurrent downloads in all.
    #[arg(short, long, value_name = "N", default_value_t = pixgrab_engine::DEFAULT_JOBS as u16, value_parser = clap::value_parser!(u16).range(1..=pixgrab_engine::MAX_JOBS as i64))]
    pub(super) jobs: u16,
    /// Concurrent downloads per host, fixed. Without it each host's limit adapts: it
    /// starts at 4, grows while the host answers quickly (up to 16, or 48 streams over
    /// HTTP/2) and shrinks at once on 429/503, resets, timeouts or slow answers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=pixgrab_engine::MAX_PER_HOST as i64))]
    pub(super) per_host: Option<u16>,
    /// How to name the files: fields {name} {ext} {host} {num} {num:03} {page} {date}
    /// {sha8} {width} {height}; '/' makes subfolders, e.g. "{host}/{num:03}-{name}.{ext}".
    /// Checked before any request: an unknown field, '..' or an absolute path is refused.
    #[arg(long = "name", value_name = "TEMPLATE", default_value = NameTemplate::DEFAULT, value_parser = NameTemplate::parse)]
    pub(super) name_template: NameTemplate,
    /// Print one JSON object per event on stdout instead of the progress display.
    #[arg(long)]
    pub(super) json: bool,
    /// Flush every file to disk before it gets its final name (survives power loss; slower).
    #[arg(long)]
    pub(super) fsync: bool,
    /// Overall bandwidth limit, e.g. 500k, 2M, 1.5M (bytes per second).
    #[arg(long, value_name = "RATE")]
    pub(super) limit_rate: Option<Rate>,
    /// Least time between two requests to the same host, in milliseconds (politeness).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub(super) host_interval_ms: u64,
    /// A web page whose images to download: what gallery-dl lists for it when it knows
    /// the site (see --gallery-dl), else what its HTML shows (img, srcset, links to
    /// images, og:image, noscript, JSON-LD, style backgrounds); repeatable. Each image
    /// gets the page as its Referer (see --referer-policy).
    #[arg(long, value_name = "URL")]
    pub(super) page: Vec<String>,
    /// With --page: download the largest variant of each picture on the page, and only
    /// if it is at least this large, e.g. 800x600. Each image is probed for its first
    /// bytes first; one whose size cannot be learned is left out (and counted). Not with
    /// --watch.
    #[arg(long, value_name = "WxH", requires = "page")]
    pub(super) min_size: Option<MinSize>,
    /// With --page: keep running and read each page again every INTERVAL (10m, 1h, 1d:
    /// a unit is needed; at least 1m, give or take a tenth), downloading only images it
    /// shows for the first time (the largest variant of each picture). A page that fails
    /// is tried again later and later (up to a day). Watches are kept in the folder's
    /// library: the window goes on with them, and so does any later `get --watch` on
    /// that folder. Not with --min-size (a watch keeps no size filter). Ctrl+C stops.
    #[arg(
        long,
        value_name = "INTERVAL",
        requires = "page",
        conflicts_with = "min_size"
    )]
    pub(super) watch: Option<Interval>,
    /// How requests are made (headers, cookies, proxy, ...).
    #[command(flatten)]
    pub(super) request: RequestArgs,
    /// Seconds without a byte after which an attempt counts as stalled.
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(super) timeout: u64,
    /// Further attempts after a failure that may pass (5xx, 429, resets; a stall is
    /// retried at most once).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub(super) retries: u32,
}

/// Options of `pixgrab find`.
#[derive(Debug, clap::Args)]
pub(crate) struct FindArgs {
    /// Pages whose images to list.
    #[arg(value_name = "URL", required = true)]
    pub(super) pages: Vec<String>,
    /// One JSON object per image on stdout: url, width, height, bytes, type, found, page
    /// (and error when the probe learned nothing).
    #[arg(long)]
    pub(super) json: bool,
    /// List only images known to be at least this large, e.g. 800x600 (stderr counts
    /// the smaller ones and those of unknown size).
    #[arg(long, value_name = "WxH")]
    pub(super) min_size: Option<MinSize>,
    /// How requests are made.
    #[command(flatten)]
    pub(super) request: RequestArgs,
}

/// Options of `pixgrab thumbs`.
#[derive(Debug, clap::Args)]
pub(crate) struct ThumbsArgs {
    /// Image files, or folders whose files are all used.
    #[arg(value_name = "FILE_OR_DIR", required = true)]
    pub(super) inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub(super) out: PathBuf,
    /// Longest side of each thumbnail, in pixels.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_THUMB_SIDE, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub(super) size: u32,
}

/// Options of `pixgrab export`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// The output folder whose library to export.
    #[arg(short, long, value_name = "DIR")]
    pub(super) out: PathBuf,
    /// JSON (an array of objects) instead of CSV.
    #[arg(long)]
    pub(super) json: bool,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub(super) to: Option<PathBuf>,
}

/// Options of `pixgrab similar`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimilarArgs {
    /// The output folder whose images to compare.
    #[arg(short, long, value_name = "DIR")]
    pub(super) out: PathBuf,
    /// One JSON object per group: {"group": N, "files": [paths relative to DIR]}.
    #[arg(long)]
    pub(super) json: bool,
}
