//! A network of the test's own: the test runs again, as root, inside new network and
//! mount namespaces (`unshare -n -m`) whose loopback also holds "public" addresses
//! (203.0.113.7 and 203.0.113.8, which Pixgrab counts as public) and whose
//! `/etc/hosts` is the test's. Nothing leaves the machine: the namespace has no other
//! interface.

use std::path::PathBuf;
use std::process::Command;

/// The public addresses on the namespace's loopback.
pub const PUBLIC: [&str; 2] = ["203.0.113.7", "203.0.113.8"];

/// Set in the run inside the namespace.
const INSIDE: &str = "PIXGRAB_NETNS";

/// The `/etc/hosts` in force inside (a file the test may rewrite: a name that resolves
/// differently the next time).
pub fn hosts_file() -> PathBuf {
    PathBuf::from(std::env::var_os("PIXGRAB_NETNS_HOSTS").unwrap_or_default())
}

/// Runs test `name` (its path in the test binary) inside a namespace with `hosts` as its
/// `/etc/hosts` and `env` set. Returns true in the run inside (the test goes on) and
/// false outside, after the inside run passed. Without root (or `unshare`) the test is
/// skipped, unless `PIXGRAB_REQUIRE_NETNS` is set (`scripts/test` as root sets it).
pub fn inside(name: &str, hosts: &str, env: &[(&str, &str)]) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        return true;
    }
    let required = std::env::var_os("PIXGRAB_REQUIRE_NETNS").is_some();
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !root {
        assert!(!required, "{name} needs root for unshare -n -m");
        eprintln!("skipped {name}: needs root for unshare -n -m");
        return false;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let hosts_path = dir.path().join("hosts");
    std::fs::write(&hosts_path, format!("127.0.0.1 localhost\n{hosts}\n")).expect("hosts");
    let addrs: String = PUBLIC
        .iter()
        .map(|a| format!("ip addr add {a}/32 dev lo && "))
        .collect();
    let script = format!(
        "ip link set lo up && {addrs}mount --bind \"$1\" /etc/hosts && \
         exec \"$0\" --exact {name} --nocapture --test-threads=1"
    );
    let exe = std::env::current_exe().expect("test binary");
    let mut command = Command::new("unshare");
    command
        .args([
            "-n",
            "-m",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .arg(&exe)
        .arg(&hosts_path)
        .env(INSIDE, "1")
        .env("PIXGRAB_NETNS_HOSTS", &hosts_path)
        // Only what the test sets: no proxy of the machine's.
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for (key, value) in env {
        command.env(key, value);
    }
    let out = command.output().expect("run unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("unshare failed") && !required {
        eprintln!("skipped {name}: {stderr}");
        return false;
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} inside the namespace failed:\n{stdout}\n{stderr}"
    );
    false
}
