//! `pixgrab get`, run as a real process against a local server.

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::fs;
use std::process::{Command, Output};

use pixgrab_testsite::loopback::{Response, Server};
use support::site;

fn pixgrab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(args)
        .output()
        .expect("run pixgrab")
}

#[test]
fn a_list_file_downloads_everything_and_exits_zero() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let list = tmp.path().join("list.html");
    // An HTML file with URLs in attributes, plus one unsupported scheme that is reported.
    let html = format!(
        "<p><img src=\"{}\"> <a href='{}'>photo</a> <a href=\"ftp://x.org/a.jpg\">ftp</a></p>",
        server.url("/img/2.png"),
        server.url("/photo.jpg")
    );
    fs::write(&list, html).expect("write list");
    let out = tmp.path().join("out");
    let run = pixgrab(&[
        "get",
        "-i",
        list.to_str().expect("utf8"),
        "-o",
        out.to_str().expect("utf8"),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("skipped ftp://x.org/a.jpg: unsupported scheme ftp:"),
        "{stderr}"
    );
    assert!(stderr.contains("Downloaded 2 of 2 images"), "{stderr}");
    assert!(out.join("2.png").is_file());
    assert!(out.join("photo.jpg").is_file());
    let thumbs = fs::read_dir(out.join(".pixgrab/thumbs"))
        .expect("thumb cache")
        .count();
    assert_eq!(thumbs, 2);
}

#[test]
fn failures_are_listed_with_reasons_and_exit_one() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let run = pixgrab(&[
        "get",
        "-o",
        out.to_str().expect("utf8"),
        &server.url("/img/1.png"),
        &server.url("/missing.jpg"),
        &server.url("/login.jpg"),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "failed {}: HTTP 404 Not Found",
            server.url("/missing.jpg")
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("not an image (got HTML, served as image/jpeg)"),
        "{stderr}"
    );
    assert!(stderr.contains("Downloaded 1 of 3 images"), "{stderr}");
}

#[test]
fn json_mode_prints_one_object_per_event() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let run = pixgrab(&[
        "get",
        "--json",
        "-o",
        out.to_str().expect("utf8"),
        &server.url("/photo.jpg"),
    ]);
    assert_eq!(run.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"begin"));
    assert_eq!(kinds.last(), Some(&"summary"));
    let done = events
        .iter()
        .find(|e| e["event"] == "done")
        .expect("done event");
    assert_eq!(done["width"], 800);
    assert_eq!(done["height"], 600);
    assert_eq!(done["format"], "JPEG");
    let bytes = fs::read(out.join("photo.jpg")).expect("file");
    assert_eq!(done["bytes"], bytes.len());
    assert!(kinds.contains(&"thumbnail"), "{kinds:?}");
}

#[test]
fn a_second_run_fetches_nothing_again_and_export_lists_the_library() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let out_arg = out.to_str().expect("utf8");
    let (ok, missing) = (server.url("/img/4.png"), server.url("/missing.jpg"));
    let first = pixgrab(&["get", "-o", out_arg, &ok, &missing]);
    assert_eq!(first.status.code(), Some(1));
    let requests = server
        .stats()
        .requests
        .load(std::sync::atomic::Ordering::SeqCst);

    let second = pixgrab(&["get", "-o", out_arg, &ok]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1 done in earlier runs"), "{stderr}");
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        requests,
        "a done item is not downloaded again"
    );

    let csv = pixgrab(&["export", "-o", out_arg]);
    assert_eq!(csv.status.code(), Some(0));
    let csv = String::from_utf8_lossy(&csv.stdout);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "url,final_url,file,status,bytes,sha256,width,height,error"
    );
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("{ok},{ok},4.png,done,"))),
        "{csv}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with(&missing)
            && r.contains(",failed,")
            && r.ends_with("HTTP 404 Not Found")),
        "{csv}"
    );
    let json = pixgrab(&["export", "-o", out_arg, "--json"]);
    let items: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(items.as_array().map(Vec::len), Some(2));
    assert_eq!(items[0]["width"], 64);

    // An export is a URL list too: only its url column is queued.
    let list = tmp.path().join("library.csv");
    fs::write(&list, csv.as_bytes()).expect("write");
    let again = pixgrab(&[
        "get",
        "--json",
        "-o",
        out_arg,
        "-i",
        list.to_str().expect("utf8"),
    ]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("\"urls\":2"), "{stdout}");
}

#[test]
fn no_valid_url_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let run = pixgrab(&[
        "get",
        "-o",
        tmp.path().to_str().expect("utf8"),
        "ftp://a.org/x.jpg",
        "hello",
    ]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("no http or https URL"), "{stderr}");
    let missing = pixgrab(&["get", "-i", "/definitely/not/here.txt"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("cannot read /definitely/not/here.txt")
    );
}

#[test]
fn thumbs_makes_one_thumbnail_per_image_and_names_the_rest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let input = tmp.path().join("in");
    fs::create_dir_all(&input).expect("mkdir");
    fs::write(input.join("wide.png"), support::png(600, 300, 1)).expect("write");
    fs::write(input.join("photo.jpg"), support::jpeg(800, 600, 2)).expect("write");
    fs::write(input.join("notes.txt"), b"not an image").expect("write");
    let out = tmp.path().join("thumbs");
    let run = pixgrab(&[
        "thumbs",
        "--size",
        "128",
        "-o",
        out.to_str().expect("utf8"),
        input.to_str().expect("utf8"),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("notes.txt: not an image (got text)"),
        "{stderr}"
    );
    assert!(stderr.contains("Made 2 of 3 thumbnails"), "{stderr}");
    let wide = image::open(out.join("wide.jpg")).expect("wide thumbnail");
    assert_eq!((wide.width(), wide.height()), (128, 64));
    let photo = image::open(out.join("photo.jpg")).expect("photo thumbnail");
    assert_eq!((photo.width(), photo.height()), (128, 96));
}

#[test]
fn a_name_template_makes_folders_and_names_and_exports_carry_them() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let out_arg = out.to_str().expect("utf8");
    let urls = [
        server.url("/img/1.png"),
        server.url("/a/cat.png"),
        server.url("/b/cat.png"),
    ];
    let template = "{host}/{num:03}-{name}-{width}x{height}.{ext}";
    let mut args = vec!["get", "--name", template, "-o", out_arg];
    args.extend(urls.iter().map(String::as_str));
    let run = pixgrab(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    // The host without its port; the number is the position in the input.
    let host = out.join("127.0.0.1");
    for name in ["001-1-64x49.png", "002-cat-30x20.png", "003-cat-20x30.png"] {
        assert!(host.join(name).is_file(), "{name} missing in {host:?}");
    }
    let csv = pixgrab(&["export", "-o", out_arg]);
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.contains(",127.0.0.1/002-cat-30x20.png,done,"), "{csv}");

    // Same name in one folder: the second gets " (2)".
    let out2 = tmp.path().join("out2");
    let run = pixgrab(&[
        "get",
        "--name",
        "{host}/{name}.{ext}",
        "-o",
        out2.to_str().expect("utf8"),
        &urls[1],
        &urls[2],
    ]);
    assert_eq!(run.status.code(), Some(0));
    let mut names: Vec<String> = fs::read_dir(out2.join("127.0.0.1"))
        .expect("host folder")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cat (2).png", "cat.png"]);
}

#[test]
fn a_bad_name_template_is_refused_before_any_request() {
    let server = site();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let url = server.url("/img/1.png");
    for (template, why) in [
        ("{host}/../{name}.{ext}", "'..' is not allowed"),
        ("/etc/{name}.{ext}", "an absolute path is not allowed"),
        ("{nme}.{ext}", "unknown field {nme}"),
        ("{name.{ext}", "a '{' without its '}'"),
    ] {
        let run = pixgrab(&[
            "get",
            "--name",
            template,
            "-o",
            out.to_str().expect("utf8"),
            &url,
        ]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{template}: {stderr}");
        assert!(stderr.contains(why), "{template}: {stderr}");
    }
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert!(!out.exists(), "nothing was created");
}

#[test]
fn similar_groups_a_photo_s_resized_recompressed_and_cropped_copies() {
    let mut files = support::iguana_and_copies();
    files.push((
        "pentax.jpg",
        std::sync::Arc::from(support::corpus_file("exif-samples/Pentax_K10D.jpg")),
    ));
    let names: Vec<&str> = files.iter().map(|(n, _)| *n).collect();
    let server = support::serve_jpegs(files);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let out_arg = out.to_str().expect("utf8");
    let urls: Vec<String> = names.iter().map(|n| server.url(&format!("/{n}"))).collect();
    let mut args = vec!["get", "-o", out_arg];
    args.extend(urls.iter().map(String::as_str));
    assert_eq!(pixgrab(&args).status.code(), Some(0));

    // As if downloaded before hashes were made, or hashed by an older version (here
    // all with one old hash, which would make one group of all): `similar` hashes
    // the files itself, from the format the library recorded.
    // The library's file, as it is on disk (the test edits it behind Pixgrab's back).
    let db = out.join(".pixgrab").join("library.db");
    rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.execute(
                "UPDATE items SET phash = CASE WHEN id % 2 = 0 THEN NULL \
                 ELSE 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' END",
                [],
            )
        })
        .expect("forget the hashes");
    let run = pixgrab(&["similar", "-o", out_arg, "--json"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let groups: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(groups.len(), 1, "{stdout}");
    assert_eq!(groups[0]["group"], 1);
    let mut grouped: Vec<&str> = groups[0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    grouped.sort_unstable();
    assert_eq!(
        grouped,
        [
            "iguana-crop.jpg",
            "iguana-half.jpg",
            "iguana-q60.jpg",
            "iguana.jpg"
        ]
    );
    let rehashed: i64 = rusqlite::Connection::open(&db)
        .and_then(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM items WHERE phash LIKE '4:%'",
                [],
                |r| r.get(0),
            )
        })
        .expect("count");
    assert_eq!(rehashed, 6, "every file hashed again, and kept");
    // Text for people, and a folder without a library is a usage error.
    let text = pixgrab(&["similar", "-o", out_arg]);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("group 1:\n  "));
    let none = pixgrab(&["similar", "-o", tmp.path().to_str().expect("utf8")]);
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn page_in_a_name_template_is_the_page_title() {
    use pixgrab_testsite::loopback::{Response, Server};
    let png = support::numbered_png("/p1.png");
    let server = Server::start(move |req| match req.path.as_str() {
        "/albums/holiday.html" => Response::ok(
            "text/html",
            b"<html><head><title>\n  Holiday  2026 / day 1 </title></head><body><img src=\"/p1.png\"></body></html>".to_vec(),
        ),
        "/p1.png" => Response::ok("image/png", png.clone()),
        _ => Response::status(404),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let page = server.url("/albums/holiday.html");
    let run = pixgrab(&[
        "get",
        "--allow-private",
        "--name",
        "{page}/{name}.{ext}",
        "-o",
        out.to_str().expect("utf8"),
        "--page",
        &page,
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The title, white space collapsed and its '/' made safe.
    assert!(
        out.join("Holiday 2026 _ day 1/p1.png").is_file(),
        "{:?}",
        fs::read_dir(&out).map(|d| d
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect::<Vec<_>>())
    );
}

/// A page of `photos` (name, bytes) as `<img>` tags, each served honouring `Range`
/// (or not, with `ranges == false`).
fn photo_page(photos: Vec<(String, std::sync::Arc<[u8]>)>, ranges: bool) -> Server {
    let html: String = photos
        .iter()
        .map(|(name, _)| format!("<figure><img src=\"/photos/{name}\"></figure>\n"))
        .collect();
    let html = format!("<html><body><h1>Trip</h1>\n{html}</body></html>");
    Server::start(move |req| {
        if req.path == "/trip.html" {
            return Response::ok("text/html", html.clone().into_bytes());
        }
        match photos
            .iter()
            .find(|(name, _)| req.path == format!("/photos/{name}"))
        {
            Some((_, body)) if ranges => Response::ranged(req, "image/jpeg", body, "\"v1\""),
            Some((_, body)) => Response::ok("image/jpeg", body.clone()),
            None => Response::status(404),
        }
    })
    .expect("server")
}

/// `pixgrab get --page` of the photo page into `out`, with `extra` options.
fn get_page(server: &Server, extra: &[&str], out: &std::path::Path) -> Output {
    let page = server.url("/trip.html");
    let mut args = vec!["get", "--page", &page, "-o", out.to_str().expect("utf8")];
    args.extend_from_slice(extra);
    pixgrab(&args)
}

/// Five camera-sized photos (3-4 MB) behind real EXIF segments, with their sizes.
fn five_big_photos() -> Vec<support::Photo> {
    [
        ("Canon_PowerShot_S40.jpg", 2400, 1600),
        ("Konica_Minolta_DiMAGE_Z3.jpg", 1600, 2400),
        ("Nikon_D70.jpg", 2200, 1800),
        ("Pentax_K10D.jpg", 2048, 2048),
        ("Panasonic_DMC-FZ30.jpg", 2600, 1500),
    ]
    .into_iter()
    .enumerate()
    .map(|(n, (exif, w, h))| {
        let bytes = support::big_photo(&format!("exif-samples/{exif}"), w, h, n as u32 + 7);
        (
            format!("photo-{n}.jpg"),
            std::sync::Arc::from(bytes),
            (w, h),
        )
    })
    .collect()
}

#[test]
fn find_json_tells_every_big_photo_s_size_from_its_first_bytes() {
    let photos = five_big_photos();
    for (name, bytes, _) in &photos {
        assert!(
            (3_000_000..4_500_000).contains(&bytes.len()),
            "{name} is {} bytes, not camera-sized",
            bytes.len()
        );
    }
    let server = photo_page(
        photos
            .iter()
            .map(|(n, b, _)| (n.clone(), b.clone()))
            .collect(),
        true,
    );
    let run = pixgrab(&["find", "--json", &server.url("/trip.html")]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // One line per image, as each probe comes back: in URL order here.
    let mut lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    lines.sort_by_key(|l| l["url"].as_str().unwrap_or("").to_string());
    assert_eq!(lines.len(), 5, "{stdout}");
    for ((name, bytes, (w, h)), line) in photos.iter().zip(&lines) {
        assert_eq!(line["url"], server.url(&format!("/photos/{name}")));
        assert_eq!(line["width"], *w, "{line}");
        assert_eq!(line["height"], *h, "{line}");
        assert_eq!(line["bytes"], bytes.len(), "{line}");
        assert_eq!(line["type"], "image/jpeg");
        assert_eq!(line["found"], "img");
        let sent = server.stats().sent(&format!("/photos/{name}"));
        assert!(
            sent <= 128 * 1024,
            "{name}: the server sent {sent} bytes of {}",
            bytes.len()
        );
    }
}

#[test]
fn find_reads_sizes_from_a_server_that_ignores_range_and_min_size_filters() {
    let photos = five_big_photos();
    let server = photo_page(
        photos
            .iter()
            .map(|(n, b, _)| (n.clone(), b.clone()))
            .collect(),
        false,
    );
    let run = pixgrab(&[
        "find",
        "--json",
        "--min-size",
        "2000x1600",
        &server.url("/trip.html"),
    ]);
    assert_eq!(run.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let mut found: Vec<(String, u64, u64)> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .map(|v| {
            (
                v["url"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("")
                    .to_string(),
                v["width"].as_u64().unwrap_or(0),
                v["height"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    found.sort();
    // 2400×1600, 2200×1800 and 2048×2048 are at least 2000×1600; 1600×2400 and
    // 2600×1500 are not.
    assert_eq!(
        found,
        [
            ("photo-0.jpg".to_string(), 2400, 1600),
            ("photo-2.jpg".to_string(), 2200, 1800),
            ("photo-3.jpg".to_string(), 2048, 2048),
        ]
    );
}

#[test]
fn get_page_min_size_downloads_only_the_large_pictures() {
    let photos: Vec<(String, std::sync::Arc<[u8]>)> =
        [(40, 30), (800, 600), (640, 480), (1200, 900)]
            .iter()
            .enumerate()
            .map(|(n, &(w, h))| {
                (
                    format!("p{n}.jpg"),
                    std::sync::Arc::from(support::jpeg(w, h, n as u32)),
                )
            })
            .collect();
    let server = photo_page(photos, true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let run = get_page(&server, &["--min-size", "800x600"], &out);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut files: Vec<String> = fs::read_dir(&out)
        .expect("out")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    files.sort();
    assert_eq!(files, ["p1.jpg", "p3.jpg"]);
}

#[test]
fn a_gallery_dl_that_is_not_there_is_refused_before_any_request() {
    let photos: Vec<(String, std::sync::Arc<[u8]>)> = (0..2)
        .map(|n| {
            (
                format!("p{n}.jpg"),
                std::sync::Arc::from(support::jpeg(64, 48, n)),
            )
        })
        .collect();
    let server = photo_page(photos, true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let run = get_page(&server, &["--gallery-dl", "/nonexistent/gallery-dl"], &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--gallery-dl /nonexistent/gallery-dl: no such program"),
        "{stderr}"
    );
    assert_eq!(
        server
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    // Without it the page is read as HTML.
    let run = get_page(&server, &["--no-gallery-dl"], &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 images found on"), "{stderr}");
    assert!(out.join("p0.jpg").is_file() && out.join("p1.jpg").is_file());
}

#[test]
fn get_watch_keeps_the_page_watched_in_the_folder_s_library() {
    use std::io::{BufRead, BufReader};
    // Too often is refused before anything starts.
    let run = pixgrab(&[
        "get",
        "--page",
        "http://127.0.0.1:9/x.html",
        "--watch",
        "10s",
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("at most once a minute"));

    let photos = vec![(
        "p.jpg".to_string(),
        std::sync::Arc::from(support::jpeg(64, 48, 1)),
    )];
    let server = photo_page(photos, true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let page = server.url("/trip.html");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(["get", "--page", &page, "--watch", "10m", "-o"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run pixgrab");
    let stderr = child.stderr.take().expect("stderr");
    let mut said = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        said.push_str(&line);
        said.push('\n');
        if line.contains("Ctrl+C stops") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        said.contains("first round: 1 done, 0 failed; watching 1 page every 10 min; Ctrl+C stops"),
        "{said}"
    );
    assert!(out.join("p.jpg").is_file(), "the page's image came first");
    let folder = pixgrab_engine::Folder::open(&out).expect("library");
    let watches = folder.watches().expect("watches");
    assert_eq!(watches.len(), 1);
    assert_eq!(watches[0].page.as_str(), page);
    assert_eq!(watches[0].interval_ms, 600_000);
}
