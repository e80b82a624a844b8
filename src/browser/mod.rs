//! From the browser to Pixgrab: the native-messaging host the extension (`extension/`)
//! talks to, and the host manifests that tell each browser where it is.
//!
//! The browser starts `pixgrab` itself when the extension sends a message: Chromium and
//! its kin with the extension's origin as the only argument, Firefox with the host
//! manifest's path and the add-on's id. [`launched_by_browser`] recognises both, so
//! the manifests point at the binary and need no wrapper script.

pub(crate) mod host;
pub(crate) mod install;

/// The host's name, as the extension asks for it and the manifests declare it.
pub(crate) const HOST_NAME: &str = "io.github.pixgrab";

/// The Chromium extension id (fixed by the public `key` in `extension/manifest.json`).
pub(crate) const CHROMIUM_EXTENSION_ID: &str = "gniejcgbaaehdobcnkendmbabbehnedp";

/// The Firefox add-on id (`browser_specific_settings.gecko.id`).
pub(crate) const FIREFOX_EXTENSION_ID: &str = "pixgrab@pixgrab.github.io";

/// True when a browser started this process as its native-messaging host: the first
/// argument is a `chrome-extension://` origin (Chromium, Chrome, Brave, Edge), or the
/// second is our Firefox add-on id (Firefox passes the manifest's path first).
pub(crate) fn launched_by_browser(args: &[std::ffi::OsString]) -> bool {
    let arg = |i: usize| args.get(i).and_then(|a| a.to_str());
    arg(1).is_some_and(|a| a.starts_with("chrome-extension://"))
        || arg(2) == Some(FIREFOX_EXTENSION_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_launches_are_recognised_and_nothing_else() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(launched_by_browser(&args(&[
            "pixgrab",
            "chrome-extension://gniejcgbaaehdobcnkendmbabbehnedp/"
        ])));
        assert!(launched_by_browser(&args(&[
            "pixgrab",
            "/home/u/.mozilla/native-messaging-hosts/io.github.pixgrab.json",
            FIREFOX_EXTENSION_ID
        ])));
        assert!(!launched_by_browser(&args(&["pixgrab"])));
        assert!(!launched_by_browser(&args(&[
            "pixgrab",
            "https://example.com/a.jpg"
        ])));
        assert!(!launched_by_browser(&args(&["pixgrab", "get", "x"])));
    }
}
