//! `kill -9` in the middle of `pixgrab get`, then the same command again: nothing that
//! was done is fetched again, interrupted files continue with `Range`, and every file
//! ends complete and correct.

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pixgrab_testsite::loopback::{Behaviour, Response, Server};

/// (path, Range header) of every request, in order.
type Log = Arc<Mutex<Vec<(String, Option<String>)>>>;

fn get(list: &Path, out: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pixgrab"));
    cmd.args(["get", "--json", "-j", "6", "--per-host", "6", "-i"])
        .arg(list)
        .arg("-o")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

#[test]
fn kill_9_then_the_same_command_finishes_without_fetching_again() {
    let mut files: HashMap<String, Arc<[u8]>> = HashMap::new();
    for n in 0..8 {
        files.insert(
            format!("/small-{n}.png"),
            Arc::from(support::png(60, 40, n)),
        );
    }
    for n in 0..4u32 {
        files.insert(
            format!("/big-{n}.jpg"),
            Arc::from(support::jpeg(1600, 1200, n + 11)),
        );
    }
    let files = Arc::new(files);
    let log: Log = Arc::default();
    let slow = Arc::new(AtomicBool::new(true));
    let (f, l, s) = (files.clone(), log.clone(), slow.clone());
    let server = Server::start(move |req| {
        if let Ok(mut log) = l.lock() {
            log.push((req.path.clone(), req.header("range").map(str::to_string)));
        }
        let Some(body) = f.get(&req.path) else {
            return Response::status(404);
        };
        let etag = format!("\"{}-{}\"", req.path, body.len());
        let response = Response::ranged(req, "image/jpeg", body, &etag);
        if req.path.starts_with("/big") && s.load(Ordering::SeqCst) {
            // ~0.8 MB/s per connection: the big files take seconds.
            response.behaving(Behaviour::Slow {
                chunk: 16 * 1024,
                delay: Duration::from_millis(20),
            })
        } else {
            response
        }
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let list = tmp.path().join("list.txt");
    let mut paths: Vec<&String> = files.keys().collect();
    paths.sort();
    let urls: Vec<String> = paths.iter().map(|p| server.url(p)).collect();
    std::fs::write(&list, urls.join("\n")).expect("list");

    // Run 1: wait until every small file is done and big ones are part-way, then kill -9.
    let mut child = get(&list, &out).spawn().expect("spawn pixgrab");
    let stdout = child.stdout.take().expect("stdout");
    let mut small_done = 0;
    // Bytes so far of each item still downloading (only the big files take long).
    let mut progress: HashMap<u64, u64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let event: serde_json::Value = serde_json::from_str(&line).expect("json");
        let url = event["url"].as_str().unwrap_or("");
        match event["event"].as_str() {
            Some("done") if url.contains("/small-") => small_done += 1,
            Some("progress") => {
                let id = event["id"].as_u64().unwrap_or(0);
                progress.insert(id, event["bytes"].as_u64().unwrap_or(0));
            }
            _ => {}
        }
        // Kill when each big file is about half-way.
        let halfway = progress.values().filter(|&&b| b >= 800_000).count();
        if (small_done == 8 && halfway >= 4) || Instant::now() > deadline {
            break;
        }
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    assert_eq!(small_done, 8, "the small files finished before the kill");

    let parts: HashMap<String, u64> = std::fs::read_dir(&out)
        .expect("out dir")
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".jpg.part")?.to_string();
            Some((format!("/{stem}.jpg"), e.metadata().ok()?.len()))
        })
        .collect();
    assert!(
        parts.values().any(|&n| n > 0),
        "the kill left parts with data: {parts:?}"
    );
    let first_run = log.lock().expect("log").len();

    // Run 2: the same command, at full speed.
    slow.store(false, Ordering::SeqCst);
    let output = get(&list, &out).output().expect("rerun");
    assert!(output.status.success(), "rerun failed: {}", output.status);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("summary")).expect("json");
    assert_eq!(summary["done"], 12, "{summary}");
    assert_eq!(summary["failed"], 0, "{summary}");

    // Every file complete and byte-identical.
    for (path, body) in files.iter() {
        let on_disk = std::fs::read(out.join(path.trim_start_matches('/')))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(on_disk == body[..], "{path} differs from what was served");
    }
    assert!(
        !std::fs::read_dir(&out)
            .expect("out dir")
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".part")),
        "no part files left"
    );

    let log = log.lock().expect("log");
    let second: Vec<&(String, Option<String>)> = log[first_run..].iter().collect();
    // Completed files were not requested again.
    assert!(
        second.iter().all(|(p, _)| p.starts_with("/big")),
        "run 2 asked for {second:?}"
    );
    // Interrupted ones continued from their part with Range.
    let mut re_requested = 0u64;
    for (path, range) in &second {
        let len = files[path.as_str()].len() as u64;
        let start = range
            .as_deref()
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.trim_end_matches('-').parse::<u64>().ok())
            .unwrap_or(0);
        if let Some(&kept) = parts.get(path.as_str()).filter(|&&k| k > 0) {
            assert_eq!(start, kept, "{path} resumed from its part");
        }
        re_requested += len - start;
    }
    let total: u64 = files.values().map(|b| b.len() as u64).sum();
    let kept: u64 = parts.values().sum();
    println!(
        "kill -9 test: {} of {} bytes ({:.1}%) requested after the restart; {} bytes continued from {} parts",
        re_requested,
        total,
        re_requested as f64 * 100.0 / total as f64,
        kept,
        parts.len()
    );
    assert!(re_requested + kept <= total, "nothing fetched twice");
}
