//! `pixgrab package-assets DIR`: the man pages (`man/pixgrab.1` and one per subcommand,
//! `pixgrab-get.1`, …) and the shell completions (`completions/pixgrab.bash`,
//! `completions/_pixgrab`, `completions/pixgrab.fish`), made from the clap grammar so they
//! cannot say anything the binary does not do. The package ships the copies in
//! `assets/generated/`; `tests/assets.rs` checks that they are current.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Args;

/// Writes every man page and completion into `dir`; returns how many files.
pub(crate) fn generate(dir: &Path) -> anyhow::Result<usize> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    for d in [&man, &completions] {
        std::fs::create_dir_all(d).with_context(|| format!("could not make {}", d.display()))?;
    }
    let mut written = 0;
    let command = Args::command();
    written += man_page(&command, "pixgrab", &man)?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("pixgrab-{}", sub.get_name());
        // The page's name, and the binary's in the usage line.
        let sub = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("pixgrab {}", sub.get_name()));
        written += man_page(&sub, &name, &man)?;
    }
    for (shell, file) in [
        (Shell::Bash, "pixgrab.bash"),
        (Shell::Zsh, "_pixgrab"),
        (Shell::Fish, "pixgrab.fish"),
    ] {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut Args::command(), "pixgrab", &mut text);
        let path = completions.join(file);
        std::fs::write(&path, text)
            .with_context(|| format!("could not write {}", path.display()))?;
        written += 1;
    }
    Ok(written)
}

/// Where Pixgrab keeps things, for `pixgrab(1)`.
const FILES: &str = r#".SH FILES
.TP
\fIOUT\fR/.pixgrab/library.db
An output folder's library: every URL added to it, its state, file, size and hash.
.TP
\fIOUT\fR/.pixgrab/thumbs/
Its thumbnail cache; OUT/.pixgrab/damaged/ keeps damaged copies for "Keep anyway".
.TP
$XDG_DATA_HOME/pixgrab/ (~/.local/share/pixgrab/)
The window's settings (the last output folder, limits, request settings).
.TP
$XDG_RUNTIME_DIR/pixgrab/window.sock
The running window's socket: a second pixgrab and the browser extension hand it URLs.
.TP
~/.config/chromium/NativeMessagingHosts/io.github.pixgrab.json, ~/.mozilla/native\-messaging\-hosts/io.github.pixgrab.json
Written by \fBpixgrab install\-browser\-host\fR (also for Chrome, Brave and Edge); \fB\-\-uninstall\fR removes them.
.SH SEE ALSO
\fBpixgrab\-get\fR(1), \fBpixgrab\-find\fR(1), \fBpixgrab\-thumbs\fR(1), \fBpixgrab\-export\fR(1), \fBpixgrab\-similar\fR(1), \fBpixgrab\-install\-browser\-host\fR(1)
"#;

/// Writes `NAME.1` for `command` into `dir`.
fn man_page(command: &clap::Command, name: &str, dir: &Path) -> anyhow::Result<usize> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone())
        .title(name.to_uppercase())
        .section("1")
        .manual("Pixgrab Manual")
        .source(format!("Pixgrab {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .context("could not render a man page")?;
    if name == "pixgrab" {
        page.extend_from_slice(FILES.as_bytes());
    }
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).with_context(|| format!("could not write {}", path.display()))?;
    Ok(1)
}
