//! How large an image Pixgrab will decode. A leaf: the decoders and the thumbnail
//! pipeline all read these.

/// Widest or tallest image Pixgrab will decode.
pub(crate) const MAX_SIDE: u32 = 30_000;

/// Most memory one decode may take (a 100-megapixel RGBA image is 400 MB).
pub(crate) const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
