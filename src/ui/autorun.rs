//! `--autorun-screenshot`: press Download at once, wait until everything settled, save a
//! screenshot, report frame times and close. The smoke test and the frame-time
//! benchmark drive the real window this way.
//!
//! The frame bench (release build; fresh `HOME`, `PIXGRAB_IPC_DIR` and
//! `XDG_RUNTIME_DIR`; about 10 minutes of two cores for 40,000 images, 25 for 100,000):
//!
//! ```text
//! xvfb-run -a -s "-screen 0 1280x800x24" target/release/pixgrab --demo --demo-count 40000 \
//!     -o /tmp/fb40k --autorun-screenshot /tmp/fb40k.png
//! xvfb-run -a -s "-screen 0 1280x800x24" target/release/pixgrab --demo --demo-count 100000 \
//!     -o /tmp/fb100k --autorun-screenshot /tmp/fb100k.png
//! ```
//!
//! It ends with one line on stderr: `frames: … · before drawing … · ui time … ·
//! whole-frame CPU median, p99, worst · worst frame #N at T s … · first frame … · worst
//! after the first … · items … · textures … · peak RSS …`. `--demo-count 100000` lists
//! 100,000 URLs (99,998 pictures and the two broken links): the most one input may hold.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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

    /// True once everything settled and the screenshot was asked for.
    #[cfg(test)]
    pub(super) fn screenshot_requested(&self) -> bool {
        self.requested
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

/// One frame's times.
#[derive(Debug, Default, Clone, Copy)]
struct FrameTimes {
    /// When the frame began, counted from the first frame.
    at: Duration,
    /// Spent before drawing (events into the model, thumbnails to textures).
    logic: Duration,
    /// Spent in `App::ui`.
    ui: Duration,
    /// eframe's whole-frame CPU time (layout, tessellation, painting), in seconds: eframe
    /// tells it during the next frame.
    cpu: Option<f32>,
}

/// Frame timings, reported when an autorun ends.
#[derive(Default)]
pub(super) struct FrameStats {
    /// When the first frame began.
    start: Option<Instant>,
    frames: Vec<FrameTimes>,
}

impl FrameStats {
    /// Starts a frame (at `now`) that spent `logic` before drawing.
    pub(super) fn record_logic(&mut self, now: Instant, logic: Duration) {
        let start = *self.start.get_or_insert(now);
        self.frames.push(FrameTimes {
            at: now.saturating_duration_since(start),
            logic,
            ..FrameTimes::default()
        });
    }

    /// Adds the time spent in `App::ui` to the current frame; `previous_cpu` is
    /// eframe's CPU time of the frame before it (eframe knows it one frame late).
    pub(super) fn record(&mut self, ui: Duration, previous_cpu: Option<f32>) {
        let n = self.frames.len();
        if let Some(current) = self.frames.last_mut() {
            current.ui += ui;
        }
        if let (Some(cpu), Some(previous)) = (previous_cpu, n.checked_sub(2)) {
            self.frames[previous].cpu = Some(cpu);
        }
    }

    /// One line: frame count, the times before drawing, in `ui` and of whole frames,
    /// which frame was the worst (its number, when it began and its parts), the first
    /// frame (start-up: fonts, GL set-up) and the worst after it, `extra` (items,
    /// textures…) and the peak RSS.
    pub(super) fn report(&self, extra: &str) -> String {
        let logic: Vec<Duration> = self.frames.iter().map(|f| f.logic).collect();
        let ui: Vec<Duration> = self.frames.iter().map(|f| f.ui).collect();
        let cpu_ms: Vec<f64> = self
            .frames
            .iter()
            .filter_map(|f| f.cpu)
            .map(|s| f64::from(s) * 1000.0)
            .collect();
        format!(
            "frames: {} · before drawing {} · ui time {} · whole-frame CPU {} · {} · {extra} · peak RSS {}",
            self.frames.len(),
            summary(millis(&logic)),
            summary(millis(&ui)),
            summary(cpu_ms),
            self.worst_frames(),
            crate::common::peak_rss_kib().map_or_else(
                || "unknown".to_string(),
                |kb| format!("{:.0} MiB", kb as f64 / 1024.0)
            ),
        )
    }

    /// "worst frame #N at T s: X ms (before drawing Y ms, ui Z ms) · first frame X ms
    /// · worst after it #N …", by whole-frame CPU time.
    fn worst_frames(&self) -> String {
        let cpu = |f: &FrameTimes| f.cpu.map_or(0.0, |s| f64::from(s) * 1000.0);
        let worst_of = |from: usize| {
            self.frames
                .iter()
                .enumerate()
                .skip(from)
                .filter(|(_, f)| f.cpu.is_some())
                .max_by(|a, b| cpu(a.1).total_cmp(&cpu(b.1)))
        };
        let describe = |(n, f): (usize, &FrameTimes)| {
            format!(
                "#{n} at {:.1} s: {:.2} ms (before drawing {:.2} ms, ui {:.2} ms)",
                f.at.as_secs_f64(),
                cpu(f),
                f.logic.as_secs_f64() * 1000.0,
                f.ui.as_secs_f64() * 1000.0
            )
        };
        let Some(worst) = worst_of(0) else {
            return "worst frame n/a".into();
        };
        let first = self.frames.first().and_then(|f| f.cpu).map_or_else(
            || "n/a".into(),
            |s| format!("{:.2} ms", f64::from(s) * 1000.0),
        );
        let after = worst_of(1).map_or_else(|| "n/a".into(), describe);
        format!(
            "worst frame {} · first frame {first} · worst after the first {after}",
            describe(worst)
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::FrameStats;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_report_names_the_worst_frame_when_it_began_and_its_parts() {
        let start = Instant::now();
        let mut stats = FrameStats::default();
        // (starts at, before drawing, ui, whole frame) in ms; eframe tells a frame's
        // whole-frame time during the next one.
        let frames = [
            (0, 1, 2, 90.0),
            (100, 1, 1, 5.0),
            (2500, 30, 4, 60.0),
            (2600, 1, 1, 6.0),
        ];
        let mut previous = None;
        for (at, logic, ui, cpu) in frames {
            stats.record_logic(start + ms(at), ms(logic));
            stats.record(ms(ui), previous);
            previous = Some(cpu / 1000.0);
        }
        let report = stats.report("items 4");
        assert!(report.starts_with("frames: 4 · "), "{report}");
        // The last frame's time is not known yet: three frames have one.
        assert!(
            report.contains("whole-frame CPU median 60.00 ms, p99 90.00 ms, worst 90.00 ms"),
            "{report}"
        );
        assert!(
            report.contains(
                "worst frame #0 at 0.0 s: 90.00 ms (before drawing 1.00 ms, ui 2.00 ms) · first frame 90.00 ms · worst after the first #2 at 2.5 s: 60.00 ms (before drawing 30.00 ms, ui 4.00 ms)"
            ),
            "{report}"
        );
    }
}
