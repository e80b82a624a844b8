//! Turning free text into the list of URLs to download.
//!
//! Accepts any shape: one URL per line, URLs inside prose, CSV cells, HTML
//! attributes (`src="..."`, with `&amp;` decoded) or Markdown links. The result
//! keeps the first occurrence of each distinct http/https URL, and of each `data:`
//! image URL (an inline image: checked here without decoding, see
//! [`crate::input::data_url`]), in order. Every other token that looks like a URL is
//! reported back with a reason: nothing is dropped silently.
//!
//! Invariant: intake never fails; bad input only grows [`Intake::rejected`].

use url::Url;

use crate::input::data_url;

/// The outcome of reading a piece of text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Intake {
    /// Distinct http/https URLs and `data:` image URLs, in order of first appearance.
    pub urls: Vec<Url>,
    /// URL-like tokens that cannot be downloaded, with the reason.
    pub rejected: Vec<Rejected>,
    /// How many repeated URLs were folded into an earlier one.
    pub duplicates: usize,
    /// How many patterns (`[001-120]`, `{a,b}`) were expanded into several URLs.
    pub expanded: usize,
    /// Set when one input held more than `MAX_INPUT_URLS` (100,000) URLs (patterns expanded):
    /// how many it held. Such an input is refused whole (see [`Intake::check_limit`]).
    pub over_limit: Option<u64>,
    /// URLs seen in the current input (repeats and expansions included).
    input_count: u64,
    /// The URLs already in `urls`, for linear-time de-duplication.
    seen: std::collections::HashSet<Url>,
}

/// Most URLs one input (the URL box, one file, the command-line arguments) may hold,
/// patterns expanded. Far above any real list; a guard against a typo or a hostile file
/// queueing millions.
pub(crate) const MAX_INPUT_URLS: u64 = 100_000;

/// A token that looked like a URL but will not be downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The token as it appeared in the text (a `data:` URL longer than 60 characters:
    /// its first 60 and `…`, so a payload never reaches a list or a log line).
    pub text: String,
    /// Why it was not accepted ("unsupported scheme ftp:").
    pub reason: String,
}

/// Schemes that are recognised as URL-like even without `//`.
const OPAQUE_SCHEMES: &[&str] = &["javascript", "data", "mailto", "file", "blob", "about"];

/// Longest URL accepted; anything longer is surely garbage (browsers cap near 2 MB, servers at 8 KB).
const MAX_URL_LEN: usize = 8192;

impl Intake {
    /// The URLs, once no more input comes: the set kept to fold repeats (a second copy
    /// of every URL) is freed.
    pub fn into_urls(self) -> Vec<Url> {
        self.urls
    }

    /// Reads `text` and appends what it finds. `text` counts as one input for
    /// `MAX_INPUT_URLS` (100,000).
    pub fn add_text(&mut self, text: &str) {
        self.input_count = 0;
        for candidate in candidates(text) {
            self.add_candidate(candidate);
        }
    }

    /// `Err` with a reason for people when an input held too many URLs.
    pub fn check_limit(&self) -> Result<(), String> {
        match self.over_limit {
            None => Ok(()),
            Some(count) => Err(format!(
                "an input holds {count} URLs (patterns expanded), over the limit of \
                 {MAX_INPUT_URLS}; split it into smaller lists"
            )),
        }
    }

    /// Counts `n` more URLs of the current input; false (and `over_limit` set) once
    /// the input is over the limit.
    fn count(&mut self, n: usize) -> bool {
        self.input_count = self.input_count.saturating_add(n as u64);
        if self.input_count > MAX_INPUT_URLS {
            self.over_limit = Some(self.over_limit.unwrap_or(0).max(self.input_count));
            return false;
        }
        true
    }

    fn add_candidate(&mut self, raw: &str) {
        let decoded = decode_entities(raw);
        let reject = |reason: String| Rejected {
            text: raw.to_string(),
            reason,
        };
        if data_url::is_data_url(&decoded) {
            if self.count(1) {
                self.add_data(&decoded, raw);
            }
            return;
        }
        if decoded.len() > MAX_URL_LEN {
            self.rejected
                .push(reject(format!("longer than {MAX_URL_LEN} characters")));
            return;
        }
        if crate::input::ranges::has_pattern(&decoded) {
            match crate::input::ranges::expand(&decoded) {
                Ok(urls) => {
                    self.expanded += 1;
                    if !self.count(urls.len()) {
                        return;
                    }
                    for url in urls {
                        self.add_one(&url, raw);
                    }
                }
                Err(e) => self.rejected.push(reject(e.to_string())),
            }
            return;
        }
        if self.count(1) {
            self.add_one(&decoded, raw);
        }
    }

    /// An inline image: kept when its length, form and declared type are an image's
    /// (decoded only when it is queued); a rejected one is shown shortened.
    fn add_data(&mut self, decoded: &str, raw: &str) {
        let checked = data_url::check(decoded).and_then(|()| {
            Url::parse(decoded).map_err(|_| data_url::DataUrlError::Damaged("malformed URL"))
        });
        match checked {
            Err(e) => self.rejected.push(Rejected {
                text: data_url::shown(raw),
                reason: e.to_string(),
            }),
            Ok(url) => self.keep(url),
        }
    }

    /// Keeps `url` unless it is already kept (the fragment does not count).
    fn keep(&mut self, mut url: Url) {
        url.set_fragment(None);
        if self.seen.insert(url.clone()) {
            self.urls.push(url);
        } else {
            self.duplicates += 1;
        }
    }

    fn add_one(&mut self, decoded: &str, raw: &str) {
        let reject = |reason: String| Rejected {
            text: raw.to_string(),
            reason,
        };
        if decoded.to_ascii_lowercase().starts_with("www.") {
            self.rejected.push(reject(format!(
                "missing http:// or https:// (did you mean https://{decoded}?)"
            )));
            return;
        }
        match Url::parse(decoded) {
            Err(e) => self.rejected.push(reject(format!("malformed URL: {e}"))),
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                self.rejected
                    .push(reject(format!("unsupported scheme {}:", url.scheme())));
            }
            Ok(url) if url.host_str().is_none_or(str::is_empty) => {
                self.rejected.push(reject("no host name".to_string()));
            }
            Ok(url) => self.keep(url),
        }
    }
}

/// Reads `text` into a fresh [`Intake`].
pub fn parse(text: &str) -> Intake {
    let mut intake = Intake::default();
    intake.add_text(text);
    intake
}

/// Characters that always end a URL in running text.
fn is_hard_delimiter(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '"' | '\'' | '<' | '>' | '`' | '{' | '}' | '|' | '^')
}

/// Finds the URL-like substrings of `text`.
fn candidates(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    // The last `next_www` answer: (searched from, found at). It stays right for every
    // later start up to what it found, so the text is scanned for `www.` once in all.
    let mut www: Option<(usize, Option<usize>)> = None;
    while i < text.len() {
        let next_www_at = match www {
            Some((from, at)) if from <= i && at.is_none_or(|a| a >= i) => at,
            _ => {
                let at = next_www(text, i);
                www = Some((i, at));
                at
            }
        };
        let start = match (next_scheme(text, i), next_www_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(start) = start else {
            break;
        };
        // A URL that starts right after a comma is a CSV cell: the next comma ends it.
        let in_csv = start > 0 && bytes[start - 1] == b',';
        let rest = &text[start..];
        // `{a,b}` patterns stay inside the URL: braces nest, and a comma inside them
        // does not end a CSV cell.
        let mut depth = 0usize;
        let mut end = rest
            .char_indices()
            .find(|&(_, c)| match c {
                '{' => {
                    depth += 1;
                    false
                }
                '}' if depth > 0 => {
                    depth -= 1;
                    false
                }
                ',' if depth > 0 => false,
                c => is_hard_delimiter(c) || (in_csv && c == ','),
            })
            .map_or(rest.len(), |(idx, _)| idx);
        // Another scheme glued on (`a.jpg,https://b.jpg`) starts a new URL.
        if let Some(next) = scheme_start(&rest[..end], 1)
            && matches!(rest.as_bytes()[next - 1], b',' | b';')
        {
            end = next - 1;
        }
        let url = trim_trailing_punctuation(&rest[..end]);
        if !url.is_empty() {
            found.push(url);
        }
        i = start + end.max(1);
    }
    found
}

/// The byte offset of the next URL-like token at or after `from`.
fn scheme_start(text: &str, from: usize) -> Option<usize> {
    match (next_scheme(text, from), next_www(text, from)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The next `scheme://` (or `javascript:`-like opaque scheme) at or after `from`.
fn next_scheme(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut search = from;
    while let Some(colon) = text.get(search..)?.find(':').map(|p| p + search) {
        // Walk back over scheme characters.
        let mut start = colon;
        while start > 0 {
            let b = bytes[start - 1];
            if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.') {
                start -= 1;
            } else {
                break;
            }
        }
        // The scheme must begin with a letter; skip leading digits/punctuation.
        while start < colon && !bytes[start].is_ascii_alphabetic() {
            start += 1;
        }
        let scheme = &text[start..colon];
        let after = &text[colon + 1..];
        let looks_like_url = scheme.len() >= 2
            && (after.starts_with("//")
                || OPAQUE_SCHEMES
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(scheme)));
        if looks_like_url && start >= from {
            return Some(start);
        }
        search = colon + 1;
    }
    None
}

/// The next `www.` that starts a word: a URL without its scheme, worth a hint.
/// Scans bytes in place (no lower-cased copy of the rest of the text per call).
fn next_www(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    while at + 4 <= bytes.len() {
        if bytes[at..at + 4].eq_ignore_ascii_case(b"www.") && text.is_char_boundary(at) {
            let before = text[..at].chars().next_back();
            if before.is_none_or(|c| is_hard_delimiter(c) || matches!(c, '(' | '[' | ',')) {
                return Some(at);
            }
            at += 4;
        } else {
            at += 1;
        }
    }
    None
}

/// Drops sentence punctuation that ends a URL in prose: `see https://x/a.jpg.` or `(https://x/a.jpg)`.
fn trim_trailing_punctuation(url: &str) -> &str {
    let mut url = url;
    loop {
        let Some(last) = url.chars().next_back() else {
            return url;
        };
        let unbalanced = |open: char, close: char| {
            last == close && url.matches(open).count() < url.matches(close).count()
        };
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | '*')
            || unbalanced('(', ')')
            || unbalanced('[', ']')
        {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            return url;
        }
    }
}

/// Decodes the few HTML entities that appear inside URLs in attributes.
fn decode_entities(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_string();
    }
    raw.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#x26;", "&")
        .replace("&quot;", "\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<String> {
        parse(text).urls.iter().map(|u| u.to_string()).collect()
    }

    #[test]
    fn ranges_and_alternatives_expand_and_mistakes_are_reported() {
        let intake = parse(
            "see https://x.org/img[01-03].jpg and http://y.org/{a,b}.png, then http://z.org/[1-99999].jpg",
        );
        let found: Vec<String> = intake.urls.iter().map(|u| u.to_string()).collect();
        assert_eq!(
            found,
            [
                "https://x.org/img01.jpg",
                "https://x.org/img02.jpg",
                "https://x.org/img03.jpg",
                "http://y.org/a.png",
                "http://y.org/b.png"
            ]
        );
        assert_eq!(intake.expanded, 2);
        assert_eq!(intake.rejected.len(), 1);
        assert_eq!(
            intake.rejected[0].reason,
            "expands to 99999 URLs, over the limit of 10000"
        );
        // In a CSV cell the braces keep their comma.
        assert_eq!(urls("1,http://y.org/{c,d}.png,x").len(), 2);
    }

    #[test]
    fn one_url_per_line() {
        assert_eq!(
            urls("https://a.org/1.jpg\nhttp://b.org/2.png\r\n\n  https://a.org/3.gif  \n"),
            [
                "https://a.org/1.jpg",
                "http://b.org/2.png",
                "https://a.org/3.gif"
            ]
        );
    }

    #[test]
    fn urls_inside_prose_lose_sentence_punctuation() {
        assert_eq!(
            urls(
                "Look at https://a.org/cat.jpg, and (https://a.org/dog.jpg). Also https://a.org/x_(1).png!"
            ),
            [
                "https://a.org/cat.jpg",
                "https://a.org/dog.jpg",
                "https://a.org/x_(1).png"
            ]
        );
    }

    #[test]
    fn html_attributes_and_entities() {
        let html =
            r#"<img src="https://a.org/p.jpg?w=1&amp;h=2"><a href='https://a.org/big.png'>x</a>"#;
        assert_eq!(
            urls(html),
            ["https://a.org/p.jpg?w=1&h=2", "https://a.org/big.png"]
        );
    }

    #[test]
    fn csv_cells_end_at_commas_but_cdn_paths_keep_theirs() {
        assert_eq!(
            urls("id,url,title\n1,https://a.org/1.jpg,First\n2,https://a.org/2.jpg,Second"),
            ["https://a.org/1.jpg", "https://a.org/2.jpg"]
        );
        assert_eq!(
            urls("https://res.cdn.org/image/upload/w_300,h_200/s.jpg"),
            ["https://res.cdn.org/image/upload/w_300,h_200/s.jpg"]
        );
        assert_eq!(
            urls("https://a.org/1.jpg,https://a.org/2.jpg"),
            ["https://a.org/1.jpg", "https://a.org/2.jpg"]
        );
    }

    #[test]
    fn duplicates_are_folded_in_order() {
        let got = parse(
            "https://a.org/1.jpg https://a.org/2.jpg https://a.org/1.jpg#frag HTTPS://A.ORG/1.jpg",
        );
        assert_eq!(got.urls.len(), 2);
        assert_eq!(got.duplicates, 2);
    }

    #[test]
    fn everything_else_url_like_is_reported_with_a_reason() {
        let got = parse(
            "ftp://a.org/x.jpg javascript:alert(1) file:///etc/passwd http:// https://[bad/x.jpg www.a.org/y.jpg data:text/html,%3Cp%3E",
        );
        assert!(got.urls.is_empty(), "{:?}", got.urls);
        let reasons: Vec<&str> = got.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons.len(), 7, "{:?}", got.rejected);
        assert_eq!(reasons[0], "unsupported scheme ftp:");
        assert_eq!(reasons[1], "unsupported scheme javascript:");
        assert_eq!(reasons[2], "unsupported scheme file:");
        assert!(reasons[3].starts_with("malformed URL"), "{}", reasons[3]);
        assert!(reasons[4].starts_with("malformed URL"), "{}", reasons[4]);
        assert!(reasons[5].starts_with("missing http://"), "{}", reasons[5]);
        assert_eq!(reasons[6], "not an image (got text/html)");
    }

    #[test]
    fn data_image_urls_are_kept_once_and_bad_ones_are_shown_short() {
        let png = "data:image/png;base64,iVBORw0KGgo=";
        let long_html = format!("data:text/html;base64,{}", "PHA+".repeat(10_000));
        let got = parse(&format!(
            "{png}\n<img src=\"{png}\">\n{png}#x, data:image/svg+xml,%3Csvg%2F%3E\n{long_html}\n\
             data:image/png;base64\n"
        ));
        let kept: Vec<&str> = got.urls.iter().map(Url::as_str).collect();
        assert_eq!(kept, [png, "data:image/svg+xml,%3Csvg%2F%3E"]);
        assert_eq!(got.duplicates, 2);
        let rejected: Vec<(usize, &str)> = got
            .rejected
            .iter()
            .map(|r| (r.text.chars().count(), r.reason.as_str()))
            .collect();
        assert_eq!(
            rejected,
            [
                (61, "not an image (got text/html)"),
                (21, "damaged data: URL: no comma before the data")
            ]
        );
        // Far longer than an http URL may be, and still one item.
        let big = format!("data:image/gif;base64,{}", "R0lG".repeat(MAX_URL_LEN));
        assert_eq!(parse(&big).urls.len(), 1);
    }

    #[test]
    fn ordinary_words_with_colons_are_not_urls() {
        let got = parse("Note: this is 10:30, C:\\photos, ratio 16:9 and key:value");
        assert!(got.urls.is_empty());
        assert!(got.rejected.is_empty(), "{:?}", got.rejected);
    }
}
