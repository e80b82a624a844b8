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

    /// The extension (`extension/`) and this host agree on the contract: the host's
    /// name, the protocol version, the limits, the Chromium id the manifest's key gives
    /// and the Firefox id. A change on one side only fails here.
    #[test]
    fn the_extension_and_the_host_agree_on_the_contract() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("extension");
        let limits = std::fs::read_to_string(root.join("lib/limits.js")).expect("limits.js");
        // `NAME: 8 * 1024, // …` → 8192 (products of integers only).
        let number = |name: &str| -> u64 {
            let line = limits
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{name}:")))
                .unwrap_or_else(|| panic!("{name} is not in limits.js"));
            let expr = line
                .split(':')
                .nth(1)
                .unwrap_or("")
                .split(',')
                .next()
                .unwrap_or("");
            expr.split('*')
                .map(|n| {
                    n.trim()
                        .parse::<u64>()
                        .unwrap_or_else(|_| panic!("{name}: {expr}"))
                })
                .product()
        };
        let text = |name: &str| -> String {
            let line = limits
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{name}:")))
                .unwrap_or_else(|| panic!("{name} is not in limits.js"));
            line.split('"').nth(1).unwrap_or("").to_string()
        };
        assert_eq!(text("HOST"), HOST_NAME);
        assert_eq!(number("PROTOCOL"), u64::from(host::PROTOCOL));
        assert_eq!(number("MAX_URLS"), pixgrab_engine::MAX_CANDIDATES as u64);
        assert_eq!(number("MAX_URL_BYTES"), crate::ipc::MAX_URL as u64);
        assert_eq!(number("MAX_DATA_BYTES"), crate::ipc::MAX_DATA_URL as u64);
        assert!(number("MAX_URLS_TOTAL_BYTES") < crate::ipc::frame::MAX_MESSAGE as u64);
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("manifest.json")).expect("manifest.json"),
        )
        .expect("manifest JSON");
        assert_eq!(
            manifest["browser_specific_settings"]["gecko"]["id"],
            FIREFOX_EXTENSION_ID
        );
        // Chromium's id: the first 32 hex digits of SHA-256(the key's DER), as a–p.
        let key = manifest["key"].as_str().expect("a key");
        let der = base64_decode(key);
        let digest = sha2_hex(&der);
        let id: String = digest
            .chars()
            .take(32)
            .map(|c| (b'a' + c.to_digit(16).unwrap_or(0) as u8) as char)
            .collect();
        assert_eq!(id, CHROMIUM_EXTENSION_ID);
    }

    fn base64_decode(text: &str) -> Vec<u8> {
        let value = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'a'..=b'z' => u32::from(c - b'a') + 26,
                b'0'..=b'9' => u32::from(c - b'0') + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("not base64: {c}"),
            }
        };
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0);
        for c in text.bytes().filter(|c| *c != b'=') {
            acc = (acc << 6) | value(c);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        out
    }

    fn sha2_hex(bytes: &[u8]) -> String {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(bytes))
    }
}
