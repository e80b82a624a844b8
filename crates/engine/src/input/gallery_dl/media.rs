//! What one message tells about a file: its URL (only `http` and `https`) and its
//! metadata (size, name, extension).

use serde_json::Value;
use url::Url;

use super::Media;

/// A [`Media`] for `url` with what `metadata` tells about it.
pub(super) fn media(url: Url, metadata: Option<&Value>) -> Media {
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| metadata.and_then(|m| m.get(key)))
    };
    let dimension = |keys: &[&str]| {
        field(keys)
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                // The `output.num-to-str` setting.
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0)
    };
    let text = |key: &str| {
        field(&[key])
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Media {
        width: dimension(&["width", "image_width"]),
        height: dimension(&["height", "image_height"]),
        filename: text("filename"),
        extension: text("extension"),
        url,
    }
}

/// `url` parsed, if it is an `http` or `https` URL.
pub(super) fn web_url(url: &str) -> Option<Url> {
    Url::parse(url).ok().filter(is_web)
}

pub(super) fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}
