// Everything that goes to the native host passes through here. A hostile page controls what the
// collector returns (and, in a compromised renderer, could return anything at all), so each value
// is checked for type, scheme and length again: a page can choose which strings end up in `urls`
// and `title`, and nothing else.
"use strict";

// An http/https URL (fragment dropped) or a data:image URL within the limits, else null.
function pixgrabCleanUrl(value) {
  if (typeof value !== "string" || value.length === 0 || value.length > PIXGRAB.MAX_DATA_BYTES) return null;
  if (/^data:/i.test(value.slice(0, 5))) {
    if (!/^data:image\/[a-z0-9.+-]+(;[^,]*)?,/i.test(value.slice(0, 256))) return null;
    // Keep it ASCII: characters outside printable ASCII are percent-encoded as the URL parser
    // would (lone surrogates, which JSON readers reject, make the URL invalid).
    let out = value;
    if (/[^\x21-\x7e]/.test(value)) {
      try {
        out = value.replace(/[^\x21-\x7e]+/g, (m) => encodeURIComponent(m));
      } catch (_) {
        return null;
      }
    }
    return out.length <= PIXGRAB.MAX_DATA_BYTES ? out : null;
  }
  if (value.length > PIXGRAB.MAX_URL_BYTES) return null;
  let u;
  try {
    u = new URL(value);
  } catch (_) {
    return null;
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return null;
  u.hash = "";
  return u.href.length <= PIXGRAB.MAX_URL_BYTES ? u.href : null;
}

// The tab's address, as `page`: http/https only.
function pixgrabCleanPage(value) {
  const url = pixgrabCleanUrl(value);
  return url && /^https?:/.test(url) ? url : null;
}

// At most MAX_TITLE UTF-16 units (so at most as many characters), no control characters, no
// half of a surrogate pair.
function pixgrabCleanTitle(value) {
  if (typeof value !== "string") return "";
  let t = value.slice(0, 4 * PIXGRAB.MAX_TITLE);
  t = typeof t.toWellFormed === "function" ? t.toWellFormed() : t.replace(/[\ud800-\udfff]/g, "\ufffd");
  t = t.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, " ").replace(/\s+/g, " ").trim();
  if (t.length > PIXGRAB.MAX_TITLE) {
    t = t.slice(0, PIXGRAB.MAX_TITLE);
    if (/[\ud800-\udbff]$/.test(t)) t = t.slice(0, -1); // do not split a pair
  }
  return t;
}

// Merges what the frames returned: the top frame first, then the others in the order the
// browser reported them; validated, de-duplicated, capped in number and in total size.
function pixgrabMergeUrls(lists) {
  const seen = new Set();
  const urls = [];
  let bytes = 0;
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const value of list) {
      if (urls.length >= PIXGRAB.MAX_URLS) return urls;
      const url = pixgrabCleanUrl(value);
      if (url === null || seen.has(url)) continue;
      // Its size in the JSON message (quotes, escapes, comma); URLs are ASCII by now.
      const cost = JSON.stringify(url).length + 1;
      if (bytes + cost > PIXGRAB.MAX_URLS_TOTAL_BYTES) continue; // a smaller one may still fit
      bytes += cost;
      seen.add(url);
      urls.push(url);
    }
  }
  return urls;
}

// The "send" message, with exactly the contract's fields and types.
function pixgrabSendMessage({ page, title, urls, cookies, direct }) {
  return {
    version: PIXGRAB.PROTOCOL,
    kind: "send",
    page,
    title: pixgrabCleanTitle(title),
    urls: pixgrabMergeUrls([urls]),
    cookies: Array.isArray(cookies) ? cookies : [],
    direct: direct === true,
  };
}
