//! Handovers on their way to the window: the socket's thread checks each one and posts
//! it ([`Postman::post`]); the window takes them on its next frame ([`Inbox::take`]),
//! woken by the waker it set. The window never waits on the socket.

use std::sync::{Arc, OnceLock};

use crossbeam_channel::{Receiver, Sender};

use super::message::Checked;
use super::{Handover, Reply};

/// Wakes the window (its `request_repaint`).
type Waker = Box<dyn Fn() + Send + Sync>;

/// The posting side, used by the socket's thread (and by `main` for the window's own
/// command line).
#[derive(Clone)]
pub(crate) struct Postman {
    tx: Sender<Checked>,
    waker: Arc<OnceLock<Waker>>,
}

/// The window's side.
#[derive(Clone)]
pub(crate) struct Inbox {
    rx: Receiver<Checked>,
    waker: Arc<OnceLock<Waker>>,
}

/// A postman and the inbox it posts to.
pub(crate) fn inbox() -> (Postman, Inbox) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let waker = Arc::new(OnceLock::new());
    (
        Postman {
            tx,
            waker: waker.clone(),
        },
        Inbox { rx, waker },
    )
}

impl Postman {
    /// Checks `handover` and posts it to the window: the answer says whether it was
    /// taken, or why not.
    pub(crate) fn post(&self, handover: Handover) -> Reply {
        match handover.check() {
            Ok(checked) => {
                let count = checked.urls.len() + checked.pages.len();
                if self.tx.send(checked).is_err() {
                    return Reply::refused("the window is closing");
                }
                if let Some(wake) = self.waker.get() {
                    wake();
                }
                Reply::taken_count(count)
            }
            Err(why) => Reply::refused(why),
        }
    }
}

impl Inbox {
    /// Sets how to wake the window when something is posted (once).
    pub(crate) fn set_waker(&self, wake: impl Fn() + Send + Sync + 'static) {
        let _ = self.waker.set(Box::new(wake));
    }

    /// Everything posted since the last call.
    pub(crate) fn take(&self) -> Vec<Checked> {
        self.rx.try_iter().collect()
    }
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("waiting", &self.rx.len())
            .finish()
    }
}
