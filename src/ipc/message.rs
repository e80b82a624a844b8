//! What goes over the window's socket: a [`Handover`] of URLs one way, a [`Reply`] the
//! other. Whoever sent it (the browser's host, a second `pixgrab`), the window checks it
//! as untrusted input ([`Handover::check`]) before anything acts on it.

use pixgrab_engine::{Cookie, MAX_CANDIDATES};
use serde::{Deserialize, Serialize};
use url::Url;

/// Most bytes of one URL (a `data:` image may be larger: see [`MAX_DATA_URL`]).
pub(crate) const MAX_URL: usize = 8 * 1024;

/// Most bytes of one `data:` image URL.
pub(crate) const MAX_DATA_URL: usize = 2 << 20;

/// Most cookies in one handover.
const MAX_COOKIES: usize = 2_000;

/// URLs for the running window, with where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Handover {
    /// Image URLs (http, https or `data:image/…`), in page order.
    #[serde(default)]
    pub urls: Vec<String>,
    /// The page they were found on: their Referer, and the picker's heading.
    #[serde(default)]
    pub page: Option<String>,
    /// The page's title, if known.
    #[serde(default)]
    pub title: Option<String>,
    /// Cookies for the hosts of `page` and `urls` (the browser's, for logged-in images).
    #[serde(default)]
    pub cookies: Vec<HandoverCookie>,
    /// Queue the URLs at once instead of opening the picker.
    #[serde(default)]
    pub direct: bool,
    /// Pages to read as "Find images" does (`pixgrab --page URL`).
    #[serde(default)]
    pub pages: Vec<String>,
}

/// One cookie as the browser has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HandoverCookie {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Its domain (a leading dot is ignored).
    pub domain: String,
    /// Sent only to `domain` itself, not to its subdomains.
    #[serde(default)]
    pub host_only: bool,
    /// The path it is sent for.
    #[serde(default = "root_path")]
    pub path: String,
    /// Sent only over https.
    #[serde(default)]
    pub secure: bool,
    /// Unix seconds after which it is dropped; `None` for a session cookie.
    #[serde(default)]
    pub expires: Option<i64>,
}

fn root_path() -> String {
    "/".into()
}

/// The window's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reply {
    /// It was taken.
    pub ok: bool,
    /// Why not, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many URLs and pages were taken, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken: Option<usize>,
}

impl Reply {
    /// Taken.
    pub(crate) fn taken() -> Self {
        Self {
            ok: true,
            error: None,
            taken: None,
        }
    }

    /// Taken: `count` URLs and pages.
    pub(crate) fn taken_count(count: usize) -> Self {
        Self {
            taken: Some(count),
            ..Self::taken()
        }
    }

    /// Refused, saying why.
    pub(crate) fn refused(why: impl Into<String>) -> Self {
        Self {
            ok: false,
            error: Some(why.into()),
            taken: None,
        }
    }
}

/// A handover the window may act on: every URL parsed and of an allowed kind, the
/// page http or https, the cookies well-formed.
#[derive(Debug, Clone, Default)]
pub(crate) struct Checked {
    /// The images, in order, without repeats.
    pub urls: Vec<Url>,
    /// The page, if any.
    pub page: Option<Url>,
    /// The page's title (at most 300 characters).
    pub title: Option<String>,
    /// The cookies, as the engine's request profiles hold them.
    pub cookies: Vec<Cookie>,
    /// Queue at once.
    pub direct: bool,
    /// Pages to read.
    pub pages: Vec<Url>,
    /// URLs left out (not http, https or an image `data:` URL, or too long).
    pub skipped: usize,
}

impl Handover {
    /// Checks everything in it: refused as a whole when it is malformed (too many URLs
    /// or cookies, a page that is not http/https, a cookie that could not be sent);
    /// single URLs of the wrong kind are left out and counted.
    pub(crate) fn check(self) -> Result<Checked, String> {
        if self.urls.len() > MAX_CANDIDATES {
            return Err(format!(
                "too many URLs: {} (at most {MAX_CANDIDATES})",
                self.urls.len()
            ));
        }
        if self.cookies.len() > MAX_COOKIES {
            return Err(format!(
                "too many cookies: {} (at most {MAX_COOKIES})",
                self.cookies.len()
            ));
        }
        let web = |text: &str, what: &str| -> Result<Url, String> {
            match Url::parse(text) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && text.len() <= MAX_URL => {
                    Ok(url)
                }
                _ => Err(format!("{what} is not an http or https URL")),
            }
        };
        let page = self
            .page
            .as_deref()
            .map(|p| web(p, "the page"))
            .transpose()?;
        let pages = self
            .pages
            .iter()
            .map(|p| web(p, "a page"))
            .collect::<Result<Vec<_>, _>>()?;
        let cookies = self
            .cookies
            .into_iter()
            .map(HandoverCookie::into_cookie)
            .collect::<Result<Vec<_>, _>>()?;
        let mut urls: Vec<Url> = Vec::with_capacity(self.urls.len());
        let mut seen = std::collections::HashSet::new();
        let mut skipped = 0;
        for text in &self.urls {
            match image_url(text) {
                Some(url) => {
                    if seen.insert(url.as_str().to_string()) {
                        urls.push(url);
                    }
                }
                None => skipped += 1,
            }
        }
        let title = self
            .title
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .map(|t| t.chars().take(300).collect::<String>())
            .filter(|t| !t.is_empty());
        Ok(Checked {
            urls,
            page,
            title,
            cookies,
            direct: self.direct,
            pages,
            skipped,
        })
    }
}

/// `text` as an image URL Pixgrab may fetch: http or https within [`MAX_URL`], or a
/// `data:image/…` URL within [`MAX_DATA_URL`].
fn image_url(text: &str) -> Option<Url> {
    let data = text
        .get(..11)
        .is_some_and(|p| p.eq_ignore_ascii_case("data:image/"));
    let fits = if data {
        text.len() <= MAX_DATA_URL
    } else {
        text.len() <= MAX_URL
    };
    let url = Url::parse(text).ok().filter(|_| fits)?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Some(url),
        "data" if data => Some(url),
        _ => None,
    }
}

impl HandoverCookie {
    /// As a cookie the engine sends only to its own hosts; `Err` when it could not be
    /// sent as it is (a name or value with characters a header cannot hold, a domain
    /// that is no host name).
    fn into_cookie(self) -> Result<Cookie, String> {
        let header_safe = |s: &str| {
            s.bytes()
                .all(|b| (0x21..0x7f).contains(&b) && b != b';' && b != b',')
        };
        let domain = self.domain.trim_start_matches('.').to_ascii_lowercase();
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if self.name.is_empty() || !header_safe(&self.name) || !domain_ok {
            return Err(format!(
                "a cookie cannot be used: {:?} for {:?}",
                self.name.chars().take(40).collect::<String>(),
                self.domain.chars().take(80).collect::<String>()
            ));
        }
        // Values may be empty or quoted; anything else a header cannot carry is refused.
        let value_ok = self.value.is_empty() || header_safe(self.value.trim_matches('"'));
        if !value_ok || self.value.len() > 4096 || !self.path.starts_with('/') {
            return Err(format!("the cookie {:?} cannot be used", self.name));
        }
        Ok(Cookie {
            domain,
            include_subdomains: !self.host_only,
            path: self.path,
            secure: self.secure,
            expires: self.expires.unwrap_or(0).max(0),
            name: self.name,
            value: self.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(name: &str, value: &str, domain: &str) -> HandoverCookie {
        HandoverCookie {
            name: name.into(),
            value: value.into(),
            domain: domain.into(),
            host_only: false,
            path: "/".into(),
            secure: false,
            expires: None,
        }
    }

    #[test]
    fn only_web_and_data_image_urls_pass_and_repeats_go() {
        let handover = Handover {
            urls: vec![
                "https://a.test/1.jpg".into(),
                "javascript:alert(1)".into(),
                "file:///etc/passwd".into(),
                "https://a.test/1.jpg".into(),
                "data:image/png;base64,iVBORw0KGgo=".into(),
                "data:text/html,<b>x</b>".into(),
                format!("https://a.test/{}", "x".repeat(MAX_URL)),
                "http://b.test/2.png".into(),
            ],
            page: Some("https://a.test/gallery".into()),
            ..Handover::default()
        };
        let checked = handover.check().expect("well-formed");
        let urls: Vec<&str> = checked.urls.iter().map(Url::as_str).collect();
        assert_eq!(
            urls,
            [
                "https://a.test/1.jpg",
                "data:image/png;base64,iVBORw0KGgo=",
                "http://b.test/2.png"
            ]
        );
        assert_eq!(checked.skipped, 4);
    }

    #[test]
    fn a_bad_page_or_cookie_refuses_the_whole_handover() {
        let bad_page = Handover {
            urls: vec!["https://a.test/1.jpg".into()],
            page: Some("file:///home".into()),
            ..Handover::default()
        };
        assert!(bad_page.check().is_err());
        for bad in [
            cookie("a;b", "1", "a.test"),
            cookie("a", "1\r\nX-Evil: 1", "a.test"),
            cookie("a", "1", "a.test/path"),
            cookie("", "1", "a.test"),
        ] {
            let handover = Handover {
                cookies: vec![bad.clone()],
                ..Handover::default()
            };
            assert!(handover.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_cookie_keeps_its_scope() {
        let mut host_only = cookie("sid", "x", ".Shop.Test");
        host_only.host_only = true;
        host_only.secure = true;
        host_only.expires = Some(1_900_000_000);
        let checked = Handover {
            cookies: vec![host_only, cookie("t", "\"q\"", "cdn.test")],
            ..Handover::default()
        }
        .check()
        .expect("fine");
        let c = &checked.cookies[0];
        assert_eq!(
            (c.domain.as_str(), c.include_subdomains, c.secure, c.expires),
            ("shop.test", false, true, 1_900_000_000)
        );
        assert!(checked.cookies[1].include_subdomains);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = r#"{"urls": [], "exec": "rm -rf /"}"#;
        let parsed: Result<Handover, _> = serde_json::from_str(text);
        assert!(parsed.is_err());
    }
}
