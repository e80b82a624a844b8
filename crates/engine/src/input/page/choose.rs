//! Choosing one candidate of each picture: measured pixels, else a link, else the widest
//! declared width.

use url::Url;

use super::{Candidate, Source};

/// For each picture of `candidates`, which one to take: `true` for exactly one
/// candidate per picture. `pixels` (indexed like `candidates`, missing entries count as
/// unknown) are measured sizes. The choice is the largest pixel area among the measured
/// ones; with none measured, a [`Source::Link`] (the full-size picture behind a
/// thumbnail); else the widest declared `srcset` width; else the first candidate that
/// is not a smaller variant; else the first. Ties go to the first.
pub fn largest_of_each(candidates: &[Candidate], pixels: &[Option<(u32, u32)>]) -> Vec<bool> {
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (index, candidate) in candidates.iter().enumerate() {
        if members.len() <= candidate.picture {
            members.resize_with(candidate.picture + 1, Vec::new);
        }
        if let Some(list) = members.get_mut(candidate.picture) {
            list.push(index);
        }
    }
    let mut chosen = vec![false; candidates.len()];
    for group in &members {
        if let Some(slot) =
            pick_of_picture(candidates, pixels, group).and_then(|i| chosen.get_mut(i))
        {
            *slot = true;
        }
    }
    chosen
}

/// The URL of the largest variant of each picture, judged from the markup alone (a link
/// around a thumbnail, else the widest declared srcset width): what `--page` and a
/// watched page download without probing.
pub fn largest_urls(candidates: &[Candidate]) -> Vec<Url> {
    largest_of_each(candidates, &[])
        .into_iter()
        .zip(candidates)
        .filter(|(largest, _)| *largest)
        .map(|(_, c)| c.url.clone())
        .collect()
}

/// The index (into `candidates`) that [`largest_of_each`] picks among `group`.
fn pick_of_picture(
    candidates: &[Candidate],
    pixels: &[Option<(u32, u32)>],
    group: &[usize],
) -> Option<usize> {
    let area = |i: usize| {
        pixels
            .get(i)
            .copied()
            .flatten()
            .map(|(w, h)| u64::from(w) * u64::from(h))
    };
    let width = |i: usize| candidates.get(i).and_then(|c| c.declared_width);
    let full = |i: usize| candidates.get(i).is_some_and(|c| !c.smaller_variant);
    let link = |i: usize| candidates.get(i).is_some_and(|c| c.source == Source::Link);
    // A link around a thumbnail is the full size however wide the srcset inside it
    // claims to be.
    first_max_by(group, area)
        .or_else(|| group.iter().copied().find(|&i| full(i) && link(i)))
        .or_else(|| first_max_by(group, width))
        .or_else(|| group.iter().copied().find(|&i| full(i)))
        .or_else(|| group.first().copied())
}

/// The first of `group` with the greatest known `key`, if any key is known.
fn first_max_by<K: Ord + Copy>(group: &[usize], key: impl Fn(usize) -> Option<K>) -> Option<usize> {
    let mut best: Option<(K, usize)> = None;
    for &i in group {
        if let Some(k) = key(i)
            && best.is_none_or(|(b, _)| k > b)
        {
            best = Some((k, i));
        }
    }
    best.map(|(_, i)| i)
}
