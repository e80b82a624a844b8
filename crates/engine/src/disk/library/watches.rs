//! Watched pages: their schedules and outcomes, and what each page showed before.

use std::time::Duration;

use rusqlite::params;
use url::Url;

use super::normal_form::normalise;
use super::{Library, LibraryError, to_i64, to_u64};

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

impl Library {
    /// Watches `watch.page` (or changes its watch), as `watch` says.
    pub(crate) fn set_watch(&self, watch: &Watch) -> Result<(), LibraryError> {
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
    pub(crate) fn record_check(&self, watch: &Watch) -> Result<bool, LibraryError> {
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
    pub(crate) fn remove_watch(&mut self, page: &Url) -> Result<bool, LibraryError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM watch_seen WHERE page = ?1", [page.as_str()])?;
        let removed = tx.execute("DELETE FROM watches WHERE page = ?1", [page.as_str()])? > 0;
        tx.commit()?;
        Ok(removed)
    }

    /// Remembers that `page` showed `urls` (a watch then never queues them, queued or
    /// not: what the user left out when watching began stays out).
    pub(crate) fn mark_seen(&mut self, page: &Url, urls: &[Url]) -> Result<(), LibraryError> {
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
    pub(crate) fn watch_of(&self, page: &Url) -> Result<Option<Watch>, LibraryError> {
        Ok(self
            .watches_where("WHERE page = ?1", [page.as_str()])?
            .into_iter()
            .next())
    }

    /// Every watched page, soonest check first.
    pub(crate) fn watches(&self) -> Result<Vec<Watch>, LibraryError> {
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
    pub(crate) fn unseen(&self, page: &Url, urls: &[Url]) -> Result<Vec<Url>, LibraryError> {
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
    pub(crate) fn failed_among(
        &mut self,
        urls: &[Url],
        most: u32,
    ) -> Result<Vec<Url>, LibraryError> {
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
    pub(crate) fn seen_without_query(
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
}
