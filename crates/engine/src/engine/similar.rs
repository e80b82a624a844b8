//! Similar-image groups of a folder: the library's perceptual hashes (made with the
//! thumbnails), the missing ones made now from the files and stored, then grouped
//! (`imaging::similar`). Used by `pixgrab similar` and the window's "Similar" view.

use std::path::Path;

use crate::disk::library::{Library, LibraryError};
use crate::disk::naming;
use crate::imaging::similar::{self, SAME_PICTURE};
use crate::imaging::sniff::{self, Sniffed};
use crate::imaging::thumbs;
use crate::item::ItemId;

/// Groups of near-duplicates among the done files of the folder at `root`: each a list
/// of (item, file relative to the folder), in queue order.
pub fn similar_groups(
    lib: &Library,
    root: &Path,
) -> Result<Vec<Vec<(ItemId, String)>>, LibraryError> {
    let mut hashed = Vec::new();
    for file in lib.hashed_files()? {
        let phash = match file.phash {
            Some(phash) => Some(phash),
            // Done before hashes were made: hash its thumbnail now, once.
            None if naming::is_safe_relative(&file.file) => {
                let phash = hash_file(&root.join(&file.file));
                if let Some(phash) = &phash {
                    lib.set_phash(file.id, phash)?;
                }
                phash
            }
            None => None,
        };
        if let Some(phash) = phash {
            hashed.push(((file.id, file.file), phash));
        }
    }
    Ok(similar::groups(&hashed, SAME_PICTURE))
}

/// The perceptual hash of an image file's thumbnail, as the engine makes it.
fn hash_file(path: &Path) -> Option<String> {
    let mut head = vec![0; sniff::SNIFF_LEN];
    let n = std::io::Read::read(&mut std::fs::File::open(path).ok()?, &mut head).ok()?;
    let Sniffed::Image(format) = sniff::sniff(&head[..n]) else {
        return None;
    };
    let thumb = thumbs::make_thumbnail(path, format, thumbs::DEFAULT_THUMB_SIDE).ok()?;
    similar::hash_thumbnail(&thumb)
}
