//! Background priority for the engine's threads. When a window shares the cores with
//! the engine, its frames come first: downloads, checks and thumbnails are work that
//! can wait a few milliseconds, a frame cannot. The CLI leaves priorities alone.
//!
//! Measured (10,000 demo images in the window under Xvfb, 2 cores, CPU renderer): the
//! whole-frame p99 went from 29.8 ms with every thread equal to 12.9 ms at nice 3; the
//! run took 69 → 76 s, as the window now draws more frames (384 → 490). Nice 9 gave
//! 6 ms but 2.3 times the run time: any busy process at normal priority (a browser, a
//! build) would starve the downloads, so the step is kept small.

use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};

/// The engine's threads' priority on the cross-platform 0–99 scale (99 highest); on
/// Linux this is nice 3 (about half the CPU share of a normal thread when both want it).
const BACKGROUND: u8 = 42;

/// Lowers the calling thread's priority when `background` is set. A refusal only
/// costs smoothness, so it is ignored.
pub(crate) fn enter(background: bool) {
    if !background {
        return;
    }
    if let Ok(value) = ThreadPriorityValue::try_from(BACKGROUND) {
        let _ = set_current_thread_priority(ThreadPriority::Crossplatform(value));
    }
}
