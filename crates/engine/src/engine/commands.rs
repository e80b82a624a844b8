//! The one way to command an engine: a [`Command`], carried out either on the engine's
//! own thread with [`EngineHandle::send`], so the caller never waits on the library,
//! the disk or a lock (the window's UI thread sends them and reads what came of them
//! as events: [`Event::Added`], [`Event::CommandFailed`], and each item's own events),
//! or on the caller's thread with [`EngineHandle::run`], which returns what came of it
//! (the command line and tests).

use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use url::Url;

use super::{EngineHandle, Event, priority};
use crate::error::EngineError;
use crate::item::ItemId;

/// A change asked of a running engine, carried out by [`EngineHandle::send`] (on the
/// engine's thread) or [`EngineHandle::run`] (on the caller's).
#[derive(Debug, Clone)]
pub enum Command {
    /// Queues URLs (in order). A URL already in the library keeps its item: done,
    /// queued and paused ones stay as they are, failed and cancelled ones are queued
    /// again. A `data:` URL is decoded now and its item known by a short form
    /// (`data:image/png;sha256=HEX`): the same image twice is one item.
    /// [`EngineHandle::run`] returns the items' ids, in the URLs' order;
    /// [`EngineHandle::send`] reports [`Event::Added`].
    Add {
        /// The URLs, in order.
        urls: Vec<Url>,
        /// The page they were found on: it is remembered with each item and sent as its
        /// Referer (unless a request profile sets one).
        page: Option<Url>,
    },
    /// Queues failed or cancelled items again (from scratch).
    Retry(Vec<ItemId>),
    /// Queues every failed item again.
    RetryFailed,
    /// Pauses items: waiting ones at once, running ones within a read (their parts are
    /// kept). Done, failed and unknown ids are ignored.
    Pause(Vec<ItemId>),
    /// Pauses every waiting and running item.
    PauseAll,
    /// Queues paused items again; their parts continue with `Range`.
    Resume(Vec<ItemId>),
    /// Resumes every paused item and lifts a hold after a disk error (see
    /// [`Event::Paused`]).
    ResumeAll,
    /// Moves items to the front of the queue, in this order.
    MoveToTop(Vec<ItemId>),
    /// Cancels items, queued, paused or running. Unknown or finished ids are ignored.
    Cancel(Vec<ItemId>),
    /// Cancels every queued, paused and running item.
    CancelAll,
    /// Moves done items' files to the trash and marks the items removed (never fetched
    /// again). Items not done are left alone. A file another done item shares stays.
    /// Each removed item is reported as [`Event::Removed`]; the first file that cannot
    /// be trashed stops the rest with the reason.
    Trash(Vec<ItemId>),
    /// Watches a page: every `interval` (at least
    /// [`Config::min_watch_interval`](super::Config::min_watch_interval)) it is read
    /// again and the images it shows for the first time are queued. The first check
    /// comes one interval from now. Kept in the library; reported as [`Event::Watched`].
    Watch {
        /// The page.
        page: Url,
        /// How often.
        interval: std::time::Duration,
        /// The images the caller found on the page now: never queued by the watch
        /// (queued or left out, that was the user's choice).
        seen: Vec<Url>,
    },
    /// Stops watching a page.
    Unwatch(Url),
}

impl Command {
    /// [`Command::Add`] of URLs found on no page.
    pub fn add(urls: impl IntoIterator<Item = Url>) -> Self {
        Self::Add {
            urls: urls.into_iter().collect(),
            page: None,
        }
    }

    /// [`Command::Add`] of URLs found on `page`.
    pub fn add_from(urls: impl IntoIterator<Item = Url>, page: &Url) -> Self {
        Self::Add {
            urls: urls.into_iter().collect(),
            page: Some(page.clone()),
        }
    }

    /// [`Command::Watch`] of `page`, which shows `seen` now.
    pub fn watch(page: &Url, interval: std::time::Duration, seen: &[Url]) -> Self {
        Self::Watch {
            page: page.clone(),
            interval,
            seen: seen.to_vec(),
        }
    }
}

/// The command channel and its thread, started on first use.
#[derive(Default)]
pub(super) struct Commands {
    /// `None` tells the thread to end once the commands before it are done.
    tx: OnceLock<Sender<Option<Command>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    closed: std::sync::atomic::AtomicBool,
}

impl Commands {
    /// Stops taking commands; the thread carries out those already sent, then ends.
    pub(super) fn close(&self) {
        if !self.closed.swap(true, std::sync::atomic::Ordering::AcqRel)
            && let Some(tx) = self.tx.get()
        {
            let _ = tx.send(None);
        }
    }

    /// [`Commands::close`], then waits until every command sent has been carried out.
    pub(super) fn finish(&self) {
        self.close();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl EngineHandle {
    /// Sends a command to the engine's command thread and returns at once: nothing
    /// here waits on the library or the disk. What came of it arrives as events. After
    /// shutdown began, commands are dropped.
    pub fn send(&self, command: Command) {
        if self
            .commands
            .closed
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return;
        }
        let tx = self.commands.tx.get_or_init(|| {
            let (tx, rx) = crossbeam_channel::unbounded::<Option<Command>>();
            let worker = self.helper();
            let spawned = std::thread::Builder::new()
                .name("pixgrab-commands".into())
                .spawn(move || {
                    priority::enter(worker.shared.config.background_priority);
                    while let Ok(Some(command)) = rx.recv() {
                        worker.carry_out(command);
                    }
                });
            if let Ok(thread) = spawned {
                *self
                    .commands
                    .thread
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(thread);
            }
            tx
        });
        // A thread that could not be spawned leaves a channel nobody reads: the
        // command is lost, which only happens when the system is out of threads.
        let _ = tx.send(Some(command));
    }

    /// Carries out a command on the caller's thread and returns once it is done
    /// (blocking: the command line and tests; the window uses [`EngineHandle::send`]).
    /// Returns the items it queued: for [`Command::Add`] each URL's item, in order
    /// (whether new or already known); for [`Command::Retry`],
    /// [`Command::RetryFailed`], [`Command::Resume`] and [`Command::ResumeAll`] the
    /// items that went back to the queue; for the others nothing. Errors are returned,
    /// not reported as events; the events of the items themselves come as always.
    pub fn run(&self, command: Command) -> Result<Vec<ItemId>, EngineError> {
        self.apply(command).map(|(ids, _)| ids)
    }

    /// [`EngineHandle::run`], also saying how many of the items are new (only an
    /// [`Command::Add`] makes new items).
    fn apply(&self, command: Command) -> Result<(Vec<ItemId>, usize), EngineError> {
        match command {
            Command::Add { urls, page } => self.add_counting(urls, page.as_ref()).map_err(|e| e.0),
            other => self.apply_other(other),
        }
    }

    /// [`EngineHandle::apply`] of any command but [`Command::Add`].
    fn apply_other(&self, command: Command) -> Result<(Vec<ItemId>, usize), EngineError> {
        let none = Ok((Vec::new(), 0));
        let queued = |ids: Vec<ItemId>| Ok((ids, 0));
        match command {
            // Carried out by `apply`.
            Command::Add { .. } => none,
            Command::Retry(ids) => queued(self.requeue(&ids)?),
            Command::RetryFailed => queued(self.retry_failed()?),
            Command::Pause(ids) => {
                self.pause(&ids);
                none
            }
            Command::PauseAll => {
                self.pause_all();
                none
            }
            Command::Resume(ids) => queued(self.resume(&ids)),
            Command::ResumeAll => queued(self.resume_all()),
            Command::MoveToTop(ids) => self.move_to_top(&ids).and(none),
            Command::Cancel(ids) => {
                ids.iter().for_each(|id| self.cancel(*id));
                none
            }
            Command::CancelAll => {
                self.cancel_all();
                none
            }
            Command::Trash(ids) => self.trash(&ids).and(none),
            Command::Watch {
                page,
                interval,
                seen,
            } => self.watch(&page, interval, &seen).and(none),
            Command::Unwatch(page) => self.unwatch(&page).and(none),
        }
    }

    /// Carries out one command as [`EngineHandle::run`] does, turning what came of it
    /// into events: an [`Command::Add`] is answered with [`Event::Added`], any command
    /// that fails with [`Event::CommandFailed`] (naming an Add's URLs that were not
    /// queued: the add hands them back, so no copy of its list is kept meanwhile).
    fn carry_out(&self, command: Command) {
        let result = match command {
            Command::Add { urls, page } => {
                let asked = urls.len();
                self.add_counting(urls, page.as_ref())
                    .map(|(_, new)| Some(Event::Added { asked, new }))
            }
            other => self
                .apply_other(other)
                .map(|_| None)
                .map_err(|e| (e, Vec::new())),
        };
        match result {
            Ok(Some(added)) => self.shared.events.send(added),
            Ok(None) => {}
            Err((e, urls)) => self.shared.events.send(Event::CommandFailed {
                reason: e.to_string(),
                urls,
            }),
        }
    }
}
