//! safetensors bytes → tch tensors (checkpoint dtype kept, moved to the serving device).

use std::collections::HashMap;

use safetensors::{Dtype, SafeTensors};
use tch::{Device, Kind, Tensor};

pub fn load_safetensors(bytes: &[u8], device: Device) -> anyhow::Result<HashMap<String, Tensor>> {
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
        let t = Tensor::f_from_data_size(view.data(), &shape, kind)?.f_to_device(device)?;
        out.insert(name, t);
    }
    Ok(out)
}
