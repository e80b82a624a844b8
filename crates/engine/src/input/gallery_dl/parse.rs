//! Reading gallery-dl's JSON output message by message into a [`Listing`], and what
//! one run's exit status and output mean.

use std::collections::HashSet;

use serde_json::Value;

use super::errors::{cap_text, error_line, error_text};
use super::media::{media, web_url};
use super::{GalleryDlError, Listing};

/// Exit status gallery-dl sets when no extractor matches a URL.
const EXIT_UNSUPPORTED: i32 = 64;

/// Reads the outcome of one run: exit status `code`, standard output and standard error.
pub(super) fn interpret(
    code: Option<i32>,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<Listing, GalleryDlError> {
    if code == Some(EXIT_UNSUPPORTED) {
        return Err(GalleryDlError::Unsupported);
    }
    let failed = || {
        GalleryDlError::Failed(error_line(stderr).unwrap_or_else(|| match code {
            Some(0) => "gallery-dl printed nothing".to_owned(),
            Some(code) => format!("gallery-dl exited with status {code}"),
            None => "gallery-dl was stopped by a signal".to_owned(),
        }))
    };
    if stdout.trim_ascii().is_empty() {
        return Err(failed());
    }
    let mut listing = match parse_dump(stdout) {
        Ok(listing) => listing,
        Err(e) => {
            return Err(GalleryDlError::Failed(error_line(stderr).unwrap_or_else(
                || format!("gallery-dl printed JSON we could not read ({e})"),
            )));
        }
    };
    let found_nothing = listing.media.is_empty() && listing.pages.is_empty();
    if code != Some(0) {
        if found_nothing && listing.errors.is_empty() {
            return Err(failed());
        }
        if let Some(line) = error_line(stderr) {
            listing.errors.push(line);
        }
    }
    if found_nothing && let Some(first) = listing.errors.first() {
        return Err(GalleryDlError::Failed(first.clone()));
    }
    Ok(listing)
}

/// Most media, pages and errors one listing keeps (what a page may offer at most).
const MAX_ENTRIES: usize = crate::input::page::MAX_CANDIDATES;

/// Reads gallery-dl's `--dump-json` / `--resolve-json` output: one JSON list of messages, or
/// one message per line (the `output.jsonl` setting). Message by message: only one message is
/// held as a JSON tree at a time (a 64 MiB listing once took 780 MB as one tree), and at most
/// [`MAX_ENTRIES`] media, pages and errors are kept.
fn parse_dump(bytes: &[u8]) -> Result<Listing, serde_json::Error> {
    use serde::de::Deserializer as _;
    let mut collector = Collector::default();
    let mut whole = serde_json::Deserializer::from_slice(bytes);
    match whole
        .deserialize_any(&mut collector)
        .and_then(|()| whole.end())
    {
        Ok(()) => Ok(collector.listing),
        Err(e) => {
            let mut collector = Collector::default();
            for line in bytes.split(|&b| b == b'\n') {
                if line.trim_ascii().is_empty() {
                    continue;
                }
                // Report the whole-document error when the lines are not JSON either.
                match serde_json::from_slice::<Value>(line) {
                    Ok(message) => collector.take(&message),
                    Err(_) => return Err(e),
                }
                if collector.full() {
                    break;
                }
            }
            Ok(collector.listing)
        }
    }
}

/// Builds a [`Listing`] from gallery-dl's messages, one at a time.
#[derive(Default)]
struct Collector {
    listing: Listing,
    seen: HashSet<String>,
}

impl Collector {
    /// True when no more media are kept.
    fn full(&self) -> bool {
        self.listing.media.len() >= MAX_ENTRIES
    }

    /// Takes one message.
    fn take(&mut self, message: &Value) {
        let Some(parts) = message.as_array() else {
            return;
        };
        let listing = &mut self.listing;
        match parts.first() {
            Some(Value::Number(kind)) => match kind.as_i64() {
                Some(3) => match parts.get(1).and_then(Value::as_str).and_then(web_url) {
                    Some(url) if listing.media.len() < MAX_ENTRIES => {
                        if self.seen.insert(url.as_str().to_owned()) {
                            listing.media.push(media(url, parts.get(2)));
                        }
                    }
                    Some(_) => {}
                    None => listing.skipped += 1,
                },
                Some(6) => match parts.get(1).and_then(Value::as_str).and_then(web_url) {
                    Some(url) if listing.pages.len() < MAX_ENTRIES => {
                        if self.seen.insert(url.as_str().to_owned()) {
                            listing.pages.push(url);
                        }
                    }
                    Some(_) => {}
                    None => listing.skipped += 1,
                },
                Some(-1) if listing.errors.len() < 100 => {
                    listing.errors.push(error_text(parts.get(1)));
                }
                _ => {} // 2: directory metadata.
            },
            // gallery-dl 1.29.0 and older: `["HttpError", "message"]`.
            Some(Value::String(kind)) if listing.errors.len() < 100 => {
                let message = parts.get(1).and_then(Value::as_str).unwrap_or_default();
                listing
                    .errors
                    .push(cap_text(&format!("{kind}: {}", message.trim())));
            }
            _ => {}
        }
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Collector {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of gallery-dl messages")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(first) = seq.next_element::<Value>()? else {
            return Ok(());
        };
        if first.is_number() || first.is_string() {
            // One message on one line, `[3, "https://…", {…}]`, starts with its kind.
            let mut message = vec![first];
            while let Some(part) = seq.next_element::<Value>()? {
                message.push(part);
            }
            self.take(&Value::Array(message));
            return Ok(());
        }
        self.take(&first);
        while !self.full() {
            match seq.next_element::<Value>()? {
                Some(message) => self.take(&message),
                None => return Ok(()),
            }
        }
        // Full: the rest is skipped without being built.
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Not a message (a single object): nothing in it, read to its end.
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(())
    }
}
