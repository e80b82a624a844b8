//! URL patterns: `[001-120]` numbered ranges (zero-padded like the start), `[a-z]`
//! letter ranges, an optional step (`[0-100:10]`), and `{a,b,c}` alternatives, as curl
//! and wget users write them. Several patterns in one URL multiply.
//!
//! Only the part after the host is expanded (so an IPv6 host such as `http://[::1]/`
//! is left alone), and the total is capped: a typo such as `[1-1000000]` is refused
//! with a clear reason instead of queueing a million URLs.

/// Most URLs one pattern may expand to.
pub(crate) const MAX_EXPANSION: usize = 10_000;

/// Why a pattern was not expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RangeError {
    /// The product of all patterns is over [`MAX_EXPANSION`] (`u128::MAX`: past counting).
    #[error("expands to {} URLs, over the limit of {MAX_EXPANSION}", count_text(*.0))]
    TooMany(u128),
    /// A range goes down (`[9-1]`) or mixes digits and letters.
    #[error("bad range [{0}]")]
    BadRange(String),
}

/// A URL count for people: the number, or "more than 10^38" when past counting.
fn count_text(count: u128) -> String {
    if count == u128::MAX {
        "more than 10^38".into()
    } else {
        count.to_string()
    }
}

/// One piece of a pattern: literal text or a list of choices.
enum Part {
    Text(String),
    Choices(Vec<String>),
}

/// True when `text` holds something [`expand`] would expand.
pub(crate) fn has_pattern(text: &str) -> bool {
    let tail = after_host(text);
    let bracket = tail.find('[').is_some_and(|i| tail[i..].contains(']'));
    let brace = tail.find('{').is_some_and(|i| {
        tail[i..]
            .find('}')
            .is_some_and(|j| tail[i..i + j].contains(','))
    });
    bracket || brace
}

/// The part of a URL after `scheme://host`, where patterns may appear.
fn after_host(text: &str) -> &str {
    let Some(scheme_end) = text.find("://") else {
        return text;
    };
    let rest = &text[scheme_end + 3..];
    let host_end = rest.find('/').map_or(rest.len(), |i| i);
    &rest[host_end..]
}

/// Expands every pattern in `text` (in order, the first pattern varying slowest).
/// Text without a pattern comes back as the only item.
pub(crate) fn expand(text: &str) -> Result<Vec<String>, RangeError> {
    let tail = after_host(text);
    let head = &text[..text.len() - tail.len()];
    let mut parts = vec![Part::Text(head.to_string())];
    let mut rest = tail;
    while !rest.is_empty() {
        match next_pattern(rest)? {
            Some((before, choices, after)) => {
                parts.push(Part::Text(before.to_string()));
                parts.push(Part::Choices(choices));
                rest = after;
            }
            None => {
                parts.push(Part::Text(rest.to_string()));
                rest = "";
            }
        }
    }
    // Saturating: 128 `{a,b}` make 2^128, which must read as "too many", not wrap to 0.
    let total: u128 = parts
        .iter()
        .map(|p| match p {
            Part::Choices(c) => c.len() as u128,
            Part::Text(_) => 1,
        })
        .fold(1, u128::saturating_mul);
    if total > MAX_EXPANSION as u128 {
        return Err(RangeError::TooMany(total));
    }
    let mut out = vec![String::new()];
    for part in &parts {
        out = match part {
            Part::Text(t) => out.into_iter().map(|s| s + t).collect(),
            Part::Choices(choices) => out
                .iter()
                .flat_map(|s| choices.iter().map(move |c| format!("{s}{c}")))
                .collect(),
        };
    }
    Ok(out)
}

/// A pattern found in a text: the text before it, its choices, the text after it.
type Found<'a> = (&'a str, Vec<String>, &'a str);

/// The first pattern in `text`.
fn next_pattern(text: &str) -> Result<Option<Found<'_>>, RangeError> {
    for (i, c) in text.char_indices() {
        let close = match c {
            '[' => ']',
            '{' => '}',
            _ => continue,
        };
        let Some(len) = text[i + 1..].find(close) else {
            continue;
        };
        let inner = &text[i + 1..i + 1 + len];
        let after = &text[i + 2 + len..];
        let choices = if c == '[' {
            match range_choices(inner)? {
                Some(choices) => choices,
                None => continue,
            }
        } else if inner.contains(',') {
            inner.split(',').map(str::to_string).collect()
        } else {
            continue;
        };
        return Ok(Some((&text[..i], choices, after)));
    }
    Ok(None)
}

/// `001-120`, `a-z`, `0-100:10` → the values; `None` if `inner` is not a range at all.
fn range_choices(inner: &str) -> Result<Option<Vec<String>>, RangeError> {
    let (span, step) = match inner.split_once(':') {
        Some((span, step)) => match step.parse::<u64>() {
            Ok(step) if step > 0 => (span, step),
            _ => return Ok(None),
        },
        None => (inner, 1),
    };
    let Some((from, to)) = span.split_once('-') else {
        return Ok(None);
    };
    let bad = || RangeError::BadRange(inner.to_string());
    let digits = |s: &str| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit());
    if digits(from) && digits(to) {
        let (a, b): (u64, u64) = (
            from.parse().map_err(|_| bad())?,
            to.parse().map_err(|_| bad())?,
        );
        if a > b {
            return Err(bad());
        }
        let count = u128::from((b - a) / step + 1);
        if count > MAX_EXPANSION as u128 {
            return Err(RangeError::TooMany(count));
        }
        // `[001-120]` pads to the width of its start, as curl does.
        let width = if from.len() > 1 && from.starts_with('0') {
            from.len()
        } else {
            0
        };
        return Ok(Some(
            (a..=b)
                .step_by(usize::try_from(step).unwrap_or(usize::MAX))
                .map(|n| format!("{n:0width$}"))
                .collect(),
        ));
    }
    let letter = |s: &str| {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if c.is_ascii_alphabetic() => Some(c),
            _ => None,
        }
    };
    match (letter(from), letter(to)) {
        (Some(a), Some(b)) if a <= b && a.is_ascii_lowercase() == b.is_ascii_lowercase() => {
            Ok(Some(
                (a..=b)
                    .step_by(usize::try_from(step).unwrap_or(usize::MAX))
                    .map(String::from)
                    .collect(),
            ))
        }
        (Some(_), Some(_)) => Err(bad()),
        _ if digits(from) || digits(to) => Err(bad()),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_ranges_pad_like_their_start() {
        let urls = expand("https://x.org/img[001-003].jpg").expect("expand");
        assert_eq!(
            urls,
            [
                "https://x.org/img001.jpg",
                "https://x.org/img002.jpg",
                "https://x.org/img003.jpg"
            ]
        );
        assert_eq!(expand("http://x/[8-10].png").expect("expand").len(), 3);
        assert_eq!(
            expand("http://x/p[0-20:10]").expect("expand"),
            ["http://x/p0", "http://x/p10", "http://x/p20"]
        );
    }

    #[test]
    fn alternatives_and_letters_multiply_in_order() {
        let urls = expand("http://x/{cat,dog}/[a-b].jpg").expect("expand");
        assert_eq!(
            urls,
            [
                "http://x/cat/a.jpg",
                "http://x/cat/b.jpg",
                "http://x/dog/a.jpg",
                "http://x/dog/b.jpg"
            ]
        );
    }

    #[test]
    fn a_product_past_u128_is_refused_not_wrapped() {
        // 128 times `{a,b}`: 2^128 URLs. The product used to wrap to 0 and pass the cap.
        let text = format!("http://x/{}", "{a,b}".repeat(128));
        let refused = expand(&text).expect_err("refused");
        assert_eq!(refused, RangeError::TooMany(u128::MAX));
        assert_eq!(
            refused.to_string(),
            "expands to more than 10^38 URLs, over the limit of 10000"
        );
        let text = format!("http://x/{}", "{a,b}".repeat(127));
        assert!(matches!(expand(&text), Err(RangeError::TooMany(n)) if n == 1 << 127));
    }

    #[test]
    fn mistakes_are_refused_with_a_reason_and_hosts_are_left_alone() {
        assert_eq!(
            expand("http://x/[1-1000000].jpg"),
            Err(RangeError::TooMany(1_000_000))
        );
        assert_eq!(
            expand("http://x/[1-200]/[1-200].jpg"),
            Err(RangeError::TooMany(40_000))
        );
        assert_eq!(
            expand("http://x/[9-1].jpg"),
            Err(RangeError::BadRange("9-1".into()))
        );
        assert!(!has_pattern("http://[::1]:8080/a.jpg"));
        assert_eq!(
            expand("http://[::1]:8080/a.jpg").expect("expand"),
            ["http://[::1]:8080/a.jpg"]
        );
        // Brackets and braces that are not patterns stay as they are.
        assert_eq!(
            expand("http://x/a[b]{c}.jpg").expect("expand"),
            ["http://x/a[b]{c}.jpg"]
        );
    }
}
