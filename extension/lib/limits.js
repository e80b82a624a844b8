// The limits of the native-messaging contract (see README.md, "The message"; Pixgrab checks the
// same limits in src/ipc/message.rs, and a test keeps the two equal) and of
// the collector. One place, so that the collector (which gets them as an argument) and the
// validation before sending cannot disagree.
"use strict";

const PIXGRAB = Object.freeze({
  HOST: "io.github.pixgrab", // the native host's name
  PROTOCOL: 1, // "version" of every message
  MAX_URLS: 20000, // urls per message
  MAX_URL_BYTES: 8 * 1024, // an http/https URL
  MAX_DATA_BYTES: 2 * 1024 * 1024, // a data:image URL
  MAX_TITLE: 300, // title, in UTF-16 units (so also ≤ 300 characters)
  // The browser → host limit is 64 MiB; the urls together stay under this so that title,
  // cookies and JSON punctuation always fit.
  MAX_URLS_TOTAL_BYTES: 56 * 1024 * 1024,
  // Per frame: all URLs together, and data: URLs among them (a page can hold any number of
  // them; this bounds what one frame hands back to the background).
  MAX_FRAME_BYTES: 32 * 1024 * 1024,
  MAX_FRAME_DATA_BYTES: 16 * 1024 * 1024,
  MAX_STYLED_ELEMENTS: 20000, // elements whose computed style is read, per frame
  MAX_ELEMENTS: 500000, // elements looked at, per frame
  MAX_ORIGINS_FOR_COOKIES: 1000, // distinct origins whose cookies are read
  SCROLL_STEPS: 30, // default options.maxScrolls
  SCROLL_MS: 20000, // a scroll never takes longer
});
