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
