//! Checkpoint weights → tch tensors on the serving device: one `model.safetensors` or the
//! shards a `model.safetensors.index.json` names, memory-mapped (each tensor is copied
//! once into libtorch's memory; the file pages are only read), so peak memory is about
//! one copy of the weights. Floating weights take the requested dtype, else the config's
//! `dtype` when it names one, else the checkpoint's: transformers 5 loads with
//! `dtype="auto"`, which resolves the same way.
//!
//! Each weight kept in the checkpoint's dtype is placed at the address a local
//! `from_pretrained` gives it: transformers 5 keeps such weights in the memory map, so a
//! tensor starts at its file offset modulo the page, and libtorch's CPU kernels (the
//! matrix-vector path of a one-row `linear`, as in each generation step) sum in an
//! order that depends on the address modulo 64 bytes. Placing ours alike keeps remote
//! values bit-identical to a local run's (README, "Reproducing a result exactly").

use std::collections::HashMap;

use anyhow::Context;
use safetensors::{Dtype, SafeTensors};
use tch::{Device, Kind, Tensor};

use super::repo::{Content, Repo};

/// Every tensor of the checkpoint in `repo`, by name.
pub fn load(repo: &Repo, float_kind: Option<Kind>, device: Device) -> anyhow::Result<HashMap<String, Tensor>> {
    let files: Vec<String> = match repo.file("model.safetensors.index.json") {
        Some(_) => {
            let index: serde_json::Value = serde_json::from_slice(&repo.read("model.safetensors.index.json")?)
                .context("model.safetensors.index.json")?;
            let map = index["weight_map"].as_object().context("model.safetensors.index.json has no weight_map")?;
            let mut shards: Vec<String> = map.values().filter_map(|v| v.as_str().map(str::to_string)).collect();
            shards.sort();
            shards.dedup();
            shards
        }
        None => vec!["model.safetensors".to_string()],
    };
    let mut out = HashMap::new();
    for name in files {
        let file = repo.file(&name).with_context(|| format!("the checkpoint names {name}, which the model directory does not have"))?;
        match &file.content {
            Content::Static(bytes) => add(bytes, float_kind, device, &mut out).with_context(|| name.clone())?,
            Content::Path(p) => {
                let f = std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
                // SAFETY: `Mmap::map` is unsafe because the file may change while it is
                // mapped, and what that does is not "wrong weights": a write by another
                // process changes the bytes under a `&[u8]` Rust assumes immutable
                // (undefined behaviour), and a truncation makes reads past the new end
                // raise SIGBUS and kill the server. What holds here is narrower: the map
                // lives only while its tensors are copied out (no reference to it
                // outlives this loop), and a file *replaced* before that — renamed over,
                // or rewritten before it was opened — is simply the new file, whose
                // safetensors header is checked against its length before one tensor is
                // read. Checkpoint files must not be modified in place while a server is
                // starting from them (the README's "Operating it" says so).
                let map = unsafe { memmap2::Mmap::map(&f) }.with_context(|| format!("mapping {}", p.display()))?;
                add(&map, float_kind, device, &mut out).with_context(|| name.clone())?;
            }
        }
    }
    Ok(out)
}

fn add(bytes: &[u8], float_kind: Option<Kind>, device: Device, out: &mut HashMap<String, Tensor>) -> anyhow::Result<()> {
    let st = SafeTensors::deserialize(bytes)?;
    for (name, view) in st.tensors() {
        let kind = match view.dtype() {
            Dtype::F32 => Kind::Float,
            Dtype::F64 => Kind::Double,
            Dtype::F16 => Kind::Half,
            Dtype::BF16 => Kind::BFloat16,
            Dtype::I64 => Kind::Int64,
            Dtype::I32 => Kind::Int,
            Dtype::I16 => Kind::Int16,
            Dtype::I8 => Kind::Int8,
            Dtype::U8 => Kind::Uint8,
            Dtype::BOOL => Kind::Bool,
            other => anyhow::bail!("tensor '{name}' has unsupported dtype {other:?}"),
        };
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let converted = float_kind.filter(|&k| matches!(kind, Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16) && k != kind);
        // Where the tensor's bytes sit in the file (the map and an embedded file both
        // start at offset 0 of it).
        let in_file = view.data().as_ptr() as usize - bytes.as_ptr() as usize;
        let mut t = match (converted, device) {
            (None, Device::Cpu) => placed(view.data(), in_file % ALIGN, &shape, kind),
            _ => Tensor::f_from_data_size(view.data(), &shape, kind).map_err(anyhow::Error::from),
        }
        .with_context(|| format!("tensor '{name}'"))?;
        if let Some(k) = converted {
            t = t.f_to_kind(k)?;
        }
        if device != Device::Cpu {
            t = t.f_to_device(device)?;
        }
        out.insert(name, t);
    }
    Ok(())
}

/// The alignment libtorch's CPU allocator gives, and the most any kernel looks at.
const ALIGN: usize = 64;

/// A tensor holding `data` whose first byte sits at `residue` modulo [`ALIGN`] bytes:
/// a view into a slightly larger buffer (libtorch allocates 64-byte aligned).
fn placed(data: &[u8], residue: usize, shape: &[i64], kind: Kind) -> anyhow::Result<Tensor> {
    let elem = kind.elt_size_in_bytes();
    if data.is_empty() || !residue.is_multiple_of(elem) {
        return Ok(Tensor::f_from_data_size(data, shape, kind)?);
    }
    let numel = data.len() / elem;
    anyhow::ensure!(numel * elem == data.len(), "{} bytes are not a whole number of {kind:?}", data.len());
    let buffer = Tensor::f_empty([(numel + ALIGN / elem) as i64], (kind, Device::Cpu))?;
    let base = buffer.data_ptr() as usize;
    let skip = (residue + ALIGN - base % ALIGN) % ALIGN / elem;
    let t = buffer.f_narrow(0, skip as i64, numel as i64)?;
    // SAFETY: `t` is a contiguous CPU view of `numel` elements of `kind` in `buffer`,
    // which it keeps alive: exactly `data.len()` writable bytes at its data pointer.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), t.data_ptr() as *mut u8, data.len()) };
    Ok(t.f_view(shape)?)
}

/// A dtype by the names configs and the command line use.
pub fn float_kind(name: &str) -> Option<Kind> {
    match name {
        "float32" | "fp32" => Some(Kind::Float),
        "float16" | "fp16" | "half" => Some(Kind::Half),
        "bfloat16" | "bf16" => Some(Kind::BFloat16),
        "float64" => Some(Kind::Double),
        _ => None,
    }
}

/// The `dtype` (or legacy `torch_dtype`) a `config.json` names, if it is a float type.
pub fn config_float_kind(config: &serde_json::Value) -> Option<Kind> {
    float_kind(config.get("dtype").or_else(|| config.get("torch_dtype"))?.as_str()?)
}
