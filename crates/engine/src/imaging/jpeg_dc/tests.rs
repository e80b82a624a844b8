use super::*;

#[test]
fn an_over_subscribed_huffman_table_is_refused_before_it_is_filled() {
    // Three codes of 1 bit cannot exist; building the lookup table used to index
    // past its end before the check.
    let mut counts = [0u8; 16];
    counts[0] = 3;
    assert!(Huffman::new(&counts, vec![1, 2, 3]).is_none());
    counts[0] = 2;
    assert!(
        Huffman::new(&counts, vec![1, 2]).is_some(),
        "two 1-bit codes are fine"
    );
    let mut counts = [0u8; 16];
    counts[15] = 255;
    counts[14] = 1;
    assert!(Huffman::new(&counts, (0..=255).collect()).is_some());
}
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

fn picture(w: u16, h: u16) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            let (fx, fy) = (f32::from(x), f32::from(y));
            rgb.push((fx * 255.0 / f32::from(w)) as u8);
            rgb.push((fy * 255.0 / f32::from(h)) as u8);
            rgb.push((((fx / 23.0).sin() + (fy / 17.0).cos()) * 60.0 + 128.0) as u8);
        }
    }
    rgb
}

fn encode(
    w: u16,
    h: u16,
    setup: impl FnOnce(&mut Encoder<&mut Vec<u8>>),
    color: ColorType,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 90);
    setup(&mut encoder);
    let rgb = picture(w, h);
    let data: Vec<u8> = if color == ColorType::Luma {
        rgb.chunks(3).map(|p| p[1]).collect()
    } else {
        rgb
    };
    encoder.encode(&data, w, h, color).expect("encode");
    out
}

fn assert_matches_reference(name: &str, data: &[u8]) {
    let ours = decode(data, 1).unwrap_or_else(|e| panic!("{name}: not decoded: {e:?}"));
    assert_as_close_as_jpeg_decoder(name, data, &ours);
}

/// `ours` (a walk's image of `data`) against jpeg-decoder's decode at the same scale:
/// the same size, brightness within rounding (the same reduced IDCT; at 1/8 the
/// block's mean), and in a colour image, colour no farther than jpeg-decoder's from
/// the full image shrunk (chroma is upsampled differently: jpeg-decoder repeats 4:1:1
/// chroma).
fn assert_as_close_as_jpeg_decoder(name: &str, data: &[u8], ours: &DcImage) {
    let eighths = ours.eighths;
    let (w, h, full) = reference_at(data, 8);
    let (rw, rh, theirs) = reference_at(data, u16::from(eighths));
    assert_eq!((ours.width, ours.height), (rw, rh), "{name} at {eighths}/8");
    assert_eq!(ours.pixels.len(), theirs.len(), "{name} at {eighths}/8");
    let channels = usize::from(ours.channels);
    let (_, luma) = differences(&ours.pixels, &theirs, channels);
    // At 1/8 jpeg-decoder truncates the block's mean where libjpeg (and the walk)
    // round it: half a level apart on average.
    let limit = if eighths == 1 { 1.0 } else { 0.5 };
    assert!(
        luma < limit,
        "{name} at {eighths}/8: brightness differs by {luma:.2}"
    );
    if channels != 3 {
        return;
    }
    let truth = box_shrunk(&full, (w, h), channels, 8 / u32::from(eighths));
    let (ours_off, _) = differences(
        &crop(&ours.pixels, rw, channels, &truth),
        &truth.pixels,
        channels,
    );
    let (theirs_off, _) = differences(
        &crop(&theirs, rw, channels, &truth),
        &truth.pixels,
        channels,
    );
    assert!(
        ours_off <= theirs_off + 0.1,
        "{name} at {eighths}/8: {ours_off:.2} from the shrunk image, jpeg-decoder {theirs_off:.2}"
    );
}

#[test]
fn dc_images_match_a_reference_decoder_across_jpeg_variants() {
    let variants: Vec<(&str, SamplingFactor)> = vec![
        ("4:4:4", SamplingFactor::R_4_4_4),
        ("4:2:2", SamplingFactor::R_4_2_2),
        ("4:2:0", SamplingFactor::R_4_2_0),
        ("4:4:0", SamplingFactor::R_4_4_0),
        ("4:1:1", SamplingFactor::R_4_1_1),
    ];
    for (name, sampling) in variants {
        for (w, h) in [(640, 480), (333, 217)] {
            let baseline = encode(w, h, |e| e.set_sampling_factor(sampling), ColorType::Rgb);
            assert_matches_reference(&format!("{name} {w}x{h} baseline"), &baseline);
            let progressive = encode(
                w,
                h,
                |e| {
                    e.set_sampling_factor(sampling);
                    e.set_progressive(true);
                },
                ColorType::Rgb,
            );
            assert_matches_reference(&format!("{name} {w}x{h} progressive"), &progressive);
            let restarts = encode(
                w,
                h,
                |e| {
                    e.set_sampling_factor(sampling);
                    e.set_restart_interval(3);
                },
                ColorType::Rgb,
            );
            assert_matches_reference(&format!("{name} {w}x{h} restarts"), &restarts);
        }
    }
    let optimized = encode(
        500,
        300,
        |e| e.set_optimized_huffman_tables(true),
        ColorType::Rgb,
    );
    assert_matches_reference("optimized Huffman tables", &optimized);
    let grey = encode(500, 300, |_| {}, ColorType::Luma);
    assert_matches_reference("greyscale", &grey);
    let grey_progressive = encode(500, 300, |e| e.set_progressive(true), ColorType::Luma);
    assert_matches_reference("greyscale progressive", &grey_progressive);
    // The image crate's own encoder, as used for the demo pictures.
    let img = image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, 77]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    assert_matches_reference("image crate", out.get_ref());
}

#[test]
fn unsupported_variants_fall_back_and_broken_files_are_told_apart() {
    let cmyk: Vec<u8> = picture(64, 64)
        .chunks(3)
        .flat_map(|p| [p[0], p[1], p[2], 10])
        .collect();
    let mut out = Vec::new();
    Encoder::new(&mut out, 90)
        .encode(&cmyk, 64, 64, ColorType::Cmyk)
        .expect("encode");
    // CMYK is walked to judge its data, but gives no pixels here.
    let cmyk = decode(&out, 1).expect("CMYK is walked");
    assert_eq!((cmyk.channels, cmyk.defect), (0, None));
    assert!(cmyk.pixels.is_empty());
    let small = encode(100, 100, |_| {}, ColorType::Rgb);
    assert!(
        decode(&small, 256) == Err(Decline::NotHandled),
        "too small for a 256 px thumbnail"
    );
    assert_eq!(decode(b"not a jpeg", 1), Err(Decline::NotHandled));
    // Broken structure, as libjpeg calls it ("Invalid component ID in SOS",
    // "Bogus Huffman table definition"): a verdict, not a fallback.
    let good = encode(64, 64, |_| {}, ColorType::Rgb);
    let sos = (0..good.len() - 1)
        .find(|&i| good[i] == 0xFF && good[i + 1] == 0xDA)
        .expect("SOS");
    let mut unknown_component = good.clone();
    unknown_component[sos + 5] = 0x77;
    assert_eq!(decode(&unknown_component, 1), Err(Decline::Broken));
    let dht = (0..good.len() - 1)
        .find(|&i| good[i] == 0xFF && good[i + 1] == 0xC4)
        .expect("DHT");
    let mut bogus_table = good.clone();
    bogus_table[dht + 5] = 3; // three 1-bit codes
    assert_eq!(decode(&bogus_table, 1), Err(Decline::Broken));
}

/// Byte offsets of the restart markers in `data`'s first scan.
fn restart_markers(data: &[u8]) -> Vec<usize> {
    (0..data.len() - 1)
        .filter(|&i| data[i] == 0xFF && (0xD0..=0xD7).contains(&data[i + 1]))
        .collect()
}

/// Pixels where `ours` and the reference differ by more than a little.
fn differing_pixels(ours: &DcImage, theirs: &[u8]) -> usize {
    ours.pixels
        .chunks(3)
        .zip(theirs.chunks(3))
        .filter(|(a, b)| a.iter().zip(*b).any(|(x, y)| x.abs_diff(*y) > 24))
        .count()
}

/// 640x480 4:2:0, a restart marker every 10 MCUs: 1200 MCUs, 120 intervals.
fn with_restarts() -> Vec<u8> {
    encode(
        640,
        480,
        |e| {
            e.set_sampling_factor(SamplingFactor::R_4_2_0);
            e.set_restart_interval(10);
        },
        ColorType::Rgb,
    )
}

/// `good` with two bytes of its 41st interval's data turned into `FF AE`, which is no
/// marker at all (as in jpeg-decoder's imagetestsuite/7997b….jpg).
fn with_stray_marker(good: &[u8], rst: &[usize]) -> Vec<u8> {
    let mut stray = good.to_vec();
    let at = (rst[40] + rst[41]) / 2;
    stray[at] = 0xFF;
    stray[at + 1] = 0xAE;
    stray
}

#[test]
fn a_bad_restart_interval_costs_that_interval_only() {
    let good = with_restarts();
    let (_, _, theirs) = reference_at(&good, 1);
    let rst = restart_markers(&good);
    assert_eq!(rst.len(), 119);
    let whole = decode(&good, 1).expect("decoded");
    assert_eq!(whole.defect, None);

    // As in jpeg-decoder's imagetestsuite/7997b….jpg: two bytes of an interval's
    // data became `FF AE`, which is no marker at all. libjpeg skips to the next
    // restart marker; so does the walk.
    let stray = with_stray_marker(&good, &rst);
    let walked = decode(&stray, 1).expect("decoded");
    assert_eq!(
        walked.defect,
        Some(Defect::BadIntervals { bad: 1, of: 120 })
    );
    // One interval is 10 MCUs = 40 blocks of 80x60; the rest is right.
    let off = differing_pixels(&walked, &theirs);
    assert!(off <= 40, "{off} pixels differ from the whole image");

    // A stretch of bytes lost, restart markers with it: the intervals after the
    // gap land where they belong (the marker numbers say how many are missing).
    let mut lost = good.clone();
    lost.drain(rst[60] - 5..rst[61] + 7);
    let walked = decode(&lost, 1).expect("decoded");
    let Some(Defect::BadIntervals { bad, of: 120 }) = walked.defect else {
        panic!("{:?}", walked.defect);
    };
    assert!((1..=3).contains(&bad), "{bad} bad intervals");
    let off = differing_pixels(&walked, &theirs);
    assert!(off <= 3 * 40, "{off} pixels differ from the whole image");

    // Garbage in the middle of an interval (random bytes, no markers).
    let mut garbage = good.clone();
    for (i, b) in garbage[rst[90] + 10..rst[90] + 40].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) & 0x7F;
    }
    let walked = decode(&garbage, 1).expect("decoded");
    assert!(
        matches!(
            walked.defect,
            Some(Defect::BadIntervals {
                bad: 1..=2,
                of: 120
            })
        ),
        "{:?}",
        walked.defect
    );

    // The scan's data ends early at a real marker (the file goes on): intervals
    // 0-100 are there, the 19 left are missing, and the file is not "cut".
    let mut early = good[..rst[100]].to_vec();
    early.extend_from_slice(&[0xFF, 0xD9, 1, 2, 3]);
    let walked = decode(&early, 1).expect("decoded");
    assert_eq!(
        walked.defect,
        Some(Defect::BadIntervals { bad: 19, of: 120 })
    );
    // Cut at the same place: the file ends, so it is cut.
    let walked = decode(&good[..rst[100]], 1).expect("decoded");
    assert_eq!(walked.defect, Some(Defect::Cut));
}

#[test]
fn bad_data_without_restart_markers_is_damage_with_what_was_read() {
    let good = encode(320, 240, |_| {}, ColorType::Rgb);
    // A run of 0xFE bytes is a run of 1-bits: no code in these tables is all ones.
    let mut bad = good.clone();
    let mid = good.len() / 2;
    bad[mid..mid + 64].fill(0xFE);
    let walked = decode(&bad, 1).expect("decoded");
    assert_eq!(walked.defect, Some(Defect::BadData));
    assert_eq!((walked.width, walked.height), (40, 30));
}

#[test]
fn an_adobe_segment_says_how_three_components_are_coloured() {
    let good = encode(320, 240, |_| {}, ColorType::Rgb);
    let plain = decode(&good, 1).expect("decoded");
    // APP14 "Adobe", version 100, flags 0, 0, transform: 1 = YCbCr, 0 = RGB.
    let with_app14 = |transform: u8| {
        let mut data = good[..2].to_vec();
        data.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
        data.extend_from_slice(b"Adobe");
        data.extend_from_slice(&[0, 100, 0, 0, 0, 0, transform]);
        data.extend_from_slice(&good[2..]);
        data
    };
    let ycbcr = decode(&with_app14(1), 1).expect("an Adobe YCbCr JPEG is walked");
    assert_eq!(ycbcr.pixels, plain.pixels);
    // Read as RGB, the same samples give other colours: Y, Cb, Cr as they are.
    let rgb = decode(&with_app14(0), 1).expect("an Adobe RGB JPEG is walked");
    assert_ne!(rgb.pixels, plain.pixels);
    let (w, h, _) = reference_at(&with_app14(0), 1);
    assert_eq!((rgb.width, rgb.height), (w, h));
}

#[test]
fn mangled_files_never_panic() {
    let good = encode(200, 150, |e| e.set_restart_interval(2), ColorType::Rgb);
    let progressive = encode(200, 150, |e| e.set_progressive(true), ColorType::Rgb);
    let mut state = 0x9E37_79B9u32;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as usize
    };
    for source in [&good, &progressive] {
        for _ in 0..400 {
            let mut data = source.clone();
            for _ in 0..1 + next() % 8 {
                let at = next() % data.len();
                data[at] = next() as u8;
            }
            let cut = next() % (data.len() + 1);
            let _ = decode(&data, 1);
            let _ = decode(&data[..cut], 1);
            for long_side in [50, 100] {
                let want = Want {
                    long_side,
                    max_bytes: u64::MAX,
                };
                let _ = decode_for(&data, want);
                let _ = decode_for(&data[..cut], want);
            }
        }
    }
}

/// jpeg-decoder's own decode at `eighths`/8 scale.
fn reference_at(data: &[u8], eighths: u16) -> (u32, u32, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(data));
    d.read_info().expect("info");
    let info = d.info().expect("info");
    let (w, h) = (info.width, info.height);
    d.scale((w * eighths).div_ceil(8), (h * eighths).div_ceil(8))
        .expect("scale");
    let px = d.decode().expect("decode");
    let info = d.info().expect("info");
    (u32::from(info.width), u32::from(info.height), px)
}

/// Mean difference per byte, and per pixel in brightness, of two images.
fn differences(ours: &[u8], theirs: &[u8], channels: usize) -> (f64, f64) {
    let mean = ours
        .iter()
        .zip(theirs)
        .map(|(a, b)| f64::from(a.abs_diff(*b)))
        .sum::<f64>()
        / ours.len() as f64;
    let luma = |p: &[u8]| match p {
        [r, g, b] => 0.299 * f64::from(*r) + 0.587 * f64::from(*g) + 0.114 * f64::from(*b),
        _ => f64::from(p[0]),
    };
    let luma_mean = ours
        .chunks(channels)
        .zip(theirs.chunks(channels))
        .map(|(a, b)| (luma(a) - luma(b)).abs())
        .sum::<f64>()
        / (ours.len() / channels) as f64;
    (mean, luma_mean)
}

#[test]
fn scaled_walks_match_a_reference_decoder_at_a_quarter_and_half_size() {
    let variants = [
        ("4:4:4", SamplingFactor::R_4_4_4),
        ("4:2:2", SamplingFactor::R_4_2_2),
        ("4:2:0", SamplingFactor::R_4_2_0),
        ("4:4:0", SamplingFactor::R_4_4_0),
        ("4:1:1", SamplingFactor::R_4_1_1),
    ];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, sampling) in variants {
        for (w, h) in [(640, 480), (333, 217), (217, 333)] {
            let plain = encode(w, h, |e| e.set_sampling_factor(sampling), ColorType::Rgb);
            files.push((format!("{name} {w}x{h}"), plain));
            let restarts = encode(
                w,
                h,
                |e| {
                    e.set_sampling_factor(sampling);
                    e.set_restart_interval(3);
                },
                ColorType::Rgb,
            );
            files.push((format!("{name} {w}x{h} restarts"), restarts));
        }
    }
    files.push((
        "greyscale".into(),
        encode(500, 300, |_| {}, ColorType::Luma),
    ));
    let optimized = encode(
        500,
        300,
        |e| e.set_optimized_huffman_tables(true),
        ColorType::Rgb,
    );
    files.push(("optimized Huffman tables".into(), optimized));
    let img = image::RgbImage::from_fn(400, 300, |x, y| image::Rgb([x as u8, y as u8, 77]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    files.push(("image crate".into(), out.into_inner()));
    for (name, data) in &files {
        let (w, h, _) = reference_at(data, 8);
        let long = w.max(h);
        for eighths in [2u8, 4] {
            // Asked for a side just over what the next smaller scale gives.
            let long_side = (long * u32::from(eighths) / 2).div_ceil(8) + 1;
            let want = Want {
                long_side,
                max_bytes: u64::MAX,
            };
            let ours = decode_for(data, want).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(ours.eighths, eighths, "{name}: scale for {long_side} px");
            assert_eq!(ours.defect, None, "{name}");
            assert_as_close_as_jpeg_decoder(name, data, &ours);
        }
    }
}

/// An image shrunk by `f` in both directions, each pixel the mean of an `f` x `f` box
/// (the edge boxes that do not fit are left out).
struct Shrunk {
    w: usize,
    pixels: Vec<u8>,
}

fn box_shrunk(full: &[u8], (w, h): (u32, u32), channels: usize, f: u32) -> Shrunk {
    let (w, h, f) = (w as usize, h as usize, f as usize);
    let (ow, oh) = (w / f, h / f);
    let mut pixels = Vec::with_capacity(ow * oh * channels);
    for y in 0..oh {
        for x in 0..ow {
            for c in 0..channels {
                let sum: usize = (0..f * f)
                    .map(|i| {
                        usize::from(full[((y * f + i / f) * w + x * f + i % f) * channels + c])
                    })
                    .sum();
                pixels.push((sum / (f * f)) as u8);
            }
        }
    }
    Shrunk { w: ow, pixels }
}

/// `px` (rows `width` pixels wide) cut to `shrunk`'s size.
fn crop(px: &[u8], width: u32, channels: usize, shrunk: &Shrunk) -> Vec<u8> {
    let rows = shrunk.pixels.len() / (shrunk.w * channels);
    px.chunks(width as usize * channels)
        .take(rows)
        .flat_map(|r| r[..shrunk.w * channels].iter().copied())
        .collect()
}

#[test]
fn a_scaled_walk_keeps_the_dc_only_where_it_cannot_or_may_not_do_more() {
    let want = |long_side, max_bytes| Want {
        long_side,
        max_bytes,
    };
    let baseline = encode(640, 480, |_| {}, ColorType::Rgb);
    // 1/8 already reaches 80 px: nothing more is kept.
    let dc = decode_for(&baseline, want(80, u64::MAX)).expect("walked");
    assert_eq!((dc.eighths, dc.width, dc.height), (1, 80, 60));
    assert_eq!(dc, decode(&baseline, 1).expect("walked"));
    // Half size would take more than it may: the DC image, for a full decoder to
    // follow.
    let tight = decode_for(&baseline, want(256, 100_000)).expect("walked");
    assert_eq!(tight.eighths, 1);
    let roomy = decode_for(&baseline, want(256, 10_000_000)).map(|i| i.eighths);
    assert_eq!(roomy, Ok(4));
    // Even 1/2 falls short of 400 px: the DC image.
    let short = decode_for(&baseline, want(400, u64::MAX)).map(|i| i.eighths);
    assert_eq!(short, Ok(1));
    // A progressive file's AC data is in later scans, not read by the walk.
    let progressive = encode(640, 480, |e| e.set_progressive(true), ColorType::Rgb);
    let walked = decode_for(&progressive, want(256, u64::MAX)).expect("walked");
    assert_eq!((walked.eighths, walked.progressive), (1, true));
}

#[test]
fn a_scaled_walk_judges_damage_as_the_dc_walk_does() {
    let good = with_restarts();
    let rst = restart_markers(&good);
    let stray = with_stray_marker(&good, &rst);
    let mut lost = good.clone();
    lost.drain(rst[60] - 5..rst[61] + 7);
    let mut bad = encode(640, 480, |_| {}, ColorType::Rgb);
    let mid = bad.len() / 2;
    bad[mid..mid + 64].fill(0xFE);
    let cut = good[..rst[100]].to_vec();
    let want = Want {
        long_side: 200,
        max_bytes: u64::MAX,
    };
    for (name, data) in [
        ("stray", &stray),
        ("lost", &lost),
        ("bad", &bad),
        ("cut", &cut),
    ] {
        let dc = decode(data, 1).expect("walked");
        let scaled = decode_for(data, want).expect("walked");
        assert!(dc.defect.is_some(), "{name}");
        assert_eq!(scaled.defect, dc.defect, "{name}");
        assert_eq!(scaled.eighths, 4, "{name}");
    }
    // Outside the bad interval the image is as the reference has it: an interval is
    // 10 MCUs of 16x16, 10 x 8 x 8 of the 320x240 half-size pixels.
    let walked = decode_for(&stray, want).expect("walked");
    let (_, _, theirs) = reference_at(&good, 4);
    let off = differing_pixels(&walked, &theirs);
    assert!(
        off <= 10 * 8 * 8,
        "{off} pixels differ from the whole image"
    );
}

#[test]
fn files_with_the_same_huffman_tables_share_them_built_once() {
    // The standard luminance DC table (T.81 K.3): counts, then symbols.
    let mut spec = vec![0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    spec.extend(0..12u8);
    let first = Huffman::shared(&spec).expect("a valid table");
    let again = Huffman::shared(&spec).expect("a valid table");
    assert!(Rc::ptr_eq(&first, &again), "built again for the same table");
    let mut other = spec.clone();
    other[16..].reverse();
    let different = Huffman::shared(&other).expect("a valid table");
    assert!(!Rc::ptr_eq(&first, &different));
    // An over-subscribed table is refused, every time.
    let mut bogus = vec![3u8];
    bogus.extend([0; 15]);
    bogus.extend([1, 2, 3]);
    assert!(Huffman::shared(&bogus).is_none());
    assert!(Huffman::shared(&bogus).is_none());
    assert!(Huffman::shared(&spec[..10]).is_none(), "cut short");
}

/// Skips one block's AC codes from `from` one code at a time: the reference for
/// [`skip_ac`]'s table.
fn skip_ac_by_code(bits: &mut Bits<'_>, table: &Huffman, from: u32) -> Option<()> {
    let mut i = from;
    while i < 64 {
        let rs = bits.symbol(table)?;
        let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
        match (run, size) {
            (15, 0) => i += 16,
            (_, 0) => break,
            _ => {
                i += run + 1;
                bits.skip(size);
            }
        }
    }
    Some(())
}

#[test]
fn the_skipping_table_ends_each_block_where_code_by_code_decoding_does() {
    // The standard AC table's code lengths (T.81 K.5) over the same 162 symbols in
    // another order; 1-bit codes (six coefficients in one step, blocks that end at
    // 63 without an end of block); zero runs and runs of 16.
    let mut full = vec![0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
    full.extend([0x01, 0x02, 0x00, 0x03, 0x11, 0x04]);
    full.extend(
        (0..16u8)
            .flat_map(|run| (1..=10u8).map(move |size| run << 4 | size))
            .filter(|s| ![0x01, 0x02, 0x03, 0x11, 0x04].contains(s)),
    );
    full.push(0xF0);
    let mut ones = vec![2u8];
    ones.extend([0; 15]);
    ones.extend([0x01, 0x00]);
    let mut runs = vec![0, 3];
    runs.extend([0; 14]);
    runs.extend([0xF0, 0x31, 0x00]);
    let mut rng = fastrand::Rng::with_seed(27);
    for spec in [&full, &ones, &runs] {
        let table = Huffman::shared(spec).expect("a valid table");
        for from in [1, 5, 17, 63] {
            // Random data, without 0xFF (no stuffing or markers to mind here).
            let data: Vec<u8> = (0..4096).map(|_| rng.u8(..0xFF)).collect();
            let (mut ours, mut theirs) = (Bits::new(&data, 0), Bits::new(&data, 0));
            for block in 0..300 {
                let got = skip_ac(&mut ours, &table, from).ok();
                let want = skip_ac_by_code(&mut theirs, &table, from);
                assert_eq!(
                    got,
                    want,
                    "table {:?}, from {from}, block {block}",
                    &spec[..16]
                );
                if want.is_none() {
                    break;
                }
                let at = |b: &Bits<'_>| b.pos * 8 - b.count as usize;
                assert_eq!(
                    at(&ours),
                    at(&theirs),
                    "table {:?}, from {from}, block {block}",
                    &spec[..16]
                );
            }
        }
    }
}
