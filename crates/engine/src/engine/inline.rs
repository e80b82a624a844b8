//! Inline images (`data:` URLs) between being queued and being saved.
//!
//! When a `data:` URL is added, its image is decoded at once (capped at the download
//! size cap) and kept here, in memory, under its short form (`data:image/png;sha256=HEX`,
//! see [`data_url::short_url`]): the item, the library, the list and the events know
//! only that. The download worker then turns the bytes into a part file as if they had
//! been downloaded (no request), and the image is forgotten once its file is done.
//!
//! What is kept lives only while the engine runs: an inline item still unfinished when
//! Pixgrab quits fails on the next start, saying to add the list again (which brings it
//! back under the same item). A `data:` URL that gives no image is kept as its reason,
//! under the SHA-256 of its text, so its item fails with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use url::Url;

use super::Shared;
use super::scheduler::Job;
use crate::error::FetchError;
use crate::input::data_url::{self, DataUrlError, Decoded};
use crate::net::fetch::{FetchLimits, Resume, Stopped, Whole};

/// An inline image, or why a `data:` URL gives none.
pub(super) type Held = Result<Arc<Decoded>, DataUrlError>;

/// The inline images waiting to be saved, by short form.
#[derive(Default)]
pub(super) struct Inline {
    held: Mutex<HashMap<Url, Held>>,
}

impl Inline {
    /// Decodes the `data:` URL `url` (at most `max_bytes`), keeps its image (or why it has
    /// none) and returns the short form its item is known by.
    pub(super) fn admit(&self, url: &Url, max_bytes: u64) -> Url {
        let decoded = data_url::decode(url.as_str(), max_bytes);
        let key = decoded
            .as_ref()
            .ok()
            .and_then(|image| image.short_url())
            .or_else(|| data_url::short_url_of_text(url.as_str()))
            // Never taken: a short form is a checked media type and hex, which parse.
            .unwrap_or_else(|| url.clone());
        self.lock().insert(key.clone(), decoded.map(Arc::new));
        key
    }

    /// The image kept for the short form `key`; `None` when none is (since a restart).
    pub(super) fn get(&self, key: &Url) -> Option<Held> {
        self.lock().get(key).cloned()
    }

    /// Drops the image of `key` (its file is done, or it was done already).
    pub(super) fn forget(&self, key: &Url) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Url, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why an inline item has nothing to save after a restart.
pub(super) const NOT_KEPT: &str = "the image inside this data: URL is kept only while Pixgrab \
    runs, and Pixgrab was restarted before it was saved; add the list again";

/// The inline image of `job` (a `data:` URL, decoded when it was added) as a whole part
/// ready to publish, recorded like any part: the download that follows makes no request.
/// `Err` when there is nothing to save: the URL gives no image (not one, damaged, too
/// large), the bytes are not an image, or the image was not kept (Pixgrab restarted).
pub(super) fn inline_part(
    shared: &Shared,
    job: &mut Job,
    limits: &FetchLimits,
) -> Result<(), Stopped> {
    let image = match shared.inline.get(&job.url) {
        Some(held) => held.map_err(|e| Stopped::Failed(e.into()))?,
        None => return Err(FetchError::Inline(NOT_KEPT.into()).into()),
    };
    let whole = Whole {
        origin: (*job.url).clone(),
        stem: image.stem(),
        content_type: Some(image.media_type.clone()),
        path_hint: "",
    };
    let part = Resume::from_bytes(&shared.out, whole, &image.bytes, limits)?;
    let record = part.record();
    shared.record(|lib| lib.set_part(job.id, Some(&record)));
    job.resume = Some(Box::new(part));
    Ok(())
}
