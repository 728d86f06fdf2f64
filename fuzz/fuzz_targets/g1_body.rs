#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localndif::fuzz::g1_body(data));
