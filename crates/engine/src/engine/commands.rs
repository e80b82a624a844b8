//! Commands carried out on the engine's own thread, so the caller never waits on the
//! library, the disk or a lock: the window's UI thread sends them and reads what came
//! of them as events ([`Event::Added`], [`Event::CommandFailed`], and each item's own
//! events). The same operations stay available as blocking calls on
//! [`EngineHandle`] for the command line and tests.

use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use url::Url;

use super::{EngineHandle, Event, priority};
use crate::item::ItemId;

/// A change asked of a running engine (see [`EngineHandle::send`]).
#[derive(Debug, Clone)]
pub enum Command {
    /// Queue URLs, found on `page` if given (it becomes their Referer).
    Add {
        /// The URLs, in order.
        urls: Vec<Url>,
        /// The page they were found on.
        page: Option<Url>,
    },
    /// Queue failed or cancelled items again.
    Retry(Vec<ItemId>),
    /// Queue every failed item again.
    RetryFailed,
    /// Pause items (their parts are kept).
    Pause(Vec<ItemId>),
    /// Pause everything.
    PauseAll,
    /// Resume paused items.
    Resume(Vec<ItemId>),
    /// Resume everything, and lift a hold after a disk error.
    ResumeAll,
    /// Move items to the front of the queue, in this order.
    MoveToTop(Vec<ItemId>),
    /// Cancel items.
    Cancel(Vec<ItemId>),
    /// Cancel everything.
    CancelAll,
    /// Move done items' files to the trash; the items become removed (never fetched
    /// again).
    Trash(Vec<ItemId>),
    /// Watch a page: read it again every `interval`, queueing what is new.
    Watch {
        /// The page.
        page: Url,
        /// How often.
        interval: std::time::Duration,
        /// The images the page shows now (never queued by the watch).
        seen: Vec<Url>,
    },
    /// Stop watching a page.
    Unwatch(Url),
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

    /// Carries out one command with the blocking calls, turning errors into events.
    fn carry_out(&self, command: Command) {
        let failed = |reason: String, urls: Vec<Url>| {
            self.shared
                .events
                .send(Event::CommandFailed { reason, urls });
        };
        match command {
            Command::Add { urls, page } => {
                let asked = urls.len();
                match self.add_counting(urls.clone(), page.as_ref()) {
                    Ok((_, new)) => self.shared.events.send(Event::Added { asked, new }),
                    Err(e) => failed(e.to_string(), urls),
                }
            }
            Command::Retry(ids) => {
                if let Err(e) = self.retry(&ids) {
                    failed(e.to_string(), Vec::new());
                }
            }
            Command::RetryFailed => {
                if let Err(e) = self.retry_failed() {
                    failed(e.to_string(), Vec::new());
                }
            }
            Command::Pause(ids) => self.pause(&ids),
            Command::PauseAll => self.pause_all(),
            Command::Resume(ids) => self.resume(&ids),
            Command::ResumeAll => self.resume_all(),
            Command::MoveToTop(ids) => {
                if let Err(e) = self.move_to_top(&ids) {
                    failed(e.to_string(), Vec::new());
                }
            }
            Command::Cancel(ids) => ids.iter().for_each(|id| self.cancel(*id)),
            Command::CancelAll => self.cancel_all(),
            Command::Trash(ids) => {
                if let Err(e) = self.trash(&ids) {
                    failed(e.to_string(), Vec::new());
                }
            }
            Command::Watch {
                page,
                interval,
                seen,
            } => {
                if let Err(e) = self.watch(&page, interval, &seen) {
                    failed(e.to_string(), Vec::new());
                }
            }
            Command::Unwatch(page) => {
                if let Err(e) = self.unwatch(&page) {
                    failed(e.to_string(), Vec::new());
                }
            }
        }
    }
}
