//! `pixgrab export`: an output folder's library as CSV or JSON.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use pixgrab_engine::{ExportFormat, Folder};

use super::args::ExportArgs;

/// Runs `pixgrab export`.
pub(crate) fn run(args: &ExportArgs) -> ExitCode {
    match export(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn export(args: &ExportArgs) -> Result<()> {
    let format = if args.json {
        ExportFormat::Json
    } else {
        ExportFormat::Csv
    };
    let text = Folder::open(&args.out)?.export(format)?;
    match &args.to {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed stdout (`| head`) is not an error worth reporting.
            let _ = stdout.write_all(text.as_bytes());
            Ok(())
        }
    }
}
