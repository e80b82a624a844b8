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

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use url::Url;

pub use crate::error::LibraryError;
use crate::item::ItemId;
pub use crate::item::ItemState;

/// File name of the database inside `OUT/.pixgrab/`.
pub const DB_NAME: &str = "library.db";

/// True when `folder` (an output folder) has a Pixgrab library: something was
/// downloaded there before.
pub fn exists_in(folder: &std::path::Path) -> bool {
    folder
        .join(crate::disk::store::DATA_DIR)
        .join(DB_NAME)
        .is_file()
}

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

/// A page re-read every so often for new images (times in Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// The page.
    pub page: Url,
    /// How often it is read, in milliseconds (before jitter and back-off).
    pub interval_ms: u64,
    /// When it is read next.
    pub next_check: i64,
    /// When it was last read, if ever.
    pub last_check: Option<i64>,
    /// How many new images the last read queued.
    pub last_new: u64,
    /// Reads that failed in a row (each doubles the wait, up to a day).
    pub failures: u32,
    /// Why the last read failed, if it did.
    pub last_error: Option<String>,
    /// Images queued by this watch since it began (or was resumed).
    pub queued: u64,
    /// Why the watch stopped checking until the user resumes it (a cap was hit), if it did.
    pub paused: Option<String>,
}

impl Watch {
    /// How long until the next check, from `now` (Unix milliseconds); zero when due.
    pub fn next_in(&self, now: i64) -> Duration {
        Duration::from_millis(u64::try_from(self.next_check.saturating_sub(now)).unwrap_or(0))
    }

    /// How long ago the last check was, from `now`, if there was one.
    pub fn last_ago(&self, now: i64) -> Option<Duration> {
        self.last_check
            .map(|at| Duration::from_millis(u64::try_from(now.saturating_sub(at)).unwrap_or(0)))
    }
}

/// What is needed to continue a part file after a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// The part's file name in the output folder (`NAME.EXT.part`).
    pub name: String,
    /// The stem the final file will be published under.
    pub stem: String,
    /// Announced size of the whole file.
    pub total: Option<u64>,
    /// ETag or Last-Modified of the response that started the part.
    pub validator: Option<String>,
    /// The server's Content-Type.
    pub content_type: Option<String>,
}

/// One item as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The item's id (stable across runs).
    pub id: ItemId,
    /// The URL as queued (normalised).
    pub url: String,
    /// The URL after redirects, once known.
    pub final_url: Option<String>,
    /// Where it stands.
    pub state: ItemState,
    /// Queue order: lower starts first.
    pub rank: i64,
    /// File size, once done.
    pub bytes: Option<u64>,
    /// File name in the output folder, once done.
    pub file: Option<String>,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: Option<String>,
    /// Pixel width and height.
    pub dimensions: Option<(u32, u32)>,
    /// Detected format's file extension (`jpg`, `png`, ...).
    pub format: Option<String>,
    /// The server's Content-Type.
    pub content_type: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The earlier item whose identical file this one points to.
    pub duplicate_of: Option<ItemId>,
    /// When it was first queued (Unix seconds).
    pub added_at: i64,
    /// When it was done or failed (Unix seconds).
    pub finished_at: Option<i64>,
    /// A part file to continue, if any.
    pub part: Option<PartRecord>,
    /// The page the link was found on (its default Referer).
    pub page: Option<String>,
}

/// A finished download, as stored.
#[derive(Debug, Clone)]
pub struct DoneRecord<'a> {
    /// Final URL after redirects.
    pub final_url: &'a str,
    /// File name in the output folder.
    pub file: &'a str,
    /// File size.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: &'a str,
    /// Pixel size, if known.
    pub dimensions: Option<(u32, u32)>,
    /// Format extension.
    pub format: &'a str,
    /// The server's Content-Type.
    pub content_type: Option<&'a str>,
    /// The item whose identical file this one uses.
    pub duplicate_of: Option<ItemId>,
    /// The thumbnail's perceptual hash (see `imaging::similar`), if one was made.
    pub phash: Option<&'a str>,
}

/// A done item's file and perceptual hash, for similar-image groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// The item.
    pub id: ItemId,
    /// Its file, relative to the folder.
    pub file: String,
    /// Its perceptual hash; `None` when none was made yet (done before hashes were).
    pub phash: Option<String>,
    /// Its format's extension, as judged from its bytes when it was downloaded.
    pub format: Option<String>,
}

/// What [`Library::add`] found for one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    /// The item.
    pub id: ItemId,
    /// Its state before this call (`None`: it is new).
    pub before: Option<ItemState>,
    /// Its place in the queue.
    pub rank: i64,
}

/// The open database of one output folder.
pub struct Library {
    conn: Connection,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").finish_non_exhaustive()
    }
}

/// The form a URL is stored and compared in: parsed (so scheme and host are lower-case,
/// default ports and dot segments gone) and without its `#fragment`, which never reaches
/// the server.
pub fn normalise(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// Stores every watch under its page's normal form (how lookups and removals name it): a
/// row written otherwise (by hand, or by an older version) is renamed, merged into the
/// row already there, or dropped when it is not a URL at all.
fn normalise_watches(conn: &Connection) -> Result<(), LibraryError> {
    let mut pages = Vec::new();
    {
        let mut stmt = conn.prepare("SELECT page FROM watches")?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            pages.push(row?);
        }
    }
    for raw in pages {
        let normal = Url::parse(&raw).ok().map(|u| normalise(&u).to_string());
        if normal.as_deref() == Some(raw.as_str()) {
            continue;
        }
        if let Some(normal) = &normal {
            conn.execute(
                "UPDATE OR IGNORE watch_seen SET page = ?2 WHERE page = ?1",
                params![raw, normal],
            )?;
            conn.execute(
                "UPDATE OR IGNORE watches SET page = ?2 WHERE page = ?1",
                params![raw, normal],
            )?;
        }
        // Whatever is left under the raw name (not a URL, or a duplicate) goes.
        conn.execute("DELETE FROM watch_seen WHERE page = ?1", [&raw])?;
        conn.execute("DELETE FROM watches WHERE page = ?1", [&raw])?;
    }
    Ok(())
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

impl Library {
    /// Opens (creating if needed) the library in `data_dir` (`OUT/.pixgrab`). With
    /// `durable`, every commit is flushed to the device (survives power loss).
    pub fn open(data_dir: &Path, durable: bool) -> Result<Self, LibraryError> {
        let conn = Connection::open(data_dir.join(DB_NAME))?;
        conn.busy_timeout(Duration::from_millis(200))?;
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

    /// Adds URLs in order (one transaction). A URL already known keeps its item; a new one
    /// is queued at the back.
    pub fn add(&mut self, urls: &[Url], page: Option<&Url>) -> Result<Vec<Added>, LibraryError> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(urls.len());
        {
            let mut find = tx.prepare_cached("SELECT id, state, rank FROM items WHERE url = ?1")?;
            let mut clear_page = tx.prepare_cached("UPDATE items SET page = NULL WHERE id = ?1")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO items (url, state, rank, added_at, page) VALUES (?1, 'queued', ?2, ?3, ?4)",
            )?;
            let mut rank: i64 =
                tx.query_row("SELECT COALESCE(MAX(rank), 0) FROM items", [], |r| r.get(0))?;
            let stamp = unix_now();
            for url in urls {
                let url = normalise(url);
                let found: Option<(i64, String, i64)> = find
                    .query_row([url.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                match found {
                    Some((id, state, rank)) => {
                        // Typed by the user now: the URL is no longer "from a page" (no
                        // page Referer, no page-caused-request rule) when it runs again.
                        if page.is_none() {
                            clear_page.execute([id])?;
                        }
                        out.push(Added {
                            id: ItemId(id as u64),
                            before: Some(ItemState::parse(&state)),
                            rank,
                        });
                    }
                    None => {
                        rank += 1;
                        insert.execute(params![
                            url.as_str(),
                            rank,
                            stamp,
                            page.map(Url::as_str)
                        ])?;
                        out.push(Added {
                            id: ItemId(tx.last_insert_rowid() as u64),
                            before: None,
                            rank,
                        });
                    }
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Every item, in queue order (rank, then id).
    pub fn all(&self) -> Result<Vec<Record>, LibraryError> {
        self.select("ORDER BY rank, id", [])
    }

    /// The items with these ids that are in one of `states`, in queue order.
    pub fn find(&self, ids: &[ItemId], states: &[ItemState]) -> Result<Vec<Record>, LibraryError> {
        let mut found = Vec::new();
        for id in ids {
            found.extend(
                self.select("WHERE id = ?1", [id.0 as i64])?
                    .into_iter()
                    .filter(|r| states.contains(&r.state)),
            );
        }
        found.sort_by_key(|r| (r.rank, r.id));
        // An id given twice is one item.
        found.dedup_by_key(|r| r.id);
        Ok(found)
    }

    /// The ids of the items in `state`, in queue order.
    pub fn ids_in_state(&self, state: ItemState) -> Result<Vec<ItemId>, LibraryError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM items WHERE state = ?1 ORDER BY rank, id")?;
        let rows = stmt.query_map([state.as_str()], |r| Ok(ItemId(r.get::<_, i64>(0)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every column of the items that `tail` (a WHERE and/or ORDER BY clause) selects.
    fn select(
        &self,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Record>, LibraryError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id, url, final_url, state, rank, bytes, file, sha256, width, height, format,
                    content_type, error, duplicate_of, added_at, finished_at, part_name,
                    part_stem, part_total, part_validator, part_content_type, page
             FROM items {tail}"
        ))?;
        let rows = stmt.query_map(params, |r| {
            let width: Option<i64> = r.get(8)?;
            let height: Option<i64> = r.get(9)?;
            let part_name: Option<String> = r.get(16)?;
            let part_stem: Option<String> = r.get(17)?;
            Ok(Record {
                id: ItemId(r.get::<_, i64>(0)? as u64),
                url: r.get(1)?,
                final_url: r.get(2)?,
                state: ItemState::parse(&r.get::<_, String>(3)?),
                rank: r.get(4)?,
                bytes: to_u64(r.get(5)?),
                file: r.get(6)?,
                sha256: r.get(7)?,
                dimensions: match (width, height) {
                    (Some(w), Some(h)) => Some((w as u32, h as u32)),
                    _ => None,
                },
                format: r.get(10)?,
                content_type: r.get(11)?,
                error: r.get(12)?,
                duplicate_of: r.get::<_, Option<i64>>(13)?.map(|v| ItemId(v as u64)),
                added_at: r.get(14)?,
                finished_at: r.get(15)?,
                part: match (part_name, part_stem) {
                    (Some(name), Some(stem)) => Some(PartRecord {
                        name,
                        stem,
                        total: to_u64(r.get(18)?),
                        validator: r.get(19)?,
                        content_type: r.get(20)?,
                    }),
                    _ => None,
                },
                page: r.get(21)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every done item with a file of its own (not a duplicate's), in queue order, with
    /// its perceptual hash if it has one.
    pub fn hashed_files(&self) -> Result<Vec<HashedFile>, LibraryError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, file, phash, format FROM items
             WHERE state = 'done' AND file IS NOT NULL AND duplicate_of IS NULL
             ORDER BY rank, id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(HashedFile {
                id: ItemId(r.get::<_, i64>(0)? as u64),
                file: r.get(1)?,
                phash: r.get(2)?,
                format: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a page's title (for `{page}` in file-name templates).
    pub fn set_page_title(&self, page: &Url, title: &str) -> Result<(), LibraryError> {
        self.conn.execute(
            "INSERT INTO pages (url, title) VALUES (?1, ?2)
             ON CONFLICT(url) DO UPDATE SET title = excluded.title",
            params![page.as_str(), title],
        )?;
        Ok(())
    }

    /// Remembers whether `page` was read from a private address, so that after a restart
    /// its items are judged as when it was read (not by what its name resolves to then).
    pub fn set_page_origin(&self, page: &Url, private: bool) -> Result<(), LibraryError> {
        self.conn.execute(
            "INSERT INTO page_origins (url, private, read_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(url) DO UPDATE SET private = excluded.private,
                 read_at = excluded.read_at",
            params![page.as_str(), private, unix_now()],
        )?;
        Ok(())
    }

    /// The pages read lately (at most `most`, newest first) and whether each came from
    /// a private address.
    pub fn page_origins(&self, most: usize) -> Result<Vec<(Url, bool)>, LibraryError> {
        let mut stmt = self
            .conn
            .prepare("SELECT url, private FROM page_origins ORDER BY read_at DESC LIMIT ?1")?;
        let rows = stmt.query_map([i64::try_from(most).unwrap_or(i64::MAX)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (url, private) = row?;
            if let Ok(url) = Url::parse(&url) {
                out.push((url, private));
            }
        }
        Ok(out)
    }

    /// Watches `watch.page` (or changes its watch), as `watch` says.
    pub fn set_watch(&self, watch: &Watch) -> Result<(), LibraryError> {
        self.conn.execute(
            "INSERT INTO watches (page, interval_ms, next_check, last_check, last_new, failures,
                 last_error, queued, paused)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(page) DO UPDATE SET interval_ms = excluded.interval_ms,
                 next_check = excluded.next_check, last_check = excluded.last_check,
                 last_new = excluded.last_new, failures = excluded.failures,
                 last_error = excluded.last_error, queued = excluded.queued,
                 paused = excluded.paused",
            params![
                watch.page.as_str(),
                to_i64(watch.interval_ms),
                watch.next_check,
                watch.last_check,
                to_i64(watch.last_new),
                i64::from(watch.failures),
                watch.last_error,
                to_i64(watch.queued),
                watch.paused,
            ],
        )?;
        Ok(())
    }

    /// Records a check of a watched page: only its outcome and next check (an interval
    /// changed meanwhile stays). False when the page is no longer watched.
    pub fn record_check(&self, watch: &Watch) -> Result<bool, LibraryError> {
        Ok(self.conn.execute(
            "UPDATE watches SET next_check = ?2, last_check = ?3, last_new = ?4, failures = ?5,
                 last_error = ?6, queued = ?7, paused = ?8 WHERE page = ?1",
            params![
                watch.page.as_str(),
                watch.next_check,
                watch.last_check,
                to_i64(watch.last_new),
                i64::from(watch.failures),
                watch.last_error,
                to_i64(watch.queued),
                watch.paused,
            ],
        )? > 0)
    }

    /// Stops watching `page`; true if it was watched.
    pub fn remove_watch(&mut self, page: &Url) -> Result<bool, LibraryError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM watch_seen WHERE page = ?1", [page.as_str()])?;
        let removed = tx.execute("DELETE FROM watches WHERE page = ?1", [page.as_str()])? > 0;
        tx.commit()?;
        Ok(removed)
    }

    /// Remembers that `page` showed `urls` (a watch then never queues them, queued or
    /// not: what the user left out when watching began stays out).
    pub fn mark_seen(&mut self, page: &Url, urls: &[Url]) -> Result<(), LibraryError> {
        let tx = self.conn.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT OR IGNORE INTO watch_seen (page, url) VALUES (?1, ?2)")?;
            for url in urls {
                insert.execute(params![page.as_str(), normalise(url).as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The watch of `page`, if it is watched.
    pub fn watch_of(&self, page: &Url) -> Result<Option<Watch>, LibraryError> {
        Ok(self
            .watches_where("WHERE page = ?1", [page.as_str()])?
            .into_iter()
            .next())
    }

    /// Every watched page, soonest check first.
    pub fn watches(&self) -> Result<Vec<Watch>, LibraryError> {
        self.watches_where("", [])
    }

    /// The watches `filter` (a `WHERE` clause over `params`) selects, soonest first.
    fn watches_where(
        &self,
        filter: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Watch>, LibraryError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT page, interval_ms, next_check, last_check, last_new, failures, last_error,
                 queued, paused
             FROM watches {filter} ORDER BY next_check"
        ))?;
        let rows = stmt.query_map(params, |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                (r.get::<_, i64>(7)?, r.get::<_, Option<String>>(8)?),
            ))
        })?;
        let mut watches = Vec::new();
        for row in rows {
            let (page, interval, next_check, last_check, last_new, failures, last_error, caps) =
                row?;
            // A row that is not a URL (edited by hand) is skipped, not fatal.
            let Ok(page) = Url::parse(&page) else {
                continue;
            };
            watches.push(Watch {
                page,
                interval_ms: to_u64(Some(interval)).unwrap_or(0),
                next_check,
                last_check,
                last_new: to_u64(Some(last_new)).unwrap_or(0),
                failures: u32::try_from(failures).unwrap_or(0),
                last_error,
                queued: to_u64(Some(caps.0)).unwrap_or(0),
                paused: caps.1,
            });
        }
        Ok(watches)
    }

    /// Of `urls` found on the watched `page`, those that are new (in order): no item has
    /// them and the page did not show them before.
    pub fn unseen(&self, page: &Url, urls: &[Url]) -> Result<Vec<Url>, LibraryError> {
        let mut item = self
            .conn
            .prepare_cached("SELECT 1 FROM items WHERE url = ?1")?;
        let mut seen = self
            .conn
            .prepare_cached("SELECT 1 FROM watch_seen WHERE page = ?1 AND url = ?2")?;
        let mut out = Vec::new();
        for url in urls {
            let key = normalise(url);
            if !item.exists([key.as_str()])?
                && !seen.exists(params![page.as_str(), key.as_str()])?
            {
                out.push(url.clone());
            }
        }
        Ok(out)
    }

    /// Of `urls`, those whose item failed and was tried again by a watch fewer than
    /// `most` times, in order; each one's count goes up (a watched page still showing
    /// them gets them tried again, a few times). Never what the user cancelled.
    pub fn failed_among(&mut self, urls: &[Url], most: u32) -> Result<Vec<Url>, LibraryError> {
        let tx = self.conn.transaction()?;
        let mut out = Vec::new();
        {
            let mut bump = tx.prepare_cached(
                "UPDATE items SET watch_retries = watch_retries + 1
                 WHERE url = ?1 AND state = 'failed' AND watch_retries < ?2",
            )?;
            for url in urls {
                if bump.execute(params![normalise(url).as_str(), i64::from(most)])? > 0 {
                    out.push(url.clone());
                }
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// The addresses `page` showed before, without their query strings (an address that
    /// differs from one of these only in its query is the same image, re-signed).
    pub fn seen_without_query(
        &self,
        page: &Url,
    ) -> Result<std::collections::HashSet<String>, LibraryError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT url FROM watch_seen WHERE page = ?1")?;
        let mut out = std::collections::HashSet::new();
        for url in stmt.query_map([page.as_str()], |r| r.get::<_, String>(0))? {
            if let Ok(mut url) = Url::parse(&url?) {
                url.set_query(None);
                out.insert(url.to_string());
            }
        }
        Ok(out)
    }

    /// A page's title, if it was read.
    pub fn page_title(&self, page: &Url) -> Result<Option<String>, LibraryError> {
        Ok(self
            .conn
            .query_row(
                "SELECT title FROM pages WHERE url = ?1",
                [page.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records an item's perceptual hash.
    pub fn set_phash(&self, id: ItemId, phash: &str) -> Result<(), LibraryError> {
        self.conn.execute(
            "UPDATE items SET phash = ?2 WHERE id = ?1",
            params![id.0 as i64, phash],
        )?;
        Ok(())
    }

    /// A done item's file (relative to the folder), and whether another done item
    /// names the same file (identical bytes stored once).
    pub fn done_file(&self, id: ItemId) -> Result<Option<(String, bool)>, LibraryError> {
        let file: Option<String> = self
            .conn
            .query_row(
                "SELECT file FROM items WHERE id = ?1 AND state = 'done' AND file IS NOT NULL",
                [id.0 as i64],
                |r| r.get(0),
            )
            .optional()?;
        let Some(file) = file else {
            return Ok(None);
        };
        let shared: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM items WHERE file = ?1 AND state = 'done' AND id != ?2)",
            params![file, id.0 as i64],
            |r| r.get(0),
        )?;
        Ok(Some((file, shared)))
    }

    /// Sets an item's state, clearing the error unless it is `Failed` (and forgetting
    /// the part when it is `Cancelled`).
    pub fn set_state(&self, id: ItemId, state: ItemState) -> Result<(), LibraryError> {
        self.conn.execute(
            "UPDATE items SET state = ?2,
                error = CASE WHEN ?2 = 'failed' THEN error ELSE NULL END,
                part_name = CASE WHEN ?2 = 'cancelled' THEN NULL ELSE part_name END
             WHERE id = ?1",
            params![id.0 as i64, state.as_str()],
        )?;
        Ok(())
    }

    /// Sets the state of many items in one transaction.
    pub fn set_states(&mut self, ids: &[ItemId], state: ItemState) -> Result<(), LibraryError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE items SET state = ?2,
                    error = CASE WHEN ?2 = 'failed' THEN error ELSE NULL END,
                    part_name = CASE WHEN ?2 = 'cancelled' THEN NULL ELSE part_name END
                 WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute(params![id.0 as i64, state.as_str()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records the part file a download writes to (or forgets it with `None`).
    pub fn set_part(&self, id: ItemId, part: Option<&PartRecord>) -> Result<(), LibraryError> {
        self.conn.execute(
            "UPDATE items SET part_name = ?2, part_stem = ?3, part_total = ?4,
                part_validator = ?5, part_content_type = ?6 WHERE id = ?1",
            params![
                id.0 as i64,
                part.map(|p| p.name.as_str()),
                part.map(|p| p.stem.as_str()),
                part.and_then(|p| p.total).map(to_i64),
                part.and_then(|p| p.validator.as_deref()),
                part.and_then(|p| p.content_type.as_deref()),
            ],
        )?;
        Ok(())
    }

    /// Records a finished download (and forgets its part).
    pub fn set_done(&self, id: ItemId, done: &DoneRecord<'_>) -> Result<(), LibraryError> {
        self.conn.execute(
            "UPDATE items SET state = 'done', final_url = ?2, file = ?3, bytes = ?4,
                sha256 = ?5, width = ?6, height = ?7, format = ?8, content_type = ?9,
                duplicate_of = ?10, error = NULL, finished_at = ?11, phash = ?12, part_name = NULL,
                part_stem = NULL, part_total = NULL, part_validator = NULL,
                part_content_type = NULL
             WHERE id = ?1",
            params![
                id.0 as i64,
                done.final_url,
                done.file,
                to_i64(done.bytes),
                done.sha256,
                done.dimensions.map(|d| i64::from(d.0)),
                done.dimensions.map(|d| i64::from(d.1)),
                done.format,
                done.content_type,
                done.duplicate_of.map(|d| d.0 as i64),
                unix_now(),
                done.phash,
            ],
        )?;
        Ok(())
    }

    /// Records a failure with its reason (and forgets the part).
    pub fn set_failed(&self, id: ItemId, reason: &str) -> Result<(), LibraryError> {
        self.conn.execute(
            "UPDATE items SET state = 'failed', error = ?2, finished_at = ?3, part_name = NULL,
                part_stem = NULL, part_total = NULL, part_validator = NULL,
                part_content_type = NULL
             WHERE id = ?1",
            params![id.0 as i64, reason, unix_now()],
        )?;
        Ok(())
    }

    /// Gives items ranks before every other item, keeping their given order.
    pub fn move_to_top(&mut self, ids: &[ItemId]) -> Result<Vec<i64>, LibraryError> {
        let tx = self.conn.transaction()?;
        let lowest: i64 =
            tx.query_row("SELECT COALESCE(MIN(rank), 0) FROM items", [], |r| r.get(0))?;
        let mut ranks = Vec::with_capacity(ids.len());
        {
            let mut stmt = tx.prepare_cached("UPDATE items SET rank = ?2 WHERE id = ?1")?;
            for (n, id) in ids.iter().enumerate() {
                let rank = lowest - (ids.len() - n) as i64;
                stmt.execute(params![id.0 as i64, rank])?;
                ranks.push(rank);
            }
        }
        tx.commit()?;
        Ok(ranks)
    }

    /// A done item other than `except` whose file has this SHA-256: (id, file name).
    pub fn find_done_by_hash(
        &self,
        sha256: &str,
        except: ItemId,
    ) -> Result<Option<(ItemId, String)>, LibraryError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, file FROM items
                 WHERE sha256 = ?1 AND state = 'done' AND id != ?2 AND file IS NOT NULL
                 AND duplicate_of IS NULL ORDER BY id LIMIT 1",
                params![sha256, except.0 as i64],
                |r| Ok((ItemId(r.get::<_, i64>(0)? as u64), r.get(1)?)),
            )
            .optional()?)
    }
}

/// The columns of an export, in order.
pub const EXPORT_COLUMNS: [&str; 9] = [
    "url",
    "final_url",
    "file",
    "status",
    "bytes",
    "sha256",
    "width",
    "height",
    "error",
];

fn export_row(r: &Record) -> [String; 9] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        without_userinfo(&r.url),
        r.final_url
            .as_deref()
            .map(without_userinfo)
            .unwrap_or_default(),
        opt(&r.file),
        r.state.as_str().to_string(),
        num(r.bytes),
        opt(&r.sha256),
        num(r.dimensions.map(|d| u64::from(d.0))),
        num(r.dimensions.map(|d| u64::from(d.1))),
        opt(&r.error),
    ]
}

/// `url` without a user name or password: exports are shared, credentials are not.
pub fn without_userinfo(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The library as CSV (RFC 4180: fields with commas, quotes or line breaks are quoted).
pub fn to_csv(records: &[Record]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = EXPORT_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in records {
        let row: Vec<String> = export_row(r).iter().map(|f| field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The library as a JSON array of objects (numbers as numbers, missing values as null).
pub fn to_json(records: &[Record]) -> String {
    let items: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "url": without_userinfo(&r.url),
                "final_url": r.final_url.as_deref().map(without_userinfo),
                "file": r.file,
                "status": r.state.as_str(),
                "bytes": r.bytes,
                "sha256": r.sha256,
                "width": r.dimensions.map(|d| d.0),
                "height": r.dimensions.map(|d| d.1),
                "error": r.error,
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// The URLs of a previous export (CSV with a `url` column, or a JSON array of objects
/// with `url`), in order; `None` if `text` is not an export. Only the `url` column is
/// taken, so final URLs are not queued a second time.
pub fn import_urls(text: &str) -> Option<Vec<String>> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        let value: serde_json::Value = serde_json::from_str(trimmed).ok()?;
        let items = value.as_array()?;
        let urls: Vec<String> = items
            .iter()
            .filter_map(|v| v.get("url")?.as_str().map(str::to_string))
            .collect();
        return (!urls.is_empty() || items.is_empty()).then_some(urls);
    }
    let mut rows = parse_csv(trimmed).into_iter();
    let header = rows.next()?;
    if header.first().map(String::as_str) != Some("url") || !header.iter().any(|h| h == "status") {
        return None;
    }
    Some(
        rows.filter_map(|row| row.into_iter().next())
            .filter(|u| !u.is_empty())
            .collect(),
    )
}

/// A small RFC 4180 reader: rows of fields, quotes and doubled quotes honoured.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn a_url_is_one_item_and_states_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let mut lib = Library::open(dir.path(), false).expect("open");
            let added = lib
                .add(
                    &[
                        url("http://a/1.jpg"),
                        url("http://A/1.jpg#frag"),
                        url("http://a/2.jpg"),
                    ],
                    None,
                )
                .expect("add");
            assert_eq!(added[0].id, added[1].id, "same URL after normalising");
            assert_eq!(added[1].before, Some(ItemState::Queued));
            assert_ne!(added[0].id, added[2].id);
            lib.set_done(
                added[0].id,
                &DoneRecord {
                    final_url: "http://a/1.jpg",
                    file: "1.jpg",
                    bytes: 10,
                    sha256: "ab",
                    dimensions: Some((3, 4)),
                    format: "jpg",
                    content_type: Some("image/jpeg"),
                    duplicate_of: None,
                    phash: None,
                },
            )
            .expect("done");
            lib.set_failed(added[2].id, "HTTP 404 Not Found")
                .expect("failed");
        }
        let lib = Library::open(dir.path(), false).expect("reopen");
        let all = lib.all().expect("all");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].state, ItemState::Done);
        assert_eq!(all[0].dimensions, Some((3, 4)));
        assert_eq!(all[1].error.as_deref(), Some("HTTP 404 Not Found"));
        let failed = lib
            .find(&[all[1].id, all[1].id, all[0].id], &[ItemState::Failed])
            .expect("find");
        assert_eq!(failed.len(), 1, "one failed item, named twice");
        assert_eq!(lib.ids_in_state(ItemState::Done).expect("ids"), [all[0].id]);
        assert_eq!(
            lib.find_done_by_hash("ab", all[1].id).expect("find"),
            Some((all[0].id, "1.jpg".to_string()))
        );
    }

    #[test]
    fn a_second_process_on_the_same_folder_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _first = Library::open(dir.path(), false).expect("open");
        let second = Library::open(dir.path(), false);
        assert!(matches!(second, Err(LibraryError::Busy)), "got {second:?}");
    }

    #[test]
    fn move_to_top_puts_items_first_in_the_given_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut lib = Library::open(dir.path(), false).expect("open");
        let ids: Vec<ItemId> = lib
            .add(
                &[url("http://a/1"), url("http://a/2"), url("http://a/3")],
                None,
            )
            .expect("add")
            .iter()
            .map(|a| a.id)
            .collect();
        lib.move_to_top(&[ids[2], ids[1]]).expect("top");
        let order: Vec<ItemId> = lib.all().expect("all").iter().map(|r| r.id).collect();
        assert_eq!(order, [ids[2], ids[1], ids[0]]);
    }

    #[test]
    fn exports_round_trip_through_import() {
        let record = Record {
            id: ItemId(1),
            url: "http://a/x,\"y\".jpg".into(),
            final_url: Some("http://b/z.jpg".into()),
            state: ItemState::Failed,
            rank: 1,
            bytes: None,
            file: None,
            sha256: None,
            dimensions: None,
            format: None,
            content_type: None,
            error: Some("HTTP 404 Not Found\nsecond line".into()),
            duplicate_of: None,
            added_at: 0,
            finished_at: None,
            part: None,
            page: None,
        };
        let csv = to_csv(std::slice::from_ref(&record));
        assert!(csv.starts_with("url,final_url,file,status,bytes,sha256,width,height,error\r\n"));
        assert_eq!(import_urls(&csv), Some(vec![record.url.clone()]));
        let json = to_json(std::slice::from_ref(&record));
        assert_eq!(import_urls(&json), Some(vec![record.url.clone()]));
        assert_eq!(import_urls("http://a/1.jpg\nhttp://a/2.jpg"), None);
    }
}
