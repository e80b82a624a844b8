//! Pixgrab's engine: everything between "here is some text with URLs in it" and
//! "here are verified image files on disk, with thumbnails". No UI code lives here
//! (nothing in this crate's dependency tree draws a window; CI checks it); the window
//! and the command line are thin layers over [`Engine`].
//!
//! Its parts, bottom up: `error` (reasons for people), `input` (text and pages to
//! URLs), `net` (one request, politely and safely), `disk` (the output folder and
//! the library), `imaging` (what a body is, whether it is whole, its thumbnail), and
//! `engine` (the scheduler and the threads that tie them together). They are private:
//! a front end sees only the names re-exported below. See `ARCHITECTURE.md` for the
//! map and the invariants.

mod disk;
mod engine;
mod error;
mod imaging;
mod input;
mod item;
mod net;

#[cfg(test)]
mod properties;

/// For the fuzz target `jpeg_dc` in `fuzz/` (not an API: may change at any time): the
/// DC-only JPEG decoder on arbitrary bytes.
#[doc(hidden)]
pub fn fuzz_jpeg_dc(data: &[u8]) {
    let _ = crate::imaging::jpeg_dc::decode(data, 1);
    let _ = crate::imaging::jpeg_dc::exif(data);
}

/// For the fuzz target `thumbnail` in `fuzz/` (not an API): sniffing and the whole
/// thumbnail path (decode with limits, shrink) on arbitrary bytes, through a file in
/// `dir` as downloads are.
#[doc(hidden)]
pub fn fuzz_thumbnail(data: &[u8], dir: &std::path::Path) {
    if let crate::imaging::sniff::Sniffed::Image(format) = crate::imaging::sniff::sniff(data) {
        let path = dir.join("input");
        if std::fs::write(&path, data).is_ok() {
            let _ = crate::imaging::thumbs::make_thumbnail(&path, format, 64);
            let _ = crate::imaging::thumbs::dimensions(&path, format);
        }
    }
}

/// For the fuzz target `page` in `fuzz/` (not an API): the candidates page extraction
/// finds in arbitrary text read as the HTML of `page`.
#[doc(hidden)]
pub fn fuzz_page(html: &str, page: &url::Url) -> Vec<Candidate> {
    crate::input::page::extract(html, page)
}

/// For the bench `thumbs` (not an API): the stored text of a thumbnail's perceptual
/// signature, what the engine adds to each download for similar-image groups.
#[doc(hidden)]
pub fn bench_hash_thumbnail(thumb: &Thumbnail) -> Option<String> {
    crate::imaging::similar::hash_thumbnail(thumb)
}

// The front door: everything a front end needs, by name, at the crate root. The front
// ends (the window, the command line and their tests) use only these names.

// Running the engine: start it, configure it, command it, read its events.
pub use engine::commands::Command;
pub use engine::{
    Config, DEFAULT_JOBS, DoneInfo, Engine, EngineHandle, Event, ItemId, MAX_JOBS, MAX_PER_HOST,
    MAX_PROBES, WatchCaps, install_tls_provider,
};
pub use error::{Bytes, EngineError, FetchError, LibraryError, Secs, Span};
pub use imaging::reasons::ThumbError;
pub use item::{ItemState, Stage};

// What goes in: lists of URLs, pages and their images, gallery-dl.
pub use disk::library::import_urls;
pub use engine::{Finder, PROBE_BYTES, PageImages, Probe, Via, Want, wants};
pub use input::gallery_dl::{GalleryDl, GalleryDlError, Setting as GalleryDlSetting};
pub use input::intake::{Intake, Rejected, parse as read_urls};
pub use input::page::{
    Candidate, MAX_CANDIDATES, Source as CandidateSource, largest_of_each, largest_urls,
    looks_like_image,
};

// How requests are made: per-site profiles and the private-address rule.
pub use net::fetch::certificate_reason;
pub use net::netguard::PrivateRule;
pub use net::profile::{
    Cookie, Profile, Profiles, RefererPolicy, parse_cookies_txt, parse_header, split_scope,
};

// Where files go: file-name templates, watched pages.
pub use disk::library::{Watch, unix_now_ms};
pub use disk::store::DATA_DIR;
pub use disk::template::{FIELDS as TEMPLATE_FIELDS, NameTemplate, TemplateError, preview};

// Pictures: thumbnails, formats, a photo's date and camera.
pub use imaging::exif::{PhotoInfo, photo_info};
pub use imaging::sniff::{ImageFormat, SNIFF_LEN, Sniffed, sniff, sniff_with_hints};
pub use imaging::thumbs::{DEFAULT_THUMB_SIDE, Thumbnail, decode_cached, make_thumbnail};

// A folder's saved work without a running engine: export, similar images, thumbnails.
pub use engine::SimilarGroups;
pub use engine::folder::{ExportFormat, Folder, FolderError, ThumbnailWriter};

// A running engine's records (`EngineHandle::records`) and their export as text.
pub use disk::library::{Record, to_csv, to_json};
