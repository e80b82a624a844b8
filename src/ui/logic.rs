//! Before each frame: the engines' events into the model, task results to their
//! handler, changed settings to the engines, the clipboard watch and the autorun.

use std::time::{Duration, Instant};

use pixgrab_engine::Event;
use url::Url;

use super::{PixgrabApp, autorun, clipwatch, view};

/// Most events of one engine applied in one frame: 40,000 URLs queued at once sent
/// 40,000 events, and applying them all made a frame of 168 ms.
pub(super) const EVENTS_PER_FRAME: usize = 2000;

impl PixgrabApp {
    /// Everything `App::logic` does before a frame is drawn.
    pub(super) fn before_frame(&mut self, ctx: &egui::Context) {
        let now = Instant::now();
        for n in 0..self.engines.len() {
            if self.drain_engine(n, now, EVENTS_PER_FRAME) {
                // More are waiting: the next frame takes them.
                ctx.request_repaint();
            }
        }
        for result in self.tasks.drain() {
            self.handle_task(ctx, result);
        }
        self.take_handovers(ctx);
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

    /// Applies at most `most` of the events engine `slot` sent since the last frame;
    /// true if more are waiting.
    pub(super) fn drain_engine(&mut self, slot: usize, now: Instant, most: usize) -> bool {
        // A second handle on the same channel (an Arc), so the events need no copy.
        let Some(events) = self.engines.events(slot) else {
            return false;
        };
        for event in events.try_iter().take(most) {
            if matches!(event, Event::Added { .. } | Event::CommandFailed { .. }) {
                self.command_answer_ui(&event);
            } else {
                self.model.apply(slot, event, now);
            }
        }
        !events.is_empty()
    }

    /// What came of a command sent to an engine.
    fn command_answer_ui(&mut self, event: &Event) {
        // A failed command need not be an add: at worst the count reaches 0 early.
        self.adds_in_flight = self.adds_in_flight.saturating_sub(1);
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

    /// One frame of `--autorun-screenshot` (and its `--autorun-sort`).
    fn autorun_step(&mut self, ctx: &egui::Context) {
        let Some(run) = &mut self.autorun else { return };
        let half = self.model.items.len() / 2;
        if half > 0
            && self.model.counts.done >= half
            && let Some(sort) = run.sort.take()
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
        let idle = self.model.is_idle() && !self.engines.is_empty() && self.adds_in_flight == 0;
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
