//! Where a request may go. Requests the user asked for (typed URLs, the pages they
//! named) go anywhere. Requests that a page's *content* causes (its images, their size
//! probes, and every redirect of those) may reach loopback, private, link-local or
//! unique-local addresses only when the page itself is on such an address, or when the
//! user allows it: a page on the internet must not make Pixgrab knock on the router or
//! a cloud metadata service with the user's cookies.
//!
//! Checked twice per hop: before the request, on the host name and every address it
//! resolves to; after it, on the address the connection really went to (which catches
//! a name that resolved differently the second time, though only once the request was
//! sent; skipped behind a proxy, whose own address the peer is).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use url::{Host, Url};

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
pub fn is_private(ip: IpAddr) -> bool {
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

/// Applies the [`PrivateRule`] to page-caused requests; remembers what names resolve to.
#[derive(Debug, Default)]
pub struct Guard {
    rule: AtomicU8,
    /// Requests go through a proxy: the peer address is the proxy's, so only the
    /// before-the-request check applies.
    proxied: bool,
    /// Host name → the private address it resolved to (`None`: public), for this run.
    names: Mutex<HashMap<String, Option<IpAddr>>>,
}

impl Guard {
    /// A guard with `rule`.
    pub fn new(rule: PrivateRule) -> Self {
        Self {
            rule: AtomicU8::new(rule.to_u8()),
            proxied: false,
            names: Mutex::default(),
        }
    }

    /// The same guard for requests that go through a proxy.
    pub fn behind_proxy(mut self, proxied: bool) -> Self {
        self.proxied = proxied;
        self
    }

    /// Changes the rule for requests that start from now on.
    pub fn set_rule(&self, rule: PrivateRule) {
        self.rule.store(rule.to_u8(), Ordering::Relaxed);
    }

    /// The rule in force.
    pub fn rule(&self) -> PrivateRule {
        PrivateRule::from_u8(self.rule.load(Ordering::Relaxed))
    }

    /// `Err(reason)` when a request to `target`, caused by the content of `page`, must
    /// not be sent. Requests with no page (the user's own) always pass.
    pub fn check(&self, page: Option<&Url>, target: &Url) -> Result<(), String> {
        if !self.applies(page) {
            return Ok(());
        }
        match self.private_address(target) {
            Some(ip) => Err(refusal(target, ip)),
            None => Ok(()),
        }
    }

    /// Like [`Guard::check`], for the address a response really came from.
    pub fn check_peer(
        &self,
        page: Option<&Url>,
        target: &Url,
        peer: Option<SocketAddr>,
    ) -> Result<(), String> {
        match peer {
            Some(addr) if !self.proxied && self.applies(page) && is_private(addr.ip()) => {
                Err(refusal(target, addr.ip()))
            }
            _ => Ok(()),
        }
    }

    /// True when requests caused by `page` are subject to the rule.
    fn applies(&self, page: Option<&Url>) -> bool {
        let Some(page) = page else {
            return false;
        };
        match self.rule() {
            PrivateRule::Allow => false,
            PrivateRule::Deny => true,
            PrivateRule::Auto => self.private_address(page).is_none(),
        }
    }

    /// A private address `url`'s host is or resolves to, if any. A name that does not
    /// resolve here counts as public (the request will fail, or a proxy resolves it).
    fn private_address(&self, url: &Url) -> Option<IpAddr> {
        match url.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)).filter(|ip| is_private(*ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)).filter(|ip| is_private(*ip)),
            Host::Domain(name) => {
                let name = name.to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    return Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
                }
                if let Some(known) = self.names.lock().ok().and_then(|n| n.get(&name).copied()) {
                    return known;
                }
                let port = url.port_or_known_default().unwrap_or(80);
                let found = (name.as_str(), port)
                    .to_socket_addrs()
                    .ok()?
                    .map(|a| a.ip())
                    .find(|ip| is_private(*ip));
                if let Ok(mut names) = self.names.lock() {
                    names.insert(name, found);
                }
                found
            }
        }
    }
}

fn refusal(target: &Url, ip: IpAddr) -> String {
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
        let router = url("http://192.168.1.1/x.jpg");
        let metadata = url("http://169.254.169.254/latest/meta-data/");
        let v6 = url("http://[fd00::7]/a.png");
        for target in [&router, &metadata, &v6, &url("http://localhost:8080/a.jpg")] {
            let refused = guard
                .check(Some(&public_page), target)
                .expect_err("refused");
            assert!(refused.contains("private address"), "{refused}");
        }
        assert!(
            guard
                .check(Some(&public_page), &url("http://8.8.8.8/a.jpg"))
                .is_ok()
        );
        // The user's own request, a private page, and the user's permission all pass.
        assert!(guard.check(None, &router).is_ok());
        assert!(
            guard
                .check(Some(&url("http://192.168.1.5/")), &router)
                .is_ok()
        );
        guard.set_rule(PrivateRule::Allow);
        assert!(guard.check(Some(&public_page), &router).is_ok());
        guard.set_rule(PrivateRule::Deny);
        assert!(
            guard
                .check(Some(&url("http://192.168.1.5/")), &router)
                .is_err()
        );
        // After the fact: a connection that landed on a private address is refused too.
        guard.set_rule(PrivateRule::Auto);
        let peer = Some(SocketAddr::from(([10, 0, 0, 1], 80)));
        assert!(
            guard
                .check_peer(Some(&public_page), &url("http://8.8.8.8/a.jpg"), peer)
                .is_err()
        );
    }
}
