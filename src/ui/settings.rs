//! Settings remembered between runs (through eframe's storage).

use pixgrab_engine::{NameTemplate, TemplateError};

use super::view::ViewSettings;
use pixgrab_engine::{DEFAULT_JOBS, MAX_JOBS, MAX_PER_HOST};
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
    /// Concurrent downloads per host, when not automatic.
    pub(crate) per_host: usize,
    /// Each host's limit adapts to how it answers (the default); off: `per_host`.
    pub(crate) per_host_auto: bool,
    /// Which defaults the stored limits were written under (0, when stored settings
    /// lack it: before adaptive limits).
    #[serde(default)]
    pub(crate) limits_version: u32,
    /// Least time between two requests to one host, in milliseconds.
    pub(crate) host_interval_ms: u64,
    /// Overall bandwidth limit in kB/s (0: none).
    pub(crate) bandwidth_kbs: u64,
    /// Output folders opened before, most recent first.
    pub(crate) recent: Vec<String>,
    /// User-Agent for every site (empty: Pixgrab's own).
    pub(crate) user_agent: String,
    /// `host = Name: value` lines.
    pub(crate) site_headers: String,
    /// A Netscape cookies.txt to load.
    pub(crate) cookies_path: String,
    /// Proxy URL (empty: none).
    pub(crate) proxy: String,
    /// The Referer policy's standard name (see [`pixgrab_engine::RefererPolicy`]).
    pub(crate) referer_policy: String,
    /// Let a page's images go to private addresses although the page is not on one.
    pub(crate) allow_private: bool,
    /// "Find images" asks gallery-dl first (when it is there).
    pub(crate) use_gallery_dl: bool,
    /// The gallery-dl program (empty: `gallery-dl` on PATH).
    pub(crate) gallery_dl: String,
    /// The file-name template, as typed (see `pixgrab_engine::template`).
    pub(crate) name_template: String,
    /// Each folder's gallery sort, filters and tile size.
    pub(crate) views: std::collections::BTreeMap<String, ViewSettings>,
}

/// See [`Settings::limits_version`].
const LIMITS_VERSION: u32 = 1;

/// How many recent folders are remembered.
const RECENT_MAX: usize = 8;

impl Settings {
    /// The file-name template, checked.
    pub(crate) fn template(&self) -> Result<NameTemplate, TemplateError> {
        NameTemplate::parse(&self.name_template)
    }

    /// Puts `folder` first in the recent list.
    pub(crate) fn remember(&mut self, folder: &str) {
        self.recent.retain(|f| f != folder);
        self.recent.insert(0, folder.to_string());
        self.recent.truncate(RECENT_MAX);
    }

    /// The limits the engines should run with: (jobs, per host or `None` for
    /// adaptive, interval, bytes/s).
    pub(crate) fn limits(&self) -> (usize, Option<usize>, u64, u64) {
        (
            self.jobs.clamp(1, MAX_JOBS),
            (!self.per_host_auto).then(|| self.per_host.clamp(1, MAX_PER_HOST)),
            self.host_interval_ms,
            self.bandwidth_kbs.saturating_mul(1000),
        )
    }
}

impl Settings {
    /// Settings stored before adaptive per-host limits still hold that version's
    /// untouched defaults (8 in all, 4 per host): those become today's defaults, so a
    /// user who never tuned them is not left on the slow ones. Tuned values stay.
    pub(crate) fn migrate(mut self) -> Self {
        if self.limits_version == 0 {
            if self.jobs == 8 && self.per_host == 4 {
                self.jobs = DEFAULT_JOBS;
            } else {
                self.per_host_auto = false;
            }
        }
        self.limits_version = LIMITS_VERSION;
        self
    }

    /// The private-address rule the engines should follow.
    pub(crate) fn private_rule(&self) -> pixgrab_engine::PrivateRule {
        if self.allow_private {
            pixgrab_engine::PrivateRule::Allow
        } else {
            pixgrab_engine::PrivateRule::Auto
        }
    }
}

impl Settings {
    /// Whether and which gallery-dl "Find images" asks first.
    pub(crate) fn gallery_dl(&self) -> pixgrab_engine::GalleryDlSetting {
        use pixgrab_engine::GalleryDlSetting as Setting;
        let program = self.gallery_dl.trim();
        if !self.use_gallery_dl {
            Setting::Off
        } else if program.is_empty() {
            Setting::Auto
        } else {
            Setting::Program(PathBuf::from(program))
        }
    }
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
            jobs: DEFAULT_JOBS,
            per_host: 4,
            per_host_auto: true,
            limits_version: LIMITS_VERSION,
            host_interval_ms: 0,
            bandwidth_kbs: 0,
            recent: Vec::new(),
            user_agent: String::new(),
            site_headers: String::new(),
            cookies_path: String::new(),
            proxy: String::new(),
            name_template: NameTemplate::DEFAULT.to_string(),
            views: std::collections::BTreeMap::new(),
            referer_policy: pixgrab_engine::RefererPolicy::default().name().to_string(),
            allow_private: false,
            use_gallery_dl: true,
            gallery_dl: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_old_defaults_become_adaptive_and_tuned_limits_stay() {
        // Settings as the version before adaptive limits stored them.
        let untouched: Settings =
            serde_json::from_str(r#"{"jobs": 8, "per_host": 4}"#).expect("parse");
        let untouched = untouched.migrate();
        assert_eq!(untouched.limits().0, DEFAULT_JOBS);
        assert_eq!(untouched.limits().1, None);
        let tuned: Settings =
            serde_json::from_str(r#"{"jobs": 16, "per_host": 2}"#).expect("parse");
        let tuned = tuned.migrate();
        assert_eq!(tuned.limits().0, 16);
        assert_eq!(tuned.limits().1, Some(2));
        // Stored by this version: left as it is.
        let now = Settings {
            jobs: 8,
            per_host: 4,
            per_host_auto: true,
            ..Settings::default()
        }
        .migrate();
        assert_eq!((now.jobs, now.limits().1), (8, None));
    }
}
