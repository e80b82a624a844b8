// The cookies that go with a send: only those of the hosts involved (the page's and the URLs'),
// read from the tab's own cookie store (a private window or a Firefox container keeps its own),
// mapped to the contract's cookie objects. Pixgrab scopes each cookie to its host again.
//
// Only the cookies of the page's own site (those whose domain covers the page's host): a page
// that names another site's images gets none of that site's cookies, whatever their SameSite
// (a browser that blocks third-party cookies would not send them either), and partitioned
// cookies, kept per top-level site, are left out.
"use strict";

// The store the tab's requests use.
async function pixgrabCookieStore(tab) {
  if (typeof tab.cookieStoreId === "string") return tab.cookieStoreId; // Firefox
  const stores = await chrome.cookies.getAllCookieStores();
  const store = stores.find((s) => Array.isArray(s.tabIds) && s.tabIds.includes(tab.id));
  return store ? store.id : undefined;
}

// cookies.getAll, and again with firstPartyDomain: null where Firefox's first-party isolation
// demands that key (Chromium rejects it, so it is only tried after a failure).
async function pixgrabGetAll(details) {
  try {
    return await chrome.cookies.getAll(details);
  } catch (e) {
    try {
      return await chrome.cookies.getAll({ ...details, firstPartyDomain: null });
    } catch (_) {
      return [];
    }
  }
}

function pixgrabCookieObject(c) {
  const expires = !c.session && Number.isFinite(c.expirationDate) ? Math.floor(c.expirationDate) : null;
  return {
    name: String(c.name),
    value: String(c.value),
    domain: String(c.domain),
    host_only: c.hostOnly === true,
    path: typeof c.path === "string" && c.path ? c.path : "/",
    secure: c.secure === true,
    expires,
  };
}

// The distinct origins of the page and of the http/https URLs, the page's first.
function pixgrabOrigins(page, urls) {
  const origins = [];
  const seen = new Set();
  for (const u of [page, ...urls]) {
    if (origins.length >= PIXGRAB.MAX_ORIGINS_FOR_COOKIES) break;
    if (typeof u !== "string" || !/^https?:/i.test(u)) continue;
    try {
      const o = new URL(u);
      if (!seen.has(o.origin)) {
        seen.add(o.origin);
        origins.push(o);
      }
    } catch (_) {
      /* not a URL: no cookies */
    }
  }
  return origins;
}

// Whether cookie `c` belongs to the site of the page at `pageHost` (its domain covers the
// host), and is not a partitioned one.
function pixgrabSameSiteAllows(c, pageHost) {
  if (c.partitionKey) return false;
  const domain = String(c.domain).replace(/^\./, "").toLowerCase();
  const host = String(pageHost || "").toLowerCase();
  return host === domain || host.endsWith(`.${domain}`);
}

async function pixgrabCookiesFor(tab, page, urls) {
  const storeId = await pixgrabCookieStore(tab);
  const store = storeId === undefined ? {} : { storeId };
  let pageHost = "";
  try {
    pageHost = new URL(page).hostname;
  } catch (_) {
    /* no page: no cookies */
  }
  const found = new Map();
  const keep = (c) => {
    if (!pixgrabSameSiteAllows(c, pageHost)) return;
    const key = `${c.name}\u0000${c.domain}\u0000${c.path}`;
    if (!found.has(key)) found.set(key, pixgrabCookieObject(c));
  };
  const hostsDone = new Set();
  for (const o of pixgrabOrigins(page, urls)) {
    // What a request to the origin's root would carry (host-only and parent-domain cookies)…
    for (const c of await pixgrabGetAll({ url: `${o.origin}/`, ...store })) keep(c);
    // …and the host's own cookies on other paths (or https-only ones on an http origin), which
    // the root URL does not match. `domain` also returns subdomains' cookies: keep the host's.
    if (hostsDone.has(o.hostname)) continue;
    hostsDone.add(o.hostname);
    for (const c of await pixgrabGetAll({ domain: o.hostname, ...store })) {
      if (c.domain.replace(/^\./, "") === o.hostname) keep(c);
    }
  }
  return [...found.values()];
}
