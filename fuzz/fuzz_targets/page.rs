//! Page extraction (img, srcset, links, og:image) on arbitrary text: no panic, and every
//! candidate is an http(s) URL.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let base = url::Url::parse("https://example.org/gallery/index.html").expect("base");
    for candidate in pixgrab_engine::fuzz_page(&html, &base) {
        assert!(matches!(candidate.url.scheme(), "http" | "https"));
    }
});
