//! A corpus of malformed images fed through the real pipeline (download, verify,
//! thumbnail): each ends in a clear result, never a crash or a runaway allocation.

mod support;

use std::sync::Arc;
use std::time::Duration;

use pixgrab_engine::{Command, Config, Engine, Event};
use pixgrab_testsite::loopback::{Response, Server};
use support::until_idle;
use url::Url;

/// A PNG chunk with its CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32(kind);
    crc = crc32_update(crc, data);
    out.extend_from_slice(&(!crc).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0xFFFF_FFFF, bytes)
}

fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// A PNG whose header claims `w` x `h` pixels, with a tiny (valid zlib) body.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

/// A GIF with a valid header and an image whose LZW data is garbage.
fn gif_with_bad_lzw() -> Vec<u8> {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[10, 0, 10, 0, 0x80, 0, 0]); // 10x10, global colour table of 2
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    gif.extend_from_slice(&[0x2C, 0, 0, 0, 0, 10, 0, 10, 0, 0]); // image descriptor
    gif.push(2); // LZW minimum code size
    gif.push(8);
    gif.extend_from_slice(&[0xFF; 8]); // codes beyond the table
    gif.push(0);
    gif.push(0x3B);
    gif
}

#[test]
fn damaged_images_fail_after_one_more_try_and_their_bytes_are_set_aside() {
    let photo = support::jpeg(640, 480, 5);
    let truncated_jpeg = photo[..photo.len() * 6 / 10].to_vec();
    let mut png_ok = support::png(50, 40, 1);
    let truncated_png = png_ok.split_off(png_ok.len() / 2);
    let _ = truncated_png;
    let corpus: Vec<(&str, Vec<u8>)> = vec![
        ("/truncated.jpg", truncated_jpeg),
        ("/half.png", png_ok),
        ("/huge.png", png_claiming(100_000, 100_000)),
        ("/bomb.png", png_claiming(29_000, 29_000)),
        ("/bad-lzw.gif", gif_with_bad_lzw()),
        (
            "/garbage.jpg",
            b"\xFF\xD8\xFF\xE0garbage that is not a jpeg at all".to_vec(),
        ),
        ("/empty.jpg", Vec::new()),
    ];
    let bodies: Vec<(String, Arc<[u8]>)> = corpus
        .iter()
        .map(|(p, b)| (p.to_string(), Arc::from(b.clone())))
        .collect();
    let server = Server::start(
        move |req| match bodies.iter().find(|(p, _)| *p == req.path) {
            Some((_, body)) => Response::ok("image/jpeg", body.clone()),
            None => Response::status(404),
        },
    )
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut config = Config::new(tmp.path());
    config.retry_base = Duration::from_millis(5);
    let (engine, rx) = Engine::start(config).expect("start");
    let ids = engine
        .run(Command::add(
            corpus
                .iter()
                .map(|(p, _)| Url::parse(&server.url(p)).expect("url")),
        ))
        .expect("add");
    let events = until_idle(&rx, Duration::from_secs(60));

    let outcome = |n: usize| -> String {
        let id = ids[n];
        events
            .iter()
            .find_map(|e| match e {
                Event::ThumbnailFailed { id: i, reason } if *i == id => {
                    Some(format!("kept, no preview: {reason}"))
                }
                Event::Thumbnail { id: i, .. } if *i == id => {
                    Some("kept, with preview".to_string())
                }
                Event::Failed { id: i, reason } if *i == id => Some(format!("failed: {reason}")),
                _ => None,
            })
            .unwrap_or_else(|| "no outcome".into())
    };
    let report: Vec<String> = (0..corpus.len())
        .map(|n| format!("{} -> {}", corpus[n].0, outcome(n)))
        .collect();
    let report = report.join("\n");
    println!("{report}");
    // Damaged images are failed items (after one more try), saying why; images that
    // are merely too large to preview are kept.
    assert_eq!(
        outcome(0),
        "failed: damaged: the file ends before the image does",
        "{report}"
    );
    assert!(outcome(1).starts_with("failed: damaged"), "{report}");
    assert!(
        outcome(2).starts_with("kept, no preview: too large to preview: "),
        "{report}"
    );
    assert!(
        outcome(3).starts_with("kept, no preview: too large to preview: "),
        "{report}"
    );
    assert!(outcome(4).starts_with("failed: damaged: "), "{report}");
    assert!(outcome(5).starts_with("failed: damaged"), "{report}");
    assert_eq!(
        outcome(6),
        "failed: not an image (got an empty body, served as image/jpeg)",
        "{report}"
    );
    for n in [0, 1, 4, 5] {
        let retried = events
            .iter()
            .filter(|e| matches!(e, Event::Retrying { id, .. } if *id == ids[n]))
            .count();
        assert_eq!(retried, 1, "{} is tried once more: {report}", corpus[n].0);
    }
    // Only the two kept ones are in the folder; the damaged bytes are set aside, not lost.
    let files = |dir: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    assert_eq!(files(tmp.path()), ["bomb.png", "huge.png"], "{report}");
    let damaged = files(&tmp.path().join(".pixgrab/damaged"));
    assert_eq!(damaged.len(), 4, "{damaged:?}");
    let truncated = damaged
        .iter()
        .find(|n| n.ends_with("truncated.jpg"))
        .expect("the cut JPEG is kept aside");
    assert_eq!(
        std::fs::read(tmp.path().join(".pixgrab/damaged").join(truncated)).expect("read"),
        corpus[0].1,
        "byte for byte"
    );
    engine.shutdown();
}
