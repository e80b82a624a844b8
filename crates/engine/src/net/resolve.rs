//! Name lookups: the one place a host name becomes addresses, for the checks and for
//! the connections alike. Lookups answer from fixed addresses first (`--resolve`, like
//! curl's; tests use it), then the system's resolver.
//!
//! The HTTP client used for requests a public page caused connects only through
//! [`PublicOnly`]: its lookup refuses a name with any private address, and the client
//! connects to exactly the addresses that passed (no second lookup for an attacker's
//! DNS to answer differently: no rebinding between check and connect).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use super::netguard::is_private;

/// Looks names up: fixed addresses first, then the system's resolver.
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    /// Lower-case host name → its fixed addresses.
    fixed: HashMap<String, Vec<SocketAddr>>,
}

impl Resolver {
    /// A resolver that answers `fixed` names with their addresses (several entries for
    /// one name give it several addresses).
    pub(crate) fn new(fixed: &[(String, SocketAddr)]) -> Self {
        let mut map: HashMap<String, Vec<SocketAddr>> = HashMap::new();
        for (name, addr) in fixed {
            map.entry(name.to_ascii_lowercase())
                .or_default()
                .push(*addr);
        }
        Self { fixed: map }
    }

    /// Every address of `name` (blocking: the system's resolver may take a while).
    pub(crate) fn lookup(&self, name: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(addrs) = self.fixed.get(&name) {
            return Ok(addrs.clone());
        }
        Ok((name.as_str(), port).to_socket_addrs()?.collect())
    }
}

/// Why a name was not connected to: one of its addresses is private.
#[derive(Debug, thiserror::Error)]
#[error("{name} is on a private address ({ip})")]
pub(crate) struct PrivateName {
    /// The name looked up.
    pub(crate) name: String,
    /// Its private address.
    pub(crate) ip: IpAddr,
}

/// The lookups of an HTTP client: every address of a name, or (for the client of
/// page-caused requests) only names none of whose addresses is private. The proxies'
/// own names are always looked up plainly: the user chose them.
#[derive(Clone)]
pub(crate) struct ClientDns {
    resolver: Arc<Resolver>,
    public_only: bool,
    /// Lower-case host names of the proxies in use.
    proxies: HashSet<String>,
}

impl ClientDns {
    /// Lookups for the client that goes anywhere.
    pub(crate) fn open(resolver: Arc<Resolver>) -> Self {
        Self {
            resolver,
            public_only: false,
            proxies: HashSet::new(),
        }
    }

    /// Lookups for the client of page-caused requests (see [`PublicOnly`]).
    pub(crate) fn public_only(resolver: Arc<Resolver>, proxies: HashSet<String>) -> Self {
        Self {
            resolver,
            public_only: true,
            proxies,
        }
    }
}

/// The rule [`ClientDns::public_only`] applies, apart from the client (for tests).
pub(crate) struct PublicOnly;

impl PublicOnly {
    /// `addrs` when none is private, else the refusal.
    pub(crate) fn check(
        name: &str,
        addrs: Vec<SocketAddr>,
    ) -> Result<Vec<SocketAddr>, PrivateName> {
        match addrs.iter().map(SocketAddr::ip).find(|ip| is_private(*ip)) {
            Some(ip) => Err(PrivateName {
                name: name.to_string(),
                ip,
            }),
            None => Ok(addrs),
        }
    }
}

impl reqwest::dns::Resolve for ClientDns {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_string();
        let resolver = self.resolver.clone();
        let checked = self.public_only
            && !self
                .proxies
                .contains(name.trim_end_matches('.').to_ascii_lowercase().as_str());
        Box::pin(async move {
            // The system's resolver blocks: off the client's own (single) runtime thread.
            let lookup = tokio::task::spawn_blocking(move || {
                // Port 0: the client puts the URL's port in.
                let addrs = resolver.lookup(&name, 0)?;
                if checked {
                    PublicOnly::check(&name, addrs).map_err(std::io::Error::other)
                } else {
                    Ok(addrs)
                }
            });
            let addrs = lookup
                .await
                .map_err(|e| Box::new(std::io::Error::other(e.to_string())))??;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The [`PrivateName`] somewhere in `error`'s chain of causes, if any.
pub(crate) fn private_name<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a PrivateName> {
    let mut cause = Some(error);
    while let Some(err) = cause {
        if let Some(found) = err.downcast_ref::<PrivateName>() {
            return Some(found);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(found) = io.get_ref().and_then(|e| e.downcast_ref::<PrivateName>())
        {
            return Some(found);
        }
        cause = err.source();
    }
    None
}
