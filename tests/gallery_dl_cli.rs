//! gallery-dl under `pixgrab get`, stopped by a signal (issue 23, item 7): nothing of the
//! user's cookies is left on disk and gallery-dl does not outlive Pixgrab.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "no {what} within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn files_in(dir: &std::path::Path) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect()
}

fn alive(pid: &str) -> bool {
    // A zombie is not alive: it has ended and only waits to be reaped.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

#[test]
fn ctrl_c_while_gallery_dl_runs_leaves_no_cookies_and_no_gallery_dl() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let tmpdir = tmp.path().join("tmp");
    std::fs::create_dir(&tmpdir).expect("tmp");
    let fake = tmp.path().join("gallery-dl");
    let pid_file = tmp.path().join("gdl.pid");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho $$ > '{}'\nexec sleep 60\n",
            pid_file.display()
        ),
    )
    .expect("fake");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let cookies = tmp.path().join("cookies.txt");
    std::fs::write(
        &cookies,
        "# Netscape HTTP Cookie File\nsite.example\tFALSE\t/\tFALSE\t0\tsession\tsecret\n",
    )
    .expect("cookies");
    let mut pixgrab = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args([
            "get",
            "--page",
            "https://site.example/gallery",
            "--watch",
            "1m",
        ])
        .arg("--gallery-dl")
        .arg(&fake)
        .arg("--cookies")
        .arg(&cookies)
        .arg("-o")
        .arg(tmp.path().join("out"))
        .env("TMPDIR", &tmpdir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pixgrab");
    wait_for("gallery-dl start", || {
        std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty())
    });
    let gdl = std::fs::read_to_string(&pid_file)
        .expect("pid")
        .trim()
        .to_string();
    let left = files_in(&tmpdir);
    assert!(left.is_empty(), "while gallery-dl runs, on disk: {left:?}");
    let sent = Command::new("kill")
        .args(["-INT", &pixgrab.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    let mut ended = None;
    wait_for("pixgrab to end", || {
        ended = pixgrab.try_wait().expect("wait");
        ended.is_some()
    });
    wait_for("gallery-dl to be stopped", || !alive(&gdl));
    let left = files_in(&tmpdir);
    assert!(left.is_empty(), "left on disk: {left:?}");
}
