//! `pixgrab`: the window, or `pixgrab get` for headless downloads. Both are thin
//! layers over the `pixgrab` engine library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;
mod export_cmd;
mod find_cmd;
mod similar_cmd;
mod thumbs_cmd;
mod ui;

/// Download many images at once and watch their thumbnails arrive.
#[derive(Debug, Parser)]
#[command(name = "pixgrab", version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Serve sample images from this computer and fill the URL box with them.
    #[arg(long)]
    demo: bool,
    /// Number of sample images for --demo.
    #[arg(long, value_name = "N", default_value_t = pixgrab_testsite::demo::DEFAULT_COUNT, requires = "demo")]
    demo_count: usize,
    /// Output folder for this session (default: the one chosen last time).
    #[arg(short, long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Press Download at once; when all items finish, save a screenshot to FILE and exit.
    #[arg(long, value_name = "FILE", hide = true)]
    autorun_screenshot: Option<PathBuf>,
    /// With --autorun-screenshot: once half the items are done, sort the gallery by
    /// this (name, size, pixels, host) and show only downloaded ones (the frame-time
    /// benchmark of a sort and filter switched mid-run).
    #[arg(
        long,
        value_name = "SORT",
        hide = true,
        requires = "autorun_screenshot"
    )]
    autorun_sort: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Download images without a window.
    Get(Box<cli::GetArgs>),
    /// Make thumbnails of image files already on disk.
    Thumbs(thumbs_cmd::ThumbsArgs),
    /// Write an output folder's library (every item and its state) as CSV or JSON.
    Export(export_cmd::ExportArgs),
    /// List a page's images with their pixel sizes, types and bytes, fetching only the
    /// first bytes of each.
    Find(find_cmd::FindArgs),
    /// Groups of near-duplicate images (resized, recompressed, lightly cropped) in an
    /// output folder.
    Similar(similar_cmd::SimilarArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Some(Command::Get(get)) => cli::run(&get),
        Some(Command::Thumbs(args)) => thumbs_cmd::run(&args),
        Some(Command::Export(args)) => export_cmd::run(&args),
        Some(Command::Similar(args)) => similar_cmd::run(&args),
        Some(Command::Find(args)) => find_cmd::run(&args),
        None => {
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
    }
}

/// The process's peak resident memory in KiB (Linux only; `None` elsewhere).
pub(crate) fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
