//! One Pixgrab window at a time: a local socket, owned by the user, through which the
//! browser's host (`pixgrab native-host`) and a second `pixgrab URL…` hand their URLs
//! to the window already running instead of opening another.
//!
//! The endpoint is a Unix socket at `$XDG_RUNTIME_DIR/pixgrab/window.sock` (else
//! `$TMPDIR/pixgrab-UID/window.sock`), in a folder of mode 0700 that must belong to the
//! user, the socket itself 0600. Both ends check the other's credentials
//! (`SO_PEERCRED`): a process of another user is refused even if it got a descriptor.
//! Each connection carries one message each way, framed as native messaging frames
//! them (a 4-byte length, then JSON), at most [`frame::MAX_MESSAGE`] bytes.
//!
//! Invariants: a message from another user is never read; a message is parsed into
//! [`Handover`] (unknown fields refused) before anything acts on it; a stale socket left
//! by a crashed window is replaced, a live one never.

pub(crate) mod frame;
mod inbox;
mod message;
#[cfg(unix)]
mod unix;

#[cfg(test)]
pub(crate) use inbox::Postman;
pub(crate) use inbox::{Inbox, inbox};
pub(crate) use message::{Checked, Handover, HandoverCookie, Reply};
#[cfg(test)]
pub(crate) use message::{MAX_DATA_URL, MAX_URL};
#[cfg(unix)]
pub(crate) use unix::{Claim, Endpoint, hand_over};

/// Why a handover to the running window did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum IpcError {
    /// No window holds the endpoint.
    #[error("no Pixgrab window is running")]
    NoWindow,
    /// The endpoint's folder or socket is not safely ours.
    #[error("{0}")]
    Unsafe(String),
    /// The window answered with a refusal.
    #[error("the window refused it: {0}")]
    Refused(String),
    /// Reading or writing the socket failed.
    #[error("could not talk to the window: {0}")]
    Io(#[from] std::io::Error),
    /// A frame was too large or not JSON of the right shape.
    #[error("{0}")]
    Frame(#[from] frame::FrameError),
}

/// Stand-ins where there is no Unix socket (the endpoint is Linux-first; a named pipe
/// would be the matching mechanism on Windows).
#[cfg(not(unix))]
pub(crate) fn hand_over(_: &Handover) -> Result<Reply, IpcError> {
    Err(IpcError::NoWindow)
}
