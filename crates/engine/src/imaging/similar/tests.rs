//! Similar-image groups on real photos (tests/corpus/exif-samples: Wikimedia Commons
//! photos from ianare/exif-samples, and image-rs' cat.jpg). Each original gets three
//! variants: resized to 50 %, recompressed at JPEG quality 60, cropped by 5 % (of width
//! and height, off the right and bottom). Every variant must be grouped with its
//! original, and no two different photos grouped: precision and recall 1.

use std::path::{Path, PathBuf};

use crate::imaging::similar::{self, SAME_COLOUR, SAME_PICTURE, SAME_SHAPE};
use crate::imaging::sniff::{Sniffed, sniff};
use crate::imaging::thumbs;
use image::ImageEncoder;

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
    // The differences, for the record (and to choose SAME_PICTURE and SAME_COLOUR).
    let (mut same_bits, mut same_colour) = (0, 0);
    let (mut same_like, mut other_like) = (u32::MAX, 0);
    let (mut other_bits, mut other_colour) = (u32::MAX, u32::MAX);
    for (i, (a, ha)) in items.iter().enumerate() {
        for (b, hb) in &items[i + 1..] {
            let d = similar::difference(ha, hb).expect("both comparable");
            if a == b {
                same_bits = same_bits.max(d.structure);
                same_colour = same_colour.max(d.colour);
                same_like = same_like.min(d.likeness);
            } else {
                other_bits = other_bits.min(d.structure);
                other_colour = other_colour.min(d.colour);
                other_like = other_like.max(d.likeness);
            }
        }
    }
    eprintln!(
        "{} photos, {} images: variants within {same_bits} bits, colour {same_colour} and likeness {same_like} of each other, different photos at least {other_bits} bits, colour {other_colour} apart, likeness at most {other_like} (measured only where bits and colour are close) (thresholds {SAME_PICTURE}, {SAME_COLOUR}, {SAME_SHAPE})",
        photos.len(),
        items.len()
    );
    let found = similar::groups(&items);
    let groups = &found.groups;
    // Recall: each photo's four images in one group. Precision: one photo per group.
    assert_eq!(groups.len(), photos.len(), "{found:?}");
    for group in groups {
        assert_eq!(group.len(), 4, "{groups:?}");
        assert!(group.iter().all(|n| *n == group[0]), "{groups:?}");
    }
    assert_eq!((found.unknown, found.loose), (0, 0), "{found:?}");
}

/// A small deterministic random source (splitmix64), so every run draws the same images.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn colour(&mut self) -> [f32; 3] {
        [
            self.unit() * 255.0,
            self.unit() * 255.0,
            self.unit() * 255.0,
        ]
    }
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> image::Rgb<u8> {
    image::Rgb([0, 1, 2].map(|c| (a[c] * (1.0 - t) + b[c] * t).round().clamp(0.0, 255.0) as u8))
}

/// A 128×128 "colour cloud": fractal value noise (octaves of smoothly interpolated
/// random lattices, from one cell across the picture down to 8 px, each half as
/// strong, like an editor's "render clouds") through a random palette of three
/// colours. One texture; every seed a different picture.
fn cloud_of(seed: u64, octaves: &[usize], palette: Option<[[f32; 3]; 3]>) -> image::RgbImage {
    const SIDE: usize = 128;
    let mut draw = Draw(seed);
    let mut value = vec![0f32; SIDE * SIDE];
    let mut strength = 1.0;
    for &cells in octaves {
        let lattice: Vec<f32> = (0..(cells + 1) * (cells + 1))
            .map(|_| draw.unit())
            .collect();
        let at = |i: usize, j: usize| lattice[j * (cells + 1) + i];
        let step = SIDE as f32 / cells as f32;
        for y in 0..SIDE {
            for x in 0..SIDE {
                let (fx, fy) = (x as f32 / step, y as f32 / step);
                let (i, j) = (fx as usize, fy as usize);
                let (tx, ty) = (fx - i as f32, fy - j as f32);
                let (sx, sy) = (tx * tx * (3.0 - 2.0 * tx), ty * ty * (3.0 - 2.0 * ty));
                let top = at(i, j) * (1.0 - sx) + at(i + 1, j) * sx;
                let bottom = at(i, j + 1) * (1.0 - sx) + at(i + 1, j + 1) * sx;
                value[y * SIDE + x] += strength * (top * (1.0 - sy) + bottom * sy);
            }
        }
        strength *= 0.5;
    }
    let (lo, hi) = value
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let palette = palette.unwrap_or_else(|| [draw.colour(), draw.colour(), draw.colour()]);
    image::RgbImage::from_fn(SIDE as u32, SIDE as u32, |x, y| {
        let t = (value[y as usize * SIDE + x as usize] - lo) / (hi - lo).max(f32::EPSILON);
        if t < 0.5 {
            mix(palette[0], palette[1], t * 2.0)
        } else {
            mix(palette[1], palette[2], t * 2.0 - 1.0)
        }
    })
}

/// A 16×16 linear gradient between two random colours at a random angle.
fn gradient(seed: u64) -> image::RgbImage {
    let mut draw = Draw(seed);
    let (from, to) = (draw.colour(), draw.colour());
    let angle = draw.unit() * std::f32::consts::TAU;
    let (dx, dy) = (angle.cos(), angle.sin());
    image::RgbImage::from_fn(16, 16, |x, y| {
        // -1..1 across the square along the direction, mapped to 0..1.
        let along = ((x as f32 - 7.5) * dx + (y as f32 - 7.5) * dy) / 7.5 / 2f32.sqrt();
        mix(from, to, (along + 1.0) / 2.0)
    })
}

/// The stored hashes of generated pictures, each written as a PNG file and hashed the
/// way the engine hashes a download (of its thumbnail).
fn hashes_of(count: u64, picture: Picture) -> Vec<(u64, String)> {
    let tmp = tempfile::tempdir().expect("tempdir");
    (0..count)
        .map(|seed| {
            let path = tmp.path().join(format!("{seed}.png"));
            picture(seed).save(&path).expect("write png");
            (seed, hash_of(&path))
        })
        .collect()
}

/// Draws picture number `seed` of a set.
type Picture = fn(u64) -> image::RgbImage;

/// One palette for clouds that differ only in their shapes: sky blue to white.
const SKY: [[f32; 3]; 3] = [
    [30.0, 60.0, 160.0],
    [200.0, 200.0, 220.0],
    [250.0, 250.0, 250.0],
];

#[test]
fn four_hundred_different_clouds_of_one_texture_are_not_copies() {
    // Each seed its own palette; then one palette, with large features (a sky), and one
    // palette with only small ones (a texture). Before: one group of 398 pictures.
    let kinds: [(&str, Picture); 3] = [
        ("any colours", |seed| {
            cloud_of(seed, &[1, 2, 4, 8, 16, 32], None)
        }),
        ("one palette", |seed| {
            cloud_of(seed, &[1, 2, 4, 8, 16, 32], Some(SKY))
        }),
        ("fine, one palette", |seed| {
            cloud_of(seed, &[4, 8, 16, 32, 64], Some(SKY))
        }),
    ];
    for (kind, picture) in kinds {
        let items = hashes_of(400, picture);
        let found = similar::groups(&items);
        let groups = &found.groups;
        let largest = groups.iter().map(Vec::len).max().unwrap_or(0);
        eprintln!(
            "400 clouds, {kind}: {} groups, the largest of {largest}; {} unknown, {} look-alikes left out",
            groups.len(),
            found.unknown,
            found.loose
        );
        assert!(
            largest <= 2,
            "{kind}: a group of {largest} different clouds: {groups:?}"
        );
    }
}

#[test]
fn two_thousand_different_tiny_gradients_are_never_grouped() {
    let items = hashes_of(2000, gradient);
    let found = similar::groups(&items);
    let groups = &found.groups;
    let largest = groups.iter().map(Vec::len).max().unwrap_or(0);
    eprintln!(
        "2000 gradients: {} groups, the largest of {largest}; {} unknown",
        groups.len(),
        found.unknown
    );
    assert!(
        groups.is_empty(),
        "{} groups, the largest of {largest}",
        groups.len()
    );
    assert_eq!(found.unknown, 2000, "each too small to compare");
}
