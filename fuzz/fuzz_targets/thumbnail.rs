//! Sniffing and the whole thumbnail path (every decoder, with limits) on arbitrary bytes.
#![no_main]

use std::sync::OnceLock;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"));
    pixgrab_engine::fuzz_thumbnail(data, dir.path());
});
