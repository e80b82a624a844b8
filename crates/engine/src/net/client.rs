//! The way out: the HTTP clients and the private-address guard, built together so
//! that what the guard decides is what the connections do. Requests the user asked for
//! go through the open client; requests a public page (or a public redirect) caused go
//! through the public-only client, whose lookups refuse private addresses.

use std::net::SocketAddr;
use std::sync::Arc;
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
}

/// The two HTTP clients and the guard that chooses between them.
pub(crate) struct Http {
    open: Client,
    public_only: Client,
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
        let open = client(settings, ClientDns::open(resolver.clone()))?;
        let public_only = client(
            settings,
            ClientDns::public_only(resolver.clone(), route.hosts().clone()),
        )?;
        Ok(Self {
            open,
            public_only,
            guard: Guard::with(settings.rule, route, resolver),
        })
    }

    /// The client for a request that may (`restricted == false`) or may not reach
    /// private addresses.
    pub(crate) fn client(&self, restricted: bool) -> &Client {
        if restricted {
            &self.public_only
        } else {
            &self.open
        }
    }
}

fn client(settings: &ClientSettings<'_>, dns: ClientDns) -> Result<Client, String> {
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
        .dns_resolver(Arc::new(dns));
    if let Some(proxy) = settings.proxy.map(str::trim).filter(|p| !p.is_empty()) {
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
