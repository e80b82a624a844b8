//! The `url(...)`s of an inline style's backgrounds.

/// The `url(...)`s of the `background` and `background-image` declarations of an
/// inline style, as written.
pub(super) fn style_background_urls(style: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for declaration in css_declarations(style) {
        let Some((property, value)) = declaration.split_once(':') else {
            continue;
        };
        let property = property.trim().to_ascii_lowercase();
        if property == "background" || property == "background-image" {
            urls.extend(css_urls(value));
        }
    }
    urls
}

/// Splits an inline style on the `;`s that end declarations (not those inside quotes
/// or parentheses, as in `url("data:image/png;base64,…")`).
fn css_declarations(style: &str) -> Vec<&str> {
    let mut declarations = Vec::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in style.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ';') if depth == 0 => {
                declarations.push(&style[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    declarations.push(&style[start..]);
    declarations
}

/// The arguments of the `url(...)`s in a CSS value, unquoted.
pub(super) fn css_urls(value: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = value;
    while let Some(at) = find_ascii_case_insensitive(rest, "url(") {
        let after = rest[at + 4..].trim_start();
        let (url, tail) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &after[1..];
                let end = inner.find(q).unwrap_or(inner.len());
                (&inner[..end], &inner[end..])
            }
            _ => {
                let end = after.find(')').unwrap_or(after.len());
                (after[..end].trim_end(), &after[end..])
            }
        };
        if !url.trim().is_empty() {
            urls.push(url.trim().to_string());
        }
        rest = tail;
    }
    urls
}

/// Where `needle` (ASCII, lower case) first occurs in `haystack`, ignoring ASCII case.
fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}
