//! Download benchmark: `pixgrab get` with its defaults (adaptive per-host limits), with
//! the old fixed defaults (`-j 8 --per-host 4`) and wide open, against a sequential
//! one-at-a-time client, all fetching the same corpus from the in-process loopback server
//! in the same run; each run's time to the first response headers and to the first
//! thumbnail; then peak memory with 10,000 URLs downloaded and with 100,000 URLs queued.
//!
//! Run: `cargo bench --bench download` (add `-- --small 400 --photos 40 --latency-ms 40
//! --mbps 0 --jobs 32 --memory 10000 --queued 100000` to change the corpus, the simulated
//! link, the widest run's connection count or the memory runs; `--mbps 0` means
//! uncapped, `0` skips a memory run). aria2c and curl run on the same list when they are
//! installed.
//! Every downloaded file is checked against the served bytes by SHA-256.

use std::collections::HashMap;
use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use pixgrab_testsite::demo::with_comment;
use pixgrab_testsite::loopback::{Link, Response, Server};
use sha2::{Digest, Sha256};

struct Options {
    /// Time photos and small images separately.
    split: bool,
    /// URLs for the memory run (0 skips it).
    memory: usize,
    /// URLs for the queued-memory run (0 skips it).
    queued: usize,
    photos: usize,
    small: usize,
    latency: Duration,
    bytes_per_sec: Option<u64>,
    /// Connections for the widest pixgrab run and for the other tools.
    jobs: usize,
}

fn main() -> Result<()> {
    let opts = parse_options()?;
    let corpus = Corpus::generate(opts.photos, opts.small)?;
    let served = Arc::new(corpus.files.clone());
    let link = Link {
        latency: opts.latency,
        bytes_per_sec: opts.bytes_per_sec,
    };
    let server = Server::with_link(link, move |req| match served.get(req.path.as_str()) {
        Some(body) => Response::ok("image/jpeg", body.clone()),
        None => Response::status(404),
    })?;
    let total: u64 = corpus.files.values().map(|b| b.len() as u64).sum();
    let mean = |prefix: &str| {
        let sizes: Vec<usize> = corpus
            .files
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v.len())
            .collect();
        sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64 / 1e6
    };
    println!(
        "corpus: {} photos of {:.2} MB + {} small images of {:.3} MB = {:.1} MB; link: latency {:?}, bandwidth {}",
        opts.photos,
        mean("/photo"),
        opts.small,
        mean("/small"),
        total as f64 / 1e6,
        opts.latency,
        opts.bytes_per_sec
            .map_or("uncapped".to_string(), |b| format!(
                "{:.0} MB/s",
                b as f64 / 1e6
            )),
    );
    let tmp = tempfile::tempdir()?;
    let sets: Vec<(&str, Vec<String>)> = if opts.split {
        vec![
            (
                "photos",
                corpus
                    .order
                    .iter()
                    .filter(|p| p.starts_with("/photo"))
                    .cloned()
                    .collect(),
            ),
            (
                "small images",
                corpus
                    .order
                    .iter()
                    .filter(|p| p.starts_with("/small"))
                    .cloned()
                    .collect(),
            ),
        ]
    } else {
        vec![("all", corpus.order.clone())]
    };
    for (name, paths) in sets {
        let bytes: u64 = paths.iter().map(|p| corpus.files[p].len() as u64).sum();
        let lower_bound = opts.bytes_per_sec.map(|b| bytes as f64 / b as f64);
        println!(
            "== {name}: {} files, {:.1} MB",
            paths.len(),
            bytes as f64 / 1e6
        );
        if let Some(lb) = lower_bound {
            println!("link lower bound (bytes / bandwidth): {lb:.2} s");
        }
        let dir = tmp.path().join(name.replace(' ', "_"));
        std::fs::create_dir_all(&dir)?;
        let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
        let list = dir.join("list.txt");
        std::fs::write(&list, urls.join("\n"))?;

        let sequential = time(|| sequential(&urls, &dir.join("seq")))?;
        report("sequential (1 at a time)", sequential, lower_bound, None);

        let wide = opts.jobs.to_string();
        let mut old_defaults = None;
        for (label, extra) in [
            (
                "pixgrab get -j 8 --per-host 4 (the old defaults)".to_string(),
                vec!["-j", "8", "--per-host", "4"],
            ),
            ("pixgrab get (defaults: adaptive)".to_string(), vec![]),
            (
                format!("pixgrab get -j {wide} --per-host {wide}"),
                vec!["-j", &wide, "--per-host", &wide],
            ),
        ] {
            let out = dir.join(label.replace([' ', '(', ')', ':'], "_"));
            let run = run_pixgrab(&list, &out, &extra)?;
            verify(&out, paths.iter().map(|p| (p, &corpus.files[p])))?;
            report(&label, run.last_file, lower_bound, Some(sequential));
            println!(
                "  first response headers at {:.3} s, first thumbnail at {:.3} s, all thumbnails and exit at {:.2} s",
                run.first_headers, run.first_thumbnail, run.total
            );
            match old_defaults {
                None => old_defaults = Some(run.last_file),
                Some(old) => println!("  {:.3}x the old defaults' time", run.last_file / old),
            }
        }
        for tool in other_tools(&list, &urls, opts.jobs) {
            let out = dir.join(tool.label.replace(' ', "_"));
            std::fs::create_dir_all(&out)?;
            let secs = time(|| tool.run(&out))?;
            verify(&out, paths.iter().map(|p| (p, &corpus.files[p])))?;
            report(&tool.label, secs, lower_bound, Some(sequential));
        }
    }
    if opts.memory > 0 {
        for count in [100, opts.memory] {
            let peak = peak_memory(tmp.path(), count)?;
            println!(
                "peak RSS of pixgrab get with {count:6} URLs, all downloaded: {:.1} MiB",
                peak as f64 / 1024.0
            );
        }
    }
    if opts.queued > 0 {
        let peak = queued_memory(tmp.path(), opts.queued)?;
        println!(
            "peak RSS of pixgrab get with {} URLs all queued (a host that never answers): {:.1} MiB",
            opts.queued,
            peak as f64 / 1024.0
        );
    }
    Ok(())
}

/// Runs `pixgrab get --json` on `count` URLs of tiny images (no latency) and returns
/// the peak RSS it reports, in KiB.
fn peak_memory(dir: &Path, count: usize) -> Result<u64> {
    let tiny: Arc<[u8]> = Arc::from(noisy_jpeg(16, 16, 3)?);
    let server = Server::start(move |_| Response::ok("image/jpeg", tiny.clone()))?;
    let list = dir.join(format!("memory-{count}.txt"));
    let urls: Vec<String> = (0..count)
        .map(|n| server.url(&format!("/m/{n}.jpg")))
        .collect();
    std::fs::write(&list, urls.join("\n"))?;
    let out = dir.join(format!("memory-{count}"));
    let output = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(["get", "--json", "-j", "8", "--per-host", "8", "-i"])
        .arg(&list)
        .arg("-o")
        .arg(&out)
        .output()
        .context("run pixgrab")?;
    ensure!(
        output.status.success(),
        "pixgrab get failed: {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().context("no output")?;
    let value: serde_json::Value = serde_json::from_str(summary)?;
    ensure!(
        value["done"] == count,
        "not every tiny image downloaded: {summary}"
    );
    value["peak_rss_kib"]
        .as_u64()
        .context("no peak_rss_kib in the summary")
}

fn report(label: &str, secs: f64, lower_bound: Option<f64>, baseline: Option<f64>) {
    let mut line = format!("{label:32} {secs:7.2} s");
    if let Some(base) = baseline {
        line.push_str(&format!("   {:.2}x faster than sequential", base / secs));
    }
    if let Some(lb) = lower_bound {
        line.push_str(&format!("   {:.3}x the link lower bound", secs / lb));
    }
    println!("{line}");
}

fn time(f: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_secs_f64())
}

/// The baseline: one blocking client, one request at a time, streamed to disk.
fn sequential(urls: &[String], out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    pixgrab_engine::install_tls_provider();
    let client = reqwest::blocking::Client::new();
    for (i, url) in urls.iter().enumerate() {
        let mut response = client.get(url).send()?.error_for_status()?;
        let mut file = std::fs::File::create(out.join(format!("{i}.jpg")))?;
        std::io::copy(&mut response, &mut file)?;
        file.flush()?;
    }
    Ok(())
}

/// Another downloader, run on the same list when it is installed (aria2c, curl).
struct Tool {
    label: String,
    program: &'static str,
    args: Vec<String>,
}

impl Tool {
    fn run(&self, out: &Path) -> Result<()> {
        let status = Command::new(self.program)
            .args(&self.args)
            .current_dir(out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .with_context(|| format!("run {}", self.program))?;
        ensure!(status.success(), "{} failed: {status}", self.label);
        Ok(())
    }
}

/// aria2c and curl --parallel with `jobs` connections, those of them on `PATH`.
fn other_tools(list: &Path, urls: &[String], jobs: usize) -> Vec<Tool> {
    let installed = |program: &str| {
        Command::new(program)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut tools = Vec::new();
    if installed("aria2c") {
        tools.push(Tool {
            label: format!("aria2c -j {jobs}"),
            program: "aria2c",
            args: vec![
                "-q".into(),
                "-i".into(),
                list.display().to_string(),
                "-j".into(),
                jobs.to_string(),
                "--max-connection-per-server=1".into(),
                "--auto-file-renaming=false".into(),
                "--allow-overwrite=true".into(),
                "--file-allocation=none".into(),
            ],
        });
    }
    if installed("curl") {
        let mut args = vec![
            "-s".into(),
            "-f".into(),
            "--parallel".into(),
            "--parallel-max".into(),
            jobs.to_string(),
            "--remote-name-all".into(),
        ];
        args.extend(urls.iter().cloned());
        tools.push(Tool {
            label: format!("curl --parallel-max {jobs}"),
            program: "curl",
            args,
        });
    }
    tools
}

/// Runs `pixgrab get --json` and returns (seconds until the last file was on disk,
/// seconds until the process finished, thumbnails included).
/// When things happened in one `pixgrab get` run, in seconds from its start.
struct Run {
    /// The first response headers (`started`).
    first_headers: f64,
    /// The first thumbnail.
    first_thumbnail: f64,
    /// The last file on disk (done or failed).
    last_file: f64,
    /// The process exited (every thumbnail made).
    total: f64,
}

fn run_pixgrab(list: &Path, out: &Path, extra: &[&str]) -> Result<Run> {
    use std::io::BufRead;
    let exe = env!("CARGO_BIN_EXE_pixgrab");
    let start = Instant::now();
    let mut child = Command::new(exe)
        .args(["get", "--json", "-i"])
        .arg(list)
        .arg("-o")
        .arg(out)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("run pixgrab")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (mut first_headers, mut first_thumbnail, mut last_file) = (None, None, 0.0);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        let at = start.elapsed().as_secs_f64();
        if line.contains("\"event\":\"started\"") {
            first_headers.get_or_insert(at);
        } else if line.contains("\"event\":\"thumbnail\"") {
            first_thumbnail.get_or_insert(at);
        } else if line.contains("\"event\":\"done\"") || line.contains("\"event\":\"failed\"") {
            last_file = at;
        }
    }
    let status = child.wait()?;
    let total = start.elapsed().as_secs_f64();
    ensure!(status.success(), "pixgrab get failed: {status}");
    Ok(Run {
        first_headers: first_headers.unwrap_or(f64::NAN),
        first_thumbnail: first_thumbnail.unwrap_or(f64::NAN),
        last_file,
        total,
    })
}

/// Peak RSS (KiB) of `pixgrab get` once `count` URLs are all queued: they point at a
/// listener that accepts connections and never answers, so nothing finishes. Read
/// from `/proc` once every `queued` line is out, then the process is stopped.
fn queued_memory(dir: &Path, count: usize) -> Result<u64> {
    use std::io::BufRead;
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let port = listener.local_addr()?.port();
    let list = dir.join("queued.txt");
    let urls: Vec<String> = (0..count)
        .map(|n| format!("http://127.0.0.1:{port}/gallery/images/2024/photo-{n:06}.jpg"))
        .collect();
    std::fs::write(&list, urls.join("\n"))?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(["get", "--json", "-i"])
        .arg(&list)
        .arg("-o")
        .arg(dir.join("queued"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("run pixgrab")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut queued = 0;
    for line in std::io::BufReader::new(stdout).lines() {
        if line?.contains("\"event\":\"queued\"") {
            queued += 1;
            if queued == count {
                break;
            }
        }
    }
    // A moment for the engine to settle what it does after queueing.
    std::thread::sleep(Duration::from_millis(500));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?;
    let _ = child.kill();
    let _ = child.wait();
    drop(listener);
    ensure!(queued == count, "only {queued} of {count} URLs were queued");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc")
}

/// Every served file must be on disk, byte for byte, under its URL's name.
fn verify<'a>(out: &Path, files: impl Iterator<Item = (&'a String, &'a Arc<[u8]>)>) -> Result<()> {
    let mut count = 0;
    for (path, body) in files {
        count += 1;
        let name = path.trim_start_matches('/');
        let on_disk = std::fs::read(out.join(name)).with_context(|| format!("missing {name}"))?;
        if Sha256::digest(&on_disk) != Sha256::digest(&body[..]) {
            bail!("{name}: content differs from what was served");
        }
    }
    println!("  verified {count} files by SHA-256");
    Ok(())
}

struct Corpus {
    files: HashMap<String, Arc<[u8]>>,
    order: Vec<String>,
}

impl Corpus {
    /// Photos of ~3.5 MB and small images of ~100 KB: noisy JPEGs, each made
    /// distinct by a comment segment (so every file has its own hash).
    fn generate(photos: usize, small: usize) -> Result<Self> {
        let photo = noisy_jpeg(1600, 1200, 1)?;
        let thumb = noisy_jpeg(290, 215, 2)?;
        let mut files = HashMap::new();
        let mut order = Vec::new();
        let mut add = |name: String, base: &[u8], n: usize| {
            let body = with_comment(base, &format!("pixgrab bench {name} {n}"));
            order.push(format!("/{name}"));
            files.insert(format!("/{name}"), Arc::from(body));
        };
        for n in 0..photos {
            add(format!("photo-{n:03}.jpg"), &photo, n);
        }
        for n in 0..small {
            add(format!("small-{n:03}.jpg"), &thumb, n);
        }
        Ok(Self { files, order })
    }
}

fn noisy_jpeg(width: u32, height: u32, seed: u32) -> Result<Vec<u8>> {
    let mut state = seed.wrapping_mul(2_654_435_761) | 1;
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (state & 0xff) as u8;
        image::Rgb([((x + y) / 8) as u8 ^ n, (y / 3) as u8 ^ (n >> 1), n])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 92,
    ))?;
    Ok(out.into_inner())
}

fn parse_options() -> Result<Options> {
    let mut opts = Options {
        split: false,
        memory: 10_000,
        queued: 100_000,
        photos: 40,
        small: 400,
        latency: Duration::from_millis(40),
        bytes_per_sec: None,
        jobs: 32,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().context("missing value");
        match arg.as_str() {
            "--photos" => opts.photos = value()?.parse()?,
            "--small" => opts.small = value()?.parse()?,
            "--memory" => opts.memory = value()?.parse()?,
            "--queued" => opts.queued = value()?.parse()?,
            "--split" => opts.split = true,
            "--jobs" => opts.jobs = value()?.parse()?,
            "--latency-ms" => opts.latency = Duration::from_millis(value()?.parse()?),
            "--mbps" => {
                let mb: f64 = value()?.parse()?;
                opts.bytes_per_sec = (mb > 0.0).then_some((mb * 1e6) as u64);
            }
            // cargo bench passes --bench; ignore what is not ours.
            _ => {}
        }
    }
    Ok(opts)
}
