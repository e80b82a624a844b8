//! What an item is called and where it stands: the identity and the states every
//! layer (library, scheduler, engine, front ends) shares. A leaf: it imports nothing.

/// Identifies one item of an output folder's library, across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemId(pub u64);

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Waiting for (or in) a download.
    Queued,
    /// Held by the user; a part file may be kept for resuming.
    Paused,
    /// The file is complete and in place.
    Done,
    /// Gave up; `error` says why.
    Failed,
    /// Cancelled by the user.
    Cancelled,
}

impl ItemState {
    /// The word stored in the database and shown in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Paused => "paused",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "paused" => Self::Paused,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            _ => Self::Queued,
        }
    }
}
