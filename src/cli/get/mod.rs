//! `pixgrab get`: headless downloads with a progress bar or JSON events. This module
//! runs the steps (read the list and the pages, start the engine, add the URLs, follow
//! and watch); `follow` reports the engine's events, `output` prints them.

mod follow;
mod output;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use crossbeam_channel::Receiver;
use pixgrab_engine::Intake;
use pixgrab_engine::Span;
use pixgrab_engine::{Command, Config, Engine, EngineHandle, Event};
use url::Url;

use super::args::GetArgs;
use super::pages::{found_line, large_pictures, probe_all};
use super::request::hosts_of;
use super::values::{Interval, MinSize};
use crate::common::plural;
use follow::Follower;
use output::Output;

/// Exit status when every item downloaded.
const EXIT_OK: u8 = 0;
/// Exit status when some items failed.
const EXIT_SOME_FAILED: u8 = 1;
/// Exit status for bad usage or nothing to download.
const EXIT_USAGE: u8 = 2;

/// Runs `pixgrab get` and returns the exit status.
pub(crate) fn run(args: &GetArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_inner(args: &GetArgs) -> Result<u8> {
    let (intake, pages, mut out) = read_arguments(args)?;
    // Unscoped headers, Referer and cookies stay with the hosts the user typed: a page's
    // content never widens that set (a third-party image host gets none of them).
    let hosts = hosts_of(intake.urls.iter().chain(&pages));
    let config = engine_config(args, &hosts)?;
    let (engine, events) = Engine::start(config)?;
    let stopped = on_signal(&engine, args.watch.is_some());
    // Pages first: their images join the list, each with its page as the Referer.
    let found = read_pages(&engine, &pages, args.min_size, &mut out);
    // The folder's library comes back first (sent while the engine starts): items
    // done, failed or queued in earlier runs. Queued ones continue in this run.
    let (mut run, earlier) = Follower::resume(out, &events);
    let duplicates = intake.duplicates;
    let typed = intake.into_urls();
    let count = typed.len() + found.iter().map(|(_, _, urls)| urls.len()).sum::<usize>();
    let seen = seen_on_pages(args, &found);
    if count == 0 && run.tally.already == 0 {
        engine.shutdown();
        anyhow::bail!("nothing to download: no image was found on the given pages");
    }
    run.out
        .begin(count, duplicates, engine.out_dir(), run.tally.already);
    for event in &earlier {
        run.report(event);
    }
    let mut paused = add_all(&engine, &events, &mut run, typed, found)?;
    if !paused {
        paused = run.follow(&engine, &events);
    }
    if let (Some(Interval(every)), false) = (args.watch, paused) {
        watch_pages(&engine, &mut run, &pages, every, &seen)?;
        run.watch_forever(&events, &stopped);
    }
    engine.shutdown();
    let tally = run.finish();
    Ok(if tally.failed == 0 && !paused {
        EXIT_OK
    } else {
        EXIT_SOME_FAILED
    })
}

/// Reads the URLs (arguments and input files, saying which text was rejected) and the
/// `--page` URLs; an error when there is nothing to download.
fn read_arguments(args: &GetArgs) -> Result<(Intake, Vec<Url>, Output)> {
    let intake = read_intake(args)?;
    let mut out = Output::new(args.json);
    for rejected in &intake.rejected {
        out.rejected(&rejected.text, &rejected.reason);
    }
    let pages: Vec<Url> = args
        .page
        .iter()
        .map(|p| Url::parse(p.trim()).with_context(|| format!("bad --page {p:?}")))
        .collect::<Result<_>>()?;
    if intake.urls.is_empty() && pages.is_empty() {
        anyhow::bail!(
            "no http or https URL to download (give URLs as arguments, with -i FILE or --page URL)"
        );
    }
    Ok((intake, pages, out))
}

/// With `--watch`, what each page shows now (by the page as given): a watch never
/// queues it (what --page left out stays out). Empty without `--watch`.
fn seen_on_pages(args: &GetArgs, found: &[(Url, Url, Vec<Url>)]) -> HashMap<Url, Vec<Url>> {
    if args.watch.is_some() {
        found
            .iter()
            .map(|(asked, _, urls)| (asked.clone(), urls.clone()))
            .collect()
    } else {
        HashMap::new()
    }
}

/// Gives the engine the typed URLs, then each page's images, reporting the events as
/// they come; true when a disk error paused the run (nothing more is added then).
fn add_all(
    engine: &EngineHandle,
    events: &Receiver<Event>,
    run: &mut Follower,
    mut typed: Vec<Url>,
    found: Vec<(Url, Url, Vec<Url>)>,
) -> Result<bool> {
    // The typed URLs move into the engine a batch at a time, and the events of each
    // batch are reported before the next: a list of 100,000 is never held twice, nor
    // are its events piled up behind it.
    // Taken from the end of a reversed list, which then gives its memory back.
    typed.reverse();
    let mut paused = false;
    while !typed.is_empty() {
        let batch: Vec<Url> = (0..ADD_BATCH).map_while(|_| typed.pop()).collect();
        typed.shrink_to_fit();
        engine.run(Command::add(batch))?;
        paused = run.drain(events);
        if paused {
            break;
        }
    }
    for (_, page, urls) in found {
        if paused {
            break;
        }
        engine.run(Command::add_from(urls, &page))?;
        paused = run.drain(events);
    }
    Ok(paused)
}

/// Starts watching each page (`seen`: what it shows now, never queued by the watch)
/// and says so.
fn watch_pages(
    engine: &EngineHandle,
    run: &mut Follower,
    pages: &[Url],
    every: Duration,
    seen: &HashMap<Url, Vec<Url>>,
) -> Result<()> {
    for page in pages {
        let seen = seen.get(page).map_or(&[][..], Vec::as_slice);
        engine.run(Command::watch(page, every, seen))?;
    }
    run.out.note(&format!(
        "first round: {} done, {} failed; watching {} every {}; Ctrl+C stops",
        run.tally.done,
        run.tally.failed,
        plural(pages.len(), "page"),
        Span(every)
    ));
    Ok(())
}

/// On Ctrl+C, SIGTERM or SIGHUP: stops what the engine runs outside itself at once (a
/// gallery-dl listing, which holds the page site's cookies), then, when watching, ends
/// the watch loop (the returned channel) for a clean shutdown, else exits with 130 as
/// an interrupted program does.
fn on_signal(engine: &EngineHandle, watching: bool) -> Receiver<()> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let interrupt = engine.interrupter();
    let installed = ctrlc::set_handler(move || {
        interrupt();
        if watching {
            let _ = tx.try_send(());
        } else {
            // Long enough for a gallery-dl under way to be stopped and reaped.
            std::thread::sleep(std::time::Duration::from_millis(300));
            std::process::exit(130);
        }
    });
    if let Err(e) = installed {
        eprintln!("pixgrab: Ctrl+C will not stop gallery-dl cleanly: {e}");
    }
    rx
}

/// URLs given to the engine in one `add` (one library transaction).
const ADD_BATCH: usize = 5_000;

/// The engine's configuration from the command line.
fn engine_config(args: &GetArgs, hosts: &std::collections::BTreeSet<String>) -> Result<Config> {
    let mut config = Config::new(&args.out);
    config.jobs = usize::from(args.jobs);
    config.per_host = args.per_host.map(usize::from);
    config.name_template = args.name_template.clone();
    config.sync_files = args.fsync;
    config.bandwidth = args.limit_rate.map_or(0, |r| r.0);
    config.host_interval = Duration::from_millis(args.host_interval_ms);
    args.request.configure(&mut config, hosts)?;
    config.stall_timeout = Duration::from_secs(args.timeout);
    config.retries = args.retries;
    // With --watch, also the folder's earlier watches go on.
    config.run_watches = args.watch.is_some();
    config.stall_retries = config.stall_retries.min(args.retries);
    Ok(config)
}

/// Reads each `--page` and lists its images (with `--min-size`, those large enough),
/// saying what was found or why not: (the page as given, as it ended up, its images).
fn read_pages(
    engine: &EngineHandle,
    pages: &[Url],
    min_size: Option<MinSize>,
    out: &mut Output,
) -> Vec<(Url, Url, Vec<Url>)> {
    let mut found: Vec<(Url, Url, Vec<Url>)> = Vec::new();
    for page in pages {
        match engine.finder().find_images(page) {
            Ok(found_on_page) => {
                out.note(&found_line(page, &found_on_page));
                let (final_url, candidates) = (found_on_page.page, found_on_page.candidates);
                let urls = match min_size {
                    // The largest variant of each picture, if it is large enough.
                    Some(min) => {
                        let probes = probe_all(engine, &final_url, &candidates, &|_, _| {});
                        let (urls, note) = large_pictures(&candidates, &probes, min);
                        out.note(&note);
                        urls
                    }
                    // The largest variant of each picture, judged from the markup.
                    None => pixgrab_engine::largest_urls(&candidates),
                };
                found.push((page.clone(), final_url, urls));
            }
            Err(e) => out.rejected(page.as_str(), &format!("cannot read the page: {e}")),
        }
    }
    found
}

/// Gathers URLs from the arguments and every input file.
fn read_intake(args: &GetArgs) -> Result<Intake> {
    let mut intake = Intake::default();
    intake.add_text(&args.urls.join("\n"));
    intake.check_limit().map_err(anyhow::Error::msg)?;
    for path in &args.inputs {
        let text = read_input(path)?;
        // A library export (`pixgrab export`, or the window's): only its `url` column.
        match pixgrab_engine::import_urls(&text) {
            Some(urls) => intake.add_text(&urls.join("\n")),
            None => intake.add_text(&text),
        }
        intake
            .check_limit()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    }
    Ok(intake)
}

fn read_input(path: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read URLs from stdin")?;
    } else {
        bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    }
    // URL lists come in every encoding; invalid bytes cannot be part of a valid URL anyway.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
