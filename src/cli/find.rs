//! `pixgrab find`: what a page's images are (pixel size, type, bytes, where on the page
//! they were found) without downloading them: each is probed for its first bytes only.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use pixgrab_engine::Candidate;
use pixgrab_engine::{Bytes, Config, Engine, EngineHandle};
use pixgrab_engine::{PageImages, Probe};
use serde_json::json;
use url::Url;

use super::args::FindArgs;
use super::pages::{found_line, probe_all};
use super::request::hosts_of;
use crate::common::plural;

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
    args.request.configure(&mut config, &hosts_of(&pages))?;
    let (engine, _events) = Engine::start(config)?;
    let mut all_read = true;
    for page in &pages {
        match engine.finder().find_images(page) {
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
