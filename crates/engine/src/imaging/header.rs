//! Pixel sizes from the first bytes of a file, for "Find images" to show real sizes
//! before anything is downloaded whole (issue #16): JPEG (the frame header, after any
//! EXIF or other segments), PNG, GIF, WebP (VP8, VP8L, VP8X), BMP, and AVIF/HEIF (the
//! `ispe` property). Pure functions over a byte prefix; nothing here reads a file.

/// What a prefix of a file says about its pixel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderSize {
    /// Width and height.
    Known(u32, u32),
    /// The format is one of these, but its size lies past the bytes given.
    NeedMore,
    /// Not a format read here, or a header that makes no sense.
    Unknown,
}

/// The pixel size in `head`, the first bytes of an image file.
pub(crate) fn pixel_size(head: &[u8]) -> HeaderSize {
    if head.starts_with(b"\xFF\xD8") {
        jpeg(head)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(head)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        match (u16_le(head, 6), u16_le(head, 8)) {
            (Some(w), Some(h)) => known(u32::from(w), u32::from(h)),
            _ => HeaderSize::NeedMore,
        }
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        webp(head)
    } else if head.starts_with(b"BM") {
        bmp(head)
    } else if head.get(4..8) == Some(b"ftyp") {
        isobmff(head)
    } else {
        HeaderSize::Unknown
    }
}

fn known(w: u32, h: u32) -> HeaderSize {
    if w == 0 || h == 0 {
        HeaderSize::Unknown
    } else {
        HeaderSize::Known(w, h)
    }
}

fn u16_le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u16_be(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u32_be(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the segments to the first frame header (SOF0–SOF15 but DHT, JPG and DAC).
fn jpeg(b: &[u8]) -> HeaderSize {
    let mut at = 2;
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        while b.get(at) == Some(&0xFF) && b.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if at + 1 >= b.len() {
            return HeaderSize::NeedMore;
        }
        if b[at] != 0xFF {
            // Junk between segments: skip to the next marker, as decoders do.
            match memchr::memchr(0xFF, &b[at..]) {
                Some(skip) => {
                    at += skip;
                    continue;
                }
                None => return HeaderSize::NeedMore,
            }
        }
        let marker = b[at + 1];
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => {
                at += 2;
                continue;
            }
            // End of image or start of scan before any frame header: nothing to read.
            0xD9 | 0xDA => return HeaderSize::Unknown,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return match (u16_be(b, at + 5), u16_be(b, at + 7)) {
                    (Some(h), Some(w)) => known(u32::from(w), u32::from(h)),
                    _ => HeaderSize::NeedMore,
                };
            }
            _ => {}
        }
        let Some(len) = u16_be(b, at + 2) else {
            return HeaderSize::NeedMore;
        };
        if len < 2 {
            return HeaderSize::Unknown;
        }
        at += 2 + usize::from(len);
    }
}

fn png(b: &[u8]) -> HeaderSize {
    if b.len() < 24 {
        return HeaderSize::NeedMore;
    }
    if b.get(12..16) != Some(b"IHDR") {
        return HeaderSize::Unknown;
    }
    match (u32_be(b, 16), u32_be(b, 20)) {
        (Some(w), Some(h)) => known(w, h),
        _ => HeaderSize::NeedMore,
    }
}

fn webp(b: &[u8]) -> HeaderSize {
    let Some(chunk) = b.get(12..16) else {
        return HeaderSize::NeedMore;
    };
    let need = |n: usize| b.len() < n;
    match chunk {
        // Lossy: the frame tag, the start code, then 14-bit width and height.
        b"VP8 " => {
            if need(30) {
                return HeaderSize::NeedMore;
            }
            if b.get(23..26) != Some(&[0x9D, 0x01, 0x2A]) {
                return HeaderSize::Unknown;
            }
            match (u16_le(b, 26), u16_le(b, 28)) {
                (Some(w), Some(h)) => known(u32::from(w & 0x3FFF), u32::from(h & 0x3FFF)),
                _ => HeaderSize::NeedMore,
            }
        }
        // Lossless: a signature byte, then 14 bits each of width − 1 and height − 1.
        b"VP8L" => {
            if need(25) {
                return HeaderSize::NeedMore;
            }
            if b[20] != 0x2F {
                return HeaderSize::Unknown;
            }
            let bits = u32::from_le_bytes([b[21], b[22], b[23], b[24]]);
            known((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Extended: 24 bits each of canvas width − 1 and height − 1.
        b"VP8X" => {
            if need(30) {
                return HeaderSize::NeedMore;
            }
            let w = u32::from_le_bytes([b[24], b[25], b[26], 0]) + 1;
            let h = u32::from_le_bytes([b[27], b[28], b[29], 0]) + 1;
            known(w, h)
        }
        _ => HeaderSize::Unknown,
    }
}

fn bmp(b: &[u8]) -> HeaderSize {
    let Some(header) = u32_le(b, 14) else {
        return HeaderSize::NeedMore;
    };
    if header == 12 {
        // OS/2 BITMAPCOREHEADER: 16-bit sizes.
        return match (u16_le(b, 18), u16_le(b, 20)) {
            (Some(w), Some(h)) => known(u32::from(w), u32::from(h)),
            _ => HeaderSize::NeedMore,
        };
    }
    match (u32_le(b, 18), u32_le(b, 22)) {
        // Width and height are signed; a negative height means top-down rows.
        (Some(w), Some(h)) => known((w as i32).unsigned_abs(), (h as i32).unsigned_abs()),
        _ => HeaderSize::NeedMore,
    }
}

/// AVIF and HEIF: the largest `ispe` (image spatial extent) property in the prefix. The
/// primary image is the largest; tiles and thumbnails are smaller.
fn isobmff(b: &[u8]) -> HeaderSize {
    let mut best: Option<(u32, u32)> = None;
    let mut from = 0;
    while let Some(pos) = memchr::memmem::find(&b[from..], b"ispe") {
        let at = from + pos;
        // 'ispe', then version and flags (4 bytes), then width and height.
        if let (Some(w), Some(h)) = (u32_be(b, at + 8), u32_be(b, at + 12))
            && w > 0
            && h > 0
            && best
                .is_none_or(|(bw, bh)| u64::from(w) * u64::from(h) > u64::from(bw) * u64::from(bh))
        {
            best = Some((w, h));
        }
        from = at + 4;
    }
    match best {
        Some((w, h)) => HeaderSize::Known(w, h),
        // The `meta` box comes first in practice; without it the size is further on.
        None => HeaderSize::NeedMore,
    }
}

/// Checked against the image crate on every file of the real-file corpus.
#[cfg(test)]
mod corpus;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_headers_ask_for_more_and_junk_is_unknown() {
        assert_eq!(
            pixel_size(b"\xFF\xD8\xFF\xE1\x10\x00Exif"),
            HeaderSize::NeedMore
        );
        assert_eq!(pixel_size(b"\x89PNG\r\n\x1a\n\0\0"), HeaderSize::NeedMore);
        assert_eq!(pixel_size(b"<html>"), HeaderSize::Unknown);
        assert_eq!(pixel_size(b""), HeaderSize::Unknown);
        // A JPEG whose first segment is 64 KiB of EXIF: the frame header is past it.
        let mut big = b"\xFF\xD8\xFF\xE1\xFF\xF0".to_vec();
        big.resize(65_536, 0);
        assert_eq!(pixel_size(&big), HeaderSize::NeedMore);
        // An HEIF with its `ispe` property: 4032 x 3024.
        let mut heif = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heif.extend_from_slice(b"\0\0\0\x14ispe\0\0\0\0\0\0\x0f\xc0\0\0\x0b\xd0");
        assert_eq!(pixel_size(&heif), HeaderSize::Known(4032, 3024));
    }
}
