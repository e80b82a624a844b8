// The toolbar popup: counts the images on the tab (a dry run), asks the host whether it is
// installed, remembers the two checkboxes, sends through the background (which keeps going if
// the popup closes) and shows the host's answer.
"use strict";

const $ = (id) => document.getElementById(id);
const ask = (message) => chrome.runtime.sendMessage(message);
let tabId = null;
let sending = false;

function say(element, text, isError = false) {
  element.textContent = text;
  element.classList.toggle("error", isError);
}

function showHost(reply) {
  const missing = !reply || (!reply.ok && reply.missing);
  $("host").hidden = !missing;
  if (missing) say($("host-error"), (reply && reply.error) || "Pixgrab's browser host did not answer", true);
}

async function loadOptions() {
  const { scroll = false, direct = false } = await chrome.storage.local.get(["scroll", "direct"]);
  $("scroll").checked = scroll === true;
  $("direct").checked = direct === true;
  for (const id of ["scroll", "direct"]) {
    $(id).addEventListener("change", () => chrome.storage.local.set({ [id]: $(id).checked }));
  }
}

async function count() {
  const reply = await ask({ type: "count", tabId });
  if (reply && reply.ok) {
    const n = reply.count;
    say($("count"), n === 0 ? "No images found yet on this page." : `${n} image${n === 1 ? "" : "s"} found on this page.`);
  } else {
    say($("count"), (reply && reply.error) || "This page cannot be read.", true);
    $("send").disabled = true;
  }
}

async function send() {
  if (sending || tabId === null) return;
  sending = true;
  const scroll = $("scroll").checked;
  $("send").disabled = true;
  $("stop").hidden = !scroll;
  say($("result"), scroll ? "Scrolling to load more…" : "Sending…");
  const reply = await ask({ type: "send", tabId, scroll, direct: $("direct").checked });
  $("stop").hidden = true;
  $("send").disabled = false;
  sending = false;
  if (reply && reply.ok) {
    const n = Number.isInteger(reply.urls) ? reply.urls : 0;
    const started = reply.window === "started" ? " (Pixgrab started)" : "";
    say($("result"), `Sent ${n} image${n === 1 ? "" : "s"} to Pixgrab${started}`);
  } else {
    say($("result"), (reply && reply.error) || "Nothing was sent.", true);
    if (reply && reply.missing) showHost(reply);
  }
}

async function main() {
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  // Enter sends from anywhere in the popup (on a checkbox too), except on the Stop button.
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target !== $("stop") && e.target !== $("send")) {
      e.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => {
    $("stop").disabled = true;
    ask({ type: "stop", tabId }).finally(() => ($("stop").disabled = false));
    say($("result"), "Stopping; sending what has loaded…");
  });
  await loadOptions();
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  tabId = tab && Number.isInteger(tab.id) ? tab.id : null;
  $("send").focus();
  ask({ type: "ping" }).then(showHost, () => showHost(null));
  if (tabId === null) say($("count"), "No tab to read.", true);
  else await count();
}

main();
