//! A small web server on 127.0.0.1 that behaves as told ([`loopback`]: slow bodies,
//! resets, statuses, redirects, ranges) and a demo site of generated pictures built on
//! it ([`demo`]). Pixgrab's `--demo` and its tests share it; it knows nothing of the
//! engine.

pub mod demo;
pub mod loopback;
