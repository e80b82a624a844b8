//! Finding the images of a web page: the user has a gallery page, not a list of image
//! URLs. The page's HTML is tokenized (html5gum, a WHATWG tokenizer, no DOM) and every
//! image it points to becomes a [`Candidate`], resolved against the page (or its
//! `<base href>`), in order of appearance, each URL once.
//!
//! Sources, in the words of the markup: `<img src>` (and the lazy-loading `data-src`,
//! `data-original`), every candidate of `srcset` / `data-srcset` on `<img>` and
//! `<source>`, `<a href>` to an image file (the full-size picture behind a thumbnail),
//! `og:image` / `twitter:image` meta tags and `<link rel="image_src">`, `<img>` inside
//! `<noscript>`, the `image` fields of JSON-LD scripts and inline `style` backgrounds.
//!
//! Candidates that show one picture share a [`Candidate::picture`] number: the variants
//! of one `<img>`, the `<source>`s and `<img>` of one `<picture>`, and an `<a href>` to
//! an image file together with the thumbnails inside it. [`largest_of_each`] picks one
//! candidate of each picture.
//!
//! One job per file: walking the tokens (`reader`), what an element's attributes point
//! to (`attrs`), `srcset` lists (`srcset`), inline CSS (`css`), JSON-LD (`json_ld`) and
//! choosing one candidate of each picture (`choose`).

use html5gum::{Token, Tokenizer};
use url::Url;

mod attrs;
mod choose;
mod css;
mod json_ld;
mod reader;
mod srcset;
#[cfg(test)]
mod tests;

pub use attrs::looks_like_image;
pub use choose::{largest_of_each, largest_urls};
pub(crate) use reader::extract;

/// Where on the page a candidate was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `<img src>` or a lazy-loading `data-src`.
    Img,
    /// A `srcset` (or `data-srcset`) candidate of an `<img>` or `<source>`.
    Srcset,
    /// `<a href>` to an image file.
    Link,
    /// `og:image`, `twitter:image` or `<link rel="image_src">`.
    Meta,
    /// An `<img>` (or `<source>`) inside `<noscript>`, where lazy-loading pages keep
    /// the real image.
    Noscript,
    /// An `image` of a `<script type="application/ld+json">` block.
    JsonLd,
    /// A `url(...)` of an inline `style="background…"`.
    Style,
    /// Listed by gallery-dl, which knows the site (see the `input::gallery_dl` module).
    GalleryDl,
    /// Found by the browser extension in the page as the browser rendered it.
    Browser,
}

impl Source {
    /// A short word for the checklist.
    pub fn label(self) -> &'static str {
        match self {
            Self::Img => "img",
            Self::Srcset => "srcset",
            Self::Link => "link",
            Self::Meta => "meta",
            Self::Noscript => "noscript",
            Self::JsonLd => "json-ld",
            Self::Style => "style",
            Self::GalleryDl => "gallery-dl",
            Self::Browser => "browser",
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
    /// Candidates showing one picture share this number: dense, from 0, in order of
    /// first appearance.
    pub picture: usize,
    /// The `Nw` width descriptor, for a `srcset` candidate that has one.
    pub declared_width: Option<u32>,
    /// True when a larger variant of the same element exists: the smaller `srcset`
    /// candidates, and the `src` of an `<img>` that has a `srcset`. The candidates
    /// without this flag are the ones a reading that keeps only the largest takes.
    pub smaller_variant: bool,
}

/// Most candidates taken from one page.
pub const MAX_CANDIDATES: usize = 20_000;

/// The page's `<title>`, white space collapsed; `None` when it has none (or only
/// white space).
pub(crate) fn title(html: &str) -> Option<String> {
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
