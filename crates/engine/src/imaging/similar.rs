//! Similar images: a signature of each thumbnail, made as the thumbnail is made and
//! stored in the library, and groups of copies (resized, recompressed, lightly
//! cropped). Identical bytes are a different matter: the library stores those once
//! already.
//!
//! A signature (version 4) has three parts, all read from a 64 px copy of the thumbnail
//! (`similar/copies.rs`). Its structure is three 64-bit hashes of the brightness side by
//! side (192 bits): the low frequencies of the DCT against their median (pHash), the
//! horizontal and the vertical gradient (dHash); their distances add up. Its colour is
//! the mean colour of each cell of a 4×4 grid. Its shape is a 32×32 brightness copy,
//! compared by the correlation of its detail (what is left once the overall ramp of light is taken
//! away), the best over the light crops one could be of the other. Two pictures are
//! the same picture only when all three are close; the hashes are the quick test, the
//! shape the exact one. A picture too small (under 32 px a side) or too plain (its
//! detail barely departs from a flat ramp) gets an "unknown" signature: its hash would
//! be noise, so it is never grouped.
//!
//! A group is a copy set: every member is the same picture as every other (complete
//! linkage, so whichever is kept, each other member is a copy of it), and no member is
//! the same picture as anything outside the group. Look-alikes that do not form such a
//! set (a texture, a sky, a chain of near matches) are left out and counted.
//!
//! Measured (`imaging/similar/tests.rs`, version 4): 14 real photos, each resized to 50 %,
//! recompressed at quality 60 and cropped by 5 %: variants of one photo at most 46 bits
//! and colour 26 apart with a likeness of at least 948, different photos at least 66
//! bits and colour 44 apart; precision and recall 1 (version 3: 50, 24, 951; 67, 44).
//! 400 clouds of one texture and one palette (a sky): likeness up to 959 for a few
//! smooth pairs, so at most groups of 2 (before, single linkage of the hashes alone: a
//! group of 11 of clouds in any colours); with only small features, likeness at most 710
//! and no group. Hashing cost 2 % of a 4000×3000 photo's thumbnail time in version 3
//! (`cargo bench --bench thumbs`); version 4 less than half of that (perf of list B's
//! `get`: 330 samples to 140).

use std::collections::BTreeMap;

use super::thumbs::Thumbnail;

mod copies;

/// Structures at most this many bits apart (of 192) can be the same picture: midway
/// between the measured 46 and 66.
pub(crate) const SAME_PICTURE: u32 = 56;

/// Colours at most this far apart (the mean over the 4×4 cells of the distance between
/// their RGB means, 0-441) can be the same picture.
pub(crate) const SAME_COLOUR: u32 = 34;

/// Shapes less alike than this (the correlation of their 32×32 brightness copies, in
/// thousandths) are different pictures.
pub(crate) const SAME_SHAPE: u32 = 925;

/// A thumbnail with a side shorter than this is too small to say.
const MIN_SIDE: usize = 32;

/// The least detail (root mean square, in grey levels 0-255, of a 32×32 brightness
/// copy's departure from its best flat ramp) of a picture that can be compared.
const MIN_DETAIL: f32 = 4.0;

/// The side of the shape part's brightness copy.
const SHAPE: usize = 32;

/// The grid of the colour part.
const CELLS: usize = 4;

/// An item that is the same picture as more than this many others is part of a crowd
/// of look-alikes, never of a group (and bounds the pairs kept in memory).
const MAX_NEIGHBOURS: usize = 32;

/// The version prefix of stored signatures; a stored text without it (an older hash)
/// is stale and made again.
const VERSION: &str = "4:";

/// The stored text of a picture that cannot be compared.
const UNKNOWN: &str = "4:-";

/// A picture's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Signature {
    /// Too small or too plain to compare: never the same picture as anything.
    Unknown,
    /// Comparable.
    Known(Box<Known>),
}

/// The parts of a comparable picture's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    /// The three brightness hashes, 64 bits each.
    structure: [u64; 3],
    /// Mean R, G, B of each grid cell, row by row.
    colour: [u8; CELLS * CELLS * 3],
    /// A 32×32 brightness copy, row by row.
    shape: [u8; SHAPE * SHAPE],
}

/// How far apart two comparable signatures are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Difference {
    /// Bits that differ between the structures (0-192).
    pub structure: u32,
    /// Mean distance between the cells' colours (0-441).
    pub colour: u32,
    /// How alike the shapes are: their brightness copies' correlation in thousandths
    /// (1000 the same up to brightness and contrast, 0 unrelated or opposite). Measured
    /// only when the structure and colour are already close enough (the costly test);
    /// 0 otherwise.
    pub likeness: u32,
}

impl Difference {
    /// Whether the two are the same picture (a copy of one another).
    pub(crate) fn same_picture(&self) -> bool {
        self.structure <= SAME_PICTURE && self.colour <= SAME_COLOUR && self.likeness >= SAME_SHAPE
    }
}

impl Known {
    /// How far this is from `other`.
    pub(crate) fn difference(&self, other: &Known) -> Difference {
        let structure = self
            .structure
            .iter()
            .zip(&other.structure)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        let colour: f32 = self
            .colour
            .chunks_exact(3)
            .zip(other.colour.chunks_exact(3))
            .map(|(a, b)| {
                a.iter()
                    .zip(b)
                    .map(|(&a, &b)| (f32::from(a) - f32::from(b)).powi(2))
                    .sum::<f32>()
                    .sqrt()
            })
            .sum();
        let colour = (colour / (CELLS * CELLS) as f32).round() as u32;
        Difference {
            structure,
            colour,
            likeness: if structure <= SAME_PICTURE && colour <= SAME_COLOUR {
                likeness(&self.shape, &other.shape)
            } else {
                0
            },
        }
    }
}

impl Signature {
    /// Reads a stored signature; `None` for anything else (an older hash included).
    pub(crate) fn parse(text: &str) -> Option<Signature> {
        if text == UNKNOWN {
            return Some(Signature::Unknown);
        }
        let hex = text.strip_prefix(VERSION)?;
        if hex.len() != 2 * (24 + CELLS * CELLS * 3 + SHAPE * SHAPE) || !hex.is_ascii() {
            return None;
        }
        let mut bytes = Vec::with_capacity(hex.len() / 2);
        for pair in hex.as_bytes().chunks_exact(2) {
            let pair = std::str::from_utf8(pair).ok()?;
            bytes.push(u8::from_str_radix(pair, 16).ok()?);
        }
        let (structure, rest) = bytes.split_at(24);
        let (colour, shape) = rest.split_at(CELLS * CELLS * 3);
        let mut words = [0u64; 3];
        for (word, chunk) in words.iter_mut().zip(structure.chunks_exact(8)) {
            *word = u64::from_be_bytes(chunk.try_into().ok()?);
        }
        Some(Signature::Known(Box::new(Known {
            structure: words,
            colour: colour.try_into().ok()?,
            shape: shape.try_into().ok()?,
        })))
    }

    /// The text stored in the library.
    pub(crate) fn to_text(&self) -> String {
        match self {
            Signature::Unknown => UNKNOWN.to_string(),
            Signature::Known(known) => {
                let mut text = String::from(VERSION);
                let bytes = known
                    .structure
                    .iter()
                    .flat_map(|w| w.to_be_bytes())
                    .chain(known.colour.iter().copied())
                    .chain(known.shape.iter().copied());
                for byte in bytes {
                    text.push_str(&format!("{byte:02x}"));
                }
                text
            }
        }
    }

    /// The comparable parts, if any.
    #[cfg(test)]
    pub(crate) fn known(&self) -> Option<&Known> {
        match self {
            Signature::Unknown => None,
            Signature::Known(known) => Some(known.as_ref()),
        }
    }
}

/// Whether a stored text is a signature of the current version (else it is made again).
pub(crate) fn is_current(text: &str) -> bool {
    Signature::parse(text).is_some()
}

/// The signature of a thumbnail; `None` only if its buffer is not the size it says.
pub(crate) fn signature(thumb: &Thumbnail) -> Option<Signature> {
    let (w, h) = (thumb.width as usize, thumb.height as usize);
    if thumb.rgba.len() != w.checked_mul(h)?.checked_mul(4)? {
        return None;
    }
    if w.min(h) < MIN_SIDE {
        return Some(Signature::Unknown);
    }
    // Everything below reads a 64 px copy, not the 256 px thumbnail.
    let small = copies::shrunk_over_white(&thumb.rgba, w, h, thumb.is_opaque());
    let size = (small.width, small.height);
    let grey = copies::grey(&small.rgb);
    let shape = brightness(&grey, size);
    if detail(&shape) < MIN_DETAIL {
        return Some(Signature::Unknown);
    }
    Some(Signature::Known(Box::new(Known {
        structure: copies::structure(&grey, size),
        colour: colour_grid(&small),
        shape,
    })))
}

/// The stored text of a thumbnail's signature (see [`signature`]).
pub(crate) fn hash_thumbnail(thumb: &Thumbnail) -> Option<String> {
    signature(thumb).map(|s| s.to_text())
}

/// How far apart two stored signatures are; `None` if either is unknown or not one.
#[cfg(test)]
pub(crate) fn difference(a: &str, b: &str) -> Option<Difference> {
    let (a, b) = (Signature::parse(a)?, Signature::parse(b)?);
    Some(a.known()?.difference(b.known()?))
}

/// A 32×32 brightness copy of a `size` grey copy, row by row.
fn brightness(grey: &[u8], size: (usize, usize)) -> [u8; SHAPE * SHAPE] {
    let mut shape = [0u8; SHAPE * SHAPE];
    for (value, v) in shape
        .iter_mut()
        .zip(copies::resized(grey, size, (SHAPE, SHAPE)))
    {
        *value = v.round().clamp(0.0, 255.0) as u8;
    }
    shape
}

/// A brightness copy with its best flat ramp (plane) taken away: what is left is the
/// picture's detail, whatever its overall lighting.
fn residual(shape: &[u8; SHAPE * SHAPE]) -> [f32; SHAPE * SHAPE] {
    let centre = (SHAPE as f32 - 1.0) / 2.0;
    let at = |k: usize| ((k % SHAPE) as f32 - centre, (k / SHAPE) as f32 - centre);
    let (mut mean, mut sx, mut sy, mut sxx) = (0f32, 0f32, 0f32, 0f32);
    for (k, &v) in shape.iter().enumerate() {
        let ((x, y), v) = (at(k), f32::from(v));
        mean += v;
        sx += x * v;
        sy += y * v;
        sxx += x * x;
    }
    // On a centred square grid the plane's three terms are independent.
    let (mean, bx, by) = (mean / shape.len() as f32, sx / sxx, sy / sxx);
    let mut out = [0f32; SHAPE * SHAPE];
    for (k, (o, &v)) in out.iter_mut().zip(shape).enumerate() {
        let (x, y) = at(k);
        *o = f32::from(v) - mean - bx * x - by * y;
    }
    out
}

/// How much a brightness copy departs from a flat ramp: the root mean square of its
/// [`residual`].
fn detail(shape: &[u8; SHAPE * SHAPE]) -> f32 {
    let r = residual(shape);
    (r.iter().map(|v| v * v).sum::<f32>() / r.len() as f32).sqrt()
}

/// How alike two brightness copies' details are: their correlation in thousandths
/// (negative counts as 0), the best over the ways one can be a light crop of the other
/// (90 or 95 % of it, at a corner, an edge's middle or the centre), as well as as is.
fn likeness(a: &[u8; SHAPE * SHAPE], b: &[u8; SHAPE * SHAPE]) -> u32 {
    let (a, b) = (residual(a), residual(b));
    let mut best = correlation(&a, &b);
    for scale in [0.95f32, 0.9] {
        let room = SHAPE as f32 * (1.0 - scale);
        for oy in [0.0, room / 2.0, room] {
            for ox in [0.0, room / 2.0, room] {
                let window = (ox, oy, scale);
                best = best
                    .max(correlation(&sample(&a, window), &b))
                    .max(correlation(&a, &sample(&b, window)));
            }
        }
    }
    (best.clamp(0.0, 1.0) * 1000.0).round() as u32
}

/// The part of `v` at (`ox`, `oy`) (in pixels) and `scale` of its side, resampled
/// (bilinear) to the full side.
fn sample(v: &[f32; SHAPE * SHAPE], (ox, oy, scale): (f32, f32, f32)) -> [f32; SHAPE * SHAPE] {
    let last = SHAPE - 1;
    let at = |x: usize, y: usize| v[y.min(last) * SHAPE + x.min(last)];
    let mut out = [0f32; SHAPE * SHAPE];
    for (k, o) in out.iter_mut().enumerate() {
        let x = (ox + ((k % SHAPE) as f32 + 0.5) * scale - 0.5).max(0.0);
        let y = (oy + ((k / SHAPE) as f32 + 0.5) * scale - 0.5).max(0.0);
        let (x0, y0) = (x as usize, y as usize);
        let (tx, ty) = (x - x0 as f32, y - y0 as f32);
        let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
        let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
        *o = top * (1.0 - ty) + bottom * ty;
    }
    out
}

/// The correlation of two equally long series (-1 to 1).
fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len() as f32;
    let (ma, mb) = (a.iter().sum::<f32>() / n, b.iter().sum::<f32>() / n);
    let (mut ab, mut aa, mut bb) = (0f32, 0f32, 0f32);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (x - ma, y - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt().max(f32::EPSILON)
}

/// The mean colour of each cell of a 4×4 grid over the picture.
fn colour_grid(small: &copies::Small) -> [u8; CELLS * CELLS * 3] {
    let (w, h) = (small.width, small.height);
    let mut sums = [[0u64; 4]; CELLS * CELLS];
    let columns: Vec<usize> = (0..w).map(|x| x * CELLS / w).collect();
    for (y, row) in small.rgb.chunks_exact(w * 3).enumerate() {
        let cells = &mut sums[(y * CELLS / h) * CELLS..][..CELLS];
        for (p, &column) in row.chunks_exact(3).zip(&columns) {
            let sum = &mut cells[column];
            for (total, &value) in sum.iter_mut().zip(p) {
                *total += u64::from(value);
            }
            sum[3] += 1;
        }
    }
    let mut grid = [0u8; CELLS * CELLS * 3];
    for (cell, sum) in sums.iter().enumerate() {
        for c in 0..3 {
            grid[cell * 3 + c] = (sum[c] / sum[3].max(1)) as u8;
        }
    }
    grid
}

/// Copy sets found among stored signatures.
#[derive(Debug, Clone)]
pub(crate) struct Grouping<T> {
    /// Groups of two or more copies of one picture, each in input order, groups by
    /// their first item.
    pub groups: Vec<Vec<T>>,
    /// Items too small or too plain to compare (or without a current signature).
    pub unknown: usize,
    /// Items that look like another but are in no clear copy set (left out).
    pub loose: usize,
}

/// The copy sets among `items` (see the module's doc).
pub(crate) fn groups<T: Clone>(items: &[(T, String)]) -> Grouping<T> {
    let signatures: Vec<Option<Box<Known>>> = items
        .iter()
        .map(|(_, text)| match Signature::parse(text) {
            Some(Signature::Known(known)) => Some(known),
            _ => None,
        })
        .collect();
    let unknown = signatures.iter().filter(|s| s.is_none()).count();
    let same = |i: usize, j: usize| match (&signatures[i], &signatures[j]) {
        (Some(a), Some(b)) => Some(a.difference(b)).filter(Difference::same_picture),
        _ => None,
    };
    let matches = Matches::find(signatures.len(), &same);
    let clusters = complete_linkage(signatures.len(), &matches.pairs, |i, j| {
        same(i, j).is_some()
    });
    let mut groups = Vec::new();
    let mut in_group = vec![false; items.len()];
    for members in clusters.into_values().filter(|m| m.len() > 1) {
        // Tight: nothing outside is the same picture as a member.
        let tight = members.iter().all(|&m| {
            !matches.crowded[m] && matches.neighbours[m].iter().all(|n| members.contains(n))
        });
        if tight {
            for &m in &members {
                in_group[m] = true;
            }
            groups.push(members);
        }
    }
    let loose = (0..items.len())
        .filter(|&i| !in_group[i] && (matches.crowded[i] || !matches.neighbours[i].is_empty()))
        .count();
    groups.sort_by_key(|g| g[0]);
    Grouping {
        groups: groups
            .into_iter()
            .map(|g| g.into_iter().map(|i| items[i].0.clone()).collect())
            .collect(),
        unknown,
        loose,
    }
}

/// Every pair of items that are the same picture.
struct Matches {
    /// (difference, i, j) with i < j, closest first.
    pairs: Vec<(Difference, usize, usize)>,
    /// Each item's matches.
    neighbours: Vec<Vec<usize>>,
    /// Items with more matches than [`MAX_NEIGHBOURS`] (not all recorded).
    crowded: Vec<bool>,
}

impl Matches {
    fn find(n: usize, same: &dyn Fn(usize, usize) -> Option<Difference>) -> Matches {
        let mut pairs = Vec::new();
        let mut neighbours = vec![Vec::new(); n];
        let mut crowded = vec![false; n];
        for i in 0..n {
            for j in i + 1..n {
                let Some(d) = same(i, j) else { continue };
                if neighbours[i].len() >= MAX_NEIGHBOURS || neighbours[j].len() >= MAX_NEIGHBOURS {
                    crowded[i] = true;
                    crowded[j] = true;
                    continue;
                }
                neighbours[i].push(j);
                neighbours[j].push(i);
                pairs.push((d, i, j));
            }
        }
        pairs.sort_unstable();
        Matches {
            pairs,
            neighbours,
            crowded,
        }
    }
}

/// Clusters in which every two members are the same picture: the closest pairs first,
/// two clusters merged only when every cross pair is. Keyed by their first item, each
/// in input order.
fn complete_linkage(
    n: usize,
    pairs: &[(Difference, usize, usize)],
    same: impl Fn(usize, usize) -> bool,
) -> BTreeMap<usize, Vec<usize>> {
    let mut cluster: Vec<usize> = (0..n).collect();
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for &(_, i, j) in pairs {
        let (ci, cj) = (cluster[i], cluster[j]);
        if ci == cj {
            continue;
        }
        let a = members.get(&ci).cloned().unwrap_or_else(|| vec![i]);
        let b = members.get(&cj).cloned().unwrap_or_else(|| vec![j]);
        if !a.iter().all(|&x| b.iter().all(|&y| same(x, y))) {
            continue;
        }
        let key = ci.min(cj);
        let mut merged = [a, b].concat();
        merged.sort_unstable();
        for &m in &merged {
            cluster[m] = key;
        }
        members.remove(&ci.max(cj));
        members.insert(key, merged);
    }
    members
}

/// Groups of real photos and their variants.
#[cfg(test)]
mod tests;
