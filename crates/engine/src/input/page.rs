//! Finding the images of a web page: the user has a gallery page, not a list of image
//! URLs. The page's HTML is tokenized (html5gum, a WHATWG tokenizer, no DOM) and every
//! image it points to becomes a [`Candidate`], resolved against the page (or its
//! `<base href>`), in order of appearance, each URL once.
//!
//! Sources, in the words of the markup: `<img src>` (and the lazy-loading `data-src`,
//! `data-original`), the largest candidate of `srcset` on `<img>` and `<source>`,
//! `<a href>` to an image file (the full-size picture behind a thumbnail),
//! `og:image` / `twitter:image` meta tags and `<link rel="image_src">`.

use std::collections::HashSet;

use html5gum::{Token, Tokenizer};
use url::Url;

/// Where on the page a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `<img src>` or a lazy-loading `data-src`.
    Img,
    /// The largest `srcset` candidate of an `<img>` or `<source>`.
    Srcset,
    /// `<a href>` to an image file.
    Link,
    /// `og:image`, `twitter:image` or `<link rel="image_src">`.
    Meta,
}

impl Source {
    /// A short word for the checklist.
    pub fn label(self) -> &'static str {
        match self {
            Self::Img => "img",
            Self::Srcset => "srcset",
            Self::Link => "link",
            Self::Meta => "meta",
        }
    }
}

/// An image URL found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The absolute URL.
    pub url: Url,
    /// Where it was found.
    pub source: Source,
}

/// File extensions that mark an `<a href>` as a link to an image.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "gif", "webp", "avif", "bmp", "tif", "tiff", "svg", "ico", "jfif",
];

/// Most candidates taken from one page.
pub const MAX_CANDIDATES: usize = 20_000;

/// The image candidates of `html`, a page fetched from `page`.
pub fn extract(html: &str, page: &Url) -> Vec<Candidate> {
    let mut found = Found {
        base: page.clone(),
        seen_base: false,
        list: Vec::new(),
        seen: HashSet::new(),
    };
    for token in Tokenizer::new(html).flatten() {
        let Token::StartTag(tag) = token else {
            continue;
        };
        let attr = |name: &str| -> Option<String> {
            tag.attributes
                .get(name.as_bytes())
                .map(|v| String::from_utf8_lossy(&v.value).into_owned())
        };
        if tag.name.as_slice() == b"base" {
            // The first <base href> sets where later relative URLs start from.
            if !found.seen_base
                && let Some(href) = attr("href")
                && let Ok(url) = page.join(href.trim())
            {
                found.base = url;
                found.seen_base = true;
            }
        } else if let Some((raw, source)) = candidate_of(&tag.name, attr) {
            found.push(&raw, source);
        }
    }
    found.list
}

/// The page's `<title>`, white space collapsed; `None` when it has none (or only
/// white space).
pub fn title(html: &str) -> Option<String> {
    let mut in_title = false;
    let mut text = String::new();
    for token in Tokenizer::new(html).flatten() {
        match token {
            Token::StartTag(tag) if tag.name.as_slice() == b"title" => in_title = true,
            Token::EndTag(tag) if tag.name.as_slice() == b"title" => break,
            Token::String(s) if in_title => text.push_str(&String::from_utf8_lossy(&s)),
            _ => {}
        }
    }
    let title = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// The candidates found so far, without repeats, and the base they resolve against.
struct Found {
    base: Url,
    seen_base: bool,
    list: Vec<Candidate>,
    seen: HashSet<Url>,
}

impl Found {
    /// Adds `raw` (resolved against the base) unless it is empty, inline, not http(s),
    /// a repeat, or one too many.
    fn push(&mut self, raw: &str, source: Source) {
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with("data:") || self.list.len() >= MAX_CANDIDATES {
            return;
        }
        let Ok(mut url) = self.base.join(raw) else {
            return;
        };
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return;
        }
        url.set_fragment(None);
        if self.seen.insert(url.clone()) {
            self.list.push(Candidate { url, source });
        }
    }
}

/// The image one start tag names, if any (`attr` reads its attributes), as written.
fn candidate_of(tag: &[u8], attr: impl Fn(&str) -> Option<String>) -> Option<(String, Source)> {
    match tag {
        b"img" => {
            let largest = attr("srcset")
                .or_else(|| attr("data-srcset"))
                .and_then(|s| largest_in_srcset(&s));
            if let Some(best) = largest {
                return Some((best, Source::Srcset));
            }
            // Lazy loading keeps the real image in data-* and a placeholder (often a
            // data: URL) in src.
            ["data-src", "data-original", "data-lazy-src", "src"]
                .into_iter()
                .filter_map(&attr)
                .find(|v| !v.trim().is_empty() && !v.trim().starts_with("data:"))
                .map(|src| (src, Source::Img))
        }
        b"source" => attr("srcset")
            .and_then(|s| largest_in_srcset(&s))
            .map(|best| (best, Source::Srcset)),
        b"a" => attr("href")
            .filter(|href| looks_like_image(href))
            .map(|href| (href, Source::Link)),
        b"meta" => {
            let key = attr("property")
                .or_else(|| attr("name"))
                .unwrap_or_default()
                .to_ascii_lowercase();
            let image = matches!(
                key.as_str(),
                "og:image" | "og:image:url" | "og:image:secure_url" | "twitter:image"
            );
            attr("content")
                .filter(|_| image)
                .map(|content| (content, Source::Meta))
        }
        b"link" => {
            let rel = attr("rel").unwrap_or_default().to_ascii_lowercase();
            attr("href")
                .filter(|_| rel.split_whitespace().any(|r| r == "image_src"))
                .map(|href| (href, Source::Meta))
        }
        _ => None,
    }
}

/// True when a link's path ends in an image file extension.
pub fn looks_like_image(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or("");
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// The URL of the largest candidate of a `srcset` (`a.jpg 480w, b.jpg 1080w` or
/// `a.jpg 1x, b.jpg 2x`): the highest width, else the highest density.
pub fn largest_in_srcset(srcset: &str) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    for item in split_srcset(srcset) {
        let mut parts = item.split_whitespace();
        let Some(url) = parts.next() else { continue };
        let size = match parts.next() {
            Some(d) if d.ends_with('w') => d.trim_end_matches('w').parse::<f64>().unwrap_or(0.0),
            // Densities rank below any width: 2x of a 100 px image is not 1080w.
            Some(d) if d.ends_with('x') => {
                d.trim_end_matches('x').parse::<f64>().unwrap_or(1.0) / 1e6
            }
            _ => 1.0 / 1e6,
        };
        if best.as_ref().is_none_or(|(s, _)| size > *s) {
            best = Some((size, url.to_string()));
        }
    }
    best.map(|(_, url)| url)
}

/// Splits a `srcset` on the commas between candidates (a comma right after a URL's
/// first characters, as in `image,v2.jpg`, is part of the URL only if not followed by
/// whitespace; this is the common reading).
fn split_srcset(srcset: &str) -> impl Iterator<Item = &str> {
    srcset
        .split(", ")
        .flat_map(|chunk| chunk.split(",\n"))
        .flat_map(|chunk| {
            // "a.jpg 1x,b.jpg 2x" (no space after the comma) also occurs.
            let looks_split = chunk.contains(' ') && chunk.matches(',').count() > 0;
            let pieces: Vec<&str> = if looks_split {
                chunk.split(',').collect()
            } else {
                vec![chunk]
            };
            pieces
        })
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_image_reference_is_found_and_resolved() {
        let page = Url::parse("https://gallery.example/albums/summer/index.html").expect("url");
        let html = r#"<!doctype html><html><head>
            <meta property="og:image" content="https://cdn.example/cover.jpg">
            <meta name="twitter:image" content="/social.png">
            <link rel="image_src" href="share.jpg">
            </head><body>
            <img src="thumbs/1.jpg" alt="one">
            <img src="small.jpg" srcset="medium.jpg 640w, large.jpg 1920w, tiny.jpg 100w">
            <img data-src="lazy.webp" src="data:image/gif;base64,R0lGOD">
            <picture><source srcset="pic@1x.avif 1x, pic@2x.avif 2x"><img src="pic.jpg"></picture>
            <a href="full/1.JPG?size=orig"><img src="thumbs/1.jpg"></a>
            <a href="next.html">next</a> <a href="mailto:x@y">mail</a>
            <img src="//other.example/p.gif#frag">
            </body></html>"#;
        let found: Vec<(String, Source)> = extract(html, &page)
            .into_iter()
            .map(|c| (c.url.to_string(), c.source))
            .collect();
        let base = "https://gallery.example/albums/summer/";
        assert_eq!(
            found,
            [
                ("https://cdn.example/cover.jpg".to_string(), Source::Meta),
                (
                    "https://gallery.example/social.png".to_string(),
                    Source::Meta
                ),
                (format!("{base}share.jpg"), Source::Meta),
                (format!("{base}thumbs/1.jpg"), Source::Img),
                (format!("{base}large.jpg"), Source::Srcset),
                (format!("{base}lazy.webp"), Source::Img),
                (format!("{base}pic@2x.avif"), Source::Srcset),
                (format!("{base}pic.jpg"), Source::Img),
                (format!("{base}full/1.JPG?size=orig"), Source::Link),
                ("https://other.example/p.gif".to_string(), Source::Img),
            ]
        );
    }

    #[test]
    fn base_href_changes_where_relative_links_point() {
        let page = Url::parse("http://a.example/x/page.html").expect("url");
        let html = r#"<base href="http://cdn.example/img/"><img src="1.png">"#;
        let found = extract(html, &page);
        assert_eq!(found[0].url.as_str(), "http://cdn.example/img/1.png");
    }

    #[test]
    fn srcset_picks_the_widest_then_the_densest() {
        assert_eq!(
            largest_in_srcset("a.jpg 480w, b.jpg 1080w, c.jpg 720w").as_deref(),
            Some("b.jpg")
        );
        assert_eq!(
            largest_in_srcset("a.jpg, b.jpg 2x").as_deref(),
            Some("b.jpg")
        );
        assert_eq!(
            largest_in_srcset("a.jpg 1x,b.jpg 3x").as_deref(),
            Some("b.jpg")
        );
        assert_eq!(largest_in_srcset("  ").as_deref(), None);
    }
}
