//! What the gallery shows and in which order: sort, filters and tile size (remembered
//! per folder in the settings), the list of items shown, and the keyboard cursor and
//! selection over that list. Pure state; `gallery.rs` draws it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use pixgrab_engine::Stage;

use super::model::{ItemView, Model};

/// Sort orders of the gallery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) enum SortBy {
    /// As downloads finished.
    #[default]
    Finished,
    /// By file name.
    Name,
    /// By file size.
    Bytes,
    /// By pixel count.
    Pixels,
    /// By host, then name.
    Host,
}

impl SortBy {
    pub(crate) const ALL: [SortBy; 5] = [
        SortBy::Finished,
        SortBy::Name,
        SortBy::Bytes,
        SortBy::Pixels,
        SortBy::Host,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            SortBy::Finished => "finish order",
            SortBy::Name => "name",
            SortBy::Bytes => "file size",
            SortBy::Pixels => "pixel size",
            SortBy::Host => "host",
        }
    }
}

/// Which states the gallery shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub(crate) enum ShowState {
    #[default]
    All,
    Done,
    Failed,
}

impl ShowState {
    pub(crate) const ALL: [ShowState; 3] = [ShowState::All, ShowState::Done, ShowState::Failed];

    pub(crate) fn label(self) -> &'static str {
        match self {
            ShowState::All => "all",
            ShowState::Done => "downloaded",
            ShowState::Failed => "failed",
        }
    }
}

/// The tile sizes the slider allows, in points.
pub(crate) const TILE_RANGE: std::ops::RangeInclusive<u16> = 96..=384;

/// A folder's gallery settings (stored per folder).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ViewSettings {
    pub(crate) sort: SortBy,
    pub(crate) descending: bool,
    pub(crate) state: ShowState,
    /// Only this host (empty: all).
    pub(crate) host: String,
    /// Only this format's extension (empty: all).
    pub(crate) kind: String,
    /// Only images at least this wide and high (0: any).
    pub(crate) min_side: u32,
    /// Only names containing this (case-insensitive).
    pub(crate) search: String,
    /// Tile side in points.
    pub(crate) tile: u16,
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            sort: SortBy::Finished,
            descending: false,
            state: ShowState::All,
            host: String::new(),
            kind: String::new(),
            min_side: 0,
            search: String::new(),
            tile: 150,
        }
    }
}

impl ViewSettings {
    fn keeps(&self, item: &ItemView, search: &str) -> bool {
        let state_ok = match self.state {
            ShowState::All => true,
            ShowState::Done => item.failure.is_none() && item.state != Stage::Failed,
            ShowState::Failed => item.state == Stage::Failed,
        };
        state_ok
            && (self.host.is_empty() || item.url.host_str() == Some(self.host.as_str()))
            && (self.kind.is_empty() || item.format.is_some_and(|f| f.extension() == self.kind))
            && (self.min_side == 0
                || item
                    .dimensions
                    .is_some_and(|(w, h)| w >= self.min_side && h >= self.min_side))
            && (search.is_empty() || item.name().to_lowercase().contains(search))
    }
}

/// Rebuilt at most this often while items keep arriving (a sort of 10,000 names each
/// frame would cost the frame); at once when the settings change.
const REBUILD_EVERY: Duration = Duration::from_millis(250);

/// One run of a name for [`natural_key`]: numbers before letters, numbers by value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Chunk {
    Number(u128),
    Text(String),
}

/// A name's key in natural order: `picture-2` before `picture-10`, case ignored.
fn natural_key(name: &str) -> Vec<Chunk> {
    let mut key = Vec::new();
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest
            .find(|ch: char| ch.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        key.push(match run.parse::<u128>() {
            Ok(n) if digit => Chunk::Number(n),
            _ => Chunk::Text(run.to_lowercase()),
        });
        rest = tail;
    }
    key
}

/// Galleries up to this many items are rebuilt at every change.
const CHEAP_REBUILD: usize = 2000;

/// A name and its natural-order key.
type NameKey = (Box<str>, std::rc::Rc<[Chunk]>);

/// In [`GalleryView::positions`]: the item is not shown.
const NOT_SHOWN: u32 = u32::MAX;

/// What the shown list was last built from.
struct Built {
    settings: ViewSettings,
    /// [`Model::gallery_version`] then.
    version: u64,
    /// [`Model::gallery_removals`] then: while it holds, the gallery only grew.
    removals: u64,
    at: Instant,
}

/// The gallery's view of the model.
#[derive(Default)]
pub(crate) struct GalleryView {
    pub(crate) settings: ViewSettings,
    /// The folder whose remembered settings `settings` holds.
    folder: String,
    /// Item indices shown, in order.
    shown: Vec<usize>,
    /// Each item's position in `shown` (by item index; [`NOT_SHOWN`] if it is not), so
    /// finding a fresh thumbnail's place costs no search of 100,000 positions.
    positions: Vec<u32>,
    /// What `shown` was built from: the settings, the model's gallery version and
    /// removal count, and when.
    built: Option<Built>,
    /// The keyboard cursor: a position in `shown`.
    pub(crate) cursor: Option<usize>,
    /// Where a Shift-selection started (a position in `shown`).
    anchor: Option<usize>,
    /// Selected items (item indices, so a re-sort keeps them).
    pub(crate) selected: BTreeSet<usize>,
    /// Each item's natural-order name key, made once (by item index; with the name it
    /// was made from, as a name changes once the file is known).
    name_keys: Vec<Option<NameKey>>,
}

impl GalleryView {
    /// The gallery's sort and filters are remembered per folder: another folder brings
    /// its own back from `views`; a change is stored there for this one.
    pub(crate) fn sync_folder(&mut self, folder: &str, views: &mut BTreeMap<String, ViewSettings>) {
        if self.folder != folder {
            self.settings = views.get(folder).cloned().unwrap_or_default();
            self.folder = folder.to_string();
        } else if views.get(folder) != Some(&self.settings) {
            views.insert(folder.to_string(), self.settings.clone());
        }
    }

    /// Item indices shown, in order.
    pub(crate) fn shown(&self) -> &[usize] {
        &self.shown
    }

    /// True when the view shows the gallery as it is: finish order, nothing filtered.
    pub(crate) fn is_identity(&self) -> bool {
        let s = &self.settings;
        s.sort == SortBy::Finished
            && !s.descending
            && s.state == ShowState::All
            && s.host.is_empty()
            && s.kind.is_empty()
            && s.min_side == 0
            && s.search.trim().is_empty()
    }

    /// Where item `idx` is shown: a look-up, not a search. An item that finished since
    /// the last rebuild is not in the list yet; in finish order it will be where the
    /// gallery has it, among the items that finished since (searched from the end).
    pub(crate) fn position_of(&self, idx: usize, model: &Model) -> Option<usize> {
        if let Some(pos) = self.position_of_shown(idx) {
            return Some(pos);
        }
        if !self.is_identity() {
            return None;
        }
        let from = self.shown.len().min(model.gallery.len());
        model.gallery[from..]
            .iter()
            .rposition(|&i| i == idx)
            .map(|at| from + at)
    }

    /// Rebuilds the shown list if the settings or (not too often) the model changed.
    pub(crate) fn refresh(&mut self, model: &Model, now: Instant) {
        if let Some(built) = &self.built {
            let same = built.settings == self.settings;
            // Cheap rebuilds (finish order unfiltered is a copy; a small gallery) are
            // never put off.
            let cheap = self.is_identity() || model.gallery.len() <= CHEAP_REBUILD;
            if same
                && (built.version == model.gallery_version
                    || (!cheap && now.saturating_duration_since(built.at) < REBUILD_EVERY))
            {
                return;
            }
            if same && self.is_identity() && built.removals == model.gallery_removals {
                // Finish order, unfiltered, and the gallery only grew: append what is new.
                self.append_new(model, now);
                return;
            }
        }
        self.rebuild(model, now);
    }

    /// Appends the items that finished since the last build (finish order, unfiltered,
    /// nothing left the gallery): the work is the new items', not the whole gallery's.
    fn append_new(&mut self, model: &Model, now: Instant) {
        let from = self.shown.len().min(model.gallery.len());
        for &idx in &model.gallery[from..] {
            self.set_position(idx, self.shown.len());
            self.shown.push(idx);
        }
        self.remember_build(model, now);
    }

    /// Notes item `idx` at position `pos` in the position index.
    fn set_position(&mut self, idx: usize, pos: usize) {
        if self.positions.len() <= idx {
            self.positions.resize(idx + 1, NOT_SHOWN);
        }
        self.positions[idx] = u32::try_from(pos).unwrap_or(NOT_SHOWN);
    }

    fn remember_build(&mut self, model: &Model, now: Instant) {
        self.built = Some(Built {
            settings: self.settings.clone(),
            version: model.gallery_version,
            removals: model.gallery_removals,
            at: now,
        });
    }

    /// Builds the shown list again: filter, sort, positions, and the cursor kept on its
    /// item.
    fn rebuild(&mut self, model: &Model, now: Instant) {
        let cursor_item = self.cursor.and_then(|c| self.shown.get(c).copied());
        let search = self.settings.search.trim().to_lowercase();
        self.shown.clear();
        self.shown
            .extend(model.gallery.iter().copied().filter(|&i| {
                model
                    .items
                    .get(i)
                    .is_some_and(|it| self.settings.keeps(it, &search))
            }));
        if matches!(self.settings.sort, SortBy::Name | SortBy::Host) {
            self.name_keys.resize(model.items.len(), None);
            for &i in &self.shown {
                let name = model.items[i].name();
                if self.name_keys[i].as_ref().is_none_or(|(n, _)| **n != *name) {
                    self.name_keys[i] = Some((name.as_ref().into(), natural_key(&name).into()));
                }
            }
        }
        let keys = &self.name_keys;
        let name_key = |i: usize| keys[i].as_ref().map(|(_, k)| k.clone()).unwrap_or_default();
        let items = &model.items;
        let key_bytes = |i: &usize| items[*i].total.unwrap_or(items[*i].bytes);
        let key_pixels = |i: &usize| {
            items[*i]
                .dimensions
                .map_or(0, |(w, h)| u64::from(w) * u64::from(h))
        };
        match self.settings.sort {
            SortBy::Finished => {}
            SortBy::Name => self.shown.sort_by_cached_key(|&i| name_key(i)),
            SortBy::Bytes => self.shown.sort_by_key(key_bytes),
            SortBy::Pixels => self.shown.sort_by_key(key_pixels),
            SortBy::Host => self.shown.sort_by_cached_key(|&i| {
                (
                    items[i].url.host_str().unwrap_or_default().to_string(),
                    name_key(i),
                )
            }),
        }
        if self.settings.descending {
            self.shown.reverse();
        }
        self.positions.clear();
        self.positions.resize(model.items.len(), NOT_SHOWN);
        for pos in 0..self.shown.len() {
            self.set_position(self.shown[pos], pos);
        }
        // The cursor stays on its item if it is still shown.
        self.cursor = cursor_item
            .and_then(|item| self.position_of_shown(item))
            .or(self
                .cursor
                .map(|c| c.min(self.shown.len().saturating_sub(1))))
            .filter(|_| !self.shown.is_empty());
        self.remember_build(model, now);
    }

    /// Where item `idx` is in the shown list as last built.
    fn position_of_shown(&self, idx: usize) -> Option<usize> {
        self.positions
            .get(idx)
            .filter(|&&pos| pos != NOT_SHOWN)
            .map(|&pos| pos as usize)
    }

    /// Moves the cursor by `delta` positions (clamped); with `extend`, selects the
    /// range from the anchor to the new position, else only moves.
    pub(crate) fn move_cursor(&mut self, delta: isize, extend: bool) {
        if self.shown.is_empty() {
            return;
        }
        let last = self.shown.len() - 1;
        let from = self.cursor.unwrap_or(0);
        let to = if self.cursor.is_none() {
            0
        } else {
            from.saturating_add_signed(delta).min(last)
        };
        if extend {
            let anchor = *self.anchor.get_or_insert(from);
            let (a, b) = (anchor.min(to), anchor.max(to));
            self.selected = self.shown[a..=b].iter().copied().collect();
        } else {
            self.anchor = None;
        }
        self.cursor = Some(to);
    }

    /// Space: the item under the cursor in or out of the selection.
    pub(crate) fn toggle_at_cursor(&mut self) {
        if let Some(item) = self.cursor.and_then(|c| self.shown.get(c).copied())
            && !self.selected.remove(&item)
        {
            self.selected.insert(item);
        }
        self.anchor = self.cursor;
    }

    /// What an action applies to: the selection, else the cursor's item.
    pub(crate) fn acted_on(&self) -> Vec<usize> {
        if self.selected.is_empty() {
            self.cursor
                .and_then(|c| self.shown.get(c).copied())
                .into_iter()
                .collect()
        } else {
            self.selected.iter().copied().collect()
        }
    }

    /// Ctrl+A: every item shown.
    pub(crate) fn select_all_shown(&mut self) {
        self.selected = self.shown.iter().copied().collect();
    }

    /// The distinct hosts and formats of the gallery, for the filter menus (drawn each
    /// frame a menu is open: a host is copied once, not once per item).
    pub(crate) fn choices(model: &Model) -> (BTreeSet<String>, BTreeSet<&'static str>) {
        let mut hosts = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        for &i in &model.gallery {
            if let Some(item) = model.items.get(i) {
                if let Some(host) = item.url.host_str()
                    && !hosts.contains(host)
                {
                    hosts.insert(host.to_string());
                }
                if let Some(format) = item.format {
                    kinds.insert(format.extension());
                }
            }
        }
        (hosts, kinds)
    }
}

#[cfg(test)]
mod tests {
    use super::natural_key;

    #[test]
    fn names_sort_in_natural_order() {
        let mut names = vec![
            "picture-10.jpg",
            "Picture-2.jpg",
            "picture-100.jpg",
            "a.jpg",
            "picture-1.jpg",
        ];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(
            names,
            [
                "a.jpg",
                "picture-1.jpg",
                "Picture-2.jpg",
                "picture-10.jpg",
                "picture-100.jpg"
            ]
        );
    }
}
