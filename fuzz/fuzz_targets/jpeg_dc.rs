//! The DC-only JPEG decoder on arbitrary bytes: no panic, no hang, no huge allocation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    pixgrab_engine::fuzz_jpeg_dc(data);
});
