//! Watched pages (issue #16): a page that gains two images between checks gets exactly
//! those two downloaded (and never one the user left out when watching began); a failing page backs off; watches survive a restart; a page no
//! longer watched is not read again. Intervals are milliseconds here through
//! `Config::min_watch_interval` (a minute at least for users).

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use pixgrab_engine::disk::library::Watch;
use pixgrab_engine::{Engine, EngineHandle, Event};
use pixgrab_testsite::loopback::{Response, Server};
use support::{config, url};

/// A gallery page whose images (and status) a test changes as it goes; it counts the
/// requests for each path.
struct Site {
    server: Server,
    images: Arc<Mutex<Vec<String>>>,
    status: Arc<Mutex<u16>>,
    /// Image paths that answer 404 for now.
    missing: Arc<Mutex<Vec<String>>>,
    requests: Arc<Mutex<HashMap<String, usize>>>,
}

impl Site {
    fn start(images: &[&str]) -> Self {
        let images = Arc::new(Mutex::new(
            images.iter().map(|s| (*s).to_string()).collect::<Vec<_>>(),
        ));
        let status = Arc::new(Mutex::new(200));
        let requests: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let missing: Arc<Mutex<Vec<String>>> = Arc::default();
        let (i, s, r, m) = (
            images.clone(),
            status.clone(),
            requests.clone(),
            missing.clone(),
        );
        let server = Server::start(move |req| {
            *r.lock()
                .expect("requests")
                .entry(req.path.clone())
                .or_default() += 1;
            if req.path == "/thread.html" {
                let code = *s.lock().expect("status");
                if code != 200 {
                    return Response::status(code);
                }
                let tags: String = i
                    .lock()
                    .expect("images")
                    .iter()
                    .map(|name| format!("<a href=\"/img/{name}\"><img src=\"/img/{name}\"></a>\n"))
                    .collect();
                return Response::ok(
                    "text/html",
                    format!("<html><body>{tags}</body></html>").into_bytes(),
                );
            }
            if m.lock().expect("missing").contains(&req.path) {
                return Response::status(404);
            }
            let seed = req.path.bytes().map(u32::from).sum::<u32>() as u8;
            Response::ok("image/png", support::png(20, 16, seed))
        })
        .expect("server");
        Self {
            server,
            images,
            status,
            missing,
            requests,
        }
    }

    fn page(&self) -> url::Url {
        url(&self.server, "/thread.html")
    }

    fn requests(&self, path: &str) -> usize {
        self.requests
            .lock()
            .expect("requests")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

fn start(dir: &std::path::Path) -> (EngineHandle, Receiver<Event>) {
    let mut config = config(dir);
    config.run_watches = true;
    config.min_watch_interval = Duration::from_millis(50);
    Engine::start(config).expect("engine")
}

/// Events until `done` says stop (collected), failing after 30 s.
fn until(rx: &Receiver<Event>, what: &str, mut done: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(event) = rx.recv_timeout(Duration::from_millis(100)) {
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }
    panic!("no {what} within 30 s; saw {seen:#?}");
}

fn checked(event: &Event) -> Option<&Watch> {
    match event {
        Event::Watched(w) if w.last_check.is_some() => Some(w),
        _ => None,
    }
}

#[test]
fn a_page_that_gains_two_images_gets_exactly_those_two_downloaded() {
    let site = Site::start(&["a.png", "b.png", "c.png", "left-out.png"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = start(tmp.path());
    // What the picker's "Queue and watch" does: read the page, queue what the user
    // ticked (not left-out.png), then watch it, telling what the page showed.
    let found = engine.find_images(&site.page()).expect("page");
    let shown: Vec<url::Url> = found
        .candidates
        .iter()
        .filter(|c| !c.smaller_variant)
        .map(|c| c.url.clone())
        .collect();
    assert_eq!(shown.len(), 4);
    let first: Vec<url::Url> = shown
        .iter()
        .filter(|u| !u.path().ends_with("left-out.png"))
        .cloned()
        .collect();
    engine.add_from(first, Some(&found.page)).expect("add");
    let mut done = 0;
    until(&rx, "the first three", |e| {
        done += usize::from(matches!(e, Event::Done { .. }));
        done == 3
    });
    engine
        .watch(&site.page(), Duration::from_millis(200), &shown)
        .expect("watch");
    // A check that finds nothing new.
    let events = until(&rx, "a first check", |e| checked(e).is_some());
    let watch = events.iter().find_map(checked).expect("checked");
    assert_eq!((watch.last_new, watch.failures), (0, 0));
    // The thread gains two images.
    site.images
        .lock()
        .expect("images")
        .extend(["d.png".to_string(), "e.png".to_string()]);
    let mut new_done = Vec::new();
    let mut told = None;
    until(&rx, "the two new images", |e| {
        if let Event::Done { info, .. } = e {
            new_done.push(info.path.clone());
        }
        if let Some(w) = checked(e).filter(|w| w.last_new > 0) {
            told = Some(w.last_new);
        }
        new_done.len() == 2 && told.is_some()
    });
    assert_eq!(told, Some(2));
    let mut names: Vec<String> = new_done
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert_eq!(names, ["d.png", "e.png"]);
    // Another check or two: nothing is fetched again.
    until(&rx, "a later check", |e| {
        checked(e).is_some_and(|w| w.last_new == 0)
    });
    for name in ["a", "b", "c", "d", "e"] {
        assert_eq!(site.requests(&format!("/img/{name}.png")), 1, "{name}.png");
    }
    assert_eq!(
        site.requests("/img/left-out.png"),
        0,
        "what the user left out stays out"
    );
    assert!(site.requests("/thread.html") >= 3);
    engine.shutdown();
}

#[test]
fn a_watch_survives_a_restart_backs_off_while_the_page_fails_and_stops_when_asked() {
    let site = Site::start(&["a.png"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let interval = Duration::from_millis(300);
    {
        let (engine, rx) = start(tmp.path());
        engine.watch(&site.page(), interval, &[]).expect("watch");
        until(&rx, "the watch", |e| matches!(e, Event::Watched(_)));
        engine.shutdown();
    }
    *site.status.lock().expect("status") = 503;
    // A new engine on the folder: the watch is there, and is checked.
    let (engine, rx) = start(tmp.path());
    let events = until(&rx, "the stored watch", |e| matches!(e, Event::Watched(_)));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Watched(w) if w.page == site.page()))
    );
    let mut failures = Vec::new();
    until(&rx, "two failed checks", |e| {
        if let Some(w) = checked(e).filter(|w| w.failures > 0) {
            failures.push(w.clone());
        }
        failures.len() == 2
    });
    for (n, w) in failures.iter().enumerate() {
        let failures = n as u32 + 1;
        assert_eq!(w.failures, failures);
        assert!(
            w.last_error.as_deref().is_some_and(|e| e.contains("503")),
            "{w:?}"
        );
        // Waits double: 2×, then 4× the interval (give or take a tenth).
        let wait = (w.next_check - w.last_check.expect("checked")) as f64;
        let nominal = interval.as_millis() as f64 * f64::from(1u32 << failures);
        assert!(
            (nominal * 0.89..=nominal * 1.11).contains(&wait),
            "failure {failures}: waits {wait} ms, not about {nominal}"
        );
    }
    // Stopped: no further check reads the page.
    engine.unwatch(&site.page()).expect("unwatch");
    until(&rx, "the unwatch", |e| matches!(e, Event::Unwatched { .. }));
    let reads = site.requests("/thread.html");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(site.requests("/thread.html"), reads);
    engine.shutdown();
}

#[test]
fn an_image_that_failed_and_is_still_on_the_page_is_tried_again() {
    let site = Site::start(&["a.png", "late.png"]);
    // late.png is named on the page but not up yet.
    site.missing
        .lock()
        .expect("missing")
        .push("/img/late.png".to_string());
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = start(tmp.path());
    let found = engine.find_images(&site.page()).expect("page");
    let urls: Vec<url::Url> = found.candidates.iter().map(|c| c.url.clone()).collect();
    engine
        .add_from(urls.clone(), Some(&found.page))
        .expect("add");
    let mut settled = 0;
    until(&rx, "the first round", |e| {
        settled += usize::from(matches!(e, Event::Done { .. } | Event::Failed { .. }));
        settled == 2
    });
    assert_eq!(site.requests("/img/a.png"), 1);
    engine
        .watch(&site.page(), Duration::from_millis(200), &urls)
        .expect("watch");
    // It is put up; the next check tries it again.
    site.missing.lock().expect("missing").clear();
    until(
        &rx,
        "late.png downloaded",
        |e| matches!(e, Event::Done { info, .. } if info.path.ends_with("late.png")),
    );
    assert_eq!(
        site.requests("/img/a.png"),
        1,
        "what is done is not fetched again"
    );
    engine.shutdown();
}
