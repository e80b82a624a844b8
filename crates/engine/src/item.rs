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
    /// Done, then its file moved to the trash by the user: never fetched again.
    Removed,
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
            Self::Removed => "removed",
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "paused" => Self::Paused,
            "done" => Self::Done,
            "failed" => Self::Failed,
            "cancelled" => Self::Cancelled,
            "removed" => Self::Removed,
            _ => Self::Queued,
        }
    }
}

/// Where an item stands as a front end shows it: the stored [`ItemState`] plus the two
/// stages that exist only while the engine works on it (bytes arriving, thumbnail being
/// made). Events move an item between stages: `Started` → [`Stage::Downloading`],
/// `Done` → [`Stage::Decoding`], `Thumbnail`/`ThumbnailFailed` → [`Stage::Done`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Waiting for a download slot.
    Queued,
    /// Bytes are arriving.
    Downloading,
    /// The file is on disk; its thumbnail is being made.
    Decoding,
    /// On disk, with a thumbnail or a thumbnail error.
    Done,
    /// Gave up; the item's error says why.
    Failed,
    /// Cancelled by the user.
    Cancelled,
    /// Held by the user; a part file may be kept for resuming.
    Paused,
    /// Its file went to the trash (by the user).
    Removed,
}

impl Stage {
    /// A short word for people (the stored states use [`ItemState::as_str`]'s words).
    pub fn label(self) -> &'static str {
        match self {
            Self::Downloading => "downloading",
            Self::Decoding => "decoding",
            Self::Queued => ItemState::Queued.as_str(),
            Self::Done => ItemState::Done.as_str(),
            Self::Failed => ItemState::Failed.as_str(),
            Self::Cancelled => ItemState::Cancelled.as_str(),
            Self::Paused => ItemState::Paused.as_str(),
            Self::Removed => "removed by you",
        }
    }

    /// True once nothing more will happen to the item unless the user asks.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            Self::Done | Self::Failed | Self::Cancelled | Self::Paused | Self::Removed
        )
    }

    /// True when it can be tried again.
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled)
    }

    /// True while the engine works on it (a download slot or the thumbnail pool).
    pub fn is_active(self) -> bool {
        matches!(self, Self::Downloading | Self::Decoding)
    }
}

impl From<ItemState> for Stage {
    fn from(state: ItemState) -> Self {
        match state {
            ItemState::Queued => Self::Queued,
            ItemState::Paused => Self::Paused,
            ItemState::Done => Self::Done,
            ItemState::Failed => Self::Failed,
            ItemState::Cancelled => Self::Cancelled,
            ItemState::Removed => Self::Removed,
        }
    }
}
