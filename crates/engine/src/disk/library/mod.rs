//! The library: what Pixgrab knows about every item of an output folder, kept in SQLite
//! at `OUT/.pixgrab/library.db`, so that queues, history and half-finished files survive
//! restarts and crashes.
//!
//! Invariants:
//! - Every change is one SQLite transaction in WAL mode, committed before the engine
//!   reports it: once an item is reported `Done`, a `kill -9` cannot lose that (with
//!   `synchronous=NORMAL` a committed transaction survives a crash of the process; with
//!   [`Library::open`]'s `durable` it is flushed to the device and survives power loss).
//! - One URL (after [`normalise`]) is one item: adding it again returns the same id.
//! - One process at a time: the database is opened in exclusive locking mode, so a second
//!   Pixgrab on the same folder gets [`LibraryError::Busy`] instead of two writers.
//! - File names stored here are single path components inside the output folder; they
//!   are checked again (by the store) before any file is touched.
//!
//! One job per file: the tables and opening (`schema`), items (`items`), page titles and
//! origins (`pages`), watches (`watches`), the normal form of URLs (`normal_form`), the
//! rows handed out (`records`) and CSV/JSON export (`export`).

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::Connection;

pub(crate) use crate::error::LibraryError;
pub(crate) use crate::item::ItemState;

mod export;
mod items;
mod normal_form;
mod pages;
mod records;
mod schema;
#[cfg(test)]
mod tests;
mod watches;

pub use export::{import_urls, to_csv, to_json};
pub(crate) use normal_form::normalise;
pub use records::Record;
pub(crate) use records::{Added, DoneRecord, PartRecord};
pub use watches::Watch;

/// File name of the database inside `OUT/.pixgrab/`.
pub(crate) const DB_NAME: &str = "library.db";

/// True when `folder` (an output folder) has a Pixgrab library: something was
/// downloaded there before.
pub(crate) fn exists_in(folder: &std::path::Path) -> bool {
    folder
        .join(crate::disk::store::DATA_DIR)
        .join(DB_NAME)
        .is_file()
}

/// The open database of one output folder.
pub(crate) struct Library {
    conn: Connection,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").finish_non_exhaustive()
    }
}

/// The current time in Unix seconds (0 if the clock is before 1970).
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Now, in Unix milliseconds (watch times).
pub fn unix_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn to_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
