//! Pixels from the walk's coefficients: the DC image (each block's average colour),
//! and for a sequential JPEG whose blocks' low 2x2 or 4x4 coefficients were kept, the
//! 1/4 or 1/2-scale image: that corner's inverse DCT (jpeg-decoder's and stb_image's
//! reduced IDCT). Then, at any scale, chroma upsampled (a triangle filter, as
//! libjpeg's "fancy" upsampling) and colour converted at the reduced size.

use std::num::Wrapping as W;

use super::{Component, DcImage, max_sampling};

/// The image at `k`/8 scale (k = 1, 2 or 4) from each block's low `k` x `k`
/// coefficients, kept row by row after the DC value (as [`super::decode_for`] keeps
/// them); at 1/8 each block's DC value is its one sample.
pub(super) fn compose(
    w: usize,
    h: usize,
    comps: &[Component],
    coefs: &[Vec<i32>],
    quant: &[[u16; 64]; 4],
    rgb: bool,
    k: usize,
) -> DcImage {
    let (hmax, vmax) = max_sampling(comps);
    let (mcux, mcuy) = (w.div_ceil(8 * hmax), h.div_ceil(8 * vmax));
    let (ow, oh) = ((w * k).div_ceil(8), (h * k).div_ceil(8));
    if comps.len() == 4 {
        // CMYK or YCCK: walked to judge the data, but not turned into colours here.
        return DcImage {
            width: ow as u32,
            height: oh as u32,
            eighths: k as u8,
            channels: 0,
            pixels: Vec::new(),
            defect: None,
            progressive: false,
        };
    }
    let planes: Vec<Plane> = comps
        .iter()
        .zip(coefs)
        .map(|(c, coefs)| {
            let blocks = (mcux * c.h, mcuy * c.v);
            Plane::new(coefs, &quant[c.tq], blocks, k)
        })
        .collect();
    // How each component's plane is stretched to the output: `None` when it is not.
    let stretch: Vec<Option<Stretch>> = comps
        .iter()
        .zip(&planes)
        .map(|(c, p)| {
            (c.h != hmax || c.v != vmax).then(|| Stretch::new(p, (ow, oh), c, (hmax, vmax)))
        })
        .collect();
    let channels = if comps.len() == 3 { 3 } else { 1 };
    let mut pixels = vec![0u8; ow * oh * channels];
    let mut rows = vec![vec![0u8; ow]; comps.len()];
    let mut scratch = Vec::new();
    let mut planar = [vec![0u8; ow], vec![0u8; ow], vec![0u8; ow]];
    for (y, out) in pixels.chunks_exact_mut(ow * channels).enumerate() {
        for ((row, plane), stretch) in rows.iter_mut().zip(&planes).zip(&stretch) {
            match stretch {
                None => row.copy_from_slice(&plane.px[y * plane.w..y * plane.w + ow]),
                Some(stretch) => stretch.row(plane, y, &mut scratch, row),
            }
        }
        match &rows[..] {
            [r, g, b] if rgb => {
                for (o, ((&r, &g), &b)) in out.chunks_exact_mut(3).zip(r.iter().zip(g).zip(b)) {
                    o.copy_from_slice(&[r, g, b]);
                }
            }
            [luma, cb, cr] => {
                ycbcr_to_rgb(luma, cb, cr, &mut planar);
                let [r, g, b] = &planar;
                for (o, ((&r, &g), &b)) in out.chunks_exact_mut(3).zip(r.iter().zip(g).zip(b)) {
                    o.copy_from_slice(&[r, g, b]);
                }
            }
            [grey, ..] => out.copy_from_slice(grey),
            [] => {}
        }
    }
    DcImage {
        width: ow as u32,
        height: oh as u32,
        eighths: k as u8,
        channels: channels as u8,
        pixels,
        defect: None,
        progressive: false,
    }
}

/// One component's samples at the reduced scale, padding blocks included.
struct Plane {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Plane {
    /// The inverse DCT of every block of a component `blocks` (across, down) wide.
    fn new(coefs: &[i32], quant: &[u16; 64], (bw, bh): (usize, usize), k: usize) -> Self {
        let (w, h) = (bw * k, bh * k);
        if k == 1 {
            // The DC image: one sample per block, in the blocks' order.
            let q = W(i32::from(quant[0]));
            let px = coefs.iter().take(bw * bh).map(|&dc| flat(W(dc) * q, 1));
            let mut px: Vec<u8> = px.collect();
            px.resize(w * h, flat(W(0), 1));
            return Self { w, h, px };
        }
        let mut px = vec![0u8; w * h];
        let mut q = [0i32; 16];
        for r in 0..k {
            for c in 0..k {
                q[r * k + c] = i32::from(quant[r * 8 + c]);
            }
        }
        let stride = k * k;
        for (b, block) in coefs.chunks_exact(stride).take(bw * bh).enumerate() {
            let (bx, by) = (b % bw, b / bw);
            let out = &mut px[by * k * w + bx * k..];
            if block[1..].iter().all(|&c| c == 0) {
                // No detail (most blocks of a photo's sky or wall): one value, the
                // same as the transform below gives.
                let value = flat(W(block[0]) * W(q[0]), k);
                for row in out.chunks_mut(w).take(k) {
                    row[..k].fill(value);
                }
            } else if k == 2 {
                idct_2x2(block, &q, out, w);
            } else {
                idct_4x4(block, &q, out, w);
            }
        }
        Self { w, h, px }
    }
}

/// Two neighbouring samples and the second's weight in 1/256.
type Tap = (u32, u32, u32);

/// How a subsampled component's plane is stretched to the output size: sample centres
/// line up, and each output sample weighs its two nearest plane samples across and
/// down (a 2x stretch weighs the nearer 3/4 and the farther 1/4, as libjpeg's "fancy"
/// upsampling does).
struct Stretch {
    /// Per output row: the plane rows and the second's weight.
    down: Vec<Tap>,
    /// Across: `None` for twice the plane's width (the common 4:2:x case, done without
    /// a table), else per output column.
    across: Option<Vec<Tap>>,
}

impl Stretch {
    fn new(
        plane: &Plane,
        (ow, oh): (usize, usize),
        c: &Component,
        (hmax, vmax): (usize, usize),
    ) -> Self {
        let across = (c.h * 2 != hmax).then(|| taps(ow, plane.w, c.h, hmax));
        Self {
            down: taps(oh, plane.h, c.v, vmax),
            across,
        }
    }

    /// Output row `y` of `plane` into `out`; `blend` is working room.
    fn row(&self, plane: &Plane, y: usize, blend: &mut Vec<u32>, out: &mut [u8]) {
        let (y0, y1, wy) = self.down[y];
        let line = |y: u32| &plane.px[y as usize * plane.w..(y as usize + 1) * plane.w];
        // Down first, over the plane's whole row: 8 fractional bits.
        blend.clear();
        blend.extend(
            line(y0)
                .iter()
                .zip(line(y1))
                .map(|(&a, &b)| u32::from(a) * (256 - wy) + u32::from(b) * wy),
        );
        let to_u8 = |v: u32| ((v + (1 << 9)) >> 10) as u8;
        match &self.across {
            None => {
                // Output 2i and 2i+1 both lie nearest plane sample i: the pairs whose
                // neighbours are inside the row go in one straight loop, the edges
                // with their neighbours clamped.
                let last = blend.len().saturating_sub(1);
                let pairs = out.len().div_ceil(2);
                let inner = (out.len() / 2).min(last).max(1);
                let middle = out.get_mut(2..2 * inner).unwrap_or_default();
                for (pair, near) in middle.chunks_exact_mut(2).zip(blend.windows(3)) {
                    let here = 3 * near[1];
                    pair[0] = to_u8(here + near[0]);
                    pair[1] = to_u8(here + near[2]);
                }
                for i in std::iter::once(0).chain(inner..pairs) {
                    let here = 3 * blend[i.min(last)];
                    if let Some(left) = out.get_mut(2 * i) {
                        *left = to_u8(here + blend[i.saturating_sub(1).min(last)]);
                    }
                    if let Some(right) = out.get_mut(2 * i + 1) {
                        *right = to_u8(here + blend[(i + 1).min(last)]);
                    }
                }
            }
            Some(across) => {
                for (o, &(a, b, wx)) in out.iter_mut().zip(across) {
                    let v = blend[a as usize] * (256 - wx) + blend[b as usize] * wx;
                    *o = ((v + (1 << 15)) >> 16) as u8;
                }
            }
        }
    }
}

/// For each of `out_len` output samples, where it falls in a plane of `plane_len`
/// samples that is sampled `factor`/`max` as densely.
fn taps(out_len: usize, plane_len: usize, factor: usize, max: usize) -> Vec<Tap> {
    let last = plane_len.saturating_sub(1);
    (0..out_len)
        .map(|i| {
            let pos = ((2 * i + 1) * factor * 256 / (2 * max)).saturating_sub(128);
            let a = (pos >> 8).min(last);
            let b = (a + 1).min(last);
            (a as u32, b as u32, (pos & 255) as u32)
        })
        .collect()
}

/// A row of JFIF YCbCr to RGB planes, in 16.16 fixed point (a loop the compiler
/// vectorises).
fn ycbcr_to_rgb(luma: &[u8], cb: &[u8], cr: &[u8], [r, g, b]: &mut [Vec<u8>; 3]) {
    const CR_R: i32 = 91_881; // 1.402
    const CB_G: i32 = 22_554; // 0.344136
    const CR_G: i32 = 46_802; // 0.714136
    const CB_B: i32 = 116_130; // 1.772
    const HALF: i32 = 1 << 15;
    let clamp = |v: i32| (v >> 16).clamp(0, 255) as u8;
    let pixels = luma.iter().zip(cb).zip(cr);
    for ((((&y, &cb), &cr), r), (g, b)) in
        pixels.zip(r.iter_mut()).zip(g.iter_mut().zip(b.iter_mut()))
    {
        let (y, cb, cr) = (
            (i32::from(y) << 16) + HALF,
            i32::from(cb) - 128,
            i32::from(cr) - 128,
        );
        *r = clamp(y + CR_R * cr);
        *g = clamp(y - CB_G * cb - CR_G * cr);
        *b = clamp(y + CB_B * cb);
    }
}

/// `x` rounded to 8 bits, level-shifted samples clamped to 0-255.
fn clamp(x: W<i32>) -> u8 {
    x.0.clamp(0, 255) as u8
}

/// What [`idct_2x2`] and [`idct_4x4`] give for every sample of a block whose only
/// coefficient is its dequantised DC value `dc` (at 1/8 scale, the block's sample).
fn flat(dc: W<i32>, k: usize) -> u8 {
    if k <= 2 {
        clamp((dc + W(1 << 2) + W(128 << 3)) >> 3usize)
    } else {
        clamp(((dc << 14) + W(1 << 16) + W(128 << 17)) >> 17usize)
    }
}

/// The 2x2 inverse DCT of a block's low corner (row by row in `block`, dequantised by
/// `q`), written to `out` at rows `line` apart.
fn idct_2x2(block: &[i32], q: &[i32; 16], out: &mut [u8], line: usize) {
    let c = |i: usize| W(block[i]) * W(q[i]);
    let (x0, x2) = (c(0) + c(2), c(0) - c(2));
    let (x1, x3) = (c(1) + c(3), c(1) - c(3));
    let bias = W(1 << 2) + W(128 << 3);
    let (x0, x2) = (x0 + bias, x2 + bias);
    out[0] = clamp((x0 + x1) >> 3usize);
    out[1] = clamp((x0 - x1) >> 3usize);
    out[line] = clamp((x2 + x3) >> 3usize);
    out[line + 1] = clamp((x2 - x3) >> 3usize);
}

/// The 4x4 inverse DCT of a block's low corner (as [`idct_2x2`]), in fixed point with
/// 12 fractional bits.
fn idct_4x4(block: &[i32], q: &[i32; 16], out: &mut [u8], line: usize) {
    const CONST_BITS: usize = 12;
    const PASS1_BITS: usize = 2;
    const FINAL_BITS: usize = CONST_BITS + PASS1_BITS + 3;
    // 0.541196100, -1.847759065 and 0.765366865 in 1/4096.
    const C1: W<i32> = W(2217);
    const C2: W<i32> = W(-7567);
    const C3: W<i32> = W(3135);
    let c = |i: usize| W(block[i]) * W(q[i]);
    let mut temp = [W(0i32); 16];
    for i in 0..4 {
        let (s0, s1, s2, s3) = (c(i), c(4 + i), c(8 + i), c(12 + i));
        let x0 = (s0 + s2) << PASS1_BITS;
        let x2 = (s0 - s2) << PASS1_BITS;
        let p1 = (s1 + s3) * C1;
        let t0 = (p1 + s3 * C2 + W(512)) >> (CONST_BITS - PASS1_BITS);
        let t2 = (p1 + s1 * C3 + W(512)) >> (CONST_BITS - PASS1_BITS);
        temp[i] = x0 + t2;
        temp[12 + i] = x0 - t2;
        temp[4 + i] = x2 + t0;
        temp[8 + i] = x2 - t0;
    }
    let bias = W(1 << (FINAL_BITS - 1)) + W(128 << FINAL_BITS);
    for (i, t) in temp.chunks_exact(4).enumerate() {
        let x0 = ((t[0] + t[2]) << CONST_BITS) + bias;
        let x2 = ((t[0] - t[2]) << CONST_BITS) + bias;
        let p1 = (t[1] + t[3]) * C1;
        let t0 = p1 + t[3] * C2;
        let t2 = p1 + t[1] * C3;
        let row = &mut out[i * line..i * line + 4];
        row[0] = clamp((x0 + t2) >> FINAL_BITS);
        row[3] = clamp((x0 - t2) >> FINAL_BITS);
        row[1] = clamp((x2 + t0) >> FINAL_BITS);
        row[2] = clamp((x2 - t0) >> FINAL_BITS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_without_detail_is_one_value_the_transform_agrees_with() {
        for k in [2, 4] {
            for dc in (-3000..3000).step_by(7).chain([i32::MIN, i32::MAX]) {
                let mut block = vec![0; k * k];
                block[0] = dc;
                let q = [3i32; 16];
                let mut out = vec![0u8; 4 * k];
                if k == 2 {
                    idct_2x2(&block, &q, &mut out, 4);
                } else {
                    idct_4x4(&block, &q, &mut out, 4);
                }
                let want = flat(W(dc) * W(3), k);
                let got: Vec<u8> = out.chunks(4).flat_map(|r| r[..k].to_vec()).collect();
                assert!(
                    got.iter().all(|&v| v == want),
                    "k {k}, dc {dc}: {got:?} vs {want}"
                );
            }
        }
    }
}
