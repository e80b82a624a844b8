//! A queued download (`Job`) and the key of its host.

use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::time::Instant;

use url::Url;

use crate::item::ItemId;
use crate::net::fetch::Resume;

/// A queued download. Kept small (about 170 bytes besides its URL's text): a queue
/// holds one per item, 100,000 of them for a big list. What only some jobs have is boxed.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: ItemId,
    /// Shared with the events and front ends that name the item: stored once.
    pub(crate) url: Arc<Url>,
    /// Raised to [`STOP_CANCEL`](crate::net::fetch::STOP_CANCEL) or
    /// [`STOP_PAUSE`](crate::net::fetch::STOP_PAUSE) to stop a running transfer; made when
    /// the job first starts (a waiting job needs none).
    pub(crate) stop: Option<Arc<AtomicU8>>,
    /// Queue order: lower goes first.
    pub(crate) rank: i64,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// Of those, attempts that ended in a stall.
    pub(crate) stalls: u32,
    /// An attempt already brought a damaged image (the next damaged one is final).
    pub(crate) damaged: bool,
    /// Not before this time (a retry's back-off).
    pub(crate) not_before: Option<Instant>,
    /// The part file of an earlier attempt, to continue.
    pub(crate) resume: Option<Box<Resume>>,
    /// A part file left by an earlier run, reopened when the job starts.
    pub(crate) part: Option<Box<crate::disk::library::PartRecord>>,
    /// The page the URL was found on (sent as its Referer unless a profile says
    /// otherwise), shared by the items found on it.
    pub(crate) page: Option<Arc<Url>>,
}

impl Job {
    pub(crate) fn new(id: ItemId, url: Arc<Url>, rank: i64) -> Self {
        Self {
            id,
            url,
            stop: None,
            rank,
            attempts: 0,
            stalls: 0,
            damaged: false,
            not_before: None,
            resume: None,
            part: None,
            page: None,
        }
    }
}

impl Job {
    /// A job for an item of the library (its URL already parsed), with its rank and
    /// the page it was found on; without the part (see [`Job::part`]).
    pub(crate) fn from_record(record: &crate::disk::library::Record, url: Arc<Url>) -> Self {
        let mut job = Self::new(record.id, url, record.rank);
        job.page = record
            .page
            .as_deref()
            .and_then(|p| Url::parse(p).ok())
            .map(Arc::new);
        job
    }
}

/// The key that per-host limits are counted by: `host:port`.
pub(crate) fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}
