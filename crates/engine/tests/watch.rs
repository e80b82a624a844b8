//! Watched pages (issue #16): a page that gains two images between checks gets exactly
//! those two downloaded (and never one the user left out when watching began); a failing page backs off; watches survive a restart; a page no
//! longer watched is not read again. Intervals are milliseconds here through
//! `Config::min_watch_interval` (a minute at least for users).

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use pixgrab_engine::{Command, Engine, EngineHandle, Event, Watch};
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
            let png = Response::ok("image/png", support::png(20, 16, seed));
            if req.path.contains("slow-") {
                // Slow enough to be cancelled on the way.
                return png.behaving(pixgrab_testsite::loopback::Behaviour::Slow {
                    chunk: 16,
                    delay: Duration::from_millis(200),
                });
            }
            png
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
    let found = engine.finder().find_images(&site.page()).expect("page");
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
    engine
        .run(Command::add_from(first, &found.page))
        .expect("add");
    let mut done = 0;
    until(&rx, "the first three", |e| {
        done += usize::from(matches!(e, Event::Done { .. }));
        done == 3
    });
    engine
        .run(Command::watch(
            &site.page(),
            Duration::from_millis(200),
            &shown,
        ))
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
        engine
            .run(Command::watch(&site.page(), interval, &[]))
            .expect("watch");
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
    engine.run(Command::Unwatch(site.page())).expect("unwatch");
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
    let found = engine.finder().find_images(&site.page()).expect("page");
    let urls: Vec<url::Url> = found.candidates.iter().map(|c| c.url.clone()).collect();
    engine
        .run(Command::add_from(urls.clone(), &found.page))
        .expect("add");
    let mut settled = 0;
    until(&rx, "the first round", |e| {
        settled += usize::from(matches!(e, Event::Done { .. } | Event::Failed { .. }));
        settled == 2
    });
    assert_eq!(site.requests("/img/a.png"), 1);
    engine
        .run(Command::watch(
            &site.page(),
            Duration::from_millis(200),
            &urls,
        ))
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

/// A gallery whose every image address carries a fresh signature at each visit.
fn resigning_site(count: usize) -> (Server, Arc<Mutex<usize>>) {
    let visits: Arc<Mutex<usize>> = Arc::default();
    let v = visits.clone();
    let server = Server::start(move |req| {
        if req.path == "/thread.html" {
            let mut visits = v.lock().expect("visits");
            *visits += 1;
            let tags: String = (0..count)
                .map(|n| format!("<img src=\"/p{n}.png?sig={}\">\n", *visits))
                .collect();
            return Response::ok("text/html", tags.into_bytes());
        }
        let path = req.path.split('?').next().unwrap_or_default();
        Response::ok("image/png", support::numbered_png(path))
    })
    .expect("server");
    (server, visits)
}

fn images_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .expect("folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count()
}

/// Issue 23, item 6: a page whose image addresses are signed anew at each visit looks
/// all new at every check; the watch pauses at the first such check, queueing nothing,
/// and is not read again until resumed.
#[test]
fn a_page_that_re_signs_its_images_pauses_its_watch_instead_of_growing() {
    let (server, visits) = resigning_site(30);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = start(tmp.path());
    let page = url(&server, "/thread.html");
    let found = engine.finder().find_images(&page).expect("page");
    let shown: Vec<url::Url> = found.candidates.iter().map(|c| c.url.clone()).collect();
    engine
        .run(Command::add_from(shown.clone(), &found.page))
        .expect("add");
    let mut done = 0;
    until(&rx, "the first 30", |e| {
        done += usize::from(matches!(e, Event::Done { .. }));
        done == 30
    });
    engine
        .run(Command::watch(&page, Duration::from_millis(100), &shown))
        .expect("watch");
    let events = until(&rx, "a paused watch", |e| {
        checked(e).is_some_and(|w| w.paused.is_some())
    });
    let mut queued = events
        .iter()
        .filter(|e| matches!(e, Event::Queued { .. }))
        .count();
    let watch = events.iter().find_map(checked).expect("checked");
    assert_eq!(watch.last_new, 0);
    let reason = watch.paused.clone().unwrap_or_default();
    assert!(reason.contains("change at every visit"), "{reason}");
    let reads = *visits.lock().expect("visits");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        *visits.lock().expect("visits"),
        reads,
        "a paused watch is not read"
    );
    queued += rx
        .try_iter()
        .filter(|e| matches!(e, Event::Queued { .. }))
        .count();
    engine.shutdown();
    assert_eq!(queued, 0, "no item was added for the re-signed addresses");
    assert_eq!(images_in(tmp.path()), 30, "nothing more was saved");
}

/// Issue 23, item 6: a check queues at most `per_check` new images and a watch at most
/// `per_watch`; either pauses the watch with a plain reason, and what was left waits
/// for the user to resume it.
#[test]
fn a_watch_queues_within_its_caps_and_pauses_when_one_is_hit() {
    let site = Site::start(&["a.png"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.run_watches = true;
    config.min_watch_interval = Duration::from_millis(50);
    config.watch_caps = pixgrab_engine::WatchCaps {
        per_check: 10,
        per_watch: 11,
        retries: 3,
    };
    let (engine, rx) = Engine::start(config).expect("engine");
    let page = site.page();
    let a = url(&site.server, "/img/a.png");
    engine
        .run(Command::watch(&page, Duration::from_millis(100), &[a]))
        .expect("watch");
    let gain = |from: usize, count: usize| {
        site.images
            .lock()
            .expect("images")
            .extend((from..from + count).map(|n| format!("n{n}.png")));
    };
    let done = std::cell::Cell::new(0);
    let count_done =
        |e: &Event| done.set(done.get() + usize::from(matches!(e, Event::Done { .. })));
    let paused = |what: &str| {
        let events = until(&rx, what, |e| {
            count_done(e);
            checked(e).is_some_and(|w| w.paused.is_some())
        });
        events
            .iter()
            .rev()
            .find_map(checked)
            .cloned()
            .expect("checked")
    };
    gain(0, 12);
    let first = paused("a pause at 12 new");
    assert_eq!(first.last_new, 10);
    let reason = first.paused.clone().unwrap_or_default();
    assert!(
        reason.contains("12 new images at once (more than 10)"),
        "{reason}"
    );
    // Resumed: the two that waited come, then twelve more hit the watch's own cap.
    engine
        .run(Command::watch(&page, Duration::from_millis(100), &[]))
        .expect("resume");
    until(&rx, "the two that waited", |e| {
        count_done(e);
        checked(e).is_some_and(|w| w.last_new == 2)
    });
    gain(12, 12);
    let second = paused("a pause at the watch's cap");
    assert_eq!(second.last_new, 9);
    let reason = second.paused.clone().unwrap_or_default();
    assert!(reason.contains("queued 11 images"), "{reason}");
    if done.get() < 21 {
        until_settled(&rx, 21 - done.get());
    }
    std::thread::sleep(Duration::from_millis(300));
    let more: usize = rx
        .try_iter()
        .filter(|e| matches!(e, Event::Done { .. }))
        .count();
    engine.shutdown();
    assert_eq!(done.get().max(21) + more, 21, "10 + 2 + 9 downloads");
}

/// Waits until `count` items are done or failed (counting from now).
fn until_settled(rx: &Receiver<Event>, count: usize) {
    let mut settled = 0;
    let _ = until(rx, "the downloads", |e| {
        settled += usize::from(matches!(e, Event::Done { .. } | Event::Failed { .. }));
        settled >= count
    });
}

/// Issue 23, item 6: an image the user cancelled is never queued again by a watch, and
/// one that keeps failing is tried again only `retries` times.
#[test]
fn a_watch_never_requeues_what_was_cancelled_and_retries_failures_a_few_times() {
    let site = Site::start(&["gone.png", "slow-stop.png"]);
    site.missing
        .lock()
        .expect("missing")
        .push("/img/gone.png".to_string());
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.run_watches = true;
    config.min_watch_interval = Duration::from_millis(50);
    config.watch_caps.retries = 2;
    let (engine, rx) = Engine::start(config).expect("engine");
    let gone = url(&site.server, "/img/gone.png");
    let stop = url(&site.server, "/img/slow-stop.png");
    let ids = engine.run(Command::add([gone.clone()])).expect("add");
    until_settled(&rx, 1);
    // The user queues stop.png paused and cancels it.
    let stopped = engine.run(Command::add([stop.clone()])).expect("add");
    until(&rx, "its download under way", |e| {
        matches!(e, Event::Started { .. })
    });
    engine
        .run(Command::Cancel(vec![stopped[0]]))
        .expect("cancel");
    engine
        .run(Command::watch(
            &site.page(),
            Duration::from_millis(60),
            &[gone, stop],
        ))
        .expect("watch");
    let mut checks = 0;
    until(&rx, "eight checks", |e| {
        checks += usize::from(checked(e).is_some());
        checks == 8
    });
    engine.shutdown();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        site.requests("/img/gone.png"),
        1 + 2,
        "once, then twice again"
    );
    assert_eq!(
        site.requests("/img/slow-stop.png"),
        1,
        "cancelled stays cancelled"
    );
}

/// Issue 23, item 5: a watched page that sends a byte every half second does not hold
/// up the other watched pages: their new images come while it is still being read.
#[test]
fn a_slow_watched_page_does_not_hold_up_the_others() {
    use pixgrab_testsite::loopback::Behaviour;
    let slow = Server::start(|_| {
        Response::ok("text/html", vec![b' '; 4000]).behaving(Behaviour::Slow {
            chunk: 1,
            delay: Duration::from_millis(500),
        })
    })
    .expect("slow server");
    let site = Site::start(&["a.png"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.run_watches = true;
    config.min_watch_interval = Duration::from_millis(50);
    config.page_deadline = Duration::from_secs(20);
    let (engine, rx) = Engine::start(config).expect("engine");
    let slow_page = url(&slow, "/slow.html");
    engine
        .run(Command::watch(&slow_page, Duration::from_millis(50), &[]))
        .expect("watch slow");
    std::thread::sleep(Duration::from_millis(300));
    let a = url(&site.server, "/img/a.png");
    engine
        .run(Command::watch(
            &site.page(),
            Duration::from_millis(100),
            &[a],
        ))
        .expect("watch site");
    site.images.lock().expect("images").push("new.png".into());
    let events = until(&rx, "new.png, or the slow page's check", |e| {
        matches!(e, Event::Done { .. }) || checked(e).is_some_and(|w| w.page == slow_page)
    });
    engine.shutdown();
    assert!(
        matches!(events.last(), Some(Event::Done { info, .. }) if info.path.ends_with("new.png")),
        "the slow page's check ended first: {events:#?}"
    );
}

/// Issue 23, item 10: a watch stored under a page address not in normal form (by hand,
/// or an older version) is read like any other and can be removed.
#[test]
fn a_watch_stored_in_another_form_of_its_address_is_checked_and_removable() {
    let site = Site::start(&["a.png"]);
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let (engine, _rx) = start(tmp.path());
        engine.shutdown();
    }
    let raw = site.page().as_str().replace("http://", "HTTP://");
    let db = tmp.path().join(".pixgrab").join("library.db");
    let conn = rusqlite::Connection::open(&db).expect("library");
    conn.execute(
        "INSERT INTO watches (page, interval_ms, next_check) VALUES (?1, 100, 0)",
        [&raw],
    )
    .expect("raw watch");
    drop(conn);
    let (engine, rx) = start(tmp.path());
    until(&rx, "a check of the stored watch", |e| {
        checked(e).is_some_and(|w| w.page == site.page())
    });
    assert!(site.requests("/thread.html") >= 1);
    engine.run(Command::Unwatch(site.page())).expect("unwatch");
    until(&rx, "the unwatch", |e| matches!(e, Event::Unwatched { .. }));
    engine.shutdown();
    let (engine, rx) = start(tmp.path());
    std::thread::sleep(Duration::from_millis(300));
    let events: Vec<Event> = rx.try_iter().collect();
    engine.shutdown();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Watched(_))),
        "the watch is gone: {events:#?}"
    );
}
