//! Reading a page's images, shared by `find` and `get --page`: the line that says what
//! a page gave, size probes of its images, and the largest variant of each picture.

use pixgrab_engine::Candidate;
use pixgrab_engine::EngineHandle;
use pixgrab_engine::{PageImages, Probe, Want};
use url::Url;

use super::values::MinSize;
use crate::common::plural;

/// "12 images found on PAGE (listed by gallery-dl)": what a page read gave, and how.
pub(crate) fn found_line(page: &Url, found: &PageImages) -> String {
    format!(
        "{} found on {page}{}",
        plural(found.candidates.len(), "image"),
        found
            .via
            .describe()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default()
    )
}

/// Probes every candidate of a page for its size (first bytes only); `report` hears
/// each result as it comes.
pub(crate) fn probe_all(
    engine: &EngineHandle,
    page: &Url,
    candidates: &[Candidate],
    report: &(dyn Fn(usize, &Probe) + Sync),
) -> Vec<Probe> {
    let urls: Vec<(Url, Want)> = candidates
        .iter()
        .map(|c| (c.url.clone(), Want::Size))
        .collect();
    engine.finder().probe(&urls, Some(page), report)
}

/// The largest variant of each picture, when it is at least `min`, and a line saying
/// what was left out and why.
pub(crate) fn large_pictures(
    candidates: &[Candidate],
    probes: &[Probe],
    min: MinSize,
) -> (Vec<Url>, String) {
    let pixels: Vec<_> = probes.iter().map(|p| p.pixels).collect();
    let largest = pixgrab_engine::largest_of_each(candidates, &pixels);
    let (mut urls, mut smaller, mut unknown) = (Vec::new(), 0, 0);
    for ((candidate, pixels), _) in candidates
        .iter()
        .zip(&pixels)
        .zip(&largest)
        .filter(|(_, largest)| **largest)
    {
        match pixels {
            Some(_) if min.admits(*pixels) => urls.push(candidate.url.clone()),
            Some(_) => smaller += 1,
            None => unknown += 1,
        }
    }
    let pictures = largest.iter().filter(|l| **l).count();
    let note = format!(
        "{} of {} at least {min} (the largest variant of each); left out: {smaller} smaller, {unknown} of unknown size",
        urls.len(),
        plural(pictures, "picture"),
    );
    (urls, note)
}
