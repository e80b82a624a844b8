//! Sample images for `pixgrab --demo`: a loopback site that serves generated
//! pictures (plus one broken link and one HTML page posing as an image), so a
//! newcomer with no internet sees the whole flow.

use std::collections::HashMap;
use std::io::{self, Cursor};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::loopback::{Link, Response, Server};

/// Default number of pictures the demo serves.
pub const DEFAULT_COUNT: usize = 48;

/// Most URLs the demo's list holds: what one input of the window may hold (the engine's
/// `MAX_INPUT_URLS`). A demo of this many pictures or more lists the first ones and the
/// two broken links, `MAX_LIST` URLs in all, so `--demo-count 100000` is accepted.
pub const MAX_LIST: usize = 100_000;

/// Distinct pictures generated; larger demos reuse them with different bytes.
const DISTINCT_PICTURES: usize = 48;

/// A running demo site.
pub struct DemoSite {
    server: Server,
    count: usize,
}

impl DemoSite {
    /// Starts the site on 127.0.0.1 with `count` pictures, behind a modest simulated
    /// link (30 ms latency, 40 MB/s) so progress is visible.
    pub fn start(count: usize) -> io::Result<Self> {
        let cache: Mutex<HashMap<usize, Arc<[u8]>>> = Mutex::new(HashMap::new());
        let thumbs: Mutex<HashMap<usize, Arc<[u8]>>> = Mutex::new(HashMap::new());
        let link = Link {
            latency: Duration::from_millis(30),
            bytes_per_sec: Some(40_000_000),
        };
        let server = Server::with_link(link, move |req| {
            if req.path == "/gallery/index.html" {
                return Response::ok("text/html; charset=utf-8", gallery_page(count).into_bytes());
            }
            if let Some(n) = thumb_number(&req.path).filter(|n| *n < count) {
                let cached = thumbs.lock().ok().and_then(|c| c.get(&n).cloned());
                let body = cached.unwrap_or_else(|| {
                    let body: Arc<[u8]> = Arc::from(small_picture(n % DISTINCT_PICTURES));
                    if let Ok(mut c) = thumbs.lock() {
                        c.insert(n, body.clone());
                    }
                    body
                });
                return Response::ranged(req, "image/jpeg", &body, &format!("\"t{n}\""));
            }
            let Some(n) = picture_number(&req.path).filter(|n| *n < count) else {
                return match req.path.as_str() {
                    "/gallery/login-required.jpg" => Response::ok(
                        "image/jpeg",
                        b"<!DOCTYPE html><html><body>Please log in</body></html>".to_vec(),
                    ),
                    _ => Response::status(404),
                };
            };
            // Pictures repeat every DISTINCT_PICTURES, but each URL's bytes differ (a
            // comment segment), so every file is a real download and a real decode.
            let base_n = n % DISTINCT_PICTURES;
            let cached = cache.lock().ok().and_then(|c| c.get(&base_n).cloned());
            let base = cached.unwrap_or_else(|| {
                let body: Arc<[u8]> = Arc::from(picture(base_n));
                if let Ok(mut c) = cache.lock() {
                    c.insert(base_n, body.clone());
                }
                body
            });
            let body: Arc<[u8]> = Arc::from(with_comment(&base, &format!("pixgrab demo {n}")));
            // Ranges honoured, as a real static server does ("Find images" asks for the
            // first bytes only).
            Response::ranged(req, "image/jpeg", &body, &format!("\"p{n}\""))
        })?;
        Ok(Self { server, count })
    }

    /// The demo's URL list, one per line: every picture, one missing file and one
    /// HTML page served as a JPEG; at most [`MAX_LIST`] lines (the last pictures make
    /// room for the two broken links).
    pub fn url_list(&self) -> String {
        let pictures = self.count.min(MAX_LIST.saturating_sub(2));
        let mut lines: Vec<String> = (0..pictures)
            .map(|n| self.server.url(&format!("/gallery/picture-{n:02}.jpg")))
            .collect();
        lines.insert(pictures.min(5), self.server.url("/gallery/missing.jpg"));
        lines.insert(
            pictures.min(11),
            self.server.url("/gallery/login-required.jpg"),
        );
        lines.join("\n")
    }

    /// The demo's gallery page: thumbnails linked to the full pictures, for "Find
    /// images".
    pub fn gallery_url(&self) -> String {
        self.server.url("/gallery/index.html")
    }

    /// The underlying server (for its address and counters).
    pub fn server(&self) -> &Server {
        &self.server
    }
}

fn picture_number(path: &str) -> Option<usize> {
    path.strip_prefix("/gallery/picture-")?
        .strip_suffix(".jpg")?
        .parse()
        .ok()
}

/// Most pictures the demo's gallery page shows.
const GALLERY_PAGE_MAX: usize = 24;

/// The gallery page: each picture as a thumbnail linked to its full size.
fn gallery_page(count: usize) -> String {
    let figures: String = (0..count.min(GALLERY_PAGE_MAX))
        .map(|n| {
            format!(
                "<a href=\"picture-{n:02}.jpg\"><img src=\"thumbs/picture-{n:02}.jpg\" alt=\"Picture {n}\"></a>\n"
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><head><title>Pixgrab demo gallery</title></head><body>\n\
         <h1>Julia sets</h1>\n{figures}</body></html>\n"
    )
}

fn thumb_number(path: &str) -> Option<usize> {
    path.strip_prefix("/gallery/thumbs/picture-")?
        .strip_suffix(".jpg")?
        .parse()
        .ok()
}

/// Picture `n` at most 240 px a side, as a gallery page's thumbnail.
fn small_picture(n: usize) -> Vec<u8> {
    let Ok(full) = image::load_from_memory(&picture(n)) else {
        return Vec::new();
    };
    let small = full.thumbnail(240, 240).to_rgb8();
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    // Encoding an in-memory RGB image into a Vec cannot fail.
    let _ = small.write_with_encoder(encoder);
    out.into_inner()
}

/// Picture `n`: a Julia set with its own constant, palette and shape.
pub fn picture(n: usize) -> Vec<u8> {
    let (w, h) = match n % 3 {
        0 => (1200, 800),
        1 => (800, 1000),
        _ => (1000, 1000),
    };
    let angle = n as f64 * 0.37;
    let (cr, ci) = (0.7885 * angle.cos(), 0.7885 * angle.sin());
    let hue = (n as f64 * 47.0) % 360.0;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let scale = 3.0 / f64::from(w.min(h));
        let mut zr = (f64::from(x) - f64::from(w) / 2.0) * scale;
        let mut zi = (f64::from(y) - f64::from(h) / 2.0) * scale;
        let mut i = 0;
        while i < 60 && zr * zr + zi * zi < 4.0 {
            let t = zr * zr - zi * zi + cr;
            zi = 2.0 * zr * zi + ci;
            zr = t;
            i += 1;
        }
        let v = f64::from(i) / 60.0;
        hsv(hue + 120.0 * v, 0.75, 0.15 + 0.85 * v.sqrt())
    });
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88);
    // Encoding an in-memory RGB image into a Vec cannot fail.
    let _ = img.write_with_encoder(encoder);
    out.into_inner()
}

/// Inserts a JPEG comment (COM) segment right after SOI: still the same picture,
/// different bytes. `jpeg` must start with SOI (`FF D8`).
pub fn with_comment(jpeg: &[u8], text: &str) -> Vec<u8> {
    let text = &text.as_bytes()[..text.len().min(60_000)];
    let len = (text.len() + 2) as u16;
    let mut out = Vec::with_capacity(jpeg.len() + text.len() + 4);
    out.extend_from_slice(&jpeg[..2.min(jpeg.len())]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(text);
    out.extend_from_slice(jpeg.get(2..).unwrap_or_default());
    out
}

fn hsv(h: f64, s: f64, v: f64) -> image::Rgb<u8> {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    let byte = |f: f64| ((f + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    image::Rgb([byte(r), byte(g), byte(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_of_100000_lists_100000_urls_with_both_broken_links() {
        let site = DemoSite::start(100_000).expect("demo site");
        let list = site.url_list();
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(lines.len(), MAX_LIST);
        assert!(lines[5].ends_with("/gallery/missing.jpg"), "{}", lines[5]);
        assert!(lines[11].ends_with("/gallery/login-required.jpg"));
        assert!(lines[MAX_LIST - 1].ends_with("/gallery/picture-99997.jpg"));
        // A small demo keeps every picture.
        let small = DemoSite::start(48).expect("demo site").url_list();
        assert_eq!(small.lines().count(), 50);
    }

    #[test]
    fn pictures_are_real_distinct_jpegs() {
        let a = picture(0);
        let b = picture(1);
        assert!(a.starts_with(&[0xFF, 0xD8, 0xFF]));
        assert_ne!(a, b);
        let img = image::load_from_memory(&b).expect("decodes");
        assert_eq!((img.width(), img.height()), (800, 1000));
        let marked = with_comment(&b, "hello");
        assert_ne!(marked, b);
        let same = image::load_from_memory(&marked).expect("still decodes");
        assert_eq!(same.to_rgb8(), img.to_rgb8());
    }
}
