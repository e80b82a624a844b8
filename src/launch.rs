//! How the window starts: its arguments read as URLs (text, files, the clipboard), and
//! one window at a time (the first claims the window socket; a later one hands its URLs
//! and pages to it, or says plainly why it cannot).

use std::process::ExitCode;

use crate::{cli, ipc, ui};

/// Set by the browser's host on the window it starts: a window that cannot claim the
/// socket then ends at once (nobody could hand it anything) instead of opening.
pub(crate) const STARTED_BY_HOST: &str = "PIXGRAB_STARTED_BY_HOST";

/// Opens the window with the options given on the command line, or hands its URLs and
/// pages to the window already running.
pub(crate) fn window(args: cli::Args) -> ExitCode {
    let autorun = args.autorun_screenshot.is_some();
    let given = !args.urls.is_empty() || args.from_clipboard;
    let mut urls = match argument_urls(&args.urls) {
        Ok(urls) => urls,
        Err(e) => return fail(&e),
    };
    if args.from_clipboard {
        match clipboard_urls() {
            Ok(found) => urls.extend(found),
            Err(e) => return fail(&e),
        }
    }
    if given && urls.is_empty() {
        return fail("no http, https or data:image URL in what was given");
    }
    let handover = ipc::Handover {
        urls,
        pages: args.pages.clone(),
        direct: args.queue,
        ..ipc::Handover::default()
    };
    // An autorun (tests, benchmarks) is a window of its own: no socket.
    let (inbox, _claim) = if autorun {
        (None, None)
    } else {
        let new_window_only = args.out.is_some() || args.demo;
        match one_window(handover, new_window_only) {
            Ok(Some((inbox, claim))) => (Some(inbox), claim),
            Ok(None) => return ExitCode::SUCCESS,
            Err(code) => return code,
        }
    };
    let options = ui::UiOptions {
        demo: args.demo.then_some(args.demo_count),
        autorun_screenshot: args.autorun_screenshot,
        autorun_sort: args.autorun_sort,
        out_dir: args.out,
        inbox,
    };
    match ui::run(options) {
        Ok(()) if autorun && !ui::AUTORUN_OK.load(std::sync::atomic::Ordering::SeqCst) => {
            fail("the autorun did not finish")
        }
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

fn fail(why: &str) -> ExitCode {
    eprintln!("pixgrab: {why}");
    ExitCode::FAILURE
}

/// What a new window keeps: the inbox it reads, and its hold on the socket (if it has
/// one), whose file goes when the window closes.
#[cfg(unix)]
type Opened = (ipc::Inbox, Option<ipc::Claim>);
#[cfg(not(unix))]
type Opened = (ipc::Inbox, Option<()>);

/// One window at a time: claims the window's socket and serves it (returning the inbox
/// the new window reads, with `handover` already in it), or, when a window holds the
/// socket, hands `handover` to it (`Ok(None)`: nothing more to do). Options that only a
/// new window can take (`new_window_only`: `-o`, `--demo`) are refused then, not
/// dropped. A socket that cannot be used costs only the handing over: the window opens
/// all the same, unless the browser's host started it.
fn one_window(handover: ipc::Handover, new_window_only: bool) -> Result<Option<Opened>, ExitCode> {
    let (postman, inbox) = ipc::inbox();
    let mut claim = None;
    #[cfg(unix)]
    match ipc::Endpoint::claim() {
        Ok(Some(endpoint)) => {
            let server = postman.clone();
            match endpoint.serve(move |h| server.post(h)) {
                Ok(held) => claim = Some(held),
                Err(e) => eprintln!("pixgrab: other windows cannot hand URLs to this one: {e}"),
            }
        }
        Ok(None) if new_window_only => {
            return Err(fail(
                "Pixgrab is already running; -o and --demo apply to a new window: close the running one first",
            ));
        }
        Ok(None) => return hand_over_to_running(&handover).map(|()| None),
        Err(e) if std::env::var_os(STARTED_BY_HOST).is_some() => {
            return Err(fail(&format!("the window cannot be reached: {e}")));
        }
        Err(e) => eprintln!("pixgrab: other windows cannot hand URLs to this one: {e}"),
    }
    let reply = postman.post(handover);
    if let Some(why) = reply.error {
        return Err(fail(&why));
    }
    Ok(Some((inbox, claim)))
}

/// Hands `handover` to the running window and says what came of it.
#[cfg(unix)]
fn hand_over_to_running(handover: &ipc::Handover) -> Result<(), ExitCode> {
    let asked = handover.urls.len() + handover.pages.len();
    match ipc::hand_over(handover) {
        Ok(_) if asked == 0 => {
            println!("Pixgrab is already running: its window was brought forward.");
            Ok(())
        }
        Ok(reply) => {
            let taken = reply.taken.unwrap_or(asked);
            println!(
                "Handed {} to the Pixgrab window already running.",
                crate::common::plural(taken, "URL")
            );
            Ok(())
        }
        Err(e) => Err(fail(&e.to_string())),
    }
}

/// The URLs in the window's arguments, read as the URL box reads text (any text that
/// contains URLs); a file (a path, or the `file://` URL a file manager passes) is read
/// for the URLs it holds, as "Open URL list" does.
fn argument_urls(args: &[String]) -> Result<Vec<String>, String> {
    /// The most of one file read (a list of URLs, not a photo).
    const MAX_LIST: u64 = 64 << 20;
    let mut text = String::new();
    for arg in args {
        let path = match url::Url::parse(arg) {
            Ok(u) if u.scheme() == "file" => u.to_file_path().ok(),
            Ok(_) => None,
            Err(_) => Some(std::path::PathBuf::from(arg)),
        };
        match path {
            Some(path) if path.is_file() => {
                use std::io::Read;
                std::fs::File::open(&path)
                    .and_then(|f| f.take(MAX_LIST).read_to_string(&mut text))
                    .map_err(|e| format!("could not read {}: {e}", path.display()))?;
            }
            _ => text.push_str(arg),
        }
        text.push('\n');
    }
    Ok(urls_in(&text))
}

/// The URLs in the clipboard's text (`--from-clipboard`).
fn clipboard_urls() -> Result<Vec<String>, String> {
    let text = arboard::Clipboard::new()
        .and_then(|mut c| c.get_text())
        .map_err(|e| format!("could not read the clipboard: {e}"))?;
    Ok(urls_in(&text))
}

fn urls_in(text: &str) -> Vec<String> {
    pixgrab_engine::read_urls(text)
        .urls
        .iter()
        .map(ToString::to_string)
        .collect()
}
