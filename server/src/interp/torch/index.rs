//! Tensor indexing exactly as torch does it (`python_variable_indexing.cpp` and
//! `TensorIndexing.h`): a Python index becomes a list of items (tuples, and lists that
//! NumPy's heuristic treats as tuples); ints select, slices narrow, `None` inserts a dim,
//! `...` skips dims, bools and 0-d integer tensors are handled like torch; every tensor
//! or list index is collected and applied in one `aten::index` (so `h[0, [0, 1], [2, 3]]`
//! pairs its lists). Assignment writes through the view or `index_put_`, broadcasting
//! the value the way torch's `copy_to` does.

use tch::{Kind, Tensor};

use crate::value::{PyErr, PyResult, Value, dtype};

enum Item {
    Int(i64),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    None,
    Ellipsis,
    Bool(bool),
    Tensor(Tensor),
}

fn slice_part(v: &Value) -> PyResult<Option<i64>> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::Bool(b) => Ok(Some(i64::from(*b))),
        Value::BigInt(b) => Ok(Some(if b.sign() == num_bigint::Sign::Minus { i64::MIN } else { i64::MAX })),
        Value::Tensor(t) if t.t.numel() == 1 => Ok(Some(t.t.f_int64_value(&[])?)),
        _ => Err(PyErr::type_error(
            "slice indices must be integers or None or have an __index__ method",
        )),
    }
}

/// NumPy's rule for a list used as an index: treated as a tuple of indices if it holds a
/// slice, `...`, `None`, a tensor or a sequence (and is shorter than 32).
fn treat_as_tuple(items: &[Value]) -> bool {
    items.len() < 32
        && items.iter().any(|v| {
            matches!(
                v,
                Value::Slice(_) | Value::Ellipsis | Value::None | Value::Tensor(_) | Value::List(_) | Value::Tuple(_)
            )
        })
}

/// A Python list index as a tensor (`torch.tensor(list)` on the indexed tensor's device).
fn sequence_tensor(v: &Value, device: tch::Device) -> PyResult<Tensor> {
    let t = super::create::tensor_from_value(v, None)?;
    Ok(t.f_to_device(device)?)
}

fn items_of(index: &Value, device: tch::Device) -> PyResult<Vec<Item>> {
    let raw: Vec<Value> = match index {
        Value::Tuple(t) => t.to_vec(),
        Value::List(l) => {
            let items = l.snapshot();
            if treat_as_tuple(&items) {
                items
            } else {
                return Ok(vec![Item::Tensor(sequence_tensor(index, device)?)]);
            }
        }
        other => vec![other.clone()],
    };
    raw.iter()
        .map(|v| {
            Ok(match v {
                Value::Bool(b) => Item::Bool(*b),
                Value::Int(i) => Item::Int(*i),
                Value::BigInt(_) => return Err(PyErr::index_error("cannot fit 'int' into an index-sized integer")),
                Value::None => Item::None,
                Value::Ellipsis => Item::Ellipsis,
                Value::Slice(s) => Item::Slice(slice_part(&s[0])?, slice_part(&s[1])?, slice_part(&s[2])?),
                Value::Tensor(t) => Item::Tensor(t.t.shallow_clone()),
                Value::List(_) | Value::Tuple(_) => Item::Tensor(sequence_tensor(v, device)?),
                Value::Size(_) => Item::Tensor(sequence_tensor(v, device)?),
                other => {
                    return Err(PyErr::index_error(format!(
                        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got {})",
                        other.type_name()
                    )));
                }
            })
        })
        .collect()
}

fn specified_dims(items: &[Item]) -> i64 {
    items
        .iter()
        .map(|i| match i {
            Item::Tensor(t) if matches!(t.kind(), Kind::Bool | Kind::Uint8) => t.dim() as i64,
            Item::Tensor(_) | Item::Int(_) | Item::Slice(..) => 1,
            _ => 0,
        })
        .sum()
}

fn apply_select(t: &Tensor, dim: i64, index: i64, real_dim: i64) -> PyResult<Tensor> {
    if t.dim() == 0 {
        return Err(PyErr::index_error(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number",
        ));
    }
    let size = super::dim_size(t, dim as usize)?;
    if index < -size || index >= size {
        return Err(PyErr::index_error(format!(
            "index {index} is out of bounds for dimension {real_dim} with size {size}"
        )));
    }
    Ok(t.f_select(dim, index)?)
}

fn bool_index(b: bool, device: tch::Device) -> PyResult<Tensor> {
    Ok(if b {
        Tensor::f_zeros([1], (Kind::Int64, device))?
    } else {
        Tensor::f_empty([0], (Kind::Int64, device))?
    })
}

/// Applies the basic part of an index; returns the view and the advanced indices by dim.
fn apply_slicing(t: &Tensor, items: Vec<Item>) -> PyResult<(Tensor, Vec<Option<Tensor>>)> {
    let specified = specified_dims(&items);
    let ndim = t.dim() as i64;
    if specified > ndim {
        return Err(PyErr::index_error(format!(
            "too many indices for tensor of dimension {ndim}"
        )));
    }
    let device = t.device();
    let mut result = t.shallow_clone();
    let mut dim: i64 = 0;
    let mut out: Vec<Option<Tensor>> = Vec::new();
    let record = |out: &mut Vec<Option<Tensor>>, dim: &mut i64, x: Tensor| {
        while out.len() <= *dim as usize {
            out.push(None);
        }
        out[*dim as usize] = Some(x);
        *dim += 1;
    };
    for (real_dim, item) in items.into_iter().enumerate() {
        match item {
            Item::Int(i) => result = apply_select(&result, dim, i, real_dim as i64)?,
            Item::Slice(start, stop, step) => {
                let step = step.unwrap_or(1);
                if step == 0 {
                    return Err(PyErr::value_error("slice step cannot be zero"));
                }
                if step < 0 {
                    return Err(PyErr::value_error("step must be greater than zero"));
                }
                let len = super::dim_size(&result, dim as usize)?;
                let start = start.unwrap_or(0);
                let stop = stop.unwrap_or(i64::MAX);
                if !(start == 0 && stop == len && step == 1) {
                    result = result.f_slice(dim, Some(start), Some(stop), step)?;
                }
                dim += 1;
            }
            Item::Ellipsis => dim += ndim - specified,
            Item::None => {
                result = result.f_unsqueeze(dim)?;
                dim += 1;
            }
            Item::Bool(b) => {
                result = result.f_unsqueeze(dim)?;
                record(&mut out, &mut dim, bool_index(b, device)?);
            }
            Item::Tensor(x) => {
                let k = x.kind();
                if x.dim() == 0 && dtype::is_integral(k, true) {
                    if k != Kind::Uint8 && k != Kind::Bool {
                        result = apply_select(&result, dim, x.f_int64_value(&[])?, real_dim as i64)?;
                    } else {
                        result = result.f_unsqueeze(dim)?;
                        let b = x.f_int64_value(&[])? != 0;
                        record(&mut out, &mut dim, bool_index(b, device)?);
                    }
                } else {
                    if !(dtype::is_integral(k, true)) {
                        return Err(PyErr::index_error(
                            "tensors used as indices must be long, int, byte or bool tensors",
                        ));
                    }
                    record(&mut out, &mut dim, x);
                }
            }
        }
    }
    Ok((result, out))
}

/// `t[index]`.
pub fn get(t: &Tensor, index: &Value) -> PyResult<(Tensor, bool)> {
    if let Value::Ellipsis = index {
        return Ok((t.f_alias()?, false));
    }
    let items = items_of(index, t.device())?;
    let (view, indices) = apply_slicing(t, items)?;
    if indices.is_empty() {
        return Ok((view, false));
    }
    let indices = pad_indices(indices);
    Ok((view.f_index(&indices)?, true))
}

fn pad_indices(mut v: Vec<Option<Tensor>>) -> Vec<Option<Tensor>> {
    while matches!(v.last(), Some(None)) {
        v.pop();
    }
    v
}

/// `value` shaped for assignment into `dst`: leading size-1 dims dropped, then torch's
/// in-place broadcast check.
fn prepare_value(dst_shape: &[i64], value: &Tensor) -> PyResult<Tensor> {
    let src = value.size();
    let first = src.iter().position(|&d| d != 1).unwrap_or(src.len());
    let stripped = &src[first..];
    let v = if stripped.len() != src.len() {
        value.f_view(stripped)?
    } else {
        value.shallow_clone()
    };
    if stripped.len() > dst_shape.len()
        || stripped
            .iter()
            .rev()
            .zip(dst_shape.iter().rev())
            .any(|(&s, &d)| s != d && s != 1)
    {
        return Err(PyErr::runtime_error(format!(
            "shape mismatch: value tensor of shape {src:?} cannot be broadcast to indexing result of shape {dst_shape:?}"
        )));
    }
    Ok(v)
}

/// `t[index] = value` (in place; `t` must not alias the model's weights).
pub fn set(t: &Tensor, index: &Value, value: &Value) -> PyResult<()> {
    crate::value::tensor::check_writable(t)?;
    let items = items_of(index, t.device())?;
    let (mut view, indices) = apply_slicing(t, items)?;
    let value_tensor = match value {
        Value::Tensor(v) => Some(v.t.shallow_clone()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => None,
        other => {
            return Err(PyErr::type_error(format!(
                "can't assign a {} to a {} tensor",
                other.type_name(),
                super::kind_repr(t.kind())
            )));
        }
    };
    if indices.is_empty() {
        match value_tensor {
            None => {
                let s = super::schema::scalar_of(value)?;
                let _ = view.f_fill_(s)?;
            }
            Some(v) => {
                if v.size() == view.size() {
                    view.f_copy_(&v)?;
                } else if v.dim() == 0 && v.device() == tch::Device::Cpu {
                    let _ = view.f_fill_tensor_(&v)?;
                } else {
                    let v = prepare_value(&view.size(), &v)?;
                    view.f_copy_(&v.f_expand(view.size(), false)?)?;
                }
            }
        }
        return Ok(());
    }
    let indices = pad_indices(indices);
    let v = match value_tensor {
        Some(v) => {
            let v = if v.dim() > 0 {
                let first = v.size().iter().position(|&d| d != 1).unwrap_or(v.dim());
                // rank: first ≤ v.dim() by construction.
                let sz = v.size()[first..].to_vec();
                v.f_view(sz.as_slice())?
            } else {
                v
            };
            v
        }
        None => super::create::scalar_tensor(value, view.kind(), view.device())?,
    };
    let _ = view.f_index_put_(&indices, &v, false)?;
    Ok(())
}
