//! Trust (issue #11): no hostile server, page or full disk can hang a run, leak a
//! secret or lose a file. Each test reproduces one failure seen against a local server
//! and asserts what the user now gets. Timeouts here are hang guards only.

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pixgrab_engine::PrivateRule;
use pixgrab_engine::Want;
use pixgrab_engine::{Command as EngineCommand, Config, Engine, Event, ItemId};
use pixgrab_testsite::loopback::{Behaviour, Request, Response, Server};
use support::{config, failure, until_idle, url};
use url::Url;

const LIMIT: Duration = Duration::from_secs(90);

fn retries(events: &[Event], id: ItemId) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Retrying { id: i, .. } if *i == id))
        .count()
}

fn done(events: &[Event], id: ItemId) -> Option<pixgrab_engine::DoneInfo> {
    events.iter().find_map(|e| match e {
        Event::Done { id: i, info } if *i == id => Some((**info).clone()),
        _ => None,
    })
}

/// Runs `pixgrab ARGS`, killing it after `limit` (a hang guard: the test then fails).
fn pixgrab(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pixgrab");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "pixgrab {args:?} still running after {limit:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

// ------------------------------------------------------------------ 1. one header

const ABSURD_DATE: &str = "Sun, 06 Nov 300000000000 08:49:37 GMT";

#[test]
fn a_retry_after_in_the_year_300000000000_fails_the_item_at_once() {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let server = Server::start(move |_| {
        seen.fetch_add(1, Ordering::Relaxed);
        Response::status(503).with_header("Retry-After", ABSURD_DATE)
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.jobs = 1;
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine
        .run(EngineCommand::add([
            url(&server, "/a.png"),
            url(&server, "/b.png"),
        ]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    for id in ids {
        let reason = failure(&events, id).expect("failed");
        assert!(
            reason.starts_with("HTTP 503 Service Unavailable: the server asks to retry in 9.")
                && reason.ends_with("e18 s, more than the 5 min Pixgrab waits"),
            "{reason}"
        );
        assert_eq!(
            retries(&events, id),
            0,
            "a wait of 300 billion years is not retried"
        );
    }
    assert_eq!(hits.load(Ordering::Relaxed), 2, "one request per item");
}

#[test]
fn the_cli_ends_with_exit_one_on_an_absurd_retry_after() {
    let server = Server::start(|_| Response::status(503).with_header("Retry-After", ABSURD_DATE))
        .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let urls: Vec<String> = (0..9).map(|n| server.url(&format!("/{n}.png"))).collect();
    let mut args = vec!["get", "-o", tmp.path().to_str().expect("utf8"), "-j", "8"];
    args.extend(urls.iter().map(String::as_str));
    let out = pixgrab(&args, LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("9 failed"), "{stderr}");
    assert!(
        stderr.contains("more than the 5 min Pixgrab waits"),
        "{stderr}"
    );
}

#[test]
fn a_panic_in_a_job_fails_that_item_and_the_run_finishes() {
    let server = support::site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    // One worker and one slot: the run only finishes if the panicking job freed both.
    config.jobs = 1;
    config.per_host = Some(1);
    config.fault_hook = Some(Arc::new(|url: &Url| {
        if url.path() == "/img/1.png" {
            panic!("injected fault");
        }
    }));
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine
        .run(EngineCommand::add([
            url(&server, "/img/0.png"),
            url(&server, "/img/1.png"),
            url(&server, "/img/2.png"),
        ]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    assert!(done(&events, ids[0]).is_some());
    assert_eq!(
        failure(&events, ids[1]).as_deref(),
        Some("internal error: injected fault")
    );
    assert!(
        done(&events, ids[2]).is_some(),
        "the item after the panic ran"
    );
}

// ------------------------------------------------------------------ 2. patterns

#[test]
fn a_pattern_of_2_to_the_128_is_refused_at_once_with_exit_2() {
    let pattern = format!("http://x/{}", "{a,b}".repeat(128));
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = pixgrab(
        &["get", "-o", tmp.path().to_str().expect("utf8"), &pattern],
        LIMIT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("more than 10^38 URLs"), "{stderr}");
}

#[test]
fn one_input_expands_to_at_most_100000_urls() {
    // Eleven patterns of 10,000 (each under the per-pattern cap): 110,000 in one file.
    let eleven: String = (0..11)
        .map(|n| format!("http://a.test/{n}/[1-10000].jpg\n"))
        .collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let list = tmp.path().join("list.txt");
    std::fs::write(&list, &eleven).expect("list");
    let out = pixgrab(
        &[
            "get",
            "-o",
            tmp.path().join("out").to_str().expect("utf8"),
            "-i",
            list.to_str().expect("utf8"),
        ],
        LIMIT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds 110000 URLs"), "{stderr}");
    assert!(
        !tmp.path().join("out").exists(),
        "refused before anything started"
    );
    // Six patterns per input: two such inputs are fine, one input with twelve is not.
    let six: String = (0..6)
        .map(|n| format!("http://b.test/{n}/[1-10000].jpg\n"))
        .collect();
    let mut intake = pixgrab_engine::Intake::default();
    intake.add_text(&six);
    intake.add_text(&six.replace("b.test", "c.test"));
    assert_eq!(intake.check_limit(), Ok(()));
    assert_eq!(intake.urls.len(), 120_000);
    let mut intake = pixgrab_engine::Intake::default();
    intake.add_text(&format!("{six}{}", six.replace("b.test", "c.test")));
    let refused = intake.check_limit().expect_err("over");
    assert!(refused.contains("over the limit of 100000"), "{refused}");
    assert!(intake.urls.len() <= 100_000);
}

// ------------------------------------------------------------------ 3, 4. secrets

type Seen = Arc<Mutex<Vec<(String, String, HashMap<String, String>)>>>;

fn recording(name: &'static str, seen: &Seen, page_html: Option<String>) -> Server {
    let seen = seen.clone();
    Server::start(move |req: &Request| {
        let mut headers = HashMap::new();
        for h in ["cookie", "referer", "x-token"] {
            if let Some(v) = req.header(h) {
                headers.insert(h.to_string(), v.to_string());
            }
        }
        if let Ok(mut s) = seen.lock() {
            s.push((name.to_string(), req.path.clone(), headers));
        }
        match (&page_html, req.path.starts_with("/page")) {
            (Some(html), true) => Response::ok("text/html", html.clone().into_bytes()),
            _ => {
                let seed = req.path.bytes().map(u32::from).sum::<u32>() as u8;
                Response::ok("image/png", support::png(20, 20, seed))
            }
        }
    })
    .expect("server")
}

fn seen_path(seen: &Seen, server: &str, path: &str) -> HashMap<String, String> {
    seen.lock()
        .expect("seen")
        .iter()
        .find(|(s, p, _)| s == server && p == path)
        .map(|(_, _, h)| h.clone())
        .unwrap_or_else(|| panic!("{server} never saw {path}"))
}

#[test]
fn typed_secrets_stay_with_typed_hosts_and_the_referer_is_only_an_origin_elsewhere() {
    let seen: Seen = Arc::default();
    let third = recording("third", &seen, None);
    let html = format!(
        r#"<img src="/mine.png"><img src="http://localhost:{}/theirs.png">"#,
        third.addr().port()
    );
    let site = recording("site", &seen, Some(html));
    let tmp = tempfile::tempdir().expect("tempdir");
    let cookies = tmp.path().join("cookies.txt");
    std::fs::write(&cookies, "127.0.0.1\tFALSE\t/\tFALSE\t0\tjar\tj1\n").expect("cookies");
    let page = format!("{}?token=s3cret#frag", site.url("/page.html"));
    let out = pixgrab(
        &[
            "get",
            "-o",
            tmp.path().join("out").to_str().expect("utf8"),
            "--page",
            &page,
            "-H",
            "Cookie: sid=typed",
            "-H",
            "X-Token: t1",
            "--cookies",
            cookies.to_str().expect("utf8"),
        ],
        LIMIT,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine = seen_path(&seen, "site", "/mine.png");
    assert_eq!(mine.get("x-token").map(String::as_str), Some("t1"));
    assert!(mine.get("cookie").is_some_and(|c| c.contains("sid=typed")));
    // Same origin: the full page URL, without its fragment.
    assert_eq!(
        mine.get("referer").map(String::as_str),
        Some(format!("{}?token=s3cret", site.url("/page.html")).as_str())
    );
    let theirs = seen_path(&seen, "third", "/theirs.png");
    assert_eq!(theirs.get("cookie"), None, "{theirs:?}");
    assert_eq!(theirs.get("x-token"), None, "{theirs:?}");
    assert_eq!(
        theirs.get("referer").map(String::as_str),
        Some(format!("http://127.0.0.1:{}/", site.addr().port()).as_str()),
        "cross-origin: the origin only, never the query"
    );
}

#[test]
fn a_host_profile_follows_a_redirect_to_a_subdomain_but_not_to_a_lookalike() {
    let seen: Seen = Arc::default();
    let target = recording("target", &seen, None);
    let port = target.addr().port();
    let hop = Server::start(move |req: &Request| {
        let to = if req.path == "/to-sub" {
            "a.example.test"
        } else {
            "evilexample.test"
        };
        Response::redirect(&format!("http://{to}:{port}/landed{}.png", req.path))
    })
    .expect("hop");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    config.resolve = vec![
        ("example.test".into(), at(hop.addr().port())),
        ("a.example.test".into(), at(port)),
        ("evilexample.test".into(), at(port)),
    ];
    config.profiles.hosts.insert(
        "example.test".into(),
        pixgrab_engine::Profile {
            headers: vec![("X-Token".into(), "secret".into())],
            ..Default::default()
        },
    );
    let hop_port = hop.addr().port();
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine
        .run(EngineCommand::add([
            Url::parse(&format!("http://example.test:{hop_port}/to-sub")).expect("url"),
            Url::parse(&format!("http://example.test:{hop_port}/to-evil")).expect("url"),
        ]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    assert!(
        ids.iter().all(|id| done(&events, *id).is_some()),
        "{events:#?}"
    );
    let sub = seen_path(&seen, "target", "/landed/to-sub.png");
    assert_eq!(sub.get("x-token").map(String::as_str), Some("secret"));
    let evil = seen_path(&seen, "target", "/landed/to-evil.png");
    assert_eq!(evil.get("x-token"), None);
}

// ------------------------------------------------------------------ 5. private addresses

#[test]
fn a_page_cannot_make_pixgrab_request_private_addresses_it_is_not_on() {
    let seen: Seen = Arc::default();
    let html = r#"<img src="/inside.png"><img src="/inside2.png">
        <img src="http://169.254.169.254/latest/meta-data/x.png">"#;
    let site = recording("site", &seen, Some(html.to_string()));
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    // The test site is on loopback, so the default rule (a private page may name private
    // hosts) would allow everything: the strict rule exercises the refusal itself.
    config.private = PrivateRule::Deny;
    let (engine, rx) = Engine::start(config).expect("start");
    let page = url(&site, "/page.html");
    let found = engine
        .finder()
        .find_images(&page)
        .expect("the typed page is read");
    let (final_url, candidates) = (found.page, found.candidates);
    let urls: Vec<Url> = candidates.into_iter().map(|c| c.url).collect();
    assert_eq!(urls.len(), 3);
    let wanted: Vec<(Url, Want)> = urls.iter().map(|u| (u.clone(), Want::Preview)).collect();
    let probes = engine.finder().probe(&wanted, Some(&final_url), &|_, _| {});
    assert!(
        probes.iter().all(|p| p.pixels.is_none()
            && p.bytes.is_none()
            && p.error
                .as_deref()
                .is_some_and(|e| e.starts_with("refused: "))),
        "no probe went out: {probes:?}"
    );
    let ids = engine
        .run(EngineCommand::add_from(urls.clone(), &final_url))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    for id in &ids {
        let reason = failure(&events, *id).expect("refused");
        assert!(reason.starts_with("refused: "), "{reason}");
        assert!(reason.contains("--allow-private"), "{reason}");
        assert_eq!(retries(&events, *id), 0);
    }
    let requests: Vec<String> = seen
        .lock()
        .expect("seen")
        .iter()
        .map(|(_, p, _)| p.clone())
        .collect();
    assert_eq!(
        requests,
        ["/page.html"],
        "only the typed page was requested"
    );
    // Typed by the user, the same URL is the user's own request and goes through.
    let typed = engine
        .run(EngineCommand::add([urls[0].clone()]))
        .expect("add");
    assert_eq!(typed, ids[..1]);
    let events = until_idle(&rx, LIMIT);
    assert!(done(&events, ids[0]).is_some(), "{events:#?}");
    // Allowed by the user: an item from the page goes through too.
    engine.set_private_rule(PrivateRule::Allow);
    engine
        .run(EngineCommand::Retry(ids[1..2].to_vec()))
        .expect("retry");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    assert!(done(&events, ids[1]).is_some());
}

// ------------------------------------------------------------------ 6. de-duplication

#[test]
fn a_duplicate_of_a_deleted_file_is_kept() {
    let cat: Arc<[u8]> = Arc::from(support::png(30, 20, 1));
    let server = Server::start(move |_| Response::ok("image/png", cat.clone())).expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let first = engine
        .run(EngineCommand::add([url(&server, "/a/cat.png")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    let path = done(&events, first[0]).expect("done").path;
    std::fs::remove_file(&path).expect("the user deletes it");
    let second = engine
        .run(EngineCommand::add([url(&server, "/b/cat.png")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    let info = done(&events, second[0]).expect("done");
    assert_eq!(info.duplicate_of, None, "nothing on disk holds these bytes");
    assert!(
        info.path.is_file(),
        "the only copy is kept: {:?}",
        info.path
    );

    // A file that is there but was changed since is no duplicate either.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let first = engine
        .run(EngineCommand::add([url(&server, "/a/cat.png")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    let path = done(&events, first[0]).expect("done").path;
    std::fs::write(&path, b"edited by the user").expect("edit");
    let second = engine
        .run(EngineCommand::add([url(&server, "/b/cat.png")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    let info = done(&events, second[0]).expect("done");
    assert_eq!(info.duplicate_of, None);
    assert!(info.path.is_file() && info.path != path);
}

// ------------------------------------------------------------------ 8. stalls

#[test]
fn a_server_that_never_answers_costs_two_stalled_attempts() {
    let server = Server::start(|_| {
        Response::ok("image/png", Vec::new()).behaving(Behaviour::Silent {
            hold: Duration::from_secs(20),
        })
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.stall_timeout = Duration::from_millis(300);
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine
        .run(EngineCommand::add([url(&server, "/never.png")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    assert_eq!(failure(&events, ids[0]).as_deref(), Some("stalled 0.3 s"));
    assert_eq!(
        retries(&events, ids[0]),
        1,
        "a stall is retried once, not four times"
    );
    assert_eq!(server.stats().requests.load(Ordering::Relaxed), 2);
    // The defaults bound a stalled URL well under 45 s: two attempts of 15 s.
    let defaults = Config::new(tmp.path());
    let worst = defaults.stall_timeout * (defaults.stall_retries + 1) + Duration::from_secs(2);
    assert!(worst <= Duration::from_secs(45), "{worst:?}");
}

// ------------------------------------------------------------------ 9. compression

#[test]
fn compressed_images_are_decoded_and_a_bomb_stops_at_the_cap() {
    let png = support::png(64, 64, 3);
    let gzip = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&png).expect("gzip");
        e.finish().expect("gzip")
    };
    let deflate = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&png).expect("deflate");
        e.finish().expect("deflate")
    };
    let br = {
        let mut out = Vec::new();
        let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        e.write_all(&png).expect("br");
        drop(e);
        out
    };
    let zstd = zstd::encode_all(&png[..], 3).expect("zstd");
    let bomb = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // A real PNG signature first, so the body is judged an image and streams on.
        e.write_all(&png).expect("bomb");
        e.write_all(&vec![0u8; 64 << 20]).expect("bomb");
        e.finish().expect("bomb")
    };
    assert!(bomb.len() < 100_000);
    let bodies: HashMap<&'static str, (&'static str, Vec<u8>)> = HashMap::from([
        ("/gzip.png", ("gzip", gzip)),
        ("/deflate.png", ("deflate", deflate)),
        ("/br.png", ("br", br)),
        ("/zstd.png", ("zstd", zstd)),
        ("/bomb.png", ("gzip", bomb)),
    ]);
    let server = Server::start(move |req| match bodies.get(req.path.as_str()) {
        Some((encoding, body)) => {
            Response::ok("image/png", body.clone()).with_header("Content-Encoding", encoding)
        }
        None => Response::status(404),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.max_bytes = 1 << 20;
    let (engine, rx) = Engine::start(config).expect("start");
    let paths = [
        "/gzip.png",
        "/deflate.png",
        "/br.png",
        "/zstd.png",
        "/bomb.png",
    ];
    let ids = engine
        .run(EngineCommand::add(paths.iter().map(|p| url(&server, p))))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    for (id, path) in ids.iter().zip(paths).take(4) {
        let info = done(&events, *id).unwrap_or_else(|| panic!("{path}: {events:#?}"));
        assert_eq!(std::fs::read(&info.path).expect("read"), png, "{path}");
    }
    assert_eq!(
        failure(&events, ids[4]).as_deref(),
        Some("too large: over 1.0 MiB")
    );
}

// ------------------------------------------------------------------ 10. certificates

/// A TLS server on 127.0.0.1 for `localhost`, and the PEM of the CA behind it. With
/// `ca_as_server` the server shows the CA certificate itself; else a leaf the CA signed,
/// and every request gets a small PNG.
fn tls_server(accepted: Arc<AtomicUsize>, ca_as_server: bool) -> (SocketAddr, String) {
    let mut ca_params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let ca_pem = ca.pem();
    let (der, key) = if ca_as_server {
        (ca.der().clone(), ca_key)
    } else {
        let leaf_key = rcgen::KeyPair::generate().expect("key");
        let leaf_params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("leaf");
        (leaf.der().clone(), leaf_key)
    };
    let key_der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).expect("key");
    pixgrab_engine::install_tls_provider();
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![der], key_der)
        .expect("tls config");
    let server = Arc::new(server);
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let png = support::png(16, 16, 5);
    std::thread::Builder::new()
        .name("test-tls".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                accepted.fetch_add(1, Ordering::Relaxed);
                let Ok(conn) = rustls::ServerConnection::new(server.clone()) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                // Read the request head (or the end of a refused handshake), then answer.
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match std::io::Read::read(&mut tls, &mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                if head.ends_with(b"\r\n\r\n") {
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        png.len()
                    );
                    let _ = tls.write_all(reply.as_bytes());
                    let _ = tls.write_all(&png);
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            }
        })
        .expect("spawn");
    (addr, ca_pem)
}

#[test]
fn ssl_cert_file_adds_a_trusted_ca_and_a_ca_used_as_a_server_reads_plainly() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let get = |ca_as_server: bool, out: &str| {
        let (addr, ca_pem) = tls_server(Arc::default(), ca_as_server);
        let ca_file = tmp.path().join(format!("{out}-ca.pem"));
        std::fs::write(&ca_file, ca_pem).expect("ca");
        let out = tmp.path().join(out);
        let output = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
            .args(["get", "--json", "-o"])
            .arg(&out)
            .arg(format!("https://localhost:{}/a.png", addr.port()))
            .env("SSL_CERT_FILE", &ca_file)
            .output()
            .expect("run");
        (output, out)
    };
    let (output, out) = get(false, "trusted");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(out.join("a.png").is_file());
    // The case seen in the issue: the CA is trusted but the server shows it as its own.
    let (output, _) = get(true, "ca-as-server");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "the server's certificate is not trusted: it is a CA certificate used by a server"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("\"retrying\""), "{stdout}");
}

#[test]
fn an_untrusted_certificate_fails_at_once_in_plain_words() {
    let accepted = Arc::new(AtomicUsize::new(0));
    let (addr, _) = tls_server(accepted.clone(), true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let ids = engine
        .run(EngineCommand::add([Url::parse(&format!(
            "https://localhost:{}/a.png",
            addr.port()
        ))
        .expect("url")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    let reason = failure(&events, ids[0]).expect("failed");
    assert!(
        reason.starts_with("the server's certificate is not trusted: "),
        "{reason}"
    );
    assert!(!reason.contains("Other("), "{reason}");
    assert_eq!(
        retries(&events, ids[0]),
        0,
        "a certificate does not get better"
    );
    assert_eq!(accepted.load(Ordering::Relaxed), 1);
}

#[test]
fn certificate_errors_read_plainly() {
    use rustls::CertificateError as C;
    let reason = pixgrab_engine::certificate_reason;
    assert_eq!(reason(&C::Expired), "it has expired");
    assert_eq!(
        reason(&C::NotValidForName),
        "it was issued for another host name"
    );
    let ca = C::Other(rustls::OtherError(Arc::new(
        webpki_like_error::CaUsedAsEndEntity,
    )));
    assert_eq!(reason(&ca), "it is a CA certificate used by a server");
}

/// An error that prints like webpki's (rustls wraps it in `OtherError`).
mod webpki_like_error {
    #[derive(Debug)]
    pub(crate) struct CaUsedAsEndEntity;

    impl std::fmt::Display for CaUsedAsEndEntity {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "CaUsedAsEndEntity")
        }
    }

    impl std::error::Error for CaUsedAsEndEntity {}
}

// ------------------------------------------------------------------ 7. a full disk

/// A tmpfs of `size` mounted on a new temporary folder, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }

    fn grow(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_keeps_every_part_and_the_rerun_continues_them() {
    let Some(disk) = SmallDisk::mount("6m") else {
        eprintln!("skipped: mounting a small tmpfs needs root (this test runs in CI as root)");
        return;
    };
    // Three 3.5 MB Photoshop files (PSD signature, then noise: kept, no preview, so the
    // check before publishing has nothing to decode) with ETags and Range support.
    let photos: Vec<Arc<[u8]>> = (0..3u32)
        .map(|n| {
            let mut state = n.wrapping_mul(2_654_435_761) | 1;
            let mut body = b"8BPS\0\x01".to_vec();
            body.extend((0..3_500_000).map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            }));
            Arc::from(body)
        })
        .collect();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let bodies = photos.clone();
    let server = Server::start(move |req| {
        let n: usize = req.path[1..2].parse().unwrap_or(0);
        let response = Response::ranged(
            req,
            "image/vnd.adobe.photoshop",
            &bodies[n],
            &format!("\"p{n}\""),
        );
        counter.fetch_add(response.body.len(), Ordering::Relaxed);
        response
    })
    .expect("server");
    let out = disk.dir.path().join("out");
    let out_arg = out.to_str().expect("utf8").to_string();
    let urls: Vec<String> = (0..3).map(|n| server.url(&format!("/{n}.psd"))).collect();
    let mut args = vec!["get", "-o", out_arg.as_str()];
    args.extend(urls.iter().map(String::as_str));

    let first = pixgrab(&args, LIMIT);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("paused: the disk is full"), "{stderr}");
    let parts: u64 = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum();
    assert!(parts > 1_000_000, "the parts are kept ({parts} bytes)");

    disk.grow("40m");
    served.store(0, Ordering::Relaxed);
    let second = pixgrab(&args, LIMIT);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    for (n, photo) in photos.iter().enumerate() {
        let file = std::fs::read(out.join(format!("{n}.psd"))).expect("file");
        assert!(file == photo[..], "{n}.psd is whole and right");
    }
    // The rerun fetched only what the parts lacked (the old code fetched all again).
    let total = photos.iter().map(|p| p.len()).sum::<usize>() as u64;
    let again = served.load(Ordering::Relaxed) as u64;
    assert!(
        again + parts <= total + 256 * 1024,
        "the rerun asked for {again} bytes with {parts} kept of {total}"
    );
}

// ------------------------------------------------------------------ from a read of the code

#[test]
fn a_tampered_library_cannot_point_outside_the_folder_and_exports_carry_no_passwords() {
    let server = support::site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let secret_url = server
        .url("/img/1.png")
        .replace("http://", "http://user:pa55@");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    engine
        .run(EngineCommand::add([
            url(&server, "/img/0.png"),
            Url::parse(&secret_url).expect("url"),
        ]))
        .expect("add");
    until_idle(&rx, LIMIT);
    let csv = std::fs::read_to_string((engine.exporter(false))().expect("export")).expect("csv");
    assert!(!csv.contains("pa55") && !csv.contains("user:"), "{csv}");
    engine.shutdown();
    let db = rusqlite::Connection::open(tmp.path().join(".pixgrab/library.db")).expect("db");
    db.execute(
        "UPDATE items SET file = '../../../../etc/passwd' WHERE url LIKE '%/img/0.png'",
        [],
    )
    .expect("tamper");
    drop(db);
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start again");
    let events: Vec<Event> = rx
        .iter()
        .take_while(|e| !matches!(e, Event::Idle))
        .collect();
    engine.shutdown();
    assert!(
        events.iter().all(|e| match e {
            Event::Done { info, .. } => info
                .path
                .starts_with(tmp.path().canonicalize().expect("canon")),
            _ => true,
        }),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Failed { reason, .. }
        if reason.to_string().contains("outside the folder")))
    );
}

// ------------------------------------------------------------------ all at once

#[test]
fn a_hostile_list_of_46_urls_settles_every_item_with_a_reason() {
    let png = |n: u8| -> Arc<[u8]> { Arc::from(support::png(40, 30, n)) };
    let gz = |body: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(body).expect("gzip");
        e.finish().expect("gzip")
    };
    let gzipped: Arc<[u8]> = Arc::from(gz(&support::png(40, 30, 200)));
    let server = Server::start(move |req| {
        let path = req.path.as_str();
        let n: u8 = path
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .trim_end_matches(".png")
            .parse()
            .unwrap_or(0);
        match path.split('/').nth(1).unwrap_or("") {
            "ok" => Response::ok("image/png", png(n)),
            "gzip" => {
                Response::ok("image/png", gzipped.clone()).with_header("Content-Encoding", "gzip")
            }
            "missing" => Response::status(404),
            "gone" => Response::status(410),
            "login" => Response::ok("image/jpeg", support::HTML.to_vec()),
            "absurd" => Response::status(503).with_header("Retry-After", ABSURD_DATE),
            "loop" => Response::redirect(path),
            "ftp" => Response::redirect("ftp://example.org/a.png"),
            "short" => {
                Response::ok("image/png", png(n)).behaving(Behaviour::Truncate { send: 100 })
            }
            "drop" => Response::ok("image/png", png(n)).behaving(Behaviour::Drop),
            "silent" => Response::ok("image/png", png(n)).behaving(Behaviour::Silent {
                hold: Duration::from_secs(120),
            }),
            "stall" => Response::ok("image/png", png(n)).behaving(Behaviour::Stall {
                send: 100,
                hold: Duration::from_secs(120),
            }),
            "bad-range" => Response::ok("image/png", png(n))
                .with_header("Content-Range", "bytes 99999999999999999999-1/x"),
            "bad-cd" => Response::ok("image/png", png(n)).with_header(
                "Content-Disposition",
                "attachment; filename*=UTF-8''..%2F..%2F%00%FF.png; filename=\"../../x\"",
            ),
            _ => Response::status(400),
        }
    })
    .expect("server");
    let mut paths: Vec<String> = (0..20).map(|n| format!("/ok/{n}.png")).collect();
    for (kind, count) in [
        ("gzip", 2),
        ("missing", 3),
        ("gone", 2),
        ("login", 2),
        ("absurd", 3),
        ("loop", 1),
        ("ftp", 1),
        ("short", 2),
        ("drop", 2),
        ("silent", 2),
        ("stall", 2),
        ("bad-range", 2),
        ("bad-cd", 2),
    ] {
        paths.extend((0..count).map(|n| format!("/{kind}/{}.png", 100 + n)));
    }
    assert_eq!(paths.len(), 46);
    let tmp = tempfile::tempdir().expect("tempdir");
    let list = tmp.path().join("list.txt");
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    std::fs::write(&list, urls.join("\n")).expect("list");
    let started = Instant::now();
    // The shipped defaults: no tuning.
    let out = pixgrab(
        &[
            "get",
            "--json",
            "-o",
            tmp.path().join("out").to_str().expect("utf8"),
            "-i",
            list.to_str().expect("utf8"),
        ],
        Duration::from_secs(150),
    );
    let took = started.elapsed();
    eprintln!("46 hostile URLs settled in {took:.1?} (goal: under 60 s)");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut settled: HashMap<String, String> = HashMap::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("json");
        let url = v["url"].as_str().unwrap_or_default().to_string();
        match v["event"].as_str() {
            Some("done") => {
                settled.insert(url, "done".into());
            }
            Some("failed") => {
                let reason = v["reason"].as_str().unwrap_or_default();
                assert!(!reason.is_empty(), "{line}");
                settled.insert(url, reason.to_string());
            }
            _ => {}
        }
    }
    for url in &urls {
        let outcome = settled
            .get(url)
            .unwrap_or_else(|| panic!("{url} never settled"));
        let kind = url.split('/').nth(3).unwrap_or_default();
        let expect_done = matches!(kind, "ok" | "gzip" | "bad-range" | "bad-cd");
        assert_eq!(outcome == "done", expect_done, "{url}: {outcome}");
    }
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["event"] == "summary")
        .expect("summary");
    assert_eq!(summary["done"], 26);
    assert_eq!(summary["failed"], 20);
}

#[test]
fn size_probes_keep_to_the_per_host_limit_and_stop_when_a_new_find_starts() {
    let html: String = (0..60)
        .map(|n| format!(r#"<img src="/img/{n}.png">"#))
        .collect();
    let page_html = html.clone();
    let server = Server::with_link(
        pixgrab_testsite::loopback::Link {
            latency: Duration::from_millis(150),
            bytes_per_sec: None,
        },
        move |req| {
            if req.path == "/page.html" {
                Response::ok("text/html", page_html.clone().into_bytes())
            } else {
                Response::ok("image/png", support::png(10, 10, 1))
            }
        },
    )
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.per_host = Some(2);
    let (engine, _rx) = Engine::start(config).expect("start");
    let finder = engine.finder();
    let page = url(&server, "/page.html");
    let found = finder.find_images(&page).expect("page");
    let (final_url, candidates) = (found.page, found.candidates);
    let urls: Vec<Url> = candidates.into_iter().map(|c| c.url).collect();
    assert_eq!(urls.len(), 60);
    let probing = {
        let finder = finder.clone();
        let (urls, final_url) = (urls.clone(), final_url.clone());
        std::thread::Builder::new()
            .name("test-probe".into())
            .spawn(move || {
                let wanted: Vec<(Url, Want)> =
                    urls.iter().map(|u| (u.clone(), Want::Size)).collect();
                finder.probe(&wanted, Some(&final_url), &|_, _| {})
            })
            .expect("spawn")
    };
    // Let a few probes through, then start a new Find: the old probes stop.
    while server.stats().requests.load(Ordering::Relaxed) < 6 {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Only probes run now (the page was read before): at most the per-host limit.
    assert!(
        server.stats().max_in_flight.load(Ordering::Relaxed) <= 2,
        "never more than the per-host limit at once"
    );
    finder.find_images(&page).expect("page again");
    let probes = probing.join().expect("probe thread");
    let known = probes.iter().filter(|p| p.pixels.is_some()).count();
    assert!((2..60).contains(&known), "{known} sizes were probed");
    engine.shutdown();
}
