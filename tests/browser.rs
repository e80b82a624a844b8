//! From the browser to Pixgrab (issue #25), with the real parts: Debian's Chromium,
//! headless, with the unpacked extension (`extension/`) loaded; `pixgrab
//! install-browser-host` writing the host manifest Chromium reads; the real `pixgrab`
//! window under Xvfb holding the window socket; a page served on 127.0.0.1 whose images
//! come by script after load, lazily on scroll (infinite scroll), inside an iframe and
//! behind a cookie. The test presses the toolbar button's function over the DevTools
//! protocol (`pixgrabSend(tabId, {direct: true})`) and checks that every image lands in
//! the window's folder byte for byte, the cookie-protected one included.
//!
//! Without Chromium or a display it is skipped, unless `PIXGRAB_REQUIRE_BROWSER=1`
//! (`scripts/test` installs Chromium and sets it).

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pixgrab_testsite::loopback::{Request, Response, Server};

const CHROMIUM: &str = "/usr/bin/chromium";
const EXTENSION_ID: &str = "gniejcgbaaehdobcnkendmbabbehnedp";

/// Kills a child process when the test ends, however it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// True when the test can run here; false (skip) only when nothing requires it.
fn can_run() -> bool {
    let required = std::env::var_os("PIXGRAB_REQUIRE_BROWSER").is_some();
    let has_display = std::env::var_os("DISPLAY").is_some();
    let has_chromium = Path::new(CHROMIUM).exists();
    if has_display && has_chromium {
        return true;
    }
    assert!(
        !required,
        "PIXGRAB_REQUIRE_BROWSER is set but chromium ({has_chromium}) or a display ({has_display}) is missing"
    );
    eprintln!("skipped: needs {CHROMIUM} and a display (scripts/test provides both)");
    false
}

/// The images of the test page, by path.
fn images() -> HashMap<&'static str, Arc<[u8]>> {
    [
        "/img/static.png",
        "/img/script-1.png",
        "/img/script-2.png",
        "/img/more-1.png",
        "/img/more-2.png",
        "/img/frame.png",
        "/private/secret.png",
    ]
    .iter()
    .enumerate()
    .map(|(n, path)| {
        (
            *path,
            Arc::from(support::png(48 + n as u32, 32, n as u8 + 1)),
        )
    })
    .collect()
}

const INDEX: &str = r#"<!doctype html>
<html><head><title>Script-built gallery</title></head><body>
<h1>Gallery</h1>
<img src="/img/static.png">
<img src="OTHER_SITE/img/bank.png">
<div id="gallery"></div>
<iframe src="/frame.html" width="200" height="120"></iframe>
<div style="height: 2500px"></div>
<div id="end"></div>
<script>
document.cookie = "sid=s3cret; path=/";
const add = (src) => { const i = new Image(); i.src = src; document.getElementById("gallery").append(i); };
// Built by script once the page has loaded.
addEventListener("load", () => setTimeout(() => {
  add("/img/script-1.png"); add("/img/script-2.png"); add("/private/secret.png");
}, 50));
// Infinite scroll: more images only once the end of the page is seen.
let more = 0;
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting) && more < 2) {
    more += 1;
    const i = new Image(); i.src = "/img/more-" + more + ".png";
    document.getElementById("end").before(i);
    document.getElementById("end").before(Object.assign(document.createElement("div"), {style: "height: 1500px"}));
  }
}).observe(document.getElementById("end"));
// A hostile page: what it does to its own world cannot reach the extension's collector.
Array.prototype.push = function () { return 0; };
window.chrome = { runtime: { sendNativeMessage() {} } };
JSON.stringify = () => '{"kind":"send","direct":true,"urls":["file:///etc/passwd"]}';
</script>
<img src="javascript:alert(1)">
<a href="file:///etc/passwd.png">not for you</a>
<img srcset="blob:http://x/1 1x, javascript:void(0) 2x">
</body></html>"#;

const FRAME: &str = r#"<!doctype html><html><body><script>
const i = new Image(); i.src = "/img/frame.png"; document.body.append(i);
</script></body></html>"#;

/// A page of one site naming another site's image: the Cookie headers that image's
/// requests carried.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

fn serve_site(bank: Seen) -> Server {
    let images = images();
    Server::start(move |req: &Request| match req.path.as_str() {
        // Another site's image (localhost, not 127.0.0.1): its Lax cookie must stay in
        // the browser, as the browser itself keeps it from a cross-site image request.
        "/img/bank.png" => {
            if let Ok(mut seen) = bank.lock() {
                seen.push(req.header("cookie").unwrap_or_default().to_string());
            }
            Response::ok("image/png", support::png(20, 20, 99))
        }
        "/" => Response::ok(
            "text/html",
            INDEX
                .replace(
                    "OTHER_SITE",
                    &format!(
                        "http://localhost:{}",
                        req.header("host")
                            .and_then(|h| h.rsplit(':').next())
                            .unwrap_or("80")
                    ),
                )
                .into_bytes(),
        ),
        "/frame.html" => Response::ok("text/html", FRAME.as_bytes().to_vec()),
        "/favicon.ico" => Response::status(404),
        "/private/secret.png" => {
            let cookie = req.header("cookie").unwrap_or_default();
            if cookie.split(';').any(|c| c.trim() == "sid=s3cret") {
                Response::ok("image/png", images["/private/secret.png"].clone())
            } else {
                Response::status(403)
            }
        }
        path => match images.get(path) {
            Some(body) => Response::ok("image/png", body.clone()),
            None => Response::status(404),
        },
    })
    .expect("server")
}

/// Waits until `ready` says yes, or panics saying `what` after `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every file's bytes under `dir` (not Pixgrab's own `.pixgrab/`).
fn files_in(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_file()
            && !name.ends_with(".part")
            && let Ok(bytes) = std::fs::read(&path)
        {
            out.push((path, bytes));
        }
    }
    out
}

/// One DevTools-protocol call on `ws`, returning its `result`.
fn cdp<S: std::io::Read + std::io::Write>(
    ws: &mut tungstenite::WebSocket<S>,
    id: u64,
    method: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    let call = serde_json::json!({"id": id, "method": method, "params": params});
    ws.send(tungstenite::Message::text(call.to_string()))
        .expect("send to chromium");
    loop {
        let message = ws.read().expect("read from chromium");
        let Ok(text) = message.to_text() else {
            continue;
        };
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        if value["id"] == id {
            assert!(value.get("error").is_none(), "{method}: {value}");
            return value["result"].clone();
        }
    }
}

/// The DevTools targets Chromium lists.
fn targets(port: u16) -> Vec<serde_json::Value> {
    pixgrab_engine::install_tls_provider();
    reqwest::blocking::get(format!("http://127.0.0.1:{port}/json/list"))
        .and_then(|r| r.bytes())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

#[test]
fn the_extension_hands_a_script_built_gallery_to_the_running_window() {
    if !can_run() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    let config = home.join(".config");
    let ipc = tmp.path().join("ipc");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&config).expect("config");
    let pixgrab = env!("CARGO_BIN_EXE_pixgrab");
    let bank: Seen = Seen::default();
    let site = serve_site(bank.clone());
    let page = site.url("/");
    let other_site = format!("http://localhost:{}", site.addr().port());

    // What a reading of the page's HTML alone finds (Pixgrab's own "Find images").
    let static_read = Command::new(pixgrab)
        .args(["find", "--json"])
        .arg(&page)
        .env("HOME", &home)
        .output()
        .expect("pixgrab find");
    let static_count = String::from_utf8_lossy(&static_read.stdout).lines().count();

    // The user's set-up: the host manifests, then the window.
    let installed = Command::new(pixgrab)
        .arg("install-browser-host")
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &config)
        .output()
        .expect("install-browser-host");
    assert!(installed.status.success(), "{installed:?}");
    let manifest = config.join("chromium/NativeMessagingHosts/io.github.pixgrab.json");
    assert!(
        manifest.is_file(),
        "{}",
        String::from_utf8_lossy(&installed.stdout)
    );
    let _window = Killed(
        Command::new(pixgrab)
            .arg("-o")
            .arg(&out)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("PIXGRAB_IPC_DIR", &ipc)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the window"),
    );
    wait_for("the window's socket", Duration::from_secs(60), || {
        ipc.join("window.sock").exists().then_some(())
    });

    // The browser, with the extension, on the page.
    let extension = Path::new(env!("CARGO_MANIFEST_DIR")).join("extension");
    let profile = config.join("chromium");
    let _chromium = Killed(
        Command::new(CHROMIUM)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("--load-extension={}", extension.display()))
            .arg(format!(
                "--disable-extensions-except={}",
                extension.display()
            ))
            .arg(&page)
            .env("HOME", &home)
            // The host Chromium starts inherits this: it finds the test's window.
            .env("PIXGRAB_IPC_DIR", &ipc)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium"),
    );
    let port: u16 = wait_for("chromium's DevTools port", Duration::from_secs(30), || {
        std::fs::read_to_string(profile.join("DevToolsActivePort"))
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
    });
    let worker = wait_for(
        "the extension's service worker",
        Duration::from_secs(30),
        || {
            targets(port).into_iter().find(|t| {
                t["type"] == "service_worker"
                    && t["url"].as_str().is_some_and(|u| {
                        u.starts_with(&format!("chrome-extension://{EXTENSION_ID}/"))
                    })
            })
        },
    );
    let ws_url = worker["webSocketDebuggerUrl"]
        .as_str()
        .expect("ws url")
        .to_string();
    let (mut ws, _) = tungstenite::connect(ws_url).expect("connect to the worker");

    // The worker's extension APIs are there once its script has run.
    let mut call = 10;
    wait_for(
        "the worker's extension APIs",
        Duration::from_secs(20),
        || {
            call += 1;
            let ready = cdp(
                &mut ws,
                call,
                "Runtime.evaluate",
                serde_json::json!({"expression": "typeof chrome !== 'undefined' && !!chrome.cookies && typeof pixgrabSend === 'function'", "returnByValue": true}),
            );
            (ready["result"]["value"] == true).then_some(())
        },
    );
    // The other site's session cookie, SameSite=Lax, as a logged-in bank would set it.
    let set_cookie = format!(
        r#"chrome.cookies.set({{url: "{other_site}/", name: "bank", value: "session", sameSite: "lax"}}).then((c) => !!c)"#
    );
    let set = cdp(
        &mut ws,
        0,
        "Runtime.evaluate",
        serde_json::json!({"expression": set_cookie, "awaitPromise": true, "returnByValue": true}),
    );
    assert_eq!(set["result"]["value"], true, "{set}");

    // The toolbar button's function, as the popup calls it, once the page has loaded.
    let press = format!(
        r#"(async () => {{
            let tab;
            for (let i = 0; i < 100; i++) {{
                [tab] = await chrome.tabs.query({{url: "{page}*"}});
                if (tab && tab.status === "complete") break;
                await new Promise((r) => setTimeout(r, 100));
            }}
            await new Promise((r) => setTimeout(r, 500));
            return await globalThis.pixgrabSend(tab.id, {{direct: true, scroll: true}});
        }})()"#
    );
    let pressed = Instant::now();
    let result = cdp(
        &mut ws,
        1,
        "Runtime.evaluate",
        serde_json::json!({"expression": press, "awaitPromise": true, "returnByValue": true}),
    );
    let reply = result["result"]["value"].clone();
    assert_eq!(reply["ok"], true, "the host's answer: {reply}");
    let found = reply["urls"].as_u64().unwrap_or(0) as usize;

    // Every image arrives in the window's folder, byte for byte.
    let wanted = images();
    let arrived = wait_for(
        "the files in the window's folder",
        Duration::from_secs(90),
        || {
            let files = files_in(&out);
            let all = wanted
                .values()
                .all(|body| files.iter().any(|(_, bytes)| bytes.as_slice() == &body[..]));
            all.then_some(files)
        },
    );
    // Nothing else came: every file is one of the page's images (the other site's
    // included), none from the hostile page's `javascript:`, `file:` or `blob:` addresses.
    std::thread::sleep(Duration::from_millis(500));
    let other = support::png(20, 20, 99);
    for (path, bytes) in files_in(&out) {
        assert!(
            wanted.values().any(|body| bytes.as_slice() == &body[..]) || bytes == other,
            "{} is none of the page's images",
            path.display()
        );
    }
    let thumbs = out.join(".pixgrab").join("thumbs");
    let first_thumbnail = wait_for("a thumbnail", Duration::from_secs(30), || {
        std::fs::read_dir(&thumbs)
            .ok()
            .and_then(|mut d| d.next())
            .map(|_| pressed.elapsed())
    });
    // Pixgrab fetched the other site's image, without that site's Lax cookie.
    let bank_requests = bank.lock().map(|s| s.clone()).unwrap_or_default();
    assert!(
        !bank_requests.is_empty(),
        "the other site's image was fetched"
    );
    assert!(
        bank_requests.iter().all(|c| !c.contains("bank=session")),
        "another site's Lax cookie left the browser: {bank_requests:?}"
    );
    eprintln!(
        "extension found {found} images, a static read of the page {static_count}; \
         {} files arrived; button to first thumbnail file ≤ {:.2} s",
        arrived.len(),
        first_thumbnail.as_secs_f64()
    );
    assert!(
        found >= wanted.len() && found > static_count,
        "the extension found {found}, the static read {static_count}, the page has {}",
        wanted.len()
    );
}

/// True when there is a display for the window; false (skip) only when nothing
/// requires one.
fn has_display() -> bool {
    if std::env::var_os("DISPLAY").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("PIXGRAB_REQUIRE_DISPLAY").is_none(),
        "PIXGRAB_REQUIRE_DISPLAY is set but there is no display"
    );
    eprintln!("skipped: no display");
    false
}

/// Ends every process whose environment holds `PIXGRAB_IPC_DIR=dir` (the window a
/// host started for this test: it runs detached, in its own process group).
fn end_windows_of(dir: &Path) {
    let wanted = format!("PIXGRAB_IPC_DIR={}", dir.display());
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// With no window running, the host starts one (detached from the browser) and hands
/// it the images: they land in the new window's folder.
#[test]
fn with_no_window_running_the_host_starts_one_that_takes_the_images() {
    if !has_display() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    let ipc = tmp.path().join("ipc");
    std::fs::create_dir_all(&home).expect("home");
    let site = Server::start(|req: &Request| match req.path.as_str() {
        "/a.png" => Response::ok("image/png", support::png(40, 30, 1)),
        "/b.png" => Response::ok("image/png", support::png(41, 30, 2)),
        _ => Response::status(404),
    })
    .expect("server");
    let message = serde_json::json!({
        "version": 1, "kind": "send", "page": site.url("/page"),
        "urls": [site.url("/a.png"), site.url("/b.png")], "direct": true
    })
    .to_string();
    let mut input = (message.len() as u32).to_ne_bytes().to_vec();
    input.extend(message.as_bytes());
    let mut host = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .arg(format!("chrome-extension://{EXTENSION_ID}/"))
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("PIXGRAB_IPC_DIR", &ipc)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the host");
    {
        use std::io::Write;
        let mut stdin = host.stdin.take().expect("stdin");
        stdin.write_all(&input).expect("write the message");
    }
    let out = host.wait_with_output().expect("the host answers");
    // Whatever happens next, the window it started ends with the test.
    struct Ends<'a>(&'a Path);
    impl Drop for Ends<'_> {
        fn drop(&mut self) {
            end_windows_of(self.0);
        }
    }
    let _ends = Ends(&ipc);
    let answer: serde_json::Value =
        serde_json::from_slice(out.stdout.get(4..).unwrap_or_default()).expect("one answer");
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["window"], "started", "{answer}");
    let folder = home.join("pixgrab-downloads");
    wait_for(
        "the images in the new window's folder",
        Duration::from_secs(60),
        || (folder.join("a.png").is_file() && folder.join("b.png").is_file()).then_some(()),
    );
}

/// One window at a time: a second `pixgrab` hands its URLs to the running window
/// (`--queue`: straight into its folder) and ends; a bare second `pixgrab` ends too.
#[test]
fn a_second_pixgrab_hands_its_urls_to_the_running_window() {
    if !has_display() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    let ipc = tmp.path().join("ipc");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&home).expect("home");
    let site = Server::start(|req: &Request| match req.path.as_str() {
        "/a.png" => Response::ok("image/png", support::png(40, 30, 1)),
        "/b.png" => Response::ok("image/png", support::png(41, 30, 2)),
        _ => Response::status(404),
    })
    .expect("server");
    let pixgrab = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pixgrab"));
        command
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("PIXGRAB_IPC_DIR", &ipc);
        command
    };
    let _window = Killed(
        pixgrab()
            .arg("-o")
            .arg(&out)
            .stdout(Stdio::null())
            .spawn()
            .expect("the first window"),
    );
    wait_for("the window's socket", Duration::from_secs(60), || {
        ipc.join("window.sock").exists().then_some(())
    });
    let second = pixgrab()
        .arg("--queue")
        .arg(site.url("/a.png"))
        .arg(site.url("/b.png"))
        .output()
        .expect("the second pixgrab");
    assert!(second.status.success(), "{second:?}");
    assert!(
        String::from_utf8_lossy(&second.stdout)
            .contains("Handed 2 URLs to the Pixgrab window already running"),
        "{second:?}"
    );
    // Text without a URL, or an option only a new window takes, is refused plainly.
    let nothing = pixgrab().arg("no url here").output().expect("pixgrab TEXT");
    assert!(!nothing.status.success(), "{nothing:?}");
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no http, https or data:image URL"));
    let other_folder = pixgrab()
        .arg("-o")
        .arg(tmp.path().join("other"))
        .output()
        .expect("-o");
    assert!(!other_folder.status.success(), "{other_folder:?}");
    assert!(
        String::from_utf8_lossy(&other_folder.stderr).contains("close the running one first"),
        "{other_folder:?}"
    );
    wait_for(
        "the URLs queued in the first window's folder",
        Duration::from_secs(60),
        || (out.join("a.png").is_file() && out.join("b.png").is_file()).then_some(()),
    );
    let bare = pixgrab().output().expect("a bare second pixgrab");
    assert!(bare.status.success(), "{bare:?}");
    assert!(
        String::from_utf8_lossy(&bare.stdout).contains("already running"),
        "{bare:?}"
    );
}
