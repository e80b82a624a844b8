//! The pages read: their titles (for file-name templates) and whether each came from a
//! private address.

use rusqlite::{OptionalExtension, params};
use url::Url;

use super::{Library, LibraryError, unix_now};

impl Library {
    /// Records a page's title (for `{page}` in file-name templates).
    pub(crate) fn set_page_title(&self, page: &Url, title: &str) -> Result<(), LibraryError> {
        self.conn.execute(
            "INSERT INTO pages (url, title) VALUES (?1, ?2)
             ON CONFLICT(url) DO UPDATE SET title = excluded.title",
            params![page.as_str(), title],
        )?;
        Ok(())
    }

    /// A page's title, if it was read.
    pub(crate) fn page_title(&self, page: &Url) -> Result<Option<String>, LibraryError> {
        Ok(self
            .conn
            .query_row(
                "SELECT title FROM pages WHERE url = ?1",
                [page.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Remembers whether `page` was read from a private address, so that after a restart
    /// its items are judged as when it was read (not by what its name resolves to then).
    pub(crate) fn set_page_origin(&self, page: &Url, private: bool) -> Result<(), LibraryError> {
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
    pub(crate) fn page_origins(&self, most: usize) -> Result<Vec<(Url, bool)>, LibraryError> {
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
}
