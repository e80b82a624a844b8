//! A JPEG decoder that keeps only the DC coefficient of every 8x8 block: exactly the
//! 1/8-scale image (each block's average colour), which is all a 256 px thumbnail of a
//! large photo needs. It still reads every Huffman code of the scan, but skips
//! dequantising, the inverse DCT, upsampling and colour conversion at full size.
//!
//! Supported: 8-bit baseline and extended Huffman (SOF0/SOF1), progressive (SOF2; the
//! first DC scan is enough), 1 or 3 components with any sampling factors, restart
//! markers, interleaved and non-interleaved scans. Anything else (arithmetic coding,
//! 12-bit, lossless, CMYK/Adobe colour transforms, malformed tables) returns `None` and
//! the caller falls back to a full decoder. Malformed input can never panic an index:
//! every access is bounds-checked and the bit reader yields zeros past the end.

/// Larger frames are left to the full decoder path, which reports them as too large.
const MAX_SIDE: usize = crate::thumbs::MAX_SIDE as usize;

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
    /// 1 (grey) or 3 (RGB) bytes per pixel.
    pub(crate) channels: u8,
    pub(crate) pixels: Vec<u8>,
    /// Every DC scan's entropy-coded data covered every block without running out of
    /// bytes (or into a marker too early): for a sequential JPEG, the image is whole.
    pub(crate) complete: bool,
    /// A progressive JPEG: only its DC scans were read, so `complete` says nothing of
    /// the refinement scans after them.
    pub(crate) progressive: bool,
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
    /// For AC tables: (code length + magnitude bits) << 8 | coefficients to advance
    /// (AC_EOB for end-of-block), 0 = not in the fast table. Lets the hot loop skip a
    /// whole coefficient with one lookup.
    ac_skip: Box<[u16; 1 << FAST_BITS]>,
    maxcode: [i32; 18],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

const FAST_BITS: usize = 10;

/// Zero bytes of padding after which a scan's walk stops: the data ended long before.
const MAX_PADDING: u32 = 1024;

/// `Huffman::ac_skip` marker for end-of-block.
const AC_EOB: u16 = 0xFF;

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
        let mut ac_skip = Box::new([0u16; 1 << FAST_BITS]);
        for (slot, &entry) in ac_skip.iter_mut().zip(lookup.iter()) {
            if entry == 0 {
                continue;
            }
            let (len, rs) = (entry >> 8, entry & 0xFF);
            let (run, size) = (rs >> 4, rs & 15);
            let advance = match (run, size) {
                (15, 0) => 16,
                (_, 0) => AC_EOB,
                (run, _) => run + 1,
            };
            *slot = ((len + size) << 8) | advance;
        }
        Some(Self {
            ac_skip,
            lookup,
            maxcode,
            valptr,
            mincode,
            values,
        })
    }
}

/// Bits of one entropy-coded segment, with `FF 00` unstuffed. Stops at any marker.
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
    /// Some segment needed more bits than it had: the data is cut or damaged.
    short: bool,
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
            short: false,
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

    /// Skips to just after the next RST marker (for restart intervals).
    fn restart(&mut self) {
        self.short |= self.overran();
        self.acc = 0;
        self.count = 0;
        self.at_marker = false;
        self.padding = 0;
        while self.pos + 1 < self.data.len() {
            if self.data[self.pos] == 0xFF && (0xD0..=0xD7).contains(&self.data[self.pos + 1]) {
                self.pos += 2;
                return;
            }
            if self.data[self.pos] == 0xFF
                && self.data[self.pos + 1] != 0x00
                && self.data[self.pos + 1] != 0xFF
            {
                return; // some other marker: leave it for the caller
            }
            self.pos += 1;
        }
    }

    /// The byte position after the scan's data: the next marker that is not RST.
    fn end_of_scan(&self) -> usize {
        let mut p = self.pos.saturating_sub(2).min(self.data.len());
        while p + 1 < self.data.len() {
            let (a, b) = (self.data[p], self.data[p + 1]);
            if a == 0xFF && b != 0x00 && b != 0xFF && !(0xD0..=0xD7).contains(&b) {
                return p;
            }
            p += 1;
        }
        self.data.len()
    }
}

/// Decodes the DC image of `data`, or `None` when this decoder does not handle it or
/// when the DC image's long side would be under `min_long_side` (too coarse).
pub(crate) fn decode(data: &[u8], min_long_side: u32) -> Option<DcImage> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    let mut quant = [[0u16; 1]; 4]; // only the DC entry of each table
    let mut dc_tables: [Option<Huffman>; 4] = Default::default();
    let mut ac_tables: [Option<Huffman>; 4] = Default::default();
    let mut frame: Option<(usize, usize, Vec<Component>, bool)> = None; // w, h, comps, progressive
    let mut dc: Vec<Vec<i32>> = Vec::new(); // per component, per block (quantised DC << Al)
    let mut have_dc: Vec<bool> = Vec::new();
    let mut restart_interval = 0usize;
    let mut complete = true;
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
        let len = usize::from(u16::from_be_bytes([*data.get(pos)?, *data.get(pos + 1)?]));
        let seg = data.get(pos + 2..pos + len)?;
        let next = pos + len;
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() || *seg.first()? != 8 {
                    return None;
                }
                let h = usize::from(u16::from_be_bytes([*seg.get(1)?, *seg.get(2)?]));
                let w = usize::from(u16::from_be_bytes([*seg.get(3)?, *seg.get(4)?]));
                let n = usize::from(*seg.get(5)?);
                if w == 0 || h == 0 || w > MAX_SIDE || h > MAX_SIDE || !(n == 1 || n == 3) {
                    return None;
                }
                if (w.max(h).div_ceil(8) as u64) < u64::from(min_long_side) {
                    return None;
                }
                let mut comps = Vec::with_capacity(n);
                for i in 0..n {
                    let c = seg.get(6 + i * 3..9 + i * 3)?;
                    let (hs, vs) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
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
                let (hmax, vmax) = max_sampling(&comps);
                let (mcux, mcuy) = (w.div_ceil(8 * hmax), h.div_ceil(8 * vmax));
                dc = comps
                    .iter()
                    .map(|c| vec![0; mcux * c.h * mcuy * c.v])
                    .collect();
                have_dc = vec![false; n];
                frame = Some((w, h, comps, marker == 0xC2));
            }
            0xC3 | 0xC5..=0xC7 | 0xC8..=0xCF => return None, // lossless, hierarchical, arithmetic
            0xC4 => {
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
            }
            0xDB => {
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
            }
            0xDD => {
                restart_interval = usize::from(u16::from_be_bytes([*seg.first()?, *seg.get(1)?]))
            }
            0xEE => return None, // Adobe APP14: colour transform we do not model
            0xDA => {
                let (w, h, comps, progressive) = frame.as_ref()?;
                let ns = usize::from(*seg.first()?);
                let mut scan = Vec::with_capacity(ns);
                for i in 0..ns {
                    let id = *seg.get(1 + i * 2)?;
                    let tables = *seg.get(2 + i * 2)?;
                    let index = comps.iter().position(|c| c.id == id)?;
                    scan.push((index, usize::from(tables >> 4), usize::from(tables & 15)));
                }
                let ss = *seg.get(1 + ns * 2)?;
                let se = *seg.get(2 + ns * 2)?;
                let ah_al = *seg.get(3 + ns * 2)?;
                let dc_first = ss == 0 && (ah_al >> 4) == 0;
                let mut bits = Bits::new(data, next);
                if dc_first && scan.iter().all(|(i, _, _)| !have_dc[*i]) {
                    let skip_ac = !*progressive && se > 0;
                    decode_scan(
                        &mut bits,
                        &mut dc,
                        comps,
                        (*w, *h),
                        &scan,
                        (&dc_tables, &ac_tables),
                        skip_ac,
                        u32::from(ah_al & 15),
                        restart_interval,
                    )?;
                    for (i, _, _) in &scan {
                        have_dc[*i] = true;
                    }
                    let cut = bits.short || bits.overran();
                    complete &= !cut;
                    if cut {
                        // Nothing after a scan that ran out of data can be trusted.
                        break;
                    }
                }
                pos = bits.end_of_scan();
                // Every DC known and no AC left to skip: stop reading.
                if have_dc.iter().all(|&d| d) && *progressive {
                    break;
                }
                continue;
            }
            _ => {} // APPn, COM, DNL...: nothing we need
        }
        pos = next;
    }
    let (w, h, comps, progressive) = frame?;
    // A cut image is reported (grey where data is missing); a whole one needs every DC.
    if complete && !have_dc.iter().all(|&d| d) {
        return None;
    }
    let mut image = compose(w, h, &comps, &dc, &quant);
    image.complete = complete;
    image.progressive = progressive;
    Some(image)
}

fn max_sampling(comps: &[Component]) -> (usize, usize) {
    (
        comps.iter().map(|c| c.h).max().unwrap_or(1),
        comps.iter().map(|c| c.v).max().unwrap_or(1),
    )
}

/// Decodes one scan's DC values into `dc` (skipping AC codes in baseline scans).
#[allow(clippy::too_many_arguments)]
fn decode_scan(
    bits: &mut Bits<'_>,
    dc: &mut [Vec<i32>],
    comps: &[Component],
    (w, h): (usize, usize),
    scan: &[(usize, usize, usize)],
    (dc_tables, ac_tables): (&[Option<Huffman>; 4], &[Option<Huffman>; 4]),
    skip_ac: bool,
    al: u32,
    restart_interval: usize,
) -> Option<()> {
    let (hmax, vmax) = max_sampling(comps);
    let (mcux, mcuy) = (w.div_ceil(8 * hmax), h.div_ceil(8 * vmax));
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
    let mut decode_block =
        |bits: &mut Bits<'_>, k: usize, block: usize, pred: &mut [i32]| -> Option<()> {
            let (ci, _, _) = scan[k];
            let (dct, act) = tables[k];
            let size = bits.symbol(dct)?;
            pred[ci] = pred[ci].wrapping_add(bits.receive_extend(size));
            *dc[ci].get_mut(block)? = pred[ci].wrapping_shl(al);
            if let Some(act) = act {
                // Hot loop: one refill check per coefficient, then the code and its
                // magnitude bits are skipped without further checks (a refill leaves more
                // than 56 bits; a code takes at most 16 and a magnitude at most 15).
                let mut i = 1;
                while i < 64 {
                    if bits.count < 32 {
                        bits.fill();
                    }
                    let fast = act.ac_skip[(bits.acc >> (64 - FAST_BITS)) as usize];
                    if fast != 0 {
                        // At most 10 code bits + 15 magnitude bits, and 32 are buffered.
                        let n = u32::from(fast >> 8);
                        bits.acc <<= n;
                        bits.count -= n;
                        match fast & 0xFF {
                            AC_EOB => break,
                            advance => i += usize::from(advance),
                        }
                        continue;
                    }
                    let rs = bits.symbol(act)?;
                    let (run, size) = (rs >> 4, rs & 15);
                    if size == 0 {
                        if run != 15 {
                            break;
                        }
                        i += 16;
                    } else {
                        i += usize::from(run) + 1;
                        bits.skip(u32::from(size));
                    }
                }
            }
            Some(())
        };
    let mut done = 0usize;
    if scan.len() == 1 {
        // Non-interleaved: the component's own block grid, not padded to MCUs.
        let (ci, _, _) = scan[0];
        let c = comps[ci];
        let bw = (w * c.h).div_ceil(hmax).div_ceil(8);
        let bh = (h * c.v).div_ceil(vmax).div_ceil(8);
        let stride = mcux * c.h;
        for by in 0..bh {
            for bx in 0..bw {
                if restart_interval > 0 && done > 0 && done.is_multiple_of(restart_interval) {
                    bits.restart();
                    pred.iter_mut().for_each(|p| *p = 0);
                }
                decode_block(bits, 0, by * stride + bx, &mut pred)?;
                done += 1;
                if bits.padding > MAX_PADDING {
                    // The data ran out long ago: no need to walk the rest on zeros.
                    bits.short = true;
                    return Some(());
                }
            }
        }
        return Some(());
    }
    for my in 0..mcuy {
        for mx in 0..mcux {
            if restart_interval > 0 && done > 0 && done.is_multiple_of(restart_interval) {
                bits.restart();
                pred.iter_mut().for_each(|p| *p = 0);
            }
            for (k, &(ci, _, _)) in scan.iter().enumerate() {
                let c = comps[ci];
                let stride = mcux * c.h;
                for v in 0..c.v {
                    for hh in 0..c.h {
                        let block = (my * c.v + v) * stride + mx * c.h + hh;
                        decode_block(bits, k, block, &mut pred)?;
                    }
                }
            }
            done += 1;
            if bits.padding > MAX_PADDING {
                bits.short = true;
                return Some(());
            }
        }
    }
    Some(())
}

/// Turns per-component DC values into pixels: level shift, dequantise, /8, colour.
fn compose(
    w: usize,
    h: usize,
    comps: &[Component],
    dc: &[Vec<i32>],
    quant: &[[u16; 1]; 4],
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
    let channels = if comps.len() == 3 { 3 } else { 1 };
    let mut pixels = Vec::with_capacity(ow * oh * channels);
    let clamp = |v: i64| ((v + (1 << 15)) >> 16).clamp(0, 255) as u8;
    // JFIF YCbCr -> RGB coefficients in 16.16 fixed point.
    const CR_R: i64 = 91_881; // 1.402
    const CB_G: i64 = 22_554; // 0.344136
    const CR_G: i64 = 46_802; // 0.714136
    const CB_B: i64 = 116_130; // 1.772
    for y in 0..oh {
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
        complete: true,
        progressive: false,
    }
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
        let ours = decode(data, 1).unwrap_or_else(|| panic!("{name}: not decoded"));
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
    fn unsupported_variants_fall_back() {
        let cmyk: Vec<u8> = picture(64, 64)
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 10])
            .collect();
        let mut out = Vec::new();
        Encoder::new(&mut out, 90)
            .encode(&cmyk, 64, 64, ColorType::Cmyk)
            .expect("encode");
        assert!(decode(&out, 1).is_none(), "CMYK");
        let small = encode(100, 100, |_| {}, ColorType::Rgb);
        assert!(
            decode(&small, 256).is_none(),
            "too small for a 256 px thumbnail"
        );
        assert!(decode(b"not a jpeg", 1).is_none());
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
