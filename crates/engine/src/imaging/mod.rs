//! What a body is (sniffing by bytes), whether the image in it is whole, and its
//! thumbnail, decoded with limits.

pub(crate) mod chroma;
pub mod exif;
pub mod header;
pub(crate) mod jpeg_dc;
pub(crate) mod jpeg_scaled;
pub mod limits;
pub(crate) mod reasons;
pub mod similar;
pub mod sniff;
pub mod thumbnail;
pub mod thumbs;
