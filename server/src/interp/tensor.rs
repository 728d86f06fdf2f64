//! Tensors in user code: the method table (name → Python signature → tch `f_` call, one
//! entry per op: adding an op is adding a row, design.md §5), attributes (`shape`,
//! `dtype`, ...), indexing and index assignment, and arithmetic with broadcasting.

use tch::{Kind, Tensor};

use super::error::{PyErr, PyResult};
use super::sig::{
    Default as D, Param, Sig, bind, bool_arg, int_arg, opt, opt_int_arg, req, shape_arg,
};
use super::value::{Value, lock};

type MethodFn = fn(&Tensor, &Sig, &[Value]) -> PyResult<Value>;

/// One tensor method: its signature and implementation.
pub struct Method {
    pub sig: Sig,
    pub f: MethodFn,
}

const fn m(name: &'static str, params: &'static [Param], f: MethodFn) -> Method {
    Method {
        sig: Sig {
            name,
            params,
            varargs: None,
        },
        f,
    }
}
const fn mv(name: &'static str, varargs: &'static str, f: MethodFn) -> Method {
    Method {
        sig: Sig {
            name,
            params: &[],
            varargs: Some(varargs),
        },
        f,
    }
}

const DIM_KEEPDIM: &[Param] = &[opt("dim", D::None), opt("keepdim", D::Bool(false))];

/// The tensor method table (semantics.md §10.3 ranks what comes first).
pub static METHODS: &[Method] = &[
    m("argmax", DIM_KEEPDIM, |t, s, a| {
        Ok(Value::tensor(t.f_argmax(
            opt_int_arg(s, 0, &a[0])?,
            bool_arg(s, 1, &a[1])?,
        )?))
    }),
    m("argmin", DIM_KEEPDIM, |t, s, a| {
        Ok(Value::tensor(t.f_argmin(
            opt_int_arg(s, 0, &a[0])?,
            bool_arg(s, 1, &a[1])?,
        )?))
    }),
    m("sum", DIM_KEEPDIM, |t, s, a| {
        Ok(Value::tensor(match opt_int_arg(s, 0, &a[0])? {
            None => t.f_sum(None::<Kind>)?,
            Some(d) => t.f_sum_dim_intlist(Some(&[d][..]), bool_arg(s, 1, &a[1])?, None::<Kind>)?,
        }))
    }),
    m("mean", DIM_KEEPDIM, |t, s, a| {
        Ok(Value::tensor(match opt_int_arg(s, 0, &a[0])? {
            None => t.f_mean(None::<Kind>)?,
            Some(d) => t.f_mean_dim(Some(&[d][..]), bool_arg(s, 1, &a[1])?, None::<Kind>)?,
        }))
    }),
    m("detach", &[], |t, _, _| Ok(Value::tensor(t.f_detach()?))),
    m("cpu", &[], |t, _, _| {
        Ok(Value::tensor(t.f_to_device(tch::Device::Cpu)?))
    }),
    m("clone", &[], |t, _, _| Ok(Value::tensor(deep_copy(t)?))),
    m("contiguous", &[], |t, _, _| {
        Ok(Value::tensor(t.f_contiguous()?))
    }),
    m("float", &[], |t, _, _| {
        Ok(Value::tensor(t.f_to_kind(Kind::Float)?))
    }),
    m("long", &[], |t, _, _| {
        Ok(Value::tensor(t.f_to_kind(Kind::Int64)?))
    }),
    m("abs", &[], |t, _, _| Ok(Value::tensor(t.f_abs()?))),
    m("exp", &[], |t, _, _| Ok(Value::tensor(t.f_exp()?))),
    m("log", &[], |t, _, _| Ok(Value::tensor(t.f_log()?))),
    m("softmax", &[req("dim")], |t, s, a| {
        Ok(Value::tensor(
            t.f_softmax(int_arg(s, 0, &a[0])?, None::<Kind>)?,
        ))
    }),
    m("log_softmax", &[req("dim")], |t, s, a| {
        Ok(Value::tensor(
            t.f_log_softmax(int_arg(s, 0, &a[0])?, None::<Kind>)?,
        ))
    }),
    m("unsqueeze", &[req("dim")], |t, s, a| {
        Ok(Value::tensor(t.f_unsqueeze(int_arg(s, 0, &a[0])?)?))
    }),
    m("squeeze", &[opt("dim", D::None)], |t, s, a| {
        Ok(Value::tensor(match opt_int_arg(s, 0, &a[0])? {
            None => t.f_squeeze()?,
            Some(d) => t.f_squeeze_dim(d)?,
        }))
    }),
    m("transpose", &[req("dim0"), req("dim1")], |t, s, a| {
        Ok(Value::tensor(t.f_transpose(
            int_arg(s, 0, &a[0])?,
            int_arg(s, 1, &a[1])?,
        )?))
    }),
    mv("view", "shape", |t, s, a| {
        Ok(Value::tensor(t.f_view(shape_arg(s, &a[0])?.as_slice())?))
    }),
    mv("reshape", "shape", |t, s, a| {
        Ok(Value::tensor(t.f_reshape(shape_arg(s, &a[0])?.as_slice())?))
    }),
    m("item", &[], |t, _, _| scalar(t)),
    m("dim", &[], |t, _, _| Ok(Value::Int(t.dim() as i64))),
    m("numel", &[], |t, _, _| Ok(Value::Int(t.numel() as i64))),
    m(
        "size",
        &[opt("dim", D::None)],
        |t, s, a| match opt_int_arg(s, 0, &a[0])? {
            None => Ok(Value::Size(std::sync::Arc::new(t.size()))),
            Some(d) => Ok(Value::Int(t.f_size1_dim(d)?)),
        },
    ),
    m("tolist", &[], |t, _, _| tolist(t)),
];

trait SizeDim {
    fn f_size1_dim(&self, d: i64) -> PyResult<i64>;
}
impl SizeDim for Tensor {
    fn f_size1_dim(&self, d: i64) -> PyResult<i64> {
        let size = self.size();
        let i = normalize(d, size.len())
            .ok_or_else(|| PyErr::index_error(format!("Dimension out of range (got {d})")))?;
        Ok(size[i])
    }
}

/// Calls tensor method `name`; `None` if the table has no such method.
pub fn call_method(
    t: &Tensor,
    name: &str,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
) -> Option<PyResult<Value>> {
    let method = METHODS.iter().find(|m| m.sig.name == name)?;
    Some(bind(&method.sig, args, kwargs).and_then(|a| (method.f)(t, &method.sig, &a)))
}

pub fn has_method(name: &str) -> bool {
    METHODS.iter().any(|m| m.sig.name == name)
}

/// Non-method attributes of a tensor.
pub fn attribute(t: &Tensor, name: &str) -> Option<PyResult<Value>> {
    Some(Ok(match name {
        "shape" => Value::Size(std::sync::Arc::new(t.size())),
        "dtype" => Value::Dtype(t.kind()),
        "device" => Value::Device(t.device()),
        "ndim" => Value::Int(t.dim() as i64),
        "T" => return Some(t.f_numpy_t().map(Value::tensor).map_err(PyErr::from)),
        "requires_grad" => Value::Bool(t.requires_grad()),
        _ => return None,
    }))
}

/// `t.clone()`: a new tensor with its own storage.
pub fn deep_copy(t: &Tensor) -> Result<Tensor, tch::TchError> {
    let mut out = t.f_empty_like()?;
    out.f_copy_(t)?;
    Ok(out)
}

/// `t.item()`: a Python int, float or bool.
pub fn scalar(t: &Tensor) -> PyResult<Value> {
    if t.numel() != 1 {
        return Err(PyErr::new(
            "RuntimeError",
            format!(
                "a Tensor with {} elements cannot be converted to Scalar",
                t.numel()
            ),
        ));
    }
    Ok(match t.kind() {
        Kind::Bool => Value::Bool(t.f_int64_value(&[])? != 0),
        _ if t.is_floating_point() => Value::Float(t.f_double_value(&[])?),
        _ => Value::Int(t.f_int64_value(&[])?),
    })
}

fn tolist(t: &Tensor) -> PyResult<Value> {
    if t.dim() == 0 {
        return scalar(t);
    }
    let n = t.size()[0];
    let items = (0..n)
        .map(|i| tolist(&t.f_select(0, i)?))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Value::list(items))
}

fn normalize(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let j = if i < 0 { i + len } else { i };
    (0..len).contains(&j).then_some(j as usize)
}

/// `t[index]`: ints select, slices narrow (views), `None` adds a dim, `...` skips dims;
/// a bool or integer tensor indexes like torch's advanced indexing.
pub fn get_item(t: &Tensor, index: &Value) -> PyResult<Tensor> {
    let parts: Vec<Value> = match index {
        Value::Tuple(items) => items.to_vec(),
        other => vec![other.clone()],
    };
    let consuming = parts
        .iter()
        .filter(|p| !matches!(p, Value::None | Value::Ellipsis))
        .count();
    let mut out = t.shallow_clone();
    let mut dim: i64 = 0;
    for part in &parts {
        match part {
            Value::Int(_) | Value::Bool(_) => {
                let i = part.as_int().unwrap_or_default();
                let size = out.size();
                let d = dim as usize;
                if d >= size.len() {
                    return Err(PyErr::index_error(format!(
                        "too many indices for tensor of dimension {}",
                        t.dim()
                    )));
                }
                let j = normalize(i, size[d] as usize).ok_or_else(|| {
                    PyErr::index_error(format!(
                        "index {i} is out of bounds for dimension {d} with size {}",
                        size[d]
                    ))
                })?;
                out = out.f_select(dim, j as i64)?;
            }
            Value::Slice(s) => {
                if dim as usize >= out.dim() {
                    return Err(PyErr::index_error(format!(
                        "too many indices for tensor of dimension {}",
                        t.dim()
                    )));
                }
                let start = slice_bound(&s[0])?;
                let end = slice_bound(&s[1])?;
                let step = slice_bound(&s[2])?.unwrap_or(1);
                if step <= 0 {
                    return Err(PyErr::value_error("step must be greater than zero"));
                }
                out = out.f_slice(dim, start, end, step)?;
                dim += 1;
            }
            Value::None => {
                out = out.f_unsqueeze(dim)?;
                dim += 1;
            }
            Value::Ellipsis => {
                let remaining = out.dim() as i64 - dim;
                let after = consuming as i64 - consumed_before(&parts, part);
                dim += (remaining - after).max(0);
            }
            Value::Tensor(idx) => {
                let mut indices: Vec<Option<Tensor>> = (0..dim).map(|_| None).collect();
                indices.push(Some(idx.0.shallow_clone()));
                out = out.f_index(&indices)?;
                dim += 1;
            }
            Value::List(l) => {
                let ints = lock(l)
                    .iter()
                    .map(|v| v.as_int())
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        PyErr::index_error("only lists of integers are valid tensor indices")
                    })?;
                let mut indices: Vec<Option<Tensor>> = (0..dim).map(|_| None).collect();
                indices.push(Some(Tensor::from_slice(&ints).to_device(out.device())));
                out = out.f_index(&indices)?;
                dim += 1;
            }
            other => {
                return Err(PyErr::index_error(format!(
                    "only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are valid indices (got {})",
                    other.type_name()
                )));
            }
        }
    }
    Ok(out)
}

fn consumed_before(parts: &[Value], at: &Value) -> i64 {
    let pos = parts.iter().position(|p| std::ptr::eq(p, at)).unwrap_or(0);
    parts[..pos]
        .iter()
        .filter(|p| !matches!(p, Value::None | Value::Ellipsis))
        .count() as i64
}

fn slice_bound(v: &Value) -> PyResult<Option<i64>> {
    match v {
        Value::None => Ok(None),
        Value::Tensor(t) if t.0.numel() == 1 => Ok(Some(t.0.f_int64_value(&[])?)),
        other => other
            .as_int()
            .map(Some)
            .ok_or_else(|| PyErr::type_error("slice indices must be integers or None")),
    }
}

/// `t[index] = value`: writes through the view into the tensor (in place, like torch).
pub fn set_item(t: &Tensor, index: &Value, value: &Value) -> PyResult<()> {
    let has_advanced = match index {
        Value::Tuple(items) => items
            .iter()
            .any(|p| matches!(p, Value::Tensor(_) | Value::List(_))),
        other => matches!(other, Value::Tensor(_) | Value::List(_)),
    };
    if has_advanced {
        return Err(PyErr::unsupported(
            "assignment through a tensor or list index",
        ));
    }
    let mut view = get_item(t, index)?;
    match value {
        Value::Tensor(v) => {
            let src = v.0.f_to_kind(view.kind())?.f_to_device(view.device())?;
            view.f_copy_(&src.f_expand(view.size().as_slice(), false)?)?;
        }
        other => {
            let s = scalar_of(other)?;
            let _filled = view.f_fill_(s)?;
        }
    }
    Ok(())
}

fn scalar_of(v: &Value) -> PyResult<tch::Scalar> {
    Ok(match v {
        Value::Bool(b) => tch::Scalar::int(i64::from(*b)),
        Value::Int(i) => tch::Scalar::int(*i),
        Value::Float(f) => tch::Scalar::float(*f),
        other => {
            return Err(PyErr::type_error(format!(
                "can't assign a {} to a Tensor element",
                other.type_name()
            )));
        }
    })
}

/// Binary arithmetic where at least one side is a tensor. Scalars go through torch's
/// `*_scalar` overloads so type promotion matches Python (`t * 2.0` stays float32).
pub fn binary(op: &str, a: &Value, b: &Value) -> Option<PyResult<Value>> {
    let r = match (a, b) {
        (Value::Tensor(x), Value::Tensor(y)) => tensor_tensor(op, &x.0, &y.0),
        (Value::Tensor(x), s) => scalar_of(s)
            .ok()
            .map(|s| tensor_scalar(op, &x.0, s, false))?,
        (s, Value::Tensor(y)) => scalar_of(s)
            .ok()
            .map(|s| tensor_scalar(op, &y.0, s, true))?,
        _ => return None,
    };
    Some(r.map(Value::tensor))
}

fn tensor_tensor(op: &str, x: &Tensor, y: &Tensor) -> PyResult<Tensor> {
    Ok(match op {
        "+" => x.f_add(y)?,
        "-" => x.f_sub(y)?,
        "*" => x.f_mul(y)?,
        "/" => x.f_div(y)?,
        "//" => x.f_floor_divide(y)?,
        "%" => x.f_remainder_tensor(y)?,
        "**" => x.f_pow(y)?,
        "@" => x.f_matmul(y)?,
        "==" => x.f_eq_tensor(y)?,
        "!=" => x.f_ne_tensor(y)?,
        "<" => x.f_lt_tensor(y)?,
        "<=" => x.f_le_tensor(y)?,
        ">" => x.f_gt_tensor(y)?,
        ">=" => x.f_ge_tensor(y)?,
        other => return Err(PyErr::unsupported(format!("operator '{other}' on tensors"))),
    })
}

fn tensor_scalar(op: &str, x: &Tensor, s: tch::Scalar, reflected: bool) -> PyResult<Tensor> {
    Ok(match (op, reflected) {
        ("+", _) => x.f_add_scalar(s)?,
        ("*", _) => x.f_mul_scalar(s)?,
        ("-", false) => x.f_sub_scalar(s)?,
        ("-", true) => x.f_neg()?.f_add_scalar(s)?,
        ("/", false) => x.f_div_scalar(s)?,
        ("/", true) => x.f_reciprocal()?.f_mul_scalar(s)?,
        ("**", false) => x.f_pow_tensor_scalar(s)?,
        ("%", false) => x.f_remainder(s)?,
        ("//", false) => x.f_floor_divide_scalar(s)?,
        ("==", _) => x.f_eq(s)?,
        ("!=", _) => x.f_ne(s)?,
        ("<", false) | (">", true) => x.f_lt(s)?,
        ("<=", false) | (">=", true) => x.f_le(s)?,
        (">", false) | ("<", true) => x.f_gt(s)?,
        (">=", false) | ("<=", true) => x.f_ge(s)?,
        (other, _) => {
            return Err(PyErr::unsupported(format!(
                "operator '{other}' with a scalar on the left of a tensor"
            )));
        }
    })
}

/// In-place `t op= v` (`+=`, `-=`, `*=`, `/=`) on a tensor: mutates it, like torch.
pub fn inplace(op: &str, t: &Tensor, v: &Value) -> Option<PyResult<()>> {
    let mut t = t.shallow_clone();
    let r = match (op, v) {
        ("+", Value::Tensor(y)) => t.f_add_(&y.0).map(drop),
        ("-", Value::Tensor(y)) => t.f_sub_(&y.0).map(drop),
        ("*", Value::Tensor(y)) => t.f_mul_(&y.0).map(drop),
        ("/", Value::Tensor(y)) => t.f_div_(&y.0).map(drop),
        (op, s) => {
            let s = scalar_of(s).ok()?;
            match op {
                "+" => t.f_add_scalar_(s).map(drop),
                "-" => t.f_sub_scalar_(s).map(drop),
                "*" => t.f_mul_scalar_(s).map(drop),
                "/" => t.f_div_scalar_(s).map(drop),
                _ => return None,
            }
        }
    };
    Some(r.map_err(PyErr::from))
}
