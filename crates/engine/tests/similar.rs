//! Similar-image groups on real photos (tests/corpus/exif-samples: Wikimedia Commons
//! photos from ianare/exif-samples, and image-rs' cat.jpg). Each original gets three
//! variants: resized to 50 %, recompressed at JPEG quality 60, cropped by 5 % (of width
//! and height, off the right and bottom). Every variant must be grouped with its
//! original, and no two different photos grouped: precision and recall 1.

use std::path::{Path, PathBuf};

use image::ImageEncoder;
use pixgrab_engine::imaging::similar::{self, SAME_PICTURE};
use pixgrab_engine::imaging::sniff::{Sniffed, sniff};
use pixgrab_engine::imaging::thumbs;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn photos() -> Vec<PathBuf> {
    let mut photos: Vec<PathBuf> = std::fs::read_dir(corpus().join("exif-samples"))
        .expect("exif-samples")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    photos.push(corpus().join("image-rs/jpg/cat.jpg"));
    photos.sort();
    photos
}

/// The hash the engine stores for a file: of its thumbnail.
fn hash_of(path: &Path) -> String {
    let head = std::fs::read(path).expect("read");
    let Sniffed::Image(format) = sniff(&head) else {
        panic!("{path:?} is not an image");
    };
    let thumb = thumbs::make_thumbnail(path, format, 256).expect("thumbnail");
    similar::hash_thumbnail(&thumb).expect("hash")
}

fn write_jpeg(image: &image::RgbImage, quality: u8, to: &Path) {
    let file = std::fs::File::create(to).expect("create");
    image::codecs::jpeg::JpegEncoder::new_with_quality(file, quality)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode");
}

#[test]
fn variants_group_with_their_original_and_nothing_else_does() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // (photo number, hash) for every original and variant.
    let mut items: Vec<(usize, String)> = Vec::new();
    let photos = photos();
    assert!(photos.len() >= 12, "{photos:?}");
    for (n, photo) in photos.iter().enumerate() {
        let original = image::open(photo).expect("decode").to_rgb8();
        let (w, h) = original.dimensions();
        let half = image::imageops::resize(
            &original,
            (w / 2).max(1),
            (h / 2).max(1),
            image::imageops::FilterType::Lanczos3,
        );
        let cropped =
            image::imageops::crop_imm(&original, 0, 0, w * 95 / 100, h * 95 / 100).to_image();
        items.push((n, hash_of(photo)));
        for (name, image, quality) in [
            ("half", &half, 90),
            ("q60", &original, 60),
            ("crop", &cropped, 90),
        ] {
            let path = tmp.path().join(format!("{n}-{name}.jpg"));
            write_jpeg(image, quality, &path);
            items.push((n, hash_of(&path)));
        }
    }
    // The distances, for the record (and to choose SAME_PICTURE).
    let mut same_max = 0;
    let mut other_min = u32::MAX;
    for (i, (a, ha)) in items.iter().enumerate() {
        for (b, hb) in &items[i + 1..] {
            let d = similar::distance(ha, hb).expect("distance");
            if a == b {
                same_max = same_max.max(d);
            } else {
                other_min = other_min.min(d);
            }
        }
    }
    eprintln!(
        "{} photos, {} images: variants within {same_max} bits of each other, different photos at least {other_min} apart (threshold {SAME_PICTURE})",
        photos.len(),
        items.len()
    );
    let groups = similar::groups(&items, SAME_PICTURE);
    // Recall: each photo's four images in one group. Precision: one photo per group.
    assert_eq!(groups.len(), photos.len(), "{groups:?}");
    for group in &groups {
        assert_eq!(group.len(), 4, "{groups:?}");
        assert!(group.iter().all(|n| *n == group[0]), "{groups:?}");
    }
}
