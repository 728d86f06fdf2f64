//! numpy for intervention code (NDIF allows it for bookkeeping on CPU values). An ndarray
//! is a CPU tensor flagged as numpy ([`Np::Array`]), a numpy scalar (`np.float64`, what
//! a reduction returns) a 0-d one flagged [`Np::Scalar`], so the data lives in tch and
//! every size goes through the tensor checks and the job's memory budget; but the
//! semantics are numpy's, written here: dtype inference (ints → int64, floats → float64),
//! NEP 50 promotion (Python scalars are weak, `int64 + float32` is float64, `int / int`
//! is float64), integer wraparound, reductions that return scalars and sum floats
//! pairwise in memory order as numpy does (so sums and means are bit-identical to
//! numpy's), numpy's indexing (negative steps included), printing
//! (`crate::value::numpy`) and pickling (`job::save`). A name the real numpy has that
//! is not provided here raises `NotImplementedError` naming it, at the user's line.
//!
//! Interop: `torch.from_numpy(a)` and `t.numpy()` share storage, `torch.tensor(a)` copies
//! with the dtype kept, and an operator between a torch tensor and numpy values follows
//! torch (a numpy scalar there is a Python number).

mod create;
mod index;
mod math;
mod reduce;

use std::rc::Rc;

use tch::{Device, Kind, Tensor};

use super::Interp;
use super::call::Kwargs;
use super::host::HostObj;
use crate::value::numpy as vnp;
use crate::value::object::{Aux, Native, PyModule};
use crate::value::tensor::{Np, Tens};
use crate::value::types::{self, TypeObj};
use crate::value::{PyErr, PyResult, Value, int};

pub use create::from_value;
pub use index::{getitem, setitem};
pub use math::{binary, compare, inplace, unary};

/// Whether `v` is a numpy array or scalar.
pub fn is_np(v: &Value) -> bool {
    matches!(v, Value::Tensor(t) if t.is_numpy())
}

/// A numpy array or scalar operand's tensor.
fn np_tensor(v: &Value) -> Option<&Rc<Tens>> {
    match v {
        Value::Tensor(t) if t.is_numpy() => Some(t),
        _ => None,
    }
}

/// A new array over a tensor a numpy operation allocated (charged to the job).
pub fn array(t: Tensor) -> PyResult<Value> {
    Ok(Value::Tensor(Tens::fresh_as(t, Np::Array)?))
}

/// An array viewing existing storage (a slice, `t.numpy()`).
pub fn array_view(t: Tensor) -> Value {
    Value::Tensor(Tens::view_as(t, Np::Array))
}

/// A numpy scalar holding the one element of `t` (copied: scalars alias nothing).
pub fn scalar(t: &Tensor) -> PyResult<Value> {
    let c = super::torch::create::copy_of(&t.f_detach()?.f_to_device(Device::Cpu)?.f_reshape([0i64; 0])?)?;
    Ok(Value::Tensor(Tens::fresh_as(c, Np::Scalar)?))
}

/// What a numpy operation returns: a scalar for a 0-d result, else an array.
pub fn wrap(t: Tensor) -> PyResult<Value> {
    if t.dim() == 0 { scalar(&t) } else { array(t) }
}

/// A numpy scalar of `kind` from a Python number.
pub(crate) fn scalar_of(v: &Value, kind: Kind) -> PyResult<Value> {
    let t = match v {
        Value::Float(f) => Tensor::f_scalar_tensor(*f, (Kind::Double, Device::Cpu))?,
        Value::Bool(b) => Tensor::f_scalar_tensor(i64::from(*b), (Kind::Int64, Device::Cpu))?,
        Value::Int(i) => Tensor::f_scalar_tensor(*i, (Kind::Int64, Device::Cpu))?,
        other => return Err(PyErr::type_error(format!("expected a number, got {}", other.type_name()))),
    };
    scalar(&t.f_to_kind(kind)?)
}

/// The Python value of a numpy scalar or one-element array (`.item()`).
pub fn item(t: &Tensor) -> PyResult<Value> {
    if t.numel() != 1 {
        return Err(PyErr::value_error("can only convert an array of size 1 to a Python scalar"));
    }
    super::torch::item(&t.f_reshape([0i64; 0])?)
}

/// numpy's `NotImplementedError` for something not provided here.
pub fn unsupported(what: &str) -> PyErr {
    PyErr::unsupported(format!("`{what}`"))
}

/// numpy's `AxisError`.
fn axis_error(axis: i64, ndim: usize) -> PyErr {
    PyErr::new(&types::NP_AXIS_ERROR, format!("axis {axis} is out of bounds for array of dimension {ndim}"))
}

/// A normalized axis.
fn norm_axis(axis: i64, ndim: usize) -> PyResult<usize> {
    let n = ndim as i64;
    if axis < -n || axis >= n {
        return Err(axis_error(axis, ndim));
    }
    Ok(if axis < 0 { (axis + n) as usize } else { axis as usize })
}

/// An int argument (Python int or bool, numpy integer scalar).
fn int_arg(v: &Value, what: &str) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Tensor(t) if t.np == Np::Scalar && vnp::kind_char(t.t.kind()) != 'f' => Ok(t.t.f_int64_value(&[])?),
        other => Err(PyErr::type_error(format!("'{}' object cannot be interpreted as an integer ({what})", other.type_name()))),
    }
}

/// A float argument (Python number or numpy scalar).
fn float_arg(v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Tensor(t) if t.t.numel() == 1 => Ok(t.t.f_double_value(&[])?),
        v if int::is_int(v) => int::to_f64(v),
        other => Err(PyErr::type_error(format!("must be real number, not {}", other.type_name()))),
    }
}

fn bool_arg(v: &Value) -> PyResult<bool> {
    Ok(match v {
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::None => false,
        Value::Tensor(t) if t.t.numel() == 1 => t.t.f_double_value(&[])? != 0.0,
        other => return Err(PyErr::type_error(format!("expected a bool, got {}", other.type_name()))),
    })
}

/// A shape argument: an int or a sequence of ints.
fn shape_arg(it: &mut Interp, v: &Value) -> PyResult<Vec<i64>> {
    match v {
        Value::List(_) | Value::Tuple(_) | Value::Size(_) => it.collect(v)?.iter().map(|d| int_arg(d, "shape")).collect(),
        other => Ok(vec![int_arg(other, "shape")?]),
    }
}

/// Checks a shape before anything of it is allocated.
fn check_shape(shape: &[i64]) -> PyResult<()> {
    if shape.iter().any(|&d| d < 0) {
        return Err(PyErr::value_error("negative dimensions are not allowed"));
    }
    super::torch::create::check_size(shape)
}

/// A `dtype=` argument: a numpy type (`np.float32`), Python's `float`/`int`/`bool`, a
/// dtype object, or its name.
pub fn dtype_arg(v: &Value) -> PyResult<Option<Kind>> {
    Ok(Some(match v {
        Value::None => return Ok(None),
        Value::Type(t) if std::ptr::eq(*t, &types::FLOAT) => Kind::Double,
        Value::Type(t) if std::ptr::eq(*t, &types::INT) => Kind::Int64,
        Value::Type(t) if std::ptr::eq(*t, &types::BOOL) => Kind::Bool,
        Value::Type(t) => match vnp::kind_of_type(t) {
            Some(k) => k,
            None if t.module == "numpy" => return Err(unsupported(&format!("numpy.dtype({})", t.qualified()))),
            None => return Err(PyErr::type_error(format!("Cannot interpret '<class '{}'>' as a data type", t.qualified()))),
        },
        Value::Str(s) => vnp::by_name(s.as_str()).ok_or_else(|| PyErr::type_error(format!("data type '{}' not understood", s.as_str())))?,
        Value::Host(h) if let Some(d) = h.as_any().downcast_ref::<NpDtype>() => d.0,
        other => {
            return Err(PyErr::type_error(format!(
                "Cannot interpret '{}' as a data type",
                crate::value::repr::repr_plain(other)
            )));
        }
    }))
}

/// A numpy dtype object (`a.dtype`, `np.dtype("f4")`).
pub struct NpDtype(pub Kind);

impl NpDtype {
    pub fn value(k: Kind) -> Value {
        Value::Host(Rc::new(NpDtype(k)))
    }
}

impl HostObj for NpDtype {
    fn type_name(&self) -> &str {
        "dtype"
    }
    fn repr(&self) -> String {
        vnp::dtype_repr(self.0)
    }
    fn str_text(&self) -> Option<String> {
        Some(vnp::name(self.0).to_string())
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        let k = self.0;
        let (code, order) = vnp::pickle_code(k).unwrap_or(("V", "|"));
        Ok(match name {
            "name" => Value::str(vnp::name(k)),
            "kind" => Value::string(vnp::kind_char(k).to_string()),
            "itemsize" | "alignment" => Value::Int(k.elt_size_in_bytes() as i64),
            "type" => Value::Type(vnp::scalar_type(k)),
            "str" => Value::string(format!("{order}{code}")),
            "byteorder" => Value::str(if order == "|" { "|" } else { "=" }),
            "char" => Value::str(match k {
                Kind::Bool => "?",
                Kind::Int8 => "b",
                Kind::Int16 => "h",
                Kind::Int => "i",
                Kind::Int64 => "l",
                Kind::Uint8 => "B",
                Kind::Half => "e",
                Kind::Float => "f",
                _ => "d",
            }),
            "ndim" => Value::Int(0),
            "shape" => Value::tuple(vec![]),
            "names" | "fields" | "subdtype" | "metadata" => Value::None,
            "isnative" => Value::Bool(true),
            other => {
                return Err(if super::modules::real_name("numpy.dtype", other) {
                    unsupported(&format!("numpy.dtype.{other}"))
                } else {
                    PyErr::attribute_error(format!("'numpy.dtype' object has no attribute '{other}'"))
                });
            }
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `dtype == other` (a dtype, a scalar type, a name, Python's `float`/`int`/`bool`);
/// `None` when neither side is a numpy dtype.
pub fn dtype_eq(a: &Value, b: &Value) -> Option<bool> {
    let get = |v: &Value| match v {
        Value::Host(h) => h.as_any().downcast_ref::<NpDtype>().map(|d| d.0),
        _ => None,
    };
    let (k, other) = match (get(a), get(b)) {
        (Some(k), _) => (k, b),
        (None, Some(k)) => (k, a),
        _ => return None,
    };
    Some(matches!(dtype_arg(other), Ok(Some(o)) if o == k))
}

/// Binds call arguments to named parameters: a plain name is positional-or-keyword,
/// names after `"*"` keyword-only. Missing ones are `None` in the result.
fn bind(fname: &str, spec: &[&str], args: Vec<Value>, kw: Kwargs) -> PyResult<Vec<Option<Value>>> {
    let star = spec.iter().position(|s| *s == "*").unwrap_or(spec.len());
    let names: Vec<&str> = spec.iter().copied().filter(|s| *s != "*").collect();
    let mut out: Vec<Option<Value>> = vec![None; names.len()];
    if args.len() > star {
        return Err(PyErr::type_error(format!(
            "{fname}() takes at most {star} positional argument{} ({} given)",
            if star == 1 { "" } else { "s" },
            args.len()
        )));
    }
    for (i, a) in args.into_iter().enumerate() {
        out[i] = Some(a);
    }
    for (k, v) in kw {
        let Some(i) = names.iter().position(|n| *n == k.as_ref()) else {
            return Err(PyErr::type_error(format!("{fname}() got an unexpected keyword argument '{k}'")));
        };
        if out[i].is_some() {
            return Err(PyErr::type_error(format!("argument for {fname}() given by name ('{k}') and position ({})", i + 1)));
        }
        out[i] = Some(v);
    }
    Ok(out)
}

/// The required first argument of a bound call.
fn required(fname: &str, a: &[Option<Value>], i: usize, name: &str) -> PyResult<Value> {
    a.get(i).cloned().flatten().ok_or_else(|| PyErr::type_error(format!("{fname}() missing required argument '{name}' (pos {})", i + 1)))
}

fn opt(a: &[Option<Value>], i: usize) -> Value {
    a.get(i).cloned().flatten().unwrap_or(Value::None)
}

/// Attributes of the `numpy` module.
pub fn module_attr(name: &str) -> Option<Value> {
    let ty = |t: &'static TypeObj| Some(Value::Type(t));
    match name {
        "pi" => return Some(Value::Float(std::f64::consts::PI)),
        "e" => return Some(Value::Float(std::f64::consts::E)),
        "inf" => return Some(Value::Float(f64::INFINITY)),
        "nan" => return Some(Value::Float(f64::NAN)),
        "euler_gamma" => return Some(Value::Float(0.577_215_664_901_532_9)),
        "newaxis" => return Some(Value::None),
        "True_" => return scalar_of(&Value::Bool(true), Kind::Bool).ok(),
        "False_" => return scalar_of(&Value::Bool(false), Kind::Bool).ok(),
        "ndarray" => return ty(&types::NDARRAY),
        "dtype" => return ty(&types::NP_DTYPE),
        "generic" => return ty(&types::NP_GENERIC),
        "number" => return ty(&types::NP_NUMBER),
        "integer" => return ty(&types::NP_INTEGER),
        "signedinteger" => return ty(&types::NP_SIGNEDINTEGER),
        "unsignedinteger" => return ty(&types::NP_UNSIGNEDINTEGER),
        "inexact" => return ty(&types::NP_INEXACT),
        "floating" => return ty(&types::NP_FLOATING),
        "bool" | "bool_" => return ty(&types::NP_BOOL),
        "int8" | "byte" => return ty(&types::NP_INT8),
        "int16" | "short" => return ty(&types::NP_INT16),
        "int32" | "intc" => return ty(&types::NP_INT32),
        "int64" | "int_" | "intp" | "long" | "longlong" => return ty(&types::NP_INT64),
        "uint8" | "ubyte" => return ty(&types::NP_UINT8),
        "float16" | "half" => return ty(&types::NP_FLOAT16),
        "float32" | "single" => return ty(&types::NP_FLOAT32),
        "float64" | "double" => return ty(&types::NP_FLOAT64),
        "AxisError" => return ty(&types::NP_AXIS_ERROR),
        "linalg" => return super::modules::import("numpy.linalg").ok(),
        "exceptions" => {
            return Some(PyModule::builtin("numpy.exceptions", |n| match n {
                "AxisError" => Some(Value::Type(&types::NP_AXIS_ERROR)),
                _ => None,
            }));
        }
        _ => {}
    }
    if create::FUNCTIONS.contains(&name) || math::FUNCTIONS.contains(&name) || reduce::FUNCTIONS.contains(&name) || OTHER.contains(&name) {
        return Some(Native::with_aux(name, None, call_function, Aux::None));
    }
    None
}

/// Module functions implemented in this file (shape and bookkeeping).
const OTHER: &[&str] = &[
    "shape", "ndim", "size", "transpose", "reshape", "ravel", "squeeze", "expand_dims", "flip", "atleast_1d",
    "atleast_2d", "isscalar", "result_type", "copyto", "issubdtype",
];

fn call_function(it: &mut Interp, n: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    call(it, &n.name.clone(), args, kw)
}

/// The numpy functions that turn a torch tensor argument into an array (`np.asarray`)
/// and give numpy results. The others hand a tensor to torch (ufuncs wrap their result
/// back into a tensor, reductions call the tensor's method with numpy's keywords, which
/// torch mostly refuses): those are not provided for tensors.
const TENSOR_TO_ARRAY: &[&str] = &[
    "array", "asarray", "asanyarray", "ascontiguousarray", "copy", "zeros_like", "ones_like", "empty_like", "full_like",
    "concatenate", "stack", "vstack", "hstack", "column_stack", "sort", "unique", "where", "dot", "vdot", "inner", "outer",
    "median", "average", "allclose", "isclose", "array_equal", "diff", "count_nonzero", "ravel", "expand_dims",
    "atleast_1d", "atleast_2d", "ndim", "isscalar", "result_type", "shape", "issubdtype",
];

/// `numpy.<name>(*args, **kw)`.
pub fn call(it: &mut Interp, name: &str, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    let torch_arg = |v: &Value| matches!(v, Value::Tensor(t) if !t.is_numpy());
    if !TENSOR_TO_ARRAY.contains(&name) && (args.iter().any(torch_arg) || kw.iter().any(|(_, v)| torch_arg(v))) {
        return Err(unsupported(&format!(
            "numpy.{name} of a torch.Tensor (numpy hands it to torch; convert it first with t.numpy() or np.array(t))"
        )));
    }
    if name == "shape"
        && let Some(Value::Tensor(t)) = args.first()
        && !t.is_numpy()
    {
        return Ok(Value::Size(Rc::new(t.t.size())));
    }
    if create::FUNCTIONS.contains(&name) {
        return create::call(it, name, args, kw);
    }
    if math::FUNCTIONS.contains(&name) {
        return math::call(it, name, args, kw);
    }
    if reduce::FUNCTIONS.contains(&name) {
        return reduce::call(it, name, args, kw);
    }
    shape_function(it, name, args, kw)
}

fn shape_function(it: &mut Interp, name: &str, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    match name {
        "shape" | "ndim" | "size" => {
            let a = bind(name, &["a", "axis"], args, kw)?;
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            Ok(match name {
                "shape" => shape_tuple(&t),
                "ndim" => Value::Int(t.dim() as i64),
                _ => match opt(&a, 1) {
                    Value::None => Value::Int(t.numel() as i64),
                    // rank: `norm_axis` checks the axis against t.dim().
                    ax => Value::Int(t.size()[norm_axis(int_arg(&ax, "axis")?, t.dim())?]),
                },
            })
        }
        "isscalar" => {
            let a = bind(name, &["element"], args, kw)?;
            let v = required(name, &a, 0, "element")?;
            Ok(Value::Bool(match &v {
                Value::Tensor(t) => t.np == Np::Scalar,
                Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Bool(_) | Value::Str(_) | Value::Bytes(_) => true,
                _ => false,
            }))
        }
        "result_type" => {
            let mut kinds = Vec::new();
            for v in &args {
                kinds.push(match dtype_arg(v) {
                    Ok(Some(k)) => math::Operand::strong(k),
                    _ => math::operand(it, v)?.ok_or_else(|| PyErr::type_error("result_type() arguments must be arrays, scalars or dtypes"))?,
                });
            }
            Ok(NpDtype::value(math::result_kind(&kinds)?))
        }
        "issubdtype" => {
            let a = bind(name, &["arg1", "arg2"], args, kw)?;
            let k1 = dtype_arg(&required(name, &a, 0, "arg1")?)?.unwrap_or(Kind::Double);
            let t1 = vnp::scalar_type(k1);
            Ok(Value::Bool(match required(name, &a, 1, "arg2")? {
                Value::Type(t2) if t2.module == "numpy" => t1.is_subtype(t2),
                other => dtype_arg(&other)? == Some(k1),
            }))
        }
        "copyto" => {
            let a = bind(name, &["dst", "src"], args, kw)?;
            let dst = required(name, &a, 0, "dst")?;
            let src = required(name, &a, 1, "src")?;
            index::setitem(it, &dst, &Value::Ellipsis, &src)?;
            Ok(Value::None)
        }
        _ => {
            // The rest take the array first and mirror the method of the same name.
            let mut args = args;
            if args.is_empty() {
                return Err(PyErr::type_error(format!("{name}() missing required argument 'a' (pos 1)")));
            }
            let a = args.remove(0);
            let arr = array(from_value(it, &a, None)?)?;
            let arr = if is_np(&a) && matches!(name, "transpose" | "reshape" | "ravel" | "squeeze" | "expand_dims" | "flip") { a } else { arr };
            if matches!(name, "atleast_1d" | "atleast_2d") {
                let t = np_tensor(&arr).map(|t| t.t.shallow_clone()).ok_or_else(|| PyErr::type_error("expected an array"))?;
                let want = if name == "atleast_1d" { 1 } else { 2 };
                let mut r = t;
                while r.dim() < want {
                    r = r.f_unsqueeze(0)?;
                }
                return Ok(array_view(r));
            }
            method(it, &arr, name, args, kw)
        }
    }
}

/// `a.shape` as numpy gives it (a tuple of ints).
fn shape_tuple(t: &Tensor) -> Value {
    Value::tuple(t.size().into_iter().map(Value::Int).collect())
}

/// Attributes of an array or numpy scalar.
pub fn getattr(it: &mut Interp, obj: &Value, name: &str) -> PyResult<Option<Value>> {
    let Some(tens) = np_tensor(obj) else { return Ok(None) };
    let t = &tens.t;
    Ok(Some(match name {
        "shape" => shape_tuple(t),
        "ndim" => Value::Int(t.dim() as i64),
        "size" => Value::Int(t.numel() as i64),
        "dtype" => NpDtype::value(t.kind()),
        "itemsize" => Value::Int(t.kind().elt_size_in_bytes() as i64),
        "nbytes" => Value::Int((t.numel() * t.kind().elt_size_in_bytes()) as i64),
        "strides" => Value::tuple(t.stride().into_iter().map(|s| Value::Int(s * t.kind().elt_size_in_bytes() as i64)).collect()),
        "T" | "mT" => {
            let perm: Vec<i64> = if name == "T" {
                (0..t.dim() as i64).rev().collect()
            } else {
                if t.dim() < 2 {
                    return Err(PyErr::value_error("matrix transpose with ndim < 2 is undefined"));
                }
                let mut p: Vec<i64> = (0..t.dim() as i64).collect();
                p.swap(t.dim() - 2, t.dim() - 1);
                p
            };
            let r = t.f_permute(perm.as_slice())?;
            if tens.np == Np::Scalar { scalar(&r)? } else { array_view(r) }
        }
        "real" => obj.clone(),
        "imag" => wrap(t.f_zeros_like()?)?,
        "flat" => return Err(unsupported("numpy.ndarray.flat")),
        "base" => Value::None,
        _ => {
            if METHODS.contains(&name) {
                return Ok(Some(Native::with_aux(name, Some(obj.clone()), |it, n, args, kw| {
                    let recv = n.recv.clone().unwrap_or(Value::None);
                    method(it, &recv, &n.name, args, kw)
                }, Aux::None)));
            }
            let what = if tens.np == Np::Scalar { format!("numpy.{}", vnp::name(t.kind())) } else { "numpy.ndarray".into() };
            if super::modules::real_name("numpy.ndarray", name) {
                return Err(unsupported(&format!("{what}.{name}")));
            }
            let _ = it;
            return Err(PyErr::attribute_error(format!("'{what}' object has no attribute '{name}'")));
        }
    }))
}

/// Setting an attribute of an array (`a.shape = ...` is not provided).
pub fn setattr(obj: &Value, name: &str) -> PyErr {
    let Some(t) = np_tensor(obj) else { return PyErr::type_error("expected an array") };
    if t.np == Np::Scalar {
        return PyErr::attribute_error(format!("'numpy.{}' object attribute '{name}' is read-only", vnp::name(t.t.kind())));
    }
    if super::modules::real_name("numpy.ndarray", name) {
        return unsupported(&format!("setting numpy.ndarray.{name}"));
    }
    PyErr::attribute_error(format!("'numpy.ndarray' object has no attribute '{name}'"))
}

/// The methods of arrays (and numpy scalars) provided here.
const METHODS: &[&str] = &[
    "reshape", "astype", "tolist", "item", "copy", "flatten", "ravel", "transpose", "squeeze", "swapaxes", "sum",
    "mean", "max", "min", "argmax", "argmin", "std", "var", "prod", "cumsum", "cumprod", "any", "all", "sort",
    "argsort", "clip", "round", "dot", "fill", "nonzero", "expand_dims", "flip", "view", "__len__", "__array__",
    "__getitem__", "__setitem__", "__contains__", "__iter__", "__bool__", "__float__", "__int__", "__index__",
];

/// `a.name(*args, **kw)` for an array or numpy scalar.
pub fn method(it: &mut Interp, recv: &Value, name: &str, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    let Some(tens) = np_tensor(recv) else {
        return Err(PyErr::type_error(format!("descriptor '{name}' requires a 'numpy.ndarray' object")));
    };
    let t = tens.t.shallow_clone();
    let is_scalar = tens.np == Np::Scalar;
    let fname = format!("{name}");
    let view_or_scalar = |r: Tensor| -> PyResult<Value> { if is_scalar { scalar(&r) } else { Ok(array_view(r)) } };
    match name {
        "sum" | "mean" | "max" | "min" | "argmax" | "argmin" | "std" | "var" | "prod" | "cumsum" | "cumprod" | "any" | "all" => {
            let mut all = vec![recv.clone()];
            all.extend(args);
            reduce::call(it, name, all, kw)
        }
        "clip" | "round" | "dot" => {
            let mut all = vec![recv.clone()];
            all.extend(args);
            math::call(it, name, all, kw)
        }
        "reshape" => {
            let order = kw.iter().find(|(k, _)| k.as_ref() == "order").map(|(_, v)| v.clone());
            if let Some(o) = order
                && o.as_str() != Some("C")
            {
                return Err(unsupported("numpy.ndarray.reshape with order other than 'C'"));
            }
            let dims: Vec<i64> = match args.as_slice() {
                [one @ (Value::List(_) | Value::Tuple(_) | Value::Size(_))] => shape_arg(it, one)?,
                many => many.iter().map(|d| int_arg(d, "shape")).collect::<PyResult<_>>()?,
            };
            let r = reshape(&t, &dims)?;
            view_or_scalar(r)
        }
        "astype" => {
            let a = bind(&fname, &["dtype", "order", "casting", "subok", "copy"], args, kw)?;
            let k = dtype_arg(&required(&fname, &a, 0, "dtype")?)?.unwrap_or(Kind::Double);
            let r = cast(&t, k)?;
            if is_scalar { scalar(&r) } else { array(r) }
        }
        "view" => {
            if args.is_empty() && kw.is_empty() {
                return view_or_scalar(t);
            }
            Err(unsupported("numpy.ndarray.view with a dtype"))
        }
        "tolist" => tolist(&t),
        "item" => {
            if args.is_empty() {
                return item(&t);
            }
            let flat = t.f_reshape([-1])?;
            let n = flat.numel() as i64;
            let idx = if args.len() == 1 {
                let i = int_arg(&args[0], "index")?;
                if i < -n || i >= n {
                    return Err(PyErr::index_error(format!("index {i} is out of bounds for size {n}")));
                }
                if i < 0 { i + n } else { i }
            } else {
                let size = t.size();
                let mut flat_i = 0;
                for (d, a) in args.iter().enumerate() {
                    let i = int_arg(a, "index")?;
                    let dim = *size.get(d).ok_or_else(|| PyErr::value_error("incorrect number of indices for array"))?;
                    if i < -dim || i >= dim {
                        return Err(PyErr::index_error(format!("index {i} is out of bounds for axis {d} with size {dim}")));
                    }
                    flat_i = flat_i * dim + if i < 0 { i + dim } else { i };
                }
                flat_i
            };
            super::torch::item(&flat.f_get(idx)?)
        }
        "copy" => {
            let r = super::torch::create::copy_of(&t.f_contiguous()?)?;
            if is_scalar { scalar(&r) } else { array(r) }
        }
        "flatten" => array(super::torch::create::copy_of(&t.f_contiguous()?.f_reshape([-1])?)?),
        "ravel" => {
            let r = t.f_reshape([-1])?;
            // A view when the data is contiguous, a copy otherwise (as numpy).
            if r.data_ptr() == t.data_ptr() && t.is_contiguous() { Ok(array_view(r)) } else { array(super::torch::create::copy_of(&r)?) }
        }
        "transpose" => {
            let axes: Vec<i64> = match args.as_slice() {
                [] => (0..t.dim() as i64).rev().collect(),
                [Value::None] => (0..t.dim() as i64).rev().collect(),
                [one @ (Value::List(_) | Value::Tuple(_))] => shape_arg(it, one)?,
                many => many.iter().map(|d| int_arg(d, "axes")).collect::<PyResult<_>>()?,
            };
            if axes.len() != t.dim() {
                return Err(PyErr::value_error("axes don't match array"));
            }
            let axes = axes.iter().map(|&a| norm_axis(a, t.dim()).map(|x| x as i64)).collect::<PyResult<Vec<_>>>()?;
            view_or_scalar(t.f_permute(axes.as_slice())?)
        }
        "swapaxes" => {
            let a = bind(&fname, &["axis1", "axis2"], args, kw)?;
            let a1 = norm_axis(int_arg(&required(&fname, &a, 0, "axis1")?, "axis1")?, t.dim())?;
            let a2 = norm_axis(int_arg(&required(&fname, &a, 1, "axis2")?, "axis2")?, t.dim())?;
            view_or_scalar(t.f_transpose(a1 as i64, a2 as i64)?)
        }
        "squeeze" => {
            let a = bind(&fname, &["axis"], args, kw)?;
            let r = match opt(&a, 0) {
                Value::None => {
                    let dims: Vec<i64> = t.size().into_iter().filter(|&d| d != 1).collect();
                    t.f_reshape(dims.as_slice())?
                }
                ax => {
                    let axes: Vec<i64> = match &ax {
                        Value::Tuple(_) | Value::List(_) => shape_arg(it, &ax)?,
                        one => vec![int_arg(one, "axis")?],
                    };
                    let size = t.size();
                    let mut axes = axes.iter().map(|&x| norm_axis(x, t.dim())).collect::<PyResult<Vec<_>>>()?;
                    if axes.iter().any(|&x| size[x] != 1) {
                        return Err(PyErr::value_error("cannot select an axis to squeeze out which has size not equal to one"));
                    }
                    axes.sort_unstable();
                    let mut r = t.shallow_clone();
                    for &x in axes.iter().rev() {
                        r = r.f_squeeze_dim(x as i64)?;
                    }
                    r
                }
            };
            view_or_scalar(r)
        }
        "expand_dims" => {
            let a = bind(&fname, &["axis"], args, kw)?;
            let ax = int_arg(&required(&fname, &a, 0, "axis")?, "axis")?;
            let pos = norm_axis(ax, t.dim() + 1)?;
            Ok(array_view(t.f_unsqueeze(pos as i64)?))
        }
        "flip" => {
            let a = bind(&fname, &["axis"], args, kw)?;
            let dims: Vec<i64> = match opt(&a, 0) {
                Value::None => (0..t.dim() as i64).collect(),
                ax @ (Value::Tuple(_) | Value::List(_)) => shape_arg(it, &ax)?,
                ax => vec![int_arg(&ax, "axis")?],
            };
            let dims = dims.iter().map(|&d| norm_axis(d, t.dim()).map(|x| x as i64)).collect::<PyResult<Vec<_>>>()?;
            wrap(t.f_flip(dims.as_slice())?)
        }
        "sort" => {
            if is_scalar {
                return Err(PyErr::attribute_error("'numpy.generic' object has no attribute 'sort'"));
            }
            let a = bind(&fname, &["axis", "kind", "order", "*", "stable"], args, kw)?;
            let axis = match opt(&a, 0) {
                Value::None => -1,
                v => int_arg(&v, "axis")?,
            };
            let d = norm_axis(axis, t.dim())?;
            let (sorted, _) = t.f_sort_stable(true, d as i64, false)?;
            crate::value::tensor::check_writable(&t)?;
            t.shallow_clone().f_copy_(&sorted)?;
            Ok(Value::None)
        }
        "argsort" | "nonzero" => {
            let mut all = vec![recv.clone()];
            all.extend(args);
            math::call(it, name, all, kw)
        }
        "fill" => {
            let v = args.first().cloned().ok_or_else(|| PyErr::type_error("fill() takes exactly 1 argument (0 given)"))?;
            crate::value::tensor::check_writable(&t)?;
            let mut h = t.shallow_clone();
            let _ = h.f_fill_(super::torch::schema::scalar_of(&match &v {
                Value::Tensor(x) if x.t.numel() == 1 => super::torch::item(&x.t.f_reshape([0i64; 0])?)?,
                other => other.clone(),
            })?)?;
            Ok(Value::None)
        }
        "__len__" => it.len(recv).map(|n| Value::Int(n as i64)),
        "__array__" => Ok(recv.clone()),
        "__getitem__" => getitem(it, recv, args.first().unwrap_or(&Value::None)),
        "__setitem__" => {
            setitem(it, recv, args.first().unwrap_or(&Value::None), args.get(1).unwrap_or(&Value::None))?;
            Ok(Value::None)
        }
        "__contains__" => it.contains(recv, args.first().unwrap_or(&Value::None)).map(Value::Bool),
        "__iter__" => it.iter(recv),
        "__bool__" => it.truthy(recv).map(Value::Bool),
        "__float__" => Ok(Value::Float(float_arg(recv)?)),
        "__int__" | "__index__" => super::builtins::to_int(it, &item(&t)?),
        other => Err(unsupported(&format!("numpy.ndarray.{other}"))),
    }
}

/// `reshape` with one `-1` inferred; numpy's error text for a size that does not fit.
fn reshape(t: &Tensor, dims: &[i64]) -> PyResult<Tensor> {
    let numel = t.numel() as i64;
    let known: i64 = dims.iter().filter(|&&d| d != -1).product();
    let unknown = dims.iter().filter(|&&d| d == -1).count();
    let fits = match unknown {
        0 => known == numel,
        1 => known != 0 && numel % known == 0,
        _ => return Err(PyErr::value_error("can only specify one unknown dimension")),
    };
    if !fits || dims.iter().any(|&d| d < -1) {
        let shape = match dims {
            [d] => format!("({d},)"),
            _ => format!("({})", dims.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
        };
        return Err(PyErr::value_error(format!("cannot reshape array of size {numel} into shape {shape}")));
    }
    Ok(t.f_reshape(dims)?)
}

/// `astype`: numpy's unsafe cast (floats to ints truncate toward zero).
fn cast(t: &Tensor, k: Kind) -> PyResult<Tensor> {
    if !vnp::supported(k) {
        return Err(vnp::unsupported_kind(k));
    }
    Ok(super::torch::create::copy_of(&t.f_to_kind(k)?)?)
}

/// `tolist()`: nested Python lists of Python scalars.
pub fn tolist(t: &Tensor) -> PyResult<Value> {
    super::torch::tolist(t)
}

/// `t.numpy()`: an array sharing the tensor's storage, refused as torch refuses it.
pub fn tensor_numpy(t: &Tensor, force: bool) -> PyResult<Value> {
    if t.device() != Device::Cpu {
        if !force {
            return Err(PyErr::type_error(format!(
                "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
                crate::value::dtype::device_name(t.device())
            )));
        }
        return array(t.f_detach()?.f_to_device(Device::Cpu)?);
    }
    if t.requires_grad() && !force {
        return Err(PyErr::runtime_error("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."));
    }
    if !vnp::supported(t.kind()) {
        return Err(vnp::unsupported_kind(t.kind()));
    }
    Ok(array_view(t.f_detach()?))
}

/// `torch.from_numpy(a)`: a tensor sharing the array's storage.
pub fn from_numpy(v: &Value) -> PyResult<Value> {
    match v {
        Value::Tensor(t) if t.np == Np::Array => Ok(Value::Tensor(Tens::new(t.t.shallow_clone()))),
        other => Err(PyErr::type_error(format!("expected np.ndarray (got {})", qualified_type(other)))),
    }
}

/// `numpy.float64`, `numpy.ndarray`, `int`: the type as numpy's messages name it.
fn qualified_type(v: &Value) -> String {
    match v {
        Value::Tensor(t) if t.np == Np::Array => "numpy.ndarray".into(),
        Value::Tensor(t) if t.np == Np::Scalar => format!("numpy.{}", vnp::name(t.t.kind())),
        Value::Tensor(_) => "Tensor".into(),
        other => other.type_name(),
    }
}

/// The Python value a numpy scalar stands for in a torch operation or a builtin
/// (`torch.ones(2) * np.float64(2)` treats it as a Python float).
pub fn as_python(v: &Value) -> PyResult<Value> {
    match v {
        Value::Tensor(t) if t.np == Np::Scalar => item(&t.t),
        other => Ok(other.clone()),
    }
}

/// Calling a numpy type: `np.float64(x)`, `np.int64("3")`, `np.dtype("f4")`,
/// `np.ndarray(shape)`.
pub fn construct(it: &mut Interp, t: &'static TypeObj, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    if std::ptr::eq(t, &types::NP_DTYPE) {
        let a = bind("dtype", &["dtype", "align", "copy"], args, kw)?;
        let k = dtype_arg(&required("dtype", &a, 0, "dtype")?)?.unwrap_or(Kind::Double);
        return Ok(NpDtype::value(k));
    }
    if std::ptr::eq(t, &types::NDARRAY) {
        return Err(unsupported("numpy.ndarray(...) (use np.zeros / np.empty)"));
    }
    let Some(k) = vnp::kind_of_type(t) else {
        return Err(PyErr::type_error(format!("cannot create '{}' instances", t.qualified())));
    };
    if !kw.is_empty() {
        return Err(PyErr::type_error(format!("{}() takes no keyword arguments", t.name)));
    }
    match args.as_slice() {
        [] => scalar_of(&Value::Int(0), k),
        [Value::Str(s)] => {
            let v = if vnp::kind_char(k) == 'f' {
                Value::Float(crate::value::float::parse(s.as_str()).ok_or_else(|| PyErr::value_error(format!("could not convert string to float: '{}'", s.as_str())))?)
            } else {
                int::parse(s.as_str(), 10)?
            };
            scalar_of(&v, k)
        }
        [Value::Tensor(x)] if !x.is_numpy() && x.t.numel() == 1 => scalar_of(&super::torch::item(&x.t.f_reshape([0i64; 0])?)?, k),
        [v] => {
            let data = from_value(it, v, None)?;
            let r = if k == Kind::Bool { data.f_ne(0)? } else { data.f_to_kind(k)? };
            if r.dim() == 0 { scalar(&r) } else { array(super::torch::create::copy_of(&r)?) }
        }
        _ => Err(PyErr::type_error(format!("{}() takes at most 1 argument", t.name))),
    }
}

/// The Python value behind a numpy scalar or array of one element (for `float()`,
/// `int()`, formatting, hashing).
pub fn scalar_value(v: &Value) -> Option<PyResult<Value>> {
    match v {
        Value::Tensor(t) if t.np == Np::Scalar => Some(item(&t.t)),
        _ => None,
    }
}

/// Attributes of `numpy.linalg` (only `norm` is provided; the rest of the real module
/// raises `NotImplementedError` naming the function).
pub fn linalg_attr(name: &str) -> Option<Value> {
    match name {
        "norm" => Some(Native::value("norm", |it, _, args, kw| linalg_norm(it, args, kw))),
        _ => None,
    }
}

/// `np.linalg.norm(x, ord=None, axis=None, keepdims=False)`: the 2-norm of the flattened
/// array (`sqrt(x.dot(x))`, as numpy computes it) or, along `axis`, the square root of
/// the (pairwise) sum of squares; `ord` 1, 2, `inf` and `'fro'` as numpy defines them.
fn linalg_norm(it: &mut Interp, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    let a = bind("norm", &["x", "ord", "axis", "keepdims"], args, kw)?;
    let t = from_value(it, &required("norm", &a, 0, "x")?, None)?;
    let t = if vnp::kind_char(t.kind()) == 'f' { t } else { t.f_to_kind(Kind::Double)? };
    let keepdims = bool_arg(&opt(&a, 3))?;
    let ord = opt(&a, 1);
    let two = matches!(ord, Value::None) || matches!(&ord, Value::Str(s) if s.as_str() == "fro") || matches!(ord, Value::Int(2));
    match (opt(&a, 2), two) {
        (Value::None, true) if t.dim() <= 2 && !(t.dim() == 2 && matches!(ord, Value::Int(2))) => {
            let flat = t.f_contiguous()?.f_reshape([-1])?;
            let sq = flat.f_dot(&flat)?;
            let r = math::sqrt(&sq)?;
            if keepdims {
                return array(r.f_reshape(vec![1i64; t.dim()].as_slice())?);
            }
            wrap(r)
        }
        (axis, _) if t.dim() >= 1 && !axis.is_none() => {
            let d = norm_axis(int_arg(&axis, "axis")?, t.dim())?;
            let x = t.f_abs()?;
            let r = match &ord {
                Value::None | Value::Int(2) => {
                    let sq = x.f_mul(&x)?;
                    let s = reduce::call(it, "sum", vec![array(sq)?], vec![(Rc::from("axis"), Value::Int(d as i64)), (Rc::from("keepdims"), Value::Bool(keepdims))])?;
                    let Some(st) = np_tensor(&s) else { return Ok(s) };
                    math::sqrt(&st.t)?
                }
                Value::Int(1) => {
                    let s = reduce::call(it, "sum", vec![array(x)?], vec![(Rc::from("axis"), Value::Int(d as i64)), (Rc::from("keepdims"), Value::Bool(keepdims))])?;
                    return Ok(s);
                }
                Value::Float(f) if f.is_infinite() && *f > 0.0 => x.f_amax([d as i64].as_slice(), keepdims)?,
                _ => return Err(unsupported("numpy.linalg.norm with this ord")),
            };
            if r.dim() == 0 { scalar(&r) } else { array(r) }
        }
        _ => Err(unsupported("numpy.linalg.norm with this ord")),
    }
}

