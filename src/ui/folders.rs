//! The output folder's engine: started off the UI thread when a folder is opened (or
//! Download is pressed for a new one), found again when the folder is chosen once more,
//! and given the URLs to queue.

use std::time::Instant;

use crossbeam_channel::Receiver;
use pixgrab_engine::Command;
use pixgrab_engine::{EngineHandle, Event};
use url::Url;

use super::{PixgrabApp, engines, requests};

impl PixgrabApp {
    /// Queues the URLs in the box in the output folder's library, starting its engine
    /// if needed.
    pub(super) fn download(&mut self, ctx: &egui::Context) {
        self.input.refresh();
        if self.input.is_reading() {
            // A big paste is still being read off the UI thread: start when it is.
            self.input.download_when_read = true;
            return;
        }
        if let Err(too_many) = self.input.intake.check_limit() {
            // Refused whole, and the box keeps its text: nothing typed is lost.
            self.input.say(too_many, true);
            return;
        }
        if self.input.intake.urls.is_empty() {
            return;
        }
        match self.settings.template() {
            Ok(template) => self.engines.set_name_template(&template),
            Err(e) => {
                // Nothing starts with names the user did not mean; the box keeps its text.
                self.input.say(format!("File names: {e}"), true);
                return;
            }
        }
        let urls = self.input.take_urls();
        match self.current_engine() {
            Some(slot) => self.add_to(slot, urls),
            None => self.open_library(ctx, urls, false),
        }
    }

    /// The running engine of the chosen output folder, if any.
    pub(super) fn current_engine(&self) -> Option<usize> {
        self.engines.of_folder(&self.settings.out_dir)
    }

    /// The running engine of the chosen output folder, or a note that it is not open.
    pub(super) fn current_handle(&mut self) -> Option<&EngineHandle> {
        let handle = self.current_engine().and_then(|n| self.engines.handle(n));
        if handle.is_none() {
            self.input
                .say("Open the folder first (Open, or Download).", true);
        }
        handle
    }

    /// Starts (off the UI thread) the engine of the chosen output folder, unless it runs
    /// already; `urls` are queued once it does.
    pub(super) fn open_library(
        &mut self,
        ctx: &egui::Context,
        urls: Vec<Url>,
        only_existing: bool,
    ) {
        let folder = self.settings.out_dir.trim().to_string();
        if folder.is_empty() {
            self.error = Some("Choose an output folder first.".into());
            return;
        }
        if let Some(slot) = self.current_engine() {
            self.add_to(slot, urls);
            return;
        }
        if !self.engines.begin_opening(&folder, urls) {
            return;
        }
        let profiles = requests::profiles(&self.settings, &self.requests.all_cookies()).0;
        #[allow(unused_mut)] // set in tests only
        let mut config = engines::config_for(&folder, &self.settings, profiles, ctx.clone());
        #[cfg(test)]
        {
            config.library_delay = self.library_delay;
            config.trash_dir.clone_from(&self.trash_dir);
        }
        self.error = None;
        if !only_existing {
            self.input.say(format!("Opening {folder}…"), false);
        }
        self.tasks.start_engine(folder, config, only_existing);
    }

    /// An engine started on a task is here (or a look at a folder found no library, or
    /// it failed): keep it, show its restored library and queue what waited for it.
    pub(super) fn engine_started(
        &mut self,
        ctx: &egui::Context,
        folder: String,
        result: Result<Option<(EngineHandle, Receiver<Event>)>, String>,
    ) {
        let pending = self.engines.end_opening(&folder);
        match result {
            Ok(Some((handle, events))) => {
                self.settings.remember(&folder);
                self.gallery.thumb_side = handle.thumb_side();
                let finder = handle.finder();
                let slot = self
                    .engines
                    .push(handle, events, folder, self.settings.limits());
                // The restored library first, so the repeats among `pending` are known.
                self.drain_engine(slot, Instant::now(), usize::MAX);
                if let Some(page) = self.engines.find_after_open.take() {
                    self.tasks.find_images(finder, page);
                }
                if !pending.is_empty() {
                    self.add_to(slot, pending);
                } else {
                    self.input.notice = None;
                }
                self.replay_handovers(ctx);
            }
            // Only a look at a folder without a library, but URLs came meanwhile: open it.
            Ok(None) if !pending.is_empty() || !self.handed_waiting.is_empty() => {
                self.open_library(ctx, pending, false);
            }
            Ok(None) => {}
            Err(e) => {
                self.error = Some(e);
                if !pending.is_empty() {
                    // Nothing lost: the URLs go back into the box.
                    let text: Vec<&str> = pending.iter().map(Url::as_str).collect();
                    self.input.append(&text.join("\n"));
                }
            }
        }
    }

    /// Queues URLs in a running engine. The engine's command thread writes the library;
    /// its answer ([`Event::Added`]) says how many were new.
    pub(super) fn add_to(&mut self, slot: usize, urls: Vec<Url>) {
        if urls.is_empty() {
            return;
        }
        self.input
            .say(format!("Queueing {} URLs…", urls.len()), false);
        if let Some(handle) = self.engines.handle(slot) {
            self.model.reserve(urls.len());
            self.adds_in_flight += 1;
            handle.send(Command::Add { urls, page: None });
        }
    }
}
