//! `pixgrab install-browser-host [--uninstall]`: the host manifests that tell each
//! browser where Pixgrab's native-messaging host is, in the user's configuration
//! (no root needed): Chromium, Google Chrome, Brave and Microsoft Edge read
//! `NativeMessagingHosts/` in their configuration folder, Firefox
//! `~/.mozilla/native-messaging-hosts/`. Each manifest names this binary, and only the
//! Pixgrab extension may start it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;

use super::{CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID, HOST_NAME};

/// A browser family's manifest folder under the user's home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The browser's name, for people.
    pub browser: &'static str,
    /// The folder the manifest goes in.
    pub dir: PathBuf,
    /// Firefox's manifest shape (allowed_extensions) rather than Chromium's.
    pub firefox: bool,
}

/// Every browser's manifest folder, given the home folder and the configuration
/// folder (`$XDG_CONFIG_HOME`, else `~/.config`).
pub(crate) fn targets(home: &Path, config: &Path) -> Vec<Target> {
    let chromium = |browser, rel: &str| Target {
        browser,
        dir: config.join(rel).join("NativeMessagingHosts"),
        firefox: false,
    };
    vec![
        chromium("Chromium", "chromium"),
        chromium("Google Chrome", "google-chrome"),
        chromium("Brave", "BraveSoftware/Brave-Browser"),
        chromium("Microsoft Edge", "microsoft-edge"),
        Target {
            browser: "Firefox",
            dir: home.join(".mozilla/native-messaging-hosts"),
            firefox: true,
        },
    ]
}

/// The manifest text for `target`, naming `exe` as the host.
pub(crate) fn manifest(target: &Target, exe: &Path) -> String {
    let mut value = json!({
        "name": HOST_NAME,
        "description": "Pixgrab: hands the images the browser shows to the Pixgrab window",
        "path": exe,
        "type": "stdio",
    });
    if target.firefox {
        value["allowed_extensions"] = json!([FIREFOX_EXTENSION_ID]);
    } else {
        value["allowed_origins"] = json!([format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")]);
    }
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

/// Where the extension to load is: beside an installed binary
/// (`/usr/share/pixgrab/extension` for `/usr/bin/pixgrab`, as the package puts it), else
/// `None` (it is `extension/` in Pixgrab's sources).
pub(crate) fn extension_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?.canonicalize().ok()?;
    let dir = exe.parent()?.parent()?.join("share/pixgrab/extension");
    dir.join("manifest.json").is_file().then_some(dir)
}

/// What installing or removing did, a line per browser.
pub(crate) fn run(uninstall: bool) -> anyhow::Result<Vec<String>> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .context("HOME is not set")?;
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|c| !c.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from);
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .context("could not tell where this pixgrab binary is")?;
    let targets = targets(&home, &config);
    if uninstall {
        remove(&targets)
    } else {
        install(&present(targets), &exe)
    }
}

/// The browsers that have been run here (their configuration folder exists); when none
/// has, Chromium's and Firefox's (the ones a Debian machine installs).
pub(crate) fn present(targets: Vec<Target>) -> Vec<Target> {
    let found: Vec<Target> = targets
        .iter()
        .filter(|t| t.dir.parent().is_some_and(Path::is_dir))
        .cloned()
        .collect();
    if found.is_empty() {
        targets
            .into_iter()
            .filter(|t| matches!(t.browser, "Chromium" | "Firefox"))
            .collect()
    } else {
        found
    }
}

/// Writes every manifest (making its folder), pointing at `exe`.
pub(crate) fn install(targets: &[Target], exe: &Path) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    for target in targets {
        let file = target.dir.join(format!("{HOST_NAME}.json"));
        std::fs::create_dir_all(&target.dir)
            .with_context(|| format!("could not make {}", target.dir.display()))?;
        std::fs::write(&file, manifest(target, exe))
            .with_context(|| format!("could not write {}", file.display()))?;
        done.push(format!("{}: {}", target.browser, file.display()));
    }
    Ok(done)
}

/// Removes every manifest there is (and nothing else).
pub(crate) fn remove(targets: &[Target]) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    for target in targets {
        let file = target.dir.join(format!("{HOST_NAME}.json"));
        match std::fs::remove_file(&file) {
            Ok(()) => done.push(format!("{}: removed {}", target.browser, file.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(e).with_context(|| format!("could not remove {}", file.display()));
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_go_where_each_browser_reads_them_and_come_out_again() {
        let home = tempfile::tempdir().expect("tempdir");
        let config = home.path().join(".config");
        let targets = targets(home.path(), &config);
        let exe = Path::new("/usr/bin/pixgrab");
        let done = install(&targets, exe).expect("install");
        assert_eq!(done.len(), 5);
        let chromium: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                config.join("chromium/NativeMessagingHosts/io.github.pixgrab.json"),
            )
            .expect("chromium's"),
        )
        .expect("json");
        assert_eq!(chromium["path"], "/usr/bin/pixgrab");
        assert_eq!(chromium["type"], "stdio");
        assert_eq!(
            chromium["allowed_origins"],
            json!(["chrome-extension://gniejcgbaaehdobcnkendmbabbehnedp/"])
        );
        let firefox: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(
                home.path()
                    .join(".mozilla/native-messaging-hosts/io.github.pixgrab.json"),
            )
            .expect("firefox's"),
        )
        .expect("json");
        assert_eq!(
            firefox["allowed_extensions"],
            json!(["pixgrab@pixgrab.github.io"])
        );
        assert!(firefox.get("allowed_origins").is_none());
        for dir in [
            "google-chrome",
            "BraveSoftware/Brave-Browser",
            "microsoft-edge",
        ] {
            assert!(
                config
                    .join(dir)
                    .join("NativeMessagingHosts/io.github.pixgrab.json")
                    .is_file()
            );
        }
        // A file of the user's beside it stays.
        let other = config.join("chromium/NativeMessagingHosts/other.json");
        std::fs::write(&other, "{}").expect("other");
        assert_eq!(remove(&targets).expect("remove").len(), 5);
        assert!(other.is_file());
        assert!(remove(&targets).expect("again").is_empty());
    }

    #[test]
    fn only_browsers_that_were_run_get_a_manifest_else_chromium_and_firefox() {
        let home = tempfile::tempdir().expect("tempdir");
        let config = home.path().join(".config");
        let names = |t: Vec<Target>| t.iter().map(|t| t.browser).collect::<Vec<_>>();
        assert_eq!(
            names(present(targets(home.path(), &config))),
            ["Chromium", "Firefox"]
        );
        std::fs::create_dir_all(config.join("BraveSoftware/Brave-Browser")).expect("brave");
        assert_eq!(names(present(targets(home.path(), &config))), ["Brave"]);
    }
}
