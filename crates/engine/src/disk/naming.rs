//! Turning URLs into safe file names.
//!
//! Invariant: every name produced here is a single, non-empty path component that
//! is valid on Linux, macOS and Windows, at most [`MAX_NAME_BYTES`] bytes long, and
//! can never name a parent or hidden entry. The URL only suggests a *stem*; the
//! extension always comes from the sniffed content.

use percent_encoding::percent_decode_str;
use unicode_normalization::UnicodeNormalization;
use url::Url;

/// The longest name (stem, collision suffix and extension) this module produces.
/// Leaves room for the `.part` suffix under the 255-byte limit of common filesystems.
pub(crate) const MAX_NAME_BYTES: usize = 200;

/// Room kept for a collision suffix such as ` (12345)`.
const SUFFIX_ROOM: usize = 10;

/// The stem used when a URL offers nothing usable.
pub(crate) const FALLBACK_STEM: &str = "image";

/// Extensions that are dropped from the URL's last segment before the real one is added.
const REPLACED_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "apng", "gif", "webp", "bmp", "tif", "tiff", "avif",
    "ico", "svg", "heic", "heif", "jxl", "jp2", "j2k", "jpf", "psd", "qoi", "pnm", "pbm", "pgm",
    "ppm", "pam", "hdr", "exr", "dds", "tga", "php", "asp", "aspx", "jsp", "cgi", "pl", "htm",
    "html", "do", "ashx", "image", "img",
];

/// Device names Windows reserves, with or without an extension (lower case). The
/// superscript digits count as digits there: `COM¹` is a device like `COM1`.
const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7",
    "com8", "com9", "com¹", "com²", "com³", "lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6",
    "lpt7", "lpt8", "lpt9", "lpt¹", "lpt²", "lpt³",
];

/// The stem (name without extension) that a URL suggests, already sanitised.
///
/// `https://x/a/Cat%20photo.JPG?s=1` → `Cat photo`. A dynamic script such as
/// `show.php?id=7` keeps its query so that many such URLs get distinct names.
pub(crate) fn stem_from_url(url: &Url) -> String {
    let segment = url
        .path_segments()
        .and_then(|mut segs| segs.rfind(|s| !s.is_empty()))
        .unwrap_or("");
    let decoded = percent_decode_str(segment).decode_utf8_lossy();
    let (stem, dropped) = split_extension(&decoded);
    let mut stem = stem.to_string();
    if (dropped.is_some_and(is_script_extension) || stem.is_empty())
        && let Some(query) = url.query().filter(|q| !q.is_empty())
    {
        let query = percent_decode_str(query).decode_utf8_lossy();
        stem = if stem.is_empty() {
            query.into_owned()
        } else {
            format!("{stem}_{query}")
        };
    }
    sanitize_stem(&stem)
}

/// The stem for a file name the server suggested (Content-Disposition, already reduced
/// to a base name): its image or script extension is dropped, the rest sanitised.
pub(crate) fn stem_from_file_name(name: &str) -> String {
    let (stem, _) = split_extension(name);
    sanitize_stem(stem)
}

/// `stem.ext`, with ` (n)` inserted for `n >= 2`: `cat.jpg`, `cat (2).jpg`.
pub(crate) fn numbered(stem: &str, n: u32, ext: &str) -> String {
    if n <= 1 {
        format!("{stem}.{ext}")
    } else {
        format!("{stem} ({n}).{ext}")
    }
}

/// Makes any text a safe stem: see the module invariant.
pub(crate) fn sanitize_stem(raw: &str) -> String {
    let normalized: String = raw.nfc().collect();
    let mut out = String::with_capacity(normalized.len());
    for c in normalized.chars() {
        let replace = c.is_control()
            || is_bidi_or_invisible(c)
            || matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*');
        let c = if replace { '_' } else { c };
        // Collapse runs of replacement characters and white space.
        if (c == '_' || c.is_whitespace()) && out.ends_with(c) {
            continue;
        }
        out.push(if c.is_whitespace() { ' ' } else { c });
    }
    // No hidden files, no `..`, no trailing dots or spaces (Windows strips them).
    let trimmed = out
        .trim_start_matches(['.', ' ', '_'])
        .trim_end_matches(['.', ' ']);
    let mut stem = truncate_to(trimmed, MAX_NAME_BYTES - SUFFIX_ROOM - ".tiff".len())
        .trim_end_matches(['.', ' '])
        .to_string();
    if stem.is_empty() {
        stem = FALLBACK_STEM.to_string();
    }
    let device = stem
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_lowercase();
    if WINDOWS_RESERVED.contains(&device.as_str()) {
        stem.insert(0, '_');
    }
    stem
}

/// Splits a known extension off a file name: `a.b.JPG` → (`a.b`, Some("jpg")).
fn split_extension(name: &str) -> (&str, Option<&'static str>) {
    if let Some((stem, ext)) = name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        if let Some(known) = REPLACED_EXTENSIONS.iter().find(|k| **k == ext) {
            return (stem, Some(known));
        }
    }
    (name, None)
}

fn is_script_extension(ext: &str) -> bool {
    matches!(
        ext,
        "php" | "asp" | "aspx" | "jsp" | "cgi" | "pl" | "do" | "ashx" | "htm" | "html"
    )
}

fn is_bidi_or_invisible(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The longest prefix of `s` that fits in `max` bytes and ends on a char boundary.
fn truncate_to(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// True if `path` is one or more `/`-separated components that each pass
/// [`is_safe_component`]: a file of the output folder or of a subfolder a name template
/// made (`cat.jpg`, `example.org/007-cat.jpg`), never anything outside.
pub(crate) fn is_safe_relative(path: &str) -> bool {
    path.split('/').all(is_safe_component)
}

/// True if `name` is a single plain path component that this module could have made.
/// The output folder checks every name against this before creating anything.
pub(crate) fn is_safe_component(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.ends_with(['.', ' '])
        && !name.chars().any(|c| {
            c.is_control() || matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stem(url: &str) -> String {
        stem_from_url(&Url::parse(url).expect("test URL"))
    }

    #[test]
    fn the_last_segment_names_the_file() {
        assert_eq!(
            stem("https://x.org/a/b/Cat%20photo.JPG?size=large"),
            "Cat photo"
        );
        assert_eq!(stem("https://x.org/a/b/"), "b");
        assert_eq!(stem("https://x.org/"), "image");
        assert_eq!(stem("https://x.org/archive.tar"), "archive.tar");
        assert_eq!(stem("https://x.org/%E6%9D%B1%E4%BA%AC.png"), "東京");
    }

    #[test]
    fn scripts_keep_their_query_so_names_differ() {
        assert_eq!(stem("https://x.org/show.php?id=7"), "show_id=7");
        assert_eq!(stem("https://x.org/?img=42"), "img=42");
    }

    #[test]
    fn traversal_and_separators_cannot_escape() {
        assert_eq!(stem("https://x.org/a/..%2F..%2Fetc%2Fpasswd"), "etc_passwd");
        assert_eq!(stem("https://x.org/%2e%2e"), "image");
        assert_eq!(stem("https://x.org/..%5c..%5cwin.ini"), "win.ini");
        assert_eq!(stem("https://x.org/.bashrc"), "bashrc");
    }

    #[test]
    fn windows_rules_are_respected() {
        assert_eq!(sanitize_stem("CON"), "_CON");
        assert_eq!(sanitize_stem("com1.tar"), "_com1.tar");
        // Superscript digits name the same devices.
        for device in ["COM¹", "com²", "Com³.tar", "LPT¹", "lpt² .x", "lpt³"] {
            let stem = sanitize_stem(device);
            assert_eq!(stem, format!("_{device}"), "{device:?}");
        }
        assert_eq!(sanitize_stem("com⁴"), "com⁴");
        assert_eq!(sanitize_stem("lpt¹0"), "lpt¹0");
        assert_eq!(sanitize_stem("name. . "), "name");
        assert_eq!(sanitize_stem("a<b>c:d|e?f*g\"h"), "a_b_c_d_e_f_g_h");
        assert_eq!(sanitize_stem("evil\u{202E}gpj.exe"), "evil_gpj.exe");
        assert_eq!(sanitize_stem("tab\there\nnewline"), "tab_here_newline");
    }

    #[test]
    fn names_are_normalised_and_bounded() {
        assert_eq!(sanitize_stem("e\u{301}"), "\u{e9}");
        let long = "é".repeat(300);
        let s = sanitize_stem(&long);
        assert!(numbered(&s, 99999, "tiff").len() <= MAX_NAME_BYTES);
        assert!(s.chars().all(|c| c == 'é'));
    }

    #[test]
    fn collisions_are_numbered() {
        assert_eq!(numbered("cat", 1, "jpg"), "cat.jpg");
        assert_eq!(numbered("cat", 3, "jpg"), "cat (3).jpg");
    }

    #[test]
    fn safe_component_check_matches_what_we_make() {
        for raw in ["..", "/etc/passwd", "a\\b", "", " .", "\u{7}", "CON.txt"] {
            let name = numbered(&sanitize_stem(raw), 2, "png");
            assert!(is_safe_component(&name), "{raw:?} gave {name:?}");
        }
        assert!(!is_safe_component(".."));
        assert!(!is_safe_component("a/b"));
        assert!(is_safe_relative("a/b.jpg") && is_safe_relative("b.jpg"));
        for bad in [
            "",
            "/a.jpg",
            "a//b.jpg",
            "../a.jpg",
            "a/../b.jpg",
            "a/",
            ".p/a.jpg",
        ] {
            assert!(!is_safe_relative(bad), "{bad:?}");
        }
    }
}
