//! What the panels asked for, carried out: buttons of the input panel, the picker, the
//! queue, the gallery's selection and the viewer. Every change to an engine is a command
//! to its thread or a task; nothing here waits.

use std::path::PathBuf;

use pixgrab_engine::Command;

use super::PixgrabApp;
use super::gallery::SelectionOp;
use super::input::InputAction;
use super::model;
use super::picker::PickerAction;
use super::queue::{ItemOp, QueueAction};
use super::viewer::{self, Viewer};

impl PixgrabApp {
    /// Carries out an input panel button or shortcut.
    pub(super) fn run_input_action(&mut self, ctx: &egui::Context, action: InputAction) {
        match action {
            InputAction::Download => self.download(ctx),
            InputAction::PickList => self.tasks.pick_list(),
            InputAction::LoadTyped => {
                let path = PathBuf::from(self.input.list_path.trim());
                self.tasks.read_list(path);
            }
            InputAction::PickFolder => self
                .tasks
                .pick_folder(&PathBuf::from(&self.settings.out_dir)),
            InputAction::OpenLibrary => self.open_library(ctx, Vec::new(), false),
            InputAction::FindImages => self.find_images(ctx),
        }
    }

    /// "Find images": reads the page in the page field with the folder's engine.
    fn find_images(&mut self, ctx: &egui::Context) {
        let text = self.input.page_url.trim().to_string();
        let page = match url::Url::parse(&text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => {
                self.input
                    .say(format!("{text:?} is not an http(s) page address"), true);
                return;
            }
        };
        self.input.say(format!("Reading {page}…"), false);
        self.find_images_on(ctx, page);
    }

    /// Reads `page` with the folder's engine (opening it first if needed) for the picker.
    pub(super) fn find_images_on(&mut self, ctx: &egui::Context, page: url::Url) {
        match self.current_engine().and_then(|n| self.engines.handle(n)) {
            Some(handle) => self.tasks.find_images(handle.finder(), page),
            None => {
                self.engines.find_after_open = Some(page);
                self.open_library(ctx, Vec::new(), false);
            }
        }
    }

    /// Carries out the page picker's Queue, Queue and watch, or Close.
    pub(super) fn picker_action(&mut self, action: PickerAction) {
        match action {
            PickerAction::Close => {
                self.picker = None;
                // Its probes (up to a thousand requests) stop.
                if let Some(handle) = self.current_handle() {
                    handle.finder().cancel_probes();
                }
            }
            PickerAction::Queue {
                urls,
                page,
                watch,
                shown,
            } => {
                let count = urls.len();
                let Some(handle) = self.current_handle() else {
                    return;
                };
                handle.send(Command::Add {
                    urls,
                    page: Some(page.clone()),
                });
                let mut note = format!("Queueing {count} images from {page}");
                if let Some(interval) = watch {
                    handle.send(Command::Watch {
                        page: page.clone(),
                        interval,
                        seen: shown,
                    });
                    note.push_str(&format!(
                        "; watching it for new ones every {}",
                        pixgrab_engine::Span(interval)
                    ));
                }
                self.adds_in_flight += 1;
                self.input.say(format!("{note}…"), false);
                self.picker = None;
            }
        }
    }

    /// Carries out a queue panel action: every change goes to the engines' command
    /// threads, so the UI thread never waits on a library.
    pub(super) fn queue_action(&mut self, action: QueueAction) {
        match action {
            QueueAction::Items(op, rows) => {
                let keys = self.model.keys(rows);
                let tasks = &self.tasks;
                self.engines.by_owner(&keys, |handle, ids| match op {
                    ItemOp::Pause => handle.send(Command::Pause(ids)),
                    ItemOp::Resume => handle.send(Command::Resume(ids)),
                    ItemOp::Retry => handle.send(Command::Retry(ids)),
                    ItemOp::Cancel => handle.send(Command::Cancel(ids)),
                    ItemOp::Top => handle.send(Command::MoveToTop(ids)),
                    ItemOp::Trash => handle.send(Command::Trash(ids)),
                    ItemOp::KeepAnyway => {
                        for id in ids {
                            tasks.keep(handle.keeper(id));
                        }
                    }
                });
            }
            QueueAction::PauseAll => self.engines.send_all(|| Command::PauseAll),
            QueueAction::ResumeAll => {
                self.model.paused = None;
                self.engines.send_all(|| Command::ResumeAll);
            }
            QueueAction::RetryFailed => self.engines.send_all(|| Command::RetryFailed),
            QueueAction::CancelAll => self.engines.send_all(|| Command::CancelAll),
            QueueAction::Export { json } => {
                if let Some(exporter) = self.current_handle().map(|h| h.exporter(json)) {
                    self.tasks.export(exporter);
                }
            }
        }
    }

    /// Carries out an action on the gallery's selection (Delete asks first).
    pub(super) fn selection_action(
        &mut self,
        ctx: &egui::Context,
        op: SelectionOp,
        items: Vec<usize>,
    ) {
        let lines = |f: &dyn Fn(&model::ItemView) -> Option<String>| {
            items
                .iter()
                .filter_map(|&i| self.model.items.get(i).and_then(f))
                .collect::<Vec<_>>()
                .join("\n")
        };
        match op {
            SelectionOp::Trash => self.confirm_trash = Some(items),
            SelectionOp::Retry => self.queue_action(QueueAction::Items(ItemOp::Retry, items)),
            SelectionOp::CopyPaths => {
                ctx.copy_text(lines(&|i| i.path.as_ref().map(|p| p.display().to_string())));
            }
            SelectionOp::CopyUrls => ctx.copy_text(lines(&|i| Some(i.url.to_string()))),
            SelectionOp::OpenFolder => {
                let dir = items
                    .iter()
                    .find_map(|&i| self.model.items.get(i)?.path.as_ref()?.parent());
                if let Some(dir) = dir {
                    viewer::open_external(dir);
                }
            }
        }
    }

    /// Looks for the current folder's similar images off the UI thread.
    pub(super) fn find_similar(&mut self) {
        let Some(slot) = self.current_engine() else {
            self.input
                .say("Open the folder first (Open, or Download).", true);
            return;
        };
        if let Some(handle) = self.engines.handle(slot) {
            self.tasks.similar(slot, handle.similar_finder());
            self.input.say("Looking for similar images…", false);
        }
    }

    /// Opens the viewer on gallery position `pos` (its image decodes on a task).
    pub(super) fn open_viewer(&mut self, ctx: &egui::Context, pos: usize) {
        self.viewer_generation += 1;
        let max_side = ctx.input(|i| i.max_texture_side).min(8192) as u32;
        self.viewer = Some(Viewer::open(
            pos,
            self.viewer_generation,
            &self.model,
            self.gallery.view.shown(),
            &self.tasks,
            max_side,
        ));
    }
}
