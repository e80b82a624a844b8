//! The command line's subcommands (`get`, `find`, `thumbs`, `export`, `similar`, and
//! the browser host's `install-browser-host`, `native-host` in `crate::browser`): one
//! module each, over the options in `args`, the request options in `request` and the
//! page helpers in `pages` that `get` and `find` share.

mod args;
mod assets;
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
        Command::InstallBrowserHost(args) => install_host(args.uninstall),
        Command::NativeHost => native_host(),
        Command::PackageAssets { dir } => match assets::generate(&dir) {
            Ok(written) => {
                println!("wrote {written} files into {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("pixgrab: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// `pixgrab install-browser-host`: says where each manifest went.
fn install_host(uninstall: bool) -> ExitCode {
    match crate::browser::install::run(uninstall) {
        Ok(done) if done.is_empty() => {
            println!("No browser host manifests were installed.");
            ExitCode::SUCCESS
        }
        Ok(done) => {
            for line in &done {
                println!("{line}");
            }
            if !uninstall {
                let place = crate::browser::install::extension_dir().map_or_else(
                    || "extension/ in Pixgrab's sources".to_string(),
                    |d| d.display().to_string(),
                );
                println!(
                    "Now load the extension in your browser: chrome://extensions → Developer mode → Load unpacked → {place} (Firefox: about:debugging → Load Temporary Add-on → its manifest.json)."
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `pixgrab native-host`, also what runs when a browser starts pixgrab as its host.
pub(crate) fn native_host() -> ExitCode {
    match crate::browser::host::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // stderr goes to the browser's log; stdout is the protocol's.
            eprintln!("pixgrab native-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}
