//! `pixgrab`: the window, or `pixgrab get` for headless downloads. Both are thin
//! layers over the `pixgrab` engine library.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod common;
mod ipc;
mod ui;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match args.command {
        Some(command) => cli::run(command),
        None => window(args),
    }
}

/// Opens the window with the options given on the command line.
fn window(args: cli::Args) -> ExitCode {
    let autorun = args.autorun_screenshot.is_some();
    let options = ui::UiOptions {
        demo: args.demo.then_some(args.demo_count),
        autorun_screenshot: args.autorun_screenshot,
        autorun_sort: args.autorun_sort,
        out_dir: args.out,
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
