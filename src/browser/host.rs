//! `pixgrab native-host`: the browser's native-messaging host. It reads the extension's
//! messages on stdin (a 4-byte length, then JSON; see `extension/README.md` for the
//! protocol), answers each on stdout, and hands the images to the running window
//! through its socket (`crate::ipc`), starting a window when none runs.
//!
//! Invariants: stdout carries only framed answers (anything else would break the
//! browser's reading); every message gets exactly one answer, an error included (too
//! large, not JSON, an unknown field, a wrong version), and a bad one loses nothing
//! already handed over; nothing a page put in a message acts before it is checked
//! ([`Handover::check`]).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use crate::ipc::frame::{self, FrameError, MAX_MESSAGE, MAX_REPLY};
use crate::ipc::{Handover, HandoverCookie, IpcError};

/// The protocol version this host speaks.
pub(crate) const PROTOCOL: u32 = 1;

/// How long a window started by the host has to open its socket.
const WINDOW_START: Duration = Duration::from_secs(30);

/// One message from the extension (unknown fields are refused).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BrowserMessage {
    /// The protocol version the extension speaks.
    version: u32,
    /// What it asks.
    kind: Kind,
    /// The tab's address.
    #[serde(default)]
    page: Option<String>,
    /// The tab's title.
    #[serde(default)]
    title: Option<String>,
    /// The images found.
    #[serde(default)]
    urls: Vec<String>,
    /// Cookies of the hosts involved.
    #[serde(default)]
    cookies: Vec<HandoverCookie>,
    /// Queue at once instead of opening the picker.
    #[serde(default)]
    direct: bool,
}

/// What a message asks.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    /// Is the host there? (The popup asks when it opens.)
    Ping,
    /// Hand these images to the window.
    Send,
}

/// How a handover reached a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reached {
    /// A window was running.
    Running,
    /// No window was running: one was started.
    Started,
}

/// Runs the host on stdin and stdout until the browser closes stdin.
pub(crate) fn run_stdio() -> anyhow::Result<()> {
    let mut input = io::stdin().lock();
    let mut output = io::stdout().lock();
    serve(&mut input, &mut output, &mut to_window)?;
    Ok(())
}

/// Answers every message on `input` until it ends, handing images to `deliver`.
pub(crate) fn serve(
    input: &mut impl Read,
    output: &mut impl Write,
    deliver: &mut dyn FnMut(Handover) -> Result<Reached, String>,
) -> io::Result<()> {
    loop {
        let answer = match frame::read_frame(input, MAX_MESSAGE) {
            Ok(None) => return Ok(()),
            Ok(Some(body)) => answer(&body, deliver),
            // The length said too much: its bytes were skipped, the next message reads.
            Err(e @ FrameError::TooLarge { .. }) => refusal(&e.to_string()),
            // The stream ended inside a message: say so (the browser may still read it),
            // and end: nothing more will come.
            Err(e @ FrameError::Cut(_)) => {
                eprintln!("pixgrab native-host: {e}");
                let _ = frame::write_json(output, &refusal(&e.to_string()), MAX_REPLY);
                return Ok(());
            }
            Err(e) => return Err(io::Error::other(e.to_string())),
        };
        frame::write_json(output, &answer, MAX_REPLY)
            .map_err(|e| io::Error::other(e.to_string()))?;
    }
}

/// The answer to one message's bytes.
fn answer(
    body: &[u8],
    deliver: &mut dyn FnMut(Handover) -> Result<Reached, String>,
) -> serde_json::Value {
    let message: BrowserMessage = match serde_json::from_slice(body) {
        Ok(message) => message,
        Err(e) => return refusal(&format!("bad message: {e}")),
    };
    if message.version != PROTOCOL {
        return refusal(&format!(
            "this Pixgrab speaks protocol version {PROTOCOL}, the extension {}: update the older one",
            message.version
        ));
    }
    if message.kind == Kind::Ping {
        return json!({"ok": true, "kind": "pong", "version": env!("CARGO_PKG_VERSION")});
    }
    let handover = Handover {
        urls: message.urls,
        page: message.page,
        title: message.title,
        cookies: message.cookies,
        direct: message.direct,
        pages: Vec::new(),
    };
    // Checked here as the window will check it again, to say what is wrong to the
    // extension; only the URLs that passed go on.
    let mut handover = handover;
    let count = match handover.clone().check() {
        Ok(checked) if checked.urls.is_empty() => {
            return refusal(
                "no images to send (none of the addresses is an http, https or data:image URL)",
            );
        }
        Ok(checked) => {
            handover.urls = checked.urls.iter().map(|u| u.to_string()).collect();
            checked.urls.len()
        }
        Err(why) => return refusal(&why),
    };
    match deliver(handover) {
        Ok(reached) => json!({
            "ok": true,
            "kind": "sent",
            "urls": count,
            "window": match reached {
                Reached::Running => "running",
                Reached::Started => "started",
            },
        }),
        Err(why) => refusal(&why),
    }
}

fn refusal(why: &str) -> serde_json::Value {
    json!({"ok": false, "error": why})
}

/// Hands `handover` to the running window, starting one when none runs.
fn to_window(handover: Handover) -> Result<Reached, String> {
    match crate::ipc::hand_over(&handover) {
        Ok(_) => return Ok(Reached::Running),
        Err(IpcError::NoWindow) => {}
        Err(e) => return Err(e.to_string()),
    }
    let (mut window, log) = start_window().map_err(|e| format!("could not start Pixgrab: {e}"))?;
    let since = Instant::now();
    loop {
        match crate::ipc::hand_over(&handover) {
            Ok(_) => return Ok(Reached::Started),
            Err(IpcError::NoWindow) if since.elapsed() < WINDOW_START => {
                // A window that ended at once says why on its stderr.
                if let Ok(Some(status)) = window.try_wait() {
                    let said = std::fs::read_to_string(log.path()).unwrap_or_default();
                    let why = said
                        .lines()
                        .rev()
                        .find(|l| l.starts_with("pixgrab:"))
                        .map_or_else(|| format!("it ended ({status})"), str::to_string);
                    return Err(format!("Pixgrab's window could not start: {why}"));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(IpcError::NoWindow) => {
                return Err(format!(
                    "Pixgrab's window did not open within {} s",
                    WINDOW_START.as_secs()
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Starts a window of this same binary, detached from the browser: its own process
/// group (a browser that ends its host does not end the window), no inherited stdin or
/// stdout (stdout is the browser's pipe); its stderr goes to a file the host reads if
/// the window ends at once. Told that the host started it, a window that cannot claim
/// the socket ends instead of opening where nobody can reach it.
fn start_window() -> io::Result<(std::process::Child, tempfile::NamedTempFile)> {
    let exe = std::env::current_exe()?;
    let log = tempfile::NamedTempFile::new()?;
    let mut command = std::process::Command::new(exe);
    command
        .env(crate::launch::STARTED_BY_HOST, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log.reopen()?);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    Ok((command.spawn()?, log))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::frame::framed;

    /// Every answer the host wrote.
    fn answers(mut out: &[u8]) -> Vec<serde_json::Value> {
        let mut all = Vec::new();
        while let Some(value) = frame::read_json(&mut out, MAX_REPLY).expect("a frame") {
            all.push(value);
        }
        all
    }

    #[test]
    fn every_message_gets_one_answer_and_bad_ones_lose_nothing() {
        let send = |urls: &str| {
            format!(
                r#"{{"version":1,"kind":"send","page":"https://a.test/g","title":"G","urls":{urls},"cookies":[],"direct":true}}"#
            )
        };
        let mut input = Vec::new();
        input.extend(framed(br#"{"version":1,"kind":"ping"}"#));
        input.extend(framed(
            send(r#"["https://a.test/1.jpg","https://a.test/2.jpg"]"#).as_bytes(),
        ));
        input.extend(framed(b"this is not json"));
        input.extend(framed(
            br#"{"version":1,"kind":"send","urls":[],"exec":"sh"}"#,
        ));
        input.extend(framed(br#"{"version":2,"kind":"ping"}"#));
        // Over the browser's limit: only its length is sent here, then the stream ends.
        input.extend(((MAX_MESSAGE + 1) as u32).to_ne_bytes());
        input.extend(vec![b' '; MAX_MESSAGE + 1]);
        input.extend(framed(send(r#"["javascript:alert(1)"]"#).as_bytes()));
        input.extend(framed(send(r#"["https://a.test/3.jpg"]"#).as_bytes()));
        let mut output = Vec::new();
        let mut delivered = Vec::new();
        serve(&mut input.as_slice(), &mut output, &mut |h| {
            delivered.push(h);
            Ok(Reached::Running)
        })
        .expect("served");
        let answers = answers(&output);
        assert_eq!(answers.len(), 8, "{answers:?}");
        assert_eq!(answers[0]["kind"], "pong");
        assert_eq!(
            (answers[1]["ok"].clone(), answers[1]["urls"].clone()),
            (json!(true), json!(2))
        );
        for (i, says) in [
            (2, "bad message"),
            (3, "unknown field `exec`"),
            (4, "protocol version 1"),
            (5, "message too large"),
            (6, "no images to send"),
        ] {
            assert_eq!(answers[i]["ok"], false, "{i}: {}", answers[i]);
            let error = answers[i]["error"].as_str().unwrap_or_default();
            assert!(error.contains(says), "{i}: {error}");
        }
        assert_eq!(answers[7]["ok"], true);
        let urls: Vec<Vec<String>> = delivered.iter().map(|h| h.urls.clone()).collect();
        assert_eq!(
            urls,
            [
                vec![
                    "https://a.test/1.jpg".to_string(),
                    "https://a.test/2.jpg".into()
                ],
                vec!["https://a.test/3.jpg".to_string()],
            ]
        );
        assert!(delivered[0].direct);
        assert_eq!(delivered[0].page.as_deref(), Some("https://a.test/g"));
    }

    #[test]
    fn a_window_that_refuses_is_said_to_the_extension() {
        let mut input = framed(
            br#"{"version":1,"kind":"send","page":"https://a.test/","urls":["https://a.test/1.jpg"]}"#,
        );
        input.extend(framed(br#"{"version":1,"kind":"ping"}"#));
        let mut output = Vec::new();
        serve(&mut input.as_slice(), &mut output, &mut |_| {
            Err("the window refused it: busy".into())
        })
        .expect("served");
        let answers = answers(&output);
        assert_eq!(answers[0]["error"], "the window refused it: busy");
        assert_eq!(answers[1]["kind"], "pong");
    }
}
