//! "Find images": reading a page for its image candidates, and learning each one's
//! pixel size, type, bytes and a preview from its first bytes (a `Range` request),
//! under the per-host limit and the private-address rule.

use std::sync::atomic::Ordering;
use std::time::Duration;

use url::Url;

mod probe;

pub use probe::{MAX_PROBES, PROBE_BYTES, Probe, Want, wants};
pub(super) use probe::{Prefetched, probe};

use std::sync::Arc;

use super::Shared;
use super::worker::guarded;
use crate::error::FetchError;
use crate::imaging::sniff;
use crate::input::gallery_dl;
use crate::input::page::Candidate;
use crate::net::fetch;

/// Largest page [`find_images`] reads.
const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;

/// Longest a gallery-dl listing may take (galleries that page through an API are slow).
const GALLERY_DL_TIMEOUT: Duration = Duration::from_secs(180);

/// A page's images, and how they were found.
#[derive(Debug, Clone)]
pub struct PageImages {
    /// The page after redirects: the Referer of its images.
    pub page: Url,
    /// The images, in page order.
    pub candidates: Vec<Candidate>,
    /// Who listed them.
    pub via: Via,
}

/// Who listed a page's images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// gallery-dl, which knows the site; `errors` are what it reported beside them.
    GalleryDl {
        /// Failures gallery-dl reported next to what it found.
        errors: Vec<String>,
        /// Pages it linked to but could not list itself (left out).
        unlisted_pages: usize,
    },
    /// Pixgrab's own reading of the page's HTML. `note` says why gallery-dl did not
    /// list them when that is worth telling: it is not installed (a hint) or it failed.
    Html {
        /// A hint or gallery-dl's failure; `None` when gallery-dl is off or does not
        /// know the site.
        note: Option<String>,
    },
    /// The browser extension, from the page as the browser rendered it (pages built by
    /// script, behind a login, scrolled).
    Browser,
}

impl Via {
    /// A few words for the user: who listed the images, and anything gallery-dl said
    /// (its failure, or the hint to install it); `None` when there is nothing to tell.
    pub fn describe(&self) -> Option<String> {
        match self {
            Self::GalleryDl {
                errors,
                unlisted_pages,
            } => {
                let mut text = "listed by gallery-dl".to_string();
                if *unlisted_pages > 0 {
                    text.push_str(&format!(
                        "; {unlisted_pages} linked pages it could not list are left out"
                    ));
                }
                if !errors.is_empty() {
                    text.push_str(&format!("; it also said: {}", errors.join("; ")));
                }
                Some(text)
            }
            Self::Html { note } => note.clone(),
            Self::Browser => Some("sent from the browser".into()),
        }
    }
}

pub(super) fn find_images(shared: &Shared, page: &Url) -> Result<PageImages, FetchError> {
    // A new Find: the size probes of the one before stop.
    shared.find_generation.fetch_add(1, Ordering::AcqRel);
    list_page(shared, page, false)
}

/// The images of `page`: gallery-dl's listing when it knows the site, else the page's
/// HTML read (what a Find and a watch's check share; a check stops no probes).
///
/// A `watched` page is read again on Pixgrab's own schedule, not at the user's word: it
/// may reach a private address only when it was read from one before (a watched public
/// page whose name turns private is refused, not read from the inside).
pub(super) fn list_page(
    shared: &Shared,
    page: &Url,
    watched: bool,
) -> Result<PageImages, FetchError> {
    let note = match shared.config.gallery_dl.locate() {
        Some(program) => match ask_gallery_dl(shared, program, page) {
            Ok(listed) => return Ok(listed),
            Err(note) => note,
        },
        None => match &shared.config.gallery_dl {
            gallery_dl::Setting::Auto => Some(gallery_dl::INSTALL_HINT.to_string()),
            gallery_dl::Setting::Program(path) => {
                Some(format!("gallery-dl is not at {}", path.display()))
            }
            gallery_dl::Setting::Off => None,
        },
    };
    let (final_url, candidates) = read_html(shared, page, watched)?;
    Ok(PageImages {
        page: final_url,
        candidates,
        via: Via::Html { note },
    })
}

/// The media gallery-dl lists for `page`, with the user's cookies and proxy; `Err` with
/// what to tell the user (or `None`) when the page is to be read as HTML instead.
fn ask_gallery_dl(
    shared: &Shared,
    program: gallery_dl::GalleryDl,
    page: &Url,
) -> Result<PageImages, Option<String>> {
    let mut program = program.with_proxy(shared.config.proxy.clone());
    if shared.config.gallery_dl_generic {
        program = program.generic();
    }
    let program = program.with_cancel(shared.stopping.clone());
    let profiles = shared.profiles();
    // Only the cookies of the page's own site, and in no file anyone else could open.
    let site = site_cookies(&profiles.cookies, page);
    let cookies = (!site.is_empty()).then(|| crate::net::profile::write_cookies_txt(&site));
    let listed = program.list(page, cookies.as_deref(), GALLERY_DL_TIMEOUT);
    match listed {
        Ok(listing) if !listing.media.is_empty() => {
            // Pixgrab never read the page: private only when its address says so.
            let private = crate::net::netguard::is_private_literal(page);
            shared.http.guard.learn_page(page, private);
            shared.record(|lib| lib.set_page_origin(page, private));
            let candidates = listing
                .media
                .into_iter()
                .enumerate()
                .map(|(picture, media)| Candidate {
                    url: media.url,
                    source: crate::input::page::Source::GalleryDl,
                    picture,
                    declared_width: media.width,
                    smaller_variant: false,
                })
                .take(crate::input::page::MAX_CANDIDATES)
                .collect();
            Ok(PageImages {
                page: page.clone(),
                candidates,
                via: Via::GalleryDl {
                    errors: listing.errors,
                    unlisted_pages: listing.pages.len(),
                },
            })
        }
        Ok(listing) => Err(Some(match listing.errors.first() {
            Some(e) => format!("gallery-dl found nothing ({e})"),
            None => "gallery-dl found nothing on this page".into(),
        })),
        Err(gallery_dl::GalleryDlError::Unsupported) => Err(None),
        Err(e) => Err(Some(e.to_string())),
    }
}

/// The cookies that belong to `page`'s site: those its host would be sent, and those of
/// its site's other hosts (`img.example.com` for a page on `www.example.com`), never
/// another site's.
fn site_cookies(
    cookies: &[crate::net::profile::Cookie],
    page: &Url,
) -> Vec<crate::net::profile::Cookie> {
    let Some(host) = page
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
    else {
        return Vec::new();
    };
    // The host without its first label, when that leaves at least two ("example.com").
    let site = match host.split_once('.') {
        Some((_, rest)) if rest.contains('.') && page.domain().is_some() => rest.to_string(),
        _ => host.clone(),
    };
    let now = crate::disk::library::unix_now();
    let on_site = |domain: &str| domain == site || domain.ends_with(&format!(".{site}"));
    cookies
        .iter()
        .filter(|c| c.matches(page, now) || on_site(&c.domain))
        .cloned()
        .collect()
}

/// Reads the page's HTML for its images: the final URL and the candidates.
fn read_html(
    shared: &Shared,
    page: &Url,
    watched: bool,
) -> Result<(Url, Vec<Candidate>), FetchError> {
    let profiles = shared.profiles();
    let asker = fetch::Asker {
        profiles: &profiles,
        page: None,
        first: watched.then(|| crate::net::netguard::Cause::Page {
            private: shared.http.guard.page_is_private(page),
        }),
        lane: 0,
    };
    // Whatever the server does (a byte every few seconds never stalls), a page read
    // ends within its deadline.
    let limits = shared.limits().within(shared.config.page_deadline);
    let response = fetch::get(&shared.http, page, asker, &[], &limits)?;
    let status = response.status();
    if !status.is_success() {
        return Err(fetch::status_error(status, None, None));
    }
    let final_url = response.url().clone();
    // What the page's content may reach is decided by where it really came from.
    let guard = &shared.http.guard;
    let private = guard.reply_is_private(&final_url, response.remote_addr());
    let asked = (final_url != *page).then_some(page);
    for url in std::iter::once(&final_url).chain(asked) {
        guard.learn_page(url, private);
        shared.record(|lib| lib.set_page_origin(url, private));
    }
    let meta = fetch::Fetched::of(&response, Vec::new());
    let body = read_page_body(shared, response, &limits)?;
    if let sniff::Sniffed::Image(_) = sniff::sniff(&body) {
        // The "page" is an image itself: it is its only image, and the download that
        // may follow takes the bytes already here.
        shared.prefetched.keep(
            page,
            fetch::Fetched {
                bytes: body,
                ..meta
            },
        );
        let only = Candidate {
            url: page.clone(),
            source: crate::input::page::Source::Img,
            picture: 0,
            declared_width: None,
            smaller_variant: false,
        };
        return Ok((final_url, vec![only]));
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

/// A page's body, at most [`MAX_PAGE_BYTES`]; reading stops when the engine stops (a
/// watch check must not outlive it).
fn read_page_body(
    shared: &Shared,
    response: reqwest::blocking::Response,
    limits: &fetch::FetchLimits,
) -> Result<Vec<u8>, FetchError> {
    use std::io::Read;

    let mut body = Vec::new();
    let mut response = response.take(MAX_PAGE_BYTES + 1);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if shared.stopping.load(Ordering::Acquire) {
            return Err(FetchError::Network("stopped".into()));
        }
        match response.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(fetch::read_failure(&e, limits)),
        }
    }
    if body.len() as u64 > MAX_PAGE_BYTES {
        return Err(FetchError::TooLarge(MAX_PAGE_BYTES));
    }
    Ok(body)
}

/// Reads pages and probes sizes with an engine's client and request profiles, from any
/// thread (see [`EngineHandle::finder`](super::EngineHandle::finder)).
#[derive(Clone)]
pub struct Finder {
    pub(super) shared: Arc<Shared>,
}

impl Finder {
    /// The images of a web page, with the page's final URL (after redirects): listed by
    /// gallery-dl when it knows the site (see
    /// [`Config::gallery_dl`](super::Config::gallery_dl)), else read from the page's HTML
    /// (see the `input::page` module). Blocks: call it off the UI thread.
    pub fn find_images(&self, page: &Url) -> Result<PageImages, FetchError> {
        guarded(|| find_images(&self.shared, page))
    }

    /// Stops the probes of the last Find (its picker was closed).
    pub fn cancel_probes(&self) {
        self.shared.find_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// What the first bytes of each of `urls` say: pixel size, type, bytes and, when
    /// wanted, a preview (see [`Want`]). A few run at once, under the per-host limit
    /// and the private-address rule; `report` hears each result as it comes. A file
    /// fetched whole is not fetched again when it is queued. Blocks: call it off the
    /// UI thread.
    pub fn probe(
        &self,
        urls: &[(Url, Want)],
        page: Option<&Url>,
        report: &(dyn Fn(usize, &Probe) + Sync),
    ) -> Vec<Probe> {
        probe(&self.shared, urls, page, report)
    }
}

impl std::fmt::Debug for Finder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finder").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
