//! Queue control and the library: pause/resume with Range, retry, move to top, limits
//! changed while running, duplicates, and everything restored by the next engine.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use pixgrab_engine::{Command, Config, Engine, Event, ItemId};
use pixgrab_testsite::loopback::{Behaviour, Request, Response, Server};
use url::Url;

/// Every request the server saw, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Request>>>);

impl Log {
    fn push(&self, req: &Request) {
        if let Ok(mut log) = self.0.lock() {
            log.push(req.clone());
        }
    }

    fn requests(&self, path: &str) -> Vec<Request> {
        self.0
            .lock()
            .map(|log| log.iter().filter(|r| r.path == path).cloned().collect())
            .unwrap_or_default()
    }
}

/// Serves `/big.png` (ranged, with an ETag; slow while `slow` is set), `/img/N.png`,
/// `/same-a.png` and `/same-b.png` (identical bytes) and `/missing.png` (404 until
/// `fixed` is set).
struct Site {
    server: Server,
    log: Log,
    big: Arc<[u8]>,
    slow: Arc<AtomicBool>,
    fixed: Arc<AtomicBool>,
}

fn site() -> Site {
    let big: Arc<[u8]> = Arc::from(support::jpeg(900, 700, 3));
    let small: Vec<Arc<[u8]>> = (0..8).map(|n| Arc::from(support::png(40, 30, n))).collect();
    let log = Log::default();
    let slow = Arc::new(AtomicBool::new(true));
    let fixed = Arc::new(AtomicBool::new(false));
    let (b, l, sl, fx) = (big.clone(), log.clone(), slow.clone(), fixed.clone());
    let server = Server::start(move |req| {
        l.push(req);
        let path = req.path.as_str();
        if path == "/big.png" {
            let response = Response::ranged(req, "image/jpeg", &b, "\"big-v1\"");
            return if sl.load(Ordering::SeqCst) {
                response.behaving(Behaviour::Slow {
                    chunk: 4096,
                    delay: Duration::from_millis(15),
                })
            } else {
                response
            };
        }
        if path == "/same-a.png" || path == "/same-b.png" {
            return Response::ok("image/png", small[7].clone());
        }
        if path == "/missing.png" {
            return if fx.load(Ordering::SeqCst) {
                Response::ok("image/png", small[6].clone())
            } else {
                Response::status(404)
            };
        }
        match path
            .strip_prefix("/img/")
            .and_then(|p| p.strip_suffix(".png"))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) if n < 6 => Response::ok("image/png", small[n].clone()),
            _ => Response::status(404),
        }
    })
    .expect("server");
    Site {
        server,
        log,
        big,
        slow,
        fixed,
    }
}

impl Site {
    fn url(&self, path: &str) -> Url {
        Url::parse(&self.server.url(path)).expect("url")
    }
}

fn config(dir: &Path) -> Config {
    let mut config = Config::new(dir);
    config.retry_base = Duration::from_millis(5);
    config
}

/// Waits for the first event that `want` accepts; fails the test after 30 s.
fn wait_for<T>(rx: &Receiver<Event>, mut want: impl FnMut(&Event) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(event) => {
                if let Some(found) = want(&event) {
                    return found;
                }
            }
            Err(e) => panic!("the awaited event did not come: {e}"),
        }
    }
}

fn part_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    names.sort();
    names
}

#[test]
fn pausing_keeps_the_part_and_resuming_continues_it_with_range() {
    let site = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let ids = engine
        .run(Command::add([site.url("/big.png")]))
        .expect("add");
    wait_for(&rx, |e| match e {
        Event::Progress { bytes, .. } if *bytes > 0 => Some(()),
        _ => None,
    });
    engine.run(Command::Pause(ids.clone())).expect("pause");
    let kept = wait_for(&rx, |e| match e {
        Event::ItemPaused { bytes, .. } => Some(*bytes),
        _ => None,
    });
    assert!(kept > 0, "a paused download keeps what arrived");
    // Nothing else is queued: a paused item leaves the engine idle.
    wait_for(&rx, |e| matches!(e, Event::Idle).then_some(()));
    assert_eq!(part_files(tmp.path()), ["big.jpg.part"]);
    let on_disk = fs::metadata(tmp.path().join("big.jpg.part"))
        .expect("part")
        .len();
    assert_eq!(on_disk, kept);

    site.slow.store(false, Ordering::SeqCst);
    engine.run(Command::Resume(ids.clone())).expect("resume");
    let events = support::until_idle(&rx, Duration::from_secs(30));
    assert!(matches!(events.first(), Some(Event::Requeued { .. })));
    let requests = site.log.requests("/big.png");
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].header("range"),
        Some(format!("bytes={kept}-").as_str())
    );
    assert_eq!(requests[1].header("if-range"), Some("\"big-v1\""));
    assert_eq!(
        fs::read(tmp.path().join("big.jpg")).expect("file"),
        &site.big[..]
    );
    assert!(part_files(tmp.path()).is_empty());
}

#[test]
fn a_waiting_item_can_be_paused_moved_to_the_top_and_cancelled() {
    let site = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path());
    cfg.jobs = 1;
    let (engine, rx) = Engine::start(cfg).expect("start");
    // One worker: /big.png holds it while the rest wait.
    let ids = engine
        .run(Command::add(
            ["/big.png", "/img/0.png", "/img/1.png", "/img/2.png"].map(|p| site.url(p)),
        ))
        .expect("add");
    wait_for(&rx, |e| matches!(e, Event::Started { .. }).then_some(()));
    engine.run(Command::Pause(vec![ids[1]])).expect("pause");
    engine.run(Command::MoveToTop(vec![ids[3]])).expect("top");
    engine.run(Command::Cancel(vec![ids[2]])).expect("cancel");
    site.slow.store(false, Ordering::SeqCst);
    let events = support::until_idle(&rx, Duration::from_secs(30));
    let done_order: Vec<ItemId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Done { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(
        done_order,
        [ids[0], ids[3]],
        "img/2 moved ahead; img/0 held; img/1 cancelled"
    );
    assert!(
        site.log.requests("/img/0.png").is_empty(),
        "a paused item never starts"
    );
    assert!(
        site.log.requests("/img/1.png").is_empty(),
        "a cancelled item never starts"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ItemPaused { id, bytes: 0 } if *id == ids[1]))
    );

    engine.run(Command::Resume(vec![ids[1]])).expect("resume");
    let events = support::until_idle(&rx, Duration::from_secs(30));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Done { id, .. } if *id == ids[1]))
    );
}

#[test]
fn raising_the_limits_while_running_lets_more_downloads_run_at_once() {
    let gate = Arc::new(AtomicBool::new(false));
    let g = gate.clone();
    let body: Arc<[u8]> = Arc::from(support::png(40, 30, 1));
    let server = Server::start(move |_| {
        // Hold every response until the test opens the gate.
        while !g.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Response::ok("image/png", body.clone())
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path());
    cfg.jobs = 1;
    cfg.per_host = Some(1);
    let (engine, rx) = Engine::start(cfg).expect("start");
    engine
        .run(Command::add((0..6).map(|n| {
            Url::parse(&server.url(&format!("/{n}.png"))).expect("url")
        })))
        .expect("add");
    let wait_in_flight = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.stats().in_flight.load(Ordering::SeqCst) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        server.stats().in_flight.load(Ordering::SeqCst)
    };
    assert_eq!(wait_in_flight(1), 1);
    engine.set_limits(4, Some(3)).expect("limits");
    // Per host 3 now caps it (all six share one host).
    assert_eq!(wait_in_flight(3), 3);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.stats().in_flight.load(Ordering::SeqCst), 3);
    gate.store(true, Ordering::SeqCst);
    support::until_idle(&rx, Duration::from_secs(30));
    assert_eq!(server.stats().max_in_flight.load(Ordering::SeqCst), 3);
}

#[test]
fn the_next_engine_restores_the_library_without_downloading_again() {
    let site = site();
    site.slow.store(false, Ordering::SeqCst);
    let tmp = tempfile::tempdir().expect("tempdir");
    let urls = [
        "/img/0.png",
        "/img/1.png",
        "/missing.png",
        "/same-a.png",
        "/same-b.png",
    ]
    .map(|p| site.url(p));
    let first_ids = {
        let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
        let ids = engine.run(Command::add(urls.clone())).expect("add");
        let events = support::until_idle(&rx, Duration::from_secs(30));
        let dup = events.iter().find_map(|e| match e {
            Event::Done { id, info } if info.duplicate_of.is_some() => Some((*id, info.clone())),
            _ => None,
        });
        let (dup_id, info) = dup.expect("one of the identical files is a duplicate");
        assert!(dup_id == ids[3] || dup_id == ids[4]);
        assert!(info.path.ends_with("same-a.png") || info.path.ends_with("same-b.png"));
        engine.shutdown();
        ids
    };
    let stored: Vec<String> = {
        let mut names: Vec<String> = fs::read_dir(tmp.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    };
    assert_eq!(stored.len(), 3, "identical bytes stored once: {stored:?}");
    let requests_before = site.log.0.lock().map(|l| l.len()).expect("log");

    // A second engine on the same folder: everything comes back, nothing is fetched.
    let (engine, rx) = Engine::start(config(tmp.path())).expect("restart");
    let mut state: HashMap<ItemId, String> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.values().filter(|s| s.as_str() != "queued").count() < 5 && Instant::now() < deadline
    {
        if let Ok(event) = rx.recv_timeout(Duration::from_millis(100)) {
            match event {
                Event::Queued { id, .. } => {
                    state.insert(id, "queued".into());
                }
                Event::Done { id, info } => {
                    assert!(info.restored);
                    state.insert(id, "done".into());
                }
                Event::Failed { id, reason } => {
                    state.insert(id, reason.to_string());
                }
                _ => {}
            }
        }
    }
    assert_eq!(state.get(&first_ids[0]).map(String::as_str), Some("done"));
    assert_eq!(
        state.get(&first_ids[2]).map(String::as_str),
        Some("HTTP 404 Not Found"),
        "a failure keeps its reason"
    );
    // The restored done items' thumbnails come from the cache, then the engine is idle.
    support::until_idle(&rx, Duration::from_secs(30));
    // Adding the same URLs again: done ones stay done, the failed one is tried again.
    site.fixed.store(true, Ordering::SeqCst);
    let again = engine.run(Command::add(urls)).expect("add");
    assert_eq!(again, first_ids, "a URL is one item across runs");
    support::until_idle(&rx, Duration::from_secs(30));
    let log = site.log.0.lock().expect("log");
    let new: Vec<&str> = log[requests_before..]
        .iter()
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        new,
        ["/missing.png"],
        "only the failed item was requested again"
    );
    drop(log);
    assert!(tmp.path().join("missing.png").is_file());

    let records = engine.records().expect("records");
    assert!(
        records
            .iter()
            .all(|r| r.state == pixgrab_engine::ItemState::Done)
    );
    let csv = pixgrab_engine::to_csv(&records);
    assert_eq!(csv.lines().count(), 6, "a header and five items");
    assert_eq!(pixgrab_engine::import_urls(&csv).map(|u| u.len()), Some(5));
}

#[test]
fn a_second_engine_on_a_folder_in_use_is_refused_with_a_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_engine, _rx) = Engine::start(config(tmp.path())).expect("start");
    let second = Engine::start(config(tmp.path()));
    let message = second.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("in use by another Pixgrab"), "{message}");
}

#[test]
fn a_bandwidth_limit_holds_the_overall_rate() {
    let site = site();
    site.slow.store(false, Ordering::SeqCst);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path());
    let rate = 400_000;
    cfg.bandwidth = rate;
    let (engine, rx) = Engine::start(cfg).expect("start");
    let start = Instant::now();
    engine
        .run(Command::add([site.url("/big.png")]))
        .expect("add");
    support::until_idle(&rx, Duration::from_secs(60));
    let elapsed = start.elapsed().as_secs_f64();
    // A lower bound only (the machine may be slower, never faster than the limit).
    let least = site.big.len() as f64 / rate as f64;
    assert!(
        elapsed >= least * 0.9,
        "{} bytes in {elapsed:.2} s is faster than {rate} B/s",
        site.big.len()
    );
    assert_eq!(
        fs::read(tmp.path().join("big.jpg")).expect("file"),
        &site.big[..]
    );
}

#[test]
fn an_add_the_library_cannot_write_hands_every_url_back_as_given() {
    // The add fails inside the library (a trigger refuses every new item): the engine
    // names the URLs in its `CommandFailed`, in order, an inline image as the `data:`
    // URL it was given (not the short form the library would have kept): none is lost.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, _rx) = Engine::start(config(tmp.path())).expect("start");
    engine.shutdown();
    let db = rusqlite::Connection::open(tmp.path().join(".pixgrab").join("library.db"))
        .expect("library");
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON items BEGIN SELECT RAISE(ABORT, 'no room for items'); END",
    )
    .expect("trigger");
    drop(db);
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start again");
    let png = support::png(4, 4, 7);
    let given = vec![
        Url::parse("http://127.0.0.1:9/a.jpg").expect("url"),
        Url::parse(&format!("data:image/png;base64,{}", support::base64(&png))).expect("url"),
        Url::parse("http://127.0.0.1:9/b.jpg").expect("url"),
    ];
    engine.send(Command::add(given.clone()));
    let (reason, urls) = wait_for(&rx, |e| match e {
        Event::CommandFailed { reason, urls } => Some((reason.clone(), urls.clone())),
        _ => None,
    });
    assert!(reason.contains("items"), "{reason}");
    assert_eq!(urls, given);
}
