//! Making arrays: `np.array` from Python data with numpy's dtype discovery (bools → bool,
//! ints → int64, any float → float64, numpy scalars and arrays keep theirs, all promoted
//! together), and the factories (`zeros`, `arange` and `linspace` computed as numpy
//! computes them, so the values are bit-identical). Arrays live on the CPU.

use tch::{Device, Kind, Tensor};

use super::{array, bind, bool_arg, check_shape, dtype_arg, float_arg, int_arg, opt, required, shape_arg, unsupported};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::value::numpy as vnp;
use crate::value::tensor::{Np, check_numel};
use crate::value::{PyErr, PyResult, Value};

pub const FUNCTIONS: &[&str] = &[
    "array", "asarray", "asanyarray", "ascontiguousarray", "copy", "zeros", "ones", "empty", "full", "zeros_like",
    "ones_like", "empty_like", "full_like", "arange", "linspace", "eye", "identity",
];

/// A leaf of nested data.
enum Leaf {
    Bool(bool),
    Int(i64),
    Float(f64),
}

struct Discovery {
    shape: Vec<i64>,
    leaves: Vec<Leaf>,
    kind: Option<Kind>,
}

impl Discovery {
    fn note(&mut self, k: Kind) {
        self.kind = Some(match self.kind {
            Some(prev) => super::math::promote(prev, k),
            None => k,
        });
    }
}

fn ragged(depth: usize, shape: &[i64]) -> PyErr {
    let dims = &shape[..depth.min(shape.len())];
    let shown = match dims {
        [d] => format!("({d},)"),
        _ => format!("({})", dims.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    };
    PyErr::value_error(format!(
        "setting an array element with a sequence. The requested array has an inhomogeneous shape after {depth} dimensions. The detected shape was {shown} + inhomogeneous part."
    ))
}

/// The elements of a tensor as leaves (C order).
fn tensor_leaves(t: &Tensor, out: &mut Vec<Leaf>) -> PyResult<()> {
    let flat = t.f_detach()?.f_to_device(Device::Cpu)?.f_contiguous()?.f_reshape([-1])?;
    let k = t.kind();
    if k == Kind::Bool {
        out.extend(Vec::<i64>::try_from(&flat.f_to_kind(Kind::Int64)?)?.into_iter().map(|x| Leaf::Bool(x != 0)));
    } else if crate::value::dtype::is_float(k) {
        out.extend(Vec::<f64>::try_from(&flat.f_to_kind(Kind::Double)?)?.into_iter().map(Leaf::Float));
    } else {
        out.extend(Vec::<i64>::try_from(&flat.f_to_kind(Kind::Int64)?)?.into_iter().map(Leaf::Int));
    }
    check_numel(out.len() as i64)
}

fn discover(v: &Value, depth: usize, d: &mut Discovery) -> PyResult<()> {
    crate::value::stack::guard()?;
    if depth > 64 {
        return Err(PyErr::value_error("setting an array element with a sequence: more than 64 dimensions"));
    }
    let items = match v {
        Value::List(l) => Some(l.snapshot()),
        Value::Tuple(t) => Some(t.to_vec()),
        Value::Size(s) => Some(s.iter().map(|&x| Value::Int(x)).collect()),
        Value::Range(r) => {
            let n = crate::value::repr::range_len(r);
            check_numel(n)?;
            Some((0..n).map(|i| Value::Int(r[0] + i * r[2])).collect())
        }
        _ => None,
    };
    if let Some(items) = items {
        if d.shape.len() == depth {
            if d.leaves.len() > 0 && depth > 0 && d.shape.len() == depth {
                // Earlier siblings were scalars at this depth.
                return Err(ragged(depth, &d.shape));
            }
            d.shape.push(items.len() as i64);
        } else if d.shape[depth] != items.len() as i64 {
            return Err(ragged(depth, &d.shape));
        }
        for x in &items {
            discover(x, depth + 1, d)?;
        }
        return Ok(());
    }
    // A leaf: it must sit where the shape so far ends.
    let block_shape: Vec<i64> = match v {
        Value::Tensor(t) => t.t.size(),
        _ => Vec::new(),
    };
    let want = depth + block_shape.len();
    if d.shape.len() < want && d.leaves.is_empty() {
        d.shape.extend_from_slice(&block_shape);
    } else if d.shape.len() != want || d.shape[depth..] != block_shape[..] {
        return Err(ragged(depth.min(d.shape.len()), &d.shape));
    }
    match v {
        Value::Bool(b) => {
            d.note(Kind::Bool);
            d.leaves.push(Leaf::Bool(*b));
        }
        Value::Int(i) => {
            d.note(Kind::Int64);
            d.leaves.push(Leaf::Int(*i));
        }
        Value::BigInt(_) => return Err(unsupported("numpy arrays of Python ints beyond int64")),
        Value::Float(f) => {
            d.note(Kind::Double);
            d.leaves.push(Leaf::Float(*f));
        }
        Value::Tensor(t) => {
            let k = t.t.kind();
            if !t.is_numpy() {
                torch_checks(&t.t)?;
            }
            d.note(k);
            tensor_leaves(&t.t, &mut d.leaves)?;
        }
        Value::Str(_) | Value::Bytes(_) => return Err(unsupported("numpy arrays of strings")),
        other => return Err(unsupported(&format!("numpy arrays of '{}' objects (dtype=object)", other.type_name()))),
    }
    if d.leaves.len() % 65536 == 0 {
        check_numel(d.leaves.len() as i64)?;
    }
    Ok(())
}

/// What `np.asarray(tensor)` refuses (it calls `tensor.numpy()`).
fn torch_checks(t: &Tensor) -> PyResult<()> {
    if t.device() != Device::Cpu {
        return Err(PyErr::type_error(format!(
            "can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory first.",
            crate::value::dtype::device_name(t.device())
        )));
    }
    if t.requires_grad() {
        return Err(PyErr::runtime_error("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."));
    }
    if !vnp::supported(t.kind()) {
        return Err(vnp::unsupported_kind(t.kind()));
    }
    Ok(())
}

/// Python data (or an array, a tensor, a scalar) as a CPU tensor with numpy's dtype
/// (or `dtype`). Arrays and tensors come back as they are when no conversion is needed
/// (callers copy where numpy copies).
pub fn from_value(_it: &mut Interp, v: &Value, dtype: Option<Kind>) -> PyResult<Tensor> {
    if let Value::Tensor(t) = v {
        if !t.is_numpy() {
            torch_checks(&t.t)?;
        }
        let base = t.t.f_detach()?.f_to_device(Device::Cpu)?;
        return Ok(match dtype {
            Some(k) if k != base.kind() => convert(&base, k)?,
            _ => base,
        });
    }
    let mut d = Discovery { shape: Vec::new(), leaves: Vec::new(), kind: None };
    discover(v, 0, &mut d)?;
    let numel = crate::value::tensor::shape_numel(&d.shape);
    check_numel(numel)?;
    let inferred = d.kind.unwrap_or(Kind::Double);
    let k = dtype.unwrap_or(inferred);
    if !vnp::supported(k) {
        return Err(vnp::unsupported_kind(k));
    }
    let any_float = d.leaves.iter().any(|l| matches!(l, Leaf::Float(_)));
    let base = if any_float {
        let data: Vec<f64> = d
            .leaves
            .iter()
            .map(|l| match l {
                Leaf::Bool(b) => f64::from(u8::from(*b)),
                Leaf::Int(i) => *i as f64,
                Leaf::Float(f) => *f,
            })
            .collect();
        Tensor::f_from_slice(&data)?
    } else {
        let data: Vec<i64> = d
            .leaves
            .iter()
            .map(|l| match l {
                Leaf::Bool(b) => i64::from(*b),
                Leaf::Int(i) => *i,
                Leaf::Float(f) => *f as i64,
            })
            .collect();
        Tensor::f_from_slice(&data)?
    };
    let base = base.f_reshape(d.shape.as_slice())?;
    if k == Kind::Bool {
        return Ok(base.f_ne(0)?);
    }
    if !any_float && matches!(k, Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Uint8) {
        // numpy refuses Python ints that the requested integer dtype cannot hold.
        let (lo, hi) = int_range(k);
        if let Some(bad) = d.leaves.iter().find_map(|l| match l {
            Leaf::Int(i) if *i < lo || *i > hi => Some(*i),
            _ => None,
        }) {
            return Err(PyErr::overflow(format!("Python integer {bad} out of bounds for {}", vnp::name(k))));
        }
    }
    Ok(base.f_to_kind(k)?)
}

/// The range of an integer dtype.
pub fn int_range(k: Kind) -> (i64, i64) {
    match k {
        Kind::Int8 => (-128, 127),
        Kind::Uint8 => (0, 255),
        Kind::Int16 => (-32768, 32767),
        Kind::Int => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

/// numpy's unsafe cast (`astype`, `dtype=`): to bool is `!= 0`.
fn convert(t: &Tensor, k: Kind) -> PyResult<Tensor> {
    if !vnp::supported(k) {
        return Err(vnp::unsupported_kind(k));
    }
    Ok(if k == Kind::Bool { t.f_ne(0)? } else { t.f_to_kind(k)? })
}

/// A fill value's dtype as `np.full` infers it.
fn value_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int64,
        Value::Tensor(t) => t.t.kind(),
        _ => Kind::Double,
    }
}

fn filled(shape: &[i64], v: &Value, k: Kind) -> PyResult<Tensor> {
    check_shape(shape)?;
    let x = float_arg(v)?;
    let t = match v {
        Value::Int(i) => Tensor::f_full(shape, *i, (Kind::Int64, Device::Cpu))?,
        Value::Bool(b) => Tensor::f_full(shape, i64::from(*b), (Kind::Int64, Device::Cpu))?,
        Value::Tensor(t) if !crate::value::dtype::is_float(t.t.kind()) => Tensor::f_full(shape, t.t.f_int64_value(&[])?, (Kind::Int64, Device::Cpu))?,
        _ => Tensor::f_full(shape, x, (Kind::Double, Device::Cpu))?,
    };
    convert(&t, k)
}

pub fn call(it: &mut Interp, name: &str, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    match name {
        "array" | "asarray" | "asanyarray" | "ascontiguousarray" | "copy" => {
            let a = bind(name, &["object", "dtype", "*", "copy", "order", "subok", "ndmin", "like", "device"], args, kw)?;
            let obj = required(name, &a, 0, "object")?;
            let k = dtype_arg(&opt(&a, 1))?;
            let mut t = from_value(it, &obj, k)?;
            let ndmin = match opt(&a, 5) {
                Value::None => 0,
                v => int_arg(&v, "ndmin")?,
            };
            while (t.dim() as i64) < ndmin {
                t = t.f_unsqueeze(0)?;
            }
            // `asarray` of an array of the right dtype is that array (`copy=False`
            // semantics); everything else is a new array.
            let no_copy = matches!(name, "asarray" | "asanyarray" | "ascontiguousarray") || matches!(opt(&a, 2), Value::Bool(false));
            if no_copy
                && let Value::Tensor(x) = &obj
                && x.np == Np::Array
                && t.data_ptr() == x.t.data_ptr()
                && t.kind() == x.t.kind()
                && t.size() == x.t.size()
            {
                return Ok(obj.clone());
            }
            if no_copy
                && let Value::Tensor(x) = &obj
                && !x.is_numpy()
                && t.kind() == x.t.kind()
                && t.data_ptr() == x.t.data_ptr()
            {
                // `np.asarray(tensor)` shares the tensor's memory, as `tensor.numpy()`.
                return Ok(super::array_view(t));
            }
            let t = if name == "ascontiguousarray" && t.dim() == 0 { t.f_reshape([1])? } else { t };
            array(crate::interp::torch::create::copy_of(&t.f_contiguous()?)?)
        }
        "zeros" | "ones" | "empty" => {
            let a = bind(name, &["shape", "dtype", "order", "*", "device", "like"], args, kw)?;
            let shape = shape_arg(it, &required(name, &a, 0, "shape")?)?;
            check_shape(&shape)?;
            let k = dtype_arg(&opt(&a, 1))?.unwrap_or(Kind::Double);
            let fill = if name == "ones" { Value::Int(1) } else { Value::Int(0) };
            array(filled(&shape, &fill, k)?)
        }
        "full" => {
            let a = bind(name, &["shape", "fill_value", "dtype", "order", "*", "device", "like"], args, kw)?;
            let shape = shape_arg(it, &required(name, &a, 0, "shape")?)?;
            let v = required(name, &a, 1, "fill_value")?;
            if matches!(v, Value::List(_) | Value::Tuple(_) | Value::Tensor(_)) && !matches!(&v, Value::Tensor(t) if t.t.dim() == 0) {
                return Err(unsupported("numpy.full with an array fill value"));
            }
            let k = dtype_arg(&opt(&a, 2))?.unwrap_or_else(|| value_kind(&v));
            array(filled(&shape, &v, k)?)
        }
        "zeros_like" | "ones_like" | "empty_like" | "full_like" => {
            let spec: &[&str] = if name == "full_like" {
                &["a", "fill_value", "dtype", "order", "subok", "shape", "*", "device"]
            } else {
                &["a", "dtype", "order", "subok", "shape", "*", "device"]
            };
            let a = bind(name, spec, args, kw)?;
            let proto = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let off = usize::from(name == "full_like");
            let k = dtype_arg(&opt(&a, 1 + off))?.unwrap_or(proto.kind());
            let shape = match opt(&a, 4 + off) {
                Value::None => proto.size(),
                s => shape_arg(it, &s)?,
            };
            let fill = match name {
                "ones_like" => Value::Int(1),
                "full_like" => required(name, &a, 1, "fill_value")?,
                _ => Value::Int(0),
            };
            array(filled(&shape, &fill, k)?)
        }
        "arange" => {
            let a = bind(name, &["start", "stop", "step", "dtype", "*", "device", "like"], args, kw)?;
            let (start, stop) = match (opt(&a, 0), opt(&a, 1)) {
                (Value::None, Value::None) => return Err(PyErr::type_error("arange() requires stop to be specified.")),
                (s, Value::None) => (Value::Int(0), s),
                (s, e) => (s, e),
            };
            let step = match opt(&a, 2) {
                Value::None => Value::Int(1),
                s => s,
            };
            let all_int = [&start, &stop, &step].iter().all(|v| matches!(v, Value::Int(_) | Value::Bool(_)) || matches!(v, Value::Tensor(t) if !crate::value::dtype::is_float(t.t.kind())));
            let k = dtype_arg(&opt(&a, 3))?.unwrap_or(if all_int { Kind::Int64 } else { Kind::Double });
            let (s, e, st) = (float_arg(&start)?, float_arg(&stop)?, float_arg(&step)?);
            if st == 0.0 {
                return Err(PyErr::new(&crate::value::types::ZERO_DIVISION_ERROR, "division by zero"));
            }
            let len = ((e - s) / st).ceil();
            if len.is_nan() {
                return Err(PyErr::value_error("arange: cannot compute length"));
            }
            let n = if len <= 0.0 { 0 } else { len as i64 };
            check_shape(&[n])?;
            let t = if all_int {
                let (s, st) = (int_arg(&start, "start")?, int_arg(&step, "step")?);
                let data: Vec<i64> = (0..n).map(|i| s.wrapping_add(i.wrapping_mul(st))).collect();
                Tensor::f_from_slice(&data)?
            } else {
                // numpy fills `start, start + step`, then `start + i * delta` with
                // `delta` the difference of those two.
                let delta = (s + st) - s;
                let data: Vec<f64> = (0..n).map(|i| if i == 1 { s + st } else { s + i as f64 * delta }).collect();
                Tensor::f_from_slice(&data)?
            };
            array(convert(&t, k)?)
        }
        "linspace" => {
            let a = bind(name, &["start", "stop", "num", "endpoint", "retstep", "dtype", "axis", "*", "device"], args, kw)?;
            let start = float_arg(&required(name, &a, 0, "start")?)?;
            let stop = float_arg(&required(name, &a, 1, "stop")?)?;
            let num = match opt(&a, 2) {
                Value::None => 50,
                v => int_arg(&v, "num")?,
            };
            if num < 0 {
                return Err(PyErr::value_error(format!("Number of samples, {num}, must be non-negative.")));
            }
            check_shape(&[num])?;
            let endpoint = match opt(&a, 3) {
                Value::None => true,
                v => bool_arg(&v)?,
            };
            let retstep = bool_arg(&opt(&a, 4))?;
            let k = dtype_arg(&opt(&a, 5))?;
            let div = if endpoint { num - 1 } else { num };
            let delta = stop - start;
            let step = if div > 0 { delta / div as f64 } else { f64::NAN };
            let mut data: Vec<f64> = (0..num)
                .map(|i| {
                    let y = i as f64;
                    let y = if div > 0 {
                        if step == 0.0 { (y / div as f64) * delta } else { y * step }
                    } else {
                        y * delta
                    };
                    y + start
                })
                .collect();
            if endpoint && num > 1 {
                data[num as usize - 1] = stop;
            }
            let mut t = Tensor::f_from_slice(&data)?;
            if let Some(k) = k {
                if vnp::kind_char(k) == 'i' || vnp::kind_char(k) == 'u' {
                    t = t.f_floor()?;
                }
                t = convert(&t, k)?;
            }
            let arr = array(t)?;
            if retstep {
                return Ok(Value::tuple(vec![arr, super::scalar_of(&Value::Float(step), Kind::Double)?]));
            }
            Ok(arr)
        }
        "eye" | "identity" => {
            let spec: &[&str] = if name == "eye" { &["N", "M", "k", "dtype", "order", "*", "device", "like"] } else { &["n", "dtype", "*", "like"] };
            let a = bind(name, spec, args, kw)?;
            let n = int_arg(&required(name, &a, 0, "N")?, "N")?;
            let (m, diag, kind_i) = if name == "eye" {
                let m = match opt(&a, 1) {
                    Value::None => n,
                    v => int_arg(&v, "M")?,
                };
                let d = match opt(&a, 2) {
                    Value::None => 0,
                    v => int_arg(&v, "k")?,
                };
                (m, d, 3)
            } else {
                (n, 0, 1)
            };
            check_shape(&[n, m])?;
            let k = dtype_arg(&opt(&a, kind_i))?.unwrap_or(Kind::Double);
            let mut data = vec![0i64; (n * m) as usize];
            for i in 0..n {
                let j = i + diag;
                if (0..m).contains(&j) {
                    data[(i * m + j) as usize] = 1;
                }
            }
            array(convert(&Tensor::f_from_slice(&data)?.f_reshape([n, m])?, k)?)
        }
        other => Err(unsupported(&format!("numpy.{other}"))),
    }
}
