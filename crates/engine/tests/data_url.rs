//! Inline images (issue 23, "Real files"): a `data:` image URL in a list becomes an item
//! saved like any download (part file, sniffed and checked, thumbnail, published, in
//! the library), decoded locally: no request is made, nothing in the URL names the file,
//! and the library holds a short form, never the payload.

mod support;

use std::path::Path;
use std::time::Duration;

use pixgrab_engine::{Command, DATA_DIR, Engine, Event, ItemId, read_urls};
use support::{base64, config, corpus_file, failure, until_idle};

const LIMIT: Duration = Duration::from_secs(60);

/// Every byte but letters and digits as `%XX` (what `encodeURIComponent` does, and more).
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Files in `dir` (not Pixgrab's own folder), sorted.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("out dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="#c00"/></svg>"##;

#[test]
fn data_urls_in_a_list_are_saved_like_downloads_and_bad_ones_fail_with_a_reason() {
    // PngSuite's basn6a16: 32x32, RGBA, 16 bits a sample.
    let png = corpus_file("image-rs/png/basn6a16.png");
    let png_url = format!("data:image/png;base64,{}", base64(&png));
    let svg_url = format!("data:image/svg+xml,{}", percent_encoded(SVG));
    let html_url = format!("data:image/png;base64,{}", base64(support::HTML));
    let list = format!(
        "inline images\n{png_url}\n{svg_url}\n<img src=\"{png_url}\">\n{html_url}\n\
         data:image/gif;base64,R0lGOD!!hAQABAIAAAAAAAA\ndata:text/html,%3Cb%3Ehi%3C%2Fb%3E\n"
    );
    let intake = read_urls(&list);
    let rejected: Vec<(&str, &str)> = intake
        .rejected
        .iter()
        .map(|r| (r.text.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        rejected,
        [(
            "data:text/html,%3Cb%3Ehi%3C%2Fb%3E",
            "not an image (got text/html)"
        )]
    );
    assert_eq!(intake.duplicates, 1, "the same data: URL twice is one item");
    let urls = intake.into_urls();
    assert_eq!(urls.len(), 4);

    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let (engine, rx) = Engine::start(config(&out)).expect("start");
    let ids = engine.run(Command::add(urls)).expect("add");
    let events = until_idle(&rx, LIMIT);

    let png_sha = sha256_hex(&png);
    let svg_sha = sha256_hex(SVG.as_bytes());
    let png_name = format!("inline-{}.png", &png_sha[..12]);
    let svg_name = format!("inline-{}.svg", &svg_sha[..12]);
    let mut expected = [png_name.clone(), svg_name.clone()];
    expected.sort();
    assert_eq!(
        file_names(&out),
        expected,
        "nothing else: no part file is left"
    );
    assert_eq!(std::fs::read(out.join(&png_name)).expect("png"), png);
    assert_eq!(
        std::fs::read(out.join(&svg_name)).expect("svg"),
        SVG.as_bytes()
    );
    let thumb = events.iter().find_map(|e| match e {
        Event::Thumbnail { id, thumb, .. } if *id == ids[0] => Some(thumb.clone()),
        _ => None,
    });
    let thumb = thumb.expect("the PNG has a thumbnail");
    assert_eq!((thumb.width, thumb.height), (32, 32));
    let mut done: Vec<ItemId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Done { id, info } => {
                assert_eq!(info.final_url.scheme(), "data");
                Some(*id)
            }
            _ => None,
        })
        .collect();
    done.sort();
    assert_eq!(done, [ids[0], ids[1]]);

    let html = failure(&events, ids[2]).expect("the HTML one fails");
    assert!(html.starts_with("not an image (got HTML"), "{html}");
    assert_eq!(
        failure(&events, ids[3]).as_deref(),
        Some("damaged data: URL: bad base64")
    );

    // The list, the events and the library name an inline image by a short form.
    let queued: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Queued { url, .. } => Some(url.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(queued[0], format!("data:image/png;sha256={png_sha}"));
    assert_eq!(queued[1], format!("data:image/svg+xml;sha256={svg_sha}"));
    let records = engine.records().expect("records");
    assert_eq!(records.len(), 4);
    for record in &records {
        assert!(record.url.len() < 120, "{}", record.url);
    }
    assert_eq!(records[0].sha256.as_deref(), Some(png_sha.as_str()));
    assert_eq!(records[0].content_type.as_deref(), Some("image/png"));
    engine.shutdown();
}

/// The payload lives in memory only while Pixgrab runs: an inline item left unfinished
/// by a quit fails on the next start saying so, and adding the list again saves it.
#[test]
fn an_inline_item_left_by_a_quit_fails_with_a_reason_and_the_list_again_saves_it() {
    let png = corpus_file("image-rs/png/tbbn3p08.png");
    let full = url::Url::parse(&format!("data:image/png;base64,{}", base64(&png))).expect("url");
    let short =
        url::Url::parse(&format!("data:image/png;sha256={}", sha256_hex(&png))).expect("short");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    // What a quit leaves: the item queued under its short form, no payload anywhere
    // (an engine started and stopped makes the library; the row is what adding queues).
    let (engine, _rx) = Engine::start(config(&out)).expect("start empty");
    engine.shutdown();
    let db = rusqlite::Connection::open(out.join(DATA_DIR).join("library.db")).expect("db");
    db.execute(
        "INSERT INTO items (url, state, rank, added_at, page) VALUES (?1, 'queued', 1, 0, NULL)",
        [short.as_str()],
    )
    .expect("queued");
    drop(db);

    let (engine, rx) = Engine::start(config(&out)).expect("start");
    let events = until_idle(&rx, LIMIT);
    let first = events
        .iter()
        .find_map(|e| match e {
            Event::Queued { id, .. } => Some(*id),
            _ => None,
        })
        .expect("restored");
    let reason = failure(&events, first).expect("fails");
    assert!(reason.contains("add the list again"), "{reason}");

    let ids = engine.run(Command::add([full])).expect("add again");
    assert_eq!(ids, [first], "the same image is the same item");
    until_idle(&rx, LIMIT);
    let name = format!("inline-{}.png", &sha256_hex(&png)[..12]);
    assert_eq!(std::fs::read(out.join(&name)).expect("file"), png);
    assert_eq!(file_names(&out), [name]);
    engine.shutdown();
}
