//! Getting URLs from a gallery page and past hot-link protection, on a local test site:
//! extraction, Referer from the page, cookies and headers scoped to their host (also
//! across a redirect to another host), and the hint a 403 gives.

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pixgrab_engine::Want;
use pixgrab_engine::{Command, Config, Engine, Event, ItemId};
use pixgrab_engine::{Cookie, Profile, Profiles};
use pixgrab_testsite::loopback::{Request, Response, Server};
use url::Url;

/// (server name, path, headers of interest) of every request.
type Seen = Arc<Mutex<Vec<(&'static str, String, HashMap<String, String>)>>>;

fn record(seen: &Seen, server: &'static str, req: &Request) {
    let mut headers = HashMap::new();
    for name in ["referer", "cookie", "x-token", "user-agent"] {
        if let Some(v) = req.header(name) {
            headers.insert(name.to_string(), v.to_string());
        }
    }
    if let Ok(mut seen) = seen.lock() {
        seen.push((server, req.path.clone(), headers));
    }
}

/// The gallery site on 127.0.0.1 and a second host (`localhost`) it links and
/// redirects to.
struct TestSite {
    site: Server,
    other: Server,
    seen: Seen,
}

impl TestSite {
    fn page(&self) -> Url {
        Url::parse(&self.site.url("/albums/summer/index.html")).expect("url")
    }

    fn other_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.other.addr().port())
    }

    fn seen_on(&self, server: &str) -> Vec<(String, HashMap<String, String>)> {
        self.seen
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|(name, _, _)| *name == server)
                    .map(|(_, p, h)| (p.clone(), h.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn test_site() -> TestSite {
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let other = Server::start(move |req| {
        record(&s2, "other", req);
        Response::ok("image/png", support::png(30, 30, 99))
    })
    .expect("other server");
    let other_base = format!("http://localhost:{}", other.addr().port());
    let s1 = seen.clone();
    let site = Server::start(move |req| {
        record(&s1, "site", req);
        let path = req.path.as_str();
        if path == "/albums/summer/index.html" {
            let html = format!(
                r#"<!doctype html><html><head>
                <meta property="og:image" content="/cover.png">
                </head><body>
                <a href="full/1.png"><img src="thumbs/1.png"></a>
                <img src="thumbs/2.png" srcset="thumbs/2.png 200w, full/2.png 1600w">
                <img src="/protected/3.png">
                <img src="{other_base}/elsewhere.png">
                <a href="about.html">About</a>
                </body></html>"#
            );
            return Response::ok("text/html; charset=utf-8", html.into_bytes());
        }
        if path == "/hop" {
            // A redirect to the other host.
            return Response::redirect(&format!("{other_base}/landed.png"));
        }
        if let Some(rest) = path.strip_prefix("/protected/") {
            // Hot-link protection: the gallery page as Referer, or the pass cookie.
            let referer_ok = req
                .header("referer")
                .is_some_and(|r| r.contains("/albums/summer/"));
            let cookie_ok = req.header("cookie").is_some_and(|c| c.contains("pass=1"));
            if !(referer_ok || cookie_ok) {
                return Response::status(403);
            }
            let seed = rest.bytes().map(u32::from).sum::<u32>() as u8;
            return Response::ok("image/png", support::png(40, 30, seed));
        }
        let seed = path.bytes().map(u32::from).sum::<u32>() as u8;
        if path.ends_with(".png") {
            return Response::ok("image/png", support::png(50, 40, seed));
        }
        Response::status(404)
    })
    .expect("site");
    TestSite { site, other, seen }
}

fn config(dir: &std::path::Path) -> Config {
    let mut config = Config::new(dir);
    config.retry_base = Duration::from_millis(5);
    config.retries = 0;
    config
}

fn outcomes(events: &[Event]) -> HashMap<ItemId, Result<String, String>> {
    let mut map = HashMap::new();
    for event in events {
        match event {
            Event::Done { id, info } => {
                map.insert(*id, Ok(info.final_url.to_string()));
            }
            Event::Failed { id, reason } => {
                map.insert(*id, Err(reason.to_string()));
            }
            _ => {}
        }
    }
    map
}

#[test]
fn a_gallery_page_yields_its_full_size_images_and_they_download_with_the_page_as_referer() {
    let t = test_site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let found = engine.finder().find_images(&t.page()).expect("page");
    let (final_url, candidates) = (found.page, found.candidates);
    assert_eq!(final_url, t.page());
    // The srcset's smaller entry is listed too, marked as a smaller variant of its
    // picture; what the page shows at its largest is the rest.
    let smaller: Vec<String> = candidates
        .iter()
        .filter(|c| c.smaller_variant)
        .map(|c| c.url.to_string())
        .collect();
    let base = t.site.url("/albums/summer/");
    assert_eq!(smaller, [format!("{base}thumbs/2.png")]);
    let candidates: Vec<_> = candidates
        .into_iter()
        .filter(|c| !c.smaller_variant)
        .collect();
    let found: Vec<String> = candidates.iter().map(|c| c.url.to_string()).collect();
    assert_eq!(
        found,
        [
            t.site.url("/cover.png"),
            format!("{base}full/1.png"),
            format!("{base}thumbs/1.png"),
            format!("{base}full/2.png"),
            t.site.url("/protected/3.png"),
            t.other_url("/elsewhere.png"),
        ]
    );
    let probes = engine.finder().probe(
        &candidates
            .iter()
            .map(|c| (c.url.clone(), Want::Size))
            .collect::<Vec<_>>(),
        Some(&final_url),
        &|_, _| {},
    );
    assert!(
        probes
            .iter()
            .all(|p| p.bytes.is_some_and(|b| b > 0) && p.pixels.is_some()),
        "the first bytes give every size: {probes:?}"
    );

    let ids = engine
        .run(Command::add_from(
            candidates.iter().map(|c| c.url.clone()),
            &final_url,
        ))
        .expect("add");
    let events = support::until_idle(&rx, Duration::from_secs(30));
    let results = outcomes(&events);
    assert!(
        ids.iter()
            .all(|id| results.get(id).is_some_and(Result::is_ok)),
        "{results:?}"
    );
    // The protected image passed because the page was its Referer.
    let protected = t.seen_on("site");
    let (_, headers) = protected
        .iter()
        .find(|(p, _)| p == "/protected/3.png")
        .expect("requested");
    assert_eq!(
        headers.get("referer").map(String::as_str),
        Some(t.page().as_str())
    );
}

#[test]
fn a_403_suggests_a_referer_and_a_cookie_gets_past_it_only_on_its_own_host() {
    let t = test_site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let protected = Url::parse(&t.site.url("/protected/7.png")).expect("url");
    let ids = engine.run(Command::add([protected.clone()])).expect("add");
    let events = support::until_idle(&rx, Duration::from_secs(30));
    assert_eq!(
        outcomes(&events)[&ids[0]],
        Err("HTTP 403 Forbidden: the server refused the request; try a Referer or cookies for 127.0.0.1".into())
    );

    // A cookie for 127.0.0.1 and a header for it only; /hop redirects to localhost.
    let mut profiles = Profiles {
        cookies: vec![Cookie {
            domain: "127.0.0.1".into(),
            include_subdomains: false,
            path: "/".into(),
            secure: false,
            expires: 0,
            name: "pass".into(),
            value: "1".into(),
        }],
        ..Profiles::default()
    };
    profiles.hosts.insert(
        "127.0.0.1".into(),
        Profile {
            headers: vec![("X-Token".into(), "secret".into())],
            ..Profile::default()
        },
    );
    engine.set_profiles(profiles);
    engine.run(Command::Retry(ids.clone())).expect("retry");
    let hop = Url::parse(&t.site.url("/hop")).expect("url");
    let more = engine.run(Command::add([hop])).expect("add");
    let events = support::until_idle(&rx, Duration::from_secs(30));
    let results = outcomes(&events);
    assert!(results[&ids[0]].is_ok(), "the cookie got past: {results:?}");
    assert_eq!(results[&more[0]], Ok(t.other_url("/landed.png")));
    let site = t.seen_on("site");
    let hop_request = site.iter().find(|(p, _)| p == "/hop").expect("hop");
    assert_eq!(
        hop_request.1.get("x-token").map(String::as_str),
        Some("secret")
    );
    assert_eq!(
        hop_request.1.get("cookie").map(String::as_str),
        Some("pass=1")
    );
    // After the redirect to another host: neither the cookie nor the header.
    let other = t.seen_on("other");
    let landed = other
        .iter()
        .find(|(p, _)| p == "/landed.png")
        .expect("landed");
    assert_eq!(landed.1.get("cookie"), None);
    assert_eq!(landed.1.get("x-token"), None);
}

#[test]
fn the_cli_downloads_a_page_and_scopes_its_headers() {
    let t = test_site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str], out: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_pixgrab"))
            .args(["get", "--json"])
            .args(args)
            .arg("-o")
            .arg(tmp.path().join(out))
            .output()
            .expect("run")
    };
    let output = run(&["--page", t.page().as_str(), "-H", "X-Token: t1"], "page");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for name in ["cover.png", "1.png", "2.png", "3.png", "elsewhere.png"] {
        assert!(
            tmp.path().join("page").join(name).is_file(),
            "{name} missing: {stdout}"
        );
    }
    let site = t.seen_on("site");
    assert!(
        site.iter()
            .all(|(_, h)| h.get("x-token").map(String::as_str) == Some("t1")),
        "every request to the named host carried the header"
    );
    let other = t.seen_on("other");
    let elsewhere = other
        .iter()
        .find(|(p, _)| p == "/elsewhere.png")
        .expect("elsewhere");
    assert_eq!(
        elsewhere.1.get("referer").map(String::as_str),
        Some(format!("http://127.0.0.1:{}/", t.site.addr().port()).as_str()),
        "an image on another host gets only the page's origin as its Referer"
    );
    assert_eq!(
        elsewhere.1.get("x-token"),
        None,
        "a header typed for the page's host never reaches a host the page names"
    );

    // A URL that redirects to another host: the header stays with the named host.
    let hop = t.site.url("/hop");
    let output = run(&[hop.as_str(), "-H", "X-Token: t2"], "hop");
    assert_eq!(output.status.code(), Some(0));
    let other = t.seen_on("other");
    let landed = other
        .iter()
        .find(|(p, _)| p == "/landed.png")
        .expect("landed");
    assert_eq!(landed.1.get("x-token"), None);
    let site = t.seen_on("site");
    let hop_seen = site.iter().find(|(p, _)| p == "/hop").expect("hop");
    assert_eq!(hop_seen.1.get("x-token").map(String::as_str), Some("t2"));
}
