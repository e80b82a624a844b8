//! A small HTTP/1.1 server bound to 127.0.0.1: serves `--demo`, the tests and the
//! benchmarks. It can misbehave on purpose (truncated or slow bodies, stalls,
//! dropped connections) and can model a real link (latency and a shared bandwidth
//! cap), so downloads are exercised end to end with no mocked client.
//!
//! Invariant: it only ever listens on the loopback interface.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A parsed request line and headers.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The request target, e.g. `/img/1.jpg?x=1`.
    pub path: String,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the server sends a response.
#[derive(Debug, Clone, Default)]
pub enum Behaviour {
    /// Correctly.
    #[default]
    Normal,
    /// Announce the full Content-Length but close after `send` body bytes.
    Truncate {
        /// Body bytes actually sent.
        send: usize,
    },
    /// Send the body in `chunk`-byte pieces with `delay` before each.
    Slow {
        /// Bytes per piece.
        chunk: usize,
        /// Pause before each piece.
        delay: Duration,
    },
    /// Send `send` body bytes, then say nothing for `hold`, then close.
    Stall {
        /// Body bytes sent before the stall.
        send: usize,
        /// How long to stay silent.
        hold: Duration,
    },
    /// Close the connection without answering.
    Drop,
    /// Read the request, then say nothing at all for `hold` (no status line), then close.
    Silent {
        /// How long to stay silent.
        hold: Duration,
    },
    /// Send no Content-Length; the body ends when the connection closes.
    NoLength,
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Extra headers (Content-Length is added by the server).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Arc<[u8]>,
    /// How to send it.
    pub behaviour: Behaviour,
}

impl Response {
    /// `200 OK` with a Content-Type and body.
    pub fn ok(content_type: &str, body: impl Into<Arc<[u8]>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            behaviour: Behaviour::Normal,
        }
    }

    /// A status with a short plain-text body.
    pub fn status(code: u16) -> Self {
        Self {
            status: code,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: Arc::from(format!("{code} {}\n", reason(code)).into_bytes()),
            behaviour: Behaviour::Normal,
        }
    }

    /// A `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        Self::status(302).with_header("Location", location)
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets how the response is sent.
    pub fn behaving(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// `body` with an ETag, honouring `Range: bytes=N-` (and `If-Range`) like a real
    /// static file server: `206 Partial Content` when the validator matches, else `200`.
    pub fn ranged(request: &Request, content_type: &str, body: &Arc<[u8]>, etag: &str) -> Self {
        // `bytes=START-` or `bytes=START-END` (one range; END is inclusive).
        let range = request
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.split_once('-'))
            .and_then(|(start, end)| {
                let start = start.trim().parse::<usize>().ok()?;
                let end = match end.trim() {
                    "" => None,
                    e => Some(e.parse::<usize>().ok()?),
                };
                Some((start, end))
            });
        let validator_ok = request.header("if-range").is_none_or(|v| v == etag);
        match range {
            Some((start, end)) if validator_ok && start < body.len() => {
                let last = end.map_or(body.len() - 1, |e| e.min(body.len() - 1));
                Self {
                    status: 206,
                    headers: vec![
                        ("Content-Type".into(), content_type.into()),
                        ("ETag".into(), etag.into()),
                        (
                            "Content-Range".into(),
                            format!("bytes {start}-{last}/{}", body.len()),
                        ),
                    ],
                    body: Arc::from(&body[start..=last]),
                    behaviour: Behaviour::Normal,
                }
            }
            _ => Self::ok(content_type, body.clone()).with_header("ETag", etag),
        }
    }
}

/// A model of the network between client and server.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    /// Added before each response's first byte.
    pub latency: Duration,
    /// Total bandwidth shared by all connections, in bytes per second.
    pub bytes_per_sec: Option<u64>,
}

/// Counters a test can assert on.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests answered (or dropped) so far.
    pub requests: AtomicUsize,
    /// TCP connections accepted so far.
    pub connections: AtomicUsize,
    /// Requests being served right now.
    pub in_flight: AtomicUsize,
    /// The most requests ever served at once.
    pub max_in_flight: AtomicUsize,
    /// Body bytes handed to the network, by request path.
    pub body_bytes: Mutex<std::collections::HashMap<String, u64>>,
}

impl Stats {
    /// Body bytes sent so far for requests of `path`.
    pub fn sent(&self, path: &str) -> u64 {
        self.body_bytes
            .lock()
            .map_or(0, |m| m.get(path).copied().unwrap_or(0))
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A running server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    handler: Box<Handler>,
    link: Link,
    pacer: Mutex<Instant>,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
}

impl Server {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start(
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> io::Result<Self> {
        Self::with_link(Link::default(), handler)
    }

    /// Starts a server whose responses go through a simulated link.
    pub fn with_link(
        link: Link,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> io::Result<Self> {
        Self::on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), link, handler)
    }

    /// Starts a server on `addr` (tests in a network namespace of their own serve a
    /// "public" host from an address they put on its loopback).
    pub fn on(
        addr: SocketAddr,
        link: Link,
        handler: impl Fn(&Request) -> Response + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            link,
            pacer: Mutex::new(Instant::now()),
            stop: stop.clone(),
            stats: stats.clone(),
        });
        let accept = std::thread::Builder::new()
            .name("loopback-accept".into())
            .spawn(move || accept_loop(&listener, &shared))?;
        Ok(Self {
            addr,
            stop,
            stats,
            accept: Some(accept),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// An absolute URL for `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The live counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("loopback-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &shared);
            });
        if spawned.is_err() {
            // Out of threads: the connection is dropped, which the client sees as a reset.
            continue;
        }
    }
}

fn serve_connection(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_millis(250)))?;
    let mut pending = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut pending, &shared.stop)? else {
            return Ok(());
        };
        let stats = &shared.stats;
        stats.requests.fetch_add(1, Ordering::Relaxed);
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let response = (shared.handler)(&request);
        let keep_alive = !request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let result = send_response(&mut stream, shared, &request, &response);
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(true) if keep_alive => continue,
            Ok(_) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Reads one request head. `None` when the peer closed or the server stops.
fn read_request(
    stream: &mut TcpStream,
    pending: &mut Vec<u8>,
    stop: &AtomicBool,
) -> io::Result<Option<Request>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            return Ok(parse_head(&head));
        }
        if pending.len() > 64 * 1024 {
            return Ok(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn parse_head(head: &[u8]) -> Option<Request> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Request {
        method,
        path,
        headers,
    })
}

/// Sends a response; `Ok(false)` when the connection must close afterwards.
fn send_response(
    stream: &mut TcpStream,
    shared: &Shared,
    request: &Request,
    response: &Response,
) -> io::Result<bool> {
    if !shared.link.latency.is_zero() {
        std::thread::sleep(shared.link.latency);
    }
    if matches!(response.behaviour, Behaviour::Drop) {
        return Ok(false);
    }
    if let Behaviour::Silent { hold } = response.behaviour {
        hold_silent(shared, hold);
        return Ok(false);
    }
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if matches!(response.behaviour, Behaviour::NoLength) {
        head.push_str("Connection: close\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
    }
    stream.write_all(head.as_bytes())?;
    if request.method.eq_ignore_ascii_case("HEAD") {
        return Ok(true);
    }
    let body = &response.body[..];
    let first = |send: usize| &body[..send.min(body.len())];
    match &response.behaviour {
        Behaviour::Normal | Behaviour::Drop => {
            write_paced(stream, shared, &request.path, body)?;
            Ok(true)
        }
        Behaviour::NoLength => {
            write_paced(stream, shared, &request.path, body)?;
            Ok(false)
        }
        Behaviour::Truncate { send } => {
            write_paced(stream, shared, &request.path, first(*send))?;
            Ok(false)
        }
        Behaviour::Slow { chunk, delay } => {
            for piece in body.chunks((*chunk).max(1)) {
                std::thread::sleep(*delay);
                write_paced(stream, shared, &request.path, piece)?;
            }
            Ok(true)
        }
        Behaviour::Stall { send, hold } => {
            write_paced(stream, shared, &request.path, first(*send))?;
            stream.flush()?;
            hold_silent(shared, *hold);
            Ok(false)
        }
        Behaviour::Silent { .. } => Ok(false),
    }
}

/// Waits `hold` (or until the server stops) without sending anything.
fn hold_silent(shared: &Shared, hold: Duration) {
    let until = Instant::now() + hold;
    while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes through the shared bandwidth cap: every 16 KiB piece reserves its slot on
/// one timeline, so all connections together never exceed the link's rate. Each piece
/// written is counted for `path`.
fn write_paced(
    stream: &mut TcpStream,
    shared: &Shared,
    path: &str,
    bytes: &[u8],
) -> io::Result<()> {
    let rate = shared.link.bytes_per_sec.filter(|r| *r > 0);
    for piece in bytes.chunks(16 * 1024) {
        if let Some(rate) = rate {
            let cost = Duration::from_secs_f64(piece.len() as f64 / rate as f64);
            let done_at = {
                let mut next_free = shared.pacer.lock().unwrap_or_else(|p| p.into_inner());
                let start = (*next_free).max(Instant::now());
                *next_free = start + cost;
                *next_free
            };
            let now = Instant::now();
            if done_at > now {
                std::thread::sleep(done_at - now);
            }
        }
        stream.write_all(piece)?;
        if let Ok(mut sent) = shared.stats.body_bytes.lock() {
            *sent.entry(path.to_string()).or_default() += piece.len() as u64;
        }
    }
    Ok(())
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
