// Talking to `pixgrab native-host` (io.github.pixgrab): one message, one reply. The browser
// starts the host, frames the JSON, and stops the host afterwards.
"use strict";

const PIXGRAB_NOT_INSTALLED =
  "Pixgrab's browser host is not installed: run `pixgrab install-browser-host`";

// The browsers' own words for a host they cannot start, turned into what the user can do.
function pixgrabNativeError(error) {
  const text = String((error && error.message) || error || "unknown error");
  // Chromium: "Specified native messaging host not found."
  // Firefox: "No such native application io.github.pixgrab"
  if (/not found|no such native application/i.test(text)) return { ok: false, error: PIXGRAB_NOT_INSTALLED, missing: true };
  if (/forbidden/i.test(text)) {
    return {
      ok: false,
      error: "Pixgrab's browser host does not accept this extension: run `pixgrab install-browser-host` again",
      missing: true,
    };
  }
  return { ok: false, error: `Pixgrab's browser host failed: ${text.slice(0, 300)}` };
}

// The reply, or {ok: false, error} for anything that is not a reply object.
async function pixgrabNative(message) {
  let reply;
  try {
    reply = await chrome.runtime.sendNativeMessage(PIXGRAB.HOST, message);
  } catch (e) {
    return pixgrabNativeError(e);
  }
  if (reply === null || typeof reply !== "object" || Array.isArray(reply)) {
    return { ok: false, error: "Pixgrab's browser host gave no answer" };
  }
  return reply;
}

// Is the host there? {ok: true, kind: "pong", version} or {ok: false, error, missing}.
function pixgrabPing() {
  return pixgrabNative({ version: PIXGRAB.PROTOCOL, kind: "ping" });
}
