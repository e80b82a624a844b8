//! The real `pixgrab` binary started as a browser starts its native-messaging host
//! (issue #25): Chromium's argument (the extension's origin) and Firefox's (the
//! manifest's path, the add-on's id). Its stdout carries nothing but framed answers;
//! every message gets one, bad ones an error; good ones reach the window's socket (a
//! stand-in window here, speaking the same frames) with their URLs and cookies intact.

#![cfg(unix)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn read_frames(mut bytes: &[u8]) -> Vec<Value> {
    let mut all = Vec::new();
    while bytes.len() >= 4 {
        let len = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let body = bytes.get(4..4 + len).expect("a whole frame on stdout");
        all.push(serde_json::from_slice(body).expect("JSON on stdout"));
        bytes = &bytes[4 + len..];
    }
    assert!(bytes.is_empty(), "stray bytes on stdout: {bytes:?}");
    all
}

/// A stand-in for the window: takes every handover on `dir/window.sock`, answers ok.
fn window(dir: &std::path::Path) -> Arc<Mutex<Vec<Value>>> {
    std::fs::create_dir_all(dir).expect("ipc dir");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let listener = UnixListener::bind(dir.join("window.sock")).expect("bind");
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut len = [0u8; 4];
            if stream.read_exact(&mut len).is_err() {
                continue;
            }
            let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
            if stream.read_exact(&mut body).is_err() {
                continue;
            }
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                seen.lock().expect("lock").push(value);
            }
            let _ = stream.write_all(&framed(br#"{"ok":true}"#));
        }
    });
    got
}

/// Runs the binary with `args`, feeds it `input`, returns its answers.
fn host(args: &[&str], ipc: &std::path::Path, input: Vec<u8>) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(args)
        .env("PIXGRAB_IPC_DIR", ipc)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pixgrab as a host");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("host ran");
    writer.join().expect("writer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    read_frames(&out.stdout)
}

#[test]
fn the_real_host_answers_every_message_and_hands_good_ones_to_the_window() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ipc = tmp.path().join("ipc");
    let handed = window(&ipc);
    let send = json!({
        "version": 1, "kind": "send",
        "page": "https://shop.test/gallery", "title": "Gallery",
        "urls": ["https://img.shop.test/1.jpg", "javascript:alert(1)", "https://img.shop.test/2.jpg"],
        "cookies": [{"name": "sid", "value": "abc", "domain": ".shop.test", "host_only": false,
                     "path": "/", "secure": true, "expires": null}],
        "direct": true
    });
    let mut input = Vec::new();
    input.extend(framed(br#"{"version":1,"kind":"ping"}"#));
    input.extend(framed(b"{not json"));
    input.extend(framed(
        br#"{"version":1,"kind":"send","urls":["https://a.test/x.png"],"run":"sh -c id"}"#,
    ));
    // A length over the browsers' 64 MiB limit: its bytes are skipped, nothing kept.
    let huge = (64 << 20) + 1;
    input.extend((huge as u32).to_ne_bytes());
    input.extend(std::iter::repeat_n(b'x', huge));
    input.extend(framed(send.to_string().as_bytes()));
    let answers = host(
        &["chrome-extension://gniejcgbaaehdobcnkendmbabbehnedp/"],
        &ipc,
        input,
    );
    assert_eq!(answers.len(), 5, "{answers:?}");
    assert_eq!(answers[0]["kind"], "pong");
    for (i, says) in [
        (1, "bad message"),
        (2, "unknown field `run`"),
        (3, "too large"),
    ] {
        assert_eq!(answers[i]["ok"], false, "{}", answers[i]);
        assert!(
            answers[i]["error"]
                .as_str()
                .is_some_and(|e| e.contains(says)),
            "{}",
            answers[i]
        );
    }
    assert_eq!(answers[4]["ok"], true, "{}", answers[4]);
    assert_eq!(answers[4]["urls"], 2);
    assert_eq!(answers[4]["window"], "running");
    let handed = handed.lock().expect("lock").clone();
    assert_eq!(
        handed.len(),
        1,
        "only the good message reached the window: {handed:?}"
    );
    assert_eq!(handed[0]["page"], "https://shop.test/gallery");
    assert_eq!(handed[0]["direct"], true);
    assert_eq!(handed[0]["cookies"][0]["name"], "sid");
    assert_eq!(
        handed[0]["urls"],
        json!(["https://img.shop.test/1.jpg", "https://img.shop.test/2.jpg"])
    );

    // Firefox starts it with the manifest's path and the add-on's id.
    let answers = host(
        &[
            "/home/u/.mozilla/native-messaging-hosts/io.github.pixgrab.json",
            "pixgrab@pixgrab.github.io",
        ],
        &ipc,
        framed(br#"{"version":1,"kind":"ping"}"#),
    );
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["kind"], "pong");
}

/// A window the host starts but that cannot claim the socket (its folder is open to
/// others here) ends at once, and the host says why: no 30 s wait, no window nobody
/// can reach.
#[test]
fn a_window_that_cannot_be_reached_is_said_at_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ipc = tmp.path().join("ipc");
    std::fs::create_dir_all(&ipc).expect("ipc dir");
    std::fs::set_permissions(&ipc, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let send = json!({
        "version": 1, "kind": "send", "page": "https://shop.test/",
        "urls": ["https://img.shop.test/1.jpg"], "direct": true
    });
    let started = std::time::Instant::now();
    let answers = host(
        &["chrome-extension://gniejcgbaaehdobcnkendmbabbehnedp/"],
        &ipc,
        framed(send.to_string().as_bytes()),
    );
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["ok"], false);
    let error = answers[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("could not start") && error.contains("not a private folder"),
        "{error}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
