//! Running gallery-dl on a page: its arguments, environment and cookies (on standard
//! input, a file with no name), waiting for it with a deadline, and stopping it.

use std::ffi::OsString;
use std::io;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use url::Url;

use super::media::is_web;
use super::parse::interpret;
use super::pipes::{
    Captured, Received, STDERR_CAP, Stream, collect, read_head, read_tail, start_reader,
};
use super::{GalleryDl, GalleryDlError, Listing, STDOUT_CAP};

/// Exit status of an argument parsing error (argparse).
const EXIT_USAGE: i32 = 2;

impl GalleryDl {
    /// The media gallery-dl lists for `page` (`http` or `https`), passing `cookies` (the text
    /// of a Netscape cookies.txt) when given: through a file that has no name on disk (its
    /// standard input, read as `/dev/stdin`), never written back, so nothing of it is left
    /// behind whatever happens to either process. Stops gallery-dl and returns [`GalleryDlError::TimedOut`] after
    /// `timeout`. Blocks; run it off the UI thread.
    ///
    /// A page gallery-dl failed on gives [`GalleryDlError::Failed`] only when nothing was
    /// found; a partial result comes back with the failure in `Listing::errors`.
    pub fn list(
        &self,
        page: &Url,
        cookies: Option<&str>,
        timeout: Duration,
    ) -> Result<Listing, GalleryDlError> {
        if !is_web(page) {
            return Err(GalleryDlError::Failed(format!(
                "only http and https pages are passed to gallery-dl, not {}:",
                page.scheme()
            )));
        }
        // `None`: the timeout is too long to matter.
        let deadline = Instant::now().checked_add(timeout);
        let target = if self.generic {
            format!("generic:{page}")
        } else {
            page.as_str().to_owned()
        };
        let args = |mode: &str| {
            let mut args: Vec<OsString> = vec![mode.into()];
            if cookies.is_some() {
                args.extend(["--cookies".into(), COOKIES_PATH.into()]);
                // gallery-dl writes its cookies back to the file at exit unless told not to.
                args.extend(["-o".into(), "cookies-update=false".into()]);
            }
            args.push("--".into());
            args.push(target.as_str().into());
            args
        };
        let mut output = self.run(&args("--resolve-json"), cookies, deadline, timeout)?;
        if output.code == Some(EXIT_USAGE)
            && String::from_utf8_lossy(&output.stderr).contains("--resolve-json")
        {
            // gallery-dl before 1.28.
            output = self.run(&args("--dump-json"), cookies, deadline, timeout)?;
        }
        interpret(output.code, &output.stdout, &output.stderr)
    }

    /// Runs gallery-dl with `args` until it exits or `deadline` passes, reading its output.
    fn run(
        &self,
        args: &[OsString],
        cookies: Option<&str>,
        deadline: Option<Instant>,
        timeout: Duration,
    ) -> Result<RawOutput, GalleryDlError> {
        let mut command = self.command(args, cookies)?;
        let mut child = command
            .spawn()
            .map_err(|e| GalleryDlError::Spawn(format!("{}: {e}", self.program.display())))?;

        let overflow = Arc::new(AtomicBool::new(false));
        let receiver = start_readers(&mut child, &overflow)?;

        let status = wait(
            &mut child,
            deadline,
            timeout,
            &overflow,
            self.cancel.as_deref(),
        )?;

        let (stdout, stderr) = collect(&receiver)?;
        if stdout.overflowed {
            return Err(too_much_output());
        }
        Ok(RawOutput {
            code: status.code(),
            stdout: stdout.bytes,
            stderr: stderr.bytes,
        })
    }

    /// The command that runs gallery-dl with `args`: `cookies` on its standard input, the
    /// proxy in its environment, its output piped.
    fn command(&self, args: &[OsString], cookies: Option<&str>) -> Result<Command, GalleryDlError> {
        let mut command = Command::new(&self.program);
        let stdin = match cookies {
            Some(text) => Stdio::from(unnamed_file(text).map_err(|e| {
                GalleryDlError::Spawn(format!("cannot hand the cookies to gallery-dl: {e}"))
            })?),
            None => Stdio::null(),
        };
        if let Some(proxy) = &self.proxy {
            // In its environment, not on its command line (which any local user can read).
            for name in ["http_proxy", "https_proxy", "all_proxy"] {
                command
                    .env(name, proxy)
                    .env(name.to_ascii_uppercase(), proxy);
            }
            command.env_remove("no_proxy").env_remove("NO_PROXY");
        }
        command
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // No colour codes in error lines; UTF-8 output whatever the console code page.
            .env("NO_COLOR", "1")
            .env("PYTHONIOENCODING", "utf-8");
        #[cfg(windows)]
        {
            use std::os::windows::process::CommandExt;
            // No console window flashing up over a GUI program.
            const CREATE_NO_WINDOW: u32 = 0x0800_0000;
            command.creation_flags(CREATE_NO_WINDOW);
        }
        Ok(command)
    }
}

/// What one run of gallery-dl left.
struct RawOutput {
    /// Exit status; `None` when a signal ended it.
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Starts the threads reading `child`'s standard output (its head, up to [`STDOUT_CAP`],
/// raising `overflow` past it) and standard error (its tail); each sends what it read.
/// On failure `child` is stopped.
fn start_readers(
    child: &mut Child,
    overflow: &Arc<AtomicBool>,
) -> Result<Received, GalleryDlError> {
    let (sender, receiver) = mpsc::channel::<(Stream, io::Result<Captured>)>();
    let readers = [
        child.stdout.take().map(|out| {
            let overflow = Arc::clone(overflow);
            start_reader(Stream::Out, sender.clone(), move || {
                read_head(out, STDOUT_CAP, &overflow)
            })
        }),
        child.stderr.take().map(|err| {
            start_reader(Stream::Err, sender.clone(), move || {
                read_tail(err, STDERR_CAP)
            })
        }),
    ];
    drop(sender);
    for started in readers {
        match started {
            Some(Ok(())) => {}
            Some(Err(e)) => {
                stop(child);
                return Err(GalleryDlError::Spawn(format!(
                    "could not start a reader thread: {e}"
                )));
            }
            None => {
                stop(child);
                return Err(GalleryDlError::Spawn(
                    "gallery-dl's output was not piped".into(),
                ));
            }
        }
    }
    Ok(receiver)
}

/// Where gallery-dl reads the cookies: its standard input, a file with no name.
const COOKIES_PATH: &str = "/dev/stdin";

/// A file holding `text`, read from its start, that has no name on disk (removed before
/// anyone else could open it, or never named): gone when the last process closes it.
fn unnamed_file(text: &str) -> io::Result<std::fs::File> {
    use std::io::{Seek, Write};
    let mut file = tempfile::tempfile()?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    file.rewind()?;
    Ok(file)
}

fn too_much_output() -> GalleryDlError {
    GalleryDlError::Failed(format!(
        "gallery-dl printed more than {} MiB for one page",
        STDOUT_CAP >> 20
    ))
}

/// Waits for `child` to exit, killing it at `deadline` or when its output overflows.
fn wait(
    child: &mut Child,
    deadline: Option<Instant>,
    timeout: Duration,
    overflow: &AtomicBool,
    cancel: Option<&AtomicBool>,
) -> Result<ExitStatus, GalleryDlError> {
    let mut nap = Duration::from_millis(5);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => {
                stop(child);
                return Err(GalleryDlError::Failed(format!(
                    "could not wait for gallery-dl: {e}"
                )));
            }
        }
        if overflow.load(Ordering::Relaxed) {
            stop(child);
            return Err(too_much_output());
        }
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            stop(child);
            return Err(GalleryDlError::Failed("stopped".into()));
        }
        let now = Instant::now();
        let left = match deadline {
            Some(deadline) if now >= deadline => {
                stop(child);
                return Err(GalleryDlError::TimedOut(timeout));
            }
            Some(deadline) => deadline - now,
            None => nap,
        };
        thread::sleep(nap.min(left));
        nap = (nap * 2).min(Duration::from_millis(50));
    }
}

/// Kills `child` and reaps it. Failures are ignored: it may have exited on its own meanwhile.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}
