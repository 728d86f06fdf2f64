//! Fuzz entry points of the server crate (`fuzz/`, cargo-fuzz), beside the wire crate's
//! (`localndif_wire::fuzz`): arbitrary bytes as a G1 request body, as a G2 envelope and
//! payload, and as the source of a program run under small limits. Each must return
//! without panicking; the same functions run over the captured payloads and their
//! mutations in `cargo test`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::interp::Interp;
use crate::interp::code::Code;
use crate::interp::host::BufferHost;
use crate::interp::program::Program;
use crate::request::{self, Envelope};
use crate::value::ctx::{Caps, JobCtx};
use crate::value::object::Namespace;
use crate::value::stack;

const G1_KEY: &str = r#"nnsight.modeling.language.LanguageModel:{"repo_id": "openai-community/gpt2", "revision": null}"#;
const G2_KEY: &str = r#"nnsight.modeling.transformers.TransformersModel:{"repo_id": "openai-community/gpt2", "revision": null, "task": "text-generation"}"#;

/// A G1 `POST /request` body (zstd, zlib or raw) through the request decoder.
pub fn g1_body(data: &[u8]) {
    let _ = request::decode_g1(G1_KEY, data, true, &request::Limits::default());
}

/// A G2 payload (the multipart `blob`) with a valid envelope, and the bytes as an envelope.
pub fn g2_request(data: &[u8]) {
    let envelope = Envelope { model_key: G2_KEY.into(), session_id: String::new(), compress: true, env: Default::default() };
    let _ = request::decode_g2(&envelope, data, &request::Limits::default());
    let _ = serde_json::from_slice::<Envelope>(data);
}

/// Bytes as the source of a program, parsed and run under small limits on a job-sized
/// stack. Returns whether it parsed (and so ran).
pub fn interpret(data: &[u8]) -> bool {
    const STACK: usize = 64 << 20;
    let src = String::from_utf8_lossy(data).into_owned();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            stack::enter(STACK);
            let caps = Caps {
                max_steps: 20_000,
                wall: Duration::from_secs(5),
                max_str: 1 << 16,
                max_container: 1 << 14,
                max_int_bits: 1 << 12,
                max_tensor_numel: 1 << 16,
                tensor_budget: 1 << 24,
                max_depth: 200,
            };
            let _job = JobCtx::new(caps, tch::Device::Cpu, Arc::new(AtomicBool::new(false))).install();
            let Ok(program) = Program::parse(&src, "<fuzz>") else { return false };
            let Ok(code) = Code::module(program.clone(), &program.module.body, "<module>") else { return false };
            let mut host = BufferHost::default();
            let mut it = Interp::new(&mut host);
            // A Python error is fine; a localndif bug is not (`guarded` turns a panic in
            // a torch op into one).
            if let Err(e) = it.exec_module(code, Namespace::plain()) {
                assert!(!e.is_internal(), "a localndif bug: {}", e.headline());
            }
            true
        })
        .expect("spawning a fuzz thread")
        .join()
        .expect("the interpreter panicked")
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use localndif_wire::fuzz::mutations;

    fn captures(version: &str, file: &str) -> Vec<Vec<u8>> {
        let dir = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/captures").join(version);
        let mut cases: Vec<_> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
        cases.sort();
        let out: Vec<Vec<u8>> = cases.iter().filter_map(|c| std::fs::read(c.join(file)).ok()).collect();
        assert!(out.len() >= 5, "the captures under {} are missing", dir.display());
        out
    }

    #[test]
    fn request_decoders_survive_captures_and_their_mutations() {
        for seed in captures("v0.7.0", "request.blob") {
            for input in std::iter::once(seed.clone()).chain(mutations(&seed, 60)) {
                super::g1_body(&input);
            }
        }
        for seed in captures("v0.8.1", "request.blob") {
            let raw = localndif_wire::zstdio::decompress(&seed, 1 << 24).unwrap();
            for input in std::iter::once(seed.clone()).chain(mutations(&seed, 30)).chain(mutations(&raw, 30)) {
                super::g2_request(&input);
            }
        }
    }

    #[test]
    fn the_interpreter_survives_the_captured_snippets_and_their_mutations() {
        let mut parsed = 0;
        for seed in captures("v0.8.1", "snippet.py") {
            for input in std::iter::once(seed.clone()).chain(mutations(&seed, 15)) {
                parsed += usize::from(super::interpret(&input));
            }
        }
        assert!(parsed > 10, "{parsed}");
    }
}
