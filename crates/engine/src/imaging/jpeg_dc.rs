//! A JPEG decoder that keeps only the DC coefficient of every 8x8 block: exactly the
//! 1/8-scale image (each block's average colour), which is all a 256 px thumbnail of a
//! large photo needs. It still reads every Huffman code of the scan, but skips
//! dequantising, the inverse DCT, upsampling and colour conversion at full size.
//!
//! Supported: 8-bit baseline and extended Huffman (SOF0/SOF1), progressive (SOF2; the
//! first DC scan is enough), 1 or 3 components with any sampling factors, restart
//! markers (resynchronising after bad data as libjpeg does), interleaved and
//! non-interleaved scans, Adobe RGB. CMYK/YCCK is walked to judge its data but gives no
//! pixels. Anything else (arithmetic coding, 12-bit, lossless, malformed tables) returns
//! `None` and the caller falls back to a full decoder. Malformed input can never panic an index:
//! every access is bounds-checked and the bit reader yields zeros past the end.

/// Larger frames are left to the full decoder path, which reports them as too large.
const MAX_SIDE: usize = crate::imaging::limits::MAX_SIDE as usize;

mod entropy;
mod pixels;
mod scan;
#[cfg(test)]
mod tests;

use std::rc::Rc;

use entropy::{Bits, Fault, Huffman, MAX_PADDING, read_low, skip_ac};
use scan::{Boundary, Restarts, ScanLayout};

/// The payload of the first `APP1` Exif segment (after `Exif\0\0`), if any.
pub(crate) fn exif(data: &[u8]) -> Option<&[u8]> {
    let mut pos = 2;
    while pos + 4 <= data.len() && data[pos] == 0xFF {
        let marker = data[pos + 1];
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([data[pos + 2], data[pos + 3]]));
        let seg = data.get(pos + 4..pos + 2 + len)?;
        if marker == 0xE1 && seg.starts_with(b"Exif\0\0") {
            return seg.get(6..);
        }
        pos += 2 + len;
    }
    None
}

/// The decoded DC image: one RGB (or grey) pixel per 8x8 block of the full image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DcImage {
    /// ceil(full width x eighths / 8).
    pub(crate) width: u32,
    /// ceil(full height x eighths / 8).
    pub(crate) height: u32,
    /// The scale in eighths: 1 (the DC image), 2 or 4 (see [`decode_for`]).
    pub(crate) eighths: u8,
    /// 1 (grey) or 3 (RGB) bytes per pixel; 0 (no pixels) for a 4-component JPEG,
    /// which is walked only to judge its data.
    pub(crate) channels: u8,
    pub(crate) pixels: Vec<u8>,
    /// What is wrong with the DC data, if anything. `None`: every DC scan's
    /// entropy-coded data covered every block without running out of bytes (or into a
    /// marker too early), so a sequential JPEG is whole.
    pub(crate) defect: Option<Defect>,
    /// A progressive JPEG: only its DC scans were read, so `complete` says nothing of
    /// the refinement scans after them.
    pub(crate) progressive: bool,
}

/// Damage the walk found in the entropy-coded data. The DC image still holds what
/// could be read: grey where data is missing, the last colour carried on through a bad
/// stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defect {
    /// The data ends before every block was coded: the file is cut.
    Cut,
    /// `bad` of the scan's `of` restart intervals held bad data (or were missing); the
    /// walk found the next restart marker after each, as libjpeg does, and read on.
    BadIntervals {
        /// Intervals with bad or missing data.
        bad: u32,
        /// Intervals in the scan.
        of: u32,
    },
    /// A code that is in no table, in a scan without restart markers: nothing after it
    /// can be read.
    BadData,
    /// The file's structure is broken (see [`Decline::Broken`]): no pixels at all.
    Broken,
}

impl Defect {
    /// A plain reason, for "damaged: …".
    pub(crate) fn reason(self) -> String {
        match self {
            Self::Cut => "the file ends before the image does".into(),
            Self::BadIntervals { bad, of } if bad >= of => {
                "corrupt data throughout the image".into()
            }
            Self::BadIntervals { bad, of } => {
                format!("corrupt data in {bad} of {of} segments of the image (the rest is shown)")
            }
            Self::BadData => "corrupt data partway through the image".into(),
            Self::Broken => "the file's JPEG structure is broken".into(),
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Component {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
}

/// Why the walk gave no DC image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decline {
    /// A JPEG this walk does not handle (12-bit, arithmetic, lossless, too coarse for
    /// the size asked, two components...): the caller falls back to a full decoder.
    NotHandled,
    /// The file's structure is broken: no frame header, a Huffman table no encoder can
    /// write, a scan naming a component or table that does not exist, a segment that
    /// runs past the end. libjpeg refuses such files; full decoders often paint them
    /// grey without a word.
    Broken,
    /// The file ends inside its headers, before any image data.
    Cut,
}

/// Decodes the DC image of `data`; see [`Decline`] for why there may be none.
/// `min_long_side`: decline when the DC image's long side would be under it (too
/// coarse).
pub(crate) fn decode(data: &[u8], min_long_side: u32) -> Result<DcImage, Decline> {
    let mut why = Decline::Broken;
    walk(data, min_long_side, Want::default(), &mut why).ok_or(why)
}

/// What [`decode_for`] is asked to give.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Want {
    /// The long side the image should reach, in pixels.
    pub(crate) long_side: u32,
    /// The most the kept coefficients and their pixels may take, in bytes.
    pub(crate) max_bytes: u64,
}

/// Like [`decode`], but a sequential JPEG whose 1/8 image would fall short of
/// `want.long_side` is decoded at 1/4 or 1/2 scale in the same walk (the low 2x2 or
/// 4x4 coefficients of each block are kept), when that fits `want.max_bytes`.
/// [`DcImage::eighths`] says which scale came out.
pub(crate) fn decode_for(data: &[u8], want: Want) -> Result<DcImage, Decline> {
    let mut why = Decline::Broken;
    walk(data, 0, want, &mut why).ok_or(why)
}

/// The file ends inside a segment.
fn cut<T>(why: &mut Decline) -> Option<T> {
    *why = Decline::Cut;
    None
}

fn not_handled<T>(why: &mut Decline) -> Option<T> {
    *why = Decline::NotHandled;
    None
}

/// The walk behind [`decode`]: `None` leaves in `why` the reason, `Broken` unless said.
fn walk(data: &[u8], min_long_side: u32, want: Want, why: &mut Decline) -> Option<DcImage> {
    if data.get(..2) != Some(&[0xFF, 0xD8][..]) {
        return not_handled(why);
    }
    let mut pos = 2;
    let mut st = WalkState {
        want,
        ..WalkState::default()
    };
    loop {
        // Find the next marker (skipping fill bytes). The file may end here: a cut
        // file, or one missing its end marker; what was read decides.
        while data.get(pos).is_some_and(|&b| b != 0xFF) {
            pos += 1;
        }
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else {
            break;
        };
        pos += 1;
        if marker == 0xD9 {
            break;
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            continue;
        }
        let len = match data.get(pos..pos + 2) {
            Some(l) => usize::from(u16::from_be_bytes([l[0], l[1]])),
            None => return cut(why),
        };
        if len < 2 {
            return None; // a length that cannot be
        }
        let Some(seg) = data.get(pos + 2..pos + len) else {
            return cut(why);
        };
        let next = pos + len;
        match marker {
            0xC0..=0xC2 => st.frame(seg, marker == 0xC2, min_long_side, why)?,
            // Lossless, hierarchical and arithmetic frames (DAC, 0xCC, and the
            // reserved 0xC8 are segments like any other).
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return not_handled(why),
            0xC4 => huffman_tables(seg, &mut st.dc_tables, &mut st.ac_tables)?,
            0xDB => quant_tables(seg, &mut st.quant.0)?,
            0xDD => {
                st.restart_interval = usize::from(u16::from_be_bytes([*seg.first()?, *seg.get(1)?]))
            }
            // Adobe APP14: its transform flag says whether 3 components are YCbCr (1) or
            // RGB (0); 4-component (CMYK, YCCK) frames are declined above. A segment cut
            // short of the flag is ignored, as libjpeg ignores it.
            0xEE if seg.starts_with(b"Adobe") => {
                if let Some(&transform) = seg.get(11) {
                    st.rgb = transform == 0;
                }
            }
            0xDA => match st.scan(data, seg, next)? {
                // Nothing after a scan that ran out of data can be trusted.
                ScanEnd::Stop => break,
                ScanEnd::At(end) => {
                    pos = end;
                    continue;
                }
            },
            _ => {} // APPn, COM, DNL...: nothing we need
        }
        pos = next;
    }
    st.finish(why)
}

/// What the walk has read so far.
#[derive(Default)]
struct WalkState {
    /// The quantisation tables, in natural (row-major) order.
    quant: Quant,
    dc_tables: Tables,
    ac_tables: Tables,
    frame: Option<Frame>,
    /// Per component, per block: the quantised DC value << Al, then (when `keep` > 1)
    /// the rest of the block's low `keep` x `keep` corner, row by row.
    dc: Vec<Vec<i32>>,
    /// Coefficients kept per block side: 1 (DC only), 2 or 4.
    keep: usize,
    /// What the caller asked for.
    want: Want,
    /// Per component: its DC values were read.
    have_dc: Vec<bool>,
    restart_interval: usize,
    defect: Option<Defect>,
    /// Three components are RGB, not YCbCr (Adobe APP14).
    rgb: bool,
}

/// The four Huffman table slots of a class (DC or AC).
type Tables = [Option<Rc<Huffman>>; 4];

/// Four quantisation tables, in natural (row-major) order.
struct Quant([[u16; 64]; 4]);

impl Default for Quant {
    fn default() -> Self {
        Self([[0; 64]; 4])
    }
}

/// Where the walk goes on after a scan.
enum ScanEnd {
    /// At this offset (the next marker after the scan's data).
    At(usize),
    /// Nowhere: the scan ran out of data.
    Stop,
}

impl WalkState {
    /// A frame header: the image's size and components, and room for their DC values.
    fn frame(
        &mut self,
        seg: &[u8],
        progressive: bool,
        min_long_side: u32,
        why: &mut Decline,
    ) -> Option<()> {
        // A second frame header before the end of the image: libjpeg refuses it ("two
        // SOF markers"), and so does the walk.
        if self.frame.is_some() {
            return None;
        }
        let f = frame_header(seg, progressive, min_long_side, why)?;
        let (hmax, vmax) = max_sampling(&f.comps);
        let (mcux, mcuy) = (f.w.div_ceil(8 * hmax), f.h.div_ceil(8 * vmax));
        let blocks: usize = f.comps.iter().map(|c| mcux * c.h * mcuy * c.v).sum();
        self.keep = keep_for(&f, self.want, blocks);
        let stride = self.keep * self.keep;
        self.dc = f
            .comps
            .iter()
            .map(|c| vec![0; mcux * c.h * mcuy * c.v * stride])
            .collect();
        self.have_dc = vec![false; f.comps.len()];
        self.frame = Some(f);
        Some(())
    }

    /// A scan header at `seg` whose data starts at `next`: the first DC scan of its
    /// components is decoded; any other scan is only skipped (its header is checked).
    fn scan(&mut self, data: &[u8], seg: &[u8], next: usize) -> Option<ScanEnd> {
        let f = self.frame.as_ref()?;
        let header = scan_header(seg, f, &self.dc_tables, &self.ac_tables)?;
        let (scan, ss, se, ah, al) = (header.comps, header.ss, header.se, header.ah, header.al);
        let dc_first = ss == 0 && ah == 0;
        let mut bits = Bits::new(data, next);
        if dc_first && scan.iter().all(|(i, _, _)| !self.have_dc[*i]) {
            let skip_ac = !f.progressive && se > 0;
            let walk = decode_scan(
                &mut bits,
                &mut self.dc,
                &f.comps,
                (f.w, f.h),
                &scan,
                (&self.dc_tables, &self.ac_tables),
                skip_ac,
                u32::from(al),
                self.restart_interval,
                self.keep,
            )?;
            for (i, _, _) in &scan {
                self.have_dc[*i] = true;
            }
            if let Some(found) = walk.defect() {
                self.defect = worse(self.defect, found);
            }
            if walk.cut || walk.bad_data {
                return Some(ScanEnd::Stop);
            }
        }
        // The scans after the DC ones are not read, only skipped to the next header,
        // whose tables and parameters are checked.
        Some(ScanEnd::At(bits.end_of_scan()))
    }

    /// The image, once the markers are read.
    fn finish(self, why: &mut Decline) -> Option<DcImage> {
        let Frame {
            w,
            h,
            comps,
            progressive,
        } = self.frame?;
        // A damaged image is reported (grey where data is missing); a whole one needs
        // every DC. Scans missing at the end of the data: the caller looks for the end.
        if self.defect.is_none() && !self.have_dc.iter().all(|&d| d) {
            return not_handled(why);
        }
        let mut image = pixels::compose(w, h, &comps, &self.dc, &self.quant.0, self.rgb, self.keep);
        image.defect = self.defect;
        image.progressive = progressive;
        Some(image)
    }
}

/// A frame header (SOF): the image's size, its components, and whether it is
/// progressive.
struct Frame {
    w: usize,
    h: usize,
    comps: Vec<Component>,
    progressive: bool,
}

/// Coefficients to keep per block side for `want`: the fewest (1, 2 or 4) whose image
/// reaches `want.long_side`, if that fits `want.max_bytes`. A progressive frame's AC
/// data comes in later scans, which the walk does not read, and a 4-component one
/// gives no pixels: those keep the DC only.
fn keep_for(f: &Frame, want: Want, blocks: usize) -> usize {
    if f.progressive || f.comps.len() == 4 {
        return 1;
    }
    let long = f.w.max(f.h);
    let Some(keep) = [1usize, 2, 4]
        .into_iter()
        .find(|&k| (long * k).div_ceil(8) as u64 >= u64::from(want.long_side))
    else {
        return 1;
    };
    // The coefficients (4 bytes each), their planes (1 byte each) and the output.
    let need = (blocks * keep * keep * 5 + long * long * keep * keep * 3 / 64) as u64;
    if need > want.max_bytes { 1 } else { keep }
}

/// Reads a frame header; `None` with `why` set for what the walk does not handle,
/// `None` alone for a broken one.
fn frame_header(
    seg: &[u8],
    progressive: bool,
    min_long_side: u32,
    why: &mut Decline,
) -> Option<Frame> {
    // 12-bit samples.
    if *seg.first()? != 8 {
        return not_handled(why);
    }
    let h = usize::from(u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]));
    let w = usize::from(u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]));
    let n = usize::from(*seg.get(5)?);
    // Height 0 (set later by DNL), too large, or 2 or 5+ components.
    if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || !matches!(n, 1 | 3 | 4) {
        return not_handled(why);
    }
    if (w.max(h).div_ceil(8) as u64) < u64::from(min_long_side) {
        return not_handled(why);
    }
    let mut comps = Vec::with_capacity(n);
    for i in 0..n {
        let c = seg.get(6 + i * 3..9 + i * 3)?;
        let (hs, vs) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
        // Sampling factors beyond 4 or a fifth quantisation table: broken.
        if !(1..=4).contains(&hs) || !(1..=4).contains(&vs) || c[2] > 3 {
            return None;
        }
        comps.push(Component {
            id: c[0],
            h: hs,
            v: vs,
            tq: usize::from(c[2]),
        });
    }
    Some(Frame {
        w,
        h,
        comps,
        progressive,
    })
}

/// Reads a DHT segment into the table slots; `None` for a broken one (an
/// over-subscribed table, a class other than DC or AC, a slot past 3).
fn huffman_tables(seg: &[u8], dc_tables: &mut Tables, ac_tables: &mut Tables) -> Option<()> {
    let mut p = 0;
    while p < seg.len() {
        let tc_th = seg[p];
        let counts: [u8; 16] = seg.get(p + 1..p + 17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let table = Huffman::shared(seg.get(p + 1..p + 17 + total)?)?;
        let slot = usize::from(tc_th & 15);
        match tc_th >> 4 {
            0 => *dc_tables.get_mut(slot)? = Some(table),
            1 => *ac_tables.get_mut(slot)? = Some(table),
            _ => return None,
        }
        p += 17 + total;
    }
    Some(())
}

/// Reads a DQT segment into natural order. A table cut short must hold its DC entry
/// (the rest reads as 0).
fn quant_tables(seg: &[u8], quant: &mut [[u16; 64]; 4]) -> Option<()> {
    let mut p = 0;
    while p < seg.len() {
        let pq_tq = seg[p];
        let table = quant.get_mut(usize::from(pq_tq & 15))?;
        let width = if pq_tq >> 4 == 1 { 2 } else { 1 };
        *table = [0; 64];
        for (i, &natural) in UNZIGZAG.iter().enumerate() {
            let at = p + 1 + i * width;
            let value = match seg.get(at..at + width) {
                Some(&[b]) => u16::from(b),
                Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
                _ if i == 0 => return None,
                _ => break,
            };
            table[usize::from(natural)] = value;
        }
        p += 1 + 64 * width;
    }
    Some(())
}

/// The natural (row-major) position of each zigzag index (T.81 figure A.6).
const UNZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Which AC coefficients a walk that keeps a block's low `k` x `k` corner reads.
pub(super) struct LowBand {
    /// For each zigzag index, its place in the kept corner (row by row), or 255.
    pub(super) slot: [u8; 64],
    /// The last zigzag index in the corner: past it, codes are only skipped.
    pub(super) last: u32,
}

const fn low_band(k: usize) -> LowBand {
    let mut slot = [255u8; 64];
    let mut last = 0;
    let mut i = 0;
    while i < 64 {
        let n = UNZIGZAG[i] as usize;
        let (row, col) = (n / 8, n % 8);
        if row < k && col < k {
            slot[i] = (row * k + col) as u8;
            last = i as u32;
        }
        i += 1;
    }
    LowBand { slot, last }
}

/// The 2x2 corner (1/4 scale) and the 4x4 corner (1/2 scale).
static LOW_2: LowBand = low_band(2);
static LOW_4: LowBand = low_band(4);

/// A scan header (SOS): its components as (frame index, DC table, AC table), the
/// spectral band and the successive-approximation bits.
struct ScanHeader {
    comps: Vec<(usize, usize, usize)>,
    ss: u8,
    se: u8,
    ah: u8,
    al: u8,
}

/// Reads and checks a scan header: what libjpeg refuses as "Invalid progressive
/// parameters", and scans naming components or tables never defined, are broken
/// (`None`). Checked for every scan, also those the walk does not read.
fn scan_header(
    seg: &[u8],
    frame: &Frame,
    dc_tables: &Tables,
    ac_tables: &Tables,
) -> Option<ScanHeader> {
    let ns = usize::from(*seg.first()?);
    let mut comps = Vec::with_capacity(ns);
    for i in 0..ns {
        let id = *seg.get(1 + i * 2)?;
        let tables = *seg.get(2 + i * 2)?;
        let index = frame.comps.iter().position(|c| c.id == id)?;
        comps.push((index, usize::from(tables >> 4), usize::from(tables & 15)));
    }
    let ss = *seg.get(1 + ns * 2)?;
    let se = *seg.get(2 + ns * 2)?;
    let ah_al = *seg.get(3 + ns * 2)?;
    let (ah, al) = (ah_al >> 4, ah_al & 15);
    if frame.progressive {
        let bad_band = if ss == 0 {
            se != 0
        } else {
            se < ss || se > 63 || ns != 1
        };
        if bad_band || (ah != 0 && al + 1 != ah) || al > 13 {
            return None;
        }
    } else if ss != 0 || ah != 0 {
        // A sequential scan starts at the DC coefficient and is not a refinement
        // (libjpeg decodes on regardless, into garbage).
        return None;
    }
    let needs_dc = ss == 0 && ah == 0;
    let needs_ac = if frame.progressive { ss > 0 } else { se > 0 };
    let defined = |tables: &Tables, t: usize| tables.get(t).is_some_and(Option::is_some);
    for &(_, td, ta) in &comps {
        if (needs_dc && !defined(dc_tables, td)) || (needs_ac && !defined(ac_tables, ta)) {
            return None;
        }
    }
    Some(ScanHeader {
        comps,
        ss,
        se,
        ah,
        al,
    })
}

fn max_sampling(comps: &[Component]) -> (usize, usize) {
    (
        comps.iter().map(|c| c.h).max().unwrap_or(1),
        comps.iter().map(|c| c.v).max().unwrap_or(1),
    )
}

/// What one scan's walk found.
#[derive(Default)]
struct ScanWalk {
    /// The data ran out before every block was read.
    cut: bool,
    /// Restart intervals with bad or missing data.
    bad: u32,
    /// Restart intervals in the scan (1 without restart markers).
    intervals: u32,
    /// A code in no table, in a scan without restart markers.
    bad_data: bool,
}

impl ScanWalk {
    /// The walk needed more data than the scan had: at the end of the file, the file
    /// is cut; at a marker with more after it, the data before it is bad.
    fn ran_out(&mut self, bits: &Bits<'_>) {
        if bits.pos >= bits.data.len() {
            self.cut = true;
        } else if self.intervals > 1 {
            self.bad = self.bad.saturating_add(1);
        } else {
            self.bad_data = true;
        }
    }

    fn defect(&self) -> Option<Defect> {
        if self.cut {
            Some(Defect::Cut)
        } else if self.bad_data {
            Some(Defect::BadData)
        } else if self.bad > 0 {
            Some(Defect::BadIntervals {
                bad: self.bad.min(self.intervals),
                of: self.intervals,
            })
        } else {
            None
        }
    }
}

/// Decodes one scan's DC values into `dc` (skipping AC codes in baseline scans).
/// At a restart boundary it resynchronises on the next restart marker, so one bad
/// interval costs that interval only. `None`: not for this decoder.
#[allow(clippy::too_many_arguments)]
fn decode_scan(
    bits: &mut Bits<'_>,
    dc: &mut [Vec<i32>],
    comps: &[Component],
    size: (usize, usize),
    scan: &[(usize, usize, usize)],
    (dc_tables, ac_tables): (&Tables, &Tables),
    skip_ac: bool,
    al: u32,
    restart_interval: usize,
    keep: usize,
) -> Option<ScanWalk> {
    let mut pred = vec![0i32; comps.len()];
    let tables: Vec<(&Huffman, Option<&Huffman>)> = scan
        .iter()
        .map(|&(_, td, ta)| {
            let dct: &Huffman = dc_tables.get(td)?.as_ref()?;
            let act: Option<&Huffman> = if skip_ac {
                Some(ac_tables.get(ta)?.as_ref()?)
            } else {
                None
            };
            Some((dct, act))
        })
        .collect::<Option<_>>()?;
    // A sequential scan's AC codes are read for the kept corner, then skipped.
    let low = match keep {
        2 if skip_ac => Some(&LOW_2),
        4 if skip_ac => Some(&LOW_4),
        _ => None,
    };
    let layout = ScanLayout::new(comps, size, scan, keep, low);
    let units = layout.units_x * layout.units_y;
    let mut restarts = Restarts::new(restart_interval);
    let mut walk = ScanWalk {
        intervals: restarts.intervals(units),
        ..ScanWalk::default()
    };
    let ri = restart_interval;
    let mut u = 0usize;
    for uy in 0..layout.units_y {
        for ux in 0..layout.units_x {
            match restarts.at_unit(bits, u, units, &mut pred, &mut walk) {
                Boundary::Decode => {}
                Boundary::Skip => {
                    u += 1;
                    continue;
                }
                Boundary::Stop => return Some(walk),
            }
            // Reading on into a marker or past the end: this data is over.
            if !restarts.interval_bad && bits.at_marker && bits.overran() {
                if ri == 0 {
                    walk.ran_out(bits);
                    return Some(walk);
                }
                restarts.interval_bad = true;
            }
            let result = if restarts.interval_bad {
                Ok(())
            } else {
                layout.decode_unit(bits, dc, &tables, &mut pred, (ux, uy), al)
            };
            match result {
                Ok(()) => {}
                Err(Fault::Decline) => return None,
                Err(Fault::Data) if ri == 0 => {
                    walk.bad_data = true;
                    return Some(walk);
                }
                Err(Fault::Data) => restarts.interval_bad = true,
            }
            if restarts.interval_bad {
                // This unit's blocks carry the predictor on.
                layout.fill_unit(dc, &pred, (ux, uy), al)?;
            }
            u += 1;
            if bits.padding > MAX_PADDING {
                // The data ran out long ago: no need to walk the rest on zeros.
                walk.ran_out(bits);
                return Some(walk);
            }
        }
    }
    if bits.overran() {
        walk.ran_out(bits);
    } else if restarts.interval_bad {
        walk.bad = walk.bad.saturating_add(1);
    }
    Some(walk)
}

/// Decodes one block's DC difference into `slot[0]` (through the component's
/// predictor `pred`) and, in a sequential scan (`act` given), its AC codes: those of
/// the `low` corner into the rest of `slot`, the others only skipped.
#[inline(always)]
fn decode_block(
    bits: &mut Bits<'_>,
    slot: &mut [i32],
    pred: &mut i32,
    (dct, act): (&Huffman, Option<&Huffman>),
    al: u32,
    low: Option<&LowBand>,
) -> Result<(), Fault> {
    let size = bits.symbol(dct).ok_or(Fault::Data)?;
    *pred = pred.wrapping_add(bits.receive_extend(size));
    if let Some(first) = slot.first_mut() {
        *first = pred.wrapping_shl(al);
    }
    match (act, low) {
        (Some(act), None) => skip_ac(bits, act, 1),
        (Some(act), Some(low)) => decode_low(bits, act, slot, low),
        (None, _) => Ok(()),
    }
}

/// A sequential block's AC codes when its low corner is kept: out of the DC-only loop
/// (`inline(never)`), whose code stays as tight as it was (inlined, it made the big
/// photos' walk 14 % slower).
#[inline(never)]
fn decode_low(
    bits: &mut Bits<'_>,
    act: &Huffman,
    slot: &mut [i32],
    low: &LowBand,
) -> Result<(), Fault> {
    let from = read_low(bits, act, slot, low)?;
    skip_ac(bits, act, from)
}

/// The more telling of two defects (a cut explains everything after it).
fn worse(a: Option<Defect>, b: Defect) -> Option<Defect> {
    Some(match (a, b) {
        (Some(Defect::Broken), _) | (_, Defect::Broken) => Defect::Broken,
        (Some(Defect::Cut), _) | (_, Defect::Cut) => Defect::Cut,
        (Some(Defect::BadData), _) | (_, Defect::BadData) => Defect::BadData,
        (
            Some(Defect::BadIntervals { bad: b1, of: o1 }),
            Defect::BadIntervals { bad: b2, of: o2 },
        ) => Defect::BadIntervals {
            bad: b1.saturating_add(b2),
            of: o1.saturating_add(o2),
        },
        (None, b) => b,
    })
}
