//! `pixgrab`: the window, or `pixgrab get` for headless downloads. Both are thin
//! layers over the `pixgrab` engine library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// Download many images at once and watch their thumbnails arrive.
#[derive(Debug, Parser)]
#[command(name = "pixgrab", version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download images without a window.
    Get(cli::GetArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Get(get)) => cli::run(&get),
        None => {
            // TODO(issue 3): open the window here.
            eprintln!("pixgrab: the window is not built yet; use `pixgrab get --help`");
            ExitCode::from(2)
        }
    }
}
