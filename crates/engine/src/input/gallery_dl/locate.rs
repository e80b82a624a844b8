//! Finding gallery-dl: the user's setting, or the program on `PATH`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::GalleryDl;

/// The program name looked up on `PATH`.
const PROGRAM_NAME: &str = "gallery-dl";

impl GalleryDl {
    /// Finds gallery-dl. With `explicit` (the user's setting): that file if it is an executable
    /// file, or, for a bare name such as `gallery-dl`, that name on `PATH`; the setting is never
    /// silently swapped for another program. Without it: `gallery-dl` on `PATH`. `None` if not
    /// found.
    ///
    /// Only checks the file; a program that is not gallery-dl shows up as
    /// [`GalleryDlError::Failed`](super::GalleryDlError::Failed) from [`list`](Self::list).
    pub fn locate(explicit: Option<&Path>) -> Option<Self> {
        let program = match explicit {
            Some(path) if path.as_os_str().is_empty() => return None,
            Some(path) if path.components().count() > 1 || path.is_absolute() => {
                is_executable(path).then(|| path.to_path_buf())?
            }
            Some(name) => on_path(name.as_os_str())?,
            None => on_path(OsStr::new(PROGRAM_NAME))?,
        };
        Some(Self {
            program,
            generic: false,
            proxy: None,
            cancel: None,
        })
    }
}

/// The first executable `name` in a `PATH` directory.
fn on_path(name: &OsStr) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| candidates(&dir, name))
        .find(|candidate| is_executable(candidate))
}

/// `dir/name`, and on Windows also `dir/name.exe` (what pip installs).
fn candidates(dir: &Path, name: &OsStr) -> Vec<PathBuf> {
    let plain = dir.join(name);
    if cfg!(windows) && plain.extension().is_none() {
        vec![plain.with_extension("exe"), plain]
    } else {
        vec![plain]
    }
}

/// Whether `path` is a file we may run (on Unix: with an execute bit set).
pub(super) fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}
