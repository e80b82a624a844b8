//! The walk over a page's tokens: the open elements that group candidates, the
//! `<base href>`, and the candidates found so far, each URL once.

use std::collections::HashMap;

use html5gum::{StartTag, State, Token, Tokenizer};
use serde_json::Value;
use url::Url;

use super::attrs::{Attrs, img_variants, looks_like_image, meta_candidate, source_variants};
use super::css::style_background_urls;
use super::json_ld::{MAX_JSON_LD_BYTES, json_ld_images};
use super::srcset::Variant;
use super::{Candidate, MAX_CANDIDATES, Source};

/// The image candidates of `html`, a page fetched from `page`.
pub(crate) fn extract(html: &str, page: &Url) -> Vec<Candidate> {
    let mut reader = PageReader::new(page);
    let mut tokens = Tokenizer::new(html);
    while let Some(Ok(token)) = tokens.next() {
        if let Some(state) = reader.token(token) {
            tokens.set_state(state);
        }
    }
    reader.found.list
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
