// The three context-menu entries. Created once, when the extension is installed or updated (the
// browser keeps them across restarts); clicks come to pixgrabOnMenu, registered at the top level
// of background.js so that a click can wake the background.
"use strict";

const PIXGRAB_MENUS = [
  { id: "pixgrab-page", title: "Send images to Pixgrab", contexts: ["page", "frame", "selection"] },
  { id: "pixgrab-image", title: "Send this image to Pixgrab", contexts: ["image"] },
  { id: "pixgrab-link", title: "Send link to Pixgrab", contexts: ["link"] },
];

function pixgrabCreateMenus() {
  chrome.contextMenus.removeAll(() => {
    for (const m of PIXGRAB_MENUS) chrome.contextMenus.create(m, () => void chrome.runtime.lastError);
  });
}

// The menus queue directly or open the picker as the popup's checkbox last said.
async function pixgrabOnMenu(info, tab) {
  if (!tab || !Number.isInteger(tab.id) || tab.id < 0) return;
  const { direct = false } = await chrome.storage.local.get("direct");
  const options = { direct: direct === true };
  if (info.menuItemId === "pixgrab-page") await pixgrabSend(tab.id, options);
  else if (info.menuItemId === "pixgrab-image") await pixgrabSendUrls(tab.id, [info.srcUrl], options);
  else if (info.menuItemId === "pixgrab-link") await pixgrabSendUrls(tab.id, [info.linkUrl], options);
}
