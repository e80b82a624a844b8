//! Property tests (a fuzzing stand-in that runs in CI): for arbitrary input the name
//! sanitiser stays inside the folder and within every platform's rules, URL intake
//! never panics and only ever accepts what it should, and no header parser panics.

use std::path::{Component, Path};

use crate::disk::naming::{self, MAX_NAME_BYTES};
use crate::input::intake;
use crate::net::headers::content_disposition_filename;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;
use url::Url;

const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7",
    "com8", "com9", "lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Every rule a file name must meet on Linux, macOS and Windows.
fn assert_portable(name: &str) -> Result<(), TestCaseError> {
    prop_assert!(!name.is_empty());
    prop_assert!(name.len() + ".part".len() <= 255, "{} bytes", name.len());
    prop_assert!(name.len() <= MAX_NAME_BYTES);
    let mut components = Path::new(name).components();
    prop_assert!(
        matches!(components.next(), Some(Component::Normal(_))),
        "{name:?}"
    );
    prop_assert!(
        components.next().is_none(),
        "{name:?} has several components"
    );
    prop_assert!(!name.starts_with('.'), "{name:?} is hidden or a parent");
    prop_assert!(!name.ends_with(['.', ' ']), "{name:?}");
    for c in name.chars() {
        prop_assert!(!c.is_control(), "{name:?}");
        prop_assert!(
            !matches!(c, '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '?' | '*'),
            "{name:?}"
        );
        prop_assert!(
            !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'),
            "{name:?}"
        );
    }
    let device = name
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_lowercase();
    prop_assert!(!RESERVED.contains(&device.as_str()), "{name:?}");
    prop_assert_eq!(name.nfc().collect::<String>(), name.to_string());
    Ok(())
}

/// 3,000 cases per property, nothing written to disk.
fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn any_text_becomes_a_portable_name(raw in any::<String>(), n in 1u32..100_000, ext in "(jpg|png|gif|webp|tiff)") {
        let stem = naming::sanitize_stem(&raw);
        assert_portable(&naming::numbered(&stem, n, &ext))?;
        assert_portable(&format!("{stem}.{ext}"))?;
    }

    #[test]
    fn any_url_path_becomes_a_portable_name(segments in proptest::collection::vec(any::<String>(), 0..4), query in proptest::option::of(any::<String>())) {
        let path: Vec<String> = segments.iter().map(|s| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()).collect();
        let mut url = format!("https://example.org/{}", path.join("/"));
        if let Some(q) = query {
            url.push('?');
            url.push_str(&utf8_percent_encode(&q, NON_ALPHANUMERIC).to_string());
        }
        let url = Url::parse(&url).map_err(|e| TestCaseError::fail(e.to_string()))?;
        assert_portable(&naming::numbered(&naming::stem_from_url(&url), 2, "jpg"))?;
    }

    #[test]
    fn content_disposition_never_yields_a_path(value in any::<String>()) {
        if let Some(name) = content_disposition_filename(&value) {
            prop_assert!(!name.contains('/') && !name.contains('\\'), "{name:?}");
            assert_portable(&naming::numbered(&naming::stem_from_file_name(&name), 1, "png"))?;
        }
    }

    #[test]
    fn intake_never_panics_and_accepts_only_distinct_http_or_inline_image_urls(text in any::<String>()) {
        let got = intake::parse(&text);
        for (i, url) in got.urls.iter().enumerate() {
            if url.scheme() == "data" {
                prop_assert!(crate::input::data_url::check(url.as_str()).is_ok(), "{url}");
            } else {
                prop_assert!(matches!(url.scheme(), "http" | "https"));
                prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
            }
            prop_assert!(!got.urls[..i].contains(url), "duplicate {url}");
        }
        for rejected in &got.rejected {
            // A long data: URL is shown cut, ending in an ellipsis.
            let shown = rejected.text.strip_suffix('…').unwrap_or(&rejected.text);
            prop_assert!(text.contains(shown), "{:?} is not from the input", rejected.text);
        }
    }

    #[test]
    fn intake_finds_urls_wherever_they_sit(prefix in "([a-z]{0,6}[ ,;(\\n\\t\"'<>]){0,3}", suffix in "[ ,;)\\n\\t\"'<>.!?]{0,12}", path in "[a-z0-9_/-]{1,20}") {
        let url = format!("https://example.org/{path}.jpg");
        let got = intake::parse(&format!("{prefix}{url}{suffix}"));
        prop_assert_eq!(got.urls.len(), 1, "{:?}", got);
        prop_assert_eq!(got.urls[0].as_str(), url.as_str());
    }
}

/// Every header parser, thrown arbitrary text and absurd numbers: none may panic, and
/// what they accept must make sense (issue #11: one `Retry-After` used to kill a worker).
mod headers_are_total {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use crate::net::headers;
    use proptest::prelude::*;
    use url::Url;

    const MONTHS: [&str; 13] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Foo",
    ];

    proptest! {
        #![proptest_config(super::cases())]

        #[test]
        fn no_parser_panics_on_any_text(value in any::<String>(), now in any::<u64>()) {
            let now = UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(UNIX_EPOCH);
            let _ = headers::retry_after(&value, now);
            let _ = headers::parse_http_date(&value);
            let _ = headers::content_disposition_filename(&value);
            let _ = headers::validator(Some(&value), Some(&value));
            if let Some(n) = headers::content_length(&value) {
                prop_assert!(value.trim().bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(value.trim().parse::<u64>().ok(), Some(n));
            }
            if let Some((start, total)) = headers::content_range(&value) {
                prop_assert!(total.is_none_or(|t| start < t));
            }
            let base = Url::parse("http://example.org/a/b.jpg").expect("base");
            if let Ok(next) = headers::location(&base, &value) {
                prop_assert!(matches!(next.scheme(), "http" | "https"));
                prop_assert!(next.host_str().is_some_and(|h| !h.is_empty()));
            }
        }

        #[test]
        fn absurd_dates_and_numbers_never_overflow(
            day in any::<u64>(), month in 0usize..13, year in any::<u64>(),
            h in any::<u64>(), m in any::<u64>(), s in any::<u64>(),
            start in any::<u64>(), end in any::<u64>(), total in any::<u64>(),
        ) {
            let date = format!("Sun, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT", MONTHS[month]);
            let now = SystemTime::now();
            if let Some(wait) = headers::retry_after(&date, now) {
                // A wait is only ever what the date says: never from a wrapped sum.
                prop_assert!(year >= 1970 && (1..=31).contains(&day) && month < 12, "{date} -> {wait:?}");
            }
            let _ = headers::retry_after(&format!("{year}{day}"), now);
            let _ = headers::content_range(&format!("bytes {start}-{end}/{total}"));
            let _ = headers::content_length(&format!("{start}{end}{total}"));
        }
    }
}
