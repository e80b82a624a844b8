//! Pixel sizes from a file's first 64 KiB (what "Find images" fetches with a Range
//! request, issue #16), checked against the image crate's full header reader on every
//! file of the real-file corpus in a format read here.

use std::path::{Path, PathBuf};

use super::{HeaderSize, pixel_size};
use crate::imaging::sniff::{Sniffed, sniff};
use crate::imaging::thumbs;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("corpus").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn the_first_64_kib_tell_the_size_the_decoder_reads() {
    let mut all = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus"),
        &mut all,
    );
    let (mut agreed, mut read_here) = (0, 0);
    let mut wrong = Vec::new();
    let mut unsure = Vec::new();
    for path in all {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let head = &bytes[..bytes.len().min(64 * 1024)];
        let Sniffed::Image(format) = sniff(&bytes[..bytes.len().min(512)]) else {
            continue;
        };
        if !matches!(format.extension(), "jpg" | "png" | "gif" | "webp" | "bmp") {
            continue;
        }
        let Some(decoder) = thumbs::dimensions(&path, format) else {
            continue; // the decoder cannot read it either (damaged test files)
        };
        read_here += 1;
        match pixel_size(head) {
            HeaderSize::Known(w, h) if (w, h) == decoder => agreed += 1,
            // A damaged file whose segment lengths run past its data: "fetch more" is an
            // honest answer (the picker then reads on or downloads it).
            HeaderSize::NeedMore => unsure.push(path.display().to_string()),
            other => wrong.push(format!(
                "{}: {other:?}, decoder {decoder:?}",
                path.display()
            )),
        }
    }
    eprintln!(
        "{agreed} of {read_here} corpus files: the header's size agrees with the decoder's; {} need more bytes",
        unsure.len()
    );
    assert!(read_here > 200, "only {read_here} files");
    assert!(
        wrong.is_empty(),
        "{} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        unsure.iter().all(|p| p.contains("imagetestsuite")) && unsure.len() * 50 <= read_here,
        "{unsure:?}"
    );
}
