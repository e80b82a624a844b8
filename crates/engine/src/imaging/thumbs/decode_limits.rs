//! The decode budget is charged by what is decoded, not only by what a header says
//! (issue #23): a GIF whose logical screen is 1×1 but whose frame is 11000×11000 would
//! take about 470 MB for a 4-byte charge, on the download pool and on every probe thread.

use std::path::Path;

use crate::imaging::sniff::ImageFormat;
use crate::imaging::thumbs;

/// LZW codes packed least significant bit first, as GIF stores them.
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    acc: u32,
    n: u32,
}

impl Bits {
    fn put(&mut self, code: u16, width: u32) {
        self.acc |= u32::from(code) << self.n;
        self.n += width;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// The LZW data (minimum code size 2) of `pixels` pixels of colour 0, as giflib writes
/// it: a run of one colour matches the longest entry so far, so the codes stand for
/// runs of 1, 2, 3... pixels; the table is cleared when full. 121 M pixels take ~90 KB.
fn lzw_one_colour(pixels: u64) -> Vec<u8> {
    const CLEAR: u16 = 4;
    const END: u16 = 5;
    const FIRST: u16 = 6;
    let mut bits = Bits::default();
    let (mut next, mut width) = (FIRST, 3u32);
    // Emits a code, then widens the codes once the next entry needs another bit.
    let emit = |bits: &mut Bits, code: u16, next: u16, width: &mut u32| {
        bits.put(code, *width);
        if u32::from(next) >= (1 << *width) && *width < 12 {
            *width += 1;
        }
    };
    emit(&mut bits, CLEAR, next, &mut width);
    // The longest run the table holds a code for.
    let mut longest = 1u64;
    let mut left = pixels;
    while left > 0 {
        let run = longest.min(left);
        let code = if run == 1 {
            0
        } else {
            FIRST + (run - 2) as u16
        };
        emit(&mut bits, code, next, &mut width);
        left -= run;
        if left == 0 {
            break;
        }
        if next >= 4095 {
            emit(&mut bits, CLEAR, next, &mut width);
            (next, width, longest) = (FIRST, 3, 1);
        } else {
            next += 1;
            longest = run + 1;
        }
    }
    emit(&mut bits, END, next, &mut width);
    bits.finish()
}

/// A GIF whose logical screen is `screen` and whose one frame, at (0, 0), is `frame`
/// pixels of one colour (orange).
fn gif(screen: (u16, u16), frame: (u16, u16)) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&screen.0.to_le_bytes());
    out.extend_from_slice(&screen.1.to_le_bytes());
    // A global colour table of 4 entries; background 0; no aspect ratio.
    out.extend_from_slice(&[0x91, 0, 0]);
    out.extend_from_slice(&[255, 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    out.push(0x2C);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&frame.0.to_le_bytes());
    out.extend_from_slice(&frame.1.to_le_bytes());
    out.push(0);
    out.push(2); // minimum code size
    let data = lzw_one_colour(u64::from(frame.0) * u64::from(frame.1));
    for block in data.chunks(255) {
        out.push(block.len() as u8);
        out.extend_from_slice(block);
    }
    out.push(0);
    out.push(0x3B);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn the_hand_made_gif_is_a_real_gif() {
    // The encoder above, checked on a frame that fills its picture (several table
    // clears): every pixel comes out orange.
    let bytes = gif((3000, 3000), (3000, 3000));
    let image = image::load_from_memory(&bytes)
        .expect("the image crate decodes it")
        .to_rgba8();
    assert_eq!(image.dimensions(), (3000, 3000));
    assert!(image.pixels().all(|p| p.0 == [255, 128, 0, 255]));
    let tmp = tempfile::tempdir().expect("tempdir");
    let thumb = thumbs::make_thumbnail(
        &write(tmp.path(), "fills.gif", &bytes),
        ImageFormat::Gif,
        64,
    )
    .expect("thumbnail");
    assert_eq!((thumb.width, thumb.height), (64, 64));
}

#[test]
fn a_gif_frame_larger_than_its_picture_is_refused_not_allocated() {
    let bytes = gif((1, 1), (11_000, 11_000));
    assert!(bytes.len() < 120_000, "{} bytes", bytes.len());
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write(tmp.path(), "liar.gif", &bytes);
    let expected = "too large to preview: its image data is larger than its 1×1 header says";
    // A download's thumbnail: the frame would need 484 MB for a 4-byte charge.
    let made = thumbs::make_thumbnail(&path, ImageFormat::Gif, 256);
    assert_eq!(
        made.map(|t| (t.width, t.height)).map_err(|e| e.to_string()),
        Err(expected.to_string())
    );
    // A probe's preview goes through the same budget and limits.
    let preview = thumbs::thumbnail_from_bytes(&bytes, 256);
    assert_eq!(
        preview
            .map(|t| (t.width, t.height))
            .map_err(|e| e.to_string()),
        Err(expected.to_string())
    );
}

#[test]
fn a_gif_frame_a_little_off_its_picture_is_still_shown() {
    // Frames that fit the decode's working room are placed on the picture, as before:
    // a 120×120 frame on a 100×100 screen.
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = write(tmp.path(), "off.gif", &gif((100, 100), (120, 120)));
    let thumb = thumbs::make_thumbnail(&path, ImageFormat::Gif, 256).expect("thumbnail");
    assert_eq!((thumb.width, thumb.height), (100, 100));
    assert_eq!(&thumb.rgba[..4], &[255, 128, 0, 255]);
}
