//! The items: adding URLs, reading them back, and recording their states, parts and
//! finished files.

use rusqlite::{OptionalExtension, params};
use url::Url;

use super::normal_form::normalise;
use super::records::{Added, DoneRecord, HashedFile, PartRecord, Record};
use super::{Library, LibraryError, to_i64, to_u64, unix_now};
use crate::item::{ItemId, ItemState};

impl Library {
    /// Adds URLs in order (one transaction). A URL already known keeps its item; a new one
    /// is queued at the back.
    pub(crate) fn add(
        &mut self,
        urls: &[Url],
        page: Option<&Url>,
    ) -> Result<Vec<Added>, LibraryError> {
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
    pub(crate) fn all(&self) -> Result<Vec<Record>, LibraryError> {
        self.select("ORDER BY rank, id", [])
    }

    /// The items with these ids that are in one of `states`, in queue order.
    pub(crate) fn find(
        &self,
        ids: &[ItemId],
        states: &[ItemState],
    ) -> Result<Vec<Record>, LibraryError> {
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
    pub(crate) fn ids_in_state(&self, state: ItemState) -> Result<Vec<ItemId>, LibraryError> {
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
    pub(crate) fn hashed_files(&self) -> Result<Vec<HashedFile>, LibraryError> {
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

    /// Records an item's perceptual hash.
    pub(crate) fn set_phash(&self, id: ItemId, phash: &str) -> Result<(), LibraryError> {
        self.conn
            .prepare_cached("UPDATE items SET phash = ?2 WHERE id = ?1")?
            .execute(params![id.0 as i64, phash])?;
        Ok(())
    }

    /// A done item's file (relative to the folder), and whether another done item
    /// names the same file (identical bytes stored once).
    pub(crate) fn done_file(&self, id: ItemId) -> Result<Option<(String, bool)>, LibraryError> {
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
    pub(crate) fn set_state(&self, id: ItemId, state: ItemState) -> Result<(), LibraryError> {
        self.conn
            .prepare_cached(
                "UPDATE items SET state = ?2,
                error = CASE WHEN ?2 = 'failed' THEN error ELSE NULL END,
                part_name = CASE WHEN ?2 = 'cancelled' THEN NULL ELSE part_name END
             WHERE id = ?1",
            )?
            .execute(params![id.0 as i64, state.as_str()])?;
        Ok(())
    }

    /// Sets the state of many items in one transaction.
    pub(crate) fn set_states(
        &mut self,
        ids: &[ItemId],
        state: ItemState,
    ) -> Result<(), LibraryError> {
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
    pub(crate) fn set_part(
        &self,
        id: ItemId,
        part: Option<&PartRecord>,
    ) -> Result<(), LibraryError> {
        self.conn
            .prepare_cached(
                "UPDATE items SET part_name = ?2, part_stem = ?3, part_total = ?4,
                part_validator = ?5, part_content_type = ?6 WHERE id = ?1",
            )?
            .execute(params![
                id.0 as i64,
                part.map(|p| p.name.as_str()),
                part.map(|p| p.stem.as_str()),
                part.and_then(|p| p.total).map(to_i64),
                part.and_then(|p| p.validator.as_deref()),
                part.and_then(|p| p.content_type.as_deref()),
            ])?;
        Ok(())
    }

    /// Records a finished download (and forgets its part).
    pub(crate) fn set_done(&self, id: ItemId, done: &DoneRecord<'_>) -> Result<(), LibraryError> {
        self.conn
            .prepare_cached(
                "UPDATE items SET state = 'done', final_url = ?2, file = ?3, bytes = ?4,
                sha256 = ?5, width = ?6, height = ?7, format = ?8, content_type = ?9,
                duplicate_of = ?10, error = NULL, finished_at = ?11, phash = ?12, part_name = NULL,
                part_stem = NULL, part_total = NULL, part_validator = NULL,
                part_content_type = NULL
             WHERE id = ?1",
            )?
            .execute(params![
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
            ])?;
        Ok(())
    }

    /// Records a failure with its reason (and forgets the part).
    pub(crate) fn set_failed(&self, id: ItemId, reason: &str) -> Result<(), LibraryError> {
        self.conn
            .prepare_cached(
                "UPDATE items SET state = 'failed', error = ?2, finished_at = ?3, part_name = NULL,
                part_stem = NULL, part_total = NULL, part_validator = NULL,
                part_content_type = NULL
             WHERE id = ?1",
            )?
            .execute(params![id.0 as i64, reason, unix_now()])?;
        Ok(())
    }

    /// Gives items ranks before every other item, keeping their given order.
    pub(crate) fn move_to_top(&mut self, ids: &[ItemId]) -> Result<Vec<i64>, LibraryError> {
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
    pub(crate) fn find_done_by_hash(
        &self,
        sha256: &str,
        except: ItemId,
    ) -> Result<Option<(ItemId, String)>, LibraryError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, file FROM items
                 WHERE sha256 = ?1 AND state = 'done' AND id != ?2 AND file IS NOT NULL
                 AND duplicate_of IS NULL ORDER BY id LIMIT 1",
            )?
            .query_row(params![sha256, except.0 as i64], |r| {
                Ok((ItemId(r.get::<_, i64>(0)? as u64), r.get(1)?))
            })
            .optional()?)
    }
}
