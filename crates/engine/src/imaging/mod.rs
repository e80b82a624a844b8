//! What a body is (sniffing by bytes), whether the image in it is whole, and its
//! thumbnail, decoded with limits.

pub(crate) mod chroma;
pub(crate) mod exif;
pub(crate) mod header;
pub(crate) mod jpeg_dc;
pub(crate) mod jpeg_scaled;
pub(crate) mod limits;
pub(crate) mod reasons;
pub(crate) mod similar;
pub(crate) mod sniff;
pub(crate) mod thumbnail;
pub(crate) mod thumbs;
