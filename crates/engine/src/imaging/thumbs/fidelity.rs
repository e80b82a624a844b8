//! Thumbnails look like what the reference decoders (Pillow, libjpeg) show (issue #23):
//! a JPEG with a cut-short Adobe segment is whole, a CMYK JPEG keeps its colours, and a
//! small picture of colour bands keeps its colours through the cache, and so does a
//! large one, while a photo's cache JPEG keeps its colour at half resolution (quicker).

use std::path::{Path, PathBuf};

use crate::imaging::sniff::ImageFormat;
use crate::imaging::thumbs::{self, Thumbnail};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus")
        .join(name)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Root-mean-square difference of the R, G and B channels (0–255).
fn rmse_rgb(thumb: &Thumbnail, reference: &image::RgbaImage) -> f64 {
    assert_eq!((thumb.width, thumb.height), reference.dimensions());
    let (mut sum, mut n) = (0.0, 0usize);
    for (ours, theirs) in thumb.rgba.chunks_exact(4).zip(reference.pixels()) {
        for (a, b) in ours[..3].iter().zip(&theirs.0[..3]) {
            sum += (f64::from(*a) - f64::from(*b)).powi(2);
            n += 1;
        }
    }
    (sum / n.max(1) as f64).sqrt()
}

#[test]
fn a_jpeg_whose_adobe_segment_is_cut_short_is_whole() {
    // A real photo with an APP14 "Adobe" segment one byte short (no transform flag):
    // libjpeg ignores such a segment and Pillow decodes the file whole, pixel for pixel
    // the same as without it.
    let photo = std::fs::read(corpus("exif-samples/Canon_40D.jpg")).expect("photo");
    let payload = b"Adobe\x00\x64\x00\x00\x00\x00";
    let mut cut = photo[..2].to_vec();
    cut.extend_from_slice(&[0xFF, 0xEE, 0, (payload.len() + 2) as u8]);
    cut.extend_from_slice(payload);
    cut.extend_from_slice(&photo[2..]);
    let tmp = tempfile::tempdir().expect("tempdir");
    let cut = write(tmp.path(), "short-app14.jpg", &cut);
    let whole = write(tmp.path(), "whole.jpg", &photo);
    // 256: the scaled decoder; 12: the DC walk alone (the photo is 100×68).
    for side in [256, 12] {
        let theirs = thumbs::make_thumbnail(&whole, ImageFormat::Jpeg, side).expect("whole");
        let ours = thumbs::make_thumbnail(&cut, ImageFormat::Jpeg, side).map_err(|e| e.to_string());
        assert_eq!(ours, Ok(theirs), "at {side} px");
    }
}

#[test]
fn a_cmyk_jpeg_has_the_reference_decoders_colours() {
    // Written by Pillow (Adobe APP14, inverted CMYK, as Photoshop writes), with Pillow's
    // own RGB decode beside it.
    let path = corpus("pillow-made/cmyk-64x48.jpg");
    let reference = image::open(corpus("pillow-made/cmyk-64x48.ref.png"))
        .expect("reference")
        .to_rgba8();
    let thumb = thumbs::make_thumbnail(&path, ImageFormat::Jpeg, 256).expect("thumbnail");
    let error = rmse_rgb(&thumb, &reference);
    assert!(error < 2.0, "RMSE {error:.1} against Pillow");
    // As the gallery shows it: through the thumbnail cache.
    let (_, cached) = thumbs::encode_for_cache(&thumb).expect("encode");
    let shown = thumbs::decode_cached(&cached).expect("decode");
    let error = rmse_rgb(&shown, &reference);
    assert!(
        error < 5.0,
        "RMSE {error:.1} against Pillow, through the cache"
    );
    // Scaled down (1/2 from the DCT, then resized) it still has the same colours.
    let small = thumbs::make_thumbnail(&path, ImageFormat::Jpeg, 32).expect("thumbnail");
    let reference =
        image::imageops::resize(&reference, 32, 24, image::imageops::FilterType::Triangle);
    let error = rmse_rgb(&small, &reference);
    assert!(
        error < 8.0,
        "RMSE {error:.1} at 32 px against Pillow's, resized"
    );
}

#[test]
fn a_small_picture_of_colour_bands_keeps_its_colours_through_the_cache() {
    // 32×32, vertical bands 4 px wide: red, green, blue, yellow, twice over.
    const BANDS: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
    let picture = image::RgbImage::from_fn(32, 32, |x, _| image::Rgb(BANDS[(x as usize / 4) % 4]));
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("bands.png");
    picture.save(&path).expect("write png");
    let thumb = thumbs::make_thumbnail(&path, ImageFormat::Png, 256).expect("thumbnail");
    let (ext, cached) = thumbs::encode_for_cache(&thumb).expect("encode");
    assert_eq!(ext, "jpg");
    let back = thumbs::decode_cached(&cached).expect("decode");
    assert_eq!((back.width, back.height), (32, 32));
    let mut worst = 0.0f64;
    for band in 0..8 {
        let mut sum = [0f64; 3];
        for y in 0..32 {
            for x in band * 4..band * 4 + 4 {
                let p = &back.rgba[(y * 32 + x) * 4..];
                for c in 0..3 {
                    sum[c] += f64::from(p[c]);
                }
            }
        }
        for c in 0..3 {
            let mean = sum[c] / 128.0;
            worst = worst.max((mean - f64::from(BANDS[band % 4][c])).abs());
        }
    }
    assert!(worst < 12.0, "a band's mean colour is {worst:.0} off");
}

/// The luma component's sampling factors (h, v) in a baseline JPEG's frame header.
fn luma_sampling(jpeg: &[u8]) -> (u8, u8) {
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    let factors = jpeg[sof + 11];
    (factors >> 4, factors & 0x0F)
}

/// The widest gap between a vertical band's mean colour in `back` and `colour(band)`.
fn worst_band(back: &Thumbnail, width: usize, colour: impl Fn(usize) -> [u8; 3]) -> f64 {
    let mut worst = 0.0f64;
    let bands = width / 8;
    for band in 0..bands {
        let mut sum = [0f64; 3];
        let mut n = 0.0;
        for y in 0..back.height as usize {
            // The inner 6 of each band's 8 columns: its edges are where colours meet.
            for x in band * 8 + 1..band * 8 + 7 {
                let p = &back.rgba[(y * width + x) * 4..];
                for (total, value) in sum.iter_mut().zip(p) {
                    *total += f64::from(*value);
                }
                n += 1.0;
            }
        }
        for (total, want) in sum.iter().zip(colour(band)) {
            worst = worst.max((total / n - f64::from(want)).abs());
        }
    }
    worst
}

#[test]
fn a_large_picture_of_colour_bands_keeps_its_colours_and_a_photo_is_cached_at_4_2_0() {
    const BANDS: [[u8; 3]; 4] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
    let tmp = tempfile::tempdir().expect("tempdir");
    // 256×192, bands 8 px wide: shown as it is (not shrunk), over the small-picture size.
    let bands = image::RgbImage::from_fn(256, 192, |x, _| image::Rgb(BANDS[(x as usize / 8) % 4]));
    let path = tmp.path().join("bands.png");
    bands.save(&path).expect("write png");
    let thumb = thumbs::make_thumbnail(&path, ImageFormat::Png, 256).expect("thumbnail");
    let (ext, cached) = thumbs::encode_for_cache(&thumb).expect("encode");
    assert_eq!(ext, "jpg");
    assert_eq!(luma_sampling(&cached), (1, 1), "bands are cached at 4:4:4");
    let back = thumbs::decode_cached(&cached).expect("decode");
    assert_eq!((back.width, back.height), (256, 192));
    let worst = worst_band(&back, 256, |band| BANDS[band % 4]);
    assert!(worst < 12.0, "a band's mean colour is {worst:.0} off");
    // A photo-like picture (smooth shades with pixel noise), shrunk: colour at half
    // resolution, which a photo does not show.
    let photo = image::RgbImage::from_fn(640, 480, |x, y| {
        let n = ((x * 7 + y * 13) % 11) as u8;
        image::Rgb([
            (x / 3) as u8 + n,
            60 + (y / 3) as u8,
            230 - (x / 4) as u8 + n,
        ])
    });
    let path = tmp.path().join("photo.png");
    photo.save(&path).expect("write png");
    let thumb = thumbs::make_thumbnail(&path, ImageFormat::Png, 256).expect("thumbnail");
    let (_, cached) = thumbs::encode_for_cache(&thumb).expect("encode");
    assert_eq!(luma_sampling(&cached), (2, 2), "a photo is cached at 4:2:0");
    let back = thumbs::decode_cached(&cached).expect("decode");
    let reference = image::RgbaImage::from_raw(thumb.width, thumb.height, thumb.rgba.clone())
        .expect("thumbnail buffer");
    let error = rmse_rgb(&back, &reference);
    assert!(error < 3.0, "RMSE {error:.1} through the cache");
}
