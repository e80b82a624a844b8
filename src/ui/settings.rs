//! Settings remembered between runs (through eframe's storage).

use std::path::PathBuf;

/// Key under which settings are stored.
pub(crate) const STORAGE_KEY: &str = "pixgrab-settings";

/// What the user chose last time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Settings {
    /// Output folder, as typed or picked.
    pub(crate) out_dir: String,
    /// Concurrent downloads in all.
    pub(crate) jobs: usize,
    /// Concurrent downloads per host.
    pub(crate) per_host: usize,
}

impl Default for Settings {
    fn default() -> Self {
        let base = std::env::var_os("HOME")
            .map(PathBuf::from)
            .map(|home| {
                let pictures = home.join("Pictures");
                if pictures.is_dir() { pictures } else { home }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        Self {
            out_dir: base
                .join("pixgrab-downloads")
                .to_string_lossy()
                .into_owned(),
            jobs: 8,
            per_host: 4,
        }
    }
}
