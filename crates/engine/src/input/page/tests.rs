//! Tests of reading pages: every source, the grouping into pictures, the caps, and
//! choosing one candidate of each picture.

use serde_json::{Map, Value};

use super::css::css_urls;
use super::json_ld::{MAX_JSON_LD_BYTES, MAX_JSON_LD_DEPTH, json_ld_images};
use super::srcset::{largest_entry, srcset_entries};
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
    let picked: Vec<Option<String>> = (0..found.len()).filter(|&i| chosen[i]).map(url).collect();
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
