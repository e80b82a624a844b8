//! Unit tests of `find`.

use super::*;

#[test]
fn gallery_dl_gets_only_the_cookies_of_the_page_s_site() {
    let text = "# Netscape HTTP Cookie File\n\
        .example.com\tTRUE\t/\tFALSE\t0\tsite\t1\n\
        img.example.com\tFALSE\t/\tFALSE\t0\tcdn\t2\n\
        www.example.com\tFALSE\t/\tFALSE\t0\tpage\t3\n\
        bank.test\tFALSE\t/\tFALSE\t0\tbank\t4\n\
        evilexample.com\tFALSE\t/\tFALSE\t0\tevil\t5\n";
    let (cookies, _) = crate::net::profile::parse_cookies_txt(text);
    let page = Url::parse("https://www.example.com/gallery").expect("url");
    let mut names: Vec<String> = site_cookies(&cookies, &page)
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    assert_eq!(names, ["cdn", "page", "site"]);
}

#[test]
fn the_smallest_variant_of_a_picture_is_fetched_whole_for_the_preview() {
    let page = Url::parse("http://a.example/p.html").expect("url");
    let html = r#"
        <img src="s.jpg" srcset="s.jpg 300w, m.jpg 800w, l.jpg 1600w">
        <a href="full.jpg"><img src="thumb.jpg"></a>
        <img src="alone.png">"#;
    let candidates = crate::input::page::extract(html, &page);
    let wanted: Vec<(String, Want)> = candidates
        .iter()
        .map(|c| c.url.path().trim_start_matches('/').to_string())
        .zip(wants(&candidates))
        .collect();
    let whole: Vec<&str> = wanted
        .iter()
        .filter(|(_, w)| *w == Want::WholePreview)
        .map(|(u, _)| u.as_str())
        .collect();
    assert_eq!(whole, ["s.jpg", "thumb.jpg"], "{wanted:?}");
    assert_eq!(wanted.len(), 6);
}
