//! Where a request may go. Requests the user asked for (typed URLs, the pages they
//! named) go anywhere. Requests that a page's *content* causes (its images, their size
//! probes, and every redirect of those) may reach loopback, private, link-local or
//! unique-local addresses only when the page itself is on such an address, or when the
//! user allows it: a page on the internet must not make Pixgrab knock on the router or
//! a cloud metadata service with the user's cookies.
//!
//! Whether a page is "on a private address" is decided by the address it was actually
//! read from (the response's peer), never by resolving its name again; a page Pixgrab
//! did not read counts as private only when its address is a private literal or
//! `localhost`, or when *every* address of its name is private. Every redirect is
//! caused by the answer before it: a public answer cannot send a request to a private
//! address, even when the user typed the first URL.
//!
//! A restricted request's name is looked up once, by the connection's own lookup,
//! which refuses private addresses (see [`crate::net::resolve`]): nothing is sent to a
//! private address and then refused. Literal addresses are refused before the request;
//! the peer is checked again after it (unless a proxy, decided per request, fetched it).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use url::{Host, Url};

use super::resolve::{PublicOnly, Resolver};

/// When page-caused requests may go to private addresses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PrivateRule {
    /// Only when the page itself is on a private address (the default).
    #[default]
    Auto,
    /// Always (`--allow-private`, or the window's setting).
    Allow,
    /// Never, not even from a private page (strictest; tests use it to exercise the refusal
    /// on loopback).
    Deny,
}

impl PrivateRule {
    fn to_u8(self) -> u8 {
        match self {
            Self::Auto => 0,
            Self::Allow => 1,
            Self::Deny => 2,
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Allow,
            2 => Self::Deny,
            _ => Self::Auto,
        }
    }
}

/// True for addresses that are not on the public internet: loopback, RFC 1918 private,
/// link-local (169.254/16, fe80::/10), carrier-grade NAT, unspecified, broadcast and
/// IPv6 unique-local (fc00::/7) and site-local; IPv4-mapped IPv6 by its IPv4 address.
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                is_private(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)))
            };
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address inside.
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && embedded(seg[6], seg[7]) {
                return true;
            }
            if seg[0] == 0x2002 && embedded(seg[1], seg[2]) {
                return true;
            }
            let first = seg[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
        }
    }
}

/// Who a request is for: the user's own (a typed URL or page, hop 0), or caused by a
/// response's content (a page's images and probes; every redirect, which the previous
/// hop's server chose), with whether that response came from a private address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// The user asked for it.
    User,
    /// A page or a redirect asked for it.
    Page {
        /// The page (or the redirecting answer) came from a private address.
        private: bool,
    },
}

/// Which requests go through a proxy, decided per request exactly as the HTTP client
/// decides it: the configured proxy takes every request; else the environment's
/// (`HTTP_PROXY` for http, `HTTPS_PROXY` for https, `ALL_PROXY`, minus `NO_PROXY`).
#[derive(Debug)]
pub(crate) struct Route {
    configured: bool,
    system: hyper_util::client::proxy::matcher::Matcher,
    /// Lower-case host names of every proxy that may be used.
    hosts: HashSet<String>,
}

impl Default for Route {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Route {
    /// The route with `configured` as the proxy for every request (or none), reading the
    /// environment now (as the client does when it is built).
    pub(crate) fn new(configured: Option<&str>) -> Self {
        let configured = configured.map(str::trim).filter(|p| !p.is_empty());
        let mut hosts = HashSet::new();
        let from_env = ["http_proxy", "https_proxy", "all_proxy"]
            .iter()
            .flat_map(|n| [n.to_string(), n.to_ascii_uppercase()])
            .filter_map(|n| std::env::var(n).ok());
        for proxy in configured.map(str::to_string).into_iter().chain(from_env) {
            let proxy = proxy.trim();
            let with_scheme = if proxy.contains("://") {
                proxy.to_string()
            } else {
                format!("http://{proxy}")
            };
            if let Some(host) = Url::parse(&with_scheme)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            {
                hosts.insert(host.trim_matches(['[', ']']).to_string());
            }
        }
        Self {
            configured: configured.is_some(),
            system: hyper_util::client::proxy::matcher::Matcher::from_system(),
            hosts,
        }
    }

    /// True when a request for `url` goes through a proxy.
    pub(crate) fn proxied(&self, url: &Url) -> bool {
        if self.configured {
            return true;
        }
        url.as_str()
            .parse::<http::Uri>()
            .is_ok_and(|uri| self.system.intercept(&uri).is_some())
    }

    /// The proxies' host names (their lookups are never refused).
    pub(crate) fn hosts(&self) -> &HashSet<String> {
        &self.hosts
    }
}

/// Most pages whose address [`Guard`] remembers (then it starts again).
pub(crate) const MAX_PAGES: usize = 100_000;

/// Applies the [`PrivateRule`] to page-caused requests; remembers where pages came from.
#[derive(Debug)]
pub(crate) struct Guard {
    rule: AtomicU8,
    /// Which requests go through a proxy (whose own address is then the peer).
    route: Route,
    /// Names and their addresses.
    resolver: Arc<Resolver>,
    /// Page URL → whether it was read from a private address, for the pages read (or
    /// listed by gallery-dl) in this run.
    pages: Mutex<HashMap<String, bool>>,
}

impl Default for Guard {
    fn default() -> Self {
        Self::new(PrivateRule::Auto)
    }
}

impl Guard {
    /// A guard with `rule`, no proxy and the system's resolver.
    pub(crate) fn new(rule: PrivateRule) -> Self {
        Self::with(rule, Route::default(), Arc::default())
    }

    /// A guard with `rule` for requests routed by `route`, looking names up with
    /// `resolver`.
    pub(crate) fn with(rule: PrivateRule, route: Route, resolver: Arc<Resolver>) -> Self {
        Self {
            rule: AtomicU8::new(rule.to_u8()),
            route,
            resolver,
            pages: Mutex::default(),
        }
    }

    /// Changes the rule for requests that start from now on.
    pub(crate) fn set_rule(&self, rule: PrivateRule) {
        self.rule.store(rule.to_u8(), Ordering::Relaxed);
    }

    /// The rule in force.
    pub(crate) fn rule(&self) -> PrivateRule {
        PrivateRule::from_u8(self.rule.load(Ordering::Relaxed))
    }

    /// The cause of a request for a URL found on `page` (`None`: the user's own).
    pub(crate) fn cause_of(&self, page: Option<&Url>) -> Cause {
        match page {
            None => Cause::User,
            Some(page) => Cause::Page {
                private: self.page_is_private(page),
            },
        }
    }

    /// True when a request with `cause` may not reach private addresses.
    pub(crate) fn restricts(&self, cause: Cause) -> bool {
        match (self.rule(), cause) {
            (_, Cause::User) | (PrivateRule::Allow, _) => false,
            (PrivateRule::Deny, _) => true,
            (PrivateRule::Auto, Cause::Page { private }) => !private,
        }
    }

    /// Remembers that `page` was read from a private address (or not): the requests its
    /// content causes are judged by that, never by what its name resolves to later.
    pub(crate) fn learn_page(&self, page: &Url, private: bool) {
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= MAX_PAGES
                && let Some(any) = pages.keys().next().cloned()
            {
                // One goes, not all: the rest keep how they were read.
                pages.remove(&any);
            }
            pages.insert(page.as_str().to_string(), private);
        }
    }

    /// Whether the answer for `url` that came from `peer` counts as from a private
    /// address: by the peer, unless a proxy (whose address the peer is) fetched it;
    /// then only a private literal address or `localhost` counts.
    pub(crate) fn reply_is_private(&self, url: &Url, peer: Option<SocketAddr>) -> bool {
        match peer {
            Some(addr) if !self.route.proxied(url) => is_private(addr.ip()),
            _ => literal_private(url).is_some(),
        }
    }

    /// Whether requests that `page`'s content causes count as from a private address:
    /// how it was read, when it was read in this run; else its address when it is a
    /// literal or `localhost`; else its name when *every* address of it is private (a
    /// public site cannot make itself private by adding a private record).
    pub(crate) fn page_is_private(&self, page: &Url) -> bool {
        if let Some(known) = self
            .pages
            .lock()
            .ok()
            .and_then(|p| p.get(page.as_str()).copied())
        {
            return known;
        }
        if literal_private(page).is_some() {
            return true;
        }
        let Some(Host::Domain(name)) = page.host() else {
            return false;
        };
        let port = page.port_or_known_default().unwrap_or(80);
        self.resolver
            .lookup(name, port)
            .is_ok_and(|addrs| !addrs.is_empty() && addrs.iter().all(|a| is_private(a.ip())))
    }

    /// `Err(reason)` when a request for `target` with `cause` must not be sent because
    /// of its address as far as it is known before the request: a private literal or
    /// `localhost`; a name behind a proxy (which resolves it) or a proxy's own name,
    /// when any address of it is private here. Other names are checked by the lookup
    /// of the connection itself (see [`crate::net::resolve`]).
    pub(crate) fn check(&self, restricted: bool, target: &Url) -> Result<(), String> {
        if !restricted {
            return Ok(());
        }
        if let Some(ip) = literal_private(target) {
            return Err(refusal(target, ip));
        }
        let Some(Host::Domain(name)) = target.host() else {
            return Ok(());
        };
        let lower = name.trim_end_matches('.').to_ascii_lowercase();
        let proxied = self.route.proxied(target);
        if !proxied && !self.route.hosts().contains(&lower) {
            return Ok(());
        }
        let port = target.port_or_known_default().unwrap_or(80);
        match self.resolver.lookup(name, port) {
            Ok(addrs) => match PublicOnly::check(name, addrs) {
                Ok(_) => Ok(()),
                Err(e) => Err(refusal(target, e.ip)),
            },
            // Behind a proxy a name may well not resolve here; a proxy's own name
            // asked for directly must.
            Err(_) if proxied => Ok(()),
            Err(e) => Err(format!(
                "{} could not be looked up: {e}",
                target.host_str().unwrap_or("the host")
            )),
        }
    }

    /// Like [`Guard::check`], for the address a response really came from (not known
    /// behind a proxy, whose address the peer is).
    pub(crate) fn check_peer(
        &self,
        restricted: bool,
        target: &Url,
        peer: Option<SocketAddr>,
    ) -> Result<(), String> {
        match peer {
            Some(addr) if restricted && !self.route.proxied(target) && is_private(addr.ip()) => {
                Err(refusal(target, addr.ip()))
            }
            _ => Ok(()),
        }
    }
}

/// The private address `url`'s host is, when it is a literal address or `localhost`.
fn literal_private(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)).filter(|ip| is_private(*ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)).filter(|ip| is_private(*ip)),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost"))
                .then_some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
    }
}

/// The private address `url`'s host is when it is a literal address or `localhost`:
/// how a page Pixgrab never read itself (one gallery-dl listed) is judged.
pub(crate) fn is_private_literal(url: &Url) -> bool {
    literal_private(url).is_some()
}

/// The reason a request for `target` was refused: its host is on `ip`.
pub(crate) fn refusal(target: &Url, ip: IpAddr) -> String {
    format!(
        "{} is on a private address ({ip}) and the page that named it is not; \
         allow private addresses in Request settings or with --allow-private",
        target.host_str().unwrap_or("the host")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn private_addresses_are_recognised_in_both_families() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.1.1",
            "64:ff9b::a9fe:a9fe",
            "2002:c0a8:101::1",
        ] {
            assert!(is_private(private.parse().expect("ip")), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_private(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn a_public_page_cannot_reach_private_hosts_unless_allowed() {
        let guard = Guard::new(PrivateRule::Auto);
        let public_page = url("http://93.184.216.34/gallery.html");
        let from_public = guard.cause_of(Some(&public_page));
        assert_eq!(from_public, Cause::Page { private: false });
        let router = url("http://192.168.1.1/x.jpg");
        let metadata = url("http://169.254.169.254/latest/meta-data/");
        let v6 = url("http://[fd00::7]/a.png");
        for target in [&router, &metadata, &v6, &url("http://localhost:8080/a.jpg")] {
            let refused = guard
                .check(guard.restricts(from_public), target)
                .expect_err("refused");
            assert!(refused.contains("private address"), "{refused}");
        }
        assert!(
            guard
                .check(guard.restricts(from_public), &url("http://8.8.8.8/a.jpg"))
                .is_ok()
        );
        // The user's own request, a private page, and the user's permission all pass.
        assert!(guard.check(guard.restricts(Cause::User), &router).is_ok());
        let private_page = guard.cause_of(Some(&url("http://192.168.1.5/")));
        assert!(guard.check(guard.restricts(private_page), &router).is_ok());
        guard.set_rule(PrivateRule::Allow);
        assert!(guard.check(guard.restricts(from_public), &router).is_ok());
        guard.set_rule(PrivateRule::Deny);
        assert!(guard.check(guard.restricts(private_page), &router).is_err());
        // After the fact: a connection that landed on a private address is refused too.
        guard.set_rule(PrivateRule::Auto);
        let peer = Some(SocketAddr::from(([10, 0, 0, 1], 80)));
        assert!(
            guard
                .check_peer(
                    guard.restricts(from_public),
                    &url("http://8.8.8.8/a.jpg"),
                    peer
                )
                .is_err()
        );
    }

    #[test]
    fn a_page_is_judged_by_where_it_was_read_from_and_a_name_by_all_its_records() {
        let fixed = |addrs: &[&str]| {
            let entries: Vec<(String, SocketAddr)> = addrs
                .iter()
                .map(|a| {
                    (
                        "site.test".to_string(),
                        SocketAddr::new(a.parse().expect("ip"), 80),
                    )
                })
                .collect();
            Guard::with(
                PrivateRule::Auto,
                Route::default(),
                Arc::new(Resolver::new(&entries)),
            )
        };
        let page = url("http://site.test/gallery.html");
        // One private record beside a public one does not make the site private.
        assert!(!fixed(&["203.0.113.7", "127.0.0.1"]).page_is_private(&page));
        assert!(!fixed(&["203.0.113.7", "::1"]).page_is_private(&page));
        assert!(fixed(&["10.0.0.1", "127.0.0.1"]).page_is_private(&page));
        // Read from its public address: public, whatever its name says now.
        let guard = fixed(&["127.0.0.1"]);
        guard.learn_page(&page, false);
        assert!(!guard.page_is_private(&page));
        assert!(guard.restricts(guard.cause_of(Some(&page))));
        // A gallery-dl page (never read here) by its literal address only.
        assert!(is_private_literal(&url("http://127.0.0.1:8080/")));
        assert!(is_private_literal(&url("http://a.localhost/")));
        assert!(!is_private_literal(&page));
    }
}
