//! The thumbnail grid: virtualized (only rows on screen are laid out), with a texture
//! budget. Textures are the one place thumbnail pixels live once uploaded; past the
//! budget the least recently shown are dropped and reloaded from the on-disk cache
//! when they scroll back into view.

use std::collections::{HashMap, HashSet};

use egui::{Color32, CornerRadius, Rect, Sense, Stroke, TextureHandle, TextureOptions, Vec2};

use super::model::{ItemView, Model, ThumbSlot};
use super::tasks::{Tasks, ThumbRequest};
use super::view::{GalleryView, ShowState, SortBy, TILE_RANGE};

/// Most thumbnail textures kept at once (~256 KiB each at most, so ~100 MiB): several
/// screens' worth even on a 4K display.
pub(crate) const TEXTURE_BUDGET: usize = 400;

/// Height of the caption under a tile.
const CAPTION: f32 = 34.0;
const GAP: f32 = 8.0;

/// Gallery state: textures and what is being reloaded.
pub(crate) struct Gallery {
    textures: HashMap<usize, (TextureHandle, u64)>,
    reloading: HashSet<usize>,
    frame: u64,
    /// Most textures kept ([`TEXTURE_BUDGET`]; tests use less).
    pub(crate) budget: usize,
    /// The engines' thumbnail side, for thumbnails made again from their originals.
    pub(crate) thumb_side: u32,
    /// Gallery positions drawn in the last frame, widened by a screenful each way: fresh
    /// thumbnails there become textures at once; the others wait in the cache.
    near: std::ops::Range<usize>,
    /// Sort, filters, tile size, cursor and selection.
    pub(crate) view: GalleryView,
    /// The grid's scroll offset in the last frame.
    scroll_offset: f32,
    /// The arrows moved the cursor: scroll it into view.
    cursor_moved: bool,
}

/// How a tile is marked.
#[derive(Clone, Copy)]
struct Marks {
    cursor: bool,
    selected: bool,
}

impl Default for Gallery {
    fn default() -> Self {
        Self {
            textures: HashMap::new(),
            reloading: HashSet::new(),
            frame: 0,
            budget: TEXTURE_BUDGET,
            thumb_side: pixgrab_engine::DEFAULT_THUMB_SIDE,
            // Before the first frame: the first screenfuls.
            near: 0..TEXTURE_BUDGET / 4,
            view: GalleryView::default(),
            scroll_offset: 0.0,
            cursor_moved: false,
        }
    }
}

/// What the user did in the gallery this frame.
pub(crate) enum GalleryAction {
    /// Open the viewer on this position of the shown list.
    Open(usize),
    /// Do this with these items (model indices): the selection, or the cursor's item.
    Selection(SelectionOp, Vec<usize>),
    /// Look for groups of similar images.
    FindSimilar,
}

/// What can be done with the gallery's selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SelectionOp {
    /// Ask, then move their files to the trash (Delete).
    Trash,
    /// Try failed ones again.
    Retry,
    /// Copy their file paths, one per line.
    CopyPaths,
    /// Copy their URLs, one per line.
    CopyUrls,
    /// Show the folder of the first one.
    OpenFolder,
}

impl Gallery {
    /// Number of live textures (for tests and the status line).
    pub(crate) fn texture_count(&self) -> usize {
        self.textures.len()
    }

    /// True if item `idx` currently has a texture.
    #[cfg(test)]
    pub(crate) fn has_texture(&self, idx: usize) -> bool {
        self.textures.contains_key(&idx)
    }

    /// Uploads fresh thumbnails near the view as textures; the pixels of the others
    /// are dropped, to be reloaded from the cache file if they scroll into view (one
    /// without a cache file keeps its pixels). Either way the model keeps no pixels
    /// long: with 10,000 images arriving, textures are made only for what is seen.
    pub(crate) fn ingest(&mut self, ctx: &egui::Context, model: &mut Model) {
        for idx in model.take_fresh() {
            if model
                .items
                .get(idx)
                .is_some_and(|item| matches!(item.thumb, ThumbSlot::Stored(_)))
            {
                // Sent without pixels: loaded when shown, and no older texture (a
                // damaged download's preview) stands in for it meanwhile.
                self.textures.remove(&idx);
                continue;
            }
            let near = self
                .view
                .position_of(idx, model)
                .is_some_and(|pos| self.near.contains(&pos));
            if !near
                && let Some(item) = model.items.get_mut(idx)
                && let ThumbSlot::Pixels(_, Some(cached)) = &item.thumb
            {
                item.thumb = ThumbSlot::Stored(Some(cached.clone()));
            } else {
                self.upload_from_slot(ctx, model, idx);
            }
        }
    }

    /// Takes a reloaded thumbnail.
    pub(crate) fn reloaded(
        &mut self,
        ctx: &egui::Context,
        model: &mut Model,
        idx: usize,
        thumb: pixgrab_engine::Thumbnail,
    ) {
        self.reloading.remove(&idx);
        if let Some(item) = model.items.get_mut(idx) {
            let cached = match &item.thumb {
                ThumbSlot::Stored(c) => c.clone(),
                _ => None,
            };
            let texture = ctx.load_texture(
                format!("thumb-{idx}"),
                color_image(&thumb),
                TextureOptions::LINEAR,
            );
            self.textures.insert(idx, (texture, self.frame));
            item.thumb = ThumbSlot::Stored(cached);
        }
    }

    /// A reload failed: show the reason on the tile.
    pub(crate) fn reload_failed(&mut self, model: &mut Model, idx: usize, reason: String) {
        self.reloading.remove(&idx);
        if let Some(item) = model.items.get_mut(idx) {
            item.thumb = ThumbSlot::Failed(reason.into());
        }
    }

    fn upload_from_slot(&mut self, ctx: &egui::Context, model: &mut Model, idx: usize) {
        let Some(item) = model.items.get_mut(idx) else {
            return;
        };
        if let ThumbSlot::Pixels(thumb, cached) = &item.thumb {
            let texture = ctx.load_texture(
                format!("thumb-{idx}"),
                color_image(thumb),
                TextureOptions::LINEAR,
            );
            self.textures.insert(idx, (texture, self.frame));
            item.thumb = ThumbSlot::Stored(cached.clone());
        }
    }

    /// Drops the least recently shown textures beyond the budget.
    fn evict(&mut self) {
        if self.textures.len() <= self.budget {
            return;
        }
        let mut by_age: Vec<(u64, usize)> = self
            .textures
            .iter()
            .map(|(idx, (_, used))| (*used, *idx))
            .collect();
        by_age.sort_unstable();
        let excess = self.textures.len() - self.budget;
        for (used, idx) in by_age.into_iter().take(excess) {
            if used == self.frame {
                break; // Never drop what is on screen.
            }
            self.textures.remove(&idx);
        }
    }

    /// Draws the sort and filter bar and the grid of the items it shows.
    pub(crate) fn gallery_ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &mut Model,
        tasks: &Tasks,
    ) -> Option<GalleryAction> {
        self.frame += 1;
        if model.gallery.is_empty() {
            ui.centered_and_justified(|ui| {
                ui.weak("Thumbnails appear here as images finish downloading.");
            });
            return None;
        }
        let view_bar_action = view_bar_ui(ui, &mut self.view, model);
        let bar_action = selection_bar_ui(ui, &self.view).or(view_bar_action);
        self.view.refresh(model, std::time::Instant::now());
        let tile = f32::from(
            self.view
                .settings
                .tile
                .clamp(*TILE_RANGE.start(), *TILE_RANGE.end()),
        );
        let width = ui.available_width();
        let columns = (((width + GAP) / (tile + GAP)).floor() as usize).max(1);
        let mut action = self.keys(ui, columns);
        // Positions are looked up in the view as drawn: no copy of 100,000 indices a frame.
        let rows = self.view.shown().len().div_ceil(columns);
        let row_height = tile + CAPTION + GAP;
        let cursor_row = self.view.cursor.map(|c| c / columns);
        let mut scroll = egui::ScrollArea::vertical()
            .id_salt("gallery")
            .auto_shrink([false, false]);
        if let Some(row) = cursor_row.filter(|_| action.is_some() || self.cursor_moved) {
            // Keep the cursor's row in view as the arrows move it.
            let offset = row as f32 * row_height;
            let visible = ui.available_height();
            let current = self.scroll_offset;
            if offset < current || offset + row_height > current + visible {
                scroll = scroll
                    .vertical_scroll_offset((offset + row_height - visible).max(0.0).min(offset));
            }
        }
        self.cursor_moved = false;
        let output = scroll.show_rows(
            ui,
            row_height - ui.spacing().item_spacing.y,
            rows,
            |ui, row_range| {
                let screen = row_range.len() * columns;
                self.near = (row_range.start * columns).saturating_sub(screen)
                    ..(row_range.end * columns).saturating_add(screen);
                for row in row_range {
                    ui.horizontal(|ui| {
                        ui.spacing_mut().item_spacing.x = GAP;
                        for col in 0..columns {
                            let pos = row * columns + col;
                            let Some(&idx) = self.view.shown().get(pos) else {
                                break;
                            };
                            let marks = Marks {
                                cursor: self.view.cursor == Some(pos),
                                selected: self.view.selected.contains(&idx),
                            };
                            if self.tile_ui(ui, model, tasks, idx, tile, marks) {
                                self.view.cursor = Some(pos);
                                action = Some(GalleryAction::Open(pos));
                            }
                        }
                    });
                }
            },
        );
        self.scroll_offset = output.state.clamped_offset().y;
        self.evict();
        action.or(bar_action)
    }

    /// Arrow keys move the cursor (Shift extends the selection), Space toggles, Enter
    /// opens, Ctrl+A selects everything shown; only while no text field has the keyboard.
    fn keys(&mut self, ui: &egui::Ui, columns: usize) -> Option<GalleryAction> {
        if ui.ctx().memory(|m| m.focused().is_some()) {
            return None;
        }
        let view = &mut self.view;
        let mut action = None;
        let mut moved = false;
        // Each key by the modifiers its own event carries (a quick press can arrive in
        // a frame whose modifiers say Shift was already released).
        let pressed: Vec<(egui::Key, egui::Modifiers)> = ui.input(|i| {
            i.events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Key {
                        key,
                        pressed: true,
                        modifiers,
                        ..
                    } => Some((*key, *modifiers)),
                    _ => None,
                })
                .collect()
        });
        let row = columns as isize;
        for (key, modifiers) in pressed {
            let delta = match key {
                egui::Key::ArrowLeft => Some(-1),
                egui::Key::ArrowRight => Some(1),
                egui::Key::ArrowUp => Some(-row),
                egui::Key::ArrowDown => Some(row),
                _ => None,
            };
            if let Some(delta) = delta {
                view.move_cursor(delta, modifiers.shift);
                moved = true;
            }
            match key {
                egui::Key::Space => view.toggle_at_cursor(),
                egui::Key::A if modifiers.command => view.select_all_shown(),
                egui::Key::Enter => action = view.cursor.map(GalleryAction::Open),
                egui::Key::Delete => {
                    let items = view.acted_on();
                    if !items.is_empty() {
                        action = Some(GalleryAction::Selection(SelectionOp::Trash, items));
                    }
                }
                _ => {}
            }
        }
        if moved {
            self.cursor_moved = true;
        }
        action
    }

    /// One tile of side `tile`; returns true when clicked.
    fn tile_ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &mut Model,
        tasks: &Tasks,
        idx: usize,
        tile: f32,
        marks: Marks,
    ) -> bool {
        let (rect, response) =
            ui.allocate_exact_size(Vec2::new(tile, tile + CAPTION), Sense::click());
        let Some(item) = model.items.get(idx) else {
            return false;
        };
        let label = item.name().into_owned();
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        if !ui.is_rect_visible(rect) {
            return false;
        }
        let picture = Rect::from_min_size(rect.min, Vec2::splat(tile));
        let painter = ui.painter_at(rect);
        let visuals = ui.visuals();
        painter.rect_filled(picture, CornerRadius::same(4), visuals.extreme_bg_color);
        let failed = match (&item.failure, &item.thumb) {
            (Some(failure), _) => Some(failure.reason.clone()),
            (_, ThumbSlot::Failed(reason)) => Some(reason.to_string()),
            _ => None,
        };
        // The picture, when there is one: a damaged image shows what could be read.
        let shown = self.picture_ui(&painter, picture, idx);
        match (&failed, shown) {
            (Some(reason), true) => failed_band_ui(&painter, picture, reason),
            (Some(reason), false) => failed_cross_ui(&painter, picture, reason, visuals),
            (None, true) => {}
            (None, false) => {
                // Evicted or still on its way: ask for it and show a placeholder.
                self.request_reload(tasks, item, idx);
                painter.text(
                    picture.center(),
                    egui::Align2::CENTER_CENTER,
                    "…",
                    egui::FontId::proportional(20.0),
                    visuals.weak_text_color(),
                );
            }
        }
        if marks.selected {
            painter.rect_filled(
                picture,
                CornerRadius::same(4),
                visuals.selection.bg_fill.gamma_multiply(0.45),
            );
        }
        if response.hovered() || marks.cursor {
            let stroke = if marks.cursor {
                Stroke::new(3.0, visuals.selection.stroke.color)
            } else {
                visuals.selection.stroke
            };
            painter.rect_stroke(
                picture,
                CornerRadius::same(4),
                stroke,
                egui::StrokeKind::Inside,
            );
        }
        caption_ui(&painter, rect, &label, item.dimensions, visuals);
        response.on_hover_text(&label).clicked()
    }

    /// Draws item `idx`'s texture fitted into `picture`; false when it has none.
    fn picture_ui(&mut self, painter: &egui::Painter, picture: Rect, idx: usize) -> bool {
        let Some((texture, used)) = self.textures.get_mut(&idx) else {
            return false;
        };
        *used = self.frame;
        let size = texture.size_vec2();
        let side = picture.width();
        let scale = (side / size.x).min(side / size.y);
        painter.image(
            texture.id(),
            Rect::from_center_size(picture.center(), size * scale),
            Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
        true
    }

    /// Asks for an evicted thumbnail to be reloaded from its cache file (once).
    fn request_reload(&mut self, tasks: &Tasks, item: &ItemView, idx: usize) {
        if let (ThumbSlot::Stored(cached), Some(path), Some(format)) =
            (&item.thumb, &item.path, item.format)
            && !self.reloading.contains(&idx)
            && tasks.reload_thumb(ThumbRequest {
                idx,
                cached: cached.as_deref().map(std::path::Path::to_path_buf),
                original: path.to_path_buf(),
                format,
                side: self.thumb_side,
            })
        {
            self.reloading.insert(idx);
        }
    }
}

/// The red frame of a failed item, with `reason` on a dark band across the foot of
/// the picture it still shows.
fn failed_band_ui(painter: &egui::Painter, picture: Rect, reason: &str) {
    failed_frame_ui(painter, picture);
    let galley = painter.layout(
        reason.to_string(),
        egui::FontId::proportional(11.0),
        Color32::WHITE,
        picture.width() - 10.0,
    );
    let band = Rect::from_min_max(
        egui::pos2(picture.min.x, picture.max.y - galley.size().y - 8.0),
        picture.max,
    )
    .shrink(1.5);
    painter.rect_filled(band, CornerRadius::same(3), Color32::from_black_alpha(190));
    painter.galley(band.min + Vec2::new(4.0, 3.0), galley, Color32::WHITE);
}

/// The red frame and a drawn cross (no font needed) over `reason`, for a failed item
/// with no picture.
fn failed_cross_ui(painter: &egui::Painter, picture: Rect, reason: &str, visuals: &egui::Visuals) {
    failed_frame_ui(painter, picture);
    let c = picture.center() - Vec2::new(0.0, 24.0);
    let arm = Vec2::splat(10.0);
    painter.line_segment([c - arm, c + arm], Stroke::new(3.0, FAILED_RED));
    painter.line_segment(
        [c + Vec2::new(arm.x, -arm.y), c + Vec2::new(-arm.x, arm.y)],
        Stroke::new(3.0, FAILED_RED),
    );
    let galley = painter.layout(
        reason.to_string(),
        egui::FontId::proportional(12.0),
        visuals.text_color(),
        picture.width() - 16.0,
    );
    let at = egui::pos2(
        picture.center().x - galley.size().x / 2.0,
        picture.center().y,
    );
    painter.galley(at, galley, visuals.text_color());
}

/// The colour of failure on a tile.
const FAILED_RED: Color32 = Color32::from_rgb(220, 80, 70);

fn failed_frame_ui(painter: &egui::Painter, picture: Rect) {
    painter.rect_stroke(
        picture.shrink(1.0),
        CornerRadius::same(4),
        Stroke::new(1.5, FAILED_RED),
        egui::StrokeKind::Inside,
    );
}

/// The name (elided to fit) and pixel size under a tile.
fn caption_ui(
    painter: &egui::Painter,
    tile: Rect,
    label: &str,
    dimensions: Option<(u32, u32)>,
    visuals: &egui::Visuals,
) {
    let caption = Rect::from_min_size(
        egui::pos2(tile.min.x, tile.min.y + tile.width() + 2.0),
        Vec2::new(tile.width(), CAPTION - 2.0),
    );
    let font = egui::FontId::proportional(12.0);
    let mut name = painter.layout(
        label.to_string(),
        font.clone(),
        visuals.text_color(),
        f32::INFINITY,
    );
    if name.size().x > tile.width() {
        name = painter.layout(elide(label, 22), font, visuals.text_color(), f32::INFINITY);
    }
    painter.galley(caption.min, name, visuals.text_color());
    painter.text(
        caption.min + Vec2::new(0.0, 15.0),
        egui::Align2::LEFT_TOP,
        dimensions.map_or_else(String::new, |(w, h)| format!("{w}×{h}")),
        egui::FontId::proportional(11.0),
        visuals.weak_text_color(),
    );
}

/// Shortens `text` to at most `max` characters with an ellipsis in the middle.
pub(crate) fn elide(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max / 2).collect();
    let tail: String = text.chars().skip(count - (max - max / 2 - 1)).collect();
    format!("{head}…{tail}")
}

/// egui's image type from engine pixels.
pub(crate) fn color_image(thumb: &pixgrab_engine::Thumbnail) -> egui::ColorImage {
    egui::ColorImage::from_rgba_unmultiplied(
        [thumb.width as usize, thumb.height as usize],
        &thumb.rgba,
    )
}

/// The bar over the grid: sort, filters, search, tile size, and the selection's size.
fn view_bar_ui(ui: &mut egui::Ui, view: &mut GalleryView, model: &Model) -> Option<GalleryAction> {
    let mut action = None;
    let shown = view.shown().len();
    let selected = view.selected.len();
    let settings = &mut view.settings;
    let all = |s: &str| {
        if s.is_empty() {
            "all".to_string()
        } else {
            s.to_string()
        }
    };
    ui.horizontal(|ui| {
        combo_ui(ui, "Sort:", 100.0, settings.sort.label(), |ui| {
            for sort in SortBy::ALL {
                ui.selectable_value(&mut settings.sort, sort, sort.label());
            }
        });
        ui.checkbox(&mut settings.descending, "Reverse");
        combo_ui(ui, "Show:", 90.0, settings.state.label(), |ui| {
            for state in ShowState::ALL {
                ui.selectable_value(&mut settings.state, state, state.label());
            }
        });
        combo_ui(ui, "Host:", 110.0, all(&settings.host), |ui| {
            ui.selectable_value(&mut settings.host, String::new(), "all");
            for host in GalleryView::choices(model).0 {
                let label = host.clone();
                ui.selectable_value(&mut settings.host, host, label);
            }
        });
        combo_ui(ui, "Type:", 60.0, all(&settings.kind), |ui| {
            ui.selectable_value(&mut settings.kind, String::new(), "all");
            for kind in GalleryView::choices(model).1 {
                ui.selectable_value(&mut settings.kind, kind.to_string(), kind);
            }
        });
    });
    ui.horizontal(|ui| {
        let label = ui.label("At least (px):");
        ui.add(egui::DragValue::new(&mut settings.min_side).range(0..=20_000))
            .labelled_by(label.id);
        let label = ui.label("Search:");
        ui.add(egui::TextEdit::singleline(&mut settings.search).desired_width(110.0))
            .labelled_by(label.id);
        let label = ui.label("Tile size:");
        ui.add(egui::Slider::new(&mut settings.tile, TILE_RANGE).show_value(false))
            .labelled_by(label.id);
        if ui
            .button("Similar…")
            .on_hover_text("Groups of near-duplicates: resized, recompressed or cropped copies")
            .clicked()
        {
            action = Some(GalleryAction::FindSimilar);
        }
        if selected > 0 {
            ui.weak(format!("{shown} shown · {selected} selected"));
        } else {
            ui.weak(format!("{shown} shown"));
        }
    });
    action
}

/// The selection's actions, shown while something is selected.
fn selection_bar_ui(ui: &mut egui::Ui, view: &GalleryView) -> Option<GalleryAction> {
    if view.selected.is_empty() {
        return None;
    }
    let mut op = None;
    ui.horizontal(|ui| {
        ui.label(format!("{} selected:", view.selected.len()));
        for (label, which, hint) in [
            (
                "Open folder",
                SelectionOp::OpenFolder,
                "Show the first one's folder",
            ),
            (
                "Copy paths",
                SelectionOp::CopyPaths,
                "Their files' paths, one per line",
            ),
            (
                "Copy URLs",
                SelectionOp::CopyUrls,
                "Their URLs, one per line",
            ),
            ("Retry", SelectionOp::Retry, "Try the failed ones again"),
            ("Move to trash…", SelectionOp::Trash, "Delete"),
        ] {
            if ui.button(label).on_hover_text(hint).clicked() {
                op = Some(which);
            }
        }
    });
    op.map(|op| GalleryAction::Selection(op, view.selected.iter().copied().collect()))
}

/// A combo box after its label (which names it for screen readers and tests).
fn combo_ui(
    ui: &mut egui::Ui,
    label: &str,
    width: f32,
    selected: impl Into<egui::WidgetText>,
    menu: impl FnOnce(&mut egui::Ui),
) {
    let label_response = ui.label(label);
    egui::ComboBox::from_id_salt(label)
        .width(width)
        .selected_text(selected)
        .show_ui(ui, menu)
        .response
        .labelled_by(label_response.id);
}
