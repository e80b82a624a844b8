//! What the server's headers mean: `Retry-After`, `Content-Disposition`,
//! `Content-Range`. Every value is untrusted: parsers return `None` on anything odd.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use percent_encoding::percent_decode_str;

/// `Retry-After`: delay-seconds or an HTTP-date, as a wait from `now`.
/// Dates in the past mean "now"; anything unparsable is `None`.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only date format
/// servers are allowed to send (RFC 9110).
pub fn parse_http_date(value: &str) -> Option<SystemTime> {
    let rest = value.trim().split_once(", ")?.1;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm, for years >= 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The file name a `Content-Disposition` header suggests, reduced to its base name
/// (anything before the last `/` or `\` is dropped). `filename*=UTF-8''...` wins over
/// `filename=`. The caller still sanitises it: this only extracts.
pub fn content_disposition_filename(value: &str) -> Option<String> {
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
pub fn content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
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
    }
}
