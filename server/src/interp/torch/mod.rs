//! Tensors in user code: torch's operations through one table ([`ops`]) of PyTorch-style
//! schemas ([`schema`]) serving tensor methods, `torch.*`, `torch.nn.functional.*` and
//! `torch.linalg.*` alike; the operators (`+`, `==`, `@`, `+=`, ...) with torch's type
//! promotion; indexing ([`index`]); tensor attributes; and the `torch` module namespace.
//! Tensors user code creates live on the model's device and are charged to the job's
//! memory budget; in-place writes into the model's weights are refused.

pub mod create;
pub mod index;
pub mod ops;
pub mod schema;

use std::rc::Rc;

use ruff_python_ast::UnaryOp;
use tch::{Kind, Tensor};

use super::Interp;
use super::call::Kwargs;
use crate::value::object::{Aux, Native, PyModule};
use crate::value::tensor::{Tens, check_writable};
use crate::value::types::{self};
use crate::value::{PyErr, PyResult, Record, RecordKind, Value, dtype};

pub use ops::Ns;

/// Runs tensor code, turning tch's panics into torch's Python errors. tch checks
/// libtorch's error state when it frees a temporary `Scalar`; after a failing call that
/// check runs before the call's own error is read, and it panics with torch's message
/// (e.g. `bitwise_and` on a float tensor and a Python int). Such a panic is the error
/// torch raises, so it becomes that exception instead of ending the job. Any other panic
/// is a localndif bug: an `InternalError` the user cannot catch, logged with an id.
pub fn guarded<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let text = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("a panic without a message");
            Err(panic_error(text))
        }
    }
}

/// `called `Result::unwrap()` on an `Err` value: Torch("...")` → torch's exception; any
/// other panic → an `InternalError` naming the id it was logged under.
fn panic_error(text: &str) -> PyErr {
    match (text.find("Torch(\""), text.rfind("\")")) {
        (Some(a), Some(b)) if b > a + 7 => {
            let inner = text[a + 7..b].replace("\\n", "\n").replace("\\\"", "\"").replace("\\'", "'");
            PyErr::from(tch::TchError::Torch(inner))
        }
        _ => {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::error!(panic_id = id, panic = text, "a torch operation panicked: a localndif bug");
            PyErr::internal(format!("a torch operation panicked (panic #{id} in the server log)"))
        }
    }
}

pub use crate::value::tensor::dim_size;

/// A new tensor from an op that allocated it.
pub fn fresh(t: Tensor) -> PyResult<Value> {
    Ok(Value::Tensor(Tens::fresh(t)?))
}

/// A view (or alias) of existing storage.
pub fn view(t: Tensor) -> PyResult<Value> {
    Ok(Value::Tensor(Tens::new(t)))
}

pub fn kind_repr(k: Kind) -> String {
    format!("torch.{}", dtype::name(k))
}

/// torch's namedtuple results (`torch.return_types.max`).
pub fn named(class: &str, fields: Vec<(&str, Value)>) -> Value {
    Value::Record(Record::new(RecordKind::NamedTuple, "torch.return_types", class, fields))
}

/// `t.item()`: a Python int, float or bool.
pub fn item(t: &Tensor) -> PyResult<Value> {
    if t.numel() != 1 {
        return Err(PyErr::runtime_error(format!(
            "a Tensor with {} elements cannot be converted to Scalar",
            t.numel()
        )));
    }
    let k = t.kind();
    Ok(if k == Kind::Bool {
        Value::Bool(t.f_int64_value(&[])? != 0)
    } else if dtype::is_integral(k, false) {
        Value::Int(t.f_int64_value(&[])?)
    } else if dtype::is_complex(k) {
        return Err(PyErr::unsupported("complex tensors"));
    } else {
        Value::Float(t.f_double_value(&[])?)
    })
}

/// `bool(t)`.
pub fn tensor_bool(t: &Tensor) -> PyResult<bool> {
    if t.numel() != 1 {
        return Err(PyErr::runtime_error(format!(
            "Boolean value of Tensor with {} values is ambiguous",
            if t.numel() == 0 { "no".to_string() } else { "more than one".to_string() }
        ))
        .map_text(|m| if m.contains("no values") { "Boolean value of Tensor with no values is ambiguous".into() } else { "Boolean value of Tensor with more than one value is ambiguous".into() }));
    }
    Ok(t.f_double_value(&[])? != 0.0)
}

impl PyErr {
    fn map_text(self, f: impl FnOnce(&str) -> String) -> PyErr {
        let m = f(&self.message());
        PyErr::runtime_error(m)
    }
}

/// `tolist()`.
pub fn tolist(t: &Tensor) -> PyResult<Value> {
    crate::value::stack::guard()?;
    if t.dim() == 0 {
        return item(t);
    }
    // rank: t.dim() > 0 here.
    let n = t.size()[0];
    let mut items = Vec::with_capacity(n as usize);
    for i in 0..n {
        items.push(tolist(&t.f_select(0, i)?)?);
    }
    Ok(Value::List(crate::value::List::checked(items)?))
}

fn op_name(op: &str) -> &'static str {
    match op {
        "+" => "add",
        "-" => "sub",
        "*" => "mul",
        "/" => "div",
        "//" => "floor_divide",
        "%" => "remainder",
        "**" => "pow",
        "@" => "matmul",
        "&" => "bitwise_and",
        "|" => "bitwise_or",
        "^" => "bitwise_xor",
        "<<" => "bitwise_left_shift",
        ">>" => "bitwise_right_shift",
        _ => "",
    }
}

/// Elements of the broadcast of two shapes (to refuse huge results before computing).
fn broadcast_numel(a: &[i64], b: &[i64]) -> i64 {
    let n = a.len().max(b.len());
    let mut total: i64 = 1;
    for i in 0..n {
        let x = if i < n - a.len() { 1 } else { a[i - (n - a.len())] };
        let y = if i < n - b.len() { 1 } else { b[i - (n - b.len())] };
        total = total.saturating_mul(x.max(y));
    }
    total
}

fn check_broadcast(a: &Value, b: &Value) -> PyResult<()> {
    if let (Value::Tensor(x), Value::Tensor(y)) = (a, b) {
        crate::value::tensor::check_numel(broadcast_numel(&x.t.size(), &y.t.size()))?;
    }
    Ok(())
}

/// `a op b` where one side is a tensor; `Ok(None)` if torch does not take the operand.
pub fn binary(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    guarded(|| binary_unguarded(it, op, a, b))
}

fn binary_unguarded(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let name = op_name(op);
    if name.is_empty() {
        return Ok(None);
    }
    let ok_operand = |v: &Value| {
        matches!(v, Value::Tensor(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_))
    };
    if !ok_operand(a) || !ok_operand(b) {
        return Ok(None);
    }
    if op == "@" {
        if let (Value::Tensor(x), Value::Tensor(y)) = (a, b) {
            let (xs, ys) = (x.t.size(), y.t.size());
            if xs.len() >= 2 && ys.len() >= 2 {
                let mut out = xs[..xs.len() - 1].to_vec();
                out.push(ys[ys.len() - 1]);
                crate::value::tensor::check_numel(crate::value::tensor::shape_numel(&out))?;
            }
            return Ok(Some(fresh(x.t.f_matmul(&y.t)?)?));
        }
        return Ok(None);
    }
    check_broadcast(a, b)?;
    match (a, b) {
        (Value::Tensor(_), _) => ops::call(it, Ns::Method, name, Some(a.clone()), vec![b.clone()], vec![]).map(Some),
        (_, Value::Tensor(t)) => {
            // Reflected: `2 - t` is `t.rsub(2)`, `2 / t` is `t.reciprocal() * 2`, ...
            let x = &t.t;
            let s = schema::scalar_of(a)?;
            let r = match op {
                "+" => x.f_add_scalar(s)?,
                "*" => x.f_mul_scalar(s)?,
                "-" => x.f_rsub_scalar(s)?,
                "/" => {
                    let num = Tensor::f_scalar_tensor(s, (result_kind_for_scalar(x, a, true), x.device()))?;
                    num.f_div(x)?
                }
                "//" => Tensor::f_scalar_tensor(s, (result_kind_for_scalar(x, a, false), x.device()))?.f_floor_divide(x)?,
                "%" => Tensor::f_scalar_tensor(s, (result_kind_for_scalar(x, a, false), x.device()))?.f_remainder_tensor(x)?,
                "**" => Tensor::f_pow_scalar(s, x)?,
                "&" => x.f_bitwise_and(s)?,
                "|" => x.f_bitwise_or(s)?,
                "^" => x.f_bitwise_xor(s)?,
                _ => return Ok(None),
            };
            Ok(Some(fresh(r)?))
        }
        _ => Ok(None),
    }
}

/// The dtype a Python scalar takes when it meets tensor `t` as a wrapped number.
fn result_kind_for_scalar(t: &Tensor, scalar: &Value, true_div: bool) -> Kind {
    let tk = t.kind();
    match scalar {
        Value::Float(_) if !dtype::is_float(tk) => dtype::DEFAULT_FLOAT,
        _ if true_div && !dtype::is_float(tk) => dtype::DEFAULT_FLOAT,
        Value::Int(_) if tk == Kind::Bool => Kind::Int64,
        _ => tk,
    }
}

/// `a <op> b` comparisons with a tensor side.
pub fn compare(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    guarded(|| compare_unguarded(it, op, a, b))
}

fn compare_unguarded(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let name = match op {
        "==" => "eq",
        "!=" => "ne",
        "<" => "lt",
        "<=" => "le",
        ">" => "gt",
        _ => "ge",
    };
    let ok = |v: &Value| matches!(v, Value::Tensor(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_));
    if !ok(a) || !ok(b) {
        if matches!(op, "==" | "!=") {
            return Ok(Some(Value::Bool((op == "!=") != a.is(b))));
        }
        return Ok(None);
    }
    check_broadcast(a, b)?;
    match (a, b) {
        (Value::Tensor(_), _) => ops::call(it, Ns::Method, name, Some(a.clone()), vec![b.clone()], vec![]).map(Some),
        (_, Value::Tensor(_)) => {
            let flipped = match name {
                "lt" => "gt",
                "le" => "ge",
                "gt" => "lt",
                "ge" => "le",
                other => other,
            };
            ops::call(it, Ns::Method, flipped, Some(b.clone()), vec![a.clone()], vec![]).map(Some)
        }
        _ => Ok(None),
    }
}

/// `t op= v` in place (the same tensor object is rebound, so `m.output += 1` and `h **= 2`
/// edit the live activation). `Ok(None)` if torch has no in-place form for the operand.
pub fn inplace(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    guarded(|| inplace_unguarded(it, op, a, b))
}

fn inplace_unguarded(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let name = match op {
        "+" => "add_",
        "-" => "sub_",
        "*" => "mul_",
        "/" => "div_",
        "//" => "floor_divide_",
        "%" => "remainder_",
        "**" => "pow_",
        "&" => "bitwise_and_",
        "|" => "bitwise_or_",
        "^" => "bitwise_xor_",
        "<<" => "bitwise_left_shift_",
        ">>" => "bitwise_right_shift_",
        "@" => {
            // `a @= b` is not in place in torch: it rebinds to `a @ b`.
            return binary(it, op, a, b);
        }
        _ => return Ok(None),
    };
    if !matches!(b, Value::Tensor(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)) {
        return Ok(None);
    }
    ops::call(it, Ns::Method, name, Some(a.clone()), vec![b.clone()], vec![]).map(Some)
}

pub fn unary(it: &mut Interp, op: UnaryOp, v: &Value) -> PyResult<Value> {
    guarded(|| unary_unguarded(it, op, v))
}

fn unary_unguarded(it: &mut Interp, op: UnaryOp, v: &Value) -> PyResult<Value> {
    let Value::Tensor(t) = v else {
        return Err(PyErr::type_error("expected a tensor"));
    };
    match op {
        UnaryOp::USub => fresh(t.t.f_neg()?),
        UnaryOp::UAdd => Ok(v.clone()),
        UnaryOp::Invert => ops::call(it, Ns::Method, "bitwise_not", Some(v.clone()), vec![], vec![]),
        UnaryOp::Not => Ok(Value::Bool(!tensor_bool(&t.t)?)),
    }
}

pub fn getitem(_it: &mut Interp, obj: &Value, idx: &Value) -> PyResult<Value> {
    guarded(|| getitem_unguarded(_it, obj, idx))
}

fn getitem_unguarded(_it: &mut Interp, obj: &Value, idx: &Value) -> PyResult<Value> {
    let Value::Tensor(t) = obj else {
        return Err(PyErr::type_error("expected a tensor"));
    };
    let (r, copied) = index::get(&t.t, idx)?;
    if copied { fresh(r) } else { view(r) }
}

pub fn setitem(_it: &mut Interp, obj: &Value, idx: &Value, v: &Value) -> PyResult<()> {
    guarded(|| setitem_unguarded(_it, obj, idx, v))
}

fn setitem_unguarded(_it: &mut Interp, obj: &Value, idx: &Value, v: &Value) -> PyResult<()> {
    let Value::Tensor(t) = obj else {
        return Err(PyErr::type_error("expected a tensor"));
    };
    index::set(&t.t, idx, v)
}

/// Tensor attributes, then methods from the op table.
pub fn tensor_getattr(it: &mut Interp, obj: &Value, name: &str) -> PyResult<Option<Value>> {
    let Value::Tensor(t) = obj else {
        return Ok(None);
    };
    let x = &t.t;
    Ok(Some(match name {
        "shape" => Value::Size(Rc::new(x.size())),
        "dtype" => Value::Dtype(x.kind()),
        "device" => Value::Device(x.device()),
        "ndim" => Value::Int(x.dim() as i64),
        "T" => {
            let perm: Vec<i64> = (0..x.dim() as i64).rev().collect();
            view(x.f_permute(perm.as_slice())?)?
        }
        "mT" => view(x.f_transpose(-2, -1)?)?,
        "data" => view(x.f_detach()?)?,
        "requires_grad" => Value::Bool(x.requires_grad()),
        "is_leaf" => Value::Bool(x.f_is_leaf()?),
        "is_cuda" => Value::Bool(x.device().is_cuda()),
        "is_cpu" => Value::Bool(x.device() == tch::Device::Cpu),
        "is_meta" | "is_sparse" | "is_quantized" | "is_nested" => Value::Bool(false),
        "grad" => {
            if let Some(r) = it.host.grad(obj) {
                return r.map(Some);
            }
            // A non-leaf's `.grad` is None (libtorch would also print a warning on the
            // server's stderr; the client's own torch warns locally).
            if !x.f_is_leaf()? {
                return Ok(Some(Value::None));
            }
            let g = x.f_grad()?;
            if g.defined() { view(g)? } else { Value::None }
        }
        "grad_fn" => Value::None,
        "itemsize" => Value::Int(x.kind().elt_size_in_bytes() as i64),
        "nbytes" => Value::Int((x.numel() * x.kind().elt_size_in_bytes()) as i64),
        "layout" => Value::str("torch.strided"),
        _ => return Ok(ops::method(it, obj, name)),
    }))
}

pub fn tensor_setattr(it: &mut Interp, obj: &Value, name: &str, v: Value) -> PyResult<()> {
    let Value::Tensor(t) = obj else {
        return Err(PyErr::type_error("expected a tensor"));
    };
    match name {
        "requires_grad" => {
            let b = matches!(v, Value::Bool(true));
            let mut h = t.handle();
            if b && !dtype::is_float(h.kind()) {
                return Err(PyErr::runtime_error("only Tensors of floating point dtype can require gradients"));
            }
            let _ = h.f_requires_grad_(b)?;
            Ok(())
        }
        "data" => {
            let Value::Tensor(src) = &v else {
                return Err(PyErr::type_error("data must be a Tensor"));
            };
            check_writable(&t.t)?;
            t.handle().f_set_data(&src.t)?;
            Ok(())
        }
        "grad" => match it.host.set_grad(obj, &v) {
            Some(r) => r,
            None => Err(PyErr::unsupported("assigning `.grad` outside a `with loss.backward():` block")),
        },
        other => Err(PyErr::unsupported(format!("setting the tensor attribute '{other}'"))),
    }
}

/// `torch.Tensor.<name>` unbound (`torch.Tensor.add(t, 1)`).
pub fn unbound_method(name: &str) -> Option<Value> {
    if !ops::has(Ns::Method, name) {
        return None;
    }
    Some(Native::with_aux(
        name,
        None,
        |it, n, mut args, kw| {
            if args.is_empty() {
                return Err(PyErr::type_error(format!("descriptor '{}' of 'torch._C.TensorBase' object needs an argument", n.name)));
            }
            let recv = args.remove(0);
            ops::call(it, Ns::Method, &n.name, Some(recv), args, kw)
        },
        Aux::None,
    ))
}

/// `torch.Tensor(data)` (legacy constructor: float32).
pub fn tensor_ctor(_it: &mut Interp, args: Vec<Value>, _kw: Kwargs) -> PyResult<Value> {
    match args.as_slice() {
        [v @ (Value::List(_) | Value::Tuple(_))] => {
            fresh(create::tensor_from_value_on(v, Some(Kind::Float), crate::value::ctx::device())?)
        }
        dims if dims.iter().all(|d| d.as_int().is_some()) => {
            let size: Vec<i64> = dims.iter().filter_map(Value::as_int).collect();
            create::check_size(&size)?;
            fresh(Tensor::f_empty(size.as_slice(), (Kind::Float, crate::value::ctx::device()))?)
        }
        _ => Err(PyErr::type_error("torch.Tensor() received an invalid combination of arguments")),
    }
}

/// Attributes of the `torch` module.
pub fn torch_attr(name: &str) -> Option<Value> {
    if let Some(k) = dtype::by_name(name) {
        return Some(Value::Dtype(k));
    }
    Some(match name {
        "Tensor" => Value::Type(&types::TENSOR),
        "Size" => Value::Type(&types::SIZE),
        "device" => Value::Type(&types::DEVICE),
        "dtype" => Value::Type(&types::DTYPE),
        "nn" => PyModule::builtin("torch.nn", nn_attr),
        "linalg" => PyModule::builtin("torch.linalg", |n| ops::namespace_fn(Ns::Linalg, n)),
        "inf" => Value::Float(f64::INFINITY),
        "nan" => Value::Float(f64::NAN),
        "pi" => Value::Float(std::f64::consts::PI),
        "e" => Value::Float(std::f64::consts::E),
        "no_grad" | "inference_mode" | "enable_grad" | "set_grad_enabled" => ops::grad_mode(name),
        "is_tensor" => Native::value("is_tensor", |_, _, a, _| Ok(Value::Bool(matches!(a.first(), Some(Value::Tensor(t)) if !t.is_numpy())))),
        "from_numpy" => Native::value("from_numpy", |_, _, a, _| {
            let v = a.first().ok_or_else(|| PyErr::type_error("from_numpy() takes exactly one argument (0 given)"))?;
            crate::interp::numpy::from_numpy(v)
        }),
        "is_floating_point" => Native::value("is_floating_point", |_, _, a, _| match a.first() {
            Some(Value::Tensor(t)) => Ok(Value::Bool(dtype::is_float(t.t.kind()))),
            _ => Err(PyErr::type_error("is_floating_point(): argument 'input' must be Tensor")),
        }),
        "get_default_dtype" => Native::value("get_default_dtype", |_, _, _, _| Ok(Value::Dtype(dtype::DEFAULT_FLOAT))),
        "manual_seed" => Native::value("manual_seed", |_, _, a, _| {
            let s = a.first().and_then(Value::as_int).ok_or_else(|| PyErr::type_error("manual_seed expected an int"))?;
            tch::manual_seed(s);
            Ok(Value::None)
        }),
        "cuda" => PyModule::builtin("torch.cuda", |n| match n {
            "is_available" => Some(Native::value("is_available", |_, _, _, _| Ok(Value::Bool(matches!(crate::value::ctx::device(), tch::Device::Cuda(_)))))),
            "device_count" => Some(Native::value("device_count", |_, _, _, _| Ok(Value::Int(tch::Cuda::device_count())))),
            _ => None,
        }),
        _ => return ops::namespace_fn(Ns::Function, name),
    })
}

fn nn_attr(name: &str) -> Option<Value> {
    match name {
        "functional" => Some(PyModule::builtin("torch.nn.functional", |n| ops::namespace_fn(Ns::Functional, n))),
        _ => None,
    }
}

#[cfg(test)]
mod guarded_tests {
    use super::*;

    /// tch's panic with libtorch's error is torch's exception; any other panic inside a
    /// torch op is a localndif bug, never the user's error.
    #[test]
    fn torch_panics_are_torch_errors_and_other_panics_are_ours() {
        let torch: PyResult<()> = guarded(|| panic!("called `Result::unwrap()` on an `Err` value: Torch(\"bad dtype\")"));
        let e = torch.unwrap_err();
        assert!(!e.is_internal() && e.headline().contains("bad dtype"), "{}", e.headline());
        let ours: PyResult<i64> = guarded(|| {
            let v: Vec<i64> = Vec::new();
            Ok(v[3])
        });
        let e = ours.unwrap_err();
        assert!(e.is_internal(), "{}", e.headline());
        assert!(e.headline().starts_with(crate::jobs::INTERNAL_ERROR) && e.headline().contains("panic #"), "{}", e.headline());
    }
}

/// The rule that keeps a user's tensor of an unexpected rank from panicking the server:
/// every `size()[…]` in the server's source says, in a `// rank:` comment on its line or
/// the line above, why the index exists — or uses [`dim_size`], which checks.
#[cfg(test)]
mod rank_rule {
    #[test]
    fn every_size_index_says_why_the_dimension_exists() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut bad = Vec::new();
        let mut stack = vec![root];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_none_or(|x| x != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, l) in lines.iter().enumerate() {
                    let code = l.split("//").next().unwrap_or("");
                    if !code.contains("size()[") || code.contains("\"size()[") {
                        continue;
                    }
                    let said = l.contains("// rank:") || (i > 0 && lines[i - 1].trim_start().starts_with("// rank:"));
                    if !said {
                        bad.push(format!("{}:{}: {}", p.display(), i + 1, l.trim()));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "size()[i] without a `// rank:` reason (or use dim_size):\n{}", bad.join("\n"));
    }
}
