//! A complete part's way into the folder, decided here and nowhere below: checked by
//! decoding it on the thumbnail pool (its thumbnail made on the way), named by the
//! user's template, published by the output folder, recorded in the library (a file
//! whose bytes another item holds already becomes a duplicate of it), reported.
//!
//! Invariant: no damaged image is published under a final name; the thumbnail the
//! check made is the one reported (no second decode).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use super::events::Events;
use super::worker::panic_text;
use super::{DoneInfo, Event, ItemId, Shared};
use crate::disk::hash::sha256_file;
use crate::disk::library::{DoneRecord, ItemState};
use crate::disk::store::OutputDir;
use crate::disk::template::{self, NameFields, Rendered};
use crate::error::FetchError;
use crate::imaging::reasons::ThumbError;
use crate::imaging::similar;
use crate::imaging::sniff::ImageFormat;
use crate::imaging::thumbs::{self, Thumbnail};
use crate::net::fetch::{self, Complete, Resume, Stopped};

/// The item a complete part belongs to, as a file-name template sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Item<'a> {
    /// Its id (`{num}`).
    pub id: ItemId,
    /// The URL asked for (`{host}`).
    pub url: &'a Url,
    /// The page it was found on, if any (`{page}`).
    pub page: Option<&'a Url>,
}

/// Publishes a checked part under `name` (a template's) or under its own stem, through
/// the output folder, and says what was done (its pixel size and whether it is a
/// duplicate are learnt when it is recorded). If that fails the part goes back into
/// `resume`: every byte is there, and the next attempt only publishes it.
pub(super) fn publish(
    out: &OutputDir,
    mut complete: Complete,
    name: Option<&Rendered>,
    resume: &mut Option<Resume>,
) -> Result<DoneInfo, Stopped> {
    let (stem, format) = (complete.stem().to_string(), complete.format());
    let committed = match name {
        Some(name) => out.commit_in(complete.file(), &name.dirs, &name.stem, &name.ext),
        None => out.commit(complete.file(), &stem, format.extension()),
    };
    match committed {
        Ok(path) => Ok(DoneInfo {
            path,
            bytes: complete.bytes(),
            format,
            sha256: complete.sha256,
            content_type: complete.content_type,
            final_url: complete.final_url,
            dimensions: None,
            duplicate_of: None,
            restored: false,
        }),
        Err(e) => {
            *resume = Some(complete.into_part());
            Err(fetch::disk_error(e))
        }
    }
}

/// Checks a complete part by decoding it on the thumbnail pool (the thumbnail made on
/// the way is cached, so publishing costs no second decode) and waits for the verdict.
/// Damaged (cut or corrupt) is an `Err`; with `keep`, the bytes are first put aside in
/// `OUT/.pixgrab/damaged/ID-NAME` for "Keep anyway". Any other reason for no preview
/// (an unsupported format, too large) is not damage: the file is published.
pub(super) fn verify_on_pool(
    shared: &Arc<Shared>,
    id: ItemId,
    complete: &Complete,
    keep: bool,
) -> Result<Made, FetchError> {
    let (part, format) = (complete.path(), complete.format());
    let (tx, rx) = crossbeam_channel::bounded(1);
    let (pool_shared, path, hash_owned) =
        (shared.clone(), part.to_path_buf(), complete.sha256.clone());
    shared.thumbs.spawn_fifo(move || {
        let _ = tx.send(guarded_thumbnail(&pool_shared, &path, format, &hash_owned));
    });
    let made = rx
        .recv()
        .unwrap_or_else(|_| Err(ThumbError::Internal("the thumbnail pool stopped".into())));
    match made {
        Err(e) if e.is_damage() => {
            if keep {
                let name = part
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let name = name
                    .strip_suffix(crate::disk::store::PART_SUFFIX)
                    .unwrap_or(&name);
                // A copy that cannot be kept costs the user the choice, not the run.
                let _ = shared
                    .out
                    .keep_aside(part, "damaged", &format!("{}-{name}", id.0));
            }
            Err(FetchError::Damaged {
                reason: e.to_string(),
                preview: e.preview().cloned(),
            })
        }
        other => Ok(other),
    }
}

/// The name the user's file-name template gives a checked part; `None` with the
/// default template (the stem stays as chosen).
pub(super) fn templated_name(
    shared: &Shared,
    item: Item<'_>,
    complete: &Complete,
) -> Option<Rendered> {
    let template = shared.name_template();
    if template.is_default() {
        return None;
    }
    let Item { id, url, page } = item;
    let format = complete.format();
    let dimensions = thumbs::dimensions(complete.path(), format);
    // The page's title if it was read, else its last path segment.
    let page = page
        .map(|p| {
            shared
                .library()
                .page_title(p)
                .ok()
                .flatten()
                .unwrap_or_else(|| template::page_name(p))
        })
        .unwrap_or_default();
    let date = template::today();
    Some(template.render(&NameFields {
        name: complete.stem(),
        ext: format.extension(),
        host: url.host_str().unwrap_or_default(),
        num: id.0,
        page: &page,
        date: &date,
        sha256: &complete.sha256,
        width: dimensions.map(|d| d.0),
        height: dimensions.map(|d| d.1),
        preview: false,
    }))
}

/// See [`EngineHandle::keeper`](crate::EngineHandle::keeper).
pub(super) fn keep_damaged(shared: &Arc<Shared>, id: ItemId) -> Result<PathBuf, String> {
    let record = shared
        .library()
        .find(&[id], &[ItemState::Failed])
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("this item has not failed")?;
    let dir = shared.out.data_dir("damaged").map_err(|e| e.to_string())?;
    let prefix = format!("{}-", id.0);
    let kept = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && crate::disk::naming::is_safe_component(n))
        .min()
        .ok_or("no damaged copy of this item was kept")?;
    let name = &kept[prefix.len()..];
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "bin"));
    let format = ImageFormat::from_extension(ext).unwrap_or(ImageFormat::Jpeg);
    let from = dir.join(&kept);
    let sha256 = sha256_file(&from).map_err(|e| e.to_string())?;
    let path = shared
        .out
        .adopt(&from, stem, ext)
        .map_err(|e| format!("could not keep it: {e}"))?;
    let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let url = Url::parse(&record.url).map_err(|e| e.to_string())?;
    let final_url = record
        .final_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .unwrap_or(url);
    let why = record.error.clone().unwrap_or_default();
    let why = why.strip_prefix("damaged: ").unwrap_or(&why).to_string();
    shared
        .library()
        .set_done(
            id,
            &DoneRecord {
                final_url: final_url.as_str(),
                file: &file,
                bytes,
                sha256: &sha256,
                dimensions: None,
                format: format.extension(),
                content_type: record.content_type.as_deref(),
                duplicate_of: None,
                phash: None,
            },
        )
        .map_err(|e| e.to_string())?;
    let info = DoneInfo {
        path: path.clone(),
        bytes,
        format,
        content_type: record.content_type,
        dimensions: None,
        sha256,
        final_url,
        duplicate_of: None,
        restored: false,
    };
    shared.events.enter(1);
    shared.events.send(Event::Requeued { id });
    report_done(shared, id, info, Some(Err(ThumbError::Corrupt(why))));
    Ok(path)
}

/// What the check before publishing made: the thumbnail (and its cache file), or why
/// there is none (for a reason other than damage).
pub(super) type Made = Result<(Thumbnail, Option<PathBuf>), ThumbError>;

/// Records a finished download (recognising a duplicate of a file already in the
/// library), reports it and hands it to the thumbnail pool.
pub(super) fn finish_download(
    shared: &Arc<Shared>,
    id: ItemId,
    mut info: DoneInfo,
    made: Option<Made>,
) {
    info.dimensions = thumbs::dimensions(&info.path, info.format);
    // Made with the thumbnail, for similar-image groups.
    let phash = made
        .as_ref()
        .and_then(|m| m.as_ref().ok())
        .and_then(|(thumb, _)| similar::hash_thumbnail(thumb));
    shared.record(|lib| {
        // Look up and record under one lock, so two identical files finishing at the
        // same moment cannot both be stored.
        // Only ever drop the new file when another file on disk holds the same bytes
        // right now: the library's record may name a file the user deleted or edited,
        // or the very path the new file was just published under.
        // A recorded name that leads through a symlink is never hashed (nor adopted).
        if let Some((other, file)) = lib.find_done_by_hash(&info.sha256, id)?
            && let Ok(existing) = shared.out.published(&file)
        {
            let same_bytes =
                existing != info.path && sha256_file(&existing).is_ok_and(|h| h == info.sha256);
            if same_bytes && shared.out.remove_published(&info.path).is_ok() {
                info.path = existing;
                info.duplicate_of = Some(other);
            }
        }
        let file = shared.out.relative(&info.path);
        lib.set_done(
            id,
            &DoneRecord {
                final_url: info.final_url.as_str(),
                file: &file,
                bytes: info.bytes,
                sha256: &info.sha256,
                dimensions: info.dimensions,
                format: info.format.extension(),
                content_type: info.content_type.as_deref(),
                duplicate_of: info.duplicate_of,
                phash: phash.as_deref(),
            },
        )
    });
    report_done(shared, id, info, made);
}

/// Sends `Done` and queues the thumbnail (made, or loaded from the cache).
pub(super) fn report_done(shared: &Arc<Shared>, id: ItemId, info: DoneInfo, made: Option<Made>) {
    let path = info.path.clone();
    let format = info.format;
    let hash = info.sha256.clone();
    shared.events.send(Event::Done {
        id,
        info: Box::new(info),
    });
    // Made already by the check before publishing: no second decode.
    if let Some(made) = made {
        shared
            .events
            .settle(thumbnail_event(&shared.events, id, made));
        return;
    }
    let pool_shared = shared.clone();
    shared.thumbs.spawn_fifo(move || {
        let made = guarded_thumbnail(&pool_shared, &path, format, &hash);
        let events = &pool_shared.events;
        events.settle(thumbnail_event(events, id, made));
    });
}

/// The event for item `id`'s thumbnail: its pixels, or only its size and cache file
/// when the receiver is behind (the pixels would wait in the channel until it caught
/// up).
fn thumbnail_event(events: &Events, id: ItemId, made: Made) -> Event {
    match made {
        Ok((thumb, cached)) if events.behind() => Event::ThumbnailCached {
            id,
            width: thumb.width,
            height: thumb.height,
            cached,
        },
        Ok((thumb, cached)) => Event::Thumbnail {
            id,
            thumb: Arc::new(thumb),
            cached,
        },
        Err(reason) => Event::ThumbnailFailed { id, reason },
    }
}

/// [`thumbnail`] on the pool: a panic in a decoder must not abort the process (rayon's
/// default for a spawned job) nor leave the item unsettled: it is a failed thumbnail.
fn guarded_thumbnail(shared: &Shared, path: &Path, format: ImageFormat, hash: &str) -> Made {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        thumbnail(shared, path, format, hash)
    }))
    .unwrap_or_else(|panic| Err(ThumbError::Internal(panic_text(panic.as_ref()))))
}

/// Loads the thumbnail from the cache, or makes it and caches it. Also returns the
/// cache file, from which a front end can reload the pixels after dropping them.
pub(super) fn thumbnail(
    shared: &Shared,
    path: &Path,
    format: ImageFormat,
    hash: &str,
) -> Result<(Thumbnail, Option<PathBuf>), ThumbError> {
    let side = shared.config.thumb_side;
    let cache_stem = format!("{hash}-{side}");
    if let Some(dir) = &shared.thumb_cache {
        for ext in ["jpg", "png"] {
            let cached = dir.join(format!("{cache_stem}.{ext}"));
            if let Ok(bytes) = std::fs::read(&cached)
                && let Ok(thumb) = thumbs::decode_cached(&bytes)
            {
                return Ok((thumb, Some(cached)));
            }
        }
    }
    let thumb = thumbs::make_thumbnail(path, format, side)?;
    let mut cached = None;
    if shared.thumb_cache.is_some()
        && let Ok((ext, bytes)) = thumbs::encode_for_cache(&thumb)
    {
        // A cache write that fails costs a decode next time, nothing more.
        cached = shared
            .out
            .write_data_file("thumbs", &format!("{cache_stem}.{ext}"), &bytes)
            .ok();
    }
    Ok((thumb, cached))
}
