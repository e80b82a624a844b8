//! The input panel: the URL box, list files, output folder, concurrency, Download.

use pixgrab_engine::Intake;
use pixgrab_engine::NameTemplate;
use pixgrab_engine::{MAX_JOBS, MAX_PER_HOST};
use pixgrab_engine::{TEMPLATE_FIELDS, preview, read_urls};
use url::Url;

use super::settings::Settings;

/// Text box contents and what intake makes of them.
#[derive(Default)]
pub(crate) struct InputPanel {
    /// The URL box.
    pub(crate) text: String,
    /// Intake of `text`, refreshed when the text changes.
    pub(crate) intake: Intake,
    parsed: String,
    /// The typed path of a URL-list file.
    pub(crate) list_path: String,
    /// A web page whose images to list.
    pub(crate) page_url: String,
    /// Collect image URLs copied anywhere into the box.
    pub(crate) watch_clipboard: bool,
    /// A one-line message about the last input action ("Loaded 120 URLs from …").
    pub(crate) notice: Option<Notice>,
    /// A big text being read on a background thread.
    reading: Option<Reading>,
    /// Download was pressed while a big text was being read: start once it is read.
    pub(crate) download_when_read: bool,
    /// Woken when a background read finishes.
    pub(crate) waker: Option<egui::Context>,
    /// Where each line of a text too long to edit starts (see [`BOX_EDIT_MAX`]).
    line_starts: Vec<usize>,
}

/// Longer texts are shown read-only, a screenful of lines at a time: laying out a
/// pasted list of 40,000 URLs (1.6 MB) as one editable text took over a second of a
/// frame and held its glyphs in memory.
const BOX_EDIT_MAX: usize = 128 * 1024;

/// Texts longer than this are read off the UI thread (100,000 URLs are a few MB).
const READ_INLINE_MAX: usize = 64 * 1024;

/// A background read of the box: the text it reads and where the result arrives.
struct Reading {
    text: String,
    result: crossbeam_channel::Receiver<Intake>,
}

/// A message under the input, good or bad.
pub(crate) struct Notice {
    pub(crate) text: String,
    pub(crate) error: bool,
}

/// What the user asked for in the input panel.
pub(crate) enum InputAction {
    /// Start downloading the URLs in the box.
    Download,
    /// Show the "Open URL list" dialog.
    PickList,
    /// Read the typed list path.
    LoadTyped,
    /// Show the "Choose folder" dialog.
    PickFolder,
    /// Open the output folder's library (queue and gallery).
    OpenLibrary,
    /// Read the page in the page field and list its images.
    FindImages,
}

impl InputPanel {
    /// Re-reads the box if it changed since the last call: small texts at once, big
    /// ones (a pasted list of thousands) on a named thread, so the UI thread never
    /// parses a big paste. Until that read is done the previous intake stays.
    pub(crate) fn refresh(&mut self) {
        if let Some(reading) = &self.reading
            && let Ok(intake) = reading.result.try_recv()
        {
            if reading.text == self.text {
                self.intake = intake;
                self.parsed.clone_from(&self.text);
            }
            self.reading = None;
        }
        if self.parsed == self.text || self.reading.as_ref().is_some_and(|r| r.text == self.text) {
            return;
        }
        self.line_starts.clear();
        if self.text.len() > BOX_EDIT_MAX {
            self.line_starts.push(0);
            let len = self.text.len();
            self.line_starts.extend(
                self.text
                    .match_indices('\n')
                    .map(|(i, _)| i + 1)
                    .filter(|&start| start < len),
            );
        }
        if self.text.len() > READ_INLINE_MAX
            && let Some(reading) = self.read_in_background()
        {
            self.reading = Some(reading);
            return;
        }
        self.reading = None;
        self.intake = read_urls(&self.text);
        self.parsed.clone_from(&self.text);
    }

    /// Starts reading the box on a thread; `None` if no thread could start.
    fn read_in_background(&self) -> Option<Reading> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let text = self.text.clone();
        let waker = self.waker.clone();
        std::thread::Builder::new()
            .name("pixgrab-intake".into())
            .spawn(move || {
                let _ = tx.send(read_urls(&text));
                if let Some(ctx) = waker {
                    ctx.request_repaint();
                }
            })
            .ok()?;
        Some(Reading {
            text: self.text.clone(),
            result: rx,
        })
    }

    /// The box's URLs, taken for a download: the box is emptied, and what it held (the
    /// text, its parsed copy, the set that folded repeats: megabytes for a list of
    /// 100,000) is freed, not kept as spare capacity.
    pub(crate) fn take_urls(&mut self) -> Vec<Url> {
        let urls = std::mem::take(&mut self.intake).into_urls();
        self.text = String::new();
        self.parsed = String::new();
        self.line_starts = Vec::new();
        self.reading = None;
        urls
    }

    /// Bytes the box holds in its texts and line index (their capacity).
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> usize {
        self.text.capacity()
            + self.parsed.capacity()
            + self.line_starts.capacity() * std::mem::size_of::<usize>()
    }

    /// True while a big text is being read.
    pub(crate) fn is_reading(&self) -> bool {
        self.reading.is_some()
    }

    /// Appends text (pasted, dropped or loaded) on a new line.
    pub(crate) fn append(&mut self, text: &str) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
        // A library export: only its `url` column (not the final URLs beside it).
        match pixgrab_engine::import_urls(text) {
            Some(urls) => self.text.push_str(&urls.join("\n")),
            None => self.text.push_str(text),
        }
        self.refresh();
    }

    /// [`Self::append`], returning how many URLs the box gained.
    pub(crate) fn append_counting(&mut self, text: &str) -> usize {
        let before = self.intake.urls.len();
        self.append(text);
        self.intake.urls.len().saturating_sub(before)
    }

    pub(crate) fn say(&mut self, text: impl Into<String>, error: bool) {
        self.notice = Some(Notice {
            text: text.into(),
            error,
        });
    }
}

/// Draws the input panel.
pub(crate) fn input_ui(
    ui: &mut egui::Ui,
    input: &mut InputPanel,
    settings: &mut Settings,
    busy: bool,
) -> Option<InputAction> {
    let mut action = url_box_ui(ui, input);
    action = sources_ui(ui, input).or(action);
    let n = summary_ui(ui, input);
    action = folder_ui(ui, settings).or(action);
    names_ui(ui, settings, &input.intake.urls);
    limits_ui(ui, settings, busy);
    ui.add_space(4.0);
    let download = ui
        .add_enabled(
            n > 0,
            egui::Button::new(egui::RichText::new("Download").strong())
                .min_size(egui::vec2(120.0, 28.0)),
        )
        .on_hover_text("Ctrl+Enter");
    if download.clicked() {
        action = Some(InputAction::Download);
    }
    action
}

/// The height of the URL box; a longer text scrolls inside it.
const URL_BOX_HEIGHT: f32 = 180.0;

/// The URL box and the buttons under it (list file picker, clipboard watch, Clear).
fn url_box_ui(ui: &mut egui::Ui, input: &mut InputPanel) -> Option<InputAction> {
    let mut action = None;
    ui.heading("Add images");
    let label = ui.label("URLs (paste any text: lines, HTML, CSV)");
    input.refresh();
    if input.text.len() > BOX_EDIT_MAX {
        long_text_ui(ui, input);
    } else {
        // A fixed height, focused or not: a box that changed height when it lost focus
        // moved the Download button under the pointer, and a click on it was lost.
        egui::ScrollArea::vertical()
            .id_salt("url box")
            .max_height(URL_BOX_HEIGHT)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.add_sized(
                    [ui.available_width(), URL_BOX_HEIGHT],
                    egui::TextEdit::multiline(&mut input.text)
                        .hint_text("https://example.org/photo.jpg\n…or Ctrl+V anywhere, or drop a .txt/.html file")
                        .code_editor(),
                )
                .labelled_by(label.id);
            });
        input.refresh();
    }

    ui.horizontal(|ui| {
        if ui
            .button("Open URL list…")
            .on_hover_text("Ctrl+O")
            .clicked()
        {
            action = Some(InputAction::PickList);
        }
        ui.checkbox(&mut input.watch_clipboard, "Watch clipboard")
            .on_hover_text(
                "Image URLs you copy anywhere are added to the box (nothing starts by itself)",
            );
        if !input.text.is_empty() && ui.button("Clear").clicked() {
            input.text.clear();
            input.refresh();
            input.notice = None;
        }
    });
    action
}

/// A text too long to edit ([`BOX_EDIT_MAX`]): its lines, read-only, laid out only as
/// far as they are on screen, in the URL box's place and height.
fn long_text_ui(ui: &mut egui::Ui, input: &InputPanel) {
    let text = &input.text;
    let starts = &input.line_starts;
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_height(URL_BOX_HEIGHT - 16.0);
        ui.label(
            egui::RichText::new(format!(
                "{} lines, {} of text: too long to edit here. Ctrl+V adds more; Clear starts over.",
                starts.len(),
                pixgrab_engine::Bytes(text.len() as u64)
            ))
            .weak(),
        );
        egui::ScrollArea::vertical()
            .id_salt("url box lines")
            .auto_shrink([false, false])
            .show_rows(ui, row_height, starts.len(), |ui, rows| {
                for row in rows {
                    let start = starts.get(row).copied().unwrap_or(text.len());
                    let end = starts.get(row + 1).copied().unwrap_or(text.len());
                    let line = text.get(start..end).unwrap_or_default().trim_end();
                    ui.label(egui::RichText::new(super::gallery::elide(line, 200)).monospace());
                }
            });
    });
}

/// A list file or a page to read URLs from.
fn sources_ui(ui: &mut egui::Ui, input: &mut InputPanel) -> Option<InputAction> {
    let mut action = None;
    if field_with_button_ui(
        ui,
        "List file:",
        &mut input.list_path,
        "/path/to/urls.txt",
        ("Load", "Read the URLs in this file"),
    ) {
        action = Some(InputAction::LoadTyped);
    }
    if field_with_button_ui(
        ui,
        "Page:",
        &mut input.page_url,
        "https://example.org/gallery.html",
        ("Find images", "List the images of a web page to pick from"),
    ) {
        action = Some(InputAction::FindImages);
    }

    action
}

/// How many URLs are ready, what was folded or skipped, and the last notice; returns
/// the count.
fn summary_ui(ui: &mut egui::Ui, input: &InputPanel) -> usize {
    let n = input.intake.urls.len();
    let mut summary = match n {
        _ if input.is_reading() => format!(
            "Reading {} of text…",
            pixgrab_engine::Bytes(input.text.len() as u64)
        ),
        0 => "No URLs yet".to_string(),
        1 => "1 URL ready".to_string(),
        n => format!("{n} URLs ready"),
    };
    if input.intake.duplicates > 0 {
        summary.push_str(&format!(" ({} repeats folded)", input.intake.duplicates));
    }
    if input.intake.expanded > 0 {
        summary.push_str(&format!(
            " (from {} pattern{})",
            input.intake.expanded,
            if input.intake.expanded == 1 { "" } else { "s" }
        ));
    }
    ui.strong(summary);
    if !input.intake.rejected.is_empty() {
        let count = input.intake.rejected.len();
        egui::CollapsingHeader::new(format!("{count} skipped"))
            .id_salt("rejected")
            .default_open(count <= 5)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("rejected list")
                    .max_height(90.0)
                    .show(ui, |ui| {
                        for rejected in input.intake.rejected.iter().take(500) {
                            ui.label(
                                egui::RichText::new(format!(
                                    "{} — {}",
                                    super::gallery::elide(&rejected.text, 48),
                                    rejected.reason
                                ))
                                .color(ui.visuals().warn_fg_color)
                                .small(),
                            );
                        }
                    });
            });
    }
    if let Some(notice) = &input.notice {
        let color = if notice.error {
            ui.visuals().error_fg_color
        } else {
            ui.visuals().weak_text_color()
        };
        ui.label(egui::RichText::new(&notice.text).color(color));
    }

    n
}

/// The output folder, typed, picked or chosen from the recent ones.
/// The file-name template and a live preview of the first three names (of the URLs in
/// the box, or of an example), folded away under a header that shows the template; a
/// refused template says why even when folded.
fn names_ui(ui: &mut egui::Ui, settings: &mut Settings, urls: &[Url]) {
    egui::CollapsingHeader::new(format!("File names: {}", settings.name_template.trim()))
        .id_salt("file names")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("File names:");
                ui.add(
                    egui::TextEdit::singleline(&mut settings.name_template)
                        .hint_text(NameTemplate::DEFAULT)
                        .desired_width(ui.available_width()),
                )
                .labelled_by(label.id)
                .on_hover_text(format!(
                    "Fields: {}\n'/' makes subfolders, e.g. {{host}}/{{num:03}}-{{name}}.{{ext}}",
                    TEMPLATE_FIELDS
                ));
            });
            if let Ok(parsed) = settings.template() {
                let example;
                let shown: &[Url] = if urls.is_empty() {
                    example = Url::parse("https://example.org/photos/cat.jpg")
                        .map(|u| vec![u])
                        .unwrap_or_default();
                    &example
                } else {
                    &urls[..urls.len().min(3)]
                };
                for (n, url) in (1u64..).zip(shown) {
                    ui.weak(preview(&parsed, url, n, None));
                }
            }
        });
    if let Err(e) = settings.template() {
        ui.colored_label(ui.visuals().error_fg_color, format!("File names: {e}"));
    }
}

fn folder_ui(ui: &mut egui::Ui, settings: &mut Settings) -> Option<InputAction> {
    let mut action = None;
    ui.separator();
    ui.horizontal(|ui| {
        let label = ui.label("Save to:");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Open")
                .on_hover_text("Show this folder's library: its queue and gallery")
                .clicked()
            {
                action = Some(InputAction::OpenLibrary);
            }
            if ui.button("Choose folder…").clicked() {
                action = Some(InputAction::PickFolder);
            }
            ui.add(
                egui::TextEdit::singleline(&mut settings.out_dir)
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        });
    });
    if settings.recent.len() > 1 {
        let mut chosen = None;
        egui::ComboBox::from_label("Recent folders")
            .selected_text(super::gallery::elide(&settings.out_dir, 40))
            .show_ui(ui, |ui| {
                for folder in &settings.recent {
                    if ui
                        .selectable_label(*folder == settings.out_dir, folder)
                        .clicked()
                    {
                        chosen = Some(folder.clone());
                    }
                }
            });
        if let Some(folder) = chosen {
            settings.out_dir = folder;
            action = Some(InputAction::OpenLibrary);
        }
    }
    action
}

/// Concurrency, politeness and bandwidth limits.
fn limits_ui(ui: &mut egui::Ui, settings: &mut Settings, busy: bool) {
    ui.horizontal(|ui| {
        let label = ui.label("Downloads at once:");
        ui.add(egui::DragValue::new(&mut settings.jobs).range(1..=MAX_JOBS))
            .labelled_by(label.id);
        ui.checkbox(&mut settings.per_host_auto, "auto per host")
            .on_hover_text(
                "Each site gets more downloads at once while it answers quickly, \
                 and fewer as soon as it refuses (429/503) or slows down",
            );
        if !settings.per_host_auto {
            let label = ui.label("per host:");
            ui.add(egui::DragValue::new(&mut settings.per_host).range(1..=MAX_PER_HOST))
                .labelled_by(label.id);
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Gap per host (ms):");
        ui.add(egui::DragValue::new(&mut settings.host_interval_ms).range(0..=60_000))
            .labelled_by(label.id)
            .on_hover_text("Least time between two requests to the same site (politeness)");
        let label = ui.label("Limit (kB/s, 0 = none):");
        ui.add(egui::DragValue::new(&mut settings.bandwidth_kbs).range(0..=10_000_000))
            .labelled_by(label.id);
    });
    if busy {
        ui.weak("Limits apply at once, also to running downloads.");
    }
}

/// A labelled one-line field with a button after it; true when the button is pressed,
/// or Enter in the field, with something typed.
fn field_with_button_ui(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    hint: &str,
    (button, hover): (&str, &str),
) -> bool {
    let mut pressed = false;
    ui.horizontal(|ui| {
        let label = ui.label(label);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let filled = !text.trim().is_empty();
            let clicked = ui
                .add_enabled(filled, egui::Button::new(button))
                .on_hover_text(hover)
                .clicked();
            let field = ui
                .add(
                    egui::TextEdit::singleline(text)
                        .hint_text(hint)
                        .desired_width(ui.available_width()),
                )
                .labelled_by(label.id);
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            pressed = (clicked || enter) && filled;
        });
    });
    pressed
}
