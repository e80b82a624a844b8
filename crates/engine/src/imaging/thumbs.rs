//! Thumbnails: decoding a downloaded image with strict limits and shrinking it.
//!
//! This is CPU-bound work; the engine runs it on its thumbnail pool, never on a
//! download worker or the UI thread. Invariants: one decode never allocates more
//! than [`MAX_DECODE_BYTES`] or accepts a side over [`MAX_SIDE`]; all decodes at once
//! stay within one process-wide [`DECODE_BUDGET`] (a decode waits for room instead of
//! each pool thread taking its own maximum), and each decoder's own allocation limit is
//! the share it took, so data larger than its header says (a GIF frame larger than its
//! picture) is refused, not allocated; a decoder panic becomes a [`ThumbError`], never
//! a crash.

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::imaging::chroma;
use crate::imaging::jpeg_dc::Defect;
use crate::imaging::jpeg_scaled::{self, Scaled};
pub(crate) use crate::imaging::limits::{MAX_DECODE_BYTES, MAX_SIDE};
use crate::imaging::reasons::ThumbError;
use crate::imaging::reasons::classify;
use crate::imaging::sniff::ImageFormat;
pub use crate::imaging::thumbnail::Thumbnail;

/// The default longest side of a thumbnail, in pixels.
pub const DEFAULT_THUMB_SIDE: u32 = 256;

/// Most memory all decodes running at once may take, whatever the number of threads.
pub(crate) const DECODE_BUDGET: u64 = 1024 * 1024 * 1024;

/// Memory handed out to decodes; a decode waits until its share fits.
pub(crate) struct Budget {
    total: u64,
    used: std::sync::Mutex<u64>,
    freed: std::sync::Condvar,
}

/// A share of a [`Budget`], given back when dropped.
pub(crate) struct Share<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    /// A budget of `total` bytes.
    pub(crate) const fn new(total: u64) -> Self {
        Self {
            total,
            used: std::sync::Mutex::new(0),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits until `bytes` (at most the whole budget) fit, and takes them.
    pub(crate) fn take(&self, bytes: u64) -> Share<'_> {
        let bytes = bytes.min(self.total);
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while *used + bytes > self.total {
            used = self.freed.wait(used).unwrap_or_else(|p| p.into_inner());
        }
        *used += bytes;
        Share {
            budget: self,
            bytes,
        }
    }

    /// Bytes taken right now.
    #[cfg(test)]
    pub(crate) fn in_use(&self) -> u64 {
        *self.used.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Share<'_> {
    /// The bytes this share holds (what its decode may allocate).
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|p| p.into_inner());
        *used = used.saturating_sub(self.bytes);
        drop(used);
        self.budget.freed.notify_all();
    }
}

/// The process-wide budget every thumbnail decode takes its share from.
static BUDGET: Budget = Budget::new(DECODE_BUDGET);

/// Working room every decode gets, however small its picture: a PNG's text and ICC
/// chunks, a decoder's tables.
const DECODE_FLOOR: u64 = 8 * 1024 * 1024;

/// The memory a decode whose decoder puts out `output` bytes may take: the output, and
/// as much again for the decoder's own buffers (a GIF frame placed on its picture, a
/// TIFF strip) and the turn into RGBA; at least [`DECODE_FLOOR`], at most
/// [`MAX_DECODE_BYTES`].
fn decode_need(output: u64) -> u64 {
    output
        .saturating_mul(2)
        .clamp(DECODE_FLOOR, MAX_DECODE_BYTES)
}

/// What a JPEG of this size may take on the scaled path (its frame header's size is
/// what the decoders there allocate by): its RGBA pixels, at most [`MAX_DECODE_BYTES`];
/// the maximum when the size is unknown.
fn jpeg_need(dimensions: Option<(u32, u32)>) -> u64 {
    dimensions.map_or(MAX_DECODE_BYTES, |(w, h)| {
        (u64::from(w) * u64::from(h) * 4).min(MAX_DECODE_BYTES)
    })
}

/// The decode limits for untrusted images, with `max_alloc` bytes for the decoder's
/// own allocations (the share of the budget the decode took).
fn limits_for(max_alloc: u64) -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(max_alloc.min(MAX_DECODE_BYTES));
    limits
}

/// The decode limits for reading only an untrusted image's header: any side (a size
/// past the limits is what a "too large" reason names), [`MAX_DECODE_BYTES`] at most.
fn header_limits() -> Limits {
    let mut limits = limits_for(MAX_DECODE_BYTES);
    limits.max_image_width = None;
    limits.max_image_height = None;
    limits
}

/// Reads an image file's pixel size from its header, without decoding it.
pub(crate) fn dimensions(path: &Path, format: ImageFormat) -> Option<(u32, u32)> {
    let format = format.decoder()?;
    let file = File::open(path).ok()?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    reader.limits(header_limits());
    catch_unwind(AssertUnwindSafe(|| reader.into_dimensions().ok())).ok()?
}

/// Decodes the image at `path` (honouring EXIF orientation) and shrinks it so its
/// longest side is at most `max_side`.
pub fn make_thumbnail(
    path: &Path,
    format: ImageFormat,
    max_side: u32,
) -> Result<Thumbnail, ThumbError> {
    let Some(decoder_format) = format.decoder() else {
        return Err(ThumbError::Unsupported(format.name()));
    };
    if format == ImageFormat::Jpeg
        && let Some(thumb) = jpeg_thumbnail(path, max_side)?
    {
        return Ok(thumb);
    }
    // An icon is its best entry.
    if let Some((inner, bytes)) = (format == ImageFormat::Ico)
        .then(|| ico_best(path))
        .flatten()
    {
        return thumbnail_charged(
            || Ok(ImageReader::with_format(Cursor::new(&bytes[..]), inner)),
            max_side,
        );
    }
    let open = || {
        let file = File::open(path).map_err(|e| ThumbError::Io(e.to_string()))?;
        let reader = BufReader::with_capacity(256 * 1024, file);
        Ok(ImageReader::with_format(reader, decoder_format))
    };
    thumbnail_charged(open, max_side)
}

/// A JPEG's thumbnail from the DC walk or the scaled decode, charged to the budget by
/// its frame header's size; `None` when neither path takes it (CMYK they do not turn
/// into colours, a decoder error), for the full decoder.
fn jpeg_thumbnail(path: &Path, max_side: u32) -> Result<Option<Thumbnail>, ThumbError> {
    // A JPEG is read once: its frame header decides "no preview", and the same bytes
    // go to the DC walk and the scaled decode.
    let data = jpeg_scaled::read_in_memory(path);
    let head = match &data {
        Some(data) => Some(std::borrow::Cow::Borrowed(&data[..])),
        None => read_head(path).map(std::borrow::Cow::Owned),
    };
    if let Some(reason) = head.and_then(|h| jpeg_without_preview(&h)) {
        return Err(reason);
    }
    let dims = dimensions(path, ImageFormat::Jpeg);
    if let Some((w, h)) = dims.filter(|&(w, h)| w > MAX_SIDE || h > MAX_SIDE) {
        return Err(too_large(w, h));
    }
    // Held until the pixels are shrunk: big decodes queue up instead of adding up. It
    // is given back before a full decoder takes its own.
    let share = BUDGET.take(jpeg_need(dims));
    let scaled = guarded(|| {
        // Decode at 1/8, 1/4 or 1/2 size straight from the DCT when possible.
        match jpeg_scaled::decode(path, data.as_deref(), max_side, share.bytes()) {
            Scaled::Decoded(image, orientation) => Ok(Some(shrunk(image, orientation, max_side))),
            Scaled::TooLarge(w, h) => Err(too_large(w, h)),
            // JPEG decoders fill a cut-off or corrupt scan with grey instead of
            // failing: the walk's verdict stands, with what it could read.
            Scaled::Damaged(defect, preview) => Err(damaged(defect, preview, max_side)),
            Scaled::Unsupported => Ok(None),
        }
    });
    drop(share);
    scaled
}

/// `image` shrunk to fit `max_side`, then turned upright: turning the small result is
/// cheap.
fn shrunk(image: DynamicImage, orientation: Option<Orientation>, max_side: u32) -> Thumbnail {
    let mut small = shrink_image(image, max_side);
    if let Some(orientation) = orientation {
        small.apply_orientation(orientation);
    }
    to_thumbnail(small)
}

/// A reader of an image held in memory, its format guessed from its bytes.
fn in_memory(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, ThumbError> {
    ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ThumbError::Io(e.to_string()))
}

/// A thumbnail of an image held in memory (a preview fetched whole, or a photo's EXIF
/// thumbnail), with the same budget, limits and orientation handling as
/// [`make_thumbnail`].
pub(crate) fn thumbnail_from_bytes(bytes: &[u8], max_side: u32) -> Result<Thumbnail, ThumbError> {
    thumbnail_charged(|| in_memory(bytes), max_side)
}

/// The thumbnail of what `open` reads (each call a fresh reader of the same bytes),
/// decoded within the decode budget. A first reader reads only the header, whose size
/// and pixel layout say what the decode will put out; that and working room
/// ([`decode_need`]) is taken from the budget, waiting for room, and the decoder that
/// does the work gets that share as its own allocation limit: data larger than its
/// header says (a GIF frame larger than its picture) is refused, not allocated.
fn thumbnail_charged<R: std::io::BufRead + std::io::Seek>(
    open: impl Fn() -> Result<ImageReader<R>, ThumbError>,
    max_side: u32,
) -> Result<Thumbnail, ThumbError> {
    let (w, h, output) = guarded(|| {
        let mut reader = open()?;
        reader.limits(header_limits());
        let decoder = reader.into_decoder().map_err(classify)?;
        let (w, h) = decoder.dimensions();
        Ok((w, h, decoder.total_bytes()))
    })?;
    // Refuse before allocating: a few hundred bytes of PNG can claim gigabytes.
    if w > MAX_SIDE || h > MAX_SIDE || output > MAX_DECODE_BYTES {
        return Err(too_large(w, h));
    }
    // Held until the pixels are shrunk: big decodes queue up instead of adding up.
    let share = BUDGET.take(decode_need(output));
    guarded(|| {
        let mut reader = open()?;
        reader.limits(limits_for(share.bytes()));
        let (image, orientation) = decode_with_orientation(reader, output).map_err(|e| {
            match e {
                // The header was within the limits: the data is not what it says.
                ThumbError::TooLarge(_) => ThumbError::TooLarge(format!(
                    "its image data is larger than its {w}×{h} header says"
                )),
                e => e,
            }
        })?;
        Ok(shrunk(image, orientation, max_side))
    })
}

/// Decodes a thumbnail that Pixgrab itself wrote to its cache.
pub fn decode_cached(bytes: &[u8]) -> Result<Thumbnail, ThumbError> {
    guarded(|| {
        let mut reader = in_memory(bytes)?;
        reader.limits(limits_for(MAX_DECODE_BYTES));
        let image = reader.decode().map_err(classify)?;
        Ok(to_thumbnail(image))
    })
}

/// A thumbnail this small (a small picture, not shrunk) is cached at a higher quality.
const SMALL_THUMB_SIDE: u32 = 128;

/// Encodes a thumbnail for the on-disk cache: JPEG when opaque, PNG when it has
/// transparency. Returns the file extension and the bytes. The JPEG keeps every
/// pixel's colour (4:4:4, no chroma subsampling) when the picture is small or has sharp
/// colour edges (bands, icons, line art), which would otherwise bleed into each other;
/// other pictures (photos) keep their colour at half resolution (4:2:0, each colour
/// sample the mean of its 2×2 pixels, as libjpeg makes it), which loses nothing visible
/// there and encodes about 40% quicker, on every download's way to being published. A
/// small picture, shown enlarged in the gallery, is kept at a higher quality.
pub(crate) fn encode_for_cache(thumb: &Thumbnail) -> Result<(&'static str, Vec<u8>), ThumbError> {
    let wrong_size = || ThumbError::Corrupt("thumbnail buffer has the wrong size".into());
    let opaque = thumb.is_opaque();
    if opaque {
        // jpeg-encoder (SIMD, straight from RGBA): about four times quicker than the
        // `image` crate's encoder, which was a quarter of a small photo's thumbnail time.
        let (w, h) = (
            u16::try_from(thumb.width).map_err(|_| wrong_size())?,
            u16::try_from(thumb.height).map_err(|_| wrong_size())?,
        );
        let mut out = Vec::new();
        let small = thumb.width.max(thumb.height) <= SMALL_THUMB_SIDE;
        let mut encoder = jpeg_encoder::Encoder::new(&mut out, if small { 92 } else { 85 });
        if small || chroma::has_sharp_colour_edges(&thumb.rgba, thumb.width, thumb.height) {
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
        } else {
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
            encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
        }
        encoder
            .encode(&thumb.rgba, w, h, jpeg_encoder::ColorType::Rgba)
            .map_err(|e| ThumbError::Corrupt(e.to_string()))?;
        return Ok(("jpg", out));
    }
    let rgba = image::RgbaImage::from_raw(thumb.width, thumb.height, thumb.rgba.clone())
        .ok_or_else(wrong_size)?;
    let mut out = Cursor::new(Vec::new());
    rgba.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| ThumbError::Corrupt(e.to_string()))?;
    Ok(("png", out.into_inner()))
}

/// "too large to preview: W×H pixels (the limit is …)".
/// The icon at `path` cut down to its best entry (most pixels, then most bits per
/// pixel; the first of equals, as Windows and browsers take it): the entry's PNG when it
/// is one (the ICO decoder refuses greyscale and RGB PNGs, which browsers show), else a
/// one-entry icon for the ICO decoder (which would otherwise pick by its own rules).
/// Icons are small; one over 16 MiB is left to the ICO decoder as it is.
fn ico_best(path: &Path) -> Option<(image::ImageFormat, Vec<u8>)> {
    if std::fs::metadata(path).ok()?.len() > 16 << 20 {
        return None;
    }
    let data = std::fs::read(path).ok()?;
    let count = usize::from(u16::from_le_bytes([*data.get(4)?, *data.get(5)?]));
    let side = |b: u8| if b == 0 { 256u32 } else { u32::from(b) };
    let (_, entry) = (0..count)
        .filter_map(|i| {
            let e: [u8; 16] = data.get(6 + i * 16..22 + i * 16)?.try_into().ok()?;
            let rank = (side(e[0]) * side(e[1]), u16::from_le_bytes([e[6], e[7]]));
            Some((rank, e))
        })
        .fold(None, |best: Option<((u32, u16), [u8; 16])>, e| match best {
            Some(b) if b.0 >= e.0 => Some(b),
            _ => Some(e),
        })?;
    let size = u32::from_le_bytes([entry[8], entry[9], entry[10], entry[11]]) as usize;
    let offset = u32::from_le_bytes([entry[12], entry[13], entry[14], entry[15]]) as usize;
    let payload = data.get(offset..offset.checked_add(size)?)?;
    if payload.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some((image::ImageFormat::Png, payload.to_vec()));
    }
    let mut one = vec![0, 0, 1, 0, 1, 0];
    one.extend_from_slice(&entry[..12]);
    one.extend_from_slice(&22u32.to_le_bytes());
    one.extend_from_slice(payload);
    Some((image::ImageFormat::Ico, one))
}

/// The error for a damaged JPEG, with a preview of what could be read when there is one.
fn damaged(
    defect: Defect,
    preview: Option<(DynamicImage, Option<Orientation>)>,
    max_side: u32,
) -> ThumbError {
    match (preview, defect) {
        (Some((image, orientation)), _) => {
            // The preview is at 1/8 scale: a small image's is enlarged back towards
            // the thumbnail size (blurred, but the damage shows where it is).
            let long = image.width().max(image.height()).max(1);
            let want = max_side.min(long.saturating_mul(8));
            let image = if long < want {
                let scale = f64::from(want) / f64::from(long);
                let w = ((f64::from(image.width()) * scale).round() as u32).max(1);
                let h = ((f64::from(image.height()) * scale).round() as u32).max(1);
                image.resize_exact(w, h, image::imageops::FilterType::Triangle)
            } else {
                image
            };
            ThumbError::DamagedPreview {
                reason: defect.reason(),
                preview: Arc::new(shrunk(image, orientation, max_side)),
            }
        }
        (None, Defect::Cut) => ThumbError::Truncated,
        (None, _) => ThumbError::Corrupt(defect.reason()),
    }
}

fn too_large(w: u32, h: u32) -> ThumbError {
    ThumbError::TooLarge(format!(
        "{w}×{h} pixels (the limit is {MAX_SIDE} a side and {} MiB)",
        MAX_DECODE_BYTES >> 20
    ))
}

/// Decodes what `reader` reads, refusing before allocating when its decoder would put
/// out more than `output` bytes (what its header said, and the decode was charged).
fn decode_with_orientation<R: std::io::BufRead + std::io::Seek>(
    reader: ImageReader<R>,
    output: u64,
) -> Result<(DynamicImage, Option<Orientation>), ThumbError> {
    let mut decoder = reader.into_decoder().map_err(classify)?;
    // Not every decoder charges its output buffer to the limits.
    let (w, h) = decoder.dimensions();
    if decoder.total_bytes() > output {
        return Err(too_large(w, h));
    }
    let orientation = decoder.orientation().ok();
    let image = DynamicImage::from_decoder(decoder).map_err(classify)?;
    Ok((image, orientation))
}

/// Turns resized raw pixels back into an image of the same kind.
type Rebuild = fn(u32, u32, Vec<u8>) -> Option<DynamicImage>;

/// Shrinks `image` to fit a `max_side` box, keeping its aspect ratio, with a SIMD
/// Catmull-Rom (bicubic) resize (fast_image_resize), the filter of Pillow's
/// `thumbnail`: 5 taps a sample at list B's 1.25x shrink where Lanczos3 took 8, and no
/// `sin` per weight (3 % of a small picture's thumbnail CPU). Smaller images are
/// returned as they are.
fn shrink_image(image: DynamicImage, max_side: u32) -> DynamicImage {
    use fast_image_resize::{
        FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image,
    };
    let max_side = max_side.max(1);
    let (w, h) = (image.width(), image.height());
    if w <= max_side && h <= max_side {
        return image;
    }
    let scale = f64::from(max_side) / f64::from(w.max(h));
    let tw = ((f64::from(w) * scale).round() as u32).clamp(1, max_side);
    let th = ((f64::from(h) * scale).round() as u32).clamp(1, max_side);
    let (pixel_type, source, rebuild): (PixelType, Vec<u8>, Rebuild) = match image {
        DynamicImage::ImageLuma8(buf) => (PixelType::U8, buf.into_raw(), |w, h, v| {
            image::GrayImage::from_raw(w, h, v).map(DynamicImage::ImageLuma8)
        }),
        DynamicImage::ImageRgb8(buf) => (PixelType::U8x3, buf.into_raw(), |w, h, v| {
            image::RgbImage::from_raw(w, h, v).map(DynamicImage::ImageRgb8)
        }),
        other => (PixelType::U8x4, other.into_rgba8().into_raw(), |w, h, v| {
            image::RgbaImage::from_raw(w, h, v).map(DynamicImage::ImageRgba8)
        }),
    };
    let resized = Image::from_vec_u8(w, h, source, pixel_type)
        .ok()
        .and_then(|src| {
            let mut dst = Image::new(tw, th, pixel_type);
            let options =
                ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::CatmullRom));
            Resizer::new().resize(&src, &mut dst, &options).ok()?;
            rebuild(tw, th, dst.into_vec())
        });
    // A resize that cannot fail for matching buffers; an empty thumbnail if it somehow does.
    resized.unwrap_or_else(|| DynamicImage::new_rgba8(tw, th))
}

fn to_thumbnail(image: DynamicImage) -> Thumbnail {
    if let DynamicImage::ImageRgb8(rgb) = &image {
        // The common case (every JPEG in colour), by hand: `into_rgba8` goes through
        // the `image` crate's colour-space conversion, 1.4 % of a small download.
        let pixels = rgb.width() as usize * rgb.height() as usize;
        let mut rgba = Vec::with_capacity(pixels * 4);
        for p in rgb.as_raw().chunks_exact(3).take(pixels) {
            rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
        }
        return Thumbnail {
            width: rgb.width(),
            height: rgb.height(),
            rgba,
        };
    }
    let rgba = image.into_rgba8();
    Thumbnail {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    }
}

/// Runs a decode, turning a panic inside a decoder into an error.
fn guarded<T>(f: impl FnOnce() -> Result<T, ThumbError>) -> Result<T, ThumbError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(ThumbError::Corrupt(
            "the decoder crashed on this file".into(),
        ))
    })
}

/// The first MiB of the file at `path` (where a JPEG's frame header is).
fn read_head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut head)
        .ok()?;
    Some(head)
}

/// A reason to show no preview for a JPEG whose kind no decoder here reads, judged from
/// its frame header: arithmetic coding (SOF9-11, 13-15), hierarchical (SOF5-7), or more
/// than 8 bits per sample (lossless JPEG excepted); or a frame with no components.
fn jpeg_without_preview(head: &[u8]) -> Option<ThumbError> {
    let mut pos = 2;
    while pos + 4 <= head.len() {
        if head[pos] != 0xFF {
            return None;
        }
        let marker = head[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([head[pos + 2], head[pos + 3]]));
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let precision = *head.get(pos + 4)?;
            let components = *head.get(pos + 9)?;
            return if components == 0 {
                Some(ThumbError::Corrupt(
                    "the JPEG frame header has no colour components".into(),
                ))
            } else if marker >= 0xC9 {
                Some(ThumbError::NoPreview("arithmetic-coded JPEG".into()))
            } else if (0xC5..=0xC7).contains(&marker) {
                Some(ThumbError::NoPreview("hierarchical JPEG".into()))
            } else if precision > 8 && marker != 0xC3 {
                Some(ThumbError::NoPreview(format!("{precision}-bit JPEG")))
            } else {
                None
            };
        }
        if marker == 0xCC {
            return Some(ThumbError::NoPreview("arithmetic-coded JPEG".into()));
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        pos += 2 + len;
    }
    None
}

/// The decode budget charged by what is decoded.
#[cfg(test)]
mod decode_limits;

/// Thumbnails against the reference decoders.
#[cfg(test)]
mod fidelity;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_at_once_never_take_more_than_the_budget() {
        let budget = std::sync::Arc::new(Budget::new(1000));
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|n| {
                let (budget, peak) = (budget.clone(), peak.clone());
                std::thread::Builder::new()
                    .name(format!("test-decode-{n}"))
                    .spawn(move || {
                        for _ in 0..20 {
                            let _share = budget.take(400);
                            peak.fetch_max(budget.in_use(), std::sync::atomic::Ordering::SeqCst);
                            std::thread::yield_now();
                        }
                    })
                    .expect("spawn")
            })
            .collect();
        for t in threads {
            t.join().expect("join");
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 1000);
        assert_eq!(budget.in_use(), 0, "every share was given back");
        // A 100-megapixel JPEG takes 400 MB of the budget; an unknown size, the maximum.
        assert_eq!(jpeg_need(Some((10_000, 10_000))), 400_000_000);
        assert_eq!(jpeg_need(None), MAX_DECODE_BYTES);
        // Other decodes: their output and as much again, within a floor and a ceiling.
        assert_eq!(decode_need(4), DECODE_FLOOR);
        assert_eq!(decode_need(100_000_000), 200_000_000);
        assert_eq!(decode_need(400_000_000), MAX_DECODE_BYTES);
    }

    fn write_png(path: &Path, w: u32, h: u32) {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
        });
        img.save(path).expect("write test png");
    }

    #[test]
    fn thumbnails_fit_the_box_and_keep_aspect() -> Result<(), ThumbError> {
        let dir = tempfile::tempdir().map_err(|e| ThumbError::Io(e.to_string()))?;
        let path = dir.path().join("wide.png");
        write_png(&path, 1000, 500);
        let t = make_thumbnail(&path, ImageFormat::Png, 256)?;
        assert_eq!((t.width, t.height), (256, 128));
        assert_eq!(t.rgba.len(), 256 * 128 * 4);
        assert_eq!(dimensions(&path, ImageFormat::Png), Some((1000, 500)));
        let small = make_thumbnail(&path, ImageFormat::Png, 2000)?;
        assert_eq!((small.width, small.height), (1000, 500));
        Ok(())
    }

    /// A JPEG whose EXIF says "rotate 90° clockwise" (orientation 6).
    fn rotated_jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 50, 90]));
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .expect("encode");
        let jpeg = jpeg.into_inner();
        let mut tiff = b"II*\0\x08\0\0\0\x01\0".to_vec(); // header, IFD at 8, one entry
        tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation = 6
        tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    #[test]
    fn jpeg_thumbnails_follow_exif_orientation() -> Result<(), ThumbError> {
        let dir = tempfile::tempdir().map_err(|e| ThumbError::Io(e.to_string()))?;
        let path = dir.path().join("rotated.jpg");
        std::fs::write(&path, rotated_jpeg(400, 200)).map_err(|e| ThumbError::Io(e.to_string()))?;
        let t = make_thumbnail(&path, ImageFormat::Jpeg, 64)?;
        assert_eq!((t.width, t.height), (32, 64));
        Ok(())
    }

    #[test]
    fn large_jpegs_are_decoded_scaled_and_fit_the_box() -> Result<(), ThumbError> {
        let dir = tempfile::tempdir().map_err(|e| ThumbError::Io(e.to_string()))?;
        let path = dir.path().join("big.jpg");
        let img = image::RgbImage::from_fn(2000, 1500, |x, y| {
            image::Rgb([(x / 8) as u8, (y / 6) as u8, 128])
        });
        img.save(&path).map_err(|e| ThumbError::Io(e.to_string()))?;
        let t = make_thumbnail(&path, ImageFormat::Jpeg, 256)?;
        assert_eq!((t.width, t.height), (256, 192));
        // The gradient survives: left is darker than right in the red channel.
        let red = |x: usize| t.rgba[(96 * 256 + x) * 4];
        assert!(red(10) < red(240), "{} vs {}", red(10), red(240));
        Ok(())
    }

    #[test]
    fn cache_round_trip_keeps_size() -> Result<(), ThumbError> {
        let thumb = Thumbnail {
            width: 3,
            height: 2,
            rgba: vec![200; 24],
        };
        let (ext, bytes) = encode_for_cache(&thumb)?;
        assert_eq!(ext, "png"); // alpha 200 is not opaque
        assert_eq!(decode_cached(&bytes)?, thumb);
        Ok(())
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.png");
        write_png(&path, 300, 300);
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
        assert!(make_thumbnail(&path, ImageFormat::Png, 64).is_err());
        std::fs::write(&path, b"\x89PNG\r\n\x1a\ngarbage").expect("write");
        assert!(make_thumbnail(&path, ImageFormat::Png, 64).is_err());
        assert_eq!(
            make_thumbnail(&path, ImageFormat::Svg, 64),
            Err(ThumbError::Unsupported("SVG"))
        );
    }
}
