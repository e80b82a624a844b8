//! Decoder errors in plain words: the reasons a thumbnail could not be made
//! ([`ThumbError`]), as people read them. The thumbnail pipeline reads these; `error`
//! carries a damaged file's [`ThumbError`] preview in its download reasons, never the
//! other way round.

use image::ImageError;

use crate::imaging::limits::MAX_DECODE_BYTES;
use crate::imaging::thumbnail::Thumbnail;

/// Why no thumbnail could be made for a downloaded file. The file itself is kept.
/// Every `Display` is a plain reason ("no preview: 12-bit JPEG", "damaged: PNG checksum
/// error in image data"), never a decoder's internal wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThumbError {
    /// The file ends before the image data does.
    #[error("damaged: the file ends before the image does")]
    Truncated,
    /// The declared dimensions or memory need exceed the decode limits.
    #[error("too large to preview: {0}")]
    TooLarge(String),
    /// The format is recognised but no decoder is compiled in (e.g. SVG, AVIF).
    #[error("no preview for {0} files")]
    Unsupported(&'static str),
    /// The format is decodable in general, but not this variant of it (a 12-bit or
    /// arithmetic-coded JPEG).
    #[error("no preview: {0}")]
    NoPreview(String),
    /// The decoder rejected the data.
    #[error("damaged: {0}")]
    Corrupt(String),
    /// The image is damaged (cut, or corrupt data), but part of it could be read.
    #[error("damaged: {reason}")]
    DamagedPreview {
        /// What is wrong, in plain words.
        reason: String,
        /// What could be read (grey where data is missing), at thumbnail size.
        preview: std::sync::Arc<Thumbnail>,
    },
    /// Reading the file failed.
    #[error("could not read file: {0}")]
    Io(String),
    /// A bug in Pixgrab: the thumbnail job panicked.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ThumbError {
    /// The image itself is damaged (cut or corrupt), as opposed to having no preview
    /// for another reason: a download ending like this fails.
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            Self::Truncated | Self::Corrupt(_) | Self::DamagedPreview { .. }
        )
    }

    /// What could be read of a damaged image, if anything.
    pub fn preview(&self) -> Option<&std::sync::Arc<Thumbnail>> {
        match self {
            Self::DamagedPreview { preview, .. } => Some(preview),
            _ => None,
        }
    }
}

/// A decoder's error as a reason for people.
pub(crate) fn classify(error: ImageError) -> ThumbError {
    match error {
        ImageError::Limits(_) => ThumbError::TooLarge(format!(
            "it needs more than the {} MiB a preview may take",
            MAX_DECODE_BYTES >> 20
        )),
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ThumbError::Truncated
        }
        ImageError::IoError(e) => ThumbError::Io(e.to_string()),
        // A variant the decoder does not handle (a JPEG-compressed TIFF, an odd
        // colour type) is no sign of damage.
        ImageError::Unsupported(e) => unsupported(&e),
        other => plain(&other.to_string()),
    }
}

/// "no preview: …" for a variant of a format that the decoder does not handle.
fn unsupported(e: &image::error::UnsupportedError) -> ThumbError {
    use image::error::{ImageFormatHint, UnsupportedErrorKind};
    let format = match e.format_hint() {
        ImageFormatHint::Exact(f) => f.extensions_str().first().map_or_else(
            || format!("{f:?}").to_ascii_uppercase(),
            |x| x.to_ascii_uppercase(),
        ),
        ImageFormatHint::Name(n) => n.to_ascii_uppercase(),
        _ => "image".into(),
    };
    ThumbError::NoPreview(match e.kind() {
        UnsupportedErrorKind::Color(_) => format!("{format} with a colour layout not supported"),
        UnsupportedErrorKind::GenericFeature(what) => {
            format!("{format} feature not supported ({what})")
        }
        _ => format!("this kind of {format} file is not supported"),
    })
}

/// A decoder's message as a reason for people: the cases seen on real files get plain
/// words; anything else keeps the decoder's text, without Rust debug output.
fn plain(text: &str) -> ThumbError {
    let lower = text.to_ascii_lowercase();
    let has = |k: &str| lower.contains(k);
    if [
        "eof",
        "end of",
        "truncat",
        "no more bytes",
        "unexpected end",
        "not enough bytes",
    ]
    .iter()
    .any(|k| has(k))
    {
        return ThumbError::Truncated;
    }
    if has("crc") || has("checksum") {
        let where_ = if has("idat") { " in image data" } else { "" };
        return ThumbError::Corrupt(format!("checksum error{where_}"));
    }
    if has("only parse 8-bit") || has("12-bit") || (has("bit depth") && has("jpeg")) {
        return ThumbError::NoPreview("JPEG with more than 8 bits per sample".into());
    }
    if has("`dac`") || has("arithmetic") {
        return ThumbError::NoPreview("arithmetic-coded JPEG".into());
    }
    if has("deflate") || has("zlib") {
        return ThumbError::Corrupt("the compressed image data is corrupt".into());
    }
    if has("components cannot be zero") {
        return ThumbError::Corrupt("the JPEG frame header has no colour components".into());
    }
    // Rust debug output (`ChunkType { type: IDAT, critical: true, … }`) and the
    // decoder's own framing ("Format error decoding Png:") are not for people.
    let cut = text.find(" {").map_or(text, |i| &text[..i]);
    let cut = match cut.split_once("Format error decoding ") {
        Some((_, rest)) => rest.split_once(": ").map_or(rest, |(_, why)| why),
        None => cut,
    };
    ThumbError::Corrupt(cut.trim().trim_end_matches(':').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_messages_become_plain_reasons() {
        let reason = |t: &str| plain(t).to_string();
        assert_eq!(
            reason(
                "CRC error: expected 0x1 have 0x2 while decoding ChunkType { type: IDAT, critical: true } chunk"
            ),
            "damaged: checksum error in image data"
        );
        assert_eq!(
            reason("Format error decoding Jpeg: The library can only parse 8-bit images"),
            "no preview: JPEG with more than 8 bits per sample"
        );
        assert_eq!(
            reason(
                "Format error decoding Jpeg: Parsing of the following header `DAC` is not supported"
            ),
            "no preview: arithmetic-coded JPEG"
        );
        assert_eq!(
            reason(
                "Format error decoding Jpeg: Error decoding SOF Marker, Number of components cannot be zero."
            ),
            "damaged: the JPEG frame header has no colour components"
        );
        assert_eq!(
            reason("Format error decoding Tiff: unexpected EOF"),
            "damaged: the file ends before the image does"
        );
        assert_eq!(
            reason("Format error decoding Bmp: bad palette"),
            "damaged: bad palette"
        );
    }
}
