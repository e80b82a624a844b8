//! The reasons an item can fail, written for people.
//!
//! Every variant's `Display` is the text a user sees next to the failed item
//! ("HTTP 404 Not Found", "not an image (got HTML)", "stalled 30 s"), so it must
//! read well on its own and never leak a Rust type name.

use std::fmt;
use std::time::Duration;

/// Why a download failed. Cloneable so it can travel in events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The server answered with a non-success status.
    #[error("HTTP {code}{}{}", reason_suffix(.reason), hint_suffix(.hint))]
    Http {
        /// The status code, e.g. 404.
        code: u16,
        /// The canonical reason phrase, e.g. "Not Found" (may be empty).
        reason: String,
        /// How long the server asked us to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
        /// What the user might do about it (a 403 suggests a Referer or cookies).
        hint: Option<String>,
    },
    /// No connection could be made (DNS, refused, TLS handshake...).
    #[error("could not connect: {0}")]
    Connect(String),
    /// The server's TLS certificate failed verification (final: retrying cannot help).
    #[error("the server's certificate is not trusted: {0}")]
    Certificate(String),
    /// A request that a page's content asked for would go to a private address.
    #[error("refused: {0}")]
    Private(String),
    /// The bytes arrived but the image in them is damaged (cut, corrupt), as the
    /// decoder found; the text starts with "damaged". `preview` is what could be read
    /// of it (grey where data is missing), for the failed item's tile.
    #[error("{reason}")]
    Damaged {
        /// "damaged: …", in plain words.
        reason: String,
        /// What could be read of the image, at thumbnail size.
        preview: Option<std::sync::Arc<crate::imaging::thumbnail::Thumbnail>>,
    },
    /// A bug in Pixgrab: a job panicked. The item fails; the run goes on.
    #[error("internal error: {0}")]
    Internal(String),
    /// No bytes arrived for this long.
    #[error("stalled {}", Secs(*.0))]
    Stalled(Duration),
    /// A page read or a probe took longer than its deadline in all (a server that
    /// sends a byte every few seconds never stalls, but never ends either).
    #[error("too slow: not over after {}", Secs(*.0))]
    TooSlow(Duration),
    /// The connection broke during the transfer.
    #[error("network error: {0}")]
    Network(String),
    /// Fewer bytes arrived than the server announced.
    #[error("truncated: got {} of {}", Bytes(*.got), Bytes(*.expected))]
    Truncated {
        /// Bytes received.
        got: u64,
        /// Bytes announced by Content-Length.
        expected: u64,
    },
    /// The body is not an image, judged by its bytes.
    #[error("not an image (got {0}){hint}", hint = hint_suffix(.1))]
    NotAnImage(String, Option<String>),
    /// The body exceeded the configured size cap.
    #[error("too large: over {}", Bytes(*.0))]
    TooLarge(u64),
    /// Too many redirects, or a redirect to a scheme other than http/https.
    #[error("bad redirect: {0}")]
    Redirect(String),
    /// The output folder could not be written (full, gone, read-only): downloads pause.
    #[error("could not write file: {0}")]
    Disk(String),
    /// This one file could not be saved under its name (every `NAME (n)` taken, an
    /// unsafe name, a name the file system refuses); the text says which and why
    /// ("cannot save as NAME: file name too long"). Only this item fails.
    #[error("{0}")]
    FileName(String),
    /// An inline image (a `data:` URL) that cannot be saved: damaged, or not kept since
    /// Pixgrab was restarted; the text says which ("damaged data: URL: bad base64").
    #[error("{0}")]
    Inline(String),
    /// A failure recorded by an earlier run (restored from the library), as it was shown.
    #[error("{0}")]
    Earlier(String),
}

impl FetchError {
    /// What could be read of a damaged image, for its tile.
    pub fn preview(&self) -> Option<&std::sync::Arc<crate::imaging::thumbnail::Thumbnail>> {
        match self {
            Self::Damaged { preview, .. } => preview.as_ref(),
            _ => None,
        }
    }

    /// True for failures that may go away on their own: connection trouble, stalls,
    /// cut-off bodies, 5xx, 408 and 429. Never for other 4xx, bad content or disk errors.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http { code, .. } => *code >= 500 || *code == 408 || *code == 429,
            Self::Connect(_) | Self::Stalled(_) | Self::Network(_) | Self::Truncated { .. } => true,
            Self::NotAnImage(..)
            | Self::Certificate(_)
            | Self::Damaged { .. }
            | Self::Private(_)
            | Self::TooSlow(_)
            | Self::Internal(_)
            | Self::TooLarge(_)
            | Self::Redirect(_)
            | Self::Disk(_)
            | Self::FileName(_)
            | Self::Inline(_)
            | Self::Earlier(_) => false,
        }
    }

    /// True when the whole host should slow down (429 Too Many Requests, 503 Service Unavailable).
    pub fn is_host_overloaded(&self) -> bool {
        matches!(
            self,
            Self::Http {
                code: 429 | 503,
                ..
            }
        )
    }

    /// The server's `Retry-After`, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The final form of an HTTP error whose `Retry-After` asks for more than `max`:
    /// not retried, and saying what the server asked. Other errors come back unchanged.
    pub fn beyond_wait(self, max: Duration) -> Self {
        match self {
            Self::Http {
                code,
                reason,
                retry_after: Some(asked),
                ..
            } if asked > max => Self::Http {
                code,
                reason,
                retry_after: None,
                hint: Some(format!(
                    "the server asks to retry in {}, more than the {} Pixgrab waits",
                    Wait(asked),
                    Wait(max)
                )),
            },
            other => other,
        }
    }
}

/// A wait shown for people, from seconds to absurd: `90 s`, `5 min`, `3 h`, `12 days`,
/// `9.5e18 s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wait(pub Duration);

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        let whole = |v: f64| {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        };
        if secs < 120.0 {
            write!(f, "{} s", whole(secs))
        } else if secs < 2.0 * 3600.0 {
            write!(f, "{} min", whole(secs / 60.0))
        } else if secs < 2.0 * 86_400.0 {
            write!(f, "{} h", whole(secs / 3600.0))
        } else if secs < 1e7 {
            write!(f, "{} days", whole(secs / 86_400.0))
        } else {
            write!(f, "{secs:.1e} s")
        }
    }
}

/// `": hint"`, or nothing.
fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_deref()
        .map(|h| format!(": {h}"))
        .unwrap_or_default()
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The output folder could not be created or opened.
    #[error("cannot use output folder {path}: {source}")]
    OutputDir {
        /// The folder that was asked for.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    /// A worker thread could not be spawned.
    #[error("cannot start worker threads: {0}")]
    Threads(std::io::Error),
    /// The folder's library could not be opened or written.
    #[error("{0}")]
    Library(#[from] LibraryError),
    /// A file could not be moved to the trash (it stays where it was).
    #[error("cannot move {file} to the trash: {source}")]
    Trash {
        /// The file, relative to the folder.
        file: String,
        /// What the OS (or the desktop's trash) said.
        source: std::io::Error,
    },
}

/// A duration shown for people: `30 s`, `0.5 s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secs(pub Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        if secs.fract() == 0.0 {
            write!(f, "{secs:.0} s")
        } else {
            write!(f, "{secs:.1} s")
        }
    }
}

/// A longer span of time shown for people, rounded: `45 s`, `10 min`, `3 h`, `2 d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64().round();
        let (value, unit) = if secs < 120.0 {
            (secs, "s")
        } else if secs < 2.0 * 3600.0 {
            (secs / 60.0, "min")
        } else if secs < 2.0 * 86_400.0 {
            (secs / 3600.0, "h")
        } else {
            (secs / 86_400.0, "d")
        };
        write!(f, "{value:.0} {unit}")
    }
}

/// A byte count shown in binary units: `3.4 MiB`, `512 B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_like_sentences() {
        let e = FetchError::Http {
            code: 404,
            reason: "Not Found".into(),
            retry_after: None,
            hint: None,
        };
        assert_eq!(e.to_string(), "HTTP 404 Not Found");
        let e = FetchError::Http {
            code: 599,
            reason: String::new(),
            retry_after: None,
            hint: None,
        };
        assert_eq!(e.to_string(), "HTTP 599");
        let e = FetchError::Http {
            code: 403,
            reason: "Forbidden".into(),
            retry_after: None,
            hint: Some("try a Referer".into()),
        };
        assert_eq!(e.to_string(), "HTTP 403 Forbidden: try a Referer");
        assert_eq!(
            FetchError::Stalled(Duration::from_secs(30)).to_string(),
            "stalled 30 s"
        );
        assert_eq!(
            FetchError::Stalled(Duration::from_millis(500)).to_string(),
            "stalled 0.5 s"
        );
        let e = FetchError::Truncated {
            got: 1000,
            expected: 3 * 1024 * 1024,
        };
        assert_eq!(e.to_string(), "truncated: got 1000 B of 3.0 MiB");
        assert_eq!(
            FetchError::NotAnImage("HTML".into(), None).to_string(),
            "not an image (got HTML)"
        );
    }

    #[test]
    fn a_retry_after_beyond_the_longest_wait_becomes_a_final_reason() {
        let e = FetchError::Http {
            code: 503,
            reason: "Service Unavailable".into(),
            retry_after: Some(Duration::from_secs(9_500_000_000_000_000_000)),
            hint: None,
        }
        .beyond_wait(Duration::from_secs(300));
        assert_eq!(e.retry_after(), None);
        assert_eq!(
            e.to_string(),
            "HTTP 503 Service Unavailable: the server asks to retry in 9.5e18 s, more than the 5 min Pixgrab waits"
        );
        assert_eq!(Wait(Duration::from_secs(90)).to_string(), "90 s");
        assert_eq!(Wait(Duration::from_secs(3 * 3600)).to_string(), "3 h");
        assert_eq!(
            Wait(Duration::from_secs(12 * 86_400)).to_string(),
            "12 days"
        );
    }

    #[test]
    fn bytes_pick_a_readable_unit() {
        assert_eq!(Bytes(0).to_string(), "0 B");
        assert_eq!(Bytes(1023).to_string(), "1023 B");
        assert_eq!(Bytes(1536).to_string(), "1.5 KiB");
        assert_eq!(Bytes(1 << 30).to_string(), "1.0 GiB");
    }
}

/// Why the library could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// Another Pixgrab has this folder open.
    #[error("this folder is in use by another Pixgrab (its library is locked)")]
    Busy,
    /// The database was written by a newer Pixgrab.
    #[error("the library was written by a newer Pixgrab (schema {0})")]
    TooNew(i64),
    /// Anything else SQLite reported.
    #[error("library database: {0}")]
    Sqlite(String),
}

impl From<rusqlite::Error> for LibraryError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            _ => Self::Sqlite(e.to_string()),
        }
    }
}
