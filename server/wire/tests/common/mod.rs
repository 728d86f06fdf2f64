//! Shared helpers: locating the captured client payloads and server responses
//! (`fixtures/captures` of this repository) and loading the request payloads.

#![allow(dead_code)] // each test binary uses part of this module

use std::path::{Path, PathBuf};

use localndif_wire::zstdio;

/// Cap for decompressed request pickles (the corpus is under 11 KB each).
const MAX_PICKLE: usize = 16 << 20;

/// The captures folder. `Some` always: a checkout without its fixtures fails the tests
/// rather than skipping them.
pub fn captures_dir() -> Option<PathBuf> {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../../fixtures/captures");
    assert!(dir.is_dir(), "the captured payloads are missing: {}", dir.display());
    Some(dir)
}

/// A captured request: `("v0.8.1", "c01_save_output", decompressed pickle)`.
pub struct Capture {
    pub version: String,
    pub case: String,
    pub pickle: Vec<u8>,
}

/// Every `v*/c*/request.blob`, decompressed, sorted by version and case.
pub fn load_captures(dir: &Path) -> Vec<Capture> {
    let mut captures = Vec::new();
    for version in sorted_subdirs(dir)
        .into_iter()
        .filter(|v| name(v).starts_with('v'))
    {
        for case in sorted_subdirs(&version) {
            let blob_path = case.join("request.blob");
            let Ok(blob) = std::fs::read(&blob_path) else {
                continue;
            };
            // nnsight 0.6+ send zstd, 0.5 zlib.
            let pickle = if zstdio::is_zstd(&blob) {
                zstdio::decompress(&blob, MAX_PICKLE).unwrap_or_else(|e| panic!("{}: {e}", blob_path.display()))
            } else {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&blob[..]), &mut out)
                    .unwrap_or_else(|e| panic!("{} is neither zstd nor zlib: {e}", blob_path.display()));
                out
            };
            captures.push(Capture {
                version: name(&version),
                case: name(&case),
                pickle,
            });
        }
    }
    captures
}

fn sorted_subdirs(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
