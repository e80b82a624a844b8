//! Asking gallery-dl which media a page holds.
//!
//! [gallery-dl](https://github.com/mikf/gallery-dl) knows how hundreds of sites lay out their
//! galleries, logins and APIs. When it is installed we ask it first and fall back to our own HTML
//! reading when it has no extractor for the page ([`GalleryDlError::Unsupported`]).
//!
//! We run `gallery-dl --resolve-json [--cookies FILE] -- URL` (no shell, each argument on its
//! own) and read the JSON it prints on standard output: a list of messages, `[3, url, metadata]`
//! for a file, `[6, url, metadata]` for another page, `[-1, {"error", "message"}]` for a failure.
//! `--resolve-json` (gallery-dl 1.28 and later) follows links into other extractors, so the list
//! is what a plain `gallery-dl URL` would download; older versions reject the option and are asked
//! again with `--dump-json`. The user's gallery-dl configuration is read as usual (logins,
//! cookies, per-site options live there).
//!
//! Facts this relies on (gallery-dl 1.32): exit status 64 means no extractor matched the URL;
//! with `--dump-json` / `--resolve-json` the exit status is 0 even when the page failed (404,
//! connection refused), the failure is a `-1` message in the JSON instead; 1.29.0 and older
//! wrote that failure as `["HttpError", "message"]`. Every call costs about half a second of
//! Python start-up before any network traffic.
//!
//! One job per file: finding the program (`locate`), running it (`run`: arguments,
//! environment, cookies on standard input, waiting), reading its output streams
//! (`pipes`), the streaming JSON parse (`parse`), a file's metadata (`media`) and
//! gallery-dl's error texts (`errors`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use url::Url;

mod errors;
mod locate;
mod media;
mod parse;
mod pipes;
mod run;
#[cfg(test)]
mod tests;

/// The most bytes of gallery-dl's standard output we read for one page; more is an error.
pub(crate) const STDOUT_CAP: usize = 64 << 20;

/// Whether "Find images" asks gallery-dl first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Setting {
    /// When `gallery-dl` is on `PATH` (the default).
    #[default]
    Auto,
    /// Never.
    Off,
    /// This program (a path, or a name looked up on `PATH`).
    Program(PathBuf),
}

impl Setting {
    /// The gallery-dl this setting names, if it is there.
    pub fn locate(&self) -> Option<GalleryDl> {
        match self {
            Self::Auto => GalleryDl::locate(None),
            Self::Off => None,
            Self::Program(path) => GalleryDl::locate(Some(path)),
        }
    }
}

/// What to tell a user who has no gallery-dl.
pub(crate) const INSTALL_HINT: &str = "with gallery-dl installed (pip install gallery-dl), Pixgrab also reads 300+ sites that need special handling";

/// A gallery-dl program found on `PATH` or set by the user.
#[derive(Debug, Clone)]
pub struct GalleryDl {
    program: PathBuf,
    /// Prefix page URLs with `generic:` (gallery-dl's catch-all extractor); for tests.
    generic: bool,
    /// The proxy gallery-dl's own requests go through (Pixgrab's `--proxy`).
    proxy: Option<String>,
    /// Raised when the caller stops (the engine shuts down): gallery-dl is stopped.
    cancel: Option<Arc<AtomicBool>>,
}

/// A file gallery-dl lists for a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the file is (always `http` or `https`).
    pub url: Url,
    /// Width in pixels, when the site told gallery-dl (`width` or `image_width`).
    pub width: Option<u32>,
    /// Height in pixels, when the site told gallery-dl (`height` or `image_height`).
    pub height: Option<u32>,
    /// gallery-dl's name for the file, without extension (`filename`), when it has one.
    pub filename: Option<String>,
    /// gallery-dl's extension for the file, without the dot (`extension`), when it has one.
    pub extension: Option<String>,
}

/// What gallery-dl found on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The files, in gallery-dl's order, each URL once.
    pub media: Vec<Media>,
    /// Other pages the page led to that gallery-dl could not list itself (or, with gallery-dl
    /// before 1.28, did not follow); the caller may read them itself.
    pub pages: Vec<Url>,
    /// Entries left out: not `http`/`https` (such as `ytdl:` or `text:`), or not a URL.
    pub skipped: usize,
    /// Errors gallery-dl reported alongside what it did find (say a failed sub-gallery).
    pub errors: Vec<String>,
}

/// Why gallery-dl could not list a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GalleryDlError {
    /// gallery-dl has no extractor for the page; read it another way.
    #[error("gallery-dl does not support this page")]
    Unsupported,
    /// gallery-dl failed; its own error text, such as
    /// `HttpError: '404 Not Found' for 'https://…'`.
    #[error("gallery-dl: {0}")]
    Failed(String),
    /// gallery-dl took longer than this and was stopped.
    #[error("gallery-dl took longer than {0:?} and was stopped")]
    TimedOut(Duration),
    /// The program could not be started.
    #[error("could not start gallery-dl: {0}")]
    Spawn(String),
}

impl GalleryDl {
    /// For tests: asks through gallery-dl's generic extractor (prefixes page URLs with
    /// `generic:`), which lists the images of any page. It drops the port from the URL, so a
    /// test page must be served on port 80.
    #[must_use]
    pub fn generic(self) -> Self {
        Self {
            generic: true,
            ..self
        }
    }

    /// Sends gallery-dl's own requests through `proxy` (as Pixgrab's are).
    #[must_use]
    pub fn with_proxy(self, proxy: Option<String>) -> Self {
        Self { proxy, ..self }
    }

    /// Stops gallery-dl (and [`list`](Self::list) returns) as soon as `cancel` is raised.
    #[must_use]
    pub fn with_cancel(self, cancel: Arc<AtomicBool>) -> Self {
        Self {
            cancel: Some(cancel),
            ..self
        }
    }

    /// The program this runs.
    pub fn program(&self) -> &Path {
        &self.program
    }
}
