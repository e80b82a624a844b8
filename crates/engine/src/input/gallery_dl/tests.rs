//! Tests of reading gallery-dl's output (recorded from real runs), its error texts,
//! the output readers, and finding the program.

use std::sync::atomic::Ordering;

use super::errors::{ERROR_TEXT_CAP, error_line};
use super::parse::interpret;
use super::pipes::{read_head, read_tail};
use super::*;

/// `gallery-dl -j generic:http://127.0.0.2/index.html` (1.32.18) on a page with three
/// `<img>`, an `<a href>` to a .jpg, an `&amp;` in a src and a `data:` src.
const DUMP_GENERIC: &str = r#"[
  [
2,
{
  "category": "generic",
  "count": 5,
  "pageurl": "http://127.0.0.2/index.html",
  "path": "index.html",
  "subcategory": "127.0.0.2",
  "title": "Test page"
}
  ],
  [
3,
"http://127.0.0.2/img1.png",
{
  "category": "generic",
  "count": 5,
  "extension": "png",
  "filename": "img1",
  "imageurl": "http://127.0.0.2/img1.png",
  "num": 1,
  "pageurl": "http://127.0.0.2/index.html",
  "path": "index.html",
  "subcategory": "127.0.0.2",
  "title": "Test page"
}
  ],
  [
3,
"http://127.0.0.2/img2.png",
{
  "category": "generic",
  "count": 5,
  "extension": "png",
  "filename": "img2",
  "imageurl": "http://127.0.0.2/img2.png",
  "num": 2,
  "pageurl": "http://127.0.0.2/index.html",
  "path": "index.html",
  "subcategory": "127.0.0.2",
  "title": "Test page"
}
  ],
  [
3,
"http://127.0.0.2/img3.png?x=1&amp;y=2",
{
  "category": "generic",
  "count": 5,
  "extension": "png",
  "filename": "img3",
  "imageurl": "http://127.0.0.2/img3.png?x=1&amp;y=2",
  "num": 3,
  "pageurl": "http://127.0.0.2/index.html",
  "path": "index.html",
  "subcategory": "127.0.0.2",
  "title": "Test page"
}
  ],
  [
3,
"http://127.0.0.2/data:image/png;base64,iVBORw0KGgo=",
{
  "category": "generic",
  "count": 5,
  "extension": "",
  "filename": "png;base64,iVBORw0KGgo=",
  "imageurl": "http://127.0.0.2/data:image/png;base64,iVBORw0KGgo=",
  "num": 4,
  "pageurl": "http://127.0.0.2/index.html",
  "path": "index.html",
  "subcategory": "127.0.0.2",
  "title": "Test page"
}
  ],
  [
3,
"http://127.0.0.2/img3.jpg",
{
  "category": "generic",
  "count": 5,
  "extension": "jpg",
  "filename": "img3",
  "imageurl": "http://127.0.0.2/img3.jpg",
  "num": 5,
  "pageurl": "http://127.0.0.2/index.html",
  "path": "index.html",
  "subcategory": "127.0.0.2",
  "title": "Test page"
}
  ]
]
"#;

/// The same with `-o output.jsonl=true` (one message per line), first three lines.
const DUMP_JSONL: &str = concat!(
    r#"[2,{"title":"Test page","path":"index.html","pageurl":"http://127.0.0.2/index.html","count":5,"category":"generic","subcategory":"127.0.0.2"}]"#,
    "\n",
    r#"[3,"http://127.0.0.2/img1.png",{"title":"Test page","path":"index.html","pageurl":"http://127.0.0.2/index.html","count":5,"category":"generic","subcategory":"127.0.0.2","num":1,"imageurl":"http://127.0.0.2/img1.png","filename":"img1","extension":"png"}]"#,
    "\n",
    r#"[3,"http://127.0.0.2/img2.png",{"title":"Test page","path":"index.html","pageurl":"http://127.0.0.2/index.html","count":5,"category":"generic","subcategory":"127.0.0.2","num":2,"imageurl":"http://127.0.0.2/img2.png","filename":"img2","extension":"png"}]"#,
    "\n",
);

/// `gallery-dl -j generic:http://127.0.0.2/missing.html`: exit status 0.
const DUMP_404: &str = r#"[
  [
-1,
{
  "error": "HttpError",
  "message": "'404 File not found' for 'http://127.0.0.2/missing.html'"
}
  ]
]
"#;

/// `gallery-dl -j generic:http://127.0.0.3/index.html` (nothing listening): exit status 0.
const DUMP_REFUSED: &str = r#"[
  [
-1,
{
  "error": "HttpError",
  "message": " NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused"
}
  ]
]
"#;

/// `gallery-dl -j generic:http://127.0.0.2/empty/index.html` (a page without images).
const DUMP_EMPTY_PAGE: &str = r#"[
  [
2,
{
  "category": "generic",
  "count": 0,
  "pageurl": "http://127.0.0.2/empty/index.html",
  "path": "emptyindex.html",
  "subcategory": "127.0.0.2"
}
  ]
]
"#;

/// `gallery-dl -j http://127.0.0.2/x.html`: exit status 64, nothing on standard output.
const STDERR_UNSUPPORTED: &str = "[gallery-dl][error] Unsupported URL 'http://127.0.0.2/x.html'\n";

/// `gallery-dl -g generic:http://127.0.0.2/missing.html`: exit status 4.
const STDERR_404: &str =
    "[generic][error] HttpError: '404 File not found' for 'http://127.0.0.2/missing.html'\n";

/// `gallery-dl --bogus -- x`: exit status 2.
const STDERR_USAGE: &str = "usage: gallery-dl [OPTIONS] URL [URL...]\ngallery-dl: error: unrecognized arguments: --bogus\n";

fn urls(listing: &Listing) -> Vec<&str> {
    listing.media.iter().map(|m| m.url.as_str()).collect()
}

#[test]
fn the_generic_dump_lists_every_file_with_name_and_extension() {
    let listing = interpret(Some(0), DUMP_GENERIC.as_bytes(), b"").expect("listing");
    assert_eq!(
        urls(&listing),
        [
            "http://127.0.0.2/img1.png",
            "http://127.0.0.2/img2.png",
            // gallery-dl's generic extractor does not unescape HTML; we pass it on as is.
            "http://127.0.0.2/img3.png?x=1&amp;y=2",
            "http://127.0.0.2/data:image/png;base64,iVBORw0KGgo=",
            "http://127.0.0.2/img3.jpg",
        ]
    );
    let first = &listing.media[0];
    assert_eq!(first.filename.as_deref(), Some("img1"));
    assert_eq!(first.extension.as_deref(), Some("png"));
    assert_eq!((first.width, first.height), (None, None));
    assert_eq!(listing.media[3].extension, None, "empty extension is None");
    assert!(listing.pages.is_empty() && listing.errors.is_empty());
    assert_eq!(listing.skipped, 0);
}

#[test]
fn one_message_per_line_reads_the_same() {
    let listing = interpret(Some(0), DUMP_JSONL.as_bytes(), b"").expect("listing");
    assert_eq!(
        urls(&listing),
        ["http://127.0.0.2/img1.png", "http://127.0.0.2/img2.png"]
    );
}

#[test]
fn a_single_line_with_one_message_is_one_message() {
    let line = r#"[3,"https://a.example/1.jpg",{"width":640,"height":480}]"#;
    let listing = interpret(Some(0), line.as_bytes(), b"").expect("listing");
    assert_eq!(urls(&listing), ["https://a.example/1.jpg"]);
    assert_eq!(
        (listing.media[0].width, listing.media[0].height),
        (Some(640), Some(480))
    );
}

#[test]
fn sizes_come_from_width_or_image_width_numbers_or_strings() {
    let dump = r#"[
      [3, "https://a.example/1.jpg", {"width": 1200, "height": 800}],
      [3, "https://a.example/2.jpg", {"image_width": 300, "image_height": 200}],
      [3, "https://a.example/3.jpg", {"width": "64", "height": "48"}],
      [3, "https://a.example/4.jpg", {"width": 0, "height": -1}],
      [3, "https://a.example/5.jpg", {"width": 99999999999, "height": null}]
    ]"#;
    let listing = interpret(Some(0), dump.as_bytes(), b"").expect("listing");
    let sizes: Vec<_> = listing.media.iter().map(|m| (m.width, m.height)).collect();
    assert_eq!(
        sizes,
        [
            (Some(1200), Some(800)),
            (Some(300), Some(200)),
            (Some(64), Some(48)),
            (None, None),
            (None, None),
        ]
    );
}

#[test]
fn non_web_urls_are_skipped_pages_kept_apart_and_duplicates_dropped() {
    // Message shapes as gallery-dl writes them: `ytdl:` for videos left to yt-dlp, `text:`
    // for text posts, 6 for a page handled by another extractor.
    let dump = r#"[
      [2, {"category": "example"}],
      [3, "ytdl:https://video.example/watch?v=1", {}],
      [3, "text:Hello there", {}],
      [3, "https://a.example/1.jpg", {}],
      [3, "https://a.example/1.jpg", {}],
      [3, "not a url", {}],
      [3, 42, {}],
      [6, "https://other.example/album/7", {"_extractor": null}],
      [6, "ftp://other.example/x", {}]
    ]"#;
    let listing = interpret(Some(0), dump.as_bytes(), b"").expect("listing");
    assert_eq!(urls(&listing), ["https://a.example/1.jpg"]);
    assert_eq!(listing.pages.len(), 1);
    assert_eq!(listing.pages[0].as_str(), "https://other.example/album/7");
    assert_eq!(listing.skipped, 5);
}

#[test]
fn a_failed_page_is_failed_with_gallery_dls_words() {
    assert_eq!(
        interpret(Some(0), DUMP_404.as_bytes(), b""),
        Err(GalleryDlError::Failed(
            "HttpError: '404 File not found' for 'http://127.0.0.2/missing.html'".into()
        ))
    );
    assert_eq!(
        interpret(Some(0), DUMP_REFUSED.as_bytes(), b""),
        Err(GalleryDlError::Failed(
            "HttpError: NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused"
                .into()
        ))
    );
}

#[test]
fn the_old_error_format_is_read_too() {
    let dump = r#"[["HttpError", "'404 Not Found' for 'https://a.example/x'"]]"#;
    assert_eq!(
        interpret(Some(0), dump.as_bytes(), b""),
        Err(GalleryDlError::Failed(
            "HttpError: '404 Not Found' for 'https://a.example/x'".into()
        ))
    );
}

#[test]
fn a_partial_result_keeps_its_files_and_the_error() {
    let dump = r#"[
      [3, "https://a.example/1.jpg", {}],
      [-1, {"error": "HttpError", "message": "'500 Internal Server Error' for 'https://a.example/p2'"}]
    ]"#;
    let listing = interpret(Some(0), dump.as_bytes(), b"").expect("listing");
    assert_eq!(urls(&listing), ["https://a.example/1.jpg"]);
    assert_eq!(
        listing.errors,
        ["HttpError: '500 Internal Server Error' for 'https://a.example/p2'"]
    );
}

#[test]
fn a_page_without_images_is_an_empty_listing() {
    let listing = interpret(Some(0), DUMP_EMPTY_PAGE.as_bytes(), b"").expect("listing");
    assert_eq!(listing, Listing::default());
}

#[test]
fn exit_status_64_is_unsupported() {
    assert_eq!(
        interpret(Some(64), b"", STDERR_UNSUPPORTED.as_bytes()),
        Err(GalleryDlError::Unsupported)
    );
}

#[test]
fn without_json_the_error_line_on_stderr_is_the_reason() {
    assert_eq!(
        interpret(Some(4), b"", STDERR_404.as_bytes()),
        Err(GalleryDlError::Failed(
            "HttpError: '404 File not found' for 'http://127.0.0.2/missing.html'".into()
        ))
    );
    assert_eq!(
        interpret(Some(2), b"", STDERR_USAGE.as_bytes()),
        Err(GalleryDlError::Failed(
            "gallery-dl: error: unrecognized arguments: --bogus".into()
        ))
    );
    assert_eq!(
        interpret(Some(1), b"", b""),
        Err(GalleryDlError::Failed(
            "gallery-dl exited with status 1".into()
        ))
    );
    assert_eq!(
        interpret(None, b"", b""),
        Err(GalleryDlError::Failed(
            "gallery-dl was stopped by a signal".into()
        ))
    );
}

#[test]
fn unreadable_output_is_failed_not_a_panic() {
    let result = interpret(Some(0), b"[[3, \"https://a.example/1.jpg\"", b"");
    assert!(
        matches!(result, Err(GalleryDlError::Failed(_))),
        "{result:?}"
    );
    let result = interpret(Some(0), b"\xff\xfe garbage", b"");
    assert!(
        matches!(result, Err(GalleryDlError::Failed(_))),
        "{result:?}"
    );
    assert_eq!(interpret(Some(0), b"{}", b""), Ok(Listing::default()));
    assert_eq!(interpret(Some(0), b"[]", b""), Ok(Listing::default()));
}

#[test]
fn colour_codes_and_long_lines_are_cleaned_from_error_text() {
    let stderr = "\u{1b}[1;31m[generic][error] HttpError: boom\u{1b}[0m\n";
    assert_eq!(
        error_line(stderr.as_bytes()).as_deref(),
        Some("HttpError: boom")
    );
    let long = "é".repeat(5000);
    let capped = error_line(long.as_bytes()).expect("a line");
    assert_eq!(capped.chars().count(), ERROR_TEXT_CAP + 1);
    assert!(capped.ends_with('…'));
}

#[test]
fn stderr_keeps_its_tail_and_stdout_its_head() {
    let mut text = "x".repeat(100);
    text.push_str("\nthe end");
    let tail = read_tail(text.as_bytes(), 16).expect("read");
    assert!(tail.bytes.ends_with(b"the end"));
    let overflow = AtomicBool::new(false);
    let head = read_head(text.as_bytes(), 16, &overflow).expect("read");
    assert_eq!(head.bytes.len(), 16);
    assert!(head.overflowed && overflow.load(Ordering::Relaxed));
    let fits = read_head(&b"short"[..], 16, &AtomicBool::new(false)).expect("read");
    assert!(!fits.overflowed);
}

#[test]
fn locate_takes_the_users_setting_or_nothing() {
    assert!(GalleryDl::locate(Some(Path::new("/nonexistent/gallery-dl"))).is_none());
    assert!(GalleryDl::locate(Some(Path::new(""))).is_none());
    assert!(GalleryDl::locate(Some(Path::new("pixgrab-no-such-program"))).is_none());
    // A directory is not a program.
    assert!(GalleryDl::locate(Some(&std::env::temp_dir())).is_none());
}

#[cfg(unix)]
#[test]
fn a_file_without_execute_bits_is_not_a_program() {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::temp_dir().join(format!("pixgrab-gdl-noexec-{}", std::process::id()));
    std::fs::write(&path, "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(GalleryDl::locate(Some(&path)).is_none());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(
        GalleryDl::locate(Some(&path)).map(|g| g.program),
        Some(path.clone())
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn other_schemes_are_refused_before_running_anything() {
    let gdl = GalleryDl {
        program: PathBuf::from("/nonexistent/gallery-dl"),
        generic: false,
        proxy: None,
        cancel: None,
    };
    let page = Url::parse("file:///etc/passwd").expect("url");
    assert!(matches!(
        gdl.list(&page, None, Duration::from_secs(1)),
        Err(GalleryDlError::Failed(_))
    ));
    let page = Url::parse("https://a.example/").expect("url");
    assert!(matches!(
        gdl.list(&page, None, Duration::from_secs(1)),
        Err(GalleryDlError::Spawn(_))
    ));
}
