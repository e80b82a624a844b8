//! gallery-dl run for real against a page served here, directly and through "Find images".
//!
//! gallery-dl's generic extractor drops the port from a URL, so the page is served on port 80 of
//! 127.0.0.2 (a loopback address on Linux; binding port 80 needs root or
//! `CAP_NET_BIND_SERVICE`). Without gallery-dl on `PATH` or without port 80 the tests are skipped
//! with a note, except when `PIXGRAB_REQUIRE_GALLERY_DL` is set (as `scripts/test` does
//! as root), where they fail.
//!
//! The unsupported-page test assumes the user's gallery-dl configuration does not set
//! `extractor.generic.enabled` (which makes every URL supported).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use pixgrab_engine::{
    CandidateSource as Source, Command, Config, Engine, Event, GalleryDl, GalleryDlError,
    GalleryDlSetting as Setting, Via,
};
use url::Url;

const HOST: &str = "127.0.0.2";
const TIMEOUT: Duration = Duration::from_secs(30);

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The test page: three images, addressed relatively, from the root and absolutely.
const INDEX: &str = r#"<!doctype html>
<html><head><title>gallery-dl test</title></head><body>
<p>Three images:</p>
<img src="one.png" alt="one">
<img src="/gdl/two.png" alt="two">
<img src="http://127.0.0.2/gdl/three.png" alt="three">
</body></html>
"#;

/// The test server: the request heads it received, by path.
struct Server {
    requests: Mutex<Vec<(String, String)>>,
}

impl Server {
    /// The head of the first request for `path`.
    fn request_for(&self, path: &str) -> Option<String> {
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        requests
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, head)| head.clone())
    }
}

/// The server on 127.0.0.2:80, started once for all tests; `None` (after a note) when it
/// cannot run here.
fn server() -> Option<&'static Server> {
    static SERVER: OnceLock<Option<&'static Server>> = OnceLock::new();
    *SERVER.get_or_init(|| {
        let listener = match TcpListener::bind((HOST, 80)) {
            Ok(listener) => listener,
            // No root, or no 127.0.0.2 (macOS): skip. Anything else, such as the port being
            // taken, is a failure rather than a silent skip.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::AddrNotAvailable
                ) =>
            {
                skip(&format!("cannot serve on {HOST}:80 ({e})"));
                return None;
            }
            Err(e) => panic!("cannot serve on {HOST}:80: {e}"),
        };
        let server: &'static Server = Box::leak(Box::new(Server {
            requests: Mutex::new(Vec::new()),
        }));
        thread::Builder::new()
            .name("gdl-test-server".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let _ = thread::Builder::new()
                        .name("gdl-test-conn".into())
                        .spawn(move || serve(stream, server));
                }
            })
            .expect("server thread");
        Some(server)
    })
}

fn serve(stream: TcpStream, server: &Server) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    server
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((path.clone(), head));
    let pages: HashMap<&str, (&str, &[u8])> = HashMap::from([
        (
            "/gdl/index.html",
            ("text/html; charset=utf-8", INDEX.as_bytes()),
        ),
        (
            "/gdl/cookies.html",
            ("text/html; charset=utf-8", INDEX.as_bytes()),
        ),
        ("/gdl/one.png", ("image/png", PNG)),
        ("/gdl/two.png", ("image/png", PNG)),
        ("/gdl/three.png", ("image/png", PNG)),
    ]);
    if path == "/gdl/slow.html" {
        thread::sleep(Duration::from_secs(20));
    }
    let mut stream = &stream;
    let response = match pages.get(path.as_str()) {
        Some((kind, body)) => {
            let mut response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            response.extend_from_slice(body);
            response
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
                .to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

/// gallery-dl on `PATH`, or `None` (after a note).
fn gallery_dl() -> Option<GalleryDl> {
    let found = GalleryDl::locate(None);
    if found.is_none() {
        skip("gallery-dl is not on PATH (pip install gallery-dl)");
    }
    found
}

/// Notes a skipped test; fails it instead when `PIXGRAB_REQUIRE_GALLERY_DL` is set
/// (`scripts/test` sets it when it runs as root, having installed gallery-dl).
fn skip(why: &str) {
    assert!(
        std::env::var_os("PIXGRAB_REQUIRE_GALLERY_DL").is_none(),
        "PIXGRAB_REQUIRE_GALLERY_DL is set, but {why}"
    );
    eprintln!("skipped: {why}");
}

/// gallery-dl's own reason for a 404 page.
fn a_missing_page_fails(gdl: GalleryDl) {
    match gdl
        .generic()
        .list(&page("/gdl/missing.html"), None, TIMEOUT)
    {
        Err(GalleryDlError::Failed(reason)) => {
            assert!(reason.starts_with("HttpError: '404"), "{reason}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

fn page(path: &str) -> Url {
    Url::parse(&format!("http://{HOST}{path}")).expect("test URL")
}

#[test]
fn the_generic_extractor_lists_exactly_the_three_images() {
    let (Some(_server), Some(gdl)) = (server(), gallery_dl()) else {
        return;
    };
    let listing = gdl
        .generic()
        .list(&page("/gdl/index.html"), None, TIMEOUT)
        .expect("listing");
    let urls: Vec<&str> = listing.media.iter().map(|m| m.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.2/gdl/one.png",
            "http://127.0.0.2/gdl/two.png",
            "http://127.0.0.2/gdl/three.png",
        ]
    );
    let names: Vec<_> = listing
        .media
        .iter()
        .map(|m| (m.filename.as_deref(), m.extension.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            (Some("one"), Some("png")),
            (Some("two"), Some("png")),
            (Some("three"), Some("png"))
        ]
    );
    assert!(
        listing.pages.is_empty() && listing.errors.is_empty(),
        "{listing:?}"
    );
    assert_eq!(listing.skipped, 0);
}

#[test]
fn cookies_from_a_cookies_txt_reach_the_site() {
    let (Some(server), Some(gdl)) = (server(), gallery_dl()) else {
        return;
    };
    let cookies = "# Netscape HTTP Cookie File\n127.0.0.2\tFALSE\t/\tFALSE\t0\tsession\tabc123\n";
    let listing = gdl
        .generic()
        .list(&page("/gdl/cookies.html"), Some(cookies), TIMEOUT);
    assert_eq!(listing.expect("listing").media.len(), 3);
    let head = server
        .request_for("/gdl/cookies.html")
        .expect("the page was asked for");
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case("cookie: session=abc123")),
        "{head}"
    );
}

#[test]
fn a_page_no_extractor_knows_is_unsupported() {
    let Some(gdl) = gallery_dl() else {
        return;
    };
    // No `generic:` prefix: gallery-dl has no extractor for this host and fetches nothing.
    assert_eq!(
        gdl.list(&page("/gdl/index.html"), None, TIMEOUT),
        Err(GalleryDlError::Unsupported)
    );
}

#[test]
fn a_missing_page_fails_with_gallery_dls_reason() {
    let (Some(_server), Some(gdl)) = (server(), gallery_dl()) else {
        return;
    };
    a_missing_page_fails(gdl);
}

#[test]
fn a_slow_page_times_out_and_gallery_dl_is_stopped() {
    let (Some(_server), Some(gdl)) = (server(), gallery_dl()) else {
        return;
    };
    let started = Instant::now();
    let result = gdl
        .generic()
        .list(&page("/gdl/slow.html"), None, Duration::from_secs(2));
    assert_eq!(
        result,
        Err(GalleryDlError::TimedOut(Duration::from_secs(2)))
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_missing_program_is_not_located_and_does_not_spawn() {
    assert!(GalleryDl::locate(Some(Path::new("/nonexistent/bin/gallery-dl"))).is_none());
    assert!(GalleryDl::locate(Some(Path::new("pixgrab-no-such-gallery-dl"))).is_none());
}

#[test]
fn a_program_that_is_not_gallery_dl_fails_without_panicking() {
    // `false` exits 1 without output; `true` exits 0 without output.
    for (program, expected) in [
        ("false", "gallery-dl exited with status 1"),
        ("true", "gallery-dl printed nothing"),
    ] {
        let Some(gdl) = GalleryDl::locate(Some(Path::new(program))) else {
            continue;
        };
        assert_eq!(
            gdl.list(&page("/x"), None, TIMEOUT),
            Err(GalleryDlError::Failed(expected.into()))
        );
    }
}

/// A gallery-dl before 1.28 (no `--resolve-json`), named by `PIXGRAB_OLD_GALLERY_DL`, e.g. a venv
/// with `pip install gallery-dl==1.25.3` (Debian bookworm's version): asked again with
/// `--dump-json`.
#[test]
fn an_old_gallery_dl_is_asked_with_dump_json() {
    let Some(old) = std::env::var_os("PIXGRAB_OLD_GALLERY_DL") else {
        return;
    };
    let Some(_server) = server() else {
        return;
    };
    let gdl = GalleryDl::locate(Some(Path::new(&old))).expect("PIXGRAB_OLD_GALLERY_DL runs");
    let listing = gdl
        .clone()
        .generic()
        .list(&page("/gdl/index.html"), None, TIMEOUT)
        .expect("listing");
    assert_eq!(listing.media.len(), 3, "{listing:?}");
    a_missing_page_fails(gdl);
}

/// The arguments gallery-dl gets: each on its own, `--` before the URL, the fallback to
/// `--dump-json` when `--resolve-json` is refused.
#[cfg(unix)]
#[test]
fn arguments_are_passed_one_by_one_with_a_double_dash_before_the_url() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("pixgrab-gdl-fake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let log = dir.join("args.log");
    let fake = dir.join("gallery-dl");
    // Acts as a gallery-dl before 1.28: refuses --resolve-json like argparse does.
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{}'; done\necho ---- >> '{}'\n\
             if [ \"$1\" = --resolve-json ]; then\n  echo 'gallery-dl: error: unrecognized arguments: --resolve-json' >&2\n  exit 2\nfi\n\
             echo '[[3, \"https://a.example/1.jpg\", {{\"width\": 10, \"height\": 20}}]]'\n",
            log.display(),
            log.display()
        ),
    )
    .expect("write fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let cookies = "# Netscape HTTP Cookie File\n";

    let gdl = GalleryDl::locate(Some(&fake)).expect("fake located");
    let tricky = Url::parse("https://a.example/-v;$(touch x)?q=a b&c=`d`").expect("url");
    let listing = gdl.list(&tricky, Some(cookies), TIMEOUT).expect("listing");
    assert_eq!(listing.media.len(), 1);
    assert_eq!(
        (listing.media[0].width, listing.media[0].height),
        (Some(10), Some(20))
    );

    let args = std::fs::read_to_string(&log).expect("log");
    let _ = std::fs::remove_dir_all(&dir);
    let url = tricky.as_str();
    let expected = [
        "--resolve-json",
        "--cookies",
        "/dev/stdin",
        "-o",
        "cookies-update=false",
        "--",
        url,
        "----",
        "--dump-json",
        "--cookies",
        "/dev/stdin",
        "-o",
        "cookies-update=false",
        "--",
        url,
        "----",
    ];
    assert_eq!(args.lines().collect::<Vec<_>>(), expected);
}

/// A fake gallery-dl in a folder of its own: `body` is its shell script after `#!/bin/sh`.
#[cfg(unix)]
fn fake_gallery_dl(name: &str, body: &str) -> (std::path::PathBuf, GalleryDl) {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("pixgrab-gdl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fake = dir.join("gallery-dl");
    std::fs::write(&fake, format!("#!/bin/sh\n{body}")).expect("write fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let gdl = GalleryDl::locate(Some(&fake)).expect("fake located");
    (dir, gdl)
}

/// Issue 23, items 7 and 8: the cookies reach gallery-dl through a file that has no name
/// (its standard input), never written back; the proxy, password and all, through its
/// environment, never its command line (which `ps` shows any local user).
#[cfg(unix)]
#[test]
fn cookies_and_the_proxy_reach_gallery_dl_where_no_one_else_can_read_them() {
    let (dir, gdl) = fake_gallery_dl(
        "secrets",
        "log=\"$(dirname \"$0\")\"\nprintf '%s\\n' \"$@\" > \"$log/args\"\n\
         env > \"$log/env\"\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --cookies ] && cat \"$2\" > \"$log/cookies\"; shift; done\n\
         echo '[[3, \"https://a.example/1.jpg\", {}]]'\n",
    );
    let proxy = "http://user:s3cret@127.0.0.1:3128";
    let listing = gdl
        .with_proxy(Some(proxy.to_string()))
        .list(
            &Url::parse("https://a.example/g").expect("url"),
            Some("# Netscape HTTP Cookie File\na.example\tFALSE\t/\tFALSE\t0\tid\tx1\n"),
            TIMEOUT,
        )
        .expect("listing");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let (args, env, cookies) = (read("args"), read("env"), read("cookies"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(listing.media.len(), 1);
    assert!(
        !args.contains("s3cret"),
        "the password is on the command line: {args}"
    );
    assert!(env.contains(&format!("https_proxy={proxy}")), "{env}");
    assert!(env.contains(&format!("HTTP_PROXY={proxy}")), "{env}");
    assert!(args.lines().any(|a| a == "/dev/stdin"), "{args}");
    assert!(args.lines().any(|a| a == "cookies-update=false"), "{args}");
    assert!(
        cookies.contains("\tid\tx1"),
        "the cookies arrived: {cookies:?}"
    );
}

/// Issue 23, item 10: a listing of more media than a page may offer is cut at the cap
/// while it is read (one message at a time), not held whole.
#[cfg(unix)]
#[test]
fn a_huge_listing_is_cut_at_the_candidate_cap() {
    let (dir, gdl) = fake_gallery_dl(
        "huge",
        "echo '['\ni=0\nwhile [ $i -lt 30000 ]; do echo \"[3, \\\"https://a.example/$i.jpg\\\", {}],\"; i=$((i+1)); done\n\
         echo '[3, \"https://a.example/last.jpg\", {}]]'\n",
    );
    let listing = gdl
        .list(
            &Url::parse("https://a.example/g").expect("url"),
            None,
            TIMEOUT,
        )
        .expect("listing");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(listing.media.len(), pixgrab_engine::MAX_CANDIDATES);
    assert_eq!(listing.media[0].url.as_str(), "https://a.example/0.jpg");
}

// ------------------------------------------------------------------ through the engine

/// An engine for a temporary folder with this gallery-dl setting.
fn start_engine(
    setting: Setting,
    generic: bool,
) -> (
    tempfile::TempDir,
    pixgrab_engine::EngineHandle,
    Receiver<Event>,
) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(tmp.path());
    config.gallery_dl = setting;
    config.gallery_dl_generic = generic;
    let (engine, events) = Engine::start(config).expect("engine");
    (tmp, engine, events)
}

#[test]
fn find_images_asks_gallery_dl_first_and_the_engine_downloads_what_it_lists() {
    let (Some(_server), Some(_)) = (server(), gallery_dl()) else {
        return;
    };
    let (tmp, engine, events) = start_engine(Setting::Auto, true);
    let found = engine
        .finder()
        .find_images(&page("/gdl/index.html"))
        .expect("the page is listed");
    assert_eq!(
        found.via,
        Via::GalleryDl {
            errors: vec![],
            unlisted_pages: 0
        }
    );
    assert_eq!(
        found.via.describe().as_deref(),
        Some("listed by gallery-dl")
    );
    let urls: Vec<&str> = found.candidates.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "http://127.0.0.2/gdl/one.png",
            "http://127.0.0.2/gdl/two.png",
            "http://127.0.0.2/gdl/three.png",
        ]
    );
    assert!(
        found
            .candidates
            .iter()
            .all(|c| c.source == Source::GalleryDl)
    );
    // Pixgrab's own engine downloads them, with the page as Referer.
    engine
        .run(Command::add_from(
            found.candidates.iter().map(|c| c.url.clone()),
            &found.page,
        ))
        .expect("add");
    let mut done = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while done < 3 && Instant::now() < deadline {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(Event::Done { .. }) => done += 1,
            Ok(Event::Failed { reason, .. }) => panic!("failed: {reason}"),
            _ => {}
        }
    }
    assert_eq!(done, 3);
    // The three serve the same 1×1 PNG: one file holds it for all three items.
    let files: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("dir")
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| std::fs::read(e.path()).expect("file"))
        .collect();
    assert_eq!(files, [PNG.to_vec()]);
    engine.shutdown();
}

/// A page on 127.0.0.1 (a port: no gallery-dl extractor takes it) with two images.
fn two_image_page() -> pixgrab_testsite::loopback::Server {
    pixgrab_testsite::loopback::Server::start(|req| match req.path.as_str() {
        "/page.html" => pixgrab_testsite::loopback::Response::ok(
            "text/html",
            b"<img src=a.png><img src=b.png>".to_vec(),
        ),
        _ => pixgrab_testsite::loopback::Response::status(404),
    })
    .expect("site")
}

#[test]
fn a_page_gallery_dl_does_not_know_is_read_as_html() {
    let Some(_) = gallery_dl() else {
        return;
    };
    let site = two_image_page();
    let (_tmp, engine, _events) = start_engine(Setting::Auto, false);
    let page = Url::parse(&site.url("/page.html")).expect("url");
    let found = engine.finder().find_images(&page).expect("read as HTML");
    assert_eq!(found.via, Via::Html { note: None });
    assert_eq!(found.candidates.len(), 2);
    engine.shutdown();
}

#[test]
fn without_gallery_dl_pages_are_read_as_html_with_a_hint() {
    let site = two_image_page();
    let page = Url::parse(&site.url("/page.html")).expect("url");
    // A program that is not there: said, and the page is still read.
    let missing = PathBuf::from("/nonexistent/gallery-dl");
    let (_tmp, engine, _events) = start_engine(Setting::Program(missing), false);
    let found = engine.finder().find_images(&page).expect("read as HTML");
    assert_eq!(found.candidates.len(), 2);
    let Via::Html { note: Some(note) } = &found.via else {
        panic!("{:?}", found.via);
    };
    assert!(note.contains("/nonexistent/gallery-dl"), "{note}");
    engine.shutdown();
    // Switched off: nothing to say.
    let (_tmp, engine, _events) = start_engine(Setting::Off, false);
    let found = engine.finder().find_images(&page).expect("read as HTML");
    assert_eq!(
        (found.via, found.candidates.len()),
        (Via::Html { note: None }, 2)
    );
    engine.shutdown();
}
