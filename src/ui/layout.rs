//! The window's layout: the dialogs over it, the input and queue panel on the left, the
//! overall bar with the gallery or the viewer in the middle, and the page picker. Each
//! part is drawn by its own file's `*_ui` function; what they ask for is carried out
//! after the frame is laid out (`actions.rs`).

use std::path::PathBuf;
use std::time::Instant;

use pixgrab_engine::Command;

use super::gallery::GalleryAction;
use super::input::{self, InputAction};
use super::queue::{self, ItemOp, QueueAction};
use super::requests::{self, RequestAction};
use super::viewer::{self, ViewerAction};
use super::{PixgrabApp, picker, similar, watches};

impl PixgrabApp {
    /// Draws one frame (`App::ui`), then carries out what it was asked for.
    pub(super) fn window_ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        let now = Instant::now();
        let mut input_action = self.global_input(&ctx);
        self.confirm_trash_ui(&ctx);
        self.similar_window_ui(&ctx);

        let (typed, mut queue_action) = egui::Panel::left("input")
            .resizable(true)
            .default_size(400.0)
            .size_range(300.0..=640.0)
            .show(ui, |ui| self.side_panel_ui(ui))
            .inner;
        if typed.is_some() {
            input_action = typed;
        }
        let central = egui::CentralPanel::default()
            .show(ui, |ui| self.central_ui(ui, &ctx, now))
            .inner;
        if central.is_some() {
            queue_action = central;
        }

        if let Some(picker) = &mut self.picker
            && let Some(action) = picker::picker_ui(&ctx, picker)
        {
            self.picker_action(action);
        }
        if let Some(action) = input_action {
            self.run_input_action(&ctx, action);
        }
        if let Some(action) = queue_action {
            self.queue_action(action);
        }
        self.stats.record(started.elapsed(), frame.info().cpu_usage);
    }

    /// The "Similar images" window, while it is open.
    fn similar_window_ui(&mut self, ctx: &egui::Context) {
        if let Some(view) = &mut self.similar {
            match similar::similar_ui(ctx, view, &self.model) {
                Some(similar::SimilarAction::Trash(items)) => {
                    // The window gives way to the confirmation.
                    self.confirm_trash = Some(items);
                    self.similar = None;
                }
                Some(similar::SimilarAction::Close) => self.similar = None,
                None => {}
            }
        }
    }

    /// The left panel: input, watched pages, request settings, the last error and the
    /// queue. Returns what its input and queue parts asked for.
    fn side_panel_ui(&mut self, ui: &mut egui::Ui) -> (Option<InputAction>, Option<QueueAction>) {
        let busy = !self.model.is_idle();
        let input_action = input::input_ui(ui, &mut self.input, &mut self.settings, busy);
        if let Some(action) = watches::watches_ui(ui, &self.model.watches) {
            self.watch_action(action);
        }
        match requests::requests_ui(
            ui,
            &mut self.settings,
            &self.requests.cookies,
            &self.requests.problems,
        ) {
            Some(RequestAction::LoadCookies) => self
                .tasks
                .load_cookies(PathBuf::from(self.settings.cookies_path.trim())),
            Some(RequestAction::BrowserHost(uninstall)) => self.tasks.browser_host(uninstall),
            None => {}
        }
        if let Some(error) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        ui.separator();
        let mut queue_action = queue::queue_heading_ui(ui);
        if let Some(a) = queue::queue_toolbar_ui(ui, &self.model, &mut self.selection) {
            queue_action = Some(a);
        }
        if let Some(a) = queue::queue_ui(ui, &self.model, &mut self.selection) {
            queue_action = Some(a);
        }
        (input_action, queue_action)
    }

    /// Stop or Resume of a watched page, sent to the engine that watches it.
    fn watch_action(&self, action: watches::WatchAction) {
        match action {
            watches::WatchAction::Stop(slot, page) => {
                if let Some(handle) = self.engines.handle(slot) {
                    handle.send(Command::Unwatch(page));
                }
            }
            watches::WatchAction::Resume(slot, page, interval) => {
                if let Some(handle) = self.engines.handle(slot) {
                    handle.send(Command::Watch {
                        page,
                        interval,
                        seen: Vec::new(),
                    });
                }
            }
        }
    }

    /// The middle: the overall bar, then the viewer if an image is open, else the
    /// gallery. Returns what the overall bar asked for.
    fn central_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &egui::Context,
        now: Instant,
    ) -> Option<QueueAction> {
        let queue_action = queue::overall_ui(ui, &self.model, now);
        if let Some(viewer) = &mut self.viewer {
            match viewer::viewer_ui(ui, viewer, &self.model, self.gallery.view.shown()) {
                Some(ViewerAction::Close) => self.viewer = None,
                Some(ViewerAction::Go(pos)) => self.open_viewer(ctx, pos),
                None => {}
            }
        } else {
            self.gallery
                .view
                .sync_folder(&self.settings.out_dir, &mut self.settings.views);
            match self.gallery.gallery_ui(ui, &mut self.model, &self.tasks) {
                Some(GalleryAction::Open(pos)) => self.open_viewer(ctx, pos),
                Some(GalleryAction::Selection(op, items)) => {
                    self.selection_action(ctx, op, items);
                }
                Some(GalleryAction::FindSimilar) => self.find_similar(),
                None => {}
            }
        }
        queue_action
    }

    /// The one confirmation before files go to the trash.
    fn confirm_trash_ui(&mut self, ctx: &egui::Context) {
        let Some(items) = &self.confirm_trash else {
            return;
        };
        let files = items
            .iter()
            .filter(|&&i| self.model.items.get(i).is_some_and(|it| it.path.is_some()))
            .count();
        let mut answer = None;
        egui::Modal::new(egui::Id::unique("confirm trash")).show(ctx, |ui| {
            ui.heading(format!(
                "Move {files} file{} to the trash?",
                if files == 1 { "" } else { "s" }
            ));
            ui.label("They stay in the desktop's trash until it is emptied; these items will not be downloaded again.");
            ui.horizontal(|ui| {
                if ui.button("Move to trash").clicked() {
                    answer = Some(true);
                }
                if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    answer = Some(false);
                }
            });
        });
        match answer {
            Some(true) => {
                let items = self.confirm_trash.take().unwrap_or_default();
                self.gallery.view.selected.clear();
                self.queue_action(QueueAction::Items(ItemOp::Trash, items));
            }
            Some(false) => self.confirm_trash = None,
            None => {}
        }
    }
}
