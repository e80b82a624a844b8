//! `pixgrab get`: headless downloads with a progress bar or JSON events.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pixgrab_engine::disk::template::NameTemplate;
use pixgrab_engine::error::{Secs, Span};
use pixgrab_engine::input::intake::Intake;
use pixgrab_engine::net::profile::{self, Profile, Profiles};
use pixgrab_engine::{Bytes, Config, Engine, Event, ItemId};
use serde_json::json;
use url::Url;

/// Exit status when every item downloaded.
const EXIT_OK: u8 = 0;
/// Exit status when some items failed.
const EXIT_SOME_FAILED: u8 = 1;
/// Exit status for bad usage or nothing to download.
const EXIT_USAGE: u8 = 2;

/// Options of `pixgrab get`.
#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// URLs to download (any text containing URLs is fine).
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// Read URLs from a text or HTML file ('-' for stdin); repeatable.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long, value_name = "DIR", default_value = "pixgrab-downloads")]
    out: PathBuf,
    /// Concurrent downloads in all.
    #[arg(short, long, value_name = "N", default_value_t = pixgrab_engine::engine::DEFAULT_JOBS as u16, value_parser = clap::value_parser!(u16).range(1..=pixgrab_engine::engine::MAX_JOBS as i64))]
    jobs: u16,
    /// Concurrent downloads per host, fixed. Without it each host's limit adapts: it
    /// starts at 4, grows while the host answers quickly (up to 16, or 48 streams over
    /// HTTP/2) and shrinks at once on 429/503, resets, timeouts or slow answers.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=pixgrab_engine::engine::MAX_PER_HOST as i64))]
    per_host: Option<u16>,
    /// How to name the files: fields {name} {ext} {host} {num} {num:03} {page} {date}
    /// {sha8} {width} {height}; '/' makes subfolders, e.g. "{host}/{num:03}-{name}.{ext}".
    /// Checked before any request: an unknown field, '..' or an absolute path is refused.
    #[arg(long = "name", value_name = "TEMPLATE", default_value = NameTemplate::DEFAULT, value_parser = NameTemplate::parse)]
    name_template: NameTemplate,
    /// Print one JSON object per event on stdout instead of the progress display.
    #[arg(long)]
    json: bool,
    /// Flush every file to disk before it gets its final name (survives power loss; slower).
    #[arg(long)]
    fsync: bool,
    /// Overall bandwidth limit, e.g. 500k, 2M, 1.5M (bytes per second).
    #[arg(long, value_name = "RATE")]
    limit_rate: Option<Rate>,
    /// Least time between two requests to the same host, in milliseconds (politeness).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    host_interval_ms: u64,
    /// A web page whose images to download: what gallery-dl lists for it when it knows
    /// the site (see --gallery-dl), else what its HTML shows (img, srcset, links to
    /// images, og:image, noscript, JSON-LD, style backgrounds); repeatable. Each image
    /// gets the page as its Referer (see --referer-policy).
    #[arg(long, value_name = "URL")]
    page: Vec<String>,
    /// With --page: download the largest variant of each picture on the page, and only
    /// if it is at least this large, e.g. 800x600. Each image is probed for its first
    /// bytes first; one whose size cannot be learned is left out (and counted). Not with
    /// --watch.
    #[arg(long, value_name = "WxH", requires = "page")]
    min_size: Option<crate::find_cmd::MinSize>,
    /// With --page: keep running and read each page again every INTERVAL (10m, 1h, 1d:
    /// a unit is needed; at least 1m, give or take a tenth), downloading only images it
    /// shows for the first time (the largest variant of each picture). A page that fails
    /// is tried again later and later (up to a day). Watches are kept in the folder's
    /// library: the window goes on with them, and so does any later `get --watch` on
    /// that folder. Not with --min-size (a watch keeps no size filter). Ctrl+C stops.
    #[arg(
        long,
        value_name = "INTERVAL",
        requires = "page",
        conflicts_with = "min_size"
    )]
    watch: Option<Interval>,
    /// How requests are made (headers, cookies, proxy, ...).
    #[command(flatten)]
    pub(crate) request: RequestArgs,
    /// Seconds without a byte after which an attempt counts as stalled.
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Further attempts after a failure that may pass (5xx, 429, resets; a stall is
    /// retried at most once).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    retries: u32,
}

/// Options that shape every request, shared by `get` and `find`.
#[derive(Debug, clap::Args)]
pub(crate) struct RequestArgs {
    /// An extra request header, "Name: value", for the hosts of the given URLs and pages
    /// only (never other hosts a page names); "HOST=Name: value" for one host. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "[HOST=]HEADER")]
    headers: Vec<String>,
    /// The Referer to send, for the hosts of the given URLs and pages; "HOST=URL" for one host.
    #[arg(long, value_name = "[HOST=]URL")]
    referer: Vec<String>,
    /// The User-Agent to send to every host.
    #[arg(long, value_name = "UA")]
    user_agent: Option<String>,
    /// Cookies from a Netscape cookies.txt (as browsers export it); each is sent only to
    /// the hosts its domain matches.
    #[arg(long, value_name = "FILE")]
    cookies: Option<PathBuf>,
    /// Proxy for every request: http://HOST:PORT, https://... or socks5://...
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// How much of a page's URL its images get as Referer: strict-origin-when-cross-origin
    /// (the browsers' default: the origin only for other hosts, nothing from https to
    /// http), no-referrer, origin, same-origin, unsafe-url, ...
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "strict-origin-when-cross-origin"
    )]
    referer_policy: pixgrab_engine::net::profile::RefererPolicy,
    /// The gallery-dl program to ask first for the images of a page it knows (300+
    /// sites); by default `gallery-dl` on PATH when it is there.
    #[arg(long, value_name = "PROGRAM", conflicts_with = "no_gallery_dl")]
    gallery_dl: Option<PathBuf>,
    /// Read every page's HTML; never ask gallery-dl.
    #[arg(long)]
    no_gallery_dl: bool,
    /// Let a page's images (and their redirects) go to private addresses (127.0.0.1,
    /// 192.168.x.x, 169.254.x.x, fd00::/8 ...) although the page is not on one.
    #[arg(long)]
    allow_private: bool,
}

impl RequestArgs {
    /// Sets `config`'s request profiles, proxy and private-address rule.
    pub(crate) fn configure(
        &self,
        config: &mut Config,
        hosts: &std::collections::BTreeSet<String>,
    ) -> Result<()> {
        config.profiles = profiles(self, hosts)?;
        config.profiles.referer_policy = self.referer_policy;
        config.proxy = self.proxy.clone();
        if self.allow_private {
            config.private = pixgrab_engine::net::netguard::PrivateRule::Allow;
        }
        use pixgrab_engine::input::gallery_dl::{GalleryDl, Setting};
        config.gallery_dl = match (&self.gallery_dl, self.no_gallery_dl) {
            (_, true) => Setting::Off,
            (Some(program), false) => {
                anyhow::ensure!(
                    GalleryDl::locate(Some(program)).is_some(),
                    "--gallery-dl {}: no such program (give the path of gallery-dl, or leave the option out to use the one on PATH)",
                    program.display()
                );
                Setting::Program(program.clone())
            }
            (None, false) => Setting::Auto,
        };
        Ok(())
    }
}

/// Request profiles from the command line. Unscoped headers and Referers apply to each
/// host in `hosts` (the hosts the user named, or whose images a named page showed),
/// never to a host reached only by a redirect.
pub(crate) fn profiles(
    args: &RequestArgs,
    hosts: &std::collections::BTreeSet<String>,
) -> Result<Profiles> {
    let mut profiles = Profiles::default();
    profiles.default.user_agent = args.user_agent.clone();
    let mut unscoped = Profile::default();
    let mut scoped: HashMap<String, Profile> = HashMap::new();
    for header in &args.headers {
        let (host, text) = profile::split_scope(header);
        let parsed = profile::parse_header(text).map_err(anyhow::Error::msg)?;
        match host {
            Some(h) => scoped.entry(h).or_default().set_header(parsed),
            None => unscoped.set_header(parsed),
        }
    }
    for referer in &args.referer {
        let (host, text) = profile::split_scope(referer);
        let url = Url::parse(text.trim()).with_context(|| format!("bad --referer {text:?}"))?;
        match host {
            Some(h) => scoped.entry(h).or_default().referer = Some(url.to_string()),
            None => unscoped.referer = Some(url.to_string()),
        }
    }
    if unscoped != Profile::default() {
        for host in hosts {
            profiles.hosts.insert(host.clone(), unscoped.clone());
        }
    }
    for (host, mine) in scoped {
        let entry = profiles.hosts.entry(host).or_default();
        entry.headers.extend(mine.headers);
        if mine.referer.is_some() {
            entry.referer = mine.referer;
        }
    }
    if let Some(path) = &args.cookies {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read cookies from {}", path.display()))?;
        let (cookies, bad) = profile::parse_cookies_txt(&text);
        if !bad.is_empty() {
            eprintln!(
                "pixgrab: {}: skipped unreadable lines {bad:?} (want 7 tab-separated fields)",
                path.display()
            );
        }
        profiles.cookies = cookies;
    }
    Ok(profiles)
}

pub(crate) fn hosts_of<'a>(
    urls: impl IntoIterator<Item = &'a Url>,
) -> std::collections::BTreeSet<String> {
    urls.into_iter()
        .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
        .collect()
}

/// A byte rate given as `N`, `Nk` or `NM` (1k = 1000).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate(u64);

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
pub(crate) struct Interval(Duration);

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
    let hosts = hosts_of(intake.urls.iter().chain(&pages));
    let config = engine_config(args, &hosts)?;
    let (engine, events) = Engine::start(config)?;
    let stopped = on_signal(&engine, args.watch.is_some());
    // Pages first: their images join the list, each with its page as the Referer.
    let found = read_pages(&engine, &pages, args.min_size, &mut out);
    // Unscoped headers, Referer and cookies stay with the hosts the user typed: a page's
    // content never widens that set (a third-party image host gets none of them).
    // The folder's library comes back first (sent while the engine starts): items
    // done, failed or queued in earlier runs. Queued ones continue in this run.
    let mut run = Follower {
        out,
        tally: Tally::default(),
        urls: HashMap::new(),
    };
    let earlier: Vec<Event> = events
        .try_iter()
        .filter(|e| !matches!(e, Event::Idle))
        .collect();
    for event in &earlier {
        match event {
            Event::Queued { id, url } => {
                run.urls.insert(*id, url.clone());
            }
            Event::Done { .. } => {
                run.tally.done += 1;
                run.tally.already += 1;
            }
            _ => {}
        }
    }
    let duplicates = intake.duplicates;
    let mut typed = intake.into_urls();
    let count = typed.len() + found.iter().map(|(_, _, urls)| urls.len()).sum::<usize>();
    // What each watched page shows now: a watch never queues it (what --page left
    // out stays out).
    let seen: HashMap<Url, Vec<Url>> = if args.watch.is_some() {
        found
            .iter()
            .map(|(asked, _, urls)| (asked.clone(), urls.clone()))
            .collect()
    } else {
        HashMap::new()
    };
    if count == 0 && run.tally.already == 0 {
        engine.shutdown();
        anyhow::bail!("nothing to download: no image was found on the given pages");
    }
    run.out
        .begin(count, duplicates, engine.out_dir(), run.tally.already);
    for event in &earlier {
        run.report(event);
    }
    // The typed URLs move into the engine a batch at a time, and the events of each
    // batch are reported before the next: a list of 100,000 is never held twice, nor
    // are its events piled up behind it.
    // Taken from the end of a reversed list, which then gives its memory back.
    typed.reverse();
    let mut paused = false;
    while !typed.is_empty() {
        let batch: Vec<Url> = (0..ADD_BATCH).map_while(|_| typed.pop()).collect();
        typed.shrink_to_fit();
        engine.add(batch)?;
        paused = run.drain(&events);
        if paused {
            break;
        }
    }
    for (_, page, urls) in found {
        if paused {
            break;
        }
        engine.add_from(urls, Some(&page))?;
        paused = run.drain(&events);
    }
    if !paused {
        paused = run.follow(&engine, &events);
    }
    if let (Some(Interval(every)), false) = (args.watch, paused) {
        for page in &pages {
            let seen = seen.get(page).map_or(&[][..], Vec::as_slice);
            engine.watch(page, every, seen)?;
        }
        run.out.note(&format!(
            "first round: {} done, {} failed; watching {} every {}; Ctrl+C stops",
            run.tally.done,
            run.tally.failed,
            crate::find_cmd::plural(pages.len(), "page"),
            Span(every)
        ));
        run.watch_forever(&events, &stopped);
    }
    engine.shutdown();
    let Follower {
        mut out,
        tally,
        urls,
    } = run;
    out.finish(&tally, urls.len());
    Ok(if tally.failed == 0 && !paused {
        EXIT_OK
    } else {
        EXIT_SOME_FAILED
    })
}

/// On Ctrl+C, SIGTERM or SIGHUP: stops what the engine runs outside itself at once (a
/// gallery-dl listing, which holds the page site's cookies), then, when watching, ends
/// the watch loop (the returned channel) for a clean shutdown, else exits with 130 as
/// an interrupted program does.
fn on_signal(
    engine: &pixgrab_engine::EngineHandle,
    watching: bool,
) -> crossbeam_channel::Receiver<()> {
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

/// Reports a run's events and keeps its totals.
struct Follower {
    out: Output,
    tally: Tally,
    /// Each item's URL, for the report (shared with the engine's queue).
    urls: HashMap<ItemId, Arc<Url>>,
}

impl Follower {
    /// Reports the events that are waiting. True when a disk error paused the run.
    /// Reports events as watched pages are read again, until the process is stopped.
    fn watch_forever(
        &mut self,
        events: &crossbeam_channel::Receiver<Event>,
        stopped: &crossbeam_channel::Receiver<()>,
    ) {
        loop {
            let event = crossbeam_channel::select! {
                recv(events) -> event => match event {
                    Ok(event) => event,
                    Err(_) => return,
                },
                recv(stopped) -> _ => {
                    self.out.note("stopped watching");
                    return;
                }
            };
            if let Event::Watched(watch) = &event {
                self.out.note(&watch_line(watch));
            }
            if let Event::Done { info, .. } = &event {
                self.out.note(&format!("saved {}", info.path.display()));
            }
            self.handle(&event);
        }
    }

    fn drain(&mut self, events: &crossbeam_channel::Receiver<Event>) -> bool {
        events.try_iter().any(|event| self.handle(&event))
    }

    /// Reports events until every item has settled, or until a disk error pauses the run
    /// (then true: nothing more can be written now).
    fn follow(
        &mut self,
        engine: &pixgrab_engine::EngineHandle,
        events: &crossbeam_channel::Receiver<Event>,
    ) -> bool {
        loop {
            match events.recv_timeout(Duration::from_millis(250)) {
                Ok(event) => {
                    if self.handle(&event) {
                        return true;
                    }
                    // An Idle sent after one `add` may come when a later one has
                    // queued more.
                    if matches!(event, Event::Idle) && engine.is_idle() {
                        return self.drain(events);
                    }
                }
                // Its Idle may have been reported while the URLs were still going in.
                Err(crossbeam_channel::RecvTimeoutError::Timeout) if engine.is_idle() => {
                    return self.drain(events);
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Reports one event; true when it paused the run.
    fn handle(&mut self, event: &Event) -> bool {
        if let Event::Queued { id, url } = event {
            self.urls.insert(*id, url.clone());
        }
        let url = |id: &ItemId| self.urls.get(id).map_or("", |u| u.as_str());
        let (out, tally) = (&mut self.out, &mut self.tally);
        let mut paused = false;
        match event {
            Event::Progress { id, bytes, .. } => tally.progress(*id, *bytes),
            Event::Done { id, info } => {
                tally.forget(*id);
                tally.done += 1;
                tally.done_bytes += info.bytes;
            }
            Event::Failed { id, reason } => {
                tally.failed += 1;
                tally.forget(*id);
                out.failure(url(id), &reason.to_string());
            }
            Event::Cancelled { id } => {
                tally.failed += 1;
                tally.forget(*id);
                out.failure(url(id), "cancelled");
            }
            Event::Retrying {
                id,
                attempt,
                delay,
                reason,
            } => {
                tally.forget(*id);
                out.note(&format!(
                    "retrying {} in {} (attempt {attempt}): {reason}",
                    url(id),
                    Secs(*delay)
                ));
            }
            Event::Paused { reason } => {
                // Nothing more can be written now. Stop without losing anything: parts
                // and the queue stay in the library, and the next run continues them.
                out.paused(reason);
                paused = true;
            }
            Event::Requeued { id } => out.note(&format!("trying again: {}", url(id))),
            _ => {}
        }
        self.report(event);
        paused
    }

    /// Prints one event (a line of JSON, or the progress display).
    fn report(&mut self, event: &Event) {
        let url = event
            .id()
            .and_then(|id| self.urls.get(&id))
            .map_or("", |u| u.as_str());
        self.out.event(event, url, &self.tally);
    }
}

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
    engine: &pixgrab_engine::EngineHandle,
    pages: &[Url],
    min_size: Option<crate::find_cmd::MinSize>,
    out: &mut Output,
) -> Vec<(Url, Url, Vec<Url>)> {
    let mut found: Vec<(Url, Url, Vec<Url>)> = Vec::new();
    for page in pages {
        match engine.find_images(page) {
            Ok(found_on_page) => {
                out.note(&crate::find_cmd::found_line(page, &found_on_page));
                let (final_url, candidates) = (found_on_page.page, found_on_page.candidates);
                let urls = match min_size {
                    // The largest variant of each picture, if it is large enough.
                    Some(min) => {
                        let probes =
                            crate::find_cmd::probe_all(engine, &final_url, &candidates, &|_, _| {});
                        let (urls, note) =
                            crate::find_cmd::large_pictures(&candidates, &probes, min);
                        out.note(&note);
                        urls
                    }
                    // The largest variant of each picture, judged from the markup.
                    None => pixgrab_engine::input::page::largest_urls(&candidates),
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
        match pixgrab_engine::disk::library::import_urls(&text) {
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

/// Running totals for the progress display and the summary.
#[derive(Default)]
struct Tally {
    done: usize,
    /// Done in an earlier run (found in the folder's library).
    already: usize,
    failed: usize,
    done_bytes: u64,
    /// Bytes received by items still in flight.
    in_flight: HashMap<ItemId, u64>,
}

impl Tally {
    fn progress(&mut self, id: ItemId, bytes: u64) {
        self.in_flight.insert(id, bytes);
    }

    fn forget(&mut self, id: ItemId) {
        self.in_flight.remove(&id);
    }

    fn received(&self) -> u64 {
        self.done_bytes + self.in_flight.values().sum::<u64>()
    }
}

/// Where results go: a progress bar on stderr, or JSON lines on stdout.
enum Output {
    /// On a terminal the bar redraws in place; otherwise (logs, pipes) a plain status line
    /// is printed every few seconds.
    Human {
        bar: ProgressBar,
        started: Instant,
        last_line: Instant,
    },
    Json {
        stdout: std::io::Stdout,
    },
}

impl Output {
    fn new(json: bool) -> Self {
        if json {
            return Self::Json {
                stdout: std::io::stdout(),
            };
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} images  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(125));
        Self::Human {
            bar,
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// Prints a line above the bar (or plainly when there is no bar).
    fn say(bar: &ProgressBar, text: String) {
        if bar.is_hidden() {
            eprintln!("{text}");
        } else {
            bar.println(text);
        }
    }

    fn rejected(&mut self, text: &str, reason: &str) {
        match self {
            Self::Human { bar, .. } => Self::say(bar, format!("skipped {text}: {reason}")),
            Self::Json { stdout } => line(
                stdout,
                &json!({"event": "rejected", "text": text, "reason": reason}),
            ),
        }
    }

    fn begin(&mut self, count: usize, duplicates: usize, out_dir: &Path, already: usize) {
        match self {
            Self::Human { bar, .. } => {
                bar.set_length(count as u64);
                let dup = if duplicates > 0 {
                    format!(" ({duplicates} duplicates skipped)")
                } else {
                    String::new()
                };
                let had = if already > 0 {
                    format!("; {already} done in earlier runs")
                } else {
                    String::new()
                };
                Self::say(
                    bar,
                    format!(
                        "Downloading {}{dup} into {}{had}",
                        crate::find_cmd::plural(count, "URL"),
                        out_dir.display()
                    ),
                );
            }
            Self::Json { stdout } => line(
                stdout,
                &json!({"event": "begin", "urls": count, "duplicates": duplicates,
                        "out_dir": out_dir, "already": already}),
            ),
        }
    }

    /// The run stops early, keeping its parts and queue for the next run.
    fn paused(&mut self, reason: &str) {
        match self {
            Self::Human { bar, .. } => Self::say(
                bar,
                format!(
                    "paused: {reason}. Parts are kept: run the same command again to continue."
                ),
            ),
            Self::Json { stdout } => line(stdout, &json!({"event": "paused", "reason": reason})),
        }
    }

    fn note(&mut self, text: &str) {
        if let Self::Human { bar, .. } = self {
            Self::say(bar, text.to_string());
        }
    }

    fn failure(&mut self, url: &str, reason: &str) {
        if let Self::Human { bar, .. } = self {
            Self::say(bar, format!("failed {url}: {reason}"));
        }
    }

    fn event(&mut self, event: &Event, url: &str, tally: &Tally) {
        match self {
            Self::Human {
                bar,
                started,
                last_line,
            } => {
                if matches!(
                    event,
                    Event::Done { .. } | Event::Failed { .. } | Event::Cancelled { .. }
                ) {
                    let length = bar.length().unwrap_or(0);
                    let position = (tally.done + tally.failed) as u64;
                    // Items left queued by an earlier run make the job bigger.
                    bar.set_length(length.max(position));
                    bar.set_position(position);
                }
                let received = tally.received();
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let status = format!(
                    "{}  {}/s",
                    Bytes(received),
                    Bytes((received as f64 / secs) as u64)
                );
                if bar.is_hidden() && last_line.elapsed() >= Duration::from_secs(2) {
                    *last_line = Instant::now();
                    eprintln!(
                        "[{secs:.0} s] {}/{} images  {status}",
                        bar.position(),
                        bar.length().unwrap_or(0)
                    );
                }
                bar.set_message(status);
            }
            Self::Json { stdout } => {
                if let Some(value) = event_json(event, url) {
                    line(stdout, &value);
                }
            }
        }
    }

    fn finish(&mut self, tally: &Tally, total: usize) {
        match self {
            Self::Human { bar, started, .. } => {
                bar.finish_and_clear();
                let secs = started.elapsed().as_secs_f64();
                let had = if tally.already > 0 {
                    format!(" ({} of them in earlier runs)", tally.already)
                } else {
                    String::new()
                };
                eprintln!(
                    "Downloaded {} of {total} images{had} ({}) in {secs:.1} s; {} failed.",
                    tally.done,
                    Bytes(tally.done_bytes),
                    tally.failed
                );
            }
            Self::Json { stdout } => line(
                stdout,
                &json!({
                    "event": "summary", "done": tally.done, "failed": tally.failed,
                    "already": tally.already,
                    "bytes": tally.done_bytes, "peak_rss_kib": crate::peak_rss_kib(),
                }),
            ),
        }
    }
}

/// A line on a watched page: what its last check found, and when the next comes.
fn watch_line(watch: &pixgrab_engine::disk::library::Watch) -> String {
    let next = watch.next_in(pixgrab_engine::disk::library::unix_now_ms());
    if let Some(reason) = &watch.paused {
        return format!(
            "{}: {} new; {reason}. Run the command again to resume it",
            watch.page, watch.last_new
        );
    }
    let what = match (&watch.last_error, watch.last_check) {
        (Some(e), _) => format!("could not read it ({e}); trying again"),
        (None, Some(_)) => format!("{} new", watch.last_new),
        (None, None) => "watching".into(),
    };
    format!("{}: {what}; next check in {}", watch.page, Span(next))
}

fn event_json(event: &Event, url: &str) -> Option<serde_json::Value> {
    Some(match event {
        Event::Queued { id, url } => json!({"event": "queued", "id": id.0, "url": url.as_str()}),
        Event::Started { id, total } => {
            json!({"event": "started", "id": id.0, "url": url, "total": total})
        }
        Event::Progress { id, bytes, total } => {
            json!({"event": "progress", "id": id.0, "bytes": bytes, "total": total})
        }
        Event::Done { id, info } => json!({
            "event": "done", "id": id.0, "url": url, "final_url": info.final_url.as_str(),
            "path": info.path, "bytes": info.bytes, "format": info.format.name(),
            "content_type": info.content_type, "sha256": info.sha256,
            "width": info.dimensions.map(|d| d.0), "height": info.dimensions.map(|d| d.1),
            "earlier": info.restored, "duplicate_of": info.duplicate_of.map(|d| d.0),
        }),
        Event::Thumbnail { id, thumb, .. } => {
            json!({"event": "thumbnail", "id": id.0, "width": thumb.width, "height": thumb.height})
        }
        Event::ThumbnailFailed { id, reason } => {
            json!({"event": "thumbnail_failed", "id": id.0, "reason": reason.to_string()})
        }
        Event::Failed { id, reason } => {
            json!({"event": "failed", "id": id.0, "url": url, "reason": reason.to_string()})
        }
        Event::Cancelled { id } => json!({"event": "cancelled", "id": id.0, "url": url}),
        Event::Removed { id, kept_file } => {
            json!({"event": "removed", "id": id.0, "url": url, "kept_file": kept_file})
        }
        Event::Retrying {
            id,
            attempt,
            delay,
            reason,
        } => json!({
            "event": "retrying", "id": id.0, "url": url, "attempt": attempt,
            "delay_ms": delay.as_millis() as u64, "reason": reason.to_string(),
        }),
        Event::Paused { reason } => json!({"event": "paused", "reason": reason}),
        Event::ItemPaused { id, bytes } => {
            json!({"event": "item_paused", "id": id.0, "url": url, "bytes": bytes})
        }
        Event::Requeued { id } => json!({"event": "requeued", "id": id.0, "url": url}),
        Event::HostLimit { host, limit } => {
            json!({"event": "host_limit", "host": host, "limit": limit})
        }
        Event::Watched(watch) => json!({
            "event": "watched", "page": watch.page.as_str(),
            "interval_ms": watch.interval_ms, "last_check_ms": watch.last_check,
            "next_check_ms": watch.next_check, "new": watch.last_new,
            "failures": watch.failures, "error": watch.last_error,
            "queued": watch.queued, "paused": watch.paused,
        }),
        Event::Unwatched { page } => json!({"event": "unwatched", "page": page.as_str()}),
        // The CLI adds with the blocking call, which answers itself.
        Event::Idle
        | Event::MovedToTop { .. }
        | Event::Added { .. }
        | Event::CommandFailed { .. } => return None,
    })
}

fn line(stdout: &mut std::io::Stdout, value: &serde_json::Value) {
    let mut lock = stdout.lock();
    // A closed stdout (`| head`) must not turn into a panic.
    let _ = writeln!(lock, "{value}");
}
