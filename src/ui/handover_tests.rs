//! The window's side of the socket (issue #25), driven through the inbox the socket's
//! thread posts to: a browser's page opens the picker with real sizes (its cookie
//! reaching the protected image), a direct handover queues into the folder with the
//! page as Referer, the command line's URLs land in the box, and a bad handover is
//! refused with nothing changed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pixgrab_engine::Stage;
use pixgrab_testsite::loopback::{Response, Server};

use super::tests::step_until;
use super::{PixgrabApp, UiOptions};
use crate::ipc::{Handover, HandoverCookie, Postman, inbox};

/// Four images; `/private.png` only with the cookie `sid=k`. Each request's Referer
/// is kept.
fn site(referers: Arc<Mutex<Vec<(String, String)>>>) -> Server {
    Server::start(move |req| {
        if let Ok(mut seen) = referers.lock() {
            seen.push((
                req.path.clone(),
                req.header("referer").unwrap_or_default().to_string(),
            ));
        }
        let n = match req.path.as_str() {
            "/a.png" => 1,
            "/b.png" => 2,
            "/c.png" => 3,
            "/private.png" => {
                let cookie = req.header("cookie").unwrap_or_default();
                if !cookie.split(';').any(|c| c.trim() == "sid=k") {
                    return Response::status(403);
                }
                4
            }
            _ => return Response::status(404),
        };
        Response::ok(
            "image/png",
            super::tests::support::png(30 + n * 10, 20 + n, n as u8),
        )
    })
    .expect("server")
}

fn harness(out: &Path) -> (Harness<'static, PixgrabApp>, Postman) {
    let (postman, inbox) = inbox();
    let out = out.to_path_buf();
    let mut harness = Harness::builder()
        .with_size([1100.0, 700.0])
        .build_eframe(move |cc| {
            PixgrabApp::new(
                &cc.egui_ctx,
                None,
                UiOptions {
                    out_dir: Some(out),
                    inbox: Some(inbox),
                    ..UiOptions::default()
                },
            )
        });
    harness.step();
    (harness, postman)
}

#[test]
fn a_browser_page_opens_the_picker_and_a_direct_one_queues_with_its_referer() {
    let referers = Arc::new(Mutex::new(Vec::new()));
    let server = site(referers.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut harness, postman) = harness(tmp.path());
    let page = server.url("/gallery");
    let cookie = HandoverCookie {
        name: "sid".into(),
        value: "k".into(),
        domain: "127.0.0.1".into(),
        host_only: true,
        path: "/".into(),
        secure: false,
        expires: None,
    };
    // The picker: every image with its real size; the protected one's needs the cookie.
    let reply = postman.post(Handover {
        urls: vec![
            server.url("/a.png"),
            server.url("/b.png"),
            server.url("/private.png"),
        ],
        page: Some(page.clone()),
        title: Some("A  gallery\nbuilt by script".into()),
        cookies: vec![cookie],
        ..Handover::default()
    });
    assert!(reply.ok, "{reply:?}");
    step_until(&mut harness, "the picker with three sized images", |app| {
        app.picker.as_ref().is_some_and(|p| {
            p.items.len() == 3
                && p.items
                    .iter()
                    .all(|i| i.probe.as_ref().is_some_and(|p| p.pixels.is_some()))
        })
    });
    let private = harness
        .state()
        .picker
        .as_ref()
        .and_then(|p| p.items.iter().find(|i| i.url.path() == "/private.png"))
        .and_then(|i| i.probe.as_ref())
        .and_then(|p| p.pixels);
    assert_eq!(
        private,
        Some((70, 24)),
        "the browser's cookie reached the protected image"
    );
    assert!(
        harness
            .query_by_label_contains("3 images sent from the browser: A gallery built by script")
            .is_some(),
        "the note names the page's title"
    );
    // Esc closes the picker.
    harness.key_press(egui::Key::Escape);
    harness.run_steps(2);
    assert!(harness.state().picker.is_none(), "Esc closes the picker");
    // Direct: queued at once, each request with the page as its Referer.
    let reply = postman.post(Handover {
        urls: vec![server.url("/c.png")],
        page: Some(page.clone()),
        direct: true,
        ..Handover::default()
    });
    assert!(reply.ok, "{reply:?}");
    step_until(&mut harness, "the direct image done", |app| {
        app.model
            .items
            .iter()
            .any(|i| i.name().starts_with('c') && i.state == Stage::Done)
    });
    assert!(tmp.path().join("c.png").is_file());
    let seen = referers.lock().map(|r| r.clone()).unwrap_or_default();
    assert!(
        seen.iter()
            .any(|(path, referer)| path == "/c.png" && *referer == page),
        "the page is the Referer: {seen:?}"
    );
    // The command line's URLs (no page) land in the box, to check before downloading.
    let reply = postman.post(Handover {
        urls: vec![server.url("/a.png"), "javascript:alert(1)".into()],
        ..Handover::default()
    });
    assert!(reply.ok, "{reply:?}");
    step_until(&mut harness, "the URL in the box", |app| {
        app.input.text.contains("/a.png")
    });
    assert!(!harness.state().input.text.contains("javascript"));
    // A bad handover is refused whole; nothing changes.
    let items = harness.state().model.items.len();
    let reply = postman.post(Handover {
        urls: vec![server.url("/b.png")],
        page: Some("file:///etc".into()),
        direct: true,
        ..Handover::default()
    });
    assert!(
        !reply.ok
            && reply
                .error
                .as_deref()
                .is_some_and(|e| e.contains("the page")),
        "{reply:?}"
    );
    harness.run_steps(5);
    assert_eq!(harness.state().model.items.len(), items);
}

/// Trust: images a public page sent are page-caused requests. A public page (it is never
/// read: 203.0.113.7 stands in for a public site) cannot make Pixgrab fetch an image on a
/// private address (127.0.0.1 here): the item fails saying so, and nothing is asked of
/// the private host.
#[test]
fn a_public_page_s_images_on_a_private_address_are_refused() {
    let referers = Arc::new(Mutex::new(Vec::new()));
    let server = site(referers.clone());
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut harness, postman) = harness(tmp.path());
    let reply = postman.post(Handover {
        urls: vec![server.url("/a.png")],
        page: Some("http://203.0.113.7/gallery".into()),
        direct: true,
        ..Handover::default()
    });
    assert!(reply.ok, "{reply:?}");
    step_until(&mut harness, "the item failed", |app| {
        app.model.items.iter().any(|i| i.state == Stage::Failed)
    });
    let reason = harness.state().model.items[0]
        .failure
        .as_ref()
        .map(|f| f.reason.clone())
        .unwrap_or_default();
    assert!(reason.contains("private address"), "{reason}");
    assert!(
        referers.lock().map(|r| r.is_empty()).unwrap_or(false),
        "the private host was never asked"
    );
}

/// `pixgrab --page URL` handed to the running window opens its picker on that page, as
/// "Find images" does.
#[test]
fn a_handed_page_is_read_into_the_picker() {
    let page_html = |base: &str| {
        format!(r#"<html><body><img src="{base}/a.png"><img src="{base}/b.png"></body></html>"#)
    };
    let server = Server::start(move |req| match req.path.as_str() {
        "/page.html" => {
            let host = req.header("host").unwrap_or_default().to_string();
            Response::ok(
                "text/html",
                page_html(&format!("http://{host}")).into_bytes(),
            )
        }
        "/a.png" => Response::ok("image/png", super::tests::support::png(30, 20, 1)),
        "/b.png" => Response::ok("image/png", super::tests::support::png(31, 20, 2)),
        _ => Response::status(404),
    })
    .expect("server");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut harness, postman) = harness(tmp.path());
    let reply = postman.post(Handover {
        pages: vec![server.url("/page.html")],
        ..Handover::default()
    });
    assert!(reply.ok, "{reply:?}");
    step_until(&mut harness, "the page's two images in the picker", |app| {
        app.picker.as_ref().is_some_and(|p| p.items.len() == 2)
    });
    assert_eq!(harness.state().input.page_url, server.url("/page.html"));
}
