//! Reasons for people: what a failed request, status, read or certificate means.

use std::io;
use std::time::SystemTime;

use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};
use url::Url;

use super::{FetchLimits, Stopped};
use crate::error::FetchError;
use crate::net::headers;
use crate::net::netguard::refusal;

/// A download's failure for a non-success `status`: with the server's `Retry-After`,
/// and for 401/403 a hint of what to try.
pub(super) fn http_error(status: StatusCode, headers_seen: &HeaderMap, url: &Url) -> FetchError {
    let retry_after = headers_seen
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| headers::retry_after(v, SystemTime::now()));
    let hint = matches!(status.as_u16(), 401 | 403).then(|| protection_hint(url));
    status_error(status, retry_after, hint)
}

/// The failure for a non-success `status` (`HTTP 404 Not Found`), with what the server
/// asked to wait and a hint, if any; a page read or a probe gives neither.
pub(crate) fn status_error(
    status: StatusCode,
    retry_after: Option<std::time::Duration>,
    hint: Option<String>,
) -> FetchError {
    FetchError::Http {
        code: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        retry_after,
        hint,
    }
}

/// What to try when a site refuses a request or answers with a page instead of an
/// image: hot-link protection usually wants a Referer, a cookie or a browser's UA.
pub(super) fn protection_hint(url: &Url) -> String {
    format!(
        "the server refused the request; try a Referer or cookies for {}",
        url.host_str().unwrap_or("this site")
    )
}

pub(super) fn request_error(e: &reqwest::Error, url: &Url, limits: &FetchLimits) -> FetchError {
    if let Some(refused) = crate::net::resolve::private_name(e) {
        return FetchError::Private(refusal(url, refused.ip));
    }
    if let Some(problem) = certificate_problem(e) {
        return FetchError::Certificate(problem);
    }
    if e.is_redirect() {
        return FetchError::Redirect(innermost(e));
    }
    if e.is_timeout() {
        return limits.timed_out();
    }
    if e.is_connect() {
        return FetchError::Connect(innermost(e));
    }
    FetchError::Network(innermost(e))
}

/// Why reading a body into memory (a page, a probe's bytes) failed, in plain words: past
/// the deadline, stalled, or the connection's own error.
pub(crate) fn read_failure(e: &io::Error, limits: &FetchLimits) -> FetchError {
    read_error(e, 0, None, limits)
}

pub(super) fn read_error(
    e: &io::Error,
    got: u64,
    total: Option<u64>,
    limits: &FetchLimits,
) -> FetchError {
    let timed_out = e.kind() == io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    if timed_out {
        return limits.timed_out();
    }
    if let Some(expected) = total.filter(|&t| got < t) {
        // The peer closed early; the announced length tells the user how much is missing.
        if matches!(e.kind(), io::ErrorKind::UnexpectedEof) || is_incomplete_body(e) {
            return FetchError::Truncated { got, expected };
        }
    }
    FetchError::Network(innermost(e))
}

/// The body ended before it was complete, as the HTTP client reports it: a body
/// error somewhere in the chain of causes (the server closed early, or its chunked
/// encoding stopped mid-way).
pub(super) fn is_incomplete_body(e: &io::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = e
        .get_ref()
        .map(|inner| inner as &(dyn std::error::Error + 'static));
    while let Some(err) = cause {
        if err
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_body)
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::UnexpectedEof
        {
            return true;
        }
        cause = err.source();
    }
    false
}

/// A write error: about this one file (its name: the item fails), or about the folder
/// (full, read-only, gone: every download pauses).
pub(crate) fn disk_error(e: io::Error) -> Stopped {
    if let Some(named) = crate::disk::store::NameError::of(&e) {
        return Stopped::Failed(FetchError::FileName(named.to_string()));
    }
    let text = innermost(&e);
    Stopped::Failed(match e.kind() {
        io::ErrorKind::AlreadyExists | io::ErrorKind::InvalidInput => {
            FetchError::FileName(format!("could not name the file: {text}"))
        }
        _ => FetchError::Disk(text),
    })
}

/// The reason, in plain words, when `e` is a failed TLS certificate check.
pub(super) fn certificate_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(rustls::Error::InvalidCertificate(cert)) = rustls_error(err) {
            return Some(certificate_reason(cert));
        }
        current = err.source();
    }
    None
}

/// `err` as a rustls error, also when it is wrapped in (nested) `io::Error`s, whose
/// `source()` skips the error they wrap.
pub(super) fn rustls_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let inner = err.downcast_ref::<io::Error>()?.get_ref()?;
    let inner: &(dyn std::error::Error + 'static) = inner;
    rustls_error(inner)
}

/// A rustls certificate error as a person would say it.
pub fn certificate_reason(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => {
            "it is signed by an authority this system does not trust (a self-signed or \
             corporate certificate? see SSL_CERT_FILE in the README)"
                .into()
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "it is not valid yet".into(),
        C::Revoked => "it has been revoked".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it was issued for another host name".into()
        }
        C::BadSignature => "its signature is bad".into(),
        C::BadEncoding => "it is malformed".into(),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "it is not meant for a web server".into()
        }
        C::Other(other) => {
            let text = other.to_string();
            if text.contains("CaUsedAsEndEntity") {
                "it is a CA certificate used by a server".into()
            } else {
                format!("it was rejected ({text})")
            }
        }
        other => format!("it was rejected ({other:?})"),
    }
}

/// The most specific message in an error chain ("connection refused", not "error sending request").
pub(crate) fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(source) = current.source() {
        current = source;
    }
    let text = current.to_string();
    // Strip the "(os error 111)" noise users do not need.
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
