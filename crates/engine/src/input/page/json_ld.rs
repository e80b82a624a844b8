//! The images of a JSON-LD document: `image` fields and ImageObjects at any depth.

use serde_json::{Map, Value};

/// Longest JSON-LD script text that is parsed; longer ones are skipped.
pub(super) const MAX_JSON_LD_BYTES: usize = 1 << 20;

/// Deepest nesting of a JSON-LD document that is searched for images.
pub(super) const MAX_JSON_LD_DEPTH: usize = 64;

/// Collects the images of a JSON-LD value into `pictures`, one list of URLs per
/// picture: `image` fields (a URL, a list, or ImageObjects with `url` / `contentUrl`)
/// and ImageObjects anywhere, at any depth up to [`MAX_JSON_LD_DEPTH`], except under
/// `logo` (a site's logo is not one of its images). `as_image` is set for the value of
/// an `image` field.
pub(super) fn json_ld_images(
    value: &Value,
    as_image: bool,
    depth: usize,
    pictures: &mut Vec<Vec<String>>,
) {
    if depth > MAX_JSON_LD_DEPTH {
        return;
    }
    match value {
        Value::String(url) if as_image => pictures.push(vec![url.clone()]),
        Value::Array(items) => {
            for item in items {
                json_ld_images(item, as_image, depth + 1, pictures);
            }
        }
        Value::Object(object) => {
            if as_image || is_image_object(object) {
                let urls: Vec<String> = ["url", "contentUrl"]
                    .into_iter()
                    .filter_map(|key| object.get(key).and_then(Value::as_str))
                    .map(str::to_string)
                    .collect();
                if !urls.is_empty() {
                    pictures.push(urls);
                }
            }
            for (key, inner) in object {
                if key != "logo" {
                    json_ld_images(inner, key == "image", depth + 1, pictures);
                }
            }
        }
        _ => {}
    }
}

/// True when a JSON-LD object's `@type` is (or includes) `ImageObject`.
fn is_image_object(object: &Map<String, Value>) -> bool {
    let is_image = |v: &Value| v.as_str().is_some_and(|t| t.ends_with("ImageObject"));
    match object.get("@type") {
        Some(Value::Array(types)) => types.iter().any(is_image),
        Some(kind) => is_image(kind),
        None => false,
    }
}
