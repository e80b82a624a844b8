//! The database's tables and opening it: creating, locking and bringing an older
//! version's schema up to date.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::normal_form::normalise_watches;
use super::{DB_NAME, Library, LibraryError};

const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL UNIQUE,
    final_url   TEXT,
    state       TEXT NOT NULL,
    rank        INTEGER NOT NULL,
    bytes       INTEGER,
    file        TEXT,
    sha256      TEXT,
    width       INTEGER,
    height      INTEGER,
    format      TEXT,
    content_type TEXT,
    error       TEXT,
    duplicate_of INTEGER,
    added_at    INTEGER NOT NULL,
    finished_at INTEGER,
    part_name   TEXT,
    part_stem   TEXT,
    part_total  INTEGER,
    part_validator TEXT,
    part_content_type TEXT,
    page        TEXT,
    phash       TEXT,
    watch_retries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_sha ON items(sha256);
CREATE TABLE IF NOT EXISTS pages (
    url         TEXT PRIMARY KEY,
    title       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS page_origins (
    url         TEXT PRIMARY KEY,
    private     INTEGER NOT NULL,
    read_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS watch_seen (
    page        TEXT NOT NULL,
    url         TEXT NOT NULL,
    PRIMARY KEY (page, url)
);
CREATE TABLE IF NOT EXISTS watches (
    page        TEXT PRIMARY KEY,
    interval_ms INTEGER NOT NULL,
    next_check  INTEGER NOT NULL,
    last_check  INTEGER,
    last_new    INTEGER NOT NULL DEFAULT 0,
    failures    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    queued      INTEGER NOT NULL DEFAULT 0,
    paused      TEXT
);
";

/// Prepared statements kept per connection: more than the library has.
const STATEMENT_CACHE: usize = 32;

impl Library {
    /// Opens (creating if needed) the library in `data_dir` (`OUT/.pixgrab`). With
    /// `durable`, every commit is flushed to the device (survives power loss).
    pub(crate) fn open(data_dir: &Path, durable: bool) -> Result<Self, LibraryError> {
        let conn = Connection::open(data_dir.join(DB_NAME))?;
        conn.busy_timeout(Duration::from_millis(200))?;
        // Every statement run per download is prepared once (`prepare_cached`): room for
        // all of them, so none is parsed again per file.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Exclusive: one Pixgrab per folder. The lock is taken by the first write below.
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", if durable { "FULL" } else { "NORMAL" })?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(LibraryError::TooNew(version));
        }
        // BEGIN IMMEDIATE takes the write lock now, so a second process fails here.
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA}"))?;
        // Columns later versions added: version 1 had no `page` (the page a link was
        // found on), version 2 no `phash` (for similar images), version 3 no watch caps
        // (what a watch queued, why it paused, how often it tried a failed image again).
        for (table, column, kind) in [
            ("items", "page", "TEXT"),
            ("items", "phash", "TEXT"),
            ("watches", "queued", "INTEGER NOT NULL DEFAULT 0"),
            ("watches", "paused", "TEXT"),
            ("items", "watch_retries", "INTEGER NOT NULL DEFAULT 0"),
        ] {
            let has: bool = conn.query_row(
                &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
                [column],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind};"))?;
            }
        }
        normalise_watches(&conn)?;
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"))?;
        Ok(Self { conn })
    }
}
