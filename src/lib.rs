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

pub use engine::{Config, DoneInfo, Engine, EngineHandle, Event, ItemId};
pub use error::{Bytes, EngineError, FetchError, ThumbError};
