//! What the server's headers mean: `Retry-After`, `Content-Disposition`,
//! `Content-Range`, `Content-Length`, `ETag`/`Last-Modified` and `Location`.
//!
//! Invariant: every parser here is total. Values are untrusted: anything odd is `None`
//! (or an `Err` reason), and no input, however absurd, can make one panic or overflow
//! (`tests/properties.rs` throws arbitrary strings at each).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;
use url::Url;

/// `Retry-After`: delay-seconds or an HTTP-date, as a wait from `now`.
/// Dates in the past mean "now"; anything unparsable is `None`. Total: an absurd value
/// (a date in the year 300000000000, 20 digits of seconds) is either refused or comes
/// back as the long wait it is, never a panic; the caller decides whether to wait.
pub(crate) fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than u64 holds is "forever": as good as u64::MAX for the caller.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = http_date_secs(value)?;
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only date format
/// servers are allowed to send (RFC 9110). `None` for anything else, and for dates
/// a `SystemTime` cannot hold.
#[cfg(test)]
pub(crate) fn parse_http_date(value: &str) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(Duration::from_secs(http_date_secs(value)?))
}

/// An IMF-fixdate as seconds since the Unix epoch (checked arithmetic throughout).
fn http_date_secs(value: &str) -> Option<u64> {
    let rest = value.trim().split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let digits = |s: &str, max_len: usize| {
        (!s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let day = digits(day, 2)?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year = digits(year, 19)?;
    let mut hms = time.split(':').map(|p| digits(p, 2));
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || s > 60
    {
        return None;
    }
    days_from_civil(year, month, day)?
        .checked_mul(86_400)?
        .checked_add(h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm, for years >= 1970); `None` when
/// the count does not fit.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era.checked_mul(146_097)?
        .checked_add(doe)?
        .checked_sub(719_468)
}

/// `Content-Length`: digits only (no sign, no spaces inside), at most what a u64 holds.
pub(crate) fn content_length(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// Longest validator (`ETag` or `Last-Modified`) Pixgrab keeps and sends back in `If-Range`.
pub(crate) const MAX_VALIDATOR_LEN: usize = 256;

/// The validator to continue a download with: a strong `ETag` (weak ones cannot be used
/// with `If-Range`), else `Last-Modified`. Refuses values that are too long or hold
/// anything but visible ASCII and spaces, since they are echoed back to the server.
pub(crate) fn validator(etag: Option<&str>, last_modified: Option<&str>) -> Option<String> {
    let usable = |v: &&str| {
        !v.is_empty()
            && v.len() <= MAX_VALIDATOR_LEN
            && v.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
    };
    etag.map(str::trim)
        .filter(|e| !e.starts_with("W/"))
        .filter(usable)
        .or_else(|| {
            last_modified
                .map(str::trim)
                .filter(usable)
                .filter(|v| http_date_secs(v).is_some())
        })
        .map(str::to_string)
}

/// Where a redirect's `Location` leads, relative to `base`: only to http and https.
/// The error reads as a reason for the user.
pub(crate) fn location(base: &Url, value: &str) -> Result<Url, String> {
    if value.len() > 8192 {
        return Err(format!("a Location of {} bytes", value.len()));
    }
    let next = base
        .join(value.trim())
        .map_err(|e| format!("bad Location {:?}: {e}", truncate(value, 100)))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(format!("redirect to a {}: URL", next.scheme()));
    }
    if next.host_str().is_none_or(str::is_empty) {
        return Err("redirect to a URL without a host".into());
    }
    Ok(next)
}

/// At most `max` characters of `text`.
fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The file name a `Content-Disposition` header suggests, reduced to its base name
/// (anything before the last `/` or `\` is dropped). `filename*=UTF-8''...` wins over
/// `filename=`. The caller still sanitises it: this only extracts.
pub(crate) fn content_disposition_filename(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in split_params(value).into_iter().skip(1) {
        let Some((key, val)) = param.split_once('=') else {
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let val = val.trim();
        match key.as_str() {
            "filename*" => {
                // charset'language'percent-encoded
                let mut pieces = val.splitn(3, '\'');
                let charset = pieces.next().unwrap_or("").to_ascii_lowercase();
                let _language = pieces.next();
                if let Some(encoded) = pieces.next()
                    && (charset == "utf-8" || charset == "us-ascii")
                {
                    extended = Some(percent_decode_str(encoded).decode_utf8_lossy().into_owned());
                }
            }
            "filename" => plain = Some(unquote(val)),
            _ => {}
        }
    }
    let name = extended.or(plain)?;
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    (!base.is_empty()).then_some(base)
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<String> {
    let mut params = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ';' if !quoted => params.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    params.push(current);
    params
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `Content-Range: bytes START-END/TOTAL` → (START, TOTAL if known).
pub(crate) fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start = content_length(start)?;
    let end = content_length(end)?;
    let total = match total.trim() {
        "*" => None,
        t => Some(content_length(t)?),
    };
    if end < start || total.is_some_and(|t| end >= t) {
        return None;
    }
    Some((start, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-5", now), None);
    }

    #[test]
    fn http_dates_match_known_epochs() {
        let t = parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT").expect("epoch");
        assert_eq!(t, UNIX_EPOCH);
        let t = parse_http_date("Wed, 25 Nov 2026 12:00:00 GMT").expect("date");
        assert_eq!(
            t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).ok(),
            Some(1_795_608_000)
        );
        assert!(parse_http_date("Wed, 32 Nov 2026 12:00:00 GMT").is_none());
    }

    #[test]
    fn content_disposition_yields_only_a_base_name() {
        let cd = content_disposition_filename;
        assert_eq!(
            cd("attachment; filename=\"cat.jpg\"").as_deref(),
            Some("cat.jpg")
        );
        assert_eq!(
            cd("inline; filename=plain.png").as_deref(),
            Some("plain.png")
        );
        assert_eq!(
            cd("attachment; filename=\"fallback.jpg\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.jpg")
                .as_deref(),
            Some("東京.jpg")
        );
        assert_eq!(
            cd("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            cd("attachment; filename=\"C:\\\\Windows\\\\win.ini\"").as_deref(),
            Some("win.ini")
        );
        assert_eq!(
            cd("attachment; filename=\"a;b.jpg\"").as_deref(),
            Some("a;b.jpg")
        );
        assert_eq!(cd("attachment").as_deref(), None);
        assert_eq!(cd("attachment; filename=\"/\"").as_deref(), None);
    }

    #[test]
    fn content_range_is_parsed_strictly() {
        assert_eq!(content_range("bytes 100-199/1000"), Some((100, Some(1000))));
        assert_eq!(content_range("bytes 100-199/*"), Some((100, None)));
        assert_eq!(content_range("bytes 200-100/1000"), None);
        assert_eq!(content_range("items 1-2/3"), None);
        assert_eq!(content_range("bytes 100-1000/1000"), None);
        assert_eq!(content_range("bytes +1-2/3"), None);
    }

    #[test]
    fn absurd_dates_and_numbers_are_refused_or_read_as_what_they_say() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_608_000);
        // The header that used to panic a worker: a date in the year 300000000000.
        let far = retry_after("Sun, 06 Nov 300000000000 08:49:37 GMT", now).expect("a wait");
        assert!(far.as_secs() > 9_000_000_000_000_000_000, "{far:?}");
        assert!(parse_http_date("Sun, 06 Nov 300000000000 08:49:37 GMT").is_none());
        assert_eq!(
            retry_after("Sun, 06 Nov 99999999999999999999 08:49:37 GMT", now),
            None
        );
        assert_eq!(
            retry_after("99999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(retry_after("+5", now), None);
        assert_eq!(content_length("18446744073709551616"), None);
        assert_eq!(content_length("-1"), None);
        assert_eq!(content_length(" 42 "), Some(42));
    }

    #[test]
    fn validators_and_locations_are_checked() {
        assert_eq!(
            validator(Some("\"abc\""), Some("Sun, 06 Nov 1994 08:49:37 GMT")).as_deref(),
            Some("\"abc\"")
        );
        assert_eq!(
            validator(Some("W/\"abc\""), Some("Sun, 06 Nov 1994 08:49:37 GMT")).as_deref(),
            Some("Sun, 06 Nov 1994 08:49:37 GMT")
        );
        assert_eq!(validator(Some(&"x".repeat(300)), None), None);
        assert_eq!(validator(None, Some("yesterday")), None);
        let base = Url::parse("http://a.example/x/y.jpg").expect("url");
        assert_eq!(
            location(&base, "../z.jpg").map(|u| u.to_string()),
            Ok("http://a.example/z.jpg".to_string())
        );
        assert_eq!(
            location(&base, "file:///etc/passwd"),
            Err("redirect to a file: URL".to_string())
        );
    }
}
