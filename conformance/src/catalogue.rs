//! The catalogue: every case with a stable id, the area it belongs to (twelve, after
//! Autobahn|Testsuite's numbered sections), the part of the repository's docs it checks,
//! the drivers that run it, the model architectures its module paths are written for, and
//! what is expected. Case files are grouped in finer folders (`20_language`, …); each
//! folder belongs to one area. `conformance --list [--json]` prints it.

use std::path::Path;

use serde::Serialize;

use crate::case::Case;

/// The twelve areas.
pub const AREAS: [(u32, &str); 12] = [
    (1, "submission & validation"),
    (2, "status stream"),
    (3, "results & download"),
    (4, "non-blocking & polling"),
    (5, "sessions"),
    (6, "generation"),
    (7, "errors & tracebacks"),
    (8, "auth & version gating"),
    (9, "status, env, ping"),
    (10, "intervention numerics"),
    (11, "load & concurrency"),
    (12, "client robustness & limits"),
];

/// A case folder's (the id's first number) area and the section of the docs it checks.
fn folder(prefix: u32) -> (u32, &'static str) {
    match prefix {
        1 => (1, "protocol.md §nnsight 0.8.x"),
        2 => (2, "protocol.md §nnsight 0.8.x"),
        3 => (3, "protocol.md §Results"),
        4 => (4, "protocol.md §Results"),
        7 => (7, "protocol.md §nnsight 0.8.x (ERROR statuses)"),
        8 => (8, "protocol.md §Version gate"),
        9 => (9, "protocol.md §nnsight 0.8.x"),
        10 => (10, "semantics.md §2 Reading and writing values"),
        20..=22 => (10, "semantics.md §1.3 Three kinds of body"),
        23 | 24 => (10, "semantics.md §2.4 In-place edits"),
        25 => (10, "semantics.md §4.1 save"),
        26 => (7, "semantics.md §1.4 Locations and requesters"),
        30 => (10, "semantics.md §5 Batching"),
        31 => (10, "semantics.md §7.1 Calling modules"),
        32 => (10, "semantics.md §User modules"),
        33 => (5, "semantics.md §8 Sessions"),
        34 => (6, "semantics.md §1.6 Occurrences"),
        35 | 44 => (10, "semantics.md §9 Module trees"),
        36 => (10, "semantics.md §7.4 tracer.cache()"),
        37 => (10, "semantics.md §7.8 Gradients"),
        38 => (10, "semantics.md §7.5 model.scan(x)"),
        39 => (10, "semantics.md §Aliases"),
        40 => (12, "architecture.md §Hostile input"),
        41 => (11, "protocol.md §nnsight 0.8.x"),
        42 => (5, "protocol.md §session.local() and STREAM"),
        43 => (10, "semantics.md §7.3 .source"),
        48 => (8, "protocol.md §nnsight 0.5.11–0.7 (socket.io)"),
        12 => (12, "protocol.md §nnsight 0.8.x"),
        _ => (10, "semantics.md"),
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub area: u32,
    pub area_name: &'static str,
    pub title: String,
    /// The section of the repository's docs the case checks.
    pub spec: String,
    /// `g2` (nnsight 0.8.1), `g1` (nnsight 0.7.0), `0.5` (nnsight 0.5.x, the socket.io
    /// protocol too), `native`.
    pub drivers: Vec<&'static str>,
    /// `gpt2`, `llama` (the `model.model.layers` paths Llama, Qwen and Gemma share),
    /// `gpt_neox`, `gptj`, or `any` (no module paths).
    pub architectures: Vec<&'static str>,
    pub expected: String,
}

/// The architectures whose module paths a case's code uses.
pub fn architectures(code: &str) -> Vec<&'static str> {
    let mut out = Vec::new();
    if code.contains("model.transformer") {
        out.push("gpt2");
    }
    if code.contains("model.model.layers") || code.contains("model.model.embed_tokens") {
        out.push("llama");
    }
    // The driver's per-architecture paths (`nnsight_case.blocks(model)`, …).
    if ["blocks(model)", "final_norm(model)", "embed(model)"].iter().any(|h| code.contains(h)) {
        for a in ["gpt2", "llama", "gpt_neox", "gptj"] {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    if out.is_empty() {
        out.push("any");
    }
    out
}

/// A Python case's `KEY = "value"` line, if any.
fn assigned<'a>(code: &'a str, key: &str) -> Option<&'a str> {
    code.lines().find_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix('=')?.trim().strip_prefix('"')?.strip_suffix('"'))
}

/// The entry of a case file (`SPEC = "..."` in the file overrides its folder's section).
pub fn entry(case: &Case) -> Entry {
    let prefix: u32 = case.id.split('.').next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let (area, spec) = folder(prefix);
    let area_name = AREAS.iter().find(|(n, _)| *n == area).map_or("", |(_, name)| name);
    let code = std::fs::read_to_string(&case.path).unwrap_or_default();
    if let Some(spec) = case.path.to_str().and_then(|p| p.strip_prefix("native:")) {
        return Entry {
            id: case.id.clone(),
            area,
            area_name,
            title: case.title.clone(),
            spec: spec.to_string(),
            drivers: vec!["native"],
            architectures: vec!["gpt2"],
            expected: case.title.clone(),
        };
    }
    let mut drivers = vec!["g2", "g1", "0.5"];
    let not_for = code.lines().find(|l| l.starts_with("NOT_FOR")).unwrap_or("");
    for (key, driver) in [("\"0.8\"", "g2"), ("\"0.7\"", "g1"), ("\"0.5\"", "0.5")] {
        if not_for.contains(key) {
            drivers.retain(|d| *d != driver);
        }
    }
    let expected = if case.alone {
        "the server behaves as run() asserts (no oracle)".to_string()
    } else {
        "the values local nnsight gives on the same weights, or the same exception and message".to_string()
    };
    Entry {
        id: case.id.clone(),
        area,
        area_name,
        title: case.title.clone(),
        spec: assigned(&code, "SPEC").map_or_else(|| spec.to_string(), str::to_string),
        drivers,
        architectures: architectures(&code),
        expected,
    }
}

/// The model type (`config.json`'s `model_type`) of a model directory, if readable.
pub fn model_type(dir: &Path) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("config.json")).ok()?).ok()?;
    v["model_type"].as_str().map(str::to_string)
}

/// Why `case` does not apply to a model of `model_type` (its module paths are another
/// architecture's), if so.
pub fn not_for_architecture(case: &Case, model_type: Option<&str>) -> Option<String> {
    let model_type = model_type?;
    let code = std::fs::read_to_string(&case.path).ok()?;
    let archs = architectures(&code);
    let family = if model_type.contains("llama") || matches!(model_type, "mistral" | "qwen2" | "qwen3" | "gemma" | "gemma2" | "gemma3_text" | "olmo2" | "phi3") { "llama" } else { model_type };
    (!archs.contains(&"any") && !archs.contains(&family))
        .then(|| format!("written for {} module paths; the model is {model_type}", archs.join(" and ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_folder_has_an_area_and_every_area_has_cases() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        let cases = crate::case::discover(&root, "*").unwrap();
        let mut entries: Vec<Entry> = cases.iter().map(entry).collect();
        entries.extend(crate::native::cases("*").iter().map(entry));
        assert!(entries.len() >= 150, "{} cases", entries.len());
        for (n, name) in AREAS {
            assert!(entries.iter().any(|e| e.area == n), "area {n} ({name}) has no case");
        }
        let mut ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        ids.sort();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "case ids are unique across drivers");
        assert!(entries.iter().all(|e| !e.drivers.is_empty() && !e.spec.is_empty()));
    }

    #[test]
    fn architectures_come_from_the_module_paths() {
        assert_eq!(architectures("model.transformer.h[0].output"), ["gpt2"]);
        assert_eq!(architectures("model.model.layers[0].output"), ["llama"]);
        assert_eq!(architectures("tracer.result"), ["any"]);
        assert_eq!(architectures("h = blocks(model)\nh[0].output"), ["gpt2", "llama", "gpt_neox", "gptj"]);
        assert_eq!(assigned("SPEC = \"protocol.md §Results\"\n", "SPEC"), Some("protocol.md §Results"));
    }
}
