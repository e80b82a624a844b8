//! The command line's subcommands (`get`, `find`, `thumbs`, `export`, `similar`): one
//! module each, over the options in `args`, the request options in `request` and the
//! page helpers in `pages` that `get` and `find` share.

mod args;
mod export;
mod find;
mod get;
mod pages;
mod request;
mod similar;
mod thumbs;
mod values;

use std::process::ExitCode;

pub(crate) use args::{Args, Command};

/// Runs one subcommand and returns its exit status.
pub(crate) fn run(command: Command) -> ExitCode {
    match command {
        Command::Get(args) => get::run(&args),
        Command::Thumbs(args) => thumbs::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Similar(args) => similar::run(&args),
        Command::Find(args) => find::run(&args),
    }
}
