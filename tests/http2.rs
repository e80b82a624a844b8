//! HTTP/2 (issue #14): over TLS Pixgrab negotiates HTTP/2, sends its requests to a host
//! as streams on one connection, and lets that host's adaptive limit run past the
//! HTTP/1.1 cap of 16. The server is a real HTTP/2 server (the `h2` crate over rustls,
//! with a test CA given to the binary through `SSL_CERT_FILE`) that counts connections,
//! streams, and the most streams open at once.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[path = "../crates/engine/tests/support/mod.rs"]
mod support;

/// What the server saw.
#[derive(Default)]
struct Counts {
    connections: AtomicUsize,
    streams: AtomicUsize,
    open: AtomicUsize,
    most_open: AtomicUsize,
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
            counts.connections.fetch_add(1, Ordering::SeqCst);
            let (acceptor, counts) = (acceptor.clone(), counts.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut conn) = h2::server::handshake(tls).await else {
                    return;
                };
                while let Some(Ok((request, respond))) = conn.accept().await {
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
    let open = counts.open.fetch_add(1, Ordering::SeqCst) + 1;
    counts.most_open.fetch_max(open, Ordering::SeqCst);
    tokio::time::sleep(delay).await;
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

#[test]
fn over_http2_one_connection_carries_many_streams_at_once() {
    const FILES: usize = 300;
    let counts = Arc::new(Counts::default());
    let (port, ca_pem, _runtime) = h2_server(counts.clone(), Duration::from_millis(40));
    let tmp = tempfile::tempdir().expect("tempdir");
    let ca_file = tmp.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("ca");
    let list: Vec<String> = (0..FILES)
        .map(|i| format!("https://localhost:{port}/p{i}.png"))
        .collect();
    let list_file = tmp.path().join("list.txt");
    std::fs::write(&list_file, list.join("\n")).expect("list");
    let out = tmp.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_pixgrab"))
        .args(["get", "--json", "-i"])
        .arg(&list_file)
        .arg("-o")
        .arg(&out)
        .env("SSL_CERT_FILE", &ca_file)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let saved = std::fs::read_dir(&out)
        .expect("out")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(saved, FILES);
    assert_eq!(counts.streams.load(Ordering::SeqCst), FILES);
    // One connection (a second may race the first at start-up).
    let connections = counts.connections.load(Ordering::SeqCst);
    let most = counts.most_open.load(Ordering::SeqCst);
    eprintln!("{FILES} files: {connections} connection(s), at most {most} streams open at once");
    assert!(connections <= 2, "{connections} connections");
    // Past the HTTP/1.1 cap of 16: streams are cheap and the server allows them.
    assert!(most > 16, "at most {most} streams open at once");
    assert!(
        stdout.contains("\"event\":\"host_limit\""),
        "the limit was reported: {stdout}"
    );
}
