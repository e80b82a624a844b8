//! The private-address rule against a hostile public site, in a network of the test's
//! own (see `support::netns`): a "public" host on 203.0.113.7 whose name may also carry
//! private records, and an internal service on 127.0.0.1 that must never be asked.
//! Each test runs again as root inside `unshare -n -m`.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pixgrab_engine::{Command, Engine, Event, Want};
use pixgrab_testsite::loopback::{Link, Response, Server};
use support::{config, failure, netns, until_idle};
use url::Url;

const LIMIT: Duration = Duration::from_secs(60);

/// The internal service: answers everything with a real PNG (or a page naming its own
/// `/secret.png`), and remembers every request.
fn internal() -> (Server, Arc<Mutex<Vec<String>>>) {
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    let server = Server::start(move |req| {
        log.lock().expect("log").push(req.path.clone());
        if req.path == "/page.html" {
            Response::ok("text/html", &b"<img src=\"/secret.png\">"[..])
        } else {
            Response::ok("image/png", support::png(16, 16, 9))
        }
    })
    .expect("internal service");
    (server, asked)
}

/// The public site on 203.0.113.7:80: `/page.html` is `html`, `/hop.png` and `/go`
/// redirect to `hop_to`.
fn public_site(html: String, hop_to: String) -> Server {
    let addr: SocketAddr = format!("{}:80", netns::PUBLIC[0]).parse().expect("addr");
    Server::on(addr, Link::default(), move |req| match req.path.as_str() {
        "/page.html" => Response::ok("text/html", html.clone().into_bytes()),
        "/hop.png" | "/go" => Response::redirect(&hop_to),
        _ => Response::status(404),
    })
    .expect("public site on 203.0.113.7:80")
}

fn parse(s: &str) -> Url {
    Url::parse(s).expect("url")
}

/// Finds the page's images, probes them and queues them as the picker does; returns
/// each item's failure (`None`: it did not fail) and each probe's error.
fn find_probe_and_queue(
    engine: &pixgrab_engine::EngineHandle,
    rx: &crossbeam_channel::Receiver<Event>,
    page: &Url,
) -> (Vec<Option<String>>, Vec<Option<String>>) {
    let found = engine.finder().find_images(page).expect("the page is read");
    let urls: Vec<Url> = found.candidates.iter().map(|c| c.url.clone()).collect();
    let wanted: Vec<(Url, Want)> = urls.iter().map(|u| (u.clone(), Want::Preview)).collect();
    let probes = engine
        .finder()
        .probe(&wanted, Some(&found.page), &|_, _| {});
    let ids = engine
        .run(Command::add_from(urls, &found.page))
        .expect("add");
    let events = until_idle(rx, LIMIT);
    let failures = ids.iter().map(|id| failure(&events, *id)).collect();
    (failures, probes.into_iter().map(|p| p.error).collect())
}

/// The internal service saw no request at all.
fn never_asked(asked: &Mutex<Vec<String>>) {
    let asked = asked.lock().expect("log");
    assert!(
        asked.is_empty(),
        "the internal service was asked: {asked:?}"
    );
}

fn all_refused(what: &str, reasons: &[Option<String>]) {
    assert!(
        reasons
            .iter()
            .all(|r| r.as_deref().is_some_and(|r| r.starts_with("refused: "))),
        "{what}: {reasons:#?}"
    );
}

/// Issue 23, item 1: a public site that adds `A 127.0.0.1` to its own name does not
/// become "a private page": its images, probes and redirects reach no private address.
#[test]
fn a_public_site_with_a_private_record_unlocks_no_private_address() {
    if !netns::inside(
        "a_public_site_with_a_private_record_unlocks_no_private_address",
        "203.0.113.7 site.test\n127.0.0.1 site.test",
        &[],
    ) {
        return;
    }
    let (service, asked) = internal();
    let port = service.addr().port();
    let html = format!(
        r#"<img src="http://127.0.0.1:{port}/secret.png">
           <img src="http://site.test:{port}/secret.png">
           <img src="http://localhost:{port}/secret.png">
           <img src="/hop.png">"#
    );
    let _site = public_site(html, format!("http://127.0.0.1:{port}/secret.png"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let (failures, probes) =
        find_probe_and_queue(&engine, &rx, &parse("http://site.test/page.html"));
    engine.shutdown();
    assert_eq!(failures.len(), 4);
    all_refused("probes", &probes);
    all_refused("downloads", &failures);
    never_asked(&asked);
    let files: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("folder")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .collect();
    assert!(files.is_empty(), "{files:?}");
}

/// The name of an image is public when first looked up (its probe) and private when
/// downloaded (DNS rebinding): the download's own lookup refuses it before anything is
/// sent, with or without a proxy for https in the environment.
fn a_name_that_turns_private_is_refused_before_anything_is_sent() {
    let (service, asked) = internal();
    let port = service.addr().port();
    let html = format!(r#"<img src="http://img.test:{port}/secret.png">"#);
    let _site = public_site(html, String::new());
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let found = engine
        .finder()
        .find_images(&parse("http://site.test/page.html"))
        .expect("the page is read");
    let urls: Vec<Url> = found.candidates.iter().map(|c| c.url.clone()).collect();
    let wanted: Vec<(Url, Want)> = urls.iter().map(|u| (u.clone(), Want::Size)).collect();
    // Public now (nothing listens there: the probe fails to connect).
    let probes = engine
        .finder()
        .probe(&wanted, Some(&found.page), &|_, _| {});
    assert!(probes[0].error.is_some(), "{probes:?}");
    // The attacker's DNS answers differently from now on.
    std::fs::write(
        netns::hosts_file(),
        "127.0.0.1 localhost\n203.0.113.7 site.test\n127.0.0.1 img.test\n",
    )
    .expect("rewrite hosts");
    let ids = engine
        .run(Command::add_from(urls, &found.page))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    let reason = failure(&events, ids[0]);
    all_refused("download", &[reason]);
    never_asked(&asked);
}

/// Issue 23, item 2, without a proxy.
#[test]
fn dns_rebinding_reaches_no_private_address() {
    if netns::inside(
        "dns_rebinding_reaches_no_private_address",
        "203.0.113.7 site.test\n203.0.113.8 img.test",
        &[],
    ) {
        a_name_that_turns_private_is_refused_before_anything_is_sent();
    }
}

/// Issue 23, item 2, with only `HTTPS_PROXY` set: `http://` requests go direct and are
/// checked as such.
#[test]
fn dns_rebinding_reaches_no_private_address_with_an_https_proxy_set() {
    if netns::inside(
        "dns_rebinding_reaches_no_private_address_with_an_https_proxy_set",
        "203.0.113.7 site.test\n203.0.113.8 img.test",
        &[("HTTPS_PROXY", "http://127.0.0.1:9")],
    ) {
        a_name_that_turns_private_is_refused_before_anything_is_sent();
    }
}

/// Issue 23, item 3: a typed public page that redirects to a private address is not
/// read (the redirect is the public server's choice, not the user's), and neither is a
/// typed image's.
#[test]
fn a_typed_public_url_cannot_redirect_to_a_private_address() {
    if !netns::inside(
        "a_typed_public_url_cannot_redirect_to_a_private_address",
        "203.0.113.7 site.test",
        &[],
    ) {
        return;
    }
    let (service, asked) = internal();
    let port = service.addr().port();
    let _site = public_site(String::new(), format!("http://127.0.0.1:{port}/page.html"));
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let read = engine.finder().find_images(&parse("http://site.test/go"));
    let refused = read.expect_err("the private page is not read").to_string();
    assert!(refused.starts_with("refused: "), "{refused}");
    let ids = engine
        .run(Command::add([parse("http://site.test/hop.png")]))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    all_refused("typed image", &[failure(&events, ids[0])]);
    never_asked(&asked);
}

/// Inside the namespace, the private page itself, typed by the user, is read as ever:
/// the rule only ever concerns what a public answer causes.
#[test]
fn a_typed_private_page_still_unlocks_its_own_images() {
    if !netns::inside(
        "a_typed_private_page_still_unlocks_its_own_images",
        "203.0.113.7 site.test",
        &[],
    ) {
        return;
    }
    let (service, asked) = internal();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let page = parse(&service.url("/page.html"));
    let (failures, probes) = find_probe_and_queue(&engine, &rx, &page);
    engine.shutdown();
    assert_eq!(failures, [None], "{probes:?}");
    assert_eq!(probes, [None]);
    assert!(
        asked
            .lock()
            .expect("log")
            .contains(&"/secret.png".to_string())
    );
}

/// After a restart, items from a public page are still judged by where it was read
/// from: its name turning all-private meanwhile (the attacker's DNS) unlocks nothing.
#[test]
fn a_restart_keeps_where_a_page_was_read_from() {
    if !netns::inside(
        "a_restart_keeps_where_a_page_was_read_from",
        "203.0.113.7 site.test",
        &[],
    ) {
        return;
    }
    let (service, asked) = internal();
    let port = service.addr().port();
    let html = format!(r#"<img src="http://127.0.0.1:{port}/secret.png">"#);
    let _site = public_site(html, String::new());
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, _rx) = Engine::start(config(tmp.path())).expect("start");
    let found = engine
        .finder()
        .find_images(&parse("http://site.test/page.html"))
        .expect("the page is read");
    engine.shutdown();
    std::fs::write(
        netns::hosts_file(),
        "127.0.0.1 localhost\n127.0.0.1 site.test\n",
    )
    .expect("rewrite hosts");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("restart");
    let urls: Vec<Url> = found.candidates.iter().map(|c| c.url.clone()).collect();
    let ids = engine
        .run(Command::add_from(urls, &found.page))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    all_refused("after the restart", &[failure(&events, ids[0])]);
    never_asked(&asked);
}

/// Issue 25: a page the browser read (Pixgrab never did) counts as private only by a
/// private literal address. Its name resolving only to a private address now (the
/// attacker's DNS after the browser read the page from a public one) opens no private
/// address for the images it names.
#[test]
fn a_page_the_browser_read_is_private_only_by_its_literal_address() {
    if !netns::inside(
        "a_page_the_browser_read_is_private_only_by_its_literal_address",
        "127.0.0.1 rebound.test",
        &[],
    ) {
        return;
    }
    let (service, asked) = internal();
    let port = service.addr().port();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let page = parse("http://rebound.test/gallery");
    engine.page_seen_elsewhere(&page);
    let image = parse(&format!("http://127.0.0.1:{port}/secret.png"));
    let ids = engine
        .run(Command::add_from(vec![image], &page))
        .expect("add");
    let events = until_idle(&rx, LIMIT);
    engine.shutdown();
    all_refused("download", &[failure(&events, ids[0])]);
    never_asked(&asked);
}
