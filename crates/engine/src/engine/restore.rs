//! Starting from the library: every item comes back as events, queued and paused
//! ones as jobs with their part files, done ones with their cached thumbnails.

use std::sync::Arc;

use url::Url;

use super::publish::report_done;
use super::scheduler::Job;
use super::{DoneInfo, Event, Shared};
use crate::disk::library::{ItemState, Record};
use crate::error::FetchError;
use crate::imaging::sniff::ImageFormat;

/// The size of a part file in the output folder (0 if missing or oddly named).
fn part_len(shared: &Shared, name: &str) -> u64 {
    if !crate::disk::naming::is_safe_component(name) {
        return 0;
    }
    std::fs::symlink_metadata(shared.out.root().join(name)).map_or(0, |m| m.len())
}

/// Brings back what the library holds: events for every item, jobs for queued and
/// paused ones (with their parts), thumbnails (from the cache) for done ones.
pub(super) fn restore(shared: &Arc<Shared>, records: Vec<Record>) {
    let events = &shared.events;
    let mut queued = Vec::new();
    let mut held = Vec::new();
    for record in records {
        let Ok(url) = Url::parse(&record.url).map(Arc::new) else {
            continue;
        };
        let id = record.id;
        if record.state == ItemState::Removed {
            // Removed by the user: neither in the queue nor in the gallery any more.
            continue;
        }
        events.send(Event::Queued {
            id,
            url: url.clone(),
        });
        let state = record.state;
        match state {
            ItemState::Queued | ItemState::Paused => {
                let mut job = Job::from_record(&record, url);
                // Parts are reopened (and re-hashed) by the worker that continues them.
                let bytes = record
                    .part
                    .as_ref()
                    .map_or(0, |p| part_len(shared, &p.name));
                job.part = record.part.map(Box::new);
                if record.state == ItemState::Queued {
                    events.enter(1);
                    queued.push(job);
                } else {
                    events.send(Event::ItemPaused { id, bytes });
                    held.push(job);
                }
            }
            ItemState::Done => restore_done(shared, id, &url, record),
            ItemState::Failed => events.send(Event::Failed {
                id,
                reason: FetchError::Earlier(record.error.unwrap_or_default()),
            }),
            ItemState::Cancelled => events.send(Event::Cancelled { id }),
            ItemState::Removed => {}
        }
    }
    shared.scheduler.push_held(held);
    shared.scheduler.push(queued);
}

/// A done item from the library: its event and thumbnail, unless its file is named
/// outside the folder (then it fails with why).
fn restore_done(shared: &Arc<Shared>, id: crate::item::ItemId, url: &Url, record: Record) {
    let events = &shared.events;
    let (Some(file), Some(sha256)) = (record.file, record.sha256) else {
        return;
    };
    // The library is a file on disk like any other: a name in it that is not
    // one plain file name of this folder is never read, thumbnailed or opened.
    // A missing file is reported as before (its thumbnail says so); one
    // reached through a symlink is not.
    let path = shared.out.published(&file);
    let elsewhere = path
        .as_ref()
        .is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound);
    if elsewhere {
        events.send(Event::Failed {
            id,
            reason: FetchError::Earlier(format!(
                "the library names a file outside the folder ({:?}); ignored",
                file.chars().take(80).collect::<String>()
            )),
        });
        return;
    }
    let format = record
        .format
        .as_deref()
        .and_then(ImageFormat::from_extension)
        .unwrap_or(ImageFormat::Jpeg);
    let info = DoneInfo {
        path: path.unwrap_or_else(|_| shared.out.root().join(file)),
        bytes: record.bytes.unwrap_or(0),
        format,
        content_type: record.content_type,
        dimensions: record.dimensions,
        sha256,
        final_url: record
            .final_url
            .and_then(|u| Url::parse(&u).ok())
            .unwrap_or_else(|| url.clone()),
        duplicate_of: record.duplicate_of,
        restored: true,
    };
    events.enter(1);
    report_done(shared, id, info, None);
}
