//! Asking gallery-dl which media a page holds.
//!
//! [gallery-dl](https://github.com/mikf/gallery-dl) knows how hundreds of sites lay out their
//! galleries, logins and APIs. When it is installed we ask it first and fall back to our own HTML
//! reading when it has no extractor for the page ([`GalleryDlError::Unsupported`]).
//!
//! We run `gallery-dl --resolve-json [--cookies FILE] -- URL` (no shell, each argument on its
//! own) and read the JSON it prints on standard output: a list of messages, `[3, url, metadata]`
//! for a file, `[6, url, metadata]` for another page, `[-1, {"error", "message"}]` for a failure.
//! `--resolve-json` (gallery-dl 1.28 and later) follows links into other extractors, so the list
//! is what a plain `gallery-dl URL` would download; older versions reject the option and are asked
//! again with `--dump-json`. The user's gallery-dl configuration is read as usual (logins,
//! cookies, per-site options live there).
//!
//! Facts this relies on (gallery-dl 1.32): exit status 64 means no extractor matched the URL;
//! with `--dump-json` / `--resolve-json` the exit status is 0 even when the page failed (404,
//! connection refused), the failure is a `-1` message in the JSON instead; 1.29.0 and older
//! wrote that failure as `["HttpError", "message"]`. Every call costs about half a second of
//! Python start-up before any network traffic.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use url::Url;

/// The most bytes of gallery-dl's standard output we read for one page; more is an error.
pub const STDOUT_CAP: usize = 64 << 20;
/// The most bytes of gallery-dl's standard error we keep (the last ones: the error is at the end).
const STDERR_CAP: usize = 64 << 10;
/// The longest error text we pass on.
const ERROR_TEXT_CAP: usize = 1000;
/// Exit status gallery-dl sets when no extractor matches a URL.
const EXIT_UNSUPPORTED: i32 = 64;
/// Exit status of an argument parsing error (argparse).
const EXIT_USAGE: i32 = 2;
/// How long the output pipes may stay open after gallery-dl itself has exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);
/// Name of the threads reading gallery-dl's output.
const THREAD_NAME: &str = "pixgrab-gallery-dl";
/// The program name looked up on `PATH`.
const PROGRAM_NAME: &str = "gallery-dl";

/// Whether "Find images" asks gallery-dl first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Setting {
    /// When `gallery-dl` is on `PATH` (the default).
    #[default]
    Auto,
    /// Never.
    Off,
    /// This program (a path, or a name looked up on `PATH`).
    Program(PathBuf),
}

impl Setting {
    /// The gallery-dl this setting names, if it is there.
    pub fn locate(&self) -> Option<GalleryDl> {
        match self {
            Self::Auto => GalleryDl::locate(None),
            Self::Off => None,
            Self::Program(path) => GalleryDl::locate(Some(path)),
        }
    }
}

/// What to tell a user who has no gallery-dl.
pub const INSTALL_HINT: &str = "with gallery-dl installed (pip install gallery-dl), Pixgrab also reads 300+ sites that need special handling";

/// A gallery-dl program found on `PATH` or set by the user.
#[derive(Debug, Clone)]
pub struct GalleryDl {
    program: PathBuf,
    /// Prefix page URLs with `generic:` (gallery-dl's catch-all extractor); for tests.
    generic: bool,
    /// The proxy gallery-dl's own requests go through (Pixgrab's `--proxy`).
    proxy: Option<String>,
    /// Raised when the caller stops (the engine shuts down): gallery-dl is stopped.
    cancel: Option<Arc<AtomicBool>>,
}

/// A file gallery-dl lists for a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the file is (always `http` or `https`).
    pub url: Url,
    /// Width in pixels, when the site told gallery-dl (`width` or `image_width`).
    pub width: Option<u32>,
    /// Height in pixels, when the site told gallery-dl (`height` or `image_height`).
    pub height: Option<u32>,
    /// gallery-dl's name for the file, without extension (`filename`), when it has one.
    pub filename: Option<String>,
    /// gallery-dl's extension for the file, without the dot (`extension`), when it has one.
    pub extension: Option<String>,
}

/// What gallery-dl found on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The files, in gallery-dl's order, each URL once.
    pub media: Vec<Media>,
    /// Other pages the page led to that gallery-dl could not list itself (or, with gallery-dl
    /// before 1.28, did not follow); the caller may read them itself.
    pub pages: Vec<Url>,
    /// Entries left out: not `http`/`https` (such as `ytdl:` or `text:`), or not a URL.
    pub skipped: usize,
    /// Errors gallery-dl reported alongside what it did find (say a failed sub-gallery).
    pub errors: Vec<String>,
}

/// Why gallery-dl could not list a page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GalleryDlError {
    /// gallery-dl has no extractor for the page; read it another way.
    #[error("gallery-dl does not support this page")]
    Unsupported,
    /// gallery-dl failed; its own error text, such as
    /// `HttpError: '404 Not Found' for 'https://…'`.
    #[error("gallery-dl: {0}")]
    Failed(String),
    /// gallery-dl took longer than this and was stopped.
    #[error("gallery-dl took longer than {0:?} and was stopped")]
    TimedOut(Duration),
    /// The program could not be started.
    #[error("could not start gallery-dl: {0}")]
    Spawn(String),
}

impl GalleryDl {
    /// Finds gallery-dl. With `explicit` (the user's setting): that file if it is an executable
    /// file, or, for a bare name such as `gallery-dl`, that name on `PATH`; the setting is never
    /// silently swapped for another program. Without it: `gallery-dl` on `PATH`. `None` if not
    /// found.
    ///
    /// Only checks the file; a program that is not gallery-dl shows up as
    /// [`GalleryDlError::Failed`] from [`list`](Self::list).
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

    /// For tests: asks through gallery-dl's generic extractor (prefixes page URLs with
    /// `generic:`), which lists the images of any page. It drops the port from the URL, so a
    /// test page must be served on port 80.
    #[must_use]
    pub fn generic(self) -> Self {
        Self {
            generic: true,
            ..self
        }
    }

    /// Sends gallery-dl's own requests through `proxy` (as Pixgrab's are).
    #[must_use]
    pub fn with_proxy(self, proxy: Option<String>) -> Self {
        Self { proxy, ..self }
    }

    /// Stops gallery-dl (and [`list`](Self::list) returns) as soon as `cancel` is raised.
    #[must_use]
    pub fn with_cancel(self, cancel: Arc<AtomicBool>) -> Self {
        Self {
            cancel: Some(cancel),
            ..self
        }
    }

    /// The program this runs.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The media gallery-dl lists for `page` (`http` or `https`), passing `cookies` (the text
    /// of a Netscape cookies.txt) when given: through a file that has no name on disk (its
    /// standard input, read as `/dev/stdin`), never written back, so nothing of it is left
    /// behind whatever happens to either process. Stops gallery-dl and returns [`GalleryDlError::TimedOut`] after
    /// `timeout`. Blocks; run it off the UI thread.
    ///
    /// A page gallery-dl failed on gives [`GalleryDlError::Failed`] only when nothing was
    /// found; a partial result comes back with the failure in [`Listing::errors`].
    pub fn list(
        &self,
        page: &Url,
        cookies: Option<&str>,
        timeout: Duration,
    ) -> Result<Listing, GalleryDlError> {
        if !is_web(page) {
            return Err(GalleryDlError::Failed(format!(
                "only http and https pages are passed to gallery-dl, not {}:",
                page.scheme()
            )));
        }
        // `None`: the timeout is too long to matter.
        let deadline = Instant::now().checked_add(timeout);
        let target = if self.generic {
            format!("generic:{page}")
        } else {
            page.as_str().to_owned()
        };
        let args = |mode: &str| {
            let mut args: Vec<OsString> = vec![mode.into()];
            if cookies.is_some() {
                args.extend(["--cookies".into(), COOKIES_PATH.into()]);
                // gallery-dl writes its cookies back to the file at exit unless told not to.
                args.extend(["-o".into(), "cookies-update=false".into()]);
            }
            args.push("--".into());
            args.push(target.as_str().into());
            args
        };
        let mut output = self.run(&args("--resolve-json"), cookies, deadline, timeout)?;
        if output.code == Some(EXIT_USAGE)
            && String::from_utf8_lossy(&output.stderr).contains("--resolve-json")
        {
            // gallery-dl before 1.28.
            output = self.run(&args("--dump-json"), cookies, deadline, timeout)?;
        }
        interpret(output.code, &output.stdout, &output.stderr)
    }

    /// Runs gallery-dl with `args` until it exits or `deadline` passes, reading its output.
    fn run(
        &self,
        args: &[OsString],
        cookies: Option<&str>,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<RawOutput, GalleryDlError> {
        let mut command = Command::new(&self.program);
        let stdin = match cookies {
            Some(text) => Stdio::from(unnamed_file(text).map_err(|e| {
                GalleryDlError::Spawn(format!("cannot hand the cookies to gallery-dl: {e}"))
            })?),
            None => Stdio::null(),
        };
        if let Some(proxy) = &self.proxy {
            // In its environment, not on its command line (which any local user can read).
            for name in ["http_proxy", "https_proxy", "all_proxy"] {
                command
                    .env(name, proxy)
                    .env(name.to_ascii_uppercase(), proxy);
            }
            command.env_remove("no_proxy").env_remove("NO_PROXY");
        }
        command
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // No colour codes in error lines; UTF-8 output whatever the console code page.
            .env("NO_COLOR", "1")
            .env("PYTHONIOENCODING", "utf-8");
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            // No console window flashing up over a GUI program.
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            command.creation_flags(CREATE_NO_WINDOW);
        }
        let mut child = command
            .spawn()
            .map_err(|e| GalleryDlError::Spawn(format!("{}: {e}", self.program.display())))?;

        let overflow = Arc::new(AtomicBool::new(false));
        let (sender, receiver) = mpsc::channel::<(Stream, io::Result<Captured>)>();
        let readers = [
            child.stdout.take().map(|out| {
                let overflow = Arc::clone(&overflow);
                start_reader(Stream::Out, sender.clone(), move || {
                    read_head(out, STDOUT_CAP, &overflow)
                })
            }),
            child.stderr.take().map(|err| {
                start_reader(Stream::Err, sender.clone(), move || {
                    read_tail(err, STDERR_CAP)
                })
            }),
        ];
        drop(sender);
        for started in readers {
            match started {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    stop(&mut child);
                    return Err(GalleryDlError::Spawn(format!(
                        "could not start a reader thread: {e}"
                    )));
                }
                None => {
                    stop(&mut child);
                    return Err(GalleryDlError::Spawn(
                        "gallery-dl's output was not piped".into(),
                    ));
                }
            }
        }

        let status = wait(
            &mut child,
            deadline,
            timeout,
            &overflow,
            self.cancel.as_deref(),
        )?;

        let mut stdout = None;
        let mut stderr = None;
        let pipes_deadline = Instant::now().checked_add(PIPE_GRACE);
        while stdout.is_none() || stderr.is_none() {
            let left =
                pipes_deadline.map_or(PIPE_GRACE, |d| d.saturating_duration_since(Instant::now()));
            let (stream, captured) = match receiver.recv_timeout(left) {
                Ok(got) => got,
                Err(_) => {
                    return Err(GalleryDlError::Failed(
                        "gallery-dl exited but its output stayed open (a process it started still runs?)"
                            .into(),
                    ));
                }
            };
            let captured = captured.map_err(|e| {
                GalleryDlError::Failed(format!("could not read gallery-dl's output: {e}"))
            })?;
            match stream {
                Stream::Out => stdout = Some(captured),
                Stream::Err => stderr = Some(captured),
            }
        }
        let stdout = stdout.unwrap_or_default();
        let stderr = stderr.unwrap_or_default();
        if stdout.overflowed {
            return Err(too_much_output());
        }
        Ok(RawOutput {
            code: status.code(),
            stdout: stdout.bytes,
            stderr: stderr.bytes,
        })
    }
}

/// What one run of gallery-dl left.
struct RawOutput {
    /// Exit status; `None` when a signal ended it.
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Where gallery-dl reads the cookies: its standard input, a file with no name.
const COOKIES_PATH: &str = "/dev/stdin";

/// A file holding `text`, read from its start, that has no name on disk (removed before
/// anyone else could open it, or never named): gone when the last process closes it.
fn unnamed_file(text: &str) -> io::Result<std::fs::File> {
    use std::io::{Seek, Write};
    let mut file = tempfile::tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    file.rewind()?;
    Ok(file)
}

/// Which output stream a reader thread read.
#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// The bytes a reader thread kept.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    /// More than the cap was written (standard output only; standard error keeps its tail).
    overflowed: bool,
}

fn too_much_output() -> GalleryDlError {
    GalleryDlError::Failed(format!(
        "gallery-dl printed more than {} MiB for one page",
        STDOUT_CAP >> 20
    ))
}

/// Starts a named thread that runs `read` and sends its result.
fn start_reader(
    stream: Stream,
    sender: mpsc::Sender<(Stream, io::Result<Captured>)>,
    read: impl FnOnce() -> io::Result<Captured> + Send + 'static,
) -> io::Result<()> {
    thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            // The receiver is gone only when the caller already gave up.
            let _ = sender.send((stream, read()));
        })
        .map(drop)
}

/// Reads up to `cap` bytes; at more, sets `overflow` and stops reading (closing the pipe, so
/// gallery-dl stops on a broken pipe if it is not killed first).
fn read_head(reader: impl Read, cap: usize, overflow: &AtomicBool) -> io::Result<Captured> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes)?;
    let overflowed = bytes.len() > cap;
    if overflowed {
        overflow.store(true, Ordering::Relaxed);
        bytes.truncate(cap);
    }
    Ok(Captured { bytes, overflowed })
}

/// Reads to the end, keeping the last `cap` bytes or so.
fn read_tail(mut reader: impl Read, cap: usize) -> io::Result<Captured> {
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        bytes.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if bytes.len() > cap.saturating_mul(2) {
            let cut = bytes.len() - cap;
            bytes.drain(..cut);
        }
    }
    Ok(Captured {
        bytes,
        overflowed: false,
    })
}

/// Waits for `child` to exit, killing it at `deadline` or when its output overflows.
fn wait(
    child: &mut Child,
    deadline: Option<Instant>,
    timeout: Duration,
    overflow: &AtomicBool,
    cancel: Option<&AtomicBool>,
) -> Result<ExitStatus, GalleryDlError> {
    let mut nap = Duration::from_millis(5);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => {
                stop(child);
                return Err(GalleryDlError::Failed(format!(
                    "could not wait for gallery-dl: {e}"
                )));
            }
        }
        if overflow.load(Ordering::Relaxed) {
            stop(child);
            return Err(too_much_output());
        }
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            stop(child);
            return Err(GalleryDlError::Failed("stopped".into()));
        }
        let now = Instant::now();
        let left = match deadline {
            Some(deadline) if now >= deadline => {
                stop(child);
                return Err(GalleryDlError::TimedOut(timeout));
            }
            Some(deadline) => deadline - now,
            None => nap,
        };
        thread::sleep(nap.min(left));
        nap = (nap * 2).min(Duration::from_millis(50));
    }
}

/// Kills `child` and reaps it. Failures are ignored: it may have exited on its own meanwhile.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads the outcome of one run: exit status `code`, standard output and standard error.
fn interpret(code: Option<i32>, stdout: &[u8], stderr: &[u8]) -> Result<Listing, GalleryDlError> {
    if code == Some(EXIT_UNSUPPORTED) {
        return Err(GalleryDlError::Unsupported);
    }
    let failed = || {
        GalleryDlError::Failed(error_line(stderr).unwrap_or_else(|| match code {
            Some(0) => "gallery-dl printed nothing".to_owned(),
            Some(code) => format!("gallery-dl exited with status {code}"),
            None => "gallery-dl was stopped by a signal".to_owned(),
        }))
    };
    if stdout.trim_ascii().is_empty() {
        return Err(failed());
    }
    let mut listing = match parse_dump(stdout) {
        Ok(listing) => listing,
        Err(e) => {
            return Err(GalleryDlError::Failed(error_line(stderr).unwrap_or_else(
                || format!("gallery-dl printed JSON we could not read ({e})"),
            )));
        }
    };
    let found_nothing = listing.media.is_empty() && listing.pages.is_empty();
    if code != Some(0) {
        if found_nothing && listing.errors.is_empty() {
            return Err(failed());
        }
        if let Some(line) = error_line(stderr) {
            listing.errors.push(line);
        }
    }
    if found_nothing && let Some(first) = listing.errors.first() {
        return Err(GalleryDlError::Failed(first.clone()));
    }
    Ok(listing)
}

/// Most media, pages and errors one listing keeps (what a page may offer at most).
const MAX_ENTRIES: usize = crate::input::page::MAX_CANDIDATES;

/// Reads gallery-dl's `--dump-json` / `--resolve-json` output: one JSON list of messages, or
/// one message per line (the `output.jsonl` setting). Message by message: only one message is
/// held as a JSON tree at a time (a 64 MiB listing once took 780 MB as one tree), and at most
/// [`MAX_ENTRIES`] media, pages and errors are kept.
fn parse_dump(bytes: &[u8]) -> Result<Listing, serde_json::Error> {
    use serde::de::Deserializer as _;
    let mut collector = Collector::default();
    let mut whole = serde_json::Deserializer::from_slice(bytes);
    match whole
        .deserialize_any(&mut collector)
        .and_then(|()| whole.end())
    {
        Ok(()) => Ok(collector.listing),
        Err(e) => {
            let mut collector = Collector::default();
            for line in bytes.split(|&b| b == b'\n') {
                if line.trim_ascii().is_empty() {
                    continue;
                }
                // Report the whole-document error when the lines are not JSON either.
                match serde_json::from_slice::<Value>(line) {
                    Ok(message) => collector.take(&message),
                    Err(_) => return Err(e),
                }
                if collector.full() {
                    break;
                }
            }
            Ok(collector.listing)
        }
    }
}

/// Builds a [`Listing`] from gallery-dl's messages, one at a time.
#[derive(Default)]
struct Collector {
    listing: Listing,
    seen: HashSet<String>,
}

impl Collector {
    /// True when no more media are kept.
    fn full(&self) -> bool {
        self.listing.media.len() >= MAX_ENTRIES
    }

    /// Takes one message.
    fn take(&mut self, message: &Value) {
        let Some(parts) = message.as_array() else {
            return;
        };
        let listing = &mut self.listing;
        match parts.first() {
            Some(Value::Number(kind)) => match kind.as_i64() {
                Some(3) => match parts.get(1).and_then(Value::as_str).and_then(web_url) {
                    Some(url) if listing.media.len() < MAX_ENTRIES => {
                        if self.seen.insert(url.as_str().to_owned()) {
                            listing.media.push(media(url, parts.get(2)));
                        }
                    }
                    Some(_) => {}
                    None => listing.skipped += 1,
                },
                Some(6) => match parts.get(1).and_then(Value::as_str).and_then(web_url) {
                    Some(url) if listing.pages.len() < MAX_ENTRIES => {
                        if self.seen.insert(url.as_str().to_owned()) {
                            listing.pages.push(url);
                        }
                    }
                    Some(_) => {}
                    None => listing.skipped += 1,
                },
                Some(-1) if listing.errors.len() < 100 => {
                    listing.errors.push(error_text(parts.get(1)));
                }
                _ => {} // 2: directory metadata.
            },
            // gallery-dl 1.29.0 and older: `["HttpError", "message"]`.
            Some(Value::String(kind)) if listing.errors.len() < 100 => {
                let message = parts.get(1).and_then(Value::as_str).unwrap_or_default();
                listing
                    .errors
                    .push(cap_text(&format!("{kind}: {}", message.trim())));
            }
            _ => {}
        }
    }
}

impl<'de> serde::de::Visitor<'de> for &mut Collector {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of gallery-dl messages")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(first) = seq.next_element::<Value>()? else {
            return Ok(());
        };
        if first.is_number() || first.is_string() {
            // One message on one line, `[3, "https://…", {…}]`, starts with its kind.
            let mut message = vec![first];
            while let Some(part) = seq.next_element::<Value>()? {
                message.push(part);
            }
            self.take(&Value::Array(message));
            return Ok(());
        }
        self.take(&first);
        while !self.full() {
            match seq.next_element::<Value>()? {
                Some(message) => self.take(&message),
                None => return Ok(()),
            }
        }
        // Full: the rest is skipped without being built.
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Not a message (a single object): nothing in it, read to its end.
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(())
    }
}

/// A [`Media`] for `url` with what `metadata` tells about it.
fn media(url: Url, metadata: Option<&Value>) -> Media {
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| metadata.and_then(|m| m.get(key)))
    };
    let dimension = |keys: &[&str]| {
        field(keys)
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                // The `output.num-to-str` setting.
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0)
    };
    let text = |key: &str| {
        field(&[key])
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Media {
        width: dimension(&["width", "image_width"]),
        height: dimension(&["height", "image_height"]),
        filename: text("filename"),
        extension: text("extension"),
        url,
    }
}

/// `{"error": "HttpError", "message": "…"}` as `HttpError: …`.
fn error_text(value: Option<&Value>) -> String {
    let get = |key| {
        value
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
    };
    let (kind, message) = (get("error"), get("message"));
    cap_text(&match (kind.is_empty(), message.is_empty()) {
        (false, false) => format!("{kind}: {message}"),
        (false, true) => kind.to_owned(),
        (true, false) => message.to_owned(),
        (true, true) => "unknown error".to_owned(),
    })
}

/// `url` parsed, if it is an `http` or `https` URL.
fn web_url(url: &str) -> Option<Url> {
    Url::parse(url).ok().filter(is_web)
}

fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// gallery-dl's last error line on standard error, without the `[category][error] ` prefix, or
/// the last line when none is marked as an error.
fn error_line(stderr: &[u8]) -> Option<String> {
    let text = strip_ansi(&String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let marked = lines.iter().rev().find_map(|line| {
        line.find("][error] ")
            .map(|at| line.get(at + "][error] ".len()..).unwrap_or_default())
    });
    marked
        .or_else(|| lines.last().copied())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(cap_text)
}

/// `text` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// `text` cut to [`ERROR_TEXT_CAP`] characters.
fn cap_text(text: &str) -> String {
    // What gallery-dl says comes from sites: no control characters reach a terminal.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match text.char_indices().nth(ERROR_TEXT_CAP) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or_default()),
        None => text,
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
fn is_executable(path: &Path) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `gallery-dl -j generic:http://127.0.0.2/index.html` (1.32.18) on a page with three
    /// `<img>`, an `<a href>` to a .jpg, an `&amp;` in a src and a `data:` src.
    const DUMP_GENERIC: &str = r#"[
  [
    2,
    {
      "category": "generic",
      "count": 5,
      "pageurl": "http://127.0.0.2/index.html",
      "path": "index.html",
      "subcategory": "127.0.0.2",
      "title": "Test page"
    }
  ],
  [
    3,
    "http://127.0.0.2/img1.png",
    {
      "category": "generic",
      "count": 5,
      "extension": "png",
      "filename": "img1",
      "imageurl": "http://127.0.0.2/img1.png",
      "num": 1,
      "pageurl": "http://127.0.0.2/index.html",
      "path": "index.html",
      "subcategory": "127.0.0.2",
      "title": "Test page"
    }
  ],
  [
    3,
    "http://127.0.0.2/img2.png",
    {
      "category": "generic",
      "count": 5,
      "extension": "png",
      "filename": "img2",
      "imageurl": "http://127.0.0.2/img2.png",
      "num": 2,
      "pageurl": "http://127.0.0.2/index.html",
      "path": "index.html",
      "subcategory": "127.0.0.2",
      "title": "Test page"
    }
  ],
  [
    3,
    "http://127.0.0.2/img3.png?x=1&amp;y=2",
    {
      "category": "generic",
      "count": 5,
      "extension": "png",
      "filename": "img3",
      "imageurl": "http://127.0.0.2/img3.png?x=1&amp;y=2",
      "num": 3,
      "pageurl": "http://127.0.0.2/index.html",
      "path": "index.html",
      "subcategory": "127.0.0.2",
      "title": "Test page"
    }
  ],
  [
    3,
    "http://127.0.0.2/data:image/png;base64,iVBORw0KGgo=",
    {
      "category": "generic",
      "count": 5,
      "extension": "",
      "filename": "png;base64,iVBORw0KGgo=",
      "imageurl": "http://127.0.0.2/data:image/png;base64,iVBORw0KGgo=",
      "num": 4,
      "pageurl": "http://127.0.0.2/index.html",
      "path": "index.html",
      "subcategory": "127.0.0.2",
      "title": "Test page"
    }
  ],
  [
    3,
    "http://127.0.0.2/img3.jpg",
    {
      "category": "generic",
      "count": 5,
      "extension": "jpg",
      "filename": "img3",
      "imageurl": "http://127.0.0.2/img3.jpg",
      "num": 5,
      "pageurl": "http://127.0.0.2/index.html",
      "path": "index.html",
      "subcategory": "127.0.0.2",
      "title": "Test page"
    }
  ]
]
"#;

    /// The same with `-o output.jsonl=true` (one message per line), first three lines.
    const DUMP_JSONL: &str = concat!(
        r#"[2,{"title":"Test page","path":"index.html","pageurl":"http://127.0.0.2/index.html","count":5,"category":"generic","subcategory":"127.0.0.2"}]"#,
        "\n",
        r#"[3,"http://127.0.0.2/img1.png",{"title":"Test page","path":"index.html","pageurl":"http://127.0.0.2/index.html","count":5,"category":"generic","subcategory":"127.0.0.2","num":1,"imageurl":"http://127.0.0.2/img1.png","filename":"img1","extension":"png"}]"#,
        "\n",
        r#"[3,"http://127.0.0.2/img2.png",{"title":"Test page","path":"index.html","pageurl":"http://127.0.0.2/index.html","count":5,"category":"generic","subcategory":"127.0.0.2","num":2,"imageurl":"http://127.0.0.2/img2.png","filename":"img2","extension":"png"}]"#,
        "\n",
    );

    /// `gallery-dl -j generic:http://127.0.0.2/missing.html`: exit status 0.
    const DUMP_404: &str = r#"[
  [
    -1,
    {
      "error": "HttpError",
      "message": "'404 File not found' for 'http://127.0.0.2/missing.html'"
    }
  ]
]
"#;

    /// `gallery-dl -j generic:http://127.0.0.3/index.html` (nothing listening): exit status 0.
    const DUMP_REFUSED: &str = r#"[
  [
    -1,
    {
      "error": "HttpError",
      "message": " NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused"
    }
  ]
]
"#;

    /// `gallery-dl -j generic:http://127.0.0.2/empty/index.html` (a page without images).
    const DUMP_EMPTY_PAGE: &str = r#"[
  [
    2,
    {
      "category": "generic",
      "count": 0,
      "pageurl": "http://127.0.0.2/empty/index.html",
      "path": "emptyindex.html",
      "subcategory": "127.0.0.2"
    }
  ]
]
"#;

    /// `gallery-dl -j http://127.0.0.2/x.html`: exit status 64, nothing on standard output.
    const STDERR_UNSUPPORTED: &str =
        "[gallery-dl][error] Unsupported URL 'http://127.0.0.2/x.html'\n";

    /// `gallery-dl -g generic:http://127.0.0.2/missing.html`: exit status 4.
    const STDERR_404: &str =
        "[generic][error] HttpError: '404 File not found' for 'http://127.0.0.2/missing.html'\n";

    /// `gallery-dl --bogus -- x`: exit status 2.
    const STDERR_USAGE: &str = "usage: gallery-dl [OPTIONS] URL [URL...]\ngallery-dl: error: unrecognized arguments: --bogus\n";

    fn urls(listing: &Listing) -> Vec<&str> {
        listing.media.iter().map(|m| m.url.as_str()).collect()
    }

    #[test]
    fn the_generic_dump_lists_every_file_with_name_and_extension() {
        let listing = interpret(Some(0), DUMP_GENERIC.as_bytes(), b"").expect("listing");
        assert_eq!(
            urls(&listing),
            [
                "http://127.0.0.2/img1.png",
                "http://127.0.0.2/img2.png",
                // gallery-dl's generic extractor does not unescape HTML; we pass it on as is.
                "http://127.0.0.2/img3.png?x=1&amp;y=2",
                "http://127.0.0.2/data:image/png;base64,iVBORw0KGgo=",
                "http://127.0.0.2/img3.jpg",
            ]
        );
        let first = &listing.media[0];
        assert_eq!(first.filename.as_deref(), Some("img1"));
        assert_eq!(first.extension.as_deref(), Some("png"));
        assert_eq!((first.width, first.height), (None, None));
        assert_eq!(listing.media[3].extension, None, "empty extension is None");
        assert!(listing.pages.is_empty() && listing.errors.is_empty());
        assert_eq!(listing.skipped, 0);
    }

    #[test]
    fn one_message_per_line_reads_the_same() {
        let listing = interpret(Some(0), DUMP_JSONL.as_bytes(), b"").expect("listing");
        assert_eq!(
            urls(&listing),
            ["http://127.0.0.2/img1.png", "http://127.0.0.2/img2.png"]
        );
    }

    #[test]
    fn a_single_line_with_one_message_is_one_message() {
        let line = r#"[3,"https://a.example/1.jpg",{"width":640,"height":480}]"#;
        let listing = interpret(Some(0), line.as_bytes(), b"").expect("listing");
        assert_eq!(urls(&listing), ["https://a.example/1.jpg"]);
        assert_eq!(
            (listing.media[0].width, listing.media[0].height),
            (Some(640), Some(480))
        );
    }

    #[test]
    fn sizes_come_from_width_or_image_width_numbers_or_strings() {
        let dump = r#"[
          [3, "https://a.example/1.jpg", {"width": 1200, "height": 800}],
          [3, "https://a.example/2.jpg", {"image_width": 300, "image_height": 200}],
          [3, "https://a.example/3.jpg", {"width": "64", "height": "48"}],
          [3, "https://a.example/4.jpg", {"width": 0, "height": -1}],
          [3, "https://a.example/5.jpg", {"width": 99999999999, "height": null}]
        ]"#;
        let listing = interpret(Some(0), dump.as_bytes(), b"").expect("listing");
        let sizes: Vec<_> = listing.media.iter().map(|m| (m.width, m.height)).collect();
        assert_eq!(
            sizes,
            [
                (Some(1200), Some(800)),
                (Some(300), Some(200)),
                (Some(64), Some(48)),
                (None, None),
                (None, None),
            ]
        );
    }

    #[test]
    fn non_web_urls_are_skipped_pages_kept_apart_and_duplicates_dropped() {
        // Message shapes as gallery-dl writes them: `ytdl:` for videos left to yt-dlp, `text:`
        // for text posts, 6 for a page handled by another extractor.
        let dump = r#"[
          [2, {"category": "example"}],
          [3, "ytdl:https://video.example/watch?v=1", {}],
          [3, "text:Hello there", {}],
          [3, "https://a.example/1.jpg", {}],
          [3, "https://a.example/1.jpg", {}],
          [3, "not a url", {}],
          [3, 42, {}],
          [6, "https://other.example/album/7", {"_extractor": null}],
          [6, "ftp://other.example/x", {}]
        ]"#;
        let listing = interpret(Some(0), dump.as_bytes(), b"").expect("listing");
        assert_eq!(urls(&listing), ["https://a.example/1.jpg"]);
        assert_eq!(listing.pages.len(), 1);
        assert_eq!(listing.pages[0].as_str(), "https://other.example/album/7");
        assert_eq!(listing.skipped, 5);
    }

    #[test]
    fn a_failed_page_is_failed_with_gallery_dls_words() {
        assert_eq!(
            interpret(Some(0), DUMP_404.as_bytes(), b""),
            Err(GalleryDlError::Failed(
                "HttpError: '404 File not found' for 'http://127.0.0.2/missing.html'".into()
            ))
        );
        assert_eq!(
            interpret(Some(0), DUMP_REFUSED.as_bytes(), b""),
            Err(GalleryDlError::Failed(
                "HttpError: NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused"
                    .into()
            ))
        );
    }

    #[test]
    fn the_old_error_format_is_read_too() {
        let dump = r#"[["HttpError", "'404 Not Found' for 'https://a.example/x'"]]"#;
        assert_eq!(
            interpret(Some(0), dump.as_bytes(), b""),
            Err(GalleryDlError::Failed(
                "HttpError: '404 Not Found' for 'https://a.example/x'".into()
            ))
        );
    }

    #[test]
    fn a_partial_result_keeps_its_files_and_the_error() {
        let dump = r#"[
          [3, "https://a.example/1.jpg", {}],
          [-1, {"error": "HttpError", "message": "'500 Internal Server Error' for 'https://a.example/p2'"}]
        ]"#;
        let listing = interpret(Some(0), dump.as_bytes(), b"").expect("listing");
        assert_eq!(urls(&listing), ["https://a.example/1.jpg"]);
        assert_eq!(
            listing.errors,
            ["HttpError: '500 Internal Server Error' for 'https://a.example/p2'"]
        );
    }

    #[test]
    fn a_page_without_images_is_an_empty_listing() {
        let listing = interpret(Some(0), DUMP_EMPTY_PAGE.as_bytes(), b"").expect("listing");
        assert_eq!(listing, Listing::default());
    }

    #[test]
    fn exit_status_64_is_unsupported() {
        assert_eq!(
            interpret(Some(64), b"", STDERR_UNSUPPORTED.as_bytes()),
            Err(GalleryDlError::Unsupported)
        );
    }

    #[test]
    fn without_json_the_error_line_on_stderr_is_the_reason() {
        assert_eq!(
            interpret(Some(4), b"", STDERR_404.as_bytes()),
            Err(GalleryDlError::Failed(
                "HttpError: '404 File not found' for 'http://127.0.0.2/missing.html'".into()
            ))
        );
        assert_eq!(
            interpret(Some(2), b"", STDERR_USAGE.as_bytes()),
            Err(GalleryDlError::Failed(
                "gallery-dl: error: unrecognized arguments: --bogus".into()
            ))
        );
        assert_eq!(
            interpret(Some(1), b"", b""),
            Err(GalleryDlError::Failed(
                "gallery-dl exited with status 1".into()
            ))
        );
        assert_eq!(
            interpret(None, b"", b""),
            Err(GalleryDlError::Failed(
                "gallery-dl was stopped by a signal".into()
            ))
        );
    }

    #[test]
    fn unreadable_output_is_failed_not_a_panic() {
        let result = interpret(Some(0), b"[[3, \"https://a.example/1.jpg\"", b"");
        assert!(
            matches!(result, Err(GalleryDlError::Failed(_))),
            "{result:?}"
        );
        let result = interpret(Some(0), b"\xff\xfe garbage", b"");
        assert!(
            matches!(result, Err(GalleryDlError::Failed(_))),
            "{result:?}"
        );
        assert_eq!(interpret(Some(0), b"{}", b""), Ok(Listing::default()));
        assert_eq!(interpret(Some(0), b"[]", b""), Ok(Listing::default()));
    }

    #[test]
    fn colour_codes_and_long_lines_are_cleaned_from_error_text() {
        let stderr = "\u{1b}[1;31m[generic][error] HttpError: boom\u{1b}[0m\n";
        assert_eq!(
            error_line(stderr.as_bytes()).as_deref(),
            Some("HttpError: boom")
        );
        let long = "é".repeat(5000);
        let capped = error_line(long.as_bytes()).expect("a line");
        assert_eq!(capped.chars().count(), ERROR_TEXT_CAP + 1);
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn stderr_keeps_its_tail_and_stdout_its_head() {
        let mut text = "x".repeat(100);
        text.push_str("\nthe end");
        let tail = read_tail(text.as_bytes(), 16).expect("read");
        assert!(tail.bytes.ends_with(b"the end"));
        let overflow = AtomicBool::new(false);
        let head = read_head(text.as_bytes(), 16, &overflow).expect("read");
        assert_eq!(head.bytes.len(), 16);
        assert!(head.overflowed && overflow.load(Ordering::Relaxed));
        let fits = read_head(&b"short"[..], 16, &AtomicBool::new(false)).expect("read");
        assert!(!fits.overflowed);
    }

    #[test]
    fn locate_takes_the_users_setting_or_nothing() {
        assert!(GalleryDl::locate(Some(Path::new("/nonexistent/gallery-dl"))).is_none());
        assert!(GalleryDl::locate(Some(Path::new(""))).is_none());
        assert!(GalleryDl::locate(Some(Path::new("pixgrab-no-such-program"))).is_none());
        // A directory is not a program.
        assert!(GalleryDl::locate(Some(&std::env::temp_dir())).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_file_without_execute_bits_is_not_a_program() {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!("pixgrab-gdl-noexec-{}", std::process::id()));
        std::fs::write(&path, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(GalleryDl::locate(Some(&path)).is_none());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(
            GalleryDl::locate(Some(&path)).map(|g| g.program),
            Some(path.clone())
        );
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn other_schemes_are_refused_before_running_anything() {
        let gdl = GalleryDl {
            program: PathBuf::from("/nonexistent/gallery-dl"),
            generic: false,
            proxy: None,
            cancel: None,
        };
        let page = Url::parse("file:///etc/passwd").expect("url");
        assert!(matches!(
            gdl.list(&page, None, Duration::from_secs(1)),
            Err(GalleryDlError::Failed(_))
        ));
        let page = Url::parse("https://a.example/").expect("url");
        assert!(matches!(
            gdl.list(&page, None, Duration::from_secs(1)),
            Err(GalleryDlError::Spawn(_))
        ));
    }
}
