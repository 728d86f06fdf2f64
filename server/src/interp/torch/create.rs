//! Creating tensors from Python data (`torch.tensor`, index lists) with torch's dtype
//! inference: bools → bool, ints → int64, any float → the default float dtype. Sizes are
//! checked against the element cap before anything is allocated.

use tch::{Device, Kind, Tensor};

use crate::value::tensor::check_numel;
use crate::value::{PyErr, PyResult, Value, ctx, dtype};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cat {
    Bool,
    Int,
    Float,
}

fn flatten(v: &Value, depth: usize, shape: &mut Vec<i64>, out: &mut Vec<f64>, cat: &mut Cat, kinds: &mut Option<Kind>) -> PyResult<()> {
    crate::value::stack::guard()?;
    let items: Option<Vec<Value>> = match v {
        Value::List(l) => Some(l.snapshot()),
        Value::Tuple(t) => Some(t.to_vec()),
        Value::Size(s) => Some(s.iter().map(|&d| Value::Int(d)).collect()),
        _ => None,
    };
    match items {
        Some(items) => {
            if shape.len() == depth {
                shape.push(items.len() as i64);
            } else if shape[depth] != items.len() as i64 {
                return Err(PyErr::value_error(format!(
                    "expected sequence of length {} at dim {depth} (got {})",
                    shape[depth],
                    items.len()
                )));
            }
            for it in &items {
                flatten(it, depth + 1, shape, out, cat, kinds)?;
                if out.len() % 65536 == 0 {
                    check_numel(out.len() as i64)?;
                }
            }
            Ok(())
        }
        None => {
            if shape.len() > depth {
                return Err(PyErr::type_error(format!(
                    "expected sequence at dim {depth}, got {}",
                    v.type_name()
                )));
            }
            match v {
                Value::Bool(b) => out.push(f64::from(u8::from(*b))),
                Value::Int(i) => {
                    *cat = (*cat).max(Cat::Int);
                    out.push(*i as f64);
                    if i.unsigned_abs() > (1 << 53) {
                        return Err(PyErr::unsupported("integers beyond 2**53 in torch.tensor"));
                    }
                }
                Value::Float(f) => {
                    *cat = Cat::Float;
                    out.push(*f);
                }
                Value::Tensor(t) => {
                    if t.t.numel() != 1 {
                        return Err(PyErr::value_error("only one element tensors can be converted to Python scalars"));
                    }
                    let k = t.t.kind();
                    *kinds = Some(match *kinds {
                        Some(prev) => promote(prev, k),
                        None => k,
                    });
                    out.push(t.t.f_double_value(&[])?);
                }
                other => {
                    return Err(PyErr::type_error(format!(
                        "Could not infer dtype of {}",
                        other.type_name()
                    )));
                }
            }
            Ok(())
        }
    }
}

fn promote(a: Kind, b: Kind) -> Kind {
    let rank = |k: Kind| match k {
        Kind::Bool => 0,
        Kind::Uint8 | Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64 => 1,
        _ => 2,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// `torch.tensor(data, dtype=...)` on the job's device.
pub fn tensor_from_value(v: &Value, kind: Option<Kind>) -> PyResult<Tensor> {
    tensor_from_value_on(v, kind, Device::Cpu)
}

pub fn tensor_from_value_on(v: &Value, kind: Option<Kind>, device: Device) -> PyResult<Tensor> {
    if let Value::Tensor(t) = v {
        let out = copy_of(&t.t.f_detach()?)?;
        let out = match kind {
            Some(k) => out.f_to_kind(k)?,
            None => out,
        };
        return Ok(out.f_to_device(device)?);
    }
    let mut shape = Vec::new();
    let mut data = Vec::new();
    let mut cat = Cat::Bool;
    let mut tensor_kind = None;
    flatten(v, 0, &mut shape, &mut data, &mut cat, &mut tensor_kind)?;
    check_numel(data.len() as i64)?;
    let inferred = match (tensor_kind, cat) {
        (Some(k), c) => {
            let base = match c {
                Cat::Float if !dtype::is_float(k) => dtype::DEFAULT_FLOAT,
                Cat::Int if k == Kind::Bool => Kind::Int64,
                _ => k,
            };
            base
        }
        (None, Cat::Bool) if !data.is_empty() => Kind::Bool,
        (None, Cat::Int) => Kind::Int64,
        _ => dtype::DEFAULT_FLOAT,
    };
    let k = kind.unwrap_or(inferred);
    let base = Tensor::f_from_slice(&data)?.f_reshape(shape.as_slice())?;
    Ok(base.f_to_kind(k)?.f_to_device(device)?)
}

/// A 0-d tensor of a Python number, in `kind` on `device`.
pub fn scalar_tensor(v: &Value, kind: Kind, device: Device) -> PyResult<Tensor> {
    let s = super::schema::scalar_of(v)?;
    Ok(Tensor::f_scalar_tensor(s, (kind, device))?)
}

/// Checks a size before a factory allocates it.
pub fn check_size(size: &[i64]) -> PyResult<()> {
    if let Some(d) = size.iter().find(|&&d| d < 0) {
        return Err(PyErr::runtime_error(format!(
            "Trying to create tensor with negative dimension {d}: {size:?}"
        )));
    }
    check_numel(crate::value::tensor::shape_numel(size))?;
    let bytes = crate::value::tensor::shape_numel(size).saturating_mul(4) as u64;
    if bytes > ctx::caps().tensor_budget {
        return Err(PyErr::memory(format!(
            "a tensor of shape {size:?} exceeds localndif's per-job tensor memory limit of {} bytes (--tensor-budget)",
            ctx::caps().tensor_budget
        )));
    }
    Ok(())
}

/// A copy with its own storage (torch's `clone`, strides preserved).
pub fn copy_of(t: &Tensor) -> PyResult<Tensor> {
    let mut out = t.f_empty_like()?;
    out.f_copy_(t)?;
    Ok(out)
}
