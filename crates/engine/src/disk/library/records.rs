//! The rows the library hands out and takes in: items, part records, finished
//! downloads, hashed files and what adding a URL found.

use crate::item::{ItemId, ItemState};

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
pub(crate) struct DoneRecord<'a> {
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
pub(crate) struct HashedFile {
    /// The item.
    pub id: ItemId,
    /// Its file, relative to the folder.
    pub file: String,
    /// Its perceptual hash; `None` when none was made yet (done before hashes were).
    pub phash: Option<String>,
    /// Its format's extension, as judged from its bytes when it was downloaded.
    pub format: Option<String>,
}

/// What [`Library::add`](super::Library::add) found for one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Added {
    /// The item.
    pub id: ItemId,
    /// Its state before this call (`None`: it is new).
    pub before: Option<ItemState>,
    /// Its place in the queue.
    pub rank: i64,
}
