//! "Images on the page": the checklist shown after "Find images" read a page. Nothing is
//! queued until the user presses "Queue selected"; filters (host, type, minimum size)
//! narrow what "Select all" and the queue button act on.

use std::collections::BTreeSet;

use pixgrab_engine::Bytes;
use pixgrab_engine::input::page::Candidate;
use url::Url;

/// One candidate in the checklist.
pub(crate) struct PickItem {
    pub(crate) url: Url,
    pub(crate) host: String,
    pub(crate) name: String,
    pub(crate) ext: String,
    pub(crate) source: &'static str,
    /// `None` while the HEAD request is out; `Some(None)` when the server did not say.
    pub(crate) size: Option<Option<u64>>,
    pub(crate) selected: bool,
}

/// The checklist of one page.
pub(crate) struct PagePicker {
    /// The page (after redirects): the Referer of what gets queued.
    pub(crate) page: Url,
    pub(crate) items: Vec<PickItem>,
    /// Matches size results to this picker (a newer page replaces an older one).
    pub(crate) generation: u64,
    host: Option<String>,
    ext: Option<String>,
    min_kb: u64,
}

/// What the user did in the picker.
pub(crate) enum PickerAction {
    /// Queue these URLs, found on `page`.
    Queue { urls: Vec<Url>, page: Url },
    /// Close without queueing.
    Close,
}

impl PagePicker {
    pub(crate) fn new(page: Url, candidates: Vec<Candidate>, generation: u64) -> Self {
        let items = candidates
            .into_iter()
            .map(|c| {
                let name = super::model::display_name(&c.url);
                let ext = name
                    .rsplit_once('.')
                    .map(|(_, e)| e.to_ascii_lowercase())
                    .filter(|e| e.len() <= 5)
                    .unwrap_or_default();
                PickItem {
                    host: c.url.host_str().unwrap_or("").to_string(),
                    url: c.url,
                    name,
                    ext,
                    source: c.source.label(),
                    size: None,
                    selected: true,
                }
            })
            .collect();
        Self {
            page,
            items,
            generation,
            host: None,
            ext: None,
            min_kb: 0,
        }
    }

    /// Sizes from the HEAD requests, in item order.
    pub(crate) fn sizes(&mut self, sizes: Vec<Option<u64>>) {
        for (item, size) in self.items.iter_mut().zip(sizes) {
            item.size = Some(size);
        }
    }

    /// True when the filters let item `i` through (an unknown size passes).
    fn visible(&self, item: &PickItem) -> bool {
        self.host.as_ref().is_none_or(|h| *h == item.host)
            && self.ext.as_ref().is_none_or(|e| *e == item.ext)
            && (self.min_kb == 0
                || item
                    .size
                    .flatten()
                    .is_none_or(|s| s >= self.min_kb.saturating_mul(1000)))
    }

    /// The URLs that "Queue selected" would queue.
    pub(crate) fn chosen(&self) -> Vec<Url> {
        self.items
            .iter()
            .filter(|i| i.selected && self.visible(i))
            .map(|i| i.url.clone())
            .collect()
    }
}

/// Draws the picker window; `open` goes false when it is closed.
pub(crate) fn picker_ui(ctx: &egui::Context, picker: &mut PagePicker) -> Option<PickerAction> {
    let mut action = None;
    let mut open = true;
    egui::Window::new("Images on the page")
        .open(&mut open)
        .default_size([560.0, 480.0])
        .collapsible(false)
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(picker.page.as_str()).weak())
                .on_hover_text("Queued images are requested with this page as their Referer");
            filters_ui(ui, picker);
            ui.horizontal(|ui| {
                if ui.button("Select all").clicked() {
                    let visible: Vec<bool> =
                        picker.items.iter().map(|i| picker.visible(i)).collect();
                    for (item, v) in picker.items.iter_mut().zip(visible) {
                        if v {
                            item.selected = true;
                        }
                    }
                }
                if ui.button("Select none").clicked() {
                    picker.items.iter_mut().for_each(|i| i.selected = false);
                }
                let shown = picker.items.iter().filter(|i| picker.visible(i)).count();
                ui.weak(format!("{shown} of {} shown", picker.items.len()));
            });
            ui.separator();
            let chosen = picker.chosen().len();
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
                            });
                        }
                        if ui.button("Close").clicked() {
                            action = Some(PickerAction::Close);
                        }
                    });
                });
            list_ui(ui, picker);
        });
    if !open {
        action = Some(PickerAction::Close);
    }
    action
}

fn filters_ui(ui: &mut egui::Ui, picker: &mut PagePicker) {
    let hosts: BTreeSet<String> = picker.items.iter().map(|i| i.host.clone()).collect();
    let exts: BTreeSet<String> = picker
        .items
        .iter()
        .map(|i| i.ext.clone())
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
            .selected_text(picker.ext.as_deref().unwrap_or("all types"))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut picker.ext, None, "all types");
                for ext in exts {
                    ui.selectable_value(&mut picker.ext, Some(ext.clone()), ext);
                }
            });
        let label = ui.label("Min size (kB):");
        ui.add(egui::DragValue::new(&mut picker.min_kb).range(0..=1_000_000))
            .labelled_by(label.id);
    });
}

fn list_ui(ui: &mut egui::Ui, picker: &mut PagePicker) {
    let visible: Vec<usize> = (0..picker.items.len())
        .filter(|&i| picker.visible(&picker.items[i]))
        .collect();
    egui::ScrollArea::vertical()
        .id_salt("picker list")
        .auto_shrink([false, false])
        .show_rows(ui, 22.0, visible.len(), |ui, range| {
            for &i in &visible[range] {
                let item = &mut picker.items[i];
                ui.horizontal(|ui| {
                    ui.checkbox(&mut item.selected, super::gallery::elide(&item.name, 40))
                        .on_hover_text(item.url.as_str());
                    ui.weak(&item.host);
                    let size = match item.size {
                        None => "…".to_string(),
                        Some(None) => "size unknown".to_string(),
                        Some(Some(n)) => Bytes(n).to_string(),
                    };
                    ui.weak(size);
                    ui.weak(item.source);
                });
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixgrab_engine::input::page::Source;

    fn candidate(url: &str) -> Candidate {
        Candidate {
            url: Url::parse(url).expect("url"),
            source: Source::Img,
        }
    }

    #[test]
    fn filters_narrow_what_is_queued() {
        let page = Url::parse("http://a.example/page").expect("url");
        let mut picker = PagePicker::new(
            page,
            vec![
                candidate("http://a.example/big.jpg"),
                candidate("http://a.example/small.jpg"),
                candidate("http://cdn.example/x.png"),
            ],
            1,
        );
        assert_eq!(picker.chosen().len(), 3, "everything starts selected");
        picker.sizes(vec![Some(500_000), Some(2_000), None]);
        picker.min_kb = 10;
        // small.jpg is known to be small; x.png's size is unknown, so it stays.
        assert_eq!(picker.chosen().len(), 2);
        picker.host = Some("a.example".into());
        assert_eq!(
            picker.chosen().iter().map(Url::as_str).collect::<Vec<_>>(),
            ["http://a.example/big.jpg"]
        );
        picker.host = None;
        picker.ext = Some("png".into());
        assert_eq!(picker.chosen().len(), 1);
    }
}
