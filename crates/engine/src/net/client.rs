//! The way out: the HTTP clients and the private-address guard, built together so
//! that what the guard decides is what the connections do. Requests the user asked for
//! go through the open client; requests a public page (or a public redirect) caused go
//! through the public-only client, whose lookups refuse private addresses.
//!
//! Each of the two is a set of clients (lanes): a reqwest client keeps one HTTP/2
//! connection per host, so a host whose streams should spread over several connections
//! gets them through lanes 1.. of the set, built alike (the same lookups, so the same
//! guard) when first asked for.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::blocking::Client;

use super::netguard::{Guard, PrivateRule, Route};
use super::resolve::{ClientDns, Resolver};

/// What the clients are built from.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings<'a> {
    /// Give up on a connection attempt after this long.
    pub connect_timeout: Duration,
    /// Fail when no byte arrives for this long (each wait: headers, every body read).
    pub stall_timeout: Duration,
    /// Idle connections kept per host.
    pub idle_per_host: usize,
    /// The proxy for every request, if any.
    pub proxy: Option<&'a str>,
    /// Names with fixed addresses (`--resolve`).
    pub resolve: &'a [(String, SocketAddr)],
    /// The private-address rule to start with.
    pub rule: PrivateRule,
    /// Clients per set: how many connections one host can have at once over HTTP/2
    /// (at least 1).
    pub lanes: usize,
}

/// An idle connection of lane 1 or more closes after this long: those lanes serve a host
/// spread over them (to its list's end); once it folds onto lane 0, or between lists,
/// they expire.
const EXTRA_LANE_IDLE: Duration = Duration::from_secs(15);

/// What a lane's client is built from, kept to build lanes when first asked for (no
/// `Debug`: the proxy's address may hold a password).
#[derive(Clone)]
struct Recipe {
    connect_timeout: Duration,
    stall_timeout: Duration,
    idle_per_host: usize,
    proxy: Option<String>,
    /// One TLS configuration for every client: one verifier, so the system's root
    /// certificates are read once, not by every client built (each read is some 280
    /// files; the lanes were built on a download's way out); and one session cache.
    tls: rustls::ClientConfig,
}

/// One kind of client (open or public-only) in lanes: lane 0 built at once, the others
/// on first use, each with its own connections and the same lookups.
struct Lanes {
    first: Client,
    more: Vec<OnceLock<Client>>,
    recipe: Recipe,
    dns: ClientDns,
}

impl Lanes {
    fn build(recipe: &Recipe, dns: ClientDns, lanes: usize) -> Result<Self, String> {
        Ok(Self {
            first: client(recipe, dns.clone(), None)?,
            more: (1..lanes.max(1)).map(|_| OnceLock::new()).collect(),
            recipe: recipe.clone(),
            dns,
        })
    }

    /// Lane `lane`'s client (the last one for a lane past the end). A lane is built on
    /// the calling thread (a download worker, whose priority its runtime thread takes,
    /// as lane 0's takes the priority of the thread that built it); if that fails (it
    /// did not for lane 0, with the same settings), the lane shares lane 0's client.
    fn get(&self, lane: usize) -> &Client {
        let Some(slot) = lane
            .checked_sub(1)
            .and_then(|i| self.more.get(i).or(self.more.last()))
        else {
            return &self.first;
        };
        slot.get_or_init(|| {
            client(&self.recipe, self.dns.clone(), Some(EXTRA_LANE_IDLE))
                .unwrap_or_else(|_| self.first.clone())
        })
    }
}

/// The two HTTP clients and the guard that chooses between them.
pub(crate) struct Http {
    open: Lanes,
    public_only: Lanes,
    /// The private-address rule, and where pages came from.
    pub guard: Guard,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("guard", &self.guard)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// Builds both clients. `Err` is for the user (a bad proxy address, say).
    pub(crate) fn build(settings: &ClientSettings<'_>) -> Result<Self, String> {
        let resolver = Arc::new(Resolver::new(settings.resolve));
        let route = Route::new(settings.proxy);
        let recipe = Recipe {
            connect_timeout: settings.connect_timeout,
            stall_timeout: settings.stall_timeout,
            idle_per_host: settings.idle_per_host,
            proxy: settings.proxy.map(str::to_string),
            tls: tls_config()?,
        };
        let open = Lanes::build(&recipe, ClientDns::open(resolver.clone()), settings.lanes)?;
        let public_only = Lanes::build(
            &recipe,
            ClientDns::public_only(resolver.clone(), route.hosts().clone()),
            settings.lanes,
        )?;
        Ok(Self {
            open,
            public_only,
            guard: Guard::with(settings.rule, route, resolver),
        })
    }

    /// The client for a request that may (`restricted == false`) or may not reach
    /// private addresses, over connection `lane` of its host (0 for every request but
    /// the downloads the scheduler spreads; see `adapt::HostLimit::lanes`).
    pub(crate) fn client(&self, restricted: bool, lane: usize) -> &Client {
        if restricted {
            self.public_only.get(lane)
        } else {
            self.open.get(lane)
        }
    }
}

/// One client: `idle` closes its idle connections sooner than reqwest's default.
fn client(settings: &Recipe, dns: ClientDns, idle: Option<Duration>) -> Result<Client, String> {
    let mut builder = Client::builder()
        .user_agent(concat!("Pixgrab/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(settings.connect_timeout)
        // In the blocking client this bounds each wait: headers, and every body read.
        .timeout(settings.stall_timeout)
        .pool_max_idle_per_host(settings.idle_per_host)
        // `fetch::send` follows redirects itself, so each hop gets its own host's
        // headers and cookies (and nothing of another host's), and its own check.
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .tls_backend_preconfigured(settings.tls.clone())
        .dns_resolver(Arc::new(dns));
    if let Some(idle) = idle {
        builder = builder.pool_idle_timeout(idle);
    }
    if let Some(proxy) = settings
        .proxy
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let proxy = reqwest::Proxy::all(proxy).map_err(|e| {
            format!(
                "bad proxy {:?}: {}",
                without_password(proxy),
                super::fetch::innermost(&e)
            )
        })?;
        builder = builder.proxy(proxy);
    }
    builder.build().map_err(|e| e.to_string())
}

/// The TLS configuration reqwest would build for each client, built once: TLS 1.2
/// and 1.3 with the process's crypto provider (`install_tls_provider`), the
/// platform's verifier (the system's root certificates, `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` honoured), HTTP/2 offered before HTTP/1.1.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| format!("cannot set up TLS: cannot check certificates: {e}"))?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| format!("cannot set up TLS: no TLS version to offer: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

/// `text` with the password of a `scheme://user:password@host` replaced by `***`, for
/// messages (a proxy URL carries one often).
pub(crate) fn without_password(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => text.to_string(),
        // Unparsable: cut everything up to the last '@' of the authority.
        Err(_) => match (text.find("://"), text.rfind('@')) {
            (Some(s), Some(at)) if at > s => format!("{}***{}", &text[..s + 3], &text[at..]),
            _ => text.to_string(),
        },
    }
}
