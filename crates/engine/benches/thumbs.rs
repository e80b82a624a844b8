//! Thumbnail benchmark: photo-like 4000x3000 JPEGs → 256 px thumbnails, the naive path
//! (`image::open` + Lanczos3 `resize`) against Pixgrab's pipeline (DCT-scaled JPEG decode
//! + SIMD Lanczos3 resize), both on the same thread pool, in the same run.
//!
//! Run: `cargo bench --bench thumbs` (options after `--`: `--photos N`, `--threads N`,
//! `--side N`, `--runs N`, `--size WIDTHxHEIGHT`). Prints photos/second (median of the runs) and the ratio,
//! and what the perceptual hash of each thumbnail adds.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use pixgrab_engine::{ImageFormat, bench_hash_thumbnail, make_thumbnail};
use rayon::prelude::*;

fn main() -> Result<()> {
    let mut photos = 40usize;
    let mut threads = 2usize;
    let mut side = 256u32;
    let mut runs = 3usize;
    let mut keep: Option<PathBuf> = None;
    let mut size = (4000u32, 3000u32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("missing value");
        match arg.as_str() {
            "--photos" => photos = value()?.parse()?,
            "--threads" => threads = value()?.parse()?,
            "--side" => side = value()?.parse()?,
            "--runs" => runs = value()?.parse()?,
            "--size" => {
                let v = value()?;
                let (w, h) = v.split_once('x').context("--size WIDTHxHEIGHT")?;
                size = (w.parse()?, h.parse()?);
            }
            // Write the corpus here (kept) instead of a temporary folder, e.g. for profiling.
            "--keep" => keep = Some(PathBuf::from(value()?)),
            _ => {}
        }
    }
    let tmp = tempfile::tempdir()?;
    let dir = keep.unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let started = Instant::now();
    let files = corpus(&dir, photos, size)?;
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    println!(
        "corpus: {photos} JPEGs of {}x{}, {:.2} MB each (made in {:.1} s); {threads} threads; {side} px; median of {runs} runs",
        size.0,
        size.1,
        bytes as f64 / photos as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("bench-thumb-{i}"))
        .build()?;

    let naive = median_rate(runs, photos, || {
        pool.install(|| {
            files.par_iter().try_for_each(|f| -> Result<()> {
                let img = image::open(f)?;
                let _ = img.resize(side, side, image::imageops::FilterType::Lanczos3);
                Ok(())
            })
        })
    })?;
    println!("naive (image::open + resize Lanczos3)   {naive:7.1} photos/s");

    let fast = median_rate(runs, photos, || {
        pool.install(|| {
            files.par_iter().try_for_each(|f| -> Result<()> {
                let t = make_thumbnail(f, ImageFormat::Jpeg, side)?;
                anyhow::ensure!(
                    t.width.max(t.height) == side.min(size.0.max(size.1)),
                    "wrong size {}x{}",
                    t.width,
                    t.height
                );
                Ok(())
            })
        })
    })?;
    println!(
        "pixgrab (scaled decode + SIMD resize)   {fast:7.1} photos/s   {:.1}x the naive path",
        fast / naive
    );

    // The engine also hashes each thumbnail for similar-image groups (issue #15: under
    // 5 % of the thumbnail's time).
    let hashed = median_rate(runs, photos, || {
        pool.install(|| {
            files.par_iter().try_for_each(|f| -> Result<()> {
                let t = make_thumbnail(f, ImageFormat::Jpeg, side)?;
                bench_hash_thumbnail(&t).context("hash")?;
                Ok(())
            })
        })
    })?;
    println!(
        "pixgrab + perceptual hash               {hashed:7.1} photos/s   hashing costs {:.1} % of the thumbnail time",
        (fast / hashed - 1.0) * 100.0
    );
    Ok(())
}

fn median_rate(runs: usize, photos: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut rates = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        f()?;
        rates.push(photos as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
}

/// Photo-like JPEGs: smooth gradients and shapes with sensor-like noise, quality 90.
/// Eight distinct pictures; the rest are byte-distinct copies (a comment segment).
fn corpus(dir: &Path, photos: usize, size: (u32, u32)) -> Result<Vec<PathBuf>> {
    let bases: Vec<Vec<u8>> = (0..8u32.min(photos as u32).max(1))
        .into_par_iter()
        .map(|seed| photo(seed, size))
        .collect::<Result<_>>()?;
    let mut files = Vec::new();
    for n in 0..photos {
        let body = pixgrab_testsite::demo::with_comment(
            &bases[n % bases.len()],
            &format!("bench photo {n}"),
        );
        let path = dir.join(format!("photo-{n:03}.jpg"));
        std::fs::write(&path, body)?;
        files.push(path);
    }
    Ok(files)
}

fn photo(seed: u32, (w, h): (u32, u32)) -> Result<Vec<u8>> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let cx = 1000.0 + f64::from(seed) * 250.0;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let noise = f64::from(state & 0x0f) - 8.0;
        let (fx, fy) = (f64::from(x), f64::from(y));
        let d = ((fx - cx).powi(2) + (fy - 1500.0).powi(2)).sqrt();
        let sky = 180.0 - fy / 30.0;
        let r = (sky + 40.0 * (d / 300.0).sin() + noise).clamp(0.0, 255.0);
        let g = (120.0 + fx / 40.0 - fy / 60.0 + noise).clamp(0.0, 255.0);
        let b = (200.0 - d / 20.0 + noise).clamp(0.0, 255.0);
        image::Rgb([r as u8, g as u8, b as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 90,
    ))?;
    Ok(out.into_inner())
}
