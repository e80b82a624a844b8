//! Task results: what the threads of `tasks.rs` (dialogs, list reads, decodes, started
//! engines, page reads and probes, exports) sent back, put where it shows.

use pixgrab_engine::Cookie;
use pixgrab_engine::ItemId;

use super::picker::PagePicker;
use super::tasks::TaskResult;
use super::{PixgrabApp, similar};

impl PixgrabApp {
    /// What came back from a task (a dialog, a read, a decode, a started engine…).
    pub(super) fn handle_task(&mut self, ctx: &egui::Context, result: TaskResult) {
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
                Ok(groups) => self.similar_found(engine, groups),
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
            TaskResult::Cookies(Ok((cookies, bad))) => self.cookies_loaded(cookies, &bad),
            TaskResult::Cookies(Err(e)) => self.input.say(e, true),
            TaskResult::Clipboard(urls) => self.clipboard_read(&urls),
            TaskResult::BrowserHost(Ok(done)) if done.is_empty() => {
                self.input.say("No browser host was installed.", false);
            }
            TaskResult::BrowserHost(Ok(done)) => self
                .input
                .say(format!("Browser host: {}", done.join("; ")), false),
            TaskResult::BrowserHost(Err(e)) => self.input.say(e, true),
        }
    }

    /// "Find images" read a page: show its checklist and learn the sizes.
    pub(super) fn page_read(&mut self, found: pixgrab_engine::PageImages) {
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

    /// The similar groups of engine `engine` are found: show them in their window.
    fn similar_found(&mut self, engine: usize, groups: Vec<Vec<ItemId>>) {
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

    /// A cookies file was read (`bad`: the numbers of the lines skipped).
    fn cookies_loaded(&mut self, cookies: Vec<Cookie>, bad: &[usize]) {
        let mut note = format!("Loaded {} cookies.", cookies.len());
        if !bad.is_empty() {
            note.push_str(&format!(" Skipped unreadable lines {bad:?}."));
        }
        self.input.say(note, !bad.is_empty());
        self.requests.set_cookies(cookies);
    }

    /// The clipboard watch saw image URLs: into the box.
    fn clipboard_read(&mut self, urls: &[String]) {
        let added = self.input.append_counting(&urls.join("\n"));
        if added > 0 {
            self.input.say(
                format!("Collected {added} image URLs from the clipboard."),
                false,
            );
        }
    }
}
