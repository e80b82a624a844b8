//! The Pixgrab window: an eframe app over the same engine as the CLI. This file holds the
//! app's state and its construction; each other room does one job for it.
//!
//! Invariant: the UI thread never blocks. It never touches the network, never decodes
//! an image and never reads a file: `logic` drains channels (engine events, task
//! results) into the model; `ui` draws and carries out what the panels asked for by
//! sending commands to the engines and starting tasks, never waiting on either.
//! Workers wake it with `request_repaint`.

mod actions;
mod autorun;
mod clipwatch;
mod engines;
mod folders;
mod gallery;
mod handover;
#[cfg(test)]
mod handover_tests;
mod input;
mod layout;
mod logic;
mod model;
mod picker;
mod queue;
mod requests;
mod results;
#[cfg(test)]
mod scale_tests;
mod settings;
mod shortcuts;
mod similar;
mod tasks;
#[cfg(test)]
mod tests;
mod view;
mod viewer;
mod watches;

use std::path::PathBuf;

use pixgrab_testsite::demo::DemoSite;

pub(crate) use autorun::AUTORUN_OK;
use autorun::{Autorun, FrameStats};
use engines::Engines;
use gallery::Gallery;
use input::InputPanel;
use model::Model;
use picker::PagePicker;
use queue::Selection;
use settings::Settings;
use tasks::Tasks;
use viewer::Viewer;

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
    /// URLs handed to this window (by the command line, the browser, a second
    /// `pixgrab`), checked, waiting for the next frame.
    pub(crate) inbox: Option<crate::ipc::Inbox>,
}

/// The app state.
pub(crate) struct PixgrabApp {
    /// For tests: engines opened by this window write their library this slowly.
    #[cfg(test)]
    library_delay: Option<std::time::Duration>,
    /// For tests: engines opened by this window trash into this folder.
    #[cfg(test)]
    trash_dir: Option<PathBuf>,
    /// Items (model indices) waiting for the user to confirm moving them to the trash.
    confirm_trash: Option<Vec<usize>>,
    /// The "Similar images" window, once its groups were found.
    similar: Option<similar::SimilarView>,
    settings: Settings,
    input: InputPanel,
    model: Model,
    gallery: Gallery,
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
    /// Adds sent to an engine and not yet answered ([`pixgrab_engine::Event::Added`]
    /// or `CommandFailed`): work the model does not show yet.
    adds_in_flight: usize,
    stats: FrameStats,
    /// What other programs hand to this window (`crate::ipc`), and those handovers
    /// that wait for the folder's engine to open.
    inbox: Option<crate::ipc::Inbox>,
    handed_waiting: Vec<crate::ipc::Checked>,
    /// Pages sent from the browser while the picker was open: each opens after it.
    handed_after_picker: Vec<crate::ipc::Checked>,
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
        if let Some(inbox) = &options.inbox {
            let waker = ctx.clone();
            inbox.set_waker(move || waker.request_repaint());
        }
        let autorun = options
            .autorun_screenshot
            .map(|screenshot| Autorun::new(screenshot, options.autorun_sort.clone()));
        let mut app = Self {
            #[cfg(test)]
            library_delay: None,
            #[cfg(test)]
            trash_dir: None,
            confirm_trash: None,
            similar: None,
            settings,
            input,
            model: Model::default(),
            gallery: Gallery::default(),
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
            adds_in_flight: 0,
            stats: FrameStats::default(),
            inbox: options.inbox,
            handed_waiting: Vec::new(),
            handed_after_picker: Vec::new(),
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
}

impl eframe::App for PixgrabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let started = std::time::Instant::now();
        self.before_frame(ctx);
        self.stats.record_logic(started, started.elapsed());
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.window_ui(ui, frame);
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
