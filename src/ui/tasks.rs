//! Work the window hands off so the UI thread never blocks: file dialogs, reading
//! URL files, reloading evicted thumbnails, decoding full images for the viewer.
//! Every result comes back on one channel, drained in `App::logic`.

use pixgrab_engine::ItemId;
use pixgrab_engine::PhotoInfo;
use pixgrab_engine::{decode_cached, make_thumbnail, photo_info};
use std::path::{Path, PathBuf};

use crossbeam_channel::{Receiver, Sender};
use pixgrab_engine::Cookie;
use pixgrab_engine::ImageFormat;
use pixgrab_engine::Thumbnail;
use pixgrab_engine::{Config, Engine, EngineHandle, Event};
use pixgrab_engine::{Finder, PageImages, Probe, Want};
use url::Url;

/// Largest URL-list file the window reads (a list of 100,000 URLs is ~10 MB).
const MAX_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// A finished background task.
pub(crate) enum TaskResult {
    /// Text read from a URL-list file.
    UrlText {
        source: PathBuf,
        result: Result<String, String>,
    },
    /// The file dialog for a URL list closed.
    PickedList(Option<PathBuf>),
    /// The folder dialog closed.
    PickedFolder(Option<PathBuf>),
    /// A thumbnail reloaded for the gallery.
    Thumb {
        idx: usize,
        result: Result<Thumbnail, String>,
    },
    /// A full image for the viewer, and what its EXIF data says.
    FullImage {
        generation: u64,
        result: Result<Thumbnail, String>,
        photo: Option<PhotoInfo>,
    },
    /// An engine for an output folder started (its library restored), or could not.
    /// `Ok(None)`: the folder has no library and opening it was only a look.
    Engine {
        folder: String,
        result: Result<Option<(EngineHandle, Receiver<Event>)>, String>,
    },
    /// A library export was written.
    Exported(Result<PathBuf, String>),
    /// The groups of similar images of engine `engine`'s folder.
    Similar {
        engine: usize,
        result: Result<Vec<Vec<ItemId>>, String>,
    },
    /// A damaged item was kept anyway: its file, or why not.
    Kept(Result<PathBuf, String>),
    /// The images found on a page (and the page's final URL), or why not.
    PageImages(Result<PageImages, String>),
    /// What probing one of a picker's items learned, for picker `generation`.
    Probed {
        generation: u64,
        index: usize,
        probe: Box<Probe>,
    },
    /// Cookies read from a cookies.txt (and the numbers of lines skipped), or why not.
    Cookies(Result<(Vec<Cookie>, Vec<usize>), String>),
    /// Image URLs just copied to the clipboard (clipboard watch).
    Clipboard(Vec<String>),
    /// The browser host manifests were written or removed (a line per browser), or why
    /// not.
    BrowserHost(Result<Vec<String>, String>),
}

/// A thumbnail to reload: from the cache file, else from the original.
pub(crate) struct ThumbRequest {
    pub(crate) idx: usize,
    pub(crate) cached: Option<PathBuf>,
    pub(crate) original: PathBuf,
    pub(crate) format: ImageFormat,
    /// The engine's thumbnail side, for one made again from the original.
    pub(crate) side: u32,
}

/// Starts tasks and collects their results.
pub(crate) struct Tasks {
    tx: Sender<TaskResult>,
    rx: Receiver<TaskResult>,
    thumbs: Option<Sender<ThumbRequest>>,
    ctx: egui::Context,
}

impl Tasks {
    pub(crate) fn new(ctx: egui::Context) -> Self {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (thumb_tx, thumb_rx) = crossbeam_channel::unbounded::<ThumbRequest>();
        let loader_tx = tx.clone();
        let loader_ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("pixgrab-ui-thumbs".into())
            .spawn(move || {
                for req in thumb_rx {
                    let result = reload_thumb(&req);
                    if loader_tx
                        .send(TaskResult::Thumb {
                            idx: req.idx,
                            result,
                        })
                        .is_err()
                    {
                        return;
                    }
                    loader_ctx.request_repaint();
                }
            });
        Self {
            tx,
            rx,
            thumbs: spawned.ok().map(|_| thumb_tx),
            ctx,
        }
    }

    /// A sender for results from long-lived helpers (the clipboard watch).
    pub(crate) fn sender(&self) -> Sender<TaskResult> {
        self.tx.clone()
    }

    /// Results that arrived since the last call.
    pub(crate) fn drain(&self) -> Vec<TaskResult> {
        self.rx.try_iter().collect()
    }

    fn spawn(&self, name: &str, work: impl FnOnce() -> TaskResult + Send + 'static) {
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let _ = tx.send(work());
                ctx.request_repaint();
            });
        if let Err(e) = spawned {
            // Out of threads is not worth a crash; the action simply does nothing.
            eprintln!("pixgrab: cannot start {name}: {e}");
        }
    }

    /// Opens the "Open URL list" dialog.
    pub(crate) fn pick_list(&self) {
        self.spawn("pixgrab-ui-dialog", || {
            TaskResult::PickedList(
                rfd::FileDialog::new()
                    .set_title("Open URL list")
                    .add_filter("URL lists", &["txt", "html", "htm", "csv", "md", "json"])
                    .add_filter("All files", &["*"])
                    .pick_file(),
            )
        });
    }

    /// Opens the "Choose folder" dialog.
    pub(crate) fn pick_folder(&self, start: &Path) {
        let start = start.to_path_buf();
        self.spawn("pixgrab-ui-dialog", move || {
            TaskResult::PickedFolder(rfd::FileDialog::new().set_directory(start).pick_folder())
        });
    }

    /// Reads a URL-list file.
    pub(crate) fn read_list(&self, path: PathBuf) {
        self.spawn("pixgrab-ui-read", move || {
            let result = read_list(&path);
            TaskResult::UrlText {
                source: path,
                result,
            }
        });
    }

    /// Starts an engine for `folder` (opening its library, which can take a while for a
    /// big one). With `only_existing`, does nothing unless the folder has a library.
    pub(crate) fn start_engine(&self, folder: String, config: Config, only_existing: bool) {
        self.spawn("pixgrab-ui-open", move || {
            let known = pixgrab_engine::Folder::has_library(&config.out_dir);
            let result = if only_existing && !known {
                Ok(None)
            } else {
                Engine::start(config).map(Some).map_err(|e| e.to_string())
            };
            TaskResult::Engine { folder, result }
        });
    }

    /// Reads a page and finds its images.
    pub(crate) fn find_images(&self, finder: Finder, page: Url) {
        self.spawn("pixgrab-ui-page", move || {
            TaskResult::PageImages(finder.find_images(&page).map_err(|e| e.to_string()))
        });
    }

    /// Probes a picker's images (pixel sizes, bytes, previews); each result arrives as
    /// its own [`TaskResult::Probed`].
    pub(crate) fn probe(&self, finder: Finder, urls: Vec<(Url, Want)>, page: Url, generation: u64) {
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("pixgrab-ui-probe".into())
            .spawn(move || {
                let report = |index: usize, probe: &Probe| {
                    let _ = tx.send(TaskResult::Probed {
                        generation,
                        index,
                        probe: Box::new(probe.clone()),
                    });
                    ctx.request_repaint();
                };
                finder.probe(&urls, Some(&page), &report);
            });
        if let Err(e) = spawned {
            eprintln!("pixgrab: cannot start the probes: {e}");
        }
    }

    /// Reads a Netscape cookies.txt.
    pub(crate) fn load_cookies(&self, path: PathBuf) {
        self.spawn("pixgrab-ui-cookies", move || {
            TaskResult::Cookies(
                read_list(&path).map(|text| pixgrab_engine::parse_cookies_txt(&text)),
            )
        });
    }

    /// Writes (or removes) the browser host manifests.
    pub(crate) fn browser_host(&self, uninstall: bool) {
        self.spawn("pixgrab-ui-browser-host", move || {
            TaskResult::BrowserHost(
                crate::browser::install::run(uninstall).map_err(|e| format!("{e:#}")),
            )
        });
    }

    /// Writes a library export.
    pub(crate) fn export(&self, job: impl FnOnce() -> Result<PathBuf, String> + Send + 'static) {
        self.spawn("pixgrab-ui-export", move || TaskResult::Exported(job()));
    }

    /// Finds the similar-image groups of engine `engine`'s folder (see
    /// `EngineHandle::similar_finder`).
    pub(crate) fn similar(
        &self,
        engine: usize,
        job: impl FnOnce() -> Result<Vec<Vec<ItemId>>, String> + Send + 'static,
    ) {
        self.spawn("pixgrab-ui-similar", move || TaskResult::Similar {
            engine,
            result: job(),
        });
    }

    /// Runs a "Keep anyway" job (see `EngineHandle::keeper`).
    pub(crate) fn keep(&self, job: impl FnOnce() -> Result<PathBuf, String> + Send + 'static) {
        self.spawn("pixgrab-ui-keep", move || TaskResult::Kept(job()));
    }

    /// Queues a thumbnail reload.
    pub(crate) fn reload_thumb(&self, req: ThumbRequest) -> bool {
        self.thumbs.as_ref().is_some_and(|tx| tx.send(req).is_ok())
    }

    /// Decodes a full image, at most `max_side` pixels on its long side.
    pub(crate) fn load_full(
        &self,
        generation: u64,
        path: PathBuf,
        format: ImageFormat,
        max_side: u32,
    ) {
        self.spawn("pixgrab-ui-viewer", move || TaskResult::FullImage {
            generation,
            result: make_thumbnail(&path, format, max_side).map_err(|e| e.to_string()),
            photo: photo_info(&path),
        });
    }
}

fn read_list(path: &Path) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{} is a folder, not a file", path.display()));
    }
    if meta.len() > MAX_LIST_BYTES {
        return Err(format!("{} is too large for a URL list", path.display()));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn reload_thumb(req: &ThumbRequest) -> Result<Thumbnail, String> {
    if let Some(cached) = &req.cached
        && let Ok(bytes) = std::fs::read(cached)
        && let Ok(thumb) = decode_cached(&bytes)
    {
        return Ok(thumb);
    }
    make_thumbnail(&req.original, req.format, req.side).map_err(|e| e.to_string())
}
