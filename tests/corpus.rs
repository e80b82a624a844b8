//! Real files from public test suites (`tests/corpus/`, sources and licences beside
//! them) and files derived from them: each thumbnail is compared numerically with a
//! reference made by another decoder, and each outcome (preview, damaged, no preview
//! but kept) is what a careful user would expect. Issue #12.

mod support;

use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use pixgrab::sniff::{self, Sniffed};
use pixgrab::thumbs::{self, Thumbnail};

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

fn thumbnail(path: &Path, side: u32) -> Result<Thumbnail, pixgrab::ThumbError> {
    let bytes = std::fs::read(path).expect("read");
    let Sniffed::Image(format) = sniff::sniff(&bytes) else {
        panic!("{} is not sniffed as an image", path.display());
    };
    thumbs::make_thumbnail(path, format, side)
}

/// Root-mean-square difference (0-255) between a thumbnail and `reference` resized to
/// the same size, on the grey level of both.
fn rmse(thumb: &Thumbnail, reference: &Path) -> f64 {
    let reference = image::open(reference)
        .expect("reference")
        .resize_exact(thumb.width, thumb.height, FilterType::Lanczos3)
        .to_luma8();
    let ours =
        image::RgbaImage::from_raw(thumb.width, thumb.height, thumb.rgba.clone()).expect("rgba");
    let ours = image::DynamicImage::ImageRgba8(ours).to_luma8();
    let sum: f64 = ours
        .pixels()
        .zip(reference.pixels())
        .map(|(a, b)| (f64::from(a.0[0]) - f64::from(b.0[0])).powi(2))
        .sum();
    (sum / f64::from(thumb.width * thumb.height)).sqrt()
}

#[test]
fn a_lossless_jpeg_previews_like_the_reference_decoder() {
    // jpeg-decoder's lossless set 1 (SOF3), with libjpeg's PNG as the reference. The
    // scaled path used to trust a size the decoder ignored: striped garbage.
    let thumb = thumbnail(&corpus("jpeg-decoder/lossless-sel1-8bit.jpg"), 256).expect("thumb");
    assert_eq!(thumb.width.max(thumb.height), 256);
    let error = rmse(&thumb, &corpus("jpeg-decoder/lossless-sel1-8bit.ref.png"));
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
