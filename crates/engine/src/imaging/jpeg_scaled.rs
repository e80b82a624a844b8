//! JPEG decoded at reduced size: the DCT-domain scaling (1/2, 1/4, 1/8) that
//! libjpeg-turbo and vipsthumbnail use for thumbnails. A 4000x3000 photo bound for a
//! 256 px thumbnail is decoded straight to 500x375, skipping most of the inverse DCT,
//! upsampling and colour conversion work.
//!
//! Anything this path does not handle (CMYK, 16-bit, decoder errors) returns
//! [`Scaled::Unsupported`] and the caller falls back to the full decoder.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use image::DynamicImage;
use image::metadata::Orientation;

use crate::imaging::jpeg_dc::{Decline, Defect, Want};
use crate::imaging::limits::{MAX_DECODE_BYTES, MAX_SIDE};

/// The outcome of a scaled decode.
pub(crate) enum Scaled {
    /// Pixels at reduced size, and the EXIF orientation to apply.
    Decoded(DynamicImage, Option<Orientation>),
    /// The image is larger than the decode limits allow.
    TooLarge(u32, u32),
    /// The image is damaged (cut, or corrupt data): what is wrong, and what could be
    /// read of it at the walk's scale (grey where data is missing) when it got that far.
    Damaged(Defect, Option<(DynamicImage, Option<Orientation>)>),
    /// Not for this path: use the full decoder.
    Unsupported,
}

/// Decodes `path` at the smallest DCT scale whose result still covers `max_side`
/// on its long side: the walk when 1/8 is enough, or (sequential JPEGs) 1/4 or 1/2,
/// else jpeg-decoder's scaled IDCT.
///
/// Also decides whether the image is whole, by decoding rather than guessing: a
/// sequential JPEG is whole when its entropy-coded data covers every block (whatever
/// follows the image: a phone's appended video, padding, a missing end marker). For
/// what the DC walk cannot judge (progressive refinement scans, files it does not
/// read), the file must hold an end-of-image marker near its end.
/// `data` is the whole file when [`read_in_memory`] gave it (the walk needs it in
/// memory); `None` for bigger files, which are streamed. `max_bytes`: the most the
/// scaled decoder's output may take (the decode's share of the budget).
pub(crate) fn decode(path: &Path, data: Option<&[u8]>, max_side: u32, max_bytes: u64) -> Scaled {
    // Walked whatever the size: the walk is what tells a whole image from a damaged one.
    // A sequential JPEG whose 1/8 image is too small is decoded at 1/4 or 1/2 in the
    // same walk, so its entropy-coded data is read once, not twice.
    let want = Want {
        long_side: max_side,
        max_bytes: max_bytes.min(MAX_DECODE_BYTES),
    };
    let dc = match data.map(|d| crate::imaging::jpeg_dc::decode_for(d, want)) {
        Some(Ok(image)) => Some(image),
        // Full decoders paint such files grey without a word; libjpeg refuses them.
        Some(Err(Decline::Broken)) => return Scaled::Damaged(Defect::Broken, None),
        Some(Err(Decline::Cut)) => return Scaled::Damaged(Defect::Cut, None),
        Some(Err(Decline::NotHandled)) | None => None,
    };
    let orientation = || {
        data.and_then(crate::imaging::jpeg_dc::exif)
            .and_then(Orientation::from_exif_chunk)
    };
    // Damaged DC data is damage whatever the mode.
    if let Some(defect) = dc.as_ref().and_then(|d| d.defect) {
        let preview = dc.and_then(picture).map(|p| (p, orientation()));
        return Scaled::Damaged(defect, preview);
    }
    match &dc {
        // Only a sequential JPEG's walk proves it whole.
        Some(image) if !image.progressive => {}
        _ => {
            let end_seen = match data {
                Some(d) => has_end_marker(&d[d.len().saturating_sub(64 * 1024)..]),
                None => tail_has_end_marker(path),
            };
            if !end_seen {
                return Scaled::Damaged(Defect::Cut, None);
            }
        }
    }
    if let Some(built) = dc
        .filter(|d| d.width.max(d.height) >= max_side)
        .and_then(picture)
    {
        return Scaled::Decoded(built, orientation());
    }
    // The bytes read for the walk are decoded again from memory, not read twice.
    match data {
        Some(data) => decode_scaled_idct(std::io::Cursor::new(data), max_side, max_bytes),
        None => match File::open(path) {
            Ok(file) => decode_scaled_idct(
                BufReader::with_capacity(256 * 1024, file),
                max_side,
                max_bytes,
            ),
            Err(_) => Scaled::Unsupported,
        },
    }
}

/// The DC image as pixels.
fn picture(image: crate::imaging::jpeg_dc::DcImage) -> Option<DynamicImage> {
    let (w, h) = (image.width, image.height);
    if image.channels == 1 {
        image::GrayImage::from_raw(w, h, image.pixels).map(DynamicImage::ImageLuma8)
    } else {
        image::RgbImage::from_raw(w, h, image.pixels).map(DynamicImage::ImageRgb8)
    }
}

/// The whole file at `path` when it is small enough to hold in memory (128 MiB), for
/// the DC walk and the frame-header check; `None` beyond that, or when unreadable.
pub(crate) fn read_in_memory(path: &Path) -> Option<Vec<u8>> {
    const MAX_IN_MEMORY: u64 = 128 * 1024 * 1024;
    let small_enough = std::fs::metadata(path).is_ok_and(|m| m.len() <= MAX_IN_MEMORY);
    small_enough.then(|| std::fs::read(path).ok()).flatten()
}

/// True when `tail` holds an end-of-image marker (`FF D9`). Inside entropy-coded data
/// every `FF` is followed by `00` or a restart marker, so it means a scan finished.
fn has_end_marker(tail: &[u8]) -> bool {
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

/// [`has_end_marker`] on the last 64 KiB of the file at `path`.
fn tail_has_end_marker(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let Ok(len) = file.seek(SeekFrom::End(0)) else {
        return false;
    };
    let tail = len.min(64 * 1024);
    let mut buf = Vec::with_capacity(tail as usize);
    if file.seek(SeekFrom::Start(len - tail)).is_err() || file.read_to_end(&mut buf).is_err() {
        return false;
    }
    has_end_marker(&buf)
}

/// Decodes at the smallest DCT scale (1/8, 1/4, 1/2) whose long side still reaches
/// `max_side`.
fn decode_scaled_idct(reader: impl std::io::Read, max_side: u32, max_bytes: u64) -> Scaled {
    let mut decoder = jpeg_decoder::Decoder::new(reader);
    let max_bytes = max_bytes.min(MAX_DECODE_BYTES);
    decoder.set_max_decoding_buffer_size(usize::try_from(max_bytes).unwrap_or(usize::MAX));
    if decoder.read_info().is_err() {
        return Scaled::Unsupported;
    }
    let Some(info) = decoder.info() else {
        return Scaled::Unsupported;
    };
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if w == 0 || h == 0 {
        return Scaled::Unsupported;
    }
    if w > MAX_SIDE || h > MAX_SIDE {
        return Scaled::TooLarge(w, h);
    }
    if !matches!(
        info.pixel_format,
        jpeg_decoder::PixelFormat::L8 | jpeg_decoder::PixelFormat::RGB24
    ) {
        return Scaled::Unsupported;
    }
    // jpeg-decoder takes the smallest scale at which *either* side reaches what is
    // asked, so ask only of the long side (the short one can never be met): a 1x1000
    // image must come out 1x500, not 1x125. Lossless JPEG (SOF3) has no DCT to scale:
    // it is decoded whole (the `image` crate's decoder cannot read it at all).
    let want = u16::try_from(max_side).unwrap_or(u16::MAX);
    let (want_w, want_h) = if w >= h {
        (want, u16::MAX)
    } else {
        (u16::MAX, want)
    };
    let lossless = info.coding_process == jpeg_decoder::CodingProcess::Lossless;
    if !lossless && decoder.scale(want_w, want_h).is_err() {
        return Scaled::Unsupported;
    }
    let Ok(pixels) = decoder.decode() else {
        return Scaled::Unsupported;
    };
    let Some(info) = decoder.info() else {
        return Scaled::Unsupported;
    };
    let (sw, sh) = (u32::from(info.width), u32::from(info.height));
    // Trust only a size the pixels agree with (a decoder that ignored the scale would
    // otherwise turn into stripes).
    let channels = if info.pixel_format == jpeg_decoder::PixelFormat::L8 {
        1
    } else {
        3
    };
    if pixels.len() as u64 != u64::from(sw) * u64::from(sh) * channels {
        return Scaled::Unsupported;
    }
    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageLuma8)
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(sw, sh, pixels).map(DynamicImage::ImageRgb8)
        }
        _ => None,
    };
    let orientation = decoder.exif_data().and_then(Orientation::from_exif_chunk);
    match image {
        Some(image) => Scaled::Decoded(image, orientation),
        None => Scaled::Unsupported,
    }
}
