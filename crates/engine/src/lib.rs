//! Pixgrab's engine: everything between "here is some text with URLs in it" and
//! "here are verified image files on disk, with thumbnails". No UI code lives here
//! (nothing in this crate's dependency tree draws a window; CI checks it); the window
//! and the command line are thin layers over [`engine::Engine`].
//!
//! Its parts, bottom up: [`error`] (reasons for people), [`input`] (text and pages to
//! URLs), [`net`] (one request, politely and safely), [`disk`] (the output folder and
//! the library), [`imaging`] (what a body is, whether it is whole, its thumbnail), and
//! [`engine`] (the scheduler and the threads that tie them together). See
//! `ARCHITECTURE.md` for the map and the invariants.

pub mod disk;
pub mod engine;
pub mod error;
pub mod imaging;
pub mod input;
pub mod item;
pub mod net;

/// Entry points for the fuzz targets in `fuzz/` (not an API: may change at any time).
#[doc(hidden)]
pub mod fuzzing {
    /// The DC-only JPEG decoder on arbitrary bytes.
    pub fn jpeg_dc(data: &[u8]) {
        let _ = crate::imaging::jpeg_dc::decode(data, 1);
        let _ = crate::imaging::jpeg_dc::exif(data);
    }

    /// Sniffing and the whole thumbnail path (decode with limits, shrink) on arbitrary
    /// bytes, through a file in `dir` as downloads are.
    pub fn thumbnail(data: &[u8], dir: &std::path::Path) {
        if let crate::imaging::sniff::Sniffed::Image(format) = crate::imaging::sniff::sniff(data) {
            let path = dir.join("input");
            if std::fs::write(&path, data).is_ok() {
                let _ = crate::imaging::thumbs::make_thumbnail(&path, format, 64);
                let _ = crate::imaging::thumbs::dimensions(&path, format);
            }
        }
    }
}

pub use engine::{Config, DoneInfo, Engine, EngineHandle, Event, ItemId};
pub use error::{Bytes, EngineError, FetchError, ThumbError};
pub use item::{ItemState, Stage};
