//! What a body really is, judged by its first bytes (magic numbers), never by
//! the server's Content-Type or the URL's extension.

/// How many leading bytes [`sniff`] wants to see for a confident answer.
pub const SNIFF_LEN: usize = 512;

/// An image format Pixgrab recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// PNG (and APNG).
    Png,
    /// GIF 87a/89a.
    Gif,
    /// WebP (RIFF container).
    Webp,
    /// Windows bitmap.
    Bmp,
    /// TIFF, either byte order.
    Tiff,
    /// AVIF (ISO-BMFF `ftyp avif`/`avis`).
    Avif,
    /// Windows icon.
    Ico,
    /// SVG (XML text with an `<svg` root).
    Svg,
}

impl ImageFormat {
    /// The lower-case file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
            Self::Bmp => "bmp",
            Self::Tiff => "tiff",
            Self::Avif => "avif",
            Self::Ico => "ico",
            Self::Svg => "svg",
        }
    }

    /// The format whose [`ImageFormat::extension`] is `ext`.
    pub fn from_extension(ext: &str) -> Option<Self> {
        [
            Self::Jpeg,
            Self::Png,
            Self::Gif,
            Self::Webp,
            Self::Bmp,
            Self::Tiff,
            Self::Avif,
            Self::Ico,
            Self::Svg,
        ]
        .into_iter()
        .find(|f| f.extension() == ext)
    }

    /// A short human name ("JPEG").
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
            Self::Bmp => "BMP",
            Self::Tiff => "TIFF",
            Self::Avif => "AVIF",
            Self::Ico => "ICO",
            Self::Svg => "SVG",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Bmp => "image/bmp",
            Self::Tiff => "image/tiff",
            Self::Avif => "image/avif",
            Self::Ico => "image/x-icon",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The `image` crate format, for the formats Pixgrab can decode into thumbnails.
    pub fn decoder(self) -> Option<image::ImageFormat> {
        match self {
            Self::Jpeg => Some(image::ImageFormat::Jpeg),
            Self::Png => Some(image::ImageFormat::Png),
            Self::Gif => Some(image::ImageFormat::Gif),
            Self::Webp => Some(image::ImageFormat::WebP),
            _ => None,
        }
    }
}

/// The verdict on a body's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// An image in this format.
    Image(ImageFormat),
    /// Not an image; the string names what it is ("HTML", "JSON", "empty body").
    NotImage(&'static str),
}

/// Classifies a body by its leading bytes (pass up to [`SNIFF_LEN`]).
pub fn sniff(head: &[u8]) -> Sniffed {
    use ImageFormat::*;
    if head.is_empty() {
        return Sniffed::NotImage("an empty body");
    }
    let magic: &[(&[u8], ImageFormat)] = &[
        (b"\xFF\xD8\xFF", Jpeg),
        (b"\x89PNG\r\n\x1a\n", Png),
        (b"GIF87a", Gif),
        (b"GIF89a", Gif),
        (b"BM", Bmp),
        (b"II*\0", Tiff),
        (b"MM\0*", Tiff),
        (b"\0\0\x01\0", Ico),
    ];
    for (prefix, format) in magic {
        if head.starts_with(prefix) {
            return Sniffed::Image(*format);
        }
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Sniffed::Image(Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" && matches!(&head[8..12], b"avif" | b"avis") {
        return Sniffed::Image(Avif);
    }
    if head.starts_with(b"%PDF") {
        return Sniffed::NotImage("a PDF document");
    }
    if head.starts_with(b"PK\x03\x04") {
        return Sniffed::NotImage("a ZIP archive");
    }
    if head.starts_with(b"\x1f\x8b") {
        return Sniffed::NotImage("gzip data");
    }
    sniff_text(head)
}

fn sniff_text(head: &[u8]) -> Sniffed {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    let lower: Vec<u8> = text
        .iter()
        .take(SNIFF_LEN)
        .map(u8::to_ascii_lowercase)
        .collect();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || has(b"<head")
        || has(b"<body")
    {
        return Sniffed::NotImage("HTML");
    }
    if lower.starts_with(b"<svg")
        || ((lower.starts_with(b"<?xml") || lower.starts_with(b"<!--")) && has(b"<svg"))
    {
        return Sniffed::Image(ImageFormat::Svg);
    }
    if lower.starts_with(b"<?xml") {
        return Sniffed::NotImage("XML");
    }
    if lower.starts_with(b"<") {
        return Sniffed::NotImage("HTML");
    }
    if lower.starts_with(b"{") || lower.starts_with(b"[") {
        return Sniffed::NotImage("JSON");
    }
    let printable = text
        .iter()
        .take(SNIFF_LEN)
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80);
    if printable {
        Sniffed::NotImage("text")
    } else {
        Sniffed::NotImage("unrecognised binary data")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_magic_numbers() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(sniff(b"GIF89a..."), Sniffed::Image(ImageFormat::Gif));
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Sniffed::Image(ImageFormat::Webp)
        );
        assert_eq!(
            sniff(b"\0\0\0\x1cftypavif"),
            Sniffed::Image(ImageFormat::Avif)
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"),
            Sniffed::Image(ImageFormat::Svg)
        );
    }

    #[test]
    fn pages_and_data_served_as_images_are_named() {
        assert_eq!(
            sniff(b"\xEF\xBB\xBF  <!DOCTYPE html><html>"),
            Sniffed::NotImage("HTML")
        );
        assert_eq!(
            sniff(b"<html><body>403 Forbidden"),
            Sniffed::NotImage("HTML")
        );
        assert_eq!(
            sniff(b"{\"error\": \"rate limited\"}"),
            Sniffed::NotImage("JSON")
        );
        assert_eq!(sniff(b"Access denied"), Sniffed::NotImage("text"));
        assert_eq!(sniff(b""), Sniffed::NotImage("an empty body"));
        assert_eq!(
            sniff(b"\x00\x01\x02\x03"),
            Sniffed::NotImage("unrecognised binary data")
        );
    }
}
