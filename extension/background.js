// Pixgrab's background: a service worker in Chromium, an event page in Firefox. A classic script
// in both. Chromium loads the modules below with importScripts; Firefox has already loaded them,
// from manifest.json's background.scripts (keep the two lists the same, in this order).
"use strict";

if (typeof importScripts === "function") {
  importScripts(
    "lib/limits.js",
    "lib/collect.js",
    "lib/scroll.js",
    "lib/validate.js",
    "lib/cookies.js",
    "lib/native.js",
    "lib/badge.js",
    "lib/send.js",
    "lib/menus.js",
  );
}

chrome.runtime.onInstalled.addListener(pixgrabCreateMenus);
chrome.contextMenus.onClicked.addListener((info, tab) => {
  pixgrabOnMenu(info, tab);
});

// The popup's requests. Only the extension's own pages may ask (the collector in a page never
// sends messages; a page cannot reach this listener at all, but a check costs nothing).
const PIXGRAB_POPUP_ACTIONS = {
  ping: () => pixgrabPing(),
  count: (m) => pixgrabCount(m.tabId),
  send: (m) => pixgrabSend(m.tabId, { direct: m.direct === true, scroll: m.scroll === true }),
  stop: (m) => pixgrabStopScroll(m.tabId).then(() => ({ ok: true })),
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const own = typeof sender.url === "string" && sender.url.startsWith(chrome.runtime.getURL(""));
  const action = own && message && Object.hasOwn(PIXGRAB_POPUP_ACTIONS, message.type) && PIXGRAB_POPUP_ACTIONS[message.type];
  if (!action) return false;
  action(message)
    .catch((e) => ({ ok: false, error: String((e && e.message) || e) }))
    .then(sendResponse);
  return true; // the answer comes later
});
