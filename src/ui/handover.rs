//! What other programs hand to this window: the browser's host (the images of the
//! page the user is on, with that page's cookies), a second `pixgrab URL…` or
//! `pixgrab --page URL`. Checked already by the socket's thread (`crate::ipc`), each
//! handover is carried out on the next frame as the user's own action would be: into
//! the picker with sizes and previews (as "Find images" does), straight into the
//! folder's queue, or into the URL box.

use pixgrab_engine::{Candidate, CandidateSource, Command, PageImages, Via};
use url::Url;

use super::PixgrabApp;
use crate::common::plural;
use crate::ipc::Checked;

impl PixgrabApp {
    /// Carries out what was handed over since the last frame.
    pub(super) fn take_handovers(&mut self, ctx: &egui::Context) {
        let Some(inbox) = &self.inbox else {
            return;
        };
        for handover in inbox.take() {
            self.handover(ctx, handover);
        }
        // A page sent while the picker was open opens once it is closed.
        if self.picker.is_none() && !self.handed_after_picker.is_empty() {
            let next = self.handed_after_picker.remove(0);
            self.handover(ctx, next);
        }
    }

    /// Carries out the handovers that waited for the folder's engine to open.
    pub(super) fn replay_handovers(&mut self, ctx: &egui::Context) {
        for handover in std::mem::take(&mut self.handed_waiting) {
            self.handover(ctx, handover);
        }
    }

    /// Carries out one handover.
    fn handover(&mut self, ctx: &egui::Context, handover: Checked) {
        ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        if !handover.cookies.is_empty() {
            // Each cookie goes only to the hosts of its own domain (the request profiles
            // scope them), like those of a cookies file.
            self.requests.merge_cookies(handover.cookies.clone());
        }
        if let Some(page) = handover.pages.first() {
            self.input.page_url = page.to_string();
            let more = match handover.pages.len() - 1 {
                0 => String::new(),
                n => format!(
                    " ({} more given: the picker shows one page at a time, so read {} with Find images next)",
                    plural(n, "page"),
                    if n == 1 { "it" } else { "them" }
                ),
            };
            self.input.say(format!("Reading {page}…{more}"), false);
            self.find_images_on(ctx, page.clone());
        }
        if handover.urls.is_empty() {
            return;
        }
        let from_browser = handover.page.is_some();
        if from_browser && !handover.direct && self.picker.is_some() {
            // Never replace the picker the user is working in.
            self.input.say(
                "Another page was sent from the browser: it opens when you close this picker.",
                false,
            );
            self.handed_after_picker.push(handover);
            return;
        }
        if (handover.direct || from_browser) && self.current_engine().is_none() {
            if self.settings.out_dir.trim().is_empty() {
                self.error =
                    Some("Choose an output folder first: the images sent were not queued.".into());
                return;
            }
            // Its items need the folder's engine (for the picker's sizes too): open it,
            // and carry this out once it is open.
            self.handed_waiting.push(handover);
            self.open_library(ctx, Vec::new(), false);
            return;
        }
        let skipped = match handover.skipped {
            0 => String::new(),
            n => format!(" ({n} left out: not image URLs)"),
        };
        // The browser read the page, not Pixgrab: its images may reach a private address
        // only when the page's own address is private.
        if let (Some(page), Some(handle)) = (
            &handover.page,
            self.current_engine().and_then(|n| self.engines.handle(n)),
        ) {
            handle.page_seen_elsewhere(page);
        }
        match (handover.direct, handover.page) {
            (true, page) => {
                let count = handover.urls.len();
                if let Some(handle) = self.current_engine().and_then(|n| self.engines.handle(n)) {
                    handle.send(Command::Add {
                        urls: handover.urls,
                        page: page.clone(),
                    });
                    self.adds_in_flight += 1;
                }
                let from = page.map_or_else(String::new, |p| format!(" from {p}"));
                self.input.say(
                    format!("Queueing {}{from}{skipped}…", plural(count, "image")),
                    false,
                );
            }
            (false, Some(page)) => {
                let found = browser_page(page, handover.urls);
                self.page_read(found);
                if let Some(picker) = &mut self.picker {
                    picker.watchable = false;
                }
                if let Some(title) = handover.title {
                    self.input.say(
                        format!(
                            "{} sent from the browser: {title}{skipped}",
                            plural(self.picker_len(), "image")
                        ),
                        false,
                    );
                }
            }
            (false, None) => {
                let text: Vec<&str> = handover.urls.iter().map(Url::as_str).collect();
                let added = self.input.append_counting(&text.join("\n"));
                self.input.say(
                    format!(
                        "{} handed over; press Download to fetch them{skipped}.",
                        plural(added, "URL")
                    ),
                    false,
                );
            }
        }
    }

    /// How many images the open picker lists.
    fn picker_len(&self) -> usize {
        self.picker.as_ref().map_or(0, |p| p.items.len())
    }
}

/// The images a browser page showed, as a page read would list them: each its own
/// picture, in page order.
fn browser_page(page: Url, urls: Vec<Url>) -> PageImages {
    let candidates = urls
        .into_iter()
        .enumerate()
        .map(|(picture, url)| Candidate {
            url,
            source: CandidateSource::Browser,
            picture,
            declared_width: None,
            smaller_variant: false,
        })
        .collect();
    PageImages {
        page,
        candidates,
        via: Via::Browser,
    }
}
