//! Clipboard watch (opt-in): image URLs copied anywhere are collected into the URL box.
//! It never starts a download; the user still presses Download.
//!
//! A named thread polls the system clipboard (arboard) a few times a second while the
//! watch is on, and sends what it finds through the task channel; the UI thread never
//! touches the clipboard for this.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crossbeam_channel::Sender;

use super::tasks::TaskResult;

/// How often the clipboard is looked at.
const POLL: Duration = Duration::from_millis(600);

/// A running watch; dropping it stops the thread.
pub(crate) struct ClipWatch {
    running: Arc<AtomicBool>,
}

impl Drop for ClipWatch {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

/// The image URLs in copied text (links to pages and other files are left out).
pub(crate) fn image_urls(text: &str) -> Vec<String> {
    pixgrab_engine::read_urls(text)
        .urls
        .into_iter()
        .filter(|u| pixgrab_engine::looks_like_image(u.path()))
        .map(String::from)
        .collect()
}

/// Starts watching; what was on the clipboard before is not collected.
pub(crate) fn start(tx: Sender<TaskResult>, ctx: egui::Context) -> Result<ClipWatch, String> {
    let mut clipboard =
        arboard::Clipboard::new().map_err(|e| format!("cannot watch the clipboard: {e}"))?;
    let mut last = clipboard.get_text().unwrap_or_default();
    let running = Arc::new(AtomicBool::new(true));
    let flag = running.clone();
    std::thread::Builder::new()
        .name("pixgrab-ui-clipboard".into())
        .spawn(move || {
            while flag.load(Ordering::Relaxed) {
                std::thread::sleep(POLL);
                let Ok(text) = clipboard.get_text() else {
                    continue;
                };
                if text == last {
                    continue;
                }
                let urls = image_urls(&text);
                last = text;
                if !urls.is_empty() {
                    if tx.send(TaskResult::Clipboard(urls)).is_err() {
                        return;
                    }
                    ctx.request_repaint();
                }
            }
        })
        .map_err(|e| format!("cannot watch the clipboard: {e}"))?;
    Ok(ClipWatch { running })
}

#[cfg(test)]
mod tests {
    use super::image_urls;

    #[test]
    fn only_image_urls_are_collected() {
        let copied = "look: https://x.org/a.JPG?w=2 and https://x.org/page.html, \
                      https://cdn.y.net/b.webp ftp://z/c.png";
        assert_eq!(
            image_urls(copied),
            ["https://x.org/a.JPG?w=2", "https://cdn.y.net/b.webp"]
        );
        assert!(image_urls("no links here").is_empty());
    }
}
