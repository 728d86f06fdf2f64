#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localndif::fuzz::g2_request(data));
