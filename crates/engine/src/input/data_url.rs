//! `data:` URLs: an image carried inside the URL itself (RFC 2397, read the way the
//! WHATWG Fetch standard's "data: URL processor" reads it: the media type up to the
//! first comma, a `;base64` flag, the body percent-decoded, then forgiving base64).
//!
//! Everything here is untrusted input: the URL's length is capped before anything is
//! decoded, the decoded size is capped at the download size cap, only `image/*` media
//! types are accepted, and nothing in the URL ever names a file (a saved inline image is
//! named `inline-HASH`, with the extension of the format its bytes show). The decoded
//! image is known everywhere else by a short form, [`short_url`]: the library, the list
//! and the events never hold the payload.

use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::{Bytes, FetchError};

/// Longest `data:` URL accepted, in bytes of text, before anything is decoded: 64 MiB
/// (about 48 MB of image in base64). Far above any inline image a page or a list holds.
pub(crate) const MAX_DATA_URL_LEN: usize = 64 * 1024 * 1024;

/// Longest media type read (`image/svg+xml` is 13).
const MAX_MEDIA_TYPE_LEN: usize = 100;

/// Characters of a `data:` URL kept when it is shown (a rejected token).
const SHOWN_CHARS: usize = 60;

/// Why a `data:` URL gives no image. The text is what a user reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataUrlError {
    /// The declared media type is not an image's (`text/html`), or unreadable.
    #[error("not an image (got {0})")]
    NotImage(String),
    /// The URL is malformed: no comma before the data, bad base64, no data at all.
    #[error("damaged data: URL: {0}")]
    Damaged(&'static str),
    /// The URL is longer than [`MAX_DATA_URL_LEN`].
    #[error("too large: a data: URL of over {}", Bytes(MAX_DATA_URL_LEN as u64))]
    TooLong,
    /// The image would be larger than the download size cap (in bytes).
    #[error("too large: over {}", Bytes(*.0))]
    TooLarge(u64),
}

impl From<DataUrlError> for FetchError {
    fn from(e: DataUrlError) -> Self {
        match e {
            DataUrlError::NotImage(what) => Self::NotAnImage(what, None),
            DataUrlError::TooLarge(max) => Self::TooLarge(max),
            other => Self::Inline(other.to_string()),
        }
    }
}

/// What a `data:` URL declares, read without decoding its body.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header<'a> {
    /// The media type's essence, lower-cased (`image/png`): `text/plain` when none is
    /// given (as the standard says), `None` when it is not a readable `type/subtype`.
    media_type: Option<String>,
    /// The body is base64.
    base64: bool,
    /// The body as written (percent-encoded), without any fragment.
    body: &'a str,
}

/// True when `text` starts with the `data:` scheme (in any case).
pub(crate) fn is_data_url(text: &str) -> bool {
    text.as_bytes()
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"data:"))
}

/// Splits a `data:` URL into its header and body, checking only its length and form.
fn header(url: &str) -> Result<Header<'_>, DataUrlError> {
    if url.len() > MAX_DATA_URL_LEN {
        return Err(DataUrlError::TooLong);
    }
    if !is_data_url(url) {
        return Err(DataUrlError::Damaged("not a data: URL"));
    }
    let rest = &url[5..];
    // The fragment is not part of the data (a `#` in an SVG must be written `%23`).
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (meta, body) = rest
        .split_once(',')
        .ok_or(DataUrlError::Damaged("no comma before the data"))?;
    let meta = meta.trim_matches(|c: char| c.is_ascii_whitespace());
    let (meta, base64) = strip_base64(meta);
    Ok(Header {
        media_type: essence(meta),
        base64,
        body,
    })
}

/// `meta` without a trailing `;base64` (spaces allowed before `base64`, any case), and
/// whether it had one.
fn strip_base64(meta: &str) -> (&str, bool) {
    let bytes = meta.as_bytes();
    let Some(flag_at) = bytes.len().checked_sub(6) else {
        return (meta, false);
    };
    if !bytes[flag_at..].eq_ignore_ascii_case(b"base64") {
        return (meta, false);
    }
    // The last six bytes are ASCII, so `flag_at` is a character boundary.
    let before = meta[..flag_at].trim_end_matches(' ');
    match before.strip_suffix(';') {
        Some(type_part) => (type_part, true),
        None => (meta, false),
    }
}

/// The media type's essence (`type/subtype`, lower-cased) of a header's type part.
fn essence(meta: &str) -> Option<String> {
    let essence = meta
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_matches(|c: char| c.is_ascii_whitespace());
    if essence.is_empty() {
        return Some("text/plain".to_string());
    }
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-+._".contains(&b))
    };
    let (kind, sub) = essence.split_once('/')?;
    (essence.len() <= MAX_MEDIA_TYPE_LEN && token(kind) && token(sub))
        .then(|| essence.to_ascii_lowercase())
}

/// The declared media type when it is an image's.
fn image_type(header: &Header<'_>) -> Result<String, DataUrlError> {
    match &header.media_type {
        Some(t) if t.starts_with("image/") => Ok(t.clone()),
        Some(t) => Err(DataUrlError::NotImage(t.clone())),
        None => Err(DataUrlError::NotImage("an unreadable media type".into())),
    }
}

/// Checks what can be checked without decoding: the length, the form and that the
/// declared media type is an image's (for intake, which keeps the URL as it is).
pub(crate) fn check(url: &str) -> Result<(), DataUrlError> {
    image_type(&header(url)?).map(drop)
}

/// An inline image, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// The declared media type's essence (`image/png`), as the item's Content-Type.
    pub media_type: String,
    /// The image's bytes.
    pub bytes: Vec<u8>,
    /// Their SHA-256, lower-case hex.
    pub sha256: String,
}

impl Decoded {
    /// The short form the image is known by (see [`short_url`]).
    pub(crate) fn short_url(&self) -> Option<Url> {
        short_url(&self.media_type, &self.sha256)
    }

    /// The file-name stem it is saved under: `inline-` and the first 12 hex digits of
    /// its SHA-256 (the naming template may use it as `{name}`).
    pub(crate) fn stem(&self) -> String {
        format!("inline-{}", &self.sha256[..12.min(self.sha256.len())])
    }
}

/// Decodes a `data:` URL whose media type is an image's, into at most `max_bytes` bytes.
/// Nothing is decoded when the URL is longer than [`MAX_DATA_URL_LEN`], or when its
/// base64 alone says the result would be too large.
pub(crate) fn decode(url: &str, max_bytes: u64) -> Result<Decoded, DataUrlError> {
    let header = header(url)?;
    let media_type = image_type(&header)?;
    let mut raw: Vec<u8> = if header.base64 {
        percent_decode_str(header.body).collect()
    } else {
        // Read one byte past the cap, to tell "exactly the cap" from "over it".
        let cap = usize::try_from(max_bytes.saturating_add(1)).unwrap_or(usize::MAX);
        percent_decode_str(header.body).take(cap).collect()
    };
    if header.base64 {
        raw.retain(|b| !b.is_ascii_whitespace());
        // Four characters carry three bytes: refused before a byte is decoded.
        if (raw.len() / 4) as u64 * 3 > max_bytes.saturating_add(3) {
            return Err(DataUrlError::TooLarge(max_bytes));
        }
        raw = forgiving_base64(raw).ok_or(DataUrlError::Damaged("bad base64"))?;
    }
    if raw.len() as u64 > max_bytes {
        return Err(DataUrlError::TooLarge(max_bytes));
    }
    if raw.is_empty() {
        return Err(DataUrlError::Damaged("it holds no data"));
    }
    Ok(Decoded {
        media_type,
        sha256: sha256_hex(&raw),
        bytes: raw,
    })
}

/// Base64 as the WHATWG Infra standard's "forgiving-base64 decode" reads it (whitespace
/// already removed): padding optional, nothing but the 64 characters allowed, stray bits
/// at the end dropped. `None` when it is not base64.
fn forgiving_base64(mut data: Vec<u8>) -> Option<Vec<u8>> {
    if data.len().is_multiple_of(4) {
        let pad = data
            .iter()
            .rev()
            .take(2)
            .take_while(|&&b| b == b'=')
            .count();
        data.truncate(data.len() - pad);
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in &data {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// SHA-256 of `bytes`, lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The short form an inline image is known by in the library, the list and the events:
/// `data:MEDIA;sha256=HEX`. It holds no data, so it is never mistaken for the image
/// (read as a `data:` URL, it has no comma: damaged).
pub(crate) fn short_url(media_type: &str, sha256: &str) -> Option<Url> {
    Url::parse(&format!("data:{media_type};sha256={sha256}")).ok()
}

/// The short form for a `data:` URL that gives no image: its declared type if readable,
/// and the SHA-256 of its text (the same text is the same item).
pub(crate) fn short_url_of_text(url: &str) -> Option<Url> {
    let media = header(url)
        .ok()
        .and_then(|h| h.media_type)
        .unwrap_or_else(|| "application/octet-stream".into());
    short_url(&media, &sha256_hex(url.as_bytes()))
}

/// A `data:` URL as it is shown (a rejected token): at most [`SHOWN_CHARS`] characters
/// and an ellipsis, so a megabyte of base64 never reaches a log line or a list.
pub(crate) fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_percent_encoded_bodies_decode() {
        let png = decode("data:image/png;base64,iVBORw0KGgo=", 100).expect("base64");
        assert_eq!(png.bytes, b"\x89PNG\r\n\x1a\n");
        assert_eq!(png.media_type, "image/png");
        assert_eq!(png.stem(), format!("inline-{}", &png.sha256[..12]));
        // Whitespace, percent-encoded characters and missing padding are forgiven.
        let loose = decode("DATA:Image/PNG ; BASE64,iVBO%52w0K%0AGgo", 100).expect("loose");
        assert_eq!(loose.bytes, png.bytes);
        let svg = decode("data:image/svg+xml;charset=utf-8,%3Csvg%2F%3E#frag", 100).expect("svg");
        assert_eq!(svg.bytes, b"<svg/>");
        assert_eq!(svg.media_type, "image/svg+xml");
        assert_eq!(
            svg.short_url().map(|u| u.to_string()),
            Some(format!("data:image/svg+xml;sha256={}", svg.sha256))
        );
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        let reason = |url: &str| match decode(url, 16) {
            Ok(_) => "decoded".to_string(),
            Err(e) => e.to_string(),
        };
        assert_eq!(
            reason("data:text/html,<b>x</b>"),
            "not an image (got text/html)"
        );
        assert_eq!(reason("data:,hello"), "not an image (got text/plain)");
        assert_eq!(
            reason("data:im<age>/png,x"),
            "not an image (got an unreadable media type)"
        );
        assert_eq!(
            reason("data:image/png;base64,iVB*Rw0K"),
            "damaged data: URL: bad base64"
        );
        assert_eq!(
            reason("data:image/png;base64,iVBOR"),
            "damaged data: URL: bad base64"
        );
        assert_eq!(
            reason("data:image/png;base64"),
            "damaged data: URL: no comma before the data"
        );
        assert_eq!(
            reason("data:image/png,"),
            "damaged data: URL: it holds no data"
        );
        assert_eq!(
            reason("data:image/png,12345678901234567"),
            "too large: over 16 B"
        );
        assert_eq!(
            reason(&format!("data:image/png;base64,{}", "A".repeat(40))),
            "too large: over 16 B"
        );
        // Exactly the cap is fine.
        assert_eq!(
            decode("data:image/png,1234567890123456", 16).map(|d| d.bytes.len()),
            Ok(16)
        );
        let huge = format!("data:image/png;base64,{}", "A".repeat(MAX_DATA_URL_LEN));
        assert_eq!(check(&huge), Err(DataUrlError::TooLong));
        assert_eq!(check("data:image/webp;base64,AAAA"), Ok(()));
        assert_eq!(
            check("data:application/pdf;base64,AAAA").map_err(|e| e.to_string()),
            Err("not an image (got application/pdf)".into())
        );
    }

    #[test]
    fn short_forms_and_shown_text_hold_no_data() {
        let text = format!("data:image/png;base64,{}", "QUJD".repeat(1000));
        let shown = shown(&text);
        assert_eq!(shown.chars().count(), SHOWN_CHARS + 1);
        assert!(shown.ends_with('…'));
        let key = short_url_of_text("data:text/html,<p>").expect("key");
        assert!(key.as_str().starts_with("data:text/html;sha256="), "{key}");
        assert!(
            header(key.as_str()).is_err(),
            "a short form is no data: URL"
        );
    }
}
