//! What the attributes of one element point to: the variants of an `<img>` or
//! `<source>` (its `srcset`s and lazy-loading `src`), the image of a `<meta>` or `<link>`,
//! and whether a link names an image file.

use html5gum::StartTag;

use super::Source;
use super::srcset::{Variant, srcset_variants};

/// The attributes of a start tag, read as text.
pub(super) struct Attrs<'a>(pub(super) &'a StartTag<()>);

impl Attrs<'_> {
    /// The value of attribute `name`, if present.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.0
            .attributes
            .get(name.as_bytes())
            .map(|v| String::from_utf8_lossy(&v.value).into_owned())
    }
}

/// The URLs of an `<img>`: every `srcset` and `data-srcset` candidate, then the
/// (lazy-loading) `src`. The one the largest-only reading takes is not a smaller
/// variant: the largest of `srcset` (else of `data-srcset`), else the `src`.
pub(super) fn img_variants(attrs: &Attrs<'_>) -> Vec<Variant> {
    let srcset = attrs.get("srcset");
    let data_srcset = attrs.get("data-srcset");
    let (main, extra) = match srcset {
        Some(set) => (Some(set), data_srcset),
        None => (data_srcset, None),
    };
    let mut variants = srcset_variants(main.as_deref(), extra.as_deref());
    // The largest of `main` is the one variant not marked smaller.
    let has_largest = variants.iter().any(|v| !v.smaller_variant);
    if let Some(src) = img_src(attrs) {
        variants.push(Variant {
            url: src,
            source: Source::Img,
            declared_width: None,
            smaller_variant: has_largest,
        });
    }
    variants
}

/// The URLs of a `<source>`: its `srcset` candidates (the largest is the one taken),
/// then its `data-srcset` ones (all smaller variants).
pub(super) fn source_variants(attrs: &Attrs<'_>) -> Vec<Variant> {
    srcset_variants(
        attrs.get("srcset").as_deref(),
        attrs.get("data-srcset").as_deref(),
    )
}

/// The `src` of an `<img>`: lazy loading keeps the real image in data-* and a
/// placeholder (often a data: URL) in src.
fn img_src(attrs: &Attrs<'_>) -> Option<String> {
    ["data-src", "data-original", "data-lazy-src", "src"]
        .into_iter()
        .filter_map(|name| attrs.get(name))
        .find(|v| !v.trim().is_empty() && !v.trim().starts_with("data:"))
}

/// The image a `<meta>` or `<link>` names, if any, as written.
pub(super) fn meta_candidate(tag: &[u8], attrs: &Attrs<'_>) -> Option<(String, Source)> {
    if tag == b"link" {
        let rel = attrs.get("rel").unwrap_or_default().to_ascii_lowercase();
        return attrs
            .get("href")
            .filter(|_| rel.split_whitespace().any(|r| r == "image_src"))
            .map(|href| (href, Source::Meta));
    }
    let key = attrs
        .get("property")
        .or_else(|| attrs.get("name"))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let image = matches!(
        key.as_str(),
        "og:image" | "og:image:url" | "og:image:secure_url" | "twitter:image"
    );
    attrs
        .get("content")
        .filter(|_| image)
        .map(|content| (content, Source::Meta))
}

/// File extensions that mark an `<a href>` as a link to an image.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "gif", "webp", "avif", "bmp", "tif", "tiff", "svg", "ico", "jfif",
];

/// True when a link's path ends in an image file extension.
pub fn looks_like_image(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or("");
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}
