//! Structure-faithful replicas (`--model REPO=replica:DIR`): a model's real `config.json`
//! and tokenizer, with the same module tree, layer count and vocabulary, but small widths
//! (hidden size, heads, MLP width) and deterministic random weights seeded from the repo
//! id — so intervention code written against a 70B model runs on a laptop or in CI, and
//! two servers (or a local nnsight given the exported directory) compute the same numbers.
//! A replica is materialized as an ordinary model directory (`materialize`), which the
//! server then serves like any other, Hub endpoint included.

use std::path::{Path, PathBuf};

use anyhow::Context;
use safetensors::{Dtype, tensor::TensorView};
use sha2::{Digest, Sha256};

use super::declare::Init;

/// The widths a replica gets (`serve --replica-*`).
#[derive(Debug, Clone, Copy)]
pub struct Widths {
    pub hidden: i64,
    pub heads: i64,
    /// Key/value heads of a grouped-query model (kept below `heads` when the real model
    /// groups its queries).
    pub kv_heads: i64,
    pub intermediate: i64,
}

impl Default for Widths {
    fn default() -> Self {
        Widths { hidden: 64, heads: 4, kv_heads: 2, intermediate: 128 }
    }
}

/// The files a replica keeps from the real model's directory (everything but weights).
const KEPT: &[&str] = &["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "tokenizer.model", "vocab.json", "merges.txt"];

/// The replica's `config.json`: the real one with the widths replaced, float32 weights,
/// and a `localndif_replica` entry saying what it replicates.
pub fn config(real: &serde_json::Value, repo_id: &str, w: Widths) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(w.hidden % w.heads == 0, "--replica-hidden {} must be divisible by --replica-heads {}", w.hidden, w.heads);
    let mut c = real.clone();
    let o = c.as_object_mut().context("config.json is not an object")?;
    let mut real_widths = serde_json::Map::new();
    let mut set = |o: &mut serde_json::Map<String, serde_json::Value>, key: &str, v: i64| {
        if let Some(old) = o.insert(key.into(), v.into()) {
            real_widths.insert(key.into(), old);
        }
    };
    let decl = super::families::find(real["model_type"].as_str()).context("replicas are made of the served families only")?;
    let mut widths = serde_json::Map::new();
    (decl.replica)(real, &mut widths, w)?;
    for (k, v) in widths {
        if let Some(v) = v.as_i64() {
            set(o, &k, v);
        }
    }
    for k in ["torch_dtype", "dtype"] {
        if o.contains_key(k) {
            o.insert(k.into(), "float32".into());
        }
    }
    o.insert("dtype".into(), "float32".into());
    o.insert("localndif_replica".into(), serde_json::json!({"of": repo_id, "real": real_widths}));
    Ok(c)
}

/// Every weight of the replica: (name, shape, init) as the family declares them.
fn shapes(c: &serde_json::Value) -> anyhow::Result<Vec<(String, Vec<usize>, Init)>> {
    Ok(super::families::param_specs(c)?
        .into_iter()
        .map(|p| (p.name, p.shape.iter().map(|&d| d as usize).collect(), p.init))
        .collect())
}

/// `n` float32 values of N(0, std) from a SplitMix64 stream seeded by `seed` (Box–Muller).
fn normal(seed: u64, n: usize, std: f64) -> Vec<f32> {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1 = ((next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (next() >> 11) as f64 / (1u64 << 53) as f64;
        let r = (-2.0 * u1.ln()).sqrt() * std;
        let t = std::f64::consts::TAU * u2;
        out.push((r * t.cos()) as f32);
        out.push((r * t.sin()) as f32);
    }
    out.truncate(n);
    out
}

fn seed_of(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    u64::from_le_bytes(h.finalize()[..8].try_into().expect("8 bytes"))
}

/// Writes the replica of the model in `real_dir` (its `config.json` and tokenizer files)
/// to `out`: the replica config, the kept files, and `model.safetensors` with weights
/// seeded from `repo_id` — the same bytes wherever it is made.
pub fn materialize(real_dir: &Path, repo_id: &str, w: Widths, out: &Path) -> anyhow::Result<()> {
    let real: serde_json::Value = serde_json::from_slice(
        &std::fs::read(real_dir.join("config.json")).with_context(|| format!("{}/config.json", real_dir.display()))?,
    )
    .context("config.json")?;
    let cfg = config(&real, repo_id, w)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    std::fs::write(out.join("config.json"), serde_json::to_vec_pretty(&cfg)?)?;
    for name in KEPT {
        let src = real_dir.join(name);
        if src.exists() {
            std::fs::copy(&src, out.join(name)).with_context(|| format!("copying {}", src.display()))?;
        }
    }
    anyhow::ensure!(out.join("tokenizer.json").exists(), "{} has no tokenizer.json", real_dir.display());
    let std = cfg["initializer_range"].as_f64().unwrap_or(0.02);
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = shapes(&cfg)?
        .into_iter()
        .map(|(name, shape, init)| {
            let n: usize = shape.iter().product();
            let values = match init {
                Init::Normal => normal(seed_of(&[repo_id, &name]), n, std),
                Init::Ones => vec![1.0; n],
                Init::Zeros => vec![0.0; n],
            };
            let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, shape, bytes)
        })
        .collect();
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| Ok((name.as_str(), TensorView::new(Dtype::F32, shape.clone(), bytes)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    safetensors::serialize_to_file(views, None, &out.join("model.safetensors")).context("writing model.safetensors")?;
    Ok(())
}

/// Where `serve` materializes the replica of `repo_id` (under the system's temp dir, one
/// folder per repo id, widths and source files — not per path, so clones share it).
pub fn cache_dir(repo_id: &str, real_dir: &Path, w: Widths) -> PathBuf {
    let mut files = String::new();
    for name in std::iter::once("config.json").chain(KEPT.iter().copied()) {
        let bytes = std::fs::read(real_dir.join(name)).unwrap_or_default();
        files.push_str(&format!("{name}:{:x};", Sha256::digest(&bytes)));
    }
    let key = seed_of(&[repo_id, &files, &format!("{w:?}")]);
    let safe: String = repo_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect();
    std::env::temp_dir().join("localndif-replicas").join(format!("{safe}-{key:016x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_keeps_depth_and_vocabulary_and_is_the_same_everywhere() {
        let real = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/models/tiny-llama");
        let base = std::env::temp_dir().join(format!("localndif-replica-test-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("b"));
        materialize(&real, "x/y", Widths::default(), &a).unwrap();
        materialize(&real, "x/y", Widths::default(), &b).unwrap();
        assert_eq!(std::fs::read(a.join("model.safetensors")).unwrap(), std::fs::read(b.join("model.safetensors")).unwrap());
        let c: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("config.json")).unwrap()).unwrap();
        assert_eq!((c["hidden_size"].as_i64(), c["num_hidden_layers"].as_i64(), c["vocab_size"].as_i64()), (Some(64), Some(2), Some(1000)));
        assert_eq!(c["localndif_replica"]["real"]["hidden_size"], 32);
        materialize(&real, "other/repo", Widths::default(), &b).unwrap();
        assert_ne!(std::fs::read(a.join("model.safetensors")).unwrap(), std::fs::read(b.join("model.safetensors")).unwrap(), "seeded by the repo id");
        let _ = std::fs::remove_dir_all(&base);
    }
}
