//! HTTP/2 (issues #14, #27): over TLS Pixgrab negotiates HTTP/2, sends its requests to a
//! host as streams on a few connections (one for a short list; for a long one at most
//! eight, opened together by its first requests and kept to the list's end), and lets
//! that host's adaptive limit run past the HTTP/1.1 cap of 16.
//! The server is a real HTTP/2 server (the `h2` crate over rustls, with a test CA given
//! to the binary through `SSL_CERT_FILE`) that counts connections, streams, and the most
//! streams open at once, and can refuse (429) streams past a number open at once.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

/// The most connections Pixgrab opens to one HTTP/2 host (`adapt::H2_CONNS`).
const H2_CONNS: usize = 8;
/// The most streams one HTTP/2 host gets at once while spread over its connections
/// (`adapt::H2_SPREAD_CAP`).
const H2_SPREAD_CAP: usize = 24;

/// What the server saw, and what it refuses.
#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    streams: AtomicUsize,
    open: AtomicUsize,
    most_open: AtomicUsize,
    /// The connection (numbered from 0 in accept order) of each stream, in order.
    stream_connections: Mutex<Vec<usize>>,
    /// Streams past this many open at once get 429 (0: none refused).
    refuse_above: usize,
    refused: AtomicUsize,
    /// Every stream waits (up to 3 s) until this many have arrived before it is
    /// answered (0: none waits).
    hold_until: usize,
    /// Responses sent so far.
    answered: AtomicUsize,
    /// Streams that arrived before the first response was sent.
    early: AtomicUsize,
}

/// Starts an HTTP/2-only TLS server for `localhost` on 127.0.0.1; every stream waits
/// `delay`, then gets a small PNG of its own. Returns the port, the CA's PEM, and the
/// runtime (the server stops when it is dropped).
fn h2_server(counts: Arc<Counts>, delay: Duration) -> (u16, String, tokio::runtime::Runtime) {
    let mut ca_params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let ca_pem = ca.pem();
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let leaf_params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
    let leaf = leaf_params
        .signed_by(&leaf_key, &rcgen::Issuer::new(ca_params, ca_key))
        .expect("leaf");
    let key_der =
        rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).expect("key");
    pixgrab_engine::install_tls_provider();
    let mut tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key_der)
        .expect("tls config");
    tls.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("test-h2")
        .enable_all()
        .build()
        .expect("runtime");
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let connection = counts.connections.fetch_add(1, Ordering::SeqCst);
            let (acceptor, counts) = (acceptor.clone(), counts.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut conn) = h2::server::handshake(tls).await else {
                    return;
                };
                while let Some(Ok((request, respond))) = conn.accept().await {
                    if let Ok(mut order) = counts.stream_connections.lock() {
                        order.push(connection);
                    }
                    tokio::spawn(serve_stream(request, respond, counts.clone(), delay));
                }
            });
        }
    });
    (port, ca_pem, runtime)
}

async fn serve_stream(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<bytes::Bytes>,
    counts: Arc<Counts>,
    delay: Duration,
) {
    counts.streams.fetch_add(1, Ordering::SeqCst);
    if counts.answered.load(Ordering::SeqCst) == 0 {
        counts.early.fetch_add(1, Ordering::SeqCst);
    }
    let open = counts.open.fetch_add(1, Ordering::SeqCst) + 1;
    counts.most_open.fetch_max(open, Ordering::SeqCst);
    if counts.refuse_above > 0 && open > counts.refuse_above {
        counts.refused.fetch_add(1, Ordering::SeqCst);
        let head = http::Response::builder()
            .status(429)
            .header("retry-after", "1")
            .body(());
        if let Ok(head) = head {
            let _ = respond.send_response(head, true);
        }
        counts.open.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    for _ in 0..600 {
        if counts.streams.load(Ordering::SeqCst) >= counts.hold_until {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(delay).await;
    counts.answered.fetch_add(1, Ordering::SeqCst);
    let png = support::numbered_png(request.uri().path());
    let head = http::Response::builder()
        .status(200)
        .header("content-type", "image/png")
        .header("content-length", png.len().to_string())
        .body(());
    if let Ok(head) = head
        && let Ok(mut body) = respond.send_response(head, false)
    {
        let _ = body.send_data(bytes::Bytes::from(png), true);
    }
    counts.open.fetch_sub(1, Ordering::SeqCst);
}

/// Runs `pixgrab get --json` on `files` images `/p0.png`… of the server at `port`, into
/// `dir/out`; returns its output.
fn get(dir: &Path, port: u16, ca_pem: &str, files: usize) -> Output {
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("ca");
    let list: Vec<String> = (0..files)
        .map(|i| format!("https://localhost:{port}/p{i}.png"))
        .collect();
    let list_file = dir.join("list.txt");
    std::fs::write(&list_file, list.join("\n")).expect("list");
    Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(["get", "--json", "-i"])
        .arg(&list_file)
        .arg("-o")
        .arg(dir.join("out"))
        .env("SSL_CERT_FILE", &ca_file)
        .output()
        .expect("run")
}

/// Asserts that the run succeeded and that every file arrived byte for byte.
fn assert_all_arrived(dir: &Path, output: &Output, files: usize) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for i in 0..files {
        let path = dir.join("out").join(format!("p{i}.png"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            bytes == support::numbered_png(&format!("/p{i}.png")),
            "{} differs from what was served",
            path.display()
        );
    }
}

/// Starts an HTTP/2 server with `counts` (every stream waits 40 ms), has the binary
/// download `files` images from it, checks they all arrived byte for byte, and returns
/// what the server counted and the binary's output.
fn fetch_all(counts: Counts, files: usize) -> (Arc<Counts>, Output) {
    let counts = Arc::new(counts);
    let (port, ca_pem, _runtime) = h2_server(counts.clone(), Duration::from_millis(40));
    let tmp = tempfile::tempdir().expect("tempdir");
    let output = get(tmp.path(), port, &ca_pem, files);
    assert_all_arrived(tmp.path(), &output, files);
    (counts, output)
}

#[test]
fn over_http2_a_long_list_spreads_many_streams_over_a_few_connections() {
    const FILES: usize = 300;
    let (counts, output) = fetch_all(Counts::default(), FILES);
    assert_eq!(counts.streams.load(Ordering::SeqCst), FILES);
    let connections = counts.connections.load(Ordering::SeqCst);
    let most = counts.most_open.load(Ordering::SeqCst);
    eprintln!("{FILES} files: {connections} connection(s), at most {most} streams open at once");
    // Each connection ramps its own window while the list is long; never more than the cap.
    assert!(
        (2..=H2_CONNS).contains(&connections),
        "{connections} connections"
    );
    // Past the HTTP/1.1 cap of 16: streams are cheap and the server allows them; but
    // while spread, no more than the connections' windows carry without queueing.
    assert!(
        (17..=H2_SPREAD_CAP).contains(&most),
        "at most {most} streams open at once"
    );
    // The connections carry the list to its end: the last streams do not all go over
    // one connection whose window grew with only its share of the link (issue #27:
    // the tail of a list ran at a fraction of the link's rate).
    let order = counts.stream_connections.lock().expect("order").clone();
    let mut last: Vec<usize> = order[FILES - 40..].to_vec();
    last.sort_unstable();
    last.dedup();
    assert!(last.len() >= 2, "the last 40 streams went over {last:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("\"event\":\"host_limit\""),
        "the limit was reported: {stdout}"
    );
}

/// A long list over TLS sends its first requests one to each lane at once (issue #27):
/// every connection's handshakes and first congestion window start together, not a
/// round trip later, after the first answer. The server holds its answers until that
/// many streams are open (or 3 s pass), so the count does not depend on timing.
#[test]
fn over_http2_a_long_list_opens_its_connections_before_the_first_answer() {
    let counts = Counts {
        hold_until: H2_CONNS,
        ..Counts::default()
    };
    let (counts, _) = fetch_all(counts, 100);
    assert_eq!(
        counts.early.load(Ordering::SeqCst),
        H2_CONNS,
        "requests out before the first answer"
    );
    assert_eq!(counts.connections.load(Ordering::SeqCst), H2_CONNS);
}

#[test]
fn over_http2_a_handful_of_images_share_one_connection() {
    const FILES: usize = 12;
    let (counts, _output) = fetch_all(Counts::default(), FILES);
    assert_eq!(counts.streams.load(Ordering::SeqCst), FILES);
    assert_eq!(counts.connections.load(Ordering::SeqCst), 1);
}

#[test]
fn over_http2_a_refusing_host_shrinks_and_folds_onto_one_connection() {
    const FILES: usize = 300;
    const ALLOWED: usize = 6;
    let counts = Counts {
        refuse_above: ALLOWED,
        ..Counts::default()
    };
    let (counts, output) = fetch_all(counts, FILES);
    let refused = counts.refused.load(Ordering::SeqCst);
    let connections = counts.connections.load(Ordering::SeqCst);
    assert!(refused > 0, "the limit never probed past {ALLOWED}");
    assert!(connections <= H2_CONNS, "{connections} connections");
    // The limit came down to what the server allows.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last_limit = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "host_limit")
        .filter_map(|e| e["limit"].as_u64())
        .next_back();
    assert!(
        last_limit.is_some_and(|l| l as usize <= ALLOWED),
        "the last limit: {last_limit:?}"
    );
    // Refusals come early (the limit passes 6 within its first round trips); from then
    // on every new stream goes over one connection, long before the list's end.
    let order = counts.stream_connections.lock().expect("order").clone();
    let middle = &order[FILES / 3..FILES / 2];
    assert!(
        middle.iter().all(|c| *c == middle[0]),
        "{refused} refused; connections of streams {}..{}: {middle:?}",
        FILES / 3,
        FILES / 2
    );
}
