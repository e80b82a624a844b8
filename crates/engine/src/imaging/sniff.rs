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
    /// AVIF (ISO-BMFF `ftyp avif`/`avis`, or `mif1`/`msf1` with an AVIF brand).
    Avif,
    /// HEIC (ISO-BMFF HEVC brands: iPhone photos).
    Heic,
    /// HEIF without an HEVC or AVIF brand (`mif1`/`msf1`).
    Heif,
    /// Windows icon.
    Ico,
    /// SVG (XML text with an `<svg` root).
    Svg,
    /// JPEG XL (codestream or container).
    Jxl,
    /// JPEG 2000 (JP2 container or J2K codestream).
    Jpeg2000,
    /// Photoshop document.
    Psd,
    /// Quite OK Image.
    Qoi,
    /// Farbfeld (suckless' 16-bit RGBA format).
    Farbfeld,
    /// Netpbm (PBM, PGM, PPM, PAM).
    Pnm,
    /// Radiance HDR.
    Hdr,
    /// OpenEXR.
    Exr,
    /// DirectDraw Surface.
    Dds,
    /// An image with no magic number of its own (TGA, camera raw, ...), kept because the
    /// server's Content-Type or the URL's extension says image: its lower-case
    /// extension, one of `OTHER_IMAGE_EXTENSIONS`.
    Other(&'static str),
}

/// Extensions of images that have no (or no single) magic number, accepted from the
/// server's type or the URL when the body is not positively something else.
pub(crate) const OTHER_IMAGE_EXTENSIONS: &[&str] = &[
    "tga", "cr2", "cr3", "nef", "arw", "dng", "raf", "orf", "rw2", "pef", "srw", "xcf", "pcx",
    "jxr", "wdp", "bpg", "icns", "cur", "heics", "avifs", "jfif",
];

/// Every format with its own magic number, in the order [`ImageFormat::from_extension`] tries.
const WITH_MAGIC: [ImageFormat; 20] = [
    ImageFormat::Jpeg,
    ImageFormat::Png,
    ImageFormat::Gif,
    ImageFormat::Webp,
    ImageFormat::Bmp,
    ImageFormat::Tiff,
    ImageFormat::Avif,
    ImageFormat::Heic,
    ImageFormat::Heif,
    ImageFormat::Ico,
    ImageFormat::Svg,
    ImageFormat::Jxl,
    ImageFormat::Jpeg2000,
    ImageFormat::Psd,
    ImageFormat::Qoi,
    ImageFormat::Farbfeld,
    ImageFormat::Pnm,
    ImageFormat::Hdr,
    ImageFormat::Exr,
    ImageFormat::Dds,
];

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
            Self::Heic => "heic",
            Self::Heif => "heif",
            Self::Ico => "ico",
            Self::Svg => "svg",
            Self::Jxl => "jxl",
            Self::Jpeg2000 => "jp2",
            Self::Psd => "psd",
            Self::Qoi => "qoi",
            Self::Farbfeld => "ff",
            Self::Pnm => "pnm",
            Self::Hdr => "hdr",
            Self::Exr => "exr",
            Self::Dds => "dds",
            Self::Other(ext) => ext,
        }
    }

    /// The format whose [`ImageFormat::extension`] is `ext`.
    pub fn from_extension(ext: &str) -> Option<Self> {
        let ext = ext.to_ascii_lowercase();
        WITH_MAGIC
            .into_iter()
            .find(|f| f.extension() == ext)
            .or_else(|| {
                OTHER_IMAGE_EXTENSIONS
                    .iter()
                    .find(|e| **e == ext)
                    .map(|e| Self::Other(e))
            })
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
            Self::Heic => "HEIC",
            Self::Heif => "HEIF",
            Self::Ico => "ICO",
            Self::Svg => "SVG",
            Self::Jxl => "JPEG XL",
            Self::Jpeg2000 => "JPEG 2000",
            Self::Psd => "PSD",
            Self::Qoi => "QOI",
            Self::Farbfeld => "farbfeld",
            Self::Pnm => "PNM",
            Self::Hdr => "HDR",
            Self::Exr => "OpenEXR",
            Self::Dds => "DDS",
            Self::Other("tga") => "TGA",
            Self::Other(ext) => ext,
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
            Self::Heic => "image/heic",
            Self::Heif => "image/heif",
            Self::Ico => "image/x-icon",
            Self::Svg => "image/svg+xml",
            Self::Jxl => "image/jxl",
            Self::Jpeg2000 => "image/jp2",
            Self::Psd => "image/vnd.adobe.photoshop",
            Self::Qoi => "image/qoi",
            Self::Farbfeld => "image/x-farbfeld",
            Self::Pnm => "image/x-portable-anymap",
            Self::Hdr => "image/vnd.radiance",
            Self::Exr => "image/x-exr",
            Self::Dds => "image/vnd-ms.dds",
            Self::Other("tga") => "image/x-tga",
            Self::Other(_) => "application/octet-stream",
        }
    }

    /// The `image` crate format, for the formats Pixgrab can decode into thumbnails
    /// (pure-Rust decoders only: no C library, cmake or nasm).
    pub fn decoder(self) -> Option<image::ImageFormat> {
        match self {
            Self::Jpeg => Some(image::ImageFormat::Jpeg),
            Self::Png => Some(image::ImageFormat::Png),
            Self::Gif => Some(image::ImageFormat::Gif),
            Self::Webp => Some(image::ImageFormat::WebP),
            Self::Bmp => Some(image::ImageFormat::Bmp),
            Self::Tiff => Some(image::ImageFormat::Tiff),
            Self::Ico => Some(image::ImageFormat::Ico),
            Self::Qoi => Some(image::ImageFormat::Qoi),
            Self::Farbfeld => Some(image::ImageFormat::Farbfeld),
            Self::Pnm => Some(image::ImageFormat::Pnm),
            Self::Hdr => Some(image::ImageFormat::Hdr),
            Self::Exr => Some(image::ImageFormat::OpenExr),
            Self::Dds => Some(image::ImageFormat::Dds),
            Self::Other("tga") => Some(image::ImageFormat::Tga),
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
        // Start of image; what follows may be damaged (libjpeg skips junk to the next
        // marker, and so does the walk that judges the data).
        (b"\xFF\xD8", Jpeg),
        (b"\x89PNG\r\n\x1a\n", Png),
        (b"GIF87a", Gif),
        (b"GIF89a", Gif),
        (b"BM", Bmp),
        (b"II*\0", Tiff),
        (b"MM\0*", Tiff),
        (b"II+\0", Tiff),
        (b"MM\0+", Tiff),
        (b"\0\0\x01\0", Ico),
        (b"\xFF\x0A", Jxl),
        (b"\0\0\0\x0CJXL \r\n\x87\n", Jxl),
        (b"\0\0\0\x0CjP  \r\n\x87\n", Jpeg2000),
        (b"\xFF\x4F\xFF\x51", Jpeg2000),
        (b"8BPS", Psd),
        (b"qoif", Qoi),
        (b"farbfeld", Farbfeld),
        (b"#?RADIANCE", Hdr),
        (b"#?RGBE", Hdr),
        (b"\x76\x2F\x31\x01", Exr),
        (b"DDS ", Dds),
    ];
    for (prefix, format) in magic {
        if head.starts_with(prefix) {
            return Sniffed::Image(*format);
        }
    }
    if head.len() >= 3
        && head[0] == b'P'
        && (b'1'..=b'7').contains(&head[1])
        && head[2].is_ascii_whitespace()
    {
        return Sniffed::Image(Pnm);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Sniffed::Image(Webp);
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return iso_bmff(head);
    }
    let not_images: &[(&[u8], &str)] = &[
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1f\x8b", "gzip data"),
        (b"7z\xBC\xAF\x27\x1C", "a 7-Zip archive"),
        (b"Rar!\x1A\x07", "a RAR archive"),
        (b"\xFD7zXZ\0", "xz data"),
        (b"BZh", "bzip2 data"),
        (b"\x28\xB5\x2F\xFD", "zstd data"),
        (b"\x1A\x45\xDF\xA3", "a video (Matroska/WebM)"),
        (b"OggS", "Ogg media"),
        (b"ID3", "an MP3 file"),
        (b"\x7FELF", "a program"),
        (b"MZ", "a Windows program"),
    ];
    for (prefix, what) in not_images {
        if head.starts_with(prefix) {
            return Sniffed::NotImage(what);
        }
    }
    sniff_text(head)
}

/// An ISO-BMFF file (`ftyp` box): HEIC, HEIF and AVIF by their brands; anything else
/// (MP4, QuickTime, 3GP) is a video.
fn iso_bmff(head: &[u8]) -> Sniffed {
    use ImageFormat::*;
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let end = size.min(head.len());
    let major = &head[8..12];
    // Compatible brands: 4 bytes each after the minor version.
    let compatible: Vec<&[u8]> = head.get(16..end).unwrap_or(&[]).chunks_exact(4).collect();
    let is = |brands: &[&[u8]], b: &[u8]| brands.contains(&b);
    const AVIF: [&[u8]; 2] = [b"avif", b"avis"];
    const HEVC: [&[u8]; 8] = [
        b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs",
    ];
    let any = |set: &[&[u8]]| set.iter().any(|b| is(&compatible, b));
    if is(&AVIF, major) {
        return Sniffed::Image(Avif);
    }
    if is(&HEVC, major) {
        return Sniffed::Image(Heic);
    }
    if matches!(major, b"mif1" | b"msf1") {
        return Sniffed::Image(if any(&AVIF) {
            Avif
        } else if any(&HEVC) {
            Heic
        } else {
            Heif
        });
    }
    if is(&[b"jxl "], major) {
        return Sniffed::Image(Jxl);
    }
    if is(&[b"jp2 ", b"jpx "], major) {
        return Sniffed::Image(Jpeg2000);
    }
    Sniffed::NotImage("a video")
}

/// Like [`sniff`], but an image without a magic number of its own (TGA, camera raw) is
/// kept when the server's Content-Type or the URL's extension says it is one, and the
/// body is not positively something else. Unrecognised binary data that the server
/// calls `image/...` is kept too, named by the URL's extension when that is an image's,
/// else by the type.
pub fn sniff_with_hints(head: &[u8], content_type: Option<&str>, url_path: &str) -> Sniffed {
    let verdict = sniff(head);
    let Sniffed::NotImage("unrecognised binary data") = verdict else {
        return verdict;
    };
    let from_url = url_path
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .and_then(|(_, ext)| ImageFormat::from_extension(ext))
        .filter(|f| f.extension().len() <= 5);
    let mime = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let from_type = mime.strip_prefix("image/").map(|sub| {
        let sub = sub.trim_start_matches("x-").trim_start_matches("vnd.");
        ImageFormat::from_extension(sub)
            .or_else(|| (sub == "targa").then_some(ImageFormat::Other("tga")))
    });
    match (from_url, from_type) {
        // The URL names an image format the bytes did not contradict.
        (Some(format), _) => Sniffed::Image(format),
        (None, Some(Some(format))) => Sniffed::Image(format),
        _ => verdict,
    }
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
        // Junk after the start marker is damage to judge, not a reason to throw it away
        // (jpeg-decoder's imagetestsuite has ten such files; libjpeg shows them).
        assert_eq!(
            sniff(b"\xFF\xD8\x1F\x00junk\xFF\xE0"),
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
    fn other_formats_are_known_and_tga_is_kept_on_the_servers_word() {
        use ImageFormat::*;
        assert_eq!(sniff(b"qoif\0\0\0\x10"), Sniffed::Image(Qoi));
        assert_eq!(sniff(b"farbfeld\0\0\0\x10"), Sniffed::Image(Farbfeld));
        assert_eq!(sniff(b"P6\n3 2\n255\n"), Sniffed::Image(Pnm));
        assert_eq!(sniff(b"8BPS\0\x01"), Sniffed::Image(Psd));
        assert_eq!(sniff(b"\xFF\x0A\xFA"), Sniffed::Image(Jxl));
        assert_eq!(sniff(b"#?RADIANCE\n"), Sniffed::Image(Hdr));
        assert_eq!(sniff(b"\x76\x2F\x31\x01\x02"), Sniffed::Image(Exr));
        // A TGA header has no magic number.
        let tga = b"\0\0\x02\0\0\0\0\0\0\0\0\0\x04\0\x04\0\x18\0";
        assert_eq!(
            sniff_with_hints(tga, Some("image/x-tga"), "/a/b"),
            Sniffed::Image(Other("tga"))
        );
        assert_eq!(
            sniff_with_hints(tga, None, "/pics/sprite.TGA"),
            Sniffed::Image(Other("tga"))
        );
        assert_eq!(
            sniff_with_hints(tga, Some("application/octet-stream"), "/x"),
            Sniffed::NotImage("unrecognised binary data")
        );
        // What is positively not an image stays refused whatever the server says.
        assert_eq!(
            sniff_with_hints(b"<html><body>login", Some("image/jpeg"), "/a.jpg"),
            Sniffed::NotImage("HTML")
        );
        assert_eq!(
            sniff_with_hints(b"PK\x03\x04", Some("image/png"), "/a.png"),
            Sniffed::NotImage("a ZIP archive")
        );
        assert_eq!(ImageFormat::from_extension("TGA"), Some(Other("tga")));
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
