//! The Pixgrab window: an eframe app over the same engine as the CLI.
//!
//! Invariant: the UI thread never blocks. It never touches the network, never decodes
//! an image and never reads a file: `logic` drains channels (engine events, task
//! results) and `ui` draws. Workers wake it with `request_repaint`.

mod autorun;
mod clipwatch;
mod engines;
mod gallery;
mod input;
mod model;
mod picker;
mod queue;
mod requests;
mod settings;
mod similar;
mod tasks;
#[cfg(test)]
mod tests;
mod view;
mod viewer;
mod watches;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use pixgrab_engine::engine::commands::Command;
use pixgrab_engine::{EngineHandle, Event};
use pixgrab_testsite::demo::DemoSite;
use url::Url;

pub(crate) use autorun::AUTORUN_OK;
use autorun::{Autorun, FrameStats};
use engines::Engines;
use gallery::{Gallery, GalleryAction, SelectionOp};
use input::{InputAction, InputPanel};
use model::Model;
use picker::{PagePicker, PickerAction};
use queue::{ItemOp, QueueAction, Selection};
use requests::RequestAction;
use settings::Settings;
use tasks::{TaskResult, Tasks};
use viewer::{Viewer, ViewerAction};

/// How the window starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct UiOptions {
    /// Serve sample images on 127.0.0.1 and fill the URL box with them.
    pub(crate) demo: Option<usize>,
    /// Press Download at once, and when everything is finished save a screenshot here
    /// and exit (the smoke test and the frame-time benchmark use this).
    pub(crate) autorun_screenshot: Option<PathBuf>,
    /// Output folder for this run (overrides the remembered one).
    pub(crate) out_dir: Option<PathBuf>,
    /// During an autorun, once half the items are done: sort by this (`name`, `size`,
    /// `pixels`, `host`) and show only downloaded items.
    pub(crate) autorun_sort: Option<String>,
}

/// The app state.
pub(crate) struct PixgrabApp {
    /// For tests: engines opened by this window write their library this slowly.
    #[cfg(test)]
    library_delay: Option<Duration>,
    /// For tests: engines opened by this window trash into this folder.
    #[cfg(test)]
    trash_dir: Option<PathBuf>,
    /// Items (model indices) waiting for the user to confirm moving them to the trash.
    confirm_trash: Option<Vec<usize>>,
    /// See [`UiOptions::autorun_sort`].
    autorun_sort: Option<String>,
    /// The "Similar images" window, once its groups were found.
    similar: Option<similar::SimilarView>,
    settings: Settings,
    input: InputPanel,
    model: Model,
    gallery: Gallery,
    /// The folder whose gallery settings `gallery.view` holds.
    view_folder: String,
    viewer: Option<Viewer>,
    viewer_generation: u64,
    tasks: Tasks,
    /// The engines of the folders opened in this session.
    engines: Engines,
    selection: Selection,
    /// The checklist of the last page read with "Find images".
    picker: Option<PagePicker>,
    picker_generation: u64,
    /// Cookies, unreadable header lines, and what the engines were last given.
    requests: requests::Requests,
    /// The clipboard watch, while it is on.
    clipwatch: Option<clipwatch::ClipWatch>,
    /// A problem that stopped the last Download (e.g. an unusable folder).
    error: Option<String>,
    _demo: Option<DemoSite>,
    autorun: Option<Autorun>,
    stats: FrameStats,
}

impl PixgrabApp {
    /// Builds the app; `storage` holds remembered settings, if any.
    pub(crate) fn new(
        ctx: &egui::Context,
        storage: Option<&dyn eframe::Storage>,
        options: UiOptions,
    ) -> Self {
        let mut settings: Settings = storage
            .and_then(|s| eframe::get_value::<Settings>(s, settings::STORAGE_KEY))
            .map(Settings::migrate)
            .unwrap_or_default();
        if let Some(out) = &options.out_dir {
            settings.out_dir = out.to_string_lossy().into_owned();
        }
        let mut input = InputPanel::default();
        input.waker = Some(ctx.clone());
        let demo = options.demo.and_then(|count| match DemoSite::start(count) {
            Ok(site) => Some(site),
            Err(e) => {
                input.say(format!("Could not start the demo server: {e}"), true);
                None
            }
        });
        if let Some(site) = &demo {
            input.append(&site.url_list());
            input.page_url = site.gallery_url();
            input.say(
                "Demo: sample images served from this computer. Press Download, or \"Find images\" to pick from the demo's gallery page.",
                false,
            );
        }
        let autorun = options.autorun_screenshot.map(Autorun::new);
        let mut app = Self {
            #[cfg(test)]
            library_delay: None,
            #[cfg(test)]
            trash_dir: None,
            confirm_trash: None,
            autorun_sort: options.autorun_sort.clone(),
            similar: None,
            settings,
            input,
            model: Model::default(),
            gallery: Gallery::default(),
            view_folder: String::new(),
            viewer: None,
            viewer_generation: 0,
            tasks: Tasks::new(ctx.clone()),
            engines: Engines::default(),
            selection: Selection::default(),
            picker: None,
            picker_generation: 0,
            requests: requests::Requests::default(),
            clipwatch: None,
            error: None,
            _demo: demo,
            autorun,
            stats: FrameStats::default(),
        };
        // Reopen the last library (if the folder has one): its queue and gallery come back.
        if app.autorun.is_none() {
            app.open_library(ctx, Vec::new(), true);
        }
        if !app.settings.cookies_path.trim().is_empty() {
            app.tasks
                .load_cookies(PathBuf::from(app.settings.cookies_path.trim()));
        }
        app
    }

    /// Queues the URLs in the box in the output folder's library, starting its engine
    /// if needed.
    fn download(&mut self, ctx: &egui::Context) {
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
        let urls = self.input.intake.urls.clone();
        if urls.is_empty() {
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
        self.input.text.clear();
        self.input.refresh();
        match self.current_engine() {
            Some(slot) => self.add_to(slot, urls),
            None => self.open_library(ctx, urls, false),
        }
    }

    /// The running engine of the chosen output folder, if any.
    fn current_engine(&self) -> Option<usize> {
        self.engines.of_folder(&self.settings.out_dir)
    }

    /// The running engine of the chosen output folder, or a note that it is not open.
    fn current_handle(&mut self) -> Option<&EngineHandle> {
        let handle = self.current_engine().and_then(|n| self.engines.handle(n));
        if handle.is_none() {
            self.input
                .say("Open the folder first (Open, or Download).", true);
        }
        handle
    }

    /// Starts (off the UI thread) the engine of the chosen output folder, unless it runs
    /// already; `urls` are queued once it does.
    fn open_library(&mut self, ctx: &egui::Context, urls: Vec<Url>, only_existing: bool) {
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
        let profiles = requests::profiles(&self.settings, &self.requests.cookies).0;
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

    fn engine_started(
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
                self.drain_engine(slot, Instant::now());
                if let Some(page) = self.engines.find_after_open.take() {
                    self.tasks.find_images(finder, page);
                }
                if !pending.is_empty() {
                    self.add_to(slot, pending);
                } else {
                    self.input.notice = None;
                }
            }
            // Only a look at a folder without a library, but URLs came meanwhile: open it.
            Ok(None) if !pending.is_empty() => self.open_library(ctx, pending, false),
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
    fn add_to(&mut self, slot: usize, urls: Vec<Url>) {
        if urls.is_empty() {
            return;
        }
        self.input
            .say(format!("Queueing {} URLs…", urls.len()), false);
        if let Some(handle) = self.engines.handle(slot) {
            handle.send(Command::Add { urls, page: None });
        }
    }

    /// What came of a command sent to an engine.
    fn command_answer_ui(&mut self, event: &Event) {
        match event {
            Event::Added { asked, new } => {
                let known = asked - new;
                let mut note = format!("Queued {new} URLs.");
                if known > 0 {
                    note.push_str(&format!(
                        " {known} were already in this folder's library (failed ones are tried again)."
                    ));
                }
                self.input.say(note, false);
            }
            Event::CommandFailed { reason, urls } => {
                // Nothing lost: the URLs of a failed add go back into the box.
                if !urls.is_empty() {
                    let text: Vec<&str> = urls.iter().map(Url::as_str).collect();
                    self.input.append(&text.join("\n"));
                }
                self.error = Some(reason.clone());
            }
            _ => {}
        }
    }

    fn drain_engine(&mut self, slot: usize, now: Instant) {
        // A second handle on the same channel (an Arc), so the events need no copy.
        let Some(events) = self.engines.events(slot) else {
            return;
        };
        for event in events.try_iter() {
            if matches!(event, Event::Added { .. } | Event::CommandFailed { .. }) {
                self.command_answer_ui(&event);
            } else {
                self.model.apply(slot, event, now);
            }
        }
    }

    /// Applies changed limits to the running engines (they take effect at once).
    fn apply_limits(&mut self) {
        if let Err(e) = self.engines.apply_limits(self.settings.limits()) {
            self.error = Some(e);
        }
    }

    /// Gives changed request settings (User-Agent, per-site headers, cookies) to every
    /// running engine.
    fn apply_requests(&mut self) {
        let Some(profiles) = self.requests.changed(&self.settings) else {
            return;
        };
        self.engines
            .set_requests(&profiles, self.settings.private_rule());
    }

    /// Starts or stops the clipboard watch to match its checkbox.
    fn watch_clipboard(&mut self, ctx: &egui::Context) {
        match (self.input.watch_clipboard, self.clipwatch.is_some()) {
            (true, false) => match clipwatch::start(self.tasks.sender(), ctx.clone()) {
                Ok(watch) => {
                    self.clipwatch = Some(watch);
                    self.input.say(
                        "Watching the clipboard: copied image URLs will appear in the box.",
                        false,
                    );
                }
                Err(e) => {
                    self.input.watch_clipboard = false;
                    self.input.say(e, true);
                }
            },
            (false, true) => self.clipwatch = None,
            _ => {}
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
        match self.current_engine().and_then(|n| self.engines.handle(n)) {
            Some(handle) => self.tasks.find_images(handle.finder(), page),
            None => {
                self.engines.find_after_open = Some(page);
                self.open_library(ctx, Vec::new(), false);
            }
        }
    }

    fn picker_action(&mut self, action: PickerAction) {
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
                        pixgrab_engine::error::Span(interval)
                    ));
                }
                self.input.say(format!("{note}…"), false);
                self.picker = None;
            }
        }
    }

    /// Carries out a queue panel action: every change goes to the engines' command
    /// threads, so the UI thread never waits on a library.
    fn queue_action(&mut self, action: QueueAction) {
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

    fn handle_task(&mut self, ctx: &egui::Context, result: TaskResult) {
        match result {
            TaskResult::UrlText { source, result } => match result {
                Ok(text) => {
                    let added = self.input.append_counting(&text);
                    let from = source.display();
                    self.input
                        .say(format!("Loaded {added} URLs from {from}"), false);
                }
                Err(e) => self.input.say(e, true),
            },
            TaskResult::PickedList(Some(path)) => {
                self.input.list_path = path.to_string_lossy().into_owned();
                self.tasks.read_list(path);
            }
            TaskResult::PickedList(None) | TaskResult::PickedFolder(None) => {
                self.input.say(
                    "No file chosen. If no dialog appeared, type the path into the field instead.",
                    false,
                );
            }
            TaskResult::PickedFolder(Some(path)) => {
                self.settings.out_dir = path.to_string_lossy().into_owned();
                self.open_library(ctx, Vec::new(), false);
            }
            TaskResult::Thumb { idx, result } => match result {
                Ok(thumb) => self.gallery.reloaded(ctx, &mut self.model, idx, thumb),
                Err(e) => self.gallery.reload_failed(&mut self.model, idx, e),
            },
            TaskResult::FullImage {
                generation,
                result,
                photo,
            } => {
                if let Some(viewer) = &mut self.viewer {
                    viewer.loaded(ctx, generation, result, photo);
                }
            }
            TaskResult::Engine { folder, result } => self.engine_started(ctx, folder, result),
            TaskResult::Similar { engine, result } => match result {
                Ok(groups) => {
                    let groups: Vec<Vec<usize>> = groups
                        .into_iter()
                        .map(|g| {
                            g.into_iter()
                                .filter_map(|id| self.model.idx_of(engine, id))
                                .collect::<Vec<_>>()
                        })
                        .filter(|g| g.len() > 1)
                        .collect();
                    self.input.say(
                        format!(
                            "{} of similar images",
                            crate::common::plural(groups.len(), "group")
                        ),
                        false,
                    );
                    self.similar = Some(similar::SimilarView::new(groups, &self.model));
                }
                Err(e) => self.input.say(format!("Similar images: {e}"), true),
            },
            TaskResult::Exported(Ok(path)) => {
                self.input
                    .say(format!("Library exported to {}", path.display()), false);
            }
            TaskResult::Exported(Err(e)) => self.input.say(e, true),
            TaskResult::Kept(Ok(path)) => {
                self.input.say(format!("Kept {}", path.display()), false);
            }
            TaskResult::Kept(Err(e)) => self.input.say(format!("Could not keep it: {e}"), true),
            TaskResult::PageImages(Ok(found)) => self.page_read(found),
            TaskResult::PageImages(Err(e)) => {
                self.input.say(format!("Cannot read the page: {e}"), true);
            }
            TaskResult::Probed {
                generation,
                index,
                probe,
            } => {
                if let Some(picker) = &mut self.picker
                    && picker.generation == generation
                {
                    picker.probed(ctx, index, *probe);
                }
            }
            TaskResult::Cookies(Ok((cookies, bad))) => {
                let mut note = format!("Loaded {} cookies.", cookies.len());
                if !bad.is_empty() {
                    note.push_str(&format!(" Skipped unreadable lines {bad:?}."));
                }
                self.input.say(note, !bad.is_empty());
                self.requests.cookies = cookies;
            }
            TaskResult::Cookies(Err(e)) => self.input.say(e, true),
            TaskResult::Clipboard(urls) => {
                let added = self.input.append_counting(&urls.join("\n"));
                if added > 0 {
                    self.input.say(
                        format!("Collected {added} image URLs from the clipboard."),
                        false,
                    );
                }
            }
        }
    }

    /// "Find images" read a page: show its checklist and learn the sizes.
    fn page_read(&mut self, found: pixgrab_engine::engine::PageImages) {
        let page = found.page;
        let how = found.via.describe();
        if found.candidates.is_empty() {
            let mut text = format!("No images found on {page}");
            if let Some(how) = how {
                text.push_str(&format!(" ({how})"));
            }
            self.input.say(text, true);
            return;
        }
        let count = found.candidates.len();
        self.input
            .say(format!("{count} images found on {page}"), false);
        self.picker_generation += 1;
        let mut picker = PagePicker::new(page.clone(), found.candidates, self.picker_generation);
        picker.how = how;
        if let Some(handle) = self.current_engine().and_then(|n| self.engines.handle(n)) {
            self.tasks.probe(
                handle.finder(),
                picker.probes(),
                page,
                self.picker_generation,
            );
        }
        self.picker = Some(picker);
    }

    /// Carries out an action on the gallery's selection (Delete asks first).
    fn selection_action(&mut self, ctx: &egui::Context, op: SelectionOp, items: Vec<usize>) {
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
    fn find_similar(&mut self) {
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

    /// The gallery's sort and filters are remembered per folder: another folder brings
    /// its own back; a change is stored for this one.
    fn sync_view(&mut self) {
        let folder = &self.settings.out_dir;
        let view = &mut self.gallery.view.settings;
        if self.view_folder != *folder {
            *view = self.settings.views.get(folder).cloned().unwrap_or_default();
            self.view_folder.clone_from(folder);
        } else if self.settings.views.get(folder) != Some(view) {
            self.settings.views.insert(folder.clone(), view.clone());
        }
    }

    fn open_viewer(&mut self, ctx: &egui::Context, pos: usize) {
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

    /// Keyboard shortcuts and paste/drop anywhere in the window.
    fn global_input(&mut self, ctx: &egui::Context) -> Option<InputAction> {
        let mut action = None;
        let nothing_focused = ctx.memory(|m| m.focused().is_none());
        let (pasted, dropped) = ctx.input(|i| {
            let pasted: Vec<String> = i
                .events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Paste(text) => Some(text.clone()),
                    _ => None,
                })
                .collect();
            let dropped: Vec<PathBuf> = i
                .raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            (pasted, dropped)
        });
        // Shortcuts by the modifiers their own key event carries: a quick press can
        // arrive in one frame whose modifiers already say Ctrl was released (X11 did
        // this, and Ctrl+Enter did nothing). Consumed, so the URL box does not also
        // take the Enter as a new line.
        let (download, open) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&egui::KeyboardShortcut::new(
                    egui::Modifiers::COMMAND,
                    egui::Key::Enter,
                )),
                i.consume_shortcut(&egui::KeyboardShortcut::new(
                    egui::Modifiers::COMMAND,
                    egui::Key::O,
                )),
            )
        });
        if nothing_focused {
            for text in pasted {
                self.input.append(&text);
            }
        }
        for path in dropped {
            self.tasks.read_list(path);
        }
        if download {
            action = Some(InputAction::Download);
        }
        if open {
            action = Some(InputAction::PickList);
        }
        action
    }

    fn run_input_action(&mut self, ctx: &egui::Context, action: InputAction) {
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

    fn autorun_step(&mut self, ctx: &egui::Context) {
        let Some(run) = &mut self.autorun else { return };
        let half = self.model.items.len() / 2;
        if half > 0
            && self.model.counts.done >= half
            && let Some(sort) = self.autorun_sort.take()
        {
            let view = &mut self.gallery.view.settings;
            view.sort = match sort.as_str() {
                "name" => view::SortBy::Name,
                "size" => view::SortBy::Bytes,
                "pixels" => view::SortBy::Pixels,
                "host" => view::SortBy::Host,
                _ => view::SortBy::Finished,
            };
            view.state = view::ShowState::Done;
            eprintln!("autorun: sorted by {} at {half} done", view.sort.label());
        }
        let idle = self.model.is_idle() && !self.engines.is_empty();
        match run.step(ctx, idle) {
            autorun::Step::Download => self.download(ctx),
            autorun::Step::Report => eprintln!(
                "{}",
                self.stats.report(&format!(
                    "items {} · textures {}",
                    self.model.items.len(),
                    self.gallery.texture_count()
                ))
            ),
            autorun::Step::Wait => {}
        }
    }
}

impl eframe::App for PixgrabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        for n in 0..self.engines.len() {
            self.drain_engine(n, now);
        }
        for result in self.tasks.drain() {
            self.handle_task(ctx, result);
        }
        self.input.refresh();
        if self.input.download_when_read && !self.input.is_reading() {
            self.input.download_when_read = false;
            self.download(ctx);
        }
        self.apply_limits();
        self.apply_requests();
        self.watch_clipboard(ctx);
        self.gallery.ingest(ctx, &mut self.model);
        self.autorun_step(ctx);
        if !self.model.is_idle() {
            // Keep speed and ETA ticking even when no event arrives.
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let started = Instant::now();
        let ctx = ui.ctx().clone();
        let now = Instant::now();
        let mut input_action = self.global_input(&ctx);
        let mut queue_action = None;
        self.confirm_trash_ui(&ctx);
        if let Some(view) = &mut self.similar {
            match similar::similar_ui(&ctx, view, &self.model) {
                Some(similar::SimilarAction::Trash(items)) => {
                    // The window gives way to the confirmation.
                    self.confirm_trash = Some(items);
                    self.similar = None;
                }
                Some(similar::SimilarAction::Close) => self.similar = None,
                None => {}
            }
        }

        egui::Panel::left("input")
            .resizable(true)
            .default_size(400.0)
            .size_range(300.0..=640.0)
            .show(ui, |ui| {
                let busy = !self.model.is_idle();
                if let Some(a) = input::input_ui(ui, &mut self.input, &mut self.settings, busy) {
                    input_action = Some(a);
                }
                match watches::watches_ui(ui, &self.model.watches) {
                    Some(watches::WatchAction::Stop(slot, page)) => {
                        if let Some(handle) = self.engines.handle(slot) {
                            handle.send(Command::Unwatch(page));
                        }
                    }
                    Some(watches::WatchAction::Resume(slot, page, interval)) => {
                        if let Some(handle) = self.engines.handle(slot) {
                            handle.send(Command::Watch {
                                page,
                                interval,
                                seen: Vec::new(),
                            });
                        }
                    }
                    None => {}
                }
                if let Some(RequestAction::LoadCookies) = requests::requests_ui(
                    ui,
                    &mut self.settings,
                    &self.requests.cookies,
                    &self.requests.problems,
                ) {
                    self.tasks
                        .load_cookies(PathBuf::from(self.settings.cookies_path.trim()));
                }
                if let Some(error) = &self.error {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
                ui.separator();
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
                if let Some(a) = queue::queue_toolbar_ui(ui, &self.model, &mut self.selection) {
                    queue_action = Some(a);
                }
                if let Some(a) = queue::queue_ui(ui, &self.model, &mut self.selection) {
                    queue_action = Some(a);
                }
            });
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(a) = queue::overall_ui(ui, &self.model, now) {
                queue_action = Some(a);
            }
            if let Some(viewer) = &mut self.viewer {
                match viewer::viewer_ui(ui, viewer, &self.model, self.gallery.view.shown()) {
                    Some(ViewerAction::Close) => self.viewer = None,
                    Some(ViewerAction::Go(pos)) => self.open_viewer(&ctx, pos),
                    None => {}
                }
            } else {
                self.sync_view();
                match self.gallery.gallery_ui(ui, &mut self.model, &self.tasks) {
                    Some(GalleryAction::Open(pos)) => self.open_viewer(&ctx, pos),
                    Some(GalleryAction::Selection(op, items)) => {
                        self.selection_action(&ctx, op, items);
                    }
                    Some(GalleryAction::FindSimilar) => self.find_similar(),
                    None => {}
                }
            }
        });

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

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, settings::STORAGE_KEY, &self.settings);
    }
}

/// The window icon, `assets/pixgrab.png` (also what the desktop entry names).
pub(crate) fn icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../assets/pixgrab.png");
    let rgba = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .ok()?
        .into_rgba8();
    Some(egui::IconData {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

/// Opens the window and runs until it closes.
pub(crate) fn run(options: UiOptions) -> anyhow::Result<()> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Pixgrab")
        .with_app_id("pixgrab")
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([720.0, 480.0])
        .with_drag_and_drop(true);
    if let Some(icon) = icon() {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let native = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "pixgrab",
        native,
        Box::new(move |cc| Ok(Box::new(PixgrabApp::new(&cc.egui_ctx, cc.storage, options)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
