//! The output folder: the only code in Pixgrab that creates, renames or removes files.
//!
//! Invariants:
//! - Every path created is `root/NAME` or `root/DIR/.../NAME` (or inside
//!   `root/.pixgrab/`) where `NAME` and every `DIR` passed [`naming::is_safe_component`]
//!   and no `DIR` is a symlink: nothing is ever written outside the output folder.
//! - Files are created with `create_new`, which never follows or replaces an existing
//!   entry (symlinks included): an existing file is never overwritten.
//! - A final name only ever appears with complete content: data goes to `NAME.part`
//!   first and is published with an atomic hard link (which fails rather than replace).
//!   That holds for a crash of the process at any moment; with `with_sync(true)` each file
//!   is also flushed to the device first, so it holds across power loss too.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::disk::naming;

/// Suffix of in-progress downloads.
pub(crate) const PART_SUFFIX: &str = ".part";

/// Name of the folder, inside the output folder, where Pixgrab keeps its own data.
pub const DATA_DIR: &str = ".pixgrab";

/// Give up numbering collisions after this many tries.
const MAX_COLLISIONS: u32 = 100_000;

/// A file that could not be saved under its name for a reason about that name alone
/// (not the disk): the item fails, the other downloads go on. Carried inside an
/// `io::Error` of kind `InvalidInput`.
#[derive(Debug, thiserror::Error)]
#[error("cannot save as {name}: {reason}")]
pub(crate) struct NameError {
    /// The name as it was to be saved, relative to the folder (shortened if long).
    pub name: String,
    /// What is wrong with it, in plain words ("file name too long").
    pub reason: &'static str,
}

impl NameError {
    /// `e` as a [`NameError`] for the name `name()` gives, when the OS refused the name
    /// itself; any other error unchanged.
    fn wrap(e: io::Error, name: impl FnOnce() -> String) -> io::Error {
        match name_problem(&e) {
            Some(reason) => io::Error::new(
                io::ErrorKind::InvalidInput,
                Self {
                    name: name(),
                    reason,
                },
            ),
            None => e,
        }
    }

    /// The [`NameError`] inside `e`, if there is one.
    pub(crate) fn of(e: &io::Error) -> Option<&Self> {
        e.get_ref().and_then(|inner| inner.downcast_ref::<Self>())
    }
}

/// What is wrong with a name when the OS's error `e` is about the name (and so about
/// one file): too long, not accepted by the file system, a folder or file in the way.
/// `None` for anything else: a full, read-only or failing disk is about every file.
fn name_problem(e: &io::Error) -> Option<&'static str> {
    // Only the OS's own answers: Pixgrab's refusals already say what they mean.
    let code = e.raw_os_error()?;
    #[cfg(unix)]
    {
        if code == libc::ENAMETOOLONG {
            return Some("file name too long");
        }
        if code == libc::EILSEQ {
            return Some("the file system does not accept this name");
        }
    }
    #[cfg(windows)]
    {
        // ERROR_FILENAME_EXCED_RANGE, ERROR_BUFFER_OVERFLOW (a path over MAX_PATH).
        if matches!(code, 206 | 111) {
            return Some("file name too long");
        }
    }
    let _ = code;
    match e.kind() {
        io::ErrorKind::InvalidFilename | io::ErrorKind::InvalidInput => {
            Some("the file system does not accept this name")
        }
        io::ErrorKind::IsADirectory => Some("a folder has that name"),
        io::ErrorKind::NotADirectory => Some("a file is in the way of its folder"),
        _ => None,
    }
}

/// `DIR/.../STEM.EXT` as a reason shows it: at most 80 characters.
fn shown_name(dirs: &[String], stem: &str, ext: &str) -> String {
    let mut name = String::new();
    for dir in dirs {
        name.push_str(dir);
        name.push('/');
    }
    name.push_str(&naming::numbered(stem, 1, ext));
    if name.chars().count() > 80 {
        let head: String = name.chars().take(40).collect();
        let tail: Vec<char> = name.chars().rev().take(30).collect();
        name = format!("{head}…{}", tail.into_iter().rev().collect::<String>());
    }
    name
}

/// An output folder that exists and is writable.
#[derive(Debug, Clone)]
pub(crate) struct OutputDir {
    root: PathBuf,
    /// Flush each file to the device before publishing it (survives power loss, costs
    /// a disk round trip per file).
    sync_files: bool,
}

/// An in-progress download: an open `.part` file that is removed unless committed.
#[derive(Debug)]
pub(crate) struct PartFile {
    /// The open file, positioned at its start.
    pub file: File,
    path: PathBuf,
    committed: bool,
}

impl OutputDir {
    /// Creates the folder (and parents) if missing.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        fs::create_dir_all(path)?;
        let root = fs::canonicalize(path)?;
        if !root.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotADirectory, "not a folder"));
        }
        Ok(Self {
            root,
            sync_files: false,
        })
    }

    /// Makes [`OutputDir::commit`] flush every file to the device before publishing it.
    pub(crate) fn with_sync(mut self, sync_files: bool) -> Self {
        self.sync_files = sync_files;
        self
    }

    /// The folder's canonical path.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `root/.pixgrab`, created if missing.
    pub(crate) fn data_root(&self) -> io::Result<PathBuf> {
        let dir = self.root.join(DATA_DIR);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// `root/.pixgrab/SUB`, created if missing.
    pub(crate) fn data_dir(&self, sub: &str) -> io::Result<PathBuf> {
        check_component(sub)?;
        let dir = self.root.join(DATA_DIR).join(sub);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// Creates `STEM.EXT.part` (or `STEM (2).EXT.part`, ...) that no other entry uses.
    /// A failure about the name itself comes back as a [`NameError`], as from
    /// [`OutputDir::commit_in`].
    pub(crate) fn create_part(&self, stem: &str, ext: &str) -> io::Result<PartFile> {
        self.new_part(stem, ext)
            .map_err(|e| NameError::wrap(e, || shown_name(&[], stem, ext)))
    }

    fn new_part(&self, stem: &str, ext: &str) -> io::Result<PartFile> {
        for n in 1..=MAX_COLLISIONS {
            let name = format!("{}{PART_SUFFIX}", naming::numbered(stem, n, ext));
            check_component(&name)?;
            let path = self.root.join(&name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(PartFile {
                        file,
                        path,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(too_many_collisions())
    }

    /// Publishes a finished part as `STEM.EXT`, or the first free `STEM (n).EXT`.
    /// Returns the final path. The part file is gone afterwards.
    /// On failure the part stays as it was (to be kept or dropped by the caller).
    pub(crate) fn commit(&self, part: &mut PartFile, stem: &str, ext: &str) -> io::Result<PathBuf> {
        self.commit_in(part, &[], stem, ext)
    }

    /// As [`OutputDir::commit`], in the subfolder `dirs` (made if missing; each
    /// component must be safe and an existing one must be a real folder, not a symlink).
    /// A failure that is about this name (too long for the file system, refused by it,
    /// a folder in the way) comes back as a [`NameError`] inside the `io::Error`; a
    /// failure of the folder itself (full, read-only) as the OS reported it.
    pub(crate) fn commit_in(
        &self,
        part: &mut PartFile,
        dirs: &[String],
        stem: &str,
        ext: &str,
    ) -> io::Result<PathBuf> {
        self.publish_in(part, dirs, stem, ext)
            .map_err(|e| NameError::wrap(e, || shown_name(dirs, stem, ext)))
    }

    fn publish_in(
        &self,
        part: &mut PartFile,
        dirs: &[String],
        stem: &str,
        ext: &str,
    ) -> io::Result<PathBuf> {
        let dir = self.subfolder(dirs)?;
        part.file.flush()?;
        if self.sync_files {
            part.file.sync_all()?;
        }
        for n in 1..=MAX_COLLISIONS {
            let name = naming::numbered(stem, n, ext);
            check_component(&name)?;
            let target = dir.join(&name);
            match fs::hard_link(&part.path, &target) {
                Ok(()) => {
                    // Published: a part that cannot be removed is only litter now.
                    part.committed = true;
                    let _ = fs::remove_file(&part.path);
                    return Ok(target);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                // Filesystems without hard links (FAT, some network mounts): claim the
                // name with create_new, then rename over our own empty placeholder.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
                    ) =>
                {
                    match OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&target)
                    {
                        Ok(_) => {
                            fs::rename(&part.path, &target)?;
                            part.committed = true;
                            return Ok(target);
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(too_many_collisions())
    }
}

impl OutputDir {
    /// A path inside the folder as the library records it: relative, `/`-separated
    /// (`cat.jpg`, `example.org/cat.jpg`); just the file name for anything else.
    pub(crate) fn relative(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }

    /// The path of the published file `rel` (as the library records it), checked as
    /// [`published_file`] checks it.
    pub(crate) fn published(&self, rel: &str) -> io::Result<PathBuf> {
        published_file(&self.root, rel)
    }

    /// Moves the published file `rel` (relative, `/`-separated, checked) to the
    /// desktop's trash, or into `to` when given (under a free name there). A name
    /// that leads through a symlink, or to anything but a plain file, is refused.
    pub(crate) fn trash(&self, rel: &str, to: Option<&Path>) -> io::Result<()> {
        let path = self.published(rel)?;
        match to {
            None => trash::delete(&path).map_err(io::Error::other),
            Some(dir) => {
                fs::create_dir_all(dir)?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
                let placed = place_copy(&path, dir, stem, ext)?;
                fs::remove_file(&path).inspect_err(|_| {
                    let _ = fs::remove_file(&placed);
                })
            }
        }
    }

    /// `root/DIR/...`, made folder by folder; refuses an unsafe component and any
    /// component that exists as something other than a real folder (a symlink there
    /// could lead outside).
    fn subfolder(&self, dirs: &[String]) -> io::Result<PathBuf> {
        let mut dir = self.root.clone();
        for component in dirs {
            check_component(component)?;
            dir.push(component);
            match fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            if !fs::symlink_metadata(&dir)?.file_type().is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("refusing {component:?}: not a plain folder"),
                ));
            }
        }
        Ok(dir)
    }

    /// Atomically writes `root/.pixgrab/SUB/NAME` (Pixgrab's own data, such as
    /// thumbnails): a reader sees the old content or the new, never a mix.
    pub(crate) fn write_data_file(
        &self,
        sub: &str,
        name: &str,
        bytes: &[u8],
    ) -> io::Result<PathBuf> {
        check_component(name)?;
        let dir = self.data_dir(sub)?;
        let target = dir.join(name);
        for n in 0..MAX_COLLISIONS {
            let tmp = dir.join(format!("{name}.{n}.tmp"));
            match OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(mut file) => {
                    let written = file
                        .write_all(bytes)
                        .and_then(|()| fs::rename(&tmp, &target));
                    if written.is_err() {
                        let _ = fs::remove_file(&tmp);
                    }
                    return written.map(|()| target);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(too_many_collisions())
    }
}

impl OutputDir {
    /// Puts a copy of `file` (a part in this folder) aside as `root/.pixgrab/SUB/NAME`
    /// (or `NAME (n)` when taken): a hard link where the filesystem allows, else a copy.
    pub(crate) fn keep_aside(&self, file: &Path, sub: &str, name: &str) -> io::Result<PathBuf> {
        let dir = self.data_dir(sub)?;
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "bin"));
        place_copy(file, &dir, stem, ext)
    }

    /// Moves `file` (one of Pixgrab's own, e.g. set aside by [`OutputDir::keep_aside`])
    /// into the folder as `STEM.EXT`, or the first free `STEM (n).EXT`; never replacing
    /// anything. Returns the final path.
    pub(crate) fn adopt(&self, file: &Path, stem: &str, ext: &str) -> io::Result<PathBuf> {
        let target = place_copy(file, &self.root, stem, ext)?;
        let _ = fs::remove_file(file);
        Ok(target)
    }

    /// Writes a complete file as `STEM.EXT` (or `STEM (n).EXT`), through a part file,
    /// so the final name never holds partial content. Returns the final path.
    pub(crate) fn write_new(&self, stem: &str, ext: &str, bytes: &[u8]) -> io::Result<PathBuf> {
        let mut part = self.create_part(stem, ext)?;
        part.file.write_all(bytes)?;
        self.commit(&mut part, stem, ext)
    }
}

impl PartFile {
    /// Where the part file lives.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The part's file name (one path component).
    pub(crate) fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Leaves the file on disk when this handle is dropped (to continue it in a later run).
    pub(crate) fn keep(&mut self) {
        self.committed = true;
    }
}

impl OutputDir {
    /// Opens an existing part file `root/NAME` (a `.part` left by an earlier run) for
    /// appending, positioned at its end. Refuses unsafe names, symlinks and anything
    /// that is not a regular file.
    pub(crate) fn reopen_part(&self, name: &str) -> io::Result<PartFile> {
        check_component(name)?;
        if !name.ends_with(PART_SUFFIX) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a part file"),
            ));
        }
        let path = self.root.join(name);
        // Opened without following a symlink (O_NOFOLLOW: a link fails to open, so
        // nothing can swap one in between a check and the open), then checked through
        // the open descriptor: only a regular file is continued.
        let file = open_no_follow(&path)?;
        if !file.metadata()?.file_type().is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a regular file"),
            ));
        }
        Ok(PartFile {
            file,
            path,
            committed: false,
        })
    }

    /// Removes the published file `root/NAME` (a download found to duplicate an
    /// existing file). Only plain names directly in the folder are accepted.
    pub(crate) fn remove_published(&self, path: &Path) -> io::Result<()> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_component(&name)?;
        if path.parent() != Some(self.root.as_path()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a file of this folder",
            ));
        }
        fs::remove_file(path)
    }
}

/// `root/REL` for a file name the library holds (relative, `/`-separated), checked
/// before anything reads, hashes or moves it: every component must be safe, every
/// folder on the way a real folder (not a symlink, which could lead outside the output
/// folder), and the last component a plain file. Each component is looked at without
/// following links. Errors: `NotFound` when something on the way is missing,
/// `InvalidInput` (with the reason) when the name is unsafe or leads elsewhere.
pub(crate) fn published_file(root: &Path, rel: &str) -> io::Result<PathBuf> {
    if !naming::is_safe_relative(rel) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing unsafe file name {rel:?}"),
        ));
    }
    let mut path = root.to_path_buf();
    let mut components = rel.split('/').peekable();
    while let Some(component) = components.next() {
        path.push(component);
        let kind = fs::symlink_metadata(&path)?.file_type();
        let last = components.peek().is_none();
        if last && !kind.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{rel:?} is not a plain file of the output folder"),
            ));
        }
        if !last && !kind.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{rel:?} goes through {component:?}, which is not a plain folder"),
            ));
        }
    }
    Ok(path)
}

/// Places a copy of `file` in `dir` as `STEM.EXT`, or the first free `STEM (n).EXT`:
/// a hard link where the filesystem allows, else a byte copy into a new file. Never
/// replaces anything.
fn place_copy(file: &Path, dir: &Path, stem: &str, ext: &str) -> io::Result<PathBuf> {
    for n in 1..=MAX_COLLISIONS {
        let name = naming::numbered(stem, n, ext);
        check_component(&name)?;
        let target = dir.join(&name);
        let placed = fs::hard_link(file, &target).or_else(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => Err(e),
            _ => {
                let mut out = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&target)?;
                io::copy(&mut File::open(file)?, &mut out).map(|_| ())
            }
        });
        match placed {
            Ok(()) => return Ok(target),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(too_many_collisions())
}

/// Opens `path` to read and append, refusing a symlink in its last component.
#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .read(true)
        .append(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Opens `path` to read and append, refusing a symlink (checked just before opening:
/// there is no O_NOFOLLOW here).
#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<File> {
    if fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a part file may not be a symlink",
        ));
    }
    OpenOptions::new().read(true).append(true).open(path)
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a failed download leaves nothing behind.
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn check_component(name: &str) -> io::Result<()> {
    if naming::is_safe_component(name) {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing unsafe file name {name:?}"),
        ))
    }
}

fn too_many_collisions() -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        "too many files with this name",
    )
}

#[cfg(test)]
mod tests;
