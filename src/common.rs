//! Small helpers both front ends (the subcommands and the window) use: counted words
//! and the process's peak memory. It imports nothing from the rest of the app.

/// `1 image`, `3 images`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The process's peak resident memory in KiB (Linux only; `None` elsewhere).
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
