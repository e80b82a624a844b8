//! `pixgrab`: the window, or `pixgrab get` for headless downloads. Both are thin
//! layers over the `pixgrab` engine library. Started by a browser, it is the browser's
//! native-messaging host (`browser`); one window runs at a time (`ipc`).

use std::process::ExitCode;

use clap::Parser;

mod browser;
mod cli;
mod common;
mod ipc;
mod launch;
mod ui;

/// The memory allocator: mimalloc, not glibc's malloc. With 100,000 items the download
/// workers, thumbnail threads and the demo's server each take and free megabytes of
/// file and pixel buffers between the items' small long-lived allocations; glibc kept
/// that memory in its per-thread arenas (99 MiB of a 300 MiB window at 20,000 items),
/// mimalloc gives freed pages back to the system.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if browser::launched_by_browser(&raw) {
        return cli::native_host();
    }
    let args = cli::Args::parse();
    match args.command {
        Some(command) => cli::run(command),
        None => launch::window(args),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    /// The process's resident memory now, in KiB.
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// The window's pattern: many long-lived worker threads take turns with buffers of
    /// megabytes (a file, its pixels) and keep small allocations (an item's name) made
    /// between them. glibc kept each thread's freed buffers in that thread's arena, so
    /// 16 workers held 16 turns' worth (229 MiB here); the allocator gives them back, or
    /// to the next worker, and holds about one turn's worth. Run in a process of its own
    /// (this test binary again, this test only), so other tests' memory does not count.
    #[test]
    #[cfg(target_os = "linux")]
    fn buffers_freed_by_worker_threads_are_not_kept_per_thread() {
        const ALONE: &str = "PIXGRAB_TEST_ALLOCATOR_ALONE";
        const NAME: &str = "tests::buffers_freed_by_worker_threads_are_not_kept_per_thread";
        if std::env::var_os(ALONE).is_none() {
            let exe = std::env::current_exe().expect("test binary");
            let out = std::process::Command::new(exe)
                .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
                .env(ALONE, "1")
                .output()
                .expect("test binary runs");
            let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{said}");
            assert!(said.contains("1 passed"), "{said}");
            return;
        }
        let grown_mib = workers_taking_turns();
        assert!(
            grown_mib < 64,
            "resident memory grew by {grown_mib} MiB for turns of at most 16 MiB"
        );
    }

    /// 16 threads take four turns each with four buffers of 2–4 MiB, keeping 64 bytes
    /// per turn; how much the resident memory grew (in MiB) while they still live.
    fn workers_taking_turns() -> u64 {
        const WORKERS: usize = 16;
        const TURNS: usize = 4;
        let before = rss_kib();
        // A token goes round the workers: one works at a time, as on a busy machine.
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..=WORKERS).map(|_| mpsc::channel::<()>()).unzip();
        let mut receivers = receivers.into_iter();
        let mut workers = Vec::new();
        for (w, turn) in receivers.by_ref().take(WORKERS).enumerate() {
            let next = senders[w + 1].clone();
            workers.push(std::thread::spawn(move || {
                let mut kept = Vec::new();
                for round in 0..TURNS {
                    turn.recv().expect("token");
                    let buffers: Vec<Vec<u8>> = (0..4)
                        .map(|i| vec![1u8; (2 + (i + w + round) % 3) << 20])
                        .collect();
                    std::hint::black_box(&buffers);
                    kept.push(vec![0u8; 64].into_boxed_slice());
                    drop(buffers);
                    next.send(()).expect("next worker");
                }
                kept
            }));
        }
        let done = receivers.next().expect("last receiver");
        for _ in 0..TURNS {
            senders[0].send(()).expect("first worker");
            done.recv().expect("round done");
        }
        // Measured while the workers still live (a pool's threads do not end).
        let grown_mib = rss_kib().saturating_sub(before) / 1024;
        let kept: usize = workers
            .into_iter()
            .map(|w| w.join().expect("worker").len())
            .sum();
        assert_eq!(kept, WORKERS * TURNS);
        grown_mib
    }
}
