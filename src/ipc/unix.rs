//! The window's endpoint as a Unix socket: where it lives, claiming it, serving it, and
//! handing a message to whoever holds it.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::frame::{self, MAX_MESSAGE};
use super::{Handover, IpcError, Reply};

/// The socket's file name inside its folder.
const SOCKET: &str = "window.sock";

/// How long one side waits for the other's whole message (a sender that trickles a
/// byte at a time is cut off then; the sender writes its message at once).
const PATIENCE: Duration = Duration::from_secs(10);

/// Reads from a socket until a fixed time, whatever pace the bytes come at.
struct Until<'a> {
    stream: &'a UnixStream,
    until: std::time::Instant,
}

impl io::Read for Until<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self
            .until
            .saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the message took more than {} s", PATIENCE.as_secs()),
            ));
        }
        self.stream.set_read_timeout(Some(left))?;
        io::Read::read(&mut self.stream, buf)
    }
}

/// Where the window's socket lives: `$XDG_RUNTIME_DIR/pixgrab/window.sock`, else
/// `$TMPDIR/pixgrab-UID/window.sock`. `PIXGRAB_IPC_DIR` overrides the folder (tests).
pub(crate) fn socket_path() -> PathBuf {
    socket_dir().join(SOCKET)
}

fn socket_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PIXGRAB_IPC_DIR") {
        return PathBuf::from(dir);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(runtime) => PathBuf::from(runtime).join("pixgrab"),
        None => std::env::temp_dir().join(format!("pixgrab-{}", my_uid())),
    }
}

fn my_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Makes the socket's folder (mode 0700) or checks that the one there is a real
/// folder of this user that nobody else may enter.
fn safe_dir(dir: &Path) -> Result<(), IpcError> {
    match std::fs::DirBuilder::new()
        .recursive(false)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        Err(e) => return Err(e.into()),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != my_uid() || meta.mode() & 0o077 != 0 {
        return Err(IpcError::Unsafe(format!(
            "{} is not a private folder of this user (mode {:o}, owner {})",
            dir.display(),
            meta.mode() & 0o7777,
            meta.uid()
        )));
    }
    Ok(())
}

/// Whether the process at the other end of `stream` runs as this user.
fn same_user(stream: &UnixStream) -> bool {
    rustix::net::sockopt::socket_peercred(stream).is_ok_and(|cred| cred.uid.as_raw() == my_uid())
}

/// The window's hold on the socket, until it is served.
#[derive(Debug)]
pub(crate) struct Endpoint {
    listener: UnixListener,
    claim: Claim,
}

/// The socket file this window made: removed when dropped (the window closes), and
/// only if it is still the one it made (another window's is never removed).
#[derive(Debug)]
pub(crate) struct Claim {
    path: PathBuf,
    /// Device and inode of the socket file as made.
    made: (u64, u64),
}

impl Drop for Claim {
    fn drop(&mut self) {
        let same =
            std::fs::symlink_metadata(&self.path).is_ok_and(|m| (m.dev(), m.ino()) == self.made);
        if same {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Endpoint {
    /// Claims the socket for this window. `Ok(None)` when another window holds it
    /// (it answers on it); a socket nobody answers on is a crashed window's, replaced.
    pub(crate) fn claim() -> Result<Option<Self>, IpcError> {
        Self::claim_at(&socket_path())
    }

    /// [`Endpoint::claim`] at `path`. Two windows starting at once take turns (a lock
    /// file beside the socket), so only one of them replaces a stale socket and binds.
    pub(crate) fn claim_at(path: &Path) -> Result<Option<Self>, IpcError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        safe_dir(dir)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dir.join("window.lock"))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::LockExclusive)
            .map_err(io::Error::from)?;
        for _ in 0..3 {
            match UnixListener::bind(path) {
                Ok(listener) => {
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
                    let meta = std::fs::symlink_metadata(path)?;
                    return Ok(Some(Self {
                        listener,
                        claim: Claim {
                            path: path.to_path_buf(),
                            made: (meta.dev(), meta.ino()),
                        },
                    }));
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    if UnixStream::connect(path).is_ok() {
                        return Ok(None);
                    }
                    // Nobody answers: a window that died left it behind.
                    let _ = std::fs::remove_file(path);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(IpcError::Unsafe(format!(
            "could not claim {} (another window keeps starting?)",
            path.display()
        )))
    }

    /// Serves the socket on its own thread: each message from this user is checked by
    /// `take` (which answers whether it was taken) and answered; anything else is
    /// dropped unread. Keep the returned [`Claim`] while the window is open: dropping it
    /// removes the socket file.
    pub(crate) fn serve(
        self,
        take: impl Fn(Handover) -> Reply + Send + 'static,
    ) -> io::Result<Claim> {
        let Self { listener, claim } = self;
        std::thread::Builder::new()
            .name("pixgrab-ipc".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else {
                        // Out of descriptors, say: wait rather than spin.
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    if !same_user(&stream) {
                        continue;
                    }
                    let _ = stream.set_write_timeout(Some(PATIENCE));
                    let mut reader = Until {
                        stream: &stream,
                        until: std::time::Instant::now() + PATIENCE,
                    };
                    let reply = match frame::read_json::<Handover>(&mut reader, MAX_MESSAGE) {
                        Ok(Some(handover)) => take(handover),
                        Ok(None) => continue,
                        Err(e) => Reply::refused(e.to_string()),
                    };
                    let _ = frame::write_json(&mut stream, &reply, frame::MAX_REPLY);
                }
            })?;
        Ok(claim)
    }
}

/// Hands `message` to the window holding the socket and returns its answer.
/// [`IpcError::NoWindow`] when none does.
pub(crate) fn hand_over(message: &Handover) -> Result<Reply, IpcError> {
    hand_over_at(&socket_path(), message)
}

/// [`hand_over`] through the socket at `path`.
pub(crate) fn hand_over_at(path: &Path, message: &Handover) -> Result<Reply, IpcError> {
    let mut stream = match UnixStream::connect(path) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Err(IpcError::NoWindow);
        }
        Err(e) => return Err(e.into()),
    };
    if !same_user(&stream) {
        return Err(IpcError::Unsafe(format!(
            "{} belongs to another user",
            path.display()
        )));
    }
    // The window serves one sender at a time, each within PATIENCE: wait for a few.
    stream.set_read_timeout(Some(PATIENCE * 3))?;
    stream.set_write_timeout(Some(PATIENCE * 3))?;
    frame::write_json(&mut stream, message, MAX_MESSAGE)?;
    let reply: Reply = frame::read_json(&mut stream, frame::MAX_REPLY)?.ok_or_else(|| {
        IpcError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the window closed without an answer",
        ))
    })?;
    match reply.error {
        Some(why) if !reply.ok => Err(IpcError::Refused(why)),
        _ => Ok(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_reaches_the_window_and_its_answer_comes_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ipc").join(SOCKET);
        let endpoint = Endpoint::claim_at(&path).expect("claim").expect("free");
        let mode = std::fs::metadata(&path).expect("socket").mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().expect("dir"))
            .expect("dir")
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        // A second window finds the first.
        assert!(Endpoint::claim_at(&path).expect("claim").is_none());
        let (tx, rx) = crossbeam_channel::unbounded();
        let _claim = endpoint
            .serve(move |h: Handover| {
                let _ = tx.send(h.clone());
                if h.urls.is_empty() {
                    Reply::refused("nothing in it")
                } else {
                    Reply::taken()
                }
            })
            .expect("serve");
        let message = Handover {
            urls: vec!["https://a.test/1.jpg".into()],
            direct: true,
            ..Handover::default()
        };
        assert_eq!(
            hand_over_at(&path, &message).expect("taken"),
            Reply::taken()
        );
        assert_eq!(rx.recv_timeout(PATIENCE).expect("got"), message);
        let refused = hand_over_at(&path, &Handover::default()).expect_err("refused");
        assert!(refused.to_string().contains("nothing in it"), "{refused}");
    }

    #[test]
    fn a_dead_window_s_socket_is_replaced_and_no_window_is_said_plainly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ipc").join(SOCKET);
        safe_dir(path.parent().expect("dir")).expect("dir");
        // A crashed window leaves its file; nobody answers on it.
        drop(UnixListener::bind(&path).expect("bind"));
        assert!(path.exists());
        assert!(matches!(
            hand_over_at(&path, &Handover::default()),
            Err(IpcError::NoWindow)
        ));
        let second = Endpoint::claim_at(&path).expect("claim");
        assert!(second.is_some(), "the stale socket is replaced");
    }

    #[test]
    fn a_folder_others_may_enter_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let err = Endpoint::claim_at(&open.join(SOCKET)).expect_err("unsafe");
        assert!(err.to_string().contains("not a private folder"), "{err}");
    }

    /// As root: a process of another user that reaches the socket (its folder opened up
    /// on purpose) is dropped unread and hands nothing over.
    #[test]
    fn another_user_is_refused_even_with_the_socket_open_to_all() {
        if my_uid() != 0 {
            eprintln!("skipped: needs root to act as another user");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ipc").join(SOCKET);
        let endpoint = Endpoint::claim_at(&path).expect("claim").expect("free");
        let (tx, rx) = crossbeam_channel::unbounded();
        let _claim = endpoint
            .serve(move |h: Handover| {
                let _ = tx.send(h);
                Reply::taken()
            })
            .expect("serve");
        for open in [dir.path(), path.parent().expect("dir"), path.as_path()] {
            std::fs::set_permissions(open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        }
        // nobody (65534) connects and sends a well-formed handover.
        let script = r#"
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
body = json.dumps({"urls": ["https://evil.test/x.jpg"], "direct": True}).encode()
s.settimeout(5)
try:
    s.sendall(struct.pack("=I", len(body)) + body)
    got = s.recv(4)
except (ConnectionResetError, BrokenPipeError):
    got = b""
print("answer" if got else "closed")
"#;
        let out = std::process::Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
            ])
            .arg(script)
            .arg(&path)
            .output()
            .expect("setpriv and python3");
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            said.trim() == "closed",
            "another user got: {said} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            rx.recv_timeout(Duration::from_millis(500)).is_err(),
            "nothing was handed over"
        );
        // This user still gets through.
        let mine = Handover {
            urls: vec!["https://a.test/1.jpg".into()],
            ..Handover::default()
        };
        assert_eq!(hand_over_at(&path, &mine).expect("taken"), Reply::taken());
    }

    /// A sender that trickles its message (a byte every few seconds) is cut off after
    /// [`PATIENCE`] and does not hold up the next one for longer.
    #[test]
    fn a_trickling_sender_is_cut_off_and_the_next_is_served() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ipc").join(SOCKET);
        let endpoint = Endpoint::claim_at(&path).expect("claim").expect("free");
        let _claim = endpoint.serve(|_| Reply::taken()).expect("serve");
        let mut slow = UnixStream::connect(&path).expect("connect");
        let started = std::time::Instant::now();
        let trickle = std::thread::spawn(move || {
            // Says a 1000-byte message is coming, then sends a byte every 2 s.
            let _ = io::Write::write_all(&mut slow, &1000u32.to_ne_bytes());
            for _ in 0..20 {
                if io::Write::write_all(&mut slow, b" ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(2));
            }
        });
        let message = Handover {
            urls: vec!["https://a.test/1.jpg".into()],
            ..Handover::default()
        };
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            hand_over_at(&path, &message).expect("served"),
            Reply::taken()
        );
        let waited = started.elapsed();
        assert!(
            waited < PATIENCE + Duration::from_secs(5),
            "the next sender waited {waited:?}"
        );
        drop(trickle);
    }

    /// The socket file goes with the window that made it, never with another's: a
    /// window that closes after a newer one replaced its (stale-looking) socket leaves
    /// the newer one's alone.
    #[test]
    fn a_closing_window_removes_only_its_own_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ipc").join(SOCKET);
        let first = Endpoint::claim_at(&path).expect("claim").expect("free");
        let claim = first.serve(|_| Reply::taken()).expect("serve");
        drop(claim);
        assert!(!path.exists(), "the window's socket went with it");
        // A newer window's socket at the same path outlives an older claim.
        let older = Endpoint::claim_at(&path).expect("claim").expect("free");
        std::fs::remove_file(&path).expect("as if replaced");
        let newer = Endpoint::claim_at(&path).expect("claim").expect("free");
        drop(older);
        assert!(path.exists(), "the newer window's socket stays");
        drop(newer);
        assert!(!path.exists());
    }
}
