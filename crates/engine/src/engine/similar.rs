//! Similar-image groups of a folder: the library's signatures (made with the
//! thumbnails), the missing or outdated ones made now from the files and stored, then
//! grouped into copy sets (`imaging::similar`). Used by `pixgrab similar` and the window's "Similar" view.

use std::path::Path;

use crate::disk::library::{Library, LibraryError};
use crate::disk::store;
use crate::imaging::similar;
use crate::imaging::sniff::ImageFormat;
use crate::imaging::thumbs;
use crate::item::ItemId;

/// The near-duplicates of a folder.
#[derive(Debug, Clone, Default)]
pub struct SimilarGroups {
    /// Each group a list of (item, file relative to the folder), in queue order.
    pub groups: Vec<Vec<(ItemId, String)>>,
    /// Files compared (done, with a file of their own).
    pub compared: usize,
    /// Files too small or too plain to compare (or unreadable): never grouped.
    pub unknown: usize,
    /// Files that look like another but are in no clear copy set: not offered.
    pub loose: usize,
}

/// Groups of near-duplicates among the done files of the folder at `root`.
pub(crate) fn similar_groups(lib: &Library, root: &Path) -> Result<SimilarGroups, LibraryError> {
    let mut files = lib.hashed_files()?;
    // The library is a file like any other: a name in it that leads through a symlink
    // (or to anything but a plain file of the folder) is neither hashed nor listed.
    files.retain(|file| store::published_file(root, &file.file).is_ok());
    let compared = files.len();
    let mut hashed = Vec::new();
    for file in files {
        let phash = match file.phash {
            Some(phash) if similar::is_current(&phash) => Some(phash),
            // Done before hashes were made, or hashed by an older version: hash its
            // thumbnail now, once.
            _ => {
                let format = file.format.as_deref().and_then(ImageFormat::from_extension);
                let path = store::published_file(root, &file.file).ok();
                let phash = path.zip(format).and_then(|(p, f)| hash_file(&p, f));
                if let Some(phash) = &phash {
                    lib.set_phash(file.id, phash)?;
                }
                phash
            }
        };
        // A file that cannot be hashed now counts as unknown.
        hashed.push(((file.id, file.file), phash.unwrap_or_default()));
    }
    let grouping = similar::groups(&hashed);
    Ok(SimilarGroups {
        groups: grouping.groups,
        compared,
        unknown: grouping.unknown,
        loose: grouping.loose,
    })
}

/// The signature of an image file's thumbnail, as the engine makes it (the
/// format is the one the library recorded when the file was downloaded).
fn hash_file(path: &Path, format: ImageFormat) -> Option<String> {
    let thumb = thumbs::make_thumbnail(path, format, thumbs::DEFAULT_THUMB_SIDE).ok()?;
    similar::hash_thumbnail(&thumb)
}
