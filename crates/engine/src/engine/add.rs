//! An add: inline images admitted, the URLs written to the library, the new items
//! queued (and failed or cancelled ones queued again), and `Idle` when nothing was.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use url::Url;

use super::{EngineHandle, Event, ItemId, ItemState, Job};
use crate::error::EngineError;

impl EngineHandle {
    /// Carries out [`Command::Add`](super::commands::Command::Add): returns the URLs' ids (in
    /// order) and how many items are new. On failure it hands back, with the error, the
    /// URLs that were not queued (all of them, as given, when the library could not be
    /// written), so the caller needs no copy of a list of 100,000 in case it fails.
    pub(super) fn add_counting(
        &self,
        mut urls: Vec<Url>,
        page: Option<&Url>,
    ) -> Result<(Vec<ItemId>, usize), (EngineError, Vec<Url>)> {
        if urls.is_empty() {
            return Ok((Vec::new(), 0));
        }
        if let Some(delay) = self.shared.config.library_delay {
            std::thread::sleep(delay);
        }
        // Inline images are decoded and kept aside; the library gets their short forms
        // (the few given forms are kept, to hand back as given if the add fails). The
        // kept images stay on failure: an earlier add may have queued the same one.
        let max_bytes = self.shared.config.max_bytes;
        let mut given: Vec<(usize, Url)> = Vec::new();
        for (i, url) in urls.iter_mut().enumerate() {
            if url.scheme() == "data" {
                let short = self.shared.inline.admit(url, max_bytes);
                given.push((i, std::mem::replace(url, short)));
            }
        }
        let added = match self.shared.library().add(&urls, page) {
            Ok(added) => added,
            Err(e) => {
                for (i, url) in given {
                    urls[i] = url;
                }
                return Err((e.into(), urls));
            }
        };
        let mut given: std::collections::HashMap<Url, Url> = given
            .into_iter()
            .filter_map(|(i, url)| Some((urls.get(i)?.clone(), url)))
            .collect();
        let (new_jobs, again) = self.queue_added(&added, urls, page);
        let queued_again = self.requeue(&again.iter().map(|a| a.0).collect::<Vec<_>>());
        let queued_again = queued_again.map_err(|e| {
            let urls = again
                .into_iter()
                .map(|(_, url)| given.remove(&url).unwrap_or(url));
            (e, urls.collect())
        })?;
        let events = &self.shared.events;
        // Nothing queued (everything was done already) and nothing else running: say so,
        // or a caller waiting for `Idle` would wait forever. When something was queued,
        // its own settling sends `Idle` (checking the count here instead would race with
        // items that finish at once, and send a second, stale `Idle`).
        if new_jobs + queued_again.len() == 0 && events.outstanding.load(Ordering::Acquire) == 0 {
            events.send(Event::Idle);
        } else if let Some(wake) = &events.waker {
            wake();
        }
        Ok((added.iter().map(|a| a.id).collect(), new_jobs))
    }

    /// Queues the new items of an add (a job each, reported as [`Event::Queued`]);
    /// returns how many, and the failed or cancelled items to queue again with their URLs.
    fn queue_added(
        &self,
        added: &[crate::disk::library::Added],
        urls: Vec<Url>,
        page: Option<&Url>,
    ) -> (usize, Vec<(ItemId, Url)>) {
        let new = added.iter().filter(|a| a.before.is_none()).count();
        // At their final size at once: 100,000 jobs are megabytes.
        let mut jobs = Vec::with_capacity(new);
        let mut again = Vec::new();
        let page = page.map(|p| Arc::new(p.clone()));
        for (a, url) in added.iter().zip(urls) {
            match a.before {
                None => {
                    let mut job = Job::new(
                        a.id,
                        Arc::new(crate::disk::library::normalise(&url)),
                        a.rank,
                    );
                    job.page = page.clone();
                    jobs.push(job);
                }
                Some(ItemState::Failed | ItemState::Cancelled) => again.push((a.id, url)),
                // Saved already: an inline image's bytes are not needed again.
                Some(ItemState::Done | ItemState::Removed) if url.scheme() == "data" => {
                    self.shared.inline.forget(&url);
                }
                Some(_) => {}
            }
        }
        let events = &self.shared.events;
        events.enter(jobs.len());
        for job in &jobs {
            let _ = events.tx.send(Event::Queued {
                id: job.id,
                url: job.url.clone(),
            });
        }
        self.shared.scheduler.push(jobs);
        (new, again)
    }
}
