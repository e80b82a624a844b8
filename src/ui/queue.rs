//! The queue panel: overall progress and one row per item (virtualized).

use std::time::Instant;

use pixgrab::Bytes;

use super::model::{ItemState, Model};

/// What the user asked for in the queue.
pub(crate) enum QueueAction {
    /// Cancel this item.
    Cancel(usize),
    /// Cancel everything queued or running.
    CancelAll,
    /// Start downloads again after a pause.
    Resume,
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
                action = Some(QueueAction::Resume);
            }
        });
    }
    ui.horizontal(|ui| {
        let fraction = finished as f32 / total as f32;
        let text = if model.is_idle() {
            format!(
                "Finished: {} downloaded, {} failed, {} cancelled · {}",
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
                "{finished}/{total} · {} downloading · {} queued · {}/s · ETA {eta}",
                c.active,
                c.queued,
                Bytes(speed as u64)
            )
        };
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .add_enabled(!model.is_idle(), egui::Button::new("Cancel all"))
                .clicked()
            {
                action = Some(QueueAction::CancelAll);
            }
            ui.add(
                egui::ProgressBar::new(fraction)
                    .text(text)
                    .desired_width(ui.available_width()),
            );
        });
    });
    action
}

/// The list of items, one row each; only visible rows are laid out.
pub(crate) fn queue_ui(ui: &mut egui::Ui, model: &Model, now: Instant) -> Option<QueueAction> {
    let _ = now;
    let mut action = None;
    if model.items.is_empty() {
        ui.weak("The queue is empty.");
        return None;
    }
    egui::ScrollArea::vertical()
        .id_salt("queue")
        .auto_shrink([false, false])
        .show_rows(ui, ROW_HEIGHT, model.items.len(), |ui, range| {
            for idx in range {
                let item = &model.items[idx];
                ui.push_id(idx, |ui| {
                    ui.set_height(ROW_HEIGHT - ui.spacing().item_spacing.y);
                    ui.horizontal(|ui| {
                        let name = super::gallery::elide(&item.name, 40);
                        ui.label(egui::RichText::new(name).strong())
                            .on_hover_text(item.url.as_str());
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if !item.state.is_settled()
                                && ui
                                    .small_button("Cancel")
                                    .on_hover_text("Cancel this download")
                                    .clicked()
                            {
                                action = Some(QueueAction::Cancel(idx));
                            }
                            ui.weak(item.state.label());
                        });
                    });
                    row_status_ui(ui, item);
                });
            }
        });
    action
}

fn row_status_ui(ui: &mut egui::Ui, item: &super::model::ItemView) {
    match &item.state {
        ItemState::Failed(reason) => {
            ui.label(
                egui::RichText::new(reason)
                    .color(ui.visuals().error_fg_color)
                    .small(),
            );
        }
        ItemState::Cancelled => {
            ui.weak("cancelled");
        }
        ItemState::Queued => {
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
            if *state == ItemState::Downloading && item.speed > 0.0 {
                text.push_str(&format!(" · {}/s", Bytes(item.speed as u64)));
            }
            if let (ItemState::Done, Some((w, h))) = (state, item.dimensions) {
                text.push_str(&format!(" · {w}×{h}"));
            }
            ui.add(
                egui::ProgressBar::new(if state.is_settled() { 1.0 } else { fraction })
                    .desired_height(12.0)
                    .text(egui::RichText::new(text).small()),
            );
        }
    }
}
