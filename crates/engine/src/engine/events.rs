//! What an engine tells its front end: the [`Event`]s on its channel, and the sender
//! that wakes the receiver and notices when all work has settled.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::Sender;
use url::Url;

use super::Waker;
use crate::error::FetchError;
use crate::imaging::reasons::ThumbError;
use crate::imaging::sniff::ImageFormat;
use crate::imaging::thumbs::Thumbnail;
use crate::item::ItemId;

/// A finished download, as reported in [`Event::Done`].
#[derive(Debug, Clone)]
pub struct DoneInfo {
    /// Final path inside the output folder.
    pub path: PathBuf,
    /// File size.
    pub bytes: u64,
    /// The format judged from the bytes.
    pub format: ImageFormat,
    /// The server's Content-Type, if any.
    pub content_type: Option<String>,
    /// Pixel width and height from the image header, if readable.
    pub dimensions: Option<(u32, u32)>,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// The URL after redirects.
    pub final_url: Url,
    /// The same bytes were already in the library: `path` is that item's file and
    /// nothing new was stored.
    pub duplicate_of: Option<ItemId>,
    /// Done in an earlier run (restored from the library).
    pub restored: bool,
}

/// What the engine reports. Per item the order is: `Queued`, then either
/// `Cancelled`, or one or more attempts (`Started`, `Progress`*, and `Retrying` between
/// attempts), then `Failed`/`Cancelled`/`ItemPaused`, or `Done` followed by exactly one
/// of `Thumbnail` / `ThumbnailFailed`. `Requeued` brings a paused, failed or cancelled
/// item back to the queue, and the sequence goes on from its attempts. Items restored
/// from the library start with `Queued` too, followed at once by the state they had.
#[derive(Debug, Clone)]
pub enum Event {
    /// A watched page: watched now, checked (with what it found or why it failed), or
    /// found in the library when the engine started.
    Watched(Box<crate::disk::library::Watch>),
    /// A page is no longer watched.
    Unwatched {
        /// The page.
        page: Url,
    },
    /// The URL is in the queue.
    Queued {
        /// The item.
        id: ItemId,
        /// Its URL (the queue's own copy, shared: a front end that keeps it for the
        /// item's life costs a pointer, not another copy).
        url: Arc<Url>,
    },
    /// The server answered; the body is coming.
    Started {
        /// The item.
        id: ItemId,
        /// Content-Length, if announced.
        total: Option<u64>,
    },
    /// Bytes so far (throttled to a few per second per item).
    Progress {
        /// The item.
        id: ItemId,
        /// Bytes received.
        bytes: u64,
        /// Content-Length, if announced.
        total: Option<u64>,
    },
    /// The file is complete, checked and in place.
    Done {
        /// The item.
        id: ItemId,
        /// Where and what (boxed: it is the largest payload, and a queue of events is
        /// as wide as its widest one).
        info: Box<DoneInfo>,
    },
    /// A thumbnail for a done item.
    Thumbnail {
        /// The item.
        id: ItemId,
        /// Pixels, at most `thumb_side` on the long side.
        thumb: Arc<Thumbnail>,
        /// The cache file holding the same thumbnail, if it could be written.
        cached: Option<PathBuf>,
    },
    /// A thumbnail for a done item, without its pixels: sent instead of
    /// [`Event::Thumbnail`] when the receiver is behind (more than about 256 events
    /// wait), so pixels do not pile up in the channel; a front end loads the cache
    /// file (or makes the thumbnail again from the file) when it shows the picture.
    ThumbnailCached {
        /// The item.
        id: ItemId,
        /// The thumbnail's width in pixels.
        width: u32,
        /// The thumbnail's height in pixels.
        height: u32,
        /// The cache file holding it, if it could be written.
        cached: Option<PathBuf>,
    },
    /// No thumbnail could be made; the file is kept.
    ThumbnailFailed {
        /// The item.
        id: ItemId,
        /// Why.
        reason: ThumbError,
    },
    /// The download failed; nothing was kept.
    Failed {
        /// The item.
        id: ItemId,
        /// Why, for people.
        reason: FetchError,
    },
    /// The item was cancelled; nothing was kept.
    Cancelled {
        /// The item.
        id: ItemId,
    },
    /// An attempt failed in a way that may pass; the item is queued again.
    Retrying {
        /// The item.
        id: ItemId,
        /// The attempt that comes next (2 for the first retry).
        attempt: u32,
        /// How long until it may start.
        delay: Duration,
        /// What went wrong this time.
        reason: FetchError,
    },
    /// No new download starts until
    /// [`Command::ResumeAll`](super::commands::Command::ResumeAll) (after a disk error).
    Paused {
        /// Why.
        reason: String,
    },
    /// The item is paused; its part file (if any) is kept to continue later.
    ItemPaused {
        /// The item.
        id: ItemId,
        /// Bytes kept in the part file.
        bytes: u64,
    },
    /// A paused, failed or cancelled item is back in the queue.
    Requeued {
        /// The item.
        id: ItemId,
    },
    /// Every item added so far has reached its last event.
    Idle,
    /// A host's adaptive limit changed: it may have `limit` downloads at once now.
    HostLimit {
        /// The host as `host:port`.
        host: String,
        /// Downloads at once.
        limit: usize,
    },
    /// A done item's file went to the trash
    /// ([`Command::Trash`](super::commands::Command::Trash)); the item is removed by the
    /// user and never fetched again. `kept_file`: other items point to the same file
    /// (identical bytes), so the file itself stayed.
    Removed {
        /// The item.
        id: ItemId,
        /// The file stayed for the other items that share it.
        kept_file: bool,
    },
    /// Items moved to the front of the queue, in this order (after
    /// [`Command::MoveToTop`](super::commands::Command::MoveToTop)); a front end's list
    /// follows the engine's order.
    MovedToTop {
        /// The items, first first.
        ids: Vec<ItemId>,
    },
    /// A [`Command::Add`](super::commands::Command::Add) was carried out: of `asked`
    /// URLs, `new` became new items; the others were in the library already (failed and
    /// cancelled ones were queued again).
    Added {
        /// URLs in the command.
        asked: usize,
        /// New items among them.
        new: usize,
    },
    /// A command could not be carried out (the library could not be written). For an
    /// `Add`, its URLs come back so nothing typed is lost.
    CommandFailed {
        /// Why, for people.
        reason: String,
        /// The URLs of a failed `Add` (empty for other commands).
        urls: Vec<Url>,
    },
}

impl Event {
    /// The item this event is about (`None` for [`Event::Idle`]).
    pub fn id(&self) -> Option<ItemId> {
        match self {
            Self::Queued { id, .. }
            | Self::Started { id, .. }
            | Self::Progress { id, .. }
            | Self::Done { id, .. }
            | Self::Thumbnail { id, .. }
            | Self::ThumbnailCached { id, .. }
            | Self::ThumbnailFailed { id, .. }
            | Self::Failed { id, .. }
            | Self::Retrying { id, .. }
            | Self::ItemPaused { id, .. }
            | Self::Requeued { id }
            | Self::Removed { id, .. }
            | Self::Cancelled { id } => Some(*id),
            Self::Idle
            | Self::Paused { .. }
            | Self::MovedToTop { .. }
            | Self::HostLimit { .. }
            | Self::Added { .. }
            | Self::Watched(_)
            | Self::Unwatched { .. }
            | Self::CommandFailed { .. } => None,
        }
    }
}

/// Events waiting in the channel past which a made thumbnail is sent as
/// [`Event::ThumbnailCached`]: about this many pictures' pixels at most wait for a
/// receiver that is behind (256 thumbnails of 256 x 192: 50 MB; the thumbnail threads
/// check and send apart, so each may add one).
pub(super) const PIXELS_BACKLOG: usize = 256;

/// Sends events, wakes the receiver, and notices when all work is settled.
pub(super) struct Events {
    pub(super) tx: Sender<Event>,
    pub(super) waker: Option<Waker>,
    /// Items added but not yet settled.
    pub(super) outstanding: AtomicUsize,
}

impl Events {
    /// True when more than [`PIXELS_BACKLOG`] events wait for the receiver.
    pub(super) fn behind(&self) -> bool {
        self.tx.len() > PIXELS_BACKLOG
    }

    pub(super) fn send(&self, event: Event) {
        // A closed channel only means nobody listens any more; the work goes on.
        let _ = self.tx.send(event);
        if let Some(wake) = &self.waker {
            wake();
        }
    }

    /// An item enters the queue (or comes back to it).
    pub(super) fn enter(&self, count: usize) {
        self.outstanding.fetch_add(count, Ordering::AcqRel);
    }

    /// Sends an item's last event and, if it was the last outstanding item, `Idle`.
    pub(super) fn settle(&self, event: Event) {
        self.send(event);
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.send(Event::Idle);
        }
    }
}
