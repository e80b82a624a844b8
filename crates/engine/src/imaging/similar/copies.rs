//! The small copies a signature is read from: the 64 px colour copy (over white), its
//! grey copy, and what the structure hashes and the shape take from that (a triangle
//! filter, as the `image` crate's), made by hand in integer and `f32` loops over a few
//! thousand pixels. Before (version 3) the `image` crate's shrinking (per-pixel weights
//! with `sin`, colour conversion through its colour-space code) and image_hasher's
//! copies cost a tenth of a small download's time.

/// The longest side of the colour copy.
pub(super) const SMALL: usize = 64;

/// A picture's colour copy: RGB rows, `width` × `height`.
pub(super) struct Small {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

/// For each of `to` output samples, the first source sample it averages: `to + 1`
/// edges over `from` samples (whole samples; used where `from` is at least `to`).
fn edges(from: usize, to: usize) -> Vec<usize> {
    (0..=to).map(|i| i * from / to.max(1)).collect()
}

/// The `w`×`h` RGBA picture shrunk to at most [`SMALL`] a side (each side on its own,
/// as the hashes ignore proportions) by averaging whole source pixels (a box filter),
/// over white as a viewer shows it: transparent pixels' colours mean nothing. `rgba`
/// must hold `w`×`h` pixels; `opaque` says that every alpha is 255 (a quicker sum).
pub(super) fn shrunk_over_white(rgba: &[u8], w: usize, h: usize, opaque: bool) -> Small {
    let (sw, sh) = (w.min(SMALL), h.min(SMALL));
    let (across, down) = (edges(w, sw), edges(h, sh));
    // Per source column and channel (alpha too, unused), the sum over the rows of one
    // output row, times 255 (composited over white).
    let mut columns = vec![0u32; w * 4];
    let mut rgb = vec![0u8; sw * sh * 3];
    let rows: Vec<&[u8]> = rgba.chunks_exact(w * 4).collect();
    for (y, out_row) in rgb.chunks_exact_mut(sw * 3).enumerate() {
        columns.fill(0);
        let (top, bottom) = (down[y], down[y + 1]);
        for row in &rows[top..bottom] {
            if opaque {
                // Photos: a straight sum the compiler vectorises.
                for (sum, &v) in columns.iter_mut().zip(row.iter()) {
                    *sum += u32::from(v) * 255;
                }
            } else {
                for (sum, pixel) in columns.chunks_exact_mut(4).zip(row.chunks_exact(4)) {
                    let a = u32::from(pixel[3]);
                    let white = 255 * (255 - a);
                    for c in 0..3 {
                        sum[c] += u32::from(pixel[c]) * a + white;
                    }
                }
            }
        }
        for (span, out) in across.windows(2).zip(out_row.chunks_exact_mut(3)) {
            let mut sum = [0u32; 3];
            for pixel in columns[span[0] * 4..span[1] * 4].chunks_exact(4) {
                for c in 0..3 {
                    sum[c] += pixel[c];
                }
            }
            // One reciprocal per sample, not a division per channel.
            let scale = 1.0 / ((bottom - top) * (span[1] - span[0]) * 255).max(1) as f32;
            for (o, s) in out.iter_mut().zip(sum) {
                *o = (s as f32 * scale).round().min(255.0) as u8;
            }
        }
    }
    Small {
        width: sw,
        height: sh,
        rgb,
    }
}

/// The brightness of each pixel of an RGB copy (BT.601 luma, 0-255).
pub(super) fn grey(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks_exact(3)
        .map(|p| {
            let v = 299 * u32::from(p[0]) + 587 * u32::from(p[1]) + 114 * u32::from(p[2]);
            ((v + 500) / 1000) as u8
        })
        .collect()
}

/// The weights of a triangle (tent) filter from `from` samples to `to`: for each output
/// sample, its first source sample and the weight (summing to 1) of each one from there.
/// The tent spans one output sample either side (at least one source sample), as the
/// `image` crate's `Triangle` filter does.
fn triangle_weights(from: usize, to: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = from as f32 / to as f32;
    let support = scale.max(1.0);
    (0..to)
        .map(|i| {
            let centre = (i as f32 + 0.5) * scale - 0.5;
            let first = (centre - support).ceil().max(0.0) as usize;
            let last = ((centre + support).floor() as usize).min(from - 1);
            let mut weights: Vec<f32> = (first..=last)
                .map(|s| (1.0 - (s as f32 - centre).abs() / support).max(0.0))
                .collect();
            let total: f32 = weights.iter().sum();
            weights
                .iter_mut()
                .for_each(|w| *w /= total.max(f32::EPSILON));
            (first, weights)
        })
        .collect()
}

/// The `w`×`h` grey copy resampled to `ow`×`oh` with a triangle filter, row by row,
/// rounded to whole levels as an 8-bit picture would be (so that equal rows stay equal
/// whatever the rounding of their weights, and a flat part hashes as flat).
pub(super) fn resized(grey: &[u8], (w, h): (usize, usize), (ow, oh): (usize, usize)) -> Vec<f32> {
    let (across, down) = (triangle_weights(w, ow), triangle_weights(h, oh));
    // Across first: `h` rows of `ow`.
    let mut wide = vec![0f32; h * ow];
    for (row, out) in grey.chunks_exact(w).zip(wide.chunks_exact_mut(ow)) {
        for (o, (first, weights)) in out.iter_mut().zip(&across) {
            *o = row[*first..]
                .iter()
                .zip(weights)
                .map(|(&v, &k)| f32::from(v) * k)
                .sum();
        }
    }
    let mut out = vec![0f32; ow * oh];
    for (line, (first, weights)) in out.chunks_exact_mut(ow).zip(&down) {
        for (k, row) in weights.iter().zip(wide.chunks_exact(ow).skip(*first)) {
            for (o, &v) in line.iter_mut().zip(row) {
                *o += v * k;
            }
        }
    }
    out.iter_mut().for_each(|v| *v = v.round());
    out
}

/// The three structure hashes of a grey copy, 64 bits each: the low frequencies of a
/// 16×16 copy's DCT (the 8×8 lowest, each above or below their median: pHash), and
/// whether brightness rises from each pixel to the next across a 9×8 copy and down an
/// 8×9 copy (dHash).
pub(super) fn structure(grey: &[u8], size: (usize, usize)) -> [u64; 3] {
    let bits = |values: &mut dyn Iterator<Item = bool>| {
        values.fold(0u64, |word, bit| (word << 1) | u64::from(bit))
    };
    let across = resized(grey, size, (9, 8));
    let across = bits(
        &mut across
            .chunks_exact(9)
            .flat_map(|r| r.windows(2).map(|p| p[0] < p[1])),
    );
    let down = resized(grey, size, (8, 9));
    let rows: Vec<&[f32]> = down.chunks_exact(8).collect();
    let down = bits(
        &mut rows
            .windows(2)
            .flat_map(|pair| pair[0].iter().zip(pair[1]).map(|(a, b)| a < b)),
    );
    let low = low_frequencies(&resized(grey, size, (16, 16)));
    let mut sorted = low;
    sorted.sort_by(f32::total_cmp);
    let median = (sorted[31] + sorted[32]) / 2.0;
    let phash = bits(&mut low.iter().map(|&v| v > median));
    [phash, across, down]
}

/// The 8×8 lowest frequencies (row by row) of a 16×16 block's 2-D DCT-II.
fn low_frequencies(block: &[f32]) -> [f32; 64] {
    const N: usize = 16;
    let basis: Vec<f32> = (0..8 * N)
        .map(|k| {
            let (u, x) = (k / N, k % N);
            ((std::f32::consts::PI / N as f32) * (x as f32 + 0.5) * u as f32).cos()
        })
        .collect();
    // Rows first: for each of 16 rows, its 8 lowest frequencies.
    let mut rows = [0f32; N * 8];
    for (row, out) in block.chunks_exact(N).zip(rows.chunks_exact_mut(8)) {
        for (o, b) in out.iter_mut().zip(basis.chunks_exact(N)) {
            *o = row.iter().zip(b).map(|(v, c)| v * c).sum();
        }
    }
    let mut low = [0f32; 64];
    for (v, b) in basis.chunks_exact(N).enumerate() {
        for u in 0..8 {
            low[v * 8 + u] = (0..N).map(|y| rows[y * 8 + u] * b[y]).sum();
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_keeps_about_the_mean_and_a_flat_picture_flat() {
        let grey: Vec<u8> = (0..64 * 48).map(|i| (i * 7 % 251) as u8).collect();
        let mean = grey.iter().map(|&v| f32::from(v)).sum::<f32>() / grey.len() as f32;
        for size in [(9, 8), (8, 9), (16, 16), (32, 32), (5, 7)] {
            let out = resized(&grey, (64, 48), size);
            let out_mean = out.iter().sum::<f32>() / out.len() as f32;
            assert!(
                (out_mean - mean).abs() < 2.0,
                "{size:?}: {out_mean} vs {mean}"
            );
        }
        let flat = resized(&[77; 40 * 33], (40, 33), (9, 8));
        assert!(flat.iter().all(|&v| v == 77.0), "{flat:?}");
    }

    #[test]
    fn the_colour_copy_averages_whole_pixels_over_white() {
        // 128x2: left half opaque red, right half fully transparent (white when shown).
        let rgba: Vec<u8> = (0..256)
            .flat_map(|i| {
                if i % 128 < 64 {
                    [255, 0, 0, 255]
                } else {
                    [0, 0, 0, 0]
                }
            })
            .collect();
        let small = shrunk_over_white(&rgba, 128, 2, false);
        assert_eq!((small.width, small.height), (64, 2));
        assert_eq!(&small.rgb[..3], &[255, 0, 0]);
        assert_eq!(&small.rgb[small.rgb.len() - 3..], &[255, 255, 255]);
        // An opaque picture: the quick sum gives what the composited one gives.
        let mut rng = fastrand::Rng::with_seed(3);
        let photo: Vec<u8> = (0..200 * 150)
            .flat_map(|_| [rng.u8(..), rng.u8(..), rng.u8(..), 255])
            .collect();
        let quick = shrunk_over_white(&photo, 200, 150, true);
        assert_eq!(quick.rgb, shrunk_over_white(&photo, 200, 150, false).rgb);
    }

    #[test]
    fn the_hashes_follow_where_brightness_rises() {
        // Brighter to the right: every across bit set, no down bit.
        let ramp: Vec<u8> = (0..64 * 64).map(|i| (i % 64 * 4) as u8).collect();
        let [_, across, down] = structure(&ramp, (64, 64));
        assert_eq!((across, down), (u64::MAX, 0));
        // The same picture turned: the other way round.
        let turned: Vec<u8> = (0..64 * 64).map(|i| (i / 64 * 4) as u8).collect();
        let [_, across, down] = structure(&turned, (64, 64));
        assert_eq!((across, down), (0, u64::MAX));
    }

    #[test]
    fn copies_of_any_size_and_shape_are_made_whole() {
        let mut rng = fastrand::Rng::with_seed(15);
        for (w, h) in [
            (32, 32),
            (33, 1000),
            (1000, 33),
            (63, 65),
            (64, 64),
            (256, 192),
            (257, 31),
        ] {
            let rgba: Vec<u8> = (0..w * h * 4).map(|_| rng.u8(..)).collect();
            let small = shrunk_over_white(&rgba, w, h, false);
            assert_eq!((small.width, small.height), (w.min(SMALL), h.min(SMALL)));
            assert_eq!(small.rgb.len(), small.width * small.height * 3);
            let grey = grey(&small.rgb);
            let size = (small.width, small.height);
            for out in [(9, 8), (8, 9), (16, 16), (32, 32)] {
                let copy = resized(&grey, size, out);
                assert_eq!(copy.len(), out.0 * out.1);
                assert!(
                    copy.iter().all(|v| (0.0..=255.0).contains(v)),
                    "{w}x{h} -> {out:?}"
                );
            }
            structure(&grey, size);
        }
    }
}
