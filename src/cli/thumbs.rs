//! `pixgrab thumbs`: thumbnails for files already on disk, one per core, so the
//! pipeline can be compared with other tools from the command line.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use pixgrab_engine::disk::store::OutputDir;
use pixgrab_engine::imaging::sniff::{self, SNIFF_LEN, Sniffed};
use pixgrab_engine::imaging::thumbs;
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
    let out = OutputDir::open(&args.out)
        .with_context(|| format!("cannot use output folder {}", args.out.display()))?;
    let started = Instant::now();
    let results: Vec<(PathBuf, Result<PathBuf, String>)> = files
        .par_iter()
        .map(|file| (file.clone(), thumbnail_file(file, &out, args.size)))
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

fn thumbnail_file(file: &Path, out: &OutputDir, size: u32) -> Result<PathBuf, String> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    std::fs::File::open(file)
        .and_then(|f| f.take(SNIFF_LEN as u64).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    // The file's extension is the only hint a file has (a TGA has no magic number).
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    let format = match sniff::sniff_with_hints(&head, None, name.as_deref().unwrap_or("")) {
        Sniffed::Image(format) => format,
        Sniffed::NotImage(what) => return Err(format!("not an image (got {what})")),
    };
    let write = |thumb: &thumbs::Thumbnail| -> Result<PathBuf, String> {
        let (ext, bytes) = thumbs::encode_for_cache(thumb).map_err(|e| e.to_string())?;
        let stem = pixgrab_engine::disk::naming::stem_from_file_name(
            &file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        out.write_new(&stem, ext, &bytes).map_err(|e| e.to_string())
    };
    match thumbs::make_thumbnail(file, format, size) {
        Ok(thumb) => write(&thumb),
        // Damaged, but part of it could be read: that part is written, and the file
        // still counts as failed.
        Err(e) => Err(match e.preview().map(|p| write(p)) {
            Some(Ok(path)) => format!("{e} (what could be read is in {})", path.display()),
            _ => e.to_string(),
        }),
    }
}

/// Files named directly, plus the files directly inside named folders, sorted.
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
