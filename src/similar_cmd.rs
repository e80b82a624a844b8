//! `pixgrab similar`: groups of near-duplicate images in an output folder (resized,
//! recompressed, lightly cropped copies), from the perceptual hashes in its library.
//! Items done before hashes were made get theirs now (and keep them).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, ensure};
use pixgrab_engine::disk::library::{self, Library};
use pixgrab_engine::disk::naming;
use pixgrab_engine::imaging::similar::{self, SAME_PICTURE};
use pixgrab_engine::imaging::sniff::{self, Sniffed};
use pixgrab_engine::imaging::thumbs;
use serde_json::json;

/// Options of `pixgrab similar`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimilarArgs {
    /// The output folder whose images to compare.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// One JSON object per group: {"group": N, "files": [paths relative to DIR]}.
    #[arg(long)]
    json: bool,
}

/// Runs `pixgrab similar`.
pub(crate) fn run(args: &SimilarArgs) -> ExitCode {
    match similar_groups(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pixgrab: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn similar_groups(args: &SimilarArgs) -> Result<()> {
    ensure!(
        library::exists_in(&args.out),
        "{} has no Pixgrab library (nothing was downloaded there)",
        args.out.display()
    );
    let data = args.out.join(pixgrab_engine::disk::store::DATA_DIR);
    let lib = Library::open(&data, false)?;
    let mut hashed = Vec::new();
    for file in lib.hashed_files()? {
        let phash = match file.phash {
            Some(phash) => Some(phash),
            // Done before hashes were made: hash its thumbnail now, once.
            None if naming::is_safe_relative(&file.file) => {
                let phash = hash_file(&args.out.join(&file.file));
                if let Some(phash) = &phash {
                    lib.set_phash(file.id, phash)?;
                }
                phash
            }
            None => None,
        };
        if let Some(phash) = phash {
            hashed.push((file.file, phash));
        }
    }
    let groups = similar::groups(&hashed, SAME_PICTURE);
    let mut stdout = std::io::stdout().lock();
    for (n, files) in (1..).zip(&groups) {
        let text = if args.json {
            json!({"group": n, "files": files}).to_string()
        } else {
            format!("group {n}:\n  {}", files.join("\n  "))
        };
        // A closed stdout (`| head`) is not an error worth reporting.
        if writeln!(stdout, "{text}").is_err() {
            break;
        }
    }
    if !args.json {
        eprintln!(
            "{} group{} of similar images among {} files",
            groups.len(),
            if groups.len() == 1 { "" } else { "s" },
            hashed.len()
        );
    }
    Ok(())
}

/// The perceptual hash of an image file's thumbnail (as the engine makes it).
fn hash_file(path: &std::path::Path) -> Option<String> {
    let mut head = vec![0; sniff::SNIFF_LEN];
    let n = std::io::Read::read(&mut std::fs::File::open(path).ok()?, &mut head).ok()?;
    let Sniffed::Image(format) = sniff::sniff(&head[..n]) else {
        return None;
    };
    let thumb = thumbs::make_thumbnail(path, format, thumbs::DEFAULT_THUMB_SIDE).ok()?;
    similar::hash_thumbnail(&thumb)
}
