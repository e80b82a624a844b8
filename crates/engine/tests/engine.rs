//! The engine against a real local HTTP server: files on disk, events and reasons.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use pixgrab_engine::{Command, Config, Engine, Event, ItemId};
use pixgrab_testsite::loopback::{Behaviour, Response, Server};
use support::{site, until_idle};
use url::Url;

const LIMIT: Duration = Duration::from_secs(60);

/// Defaults, with retries that back off in milliseconds instead of seconds.
/// The tests whose assertions follow from timing (adaptive limits) run one at a time,
/// so that the other tests of this file do not load the machine under them.
static TIMED: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds [`TIMED`] (a test that failed while holding it does not poison the others).
fn timed() -> std::sync::MutexGuard<'static, ()> {
    TIMED.lock().unwrap_or_else(|p| p.into_inner())
}

fn config(dir: &Path) -> Config {
    let mut config = Config::new(dir);
    config.retry_base = Duration::from_millis(5);
    config
}

fn urls(server: &Server, paths: &[&str]) -> Vec<Url> {
    paths
        .iter()
        .map(|p| Url::parse(&server.url(p)).expect("url"))
        .collect()
}

/// The URLs of `/p0.png` to `/p{n-1}.png` on `server`.
fn numbered(server: &Server, n: usize) -> Vec<Url> {
    let list: Vec<String> = (0..n).map(|i| format!("/p{i}.png")).collect();
    let refs: Vec<&str> = list.iter().map(String::as_str).collect();
    urls(server, &refs)
}

/// Files in the output folder (not Pixgrab's own data), by name.
fn files(dir: &Path) -> HashMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("read out dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).expect("read file"))
        })
        .collect()
}

fn fetch_body(_server: &Server, path: &str) -> Vec<u8> {
    support::body(path)
}

fn failures(events: &[Event]) -> HashMap<ItemId, String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Failed { id, reason } => Some((*id, reason.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn images_land_under_their_names_with_exact_bytes_and_thumbnails() {
    let _timed = timed();
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(&tmp.path().join("out"))).expect("start");
    let paths = [
        "/img/0.png",
        "/img/1.png",
        "/img/2.png",
        "/photo.jpg",
        "/go",
    ];
    let ids = engine
        .run(Command::add(urls(&server, &paths)))
        .expect("add");
    let events = until_idle(&rx, LIMIT);

    let on_disk = files(engine.out_dir());
    for (path, name) in [
        ("/img/0.png", "0.png"),
        ("/img/1.png", "1.png"),
        ("/img/2.png", "2.png"),
        ("/photo.jpg", "photo.jpg"),
    ] {
        assert_eq!(
            on_disk.get(name),
            Some(&fetch_body(&server, path)),
            "{name}"
        );
    }
    // The redirect ends at /img/1.png: the same bytes, recognised as a duplicate and
    // stored once.
    assert_eq!(on_disk.len(), 4, "{:?}", on_disk.keys());

    let done: HashMap<ItemId, _> = events
        .iter()
        .filter_map(|e| match e {
            Event::Done { id, info } => Some((*id, info.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 5);
    let (direct, redirected) = (&done[&ids[1]], &done[&ids[4]]);
    assert!(
        direct.duplicate_of == Some(ids[4]) || redirected.duplicate_of == Some(ids[1]),
        "one of the two identical downloads points to the other"
    );
    assert_eq!(direct.path, redirected.path);
    assert_eq!(done[&ids[3]].dimensions, Some((800, 600)));
    assert_eq!(done[&ids[0]].dimensions, Some((64, 48)));
    assert_eq!(done[&ids[3]].content_type.as_deref(), Some("image/jpeg"));

    let thumbs: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Thumbnail { id, thumb, .. } => Some((*id, thumb.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(thumbs.len(), 5);
    let photo_thumb = &thumbs
        .iter()
        .find(|(id, _)| *id == ids[3])
        .expect("photo thumb")
        .1;
    assert_eq!((photo_thumb.width, photo_thumb.height), (256, 192));
    assert_eq!(photo_thumb.rgba.len(), 256 * 192 * 4);

    // Each item's thumbnail comes after its Done, and Idle comes last.
    for id in &ids {
        let done_at = events
            .iter()
            .position(|e| matches!(e, Event::Done { id: i, .. } if i == id));
        let thumb_at = events
            .iter()
            .position(|e| matches!(e, Event::Thumbnail { id: i, .. } if i == id));
        assert!(done_at < thumb_at, "{id:?}");
    }
    assert!(matches!(events.last(), Some(Event::Idle)));

    // Thumbnails are cached under .pixgrab/thumbs, one per distinct content.
    let cached = fs::read_dir(engine.out_dir().join(".pixgrab/thumbs"))
        .expect("cache dir")
        .count();
    assert_eq!(cached, 4);
}

#[test]
fn every_failure_has_a_reason_and_leaves_no_file() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let paths = ["/missing.jpg", "/boom.jpg", "/short.jpg", "/login.jpg"];
    let ids = engine
        .run(Command::add(urls(&server, &paths)))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    let failed = failures(&events);
    assert_eq!(failed[&ids[0]], "HTTP 404 Not Found");
    assert_eq!(failed[&ids[1]], "HTTP 500 Internal Server Error");
    assert!(
        failed[&ids[2]].starts_with("truncated: got "),
        "{}",
        failed[&ids[2]]
    );
    assert_eq!(
        failed[&ids[3]],
        "not an image (got HTML, served as image/jpeg): \
         the site may want a Referer or cookies for 127.0.0.1"
    );
    assert!(
        files(engine.out_dir()).is_empty(),
        "{:?}",
        files(engine.out_dir()).keys()
    );

    // Nothing at all is left but Pixgrab's own (empty) cache folder.
    let entries: Vec<_> = fs::read_dir(engine.out_dir())
        .expect("read")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(entries, [".pixgrab"]);
}

#[test]
fn a_stalled_transfer_fails_but_a_slow_moving_one_finishes() {
    let _timed = timed();
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.stall_timeout = Duration::from_millis(500);
    let (engine, rx) = Engine::start(config).expect("start");
    // slow.png sends a piece every 150 ms: slower than nothing, faster than the watchdog.
    let ids = engine
        .run(Command::add(urls(&server, &["/stall.png", "/slow.png"])))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    let failed = failures(&events);
    assert_eq!(
        failed.get(&ids[0]).map(String::as_str),
        Some("stalled 0.5 s")
    );
    assert!(!failed.contains_key(&ids[1]), "{failed:?}");
    assert_eq!(
        files(engine.out_dir()).get("slow.png"),
        Some(&fetch_body(&server, "/slow.png"))
    );
}

#[test]
fn existing_files_are_never_overwritten() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("cat.png"), b"mine").expect("write");
    let mut config = config(tmp.path());
    config.sync_files = true; // the --fsync path publishes the same way
    let (engine, rx) = Engine::start(config).expect("start");
    engine
        .run(Command::add(urls(&server, &["/a/cat.png"])))
        .expect("add");
    until_idle(&rx, LIMIT);
    engine
        .run(Command::add(urls(&server, &["/b/cat.png"])))
        .expect("add");
    until_idle(&rx, LIMIT);
    let on_disk = files(engine.out_dir());
    assert_eq!(on_disk["cat.png"], b"mine");
    assert_eq!(on_disk["cat (2).png"], fetch_body(&server, "/a/cat.png"));
    assert_eq!(on_disk["cat (3).png"], fetch_body(&server, "/b/cat.png"));
}

#[test]
fn per_host_limit_caps_parallel_requests() {
    let server = Server::start(move |req| {
        // Distinct bytes per path (identical ones would be stored once).
        let seed = req.path.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        Response::ok("image/png", support::png(10, 10, seed)).behaving(Behaviour::Slow {
            chunk: 50,
            delay: Duration::from_millis(40),
        })
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.jobs = 8;
    config.per_host = Some(2);
    let (engine, rx) = Engine::start(config).expect("start");
    engine.run(Command::add(numbered(&server, 8))).expect("add");
    let events = until_idle(&rx, LIMIT);
    assert!(failures(&events).is_empty());
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 2);
    assert_eq!(files(engine.out_dir()).len(), 8);
}

#[test]
fn cancelling_stops_queued_and_running_items_and_keeps_nothing() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.jobs = 1;
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine
        .run(Command::add(urls(&server, &["/hang.png", "/img/7.png"])))
        .expect("add");
    // Wait until the first one is running, then cancel both.
    loop {
        match rx.recv_timeout(LIMIT).expect("event") {
            Event::Started { id, .. } if id == ids[0] => break,
            _ => {}
        }
    }
    engine.run(Command::Cancel(vec![ids[1]])).expect("cancel");
    engine.run(Command::Cancel(vec![ids[0]])).expect("cancel");
    let events = until_idle(&rx, LIMIT);
    let cancelled: Vec<ItemId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Cancelled { id } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(cancelled, [ids[1], ids[0]]);
    assert!(files(engine.out_dir()).is_empty());
}

#[test]
fn an_unusable_output_folder_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("not-a-folder");
    fs::write(&file, b"x").expect("write");
    let err = Engine::start(Config::new(&file)).expect_err("must fail");
    assert!(
        err.to_string().starts_with("cannot use output folder"),
        "{err}"
    );
}

/// Issue #14's politeness test: a server that refuses (429 with `Retry-After: 1`, at
/// once, as rate limiters do) whenever more than four of its requests are in flight,
/// and takes 30 ms over each
/// one it serves. The adaptive limit grows past four, is refused, and settles at four:
/// the refusals come from that one probe (no more than one doubling's worth), no URL is
/// refused twice, nothing fails.
#[test]
fn the_adaptive_limit_settles_where_the_server_refuses() {
    let _timed = timed();
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    const ALLOWED: usize = 4;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let (count, log) = (in_flight.clone(), refused.clone());
    let server = Server::start(move |req| {
        let now = count.fetch_add(1, Ordering::SeqCst) + 1;
        let response = if now > ALLOWED {
            if let Ok(mut log) = log.lock() {
                log.push(req.path.clone());
            }
            Response::status(429).with_header("Retry-After", "1")
        } else {
            std::thread::sleep(Duration::from_millis(30));
            Response::ok("image/png", support::numbered_png(&req.path))
        };
        count.fetch_sub(1, Ordering::SeqCst);
        response
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = config(tmp.path());
    assert_eq!(config.per_host, None, "adaptive by default");
    let (engine, rx) = Engine::start(config).expect("start");
    engine
        .run(Command::add(numbered(&server, 80)))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    assert!(failures(&events).is_empty(), "{:?}", failures(&events));
    assert_eq!(files(engine.out_dir()).len(), 80);
    let limits: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            Event::HostLimit { limit, .. } => Some(*limit),
            _ => None,
        })
        .collect();
    assert_eq!(
        limits.last(),
        Some(&ALLOWED),
        "limits over the run: {limits:?}"
    );
    let mut refused = refused.lock().expect("log").clone();
    assert!(!refused.is_empty(), "the limit never probed past {ALLOWED}");
    // One overshoot of slow start at most (the limit at most doubles before the first
    // refusal comes back).
    assert!(
        refused.len() <= ALLOWED * 2,
        "{} refusals (limits {limits:?}): {refused:?}",
        refused.len()
    );
    refused.sort();
    let all = refused.len();
    refused.dedup();
    assert_eq!(refused.len(), all, "a URL refused twice");
}

/// Over HTTP/1.1 the adaptive limit grows from four while a host answers quickly, but
/// never past the hard cap of 16 connections.
#[test]
fn the_adaptive_limit_grows_on_a_quick_host_up_to_the_cap() {
    let _timed = timed();
    let server = Server::start(move |req| {
        std::thread::sleep(Duration::from_millis(20));
        Response::ok("image/png", support::numbered_png(&req.path))
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    engine
        .run(Command::add(numbered(&server, 300)))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    assert!(failures(&events).is_empty());
    assert_eq!(files(engine.out_dir()).len(), 300);
    let most = server.stats().max_in_flight.load(Ordering::SeqCst);
    assert!(most > 8, "it grew: at most {most} at once");
    assert!(most <= 16, "never past the cap: {most} at once");
}

/// Delete in the gallery: the file goes to the trash (a folder here, never the user's),
/// the item is removed by the user, a reopened library does not bring it back and
/// adding its URL again fetches nothing.
#[test]
fn a_trashed_item_is_gone_and_never_fetched_again() {
    let server = support::site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let trash = tmp.path().join("trash");
    let out = tmp.path().join("out");
    let mut cfg = config(&out);
    cfg.trash_dir = Some(trash.clone());
    let (engine, rx) = Engine::start(cfg.clone()).expect("start");
    let list = urls(&server, &["/img/1.png", "/img/2.png"]);
    let ids = engine.run(Command::add(list.clone())).expect("add");
    until_idle(&rx, LIMIT);
    engine
        .run(Command::Trash(ids[..1].to_vec()))
        .expect("trash");
    let removed: Vec<Event> = rx.try_iter().collect();
    assert!(
        removed
            .iter()
            .any(|e| matches!(e, Event::Removed { id, kept_file: false } if *id == ids[0])),
        "{removed:?}"
    );
    assert!(!out.join("1.png").exists());
    assert!(trash.join("1.png").is_file(), "the file is in the trash");
    assert!(out.join("2.png").is_file());
    // Trashing it again, or an item that is not done, does nothing.
    engine
        .run(Command::Trash(ids[..1].to_vec()))
        .expect("again");
    engine.shutdown();

    let requests = server.stats().requests.load(Ordering::SeqCst);
    let (engine, rx) = Engine::start(cfg).expect("reopen");
    let events = until_idle(&rx, LIMIT);
    let queued: Vec<ItemId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Queued { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(queued, [ids[1]], "the removed item does not come back");
    let again = engine.run(Command::add(list)).expect("add again");
    assert_eq!(again, ids);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.stats().requests.load(Ordering::SeqCst),
        requests,
        "a removed item is not fetched again"
    );
}

/// A receiver that falls behind (a window busy taking 100,000 new rows) does not make
/// thumbnails pile up in the channel: once more than 256 events wait, a thumbnail
/// comes as its cache file and size only, so at most 256 pictures' pixels ever wait.
#[test]
fn thumbnails_for_a_receiver_that_is_behind_wait_in_the_cache_not_in_the_channel() {
    let server = Server::start(|req| Response::ok("image/png", support::numbered_png(&req.path)))
        .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    engine
        .run(Command::add(numbered(&server, 600)))
        .expect("add");
    // Nobody reads while the work goes on.
    let deadline = std::time::Instant::now() + LIMIT;
    while !engine.is_idle() {
        assert!(
            std::time::Instant::now() < deadline,
            "not idle in {LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let events = until_idle(&rx, LIMIT);
    assert!(failures(&events).is_empty(), "{:?}", failures(&events));
    let with_pixels = events
        .iter()
        .filter(|e| matches!(e, Event::Thumbnail { .. }))
        .count();
    let cached: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::ThumbnailCached {
                width,
                height,
                cached,
                ..
            } => Some(((*width, *height), cached.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(with_pixels + cached.len(), 600, "a thumbnail each");
    assert!(
        with_pixels <= 256,
        "{with_pixels} thumbnails waited with their pixels"
    );
    assert!(!cached.is_empty());
    for ((width, height), path) in &cached {
        let path = path.as_ref().expect("a cache file");
        assert!(path.is_file(), "{} is no file", path.display());
        // numbered_png: 8 pixels wide, 8 and up high.
        assert!(*width == 8 && *height >= 8, "{width}x{height}");
    }
}
