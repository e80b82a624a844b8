//! `pixgrab find`: what a page's images are (pixel size, type, bytes, where on the page
//! they were found) without downloading them: each is probed for its first bytes only.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use pixgrab_engine::engine::{PageImages, Probe, Want};
use pixgrab_engine::input::page::Candidate;
use pixgrab_engine::{Bytes, Config, Engine, EngineHandle};
use serde_json::json;
use url::Url;

use crate::cli::RequestArgs;

/// Options of `pixgrab find`.
#[derive(Debug, clap::Args)]
pub(crate) struct FindArgs {
    /// Pages whose images to list.
    #[arg(value_name = "URL", required = true)]
    pages: Vec<String>,
    /// One JSON object per image on stdout: url, width, height, bytes, type, found, page
    /// (and error when the probe learned nothing).
    #[arg(long)]
    json: bool,
    /// List only images known to be at least this large, e.g. 800x600 (stderr counts
    /// the smaller ones and those of unknown size).
    #[arg(long, value_name = "WxH")]
    min_size: Option<MinSize>,
    /// How requests are made.
    #[command(flatten)]
    request: RequestArgs,
}

/// Runs `pixgrab find`.
pub(crate) fn run(args: &FindArgs) -> ExitCode {
    match find(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Lists every page's images; `false` when a page could not be read.
fn find(args: &FindArgs) -> Result<bool> {
    let pages: Vec<Url> = args
        .pages
        .iter()
        .map(|p| Url::parse(p.trim()).with_context(|| format!("bad page URL {p:?}")))
        .collect::<Result<_>>()?;
    // The engine wants a folder for its library; nothing is downloaded into it.
    let scratch = tempfile::Builder::new()
        .prefix("pixgrab-find-")
        .tempdir()
        .context("cannot make a scratch folder")?;
    let mut config = Config::new(scratch.path());
    args.request
        .configure(&mut config, &crate::cli::hosts_of(&pages))?;
    let (engine, _events) = Engine::start(config)?;
    let mut all_read = true;
    for page in &pages {
        match engine.find_images(page) {
            Ok(found) => {
                if !args.json {
                    eprintln!("{}", found_line(page, &found));
                }
                if !list_page(&engine, &found, args) {
                    break;
                }
            }
            Err(e) => {
                all_read = false;
                if args.json {
                    let line = json!({"page": page.as_str(), "error": format!("cannot read the page: {e}")});
                    println!("{line}");
                } else {
                    eprintln!("pixgrab: cannot read the page {page}: {e}");
                }
            }
        }
    }
    engine.shutdown();
    Ok(all_read)
}

/// Prints each image of a page as its probe comes back (a slow host holds up only its
/// own lines); `false` when stdout was closed (`| head`).
fn list_page(engine: &EngineHandle, found: &PageImages, args: &FindArgs) -> bool {
    let (page, candidates) = (&found.page, &found.candidates);
    let open = std::sync::atomic::AtomicBool::new(true);
    let print = |i: usize, probe: &Probe| {
        let Some(candidate) = candidates.get(i) else {
            return;
        };
        if args.min_size.is_some_and(|min| !min.admits(probe.pixels)) {
            return;
        }
        let text = if args.json {
            json_line(page, candidate, probe)
        } else {
            human_line(candidate, probe)
        };
        // A closed stdout ends the listing quietly.
        if writeln!(std::io::stdout().lock(), "{text}").is_err() {
            open.store(false, std::sync::atomic::Ordering::Relaxed);
            engine.finder().cancel_probes();
        }
    };
    let probes = probe_all(engine, page, candidates, &print);
    if let (Some(min), false) = (args.min_size, args.json) {
        let kept = probes.iter().filter(|p| min.admits(p.pixels)).count();
        let unknown = probes.iter().filter(|p| p.pixels.is_none()).count();
        eprintln!(
            "{kept} of {} at least {min}; left out: {} smaller, {unknown} of unknown size",
            plural(probes.len(), "image"),
            probes.len() - kept - unknown
        );
    }
    open.load(std::sync::atomic::Ordering::Relaxed)
}

/// The largest variant of each picture, when it is at least `min`, and a line saying
/// what was left out and why.
pub(crate) fn large_pictures(
    candidates: &[Candidate],
    probes: &[Probe],
    min: MinSize,
) -> (Vec<Url>, String) {
    let pixels: Vec<_> = probes.iter().map(|p| p.pixels).collect();
    let largest = pixgrab_engine::input::page::largest_of_each(candidates, &pixels);
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

/// `1 image`, `3 images`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
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
    engine.probe(&urls, Some(page), report)
}

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

fn json_line(page: &Url, candidate: &Candidate, probe: &Probe) -> String {
    let mut object = json!({
        "url": candidate.url.as_str(),
        "width": probe.pixels.map(|p| p.0),
        "height": probe.pixels.map(|p| p.1),
        "bytes": probe.bytes,
        "type": probe.format.map(|f| f.mime()),
        "found": candidate.source.label(),
        "page": page.as_str(),
    });
    if let (Some(error), Some(map)) = (&probe.error, object.as_object_mut()) {
        map.insert("error".into(), json!(error));
    }
    object.to_string()
}

fn human_line(candidate: &Candidate, probe: &Probe) -> String {
    let pixels = probe
        .pixels
        .map_or_else(|| "?".to_string(), |(w, h)| format!("{w}×{h}"));
    let bytes = probe
        .bytes
        .map_or_else(|| "?".to_string(), |b| Bytes(b).to_string());
    let kind = probe.format.map_or("?", |f| f.name());
    let mut line = format!(
        "{pixels:>11}  {bytes:>10}  {kind:<5}  {:<10}  {}",
        candidate.source.label(),
        candidate.url
    );
    if let Some(error) = &probe.error {
        line.push_str(&format!("  ({error})"));
    }
    line
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
    use super::*;

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
