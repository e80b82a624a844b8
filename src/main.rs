//! `pixgrab`: the window, or `pixgrab get` for headless downloads. Both are thin
//! layers over the `pixgrab` engine library. Started by a browser, it is the browser's
//! native-messaging host (`browser`); one window runs at a time (`ipc`).

use std::process::ExitCode;

use clap::Parser;

mod browser;
mod cli;
mod common;
mod ipc;
mod ui;

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if browser::launched_by_browser(&raw) {
        return cli::native_host();
    }
    let args = cli::Args::parse();
    match args.command {
        Some(command) => cli::run(command),
        None => window(args),
    }
}

/// Opens the window with the options given on the command line, or hands its URLs and
/// pages to the window already running.
fn window(args: cli::Args) -> ExitCode {
    let autorun = args.autorun_screenshot.is_some();
    let mut urls = match argument_urls(args.urls) {
        Ok(urls) => urls,
        Err(e) => {
            eprintln!("pixgrab: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.from_clipboard {
        match clipboard_urls() {
            Ok(found) if found.is_empty() => {
                eprintln!("pixgrab: the clipboard holds no image URL");
                return ExitCode::FAILURE;
            }
            Ok(found) => urls.extend(found),
            Err(e) => {
                eprintln!("pixgrab: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let handover = ipc::Handover {
        urls,
        pages: args.pages,
        direct: args.queue,
        ..ipc::Handover::default()
    };
    // An autorun (tests, benchmarks) is a window of its own: no socket.
    let inbox = if autorun {
        None
    } else {
        match one_window(handover) {
            Ok(Some(inbox)) => Some(inbox),
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
            eprintln!("pixgrab: the autorun did not finish");
            ExitCode::FAILURE
        }
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// One window at a time: claims the window's socket and serves it (returning the
/// inbox the new window reads, with `handover` already in it), or, when a window holds
/// the socket, hands `handover` to it (`Ok(None)`: nothing more to do). A socket that
/// cannot be used costs only the handing over: the window opens all the same.
fn one_window(handover: ipc::Handover) -> Result<Option<ipc::Inbox>, ExitCode> {
    let (postman, inbox) = ipc::inbox();
    #[cfg(unix)]
    match ipc::Endpoint::claim() {
        Ok(Some(endpoint)) => {
            let server = postman.clone();
            if let Err(e) = endpoint.serve(move |h| server.post(h)) {
                eprintln!("pixgrab: other windows cannot hand URLs to this one: {e}");
            }
        }
        Ok(None) => {
            let count = handover.urls.len() + handover.pages.len();
            return match ipc::hand_over(&handover) {
                Ok(_) if count > 0 => {
                    println!("Handed to the Pixgrab window already running.");
                    Ok(None)
                }
                Ok(_) => {
                    println!("Pixgrab is already running: its window was brought forward.");
                    Ok(None)
                }
                Err(e) => {
                    eprintln!("pixgrab: {e}");
                    Err(ExitCode::FAILURE)
                }
            };
        }
        Err(e) => eprintln!("pixgrab: other windows cannot hand URLs to this one: {e}"),
    }
    let reply = postman.post(handover);
    if let Some(why) = reply.error {
        eprintln!("pixgrab: {why}");
        return Err(ExitCode::FAILURE);
    }
    Ok(Some(inbox))
}

/// The URLs in the clipboard's text (`--from-clipboard`), as the URL box would read them.
fn clipboard_urls() -> Result<Vec<String>, String> {
    let text = arboard::Clipboard::new()
        .and_then(|mut c| c.get_text())
        .map_err(|e| format!("could not read the clipboard: {e}"))?;
    Ok(pixgrab_engine::read_urls(&text)
        .urls
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// The window's arguments as URLs: a URL as it is; a file (a path, or the `file://` URL a
/// file manager passes) read for the URLs it holds, as "Open URL list" does.
fn argument_urls(args: Vec<String>) -> Result<Vec<String>, String> {
    /// The most of one file read (a list of URLs, not a photo).
    const MAX_LIST: u64 = 64 << 20;
    let mut urls = Vec::new();
    for arg in args {
        let path = match url::Url::parse(&arg) {
            Ok(u) if u.scheme() == "file" => u.to_file_path().ok(),
            Ok(_) => None,
            Err(_) => Some(std::path::PathBuf::from(&arg)),
        };
        match path {
            Some(path) if path.is_file() => {
                use std::io::Read;
                let mut text = String::new();
                std::fs::File::open(&path)
                    .and_then(|f| f.take(MAX_LIST).read_to_string(&mut text))
                    .map_err(|e| format!("could not read {}: {e}", path.display()))?;
                let found = pixgrab_engine::read_urls(&text);
                urls.extend(found.urls.iter().map(ToString::to_string));
            }
            _ => urls.push(arg),
        }
    }
    Ok(urls)
}
