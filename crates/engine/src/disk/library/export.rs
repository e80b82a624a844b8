//! The library as CSV or JSON, and the URLs of such an export read back.

use url::Url;

use super::records::Record;

/// The columns of an export, in order.
pub(crate) const EXPORT_COLUMNS: [&str; 9] = [
    "url",
    "final_url",
    "file",
    "status",
    "bytes",
    "sha256",
    "width",
    "height",
    "error",
];

fn export_row(r: &Record) -> [String; 9] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    [
        without_userinfo(&r.url),
        r.final_url
            .as_deref()
            .map(without_userinfo)
            .unwrap_or_default(),
        opt(&r.file),
        r.state.as_str().to_string(),
        num(r.bytes),
        opt(&r.sha256),
        num(r.dimensions.map(|d| u64::from(d.0))),
        num(r.dimensions.map(|d| u64::from(d.1))),
        opt(&r.error),
    ]
}

/// `url` without a user name or password: exports are shared, credentials are not.
pub(crate) fn without_userinfo(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The library as CSV (RFC 4180: fields with commas, quotes or line breaks are quoted).
pub fn to_csv(records: &[Record]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = EXPORT_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in records {
        let row: Vec<String> = export_row(r).iter().map(|f| field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The library as a JSON array of objects (numbers as numbers, missing values as null).
pub fn to_json(records: &[Record]) -> String {
    let items: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            serde_json::json!({
                "url": without_userinfo(&r.url),
                "final_url": r.final_url.as_deref().map(without_userinfo),
                "file": r.file,
                "status": r.state.as_str(),
                "bytes": r.bytes,
                "sha256": r.sha256,
                "width": r.dimensions.map(|d| d.0),
                "height": r.dimensions.map(|d| d.1),
                "error": r.error,
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

/// The URLs of a previous export (CSV with a `url` column, or a JSON array of objects
/// with `url`), in order; `None` if `text` is not an export. Only the `url` column is
/// taken, so final URLs are not queued a second time.
pub fn import_urls(text: &str) -> Option<Vec<String>> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        let value: serde_json::Value = serde_json::from_str(trimmed).ok()?;
        let items = value.as_array()?;
        let urls: Vec<String> = items
            .iter()
            .filter_map(|v| v.get("url")?.as_str().map(str::to_string))
            .collect();
        return (!urls.is_empty() || items.is_empty()).then_some(urls);
    }
    let mut rows = parse_csv(trimmed).into_iter();
    let header = rows.next()?;
    if header.first().map(String::as_str) != Some("url") || !header.iter().any(|h| h == "status") {
        return None;
    }
    Some(
        rows.filter_map(|row| row.into_iter().next())
            .filter(|u| !u.is_empty())
            .collect(),
    )
}

/// A small RFC 4180 reader: rows of fields, quotes and doubled quotes honoured.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
