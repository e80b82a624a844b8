//! Shared test fixtures: generated images and a local site that misbehaves on purpose.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use pixgrab_engine::Event;
use pixgrab_testsite::loopback::{Behaviour, Response, Server};

pub mod netns;

/// A PNG with a gradient that depends on `seed`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x as u8).wrapping_add(seed),
            (y as u8).wrapping_mul(3),
            seed,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A small PNG of its own for a numbered path `/pN.png` (a number not found counts as
/// 0): distinct bytes per number, since identical files are stored once.
pub fn numbered_png(path: &str) -> Vec<u8> {
    let n: u32 = path
        .trim_start_matches("/p")
        .trim_end_matches(".png")
        .parse()
        .unwrap_or(0);
    png(8, 8 + n / 250, (n % 250) as u8)
}

/// A picture of `pixel(x, y, noise)`, `noise` a 6-bit xorshift sequence from `seed`
/// (photo-like: it does not compress to nothing).
fn noisy(
    width: u32,
    height: u32,
    seed: u32,
    pixel: impl Fn(u32, u32, u8) -> image::Rgb<u8>,
) -> image::RgbImage {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    image::RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        pixel(x, y, (state & 0x3f) as u8)
    })
}

/// A noisy JPEG (photo-like: it does not compress to nothing).
pub fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let img = noisy(width, height, seed, |x, y, n| {
        image::Rgb([(x / 4) as u8 ^ n, (y / 4) as u8 ^ n, n.wrapping_mul(3)])
    });
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    img.write_with_encoder(encoder).expect("encode jpeg");
    out.into_inner()
}

/// The bytes the site serves at `path` (for the paths that serve an image).
pub fn body(path: &str) -> Vec<u8> {
    if let Some(n) = path
        .strip_prefix("/img/")
        .and_then(|p| p.strip_suffix(".png"))
    {
        let n: u32 = n.parse().expect("image number");
        return png(64, 48 + n, n as u8);
    }
    match path {
        "/photo.jpg" => jpeg(800, 600, 7),
        "/slow.png" => body("/img/3.png"),
        "/a/cat.png" => png(30, 20, 1),
        "/b/cat.png" => png(20, 30, 2),
        _ => panic!("no image at {path}"),
    }
}

pub const HTML: &[u8] = b"<!DOCTYPE html><html><body>Please log in</body></html>";

/// The misbehaving site most tests use. Paths:
/// `/img/N.png` (N in 0..20) a 64x48+N PNG, `/photo.jpg` an 800x600 JPEG,
/// `/missing.jpg` 404, `/boom.jpg` 500, `/short.jpg` truncated body,
/// `/login.jpg` HTML served as image/jpeg, `/slow.png` a slow but moving body,
/// `/stall.png` stops after 100 bytes, `/hang.png` a very slow body (for cancel),
/// `/go` a redirect to `/img/1.png`, `/a/cat.png` and `/b/cat.png` two different cats.
pub fn site() -> Server {
    let pngs: Vec<Arc<[u8]>> = (0..20)
        .map(|n| Arc::from(png(64, 48 + n, n as u8)))
        .collect();
    let photo: Arc<[u8]> = Arc::from(jpeg(800, 600, 7));
    let cat_a: Arc<[u8]> = Arc::from(png(30, 20, 1));
    let cat_b: Arc<[u8]> = Arc::from(png(20, 30, 2));
    Server::start(move |req| {
        let path = req.path.as_str();
        if let Some(n) = path
            .strip_prefix("/img/")
            .and_then(|p| p.strip_suffix(".png"))
        {
            return match n.parse::<usize>().ok().and_then(|n| pngs.get(n)) {
                Some(body) => Response::ok("image/png", body.clone()),
                None => Response::status(404),
            };
        }
        match path {
            "/photo.jpg" => Response::ok("image/jpeg", photo.clone()),
            "/missing.jpg" => Response::status(404),
            "/boom.jpg" => Response::status(500),
            "/short.jpg" => Response::ok("image/jpeg", photo.clone())
                .behaving(Behaviour::Truncate { send: 1000 }),
            "/login.jpg" => Response::ok("image/jpeg", HTML.to_vec()),
            "/slow.png" => Response::ok("image/png", pngs[3].clone()).behaving(Behaviour::Slow {
                chunk: pngs[3].len() / 4 + 1,
                delay: Duration::from_millis(150),
            }),
            "/stall.png" => Response::ok("image/png", pngs[4].clone()).behaving(Behaviour::Stall {
                send: 100,
                hold: Duration::from_secs(5),
            }),
            "/hang.png" => Response::ok("image/png", pngs[5].clone()).behaving(Behaviour::Slow {
                chunk: 10,
                delay: Duration::from_millis(200),
            }),
            "/go" => Response::redirect("/img/1.png"),
            "/a/cat.png" => Response::ok("image/png", cat_a.clone()),
            "/b/cat.png" => Response::ok("image/png", cat_b.clone()),
            _ => Response::status(404),
        }
    })
    .expect("start test site")
}

/// Collects events until `Idle` (which is included), failing the test after `limit`.
pub fn until_idle(rx: &Receiver<Event>, limit: Duration) -> Vec<Event> {
    let deadline = Instant::now() + limit;
    let mut events = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Idle) => {
                events.push(Event::Idle);
                return events;
            }
            Ok(event) => events.push(event),
            Err(e) => panic!("no Idle within {limit:?} ({e}); got {events:#?}"),
        }
    }
}

/// The engine's defaults with a quick retry back-off (tests do not wait for it), reading
/// pages without gallery-dl.
pub fn config(dir: &std::path::Path) -> pixgrab_engine::Config {
    let mut config = pixgrab_engine::Config::new(dir);
    config.retry_base = Duration::from_millis(5);
    // Pages are read as HTML: no gallery-dl start-up (its own tests ask for it).
    config.gallery_dl = pixgrab_engine::GalleryDlSetting::Off;
    config
}

/// The URL of `path` on `server`.
pub fn url(server: &Server, path: &str) -> url::Url {
    url::Url::parse(&server.url(path)).expect("url")
}

/// The reason item `id` failed with, if it did.
pub fn failure(events: &[Event], id: pixgrab_engine::ItemId) -> Option<String> {
    events.iter().find_map(|e| match e {
        Event::Failed { id: i, reason } if *i == id => Some(reason.to_string()),
        _ => None,
    })
}

/// A file of the repository's real-file corpus (`tests/corpus/REL`), from the engine's
/// tests or the app's.
pub fn corpus_file(rel: &str) -> Vec<u8> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        manifest.join("tests/corpus"),
        manifest.join("../../tests/corpus"),
    ]
    .iter()
    .find_map(|dir| std::fs::read(dir.join(rel)).ok())
    .unwrap_or_else(|| panic!("no corpus file {rel}"))
}

/// Base64 of `bytes` (standard alphabet, padded), as a page or a browser writes a
/// `data:` URL.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A real photo (exif-samples' Canon_40D.jpg, an iguana) and three copies of it:
/// resized to 50 %, recompressed at quality 60, cropped by 5 %; then an unrelated photo
/// (Nikon_D70.jpg, an anole). Named `iguana.jpg`, `iguana-half.jpg`, `iguana-q60.jpg`,
/// `iguana-crop.jpg`, `anole.jpg`.
pub fn iguana_and_copies() -> Vec<(&'static str, Arc<[u8]>)> {
    let original = corpus_file("exif-samples/Canon_40D.jpg");
    let iguana = image::load_from_memory(&original).expect("photo").to_rgb8();
    let (w, h) = iguana.dimensions();
    let jpeg = |img: &image::RgbImage, quality: u8| -> Arc<[u8]> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(img)
            .expect("encode");
        Arc::from(out)
    };
    let half =
        image::imageops::resize(&iguana, w / 2, h / 2, image::imageops::FilterType::Lanczos3);
    let crop = image::imageops::crop_imm(&iguana, 0, 0, w * 95 / 100, h * 95 / 100).to_image();
    vec![
        ("iguana.jpg", Arc::from(original)),
        ("iguana-half.jpg", jpeg(&half, 90)),
        ("iguana-q60.jpg", jpeg(&iguana, 60)),
        ("iguana-crop.jpg", jpeg(&crop, 90)),
        (
            "anole.jpg",
            Arc::from(corpus_file("exif-samples/Nikon_D70.jpg")),
        ),
    ]
}

/// A server of `files` by name (`/NAME`), JPEG; anything else 404.
pub fn serve_jpegs(files: Vec<(&'static str, Arc<[u8]>)>) -> Server {
    Server::start(move |req| {
        match files
            .iter()
            .find(|(name, _)| req.path == format!("/{name}"))
        {
            Some((_, body)) => Response::ok("image/jpeg", body.clone()),
            None => Response::status(404),
        }
    })
    .expect("server")
}

/// A file a test serves: its path or name, bytes and pixel size.
pub type Photo = (String, Arc<[u8]>, (u32, u32));

/// A big photo: `width`×`height` of noise at quality 94 (megabytes, like a camera's),
/// behind the real EXIF segments (APP0/APP1/APP2..., with any embedded thumbnail) of
/// the corpus photo `exif_from`, so its frame header lies past them as in a camera file.
pub fn big_photo(exif_from: &str, width: u32, height: u32, seed: u32) -> Vec<u8> {
    let real = corpus_file(exif_from);
    // The real file's APPn segments, as they are.
    let mut at = 2;
    while real.get(at) == Some(&0xFF) && real.get(at + 1).is_some_and(|m| (0xE0..=0xEF).contains(m))
    {
        let len = usize::from(u16::from_be_bytes([real[at + 2], real[at + 3]]));
        at += 2 + len;
    }
    let img = noisy(width, height, seed, |x, y, n| {
        image::Rgb([(x / 8) as u8 ^ n, (y / 8) as u8 ^ (n >> 1), n])
    });
    let mut body = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut body, 94)
        .encode_image(&img)
        .expect("encode jpeg");
    let mut out = real[..at].to_vec();
    out.extend_from_slice(&body[2..]);
    out
}
