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

use std::collections::HashMap;

use html5gum::{StartTag, State, Token, Tokenizer};
use serde_json::{Map, Value};
use url::Url;

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
    /// Listed by gallery-dl, which knows the site (see [`crate::input::gallery_dl`]).
    GalleryDl,
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

/// File extensions that mark an `<a href>` as a link to an image.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "png", "gif", "webp", "avif", "bmp", "tif", "tiff", "svg", "ico", "jfif",
];

/// Most candidates taken from one page.
pub const MAX_CANDIDATES: usize = 20_000;

/// Longest JSON-LD script text that is parsed; longer ones are skipped.
const MAX_JSON_LD_BYTES: usize = 1 << 20;

/// Deepest nesting of a JSON-LD document that is searched for images.
const MAX_JSON_LD_DEPTH: usize = 64;

/// The image candidates of `html`, a page fetched from `page`.
pub fn extract(html: &str, page: &Url) -> Vec<Candidate> {
    let mut reader = PageReader::new(page);
    let mut tokens = Tokenizer::new(html);
    while let Some(Ok(token)) = tokens.next() {
        if let Some(state) = reader.token(token) {
            tokens.set_state(state);
        }
    }
    reader.found.list
}

/// For each picture of `candidates`, which one to take: `true` for exactly one
/// candidate per picture. `pixels` (indexed like `candidates`, missing entries count as
/// unknown) are measured sizes. The choice is the largest pixel area among the measured
/// ones; with none measured, a [`Source::Link`] (the full-size picture behind a
/// thumbnail); else the widest declared `srcset` width; else the first candidate that
/// is not a smaller variant; else the first. Ties go to the first.
pub fn largest_of_each(candidates: &[Candidate], pixels: &[Option<(u32, u32)>]) -> Vec<bool> {
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (index, candidate) in candidates.iter().enumerate() {
        if members.len() <= candidate.picture {
            members.resize_with(candidate.picture + 1, Vec::new);
        }
        if let Some(list) = members.get_mut(candidate.picture) {
            list.push(index);
        }
    }
    let mut chosen = vec![false; candidates.len()];
    for group in &members {
        if let Some(slot) =
            pick_of_picture(candidates, pixels, group).and_then(|i| chosen.get_mut(i))
        {
            *slot = true;
        }
    }
    chosen
}

/// The URL of the largest variant of each picture, judged from the markup alone (a link
/// around a thumbnail, else the widest declared srcset width): what `--page` and a
/// watched page download without probing.
pub fn largest_urls(candidates: &[Candidate]) -> Vec<Url> {
    largest_of_each(candidates, &[])
        .into_iter()
        .zip(candidates)
        .filter(|(largest, _)| *largest)
        .map(|(_, c)| c.url.clone())
        .collect()
}

/// The index (into `candidates`) that [`largest_of_each`] picks among `group`.
fn pick_of_picture(
    candidates: &[Candidate],
    pixels: &[Option<(u32, u32)>],
    group: &[usize],
) -> Option<usize> {
    let area = |i: usize| {
        pixels
            .get(i)
            .copied()
            .flatten()
            .map(|(w, h)| u64::from(w) * u64::from(h))
    };
    let width = |i: usize| candidates.get(i).and_then(|c| c.declared_width);
    let full = |i: usize| candidates.get(i).is_some_and(|c| !c.smaller_variant);
    let link = |i: usize| candidates.get(i).is_some_and(|c| c.source == Source::Link);
    // A link around a thumbnail is the full size however wide the srcset inside it
    // claims to be.
    first_max_by(group, area)
        .or_else(|| group.iter().copied().find(|&i| full(i) && link(i)))
        .or_else(|| first_max_by(group, width))
        .or_else(|| group.iter().copied().find(|&i| full(i)))
        .or_else(|| group.first().copied())
}

/// The first of `group` with the greatest known `key`, if any key is known.
fn first_max_by<K: Ord + Copy>(group: &[usize], key: impl Fn(usize) -> Option<K>) -> Option<usize> {
    let mut best: Option<(K, usize)> = None;
    for &i in group {
        if let Some(k) = key(i)
            && best.is_none_or(|(b, _)| k > b)
        {
            best = Some((k, i));
        }
    }
    best.map(|(_, i)| i)
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

/// How a URL about to be added was found.
#[derive(Debug, Clone, Copy)]
struct Mark {
    source: Source,
    /// The picture group, in the reader's own (sparse) numbering.
    group: u64,
    declared_width: Option<u32>,
    smaller_variant: bool,
}

impl Mark {
    /// A candidate that is its element's only or largest one.
    fn plain(source: Source, group: u64) -> Self {
        Self {
            source,
            group,
            declared_width: None,
            smaller_variant: false,
        }
    }
}

/// The candidates found so far, without repeats, and the base they resolve against.
struct Found {
    base: Url,
    seen_base: bool,
    list: Vec<Candidate>,
    /// Each URL in `list`, to its index there.
    seen: HashMap<Url, usize>,
    /// The reader's group numbers to the dense picture numbers handed out so far.
    pictures: HashMap<u64, usize>,
}

impl Found {
    /// Adds `raw` (resolved against the base) unless it is empty, inline, not http(s),
    /// a repeat, or one too many. A repeat that is no smaller variant makes the first
    /// sighting none either (a thumbnail shown alone after being a `srcset` variant).
    fn push(&mut self, raw: &str, mark: Mark) {
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
        match self.seen.get(&url) {
            Some(&index) => {
                if let Some(first) = self.list.get_mut(index) {
                    first.smaller_variant &= mark.smaller_variant;
                }
            }
            None => self.add(url, mark),
        }
    }

    /// Appends a new candidate, numbering its picture if it is the first of it.
    fn add(&mut self, url: Url, mark: Mark) {
        let next = self.pictures.len();
        let picture = *self.pictures.entry(mark.group).or_insert(next);
        self.seen.insert(url.clone(), self.list.len());
        self.list.push(Candidate {
            url,
            source: mark.source,
            picture,
            declared_width: mark.declared_width,
            smaller_variant: mark.smaller_variant,
        });
    }
}

/// The attributes of a start tag, read as text.
struct Attrs<'a>(&'a StartTag<()>);

impl Attrs<'_> {
    /// The value of attribute `name`, if present.
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .attributes
            .get(name.as_bytes())
            .map(|v| String::from_utf8_lossy(&v.value).into_owned())
    }
}

/// The text of a `<script>` being read.
struct Script {
    /// Whether it is JSON-LD (other scripts are skipped, not collected).
    json_ld: bool,
    text: String,
    /// Set when the text grew past [`MAX_JSON_LD_BYTES`].
    too_long: bool,
}

/// Reads a page's tokens one by one, remembering the open elements that group
/// candidates.
struct PageReader {
    found: Found,
    /// The last group number handed out.
    groups: u64,
    /// The group of the open `<a href>` to an image file.
    link_group: Option<u64>,
    /// The group of the open `<picture>`.
    picture_group: Option<u64>,
    /// How many `<noscript>` elements are open.
    noscript_depth: usize,
    /// The open `<script>`.
    script: Option<Script>,
}

impl PageReader {
    /// A reader for a page fetched from `page`.
    fn new(page: &Url) -> Self {
        Self {
            found: Found {
                base: page.clone(),
                seen_base: false,
                list: Vec::new(),
                seen: HashMap::new(),
                pictures: HashMap::new(),
            },
            groups: 0,
            link_group: None,
            picture_group: None,
            noscript_depth: 0,
            script: None,
        }
    }

    /// Takes in one token; returns the state the tokenizer must switch to, if any.
    fn token(&mut self, token: Token) -> Option<State> {
        match token {
            Token::StartTag(tag) => return self.start_tag(&tag),
            Token::EndTag(tag) => self.end_tag(&tag.name),
            Token::String(text) => {
                if let Some(script) = &mut self.script {
                    script.push(&String::from_utf8_lossy(&text));
                }
            }
            _ => {}
        }
        None
    }

    /// A fresh picture group.
    fn new_group(&mut self) -> u64 {
        self.groups += 1;
        self.groups
    }

    /// The group of an `<img>` or `<source>` starting now: its `<picture>`'s, else its
    /// image link's, else its own.
    fn element_group(&mut self) -> u64 {
        match self.picture_group.or(self.link_group) {
            Some(group) => group,
            None => self.new_group(),
        }
    }

    /// Reads a start tag; returns the state the tokenizer must switch to, if any.
    fn start_tag(&mut self, tag: &StartTag<()>) -> Option<State> {
        let attrs = Attrs(tag);
        match tag.name.as_slice() {
            b"base" => self.base(&attrs),
            b"img" => {
                let group = self.element_group();
                self.push_variants(img_variants(&attrs), group);
            }
            b"source" => {
                let group = self.element_group();
                self.push_variants(source_variants(&attrs), group);
            }
            b"picture" => {
                self.picture_group = Some(match self.link_group {
                    Some(group) => group,
                    None => self.new_group(),
                });
            }
            b"a" => self.link(&attrs),
            b"meta" | b"link" => {
                if let Some((raw, source)) = meta_candidate(tag.name.as_slice(), &attrs) {
                    let group = self.new_group();
                    self.found.push(&raw, Mark::plain(source, group));
                }
            }
            b"noscript" => self.noscript_depth += 1,
            b"script" => {
                self.script = Some(Script::new(&attrs));
                // Script text is not markup: a `<` in a JSON string must not start a tag.
                return Some(State::ScriptData);
            }
            _ => {}
        }
        self.style(&attrs);
        None
    }

    /// Reads an end tag.
    fn end_tag(&mut self, name: &[u8]) {
        match name {
            b"a" => self.link_group = None,
            b"picture" => self.picture_group = None,
            b"noscript" => self.noscript_depth = self.noscript_depth.saturating_sub(1),
            b"script" => {
                if let Some(script) = self.script.take() {
                    self.json_ld(&script);
                }
            }
            _ => {}
        }
    }

    /// The first `<base href>` sets where later relative URLs start from.
    fn base(&mut self, attrs: &Attrs<'_>) {
        if self.found.seen_base {
            return;
        }
        // A relative base resolves against the page itself, which `base` still is.
        if let Some(href) = attrs.get("href")
            && let Ok(url) = self.found.base.join(href.trim())
        {
            self.found.base = url;
            self.found.seen_base = true;
        }
    }

    /// An `<a>` opens an image link group when its `href` names an image file (and
    /// closes any open one, as `<a>`s do not nest).
    fn link(&mut self, attrs: &Attrs<'_>) {
        self.link_group = None;
        if let Some(href) = attrs.get("href").filter(|href| looks_like_image(href)) {
            let group = self.new_group();
            self.link_group = Some(group);
            self.found.push(&href, Mark::plain(Source::Link, group));
        }
    }

    /// Adds the variants of one `<img>` or `<source>` to `group`.
    fn push_variants(&mut self, variants: Vec<Variant>, group: u64) {
        let in_noscript = self.noscript_depth > 0;
        for variant in variants {
            let source = if in_noscript {
                Source::Noscript
            } else {
                variant.source
            };
            let mark = Mark {
                source,
                group,
                declared_width: variant.declared_width,
                smaller_variant: variant.smaller_variant,
            };
            self.found.push(&variant.url, mark);
        }
    }

    /// Adds the background images of a `style` attribute, each its own picture.
    fn style(&mut self, attrs: &Attrs<'_>) {
        let Some(style) = attrs.get("style") else {
            return;
        };
        for url in style_background_urls(&style) {
            let group = self.new_group();
            self.found.push(&url, Mark::plain(Source::Style, group));
        }
    }

    /// Adds the images of a finished JSON-LD script.
    fn json_ld(&mut self, script: &Script) {
        if !script.json_ld || script.too_long {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(&script.text) else {
            return;
        };
        let mut pictures = Vec::new();
        json_ld_images(&value, false, 0, &mut pictures);
        for urls in pictures {
            let group = self.new_group();
            for url in urls {
                self.found.push(&url, Mark::plain(Source::JsonLd, group));
            }
        }
    }
}

impl Script {
    /// A script starting with the tag whose attributes are `attrs`.
    fn new(attrs: &Attrs<'_>) -> Self {
        let kind = attrs.get("type").unwrap_or_default();
        Self {
            json_ld: kind.trim().eq_ignore_ascii_case("application/ld+json"),
            text: String::new(),
            too_long: false,
        }
    }

    /// Appends a piece of the script's text (kept for JSON-LD only, up to the cap).
    fn push(&mut self, text: &str) {
        if !self.json_ld || self.too_long {
            return;
        }
        if self.text.len() + text.len() > MAX_JSON_LD_BYTES {
            self.too_long = true;
            self.text = String::new();
        } else {
            self.text.push_str(text);
        }
    }
}

/// One URL of an `<img>` or `<source>`, as written, and how it ranks.
#[derive(Debug, Clone, PartialEq)]
struct Variant {
    url: String,
    source: Source,
    declared_width: Option<u32>,
    smaller_variant: bool,
}

/// The URLs of an `<img>`: every `srcset` and `data-srcset` candidate, then the
/// (lazy-loading) `src`. The one the largest-only reading takes is not a smaller
/// variant: the largest of `srcset` (else of `data-srcset`), else the `src`.
fn img_variants(attrs: &Attrs<'_>) -> Vec<Variant> {
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
fn source_variants(attrs: &Attrs<'_>) -> Vec<Variant> {
    srcset_variants(
        attrs.get("srcset").as_deref(),
        attrs.get("data-srcset").as_deref(),
    )
}

/// Every candidate of `main` and then of `extra`, all smaller variants but the largest
/// of `main`.
fn srcset_variants(main: Option<&str>, extra: Option<&str>) -> Vec<Variant> {
    let mut variants = Vec::new();
    if let Some(set) = main {
        let entries = srcset_entries(set);
        let largest = largest_entry(&entries);
        for (index, entry) in entries.into_iter().enumerate() {
            variants.push(entry.variant(largest != Some(index)));
        }
    }
    if let Some(set) = extra {
        variants.extend(srcset_entries(set).into_iter().map(|e| e.variant(true)));
    }
    variants
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
fn meta_candidate(tag: &[u8], attrs: &Attrs<'_>) -> Option<(String, Source)> {
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

/// True when a link's path ends in an image file extension.
pub fn looks_like_image(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or("");
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// One candidate of a `srcset`.
#[derive(Debug, Clone, PartialEq)]
struct SrcsetEntry {
    url: String,
    /// The `Nw` descriptor, if it is one.
    width: Option<u32>,
    /// For finding the largest: the width, else the density divided by a million
    /// (densities rank below any width: 2x of a 100 px image is not 1080w).
    rank: f64,
}

impl SrcsetEntry {
    /// This entry as a variant of its element.
    fn variant(self, smaller_variant: bool) -> Variant {
        Variant {
            url: self.url,
            source: Source::Srcset,
            declared_width: self.width,
            smaller_variant,
        }
    }
}

/// The candidates of a `srcset` (`a.jpg 480w, b.jpg 1080w` or `a.jpg 1x, b.jpg 2x`),
/// in order.
fn srcset_entries(srcset: &str) -> Vec<SrcsetEntry> {
    let mut entries = Vec::new();
    for item in split_srcset(srcset) {
        let mut parts = item.split_whitespace();
        let Some(url) = parts.next() else { continue };
        let descriptor = parts.next();
        let (width, rank) = match descriptor {
            Some(d) if d.ends_with('w') => {
                let number = d.trim_end_matches('w');
                (number.parse().ok(), number.parse::<f64>().unwrap_or(0.0))
            }
            Some(d) if d.ends_with('x') => (
                None,
                d.trim_end_matches('x').parse::<f64>().unwrap_or(1.0) / 1e6,
            ),
            _ => (None, 1.0 / 1e6),
        };
        entries.push(SrcsetEntry {
            url: url.to_string(),
            width,
            rank,
        });
    }
    entries
}

/// The index of the largest entry (the first of equals).
fn largest_entry(entries: &[SrcsetEntry]) -> Option<usize> {
    let mut best: Option<(f64, usize)> = None;
    for (index, entry) in entries.iter().enumerate() {
        if best.is_none_or(|(rank, _)| entry.rank > rank) {
            best = Some((entry.rank, index));
        }
    }
    best.map(|(_, index)| index)
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

/// The `url(...)`s of the `background` and `background-image` declarations of an
/// inline style, as written.
fn style_background_urls(style: &str) -> Vec<String> {
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
fn css_urls(value: &str) -> Vec<String> {
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

/// Collects the images of a JSON-LD value into `pictures`, one list of URLs per
/// picture: `image` fields (a URL, a list, or ImageObjects with `url` / `contentUrl`)
/// and ImageObjects anywhere, at any depth up to [`MAX_JSON_LD_DEPTH`], except under
/// `logo` (a site's logo is not one of its images). `as_image` is set for the value of
/// an `image` field.
fn json_ld_images(value: &Value, as_image: bool, depth: usize, pictures: &mut Vec<Vec<String>>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The URL of the largest candidate of a `srcset` (`a.jpg 480w, b.jpg 1080w` or
    /// `a.jpg 1x, b.jpg 2x`): the highest width, else the highest density.
    fn largest_in_srcset(srcset: &str) -> Option<String> {
        let entries = srcset_entries(srcset);
        let index = largest_entry(&entries)?;
        entries.into_iter().nth(index).map(|entry| entry.url)
    }

    /// The big test page: one of every kind of image reference of the first reading.
    const BIG_PAGE: &str = r#"<!doctype html><html><head>
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

    const BIG_PAGE_URL: &str = "https://gallery.example/albums/summer/index.html";

    const BASE: &str = "https://gallery.example/albums/summer/";

    fn big_page() -> Vec<Candidate> {
        extract(BIG_PAGE, &Url::parse(BIG_PAGE_URL).expect("url"))
    }

    /// The candidates of `html` on a page at `https://site.example/dir/page.html`.
    fn read(html: &str) -> Vec<Candidate> {
        extract(
            html,
            &Url::parse("https://site.example/dir/page.html").expect("url"),
        )
    }

    /// URL, source, picture, declared width, smaller variant.
    type Row = (String, Source, usize, Option<u32>, bool);

    fn rows(found: &[Candidate]) -> Vec<Row> {
        found
            .iter()
            .map(|c| {
                (
                    c.url.to_string(),
                    c.source,
                    c.picture,
                    c.declared_width,
                    c.smaller_variant,
                )
            })
            .collect()
    }

    fn row(url: &str, source: Source, picture: usize, width: Option<u32>, smaller: bool) -> Row {
        let url = if url.contains("://") {
            url.to_string()
        } else {
            format!("https://site.example/dir/{url}")
        };
        (url, source, picture, width, smaller)
    }

    #[test]
    fn every_kind_of_image_reference_is_found_and_resolved() {
        let base = BASE;
        let b = |path: &str| format!("{base}{path}");
        let found = rows(&big_page());
        let expected: Vec<Row> = vec![
            (
                "https://cdn.example/cover.jpg".into(),
                Source::Meta,
                0,
                None,
                false,
            ),
            (
                "https://gallery.example/social.png".into(),
                Source::Meta,
                1,
                None,
                false,
            ),
            (b("share.jpg"), Source::Meta, 2, None, false),
            (b("thumbs/1.jpg"), Source::Img, 3, None, false),
            (b("medium.jpg"), Source::Srcset, 4, Some(640), true),
            (b("large.jpg"), Source::Srcset, 4, Some(1920), false),
            (b("tiny.jpg"), Source::Srcset, 4, Some(100), true),
            (b("small.jpg"), Source::Img, 4, None, true),
            (b("lazy.webp"), Source::Img, 5, None, false),
            (b("pic@1x.avif"), Source::Srcset, 6, None, true),
            (b("pic@2x.avif"), Source::Srcset, 6, None, false),
            (b("pic.jpg"), Source::Img, 6, None, false),
            (b("full/1.JPG?size=orig"), Source::Link, 7, None, false),
            (
                "https://other.example/p.gif".into(),
                Source::Img,
                8,
                None,
                false,
            ),
        ];
        assert_eq!(found, expected);
    }

    #[test]
    fn the_taken_candidates_are_what_the_largest_only_reading_found() {
        let taken: Vec<(String, Source)> = big_page()
            .into_iter()
            .filter(|c| !c.smaller_variant)
            .map(|c| (c.url.to_string(), c.source))
            .collect();
        let base = BASE;
        // The first reading's output on this page, as its test had it.
        assert_eq!(
            taken,
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

    #[test]
    fn an_img_with_srcset_is_one_picture_of_all_its_variants() {
        let html = r#"<img src="m.jpg" srcset="s.jpg 300w, m.jpg 600w, l.jpg 1200w">
            <img data-srcset="a.jpg 1x, b.jpg 2x" src="c.jpg">
            <img src="solo.jpg">"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("s.jpg", Source::Srcset, 0, Some(300), true),
                // The src repeats a srcset candidate: the first (with its width) stays.
                row("m.jpg", Source::Srcset, 0, Some(600), true),
                row("l.jpg", Source::Srcset, 0, Some(1200), false),
                row("a.jpg", Source::Srcset, 1, None, true),
                row("b.jpg", Source::Srcset, 1, None, false),
                row("c.jpg", Source::Img, 1, None, true),
                row("solo.jpg", Source::Img, 2, None, false),
            ]
        );
    }

    #[test]
    fn the_sources_and_img_of_a_picture_are_one_picture() {
        let html = r#"<picture>
              <source media="(min-width: 800px)" srcset="wide.webp 1600w, wide-s.webp 800w">
              <source srcset="narrow.webp">
              <img src="fallback.jpg">
            </picture>
            <source srcset="stray.webp">
            <img src="after.jpg">"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("wide.webp", Source::Srcset, 0, Some(1600), false),
                row("wide-s.webp", Source::Srcset, 0, Some(800), true),
                row("narrow.webp", Source::Srcset, 0, None, false),
                row("fallback.jpg", Source::Img, 0, None, false),
                row("stray.webp", Source::Srcset, 1, None, false),
                row("after.jpg", Source::Img, 2, None, false),
            ]
        );
    }

    #[test]
    fn a_thumbnail_and_the_image_it_links_to_are_one_picture() {
        let html = r#"<a href="full/1.jpg"><img src="thumb/1.jpg" srcset="thumb/1@2x.jpg 2x"></a>
            <a href="full/2.jpg"><span><img src="thumb/2.jpg"></span></a>
            <a href="page.html"><img src="thumb/3.jpg"></a>
            <img src="loose.jpg">"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("full/1.jpg", Source::Link, 0, None, false),
                row("thumb/1@2x.jpg", Source::Srcset, 0, None, false),
                row("thumb/1.jpg", Source::Img, 0, None, true),
                row("full/2.jpg", Source::Link, 1, None, false),
                row("thumb/2.jpg", Source::Img, 1, None, false),
                row("thumb/3.jpg", Source::Img, 2, None, false),
                row("loose.jpg", Source::Img, 3, None, false),
            ]
        );
    }

    #[test]
    fn a_picture_inside_an_image_link_joins_the_link() {
        let html = r#"<a href="big.png"><picture><source srcset="t.avif"><img src="t.jpg"></picture></a>
            <picture><img src="other.jpg"></picture>"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("big.png", Source::Link, 0, None, false),
                row("t.avif", Source::Srcset, 0, None, false),
                row("t.jpg", Source::Img, 0, None, false),
                row("other.jpg", Source::Img, 1, None, false),
            ]
        );
    }

    #[test]
    fn meta_images_are_each_their_own_picture_and_repeats_are_dropped() {
        let html = r#"<meta property="og:image" content="a.jpg">
            <meta property="og:image" content="b.jpg">
            <img src="a.jpg"><img src="c.jpg">"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("a.jpg", Source::Meta, 0, None, false),
                row("b.jpg", Source::Meta, 1, None, false),
                // The <img src="a.jpg"> repeat is dropped, and its group never numbered.
                row("c.jpg", Source::Img, 2, None, false),
            ]
        );
    }

    #[test]
    fn a_repeat_taken_on_its_own_is_no_longer_a_smaller_variant() {
        let html = r#"<img srcset="s.jpg 100w, l.jpg 900w" src="s.jpg"><img src="s.jpg">"#;
        assert_eq!(
            rows(&read(html)),
            [
                // Still first where first seen, in its first picture.
                row("s.jpg", Source::Srcset, 0, Some(100), false),
                row("l.jpg", Source::Srcset, 0, Some(900), false),
            ]
        );
    }

    #[test]
    fn images_inside_noscript_are_found_as_markup() {
        let html = r#"<img class="lazy" src="data:image/gif;base64,R0lGOD">
            <noscript><img src="real&amp;1.jpg" srcset="real-2x.jpg 2x"></noscript>
            <a href="full.jpg"><img src="data:,"><noscript><img src="thumb.jpg"></noscript></a>
            <img src="after.jpg">"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("real-2x.jpg", Source::Noscript, 0, None, false),
                // Entities in the noscript markup are decoded as in any attribute.
                row("real&1.jpg", Source::Noscript, 0, None, true),
                row("full.jpg", Source::Link, 1, None, false),
                row("thumb.jpg", Source::Noscript, 1, None, false),
                row("after.jpg", Source::Img, 2, None, false),
            ]
        );
    }

    #[test]
    fn json_ld_images_are_found_anywhere_in_the_document() {
        let html = r#"<script type="application/ld+json">
            {"@context": "https://schema.org", "@type": "Article",
             "headline": "a <b>bold</b> </p> claim <img src='no.jpg'>",
             "image": ["one.jpg", "https://cdn.example/two.jpg"],
             "publisher": {"logo": {"@type": "ImageObject", "url": "logo.png"}},
             "@graph": [
               {"@type": "ImageObject", "contentUrl": "three.jpg", "url": "three-page.jpg"},
               {"@type": "WebPage", "image": {"url": "four.jpg"}},
               {"@type": "Person", "image": "five.jpg#x"}
             ]}
            </script>
            <script>var s = "<img src='js.jpg'>";</script>
            <script type="application/ld+json">{"image": "data:image/png;base64,AA"}</script>
            <script type="application/ld+json">not json <img src="broken.jpg"></script>
            <img src="after.jpg">"#;
        let found = read(html);
        let mut urls: Vec<String> = found.iter().map(|c| c.url.to_string()).collect();
        assert_eq!(
            urls.pop().as_deref(),
            Some("https://site.example/dir/after.jpg")
        );
        let sources: Vec<Source> = found.iter().map(|c| c.source).collect();
        assert_eq!(sources[..urls.len()], [Source::JsonLd; 6]);
        urls.sort();
        let mut expected: Vec<String> = [
            "one.jpg",
            "https://cdn.example/two.jpg",
            "three.jpg",
            "three-page.jpg",
            "four.jpg",
            "five.jpg",
        ]
        .into_iter()
        .map(|u| row(u, Source::JsonLd, 0, None, false).0)
        .collect();
        expected.sort();
        assert_eq!(urls, expected);
        // An ImageObject's url and contentUrl are one picture; the others each their own.
        let picture_of = |u: &str| {
            found
                .iter()
                .find(|c| c.url.as_str().ends_with(u))
                .map(|c| c.picture)
        };
        assert_eq!(picture_of("/three.jpg"), picture_of("/three-page.jpg"));
        let mut pictures: Vec<usize> = found.iter().map(|c| c.picture).collect();
        pictures.dedup();
        assert_eq!(pictures, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn json_ld_walk_stops_at_the_depth_cap() {
        let mut deep = Value::String("deep.jpg".into());
        for _ in 0..MAX_JSON_LD_DEPTH + 5 {
            let mut object = Map::new();
            object.insert("image".into(), deep);
            deep = Value::Object(object);
        }
        let mut pictures = Vec::new();
        json_ld_images(&deep, false, 0, &mut pictures);
        assert!(pictures.is_empty());
        let mut shallow = Map::new();
        shallow.insert("image".into(), Value::String("ok.jpg".into()));
        json_ld_images(&Value::Object(shallow), false, 0, &mut pictures);
        assert_eq!(pictures, [vec!["ok.jpg".to_string()]]);
    }

    #[test]
    fn an_over_long_json_ld_script_is_skipped() {
        let padding = " ".repeat(MAX_JSON_LD_BYTES);
        let html = format!(
            r#"<script type="application/ld+json">{{"image": "a.jpg",{padding}"x": 1}}</script><img src="b.jpg">"#
        );
        let found = read(&html);
        assert_eq!(found.len(), 1);
        assert!(found[0].url.as_str().ends_with("/b.jpg"));
    }

    #[test]
    fn inline_style_backgrounds_are_found() {
        let html = r#"<div style="color: red; background-image: url('a.jpg'), URL( &quot;b b.jpg&quot; )"></div>
            <span style="background: #fff url(c.png) no-repeat; width: 1px"></span>
            <p style="background-image:url(data:image/png;base64,AA==);background:url(d.gif)"></p>
            <p style="border-image: url(e.png); list-style: url(f.png)"></p>
            <img src="g.jpg" style="background: url(&quot;g-bg.jpg&quot;)">"#;
        assert_eq!(
            rows(&read(html)),
            [
                row("a.jpg", Source::Style, 0, None, false),
                row("b%20b.jpg", Source::Style, 1, None, false),
                row("c.png", Source::Style, 2, None, false),
                row("d.gif", Source::Style, 3, None, false),
                row("g.jpg", Source::Img, 4, None, false),
                row("g-bg.jpg", Source::Style, 5, None, false),
            ]
        );
    }

    #[test]
    fn labels_name_every_source() {
        let labels: Vec<&str> = [
            Source::Img,
            Source::Srcset,
            Source::Link,
            Source::Meta,
            Source::Noscript,
            Source::JsonLd,
            Source::Style,
        ]
        .into_iter()
        .map(Source::label)
        .collect();
        assert_eq!(
            labels,
            [
                "img", "srcset", "link", "meta", "noscript", "json-ld", "style"
            ]
        );
    }

    #[test]
    fn new_sources_respect_the_cap() {
        let mut html = String::new();
        for i in 0..MAX_CANDIDATES {
            html.push_str(&format!(r#"<img src="{i}.jpg">"#));
        }
        html.push_str(r#"<div style="background:url(over.jpg)"></div>"#);
        html.push_str(r#"<script type="application/ld+json">{"image":"over2.jpg"}</script>"#);
        let found = read(&html);
        assert_eq!(found.len(), MAX_CANDIDATES);
        assert!(found.iter().all(|c| c.source == Source::Img));
    }

    /// A candidate in `picture`, for `largest_of_each`.
    fn cand(
        path: &str,
        source: Source,
        picture: usize,
        width: Option<u32>,
        smaller: bool,
    ) -> Candidate {
        Candidate {
            url: Url::parse(&format!("https://x.example/{path}")).expect("url"),
            source,
            picture,
            declared_width: width,
            smaller_variant: smaller,
        }
    }

    #[test]
    fn largest_of_each_prefers_measured_pixels() {
        let list = [
            cand("a", Source::Srcset, 0, Some(2000), true),
            cand("b", Source::Srcset, 0, Some(100), false),
            cand("c", Source::Img, 0, None, true),
            cand("d", Source::Img, 1, None, false),
        ];
        // Only some measured: the largest measured wins over a wider declared width.
        let pixels = [None, Some((100, 50)), Some((120, 60)), None];
        assert_eq!(largest_of_each(&list, &pixels), [false, false, true, true]);
        // Equal areas: the first.
        let pixels = [Some((10, 40)), Some((20, 20)), Some((40, 10)), None];
        assert_eq!(largest_of_each(&list, &pixels), [true, false, false, true]);
    }

    #[test]
    fn largest_of_each_falls_back_to_declared_width() {
        let list = [
            cand("a", Source::Srcset, 0, Some(300), true),
            cand("b", Source::Srcset, 0, Some(900), true),
            cand("c", Source::Srcset, 0, Some(900), false),
            cand("d", Source::Img, 0, None, false),
        ];
        // Pixels shorter than the list count as unknown.
        assert_eq!(largest_of_each(&list, &[None]), [false, true, false, false]);
    }

    #[test]
    fn largest_of_each_otherwise_takes_a_link_then_the_first_full_candidate() {
        let list = [
            cand("thumb", Source::Img, 0, None, false),
            cand("full", Source::Link, 0, None, false),
            cand("small", Source::Img, 1, None, true),
            cand("x1", Source::Srcset, 1, None, false),
            cand("x2", Source::Srcset, 1, None, false),
            cand("only-small", Source::Img, 2, None, true),
            cand("meta", Source::Meta, 3, None, false),
            cand("thumb-400w", Source::Srcset, 4, Some(400), false),
            cand("full-linked", Source::Link, 4, None, false),
        ];
        assert_eq!(
            largest_of_each(&list, &[]),
            [false, true, false, true, false, true, true, false, true]
        );
    }

    #[test]
    fn largest_of_each_picks_one_per_picture_of_a_real_page() {
        let found = big_page();
        let chosen = largest_of_each(&found, &[]);
        let pictures = found.iter().map(|c| c.picture).max().map_or(0, |m| m + 1);
        assert_eq!(chosen.iter().filter(|&&c| c).count(), pictures);
        let url = |i: usize| found[i].url.as_str().rsplit('/').next().map(str::to_string);
        let picked: Vec<Option<String>> =
            (0..found.len()).filter(|&i| chosen[i]).map(url).collect();
        assert!(picked.contains(&Some("large.jpg".to_string())));
        assert!(picked.contains(&Some("pic@2x.avif".to_string())));
    }

    #[test]
    fn css_urls_reads_every_quoting() {
        assert_eq!(
            css_urls(r#"url(a.jpg), url( "b.jpg" ), url('c).jpg'), url()"#),
            ["a.jpg", "b.jpg", "c).jpg"]
        );
    }
}
