// Scrolling the top frame to its end so that infinite scroll and lazy loaders put their images
// into the DOM before the collector reads it. Injected (self-contained, like pixgrabCollect) into
// frame 0 only; executeScript waits for the promise it returns.
//
// One step = stride through the part of the page not yet seen, one viewport at a time (a lazy
// loader watching with an IntersectionObserver only fires for elements that pass through the
// viewport; a jump straight to the bottom skips them), then sit at the bottom for ~400 ms and look
// whether the page grew. It stops when the page stops growing, after options.maxScrolls steps,
// after options.maxMs, or when the popup's Stop button sends {pixgrab: "stop-scroll"} to this tab.
// Returns where the user was, for pixgrabScrollBack.
"use strict";

async function pixgrabScrollToEnd(options) {
  const opt = options || {};
  const clamp = (v, lo, hi, dflt) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt);
  const maxSteps = clamp(opt.maxScrolls, 1, 200, 30);
  const deadline = Date.now() + clamp(opt.maxMs, 1000, 120000, 20000);
  const scroller = document.scrollingElement || document.documentElement;
  const start = { x: window.scrollX, y: window.scrollY };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let stopped = false;
  const onMessage = (msg) => {
    if (msg && msg.pixgrab === "stop-scroll") stopped = true;
  };
  chrome.runtime.onMessage.addListener(onMessage);
  const going = () => !stopped && Date.now() < deadline;
  let steps = 0;
  try {
    while (steps < maxSteps && going()) {
      steps++;
      const before = scroller.scrollHeight;
      // Stride down; stop striding if the page refuses to move (overflow: hidden and the like).
      while (going() && window.scrollY + window.innerHeight < scroller.scrollHeight - 2) {
        const y = window.scrollY;
        window.scrollTo(0, y + Math.max(100, Math.floor(window.innerHeight * 0.9)));
        await sleep(100);
        if (window.scrollY <= y) break;
      }
      window.scrollTo(0, scroller.scrollHeight);
      await sleep(400);
      if (scroller.scrollHeight <= before) {
        // One more, longer look: a slow loader may still be fetching the next batch.
        await sleep(800);
        if (scroller.scrollHeight <= before) break;
      }
    }
  } finally {
    chrome.runtime.onMessage.removeListener(onMessage);
  }
  return { x: start.x, y: start.y, steps, stopped };
}

function pixgrabScrollBack(x, y) {
  window.scrollTo(Number(x) || 0, Number(y) || 0);
}
