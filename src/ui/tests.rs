//! The window, driven like a user would: find widgets by label, type, click, step
//! frames, against a real local HTTP server.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use pixgrab_testsite::loopback::{Response, Server};

use super::{PixgrabApp, UiOptions};

#[path = "../../crates/engine/tests/support/mod.rs"]
pub(super) mod support;
use pixgrab_engine::Stage;

const URL_BOX: &str = "URLs (paste any text: lines, HTML, CSV)";

/// A site with six small images in distinct colours and one missing file.
fn site() -> Server {
    let images: Vec<Arc<[u8]>> = (0..6u8)
        .map(|n| {
            let img = image::RgbImage::from_fn(90 + u32::from(n) * 10, 60, |x, y| {
                image::Rgb([n * 40, (x * 2) as u8, (y * 4) as u8])
            });
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, image::ImageFormat::Png)
                .expect("encode");
            Arc::from(out.into_inner())
        })
        .collect();
    Server::start(move |req| {
        let n = req
            .path
            .strip_prefix("/pic-")
            .and_then(|p| p.strip_suffix(".png"))
            .and_then(|n| n.parse::<usize>().ok());
        match n.and_then(|n| images.get(n)) {
            Some(body) => Response::ok("image/png", body.clone()),
            None => Response::status(404),
        }
    })
    .expect("server")
}

fn url_list(server: &Server) -> String {
    let mut lines: Vec<String> = (0..6)
        .map(|n| server.url(&format!("/pic-{n}.png")))
        .collect();
    lines.insert(3, server.url("/gone.png"));
    lines.join("\n")
}

pub(super) fn harness(out: &Path, jobs: usize) -> Harness<'static, PixgrabApp> {
    harness_sized(out, jobs, [1100.0, 700.0])
}

fn harness_sized(out: &Path, jobs: usize, size: [f32; 2]) -> Harness<'static, PixgrabApp> {
    let out = out.to_path_buf();
    let mut harness = Harness::builder().with_size(size).build_eframe(move |cc| {
        let mut app = PixgrabApp::new(
            &cc.egui_ctx,
            None,
            UiOptions {
                out_dir: Some(out),
                ..UiOptions::default()
            },
        );
        app.settings.jobs = jobs;
        app
    });
    harness.step();
    harness
}

/// Steps frames (with a short real-time pause, since workers run on real threads)
/// until `done` holds; fails the test after 30 s.
pub(super) fn step_until(
    harness: &mut Harness<'_, PixgrabApp>,
    what: &str,
    done: impl Fn(&PixgrabApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done(harness.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    harness.step();
}

/// Types `text` into the URL box (found by its label).
pub(super) fn type_urls(harness: &mut Harness<'_, PixgrabApp>, text: &str) {
    harness.get_by_label(URL_BOX).focus();
    harness.step();
    harness.get_by_label(URL_BOX).type_text(text);
    harness.step();
}

/// Clicks Download.
pub(super) fn press_download(harness: &mut Harness<'_, PixgrabApp>) {
    harness.get_by_label("Download").click();
    harness.step();
}

/// Presses Ctrl (Cmd on a Mac) + `key` the way X11 delivered it to the real window: a
/// quick press comes in one frame, the key event carries Ctrl, but the frame's
/// modifiers already say it was released.
fn press_command(harness: &mut Harness<'_, PixgrabApp>, key: egui::Key) {
    for pressed in [true, false] {
        harness.event(egui::Event::Key {
            key,
            physical_key: Some(key),
            pressed,
            repeat: false,
            modifiers: egui::Modifiers::COMMAND,
        });
    }
    harness.step();
}

/// Types the test site's 7 URLs, checks the count shows before anything starts, downloads.
fn type_urls_and_download(harness: &mut Harness<'_, PixgrabApp>, text: &str) {
    type_urls(harness, text);
    assert!(
        harness.query_by_label("7 URLs ready").is_some(),
        "the count is shown before anything starts"
    );
    press_download(harness);
}

/// The x where the gallery begins: queue rows (left panel) carry the same names as tiles.
fn panel_edge(harness: &Harness<'_, PixgrabApp>) -> f32 {
    harness.get_by_label(URL_BOX).rect().right()
}

/// The gallery tile named `name` (not the queue row of the same name).
fn gallery_tile<'h>(harness: &'h Harness<'_, PixgrabApp>, name: &'h str) -> egui_kittest::Node<'h> {
    let edge = panel_edge(harness);
    harness
        .get_all_by_role_and_label(egui::Role::Button, name)
        .find(|n| n.rect().left() > edge)
        .unwrap_or_else(|| panic!("no gallery tile {name}"))
}

fn all_settled(app: &PixgrabApp) -> bool {
    app.model.items.len() == 7 && app.model.items.iter().all(|i| i.state.is_settled())
}

#[test]
fn typing_urls_and_pressing_download_fills_queue_and_gallery() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 8);
    type_urls_and_download(&mut harness, &url_list(&server));
    step_until(&mut harness, "every item settled", all_settled);

    let app = harness.state();
    let failed: Vec<&str> = app
        .model
        .items
        .iter()
        .filter_map(|i| i.failure.as_ref().map(|f| f.reason.as_str()))
        .collect();
    assert_eq!(failed, ["HTTP 404 Not Found"]);
    assert_eq!(app.model.counts.done, 6);
    // One texture per image; the failed item has an error tile instead.
    assert_eq!(app.gallery.texture_count(), 6);
    assert_eq!(app.model.gallery.len(), 7);
    for item in app.model.items.iter().filter(|i| i.state == Stage::Done) {
        let idx = app
            .model
            .items
            .iter()
            .position(|x| std::ptr::eq(x, item))
            .expect("index");
        assert!(
            app.gallery.has_texture(idx),
            "{} has no texture",
            item.name()
        );
        assert!(item.path.as_ref().is_some_and(|p| p.is_file()));
    }
    // The queue shows the reason next to the failed item, and the totals line says so.
    assert!(harness.query_by_label("HTTP 404 Not Found").is_some());
    assert!(
        harness
            .query_by_label_contains("Finished: 6 downloaded, 1 failed")
            .is_some()
    );
    // The box is emptied once its URLs are queued, and pressing Download again with
    // the same URLs queues nothing twice.
    assert!(harness.state().input.text.is_empty());
    type_urls_and_download(&mut harness, &url_list(&server));
    assert_eq!(harness.state().model.items.len(), 7);
}

#[test]
fn ctrl_enter_downloads_with_the_url_box_focused_or_not() {
    let server = site();
    for focused in [true, false] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut harness = harness(tmp.path(), 8);
        type_urls(&mut harness, &url_list(&server));
        if !focused {
            // Escape leaves the box, as a user clicking elsewhere would.
            harness.key_press(egui::Key::Escape);
            harness.step();
            assert!(harness.ctx.memory(|m| m.focused().is_none()));
        }
        press_command(&mut harness, egui::Key::Enter);
        step_until(&mut harness, "Ctrl+Enter queued the URLs", |app| {
            app.model.items.len() == 7
        });
        assert!(
            harness.state().input.text.is_empty(),
            "focused {focused}: the box keeps {:?}",
            harness.state().input.text
        );
    }
}

#[test]
fn ctrl_o_opens_the_list_dialog_and_says_so_when_none_appears() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 4);
    // No desktop portal in the tests: the dialog returns at once with nothing chosen.
    press_command(&mut harness, egui::Key::O);
    step_until(&mut harness, "the dialog's answer", |app| {
        app.input
            .notice
            .as_ref()
            .is_some_and(|n| n.text.starts_with("No file chosen"))
    });
}

#[test]
fn the_viewer_opens_on_click_moves_with_arrows_and_closes_with_escape() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    type_urls_and_download(&mut harness, &url_list(&server));
    step_until(&mut harness, "every item settled", all_settled);

    // With one download at a time, completion order is list order.
    gallery_tile(&harness, "pic-0.png").click();
    harness.step();
    step_until(&mut harness, "the full image loaded", |app| {
        app.viewer.as_ref().is_some_and(|v| v.is_loaded())
    });
    assert_eq!(harness.state().viewer.as_ref().map(|v| v.pos), Some(0));
    assert!(
        harness
            .query_by_label_contains("pic-0.png (1 of 7)")
            .is_some()
    );

    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    step_until(&mut harness, "the next image loaded", |app| {
        app.viewer
            .as_ref()
            .is_some_and(|v| v.pos == 1 && v.is_loaded())
    });
    assert!(
        harness
            .query_by_label_contains("pic-1.png (2 of 7)")
            .is_some()
    );

    // + and - zoom.
    let zoom = |h: &Harness<'_, PixgrabApp>| h.state().viewer.as_ref().map(|v| v.zoom());
    let before = zoom(&harness).expect("viewer");
    harness.key_press(egui::Key::Plus);
    harness.step();
    assert!(zoom(&harness).is_some_and(|z| z > before), "+ zooms in");
    harness.key_press(egui::Key::Minus);
    harness.key_press(egui::Key::Minus);
    harness.step();
    assert!(zoom(&harness).is_some_and(|z| z < before), "- zooms out");

    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.step();
    assert!(harness.state().viewer.is_none());
    // Back to the gallery: the tile is there again.
    gallery_tile(&harness, "pic-0.png");
}

#[test]
fn ctrl_v_anywhere_pastes_into_the_url_box() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    harness.event(egui::Event::Paste(
        "see https://a.example/x.jpg and ftp://b.example/y.jpg".into(),
    ));
    harness.step();
    let app = harness.state();
    assert_eq!(app.input.intake.urls.len(), 1);
    assert_eq!(app.input.intake.rejected.len(), 1);
    assert!(harness.query_by_label("1 URL ready").is_some());
}

#[test]
fn an_input_over_100000_urls_is_refused_whole_and_the_box_keeps_its_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    let eleven: String = (0..11)
        .map(|n| format!("http://a.example/{n}/[1-10000].jpg\n"))
        .collect();
    harness.event(egui::Event::Paste(eleven.clone()));
    harness.step();
    press_download(&mut harness);
    let app = harness.state();
    assert!(app.engines.is_empty(), "nothing was queued");
    assert!(
        app.input.text.contains("/10/[1-10000].jpg"),
        "the text is kept"
    );
    let notice = app
        .input
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(notice.contains("holds 110000 URLs"), "{notice}");
}

#[test]
fn a_big_paste_is_read_off_the_ui_thread_and_download_waits_for_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    // 5,000 URLs, about 200 KB: over what the UI thread reads itself.
    let big: String = (0..5000)
        .map(|n| format!("http://127.0.0.1:9/big/picture-number-{n:05}.jpg\n"))
        .collect();
    harness.state_mut().input.append(&big);
    assert!(
        harness.state().input.is_reading(),
        "a big paste goes to a reading thread instead of being parsed here"
    );
    // Download while it is read: nothing is lost, it starts once the list is read.
    let ctx = harness.ctx.clone();
    harness.state_mut().download(&ctx);
    assert!(harness.state().input.download_when_read);
    harness.step();
    step_until(&mut harness, "all 5,000 queued", |app| {
        app.model.items.len() == 5000
    });
    assert!(harness.state().input.text.is_empty(), "the box was taken");
    assert_eq!(
        harness.state().input.held_bytes(),
        0,
        "and what it held is freed, not kept as spare capacity"
    );
}

#[test]
fn a_frame_applies_a_bounded_share_of_a_flood_of_events_and_asks_for_the_next() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    let big: String = (0..5000)
        .map(|n| format!("http://127.0.0.1:9/flood/{n}.jpg\n"))
        .collect();
    harness.state_mut().input.append(&big);
    step_until(&mut harness, "the list is read", |app| {
        !app.input.is_reading()
    });
    let ctx = harness.ctx.clone();
    harness.state_mut().download(&ctx);
    step_until(&mut harness, "the folder's engine is open", |app| {
        !app.engines.is_empty()
    });
    // No frame runs while the engine queues the rest: they wait in the channel.
    let waiting = |harness: &Harness<'_, PixgrabApp>| {
        harness.state().engines.events(0).map_or(0, |e| e.len())
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while waiting(&harness) < 3 * super::logic::EVENTS_PER_FRAME / 2 {
        assert!(Instant::now() < deadline, "the engine never queued enough");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = harness.state().model.items.len();
    harness.step();
    let applied = harness.state().model.items.len() - before;
    assert!(
        applied <= super::logic::EVENTS_PER_FRAME,
        "one frame applied {applied} queued items"
    );
    assert!(waiting(&harness) > 0, "the rest wait for the next frames");
    step_until(&mut harness, "the rest in later frames", |app| {
        app.model.items.len() == 5000
    });
}

#[test]
fn a_list_too_long_to_edit_is_shown_a_screenful_at_a_time_and_clear_brings_the_box_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    // 20,000 URLs, about 1 MB: laid out whole, such a text cost the demo a frame of
    // over a second.
    let big: String = (0..20_000)
        .map(|n| format!("http://127.0.0.1:9/long/picture-number-{n:05}.jpg\n"))
        .collect();
    harness.event(egui::Event::Paste(big));
    harness.step();
    step_until(&mut harness, "the list is read", |app| {
        !app.input.is_reading()
    });
    assert!(
        harness
            .query_by_label_contains("too long to edit")
            .is_some()
            && harness.query_by_label_contains("20000 lines, ").is_some(),
        "the box says it shows the text read-only"
    );
    let shown = harness
        .query_all_by_label_contains("/long/picture-number-")
        .count();
    assert!(
        (1..100).contains(&shown),
        "only the lines on screen are laid out, not 20,000 ({shown})"
    );
    assert!(harness.query_by_label("20000 URLs ready").is_some());
    harness.get_by_label("Clear").click();
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label_contains("too long to edit")
            .is_none()
    );
    type_urls(&mut harness, "http://127.0.0.1:9/one.jpg");
    assert!(
        harness.query_by_label("1 URL ready").is_some(),
        "the box edits again"
    );
}

#[test]
fn a_damaged_image_fails_with_its_reason_and_keep_anyway_puts_it_in_the_folder() {
    // A PNG cut in the middle of its image data.
    let img = image::RgbImage::from_fn(120, 90, |x, y| image::Rgb([x as u8, y as u8, 77]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("encode");
    let mut cut = png.into_inner();
    cut.truncate(cut.len() * 2 / 3);
    let body: Arc<[u8]> = Arc::from(cut.clone());
    let server = Server::start(move |_| Response::ok("image/png", body.clone())).expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    type_urls(&mut harness, &server.url("/broken.png"));
    press_download(&mut harness);
    step_until(&mut harness, "the item failed", |app| {
        app.model.counts.failed == 1
    });
    assert!(harness.query_by_label_contains("damaged: ").is_some());
    assert!(
        !tmp.path().join("broken.png").exists(),
        "a damaged image is not published"
    );
    harness.get_by_label("Keep anyway").click();
    step_until(&mut harness, "the item is kept", |app| {
        app.model.counts.done == 1
    });
    assert_eq!(
        std::fs::read(tmp.path().join("broken.png")).expect("kept"),
        cut,
        "the bytes as they arrived"
    );
    assert_eq!(harness.state().model.counts.failed, 0);
}

#[test]
fn a_damaged_jpeg_shows_what_could_be_read_on_its_red_tile() {
    // jpeg-decoder's imagetestsuite/7997b….jpg: one of its seven restart intervals holds
    // bad data. libjpeg shows the rest; so does the failed tile.
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/jpeg-decoder/imagetestsuite/7997b6b229f25315d33f5c7085e37500.jpg");
    let body: Arc<[u8]> = Arc::from(std::fs::read(file).expect("corpus file"));
    let server = Server::start(move |_| Response::ok("image/jpeg", body.clone())).expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    type_urls(&mut harness, &server.url("/banner.jpg"));
    press_download(&mut harness);
    step_until(&mut harness, "the item failed", |app| {
        app.model.counts.failed == 1
    });
    harness.run_steps(3);
    assert!(
        harness
            .query_by_label_contains("damaged: corrupt data in 1 of 7 segments")
            .is_some()
    );
    let app = harness.state();
    let tile = *app
        .model
        .gallery
        .first()
        .expect("a tile for the failed item");
    assert!(
        app.gallery.has_texture(tile),
        "the failed tile shows the recovered picture"
    );
}

/// A window whose engines write their library `delay` late, with its folder opened by
/// a warm-up add (of a URL refused at once) that has settled.
fn slow_library_harness(out: &Path, delay: Duration) -> Harness<'static, PixgrabApp> {
    let mut harness = harness(out, 1);
    harness.state_mut().library_delay = Some(delay);
    // The folder's engine starts on a task thread.
    type_urls(&mut harness, "http://127.0.0.1:9/warm-up.jpg");
    press_download(&mut harness);
    step_until(&mut harness, "the warm-up settled", |app| {
        app.model.items.len() == 1 && app.model.is_idle()
    });
    harness
}

#[test]
fn the_window_keeps_drawing_while_a_slow_library_takes_10000_urls() {
    // Every add waits 2 s before it writes the library (a slow disk). Commands go to
    // the engine's own thread, so the frame that presses Download returns at once and
    // frames go on being drawn; the engine's answer arrives later.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = slow_library_harness(tmp.path(), Duration::from_secs(2));
    type_urls(&mut harness, "http://127.0.0.1:9/img[00001-10000].jpg");
    press_download(&mut harness);
    // The library is still being written: nothing new is queued yet, but frames run.
    let frames_before = harness.ctx.cumulative_pass_nr();
    for _ in 0..20 {
        harness.step();
    }
    let app = harness.state();
    assert_eq!(
        app.model.items.len(),
        1,
        "the add is still under way on the engine's thread"
    );
    assert!(harness.ctx.cumulative_pass_nr() >= frames_before + 20);
    assert!(
        harness
            .query_by_label_contains("Queueing 10000 URLs")
            .is_some()
    );
    step_until(&mut harness, "the engine's answer", |app| {
        app.model.items.len() == 10_001
    });
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("Queued 10000 URLs.")
            .is_some()
    );
}

#[test]
fn an_autorun_waits_for_an_add_the_library_is_still_taking() {
    // The frame bench at 100,000 ended after a few seconds with "items 0": the engine
    // existed and the model was empty (idle) while the library still took the add.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = slow_library_harness(tmp.path(), Duration::from_secs(2));
    type_urls(&mut harness, "http://127.0.0.1:9/img[001-100].jpg");
    let shot = tmp.path().join("shot.png");
    harness.state_mut().autorun = Some(super::Autorun::new(shot, None));
    for _ in 0..20 {
        harness.step();
    }
    let app = harness.state();
    assert_eq!(app.model.items.len(), 1, "the add is still under way");
    let run = app.autorun.as_ref().expect("autorun");
    assert!(
        !run.screenshot_requested(),
        "the autorun settled before the add was answered"
    );
    step_until(&mut harness, "the add's answer", |app| {
        app.model.items.len() == 101
    });
}

#[test]
fn the_window_icon_is_the_bundled_png() {
    let icon = super::icon().expect("assets/pixgrab.png decodes");
    assert_eq!((icon.width, icon.height), (256, 256));
    assert_eq!(icon.rgba.len(), 256 * 256 * 4);
}

#[test]
fn main_screen_after_a_finished_download() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    type_urls_and_download(&mut harness, &url_list(&server));
    step_until(&mut harness, "every item settled", all_settled);
    harness.run_steps(3);
    // The output folder is a random temp path: keep it out of the picture.
    let field = harness.get_by_label("Save to:").rect();
    harness.mask(field);
    harness.snapshot("main_after_download");
}

#[test]
fn textures_past_the_budget_are_dropped_and_reloaded_from_the_cache_on_scroll() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness_sized(tmp.path(), 1, [900.0, 700.0]);
    harness.state_mut().gallery.budget = 3;
    type_urls_and_download(&mut harness, &url_list(&server));
    step_until(&mut harness, "every item settled", all_settled);
    // A short window shows one row of tiles (3 of the 7) at a time.
    harness.set_size(egui::vec2(900.0, 200.0));
    harness.run_steps(3);
    let app = harness.state();
    assert!(
        app.gallery.texture_count() <= 3,
        "{} textures",
        app.gallery.texture_count()
    );
    let last = *app.model.gallery.last().expect("tiles");
    assert!(
        !app.gallery.has_texture(last),
        "the last tile is off screen"
    );

    // Scroll to the end: the last tile's thumbnail comes back from .pixgrab/thumbs
    // (the originals are removed first, so only the cache can provide it).
    for entry in std::fs::read_dir(tmp.path())
        .expect("out dir")
        .filter_map(Result::ok)
    {
        if entry.path().extension().is_some_and(|e| e == "png") {
            std::fs::remove_file(entry.path()).expect("remove original");
        }
    }
    for _ in 0..8 {
        let edge = panel_edge(&harness);
        let visible = harness.get_all_by_role(egui::Role::Button).find(|n| {
            n.rect().left() > edge
                && n.accesskit_node()
                    .label()
                    .is_some_and(|l| l.starts_with("pic-") || l == "gone.png")
        });
        if let Some(tile) = visible {
            tile.scroll_down();
        }
        harness.step();
    }
    step_until(&mut harness, "the last tile reloaded", |app| {
        app.gallery.has_texture(last)
    });
    assert!(harness.state().gallery.texture_count() <= 3);
}

#[test]
fn a_retry_shows_its_reason_and_a_disk_error_pauses_until_resume() {
    let body: Arc<[u8]> = Arc::from(
        std::fs::read(env!("CARGO_MANIFEST_DIR").to_string() + "/docs/screenshot.png")
            .expect("a PNG to serve"),
    );
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let server = Server::start(move |req| {
        if req.path == "/busy.png" && first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // 3 s: the check below comes a frame after the note was seen, and on a loaded
            // machine a frame can take longer than a 1 s wait (the retry had begun and
            // cleared the note when the full suite ran beside a frame bench).
            return Response::status(503).with_header("Retry-After", "3");
        }
        Response::ok("image/png", body.clone())
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let mut harness = harness(&out, 1);

    // A 503 with Retry-After: the row says why it waits and when it tries again.
    type_urls(&mut harness, &server.url("/busy.png"));
    press_download(&mut harness);
    step_until(&mut harness, "the retry note", |app| {
        app.model.items.first().is_some_and(|i| i.note.is_some())
    });
    assert!(
        harness
            .query_by_label_contains("HTTP 503 Service Unavailable; attempt 2 in 3 s")
            .is_some()
    );
    step_until(&mut harness, "the retry succeeded", |app| {
        app.model.counts.done == 1
    });

    // The folder vanishes: nothing fails, every item waits behind a banner.
    std::fs::remove_dir_all(&out).expect("remove output folder");
    type_urls(
        &mut harness,
        &format!("{}\n{}", server.url("/a.png"), server.url("/b.png")),
    );
    press_download(&mut harness);
    step_until(&mut harness, "the pause banner", |app| {
        app.model.paused.is_some()
    });
    assert!(
        harness
            .query_by_label_contains("Downloads paused: could not write to the output folder")
            .is_some()
    );
    assert_eq!(
        harness.state().model.counts.queued,
        2,
        "a.png and b.png wait"
    );
    assert_eq!(harness.state().model.counts.failed, 0);
    std::fs::create_dir_all(&out).expect("recreate");
    harness.get_by_label("Resume").click();
    step_until(&mut harness, "everything settled", |app| {
        app.model.is_idle()
    });
    let app = harness.state();
    assert_eq!(app.model.counts.done, 3);
    assert_eq!(app.model.counts.failed, 0);
    assert!(app.model.paused.is_none());
    assert!(out.join("b.png").is_file());
}

/// A site for the queue controls: `/slow.png` (ranged with an ETag, slow while `slow` is
/// set), `/flaky.png` (404 until `fixed` is set) and `/ok.png`. Logs the Range headers.
struct ControlSite {
    server: Server,
    slow: Arc<std::sync::atomic::AtomicBool>,
    fixed: Arc<std::sync::atomic::AtomicBool>,
    ranges: Arc<std::sync::Mutex<Vec<Option<String>>>>,
}

fn control_site() -> ControlSite {
    use std::sync::atomic::AtomicBool;
    let encode = |img: image::RgbImage| -> Arc<[u8]> {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .expect("encode");
        Arc::from(out.into_inner())
    };
    let big = encode(image::RgbImage::from_fn(700, 500, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) as u8;
        image::Rgb([n, (x / 3) as u8, (y / 2) as u8])
    }));
    let small = encode(image::RgbImage::from_fn(80, 60, |x, y| {
        image::Rgb([x as u8, y as u8, 90])
    }));
    let slow = Arc::new(AtomicBool::new(true));
    let fixed = Arc::new(AtomicBool::new(false));
    let ranges = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (sl, fx, rg) = (slow.clone(), fixed.clone(), ranges.clone());
    let server = Server::start(move |req| match req.path.split('?').next().unwrap_or("") {
        "/slow.png" | "/slow-again.png" => {
            if let Ok(mut r) = rg.lock()
                && req.path == "/slow.png"
            {
                r.push(req.header("range").map(str::to_string));
            }
            let response = Response::ranged(req, "image/png", &big, "\"v1\"");
            if sl.load(Ordering::SeqCst) {
                response.behaving(pixgrab_testsite::loopback::Behaviour::Slow {
                    chunk: 2048,
                    delay: Duration::from_millis(20),
                })
            } else {
                response
            }
        }
        "/flaky.png" if fx.load(Ordering::SeqCst) => Response::ok("image/png", small.clone()),
        "/ok.png" => Response::ok("image/png", small.clone()),
        _ => Response::status(404),
    })
    .expect("server");
    ControlSite {
        server,
        slow,
        fixed,
        ranges,
    }
}

fn state_of(app: &PixgrabApp, path: &str, query: Option<&str>) -> Option<Stage> {
    app.model
        .items
        .iter()
        .find(|i| i.url.path() == path && i.url.query() == query)
        .map(|i| i.state)
}

#[test]
fn pause_resume_retry_and_cancel_from_the_queue_panel() {
    let site = control_site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 3);
    let list = ["/slow.png", "/flaky.png", "/ok.png"]
        .map(|p| site.server.url(p))
        .join("\n");
    type_urls(&mut harness, &list);
    press_download(&mut harness);
    step_until(
        &mut harness,
        "the slow one downloading, the others settled",
        |app| {
            app.model
                .items
                .iter()
                .any(|i| i.url.path() == "/slow.png" && i.bytes > 0)
                && matches!(state_of(app, "/flaky.png", None), Some(Stage::Failed))
                && state_of(app, "/ok.png", None) == Some(Stage::Done)
        },
    );

    // Pause the running download: it stops and keeps its part.
    harness.get_by_label("Pause").click();
    step_until(&mut harness, "paused", |app| {
        state_of(app, "/slow.png", None) == Some(Stage::Paused)
    });
    assert!(
        tmp.path().join("slow.png.part").is_file(),
        "the part is kept"
    );
    assert!(harness.query_by_label_contains("paused at").is_some());
    if let Ok(path) = std::env::var("PIXGRAB_QUEUE_SCREENSHOT") {
        // For the docs: the queue with paused, failed and done items.
        harness.run_steps(2);
        if let Ok(image) = harness.render() {
            image.save(path).expect("save screenshot");
        }
    }

    // Retry the failed one once the server is fixed.
    site.fixed.store(true, Ordering::SeqCst);
    harness.get_by_label("Retry").click();
    step_until(&mut harness, "the retried item done", |app| {
        state_of(app, "/flaky.png", None) == Some(Stage::Done)
    });

    // Resume: the transfer continues where it stopped, with a Range request.
    site.slow.store(false, Ordering::SeqCst);
    harness.get_by_label("Resume").click();
    step_until(&mut harness, "the resumed item done", |app| {
        state_of(app, "/slow.png", None) == Some(Stage::Done)
    });
    let ranges = site.ranges.lock().expect("ranges").clone();
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    assert!(
        ranges[1]
            .as_deref()
            .is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "{ranges:?}"
    );
    assert!(!tmp.path().join("slow.png.part").exists());

    // Cancel through the selection: click the row's name, then "Cancel selected".
    site.slow.store(true, Ordering::SeqCst);
    type_urls(&mut harness, &site.server.url("/slow-again.png"));
    press_download(&mut harness);
    step_until(&mut harness, "the new item downloading", |app| {
        state_of(app, "/slow-again.png", None) == Some(Stage::Downloading)
    });
    let edge = panel_edge(&harness);
    harness
        .get_all_by_role_and_label(egui::Role::Button, "slow-again.png")
        .find(|n| n.rect().left() < edge)
        .expect("queue row of the new item")
        .click();
    // The click lands in one frame; the toolbar (drawn above the rows) shows it in the next.
    harness.run_steps(2);
    harness.get_by_label("Cancel selected").click();
    step_until(&mut harness, "cancelled, its part removed", |app| {
        state_of(app, "/slow-again.png", None) == Some(Stage::Cancelled)
            && !std::fs::read_dir(app.settings.out_dir.clone())
                .expect("dir")
                .filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().ends_with(".part"))
    });
}

#[test]
fn reopening_the_folder_brings_back_queue_and_gallery_without_downloading() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let mut harness = harness(tmp.path(), 2);
        type_urls_and_download(&mut harness, &url_list(&server));
        step_until(&mut harness, "every item settled", all_settled);
    }
    let requests = server.stats().requests.load(Ordering::SeqCst);
    // The first window's engine lets go of the library once its workers have exited.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pixgrab_engine::Folder::open(tmp.path()).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }

    // A new window on the same folder: nothing typed, nothing pressed.
    let mut harness = harness(tmp.path(), 2);
    step_until(&mut harness, "the library restored", |app| {
        all_settled(app) && app.gallery.texture_count() == 6
    });
    let app = harness.state();
    assert_eq!(app.model.counts.done, 6);
    assert_eq!(app.model.counts.failed, 1);
    assert_eq!(
        server.stats().requests.load(Ordering::SeqCst),
        requests,
        "nothing was downloaded again"
    );
    assert!(
        harness.query_by_label("HTTP 404 Not Found").is_some(),
        "the failure keeps its reason"
    );
    // Retry failed: the 404 is asked again (and fails again), the rest stays.
    harness.get_by_label("Retry failed").click();
    step_until(&mut harness, "the retry finished", |app| {
        all_settled(app) && server.stats().requests.load(Ordering::SeqCst) == requests + 1
    });
}

#[test]
fn a_gallery_page_shows_sizes_and_previews_filters_by_size_and_queues_the_largest() {
    // A page with a thumbnail linked to its full size, and one more image; the full
    // size refuses requests that do not come from the page (hot-link protection).
    let image = |seed: u8, w: u32, h: u32| -> Arc<[u8]> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([seed, (x * 2) as u8, (y * 2) as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .expect("encode");
        Arc::from(out.into_inner())
    };
    let (thumb, sunset, full) = (image(10, 60, 45), image(80, 120, 90), image(160, 240, 180));
    let full_requests = Arc::new(AtomicUsize::new(0));
    let counted = full_requests.clone();
    let (served_full, served_sunset) = (full.clone(), sunset.clone());
    let server = Server::start(move |req| match req.path.as_str() {
        "/gallery.html" => Response::ok(
            "text/html",
            br#"<html><body><h1>Holiday</h1>
                <a href="full/beach.png"><img src="thumbs/beach.png"></a>
                <img src="/img/sunset.png" alt="sunset">
                <a href="about.html">about</a></body></html>"#
                .to_vec(),
        ),
        "/thumbs/beach.png" => Response::ranged(req, "image/png", &thumb, "\"t\""),
        "/img/sunset.png" => Response::ranged(req, "image/png", &served_sunset, "\"s\""),
        "/full/beach.png"
            if req
                .header("referer")
                .is_some_and(|r| r.ends_with("/gallery.html")) =>
        {
            counted.fetch_add(1, Ordering::SeqCst);
            Response::ranged(req, "image/png", &served_full, "\"f\"")
        }
        _ => Response::status(403),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 2);
    harness.get_by_label("Page:").focus();
    harness.step();
    harness
        .get_by_label("Page:")
        .type_text(&server.url("/gallery.html"));
    harness.step();
    // Click 1: find the images. Each is probed for its pixel size and a preview.
    harness.get_by_label("Find images").click();
    step_until(
        &mut harness,
        "the page's images probed, with previews",
        |app| {
            app.picker.as_ref().is_some_and(|p| {
                p.items.len() == 3
                    && p.items.iter().all(|i| {
                        i.probe.as_ref().is_some_and(|p| p.pixels.is_some()) && i.preview.is_some()
                    })
            })
        },
    );
    harness.run_steps(2);
    // Real pixel sizes, bytes and types before anything is downloaded.
    for facts in [
        format!(
            "240×180 · {} · png · link",
            pixgrab_engine::Bytes(full.len() as u64)
        ),
        format!(
            "120×90 · {} · png · img",
            pixgrab_engine::Bytes(sunset.len() as u64)
        ),
    ] {
        assert!(
            harness.query_by_label_contains(&facts).is_some(),
            "shows {facts:?}"
        );
    }
    // The thumbnail and its full size are one picture: only the largest is shown.
    assert_eq!(
        harness
            .get_all_by_role_and_label(egui::Role::CheckBox, "beach.png")
            .count(),
        1
    );
    assert!(harness.query_by_label("Queue 2 selected").is_some());
    if let Ok(path) = std::env::var("PIXGRAB_PICKER_SCREENSHOT") {
        harness.run_steps(2);
        if let Ok(image) = harness.render() {
            image.save(path).expect("save screenshot");
        }
    }
    // Every variant, then only those at least 200 px wide.
    harness
        .get_by_label("Largest variant of each picture")
        .click();
    harness.run_steps(2);
    assert!(harness.query_by_label("Queue 3 selected").is_some());
    if let Some(picker) = &mut harness.state_mut().picker {
        picker.min_width = 200;
    }
    harness.run_steps(2);
    assert!(harness.query_by_label("Queue 1 selected").is_some());
    assert!(harness.query_by_label("1 of 3 shown").is_some());
    if let Some(picker) = &mut harness.state_mut().picker {
        picker.min_width = 0;
    }
    harness
        .get_by_label("Largest variant of each picture")
        .click();
    harness.run_steps(2);
    // Click 2: queue the largest variants.
    harness.get_by_label("Queue 2 selected").click();
    step_until(&mut harness, "both downloaded", |app| {
        app.model.items.len() == 2 && app.model.items.iter().all(|i| i.state == Stage::Done)
    });
    assert!(harness.state().picker.is_none(), "the picker closes");
    let files: Vec<String> = {
        let mut f: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        f.sort();
        f
    };
    assert_eq!(files, ["beach.png", "sunset.png"], "{files:?}");
    assert_eq!(
        std::fs::read(tmp.path().join("beach.png")).expect("file"),
        full.to_vec(),
        "the full size, not the thumbnail"
    );
    // The probe fetched the small full-size file whole; queueing it asked no more.
    assert_eq!(full_requests.load(Ordering::SeqCst), 1);
}

#[test]
fn the_clipboard_watch_collects_copied_image_urls_without_downloading() {
    if std::env::var_os("DISPLAY").is_none() {
        assert!(
            std::env::var_os("PIXGRAB_REQUIRE_DISPLAY").is_none(),
            "PIXGRAB_REQUIRE_DISPLAY is set but there is no display"
        );
        eprintln!("skipped: the system clipboard needs a display (run under xvfb-run)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    let mut clipboard = arboard::Clipboard::new().expect("clipboard");
    clipboard
        .set_text("copied before the watch: https://x.example/old.jpg")
        .expect("set");
    harness.get_by_label("Watch clipboard").click();
    harness.run_steps(2);
    assert!(harness.state().clipwatch.is_some(), "the watch runs");
    clipboard
        .set_text("see https://x.example/new.png and https://x.example/about.html")
        .expect("set");
    step_until(&mut harness, "the copied image URL collected", |app| {
        app.input.text.contains("https://x.example/new.png")
    });
    let app = harness.state();
    assert!(
        !app.input.text.contains("old.jpg"),
        "what was there before is left"
    );
    assert!(!app.input.text.contains("about.html"), "only image URLs");
    assert!(
        app.engines.is_empty() && app.model.items.is_empty(),
        "nothing started"
    );
}

/// The queue list's order is the engine's: "Move to top" sends a command, and the row
/// moves when the engine says it moved the item (`Event::MovedToTop`), not before. The
/// moved item is then the next one downloaded.
#[test]
fn move_to_top_follows_the_engine_and_the_item_downloads_next() {
    use super::queue::{ItemOp, QueueAction};
    let site = control_site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 1);
    let list = [
        site.server.url("/slow.png"),
        site.server.url("/ok.png?a"),
        site.server.url("/ok.png?b"),
        site.server.url("/ok.png?c"),
    ]
    .join("\n");
    type_urls(&mut harness, &list);
    press_download(&mut harness);
    step_until(&mut harness, "the slow one downloading", |app| {
        state_of(app, "/slow.png", None) == Some(Stage::Downloading)
    });
    let idx = |app: &PixgrabApp, query: &str| {
        app.model
            .items
            .iter()
            .position(|i| i.url.query() == Some(query))
            .expect("item")
    };
    let c = idx(harness.state(), "c");
    let before = harness.state().model.order.clone();
    harness
        .state_mut()
        .queue_action(QueueAction::Items(ItemOp::Top, vec![c]));
    // Nothing moves on the UI's own say.
    assert_eq!(harness.state().model.order, before);
    step_until(&mut harness, "the engine moved c to the top", |app| {
        app.model.order.first() == Some(&c)
    });
    let slow = idx_of_path(harness.state(), "/slow.png");
    harness
        .state_mut()
        .queue_action(QueueAction::Items(ItemOp::Cancel, vec![slow]));
    step_until(&mut harness, "all settled", |app| {
        app.model.is_idle() && app.model.counts.done == 3
    });
    let app = harness.state();
    let finished: Vec<Option<&str>> = app
        .model
        .gallery
        .iter()
        .map(|&i| app.model.items[i].url.query())
        .collect();
    assert_eq!(finished, [Some("c"), Some("a"), Some("b")]);
}

fn idx_of_path(app: &PixgrabApp, path: &str) -> usize {
    app.model
        .items
        .iter()
        .position(|i| i.url.path() == path)
        .expect("item")
}

/// The queue panel shows each host's adaptive limit as it changes ("At once per host:
/// 127.0.0.1:PORT 5"), and the "auto per host" checkbox is on by default.
#[test]
fn the_queue_shows_the_adaptive_per_host_limit() {
    let pixels = {
        let img = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .expect("encode");
        out.into_inner()
    };
    // After the first four, every answer waits until the limit has been looked at (30 s
    // at most), so the run is still going when it is drawn however loaded the machine.
    let looked = Arc::new(AtomicBool::new(false));
    let gate = looked.clone();
    let answered = AtomicUsize::new(0);
    let server = Server::start(move |req| {
        let until = Instant::now() + Duration::from_secs(30);
        let early = answered.fetch_add(1, Ordering::SeqCst) < 4;
        while !early && !gate.load(Ordering::SeqCst) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Distinct bytes per path (identical ones would be stored once).
        let mut body = pixels.clone();
        body.extend_from_slice(req.path.as_bytes());
        Response::ok("image/png", body)
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    // Tall enough for the URL box holding 24 lines and the Download button below it.
    let mut harness = harness_sized(tmp.path(), 32, [1100.0, 1400.0]);
    assert!(harness.state().settings.per_host_auto);
    let list: Vec<String> = (0..24).map(|i| server.url(&format!("/p{i}.png"))).collect();
    type_urls(&mut harness, &list.join("\n"));
    press_download(&mut harness);
    step_until(&mut harness, "a per-host limit reported", |app| {
        !app.model.host_limits.is_empty()
    });
    harness.step();
    let host = server.addr().to_string();
    assert!(
        harness
            .query_by_label_contains(&format!("At once per host: {host} "))
            .is_some(),
        "limits: {:?}",
        harness.state().model.host_limits
    );
    looked.store(true, Ordering::SeqCst);
}

/// Fresh thumbnails far below the view are not made into textures: their pixels go,
/// and the tile reloads from the cache file when it scrolls into view. A big run thus
/// costs textures only for what is seen (10,000 images: 526 → 348 MiB peak).
#[test]
fn thumbnails_far_from_the_view_wait_in_the_cache() {
    let server = Server::start(move |req| {
        let n: u8 = req
            .path
            .trim_start_matches("/p")
            .trim_end_matches(".png")
            .parse()
            .unwrap_or(0);
        let img = image::RgbImage::from_fn(60, 40, |x, y| image::Rgb([n, x as u8, y as u8]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .expect("encode");
        Response::ok("image/png", out.into_inner())
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 8);
    let list: Vec<String> = (0..120)
        .map(|i| server.url(&format!("/p{i}.png")))
        .collect();
    type_urls(&mut harness, &list.join("\n"));
    press_download(&mut harness);
    step_until(&mut harness, "all done", |app| {
        app.model.counts.done == 120 && app.model.is_idle()
    });
    harness.step();
    let app = harness.state();
    let textures = app.gallery.texture_count();
    assert!(
        textures < 120,
        "every thumbnail became a texture ({textures})"
    );
    let waiting = app
        .model
        .items
        .iter()
        .filter(|i| matches!(i.thumb, super::model::ThumbSlot::Stored(Some(_))))
        .count();
    assert_eq!(waiting, 120, "each keeps its cache file to reload from");
    let far = app.model.gallery[119];
    assert!(
        !app.gallery.has_texture(far),
        "the last tile is far below the view"
    );
}

/// Replaces the text of the field labelled `label` as a user would: click it, select
/// all, delete, type. (Clicked and then focused: after a button was clicked, either alone left
/// the field without the keyboard in kittest.)
fn retype(harness: &mut Harness<'_, PixgrabApp>, label: &str, text: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.get_by_label(label).focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.key_press(egui::Key::Backspace);
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
}

#[test]
fn the_file_name_template_previews_refuses_and_names_the_files() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 4);
    // Folded, the header shows the template; open, an example name (the box is empty).
    harness.get_by_label("File names: {name}.{ext}").click();
    harness.step();
    assert!(harness.query_by_label("cat.jpg").is_some());
    type_urls(&mut harness, &url_list(&server));
    retype(&mut harness, "File names:", "{host}/{num:03}-{name}.{ext}");
    assert_eq!(
        harness.state().settings.name_template,
        "{host}/{num:03}-{name}.{ext}"
    );
    // The first three URLs of the box, as they will be named.
    for name in ["001-pic-0.png", "002-pic-1.png", "003-pic-2.png"] {
        let line = format!("127.0.0.1/{name}");
        assert!(harness.query_by_label(&line).is_some(), "no {line}");
    }
    // A template that would leave the folder is refused, and Download with it starts
    // nothing and keeps the box.
    retype(&mut harness, "File names:", "../{name}.{ext}");
    let refusal = "File names: '..' is not allowed: files stay inside the output folder";
    assert!(harness.query_by_label(refusal).is_some());
    press_download(&mut harness);
    assert!(harness.state().model.items.is_empty());
    assert!(!harness.state().input.text.is_empty());
    retype(&mut harness, "File names:", "{host}/{num:03}-{name}.{ext}");
    harness.step();
    press_download(&mut harness);
    step_until(&mut harness, "every item settled", all_settled);
    let folder = tmp.path().join("127.0.0.1");
    assert!(folder.join("001-pic-0.png").is_file());
    assert!(
        folder.join("006-pic-4.png").is_file(),
        "numbered by position"
    );
}

/// Names of the gallery's shown items, in order.
fn shown_names(app: &PixgrabApp) -> Vec<String> {
    app.gallery
        .view
        .shown()
        .iter()
        .map(|&i| app.model.items[i].name().into_owned())
        .collect()
}

/// Picks `choice` in the combo box labelled `label`.
fn choose(harness: &mut Harness<'_, PixgrabApp>, label: &str, choice: &str) {
    harness
        .get_by_role_and_label(egui::accesskit::Role::ComboBox, label)
        .click();
    harness.step();
    harness.step();
    // The menu's entry, not a label elsewhere with the same text.
    harness
        .get_all_by_label(choice)
        .find(|n| n.accesskit_node().role() != egui::accesskit::Role::Label)
        .unwrap_or_else(|| panic!("no menu entry {choice}"))
        .click();
    harness.step();
    harness.step();
}

#[test]
fn the_gallery_sorts_filters_and_is_worked_with_the_keyboard() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 8);
    type_urls_and_download(&mut harness, &url_list(&server));
    step_until(&mut harness, "every item settled", all_settled);

    // Pixel size, largest first: pic-5 (140×60) … pic-0 (90×60); the 404 has none.
    choose(&mut harness, "Sort:", "pixel size");
    harness.get_by_label("Reverse").click();
    harness.step();
    harness.step();
    let names = shown_names(harness.state());
    assert_eq!(
        names[..3],
        ["pic-5.png", "pic-4.png", "pic-3.png"],
        "{names:?}"
    );
    assert_eq!(names.last().map(String::as_str), Some("gone.png"));

    // Only the failed ones; then only downloaded ones, searched by name.
    choose(&mut harness, "Show:", "failed");
    assert_eq!(shown_names(harness.state()), ["gone.png"]);
    choose(&mut harness, "Show:", "downloaded");
    retype(&mut harness, "Search:", "PIC-1");
    assert_eq!(shown_names(harness.state()), ["pic-1.png"]);
    retype(&mut harness, "Search:", "");
    assert_eq!(shown_names(harness.state()).len(), 6);

    // The keyboard, once no text field has it: Right moves the cursor, Shift+Right
    // extends the selection, Space toggles, Ctrl+A selects all shown.
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.key_press(egui::Key::ArrowRight); // the first press puts the cursor on 0
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    assert_eq!(harness.state().gallery.view.cursor, Some(1));
    harness.key_press(egui::Key::ArrowRight); // to 2, then Shift+Right to 3
    harness.event(egui::Event::Key {
        key: egui::Key::ArrowRight,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::SHIFT,
    });
    harness.step();
    let selected = |h: &Harness<'_, PixgrabApp>| h.state().gallery.view.selected.len();
    assert_eq!(harness.state().gallery.view.cursor, Some(3));
    assert_eq!(selected(&harness), 2, "Shift+Right from 2 selected 2..=3");
    harness.key_press(egui::Key::Space);
    harness.step();
    assert_eq!(selected(&harness), 1, "Space took the cursor's item out");
    press_command(&mut harness, egui::Key::A);
    assert_eq!(selected(&harness), 6);
    assert!(harness.query_by_label("6 shown · 6 selected").is_some());

    // Enter opens the viewer on the cursor's item; its arrows stay in this order.
    harness.key_press(egui::Key::Enter);
    harness.step();
    let cursor_name = shown_names(harness.state())[3].clone();
    assert!(
        harness
            .query_by_label_contains(&format!("{cursor_name} (4 of 6)"))
            .is_some(),
        "the viewer shows {cursor_name}"
    );
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    let next = shown_names(harness.state())[4].clone();
    assert!(
        harness
            .query_by_label_contains(&format!("{next} (5 of 6)"))
            .is_some()
    );
    harness.key_press(egui::Key::Escape);
    harness.step();

    // Remembered for the folder.
    let stored = harness
        .state()
        .settings
        .views
        .get(&harness.state().settings.out_dir)
        .cloned();
    assert!(stored.is_some_and(|v| v.descending && v.sort == super::view::SortBy::Pixels));
}

#[test]
fn delete_moves_the_selection_to_the_trash_after_one_confirmation() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let trash = tmp.path().join("trash");
    let out = tmp.path().join("out");
    let mut harness = harness(&out, 8);
    harness.state_mut().trash_dir = Some(trash.clone());
    type_urls_and_download(&mut harness, &url_list(&server));
    step_until(&mut harness, "every item settled", all_settled);
    choose(&mut harness, "Show:", "downloaded");

    // Select the first two shown, press Delete, and think better of it.
    harness.key_press(egui::Key::Escape);
    harness.key_press(egui::Key::ArrowRight);
    harness.event(egui::Event::Key {
        key: egui::Key::ArrowRight,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::SHIFT,
    });
    harness.step();
    harness.step();
    let doomed: Vec<String> = shown_names(harness.state())[..2].to_vec();
    assert!(harness.query_by_label("2 selected:").is_some());
    harness.key_press(egui::Key::Delete);
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label("Move 2 files to the trash?")
            .is_some()
    );
    harness.get_by_label("Cancel").click();
    harness.step();
    harness.step();
    assert!(
        harness
            .query_by_label("Move 2 files to the trash?")
            .is_none()
    );
    assert!(
        doomed.iter().all(|n| out.join(n).is_file()),
        "nothing moved"
    );

    // Now for real: the selection bar's button asks the same question.
    harness.get_by_label("Move to trash…").click();
    harness.step();
    harness.step();
    harness.get_by_label("Move to trash").click();
    harness.step();
    step_until(&mut harness, "both removed", |app| {
        app.model.counts.removed == 2
    });
    for name in &doomed {
        assert!(!out.join(name).exists(), "{name} still in the folder");
        assert!(trash.join(name).is_file(), "{name} not in the trash");
    }
    assert_eq!(shown_names(harness.state()).len(), 4);
    // The queue says so (the rows in view).
    assert!(harness.query_all_by_label("removed by you").count() >= 1);
}

#[test]
fn the_viewer_tells_a_photo_s_size_bytes_host_date_and_camera() {
    let photo: Arc<[u8]> = Arc::from(
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/exif-samples/Canon_40D.jpg"),
        )
        .expect("corpus photo"),
    );
    let bytes = photo.len();
    let server = Server::start(move |_| Response::ok("image/jpeg", photo.clone())).expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut harness = harness(tmp.path(), 2);
    type_urls(&mut harness, &server.url("/iguana.jpg"));
    press_download(&mut harness);
    step_until(&mut harness, "downloaded", |app| app.model.counts.done == 1);
    gallery_tile(&harness, "iguana.jpg").click();
    harness.step();
    step_until(&mut harness, "the photo loaded", |app| {
        app.viewer.as_ref().is_some_and(|v| v.is_loaded())
    });
    let facts = format!(
        "100×68 · {} · 127.0.0.1 · taken 2008-05-30 15:56:01 · Canon EOS 40D",
        pixgrab_engine::Bytes(bytes as u64)
    );
    assert!(
        harness.query_by_label_contains(&facts).is_some(),
        "no line with {facts}"
    );
}

#[test]
fn similar_images_are_grouped_and_the_unkept_go_to_the_trash() {
    let files = support::iguana_and_copies();
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    let server = support::serve_jpegs(files);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let mut harness = harness(&out, 4);
    harness.state_mut().trash_dir = Some(tmp.path().join("trash"));
    let list: Vec<String> = names.iter().map(|n| server.url(&format!("/{n}"))).collect();
    type_urls(&mut harness, &list.join("\n"));
    press_download(&mut harness);
    step_until(&mut harness, "all downloaded", |app| {
        app.model.counts.done == 5
    });

    harness.get_by_label("Similar…").click();
    harness.step();
    step_until(&mut harness, "the groups", |app| app.similar.is_some());
    harness.step(); // the new window settles its size
    assert!(harness.query_by_label("Group 1").is_some());
    assert!(
        harness
            .query_by_label_contains("1 group of near-duplicates")
            .is_some(),
        "one group, in the singular"
    );
    assert!(
        harness.query_by_label("Group 2").is_none(),
        "the anole stays alone"
    );
    // The largest of the group is kept; the three others are offered to the trash.
    harness.get_by_label("Move 3 not kept to trash…").click();
    // The window gives way; the confirmation appears (a modal takes a frame to size).
    harness.step();
    harness.step();
    harness.step();
    harness.get_by_label("Move to trash").click();
    harness.step();
    step_until(&mut harness, "three removed", |app| {
        app.model.counts.removed == 3
    });
    assert!(out.join("iguana.jpg").is_file(), "the original is kept");
    assert!(out.join("anole.jpg").is_file());
    for name in ["iguana-half.jpg", "iguana-q60.jpg", "iguana-crop.jpg"] {
        assert!(!out.join(name).exists(), "{name} is still there");
    }
}

#[test]
fn the_demo_gallery_is_found_sized_previewed_queued_and_watched() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().to_path_buf();
    let mut harness = Harness::builder()
        .with_size([1100.0, 700.0])
        .build_eframe(move |cc| {
            PixgrabApp::new(
                &cc.egui_ctx,
                None,
                UiOptions {
                    out_dir: Some(out),
                    demo: Some(8),
                    ..UiOptions::default()
                },
            )
        });
    harness.step();
    // The demo fills in its gallery page: one click finds its pictures.
    harness.get_by_label("Find images").click();
    step_until(
        &mut harness,
        "eight pictures probed, with previews",
        |app| {
            app.picker.as_ref().is_some_and(|p| {
                p.items.len() == 16
                    && (0..16).all(|i| {
                        p.items[i]
                            .probe
                            .as_ref()
                            .is_some_and(|p| p.pixels.is_some())
                            && p.preview(i).is_some()
                    })
            })
        },
    );
    harness.run_steps(3);
    // Thumbnail and full size are one picture: the full sizes are offered.
    assert!(harness.query_by_label("Queue 8 selected").is_some());
    // Pictures 0, 3, 6 are 1200×800; 1, 4, 7 are 800×1000; 2, 5 are 1000×1000.
    for (size, count) in [("1200×800 · ", 3), ("800×1000 · ", 3), ("1000×1000 · ", 2)] {
        assert_eq!(
            harness.query_all_by_label_contains(size).count(),
            count,
            "{size}"
        );
    }
    if let Ok(path) = std::env::var("PIXGRAB_PICKER_SCREENSHOT") {
        harness.run_steps(2);
        if let Ok(image) = harness.render() {
            image.save(path).expect("save screenshot");
        }
    }
    harness.get_by_label("Queue and watch").click();
    step_until(
        &mut harness,
        "the eight downloaded and the page watched",
        |app| {
            app.model.items.len() == 8
                && app.model.items.iter().all(|i| i.state == Stage::Done)
                && app.model.watches.len() == 1
        },
    );
    harness.run_steps(2);
    assert!(harness.query_by_label("Watched pages (1)").is_some());
    assert!(
        harness
            .query_by_label_contains("not checked yet · next in 60 min")
            .is_some()
    );
    // Stop watching: the row goes, the pictures stay.
    harness.get_by_label("Stop").click();
    step_until(&mut harness, "the watch stopped", |app| {
        app.model.watches.is_empty()
    });
    assert_eq!(harness.state().model.items.len(), 8);
}
