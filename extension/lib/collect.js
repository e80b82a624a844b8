// The collector: injected into every frame of the tab with
//   chrome.scripting.executeScript({target: {tabId, allFrames: true}, func: pixgrabCollect, args: [options]})
// It runs in the extension's isolated world, so the page's own globals (window.chrome,
// Array.prototype.push, getters on HTMLImageElement.prototype…) are not the ones it sees; only
// the DOM is shared. executeScript serialises the function with toString(): it must use nothing
// from this file's scope, hence every helper lives inside it.
//
// Returns {title, urls} for this frame: candidate image URLs in document order, already resolved
// against document.baseURI, http/https or data:image only. The background validates them again
// (it trusts nothing a frame returns).
"use strict";

function pixgrabCollect(options) {
  const opt = options || {};
  const MAX_URLS = opt.MAX_URLS || 20000;
  const MAX_URL = opt.MAX_URL_BYTES || 8192;
  const MAX_DATA = opt.MAX_DATA_BYTES || 2097152;
  const DATA_BUDGET = opt.MAX_FRAME_DATA_BYTES || 16777216;
  const FRAME_BUDGET = opt.MAX_FRAME_BYTES || 33554432;
  const MAX_STYLED = opt.MAX_STYLED_ELEMENTS || 20000;
  const MAX_ELEMENTS = opt.MAX_ELEMENTS || 500000;
  const HTML_NS = "http://www.w3.org/1999/xhtml";
  // A link or a weak lazy attribute counts only when its path names an image file.
  const IMAGE_PATH = /\.(jpe?g|png|gif|webp|avif|bmp|tiff?|svg|jxl|heic)$/i;
  const DATA_IMAGE = /^data:image\/[a-z0-9.+-]+[;,]/i;
  // Lazy-load attributes. "Strong" ones hold an image wherever they are; "weak" ones (generic
  // names) count on <img>/<source>/<video>, elsewhere only if the URL looks like an image file.
  const LAZY_STRONG = new Set([
    "data-src", "data-lazy-src", "data-original", "data-hi-res", "data-zoom-image",
    "data-bg", "data-background", "data-background-image", "data-src-retina", "data-retina",
    "data-highres", "data-full-src", "data-fullsrc", "data-large-file", "data-orig-file",
    "data-medium-file", "data-echo", "data-lazy-background",
  ]);
  const LAZY_WEAK = new Set(["data-lazy", "data-url", "data-full", "data-large", "data-image", "data-img", "data-zoom"]);
  const LAZY_SRCSET = new Set(["data-srcset", "data-lazy-srcset", "data-original-set"]);
  const MEDIA_TAGS = new Set(["img", "source", "video", "picture", "input"]);
  // Elements whose computed background is never worth reading.
  const UNSTYLED = new Set(["script", "style", "link", "meta", "title", "head", "noscript", "template", "br", "option", "wbr", "param", "track"]);

  const seen = new Set();
  const urls = [];
  let dataBytes = 0;
  let bytes = 0;
  let truncated = false;

  function add(raw) {
    if (typeof raw !== "string" || raw.length === 0) return;
    if (urls.length >= MAX_URLS) {
      truncated = true;
      return;
    }
    // Length first: a 50 MB data: URL is dropped before anything copies or parses it.
    if (raw.length > MAX_DATA + 64) return;
    const s = raw.trim();
    if (s.length === 0) return;
    if (s.length >= 5 && s.slice(0, 5).toLowerCase() === "data:") {
      if (!DATA_IMAGE.test(s)) return;
      const d = s.replace(/[\t\n\r]/g, ""); // the URL parser drops these too
      if (d.length > MAX_DATA || seen.has(d)) return;
      if (dataBytes + d.length > DATA_BUDGET || bytes + d.length > FRAME_BUDGET) {
        truncated = true;
        return;
      }
      dataBytes += d.length;
      bytes += d.length;
      seen.add(d);
      urls.push(d);
      return;
    }
    if (s.length > MAX_URL) return;
    let u;
    try {
      u = new URL(s, document.baseURI);
    } catch (_) {
      return;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return; // javascript:, blob:, about:…
    u.hash = ""; // never sent to a server; keeps duplicates out
    const href = u.href;
    if (href.length > MAX_URL || seen.has(href)) return;
    if (bytes + href.length > FRAME_BUDGET) {
      truncated = true;
      return;
    }
    bytes += href.length;
    seen.add(href);
    urls.push(href);
  }

  function looksLikeImage(raw) {
    if (typeof raw !== "string" || raw.length > MAX_DATA + 64) return false;
    if (/^\s*data:image\//i.test(raw.slice(0, 16))) return true;
    try {
      return IMAGE_PATH.test(new URL(raw.trim(), document.baseURI).pathname);
    } catch (_) {
      return false;
    }
  }

  // srcset: "url descriptors, url descriptors". A URL may contain commas (CDN transforms,
  // data: URLs), so split as HTML does: a URL is a run of non-whitespace, its descriptors run to
  // the next comma outside parentheses.
  function addSrcset(v) {
    if (typeof v !== "string" || v.length === 0 || v.length > 4 * MAX_DATA) return;
    const n = v.length;
    const isSpace = (c) => c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
    let i = 0;
    while (i < n) {
      while (i < n && (isSpace(v.charCodeAt(i)) || v.charCodeAt(i) === 44)) i++;
      const start = i;
      while (i < n && !isSpace(v.charCodeAt(i))) i++;
      let url = v.slice(start, i);
      if (url.endsWith(",")) {
        url = url.replace(/,+$/, "");
      } else {
        let depth = 0;
        for (; i < n; i++) {
          const c = v.charCodeAt(i);
          if (c === 40) depth++;
          else if (c === 41) depth = Math.max(0, depth - 1);
          else if (c === 44 && depth === 0) break;
        }
      }
      if (url) add(url);
    }
  }

  // A computed background-image is "none" or a list of url("…") / gradients / image-set(…).
  const CSS_URL = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^"')\s]+))\s*\)/g;
  function addCssUrls(v) {
    if (typeof v !== "string" || v.length > 4 * MAX_DATA || v.indexOf("url(") < 0) return;
    for (const m of v.matchAll(CSS_URL)) {
      const raw = m[1] !== undefined ? m[1] : m[2] !== undefined ? m[2] : m[3];
      add(raw.replace(/\\(.)/g, "$1"));
    }
  }

  function addLazy(el, tag) {
    const attrs = el.attributes;
    for (let k = 0; k < attrs.length; k++) {
      const name = attrs[k].name;
      if (name.charCodeAt(0) !== 100 /* d */ || name.slice(0, 5) !== "data-") continue;
      const value = attrs[k].value;
      if (LAZY_SRCSET.has(name)) addSrcset(value);
      else if (LAZY_STRONG.has(name)) add(value);
      else if (LAZY_WEAK.has(name) && (MEDIA_TAGS.has(tag) || looksLikeImage(value))) add(value);
    }
  }

  let styled = 0;
  function visit(el) {
    const tag = el.localName;
    switch (tag) {
      case "img":
        add(el.currentSrc);
        add(el.getAttribute("src"));
        addSrcset(el.getAttribute("srcset"));
        break;
      case "source":
        // <picture> sources only; <video>/<audio> sources are not images.
        if (el.parentElement && el.parentElement.localName === "picture") addSrcset(el.getAttribute("srcset"));
        break;
      case "a":
      case "area": {
        const href = el.getAttribute("href");
        if (looksLikeImage(href)) add(href);
        break;
      }
      case "video":
        add(el.getAttribute("poster"));
        break;
      case "input":
        if ((el.getAttribute("type") || "").toLowerCase() === "image") add(el.getAttribute("src"));
        break;
    }
    if (el.attributes.length > 0) addLazy(el, tag);
    if (styled < MAX_STYLED && !UNSTYLED.has(tag)) {
      styled++;
      addCssUrls(getComputedStyle(el).backgroundImage);
    }
  }

  // Document order, descending into open shadow roots where they hang; inline <svg> (and
  // MathML) subtrees are skipped whole.
  let looked = 0;
  function walk(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT, {
      acceptNode: (node) => (node.namespaceURI === HTML_NS ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT),
    });
    for (let el = walker.nextNode(); el; el = walker.nextNode()) {
      if (++looked > MAX_ELEMENTS) {
        truncated = true;
        return;
      }
      visit(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  }

  if (document.documentElement) {
    if (document.documentElement.namespaceURI === HTML_NS) visit(document.documentElement);
    walk(document.documentElement);
  }
  const title = typeof document.title === "string" ? document.title.slice(0, 1000) : "";
  return { title, urls, truncated };
}
