//! Real files from public test suites (`tests/corpus/`, sources and licences beside
//! them) and files derived from them: each thumbnail is compared numerically with a
//! reference made by another decoder, and each outcome (preview, damaged, no preview
//! but kept) is what a careful user would expect. Issue #12.

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use pixgrab_engine::Sniffed;
use pixgrab_engine::Thumbnail;
use pixgrab_engine::{SNIFF_LEN, make_thumbnail, sniff, sniff_with_hints};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

fn thumbnail(path: &Path, side: u32) -> Result<Thumbnail, pixgrab_engine::ThumbError> {
    let bytes = std::fs::read(path).expect("read");
    let Sniffed::Image(format) = sniff(&bytes) else {
        panic!("{} is not sniffed as an image", path.display());
    };
    make_thumbnail(path, format, side)
}

#[test]
fn a_lossless_jpeg_previews_like_the_reference_decoder() {
    // jpeg-decoder's lossless set 1 (SOF3), with libjpeg's PNG as the reference. The
    // scaled path used to trust a size the decoder ignored: striped garbage.
    let thumb = thumbnail(&corpus("jpeg-decoder/lossless-sel1-8bit.jpg"), 256).expect("thumb");
    assert_eq!(thumb.width.max(thumb.height), 256);
    let error = rmse_over_grey(&thumb, &corpus("jpeg-decoder/lossless-sel1-8bit.ref.png"));
    assert!(error < 6.0, "RMSE {error:.1} against the reference");
}

#[test]
fn a_very_thin_jpeg_gets_a_full_size_thumbnail() {
    // 1x1000: 1/8 scale (1x125) used to be taken because the short side "fit".
    let tmp = tempfile::tempdir().expect("tempdir");
    for (w, h) in [(1u32, 1000u32), (1000, 1), (3, 2000)] {
        let path = tmp.path().join(format!("thin-{w}x{h}.jpg"));
        std::fs::write(&path, support::jpeg(w, h, 5)).expect("write");
        let thumb = thumbnail(&path, 256).expect("thumb");
        assert_eq!(
            thumb.width.max(thumb.height),
            256,
            "{w}x{h} -> {}x{}",
            thumb.width,
            thumb.height
        );
    }
}

/// An image in `format`, encoded by the `image` crate.
fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(40, 30, |x, y| {
        image::Rgb([(x * 6) as u8, (y * 8) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, format)
        .expect("encode");
    out.into_inner()
}

/// An ISO-BMFF head (`ftyp` box) with these brands, then filler: a HEIC/AVIF stand-in.
fn bmff(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let size = 16 + 4 * compatible.len();
    let mut b = (size as u32).to_be_bytes().to_vec();
    b.extend_from_slice(b"ftyp");
    b.extend_from_slice(major);
    b.extend_from_slice(&[0, 0, 0, 0]);
    for c in compatible {
        b.extend_from_slice(*c);
    }
    b.extend_from_slice(&[0, 0, 0, 0x20]);
    b.extend_from_slice(b"meta");
    b.extend((0..4000u32).map(|n| (n * 7 % 251) as u8));
    b
}

#[test]
fn every_real_image_is_kept_and_the_pure_rust_formats_preview() {
    use pixgrab_engine::{Engine, Event};
    use pixgrab_testsite::loopback::{Response, Server};
    use std::collections::HashMap;
    let files: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "/IMG_0001.HEIC",
            "image/heic",
            bmff(b"heic", &[b"mif1", b"heic"]),
        ),
        ("/still.heif", "image/heif", bmff(b"mif1", &[b"mif1"])),
        (
            "/photo.avif",
            "image/avif",
            bmff(b"mif1", &[b"mif1", b"avif", b"miaf"]),
        ),
        (
            "/scan.jxl",
            "image/jxl",
            b"\xFF\x0A\xFA\x7F\x00\x12\x34".repeat(50),
        ),
        (
            "/layers.psd",
            "image/vnd.adobe.photoshop",
            b"8BPS\x00\x01".repeat(50),
        ),
        ("/a.bmp", "image/bmp", encoded(image::ImageFormat::Bmp)),
        ("/b.tiff", "image/tiff", encoded(image::ImageFormat::Tiff)),
        ("/c.qoi", "image/qoi", encoded(image::ImageFormat::Qoi)),
        (
            "/d.ppm",
            "image/x-portable-pixmap",
            encoded(image::ImageFormat::Pnm),
        ),
        (
            "/sprite.tga",
            "application/octet-stream",
            encoded(image::ImageFormat::Tga),
        ),
    ];
    let bodies: HashMap<String, (String, Vec<u8>)> = files
        .iter()
        .map(|(p, t, b)| (p.to_string(), (t.to_string(), b.clone())))
        .collect();
    let server = Server::start(move |req| match bodies.get(&req.path) {
        Some((t, b)) => Response::ok(t, b.clone()),
        None => Response::status(404),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (engine, rx) = Engine::start(support::config(tmp.path())).expect("start");
    let ids = engine
        .run(pixgrab_engine::Command::add(
            files.iter().map(|(p, _, _)| support::url(&server, p)),
        ))
        .expect("add");
    let events = support::until_idle(&rx, std::time::Duration::from_secs(60));
    engine.shutdown();
    let mut outcome: HashMap<pixgrab_engine::ItemId, String> = HashMap::new();
    let mut saved: HashMap<pixgrab_engine::ItemId, String> = HashMap::new();
    for e in &events {
        match e {
            Event::Done { id, info } => {
                saved.insert(
                    *id,
                    info.path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
            }
            Event::Thumbnail { id, .. } | Event::ThumbnailCached { id, .. } => {
                outcome.insert(*id, "preview".into());
            }
            Event::ThumbnailFailed { id, reason } => {
                outcome.insert(*id, reason.to_string());
            }
            Event::Failed { id, reason } => {
                outcome.insert(*id, format!("FAILED {reason}"));
            }
            _ => {}
        }
    }
    let expected = [
        ("IMG_0001.heic", "no preview for HEIC files"),
        ("still.heif", "no preview for HEIF files"),
        ("photo.avif", "no preview for AVIF files"),
        ("scan.jxl", "no preview for JPEG XL files"),
        ("layers.psd", "no preview for PSD files"),
        ("a.bmp", "preview"),
        ("b.tiff", "preview"),
        ("c.qoi", "preview"),
        ("d.pnm", "preview"),
        ("sprite.tga", "preview"),
    ];
    for (id, (name, result)) in ids.iter().zip(expected) {
        assert_eq!(
            saved.get(id).map(String::as_str),
            Some(name),
            "{:?}",
            outcome.get(id)
        );
        assert_eq!(outcome.get(id).map(String::as_str), Some(result), "{name}");
    }
}

/// `bytes` with the first JPEG SOF0 segment edited by `edit(segment_start)`.
fn edit_sof(mut bytes: Vec<u8>, edit: impl Fn(&mut Vec<u8>, usize)) -> Vec<u8> {
    let at = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    edit(&mut bytes, at);
    bytes
}

/// A PNG whose first IDAT data byte is flipped (its CRC no longer matches).
fn png_with_bad_crc() -> Vec<u8> {
    let mut png = support::png(40, 30, 3);
    let at = png.windows(4).position(|w| w == b"IDAT").expect("IDAT") + 4;
    png[at] ^= 0xFF;
    png
}

/// A PNG header that claims `w`×`h` pixels, followed by a little data.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = support::png(4, 4, 1);
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    // The header's own checksum, over its type and data, so only the size is a lie.
    let mut crc = flate2::Crc::new();
    crc.update(&png[12..29]);
    png[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    png
}

#[test]
fn reasons_are_plain_words_not_decoder_jargon() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let jpeg = support::jpeg(64, 48, 2);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "12bit.jpg",
            edit_sof(jpeg.clone(), |b, at| b[at + 4] = 12),
            "no preview: 12-bit JPEG",
        ),
        (
            "arith.jpg",
            edit_sof(jpeg.clone(), |b, at| b[at + 1] = 0xC9),
            "no preview: arithmetic-coded JPEG",
        ),
        (
            "nocomp.jpg",
            edit_sof(jpeg.clone(), |b, at| b[at + 9] = 0),
            "damaged: the JPEG frame header has no colour components",
        ),
        (
            "crc.png",
            png_with_bad_crc(),
            "damaged: the compressed image data is corrupt",
        ),
        (
            "wide.png",
            png_claiming(40_000, 100),
            "too large to preview: 40000×100 pixels (the limit is 30000 a side and 512 MiB)",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let got = thumbnail(&path, 256).expect_err("no thumbnail").to_string();
        assert_eq!(got, want, "{name}");
        assert!(!got.contains('{') && !got.contains("ChunkType"), "{got}");
    }
}

/// A photo-like JPEG with an EXIF-style preview (a small JPEG, with its own end marker)
/// in an APP1 segment right after SOI, as cameras write them.
fn photo_with_preview() -> Vec<u8> {
    let photo = support::jpeg(800, 600, 11);
    let preview = support::jpeg(32, 24, 3);
    let mut app1 = b"Exif\0\0MM\0*\0\0\0\x08".to_vec();
    app1.extend_from_slice(&preview);
    let len = u16::try_from(app1.len() + 2).expect("fits");
    let mut out = photo[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&photo[2..]);
    out
}

#[test]
fn whether_a_jpeg_is_whole_is_decided_by_decoding_not_by_a_marker_near_the_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let photo = photo_with_preview();
    assert!(photo.len() > 150_000, "{} bytes", photo.len());
    let mut motion = photo.clone();
    motion.extend_from_slice(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom");
    motion.extend((0..120_000u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8));
    let mut padded = photo.clone();
    padded.extend(std::iter::repeat_n(0u8, 70_000));
    let no_eoi = photo[..photo.len() - 2].to_vec();
    let cases: Vec<(&str, Vec<u8>, Result<(), &str>)> = vec![
        ("whole.jpg", photo.clone(), Ok(())),
        // Cut inside the first 64 KiB: the preview's end marker sits in the last 64 KiB
        // of what is left, which fooled the old check.
        (
            "cut-near-preview.jpg",
            photo[..60_000].to_vec(),
            Err("damaged: the file ends before the image does"),
        ),
        (
            "cut-in-half.jpg",
            photo[..photo.len() / 2].to_vec(),
            Err("damaged: the file ends before the image does"),
        ),
        ("motion-photo.jpg", motion, Ok(())),
        ("zero-padded.jpg", padded, Ok(())),
        ("no-final-eoi.jpg", no_eoi, Ok(())),
    ];
    for (name, bytes, want) in cases {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let got = thumbnail(&path, 256).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_string), "{name}");
    }
}

#[test]
fn jpeg_decoder_reftest_files_preview_like_their_references() {
    // image-rs/jpeg-decoder's reference tests: each JPEG with the PNG its authors made
    // with another decoder. Sampling factors, progressive and partial progressive,
    // CMYK, restart markers, extraneous data, odd sizes, an ICC profile.
    let dir = corpus("jpeg-decoder/reftest");
    let mut checked = 0;
    let mut report = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    entries.sort();
    for jpg in entries {
        let reference = jpg.with_extension("ref.png");
        let thumb = match thumbnail(&jpg, 64) {
            Ok(t) => t,
            Err(e) => {
                report.push(format!("{}: {e}", jpg.display()));
                continue;
            }
        };
        let error = rmse_over_grey(&thumb, &reference);
        eprintln!("{}: RMSE {error:.2}", jpg.display());
        if error >= 6.0 {
            report.push(format!("{}: RMSE {error:.1}", jpg.display()));
        }
        checked += 1;
    }
    assert!(report.is_empty(), "{report:#?}");
    assert_eq!(checked, 13);
}

#[test]
fn heic_heif_and_avif_are_known_by_their_brands() {
    use pixgrab_engine::ImageFormat::{Avif, Heic, Heif};
    assert_eq!(
        sniff(&bmff(b"heic", &[b"mif1", b"heic"])),
        Sniffed::Image(Heic)
    );
    assert_eq!(
        sniff(&bmff(b"mif1", &[b"mif1", b"heic"])),
        Sniffed::Image(Heic)
    );
    assert_eq!(
        sniff(&bmff(b"mif1", &[b"mif1", b"avif"])),
        Sniffed::Image(Avif)
    );
    assert_eq!(sniff(&bmff(b"mif1", &[b"mif1"])), Sniffed::Image(Heif));
    assert_eq!(sniff(&bmff(b"msf1", &[b"hevc"])), Sniffed::Image(Heic));
    assert_eq!(sniff(&bmff(b"avis", &[])), Sniffed::Image(Avif));
    assert_eq!(
        sniff(&bmff(b"isom", &[b"mp42"])),
        Sniffed::NotImage("a video")
    );
    // A box size that lies does not read past the head.
    let mut lying = bmff(b"mif1", &[b"avif"]);
    lying[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(sniff(&lying[..40]), Sniffed::Image(Avif));
    let short = &bmff(b"mif1", &[b"avif"])[..12];
    assert_eq!(sniff(short), Sniffed::Image(Heif), "no room for brands");
}

#[test]
fn a_tiny_jpeg_claiming_a_huge_image_is_judged_damaged_without_walking_it() {
    // Found by the `thumbnail` fuzz target (a slow unit: 1.4 s for 391 bytes): a frame
    // of 15393x11565 with almost no data, then a second frame. The DC walk stops once
    // the data has run out (at the second frame's header, so the file is not merely
    // cut: libjpeg says "premature end of data segment"), before any full decoder runs.
    let path = corpus("fuzz/tiny-claims-15393x11565.jpg");
    assert_eq!(
        thumbnail(&path, 256).expect_err("damaged").to_string(),
        "damaged: corrupt data partway through the image"
    );
}

/// `tests/corpus/MANIFEST.tsv`: each real file, the outcome it must have (`preview`,
/// `damaged`, `no-preview`, `too-large`, `not-image`), decided by a person beside what
/// libjpeg or Pillow says of it (third column), and a note (fourth).
fn manifest() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(corpus("MANIFEST.tsv")).expect("manifest");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut parts = l.split('\t');
            let file = parts.next().expect("file").to_string();
            let outcome = parts.next().expect("outcome").to_string();
            let note = parts.nth(1).unwrap_or_default().to_string();
            (file, outcome, note)
        })
        .collect()
}

/// What the thumbnail path makes of a file, as a manifest word, and its thumbnail.
fn outcome_of(path: &Path, side: u32) -> (String, Option<Thumbnail>) {
    let bytes = std::fs::read(path).expect("read");
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    let format = match sniff_with_hints(head, None, name.as_deref().unwrap_or("")) {
        Sniffed::Image(format) => format,
        Sniffed::NotImage(_) => return ("not-image".into(), None),
    };
    match make_thumbnail(path, format, side) {
        Ok(thumb) => ("preview".into(), Some(thumb)),
        Err(e) if e.is_damage() => ("damaged".into(), None),
        Err(
            pixgrab_engine::ThumbError::NoPreview(_) | pixgrab_engine::ThumbError::Unsupported(_),
        ) => ("no-preview".into(), None),
        Err(pixgrab_engine::ThumbError::TooLarge(_)) => ("too-large".into(), None),
        Err(e) => (format!("error: {e}"), None),
    }
}

/// Root-mean-square difference (0-255) between a thumbnail and `reference` resized to
/// the same size, on grey levels after compositing both over mid-grey (decoders
/// disagree on the colour of fully transparent pixels, which nobody sees).
fn rmse_over_grey(thumb: &Thumbnail, reference: &Path) -> f64 {
    let flat = |rgba: &image::RgbaImage| -> Vec<f64> {
        rgba.pixels()
            .map(|p| {
                let a = f64::from(p.0[3]) / 255.0;
                let luma = 0.299 * f64::from(p.0[0])
                    + 0.587 * f64::from(p.0[1])
                    + 0.114 * f64::from(p.0[2]);
                luma * a + 128.0 * (1.0 - a)
            })
            .collect()
    };
    let theirs = image::open(reference)
        .expect("reference")
        .resize_exact(thumb.width, thumb.height, FilterType::Lanczos3)
        .to_rgba8();
    let ours =
        image::RgbaImage::from_raw(thumb.width, thumb.height, thumb.rgba.clone()).expect("rgba");
    let (a, b) = (flat(&ours), flat(&theirs));
    let sum: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum();
    (sum / a.len().max(1) as f64).sqrt()
}

#[test]
fn every_corpus_file_ends_as_its_manifest_says() {
    let rows = manifest();
    assert!(rows.len() > 250, "{} files in the manifest", rows.len());
    let mut wrong = Vec::new();
    let mut compared = 0;
    for (file, expected, note) in &rows {
        let path = corpus(file);
        let (got, thumb) = outcome_of(&path, 64);
        if &got != expected {
            wrong.push(format!("{file}: expected {expected}, got {got}"));
            continue;
        }
        // Previews are compared with the reference another decoder made, where one could
        // (and where the two agree on what the picture is; the note says why not).
        // A JPEG preview may come from DC coefficients (block averages), which differ
        // from a full decode in fine detail.
        let reference = corpus(&format!("{file}.ref.png"));
        let limit = if file.ends_with(".jpg") { 20.0 } else { 12.0 };
        if let (Some(thumb), true, false) =
            (thumb, reference.exists(), note.starts_with("not compared"))
        {
            compared += 1;
            let error = rmse_over_grey(&thumb, &reference);
            if error > limit {
                wrong.push(format!("{file}: RMSE {error:.1} against the reference"));
            }
        }
    }
    assert!(compared > 100, "only {compared} previews had a reference");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The Content-Type a server would send for a corpus file.
fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or_default() {
        "jpg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "ico" => "image/x-icon",
        "tif" | "tiff" => "image/tiff",
        "webp" => "image/webp",
        "qoi" => "image/qoi",
        "hdr" => "image/vnd.radiance",
        "pbm" => "image/x-portable-bitmap",
        "tga" => "image/x-tga",
        "ff" => "image/x-farbfeld",
        _ => "application/octet-stream",
    }
}

#[test]
fn the_whole_corpus_through_pixgrab_thumbs_and_pixgrab_get() {
    use pixgrab_testsite::loopback::{Response, Server};
    use std::collections::HashMap;
    use std::process::Command;
    let rows = manifest();
    let bin = env!("CARGO_BIN_EXE_pixgrab");
    let tmp = tempfile::tempdir().expect("tempdir");

    // `pixgrab thumbs`: one line "failed FILE: reason" per file without a thumbnail.
    let mut thumbs = Command::new(bin);
    thumbs
        .arg("thumbs")
        .arg("-o")
        .arg(tmp.path().join("thumbs"));
    thumbs.args(rows.iter().map(|(f, _, _)| corpus(f)));
    let out = thumbs.output().expect("run pixgrab thumbs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let reason_of = |file: &str| -> Option<String> {
        let path = corpus(file).display().to_string();
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(&format!("failed {path}: ")))
            .map(str::to_string)
    };
    let word = |reason: Option<&str>| -> &'static str {
        match reason {
            None => "preview",
            Some(r) if r.starts_with("damaged: ") => "damaged",
            Some(r) if r.starts_with("no preview") => "no-preview",
            Some(r) if r.starts_with("too large to preview") => "too-large",
            Some(r) if r.starts_with("not an image") => "not-image",
            Some(_) => "something else",
        }
    };
    let mut wrong = Vec::new();
    for (file, expected, _) in &rows {
        let reason = reason_of(file);
        if word(reason.as_deref()) != expected {
            wrong.push(format!(
                "thumbs {file}: expected {expected}, got {reason:?}"
            ));
        }
    }
    let previews = rows.iter().filter(|(_, e, _)| e == "preview").count();
    assert!(
        stderr.contains(&format!("Made {previews} of {} thumbnails", rows.len())),
        "{stderr}"
    );

    // `pixgrab get` from a server that sends each file with its usual type.
    let bodies: HashMap<String, Vec<u8>> = rows
        .iter()
        .map(|(f, _, _)| (format!("/{f}"), std::fs::read(corpus(f)).expect("read")))
        .collect();
    let server = Server::start(move |req| match bodies.get(&req.path) {
        Some(body) => Response::ok(content_type(&req.path), body.clone()),
        None => Response::status(404),
    })
    .expect("server");
    let list = tmp.path().join("list.txt");
    let urls: Vec<String> = rows
        .iter()
        .map(|(f, _, _)| server.url(&format!("/{f}")))
        .collect();
    std::fs::write(&list, urls.join("\n")).expect("list");
    let dir = tmp.path().join("out");
    let out = Command::new(bin)
        .args(["get", "--json", "--allow-private", "-i"])
        .arg(&list)
        .arg("-o")
        .arg(&dir)
        .output()
        .expect("run pixgrab get");
    assert_eq!(out.status.code(), Some(1), "damaged files fail the run");
    // What became of each URL: done (with a thumbnail, or why not) or failed.
    let mut id_of: HashMap<String, u64> = HashMap::new();
    let mut end: HashMap<u64, String> = HashMap::new();
    let mut failed: HashMap<String, String> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let id = v["id"].as_u64().unwrap_or(0);
        match v["event"].as_str().unwrap_or_default() {
            "done" => {
                id_of.insert(v["url"].as_str().unwrap_or_default().to_string(), id);
                if !v["duplicate_of"].is_null() {
                    end.entry(id).or_insert_with(|| "duplicate".into());
                }
            }
            "thumbnail" => {
                end.insert(id, "preview".into());
            }
            "thumbnail_failed" => {
                let reason = v["reason"].as_str().unwrap_or_default().to_string();
                end.insert(id, word(Some(&reason)).to_string());
            }
            "failed" => {
                let reason = v["reason"].as_str().unwrap_or_default().to_string();
                failed.insert(v["url"].as_str().unwrap_or_default().to_string(), reason);
            }
            _ => {}
        }
    }
    let damaged_dir = dir.join(".pixgrab/damaged");
    let kept: Vec<String> = std::fs::read_dir(&damaged_dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for ((file, expected, _), url) in rows.iter().zip(&urls) {
        let got = match (failed.get(url), id_of.get(url)) {
            (Some(reason), _) if reason.starts_with("damaged: ") => "damaged".to_string(),
            (Some(reason), _) => word(Some(reason)).to_string(),
            (None, Some(id)) => end
                .get(id)
                .cloned()
                .unwrap_or_else(|| "no thumbnail event".into()),
            (None, None) => "no outcome".into(),
        };
        // A file identical to one already saved is recorded as its duplicate.
        let same = got == *expected || (got == "duplicate" && expected == "preview");
        if !same {
            wrong.push(format!("get {file}: expected {expected}, got {got}"));
        }
        if expected == "damaged" {
            let name = file.rsplit('/').next().unwrap_or_default();
            if !kept.iter().any(|k| k.ends_with(&format!("-{name}"))) {
                wrong.push(format!(
                    "get {file}: damaged bytes not kept in {damaged_dir:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
