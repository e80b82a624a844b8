//! `pixgrab thumbs`: thumbnails for files already on disk, one per core, so the
//! pipeline can be compared with other tools from the command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use pixgrab_engine::ThumbnailWriter;
use rayon::prelude::*;

use super::args::ThumbsArgs;

/// Runs `pixgrab thumbs`; exit 0 when every input made a thumbnail, 1 otherwise, 2 on bad usage.
pub(crate) fn run(args: &ThumbsArgs) -> ExitCode {
    match run_inner(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &ThumbsArgs) -> Result<bool> {
    let files = expand(&args.inputs)?;
    let out = ThumbnailWriter::open(&args.out)
        .with_context(|| format!("cannot use output folder {}", args.out.display()))?;
    let started = Instant::now();
    let results: Vec<(PathBuf, Result<PathBuf, String>)> = files
        .par_iter()
        .map(|file| (file.clone(), out.write(file, args.size)))
        .collect();
    let mut ok = 0;
    for (file, result) in &results {
        match result {
            Ok(_) => ok += 1,
            Err(reason) => eprintln!("failed {}: {reason}", file.display()),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "Made {ok} of {} thumbnails in {secs:.2} s ({:.1} per second) into {}",
        results.len(),
        ok as f64 / secs.max(1e-9),
        out.root().display()
    );
    Ok(ok == results.len())
}

fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(input)
                .with_context(|| format!("cannot read {}", input.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            inside.sort();
            files.extend(inside);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            anyhow::bail!("{} is not a file or folder", input.display());
        }
    }
    Ok(files)
}
