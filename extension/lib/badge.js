// The outcome of a send, on the toolbar button of its tab: no notifications, no pop-ups. An error
// puts "!" on the button and the error in its tooltip; a success clears both.
"use strict";

async function pixgrabShowResult(tabId, reply) {
  if (!Number.isInteger(tabId) || tabId < 0) return;
  try {
    if (reply && reply.ok) {
      await chrome.action.setBadgeText({ tabId, text: "" });
      const n = Number.isInteger(reply.urls) ? reply.urls : 0;
      await chrome.action.setTitle({ tabId, title: `Pixgrab: sent ${n} image${n === 1 ? "" : "s"}` });
    } else {
      const error = String((reply && reply.error) || "unknown error").slice(0, 500);
      await chrome.action.setBadgeBackgroundColor({ tabId, color: "#c62828" });
      await chrome.action.setBadgeText({ tabId, text: "!" });
      await chrome.action.setTitle({ tabId, title: `Pixgrab: ${error}` });
    }
  } catch (_) {
    // The tab may be gone by now; nothing to show it on.
  }
}
