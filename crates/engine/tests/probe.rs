//! "Find images" probes (issue #16): every header format read over HTTP from real
//! files, from a server that honours `Range` and from one that ignores it (then reading
//! stops once the header is parsed); previews from a photo's EXIF thumbnail and from a
//! small file fetched whole, which is then not fetched again when queued; and a probe
//! that fails says why.

mod support;

use std::sync::Arc;
use std::time::Duration;

use pixgrab_engine::{Command, Engine, PROBE_BYTES, Probe, Want};
use pixgrab_testsite::loopback::{Response, Server};
use support::{Photo, big_photo, config, corpus_file, until_idle, url};
use url::Url;

/// (path on the server, bytes, the pixel size a decoder reads) for one real file of
/// every format the header reader knows.
fn files() -> Vec<Photo> {
    let decoded = |bytes: &[u8]| {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .expect("format")
            .into_dimensions()
            .expect("dimensions")
    };
    let mut files: Vec<Photo> = [
        "exif-samples/Konica_Minolta_DiMAGE_Z3.jpg",
        "image-rs/png/basn6a16.png",
        "image-rs/gif/interlaced.gif",
        "image-rs/webp/simple.webp",
        "image-rs/webp/lossy_alpha.webp",
        "image-rs/webp/2-color.webp",
        "image-rs/bmp/Core_4_Bit.bmp",
    ]
    .iter()
    .map(|rel| {
        let bytes = corpus_file(rel);
        let size = decoded(&bytes);
        (format!("/{rel}"), Arc::from(bytes), size)
    })
    .collect();
    // AVIF (the image crate here does not decode it): sizes from link-u's README.
    for (rel, size) in [
        (
            "avif/plum-blossom-small.profile0.8bpc.yuv420.alpha-full.avif",
            (128, 128),
        ),
        (
            "avif/red-at-12-oclock-with-color-profile-lossy.avif",
            (800, 800),
        ),
    ] {
        files.push((format!("/{rel}"), Arc::from(corpus_file(rel)), size));
    }
    // A camera-sized photo whose frame header comes after a 35 KiB EXIF segment.
    let photo = big_photo("exif-samples/Konica_Minolta_DiMAGE_Z3.jpg", 2400, 1600, 3);
    files.push(("/big.jpg".into(), Arc::from(photo), (2400, 1600)));
    files
}

fn serve(files: Vec<Photo>, ranges: bool) -> Server {
    Server::start(
        move |req| match files.iter().find(|(p, _, _)| *p == req.path) {
            Some((_, body, _)) if ranges => Response::ranged(req, "image/x-any", body, "\"1\""),
            Some((_, body, _)) => Response::ok("image/x-any", body.clone()),
            None if req.path == "/page.html" => {
                Response::ok("text/html", b"<html><body>no image</body></html>".to_vec())
            }
            None => Response::status(404),
        },
    )
    .expect("server")
}

fn probe_all(server: &Server, paths: &[&str], want: Want) -> Vec<Probe> {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, _rx) = Engine::start(config(tmp.path())).expect("start");
    let urls: Vec<(Url, Want)> = paths.iter().map(|p| (url(server, p), want)).collect();
    let probes = engine.finder().probe(&urls, None, &|_, _| {});
    engine.shutdown();
    probes
}

#[test]
fn every_header_format_is_sized_from_its_first_bytes_with_or_without_range() {
    let files = files();
    let paths: Vec<String> = files.iter().map(|(p, _, _)| p.clone()).collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    for ranges in [true, false] {
        let server = serve(files.clone(), ranges);
        let probes = probe_all(&server, &paths, Want::Size);
        for ((path, bytes, size), probe) in files.iter().zip(&probes) {
            assert_eq!(probe.error, None, "{path} (ranges {ranges})");
            assert_eq!(probe.pixels, Some(*size), "{path} (ranges {ranges})");
            assert_eq!(
                probe.bytes,
                Some(bytes.len() as u64),
                "{path} (ranges {ranges})"
            );
            assert!(probe.format.is_some(), "{path}");
            assert!(
                probe.fetched <= PROBE_BYTES,
                "{path}: {} bytes read (ranges {ranges})",
                probe.fetched
            );
            if !ranges && bytes.len() > 128 * 1024 {
                // Reading stopped at the header, not at the end of the file.
                assert!(probe.fetched < 64 * 1024, "{path}: read {}", probe.fetched);
            }
        }
    }
}

#[test]
fn a_photo_s_preview_comes_from_its_exif_thumbnail() {
    let photo: Arc<[u8]> = Arc::from(big_photo(
        "exif-samples/Canon_PowerShot_S40.jpg",
        2272,
        1704,
        5,
    ));
    let server = serve(vec![("/photo.jpg".into(), photo, (2272, 1704))], true);
    let probes = probe_all(&server, &["/photo.jpg"], Want::Preview);
    let probe = &probes[0];
    assert_eq!(probe.pixels, Some((2272, 1704)));
    assert!(probe.fetched <= PROBE_BYTES);
    let preview = probe
        .preview
        .as_ref()
        .expect("the EXIF thumbnail as preview");
    assert!(preview.width <= 128 && preview.height <= 128 && preview.width > 0);
    // Asked only for its size, nothing is decoded.
    let probes = probe_all(&server, &["/photo.jpg"], Want::Size);
    assert!(probes[0].preview.is_none());
}

#[test]
fn a_small_file_fetched_whole_for_its_preview_is_not_fetched_again_when_queued() {
    let png: Arc<[u8]> = Arc::from(support::png(90, 60, 4));
    let server = serve(vec![("/small.png".into(), png.clone(), (90, 60))], true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let small = url(&server, "/small.png");
    let probes = engine
        .finder()
        .probe(&[(small.clone(), Want::Preview)], None, &|_, _| {});
    let preview = probes[0]
        .preview
        .as_ref()
        .expect("preview of the whole file");
    assert_eq!((preview.width, preview.height), (90, 60));
    let requests = server
        .stats()
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(requests, 1);
    engine.run(Command::add([small])).expect("add");
    let events = until_idle(&rx, Duration::from_secs(30));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, pixgrab_engine::Event::Done { .. })),
        "{events:?}"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("small.png")).expect("downloaded"),
        png.to_vec()
    );
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        requests,
        "no second request"
    );
    engine.shutdown();
}

#[test]
fn a_failed_probe_says_why() {
    let server = serve(Vec::new(), true);
    let probes = probe_all(&server, &["/gone.jpg", "/page.html"], Want::Preview);
    assert_eq!(probes[0].error.as_deref(), Some("HTTP 404 Not Found"));
    assert_eq!(
        probes[1].error.as_deref(),
        Some("not an image (got HTML, served as text/html)")
    );
    assert!(
        probes
            .iter()
            .all(|p| p.pixels.is_none() && p.preview.is_none())
    );
}

#[test]
fn a_cut_body_is_never_taken_for_the_whole_file() {
    use pixgrab_testsite::loopback::Behaviour;
    use std::sync::atomic::{AtomicBool, Ordering};
    let png: Arc<[u8]> = Arc::from(support::png(90, 60, 9));
    let cut = Arc::new(AtomicBool::new(true));
    let (body, cutting) = (png.clone(), cut.clone());
    // Announces the whole length, sends half, closes (while `cut` holds).
    let server = Server::start(move |req| {
        let response = Response::ok("image/png", body.clone());
        if cutting.load(Ordering::SeqCst) && req.path == "/cut.png" {
            response.behaving(Behaviour::Truncate {
                send: body.len() / 2,
            })
        } else {
            response
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let cut_url = url(&server, "/cut.png");
    let probes = engine
        .finder()
        .probe(&[(cut_url.clone(), Want::Preview)], None, &|_, _| {});
    assert_eq!(probes[0].pixels, Some((90, 60)), "the header came");
    assert!(probes[0].preview.is_none(), "no preview of half a file");
    // Queued, it is fetched for real (and whole), not published from the cut probe.
    cut.store(false, std::sync::atomic::Ordering::SeqCst);
    engine.run(Command::add([cut_url])).expect("add");
    until_idle(&rx, Duration::from_secs(30));
    assert_eq!(
        std::fs::read(tmp.path().join("cut.png")).expect("downloaded"),
        png.to_vec()
    );
    assert_eq!(server.stats().requests.load(Ordering::SeqCst), 2);
    engine.shutdown();
}

#[test]
fn a_small_file_claiming_a_huge_picture_gets_its_size_but_no_preview() {
    // A PNG header claiming 20000×20000 pixels, then junk: never decoded.
    let mut png = support::png(4, 4, 1);
    png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let server = serve(
        vec![("/huge.png".into(), Arc::from(png), (20_000, 20_000))],
        true,
    );
    let probes = probe_all(&server, &["/huge.png"], Want::WholePreview);
    assert_eq!(probes[0].pixels, Some((20_000, 20_000)));
    assert!(probes[0].preview.is_none());
}

#[test]
fn a_header_behind_160_kib_of_profiles_is_read_deeper_with_or_without_range() {
    // A camera photo with three 60 KB APP2 segments (a big ICC profile) before its frame
    // header, as some editors write them.
    let photo = big_photo("exif-samples/Canon_40D.jpg", 1600, 1200, 8);
    let mut deep = photo[..2].to_vec();
    for n in 0..3u8 {
        let body = vec![n; 60_000];
        deep.extend_from_slice(&[0xFF, 0xE2]);
        deep.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        deep.extend_from_slice(&body);
    }
    deep.extend_from_slice(&photo[2..]);
    let deep: Arc<[u8]> = Arc::from(deep);
    for ranges in [true, false] {
        let server = serve(
            vec![("/deep.jpg".into(), deep.clone(), (1600, 1200))],
            ranges,
        );
        let probes = probe_all(&server, &["/deep.jpg"], Want::Size);
        assert_eq!(probes[0].pixels, Some((1600, 1200)), "ranges {ranges}");
        assert_eq!(probes[0].error, None);
        assert!(
            probes[0].fetched < 200 * 1024,
            "read {} (ranges {ranges})",
            probes[0].fetched
        );
    }
}

#[test]
fn an_image_given_as_a_page_is_its_own_only_image_and_is_not_fetched_twice() {
    let png: Arc<[u8]> = Arc::from(support::png(30, 20, 2));
    let server = serve(vec![("/photo.png".into(), png.clone(), (30, 20))], true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let photo = url(&server, "/photo.png");
    let found = engine
        .finder()
        .find_images(&photo)
        .expect("an image is a page of one");
    let urls: Vec<&url::Url> = found.candidates.iter().map(|c| &c.url).collect();
    assert_eq!(urls, [&photo]);
    engine
        .run(Command::add_from([photo.clone()], &found.page))
        .expect("add");
    until_idle(&rx, Duration::from_secs(30));
    assert_eq!(
        std::fs::read(tmp.path().join("photo.png")).expect("downloaded"),
        png.to_vec()
    );
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1,
        "read once, as the page"
    );
    engine.shutdown();
}

/// Issue 23, item 10: a header read deeper with a second range request asks where the
/// first answer came from (after its redirects), and bytes from two answers are never
/// taken for the whole file: a server that splices another body into the second answer
/// cannot get it published without a request.
#[test]
fn a_probe_s_second_range_asks_the_final_url_and_is_never_spliced_into_a_file() {
    // Three 60 KB APP2 segments, then a tiny picture: the frame header is near the end,
    // so the second range brings the file to its last byte.
    let tiny = support::jpeg(16, 16, 4);
    let mut file = tiny[..2].to_vec();
    for n in 0..3u8 {
        file.extend_from_slice(&[0xFF, 0xE2]);
        file.extend_from_slice(&60_002u16.to_be_bytes());
        file.extend_from_slice(&vec![n; 60_000]);
    }
    file.extend_from_slice(&tiny[2..]);
    let file: Arc<[u8]> = Arc::from(file);
    // The same length, with the picture's own bytes changed (another picture's data).
    let mut other = file.to_vec();
    let other_tiny = support::jpeg(16, 16, 99);
    let n = other_tiny.len().min(tiny.len()) - 2;
    let at = other.len() - n;
    other[at..].copy_from_slice(&other_tiny[other_tiny.len() - n..]);
    let other: Arc<[u8]> = Arc::from(other);
    let later_ranges: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let log = later_ranges.clone();
    let served = file.clone();
    let server = Server::start(move |req| {
        let range = req.header("range").unwrap_or("").to_string();
        if req.path == "/moved.jpg" {
            return Response::redirect("/deep.jpg");
        }
        if range.is_empty() || range.starts_with("bytes=0-") {
            return Response::ranged(req, "image/jpeg", &served, "\"1\"");
        }
        log.lock()
            .expect("log")
            .push(format!("{} {range}", req.path));
        // A range from further on: the right Content-Range, spliced bytes.
        Response::ranged(req, "image/jpeg", &other, "\"1\"")
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(config(tmp.path())).expect("start");
    let moved = url(&server, "/moved.jpg");
    let probes = engine
        .finder()
        .probe(&[(moved.clone(), Want::Preview)], None, &|_, _| {});
    assert_eq!(probes[0].pixels, Some((16, 16)), "{:?}", probes[0].error);
    let asked = later_ranges.lock().expect("log").clone();
    assert!(
        !asked.is_empty() && asked.iter().all(|r| r.starts_with("/deep.jpg ")),
        "the second range asks the final URL: {asked:?}"
    );
    engine.run(Command::add([moved])).expect("add");
    until_idle(&rx, Duration::from_secs(30));
    engine.shutdown();
    let saved: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let bytes = std::fs::read(tmp.path().join(&saved[0])).expect("saved");
    assert!(
        bytes == file[..],
        "the file is the server's own bytes, fetched whole ({} bytes, {} differ)",
        bytes.len(),
        bytes
            .iter()
            .zip(file.iter())
            .filter(|(a, b)| a != b)
            .count()
    );
}

/// Issue 23, item 5: a page that sends a byte every half second never stalls, and its
/// read still ends at the page deadline; the same for a probe.
#[test]
fn a_page_read_and_a_probe_end_within_their_deadlines_whatever_the_server_does() {
    use pixgrab_testsite::loopback::Behaviour;
    let trickle = Behaviour::Slow {
        chunk: 1,
        delay: Duration::from_millis(500),
    };
    let page = format!("<html>{}<img src=\"/a.png\"></html>", " ".repeat(2000));
    let png = support::png(40, 30, 1);
    let server = Server::start(move |req| match req.path.as_str() {
        "/page.html" => {
            Response::ok("text/html", page.clone().into_bytes()).behaving(trickle.clone())
        }
        _ => Response::ok("image/png", png.clone()).behaving(trickle.clone()),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = config(tmp.path());
    config.page_deadline = Duration::from_secs(2);
    config.probe_deadline = Duration::from_secs(2);
    let (engine, _rx) = Engine::start(config).expect("start");
    let finder = engine.finder();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let page = url(&server, "/page.html");
    let image = url(&server, "/a.png");
    std::thread::spawn(move || {
        let read = finder
            .find_images(&page)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let probe = finder.probe(&[(image, Want::Size)], None, &|_, _| {});
        let _ = tx.send((read, probe));
    });
    // Without a deadline the page alone takes over 1000 s.
    let (read, probe): (Result<(), String>, Vec<Probe>) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the page read and the probe ended");
    engine.shutdown();
    assert_eq!(read, Err("too slow: not over after 2 s".to_string()));
    assert_eq!(probe[0].pixels, None);
    assert_eq!(
        probe[0].error.as_deref(),
        Some("too slow: not over after 2 s")
    );
}

/// Issue #24: the per-host limit is one thing. Downloads and the probes of a Find that
/// run at the same time on one host share its limit, so the host never sees more
/// requests at once than the limit, whoever makes them.
#[test]
fn downloads_and_probes_of_one_host_share_its_one_limit() {
    use pixgrab_engine::{Command, Event};
    // Every answer takes a while, so that downloads and probes overlap.
    let server = Server::start(|req| {
        std::thread::sleep(Duration::from_millis(300));
        let seed = req.path.bytes().map(u32::from).sum::<u32>() as u8;
        Response::ok("image/png", support::png(40, 30, seed))
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = config(tmp.path());
    cfg.jobs = 8;
    cfg.per_host = Some(2);
    let (engine, rx) = Engine::start(cfg).expect("start");
    let downloads: Vec<Url> = (0..6)
        .map(|n| url(&server, &format!("/d/{n}.png")))
        .collect();
    let probes: Vec<(Url, Want)> = (0..6)
        .map(|n| (url(&server, &format!("/p/{n}.png")), Want::Size))
        .collect();
    engine.send(Command::Add {
        urls: downloads,
        page: None,
    });
    let finder = engine.finder();
    let probed = std::thread::spawn(move || finder.probe(&probes, None, &|_, _| {}));
    let events = until_idle(&rx, Duration::from_secs(60));
    let probed = probed.join().expect("the probes end");
    let done = events
        .iter()
        .filter(|e| matches!(e, Event::Done { .. }))
        .count();
    assert_eq!(done, 6, "every download is done: {events:?}");
    assert!(
        probed.iter().all(|p| p.pixels == Some((40, 30))),
        "every probe read its size: {probed:?}"
    );
    let most = server
        .stats()
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        most <= 2,
        "the host saw {most} requests at once; its limit is 2 (downloads and probes together)"
    );
}
