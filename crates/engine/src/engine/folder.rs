//! A download folder's saved work, read without a running engine: whether it has a
//! library, the library's export, its groups of similar images, and thumbnails of
//! files already on disk. The front ends' offline commands (`pixgrab export`,
//! `similar`, `thumbs`) go through here: they never open `library.db` nor work out
//! where a thumbnail is written.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{SimilarGroups, similar_groups};
use crate::disk::library::{self, Library, Watch};
use crate::disk::naming;
use crate::disk::store::{DATA_DIR, OutputDir};
use crate::error::LibraryError;
use crate::imaging::sniff::{self, SNIFF_LEN, Sniffed};
use crate::imaging::thumbs::{self, Thumbnail};

/// Why a folder's saved work cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// Nothing was ever downloaded there.
    #[error("{} has no Pixgrab library (nothing was downloaded there)", .0.display())]
    NoLibrary(PathBuf),
    /// The library is there but cannot be read (busy, damaged, newer).
    #[error(transparent)]
    Library(#[from] LibraryError),
}

/// The shape of a library export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One row per item, with a header row.
    Csv,
    /// One JSON array of items.
    Json,
}

/// A download folder with a library, opened for reading.
pub struct Folder {
    root: PathBuf,
    lib: Library,
}

impl Folder {
    /// Whether Pixgrab ever downloaded into the folder at `root` (it has a library).
    pub fn has_library(root: &Path) -> bool {
        library::exists_in(root)
    }

    /// Opens the library of the folder at `root`; an error if it has none.
    pub fn open(root: &Path) -> Result<Self, FolderError> {
        if !Self::has_library(root) {
            return Err(FolderError::NoLibrary(root.to_path_buf()));
        }
        let lib = Library::open(&root.join(DATA_DIR), false)?;
        Ok(Self {
            root: root.to_path_buf(),
            lib,
        })
    }

    /// Every item the library knows, as CSV or JSON text.
    pub fn export(&self, format: ExportFormat) -> Result<String, FolderError> {
        let records = self.lib.all()?;
        Ok(match format {
            ExportFormat::Csv => library::to_csv(&records),
            ExportFormat::Json => library::to_json(&records),
        })
    }

    /// The pages watched for new images, soonest check first.
    pub fn watches(&self) -> Result<Vec<Watch>, FolderError> {
        Ok(self.lib.watches()?)
    }

    /// The groups of copies among the folder's done files (hashing, once, those done
    /// before hashes were made).
    pub fn similar_groups(&self) -> Result<SimilarGroups, FolderError> {
        Ok(similar_groups(&self.lib, &self.root)?)
    }
}

/// Thumbnails of files already on disk, written into a folder as the cache writes them
/// (`pixgrab thumbs`).
pub struct ThumbnailWriter {
    out: OutputDir,
}

impl ThumbnailWriter {
    /// Writes into the folder at `root` (made if missing).
    pub fn open(root: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: OutputDir::open(root)?,
        })
    }

    /// The folder written into.
    pub fn root(&self) -> &Path {
        self.out.root()
    }

    /// Makes the thumbnail (at most `size` pixels a side) of the image file `file` and
    /// writes it under a name of its own; the reason for people when it cannot. A
    /// damaged file whose start could be read still fails, and says where that part is.
    pub fn write(&self, file: &Path, size: u32) -> Result<PathBuf, String> {
        let mut head = Vec::with_capacity(SNIFF_LEN);
        std::fs::File::open(file)
            .and_then(|f| f.take(SNIFF_LEN as u64).read_to_end(&mut head))
            .map_err(|e| e.to_string())?;
        // The file's extension is the only hint a file has (a TGA has no magic number).
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let format = match sniff::sniff_with_hints(&head, None, &name) {
            Sniffed::Image(format) => format,
            Sniffed::NotImage(what) => return Err(format!("not an image (got {what})")),
        };
        let write = |thumb: &Thumbnail| -> Result<PathBuf, String> {
            let (ext, bytes) = thumbs::encode_for_cache(thumb).map_err(|e| e.to_string())?;
            let stem = naming::stem_from_file_name(&name);
            self.out
                .write_new(&stem, ext, &bytes)
                .map_err(|e| e.to_string())
        };
        match thumbs::make_thumbnail(file, format, size) {
            Ok(thumb) => write(&thumb),
            Err(e) => Err(match e.preview().map(|p| write(p)) {
                Some(Ok(path)) => format!("{e} (what could be read is in {})", path.display()),
                _ => e.to_string(),
            }),
        }
    }
}
