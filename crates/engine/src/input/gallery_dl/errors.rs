//! gallery-dl's error texts: from its messages and its standard error, without colour
//! codes or control characters, and capped in length.

use serde_json::Value;

/// The longest error text we pass on.
pub(super) const ERROR_TEXT_CAP: usize = 1000;

/// `{"error": "HttpError", "message": "…"}` as `HttpError: …`.
pub(super) fn error_text(value: Option<&Value>) -> String {
    let get = |key| {
        value
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default()
    };
    let (kind, message) = (get("error"), get("message"));
    cap_text(&match (kind.is_empty(), message.is_empty()) {
        (false, false) => format!("{kind}: {message}"),
        (false, true) => kind.to_owned(),
        (true, false) => message.to_owned(),
        (true, true) => "unknown error".to_owned(),
    })
}

/// gallery-dl's last error line on standard error, without the `[category][error] ` prefix, or
/// the last line when none is marked as an error.
pub(super) fn error_line(stderr: &[u8]) -> Option<String> {
    let text = strip_ansi(&String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let marked = lines.iter().rev().find_map(|line| {
        line.find("][error] ")
            .map(|at| line.get(at + "][error] ".len()..).unwrap_or_default())
    });
    marked
        .or_else(|| lines.last().copied())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(cap_text)
}

/// `text` without ANSI escape sequences (`ESC [ … letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        }
    }
    out
}

/// `text` cut to [`ERROR_TEXT_CAP`] characters.
pub(super) fn cap_text(text: &str) -> String {
    // What gallery-dl says comes from sites: no control characters reach a terminal.
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match text.char_indices().nth(ERROR_TEXT_CAP) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or_default()),
        None => text,
    }
}
