//! A bounded smoke run of every wire fuzz target (`localndif_wire::fuzz`, run at length by
//! cargo-fuzz under `fuzz/`): each seed of the captured payloads and results, and a fixed
//! set of mutations of each (byte flips, truncations, splices), must not panic.

use std::path::{Path, PathBuf};

use localndif_wire::fuzz;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("blob" | "pt")) {
            out.push(p);
        }
    }
}

/// The captured requests (zstd) and their decompressed pickles, and the captured results.
fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../../fixtures/captures");
    let mut paths = Vec::new();
    files(&dir, &mut paths);
    assert!(paths.len() > 20, "the captured payloads are missing under {}", dir.display());
    let mut out = Vec::new();
    for p in paths {
        let bytes = std::fs::read(&p).unwrap();
        if let Ok(raw) = localndif_wire::zstdio::decompress(&bytes, 1 << 24) {
            out.push(raw);
        }
        out.push(bytes);
    }
    out
}

#[test]
fn every_wire_target_survives_the_seeds_and_their_mutations() {
    let mut runs = 0;
    for seed in seeds() {
        for input in std::iter::once(seed.clone()).chain(fuzz::mutations(&seed, 40)) {
            fuzz::pickle(&input);
            fuzz::torch_archive(&input);
            fuzz::zstd(&input);
            fuzz::torch_roundtrip(&input);
            runs += 1;
        }
    }
    assert!(runs > 1000, "{runs}");
}
