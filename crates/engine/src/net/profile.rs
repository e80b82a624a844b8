//! Request profiles: what a request to a host carries (User-Agent, Referer, extra
//! headers, cookies), to get past hot-link protection.
//!
//! Invariant: everything here is chosen per request from the host of *that* request
//! (fetch follows redirects itself and asks again at each hop), so a header or cookie
//! set for one host never reaches another one.

use std::collections::HashMap;

use url::Url;

/// What requests to one host (or, as the default, to every host) carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// Replaces Pixgrab's own User-Agent.
    pub user_agent: Option<String>,
    /// Sent as `Referer` (overrides the page a link was found on).
    pub referer: Option<String>,
    /// Extra headers, e.g. `("Authorization", "Bearer x")`.
    pub headers: Vec<(String, String)>,
}

/// How much of the page a link was found on goes to the image's host as `Referer`
/// (the W3C Referrer Policy values). Only the page-derived Referer follows it; a Referer
/// the user set for a host is sent as given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RefererPolicy {
    /// Never send one.
    NoReferrer,
    /// The full URL, except from https to http.
    NoReferrerWhenDowngrade,
    /// The full URL to the same origin, nothing elsewhere.
    SameOrigin,
    /// Only the origin (`https://site/`), everywhere.
    Origin,
    /// Only the origin, except from https to http.
    StrictOrigin,
    /// The full URL to the same origin, the origin elsewhere.
    OriginWhenCrossOrigin,
    /// The browsers' default: the full URL to the same origin, the origin elsewhere,
    /// nothing from https to http.
    #[default]
    StrictOriginWhenCrossOrigin,
    /// The full URL everywhere (as Pixgrab did before; leaks queries to other hosts).
    UnsafeUrl,
}

impl RefererPolicy {
    /// Every policy, in the order the window lists them.
    pub const ALL: [Self; 8] = [
        Self::StrictOriginWhenCrossOrigin,
        Self::NoReferrer,
        Self::NoReferrerWhenDowngrade,
        Self::SameOrigin,
        Self::Origin,
        Self::StrictOrigin,
        Self::OriginWhenCrossOrigin,
        Self::UnsafeUrl,
    ];

    /// The standard name, e.g. `strict-origin-when-cross-origin`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoReferrer => "no-referrer",
            Self::NoReferrerWhenDowngrade => "no-referrer-when-downgrade",
            Self::SameOrigin => "same-origin",
            Self::Origin => "origin",
            Self::StrictOrigin => "strict-origin",
            Self::OriginWhenCrossOrigin => "origin-when-cross-origin",
            Self::StrictOriginWhenCrossOrigin => "strict-origin-when-cross-origin",
            Self::UnsafeUrl => "unsafe-url",
        }
    }

    /// The `Referer` a request to `target` gets for a link found on `page`. Never
    /// carries the page's user name, password or fragment.
    pub fn referer(self, page: &Url, target: &Url) -> Option<String> {
        if !matches!(page.scheme(), "http" | "https") {
            return None;
        }
        let mut full = page.clone();
        // Both only fail for URLs that cannot have credentials; then there are none.
        let _ = full.set_username("");
        let _ = full.set_password(None);
        full.set_fragment(None);
        let full = full.to_string();
        let origin = format!("{}/", page.origin().ascii_serialization());
        let same_origin = page.origin() == target.origin();
        let downgrade = page.scheme() == "https" && target.scheme() != "https";
        match self {
            Self::NoReferrer => None,
            Self::NoReferrerWhenDowngrade => (!downgrade).then_some(full),
            Self::SameOrigin => same_origin.then_some(full),
            Self::Origin => Some(origin),
            Self::StrictOrigin => (!downgrade).then_some(origin),
            Self::OriginWhenCrossOrigin => Some(if same_origin { full } else { origin }),
            Self::StrictOriginWhenCrossOrigin if same_origin => Some(full),
            Self::StrictOriginWhenCrossOrigin => (!downgrade).then_some(origin),
            Self::UnsafeUrl => Some(full),
        }
    }
}

impl std::str::FromStr for RefererPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
                format!("unknown Referer policy {s:?} (one of {})", names.join(", "))
            })
    }
}

/// Profiles by host, the default profile, and a cookie jar.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    /// Applies to every host (a host's own profile wins field by field).
    pub default: Profile,
    /// By host name (lower case, no port). A profile for `example.com` also applies to
    /// its subdomains unless they have their own.
    pub hosts: HashMap<String, Profile>,
    /// Cookies, each sent only to the hosts its domain matches.
    pub cookies: Vec<Cookie>,
    /// How much of the page a link came from is sent as its Referer.
    pub referer_policy: RefererPolicy,
}

/// One cookie from a Netscape `cookies.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// The domain, lower case, without a leading dot.
    pub domain: String,
    /// Whether subdomains of `domain` get it too.
    pub include_subdomains: bool,
    /// Path prefix.
    pub path: String,
    /// Only over https.
    pub secure: bool,
    /// Unix time after which it is dropped (0: a session cookie).
    pub expires: i64,
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// The headers one request gets, in order.
pub(crate) type HeaderList = Vec<(String, String)>;

impl Profiles {
    /// The profile for `host`: the most specific host entry (exact, then parent
    /// domains), field by field over the default.
    pub fn for_host(&self, host: &str) -> Profile {
        let host = host.to_ascii_lowercase();
        let mut specific = None;
        let mut candidate = host.as_str();
        loop {
            if let Some(p) = self.hosts.get(candidate) {
                specific = Some(p);
                break;
            }
            match candidate.split_once('.') {
                Some((_, parent)) if parent.contains('.') => candidate = parent,
                _ => break,
            }
        }
        let mut profile = self.default.clone();
        if let Some(p) = specific {
            if p.user_agent.is_some() {
                profile.user_agent.clone_from(&p.user_agent);
            }
            if p.referer.is_some() {
                profile.referer.clone_from(&p.referer);
            }
            profile.headers.extend(p.headers.iter().cloned());
        }
        profile
    }

    /// Headers for a request to `url`. `page` is where the link was found (the default
    /// Referer); `now` is Unix time, for cookie expiry.
    pub fn headers_for(&self, url: &Url, page: Option<&Url>, now: i64) -> HeaderList {
        let mut out = HeaderList::new();
        let Some(host) = url.host_str() else {
            return out;
        };
        let profile = self.for_host(host);
        if let Some(ua) = &profile.user_agent {
            out.push(("User-Agent".into(), ua.clone()));
        }
        if let Some(referer) = profile
            .referer
            .clone()
            .or_else(|| page.and_then(|p| self.referer_policy.referer(p, url)))
        {
            out.push(("Referer".into(), referer));
        }
        for (name, value) in &profile.headers {
            out.push((name.clone(), value.clone()));
        }
        let cookies: Vec<String> = self
            .cookies
            .iter()
            .filter(|c| c.matches(url, now))
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        if !cookies.is_empty() {
            out.push(("Cookie".into(), cookies.join("; ")));
        }
        out
    }

    /// True when no host has a profile, the default is empty and there are no cookies.
    pub fn is_empty(&self) -> bool {
        self.default == Profile::default() && self.hosts.is_empty() && self.cookies.is_empty()
    }
}

impl Cookie {
    /// True when this cookie goes with a request to `url` at time `now`.
    pub fn matches(&self, url: &Url, now: i64) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let domain_ok = host == self.domain
            || (self.include_subdomains && host.ends_with(&format!(".{}", self.domain)));
        let path_ok = url.path().starts_with(&self.path);
        let secure_ok = !self.secure || url.scheme() == "https";
        let fresh = self.expires == 0 || self.expires > now;
        domain_ok && path_ok && secure_ok && fresh
    }
}

/// Writes `cookies` as a Netscape `cookies.txt` (what [`parse_cookies_txt`] reads, and
/// what gallery-dl's `--cookies` takes).
pub(crate) fn write_cookies_txt(cookies: &[Cookie]) -> String {
    let flag = |b: bool| if b { "TRUE" } else { "FALSE" };
    let mut text = String::from("# Netscape HTTP Cookie File\n");
    for c in cookies {
        let domain = if c.include_subdomains {
            format!(".{}", c.domain)
        } else {
            c.domain.clone()
        };
        text.push_str(&format!(
            "{domain}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            flag(c.include_subdomains),
            c.path,
            flag(c.secure),
            c.expires,
            c.name,
            c.value
        ));
    }
    text
}

/// Reads a Netscape `cookies.txt` (as exported by browsers and curl): seven tab-separated
/// fields per line, `#` comments, and the `#HttpOnly_` prefix. Returns the cookies and the
/// numbers of lines that could not be read.
pub fn parse_cookies_txt(text: &str) -> (Vec<Cookie>, Vec<usize>) {
    let mut cookies = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        let line = line.strip_prefix("#HttpOnly_").unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let parsed = (fields.len() == 7)
            .then(|| {
                Some(Cookie {
                    domain: fields[0].trim_start_matches('.').to_ascii_lowercase(),
                    include_subdomains: fields[1].eq_ignore_ascii_case("TRUE")
                        || fields[0].starts_with('.'),
                    path: if fields[2].is_empty() {
                        "/".into()
                    } else {
                        fields[2].to_string()
                    },
                    secure: fields[3].eq_ignore_ascii_case("TRUE"),
                    expires: fields[4].parse().ok()?,
                    name: fields[5].to_string(),
                    value: fields[6].to_string(),
                })
            })
            .flatten()
            .filter(|c| !c.domain.is_empty() && !c.name.is_empty() && is_header_safe(&c.value));
        match parsed {
            Some(cookie) => cookies.push(cookie),
            None => bad.push(n + 1),
        }
    }
    (cookies, bad)
}

/// Splits an optional `HOST=` scope off a header line, as `-H` and the window's site
/// headers write it (`example.com=Name: value`, spaces around `=` allowed). A host is
/// known by its shape (a dot, a port, or `localhost`), so a value holding `=`
/// (`Cookie: a=b`) is not taken for one. The host is lower-cased and its port dropped:
/// profiles are by host name.
pub fn split_scope(line: &str) -> (Option<String>, &str) {
    let Some((host, rest)) = line.split_once('=') else {
        return (None, line);
    };
    let host = host.trim();
    let hostlike = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && (host.contains(['.', ':']) || host == "localhost");
    if !hostlike {
        return (None, line);
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    (Some(name.to_ascii_lowercase()), rest)
}

impl Profile {
    /// Adds one header: `Referer` and `User-Agent` set those fields (so the Referer
    /// policy and the default User-Agent know of them), anything else is sent as is.
    pub fn set_header(&mut self, (name, value): (String, String)) {
        if name.eq_ignore_ascii_case("referer") {
            self.referer = Some(value);
        } else if name.eq_ignore_ascii_case("user-agent") {
            self.user_agent = Some(value);
        } else {
            self.headers.push((name, value));
        }
    }
}

/// Parses `Name: value` (as given to `--header`). Refuses names that are not HTTP
/// tokens and values with line breaks.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not a header (use \"Name: value\")"))?;
    let name = name.trim();
    let value = value.trim();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(format!("{name:?} is not a valid header name"));
    }
    if !is_header_safe(value) {
        return Err(format!(
            "the value of {name} has a line break or control character"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

fn is_header_safe(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && c != '\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_a_host_by_its_shape_and_a_value_with_equals_is_not_one() {
        assert_eq!(
            split_scope("Example.com:8080=X-Token: 1"),
            (Some("example.com".into()), "X-Token: 1")
        );
        assert_eq!(
            split_scope("img.example.com = Referer: https://a/"),
            (Some("img.example.com".into()), " Referer: https://a/")
        );
        assert_eq!(split_scope("Cookie: a=b"), (None, "Cookie: a=b"));
        assert_eq!(
            split_scope("localhost=X: y"),
            (Some("localhost".into()), "X: y")
        );
        let mut p = Profile::default();
        p.set_header(("referer".into(), "https://a/".into()));
        p.set_header(("User-Agent".into(), "me".into()));
        p.set_header(("X-Token".into(), "1".into()));
        assert_eq!(p.referer.as_deref(), Some("https://a/"));
        assert_eq!(p.user_agent.as_deref(), Some("me"));
        assert_eq!(p.headers, vec![("X-Token".to_string(), "1".to_string())]);
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn cookies_txt_is_read_and_cookies_stay_with_their_domain() {
        let text = "# Netscape HTTP Cookie File\n\
            .example.com\tTRUE\t/\tFALSE\t0\tsession\tabc\n\
            #HttpOnly_img.example.com\tFALSE\t/private\tTRUE\t4102444800\tauth\txyz\n\
            old.example.com\tFALSE\t/\tFALSE\t1\tgone\t1\n\
            broken line\n";
        let (cookies, bad) = parse_cookies_txt(text);
        assert_eq!(cookies.len(), 3);
        assert_eq!(bad, [5]);
        // Written back (for gallery-dl), the same cookies read again.
        assert_eq!(
            parse_cookies_txt(&write_cookies_txt(&cookies)),
            (cookies.clone(), vec![])
        );
        let jar = Profiles {
            cookies,
            ..Profiles::default()
        };
        let now = 1_700_000_000;
        let cookie = |u: &str| {
            jar.headers_for(&url(u), None, now)
                .into_iter()
                .find(|(n, _)| n == "Cookie")
                .map(|(_, v)| v)
        };
        assert_eq!(
            cookie("http://example.com/a.jpg").as_deref(),
            Some("session=abc")
        );
        assert_eq!(
            cookie("https://img.example.com/private/a.jpg").as_deref(),
            Some("session=abc; auth=xyz")
        );
        // Secure-only over http, wrong path, expired, another site: not sent.
        assert_eq!(
            cookie("http://img.example.com/private/a.jpg").as_deref(),
            Some("session=abc")
        );
        assert_eq!(
            cookie("https://img.example.com/a.jpg").as_deref(),
            Some("session=abc")
        );
        assert_eq!(
            cookie("http://old.example.com/a.jpg").as_deref(),
            Some("session=abc")
        );
        assert_eq!(cookie("http://example.org/a.jpg"), None);
        assert_eq!(cookie("http://notexample.com/a.jpg"), None);
    }

    #[test]
    fn host_profiles_override_the_default_and_the_page_is_the_default_referer() {
        let mut profiles = Profiles::default();
        profiles.default.user_agent = Some("Mozilla/5.0".into());
        profiles.default.headers.push(("X-All".into(), "1".into()));
        profiles.hosts.insert(
            "example.com".into(),
            Profile {
                referer: Some("https://example.com/".into()),
                headers: vec![("X-Mine".into(), "2".into())],
                ..Profile::default()
            },
        );
        let page = url("https://blog.example.org/post");
        let h = profiles.headers_for(&url("https://img.example.com/a.jpg"), Some(&page), 0);
        assert_eq!(
            h,
            [
                ("User-Agent".to_string(), "Mozilla/5.0".to_string()),
                ("Referer".into(), "https://example.com/".into()),
                ("X-All".into(), "1".into()),
                ("X-Mine".into(), "2".into()),
            ]
        );
        let other = profiles.headers_for(&url("https://cdn.other.net/a.jpg"), Some(&page), 0);
        // Cross-origin: only the page's origin (the browsers' default policy).
        assert_eq!(
            other[1],
            ("Referer".into(), "https://blog.example.org/".into())
        );
        assert!(!other.iter().any(|(n, _)| n == "X-Mine"));
    }

    #[test]
    fn the_referer_follows_the_policy_like_a_browser() {
        let page = url("https://user:pw@blog.example.org/post?id=7&token=s3cret#top");
        let policy = RefererPolicy::default();
        // Same origin: the full URL, without credentials or fragment.
        assert_eq!(
            policy
                .referer(&page, &url("https://blog.example.org/a.jpg"))
                .as_deref(),
            Some("https://blog.example.org/post?id=7&token=s3cret")
        );
        // Another host: only the origin. A downgrade to http: nothing.
        assert_eq!(
            policy
                .referer(&page, &url("https://cdn.net/a.jpg"))
                .as_deref(),
            Some("https://blog.example.org/")
        );
        assert_eq!(policy.referer(&page, &url("http://cdn.net/a.jpg")), None);
        assert_eq!(
            policy.referer(&page, &url("http://blog.example.org/a.jpg")),
            None,
            "another scheme is another origin, and a downgrade"
        );
        let unsafe_url = RefererPolicy::UnsafeUrl.referer(&page, &url("http://cdn.net/a.jpg"));
        assert_eq!(
            unsafe_url.as_deref(),
            Some("https://blog.example.org/post?id=7&token=s3cret")
        );
        assert_eq!(
            RefererPolicy::NoReferrer.referer(&page, &url("https://blog.example.org/a")),
            None
        );
        assert_eq!("Origin".parse(), Ok(RefererPolicy::Origin));
        assert!("nope".parse::<RefererPolicy>().is_err());
    }

    #[test]
    fn a_host_profile_covers_its_subdomains_but_not_lookalikes() {
        let mut profiles = Profiles::default();
        profiles.hosts.insert(
            "example.com".into(),
            Profile {
                headers: vec![("X-Secret".into(), "1".into())],
                ..Profile::default()
            },
        );
        let has = |u: &str| {
            profiles
                .headers_for(&url(u), None, 0)
                .iter()
                .any(|(n, _)| n == "X-Secret")
        };
        assert!(has("https://example.com/a.jpg"));
        assert!(has("https://a.example.com/a.jpg"));
        assert!(has("https://b.a.example.com/a.jpg"));
        assert!(!has("https://evilexample.com/a.jpg"));
        assert!(!has("https://example.com.evil.net/a.jpg"));
        assert!(!has("https://com/a.jpg"));
    }

    #[test]
    fn header_arguments_are_checked() {
        assert_eq!(
            parse_header("X-Token:  abc "),
            Ok(("X-Token".into(), "abc".into()))
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("Bad Name: x").is_err());
        assert!(parse_header("X-Evil: a\r\nInjected: b").is_err());
    }
}
