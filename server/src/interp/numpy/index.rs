//! ndarray indexing: torch's indexing (which follows numpy's rules: ints, slices, `None`,
//! `...`, boolean masks, integer arrays paired by broadcasting) plus what torch lacks —
//! negative slice steps — with numpy's result types: an index that picks one element
//! gives a numpy scalar (a copy), basic slicing a view, advanced indexing a copy.
//! Assignment converts the value with numpy's rules and casts it to the array's dtype.

use tch::{Kind, Tensor};

use super::{array, array_view, from_value, scalar, unsupported};
use crate::interp::Interp;
use crate::interp::ops::slice_bounds;
use crate::value::numpy as vnp;
use crate::value::tensor::Np;
use crate::value::{PyErr, PyResult, Value};

fn bad_index() -> PyErr {
    PyErr::index_error(
        "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean arrays are valid indices",
    )
}

/// One index item with numpy values made plain: integer scalars become ints, arrays
/// become index tensors (int64 or bool).
fn plain(it: &mut Interp, v: &Value) -> PyResult<Value> {
    Ok(match v {
        Value::Tensor(t) if t.np == Np::Scalar => {
            let k = t.t.kind();
            match vnp::kind_char(k) {
                'b' => Value::Bool(t.t.f_int64_value(&[])? != 0),
                'i' | 'u' => Value::Int(t.t.f_int64_value(&[])?),
                _ => return Err(bad_index()),
            }
        }
        Value::Tensor(t) if t.np == Np::Array => {
            let k = t.t.kind();
            match vnp::kind_char(k) {
                'b' => Value::tensor(t.t.shallow_clone()),
                'i' | 'u' => Value::tensor(t.t.f_to_kind(Kind::Int64)?),
                _ => return Err(PyErr::index_error("arrays used as indices must be of integer (or boolean) type")),
            }
        }
        Value::Float(_) => return Err(bad_index()),
        Value::List(_) => {
            // A list index is an array index (numpy's rule since 1.23).
            let t = from_value(it, v, None)?;
            match vnp::kind_char(t.kind()) {
                'b' => Value::tensor(t),
                'i' | 'u' => Value::tensor(t.f_to_kind(Kind::Int64)?),
                _ if t.numel() == 0 => Value::tensor(t.f_to_kind(Kind::Int64)?),
                _ => return Err(PyErr::index_error("arrays used as indices must be of integer (or boolean) type")),
            }
        }
        Value::Slice(s) => {
            let part = |x: &Value| -> PyResult<Value> {
                Ok(match x {
                    Value::Tensor(t) if t.np == Np::Scalar && vnp::kind_char(t.t.kind()) != 'f' => Value::Int(t.t.f_int64_value(&[])?),
                    other => other.clone(),
                })
            };
            Value::slice(part(&s[0])?, part(&s[1])?, part(&s[2])?)
        }
        other => other.clone(),
    })
}

/// The index as a list of items.
fn items(it: &mut Interp, idx: &Value) -> PyResult<Vec<Value>> {
    match idx {
        Value::Tuple(t) => t.iter().map(|v| plain(it, v)).collect(),
        other => Ok(vec![plain(it, other)?]),
    }
}

/// How many dims an index item consumes.
fn consumes(v: &Value) -> usize {
    match v {
        Value::None | Value::Ellipsis => 0,
        Value::Tensor(t) if t.t.kind() == Kind::Bool => t.t.dim().max(1),
        _ => 1,
    }
}

/// Rewrites negative-step slices: for reading, flips the data along that dim (a copy) and
/// uses the equivalent positive slice; for writing, uses the indices it selects.
fn negative_steps(t: &Tensor, items: &mut [Value], write: bool) -> PyResult<(Tensor, bool)> {
    let ndim = t.dim();
    let explicit: usize = items.iter().filter(|v| !matches!(v, Value::Ellipsis)).map(consumes).sum();
    let mut dim = 0usize;
    let mut out = t.shallow_clone();
    let mut copied = false;
    for item in items.iter_mut() {
        match item {
            Value::Ellipsis => dim += ndim.saturating_sub(explicit),
            Value::Slice(s) if !matches!(s[2], Value::None) && s[2].as_int().is_some_and(|st| st < 0) => {
                let n = *t.size().get(dim).ok_or_else(|| PyErr::index_error("too many indices for array"))? as usize;
                let (start, stop, step) = slice_bounds(s, n)?;
                let count = if start > stop { ((start - stop - 1) / (-step) + 1).max(0) } else { 0 };
                if write {
                    let idx: Vec<i64> = (0..count).map(|i| start + i * step).collect();
                    *item = Value::tensor(Tensor::from_slice(&idx));
                } else {
                    out = out.f_flip([dim as i64])?;
                    copied = true;
                    let first = n as i64 - 1 - start;
                    let st = -step;
                    *item = if count == 0 {
                        Value::slice(Value::Int(0), Value::Int(0), Value::Int(1))
                    } else {
                        Value::slice(Value::Int(first), Value::Int(first + (count - 1) * st + 1), Value::Int(st))
                    };
                }
                dim += 1;
            }
            other => dim += consumes(other),
        }
    }
    Ok((out, copied))
}

/// `a[idx]` for an array (or a numpy scalar, which takes `()` and `...` only).
pub fn getitem(it: &mut Interp, obj: &Value, idx: &Value) -> PyResult<Value> {
    let Value::Tensor(tens) = obj else { return Err(PyErr::type_error("expected an array")) };
    if tens.np == Np::Scalar {
        return match idx {
            Value::Tuple(t) if t.is_empty() => Ok(obj.clone()),
            Value::Ellipsis => array(crate::interp::torch::create::copy_of(&tens.t)?),
            _ => Err(PyErr::index_error("invalid index to scalar variable.")),
        };
    }
    let mut its = items(it, idx)?;
    let has_ellipsis = its.iter().any(|v| matches!(v, Value::Ellipsis));
    if its.iter().filter(|v| matches!(v, Value::Ellipsis)).count() > 1 {
        return Err(PyErr::index_error("an index can only have a single ellipsis ('...')"));
    }
    let explicit: usize = its.iter().map(consumes).sum();
    if explicit > tens.t.dim() {
        return Err(PyErr::index_error(format!(
            "too many indices for array: array is {}-dimensional, but {explicit} were indexed",
            tens.t.dim()
        )));
    }
    check_bounds(&tens.t, &its)?;
    let (base, flipped) = negative_steps(&tens.t, &mut its, false)?;
    let index = Value::tuple(its);
    let (r, copied) = crate::interp::torch::guarded(|| crate::interp::torch::index::get(&base, &index))?;
    if r.dim() == 0 && !has_ellipsis {
        return scalar(&r);
    }
    if copied || flipped {
        array(if flipped && !copied { crate::interp::torch::create::copy_of(&r)? } else { r })
    } else {
        Ok(array_view(r))
    }
}

/// numpy's `IndexError` for an integer out of range (torch's text differs).
fn check_bounds(t: &Tensor, items: &[Value]) -> PyResult<()> {
    let ndim = t.dim();
    let size = t.size();
    let explicit: usize = items.iter().filter(|v| !matches!(v, Value::Ellipsis)).map(consumes).sum();
    let mut dim = 0usize;
    for v in items {
        match v {
            Value::Ellipsis => dim += ndim.saturating_sub(explicit),
            Value::Int(i) => {
                let n = size[dim];
                if *i < -n || *i >= n {
                    return Err(PyErr::index_error(format!("index {i} is out of bounds for axis {dim} with size {n}")));
                }
                dim += 1;
            }
            Value::Tensor(x) if x.t.kind() != Kind::Bool && x.t.numel() > 0 => {
                let n = size[dim];
                let (lo, hi) = (x.t.f_min()?.int64_value(&[]), x.t.f_max()?.int64_value(&[]));
                for i in [lo, hi] {
                    if i < -n || i >= n {
                        return Err(PyErr::index_error(format!("index {i} is out of bounds for axis {dim} with size {n}")));
                    }
                }
                dim += 1;
            }
            Value::Tensor(x) if x.t.kind() == Kind::Bool => {
                let want = &size[dim..dim + x.t.dim().max(1)];
                if x.t.dim() > 0 && x.t.size() != want {
                    return Err(PyErr::index_error(format!(
                        "boolean index did not match indexed array along axis {dim}; size of axis is {} but size of corresponding boolean axis is {}",
                        size[dim],
                        // rank: inside `x.t.dim() > 0`.
                        x.t.size()[0]
                    )));
                }
                dim += consumes(v);
            }
            other => dim += consumes(other),
        }
    }
    Ok(())
}

/// `a[idx] = v`.
pub fn setitem(it: &mut Interp, obj: &Value, idx: &Value, v: &Value) -> PyResult<()> {
    let Value::Tensor(tens) = obj else { return Err(PyErr::type_error("expected an array")) };
    if tens.np == Np::Scalar {
        return Err(PyErr::type_error(format!("'numpy.{}' object does not support item assignment", vnp::name(tens.t.kind()))));
    }
    let mut its = items(it, idx)?;
    check_bounds(&tens.t, &its)?;
    let _ = negative_steps(&tens.t, &mut its, true)?;
    let k = tens.t.kind();
    let value = match v {
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => v.clone(),
        Value::Tensor(_) | Value::List(_) | Value::Tuple(_) => {
            // numpy casts unsafely on assignment (floats truncate toward zero).
            let t = from_value(it, v, None)?;
            let t = if k == Kind::Bool { t.f_ne(0i64)? } else { t.f_to_kind(k)? };
            Value::tensor(t)
        }
        other => return Err(unsupported(&format!("assigning a '{}' into a numpy array", other.type_name()))),
    };
    let index = Value::tuple(its);
    crate::interp::torch::guarded(|| crate::interp::torch::index::set(&tens.t, &index, &value))
}
