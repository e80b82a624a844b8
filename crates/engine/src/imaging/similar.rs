//! Similar images: a perceptual hash of each thumbnail, made as the thumbnail is made
//! and stored in the library, and groups of near-duplicates (resized, recompressed,
//! lightly cropped) by Hamming distance. Identical bytes are a different matter: the
//! library stores those once already.
//!
//! The hash is three of image_hasher's 64-bit hashes side by side (192 bits): the
//! median of the DCT's low frequencies (pHash), the horizontal and the vertical
//! gradient (dHash), each of a 64 px copy of the thumbnail. Their distances add up. On
//! the test set of `tests/similar.rs` (14 real photos, each resized to 50 %,
//! recompressed at quality 60 and cropped by 5 %) variants of one photo were at most 50
//! bits apart and different photos at least 67; each hash alone left a margin of 2 bits
//! or overlapped. Hashing costs 2 % of a 4000×3000 photo's thumbnail time
//! (`cargo bench --bench thumbs`).

use std::sync::OnceLock;

use image_hasher::{HashAlg, Hasher, HasherConfig, ImageHash};

use super::thumbs::Thumbnail;

/// Hashes at most this many bits apart (of 192) are the same picture: between the
/// measured 50 and 67.
pub const SAME_PICTURE: u32 = 58;

/// The side the thumbnail is shrunk to before hashing.
const SMALL: u32 = 64;

fn hashers() -> &'static [Hasher; 3] {
    static HASHERS: OnceLock<[Hasher; 3]> = OnceLock::new();
    HASHERS.get_or_init(|| {
        [
            HasherConfig::new()
                .hash_alg(HashAlg::Median)
                .preproc_dct()
                .hash_size(8, 8)
                .to_hasher(),
            HasherConfig::new()
                .hash_alg(HashAlg::Gradient)
                .hash_size(8, 8)
                .to_hasher(),
            HasherConfig::new()
                .hash_alg(HashAlg::VertGradient)
                .hash_size(8, 8)
                .to_hasher(),
        ]
    })
}

/// The perceptual hash of a thumbnail, as text for the library (base64 of 24 bytes).
pub fn hash_thumbnail(thumb: &Thumbnail) -> Option<String> {
    let image = image::RgbaImage::from_raw(thumb.width, thumb.height, thumb.rgba.clone())?;
    // Each hasher shrinks the picture to a few pixels with Lanczos3; from a 64 px copy
    // (a fast area average) instead of the 256 px thumbnail that costs a tenth.
    let image = image::imageops::thumbnail(&image, SMALL.min(thumb.width), SMALL.min(thumb.height));
    let mut bytes = Vec::with_capacity(24);
    for hasher in hashers() {
        bytes.extend_from_slice(hasher.hash_image(&image).as_bytes());
    }
    ImageHash::<Box<[u8]>>::from_bytes(&bytes)
        .ok()
        .map(|h| h.to_base64())
}

/// Bits that differ between two stored hashes; `None` if either is not one.
pub fn distance(a: &str, b: &str) -> Option<u32> {
    let a = ImageHash::<Box<[u8]>>::from_base64(a).ok()?;
    let b = ImageHash::<Box<[u8]>>::from_base64(b).ok()?;
    (a.as_bytes().len() == b.as_bytes().len()).then(|| a.dist(&b))
}

/// Groups of two or more items whose hashes are within `max` bits of another in the
/// group (single linkage), each in input order, groups by their first item.
pub fn groups<T: Clone>(items: &[(T, String)], max: u32) -> Vec<Vec<T>> {
    let hashes: Vec<Option<ImageHash<Box<[u8]>>>> = items
        .iter()
        .map(|(_, h)| ImageHash::from_base64(h).ok())
        .collect();
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, a) in hashes.iter().enumerate() {
        let Some(a) = a else { continue };
        for (j, b) in hashes.iter().enumerate().skip(i + 1) {
            if let Some(b) = b
                && a.as_bytes().len() == b.as_bytes().len()
                && a.dist(b) <= max
            {
                let (ri, rj) = (root(&mut parent, i), root(&mut parent, j));
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut by_root: std::collections::BTreeMap<usize, Vec<T>> = Default::default();
    for (i, (item, _)) in items.iter().enumerate() {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(item.clone());
    }
    by_root.into_values().filter(|g| g.len() > 1).collect()
}
