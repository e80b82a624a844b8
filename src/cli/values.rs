//! Values with a syntax of their own on the command line: a byte rate (`2M`), a watch
//! interval (`10m`) and a least pixel size (`800x600`).

use std::time::Duration;

/// A byte rate given as `N`, `Nk` or `NM` (1k = 1000).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate(pub(super) u64);

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (number, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
            Some((i, _)) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        let factor = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kb" => 1e3,
            "m" | "mb" => 1e6,
            "g" | "gb" => 1e9,
            other => return Err(format!("unknown unit {other:?} (use k, M or G)")),
        };
        let value: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a rate like 500k or 2M"))?;
        if !(value.is_finite() && value > 0.0) {
            return Err("the rate must be above zero".into());
        }
        Ok(Self((value * factor).round().max(1.0) as u64))
    }
}

/// How often a watched page is read: `90s`, `10m`, `1h`, `1d` (at least a minute).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interval(pub(super) Duration);

impl std::str::FromStr for Interval {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an interval like 10m, 1h or 1d");
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = s.split_at(split);
        let number: u64 = number.parse().map_err(|_| bad())?;
        let secs = match unit {
            "s" => number,
            "m" | "min" => number.saturating_mul(60),
            "h" => number.saturating_mul(3600),
            "d" => number.saturating_mul(86_400),
            _ => return Err(bad()),
        };
        if secs < 60 {
            return Err("a page is read at most once a minute".into());
        }
        if secs > 30 * 86_400 {
            return Err("at most 30d between two reads of a page".into());
        }
        Ok(Self(Duration::from_secs(secs)))
    }
}

/// A least pixel size, `WIDTHxHEIGHT` (`800x600`, `800×600`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MinSize {
    width: u32,
    height: u32,
}

impl MinSize {
    /// True for a size at least this large; an unknown size is not admitted.
    pub(crate) fn admits(self, pixels: Option<(u32, u32)>) -> bool {
        pixels.is_some_and(|(w, h)| w >= self.width && h >= self.height)
    }
}

impl std::str::FromStr for MinSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a size like 800x600");
        let (w, h) = s.trim().split_once(['x', 'X', '×']).ok_or_else(bad)?;
        Ok(Self {
            width: w.trim().parse().map_err(|_| bad())?,
            height: h.trim().parse().map_err(|_| bad())?,
        })
    }
}

impl std::fmt::Display for MinSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}", self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::MinSize;

    #[test]
    fn sizes_parse_and_admit() {
        let min: MinSize = "800x600".parse().expect("size");
        assert_eq!(min, "800×600".parse().expect("size"));
        assert!(min.admits(Some((800, 600))));
        assert!(!min.admits(Some((799, 4000))));
        assert!(!min.admits(None));
        assert!("800".parse::<MinSize>().is_err());
        assert!("axb".parse::<MinSize>().is_err());
    }
}
