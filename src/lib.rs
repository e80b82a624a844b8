//! Pixgrab's engine: everything between "here is some text with URLs in it" and
//! "here are verified image files on disk, with thumbnails". No UI code lives here;
//! the window and the command line are thin layers over [`engine::Engine`].
//!
//! See `ARCHITECTURE.md` for the module map and the invariants.

pub mod demo;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod headers;
pub mod intake;
mod jpeg_dc;
mod jpeg_scaled;
pub mod library;
pub mod loopback;
pub mod naming;
pub mod netguard;
pub mod pacer;
pub mod page;
pub mod profile;
pub mod ranges;
mod scheduler;
pub mod sniff;
pub mod store;
pub mod thumbs;

/// Entry points for the fuzz targets in `fuzz/` (not an API: may change at any time).
#[doc(hidden)]
pub mod fuzzing {
    /// The DC-only JPEG decoder on arbitrary bytes.
    pub fn jpeg_dc(data: &[u8]) {
        let _ = crate::jpeg_dc::decode(data, 1);
        let _ = crate::jpeg_dc::exif(data);
    }

    /// Sniffing and the whole thumbnail path (decode with limits, shrink) on arbitrary
    /// bytes, through a file in `dir` as downloads are.
    pub fn thumbnail(data: &[u8], dir: &std::path::Path) {
        if let crate::sniff::Sniffed::Image(format) = crate::sniff::sniff(data) {
            let path = dir.join("input");
            if std::fs::write(&path, data).is_ok() {
                let _ = crate::thumbs::make_thumbnail(&path, format, 64);
                let _ = crate::thumbs::dimensions(&path, format);
            }
        }
    }
}

pub use engine::{Config, DoneInfo, Engine, EngineHandle, Event, ItemId};
pub use error::{Bytes, EngineError, FetchError, ThumbError};
