//! Probes: each candidate's pixel size, type, bytes and a preview from its first
//! bytes (a `Range` request), under the per-host limit; whole small files are kept
//! for the downloads that may follow.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use url::Url;

use super::super::Shared;
use super::super::scheduler::{ProbeSlot, Scheduler, host_key};
use crate::error::FetchError;
use crate::imaging::header::{HeaderSize, pixel_size};
use crate::imaging::sniff::{self, ImageFormat};
use crate::imaging::thumbnail::Thumbnail;
use crate::imaging::thumbs;
use crate::input::page::Candidate;
use crate::net::fetch::{self, FetchLimits};

/// Most candidates of one Find that are probed; the rest show no size.
pub const MAX_PROBES: usize = 1000;

/// Bytes a probe asks for: enough for any header `imaging::header::pixel_size` reads
/// (a JPEG's frame header comes after its EXIF segment, which is at most 64 KiB).
pub const PROBE_BYTES: u64 = 64 * 1024;

/// How far a probe reads for a header that lies past [`PROBE_BYTES`].
pub(in crate::engine) const DEEP_BYTES: u64 = 512 * 1024;

/// Largest file fetched whole for a preview ([`Want::WholePreview`]).
pub(crate) const PREVIEW_BYTES: u64 = 512 * 1024;

/// Most pixels a picture may have to be decoded for a preview (a 4096 × 4096 one).
const MAX_PREVIEW_PIXELS: u64 = 4096 * 4096;

/// Longest side of a probe's preview, in pixels.
pub(crate) const PREVIEW_SIDE: u32 = 128;

/// Most bytes of whole files kept for the downloads after a Find (see
/// [`Prefetched`]).
const PREFETCH_BUDGET: usize = 64 * 1024 * 1024;

/// What to learn about one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Its pixel size, type and bytes: at most [`PROBE_BYTES`] are fetched, and reading
    /// stops as soon as the header is parsed.
    Size,
    /// The same, and a preview when the first [`PROBE_BYTES`] hold one (the whole
    /// file, or a photo's EXIF thumbnail).
    Preview,
    /// The same, fetching the file whole for its preview when it is at most
    /// 512 KiB (`PREVIEW_BYTES`; the smallest variant of a picture).
    WholePreview,
}

/// What to probe of each of a page's candidates: the smallest variant of a picture
/// that has several (the narrowest srcset entry, or the thumbnail inside a link) is
/// fetched whole, for a preview the picture's other variants share; every other
/// candidate only for its first bytes (and any preview those hold).
pub fn wants(candidates: &[Candidate]) -> Vec<Want> {
    let mut wants = vec![Want::Preview; candidates.len()];
    let mut pictures: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, c) in candidates.iter().enumerate() {
        pictures.entry(c.picture).or_default().push(i);
    }
    for members in pictures.values().filter(|m| m.len() > 1) {
        let narrowest = members
            .iter()
            .filter_map(|&i| candidates[i].declared_width.map(|w| (w, i)))
            .min()
            .map(|(_, i)| i);
        let thumbnail = || {
            members
                .iter()
                .copied()
                .find(|&i| candidates[i].source == crate::input::page::Source::Img)
        };
        if let Some(i) = narrowest.or_else(thumbnail) {
            wants[i] = Want::WholePreview;
        }
    }
    wants
}

/// What probing a candidate's first bytes learned.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    /// The whole file's bytes, when the server said (Content-Range or Content-Length).
    pub bytes: Option<u64>,
    /// Width and height, from the header.
    pub pixels: Option<(u32, u32)>,
    /// The format its first bytes show.
    pub format: Option<ImageFormat>,
    /// A small preview (at most 128 pixels a side, `PREVIEW_SIDE`), when one was asked for and
    /// the bytes fetched held one.
    pub preview: Option<Thumbnail>,
    /// Why nothing (or not the pixel size) could be learned: `HTTP 404 Not Found`,
    /// `not an image (got HTML, served as text/html)`.
    pub error: Option<String>,
    /// Bytes that came over the network for this probe.
    pub fetched: u64,
}

/// Probes `urls` (each with what to learn of it, at most [`MAX_PROBES`]) under the
/// per-host limit and the private-address rule, calling `report` with each result as
/// it comes; returns them all in order. A newer Find stops an older one's probes.
pub(in crate::engine) fn probe(
    shared: &Shared,
    urls: &[(Url, Want)],
    page: Option<&Url>,
    report: &(dyn Fn(usize, &Probe) + Sync),
) -> Vec<Probe> {
    const AT_ONCE: usize = 8;
    let generation = shared.find_generation.load(Ordering::Acquire);
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page,
        first: None,
        lane: 0,
    };
    let count = urls.len().min(MAX_PROBES);
    let plain: Vec<Url> = urls.iter().map(|(u, _)| u.clone()).collect();
    let work = ProbeQueue::new(&plain, count, &shared.scheduler);
    let results = Mutex::new(vec![Probe::default(); urls.len()]);
    let stale = || shared.find_generation.load(Ordering::Acquire) != generation;
    let prober = || {
        while let Some((i, slot)) = work.take(&stale) {
            let (url, want) = &urls[i];
            // A panicking probe is one unknown size, not a lost Find.
            // Each probe (both its requests) ends within its deadline.
            let limits = shared.limits().within(shared.config.probe_deadline);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                probe_one(shared, url, *want, asker, &limits)
            }))
            .unwrap_or_else(|_| Probe {
                error: Some("the probe failed".into()),
                ..Probe::default()
            });
            work.release(slot);
            report(i, &result);
            if let Ok(mut results) = results.lock() {
                results[i] = result;
            }
        }
    };
    std::thread::scope(|scope| {
        for n in 0..AT_ONCE.min(count) {
            // A prober that cannot start only means fewer at once.
            let _ = std::thread::Builder::new()
                .name(format!("pixgrab-probe-{n}"))
                .spawn_scoped(scope, prober);
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// One probe: the first bytes of `url` (see [`first_bytes`]), read for the pixel size,
/// the type and, when wanted, a preview; a body that came whole is kept for the
/// download that may follow.
fn probe_one(
    shared: &Shared,
    url: &Url,
    want: Want,
    asker: fetch::Asker<'_>,
    limits: &FetchLimits,
) -> Probe {
    let got = match first_bytes(shared, url, want, asker, limits) {
        Ok(got) => got,
        Err(error) => {
            return Probe {
                error: Some(error),
                ..Probe::default()
            };
        }
    };
    let head = &got.head;
    let mut probe = Probe {
        bytes: got.total,
        fetched: head.len() as u64,
        ..Probe::default()
    };
    let size = pixel_size(head);
    if let HeaderSize::Known(w, h) = size {
        probe.pixels = Some((w, h));
    }
    match sniff::sniff(head) {
        sniff::Sniffed::Image(format) => probe.format = Some(format),
        sniff::Sniffed::NotImage(_) if got.cut.is_some() => {
            probe.error = got.cut;
            return probe;
        }
        sniff::Sniffed::NotImage(what) => {
            // Worded as a download's failure would be.
            let served = got.meta.content_type.as_deref().unwrap_or("no type");
            probe.error = Some(
                FetchError::NotAnImage(format!("{what}, served as {served}"), None).to_string(),
            );
            return probe;
        }
    }
    if got.whole {
        probe.bytes = Some(head.len() as u64);
    }
    probe.error = match size {
        HeaderSize::Known(..) => None,
        HeaderSize::NeedMore => Some(format!(
            "pixel size unknown: no header in the first {} KiB",
            head.len() / 1024
        )),
        HeaderSize::Unknown => Some("pixel size unknown: its header makes no sense".into()),
    };
    if want != Want::Size {
        let picture = got.whole.then_some(head.as_slice());
        let embedded = picture
            .is_none()
            .then(|| crate::imaging::exif::embedded_thumbnail(head))
            .flatten();
        probe.preview = picture.or(embedded.as_deref()).and_then(preview_of);
    }
    if got.whole {
        let file = fetch::Fetched {
            bytes: got.head,
            ..got.meta
        };
        shared.prefetched.keep(url, file);
    }
    probe
}

/// What [`first_bytes`] read.
struct FirstBytes {
    /// The bytes, from the file's first.
    head: Vec<u8>,
    /// The whole file's size, when the server said.
    total: Option<u64>,
    /// `head` is the whole file (never a cut body).
    whole: bool,
    /// Why the body was cut short, if it was.
    cut: Option<String>,
    /// The file's name and type, as a download would take them (no bytes).
    meta: fetch::Fetched,
}

/// A GET for the first bytes of `url` (`Range`), read only as far as needed: to the
/// header, or the whole file when it is small and a preview is wanted. A server that
/// ignores `Range` sends the whole file, and the rest is not read. A header further on
/// (a JPEG with a big ICC profile or XMP packet before its frame header) is read on up
/// to [`DEEP_BYTES`]: from the same body when Range was ignored, else with a second
/// Range request.
fn first_bytes(
    shared: &Shared,
    url: &Url,
    want: Want,
    asker: fetch::Asker<'_>,
    limits: &FetchLimits,
) -> Result<FirstBytes, String> {
    let cap = if want == Want::WholePreview {
        PREVIEW_BYTES
    } else {
        PROBE_BYTES
    };
    let range = [(reqwest::header::RANGE, format!("bytes=0-{}", cap - 1))];
    let mut response =
        fetch::get(&shared.http, url, asker, &range, limits).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    // The whole file's size, and whether the body starts at its first byte.
    let (from_start, total) = start_and_total(&response)?;
    if !from_start {
        return Err("the server sent a range that does not start at 0".into());
    }
    let meta = fetch::Fetched::of(&response, Vec::new());
    // The whole file fits what is fetched: read it all (for its preview, and so the
    // download that may follow needs no request).
    let read_whole = want != Want::Size && total.is_some_and(|b| b <= cap);
    let mut head = Vec::new();
    let (mut ended, mut cut) = read_into(&mut response, &mut head, (cap, !read_whole), limits);
    let deeper = cut.is_none()
        && !ended
        && pixel_size(&head) == HeaderSize::NeedMore
        && total.is_none_or(|t| t > head.len() as u64);
    let mut spliced = false;
    if deeper && status == 200 {
        (ended, cut) = read_into(&mut response, &mut head, (DEEP_BYTES, true), limits);
    } else if deeper && (head.len() as u64) < DEEP_BYTES {
        // The rest of the header, from where the first answer came from (after its
        // redirects), taken only when the answer says it starts where the first ended.
        let from = head.len() as u64;
        let more = [(
            reqwest::header::RANGE,
            format!("bytes={from}-{}", DEEP_BYTES - 1),
        )];
        if let Ok(mut rest) = fetch::get(&shared.http, &meta.url, asker, &more, limits)
            && rest.status().as_u16() == 206
            && continues(&rest, from, total)
        {
            (_, cut) = read_into(&mut rest, &mut head, (DEEP_BYTES, true), limits);
        }
        spliced = true;
    }
    // Whole only when the size is known and every byte of it is here, from one answer
    // (a 200 without a length counts when it ended by itself): never a cut body, nor
    // bytes spliced from two answers, taken for a file.
    let whole = cut.is_none()
        && !spliced
        && match total {
            Some(t) => t == head.len() as u64,
            None => status == 200 && ended,
        };
    Ok(FirstBytes {
        head,
        total,
        whole,
        cut,
        meta,
    })
}

/// Whether an answer's body starts at the file's first byte, and the whole file's size
/// (from `Content-Range` for a 206, `Content-Length` for a 200); other statuses fail.
fn start_and_total(response: &reqwest::blocking::Response) -> Result<(bool, Option<u64>), String> {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(match response.status().as_u16() {
        206 => match header(reqwest::header::CONTENT_RANGE)
            .and_then(|v| crate::net::headers::content_range(&v))
        {
            Some((start, total)) => (start == 0, total),
            None => (false, None),
        },
        200 => (
            true,
            header(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| crate::net::headers::content_length(&v)),
        ),
        _ => return Err(fetch::status_error(response.status(), None, None).to_string()),
    })
}

/// True when a range answer's `Content-Range` starts at `from` and tells the same whole
/// size as the first answer did (if it told one).
fn continues(response: &reqwest::blocking::Response, from: u64, total: Option<u64>) -> bool {
    response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::net::headers::content_range)
        .is_some_and(|(start, size)| start == from && (total.is_none() || size == total))
}

/// Reads `response` into `head` until it holds `cap` bytes, the body ends, or (with
/// `to_header`) the pixel size is known; returns (the body ended, why it was cut).
fn read_into(
    response: &mut reqwest::blocking::Response,
    head: &mut Vec<u8>,
    (cap, to_header): (u64, bool),
    limits: &FetchLimits,
) -> (bool, Option<String>) {
    let mut buf = [0u8; 16 * 1024];
    while (head.len() as u64) < cap {
        let room = usize::try_from(cap - head.len() as u64).map_or(buf.len(), |r| r.min(buf.len()));
        let n = match std::io::Read::read(response, &mut buf[..room]) {
            Ok(0) => return (true, None),
            Ok(n) => n,
            // What came may still hold the header; it is never taken for the file.
            Err(e) => {
                return (false, Some(fetch::read_failure(&e, limits).to_string()));
            }
        };
        head.extend_from_slice(&buf[..n]);
        // (A few bytes tell nothing yet: a server may send one at a time.)
        if to_header && head.len() >= 64 && pixel_size(head) != HeaderSize::NeedMore {
            break;
        }
    }
    (false, None)
}

/// A preview of a whole picture, decoded only when its header says it is of a sane size
/// (a few hundred KiB of PNG can claim gigabytes of pixels), with its pixels charged to
/// the decode budget before they are allocated.
fn preview_of(bytes: &[u8]) -> Option<Thumbnail> {
    let HeaderSize::Known(w, h) = pixel_size(bytes) else {
        return None;
    };
    if u64::from(w) * u64::from(h) > MAX_PREVIEW_PIXELS {
        return None;
    }
    thumbs::thumbnail_from_bytes(bytes, PREVIEW_SIDE).ok()
}

/// Whole files a Find fetched (small images, previews), kept so that queueing them
/// soon after does not fetch them again: at most [`PREFETCH_BUDGET`] bytes (oldest
/// dropped first), each for [`PREFETCH_TTL`].
#[derive(Default)]
pub(in crate::engine) struct Prefetched {
    files: Mutex<VecDeque<(Url, fetch::Fetched, std::time::Instant)>>,
}

/// How long a Find's whole file stays good for a download (after that it is fetched
/// again, in case it changed).
const PREFETCH_TTL: Duration = Duration::from_secs(600);

impl Prefetched {
    /// Keeps the whole body of `url`.
    pub(super) fn keep(&self, url: &Url, file: fetch::Fetched) {
        let Ok(mut files) = self.files.lock() else {
            return;
        };
        files.retain(|(u, _, at)| u != url && at.elapsed() < PREFETCH_TTL);
        files.push_back((url.clone(), file, std::time::Instant::now()));
        let mut total: usize = files.iter().map(|(_, f, _)| f.bytes.len()).sum();
        while total > PREFETCH_BUDGET {
            match files.pop_front() {
                Some((_, f, _)) => total -= f.bytes.len(),
                None => break,
            }
        }
    }

    /// The body of `url` if a Find fetched it whole lately (handed over once).
    pub(in crate::engine) fn take(&self, url: &Url) -> Option<fetch::Fetched> {
        let mut files = self.files.lock().ok()?;
        let at = files.iter().position(|(u, _, _)| u == url)?;
        files
            .remove(at)
            .filter(|(_, _, at)| at.elapsed() < PREFETCH_TTL)
            .map(|(_, f, _)| f)
    }
}

/// The probes' shared to-do list: each prober takes the first URL whose host has a
/// free slot in the scheduler (downloads and probes share a host's one limit).
struct ProbeQueue<'a> {
    urls: &'a [Url],
    scheduler: &'a Scheduler,
    pending: Mutex<VecDeque<usize>>,
    freed: Condvar,
}

impl<'a> ProbeQueue<'a> {
    /// The first `count` of `urls`, under the host limits of `scheduler`.
    fn new(urls: &'a [Url], count: usize, scheduler: &'a Scheduler) -> Self {
        Self {
            urls,
            scheduler,
            pending: Mutex::new((0..count).collect()),
            freed: Condvar::new(),
        }
    }

    /// The next URL to probe (its index) with the slot it holds, waiting while every
    /// pending host is at its limit; `None` when all are taken or `stale` says stop.
    /// A slot freed by a download is seen within 100 ms.
    fn take(&self, stale: &impl Fn() -> bool) -> Option<(usize, ProbeSlot<'a>)> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if stale() || pending.is_empty() {
                return None;
            }
            let pick = pending.iter().enumerate().find_map(|(pos, &i)| {
                let slot = self.scheduler.try_probe(&host_key(&self.urls[i]))?;
                Some((pos, slot))
            });
            if let Some((pos, slot)) = pick
                && let Some(i) = pending.remove(pos)
            {
                return Some((i, slot));
            }
            pending = self
                .freed
                .wait_timeout(pending, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// A probe ended: its slot is freed, and waiting probers look again.
    fn release(&self, slot: ProbeSlot<'_>) {
        drop(slot);
        self.freed.notify_all();
    }
}
