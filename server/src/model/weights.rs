//! safetensors bytes → tch tensors on the serving device. Floating weights take the
//! config's `dtype` when it names one, else keep the checkpoint's: transformers 5 loads
//! with `dtype="auto"`, which resolves the same way.

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};
use tch::{Device, Kind, Tensor};

pub fn load_safetensors(
    bytes: &[u8],
    float_kind: Option<Kind>,
    device: Device,
) -> anyhow::Result<HashMap<String, Tensor>> {
    let st = SafeTensors::deserialize(bytes)?;
    let mut out = HashMap::new();
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
        let mut t = Tensor::f_from_data_size(view.data(), &shape, kind)?;
        if let Some(k) = float_kind.filter(|_| t.is_floating_point()) {
            t = t.f_to_kind(k)?;
        }
        let t = t.f_to_device(device)?;
        out.insert(name, t);
    }
    Ok(out)
}

/// The `dtype` (or legacy `torch_dtype`) a `config.json` names, if it is a float type.
pub fn config_float_kind(config: &serde_json::Value) -> Option<Kind> {
    match config
        .get("dtype")
        .or_else(|| config.get("torch_dtype"))?
        .as_str()?
    {
        "float32" => Some(Kind::Float),
        "float16" => Some(Kind::Half),
        "bfloat16" => Some(Kind::BFloat16),
        "float64" => Some(Kind::Double),
        _ => None,
    }
}
