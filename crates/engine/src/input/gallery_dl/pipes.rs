//! Reading gallery-dl's output on threads of their own: the head of its standard
//! output (up to a cap) and the tail of its standard error.

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::GalleryDlError;

/// The most bytes of gallery-dl's standard error we keep (the last ones: the error is at the end).
pub(super) const STDERR_CAP: usize = 64 << 10;

/// How long the output pipes may stay open after gallery-dl itself has exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Name of the threads reading gallery-dl's output.
const THREAD_NAME: &str = "pixgrab-gallery-dl";

/// Which output stream a reader thread read.
#[derive(Clone, Copy)]
pub(super) enum Stream {
    Out,
    Err,
}

/// The bytes a reader thread kept.
#[derive(Default)]
pub(super) struct Captured {
    pub(super) bytes: Vec<u8>,
    /// More than the cap was written (standard output only; standard error keeps its tail).
    pub(super) overflowed: bool,
}

/// Starts a named thread that runs `read` and sends its result.
pub(super) fn start_reader(
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
pub(super) fn read_head(
    reader: impl Read,
    cap: usize,
    overflow: &AtomicBool,
) -> io::Result<Captured> {
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
pub(super) fn read_tail(mut reader: impl Read, cap: usize) -> io::Result<Captured> {
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

/// What the reader threads send: which stream, and what was read from it.
pub(super) type Received = mpsc::Receiver<(Stream, io::Result<Captured>)>;

/// Takes what both reader threads read (standard output, standard error), waiting at most
/// [`PIPE_GRACE`] after gallery-dl exited.
pub(super) fn collect(receiver: &Received) -> Result<(Captured, Captured), GalleryDlError> {
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
    Ok((stdout.unwrap_or_default(), stderr.unwrap_or_default()))
}
