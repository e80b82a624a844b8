//! Reading a `srcset`: its candidates with their width or density, the largest, and
//! the variants of an element they make.

use super::Source;

/// One URL of an `<img>` or `<source>`, as written, and how it ranks.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Variant {
    pub(super) url: String,
    pub(super) source: Source,
    pub(super) declared_width: Option<u32>,
    pub(super) smaller_variant: bool,
}

/// Every candidate of `main` and then of `extra`, all smaller variants but the largest
/// of `main`.
pub(super) fn srcset_variants(main: Option<&str>, extra: Option<&str>) -> Vec<Variant> {
    let mut variants = Vec::new();
    if let Some(set) = main {
        let entries = srcset_entries(set);
        let largest = largest_entry(&entries);
        for (index, entry) in entries.into_iter().enumerate() {
            variants.push(entry.variant(largest != Some(index)));
        }
    }
    if let Some(set) = extra {
        variants.extend(srcset_entries(set).into_iter().map(|e| e.variant(true)));
    }
    variants
}

/// One candidate of a `srcset`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SrcsetEntry {
    pub(super) url: String,
    /// The `Nw` descriptor, if it is one.
    width: Option<u32>,
    /// For finding the largest: the width, else the density divided by a million
    /// (densities rank below any width: 2x of a 100 px image is not 1080w).
    rank: f64,
}

impl SrcsetEntry {
    /// This entry as a variant of its element.
    fn variant(self, smaller_variant: bool) -> Variant {
        Variant {
            url: self.url,
            source: Source::Srcset,
            declared_width: self.width,
            smaller_variant,
        }
    }
}

/// The candidates of a `srcset` (`a.jpg 480w, b.jpg 1080w` or `a.jpg 1x, b.jpg 2x`),
/// in order.
pub(super) fn srcset_entries(srcset: &str) -> Vec<SrcsetEntry> {
    let mut entries = Vec::new();
    for item in split_srcset(srcset) {
        let mut parts = item.split_whitespace();
        let Some(url) = parts.next() else { continue };
        let descriptor = parts.next();
        let (width, rank) = match descriptor {
            Some(d) if d.ends_with('w') => {
                let number = d.trim_end_matches('w');
                (number.parse().ok(), number.parse::<f64>().unwrap_or(0.0))
            }
            Some(d) if d.ends_with('x') => (
                None,
                d.trim_end_matches('x').parse::<f64>().unwrap_or(1.0) / 1e6,
            ),
            _ => (None, 1.0 / 1e6),
        };
        entries.push(SrcsetEntry {
            url: url.to_string(),
            width,
            rank,
        });
    }
    entries
}

/// The index of the largest entry (the first of equals).
pub(super) fn largest_entry(entries: &[SrcsetEntry]) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for (index, entry) in entries.iter().enumerate() {
        if best.is_none_or(|(rank, _)| entry.rank > rank) {
            best = Some((entry.rank, index));
        }
    }
    best.map(|(_, index)| index)
}

/// Splits a `srcset` on the commas between candidates (a comma right after a URL's
/// first characters, as in `image,v2.jpg`, is part of the URL only if not followed by
/// whitespace; this is the common reading).
fn split_srcset(srcset: &str) -> impl Iterator<Item = &str> {
    srcset
        .split(", ")
        .flat_map(|chunk| chunk.split(",\n"))
        .flat_map(|chunk| {
            // "a.jpg 1x,b.jpg 2x" (no space after the comma) also occurs.
            let looks_split = chunk.contains(' ') && chunk.matches(',').count() > 0;
            let pieces: Vec<&str> = if looks_split {
                chunk.split(',').collect()
            } else {
                vec![chunk]
            };
            pieces
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
}
