//! "Images on the page": the checklist shown after "Find images" read a page. Every
//! candidate is probed for its first bytes, so the list shows real pixel sizes, types,
//! bytes and small previews before anything is downloaded. Nothing is queued until the
//! user presses "Queue selected"; filters (host, type, at least W × H, largest variant
//! of each picture) narrow what "Select all" and the queue button act on.

use std::collections::BTreeSet;

use egui::TextureHandle;
use pixgrab_engine::Bytes;
use pixgrab_engine::{Candidate, largest_of_each};
use pixgrab_engine::{Probe, Want};
use url::Url;

/// Height of one checklist row (a preview and two lines of text).
const ROW_HEIGHT: f32 = 52.0;
/// Side of a row's preview, in points.
const PREVIEW_SIDE: f32 = 44.0;

/// One candidate in the checklist.
pub(crate) struct PickItem {
    pub(crate) url: Url,
    pub(crate) host: String,
    pub(crate) name: String,
    /// The file extension in the URL (the type until the probe knows better).
    ext: String,
    pub(crate) source: &'static str,
    /// Candidates of one picture (srcset variants, a thumbnail and its link) share it.
    pub(crate) picture: usize,
    /// What the probe learned; `None` while it is out.
    pub(crate) probe: Option<Probe>,
    /// The preview, uploaded.
    pub(crate) preview: Option<TextureHandle>,
    pub(crate) selected: bool,
}

impl PickItem {
    /// The type: the format the first bytes showed, else the URL's extension.
    pub(crate) fn kind(&self) -> String {
        self.probe
            .as_ref()
            .and_then(|p| p.format)
            .map_or_else(|| self.ext.clone(), |f| f.extension().to_string())
    }

    /// The pixel size, once probed and known.
    pub(crate) fn pixels(&self) -> Option<(u32, u32)> {
        self.probe.as_ref().and_then(|p| p.pixels)
    }
}

/// The checklist of one page.
pub(crate) struct PagePicker {
    /// The page (after redirects): the Referer of what gets queued.
    pub(crate) page: Url,
    candidates: Vec<Candidate>,
    pub(crate) items: Vec<PickItem>,
    /// Matches probe results to this picker (a newer page replaces an older one).
    pub(crate) generation: u64,
    /// Who listed the images (gallery-dl), or a hint about gallery-dl.
    pub(crate) how: Option<String>,
    host: Option<String>,
    kind: Option<String>,
    /// "At least W × H" (0 × 0: any size).
    pub(crate) min_width: u32,
    pub(crate) min_height: u32,
    /// Show only the largest variant of each picture.
    pub(crate) largest_only: bool,
    /// Per item: the largest of its picture (by pixel size once known).
    largest: Vec<bool>,
    /// The "Queue and watch" interval (an index into [`super::watches::INTERVALS`]).
    watch_every: usize,
    /// Whether "Queue and watch" is offered: not for a page the browser sent (a watch
    /// reads the page's HTML, which misses what the browser's scripts built).
    pub(crate) watchable: bool,
}

/// What the user did in the picker.
pub(crate) enum PickerAction {
    /// Queue these URLs, found on `page`, and with `watch`, read the page again that
    /// often for new images.
    Queue {
        urls: Vec<Url>,
        page: Url,
        watch: Option<std::time::Duration>,
        /// Every image the page shows now (what a watch is not to queue later).
        shown: Vec<Url>,
    },
    /// Close without queueing.
    Close,
}

impl PagePicker {
    pub(crate) fn new(page: Url, candidates: Vec<Candidate>, generation: u64) -> Self {
        let items = candidates
            .iter()
            .map(|c| {
                let name = super::model::display_name(&c.url);
                let ext = name
                    .rsplit_once('.')
                    .map(|(_, e)| e.to_ascii_lowercase())
                    .filter(|e| e.len() <= 5)
                    .map(|e| if e == "jpeg" { "jpg".into() } else { e })
                    .unwrap_or_default();
                PickItem {
                    host: c.url.host_str().unwrap_or("").to_string(),
                    url: c.url.clone(),
                    name: name.into_owned(),
                    ext,
                    source: c.source.label(),
                    picture: c.picture,
                    probe: None,
                    preview: None,
                    selected: true,
                }
            })
            .collect();
        let mut picker = Self {
            page,
            candidates,
            items,
            generation,
            how: None,
            host: None,
            kind: None,
            min_width: 0,
            min_height: 0,
            largest_only: true,
            largest: Vec::new(),
            watch_every: 1,
            watchable: true,
        };
        picker.rank();
        picker
    }

    /// What to probe for each item: the smallest variant of a picture is fetched whole
    /// for its preview, the others only for their first bytes.
    pub(crate) fn probes(&self) -> Vec<(Url, Want)> {
        pixgrab_engine::wants(&self.candidates)
            .into_iter()
            .zip(&self.items)
            .map(|(want, item)| (item.url.clone(), want))
            .collect()
    }

    /// A probe result for item `index`.
    pub(crate) fn probed(&mut self, ctx: &egui::Context, index: usize, mut probe: Probe) {
        let Some(item) = self.items.get_mut(index) else {
            return;
        };
        if let Some(thumb) = probe.preview.take() {
            item.preview = Some(ctx.load_texture(
                format!("pick-{}-{index}", self.generation),
                super::gallery::color_image(&thumb),
                egui::TextureOptions::LINEAR,
            ));
        }
        item.probe = Some(probe);
        self.rank();
    }

    /// Works out the largest variant of each picture again. Measured sizes count for a
    /// picture only once all its variants are probed: a thumbnail measured first must
    /// not win over a full size still being read.
    fn rank(&mut self) {
        let mut pending = std::collections::HashSet::new();
        for (i, item) in self.items.iter().enumerate() {
            if item.probe.is_none() && i < pixgrab_engine::MAX_PROBES {
                pending.insert(item.picture);
            }
        }
        let pixels: Vec<Option<(u32, u32)>> = self
            .items
            .iter()
            .map(|i| i.pixels().filter(|_| !pending.contains(&i.picture)))
            .collect();
        self.largest = largest_of_each(&self.candidates, &pixels);
    }

    /// True when the filters let `item` (number `i`) through. A size not known yet
    /// passes "at least"; a size that cannot be known does not.
    fn visible(&self, i: usize) -> bool {
        let Some(item) = self.items.get(i) else {
            return false;
        };
        let big_enough = (self.min_width == 0 && self.min_height == 0)
            || match &item.probe {
                None => true,
                Some(p) => p
                    .pixels
                    .is_some_and(|(w, h)| w >= self.min_width && h >= self.min_height),
            };
        self.host.as_ref().is_none_or(|h| *h == item.host)
            && self.kind.as_ref().is_none_or(|k| *k == item.kind())
            && big_enough
            && (!self.largest_only || self.largest.get(i).copied().unwrap_or(true))
    }

    /// The URLs that "Queue selected" would queue.
    pub(crate) fn chosen(&self) -> Vec<Url> {
        (0..self.items.len())
            .filter(|&i| self.items[i].selected && self.visible(i))
            .map(|i| self.items[i].url.clone())
            .collect()
    }

    /// The preview to show for item `i`: its own, else another variant's of its picture.
    pub(crate) fn preview(&self, i: usize) -> Option<&TextureHandle> {
        let item = self.items.get(i)?;
        item.preview.as_ref().or_else(|| {
            self.items
                .iter()
                .filter(|other| other.picture == item.picture)
                .find_map(|other| other.preview.as_ref())
        })
    }

    /// Probes still out.
    fn probing(&self) -> usize {
        self.items
            .iter()
            .take(pixgrab_engine::MAX_PROBES)
            .filter(|i| i.probe.is_none())
            .count()
    }
}

/// Draws the picker window; `open` goes false when it is closed.
pub(crate) fn picker_ui(ctx: &egui::Context, picker: &mut PagePicker) -> Option<PickerAction> {
    let mut action = None;
    let mut open = true;
    egui::Window::new("Images on the page")
        .open(&mut open)
        .default_size([620.0, 520.0])
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(picker.page.as_str()).weak())
                .on_hover_text("Queued images are requested with this page as their Referer");
            if let Some(how) = &picker.how {
                ui.weak(how);
            }
            filters_ui(ui, picker);
            select_bar_ui(ui, picker);
            ui.separator();
            if let Some(a) = buttons_ui(ui, picker) {
                action = Some(a);
            }
            list_ui(ui, picker);
        });
    // Esc closes it, as it closes any dialog.
    let escape = || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
    if !open || (action.is_none() && escape()) {
        action = Some(PickerAction::Close);
    }
    action
}

/// Select all, Select none, how many are shown and how many are still being probed.
fn select_bar_ui(ui: &mut egui::Ui, picker: &mut PagePicker) {
    ui.horizontal(|ui| {
        if ui.button("Select all").clicked() {
            let visible: Vec<bool> = (0..picker.items.len()).map(|i| picker.visible(i)).collect();
            for (item, v) in picker.items.iter_mut().zip(visible) {
                if v {
                    item.selected = true;
                }
            }
        }
        if ui.button("Select none").clicked() {
            picker.items.iter_mut().for_each(|i| i.selected = false);
        }
        let shown = (0..picker.items.len())
            .filter(|&i| picker.visible(i))
            .count();
        ui.weak(format!("{shown} of {} shown", picker.items.len()));
        let probing = picker.probing();
        if probing > 0 {
            ui.spinner();
            ui.weak(format!("reading the sizes of {probing}…"));
        }
    });
}

/// The buttons under the list: Queue, Queue and watch (with its interval), Close.
fn buttons_ui(ui: &mut egui::Ui, picker: &mut PagePicker) -> Option<PickerAction> {
    let chosen = picker.chosen().len();
    let mut action = None;
    egui::Panel::bottom("picker buttons")
        .show_separator_line(false)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let queue = ui.add_enabled(
                    chosen > 0,
                    egui::Button::new(
                        egui::RichText::new(format!("Queue {chosen} selected")).strong(),
                    ),
                );
                if queue.clicked() {
                    action = Some(PickerAction::Queue {
                        urls: picker.chosen(),
                        page: picker.page.clone(),
                        watch: None,
                        shown: Vec::new(),
                    });
                }
                if !picker.watchable {
                    if ui.button("Close").clicked() {
                        action = Some(PickerAction::Close);
                    }
                    return;
                }
                let intervals = &super::watches::INTERVALS;
                let watch = ui.button("Queue and watch").on_hover_text(
                    "Queue the selected images, then read this page again every so often \
                         and download only images not seen before (kept across restarts)",
                );
                egui::ComboBox::from_id_salt("watch every")
                    .selected_text(intervals.get(picker.watch_every).map_or("", |i| i.0))
                    .show_ui(ui, |ui| {
                        for (n, (label, _)) in intervals.iter().enumerate() {
                            ui.selectable_value(&mut picker.watch_every, n, *label);
                        }
                    });
                if watch.clicked() {
                    action = Some(PickerAction::Queue {
                        urls: picker.chosen(),
                        page: picker.page.clone(),
                        watch: intervals.get(picker.watch_every).map(|i| i.1),
                        shown: picker.items.iter().map(|i| i.url.clone()).collect(),
                    });
                }
                if ui.button("Close").clicked() {
                    action = Some(PickerAction::Close);
                }
            });
        });
    action
}

fn filters_ui(ui: &mut egui::Ui, picker: &mut PagePicker) {
    let hosts: BTreeSet<String> = picker.items.iter().map(|i| i.host.clone()).collect();
    let kinds: BTreeSet<String> = picker
        .items
        .iter()
        .map(PickItem::kind)
        .filter(|e| !e.is_empty())
        .collect();
    ui.horizontal_wrapped(|ui| {
        egui::ComboBox::from_label("Host")
            .selected_text(picker.host.as_deref().unwrap_or("all hosts"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut picker.host, None, "all hosts");
                for host in hosts {
                    ui.selectable_value(&mut picker.host, Some(host.clone()), host);
                }
            });
        egui::ComboBox::from_label("Type")
            .selected_text(picker.kind.as_deref().unwrap_or("all types"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut picker.kind, None, "all types");
                for kind in kinds {
                    ui.selectable_value(&mut picker.kind, Some(kind.clone()), kind);
                }
            });
        let label = ui.label("At least width:");
        ui.add(
            egui::DragValue::new(&mut picker.min_width)
                .range(0..=100_000)
                .suffix(" px"),
        )
        .labelled_by(label.id);
        let label = ui.label("height:");
        ui.add(
            egui::DragValue::new(&mut picker.min_height)
                .range(0..=100_000)
                .suffix(" px"),
        )
        .labelled_by(label.id);
        ui.checkbox(&mut picker.largest_only, "Largest variant of each picture")
            .on_hover_text(
                "srcset variants, and a thumbnail with the link to its full size, count as one picture",
            );
    });
}

fn list_ui(ui: &mut egui::Ui, picker: &mut PagePicker) {
    let visible: Vec<usize> = (0..picker.items.len())
        .filter(|&i| picker.visible(i))
        .collect();
    egui::ScrollArea::vertical()
        .id_salt("picker list")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, visible.len(), |ui, range| {
            for &i in &visible[range] {
                let preview = picker.preview(i).cloned();
                let item = &mut picker.items[i];
                ui.horizontal(|ui| {
                    ui.set_height(ROW_HEIGHT - ui.spacing().item_spacing.y);
                    preview_ui(ui, preview.as_ref());
                    ui.vertical(|ui| {
                        ui.checkbox(&mut item.selected, super::gallery::elide(&item.name, 48))
                            .on_hover_text(item.url.as_str());
                        ui.weak(facts(item));
                    });
                });
            }
        });
}

/// A row's preview, fitted in its square (an empty square while there is none).
fn preview_ui(ui: &mut egui::Ui, preview: Option<&TextureHandle>) {
    let side = egui::vec2(PREVIEW_SIDE, PREVIEW_SIDE);
    match preview {
        Some(texture) => {
            let size = texture.size_vec2();
            let scale = (PREVIEW_SIDE / size.x.max(size.y)).min(1.0);
            let (rect, _) = ui.allocate_exact_size(side, egui::Sense::hover());
            let fitted = egui::Rect::from_center_size(rect.center(), size * scale);
            egui::Image::new((texture.id(), size * scale)).paint_at(ui, fitted);
        }
        None => {
            let (rect, _) = ui.allocate_exact_size(side, egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 3.0, ui.visuals().faint_bg_color);
        }
    }
}

/// "1920×1080 · 2.3 MiB · jpg · srcset · cdn.example", or why the probe failed.
fn facts(item: &PickItem) -> String {
    let mut parts: Vec<String> = Vec::new();
    match &item.probe {
        None => parts.push("…".into()),
        Some(p) => {
            if let Some((w, h)) = p.pixels {
                parts.push(format!("{w}×{h}"));
            } else if p.error.is_none() {
                parts.push("size unknown".into());
            }
            if let Some(b) = p.bytes {
                parts.push(Bytes(b).to_string());
            }
            if let Some(e) = &p.error {
                parts.push(e.clone());
            }
        }
    }
    let kind = item.kind();
    if !kind.is_empty() {
        parts.push(kind);
    }
    parts.push(item.source.to_string());
    parts.push(item.host.clone());
    parts.join(" · ")
}
