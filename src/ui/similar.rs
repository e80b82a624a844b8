//! The "Similar images" window: the folder's groups of near-duplicates (resized,
//! recompressed, lightly cropped copies), each with a keep choice per image (the
//! largest kept at first); the others go to the trash through the usual confirmation.

use std::collections::BTreeSet;

use super::model::Model;

/// The groups found, and which images the user keeps.
pub(crate) struct SimilarView {
    /// Model indices, one list per group.
    pub(crate) groups: Vec<Vec<usize>>,
    /// Images to keep (model indices).
    pub(crate) keep: BTreeSet<usize>,
}

/// What the user chose in the window.
pub(crate) enum SimilarAction {
    /// Ask, then move these (model indices) to the trash.
    Trash(Vec<usize>),
    Close,
}

impl SimilarView {
    /// The groups, keeping the image with the most pixels (then the biggest file) of
    /// each.
    pub(crate) fn new(groups: Vec<Vec<usize>>, model: &Model) -> Self {
        let keep = groups
            .iter()
            .filter_map(|group| {
                group.iter().copied().max_by_key(|&i| {
                    model.items.get(i).map_or((0, 0), |item| {
                        let pixels = item
                            .dimensions
                            .map_or(0, |(w, h)| u64::from(w) * u64::from(h));
                        (pixels, item.total.unwrap_or(item.bytes))
                    })
                })
            })
            .collect();
        Self { groups, keep }
    }

    /// The images not kept.
    fn unkept(&self) -> Vec<usize> {
        self.groups
            .iter()
            .flatten()
            .copied()
            .filter(|i| !self.keep.contains(i))
            .collect()
    }
}

/// Draws the window; returns what the user chose.
pub(crate) fn similar_ui(
    ctx: &egui::Context,
    view: &mut SimilarView,
    model: &Model,
) -> Option<SimilarAction> {
    let mut action = None;
    let mut open = true;
    egui::Window::new("Similar images")
        .open(&mut open)
        .default_size([520.0, 420.0])
        .show(ctx, |ui| {
            if view.groups.is_empty() {
                ui.label("No similar images in this folder.");
                return;
            }
            ui.label(format!(
                "{} of near-duplicates (resized, recompressed or lightly cropped copies). Tick what to keep.",
                crate::common::plural(view.groups.len(), "group")
            ));
            egui::ScrollArea::vertical()
                .max_height(320.0)
                .show(ui, |ui| {
                    for (n, group) in (1..).zip(&view.groups) {
                        ui.separator();
                        ui.strong(format!("Group {n}"));
                        for &i in group {
                            let Some(item) = model.items.get(i) else {
                                continue;
                            };
                            let mut kept = view.keep.contains(&i);
                            let dims = item
                                .dimensions
                                .map_or_else(String::new, |(w, h)| format!(" · {w}×{h}"));
                            let label = format!(
                                "{}{dims} · {}",
                                item.name(),
                                pixgrab_engine::Bytes(item.total.unwrap_or(item.bytes))
                            );
                            if ui.checkbox(&mut kept, label).changed() {
                                if kept {
                                    view.keep.insert(i);
                                } else {
                                    view.keep.remove(&i);
                                }
                            }
                        }
                    }
                });
            ui.separator();
            let unkept = view.unkept();
            ui.horizontal(|ui| {
                let trash = ui.add_enabled(
                    !unkept.is_empty(),
                    egui::Button::new(format!("Move {} not kept to trash…", unkept.len())),
                );
                if trash.clicked() {
                    action = Some(SimilarAction::Trash(unkept));
                }
                if ui.button("Close").clicked() {
                    action = Some(SimilarAction::Close);
                }
            });
        });
    if !open {
        action = Some(SimilarAction::Close);
    }
    action
}
