//! The normal form URLs are stored and compared in, and bringing watch rows written
//! otherwise into it.

use rusqlite::{Connection, params};
use url::Url;

use super::LibraryError;

/// The form a URL is stored and compared in: parsed (so scheme and host are lower-case,
/// default ports and dot segments gone) and without its `#fragment`, which never reaches
/// the server.
pub(crate) fn normalise(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// Stores every watch under its page's normal form (how lookups and removals name it): a
/// row written otherwise (by hand, or by an older version) is renamed, merged into the
/// row already there, or dropped when it is not a URL at all.
pub(super) fn normalise_watches(conn: &Connection) -> Result<(), LibraryError> {
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
