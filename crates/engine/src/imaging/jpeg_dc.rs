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
    /// ceil(full width / 8).
    pub(crate) width: u32,
    /// ceil(full height / 8).
    pub(crate) height: u32,
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

/// A Huffman table as canonical code ranges per length (ITU T.81 F.2.2.3), with a
/// 9-bit lookahead table for the common short codes.
#[derive(Clone)]
struct Huffman {
    lookup: Box<[u16; 1 << FAST_BITS]>, // (length << 8) | symbol, 0 = not in the fast table
    /// For AC tables: up to two coefficients to skip per lookup of the next
    /// [`PAIR_BITS`] bits (see [`Huffman::pairs`]); made on first use.
    ac_pairs: std::cell::OnceCell<Box<[u32; 1 << PAIR_BITS]>>,
    maxcode: [i32; 18],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

const FAST_BITS: usize = 10;

/// Zero bytes of padding after which a scan's walk stops: the data ended long before.
const MAX_PADDING: u32 = 1024;

/// Bits looked at per step of the AC-skipping loop.
const PAIR_BITS: usize = 12;

/// In a [`Huffman::pairs`] entry: the advance that means end-of-block.
const PAIR_EOB: u32 = 63;
/// In a [`Huffman::pairs`] entry: a second coefficient is there.
const PAIR_TWO: u32 = 1 << 23;

impl Huffman {
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Option<Self> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || total != values.len() {
            return None;
        }
        let mut maxcode = [-1i32; 18];
        let mut valptr = [0i32; 17];
        let mut mincode = [0i32; 17];
        let mut lookup = Box::new([0u16; 1 << FAST_BITS]);
        let mut code: i32 = 0;
        let mut k: i32 = 0;
        for len in 1..=16usize {
            let n = i32::from(counts[len - 1]);
            // Validate before filling the table: `counts[0] = 3` (three 1-bit codes)
            // would index past it.
            if code + n > (1 << len) {
                return None; // over-subscribed: not a valid prefix code
            }
            if n > 0 {
                valptr[len] = k;
                mincode[len] = code;
                for i in 0..n {
                    let symbol = values[(k + i) as usize];
                    if len <= FAST_BITS {
                        let c = (code + i) as usize;
                        let shift = FAST_BITS - len;
                        for fill in 0..(1usize << shift) {
                            lookup[(c << shift) | fill] = ((len as u16) << 8) | u16::from(symbol);
                        }
                    }
                }
                code += n;
                k += n;
                maxcode[len] = code - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        Some(Self {
            ac_pairs: std::cell::OnceCell::new(),
            lookup,
            maxcode,
            valptr,
            mincode,
            values,
        })
    }
}

impl Huffman {
    /// The code at the top of `avail` bits of `bits` (length, symbol), if one of at most
    /// `avail` bits is there.
    fn prefix(&self, bits: u32, avail: usize) -> Option<(usize, u8)> {
        (1..=avail.min(16)).find_map(|len| {
            let code = (bits >> (avail - len)) as i32;
            (code <= self.maxcode[len]).then(|| {
                let idx = usize::try_from(self.valptr[len] + code - self.mincode[len]).ok()?;
                self.values.get(idx).map(|&symbol| (len, symbol))
            })?
        })
    }

    /// The AC-skipping table: for every value of the next [`PAIR_BITS`] bits, the first
    /// coefficient's advance (1-16, or [`PAIR_EOB`]) in bits 0-5 and its bits (code and
    /// magnitude) in bits 6-10; when a second coefficient's code also lies within those
    /// bits, [`PAIR_TWO`], its advance in bits 11-16, and both coefficients' bits in
    /// bits 17-22. 0: the first code is longer than [`PAIR_BITS`] (the slow path).
    fn pairs(&self) -> &[u32; 1 << PAIR_BITS] {
        self.ac_pairs.get_or_init(|| {
            // A coefficient: (code + magnitude bits, advance).
            let step = |len: usize, rs: u8| -> (u32, u32) {
                let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
                let advance = match (run, size) {
                    (15, 0) => 16,
                    (_, 0) => PAIR_EOB,
                    (run, _) => run + 1,
                };
                (len as u32 + size, advance)
            };
            let mut table = Box::new([0u32; 1 << PAIR_BITS]);
            for (window, slot) in (0u32..).zip(table.iter_mut()) {
                let Some((len1, rs1)) = self.prefix(window, PAIR_BITS) else {
                    continue;
                };
                let (n1, adv1) = step(len1, rs1);
                *slot = adv1 | (n1 << 6);
                let used = n1 as usize;
                if adv1 == PAIR_EOB || used >= PAIR_BITS {
                    continue;
                }
                let rest = window & ((1 << (PAIR_BITS - used)) - 1);
                if let Some((len2, rs2)) = self.prefix(rest, PAIR_BITS - used) {
                    let (n2, adv2) = step(len2, rs2);
                    *slot |= PAIR_TWO | (adv2 << 11) | ((n1 + n2) << 17);
                }
            }
            table
        })
    }
}

/// Bits of one entropy-coded segment, with `FF 00` unstuffed. Stops at any marker.
/// What [`Bits::resync`] found.
struct Resync {
    /// Intervals with no data before the marker found; `None`: no restart marker
    /// follows, the scan's data is over.
    missing: Option<u32>,
    /// Bytes that are no valid part of a scan were skipped on the way.
    junk: bool,
    /// The number of the restart marker expected after the one found.
    next: u8,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    acc: u64,
    count: u32,
    /// A marker (`FF xx`, xx != 0) was reached at `pos`.
    at_marker: bool,
    /// Zero bytes fed in after the data of this segment ended (at a marker or the end
    /// of the file).
    padding: u32,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            acc: 0,
            count: 0,
            at_marker: false,
            padding: 0,
        }
    }

    /// True when more than a byte's worth of the fed-in padding has been consumed as
    /// if it were data (a whole segment never needs any).
    fn overran(&self) -> bool {
        (self.padding * 8).saturating_sub(self.count) > 7
    }

    fn fill(&mut self) {
        // Fast path: the next 8 bytes hold no 0xFF (no stuffing, no marker), so take as
        // many whole bytes as fit in one go.
        if !self.at_marker
            && let Some(next) = self.data.get(self.pos..self.pos + 8)
            && let Ok(next) = <[u8; 8]>::try_from(next)
        {
            let x = u64::from_be_bytes(next);
            let y = !x; // a 0xFF byte in x is a zero byte in y
            let has_ff = y.wrapping_sub(0x0101_0101_0101_0101) & !y & 0x8080_8080_8080_8080 != 0;
            let take = (64u32.saturating_sub(self.count) / 8).min(8);
            if !has_ff && take > 0 {
                let v = if take == 8 { x } else { x >> (64 - 8 * take) };
                self.acc |= v << (64 - self.count - 8 * take);
                self.count += 8 * take;
                self.pos += take as usize;
                return;
            }
        }
        while self.count <= 56 {
            let mut byte = 0u8;
            if !self.at_marker {
                match self.data.get(self.pos) {
                    Some(0xFF) => match self.data.get(self.pos + 1) {
                        Some(0x00) => {
                            byte = 0xFF;
                            self.pos += 2;
                        }
                        _ => self.at_marker = true,
                    },
                    Some(&b) => {
                        byte = b;
                        self.pos += 1;
                    }
                    None => self.at_marker = true,
                }
            }
            if self.at_marker {
                self.padding = self.padding.saturating_add(1);
            }
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.fill();
        }
        (self.acc >> (64 - n)) as u32
    }

    fn skip(&mut self, n: u32) {
        self.acc <<= n;
        self.count = self.count.saturating_sub(n);
    }

    fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let v = self.peek(n);
        self.skip(n);
        v
    }

    /// Decodes one Huffman symbol; `None` for a code not in the table.
    fn symbol(&mut self, table: &Huffman) -> Option<u8> {
        let window = self.peek(16) as i32;
        let fast = table.lookup[(window >> (16 - FAST_BITS)) as usize];
        if fast != 0 {
            self.skip(u32::from(fast >> 8));
            return Some((fast & 0xFF) as u8);
        }
        for len in FAST_BITS + 1..=16 {
            let code = window >> (16 - len);
            if code <= table.maxcode[len] {
                self.skip(len as u32);
                let idx = table.valptr[len] + code - table.mincode[len];
                return table.values.get(usize::try_from(idx).ok()?).copied();
            }
        }
        None
    }

    /// A `size`-bit magnitude category value, sign-extended (T.81 F.2.2.1 EXTEND).
    fn receive_extend(&mut self, size: u8) -> i32 {
        if size == 0 || size > 16 {
            return 0;
        }
        let v = self.bits(u32::from(size)) as i32;
        if v < (1 << (size - 1)) {
            v - (1 << size) + 1
        } else {
            v
        }
    }

    /// At a restart boundary: finds restart marker `expected` (0-7) the way libjpeg's
    /// `jpeg_resync_to_restart` does, and resumes reading just after it. Returns how
    /// many intervals have no data (0 when the marker is the expected one), or `None`
    /// when a real marker or the end of the file comes first (the scan's data ended).
    fn resync(&mut self, expected: u8) -> Resync {
        self.acc = 0;
        self.count = 0;
        self.at_marker = false;
        self.padding = 0;
        let mut junk = false;
        let over = |junk| Resync {
            missing: None,
            junk,
            next: expected,
        };
        loop {
            let Some(at) = next_marker(self.data, self.pos, |_| true) else {
                self.pos = self.data.len();
                return over(junk);
            };
            let marker = self.data[at + 1];
            self.pos = at + 2;
            match marker {
                0xD0..=0xD7 => {
                    let found = marker - 0xD0;
                    let next = (found + 1) & 7;
                    let missing = match found.wrapping_sub(expected) & 7 {
                        0 => 0,
                        // One of the next two: the intervals before it have no data.
                        ahead @ (1 | 2) => u32::from(ahead),
                        // An earlier one (a stray copy): look further.
                        6 | 7 => {
                            junk = true;
                            continue;
                        }
                        // Too far off to place: taken as the expected one.
                        _ => 0,
                    };
                    let junk = junk || found != expected;
                    return Resync {
                        missing: Some(missing),
                        junk,
                        next,
                    };
                }
                // A real marker: the scan's data is over.
                0xC0..=0xFE => {
                    self.pos = at;
                    return over(junk);
                }
                // Not a marker at all (FF 9F, FF 01...): corrupt data.
                _ => junk = true,
            }
        }
    }

    /// The byte position after the scan's data: the next marker that is not RST.
    fn end_of_scan(&self) -> usize {
        let from = self.pos.saturating_sub(2);
        next_marker(self.data, from, |m| !(0xD0..=0xD7).contains(&m)).unwrap_or(self.data.len())
    }
}

/// The position of the first marker at or after `from` (`FF` then a byte other than
/// `00`, a stuffed data byte, or `FF`, a fill byte) whose code `wanted` accepts.
/// memchr: a progressive file's AC scans are skipped at memory speed.
fn next_marker(data: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    let from = from.min(data.len());
    memchr::memchr_iter(0xFF, &data[from..])
        .map(|i| from + i)
        .find(|&p| {
            data.get(p + 1)
                .is_some_and(|&b| b != 0x00 && b != 0xFF && wanted(b))
        })
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
    walk(data, min_long_side, &mut why).ok_or(why)
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
fn walk(data: &[u8], min_long_side: u32, why: &mut Decline) -> Option<DcImage> {
    if data.get(..2) != Some(&[0xFF, 0xD8][..]) {
        return not_handled(why);
    }
    let mut pos = 2;
    let mut st = WalkState::default();
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
            0xDB => quant_tables(seg, &mut st.quant)?,
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
    /// Only the DC entry of each quantisation table.
    quant: [[u16; 1]; 4],
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    frame: Option<Frame>,
    /// Per component, per block: the quantised DC value << Al.
    dc: Vec<Vec<i32>>,
    /// Per component: its DC values were read.
    have_dc: Vec<bool>,
    restart_interval: usize,
    defect: Option<Defect>,
    /// Three components are RGB, not YCbCr (Adobe APP14).
    rgb: bool,
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
        self.dc = f
            .comps
            .iter()
            .map(|c| vec![0; mcux * c.h * mcuy * c.v])
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
        let mut image = compose(w, h, &comps, &self.dc, &self.quant, self.rgb);
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
fn huffman_tables(
    seg: &[u8],
    dc_tables: &mut [Option<Huffman>; 4],
    ac_tables: &mut [Option<Huffman>; 4],
) -> Option<()> {
    let mut p = 0;
    while p < seg.len() {
        let tc_th = seg[p];
        let counts: [u8; 16] = seg.get(p + 1..p + 17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = seg.get(p + 17..p + 17 + total)?.to_vec();
        let table = Huffman::new(&counts, values)?;
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

/// Reads a DQT segment: only each table's DC entry is needed.
fn quant_tables(seg: &[u8], quant: &mut [[u16; 1]; 4]) -> Option<()> {
    let mut p = 0;
    while p < seg.len() {
        let pq_tq = seg[p];
        let slot = usize::from(pq_tq & 15);
        let sixteen = pq_tq >> 4 == 1;
        let first = if sixteen {
            u16::from_be_bytes([*seg.get(p + 1)?, *seg.get(p + 2)?])
        } else {
            u16::from(*seg.get(p + 1)?)
        };
        *quant.get_mut(slot)? = [first];
        p += 1 + if sixteen { 128 } else { 64 };
    }
    Some(())
}

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
    dc_tables: &[Option<Huffman>; 4],
    ac_tables: &[Option<Huffman>; 4],
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
    let defined =
        |tables: &[Option<Huffman>; 4], t: usize| tables.get(t).is_some_and(Option::is_some);
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

/// Why a block could not be decoded.
enum Fault {
    /// A code that is in no table: the data is damaged.
    Data,
    /// Something this decoder does not handle: the caller falls back.
    Decline,
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
    (dc_tables, ac_tables): (&[Option<Huffman>; 4], &[Option<Huffman>; 4]),
    skip_ac: bool,
    al: u32,
    restart_interval: usize,
) -> Option<ScanWalk> {
    let mut pred = vec![0i32; comps.len()];
    let tables: Vec<(&Huffman, Option<&Huffman>)> = scan
        .iter()
        .map(|&(_, td, ta)| {
            let dct = dc_tables.get(td)?.as_ref()?;
            let act = if skip_ac {
                Some(ac_tables.get(ta)?.as_ref()?)
            } else {
                None
            };
            Some((dct, act))
        })
        .collect::<Option<_>>()?;
    let layout = ScanLayout::new(comps, size, scan);
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

/// Decodes one block's DC difference into `slot` (through the component's predictor
/// `pred`) and, in a sequential scan (`act` given), skips its AC codes.
#[inline(always)]
fn decode_block(
    bits: &mut Bits<'_>,
    slot: &mut i32,
    pred: &mut i32,
    (dct, act): (&Huffman, Option<&Huffman>),
    al: u32,
) -> Result<(), Fault> {
    let size = bits.symbol(dct).ok_or(Fault::Data)?;
    *pred = pred.wrapping_add(bits.receive_extend(size));
    *slot = pred.wrapping_shl(al);
    match act {
        Some(act) => skip_ac(bits, act),
        None => Ok(()),
    }
}

/// Skips one block's 63 AC coefficients. Hot loop: one refill check per step, then up
/// to two coefficients (codes and magnitude bits) skipped with one lookup of
/// [`Huffman::pairs`] (a refill leaves more than 56 bits; a step takes at most 12 bits
/// of codes plus 15 of magnitude). The second coefficient of a pair is taken only when
/// the first leaves the block unfinished, so a step never runs into the next block.
#[inline(always)]
fn skip_ac(bits: &mut Bits<'_>, act: &Huffman) -> Result<(), Fault> {
    let pairs = act.pairs();
    let mut i = 1u32;
    while i < 64 {
        if bits.count < 32 {
            bits.fill();
        }
        let entry = pairs[(bits.acc >> (64 - PAIR_BITS)) as usize];
        if entry != 0 {
            let adv1 = entry & 63;
            if entry & PAIR_TWO != 0 && adv1 != PAIR_EOB && i + adv1 < 64 {
                let n = (entry >> 17) & 63;
                bits.acc <<= n;
                bits.count -= n;
                match (entry >> 11) & 63 {
                    PAIR_EOB => break,
                    adv2 => i += adv1 + adv2,
                }
            } else {
                let n = (entry >> 6) & 31;
                bits.acc <<= n;
                bits.count -= n;
                match adv1 {
                    PAIR_EOB => break,
                    adv => i += adv,
                }
            }
            continue;
        }
        let rs = bits.symbol(act).ok_or(Fault::Data)?;
        let (run, size) = (rs >> 4, rs & 15);
        if size == 0 {
            if run != 15 {
                break;
            }
            i += 16;
        } else {
            i += u32::from(run) + 1;
            bits.skip(u32::from(size));
        }
    }
    Ok(())
}

/// Where a scan's blocks are. Its units are blocks of its one component's own grid (not
/// padded to MCUs) when it is not interleaved, else MCUs.
struct ScanLayout<'a> {
    comps: &'a [Component],
    scan: &'a [(usize, usize, usize)],
    single: bool,
    /// MCUs per row of the frame.
    mcux: usize,
    units_x: usize,
    units_y: usize,
    /// Each unit's blocks as (scan component, offset from the unit's first block in its
    /// component's grid).
    blocks: Vec<(usize, usize)>,
}

impl<'a> ScanLayout<'a> {
    fn new(
        comps: &'a [Component],
        (w, h): (usize, usize),
        scan: &'a [(usize, usize, usize)],
    ) -> Self {
        let (hmax, vmax) = max_sampling(comps);
        let (mcux, mcuy) = (w.div_ceil(8 * hmax), h.div_ceil(8 * vmax));
        let single = scan.len() == 1;
        let (units_x, units_y) = if single {
            let c = comps[scan[0].0];
            (
                (w * c.h).div_ceil(hmax).div_ceil(8),
                (h * c.v).div_ceil(vmax).div_ceil(8),
            )
        } else {
            (mcux, mcuy)
        };
        let mut blocks = Vec::new();
        for (k, &(ci, _, _)) in scan.iter().enumerate() {
            let c = comps[ci];
            let (bh, bv) = if single { (1, 1) } else { (c.h, c.v) };
            for v in 0..bv {
                for hh in 0..bh {
                    blocks.push((k, v * mcux * c.h + hh));
                }
            }
        }
        Self {
            comps,
            scan,
            single,
            mcux,
            units_x,
            units_y,
            blocks,
        }
    }

    /// Decodes the blocks of unit (ux, uy).
    #[inline(always)]
    fn decode_unit(
        &self,
        bits: &mut Bits<'_>,
        dc: &mut [Vec<i32>],
        tables: &[(&Huffman, Option<&Huffman>)],
        pred: &mut [i32],
        (ux, uy): (usize, usize),
        al: u32,
    ) -> Result<(), Fault> {
        for &(k, offset) in &self.blocks {
            let ci = self.scan[k].0;
            let slot = dc[ci]
                .get_mut(self.origin(k, ux, uy) + offset)
                .ok_or(Fault::Decline)?;
            decode_block(bits, slot, &mut pred[ci], tables[k], al)?;
        }
        Ok(())
    }

    /// Gives the blocks of unit (ux, uy) the predictors' values (a bad interval).
    fn fill_unit(
        &self,
        dc: &mut [Vec<i32>],
        pred: &[i32],
        (ux, uy): (usize, usize),
        al: u32,
    ) -> Option<()> {
        for &(k, offset) in &self.blocks {
            let ci = self.scan[k].0;
            *dc[ci].get_mut(self.origin(k, ux, uy) + offset)? = pred[ci].wrapping_shl(al);
        }
        Some(())
    }

    /// The first block of unit (ux, uy) of scan component k.
    #[inline(always)]
    fn origin(&self, k: usize, ux: usize, uy: usize) -> usize {
        let c = self.comps[self.scan[k].0];
        if self.single {
            uy * self.mcux * c.h + ux
        } else {
            uy * c.v * self.mcux * c.h + ux * c.h
        }
    }
}

/// What to do with a unit after its restart boundary (if it starts an interval).
enum Boundary {
    /// Decode it.
    Decode,
    /// It has no data (its interval was lost with its marker).
    Skip,
    /// The scan is over: `walk` says how.
    Stop,
}

/// The restart intervals of a scan as the walk goes through them.
struct Restarts {
    /// Units per interval (0: no restart markers).
    ri: usize,
    expected_rst: u8,
    /// The current interval went bad: the rest of it carries the predictor on (the
    /// colour before the bad stretch, as libjpeg's zero-filled blocks show).
    interval_bad: bool,
    /// Units before this one have no data (intervals lost with their markers).
    skip_to: usize,
}

impl Restarts {
    fn new(ri: usize) -> Self {
        Self {
            ri,
            expected_rst: 0,
            interval_bad: false,
            skip_to: 0,
        }
    }

    /// Intervals in a scan of `units` units.
    fn intervals(&self, units: usize) -> u32 {
        if self.ri > 0 {
            u32::try_from(units.div_ceil(self.ri)).unwrap_or(u32::MAX)
        } else {
            1
        }
    }

    /// Before unit `u`: at an interval boundary, finds the restart marker, counts the
    /// interval that ended if it was bad, and resets the predictors.
    fn at_unit(
        &mut self,
        bits: &mut Bits<'_>,
        u: usize,
        units: usize,
        pred: &mut [i32],
        walk: &mut ScanWalk,
    ) -> Boundary {
        let ri = self.ri;
        if u < self.skip_to {
            return Boundary::Skip;
        }
        // (At `skip_to` the marker that starts it has been read already.)
        if ri == 0 || u == 0 || !u.is_multiple_of(ri) || u == self.skip_to {
            return Boundary::Decode;
        }
        let found = bits.resync(self.expected_rst);
        if self.interval_bad || found.junk {
            walk.bad = walk.bad.saturating_add(1);
        }
        self.interval_bad = false;
        pred.iter_mut().for_each(|p| *p = 0);
        let Some(missing) = found.missing else {
            if bits.pos < bits.data.len() {
                // Another marker came first: the intervals left have no data (the file
                // goes on, so it is not cut).
                let left = u32::try_from(units.div_ceil(ri) - u / ri).unwrap_or(u32::MAX);
                walk.bad = walk.bad.saturating_add(left);
            } else {
                walk.cut = true;
            }
            return Boundary::Stop;
        };
        // Numbered on from the marker found: after a bad stretch that put the numbering
        // out of step (libjpeg warns at every marker from then on), the next marker is
        // expected in step again.
        self.expected_rst = found.next;
        if missing > 0 {
            // The intervals in between have no data: they stay grey.
            walk.bad = walk.bad.saturating_add(missing);
            self.skip_to = u.saturating_add(missing as usize * ri);
            return Boundary::Skip;
        }
        Boundary::Decode
    }
}

/// Turns per-component DC values into pixels: level shift, dequantise, /8, colour.
fn compose(
    w: usize,
    h: usize,
    comps: &[Component],
    dc: &[Vec<i32>],
    quant: &[[u16; 1]; 4],
    rgb: bool,
) -> DcImage {
    let (hmax, vmax) = max_sampling(comps);
    let mcux = w.div_ceil(8 * hmax);
    let (ow, oh) = (w.div_ceil(8), h.div_ceil(8));
    // Fixed point, 16 fractional bits: value = DC * q / 8 + 128.
    let sample = |ci: usize, x: usize, y: usize| -> i64 {
        let c = comps[ci];
        let bx = x * c.h / hmax;
        let by = y * c.v / vmax;
        let q = i64::from(quant[c.tq][0]);
        let coef = i64::from(dc[ci].get(by * mcux * c.h + bx).copied().unwrap_or(0));
        // Real DC values are within ±2^15; clamping keeps mangled ones from overflowing.
        ((coef * q).clamp(-(1 << 24), 1 << 24) << 13) + (128 << 16)
    };
    if comps.len() == 4 {
        // CMYK or YCCK: walked to judge the data, but not turned into colours here.
        return DcImage {
            width: ow as u32,
            height: oh as u32,
            channels: 0,
            pixels: Vec::new(),
            defect: None,
            progressive: false,
        };
    }
    let channels = if comps.len() == 3 { 3 } else { 1 };
    let mut pixels = Vec::with_capacity(ow * oh * channels);
    let clamp = |v: i64| ((v + (1 << 15)) >> 16).clamp(0, 255) as u8;
    // JFIF YCbCr -> RGB coefficients in 16.16 fixed point.
    const CR_R: i64 = 91_881; // 1.402
    const CB_G: i64 = 22_554; // 0.344136
    const CR_G: i64 = 46_802; // 0.714136
    const CB_B: i64 = 116_130; // 1.772
    if rgb && channels == 3 {
        for y in 0..oh {
            for x in 0..ow {
                pixels.extend([
                    clamp(sample(0, x, y)),
                    clamp(sample(1, x, y)),
                    clamp(sample(2, x, y)),
                ]);
            }
        }
    }
    for y in 0..if rgb && channels == 3 { 0 } else { oh } {
        for x in 0..ow {
            let yy = sample(0, x, y);
            if channels == 1 {
                pixels.push(clamp(yy));
            } else {
                // Samples are clamped to ±2^37, so these products stay inside i64.
                let cb = sample(1, x, y) - (128 << 16);
                let cr = sample(2, x, y) - (128 << 16);
                pixels.push(clamp(yy + ((CR_R * cr) >> 16)));
                pixels.push(clamp(yy - ((CB_G * cb + CR_G * cr) >> 16)));
                pixels.push(clamp(yy + ((CB_B * cb) >> 16)));
            }
        }
    }
    DcImage {
        width: ow as u32,
        height: oh as u32,
        channels: channels as u8,
        pixels,
        defect: None,
        progressive: false,
    }
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

#[cfg(test)]
mod tests {
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

    /// The reference: jpeg-decoder's own 1/8-scale decode.
    fn reference(data: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(data));
        d.read_info().expect("info");
        let info = d.info().expect("info");
        d.scale(info.width.div_ceil(8), info.height.div_ceil(8))
            .expect("scale");
        let px = d.decode().expect("decode");
        let info = d.info().expect("info");
        (u32::from(info.width), u32::from(info.height), px)
    }

    fn assert_matches_reference(name: &str, data: &[u8]) {
        let ours = decode(data, 1).unwrap_or_else(|e| panic!("{name}: not decoded: {e:?}"));
        let (w, h, theirs) = reference(data);
        assert_eq!((ours.width, ours.height), (w, h), "{name}");
        assert_eq!(ours.pixels.len(), theirs.len(), "{name}");
        let diff: u64 = ours
            .pixels
            .iter()
            .zip(&theirs)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = diff as f64 / ours.pixels.len() as f64;
        // Chroma is upsampled differently (nearest here, smoothed there), so colour may
        // differ a little; brightness must agree closely.
        assert!(
            mean < 5.0,
            "{name}: mean difference {mean:.2} from the reference"
        );
        if ours.channels == 3 {
            let luma = |p: &[u8]| {
                0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
            };
            let luma_diff: f64 = ours
                .pixels
                .chunks(3)
                .zip(theirs.chunks(3))
                .map(|(a, b)| (luma(a) - luma(b)).abs())
                .sum::<f64>()
                / (ours.pixels.len() / 3) as f64;
            assert!(
                luma_diff < 1.5,
                "{name}: mean brightness difference {luma_diff:.2}"
            );
        }
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

    #[test]
    fn a_bad_restart_interval_costs_that_interval_only() {
        // 640x480 4:2:0, a restart marker every 10 MCUs: 1200 MCUs, 120 intervals.
        let good = encode(
            640,
            480,
            |e| {
                e.set_sampling_factor(SamplingFactor::R_4_2_0);
                e.set_restart_interval(10);
            },
            ColorType::Rgb,
        );
        let (_, _, theirs) = reference(&good);
        let rst = restart_markers(&good);
        assert_eq!(rst.len(), 119);
        let whole = decode(&good, 1).expect("decoded");
        assert_eq!(whole.defect, None);

        // As in jpeg-decoder's imagetestsuite/7997b….jpg: two bytes of an interval's
        // data became `FF AE`, which is no marker at all. libjpeg skips to the next
        // restart marker; so does the walk.
        let mut stray = good.clone();
        let at = (rst[40] + rst[41]) / 2;
        stray[at] = 0xFF;
        stray[at + 1] = 0xAE;
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
        let (w, h, _) = reference(&with_app14(0));
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
            }
        }
    }
}
