//! Where a scan's blocks are (its units: MCUs, or one component's blocks) and how its
//! restart intervals go: resynchronising on the next restart marker after bad data, and
//! placing intervals lost with their markers.

use super::entropy::{Bits, Fault, Huffman};
use super::{Component, LowBand, ScanWalk, decode_block, max_sampling};

/// Where a scan's blocks are. Its units are blocks of its one component's own grid (not
/// padded to MCUs) when it is not interleaved, else MCUs.
pub(super) struct ScanLayout<'a> {
    comps: &'a [Component],
    scan: &'a [(usize, usize, usize)],
    single: bool,
    /// MCUs per row of the frame.
    mcux: usize,
    pub(super) units_x: usize,
    pub(super) units_y: usize,
    /// Each unit's blocks as (scan component, offset from the unit's first block in its
    /// component's grid).
    blocks: Vec<(usize, usize)>,
    /// Coefficients kept per block (1, 4 or 16).
    stride: usize,
    /// The AC coefficients read, when more than DC is kept.
    low: Option<&'static LowBand>,
}

impl<'a> ScanLayout<'a> {
    pub(super) fn new(
        comps: &'a [Component],
        (w, h): (usize, usize),
        scan: &'a [(usize, usize, usize)],
        keep: usize,
        low: Option<&'static LowBand>,
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
            stride: keep * keep,
            low,
        }
    }

    /// Decodes the blocks of unit (ux, uy).
    #[inline(always)]
    pub(super) fn decode_unit(
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
            let at = (self.origin(k, ux, uy) + offset) * self.stride;
            let slot = dc[ci].get_mut(at..at + self.stride).ok_or(Fault::Decline)?;
            decode_block(bits, slot, &mut pred[ci], tables[k], al, self.low)?;
        }
        Ok(())
    }

    /// Gives the blocks of unit (ux, uy) the predictors' values and no detail (a bad
    /// interval).
    #[inline]
    pub(super) fn fill_unit(
        &self,
        dc: &mut [Vec<i32>],
        pred: &[i32],
        (ux, uy): (usize, usize),
        al: u32,
    ) -> Option<()> {
        for &(k, offset) in &self.blocks {
            let ci = self.scan[k].0;
            let at = (self.origin(k, ux, uy) + offset) * self.stride;
            let slot = dc[ci].get_mut(at..at + self.stride)?;
            slot.fill(0);
            *slot.first_mut()? = pred[ci].wrapping_shl(al);
        }
        Some(())
    }

    /// The first block of unit (ux, uy) of scan component k.
    #[inline(always)]
    pub(super) fn origin(&self, k: usize, ux: usize, uy: usize) -> usize {
        let c = self.comps[self.scan[k].0];
        if self.single {
            uy * self.mcux * c.h + ux
        } else {
            uy * c.v * self.mcux * c.h + ux * c.h
        }
    }
}

/// What to do with a unit after its restart boundary (if it starts an interval).
pub(super) enum Boundary {
    /// Decode it.
    Decode,
    /// It has no data (its interval was lost with its marker).
    Skip,
    /// The scan is over: `walk` says how.
    Stop,
}

/// The restart intervals of a scan as the walk goes through them.
pub(super) struct Restarts {
    /// Units per interval (0: no restart markers).
    ri: usize,
    expected_rst: u8,
    /// The current interval went bad: the rest of it carries the predictor on (the
    /// colour before the bad stretch, as libjpeg's zero-filled blocks show).
    pub(super) interval_bad: bool,
    /// Units before this one have no data (intervals lost with their markers).
    skip_to: usize,
}

impl Restarts {
    pub(super) fn new(ri: usize) -> Self {
        Self {
            ri,
            expected_rst: 0,
            interval_bad: false,
            skip_to: 0,
        }
    }

    /// Intervals in a scan of `units` units.
    #[inline]
    pub(super) fn intervals(&self, units: usize) -> u32 {
        if self.ri > 0 {
            u32::try_from(units.div_ceil(self.ri)).unwrap_or(u32::MAX)
        } else {
            1
        }
    }

    /// Before unit `u`: at an interval boundary, finds the restart marker, counts the
    /// interval that ended if it was bad, and resets the predictors.
    #[inline]
    pub(super) fn at_unit(
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
