//! A download's part file between attempts ([`Resume`]), and whole bodies that did not
//! come from a download (a Find's fetch, an inline image) made into parts.

use std::io::{self, Seek, Write};

use reqwest::blocking::Response;
use reqwest::header::{self};
use sha2::{Digest, Sha256};
use url::Url;

use crate::disk::library::PartRecord;
use crate::disk::store::{OutputDir, PartFile};
use crate::error::FetchError;
use crate::imaging::sniff::{self, ImageFormat, Sniffed};

use super::errors::disk_error;
use super::{FetchLimits, READ_BUF, Stopped, stem_for};
use crate::disk::hash::HashWriter;

/// A body whole in its part file, handed up by [`super::download`]: not yet checked,
/// named or published (the engine decides). Dropping it removes the part;
/// [`Complete::into_part`] gives the part back to be kept for the next attempt.
#[derive(Debug)]
pub(crate) struct Complete {
    part: Resume,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// What the server said the type was, if anything.
    pub content_type: Option<String>,
    /// The URL after redirects.
    pub final_url: Url,
}

impl Complete {
    pub(super) fn new(part: Resume, content_type: Option<String>, final_url: Url) -> Self {
        Self {
            sha256: format!("{:x}", part.hasher.clone().finalize()),
            content_type: part.content_type.clone().or(content_type),
            final_url,
            part,
        }
    }

    /// The part file's path (inside the output folder).
    pub(crate) fn path(&self) -> &std::path::Path {
        self.part.part.path()
    }

    /// The format judged from the first bytes.
    pub(crate) fn format(&self) -> ImageFormat {
        self.part.format
    }

    /// The file-name stem its headers or URL gave.
    pub(crate) fn stem(&self) -> &str {
        &self.part.stem
    }

    /// Bytes in the file.
    pub(crate) fn bytes(&self) -> u64 {
        self.part.written
    }

    /// The part file, for the output folder to publish.
    pub(crate) fn file(&mut self) -> &mut PartFile {
        &mut self.part.part
    }

    /// The part, to be kept for the next attempt (its publishing failed: every byte is
    /// there, the next attempt only publishes it).
    pub(crate) fn into_part(self) -> Resume {
        self.part
    }
}

/// A partial download kept between attempts.
#[derive(Debug)]
pub(crate) struct Resume {
    pub(super) part: PartFile,
    pub(super) stem: String,
    pub(super) format: ImageFormat,
    pub(super) written: u64,
    pub(super) hasher: Sha256,
    pub(super) total: Option<u64>,
    /// ETag (preferred) or Last-Modified of the first response.
    pub(super) validator: Option<String>,
    pub(super) content_type: Option<String>,
    /// A failed write could not be undone: the file no longer matches the hash, so this
    /// part must not be continued.
    pub(super) broken: bool,
    /// Where the bytes came from after redirects, when known (a Find's whole file).
    pub(super) origin: Option<Url>,
}

impl Resume {
    /// Bytes already on disk.
    pub(crate) fn bytes(&self) -> u64 {
        self.written
    }

    /// What the library stores to continue this part after a restart.
    pub(crate) fn record(&self) -> PartRecord {
        PartRecord {
            name: self.part.name(),
            stem: self.stem.clone(),
            total: self.total,
            validator: self.validator.clone(),
            content_type: self.content_type.clone(),
        }
    }

    /// Leaves the part file on disk (for the next run) instead of removing it.
    pub(crate) fn keep(mut self) {
        self.part.keep();
    }

    /// A whole file already in memory (a Find fetched it for its preview) as a part
    /// ready to publish: the download that follows makes no request. `None` when the
    /// bytes are not an image or the part cannot be written.
    pub(crate) fn whole(out: &OutputDir, file: Fetched, limits: &FetchLimits) -> Option<Self> {
        let hint = file.url.path().to_string();
        let whole = Whole {
            origin: file.url,
            stem: file.stem,
            content_type: file.content_type,
            path_hint: &hint,
        };
        Self::from_bytes(out, whole, &file.bytes, limits).ok()
    }

    /// `bytes`, a whole body from somewhere other than a response (a Find's fetch, an
    /// inline image), as a part ready to publish, checked as a download's first bytes
    /// are: it must be an image (sniffed) within the size cap. Its failures are a
    /// download's: not an image, too large, a name or a disk that cannot be written.
    pub(crate) fn from_bytes(
        out: &OutputDir,
        whole: Whole<'_>,
        bytes: &[u8],
        limits: &FetchLimits,
    ) -> Result<Self, Stopped> {
        if bytes.len() as u64 > limits.max_bytes {
            return Err(FetchError::TooLarge(limits.max_bytes).into());
        }
        let said = whole.content_type.as_deref();
        let format = match sniff::sniff_with_hints(bytes, said, whole.path_hint) {
            Sniffed::Image(format) => format,
            Sniffed::NotImage(what) => {
                let said = said.unwrap_or("no type");
                return Err(
                    FetchError::NotAnImage(format!("{what}, declared as {said}"), None).into(),
                );
            }
        };
        let part = out
            .create_part(&whole.stem, format.extension())
            .map_err(disk_error)?;
        let mut state = Self {
            part,
            stem: whole.stem,
            format,
            written: 0,
            hasher: Sha256::new(),
            total: Some(bytes.len() as u64),
            validator: None,
            content_type: whole.content_type,
            broken: false,
            origin: Some(whole.origin),
        };
        state.append(bytes, limits)?;
        Ok(state)
    }

    /// Rebuilds the state of a part left by an earlier run: reopens the file and hashes
    /// what it holds. `None` when the file is gone, unusable, or cannot be continued
    /// safely (no validator, unknown format); the caller then starts from zero.
    /// A part that cannot be continued is removed.
    pub(crate) fn reopen(out: &OutputDir, record: &PartRecord) -> Option<Self> {
        // Opened first, so that returning `None` below drops (and removes) it.
        let mut part = out.reopen_part(&record.name).ok()?;
        record.validator.as_ref()?;
        let name = record.name.strip_suffix(crate::disk::store::PART_SUFFIX)?;
        let ext = name.rsplit_once('.')?.1;
        let format = ImageFormat::from_extension(ext)?;
        let mut hasher = Sha256::new();
        // Read through the descriptor `reopen_part` checked (no second open by path).
        let mut reader = io::BufReader::with_capacity(READ_BUF, &part.file);
        let written = io::copy(&mut reader, &mut HashWriter(&mut hasher)).ok()?;
        if written == 0 || record.total.is_some_and(|t| written > t) {
            return None;
        }
        part.file.flush().ok()?;
        Some(Self {
            part,
            stem: record.stem.clone(),
            format,
            written,
            hasher,
            total: record.total,
            validator: record.validator.clone(),
            content_type: record.content_type.clone(),
            broken: false,
            origin: None,
        })
    }
}

/// What the server said a response's type is (at most 100 characters: it is shown
/// in reasons and stored).
pub(crate) fn content_type(response: &Response) -> Option<String> {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(100).collect())
}

/// What [`Resume::from_bytes`] needs besides the bytes.
#[derive(Debug, Clone)]
pub(crate) struct Whole<'a> {
    /// Where the bytes came from (the item's final URL).
    pub origin: Url,
    /// The file-name stem.
    pub stem: String,
    /// The type the bytes were declared as, if any.
    pub content_type: Option<String>,
    /// A URL path whose extension may name a format the bytes do not show ("" for none).
    pub path_hint: &'a str,
}

/// A whole response body held in memory, with what naming and sniffing it needs.
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    /// The URL it came from, after redirects.
    pub url: Url,
    /// The file-name stem its headers and URL give (as a download would name it).
    pub stem: String,
    /// What the server said the type was.
    pub content_type: Option<String>,
    /// The body.
    pub bytes: Vec<u8>,
}

impl Fetched {
    /// A body read whole from `response` (whose headers name it).
    pub(crate) fn of(response: &Response, bytes: Vec<u8>) -> Self {
        Self {
            url: response.url().clone(),
            stem: stem_for(response.headers(), response.url()),
            content_type: content_type(response),
            bytes,
        }
    }
}

impl Resume {
    pub(super) fn append(&mut self, chunk: &[u8], limits: &FetchLimits) -> Result<(), Stopped> {
        if chunk.is_empty() {
            return Ok(());
        }
        if self.written + chunk.len() as u64 > limits.max_bytes {
            return Err(FetchError::TooLarge(limits.max_bytes).into());
        }
        if let Err(e) = self.part.file.write_all(chunk) {
            // Part of the chunk may have landed: cut the file back to what is counted,
            // so a later attempt continues exactly where the hash and `written` are.
            let undone = self.part.file.set_len(self.written).is_ok()
                && self
                    .part
                    .file
                    .seek(io::SeekFrom::Start(self.written))
                    .is_ok();
            self.broken = !undone;
            return Err(disk_error(e));
        }
        self.hasher.update(chunk);
        self.written += chunk.len() as u64;
        Ok(())
    }
}
