//! `pixgrab similar`: groups of near-duplicate images in an output folder (resized,
//! recompressed, lightly cropped copies), from the perceptual hashes in its library.
//! Items done before hashes were made get theirs now (and keep them).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use pixgrab_engine::Folder;
use serde_json::json;

use super::args::SimilarArgs;

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
    let found = Folder::open(&args.out)?.similar_groups()?;
    let groups: Vec<Vec<String>> = found
        .groups
        .into_iter()
        .map(|g| g.into_iter().map(|(_, file)| file).collect())
        .collect();
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
            "{} of copies among {} files{}{}",
            crate::common::plural(groups.len(), "group"),
            found.compared,
            match found.unknown {
                0 => String::new(),
                n => format!("; {n} too small or too plain to compare"),
            },
            match found.loose {
                0 => String::new(),
                n => format!(
                    "; {n} look alike but are not clearly copies of one picture (not listed)"
                ),
            },
        );
    }
    Ok(())
}
