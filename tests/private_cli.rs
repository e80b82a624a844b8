//! The private-address rule through the real binary, in a network of the test's own
//! (see `support::netns`): `pixgrab get --page` on a public site whose name also has a
//! private record saves nothing from the internal service (issue 23, item 1, as it was
//! reproduced).

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};

use pixgrab_testsite::loopback::{Link, Response, Server};
use support::netns;

#[test]
fn get_page_on_a_site_with_a_private_record_saves_nothing_from_inside() {
    if !netns::inside(
        "get_page_on_a_site_with_a_private_record_saves_nothing_from_inside",
        "203.0.113.7 site.test\n127.0.0.1 site.test",
        &[],
    ) {
        return;
    }
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = asked.clone();
    let internal = Server::start(move |req| {
        log.lock().expect("log").push(req.path.clone());
        Response::ok("image/png", support::png(16, 16, 3))
    })
    .expect("internal service");
    let port = internal.addr().port();
    let html = format!(
        r#"<img src="http://127.0.0.1:{port}/admin.png">
           <img src="http://site.test:{port}/admin.png">
           <img src="/hop.png">"#
    );
    let hop = format!("http://127.0.0.1:{port}/admin.png");
    let addr: SocketAddr = "203.0.113.7:80".parse().expect("addr");
    let _site = Server::on(addr, Link::default(), move |req| match req.path.as_str() {
        "/page.html" => Response::ok("text/html", html.clone().into_bytes()),
        "/hop.png" => Response::redirect(&hop),
        _ => Response::status(404),
    })
    .expect("public site");
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args([
            "get",
            "--no-gallery-dl",
            "--page",
            "http://site.test/page.html",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("run pixgrab");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.matches("refused: ").count(), 3, "{stderr}");
    assert!(asked.lock().expect("log").is_empty(), "{stderr}");
    let saved: Vec<_> = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .collect();
    assert!(saved.is_empty(), "{saved:?}");
}
