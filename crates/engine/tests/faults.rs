//! Hostile servers, bad files and broken networks: every fault ends in a clear result,
//! nothing is lost, and nothing is written where it must not be. Each test starts a
//! fault-injecting server on 127.0.0.1 and asserts the files on disk and the reasons.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pixgrab_engine::{Command, Config, Engine, Event, ItemId};
use pixgrab_testsite::loopback::{Behaviour, Request, Response, Server};
use support::{config, failure, until_idle, url};
use url::Url;

const LIMIT: Duration = Duration::from_secs(60);

/// Every request the server saw, with when it arrived.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(Instant, Request)>>>);

impl Log {
    fn push(&self, req: &Request) {
        if let Ok(mut log) = self.0.lock() {
            log.push((Instant::now(), req.clone()));
        }
    }
    fn requests(&self, path: &str) -> Vec<(Instant, Request)> {
        self.0
            .lock()
            .map(|log| {
                log.iter()
                    .filter(|(_, r)| r.path == path)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Runs the engine on `urls` and returns the events and the output folder.
fn run(config: Config, urls: Vec<Url>) -> (Vec<Event>, Vec<ItemId>, PathBuf) {
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine.run(Command::add(urls)).expect("add");
    let events = until_idle(&rx, LIMIT);
    let out = engine.out_dir().to_path_buf();
    engine.shutdown();
    (events, ids, out)
}

fn done_path(events: &[Event], id: ItemId) -> Option<PathBuf> {
    events.iter().find_map(|e| match e {
        Event::Done { id: i, info } if *i == id => Some(info.path.clone()),
        _ => None,
    })
}

fn retries(events: &[Event], id: ItemId) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { id: i, reason, .. } if *i == id => Some(reason.to_string()),
            _ => None,
        })
        .collect()
}

/// Every regular file below `dir` (recursively), relative names.
fn all_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read dir").filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(
                    path.strip_prefix(dir)
                        .expect("inside")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    found.sort();
    found
}

fn image_files(dir: &Path) -> Vec<String> {
    all_files(dir)
        .into_iter()
        .filter(|f| !f.starts_with(".pixgrab"))
        .collect()
}

fn png() -> Arc<[u8]> {
    Arc::from(support::png(120, 80, 9))
}

// ---------------------------------------------------------------- retries

#[test]
fn server_errors_are_retried_until_the_server_recovers() {
    let body = png();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |_| match h.fetch_add(1, Ordering::SeqCst) {
        0 => Response::status(503),
        1 => Response::status(500),
        _ => Response::ok("image/png", body.clone()),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (events, ids, out) = run(config(tmp.path()), vec![url(&server, "/flaky.png")]);
    assert_eq!(
        retries(&events, ids[0]),
        [
            "HTTP 503 Service Unavailable",
            "HTTP 500 Internal Server Error"
        ]
    );
    assert!(done_path(&events, ids[0]).is_some());
    assert_eq!(fs::read(out.join("flaky.png")).expect("file"), &png()[..]);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[test]
fn client_errors_other_than_408_and_429_are_not_retried() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |req| {
        h.fetch_add(1, Ordering::SeqCst);
        match req.path.as_str() {
            "/forbidden.png" => Response::status(403),
            _ => Response::status(404),
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (events, ids, _) = run(
        config(tmp.path()),
        vec![url(&server, "/forbidden.png"), url(&server, "/missing.png")],
    );
    assert_eq!(
        failure(&events, ids[0]).as_deref(),
        Some(
            "HTTP 403 Forbidden: the server refused the request; try a Referer or cookies for 127.0.0.1"
        )
    );
    assert_eq!(
        failure(&events, ids[1]).as_deref(),
        Some("HTTP 404 Not Found")
    );
    assert!(retries(&events, ids[0]).is_empty());
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[test]
fn retries_give_up_after_the_limit_with_the_last_reason() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |_| {
        h.fetch_add(1, Ordering::SeqCst);
        Response::status(408)
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.retries = 2;
    let (events, ids, out) = run(config, vec![url(&server, "/slowpoke.png")]);
    assert_eq!(
        failure(&events, ids[0]).as_deref(),
        Some("HTTP 408 Request Timeout")
    );
    assert_eq!(retries(&events, ids[0]).len(), 2);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert!(image_files(&out).is_empty());
}

#[test]
fn retry_after_is_honoured_and_the_whole_host_cools_down() {
    let log = Log::default();
    let l = log.clone();
    let throttled = Arc::new(AtomicUsize::new(0));
    let t = throttled.clone();
    let server = Server::start(move |req| {
        l.push(req);
        if req.path == "/a.png" && t.fetch_add(1, Ordering::SeqCst) == 0 {
            return Response::status(429).with_header("Retry-After", "1");
        }
        Response::ok("image/png", png_for(&req.path))
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.jobs = 1;
    let (events, ids, out) = run(config, vec![url(&server, "/a.png"), url(&server, "/b.png")]);
    assert!(failure(&events, ids[0]).is_none() && failure(&events, ids[1]).is_none());
    assert_eq!(image_files(&out), ["a.png", "b.png"]);
    let refused = log.requests("/a.png")[0].0;
    let retried = log.requests("/a.png")[1].0;
    let other = log.requests("/b.png")[0].0;
    assert!(
        retried - refused >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured"
    );
    // The other item of the same host waited for the cool-down too.
    assert!(
        other - refused >= Duration::from_secs(1),
        "b.png was requested during the cool-down"
    );
}

#[test]
fn dropped_connections_and_stalls_are_retried() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Server::start(move |req| {
        let n = h.fetch_add(1, Ordering::SeqCst);
        match (req.path.as_str(), n) {
            ("/reset.png", 0) => {
                Response::ok("image/png", png_for(&req.path)).behaving(Behaviour::Drop)
            }
            ("/stall.png", _) if n < 3 => {
                Response::ok("image/png", png_for(&req.path)).behaving(Behaviour::Stall {
                    send: 100,
                    hold: Duration::from_secs(3),
                })
            }
            _ => Response::ok("image/png", png_for(&req.path)),
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.jobs = 1;
    config.stall_timeout = Duration::from_millis(300);
    let (events, ids, out) = run(
        config,
        vec![url(&server, "/reset.png"), url(&server, "/stall.png")],
    );
    assert_eq!(
        retries(&events, ids[0]).len(),
        1,
        "{:?}",
        retries(&events, ids[0])
    );
    assert!(
        retries(&events, ids[1])
            .iter()
            .all(|r| r == "stalled 0.3 s")
    );
    assert!(!retries(&events, ids[1]).is_empty());
    assert_eq!(image_files(&out), ["reset.png", "stall.png"]);
    assert_eq!(
        fs::read(out.join("stall.png")).expect("file"),
        &png_for("/stall.png")[..]
    );
}

// ---------------------------------------------------------------- resume

/// A server whose first answer for each path is cut after 1000 bytes.
fn cut_once_server(
    body: Arc<[u8]>,
    etag: Arc<Mutex<String>>,
    honour_range: bool,
    log: Log,
) -> Server {
    let first = Arc::new(AtomicUsize::new(0));
    Server::start(move |req| {
        log.push(req);
        let tag = etag.lock().map(|t| t.clone()).unwrap_or_default();
        if first.fetch_add(1, Ordering::SeqCst) == 0 {
            return Response::ok("image/png", body.clone())
                .with_header("ETag", &tag)
                .behaving(Behaviour::Truncate { send: 1000 });
        }
        if honour_range {
            Response::ranged(req, "image/png", &body, &tag)
        } else {
            Response::ok("image/png", body.clone()).with_header("ETag", &tag)
        }
    })
    .expect("server")
}

/// A PNG whose bytes differ per path (identical bytes would be stored only once).
fn png_for(path: &str) -> Arc<[u8]> {
    let seed = path
        .bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b));
    Arc::from(support::png(120, 80, seed))
}

fn big_png() -> Arc<[u8]> {
    Arc::from(support::jpeg(400, 300, 3))
}

#[test]
fn a_cut_transfer_resumes_with_range_and_if_range() {
    let body = big_png();
    let log = Log::default();
    let server = cut_once_server(
        body.clone(),
        Arc::new(Mutex::new("\"v1\"".into())),
        true,
        log.clone(),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let (events, ids, out) = run(config(tmp.path()), vec![url(&server, "/big.jpg")]);
    assert!(
        retries(&events, ids[0])[0].starts_with("truncated: got 1000 B"),
        "{:?}",
        retries(&events, ids[0])
    );
    let second = &log.requests("/big.jpg")[1].1;
    assert_eq!(second.header("range"), Some("bytes=1000-"));
    assert_eq!(second.header("if-range"), Some("\"v1\""));
    let done = events.iter().find_map(|e| match e {
        Event::Done { info, .. } => Some(info.clone()),
        _ => None,
    });
    assert_eq!(fs::read(out.join("big.jpg")).expect("file"), &body[..]);
    assert_eq!(done.map(|d| d.bytes), Some(body.len() as u64));
    assert_eq!(image_files(&out), ["big.jpg"], "no .part left behind");
}

#[test]
fn a_server_that_ignores_range_restarts_cleanly_from_zero() {
    let body = big_png();
    let log = Log::default();
    let server = cut_once_server(
        body.clone(),
        Arc::new(Mutex::new("\"v1\"".into())),
        false,
        log.clone(),
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_, _, out) = run(config(tmp.path()), vec![url(&server, "/big.jpg")]);
    assert_eq!(
        log.requests("/big.jpg")[1].1.header("range"),
        Some("bytes=1000-")
    );
    assert_eq!(fs::read(out.join("big.jpg")).expect("file"), &body[..]);
}

#[test]
fn a_changed_file_is_fetched_whole_again() {
    // The file changes between attempts: If-Range no longer matches, so the server
    // sends the new file whole (200) and the old part is thrown away.
    let old = big_png();
    let new: Arc<[u8]> = Arc::from(support::jpeg(300, 200, 8));
    let etag = Arc::new(Mutex::new("\"old\"".to_string()));
    let log = Log::default();
    let (o, n, t, l) = (old.clone(), new.clone(), etag.clone(), log.clone());
    let first = Arc::new(AtomicUsize::new(0));
    let server = Server::start(move |req| {
        l.push(req);
        if first.fetch_add(1, Ordering::SeqCst) == 0 {
            if let Ok(mut tag) = t.lock() {
                *tag = "\"new\"".into();
            }
            return Response::ok("image/jpeg", o.clone())
                .with_header("ETag", "\"old\"")
                .behaving(Behaviour::Truncate { send: 1000 });
        }
        Response::ranged(req, "image/jpeg", &n, "\"new\"")
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_, _, out) = run(config(tmp.path()), vec![url(&server, "/changing.jpg")]);
    assert_eq!(
        log.requests("/changing.jpg")[1].1.header("if-range"),
        Some("\"old\"")
    );
    assert_eq!(fs::read(out.join("changing.jpg")).expect("file"), &new[..]);
    assert_eq!(image_files(&out), ["changing.jpg"]);
}

// ---------------------------------------------------------------- redirects

#[test]
fn redirect_loops_and_redirects_to_other_schemes_fail_with_a_reason() {
    let server = Server::start(|req| match req.path.as_str() {
        "/to-ftp" => Response::redirect("ftp://127.0.0.1/x.png"),
        p => {
            let n: u32 = p.trim_start_matches("/hop").parse().unwrap_or(0);
            Response::redirect(&format!("/hop{}", n + 1))
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (events, ids, out) = run(
        config(tmp.path()),
        vec![url(&server, "/hop0"), url(&server, "/to-ftp")],
    );
    assert_eq!(
        failure(&events, ids[0]).as_deref(),
        Some("bad redirect: more than 10 redirects")
    );
    let ftp = failure(&events, ids[1]).unwrap_or_default();
    assert!(ftp.starts_with("bad redirect"), "{ftp}");
    assert!(image_files(&out).is_empty());
}

#[test]
fn credentials_are_not_carried_to_another_host_on_redirect() {
    let body = png();
    let log = Log::default();
    let l = log.clone();
    let target = Server::start(move |req| {
        l.push(req);
        Response::ok("image/png", body.clone())
    })
    .expect("target");
    // Same machine, different host name: "localhost" instead of "127.0.0.1".
    let elsewhere = format!("http://localhost:{}/moved.png", target.addr().port());
    let first_log = Log::default();
    let fl = first_log.clone();
    let first = Server::start(move |req| {
        fl.push(req);
        Response::redirect(&elsewhere)
    })
    .expect("first");
    let tmp = tempfile::tempdir().expect("tempdir");
    let with_user = format!(
        "http://user:secret@127.0.0.1:{}/start.png",
        first.addr().port()
    );
    let (events, ids, out) = run(
        config(tmp.path()),
        vec![Url::parse(&with_user).expect("url")],
    );
    assert!(done_path(&events, ids[0]).is_some(), "{events:?}");
    // The credentials went to the host they were given for, and no further.
    let asked = &first_log.requests("/start.png")[0].1;
    assert!(
        asked
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))
    );
    let seen = &log.requests("/moved.png")[0].1;
    assert_eq!(seen.header("authorization"), None);
    assert_eq!(image_files(&out), ["moved.png"]);
}

// ---------------------------------------------------------------- size caps

#[test]
fn size_caps_apply_to_announced_and_to_received_bytes() {
    let body = big_png();
    let server = Server::start(move |req| match req.path.as_str() {
        "/announced.jpg" => Response::ok("image/jpeg", body.clone()),
        _ => Response::ok("image/jpeg", body.clone()).behaving(Behaviour::NoLength),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.max_bytes = 4096;
    let (events, ids, out) = run(
        config,
        vec![
            url(&server, "/announced.jpg"),
            url(&server, "/unannounced.jpg"),
        ],
    );
    assert_eq!(
        failure(&events, ids[0]).as_deref(),
        Some("too large: over 4.0 KiB")
    );
    assert_eq!(
        failure(&events, ids[1]).as_deref(),
        Some("too large: over 4.0 KiB")
    );
    assert!(image_files(&out).is_empty(), "{:?}", image_files(&out));
}

// ---------------------------------------------------------------- names and paths

#[test]
fn neither_the_url_nor_content_disposition_can_escape_the_folder() {
    let server = Server::start(move |req| {
        let response = Response::ok("image/png", png_for(&req.path));
        match req.path.as_str() {
            "/cd-traversal" => response.with_header(
                "Content-Disposition",
                "attachment; filename=\"../../escaped.png\"",
            ),
            "/cd-absolute" => response.with_header(
                "Content-Disposition",
                "attachment; filename=\"/etc/cron.d/evil.png\"",
            ),
            "/cd-utf8" => response.with_header(
                "Content-Disposition",
                "attachment; filename=\"plain.png\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.png",
            ),
            "/cd-windows" => response.with_header(
                "Content-Disposition",
                "attachment; filename=\"..\\\\..\\\\win.png\"",
            ),
            _ => response,
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let paths = [
        "/cd-traversal",
        "/cd-absolute",
        "/cd-utf8",
        "/cd-windows",
        "/a/%2e%2e%2f%2e%2e%2fdotdot.png",
        "/a/..%5C..%5Cbackslash.png",
        "/CON",
        "/trailing.%20.",
        "/rtl%E2%80%AEgnp.exe",
    ];
    let urls = paths.iter().map(|p| url(&server, p)).collect();
    let (events, _, out) = run(config(&out_dir), urls);
    assert!(
        events.iter().all(|e| !matches!(e, Event::Failed { .. })),
        "{events:?}"
    );
    // Nothing outside the output folder...
    let outside: Vec<String> = all_files(tmp.path())
        .into_iter()
        .filter(|f| !f.starts_with("out/"))
        .collect();
    assert!(outside.is_empty(), "{outside:?}");
    // ...and inside it, only safe names.
    let mut names = image_files(&out);
    names.sort();
    assert_eq!(
        names,
        [
            "_CON.png",
            "backslash.png",
            "dotdot.png",
            "escaped.png",
            "evil.png",
            "rtl_gnp.exe.png",
            "trailing.png",
            "win.png",
            "東京.png",
        ]
    );
}

#[test]
fn a_png_served_as_jpg_is_saved_as_png() {
    let body = png();
    let server = Server::start(move |_| Response::ok("image/jpeg", body.clone())).expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_, _, out) = run(config(tmp.path()), vec![url(&server, "/photo.jpg")]);
    assert_eq!(image_files(&out), ["photo.png"]);
}

// ---------------------------------------------------------------- disk trouble

#[test]
fn an_unwritable_folder_pauses_every_item_and_resume_finishes_them() {
    let server =
        Server::start(move |req| Response::ok("image/png", png_for(&req.path))).expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("out");
    let mut config = config(&out_dir);
    config.jobs = 1;
    let (engine, rx) = Engine::start(config).expect("start");
    // The folder disappears under us (unmounted drive, deleted by the user...).
    fs::remove_dir_all(&out_dir).expect("remove");
    let ids = engine
        .run(Command::add(
            (0..3).map(|n| url(&server, &format!("/{n}.png"))),
        ))
        .expect("add");
    let mut paused = None;
    let deadline = Instant::now() + LIMIT;
    while paused.is_none() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Event::Paused { reason }) => paused = Some(reason),
            Ok(Event::Failed { id, reason }) => panic!("{id:?} failed: {reason}"),
            Ok(_) => {}
            Err(e) => panic!("no pause: {e}"),
        }
    }
    assert!(
        paused
            .unwrap_or_default()
            .starts_with("could not write to the output folder")
    );
    // Every item waits, the first one too; nothing fails while paused.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        rx.try_iter()
            .all(|e| !matches!(e, Event::Failed { .. } | Event::Done { .. }))
    );
    fs::create_dir_all(&out_dir).expect("recreate");
    engine.run(Command::ResumeAll).expect("resume all");
    let events = until_idle(&rx, LIMIT);
    let done = events
        .iter()
        .filter(|e| matches!(e, Event::Done { .. }))
        .count();
    assert_eq!(done, 3, "{ids:?}: {events:#?}");
    assert_eq!(image_files(&out_dir), ["0.png", "1.png", "2.png"]);
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    // A port that nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.retries = 1;
    let target = Url::parse(&format!("http://127.0.0.1:{port}/nobody.png")).expect("url");
    let (events, ids, out) = run(config, vec![target]);
    let reason = failure(&events, ids[0]).unwrap_or_default();
    assert!(reason.starts_with("could not connect: "), "{reason}");
    assert!(reason.to_ascii_lowercase().contains("refused"), "{reason}");
    assert_eq!(retries(&events, ids[0]).len(), 1);
    assert!(image_files(&out).is_empty());
}
