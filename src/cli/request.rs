//! The options that shape every request, shared by `get` and `find` (headers,
//! Referers, User-Agent, cookies, proxy, gallery-dl, private addresses), and how they
//! become the engine's request profiles.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use pixgrab_engine::Config;
use pixgrab_engine::{Profile, Profiles};
use pixgrab_engine::{parse_cookies_txt, parse_header, split_scope};
use url::Url;

/// Options that shape every request, shared by `get` and `find`.
#[derive(Debug, clap::Args)]
pub(crate) struct RequestArgs {
    /// An extra request header, "Name: value", for the hosts of the given URLs and pages
    /// only (never other hosts a page names); "HOST=Name: value" for one host. Repeatable.
    #[arg(short = 'H', long = "header", value_name = "[HOST=]HEADER")]
    headers: Vec<String>,
    /// The Referer to send, for the hosts of the given URLs and pages; "HOST=URL" for one host.
    #[arg(long, value_name = "[HOST=]URL")]
    referer: Vec<String>,
    /// The User-Agent to send to every host.
    #[arg(long, value_name = "UA")]
    user_agent: Option<String>,
    /// Cookies from a Netscape cookies.txt (as browsers export it); each is sent only to
    /// the hosts its domain matches.
    #[arg(long, value_name = "FILE")]
    cookies: Option<PathBuf>,
    /// Proxy for every request: http://HOST:PORT, https://... or socks5://...
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// How much of a page's URL its images get as Referer: strict-origin-when-cross-origin
    /// (the browsers' default: the origin only for other hosts, nothing from https to
    /// http), no-referrer, origin, same-origin, unsafe-url, ...
    #[arg(
        long,
        value_name = "POLICY",
        default_value = "strict-origin-when-cross-origin"
    )]
    referer_policy: pixgrab_engine::RefererPolicy,
    /// The gallery-dl program to ask first for the images of a page it knows (300+
    /// sites); by default `gallery-dl` on PATH when it is there.
    #[arg(long, value_name = "PROGRAM", conflicts_with = "no_gallery_dl")]
    gallery_dl: Option<PathBuf>,
    /// Read every page's HTML; never ask gallery-dl.
    #[arg(long)]
    no_gallery_dl: bool,
    /// Let a page's images (and their redirects) go to private addresses (127.0.0.1,
    /// 192.168.x.x, 169.254.x.x, fd00::/8 ...) although the page is not on one.
    #[arg(long)]
    allow_private: bool,
}

impl RequestArgs {
    /// Sets `config`'s request profiles, proxy and private-address rule.
    pub(crate) fn configure(
        &self,
        config: &mut Config,
        hosts: &std::collections::BTreeSet<String>,
    ) -> Result<()> {
        config.profiles = profiles(self, hosts)?;
        config.profiles.referer_policy = self.referer_policy;
        config.proxy = self.proxy.clone();
        if self.allow_private {
            config.private = pixgrab_engine::PrivateRule::Allow;
        }
        use pixgrab_engine::{GalleryDl, GalleryDlSetting as Setting};
        config.gallery_dl = match (&self.gallery_dl, self.no_gallery_dl) {
            (_, true) => Setting::Off,
            (Some(program), false) => {
                anyhow::ensure!(
                    GalleryDl::locate(Some(program)).is_some(),
                    "--gallery-dl {}: no such program (give the path of gallery-dl, or leave the option out to use the one on PATH)",
                    program.display()
                );
                Setting::Program(program.clone())
            }
            (None, false) => Setting::Auto,
        };
        Ok(())
    }
}

/// Request profiles from the command line. Unscoped headers and Referers apply to each
/// host in `hosts` (the hosts the user named, or whose images a named page showed),
/// never to a host reached only by a redirect.
pub(crate) fn profiles(
    args: &RequestArgs,
    hosts: &std::collections::BTreeSet<String>,
) -> Result<Profiles> {
    let mut profiles = Profiles::default();
    profiles.default.user_agent = args.user_agent.clone();
    let mut unscoped = Profile::default();
    let mut scoped: HashMap<String, Profile> = HashMap::new();
    for header in &args.headers {
        let (host, text) = split_scope(header);
        let parsed = parse_header(text).map_err(anyhow::Error::msg)?;
        match host {
            Some(h) => scoped.entry(h).or_default().set_header(parsed),
            None => unscoped.set_header(parsed),
        }
    }
    for referer in &args.referer {
        let (host, text) = split_scope(referer);
        let url = Url::parse(text.trim()).with_context(|| format!("bad --referer {text:?}"))?;
        match host {
            Some(h) => scoped.entry(h).or_default().referer = Some(url.to_string()),
            None => unscoped.referer = Some(url.to_string()),
        }
    }
    if unscoped != Profile::default() {
        for host in hosts {
            profiles.hosts.insert(host.clone(), unscoped.clone());
        }
    }
    for (host, mine) in scoped {
        let entry = profiles.hosts.entry(host).or_default();
        entry.headers.extend(mine.headers);
        if mine.referer.is_some() {
            entry.referer = mine.referer;
        }
    }
    if let Some(path) = &args.cookies {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read cookies from {}", path.display()))?;
        let (cookies, bad) = parse_cookies_txt(&text);
        if !bad.is_empty() {
            eprintln!(
                "pixgrab: {}: skipped unreadable lines {bad:?} (want 7 tab-separated fields)",
                path.display()
            );
        }
        profiles.cookies = cookies;
    }
    Ok(profiles)
}

/// The hosts of `urls`, in lower case.
pub(crate) fn hosts_of<'a>(
    urls: impl IntoIterator<Item = &'a Url>,
) -> std::collections::BTreeSet<String> {
    urls.into_iter()
        .filter_map(|u| u.host_str().map(str::to_ascii_lowercase))
        .collect()
}
