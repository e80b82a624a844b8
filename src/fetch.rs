//! Moving bytes: one HTTP GET streamed into a `.part` file in the output folder,
//! checked, then published under its final name.
//!
//! Invariants: the body is never held in memory whole (it streams through a fixed
//! buffer); the file's extension comes from the bytes, not from the server; a
//! failed or cancelled download leaves no file behind.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::blocking::Client;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::FetchError;
use crate::naming;
use crate::sniff::{self, ImageFormat, SNIFF_LEN, Sniffed};
use crate::store::OutputDir;

/// Size of the read buffer. Large reads keep syscalls and progress bookkeeping rare.
const READ_BUF: usize = 256 * 1024;

/// Limits one download obeys.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// Fail when the body grows beyond this many bytes.
    pub max_bytes: u64,
    /// Fail when no byte arrives for this long.
    pub stall_timeout: Duration,
}

/// A finished download.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// Where the file now lives (inside the output folder).
    pub path: PathBuf,
    /// Bytes written.
    pub bytes: u64,
    /// The format judged from the bytes.
    pub format: ImageFormat,
    /// What the server said the type was, if anything.
    pub content_type: Option<String>,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// The URL after redirects.
    pub final_url: Url,
}

/// What a download reports while it runs.
pub enum Progress {
    /// Response headers arrived; `total` is the Content-Length if given.
    Started {
        /// Announced size.
        total: Option<u64>,
    },
    /// `bytes` have arrived so far.
    Bytes(u64),
}

/// The outcome of [`download`] when it does not succeed.
#[derive(Debug)]
pub enum Stopped {
    /// The item's cancel flag was raised.
    Cancelled,
    /// It failed, with a reason for the user.
    Failed(FetchError),
}

impl From<FetchError> for Stopped {
    fn from(e: FetchError) -> Self {
        Self::Failed(e)
    }
}

/// Downloads `url` into `out`. Calls `progress` after each read; it must be cheap.
pub fn download(
    client: &Client,
    url: &Url,
    out: &OutputDir,
    limits: &FetchLimits,
    cancel: &AtomicBool,
    mut progress: impl FnMut(Progress),
) -> Result<Downloaded, Stopped> {
    // The client's timeout bounds each wait (headers, every read): a stall watchdog.
    // A per-request timeout would instead cap the whole transfer, killing slow ones.
    let mut response = client
        .get(url.clone())
        .send()
        .map_err(|e| request_error(&e, limits))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Http {
            code: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
        }
        .into());
    }
    let total = response.content_length();
    if total.is_some_and(|t| t > limits.max_bytes) {
        return Err(FetchError::TooLarge(limits.max_bytes).into());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(100).collect::<String>());
    let final_url = response.url().clone();
    progress(Progress::Started { total });

    // Read the head, judge it, and only then create a file.
    let mut buf = vec![0u8; READ_BUF];
    let mut got: usize = 0;
    while got < SNIFF_LEN {
        if cancel.load(Ordering::Relaxed) {
            return Err(Stopped::Cancelled);
        }
        match response.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(&e, got as u64, total, limits).into()),
        }
    }
    let format = match sniff::sniff(&buf[..got]) {
        Sniffed::Image(format) => format,
        Sniffed::NotImage(what) => {
            let said = content_type.as_deref().unwrap_or("no type");
            return Err(FetchError::NotAnImage(format!("{what}, served as {said}")).into());
        }
    };

    let stem = naming::stem_from_url(&final_url);
    let ext = format.extension();
    let mut part = out.create_part(&stem, ext).map_err(disk_error)?;
    let mut hasher = Sha256::new();
    let mut written: u64 = 0;
    let mut pending = got;
    loop {
        if pending > 0 {
            let chunk = &buf[..pending];
            hasher.update(chunk);
            part.file.write_all(chunk).map_err(disk_error)?;
            written += pending as u64;
            if written > limits.max_bytes {
                return Err(FetchError::TooLarge(limits.max_bytes).into());
            }
            progress(Progress::Bytes(written));
        }
        if cancel.load(Ordering::Relaxed) {
            return Err(Stopped::Cancelled);
        }
        pending = match response.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(read_error(&e, written, total, limits).into()),
        };
    }
    if let Some(expected) = total.filter(|&t| t != written) {
        return Err(FetchError::Truncated {
            got: written,
            expected,
        }
        .into());
    }
    let path = out.commit(part, &stem, ext).map_err(disk_error)?;
    Ok(Downloaded {
        path,
        bytes: written,
        format,
        content_type,
        sha256: hex(&hasher.finalize()),
        final_url,
    })
}

fn request_error(e: &reqwest::Error, limits: &FetchLimits) -> FetchError {
    if e.is_redirect() {
        return FetchError::Redirect(innermost(e));
    }
    if e.is_timeout() {
        return FetchError::Stalled(limits.stall_timeout);
    }
    if e.is_connect() {
        return FetchError::Connect(innermost(e));
    }
    FetchError::Network(innermost(e))
}

fn read_error(e: &io::Error, got: u64, total: Option<u64>, limits: &FetchLimits) -> FetchError {
    let timed_out = e.kind() == io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    if timed_out {
        return FetchError::Stalled(limits.stall_timeout);
    }
    if let Some(expected) = total.filter(|&t| got < t) {
        // The peer closed early; the announced length tells the user how much is missing.
        if matches!(e.kind(), io::ErrorKind::UnexpectedEof) || is_incomplete_body(e) {
            return FetchError::Truncated { got, expected };
        }
    }
    FetchError::Network(innermost(e))
}

fn is_incomplete_body(e: &io::Error) -> bool {
    let text = innermost(e).to_ascii_lowercase();
    text.contains("end of file") || text.contains("incomplete") || text.contains("eof")
}

fn disk_error(e: io::Error) -> Stopped {
    Stopped::Failed(FetchError::Disk(e.to_string()))
}

/// The most specific message in an error chain ("connection refused", not "error sending request").
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    let text = current.to_string();
    // Strip the "(os error 111)" noise users do not need.
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
