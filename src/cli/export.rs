//! `pixgrab export`: an output folder's library as CSV or JSON.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use pixgrab_engine::disk::library::{self, Library};

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
    anyhow::ensure!(
        library::exists_in(&args.out),
        "{} has no Pixgrab library (nothing was downloaded there)",
        args.out.display()
    );
    let data = args.out.join(pixgrab_engine::disk::store::DATA_DIR);
    let records = Library::open(&data, false)?.all()?;
    let text = if args.json {
        library::to_json(&records)
    } else {
        library::to_csv(&records)
    };
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
