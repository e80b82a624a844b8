//! What the window knows about every item: built from engine events, drawn by the
//! panels. No drawing and no I/O here, so it is cheap to test.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pixgrab_engine::ImageFormat;
use pixgrab_engine::Thumbnail;
use pixgrab_engine::Watch;
use pixgrab_engine::{Event, ItemId, Stage};
use url::Url;

/// A short name for a URL: its last path segment, percent-decoded (else its host).
/// Borrowed from the URL unless decoding changed it.
pub(crate) fn display_name(url: &Url) -> Cow<'_, str> {
    url.path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()))
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy())
        .unwrap_or_else(|| Cow::Borrowed(url.host_str().unwrap_or("?")))
}

/// Why an item failed, kept from its `Failed` event.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The reason, for people ("HTTP 404", "damaged: …").
    pub(crate) reason: String,
    /// A damaged file the user may keep anyway.
    pub(crate) keepable: bool,
}

/// Where an item's thumbnail pixels are.
#[derive(Debug, Clone)]
pub(crate) enum ThumbSlot {
    /// Nothing yet.
    Pending,
    /// Fresh pixels from the engine, waiting to become a texture, and the cache file
    /// they can be reloaded from.
    Pixels(Arc<Thumbnail>, Option<Box<Path>>),
    /// Uploaded (or evicted); reloadable from this cache file if evicted.
    Stored(Option<Box<Path>>),
    /// No thumbnail: the reason is shown on an error tile.
    Failed(Box<str>),
}

/// One row of the queue / one tile of the gallery: one per item, 100,000 of them for a
/// big list, so only what a row or tile shows is kept, compactly (`Box<str>` and
/// `Box<Path>`, no spare capacity; the name is the URL's until the file has one; what
/// few items have is boxed; the speed of a running download is in [`Model`]).
#[derive(Debug, Clone)]
pub(crate) struct ItemView {
    /// Which engine and which item in it.
    pub(crate) key: (usize, ItemId),
    /// The requested URL (shared with the engine's queue).
    pub(crate) url: Arc<Url>,
    /// The file's name once known (see [`ItemView::name`]).
    file_name: Option<Box<str>>,
    pub(crate) state: Stage,
    pub(crate) format: Option<ImageFormat>,
    /// Set while `state` is [`Stage::Failed`].
    pub(crate) failure: Option<Box<Failure>>,
    pub(crate) bytes: u64,
    pub(crate) total: Option<u64>,
    pub(crate) path: Option<Box<Path>>,
    pub(crate) dimensions: Option<(u32, u32)>,
    pub(crate) thumb: ThumbSlot,
    /// Why the item is waiting again ("HTTP 503; attempt 2 in 1 s").
    pub(crate) note: Option<Box<str>>,
}

impl ItemView {
    /// A display name: the file name once known, else the URL's last segment.
    pub(crate) fn name(&self) -> Cow<'_, str> {
        match &self.file_name {
            Some(name) => Cow::Borrowed(&**name),
            None => display_name(&self.url),
        }
    }
}

/// The last progress sample of a running download, for its speed.
#[derive(Debug, Clone, Copy)]
struct Rate {
    /// Smoothed bytes per second.
    speed: f64,
    /// When the last sample was taken, and the bytes then.
    sample: (Instant, u64),
}

/// Counts by state, kept up to date on every transition.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) queued: usize,
    pub(crate) active: usize,
    pub(crate) done: usize,
    pub(crate) failed: usize,
    pub(crate) cancelled: usize,
    pub(crate) paused: usize,
    pub(crate) removed: usize,
}

/// All items of this session.
#[derive(Default)]
pub(crate) struct Model {
    pub(crate) items: Vec<ItemView>,
    index: HashMap<(usize, ItemId), usize>,
    /// The queue list's order of items (indices into `items`).
    pub(crate) order: Vec<usize>,
    /// Items in the order they finished (done or failed): the gallery's order.
    pub(crate) gallery: Vec<usize>,
    /// Raised on every change of `gallery` (the gallery view rebuilds from it).
    pub(crate) gallery_version: u64,
    /// Raised each time items leave the gallery (a view that saw the same count knows
    /// the gallery only grew since).
    pub(crate) gallery_removals: u64,
    /// Items whose thumbnail pixels arrived and wait for upload.
    fresh: VecDeque<usize>,
    /// Running downloads' speed (by item index): only the few running have one.
    rates: HashMap<usize, Rate>,
    pub(crate) counts: Counts,
    /// Bytes of finished files.
    pub(crate) done_bytes: u64,
    /// When the current batch started, for speed and ETA.
    pub(crate) batch_started: Option<Instant>,
    /// Bytes received in the current batch.
    batch_bytes: u64,
    /// Items of the current batch that have settled.
    batch_finished: usize,
    /// Set when an engine paused (disk trouble); cleared when the user resumes.
    pub(crate) paused: Option<String>,
    /// Each host's current adaptive limit (`host:port` → downloads at once), as the
    /// engines last reported it.
    pub(crate) host_limits: std::collections::BTreeMap<String, usize>,
    /// Watched pages by (engine, page URL), with their last state.
    pub(crate) watches: std::collections::BTreeMap<(usize, String), Watch>,
}

impl Model {
    /// A finished download: its file, and a place in the gallery (the thumbnail follows).
    fn done(&mut self, idx: usize, info: pixgrab_engine::DoneInfo, now: Instant) {
        if info.restored {
            // Done in an earlier run: not part of this batch's speed.
            self.items[idx].bytes = info.bytes;
            self.items[idx].total = Some(info.bytes);
        } else {
            self.progress(idx, info.bytes, Some(info.bytes), now);
        }
        self.done_bytes += info.bytes;
        self.rates.remove(&idx);
        let item = &mut self.items[idx];
        item.note = info
            .duplicate_of
            .map(|_| "same file as an earlier download: not stored twice".into());
        if let Some(name) = info.path.file_name() {
            item.file_name = Some(name.to_string_lossy().into());
        }
        item.path = Some(info.path.into_boxed_path());
        item.format = Some(info.format);
        item.dimensions = info.dimensions;
        self.set_state(idx, Stage::Decoding);
        self.gallery.push(idx);
        self.gallery_version += 1;
    }

    /// A failed item: its tile shows the reason, and what could be read of a damaged
    /// image.
    fn failed(&mut self, idx: usize, reason: &pixgrab_engine::FetchError) {
        if let Some(preview) = reason.preview() {
            self.items[idx].thumb = ThumbSlot::Pixels(preview.clone(), None);
            self.fresh.push_back(idx);
        } else {
            self.items[idx].thumb = ThumbSlot::Failed(reason.to_string().into());
        }
        self.rates.remove(&idx);
        self.items[idx].failure = Some(Box::new(Failure {
            reason: reason.to_string(),
            keepable: matches!(reason, pixgrab_engine::FetchError::Damaged { .. }),
        }));
        self.set_state(idx, Stage::Failed);
        self.gallery.push(idx);
        self.gallery_version += 1;
    }

    /// Back in the queue: tried again from scratch, its error tile leaves the gallery.
    fn requeued(&mut self, idx: usize, now: Instant) {
        if self.items[idx].state.is_retryable() {
            self.leave_gallery(idx);
            let item = &mut self.items[idx];
            item.bytes = 0;
            item.total = None;
            item.thumb = ThumbSlot::Pending;
            item.failure = None;
        }
        self.items[idx].note = None;
        if self.counts.queued + self.counts.active == 0 {
            self.start_batch(now);
        }
        self.set_state(idx, Stage::Queued);
    }

    /// Applies one engine event from engine number `engine`.
    pub(crate) fn apply(&mut self, engine: usize, event: Event, now: Instant) {
        if let Event::Paused { reason } = &event {
            self.paused = Some(reason.clone());
            return;
        }
        if let Event::Queued { id, url } = event {
            self.queued(engine, id, url, now);
            return;
        }
        if let Event::HostLimit { host, limit } = &event {
            self.host_limits.insert(host.clone(), *limit);
            return;
        }
        if let Event::Watched(watch) = event {
            self.watches
                .insert((engine, watch.page.to_string()), *watch);
            return;
        }
        if let Event::Unwatched { page } = &event {
            self.watches.remove(&(engine, page.to_string()));
            return;
        }
        if let Event::MovedToTop { ids } = &event {
            let keys: Vec<(usize, ItemId)> = ids.iter().map(|id| (engine, *id)).collect();
            self.move_to_top(&keys);
            return;
        }
        let Some(id) = event.id() else { return };
        let Some(&idx) = self.index.get(&(engine, id)) else {
            return;
        };
        self.apply_to_item(idx, event, now);
    }

    /// Applies an event about one item (`idx`) to it.
    fn apply_to_item(&mut self, idx: usize, event: Event, now: Instant) {
        match event {
            Event::Started { total, .. } => {
                self.items[idx].total = total;
                self.items[idx].note = None;
                self.set_state(idx, Stage::Downloading);
            }
            Event::Progress { bytes, total, .. } => self.progress(idx, bytes, total, now),
            Event::Done { info, .. } => self.done(idx, *info, now),
            Event::Thumbnail { thumb, cached, .. } => {
                self.items[idx].thumb =
                    ThumbSlot::Pixels(thumb, cached.map(std::path::PathBuf::into_boxed_path));
                self.fresh.push_back(idx);
                self.set_state(idx, Stage::Done);
            }
            Event::ThumbnailCached { cached, .. } => {
                // Loaded when its tile comes into view (the gallery drops any older
                // texture of the item then).
                self.items[idx].thumb =
                    ThumbSlot::Stored(cached.map(std::path::PathBuf::into_boxed_path));
                self.fresh.push_back(idx);
                self.set_state(idx, Stage::Done);
            }
            Event::ThumbnailFailed { reason, .. } => {
                self.items[idx].thumb = ThumbSlot::Failed(reason.to_string().into());
                self.set_state(idx, Stage::Done);
            }
            Event::Failed { reason, .. } => self.failed(idx, &reason),
            Event::Cancelled { .. } => {
                self.rates.remove(&idx);
                self.set_state(idx, Stage::Cancelled);
            }
            Event::Retrying {
                attempt,
                delay,
                reason,
                ..
            } => {
                self.rates.remove(&idx);
                self.items[idx].note = Some(
                    format!(
                        "{reason}; attempt {attempt} in {}",
                        pixgrab_engine::Secs(Duration::from_secs(delay.as_secs().max(1)))
                    )
                    .into(),
                );
                self.set_state(idx, Stage::Queued);
            }
            Event::ItemPaused { bytes, .. } => {
                self.rates.remove(&idx);
                let item = &mut self.items[idx];
                item.bytes = bytes;
                item.note = None;
                self.set_state(idx, Stage::Paused);
            }
            Event::Requeued { .. } => self.requeued(idx, now),
            Event::Removed { .. } => {
                // In the trash: out of the gallery; its row says so.
                self.leave_gallery(idx);
                let item = &mut self.items[idx];
                item.path = None;
                item.thumb = ThumbSlot::Pending;
                item.note = None;
                self.set_state(idx, Stage::Removed);
            }
            Event::Queued { .. }
            | Event::Idle
            | Event::Paused { .. }
            | Event::MovedToTop { .. }
            | Event::HostLimit { .. }
            | Event::Watched(_)
            | Event::Unwatched { .. }
            | Event::Added { .. }
            | Event::CommandFailed { .. } => {}
        }
    }

    fn start_batch(&mut self, now: Instant) {
        self.batch_started = Some(now);
        self.batch_bytes = 0;
        self.batch_finished = 0;
    }

    fn queued(&mut self, engine: usize, id: ItemId, url: Arc<Url>, now: Instant) {
        if self.index.contains_key(&(engine, id)) {
            return;
        }
        if self.counts.queued + self.counts.active == 0 {
            self.start_batch(now);
        }
        self.index.insert((engine, id), self.items.len());
        self.order.push(self.items.len());
        self.items.push(ItemView {
            key: (engine, id),
            url,
            file_name: None,
            state: Stage::Queued,
            format: None,
            failure: None,
            bytes: 0,
            total: None,
            path: None,
            dimensions: None,
            thumb: ThumbSlot::Pending,
            note: None,
        });
        self.counts.queued += 1;
    }

    fn progress(&mut self, idx: usize, bytes: u64, total: Option<u64>, now: Instant) {
        let item = &mut self.items[idx];
        self.batch_bytes += bytes.saturating_sub(item.bytes);
        match self.rates.get_mut(&idx) {
            Some(rate) => {
                let (then, before) = rate.sample;
                let secs = now.duration_since(then).as_secs_f64();
                if secs > 0.05 {
                    let fresh = bytes.saturating_sub(before) as f64 / secs;
                    rate.speed = if rate.speed == 0.0 {
                        fresh
                    } else {
                        0.6 * rate.speed + 0.4 * fresh
                    };
                    rate.sample = (now, bytes);
                }
            }
            None => {
                let sample = (now, bytes);
                self.rates.insert(idx, Rate { speed: 0.0, sample });
            }
        }
        item.bytes = bytes;
        item.total = total.or(item.total);
    }

    /// Smoothed bytes per second of item `idx` while it downloads (else 0).
    pub(crate) fn speed(&self, idx: usize) -> f64 {
        self.rates.get(&idx).map_or(0.0, |r| r.speed)
    }

    /// Item `idx` leaves the gallery (tried again, or in the trash).
    fn leave_gallery(&mut self, idx: usize) {
        self.gallery.retain(|&i| i != idx);
        self.gallery_version += 1;
        self.gallery_removals += 1;
    }

    fn set_state(&mut self, idx: usize, state: Stage) {
        let old = std::mem::replace(&mut self.items[idx].state, state);
        if state.is_settled() && !old.is_settled() {
            self.batch_finished += 1;
        }
        self.count(old, -1);
        self.count(state, 1);
    }

    fn count(&mut self, state: Stage, delta: isize) {
        let c = &mut self.counts;
        let slot = match state {
            Stage::Queued => &mut c.queued,
            Stage::Downloading | Stage::Decoding => &mut c.active,
            Stage::Done => &mut c.done,
            Stage::Failed => &mut c.failed,
            Stage::Cancelled => &mut c.cancelled,
            Stage::Paused => &mut c.paused,
            Stage::Removed => &mut c.removed,
        };
        *slot = slot.saturating_add_signed(delta);
    }

    /// Items whose fresh pixels should be uploaded now (each returned once).
    pub(crate) fn take_fresh(&mut self) -> Vec<usize> {
        self.fresh.drain(..).collect()
    }

    /// Moves rows to the top of the queue list, in the given order, as the engine
    /// reports it moved them in its queue ([`Event::MovedToTop`]).
    fn move_to_top(&mut self, keys: &[(usize, ItemId)]) {
        let rows: Vec<usize> = keys
            .iter()
            .filter_map(|k| self.index.get(k).copied())
            .collect();
        // A set, so moving thousands of rows of 100,000 is not thousands of scans.
        let moved: std::collections::HashSet<usize> = rows.iter().copied().collect();
        self.order.retain(|i| !moved.contains(i));
        self.order.splice(0..0, rows);
    }

    /// Items of one engine with these indices, as (engine, ids) groups.
    pub(crate) fn keys(&self, indices: impl IntoIterator<Item = usize>) -> Vec<(usize, ItemId)> {
        indices
            .into_iter()
            .filter_map(|i| self.items.get(i).map(|item| item.key))
            .collect()
    }

    /// The index of engine `engine`'s item `id`.
    pub(crate) fn idx_of(&self, engine: usize, id: ItemId) -> Option<usize> {
        self.index.get(&(engine, id)).copied()
    }

    /// Indices of the items whose URL has this host.
    pub(crate) fn of_host(&self, host: &str) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| self.items[i].url.host_str() == Some(host))
            .collect()
    }

    /// Makes room for `n` more items at once (an add of `n` URLs was sent), so a list
    /// of 100,000 is held in vectors allocated at their final size, not grown by
    /// doubling (each doubling held the old and the new copy: 34 MB for 100,000).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.items.reserve(n);
        self.index.reserve(n);
        self.order.reserve(n);
    }

    /// True when nothing is queued or running.
    pub(crate) fn is_idle(&self) -> bool {
        self.counts.queued == 0 && self.counts.active == 0
    }

    /// Bytes per second over the current batch.
    pub(crate) fn batch_speed(&self, now: Instant) -> f64 {
        let Some(start) = self.batch_started else {
            return 0.0;
        };
        let secs = now.duration_since(start).as_secs_f64();
        if secs < 0.2 {
            0.0
        } else {
            self.batch_bytes as f64 / secs
        }
    }

    /// Seconds left, estimated from the finished share of the batch.
    pub(crate) fn eta_secs(&self, now: Instant) -> Option<f64> {
        let start = self.batch_started?;
        let left = self.counts.queued + self.counts.active;
        if left == 0 || self.batch_finished == 0 {
            return None;
        }
        let per_item = now.duration_since(start).as_secs_f64() / self.batch_finished as f64;
        Some(per_item * left as f64)
    }
}
