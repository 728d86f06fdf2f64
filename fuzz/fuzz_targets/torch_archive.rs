#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| localndif_wire::fuzz::torch_archive(data));
