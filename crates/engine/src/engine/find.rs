//! "Find images": reading a page for its image candidates, and learning their byte
//! sizes with HEAD requests under the per-host limit.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use url::Url;

use super::scheduler::host_key;
use super::{Shared, adapt};
use crate::error::FetchError;
use crate::input::page::Candidate;
use crate::net::fetch;

/// Largest page [`find_images`] reads.
const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;

pub(super) fn find_images(
    shared: &Shared,
    page: &Url,
) -> Result<(Url, Vec<Candidate>), FetchError> {
    use std::io::Read;
    // A new Find: the size probes of the one before stop.
    shared.find_generation.fetch_add(1, Ordering::AcqRel);
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page: None,
        guard: None,
    };
    let limits = shared.limits();
    let response = fetch::get(&shared.client, page, asker, &[], &limits)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Http {
            code: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            retry_after: None,
            hint: None,
        });
    }
    let final_url = response.url().clone();
    let mut body = Vec::new();
    response
        .take(MAX_PAGE_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|e| FetchError::Network(e.to_string()))?;
    if body.len() as u64 > MAX_PAGE_BYTES {
        return Err(FetchError::TooLarge(MAX_PAGE_BYTES));
    }
    if let crate::imaging::sniff::Sniffed::Image(format) = crate::imaging::sniff::sniff(&body) {
        return Err(FetchError::NotAnImage(
            format!("{} image", format.name()),
            Some("this is an image, not a page: add it as a URL".into()),
        ));
    }
    let html = String::from_utf8_lossy(&body);
    if let Some(title) = crate::input::page::title(&html) {
        // For `{page}` in file-name templates: the items name the page as asked or as
        // it ended up after redirects.
        shared.record(|lib| {
            lib.set_page_title(page, &title)?;
            lib.set_page_title(&final_url, &title)
        });
    }
    Ok((
        final_url.clone(),
        crate::input::page::extract(&html, &final_url),
    ))
}

/// Most candidates of one Find whose sizes are probed; the rest show no size.
pub const MAX_PROBES: usize = 1000;

pub(super) fn probe_sizes(shared: &Shared, urls: &[Url], page: Option<&Url>) -> Vec<Option<u64>> {
    const AT_ONCE: usize = 8;
    let generation = shared.find_generation.load(Ordering::Acquire);
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page,
        guard: Some(&shared.guard),
    };
    let limits = shared.limits();
    let head = |url: &Url| -> Option<u64> {
        let response = fetch::send(
            &shared.client,
            reqwest::Method::HEAD,
            url,
            asker,
            &[],
            &limits,
        )
        .ok()?;
        // Read the header: for HEAD the body is empty, so reqwest's `content_length()`
        // says 0.
        response
            .status()
            .is_success()
            .then(|| response.headers().get(reqwest::header::CONTENT_LENGTH))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(crate::net::headers::content_length)
    };
    let count = urls.len().min(MAX_PROBES);
    let work = ProbeQueue::new(urls, count, shared.config.per_host.unwrap_or(adapt::START));
    let sizes = Mutex::new(vec![None; urls.len()]);
    let stale = || shared.find_generation.load(Ordering::Acquire) != generation;
    let prober = || {
        while let Some((i, host)) = work.take(&stale) {
            // A panicking probe is one unknown size, not a lost Find.
            let size = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| head(&urls[i])))
                .ok()
                .flatten();
            if let Ok(mut sizes) = sizes.lock() {
                sizes[i] = size;
            }
            work.release(&host);
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
    sizes.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// The probes' shared to-do list: each prober takes the first URL whose host has fewer
/// than `per_host` probes running, so one host never gets more than the downloads would.
struct ProbeQueue<'a> {
    urls: &'a [Url],
    per_host: usize,
    work: Mutex<Work>,
    freed: Condvar,
}

struct Work {
    pending: VecDeque<usize>,
    active: HashMap<String, usize>,
}

impl<'a> ProbeQueue<'a> {
    /// The first `count` of `urls`, at most `per_host` at once per host.
    fn new(urls: &'a [Url], count: usize, per_host: usize) -> Self {
        Self {
            urls,
            per_host: per_host.max(1),
            work: Mutex::new(Work {
                pending: (0..count).collect(),
                active: HashMap::new(),
            }),
            freed: Condvar::new(),
        }
    }

    /// The next URL to probe (its index and host key), waiting while every pending
    /// host is at its limit; `None` when all are taken or `stale` says stop.
    fn take(&self, stale: &impl Fn() -> bool) -> Option<(usize, String)> {
        let mut w = self.work.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if stale() || w.pending.is_empty() {
                return None;
            }
            let pick = w.pending.iter().position(|&i| {
                let host = host_key(&self.urls[i]);
                w.active.get(&host).copied().unwrap_or(0) < self.per_host
            });
            if let Some(pos) = pick
                && let Some(i) = w.pending.remove(pos)
            {
                let host = host_key(&self.urls[i]);
                *w.active.entry(host.clone()).or_default() += 1;
                return Some((i, host));
            }
            w = self
                .freed
                .wait_timeout(w, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// A probe of `host` ended.
    fn release(&self, host: &str) {
        let mut w = self.work.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = w.active.get_mut(host) {
            *n = n.saturating_sub(1);
        }
        drop(w);
        self.freed.notify_all();
    }
}
