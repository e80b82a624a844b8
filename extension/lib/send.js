// From a tab to Pixgrab: collect (optionally after scrolling), validate, add the cookies of the
// hosts involved, send one native message, return the host's reply. The popup, the context menus
// and the tests all come through pixgrabSend / pixgrabSendUrls; neither needs a user gesture.
"use strict";

// Tabs with a send under way (a second press waits for nothing: it is refused).
const pixgrabBusy = new Set();

async function pixgrabTab(tabId) {
  const tab = await chrome.tabs.get(tabId);
  const page = pixgrabCleanPage(tab.url);
  if (!page) throw new Error("Pixgrab takes images from web pages (http or https) only");
  return { tab, page };
}

// Runs the collector in every frame the extension may read. The top frame comes first, the
// others in the order the browser lists them. Frames that could not be read (an error page, a
// frame the browser keeps from extensions) simply add nothing.
async function pixgrabCollectFrames(tabId) {
  const results = await chrome.scripting.executeScript({
    target: { tabId, allFrames: true },
    func: pixgrabCollect,
    args: [{ ...PIXGRAB }],
  });
  const ordered = [...results].sort((a, b) => (a.frameId === 0 ? -1 : b.frameId === 0 ? 1 : 0));
  const top = ordered.find((r) => r.frameId === 0);
  const title = top && top.result && typeof top.result.title === "string" ? top.result.title : "";
  const lists = ordered.map((r) => (r && r.result && Array.isArray(r.result.urls) ? r.result.urls : []));
  return { title, urls: pixgrabMergeUrls(lists) };
}

// Scrolls the top frame to its end, collects, then puts the page back where the user had it.
async function pixgrabCollectTab(tabId, { scroll = false } = {}) {
  let back = null;
  if (scroll) {
    const [r] = await chrome.scripting.executeScript({
      target: { tabId, frameIds: [0] },
      func: pixgrabScrollToEnd,
      args: [{ maxScrolls: PIXGRAB.SCROLL_STEPS, maxMs: PIXGRAB.SCROLL_MS }],
    });
    back = r && r.result;
  }
  try {
    return await pixgrabCollectFrames(tabId);
  } finally {
    if (back && Number.isFinite(back.x) && Number.isFinite(back.y)) {
      await chrome.scripting
        .executeScript({ target: { tabId, frameIds: [0] }, func: pixgrabScrollBack, args: [back.x, back.y] })
        .catch(() => {});
    }
  }
}

// Wraps a send: one per tab at a time, every failure as {ok: false, error}, the outcome on the
// toolbar button.
async function pixgrabGuarded(tabId, work) {
  if (!Number.isInteger(tabId)) return { ok: false, error: "no tab" };
  if (pixgrabBusy.has(tabId)) return { ok: false, error: "Pixgrab is already sending this tab" };
  pixgrabBusy.add(tabId);
  let reply;
  try {
    reply = await work();
  } catch (e) {
    reply = { ok: false, error: String((e && e.message) || e).slice(0, 300) };
  } finally {
    pixgrabBusy.delete(tabId);
  }
  await pixgrabShowResult(tabId, reply);
  return reply;
}

async function pixgrabSendCollected(tab, page, title, urls, direct) {
  if (urls.length === 0) return { ok: false, error: "No images found on this page" };
  const cookies = await pixgrabCookiesFor(tab, page, urls);
  return pixgrabNative(pixgrabSendMessage({ page, title, urls, cookies, direct }));
}

// The toolbar button's and the page menu's action.
globalThis.pixgrabSend = (tabId, { direct = false, scroll = false } = {}) =>
  pixgrabGuarded(tabId, async () => {
    const { tab, page } = await pixgrabTab(tabId);
    const found = await pixgrabCollectTab(tabId, { scroll: scroll === true });
    return pixgrabSendCollected(tab, page, found.title || tab.title, found.urls, direct === true);
  });

// "Send this image" / "Send link": only the given URLs, with the page and its cookies.
globalThis.pixgrabSendUrls = (tabId, urls, { direct = false } = {}) =>
  pixgrabGuarded(tabId, async () => {
    const { tab, page } = await pixgrabTab(tabId);
    const clean = pixgrabMergeUrls([Array.isArray(urls) ? urls : [urls]]);
    if (clean.length === 0) return { ok: false, error: "Pixgrab takes http, https and data:image addresses only" };
    return pixgrabSendCollected(tab, page, tab.title, clean, direct === true);
  });

// The popup's dry run: how many images a send would carry now (no scrolling, nothing sent).
globalThis.pixgrabCount = async (tabId) => {
  try {
    await pixgrabTab(tabId);
    const found = await pixgrabCollectFrames(tabId);
    return { ok: true, count: found.urls.length };
  } catch (e) {
    return { ok: false, error: String((e && e.message) || e).slice(0, 300) };
  }
};

// The popup's Stop button: the scroll ends, what is loaded by then is sent.
globalThis.pixgrabStopScroll = (tabId) =>
  chrome.tabs.sendMessage(tabId, { pixgrab: "stop-scroll" }, { frameId: 0 }).catch(() => {});
