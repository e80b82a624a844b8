//! `--autorun-screenshot`: press Download at once, wait until everything settled, save a
//! screenshot, report frame times and close. The smoke test and the frame-time
//! benchmark drive the real window this way.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set when an autorun finished and saved its screenshot; read by `main` for the exit status.
pub(crate) static AUTORUN_OK: AtomicBool = AtomicBool::new(false);

/// What the window should do for the autorun this frame.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Press Download.
    Download,
    /// The screenshot is saved: print the frame report; the window closes.
    Report,
    /// Nothing (waiting for work or for the screenshot).
    Wait,
}

/// An autorun in progress.
pub(super) struct Autorun {
    screenshot: PathBuf,
    /// See [`super::UiOptions::autorun_sort`]; taken once it is applied.
    pub(super) sort: Option<String>,
    started: bool,
    idle_frames: u32,
    requested: bool,
    closing: bool,
    done: Arc<AtomicBool>,
}

impl Autorun {
    /// An autorun that saves its screenshot at `screenshot` (and sorts the gallery by
    /// `sort` once half the items are done).
    pub(super) fn new(screenshot: PathBuf, sort: Option<String>) -> Self {
        Self {
            screenshot,
            sort,
            started: false,
            idle_frames: 0,
            requested: false,
            closing: false,
            done: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Advances the autorun by one frame; `idle` says whether all work is settled.
    pub(super) fn step(&mut self, ctx: &egui::Context, idle: bool) -> Step {
        if !self.started {
            self.started = true;
            return Step::Download;
        }
        if !idle {
            ctx.request_repaint_after(Duration::from_millis(100));
            return Step::Wait;
        }
        self.idle_frames += 1;
        if self.idle_frames < 5 {
            ctx.request_repaint();
            return Step::Wait;
        }
        if !self.requested {
            self.requested = true;
            let path = self.screenshot.clone();
            let done = self.done.clone();
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                match save_png(&path, &image) {
                    Ok(()) => AUTORUN_OK.store(true, Ordering::SeqCst),
                    Err(e) => eprintln!("pixgrab: cannot save screenshot {}: {e}", path.display()),
                }
                done.store(true, Ordering::SeqCst);
                repaint.request_repaint();
            });
            return Step::Wait;
        }
        if !self.done.load(Ordering::SeqCst) {
            ctx.request_repaint_after(Duration::from_millis(50));
            return Step::Wait;
        }
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        if self.closing {
            return Step::Wait;
        }
        self.closing = true;
        Step::Report
    }
}

/// Frame timings, reported when an autorun ends.
#[derive(Default)]
pub(super) struct FrameStats {
    /// Time spent in `App::ui` per frame.
    ui_times: Vec<Duration>,
    /// eframe's whole-frame CPU time (layout, tessellation, painting) per frame.
    cpu_times: Vec<f32>,
    /// Time spent before drawing (events into the model, thumbnails to textures).
    logic_times: Vec<Duration>,
}

impl FrameStats {
    /// Records one frame: time in `App::ui`, and eframe's CPU time if it knows it.
    pub(super) fn record(&mut self, ui: Duration, cpu: Option<f32>) {
        self.ui_times.push(ui);
        self.cpu_times.extend(cpu);
    }

    /// Records the time spent before drawing a frame.
    pub(super) fn record_logic(&mut self, logic: Duration) {
        self.logic_times.push(logic);
    }

    /// One line: frame count, ui and whole-frame times, and `extra` (items, textures…).
    pub(super) fn report(&self, extra: &str) -> String {
        let cpu_ms: Vec<f64> = self
            .cpu_times
            .iter()
            .map(|s| f64::from(*s) * 1000.0)
            .collect();
        format!(
            "frames: {} · before drawing {} · ui time {} · whole-frame CPU {} · {extra} · peak RSS {}",
            self.ui_times.len(),
            summary(millis(&self.logic_times)),
            summary(millis(&self.ui_times)),
            summary(cpu_ms),
            crate::common::peak_rss_kib().map_or_else(
                || "unknown".to_string(),
                |kb| format!("{:.0} MiB", kb as f64 / 1024.0)
            ),
        )
    }
}

/// Durations in milliseconds.
fn millis(times: &[Duration]) -> Vec<f64> {
    times.iter().map(|d| d.as_secs_f64() * 1000.0).collect()
}

/// "median X ms, p99 Y ms, worst Z ms" of a list of milliseconds.
fn summary(mut ms: Vec<f64>) -> String {
    if ms.is_empty() {
        return "n/a".into();
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: usize| ms[(ms.len() * q / 100).min(ms.len() - 1)];
    format!(
        "median {:.2} ms, p99 {:.2} ms, worst {:.2} ms",
        at(50),
        at(99),
        ms[ms.len() - 1]
    )
}

fn save_png(path: &Path, image: &egui::ColorImage) -> anyhow::Result<()> {
    let [w, h] = image.size;
    let rgba: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_array()).collect();
    let buffer = image::RgbaImage::from_raw(w as u32, h as u32, rgba)
        .ok_or_else(|| anyhow::anyhow!("screenshot has the wrong size"))?;
    buffer.save(path)?;
    Ok(())
}
