//! Moving bytes: one HTTP GET streamed into a `.part` file in the output folder, handed
//! up whole as a [`Complete`] part. What becomes of it (checked, named, published,
//! recorded) is the engine's decision, never this module's: nothing here calls up. A
//! failed attempt can leave its part behind in a [`Resume`] so the next attempt
//! continues with `Range` + `If-Range`.
//!
//! Invariants: the body is never held in memory whole (it streams through a fixed
//! buffer); the file's extension comes from the bytes, not from the server; a part
//! that is not resumed is removed (dropping a [`Resume`] deletes its file).

use std::io::{self, Read};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{self, HeaderMap};
use sha2::{Digest, Sha256};
use url::Url;

use crate::disk::library::PartRecord;
use crate::disk::naming;
use crate::disk::store::OutputDir;
use crate::error::FetchError;
use crate::imaging::sniff::{self, SNIFF_LEN, Sniffed};
use crate::net::client::Http;
use crate::net::headers;
use crate::net::netguard::Cause;
use crate::net::pacer::Pacer;
use crate::net::profile::Profiles;

mod errors;
mod part;

pub use errors::certificate_reason;
pub(crate) use errors::disk_error;
pub(crate) use errors::read_failure;
use errors::{http_error, read_error, request_error};
pub(crate) use errors::{innermost, status_error};
pub(crate) use part::content_type;
pub(crate) use part::{Complete, Fetched, Resume, Whole};

/// A stop flag value: the user cancelled the item (its part is removed).
pub(crate) const STOP_CANCEL: u8 = 1;

/// A stop flag value: the item is paused or the engine shuts down (its part is kept).
pub(crate) const STOP_PAUSE: u8 = 2;

/// Size of the read buffer. Large reads keep syscalls and progress bookkeeping rare.
const READ_BUF: usize = 256 * 1024;

/// Limits one download obeys.
#[derive(Debug, Clone)]
pub(crate) struct FetchLimits {
    /// Fail when the body grows beyond this many bytes.
    pub max_bytes: u64,
    /// Fail when no byte arrives for this long.
    pub stall_timeout: Duration,
    /// The shared bandwidth limit, if any.
    pub pacer: Option<std::sync::Arc<Pacer>>,
    /// When the whole request must be over (page reads and probes: whatever the server
    /// does, a byte every few seconds included); `None` for downloads, which only stall.
    pub deadline: Option<Deadline>,
}

/// A time by which a whole request (every redirect, and its body) is over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    at: Instant,
    length: Duration,
}

impl Deadline {
    /// `length` from now.
    pub(crate) fn after(length: Duration) -> Self {
        let now = Instant::now();
        Self {
            at: now.checked_add(length).unwrap_or(now),
            length,
        }
    }

    /// Time left (zero once passed).
    pub(crate) fn left(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

impl FetchLimits {
    /// These limits, with the whole request to be over within `length` from now.
    pub(crate) fn within(&self, length: Duration) -> Self {
        Self {
            deadline: Some(Deadline::after(length)),
            ..self.clone()
        }
    }

    /// The failure for a wait that timed out: past the deadline, or a stall.
    fn timed_out(&self) -> FetchError {
        match self.deadline {
            Some(d) if d.left() < Duration::from_millis(100) => FetchError::TooSlow(d.length),
            _ => FetchError::Stalled(self.stall_timeout),
        }
    }
}

/// What a download reports while it runs.
pub(crate) enum Progress {
    /// Response headers arrived; `total` is the full size if known.
    Started {
        /// Announced size of the whole file.
        total: Option<u64>,
        /// The answer came over HTTP/2 (a stream on a shared connection).
        http2: bool,
    },
    /// `bytes` of the file are on disk so far.
    Bytes(u64),
    /// A new part file was started; record it to continue after a restart.
    Part(PartRecord),
}

/// The outcome of [`download`] when it does not succeed.
#[derive(Debug)]
pub(crate) enum Stopped {
    /// The item's stop flag was raised to [`STOP_CANCEL`].
    Cancelled,
    /// The item's stop flag was raised to [`STOP_PAUSE`]; the part is kept in the resume state.
    Paused,
    /// It failed, with a reason for the user.
    Failed(FetchError),
}

impl From<FetchError> for Stopped {
    fn from(e: FetchError) -> Self {
        Self::Failed(e)
    }
}

/// Most redirects followed for one request.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// Who is asking: the request profiles, and the page a link was found on (the default
/// Referer, and what makes a request page-caused for the private-address rule).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asker<'a> {
    /// Headers and cookies by host.
    pub profiles: &'a Profiles,
    /// The page the URL came from, if any (`None`: the user's own request).
    pub page: Option<&'a Url>,
    /// The first hop's cause when it is not what `page` says (a watched page read again
    /// is not the user's own request).
    pub first: Option<Cause>,
    /// Which of the host's connections to use ([`Http::client`]); hops to another
    /// host go over its lane 0.
    pub lane: usize,
}

/// Sends a GET for `url`, following redirects itself (at most [`MAX_REDIRECTS`], to
/// http/https only) so that every hop gets the headers and cookies of *its* host and
/// nothing set for one host reaches another. `extra` headers (Range) go to every hop.
pub(crate) fn get(
    http: &Http,
    url: &Url,
    asker: Asker<'_>,
    extra: &[(reqwest::header::HeaderName, String)],
    limits: &FetchLimits,
) -> Result<Response, FetchError> {
    send(http, reqwest::Method::GET, url, asker, extra, limits)
}

/// [`get`] with any method (HEAD for sizes), with the same redirect handling.
///
/// Every hop obeys the private-address rule for its cause: the first hop is the user's
/// own or its page's; each redirect is caused by the answer that asked for it (a public
/// answer cannot send Pixgrab to a private address). A restricted hop goes through the
/// client whose lookups refuse private addresses. With [`FetchLimits::deadline`], the
/// whole request (every hop, and the reading of the body) ends by then.
pub(crate) fn send(
    http: &Http,
    method: reqwest::Method,
    url: &Url,
    asker: Asker<'_>,
    extra: &[(reqwest::header::HeaderName, String)],
    limits: &FetchLimits,
) -> Result<Response, FetchError> {
    let guard = &http.guard;
    let now = crate::disk::library::unix_now();
    let mut current = url.clone();
    let mut cause = asker.first.unwrap_or_else(|| guard.cause_of(asker.page));
    for _ in 0..=MAX_REDIRECTS {
        let restricted = guard.restricts(cause);
        guard
            .check(restricted, &current)
            .map_err(FetchError::Private)?;
        let lane = if same_origin(&current, url) {
            asker.lane
        } else {
            0
        };
        let mut request = http
            .client(restricted, lane)
            .request(method.clone(), current.clone());
        if let Some(deadline) = limits.deadline {
            let left = deadline.left();
            if left.is_zero() {
                return Err(FetchError::TooSlow(deadline.length));
            }
            // The client's total timeout: headers and body, every read, end by then.
            request = request.timeout(left);
        }
        for (name, value) in asker.profiles.headers_for(&current, asker.page, now) {
            request = request.header(name, value);
        }
        for (name, value) in extra {
            request = request.header(name, value);
        }
        let response = request
            .send()
            .map_err(|e| request_error(&e, &current, limits))?;
        guard
            .check_peer(restricted, &current, response.remote_addr())
            .map_err(FetchError::Private)?;
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        match location {
            Some(location) if response.status().is_redirection() => {
                cause = Cause::Page {
                    private: guard.reply_is_private(&current, response.remote_addr()),
                };
                current = headers::location(&current, location).map_err(FetchError::Redirect)?;
            }
            _ => return Ok(response),
        }
    }
    Err(FetchError::Redirect(format!(
        "more than {MAX_REDIRECTS} redirects"
    )))
}

/// Whether `a` and `b` are on one scheme, host and port (one connection pool).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Downloads `url` into a part file in `out` and hands it up whole, neither checked
/// nor published. If `resume` holds a part from an earlier attempt it is continued
/// when the server allows; on failure `resume` holds whatever part is worth continuing
/// (or nothing). `progress` is called after each read.
pub(crate) fn download(
    http: &Http,
    url: &Url,
    asker: Asker<'_>,
    sink: Sink<'_>,
    resume: &mut Option<Resume>,
    mut progress: impl FnMut(Progress),
) -> Result<Complete, Stopped> {
    let Sink { limits, stop, .. } = sink;
    // A part that is already whole (its publishing failed last time, or a Find fetched
    // it) needs no request.
    if let Some(whole) = resume.take_if(|r| !r.broken && r.total == Some(r.written)) {
        let content_type = whole.content_type.clone();
        let final_url = whole.origin.clone().unwrap_or_else(|| url.clone());
        return Ok(Complete::new(whole, content_type, final_url));
    }
    // Only a part with a validator (and intact) can be continued safely.
    if resume
        .as_ref()
        .is_some_and(|r| r.validator.is_none() || r.written == 0 || r.broken)
    {
        *resume = None;
    }
    let mut response = request(http, url, asker, limits, resume)?;
    let content_type = content_type(&response);
    let final_url = response.url().clone();
    let http2 = response.version() == reqwest::Version::HTTP_2;
    let mut buf = vec![0u8; READ_BUF];
    let mut state = match resume.take() {
        Some(r) => {
            progress(Progress::Started {
                total: r.total,
                http2,
            });
            r
        }
        None => {
            let head = Head {
                sink,
                content_type: content_type.as_deref(),
            };
            head.begin_part(&mut response, &mut buf, &mut progress)?
        }
    };
    if let Err(e) = stream_rest(
        &mut response,
        &mut state,
        &mut buf,
        stop,
        limits,
        &mut progress,
    ) {
        // Keep the part for the next attempt.
        *resume = Some(state);
        return Err(e);
    }
    if let Some(expected) = state.total.filter(|&t| t != state.written) {
        let e = FetchError::Truncated {
            got: state.written,
            expected,
        };
        if state.written < expected {
            *resume = Some(state);
        }
        return Err(e.into());
    }
    Ok(Complete::new(state, content_type, final_url))
}

/// Sends the request (a range request when `resume` holds a part) and checks the
/// answer: a usable range keeps `resume` (with the total learnt), a full body clears
/// it, a wrong range or a refusal clears it and fails so the next attempt starts over.
fn request(
    http: &Http,
    url: &Url,
    asker: Asker<'_>,
    limits: &FetchLimits,
    resume: &mut Option<Resume>,
) -> Result<Response, Stopped> {
    let mut extra = Vec::new();
    if let Some(r) = resume.as_ref() {
        extra.push((header::RANGE, format!("bytes={}-", r.written)));
        extra.push((header::IF_RANGE, r.validator.clone().unwrap_or_default()));
        // Byte offsets are offsets of the file itself, never of a compressed form.
        extra.push((header::ACCEPT_ENCODING, "identity".to_string()));
    }
    // The client's timeout bounds each wait (headers, every read): a stall watchdog.
    // A per-request timeout would instead cap the whole transfer, killing slow ones.
    let response = get(http, url, asker, &extra, limits)?;
    let status = response.status();
    if status == StatusCode::PARTIAL_CONTENT && resume.is_some() {
        let range = response
            .headers()
            .get(header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(headers::content_range);
        let start = resume.as_ref().map_or(0, |r| r.written);
        match (range, resume.as_mut()) {
            (Some((from, total)), Some(r)) if from == start => r.total = total.or(r.total),
            // A range we did not ask for: start over cleanly.
            _ => {
                *resume = None;
                return Err(FetchError::Network(
                    "server sent the wrong range; will start over".into(),
                )
                .into());
            }
        }
    } else if status == StatusCode::RANGE_NOT_SATISFIABLE && resume.is_some() {
        *resume = None;
        return Err(
            FetchError::Network("server refused to continue; will start over".into()).into(),
        );
    } else if !status.is_success() {
        return Err(http_error(status, response.headers(), response.url()).into());
    } else {
        // A full body (200): the server ignored the range or the file changed.
        *resume = None;
    }
    Ok(response)
}

/// Where a download's bytes go, the limits they obey, and the flag that stops them.
#[derive(Clone, Copy)]
pub(crate) struct Sink<'a> {
    /// The output folder its part file is made in.
    pub out: &'a OutputDir,
    /// Size, stall and bandwidth limits.
    pub limits: &'a FetchLimits,
    /// The item's stop flag ([`STOP_CANCEL`], [`STOP_PAUSE`]).
    pub stop: &'a AtomicU8,
}

/// What starting a new part needs besides the response.
struct Head<'a> {
    sink: Sink<'a>,
    /// The Content-Type as sent (cut to 100 characters).
    content_type: Option<&'a str>,
}

impl Head<'_> {
    /// Reads the first bytes of a full body, decides from them whether it is an image
    /// (and which format), and starts a part file holding them.
    fn begin_part(
        &self,
        response: &mut Response,
        buf: &mut [u8],
        progress: &mut impl FnMut(Progress),
    ) -> Result<Resume, Stopped> {
        let Sink { out, limits, stop } = self.sink;
        let total = response.content_length();
        if total.is_some_and(|t| t > limits.max_bytes) {
            return Err(FetchError::TooLarge(limits.max_bytes).into());
        }
        let http2 = response.version() == reqwest::Version::HTTP_2;
        progress(Progress::Started { total, http2 });
        let got = read_head(response, buf, stop, total, limits)?;
        let final_url = response.url();
        let format = match sniff::sniff_with_hints(&buf[..got], self.content_type, final_url.path())
        {
            Sniffed::Image(format) => format,
            Sniffed::NotImage(what) => {
                let said = self.content_type.unwrap_or("no type");
                let hint = (what == "HTML").then(|| {
                    format!(
                        "the site may want a Referer or cookies for {}",
                        final_url.host_str().unwrap_or("it")
                    )
                });
                return Err(
                    FetchError::NotAnImage(format!("{what}, served as {said}"), hint).into(),
                );
            }
        };
        let stem = stem_for(response.headers(), final_url);
        let part = out
            .create_part(&stem, format.extension())
            .map_err(disk_error)?;
        let mut state = Resume {
            part,
            stem,
            format,
            written: 0,
            hasher: Sha256::new(),
            total,
            validator: validator(response.headers()),
            content_type: self.content_type.map(str::to_string),
            broken: false,
            origin: None,
        };
        progress(Progress::Part(state.record()));
        state.append(&buf[..got], limits)?;
        progress(Progress::Bytes(state.written));
        Ok(state)
    }
}

fn read_head(
    response: &mut Response,
    buf: &mut [u8],
    stop: &AtomicU8,
    total: Option<u64>,
    limits: &FetchLimits,
) -> Result<usize, Stopped> {
    let mut got = 0;
    while got < SNIFF_LEN {
        check_stop(stop)?;
        match response.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(&e, got as u64, total, limits).into()),
        }
    }
    Ok(got)
}

fn stream_rest(
    response: &mut Response,
    state: &mut Resume,
    buf: &mut [u8],
    stop: &AtomicU8,
    limits: &FetchLimits,
    progress: &mut impl FnMut(Progress),
) -> Result<(), Stopped> {
    loop {
        check_stop(stop)?;
        // Under a bandwidth limit, read in slices of about 1/10 s so the pace is smooth.
        let want = limits
            .pacer
            .as_ref()
            .and_then(|p| p.slice())
            .map_or(buf.len(), |slice| slice.clamp(1024, buf.len()));
        let n = match response.read(&mut buf[..want]) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(&e, state.written, state.total, limits).into()),
        };
        state.append(&buf[..n], limits)?;
        progress(Progress::Bytes(state.written));
        if let Some(pacer) = &limits.pacer {
            pacer.take(n as u64, || stop.load(Ordering::Relaxed) != 0);
        }
    }
}

fn check_stop(stop: &AtomicU8) -> Result<(), Stopped> {
    match stop.load(Ordering::Relaxed) {
        0 => Ok(()),
        STOP_PAUSE => Err(Stopped::Paused),
        _ => Err(Stopped::Cancelled),
    }
}

/// The stem for the file: the server's Content-Disposition name if it gave one
/// (base name only), else the URL's last segment.
pub(super) fn stem_for(headers_seen: &HeaderMap, final_url: &Url) -> String {
    headers_seen
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(headers::content_disposition_filename)
        .map(|name| naming::stem_from_file_name(&name))
        .unwrap_or_else(|| naming::stem_from_url(final_url))
}

fn validator(headers_seen: &HeaderMap) -> Option<String> {
    let text = |name| headers_seen.get(name).and_then(|v| v.to_str().ok());
    headers::validator(text(header::ETAG), text(header::LAST_MODIFIED))
}
