//! The entropy-coded data of a JPEG scan: Huffman tables (with the lookahead tables
//! the walk's hot loop uses) and the bit reader, which unstuffs `FF 00`, stops at
//! markers and resynchronises on restart markers.

use std::cell::RefCell;
use std::rc::Rc;

use super::LowBand;

/// A Huffman table as canonical code ranges per length (ITU T.81 F.2.2.3), with a
/// 9-bit lookahead table for the common short codes.
#[derive(Clone)]
pub(super) struct Huffman {
    lookup: Box<[u16; 1 << FAST_BITS]>, // (length << 8) | symbol, 0 = not in the fast table
    /// For AC tables: up to [`SKIP_MAX`] coefficients to skip per lookup of the next
    /// [`SKIP_BITS`] bits (see [`Huffman::skips`]); made on first use.
    ac_skips: std::cell::OnceCell<Box<[u32; 1 << SKIP_BITS]>>,
    /// For AC tables: each coefficient whose code and magnitude fit in the next
    /// [`FAST_BITS`] bits, decoded (see [`Huffman::values`]); made on first use.
    ac_values: std::cell::OnceCell<Box<[i32; 1 << FAST_BITS]>>,
    maxcode: [i32; 18],
    valptr: [i32; 17],
    mincode: [i32; 17],
    values: Vec<u8>,
}

pub(super) const FAST_BITS: usize = 10;

/// In a [`Huffman::values`] entry: end of block.
pub(super) const VALUE_EOB: i32 = 1 << 9;

/// A `size`-bit magnitude category value `v`, sign-extended (T.81 F.2.2.1 EXTEND).
fn extend(v: i32, size: u32) -> i32 {
    if v < (1 << (size - 1)) {
        v - (1 << size) + 1
    } else {
        v
    }
}

/// Zero bytes of padding after which a scan's walk stops: the data ended long before.
pub(super) const MAX_PADDING: u32 = 1024;

/// Bits looked at per step of the AC-skipping loop.
pub(super) const SKIP_BITS: usize = 12;

/// In a [`Huffman::skips`] entry: the advance that means end-of-block.
pub(super) const SKIP_EOB: u32 = 63;
/// The most coefficients one [`Huffman::skips`] entry skips (their advances must fit
/// its 7 bits: 3 x 16 + [`SKIP_EOB`]).
const SKIP_MAX: usize = 4;

thread_local! {
    /// The Huffman tables last built on this thread, by their DHT bytes: most files
    /// carry their encoder's standard tables, whose lookahead tables are then built
    /// once, not for every file.
    static RECENT: RefCell<Recent> = const { RefCell::new(Vec::new()) };
}

/// Tables by the DHT bytes that define them, the last used first.
type Recent = Vec<(Box<[u8]>, Rc<Huffman>)>;

/// Tables kept in [`RECENT`].
const RECENT_TABLES: usize = 8;

impl Huffman {
    /// The table a DHT entry (`spec`: 16 code counts, then the symbols) defines, shared
    /// with earlier files that had the same one; `None` for one no encoder can write.
    pub(super) fn shared(spec: &[u8]) -> Option<Rc<Self>> {
        RECENT.with_borrow_mut(|recent| {
            if let Some(at) = recent.iter().position(|(known, _)| **known == *spec) {
                let hit = recent.remove(at);
                let table = Rc::clone(&hit.1);
                recent.insert(0, hit);
                return Some(table);
            }
            let counts: &[u8; 16] = spec.get(..16)?.try_into().ok()?;
            let table = Rc::new(Self::new(counts, spec.get(16..)?.to_vec())?);
            recent.insert(0, (spec.into(), Rc::clone(&table)));
            recent.truncate(RECENT_TABLES);
            Some(table)
        })
    }

    pub(super) fn new(counts: &[u8; 16], values: Vec<u8>) -> Option<Self> {
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
            ac_skips: std::cell::OnceCell::new(),
            ac_values: std::cell::OnceCell::new(),
            lookup,
            maxcode,
            valptr,
            mincode,
            values,
        })
    }
}

impl Huffman {
    /// The AC value table: for every value of the next [`FAST_BITS`] bits whose
    /// coefficient (code and magnitude bits) lies within them, the bits it takes in
    /// bits 0-4, its zero run in bits 5-8, [`VALUE_EOB`] for end-of-block, and its
    /// value in bits 16-31. 0: the slow path.
    pub(super) fn values(&self) -> &[i32; 1 << FAST_BITS] {
        self.ac_values.get_or_init(|| {
            let mut table = Box::new([0i32; 1 << FAST_BITS]);
            for (window, (slot, &fast)) in table.iter_mut().zip(self.lookup.iter()).enumerate() {
                if fast == 0 {
                    continue;
                }
                let len = usize::from(fast >> 8);
                let (run, size) = (i32::from((fast >> 4) & 15), usize::from(fast & 15));
                if size == 0 {
                    // End of block, or a run of 16 zeros (ZRL: 15, then a zero).
                    let eob = if run == 0 { VALUE_EOB } else { 0 };
                    *slot = len as i32 | (run << 5) | eob;
                } else if len + size <= FAST_BITS {
                    let bits = (window >> (FAST_BITS - len - size)) & ((1 << size) - 1);
                    let value = extend(bits as i32, size as u32);
                    *slot = (len + size) as i32 | (run << 5) | (value << 16);
                }
            }
            table
        })
    }

    /// The AC-skipping table: for every value of the next [`SKIP_BITS`] bits, the
    /// coefficients (codes and magnitude bits) that lie within them, up to
    /// [`SKIP_MAX`] (the first one's magnitude bits may reach past them), in one entry:
    /// - bits 0-5: the bits they all take; bits 6-12: their advance in the block (an
    ///   end of block counts [`SKIP_EOB`]);
    /// - bits 13-19: the advance of all but the last (0 for one coefficient): they may
    ///   all be taken while that leaves the block open;
    /// - bits 20-25 and 26-31: the first coefficient's bits and advance alone.
    ///
    /// 0: the first code is longer than [`SKIP_BITS`] (the slow path). The bits to
    /// shift out sit at the bottom, where they need no masking on the hot loop's chain.
    pub(super) fn skips(&self) -> &[u32; 1 << SKIP_BITS] {
        self.ac_skips.get_or_init(|| {
            let single = self.single_steps();
            let mut table = Box::new([0u32; 1 << SKIP_BITS]);
            let mask = (1u32 << SKIP_BITS) - 1;
            for (window, slot) in (0u32..).zip(table.iter_mut()) {
                let (n1, adv1) = single[window as usize];
                if n1 == 0 {
                    continue;
                }
                let (mut used, mut advance, mut before_last) = (n1, adv1, 0);
                for _ in 1..SKIP_MAX {
                    if advance >= SKIP_EOB || used >= SKIP_BITS as u32 {
                        break;
                    }
                    let (n, adv) = single[((window << used) & mask) as usize];
                    if n == 0 || used + n > SKIP_BITS as u32 {
                        break;
                    }
                    before_last = advance;
                    used += n;
                    advance += adv;
                }
                *slot = used | (advance << 6) | (before_last << 13) | (n1 << 20) | (adv1 << 26);
            }
            table
        })
    }

    /// For every value of the next [`SKIP_BITS`] bits, the first AC coefficient's bits
    /// (code and magnitude) and advance in the block (1-16, or [`SKIP_EOB`]); (0, 0)
    /// when its code is longer. Filled code by code, a range of windows each.
    fn single_steps(&self) -> Vec<(u32, u32)> {
        let mut single = vec![(0u32, 0u32); 1 << SKIP_BITS];
        for len in 1..=SKIP_BITS {
            let (first, last) = (self.mincode[len], self.maxcode[len]);
            for code in first..=last {
                let Some(&rs) = usize::try_from(self.valptr[len] + code - first)
                    .ok()
                    .and_then(|at| self.values.get(at))
                else {
                    continue;
                };
                let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
                let advance = match (run, size) {
                    (15, 0) => 16,
                    (_, 0) => SKIP_EOB,
                    (run, _) => run + 1,
                };
                let shift = SKIP_BITS - len;
                let start = usize::try_from(code).unwrap_or(0) << shift;
                if let Some(windows) = single.get_mut(start..start + (1 << shift)) {
                    windows.fill((len as u32 + size, advance));
                }
            }
        }
        single
    }
}

/// Bits of one entropy-coded segment, with `FF 00` unstuffed. Stops at any marker.
/// What [`Bits::resync`] found.
pub(super) struct Resync {
    /// Intervals with no data before the marker found; `None`: no restart marker
    /// follows, the scan's data is over.
    pub(super) missing: Option<u32>,
    /// Bytes that are no valid part of a scan were skipped on the way.
    pub(super) junk: bool,
    /// The number of the restart marker expected after the one found.
    pub(super) next: u8,
}

pub(super) struct Bits<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) acc: u64,
    pub(super) count: u32,
    /// A marker (`FF xx`, xx != 0) was reached at `pos`.
    pub(super) at_marker: bool,
    /// Zero bytes fed in after the data of this segment ended (at a marker or the end
    /// of the file).
    pub(super) padding: u32,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8], pos: usize) -> Self {
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
    pub(super) fn overran(&self) -> bool {
        (self.padding * 8).saturating_sub(self.count) > 7
    }

    /// Tops the bit buffer up to more than 56 bits (zeros past the segment's end).
    #[inline(always)]
    pub(super) fn fill(&mut self) {
        if !self.fill_fast() {
            self.fill_bytes();
        }
    }

    /// The common case of [`Bits::fill`], inlined into the hot loops: the next 8 bytes
    /// hold no 0xFF (no stuffing, no marker), so take as many whole bytes as fit in one
    /// go. False when it could not.
    #[inline(always)]
    fn fill_fast(&mut self) -> bool {
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
                return true;
            }
        }
        false
    }

    /// [`Bits::fill`] a byte at a time: stuffed bytes, markers, the end of the data.
    #[inline(never)]
    fn fill_bytes(&mut self) {
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

    #[inline]
    pub(super) fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.fill();
        }
        (self.acc >> (64 - n)) as u32
    }

    #[inline]
    pub(super) fn skip(&mut self, n: u32) {
        self.acc <<= n;
        self.count = self.count.saturating_sub(n);
    }

    #[inline]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let v = self.peek(n);
        self.skip(n);
        v
    }

    /// Decodes one Huffman symbol; `None` for a code not in the table.
    #[inline]
    pub(super) fn symbol(&mut self, table: &Huffman) -> Option<u8> {
        let window = self.peek(16) as i32;
        let fast = table.lookup[(window >> (16 - FAST_BITS)) as usize];
        if fast != 0 {
            self.skip(u32::from(fast >> 8));
            return Some((fast & 0xFF) as u8);
        }
        self.long_symbol(table, window)
    }

    /// [`Bits::symbol`] for a code longer than [`FAST_BITS`].
    #[inline(never)]
    fn long_symbol(&mut self, table: &Huffman, window: i32) -> Option<u8> {
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
    #[inline]
    pub(super) fn receive_extend(&mut self, size: u8) -> i32 {
        if size == 0 || size > 16 {
            return 0;
        }
        extend(self.bits(u32::from(size)) as i32, u32::from(size))
    }

    /// At a restart boundary: finds restart marker `expected` (0-7) the way libjpeg's
    /// `jpeg_resync_to_restart` does, and resumes reading just after it. Returns how
    /// many intervals have no data (0 when the marker is the expected one), or `None`
    /// when a real marker or the end of the file comes first (the scan's data ended).
    pub(super) fn resync(&mut self, expected: u8) -> Resync {
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
    pub(super) fn end_of_scan(&self) -> usize {
        let from = self.pos.saturating_sub(2);
        next_marker(self.data, from, |m| !(0xD0..=0xD7).contains(&m)).unwrap_or(self.data.len())
    }
}

/// The position of the first marker at or after `from` (`FF` then a byte other than
/// `00`, a stuffed data byte, or `FF`, a fill byte) whose code `wanted` accepts.
/// memchr: a progressive file's AC scans are skipped at memory speed.
pub(super) fn next_marker(data: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    let from = from.min(data.len());
    memchr::memchr_iter(0xFF, &data[from..])
        .map(|i| from + i)
        .find(|&p| {
            data.get(p + 1)
                .is_some_and(|&b| b != 0x00 && b != 0xFF && wanted(b))
        })
}

/// Why a block could not be decoded.
pub(super) enum Fault {
    /// A code that is in no table: the data is damaged.
    Data,
    /// Something this decoder does not handle: the caller falls back.
    Decline,
}

/// Skips one block's AC coefficients from zigzag index `from` (1: all 63). Hot loop:
/// one refill check per step, then up to [`SKIP_MAX`] coefficients (codes and
/// magnitude bits) skipped with one lookup of [`Huffman::skips`] (a refill leaves more
/// than 56 bits; a step takes at most 12 bits of codes plus 15 of magnitude). Several
/// are taken only when all but the last leave the block open, so a step never runs
/// into the next block.
#[inline(always)]
pub(super) fn skip_ac(bits: &mut Bits<'_>, act: &Huffman, from: u32) -> Result<(), Fault> {
    let skips = act.skips();
    let mut i = from;
    // The buffer lives in registers for the loop (written back around the calls that
    // need it), not in `bits`'s memory.
    let (mut acc, mut count) = (bits.acc, bits.count);
    while i < 64 {
        if count < 32 {
            (bits.acc, bits.count) = (acc, count);
            bits.fill();
            (acc, count) = (bits.acc, bits.count);
        }
        let entry = skips[(acc >> (64 - SKIP_BITS)) as usize];
        if entry == 0 {
            (bits.acc, bits.count) = (acc, count);
            let rs = bits.symbol(act).ok_or(Fault::Data)?;
            let (run, size) = (rs >> 4, rs & 15);
            if size == 0 {
                if run != 15 {
                    return Ok(());
                }
                i += 16;
            } else {
                i += u32::from(run) + 1;
                bits.skip(u32::from(size));
            }
            (acc, count) = (bits.acc, bits.count);
            continue;
        }
        // All the entry's coefficients while those before the last leave the block
        // open (nearly always), else the first alone. An end of block's advance (63)
        // ends the loop. Marked cold so that it stays a branch, which is predicted,
        // not a conditional move, which would add to the chain from one step's table
        // look-up to the next.
        let (n, adv) = if i + ((entry >> 13) & 127) < 64 {
            (entry & 63, (entry >> 6) & 127)
        } else {
            std::hint::cold_path();
            ((entry >> 20) & 63, entry >> 26)
        };
        acc <<= n;
        count -= n;
        i += adv;
    }
    (bits.acc, bits.count) = (acc, count);
    Ok(())
}

/// Reads one block's AC coefficients up to zigzag index `low.last`, putting those of
/// the kept corner in their places in `out`; returns the index to skip on from (past
/// 63 after the end of the block). Values are as coded (not dequantised).
#[inline(always)]
pub(super) fn read_low(
    bits: &mut Bits<'_>,
    act: &Huffman,
    out: &mut [i32],
    low: &LowBand,
) -> Result<u32, Fault> {
    let values = act.values();
    let mut i = 1u32;
    // The buffer lives in registers for the loop, as in `skip_ac`.
    let (mut acc, mut count) = (bits.acc, bits.count);
    while i <= low.last {
        if count < 16 {
            (bits.acc, bits.count) = (acc, count);
            bits.fill();
            (acc, count) = (bits.acc, bits.count);
        }
        let entry = values[(acc >> (64 - FAST_BITS)) as usize];
        // The zero run before the coefficient, and its value (a run of 16 zeros is 15
        // and a zero).
        let (run, value) = if entry != 0 {
            let n = (entry & 31) as u32;
            acc <<= n;
            count -= n;
            if entry & VALUE_EOB != 0 {
                (bits.acc, bits.count) = (acc, count);
                return Ok(64);
            }
            (((entry >> 5) & 15) as u32, entry >> 16)
        } else {
            (bits.acc, bits.count) = (acc, count);
            let rs = bits.symbol(act).ok_or(Fault::Data)?;
            let step = match (u32::from(rs >> 4), rs & 15) {
                (15, 0) => (15, 0),
                (_, 0) => return Ok(64),
                (run, size) => (run, bits.receive_extend(size)),
            };
            (acc, count) = (bits.acc, bits.count);
            step
        };
        i += run;
        if let Some(&place) = low.slot.get(i as usize)
            && let Some(slot) = out.get_mut(usize::from(place))
        {
            *slot = value;
        }
        i += 1;
    }
    (bits.acc, bits.count) = (acc, count);
    Ok(i)
}
