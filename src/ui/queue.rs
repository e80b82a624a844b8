//! The queue panel: overall progress and one row per item (virtualized).

use std::collections::BTreeSet;
use std::time::Instant;

use pixgrab_engine::Bytes;

use super::model::{ItemView, Model};
use pixgrab_engine::Stage;

/// What to do to some items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemOp {
    /// Stop (keeping the part) until resumed.
    Pause,
    /// Continue after a pause.
    Resume,
    /// Try a failed or cancelled item again.
    Retry,
    /// Give up on it.
    Cancel,
    /// Start it before everything else that waits.
    Top,
    /// Keep a damaged image's bytes in the folder after all.
    KeepAnyway,
    /// Move a done item's file to the trash (after the user confirmed).
    Trash,
}

/// What the user asked for in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueueAction {
    /// Do this to these items (model indices).
    Items(ItemOp, Vec<usize>),
    /// Pause everything waiting or running.
    PauseAll,
    /// Resume every paused item, and lift a hold after a disk error.
    ResumeAll,
    /// Try every failed item again.
    RetryFailed,
    /// Cancel everything queued, paused or running.
    CancelAll,
    /// Write the library to a CSV (or JSON) file in the output folder.
    Export {
        /// JSON instead of CSV.
        json: bool,
    },
}

/// Which rows are selected (model indices), and the last one clicked for Shift ranges.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pub(crate) rows: BTreeSet<usize>,
    anchor: Option<usize>,
}

impl Selection {
    /// A click on row `idx`; with `range` (Shift), every row shown between the last
    /// clicked one and this one (in the list's `order`) is selected.
    fn click(&mut self, idx: usize, range: bool, order: &[usize]) {
        let at = |i: usize| order.iter().position(|&o| o == i);
        match (range, self.anchor.and_then(at), at(idx)) {
            (true, Some(a), Some(b)) => {
                let (a, b) = (a.min(b), a.max(b));
                self.rows.extend(order[a..=b].iter().copied());
            }
            _ => {
                if !self.rows.remove(&idx) {
                    self.rows.insert(idx);
                }
                self.anchor = Some(idx);
            }
        }
    }
}

const ROW_HEIGHT: f32 = 40.0;

/// The overall line: a bar with counts, bytes, speed and ETA.
pub(crate) fn overall_ui(ui: &mut egui::Ui, model: &Model, now: Instant) -> Option<QueueAction> {
    let c = model.counts;
    let total = model.items.len();
    if total == 0 {
        return None;
    }
    let finished = c.done + c.failed + c.cancelled;
    let mut action = None;
    if let Some(reason) = &model.paused {
        ui.horizontal(|ui| {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("Downloads paused: {reason}"),
            );
            if ui.button("Resume").clicked() {
                action = Some(QueueAction::ResumeAll);
            }
        });
    }
    ui.horizontal(|ui| {
        let fraction = finished as f32 / total as f32;
        let paused = if c.paused > 0 {
            format!(", {} paused", c.paused)
        } else {
            String::new()
        };
        let text = if model.is_idle() {
            format!(
                "Finished: {} downloaded, {} failed, {} cancelled{paused} · {}",
                c.done,
                c.failed,
                c.cancelled,
                Bytes(model.done_bytes)
            )
        } else {
            let speed = model.batch_speed(now);
            let eta = model
                .eta_secs(now)
                .map_or_else(|| "…".to_string(), |s| format!("{:.0} s", s.ceil()));
            format!(
                "{finished}/{total} · {} downloading · {} queued{paused} · {}/s · ETA {eta}",
                c.active,
                c.queued,
                Bytes(speed as u64)
            )
        };
        ui.add(
            egui::ProgressBar::new(fraction)
                .text(text)
                .desired_width(ui.available_width()),
        );
    });
    if !model.is_idle()
        && let Some(line) = host_limits_line(&model.host_limits)
    {
        ui.weak(line).on_hover_text(
            "How many downloads each site gets at once; it adapts to how the site answers",
        );
    }
    action
}

/// "At once: example.com 12 · cdn.net 4" from the adaptive per-host limits (at most four
/// hosts named), or `None` when there are none (fixed limits).
fn host_limits_line(limits: &std::collections::BTreeMap<String, usize>) -> Option<String> {
    if limits.is_empty() {
        return None;
    }
    let mut hosts: Vec<(&String, &usize)> = limits.iter().collect();
    hosts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let named: Vec<String> = hosts
        .iter()
        .take(4)
        .map(|(host, limit)| {
            let host = host
                .strip_suffix(":443")
                .or_else(|| host.strip_suffix(":80"))
                .unwrap_or(host);
            format!("{host} {limit}")
        })
        .collect();
    let more = hosts.len().saturating_sub(4);
    let more = if more > 0 {
        format!(" · {more} more")
    } else {
        String::new()
    };
    Some(format!("At once per host: {}{more}", named.join(" · ")))
}

/// The queue's heading, with its Export buttons.
pub(crate) fn queue_heading_ui(ui: &mut egui::Ui) -> Option<QueueAction> {
    let mut queue_action = None;
    ui.horizontal(|ui| {
        ui.heading("Queue");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Export JSON").clicked() {
                queue_action = Some(QueueAction::Export { json: true });
            }
            if ui
                .small_button("Export CSV")
                .on_hover_text("Write this folder's library to a file in the folder")
                .clicked()
            {
                queue_action = Some(QueueAction::Export { json: false });
            }
        });
    });
    queue_action
}

/// Buttons over the queue: for the selection if there is one, else for everything.
pub(crate) fn queue_toolbar_ui(
    ui: &mut egui::Ui,
    model: &Model,
    selection: &mut Selection,
) -> Option<QueueAction> {
    let mut action = None;
    let c = model.counts;
    ui.horizontal_wrapped(|ui| {
        if selection.rows.is_empty() {
            let pending = c.queued + c.active > 0;
            if ui
                .add_enabled(pending, egui::Button::new("Pause all"))
                .clicked()
            {
                action = Some(QueueAction::PauseAll);
            }
            if ui
                .add_enabled(c.paused > 0, egui::Button::new("Resume all"))
                .clicked()
            {
                action = Some(QueueAction::ResumeAll);
            }
            if ui
                .add_enabled(c.failed > 0, egui::Button::new("Retry failed"))
                .clicked()
            {
                action = Some(QueueAction::RetryFailed);
            }
            if ui
                .add_enabled(pending || c.paused > 0, egui::Button::new("Cancel all"))
                .clicked()
            {
                action = Some(QueueAction::CancelAll);
            }
        } else {
            let rows: Vec<usize> = selection.rows.iter().copied().collect();
            ui.label(format!("{} selected:", rows.len()));
            for (label, op) in [
                ("Pause selected", ItemOp::Pause),
                ("Resume selected", ItemOp::Resume),
                ("Retry selected", ItemOp::Retry),
                ("Move selected to top", ItemOp::Top),
                ("Cancel selected", ItemOp::Cancel),
            ] {
                if ui.button(label).clicked() {
                    action = Some(QueueAction::Items(op, rows.clone()));
                }
            }
            if ui.button("Clear selection").clicked() {
                *selection = Selection::default();
            }
        }
    });
    action
}

/// The list of items, one row each; only visible rows are laid out. Click a name to
/// select it (Shift+click: a range); right-click for host-wide actions.
pub(crate) fn queue_ui(
    ui: &mut egui::Ui,
    model: &Model,
    selection: &mut Selection,
) -> Option<QueueAction> {
    let mut action = None;
    if model.items.is_empty() {
        ui.weak("The queue is empty.");
        return None;
    }
    egui::ScrollArea::vertical()
        .id_salt("queue")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, model.items.len(), |ui, range| {
            for row in range {
                let Some(&idx) = model.order.get(row) else {
                    continue;
                };
                let item = &model.items[idx];
                ui.push_id(idx, |ui| {
                    ui.set_height(ROW_HEIGHT - ui.spacing().item_spacing.y);
                    ui.horizontal(|ui| {
                        let name = super::gallery::elide(&item.name(), 40);
                        let selected = selection.rows.contains(&idx);
                        let response = ui
                            .selectable_label(selected, egui::RichText::new(name).strong())
                            .on_hover_text(item.url.as_str());
                        if response.clicked() {
                            let shift = ui.input(|i| i.modifiers.shift);
                            selection.click(idx, shift, &model.order);
                        }
                        response.context_menu(|ui| {
                            if let Some(a) = row_menu_ui(ui, model, idx) {
                                action = Some(a);
                            }
                        });
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            for (label, op, hover) in row_buttons(item) {
                                if ui.small_button(label).on_hover_text(hover).clicked() {
                                    action = Some(QueueAction::Items(op, vec![idx]));
                                }
                            }
                            ui.weak(item.state.label());
                        });
                    });
                    row_status_ui(ui, item, model.speed(idx));
                });
            }
        });
    action
}

/// The buttons a row offers in its state, right to left.
fn row_buttons(item: &ItemView) -> Vec<(&'static str, ItemOp, &'static str)> {
    let cancel = ("Cancel", ItemOp::Cancel, "Cancel this download");
    let keepable = item.failure.as_ref().is_some_and(|f| f.keepable);
    match item.state {
        Stage::Queued => vec![
            cancel,
            ("Pause", ItemOp::Pause, "Hold this download"),
            ("Top", ItemOp::Top, "Start this one next"),
        ],
        Stage::Downloading => vec![
            cancel,
            ("Pause", ItemOp::Pause, "Stop now, keep what arrived"),
        ],
        Stage::Paused => vec![
            cancel,
            ("Resume", ItemOp::Resume, "Continue where it stopped"),
        ],
        Stage::Failed if keepable => vec![
            ("Retry", ItemOp::Retry, "Try this download again"),
            (
                "Keep anyway",
                ItemOp::KeepAnyway,
                "Keep the damaged file in the folder (it stays without a preview)",
            ),
        ],
        Stage::Failed | Stage::Cancelled => {
            vec![("Retry", ItemOp::Retry, "Try this download again")]
        }
        Stage::Decoding | Stage::Done | Stage::Removed => Vec::new(),
    }
}

/// The right-click menu of a row: the row and its whole host.
fn row_menu_ui(ui: &mut egui::Ui, model: &Model, idx: usize) -> Option<QueueAction> {
    let item = model.items.get(idx)?;
    let mut action = None;
    if ui.button("Move to top").clicked() {
        action = Some(QueueAction::Items(ItemOp::Top, vec![idx]));
    }
    if let Some(host) = item.url.host_str() {
        ui.separator();
        for (label, op) in [
            (format!("Pause all from {host}"), ItemOp::Pause),
            (format!("Resume all from {host}"), ItemOp::Resume),
            (format!("Retry failed from {host}"), ItemOp::Retry),
            (format!("Cancel all from {host}"), ItemOp::Cancel),
        ] {
            if ui.button(label).clicked() {
                action = Some(QueueAction::Items(op, model.of_host(host)));
            }
        }
    }
    if action.is_some() {
        ui.close();
    }
    action
}

/// The line under a row's name; `speed` is the download's (bytes per second).
fn row_status_ui(ui: &mut egui::Ui, item: &ItemView, speed: f64) {
    match item.state {
        Stage::Failed => {
            let reason = item
                .failure
                .as_ref()
                .map_or("failed", |f| f.reason.as_str());
            ui.label(
                egui::RichText::new(reason)
                    .color(ui.visuals().error_fg_color)
                    .small(),
            );
        }
        Stage::Cancelled => {
            ui.weak("cancelled");
        }
        Stage::Paused => {
            let fraction = match item.total {
                Some(t) if t > 0 => item.bytes as f32 / t as f32,
                _ => 0.0,
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_height(12.0)
                    .text(egui::RichText::new(format!("paused at {}", Bytes(item.bytes))).small()),
            );
        }
        Stage::Queued => {
            let text = item.note.as_deref().unwrap_or("waiting");
            ui.add(
                egui::ProgressBar::new(0.0)
                    .desired_height(12.0)
                    .text(egui::RichText::new(text).small()),
            );
        }
        state => {
            let fraction = match item.total {
                Some(t) if t > 0 => item.bytes as f32 / t as f32,
                _ => 0.0,
            };
            let mut text = match item.total {
                Some(t) => format!(
                    "{} / {} · {:.0}%",
                    Bytes(item.bytes),
                    Bytes(t),
                    fraction * 100.0
                ),
                None => format!("{}", Bytes(item.bytes)),
            };
            if state == Stage::Downloading && speed > 0.0 {
                text.push_str(&format!(" · {}/s", Bytes(speed as u64)));
            }
            if let (Stage::Done, Some((w, h))) = (state, item.dimensions) {
                text.push_str(&format!(" · {w}×{h}"));
            }
            if let (Stage::Done, Some(note)) = (state, &item.note) {
                text.push_str(&format!(" · {note}"));
            }
            ui.add(
                egui::ProgressBar::new(if state.is_settled() { 1.0 } else { fraction })
                    .desired_height(12.0)
                    .text(egui::RichText::new(text).small()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Selection;

    #[test]
    fn shift_click_selects_the_rows_between_in_display_order() {
        let mut selection = Selection::default();
        // Shown as 3, 0, 2, 1 (3 was moved to the top).
        let order = [3, 0, 2, 1];
        selection.click(3, false, &order);
        selection.click(2, true, &order);
        assert_eq!(
            selection.rows.iter().copied().collect::<Vec<_>>(),
            [0, 2, 3]
        );
        // A plain click toggles one row.
        selection.click(0, false, &order);
        assert_eq!(selection.rows.iter().copied().collect::<Vec<_>>(), [2, 3]);
    }
}
