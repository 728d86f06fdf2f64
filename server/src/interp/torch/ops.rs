//! The op table: one row per overload, each a PyTorch-style schema and the tch call that
//! implements it. Rows serve tensor methods (`t.sum(dim=-1)`), `torch.*`,
//! `torch.nn.functional.*` and `torch.linalg.*`; overloads are tried in order like torch's
//! argument parser. Adding an op is adding a row (and a differential case).

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use tch::{Device, Kind, Reduction, Scalar, Tensor};

use super::schema::{self, Args, Schema};
use super::{create, fresh, named, view};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::host::HostObj;
use crate::value::object::{Aux, Native};
use crate::value::tensor::{check_numel, check_writable, shape_numel};
use crate::value::{PyErr, PyResult, Value, ctx, dtype};

/// Where an op is reachable from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ns {
    /// `tensor.name(...)`.
    Method,
    /// `torch.name(...)`.
    Function,
    /// Both of the above (the first parameter is `self`).
    Both,
    /// `torch.nn.functional.name(...)`.
    Functional,
    /// `torch.linalg.name(...)`.
    Linalg,
}

pub type OpFn = fn(&mut Interp, &Args) -> PyResult<Value>;

pub struct Op {
    pub ns: Ns,
    pub name: &'static str,
    pub schema: &'static str,
    pub f: OpFn,
}

macro_rules! op {
    ($ns:ident $name:literal $schema:literal => $f:expr) => {
        Op { ns: Ns::$ns, name: $name, schema: $schema, f: $f }
    };
}

/// Elementwise unary ops with an in-place twin: (name, f, name_, f_).
macro_rules! unary {
    ($v:ident; $($name:literal $f:ident $iname:literal $fi:ident),* $(,)?) => {
        $(
            $v.push(op!(Both $name "(Tensor self)" => |_, a| fresh(a.tensor(0)?.$f()?)));
            $v.push(op!(Method $iname "(Tensor self)" => |_, a| inplace(a, |t| t.$fi().map(drop))));
        )*
    };
}

/// Unary ops without an in-place form.
macro_rules! unary_only {
    ($v:ident; $($name:literal $f:ident),* $(,)?) => {
        $( $v.push(op!(Both $name "(Tensor self)" => |_, a| fresh(a.tensor(0)?.$f()?))); )*
    };
}

/// In-place op: refuses weight aliases, mutates through a handle, returns `self` itself.
fn inplace(a: &Args, f: impl FnOnce(&mut Tensor) -> Result<(), tch::TchError>) -> PyResult<Value> {
    let mut t = a.tensor(0)?;
    check_writable(&t)?;
    f(&mut t)?;
    Ok(a.value(0).clone())
}

fn same_or(a: &Args, t: Tensor) -> PyResult<Value> {
    let orig = a.tensor(0)?;
    if t.data_ptr() == orig.data_ptr() && t.size() == orig.size() && t.kind() == orig.kind() && t.device() == orig.device() && t.stride() == orig.stride() {
        return Ok(a.value(0).clone());
    }
    fresh(t)
}

fn reduction(s: &str) -> PyResult<Reduction> {
    Ok(match s {
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        "none" => Reduction::None,
        other => return Err(PyErr::value_error(format!("{other} is not a valid value for reduction"))),
    })
}

fn dims_opt(a: &Args, i: usize) -> PyResult<Option<Vec<i64>>> {
    a.opt_ints(i)
}

fn tensors_value(ts: Vec<Tensor>) -> PyResult<Value> {
    let items = ts.into_iter().map(view).collect::<PyResult<Vec<_>>>()?;
    Ok(Value::tuple(items))
}

fn factory_opts(a: &Args, kind_i: usize, dev_i: usize, default: Kind) -> PyResult<(Kind, Device)> {
    let k = a.kind(kind_i)?.unwrap_or(default);
    let d = a.device(dev_i)?.unwrap_or_else(ctx::device);
    Ok((k, d))
}

fn with_grad(a: &Args, i: usize, v: Value) -> PyResult<Value> {
    if a.bool(i)? {
        if let Value::Tensor(t) = &v {
            let _ = t.handle().f_requires_grad_(true)?;
        }
    }
    Ok(v)
}

/// Python number → the dtype `torch.full` infers from it.
fn fill_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int64,
        Value::Tensor(t) => t.t.kind(),
        _ => dtype::DEFAULT_FLOAT,
    }
}

fn norm_p(v: &Value) -> PyResult<Option<f64>> {
    Ok(match v {
        Value::None => None,
        Value::Str(s) if s.as_str() == "fro" => Some(2.0),
        Value::Str(s) => return Err(PyErr::unsupported(format!("norm with p='{}'", s.as_str()))),
        Value::Float(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        other => return Err(PyErr::type_error(format!("norm(): p must be a number, not {}", other.type_name()))),
    })
}

/// F.softmax's implicit dim (deprecated, but code uses it).
fn softmax_dim(a: &Args, i: usize, t: &Tensor) -> PyResult<i64> {
    Ok(match a.opt_int(i)? {
        Some(d) => d,
        None => if matches!(t.dim(), 0 | 1 | 3) { 0 } else { 1 },
    })
}

pub fn table() -> Vec<Op> {
    let mut v: Vec<Op> = Vec::with_capacity(400);
    unary!(v;
        "abs" f_abs "abs_" f_abs_,
        "neg" f_neg "neg_" f_neg_,
        "exp" f_exp "exp_" f_exp_,
        "exp2" f_exp2 "exp2_" f_exp2_,
        "expm1" f_expm1 "expm1_" f_expm1_,
        "log" f_log "log_" f_log_,
        "log2" f_log2 "log2_" f_log2_,
        "log10" f_log10 "log10_" f_log10_,
        "log1p" f_log1p "log1p_" f_log1p_,
        "sqrt" f_sqrt "sqrt_" f_sqrt_,
        "rsqrt" f_rsqrt "rsqrt_" f_rsqrt_,
        "sin" f_sin "sin_" f_sin_,
        "cos" f_cos "cos_" f_cos_,
        "tan" f_tan "tan_" f_tan_,
        "asin" f_asin "asin_" f_asin_,
        "acos" f_acos "acos_" f_acos_,
        "atan" f_atan "atan_" f_atan_,
        "sinh" f_sinh "sinh_" f_sinh_,
        "cosh" f_cosh "cosh_" f_cosh_,
        "tanh" f_tanh "tanh_" f_tanh_,
        "sigmoid" f_sigmoid "sigmoid_" f_sigmoid_,
        "relu" f_relu "relu_" f_relu_,
        "floor" f_floor "floor_" f_floor_,
        "ceil" f_ceil "ceil_" f_ceil_,
        "trunc" f_trunc "trunc_" f_trunc_,
        "frac" f_frac "frac_" f_frac_,
        "sign" f_sign "sign_" f_sign_,
        "reciprocal" f_reciprocal "reciprocal_" f_reciprocal_,
        "square" f_square "square_" f_square_,
        "erf" f_erf "erf_" f_erf_,
        "erfc" f_erfc "erfc_" f_erfc_,
        "erfinv" f_erfinv "erfinv_" f_erfinv_,
        "logical_not" f_logical_not "logical_not_" f_logical_not_,
        "bitwise_not" f_bitwise_not "bitwise_not_" f_bitwise_not_,
        "lgamma" f_lgamma "lgamma_" f_lgamma_,
        "digamma" f_digamma "digamma_" f_digamma_,
    );
    unary_only!(v;
        "isnan" f_isnan, "isinf" f_isinf, "isfinite" f_isfinite, "isposinf" f_isposinf,
        "isneginf" f_isneginf, "signbit" f_signbit, "sgn" f_sgn, "absolute" f_absolute,
        "median" f_median, "fix" f_fix,
    );
    v.extend([
        op!(Both "round" "(Tensor self, *, int decimals=0)" => |_, a| {
            let d = a.int(1)?;
            fresh(if d == 0 { a.tensor(0)?.f_round()? } else { a.tensor(0)?.f_round_decimals(d)? })
        }),
        op!(Method "round_" "(Tensor self, *, int decimals=0)" => |_, a| {
            let d = a.int(1)?;
            inplace(a, |t| if d == 0 { t.f_round_().map(drop) } else { t.f_round_decimals_(d).map(drop) })
        }),
        op!(Both "clone" "(Tensor self, *, Any memory_format=None)" => |_, a| {
            let t = a.tensor(0)?;
            let mut out = t.f_empty_like()?;
            out.f_copy_(&t)?;
            fresh(out)
        }),
        op!(Both "detach" "(Tensor self)" => |_, a| view(a.tensor(0)?.f_detach()?)),
        op!(Method "detach_" "(Tensor self)" => |_, a| { let mut t = a.tensor(0)?; let _ = t.f_detach_()?; Ok(a.value(0).clone()) }),
        op!(Method "contiguous" "(Tensor self, *, Any memory_format=None)" => |_, a| {
            let t = a.tensor(0)?;
            if t.is_contiguous() { Ok(a.value(0).clone()) } else { fresh(t.f_contiguous()?) }
        }),
        op!(Method "cpu" "(Tensor self)" => |_, a| {
            let t = a.tensor(0)?;
            if t.device() == Device::Cpu { Ok(a.value(0).clone()) } else { fresh(t.f_to_device(Device::Cpu)?) }
        }),
        op!(Method "cuda" "(Tensor self, Device? device=None, bool non_blocking=False)" => |_, a| {
            let d = a.device(1)?.unwrap_or(Device::Cuda(0));
            let t = a.tensor(0)?;
            if t.device() == d { Ok(a.value(0).clone()) } else { fresh(t.f_to_device(d)?) }
        }),
        op!(Method "float" "(Tensor self)" => |_, a| cast(a, Kind::Float)),
        op!(Method "double" "(Tensor self)" => |_, a| cast(a, Kind::Double)),
        op!(Method "half" "(Tensor self)" => |_, a| cast(a, Kind::Half)),
        op!(Method "bfloat16" "(Tensor self)" => |_, a| cast(a, Kind::BFloat16)),
        op!(Method "long" "(Tensor self)" => |_, a| cast(a, Kind::Int64)),
        op!(Method "int" "(Tensor self)" => |_, a| cast(a, Kind::Int)),
        op!(Method "short" "(Tensor self)" => |_, a| cast(a, Kind::Int16)),
        op!(Method "char" "(Tensor self)" => |_, a| cast(a, Kind::Int8)),
        op!(Method "byte" "(Tensor self)" => |_, a| cast(a, Kind::Uint8)),
        op!(Method "bool" "(Tensor self)" => |_, a| cast(a, Kind::Bool)),
        op!(Method "type_as" "(Tensor self, Tensor other)" => |_, a| {
            let k = a.tensor(1)?.kind();
            cast(a, k)
        }),
        op!(Method "item" "(Tensor self)" => |_, a| super::item(&a.tensor(0)?)),
        op!(Method "tolist" "(Tensor self)" => |_, a| super::tolist(&a.tensor(0)?)),
        op!(Method "numpy" "(Tensor self, *, bool force=False)" => |_, a| crate::interp::numpy::tensor_numpy(&a.tensor(0)?, a.bool(1)?)),
        op!(Method "dim" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.dim() as i64))),
        op!(Method "ndimension" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.dim() as i64))),
        op!(Both "numel" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.numel() as i64))),
        op!(Method "nelement" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.numel() as i64))),
        op!(Method "element_size" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.kind().elt_size_in_bytes() as i64))),
        op!(Method "size" "(Tensor self, int? dim=None)" => |_, a| {
            let t = a.tensor(0)?;
            match a.opt_int(1)? {
                None => Ok(Value::Size(Rc::new(t.size()))),
                Some(d) => {
                    let n = t.dim() as i64;
                    let j = if d < 0 { d + n } else { d };
                    if !(0..n.max(1)).contains(&j) || n == 0 {
                        return Err(PyErr::index_error(format!("Dimension out of range (expected to be in range of [{}, {}], but got {d})", -n.max(1), n.max(1) - 1)));
                    }
                    // rank: j was checked against n = t.dim() above.
                    Ok(Value::Int(t.size()[j as usize]))
                }
            }
        }),
        op!(Method "stride" "(Tensor self, int? dim=None)" => |_, a| {
            let t = a.tensor(0)?;
            match a.opt_int(1)? {
                None => Ok(Value::tuple(t.stride().into_iter().map(Value::Int).collect())),
                Some(d) => {
                    let n = t.dim() as i64;
                    let j = if d < 0 { d + n } else { d };
                    Ok(Value::Int(*t.stride().get(j as usize).ok_or_else(|| PyErr::index_error("Dimension out of range"))?))
                }
            }
        }),
        op!(Method "is_contiguous" "(Tensor self, *, Any memory_format=None)" => |_, a| Ok(Value::Bool(a.tensor(0)?.is_contiguous()))),
        op!(Both "is_floating_point" "(Tensor self)" => |_, a| Ok(Value::Bool(dtype::is_float(a.tensor(0)?.kind())))),
        op!(Both "is_complex" "(Tensor self)" => |_, a| Ok(Value::Bool(dtype::is_complex(a.tensor(0)?.kind())))),
        op!(Method "data_ptr" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.data_ptr() as i64))),
        op!(Method "storage_offset" "(Tensor self)" => |_, a| Ok(Value::Int(a.tensor(0)?.f_internal_version().map(|_| 0).unwrap_or(0)))),
        op!(Method "requires_grad_" "(Tensor self, bool requires_grad=True)" => |_, a| {
            let mut t = a.tensor(0)?;
            let b = a.bool(1)?;
            if b && !dtype::is_float(t.kind()) {
                return Err(PyErr::runtime_error("only Tensors of floating point dtype can require gradients"));
            }
            let _ = t.f_requires_grad_(b)?;
            Ok(a.value(0).clone())
        }),
        op!(Method "retain_grad" "(Tensor self)" => |_, a| { let _ = a.tensor(0)?; Ok(Value::None) }),
        op!(Method "backward" "(Tensor self, Tensor? gradient=None, Any retain_graph=None, bool create_graph=False, Any inputs=None)" => |_, a| {
            if !a.is_none(4) {
                return Err(PyErr::unsupported("backward(inputs=...)"));
            }
            let create = a.bool(3)?;
            let retain = if a.is_none(2) { create } else { matches!(a.value(2), Value::Bool(true)) };
            crate::value::autograd::backward(&a.tensor(0)?, a.opt_tensor(1)?.as_ref(), retain, create)?;
            Ok(Value::None)
        }),
        op!(Method "zero_" "(Tensor self)" => |_, a| inplace(a, |t| t.f_zero_().map(drop))),
        op!(Method "fill_" "(Tensor self, Tensor value)" => |_, a| { let v = a.tensor(1)?; inplace(a, |t| t.f_fill_tensor_(&v).map(drop)) }),
        op!(Method "fill_" "(Tensor self, Scalar value)" => |_, a| { let v = a.scalar(1)?; inplace(a, |t| t.f_fill_(v).map(drop)) }),
        op!(Method "copy_" "(Tensor self, Tensor src, bool non_blocking=False)" => |_, a| { let s = a.tensor(1)?; inplace(a, |t| t.f_copy_(&s)) }),
        op!(Method "normal_" "(Tensor self, float mean=0, float std=1, *, Any generator=None)" => |_, a| { let (m, s) = (a.float(1)?, a.float(2)?); inplace(a, |t| t.f_normal_(m, s).map(drop)) }),
        op!(Method "uniform_" "(Tensor self, float from=0, float to=1, *, Any generator=None)" => |_, a| { let (f, to) = (a.float(1)?, a.float(2)?); inplace(a, |t| t.f_uniform_(f, to).map(drop)) }),
        op!(Method "to" "(Tensor self, Any a=None, Any b=None, bool non_blocking=False, bool copy=False, *, ScalarType? dtype=None, Device? device=None, Any memory_format=None)" => |_, a| to(a)),
        op!(Method "type" "(Tensor self, Any dtype=None, bool non_blocking=False)" => |_, a| {
            let t = a.tensor(0)?;
            match a.value(1) {
                Value::None => Ok(Value::string(format!("torch.{}Tensor", legacy_type_name(t.kind())))),
                Value::Dtype(k) if *k == t.kind() => Ok(a.value(0).clone()),
                Value::Dtype(k) => fresh(t.f_to_kind(*k)?),
                other => Err(PyErr::type_error(format!("type() got an unsupported dtype argument of type '{}'", other.type_name()))),
            }
        }),
        // ---- binary arithmetic ----
        op!(Both "add" "(Tensor self, Tensor other, *, Scalar alpha=1)" => |_, a| {
            let o = scaled(a.tensor(1)?, a.value(2))?;
            fresh(a.tensor(0)?.f_add(&o)?)
        }),
        op!(Both "add" "(Tensor self, Scalar other, Scalar alpha=1)" => |_, a| fresh(a.tensor(0)?.f_add_scalar(scaled_scalar(a.value(1), a.value(2))?)?)),
        op!(Method "add_" "(Tensor self, Tensor other, *, Scalar alpha=1)" => |_, a| { let o = scaled(a.tensor(1)?, a.value(2))?; inplace(a, |t| t.f_add_(&o).map(drop)) }),
        op!(Method "add_" "(Tensor self, Scalar other, Scalar alpha=1)" => |_, a| { let s = scaled_scalar(a.value(1), a.value(2))?; inplace(a, |t| t.f_add_scalar_(s).map(drop)) }),
        op!(Both "sub" "(Tensor self, Tensor other, *, Scalar alpha=1)" => |_, a| { let o = scaled(a.tensor(1)?, a.value(2))?; fresh(a.tensor(0)?.f_sub(&o)?) }),
        op!(Both "sub" "(Tensor self, Scalar other, Scalar alpha=1)" => |_, a| fresh(a.tensor(0)?.f_sub_scalar(scaled_scalar(a.value(1), a.value(2))?)?)),
        op!(Method "sub_" "(Tensor self, Tensor other, *, Scalar alpha=1)" => |_, a| { let o = scaled(a.tensor(1)?, a.value(2))?; inplace(a, |t| t.f_sub_(&o).map(drop)) }),
        op!(Method "sub_" "(Tensor self, Scalar other, Scalar alpha=1)" => |_, a| { let s = scaled_scalar(a.value(1), a.value(2))?; inplace(a, |t| t.f_sub_scalar_(s).map(drop)) }),
        op!(Both "subtract" "(Tensor self, Tensor other, *, Scalar alpha=1)" => |_, a| { let o = scaled(a.tensor(1)?, a.value(2))?; fresh(a.tensor(0)?.f_sub(&o)?) }),
        op!(Both "rsub" "(Tensor self, Tensor other, *, Scalar alpha=1)" => |_, a| fresh(a.tensor(0)?.f_rsub(&a.tensor(1)?)?)),
        op!(Both "rsub" "(Tensor self, Scalar other, Scalar alpha=1)" => |_, a| fresh(a.tensor(0)?.f_rsub_scalar(a.scalar(1)?)?)),
        op!(Both "mul" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_mul(&a.tensor(1)?)?)),
        op!(Both "mul" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_mul_scalar(a.scalar(1)?)?)),
        op!(Both "multiply" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_mul(&a.tensor(1)?)?)),
        op!(Both "multiply" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_mul_scalar(a.scalar(1)?)?)),
        op!(Method "mul_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_mul_(&o).map(drop)) }),
        op!(Method "mul_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_mul_scalar_(s).map(drop)) }),
        op!(Both "div" "(Tensor self, Tensor other, *, str? rounding_mode=None)" => |_, a| {
            let (x, y) = (a.tensor(0)?, a.tensor(1)?);
            fresh(match a.opt_str(2)? { None => x.f_div(&y)?, Some(m) => x.f_div_tensor_mode(&y, &m)? })
        }),
        op!(Both "div" "(Tensor self, Scalar other, *, str? rounding_mode=None)" => |_, a| {
            let x = a.tensor(0)?;
            fresh(match a.opt_str(2)? { None => x.f_div_scalar(a.scalar(1)?)?, Some(m) => x.f_div_scalar_mode(a.scalar(1)?, &m)? })
        }),
        op!(Both "divide" "(Tensor self, Tensor other, *, str? rounding_mode=None)" => |_, a| {
            let (x, y) = (a.tensor(0)?, a.tensor(1)?);
            fresh(match a.opt_str(2)? { None => x.f_div(&y)?, Some(m) => x.f_div_tensor_mode(&y, &m)? })
        }),
        op!(Both "divide" "(Tensor self, Scalar other, *, str? rounding_mode=None)" => |_, a| fresh(a.tensor(0)?.f_div_scalar(a.scalar(1)?)?)),
        op!(Both "true_divide" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_div(&a.tensor(1)?)?)),
        op!(Both "true_divide" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_div_scalar(a.scalar(1)?)?)),
        op!(Method "div_" "(Tensor self, Tensor other, *, str? rounding_mode=None)" => |_, a| {
            let o = a.tensor(1)?;
            let m = a.opt_str(2)?;
            inplace(a, |t| match m { None => t.f_div_(&o).map(drop), Some(m) => t.f_div_tensor_mode_(&o, &m).map(drop) })
        }),
        op!(Method "div_" "(Tensor self, Scalar other, *, str? rounding_mode=None)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_div_scalar_(s).map(drop)) }),
        op!(Both "floor_divide" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_floor_divide(&a.tensor(1)?)?)),
        op!(Both "floor_divide" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_floor_divide_scalar(a.scalar(1)?)?)),
        op!(Method "floor_divide_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_floor_divide_(&o).map(drop)) }),
        op!(Method "floor_divide_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_floor_divide_scalar_(s).map(drop)) }),
        op!(Both "remainder" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_remainder_tensor(&a.tensor(1)?)?)),
        op!(Both "remainder" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_remainder(a.scalar(1)?)?)),
        op!(Method "remainder_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_remainder_tensor_(&o).map(drop)) }),
        op!(Method "remainder_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_remainder_(s).map(drop)) }),
        op!(Both "fmod" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_fmod_tensor(&a.tensor(1)?)?)),
        op!(Both "fmod" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_fmod(a.scalar(1)?)?)),
        op!(Both "pow" "(Tensor self, Tensor exponent)" => |_, a| fresh(a.tensor(0)?.f_pow(&a.tensor(1)?)?)),
        op!(Both "pow" "(Tensor self, Scalar exponent)" => |_, a| fresh(a.tensor(0)?.f_pow_tensor_scalar(a.scalar(1)?)?)),
        op!(Function "pow" "(Scalar self, Tensor exponent)" => |_, a| fresh(Tensor::f_pow_scalar(a.scalar(0)?, &a.tensor(1)?)?)),
        op!(Method "pow_" "(Tensor self, Tensor exponent)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_pow_tensor_(&o).map(drop)) }),
        op!(Method "pow_" "(Tensor self, Scalar exponent)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_pow_(s).map(drop)) }),
        op!(Both "float_power" "(Tensor self, Scalar exponent)" => |_, a| fresh(a.tensor(0)?.f_to_kind(Kind::Double)?.f_pow_tensor_scalar(a.scalar(1)?)?)),
        op!(Both "atan2" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_atan2(&a.tensor(1)?)?)),
        op!(Both "maximum" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_maximum(&a.tensor(1)?)?)),
        op!(Both "minimum" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_minimum(&a.tensor(1)?)?)),
        op!(Both "logaddexp" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_logaddexp(&a.tensor(1)?)?)),
        op!(Both "hypot" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_hypot(&a.tensor(1)?)?)),
        op!(Both "logical_and" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_logical_and(&a.tensor(1)?)?)),
        op!(Both "logical_or" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_logical_or(&a.tensor(1)?)?)),
        op!(Both "logical_xor" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_logical_xor(&a.tensor(1)?)?)),
        op!(Both "bitwise_and" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_and_tensor(&a.tensor(1)?)?)),
        op!(Both "bitwise_and" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_and(a.scalar(1)?)?)),
        op!(Both "bitwise_or" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_or_tensor(&a.tensor(1)?)?)),
        op!(Both "bitwise_or" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_or(a.scalar(1)?)?)),
        op!(Both "bitwise_xor" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_xor_tensor(&a.tensor(1)?)?)),
        op!(Both "bitwise_xor" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_xor(a.scalar(1)?)?)),
        op!(Method "bitwise_and_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_bitwise_and_tensor_(&o).map(drop)) }),
        op!(Method "bitwise_and_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_bitwise_and_(s).map(drop)) }),
        op!(Method "bitwise_or_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_bitwise_or_tensor_(&o).map(drop)) }),
        op!(Method "bitwise_or_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_bitwise_or_(s).map(drop)) }),
        op!(Method "bitwise_xor_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_bitwise_xor_tensor_(&o).map(drop)) }),
        op!(Method "bitwise_xor_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_bitwise_xor_(s).map(drop)) }),
        op!(Both "bitwise_left_shift" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_left_shift_tensor_scalar(a.scalar(1)?)?)),
        op!(Both "bitwise_right_shift" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_right_shift_tensor_scalar(a.scalar(1)?)?)),
        op!(Both "bitwise_left_shift" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_left_shift(&a.tensor(1)?)?)),
        op!(Both "bitwise_right_shift" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_bitwise_right_shift(&a.tensor(1)?)?)),
        op!(Method "bitwise_left_shift_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_bitwise_left_shift_tensor_scalar_(s).map(drop)) }),
        op!(Method "bitwise_right_shift_" "(Tensor self, Scalar other)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_bitwise_right_shift_tensor_scalar_(s).map(drop)) }),
        op!(Method "bitwise_left_shift_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_bitwise_left_shift_(&o).map(drop)) }),
        op!(Method "bitwise_right_shift_" "(Tensor self, Tensor other)" => |_, a| { let o = a.tensor(1)?; inplace(a, |t| t.f_bitwise_right_shift_(&o).map(drop)) }),
        op!(Both "diag" "(Tensor self, int diagonal=0)" => |_, a| fresh(a.tensor(0)?.f_diag(a.int(1)?)?)),
        op!(Both "diagonal" "(Tensor self, int offset=0, int dim1=0, int dim2=1)" => |_, a| view(a.tensor(0)?.f_diagonal(a.int(1)?, a.int(2)?, a.int(3)?)?)),
        op!(Both "trace" "(Tensor self)" => |_, a| fresh(a.tensor(0)?.f_trace()?)),
        op!(Both "lerp" "(Tensor self, Tensor end, Tensor weight)" => |_, a| fresh(a.tensor(0)?.f_lerp_tensor(&a.tensor(1)?, &a.tensor(2)?)?)),
        op!(Both "lerp" "(Tensor self, Tensor end, Scalar weight)" => |_, a| fresh(a.tensor(0)?.f_lerp(&a.tensor(1)?, a.scalar(2)?)?)),
        op!(Method "lerp_" "(Tensor self, Tensor end, Scalar weight)" => |_, a| { let (e, w) = (a.tensor(1)?, a.scalar(2)?); inplace(a, |t| t.f_lerp_(&e, w).map(drop)) }),
        op!(Both "addcmul" "(Tensor self, Tensor tensor1, Tensor tensor2, *, Scalar value=1)" => |_, a| {
            let t2 = scaled(a.tensor(2)?, a.value(3))?;
            fresh(a.tensor(0)?.f_addcmul(&a.tensor(1)?, &t2)?)
        }),
        // ---- comparisons ----
        op!(Both "eq" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_eq_tensor(&a.tensor(1)?)?)),
        op!(Both "eq" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_eq(a.scalar(1)?)?)),
        op!(Both "ne" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_ne_tensor(&a.tensor(1)?)?)),
        op!(Both "ne" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_ne(a.scalar(1)?)?)),
        op!(Both "lt" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_lt_tensor(&a.tensor(1)?)?)),
        op!(Both "lt" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_lt(a.scalar(1)?)?)),
        op!(Both "le" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_le_tensor(&a.tensor(1)?)?)),
        op!(Both "le" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_le(a.scalar(1)?)?)),
        op!(Both "gt" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_gt_tensor(&a.tensor(1)?)?)),
        op!(Both "gt" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_gt(a.scalar(1)?)?)),
        op!(Both "ge" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_ge_tensor(&a.tensor(1)?)?)),
        op!(Both "ge" "(Tensor self, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_ge(a.scalar(1)?)?)),
        op!(Both "equal" "(Tensor self, Tensor other)" => |_, a| Ok(Value::Bool(a.tensor(0)?.f_equal(&a.tensor(1)?)?))),
        op!(Both "allclose" "(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, bool equal_nan=False)" => |_, a| {
            Ok(Value::Bool(a.tensor(0)?.f_allclose(&a.tensor(1)?, a.float(2)?, a.float(3)?, a.bool(4)?)?))
        }),
        op!(Both "isclose" "(Tensor self, Tensor other, float rtol=1e-05, float atol=1e-08, bool equal_nan=False)" => |_, a| {
            fresh(a.tensor(0)?.f_isclose(&a.tensor(1)?, a.float(2)?, a.float(3)?, a.bool(4)?)?)
        }),
        // ---- clamp ----
        op!(Both "clamp" "(Tensor self, Tensor? min=None, Tensor? max=None)" => |_, a| fresh(a.tensor(0)?.f_clamp_tensor(a.opt_tensor(1)?, a.opt_tensor(2)?)?)),
        op!(Both "clamp" "(Tensor self, Scalar? min=None, Scalar? max=None)" => |_, a| clamp_scalar(a)),
        op!(Both "clip" "(Tensor self, Tensor? min=None, Tensor? max=None)" => |_, a| fresh(a.tensor(0)?.f_clamp_tensor(a.opt_tensor(1)?, a.opt_tensor(2)?)?)),
        op!(Both "clip" "(Tensor self, Scalar? min=None, Scalar? max=None)" => |_, a| clamp_scalar(a)),
        op!(Method "clamp_" "(Tensor self, Scalar? min=None, Scalar? max=None)" => |_, a| {
            let (lo, hi) = (a.value(1).clone(), a.value(2).clone());
            inplace(a, |t| {
                match (lo.is_none(), hi.is_none()) {
                    (false, false) => t.f_clamp_(schema::scalar_of(&lo).unwrap_or(Scalar::int(0)), schema::scalar_of(&hi).unwrap_or(Scalar::int(0))).map(drop),
                    (false, true) => t.f_clamp_min_(schema::scalar_of(&lo).unwrap_or(Scalar::int(0))).map(drop),
                    (true, false) => t.f_clamp_max_(schema::scalar_of(&hi).unwrap_or(Scalar::int(0))).map(drop),
                    _ => Ok(()),
                }
            })
        }),
        op!(Method "clamp_" "(Tensor self, Tensor? min=None, Tensor? max=None)" => |_, a| { let (lo, hi) = (a.opt_tensor(1)?, a.opt_tensor(2)?); inplace(a, |t| t.f_clamp_tensor_(lo, hi).map(drop)) }),
        op!(Both "clamp_min" "(Tensor self, Scalar min)" => |_, a| fresh(a.tensor(0)?.f_clamp_min(a.scalar(1)?)?)),
        op!(Both "clamp_max" "(Tensor self, Scalar max)" => |_, a| fresh(a.tensor(0)?.f_clamp_max(a.scalar(1)?)?)),
        op!(Method "clamp_min_" "(Tensor self, Scalar min)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_clamp_min_(s).map(drop)) }),
        op!(Method "clamp_max_" "(Tensor self, Scalar max)" => |_, a| { let s = a.scalar(1)?; inplace(a, |t| t.f_clamp_max_(s).map(drop)) }),
        op!(Both "nan_to_num" "(Tensor self, float? nan=None, float? posinf=None, float? neginf=None)" => |_, a| fresh(a.tensor(0)?.f_nan_to_num(a.opt_float(1)?, a.opt_float(2)?, a.opt_float(3)?)?)),
        // ---- reductions ----
        op!(Both "sum" "(Tensor self, *, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_sum(a.kind(1)?)?)),
        op!(Both "sum" "(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            fresh(match dims_opt(a, 1)? { None => t.f_sum(a.kind(3)?)?, Some(d) => t.f_sum_dim_intlist(Some(d.as_slice()), a.bool(2)?, a.kind(3)?)? })
        }),
        op!(Both "nansum" "(Tensor self, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let d = dims_opt(a, 1)?;
            fresh(t.f_nansum(d.as_deref(), a.bool(2)?, a.kind(3)?)?)
        }),
        op!(Both "mean" "(Tensor self, *, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_mean(a.kind(1)?)?)),
        op!(Both "mean" "(Tensor self, int[1]? dim, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            fresh(match dims_opt(a, 1)? { None => t.f_mean(a.kind(3)?)?, Some(d) => t.f_mean_dim(Some(d.as_slice()), a.bool(2)?, a.kind(3)?)? })
        }),
        op!(Both "prod" "(Tensor self, *, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_prod(a.kind(1)?)?)),
        op!(Both "prod" "(Tensor self, int dim, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_prod_dim_int(a.int(1)?, a.bool(2)?, a.kind(3)?)?)),
        op!(Both "max" "(Tensor self)" => |_, a| fresh(a.tensor(0)?.f_max()?)),
        op!(Both "max" "(Tensor self, int dim, bool keepdim=False)" => |_, a| {
            let (v, i) = a.tensor(0)?.f_max_dim(a.int(1)?, a.bool(2)?)?;
            Ok(named("max", vec![("values", fresh(v)?), ("indices", fresh(i)?)]))
        }),
        op!(Both "max" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_maximum(&a.tensor(1)?)?)),
        op!(Both "min" "(Tensor self)" => |_, a| fresh(a.tensor(0)?.f_min()?)),
        op!(Both "min" "(Tensor self, int dim, bool keepdim=False)" => |_, a| {
            let (v, i) = a.tensor(0)?.f_min_dim(a.int(1)?, a.bool(2)?)?;
            Ok(named("min", vec![("values", fresh(v)?), ("indices", fresh(i)?)]))
        }),
        op!(Both "min" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_minimum(&a.tensor(1)?)?)),
        op!(Both "amax" "(Tensor self, int[1] dim=[], bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_amax(a.ints(1)?.as_slice(), a.bool(2)?)?)),
        op!(Both "amin" "(Tensor self, int[1] dim=[], bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_amin(a.ints(1)?.as_slice(), a.bool(2)?)?)),
        op!(Both "argmax" "(Tensor self, int? dim=None, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_argmax(a.opt_int(1)?, a.bool(2)?)?)),
        op!(Both "argmin" "(Tensor self, int? dim=None, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_argmin(a.opt_int(1)?, a.bool(2)?)?)),
        op!(Both "std" "(Tensor self, int[1]? dim=None, *, Scalar? correction=None, bool keepdim=False)" => |_, a| var_std(a, true, 2, 3)),
        op!(Both "std" "(Tensor self, bool unbiased=True)" => |_, a| fresh(a.tensor(0)?.f_std(a.bool(1)?)?)),
        op!(Both "std" "(Tensor self, int[1]? dim, bool unbiased=True, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_std_dim(dims_opt(a, 1)?.as_deref(), a.bool(2)?, a.bool(3)?)?)),
        op!(Both "var" "(Tensor self, int[1]? dim=None, *, Scalar? correction=None, bool keepdim=False)" => |_, a| var_std(a, false, 2, 3)),
        op!(Both "var" "(Tensor self, bool unbiased=True)" => |_, a| fresh(a.tensor(0)?.f_var(a.bool(1)?)?)),
        op!(Both "var" "(Tensor self, int[1]? dim, bool unbiased=True, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_var_dim(dims_opt(a, 1)?.as_deref(), a.bool(2)?, a.bool(3)?)?)),
        op!(Both "norm" "(Tensor self, Any p=\"fro\", int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let p = norm_p(a.value(1))?.unwrap_or(2.0);
            let dims = dims_opt(a, 2)?.unwrap_or_default();
            let keep = a.bool(3)?;
            fresh(match a.kind(4)? {
                Some(k) => t.f_norm_scalaropt_dim_dtype(p, dims.as_slice(), keep, k)?,
                None if dims.is_empty() && !keep && p == 2.0 => t.f_norm()?,
                None => t.f_norm_scalaropt_dim(p, dims.as_slice(), keep)?,
            })
        }),
        op!(Linalg "norm" "(Tensor input, Any ord=None, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let p = norm_p(a.value(1))?.unwrap_or(2.0);
            let dims = dims_opt(a, 2)?.unwrap_or_default();
            fresh(t.f_linalg_norm(p, if dims.is_empty() { None } else { Some(dims.as_slice()) }, a.bool(3)?, a.kind(4)?)?)
        }),
        op!(Linalg "vector_norm" "(Tensor x, Scalar ord=2, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let dims = dims_opt(a, 2)?;
            fresh(t.f_linalg_norm(a.scalar(1)?, dims.as_deref(), a.bool(3)?, a.kind(4)?)?)
        }),
        op!(Both "logsumexp" "(Tensor self, int[1] dim, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_logsumexp(a.ints(1)?.as_slice(), a.bool(2)?)?)),
        op!(Both "all" "(Tensor self)" => |_, a| fresh(a.tensor(0)?.f_all()?)),
        op!(Both "all" "(Tensor self, int dim, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_all_dim(a.int(1)?, a.bool(2)?)?)),
        op!(Both "any" "(Tensor self)" => |_, a| fresh(a.tensor(0)?.f_any()?)),
        op!(Both "any" "(Tensor self, int dim, bool keepdim=False)" => |_, a| fresh(a.tensor(0)?.f_any_dim(a.int(1)?, a.bool(2)?)?)),
        op!(Both "cumsum" "(Tensor self, int dim, *, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_cumsum(a.int(1)?, a.kind(2)?)?)),
        op!(Both "cumprod" "(Tensor self, int dim, *, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_cumprod(a.int(1)?, a.kind(2)?)?)),
        op!(Both "count_nonzero" "(Tensor self, int? dim=None)" => |_, a| fresh(a.tensor(0)?.f_count_nonzero(a.opt_int(1)?)?)),
        op!(Both "diff" "(Tensor self, int n=1, int dim=-1, Tensor? prepend=None, Tensor? append=None)" => |_, a| fresh(a.tensor(0)?.f_diff(a.int(1)?, a.int(2)?, a.opt_tensor(3)?, a.opt_tensor(4)?)?)),
        op!(Both "topk" "(Tensor self, int k, int dim=-1, bool largest=True, bool sorted=True)" => |_, a| {
            let (v, i) = a.tensor(0)?.f_topk(a.int(1)?, a.int(2)?, a.bool(3)?, a.bool(4)?)?;
            Ok(named("topk", vec![("values", fresh(v)?), ("indices", fresh(i)?)]))
        }),
        op!(Both "kthvalue" "(Tensor self, int k, int dim=-1, bool keepdim=False)" => |_, a| {
            let (v, i) = a.tensor(0)?.f_kthvalue(a.int(1)?, a.int(2)?, a.bool(3)?)?;
            Ok(named("kthvalue", vec![("values", fresh(v)?), ("indices", fresh(i)?)]))
        }),
        op!(Both "sort" "(Tensor self, int dim=-1, bool descending=False, *, bool? stable=None)" => |_, a| {
            let (v, i) = a.tensor(0)?.f_sort_stable(a.bool(3)?, a.int(1)?, a.bool(2)?)?;
            Ok(named("sort", vec![("values", fresh(v)?), ("indices", fresh(i)?)]))
        }),
        op!(Both "argsort" "(Tensor self, int dim=-1, bool descending=False, *, bool stable=False)" => |_, a| fresh(a.tensor(0)?.f_argsort_stable(a.bool(3)?, a.int(1)?, a.bool(2)?)?)),
        op!(Both "unique" "(Tensor self, bool sorted=True, bool return_inverse=False, bool return_counts=False, int? dim=None)" => |_, a| {
            let t = a.tensor(0)?;
            let (ri, rc) = (a.bool(2)?, a.bool(3)?);
            let (u, inv, cnt) = match a.opt_int(4)? {
                Some(d) => t.f_unique_dim(d, a.bool(1)?, ri, rc)?,
                None => t.f_internal_unique2(a.bool(1)?, ri, rc)?,
            };
            let u = fresh(u)?;
            Ok(match (ri, rc) {
                (false, false) => u,
                (true, false) => Value::tuple(vec![u, fresh(inv)?]),
                (false, true) => Value::tuple(vec![u, fresh(cnt)?]),
                (true, true) => Value::tuple(vec![u, fresh(inv)?, fresh(cnt)?]),
            })
        }),
        // ---- shape ----
        op!(Method "view" "(Tensor self, int[] size)" => |_, a| view(a.tensor(0)?.f_view(a.ints(1)?.as_slice())?)),
        op!(Method "view" "(Tensor self, ScalarType dtype)" => |_, a| view(a.tensor(0)?.f_view_dtype(a.kind(1)?.unwrap_or(Kind::Float))?)),
        op!(Both "reshape" "(Tensor self, int[] shape)" => |_, a| {
            let t = a.tensor(0)?;
            let r = t.f_reshape(a.ints(1)?.as_slice())?;
            if r.data_ptr() == t.data_ptr() { view(r) } else { fresh(r) }
        }),
        op!(Method "view_as" "(Tensor self, Tensor other)" => |_, a| view(a.tensor(0)?.f_view_as(&a.tensor(1)?)?)),
        op!(Method "reshape_as" "(Tensor self, Tensor other)" => |_, a| view(a.tensor(0)?.f_reshape_as(&a.tensor(1)?)?)),
        op!(Both "flatten" "(Tensor self, int start_dim=0, int end_dim=-1)" => |_, a| view(a.tensor(0)?.f_flatten(a.int(1)?, a.int(2)?)?)),
        op!(Both "unflatten" "(Tensor self, int dim, int[] sizes)" => |_, a| view(a.tensor(0)?.f_unflatten(a.int(1)?, a.ints(2)?.as_slice())?)),
        op!(Both "squeeze" "(Tensor self)" => |_, a| view(a.tensor(0)?.f_squeeze()?)),
        op!(Both "squeeze" "(Tensor self, int[1] dim)" => |_, a| view(a.tensor(0)?.f_squeeze_dims(a.ints(1)?.as_slice())?)),
        op!(Both "unsqueeze" "(Tensor self, int dim)" => |_, a| view(a.tensor(0)?.f_unsqueeze(a.int(1)?)?)),
        op!(Method "unsqueeze_" "(Tensor self, int dim)" => |_, a| { let d = a.int(1)?; let mut t = a.tensor(0)?; let _ = t.f_unsqueeze_(d)?; Ok(a.value(0).clone()) }),
        op!(Method "squeeze_" "(Tensor self)" => |_, a| { let mut t = a.tensor(0)?; let _ = t.f_squeeze_()?; Ok(a.value(0).clone()) }),
        op!(Both "transpose" "(Tensor self, int dim0, int dim1)" => |_, a| view(a.tensor(0)?.f_transpose(a.int(1)?, a.int(2)?)?)),
        op!(Both "swapaxes" "(Tensor self, int axis0, int axis1)" => |_, a| view(a.tensor(0)?.f_swapaxes(a.int(1)?, a.int(2)?)?)),
        op!(Both "swapdims" "(Tensor self, int dim0, int dim1)" => |_, a| view(a.tensor(0)?.f_transpose(a.int(1)?, a.int(2)?)?)),
        op!(Method "transpose_" "(Tensor self, int dim0, int dim1)" => |_, a| { let (x, y) = (a.int(1)?, a.int(2)?); let mut t = a.tensor(0)?; let _ = t.f_transpose_(x, y)?; Ok(a.value(0).clone()) }),
        op!(Both "t" "(Tensor self)" => |_, a| view(a.tensor(0)?.f_tr()?)),
        op!(Both "permute" "(Tensor self, int[] dims)" => |_, a| view(a.tensor(0)?.f_permute(a.ints(1)?.as_slice())?)),
        op!(Both "movedim" "(Tensor self, int[1] source, int[1] destination)" => |_, a| view(a.tensor(0)?.f_movedim(a.ints(1)?.as_slice(), a.ints(2)?.as_slice())?)),
        op!(Method "expand" "(Tensor self, int[] size, *, bool implicit=False)" => |_, a| view(a.tensor(0)?.f_expand(a.ints(1)?.as_slice(), a.bool(2)?)?)),
        op!(Method "expand_as" "(Tensor self, Tensor other)" => |_, a| view(a.tensor(0)?.f_expand_as(&a.tensor(1)?)?)),
        op!(Method "repeat" "(Tensor self, int[] repeats)" => |_, a| {
            let t = a.tensor(0)?;
            let r = a.ints(1)?;
            check_numel(shape_numel(&r).saturating_mul(t.numel() as i64))?;
            fresh(t.f_repeat(r.as_slice())?)
        }),
        op!(Both "tile" "(Tensor self, int[] dims)" => |_, a| {
            let t = a.tensor(0)?;
            let r = a.ints(1)?;
            check_numel(shape_numel(&r).saturating_mul(t.numel() as i64))?;
            fresh(t.f_tile(r.as_slice())?)
        }),
        op!(Both "repeat_interleave" "(Tensor self, int repeats, int? dim=None)" => |_, a| {
            let t = a.tensor(0)?;
            check_numel(a.int(1)?.saturating_mul(t.numel() as i64))?;
            fresh(t.f_repeat_interleave_self_int(a.int(1)?, a.opt_int(2)?, None)?)
        }),
        op!(Both "narrow" "(Tensor self, int dim, int start, int length)" => |_, a| view(a.tensor(0)?.f_narrow(a.int(1)?, a.int(2)?, a.int(3)?)?)),
        op!(Both "select" "(Tensor self, int dim, int index)" => |_, a| view(a.tensor(0)?.f_select(a.int(1)?, a.int(2)?)?)),
        op!(Both "chunk" "(Tensor self, int chunks, int dim=0)" => |_, a| tensors_value(a.tensor(0)?.f_chunk(a.int(1)?, a.int(2)?)?)),
        op!(Both "split" "(Tensor self, int split_size_or_sections, int dim=0)" => |_, a| tensors_value(a.tensor(0)?.f_split(a.int(1)?, a.int(2)?)?)),
        op!(Both "split" "(Tensor self, int[] split_size_or_sections, int dim=0)" => |_, a| tensors_value(a.tensor(0)?.f_split_with_sizes(a.ints(1)?.as_slice(), a.int(2)?)?)),
        op!(Both "tensor_split" "(Tensor self, int sections, int dim=0)" => |_, a| tensors_value(a.tensor(0)?.f_tensor_split(a.int(1)?, a.int(2)?)?)),
        op!(Both "unbind" "(Tensor self, int dim=0)" => |_, a| tensors_value(a.tensor(0)?.f_unbind(a.int(1)?)?)),
        op!(Both "flip" "(Tensor self, int[] dims)" => |_, a| fresh(a.tensor(0)?.f_flip(a.ints(1)?.as_slice())?)),
        op!(Both "roll" "(Tensor self, int[1] shifts, int[1] dims=[])" => |_, a| fresh(a.tensor(0)?.f_roll(a.ints(1)?.as_slice(), a.ints(2)?.as_slice())?)),
        op!(Both "diagonal" "(Tensor self, int offset=0, int dim1=0, int dim2=1)" => |_, a| view(a.tensor(0)?.f_diagonal(a.int(1)?, a.int(2)?, a.int(3)?)?)),
        op!(Both "tril" "(Tensor self, int diagonal=0)" => |_, a| fresh(a.tensor(0)?.f_tril(a.int(1)?)?)),
        op!(Both "triu" "(Tensor self, int diagonal=0)" => |_, a| fresh(a.tensor(0)?.f_triu(a.int(1)?)?)),
        op!(Function "cat" "(Tensor[] tensors, int dim=0)" => |_, a| cat(a, false)),
        op!(Function "concat" "(Tensor[] tensors, int dim=0)" => |_, a| cat(a, false)),
        op!(Function "concatenate" "(Tensor[] tensors, int dim=0)" => |_, a| cat(a, false)),
        op!(Function "stack" "(Tensor[] tensors, int dim=0)" => |_, a| cat(a, true)),
        op!(Function "hstack" "(Tensor[] tensors)" => |_, a| fresh(Tensor::f_hstack(&a.tensors(0)?)?)),
        op!(Function "vstack" "(Tensor[] tensors)" => |_, a| fresh(Tensor::f_vstack(&a.tensors(0)?)?)),
        // ---- indexing ops ----
        op!(Both "gather" "(Tensor self, int dim, Tensor index, *, bool sparse_grad=False)" => |_, a| fresh(a.tensor(0)?.f_gather(a.int(1)?, &a.tensor(2)?, false)?)),
        op!(Both "scatter" "(Tensor self, int dim, Tensor index, Tensor src)" => |_, a| fresh(a.tensor(0)?.f_scatter(a.int(1)?, &a.tensor(2)?, &a.tensor(3)?)?)),
        op!(Both "scatter" "(Tensor self, int dim, Tensor index, Scalar value)" => |_, a| fresh(a.tensor(0)?.f_scatter_value(a.int(1)?, &a.tensor(2)?, a.scalar(3)?)?)),
        op!(Method "scatter_" "(Tensor self, int dim, Tensor index, Tensor src)" => |_, a| { let (d, i, s) = (a.int(1)?, a.tensor(2)?, a.tensor(3)?); inplace(a, |t| t.f_scatter_(d, &i, &s).map(drop)) }),
        op!(Method "scatter_" "(Tensor self, int dim, Tensor index, Scalar value)" => |_, a| { let (d, i, s) = (a.int(1)?, a.tensor(2)?, a.scalar(3)?); inplace(a, |t| t.f_scatter_value_(d, &i, s).map(drop)) }),
        op!(Both "scatter_add" "(Tensor self, int dim, Tensor index, Tensor src)" => |_, a| fresh(a.tensor(0)?.f_scatter_add(a.int(1)?, &a.tensor(2)?, &a.tensor(3)?)?)),
        op!(Method "scatter_add_" "(Tensor self, int dim, Tensor index, Tensor src)" => |_, a| { let (d, i, s) = (a.int(1)?, a.tensor(2)?, a.tensor(3)?); inplace(a, |t| t.f_scatter_add_(d, &i, &s).map(drop)) }),
        op!(Both "index_select" "(Tensor self, int dim, Tensor index)" => |_, a| fresh(a.tensor(0)?.f_index_select(a.int(1)?, &a.tensor(2)?)?)),
        op!(Both "index_add" "(Tensor self, int dim, Tensor index, Tensor source)" => |_, a| fresh(a.tensor(0)?.f_index_add(a.int(1)?, &a.tensor(2)?, &a.tensor(3)?)?)),
        op!(Method "index_add_" "(Tensor self, int dim, Tensor index, Tensor source)" => |_, a| { let (d, i, s) = (a.int(1)?, a.tensor(2)?, a.tensor(3)?); inplace(a, |t| t.f_index_add_(d, &i, &s).map(drop)) }),
        op!(Both "index_fill" "(Tensor self, int dim, Tensor index, Scalar value)" => |_, a| fresh(a.tensor(0)?.f_index_fill(a.int(1)?, &a.tensor(2)?, a.scalar(3)?)?)),
        op!(Method "index_fill_" "(Tensor self, int dim, Tensor index, Scalar value)" => |_, a| { let (d, i, s) = (a.int(1)?, a.tensor(2)?, a.scalar(3)?); inplace(a, |t| t.f_index_fill_(d, &i, s).map(drop)) }),
        op!(Both "index_copy" "(Tensor self, int dim, Tensor index, Tensor source)" => |_, a| fresh(a.tensor(0)?.f_index_copy(a.int(1)?, &a.tensor(2)?, &a.tensor(3)?)?)),
        op!(Both "masked_fill" "(Tensor self, Tensor mask, Tensor value)" => |_, a| fresh(a.tensor(0)?.f_masked_fill_tensor(&a.tensor(1)?, &a.tensor(2)?)?)),
        op!(Both "masked_fill" "(Tensor self, Tensor mask, Scalar value)" => |_, a| fresh(a.tensor(0)?.f_masked_fill(&a.tensor(1)?, a.scalar(2)?)?)),
        op!(Method "masked_fill_" "(Tensor self, Tensor mask, Tensor value)" => |_, a| { let (m, v) = (a.tensor(1)?, a.tensor(2)?); inplace(a, |t| t.f_masked_fill_tensor_(&m, &v).map(drop)) }),
        op!(Method "masked_fill_" "(Tensor self, Tensor mask, Scalar value)" => |_, a| { let (m, v) = (a.tensor(1)?, a.scalar(2)?); inplace(a, |t| t.f_masked_fill_(&m, v).map(drop)) }),
        op!(Both "masked_select" "(Tensor self, Tensor mask)" => |_, a| fresh(a.tensor(0)?.f_masked_select(&a.tensor(1)?)?)),
        op!(Both "masked_scatter" "(Tensor self, Tensor mask, Tensor source)" => |_, a| fresh(a.tensor(0)?.f_masked_scatter(&a.tensor(1)?, &a.tensor(2)?)?)),
        op!(Function "where" "(Tensor condition, Tensor input, Tensor other)" => |_, a| fresh(a.tensor(1)?.f_where_self(&a.tensor(0)?, &a.tensor(2)?)?)),
        op!(Function "where" "(Tensor condition, Scalar input, Tensor other)" => |_, a| fresh(Tensor::f_where_scalarself(&a.tensor(0)?, a.scalar(1)?, &a.tensor(2)?)?)),
        op!(Function "where" "(Tensor condition, Tensor input, Scalar other)" => |_, a| fresh(a.tensor(1)?.f_where_scalarother(&a.tensor(0)?, a.scalar(2)?)?)),
        op!(Function "where" "(Tensor condition, Scalar input, Scalar other)" => |_, a| fresh(Tensor::f_where_scalar(&a.tensor(0)?, a.scalar(1)?, a.scalar(2)?)?)),
        op!(Function "where" "(Tensor condition)" => |_, a| tensors_value(a.tensor(0)?.f_nonzero_numpy()?)),
        op!(Method "where" "(Tensor self, Tensor condition, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_where_self(&a.tensor(1)?, &a.tensor(2)?)?)),
        op!(Method "where" "(Tensor self, Tensor condition, Scalar other)" => |_, a| fresh(a.tensor(0)?.f_where_scalarother(&a.tensor(1)?, a.scalar(2)?)?)),
        op!(Both "nonzero" "(Tensor input, *, bool as_tuple=False)" => |_, a| {
            let t = a.tensor(0)?;
            if a.bool(1)? { tensors_value(t.f_nonzero_numpy()?) } else { fresh(t.f_nonzero()?) }
        }),
        op!(Both "searchsorted" "(Tensor sorted_sequence, Tensor input, *, bool out_int32=False, bool right=False, str? side=None, Tensor? sorter=None)" => |_, a| {
            let side = a.opt_str(4)?.unwrap_or_else(|| if a.bool(3).unwrap_or(false) { "right".into() } else { "left".into() });
            fresh(a.tensor(1)?.f_searchsorted(&a.tensor(0)?, a.bool(2)?, a.bool(3)?, &side, a.opt_tensor(5)?)?)
        }),
        // ---- linear algebra ----
        op!(Both "matmul" "(Tensor self, Tensor other)" => |_, a| fresh(a.tensor(0)?.f_matmul(&a.tensor(1)?)?)),
        op!(Both "mm" "(Tensor self, Tensor mat2)" => |_, a| fresh(a.tensor(0)?.f_mm(&a.tensor(1)?)?)),
        op!(Both "bmm" "(Tensor self, Tensor mat2)" => |_, a| fresh(a.tensor(0)?.f_bmm(&a.tensor(1)?)?)),
        op!(Both "dot" "(Tensor self, Tensor tensor)" => |_, a| fresh(a.tensor(0)?.f_dot(&a.tensor(1)?)?)),
        op!(Both "outer" "(Tensor self, Tensor vec2)" => |_, a| {
            let (x, y) = (a.tensor(0)?, a.tensor(1)?);
            check_numel((x.numel() as i64).saturating_mul(y.numel() as i64))?;
            fresh(x.f_outer(&y)?)
        }),
        op!(Both "cross" "(Tensor self, Tensor other, int? dim=None)" => |_, a| fresh(a.tensor(0)?.f_cross(&a.tensor(1)?, a.opt_int(2)?)?)),
        op!(Function "tensordot" "(Tensor a, Tensor b, int[] dims_a, int[] dims_b)" => |_, a| fresh(a.tensor(0)?.f_tensordot(&a.tensor(1)?, a.ints(2)?.as_slice(), a.ints(3)?.as_slice())?)),
        op!(Function "cdist" "(Tensor x1, Tensor x2, float p=2.0)" => |_, a| fresh(Tensor::f_cdist(&a.tensor(0)?, &a.tensor(1)?, a.float(2)?, None)?)),
        // ---- creation ----
        op!(Function "zeros" "(int[] size, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let s = a.ints(0)?; create::check_size(&s)?;
            let v = fresh(Tensor::f_zeros(s.as_slice(), factory_opts(a, 1, 3, dtype::DEFAULT_FLOAT)?)?)?;
            with_grad(a, 4, v)
        }),
        op!(Function "ones" "(int[] size, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let s = a.ints(0)?; create::check_size(&s)?;
            let v = fresh(Tensor::f_ones(s.as_slice(), factory_opts(a, 1, 3, dtype::DEFAULT_FLOAT)?)?)?;
            with_grad(a, 4, v)
        }),
        op!(Function "empty" "(int[] size, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let s = a.ints(0)?; create::check_size(&s)?;
            fresh(Tensor::f_zeros(s.as_slice(), factory_opts(a, 1, 3, dtype::DEFAULT_FLOAT)?)?)
        }),
        op!(Function "rand" "(int[] size, *, Any generator=None, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let s = a.ints(0)?; create::check_size(&s)?;
            let v = fresh(Tensor::f_rand(s.as_slice(), factory_opts(a, 2, 4, dtype::DEFAULT_FLOAT)?)?)?;
            with_grad(a, 5, v)
        }),
        op!(Function "randn" "(int[] size, *, Any generator=None, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let s = a.ints(0)?; create::check_size(&s)?;
            let v = fresh(Tensor::f_randn(s.as_slice(), factory_opts(a, 2, 4, dtype::DEFAULT_FLOAT)?)?)?;
            with_grad(a, 5, v)
        }),
        op!(Function "full" "(int[] size, Scalar fill_value, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let s = a.ints(0)?; create::check_size(&s)?;
            let k = fill_kind(a.value(1));
            fresh(Tensor::f_full(s.as_slice(), a.scalar(1)?, factory_opts(a, 2, 4, k)?)?)
        }),
        op!(Function "randint" "(int high, int[] size, *, Any generator=None, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            let s = a.ints(1)?; create::check_size(&s)?;
            fresh(Tensor::f_randint(a.int(0)?, s.as_slice(), factory_opts(a, 3, 5, Kind::Int64)?)?)
        }),
        op!(Function "randint" "(int low, int high, int[] size, *, Any generator=None, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            let s = a.ints(2)?; create::check_size(&s)?;
            fresh(Tensor::f_randint_low(a.int(0)?, a.int(1)?, s.as_slice(), factory_opts(a, 4, 6, Kind::Int64)?)?)
        }),
        op!(Function "randperm" "(int n, *, Any generator=None, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            create::check_size(&[a.int(0)?])?;
            fresh(Tensor::f_randperm(a.int(0)?, factory_opts(a, 2, 4, Kind::Int64)?)?)
        }),
        op!(Function "eye" "(int n, int? m=None, *, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            let n = a.int(0)?; let m = a.opt_int(1)?.unwrap_or(n);
            create::check_size(&[n, m])?;
            fresh(Tensor::f_eye_m(n, m, factory_opts(a, 2, 4, dtype::DEFAULT_FLOAT)?)?)
        }),
        op!(Function "arange" "(Scalar end, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            arange(a, None, a.value(0), None, 1, 3)
        }),
        op!(Function "arange" "(Scalar start, Scalar end, Scalar step=1, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            arange(a, Some(a.value(0)), a.value(1), Some(a.value(2)), 3, 5)
        }),
        op!(Function "linspace" "(Scalar start, Scalar end, int steps, *, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            create::check_size(&[a.int(2)?])?;
            fresh(Tensor::f_linspace(a.scalar(0)?, a.scalar(1)?, a.int(2)?, factory_opts(a, 3, 5, dtype::DEFAULT_FLOAT)?)?)
        }),
        op!(Function "logspace" "(Scalar start, Scalar end, int steps, float base=10.0, *, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            create::check_size(&[a.int(2)?])?;
            fresh(Tensor::f_logspace(a.scalar(0)?, a.scalar(1)?, a.int(2)?, a.float(3)?, factory_opts(a, 4, 6, dtype::DEFAULT_FLOAT)?)?)
        }),
        op!(Function "zeros_like" "(Tensor input, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False, Any memory_format=None)" => |_, a| like(a, |t, o| Tensor::f_zeros(t.size(), o))),
        op!(Function "ones_like" "(Tensor input, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False, Any memory_format=None)" => |_, a| like(a, |t, o| Tensor::f_ones(t.size(), o))),
        op!(Function "empty_like" "(Tensor input, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False, Any memory_format=None)" => |_, a| like(a, |t, o| Tensor::f_zeros(t.size(), o))),
        op!(Function "rand_like" "(Tensor input, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False, Any memory_format=None)" => |_, a| like(a, |t, o| Tensor::f_rand(t.size(), o))),
        op!(Function "randn_like" "(Tensor input, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False, Any memory_format=None)" => |_, a| like(a, |t, o| Tensor::f_randn(t.size(), o))),
        op!(Function "full_like" "(Tensor input, Scalar fill_value, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False, Any memory_format=None)" => |_, a| {
            let t = a.tensor(0)?;
            let k = a.kind(2)?.unwrap_or(t.kind());
            let d = a.device(4)?.unwrap_or(t.device());
            fresh(Tensor::f_full(t.size(), a.scalar(1)?, (k, d))?)
        }),
        op!(Method "new_zeros" "(Tensor self, int[] size, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| new_like(a, |s, o| Tensor::f_zeros(s, o))),
        op!(Method "new_ones" "(Tensor self, int[] size, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| new_like(a, |s, o| Tensor::f_ones(s, o))),
        op!(Method "new_empty" "(Tensor self, int[] size, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| new_like(a, |s, o| Tensor::f_zeros(s, o))),
        op!(Method "new_full" "(Tensor self, int[] size, Scalar fill_value, *, ScalarType? dtype=None, Any layout=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let t = a.tensor(0)?;
            let s = a.ints(1)?; create::check_size(&s)?;
            let k = a.kind(3)?.unwrap_or(t.kind());
            let d = a.device(5)?.unwrap_or(t.device());
            fresh(Tensor::f_full(s.as_slice(), a.scalar(2)?, (k, d))?)
        }),
        op!(Method "new_tensor" "(Tensor self, Any data, *, ScalarType? dtype=None, Device? device=None, bool requires_grad=False)" => |_, a| {
            let t = a.tensor(0)?;
            let k = a.kind(2)?;
            let d = a.device(3)?.unwrap_or(t.device());
            fresh(create::tensor_from_value_on(a.value(1), k, d)?)
        }),
        op!(Function "tensor" "(Any data, *, ScalarType? dtype=None, Device? device=None, bool requires_grad=False, bool pin_memory=False)" => |_, a| {
            let d = a.device(2)?.unwrap_or_else(ctx::device);
            let v = fresh(create::tensor_from_value_on(a.value(0), a.kind(1)?, d)?)?;
            with_grad(a, 3, v)
        }),
        op!(Function "as_tensor" "(Any data, ScalarType? dtype=None, Device? device=None)" => |_, a| {
            if let Value::Tensor(t) = a.value(0) {
                let mut x = t.t.shallow_clone();
                if let Some(k) = a.kind(1)? { x = x.f_to_kind(k)?; }
                if let Some(d) = a.device(2)? { x = x.f_to_device(d)?; }
                if t.is_numpy() {
                    // A numpy array's memory is shared, as `torch.from_numpy`.
                    return if x.data_ptr() == t.t.data_ptr() { view(x) } else { fresh(x) };
                }
                return same_or(a, x);
            }
            let d = a.device(2)?.unwrap_or_else(ctx::device);
            fresh(create::tensor_from_value_on(a.value(0), a.kind(1)?, d)?)
        }),
        op!(Function "scalar_tensor" "(Scalar s, *, ScalarType? dtype=None, Any layout=None, Device? device=None)" => |_, a| {
            fresh(Tensor::f_scalar_tensor(a.scalar(0)?, factory_opts(a, 1, 3, dtype::DEFAULT_FLOAT)?)?)
        }),
        // ---- nn.functional ----
        op!(Both "softmax" "(Tensor self, int dim, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_softmax(a.int(1)?, a.kind(2)?)?)),
        op!(Both "log_softmax" "(Tensor self, int dim, ScalarType? dtype=None)" => |_, a| fresh(a.tensor(0)?.f_log_softmax(a.int(1)?, a.kind(2)?)?)),
        op!(Functional "softmax" "(Tensor input, int? dim=None, Any _stacklevel=3, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let d = softmax_dim(a, 1, &t)?;
            fresh(t.f_softmax(d, a.kind(3)?)?)
        }),
        op!(Functional "log_softmax" "(Tensor input, int? dim=None, Any _stacklevel=3, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let d = softmax_dim(a, 1, &t)?;
            fresh(t.f_log_softmax(d, a.kind(3)?)?)
        }),
        op!(Functional "softmin" "(Tensor input, int? dim=None, Any _stacklevel=3, ScalarType? dtype=None)" => |_, a| {
            let t = a.tensor(0)?;
            let d = softmax_dim(a, 1, &t)?;
            fresh(t.f_neg()?.f_softmax(d, a.kind(3)?)?)
        }),
        op!(Functional "gelu" "(Tensor input, str approximate=\"none\")" => |_, a| fresh(a.tensor(0)?.f_gelu(&a.str(1)?)?)),
        op!(Functional "relu" "(Tensor input, bool inplace=False)" => |_, a| if a.bool(1)? { inplace(a, |t| t.f_relu_().map(drop)) } else { fresh(a.tensor(0)?.f_relu()?) }),
        op!(Functional "silu" "(Tensor input, bool inplace=False)" => |_, a| fresh(a.tensor(0)?.f_silu()?)),
        op!(Functional "mish" "(Tensor input, bool inplace=False)" => |_, a| fresh(a.tensor(0)?.f_mish()?)),
        op!(Functional "sigmoid" "(Tensor input)" => |_, a| fresh(a.tensor(0)?.f_sigmoid()?)),
        op!(Functional "tanh" "(Tensor input)" => |_, a| fresh(a.tensor(0)?.f_tanh()?)),
        op!(Functional "logsigmoid" "(Tensor input)" => |_, a| fresh(a.tensor(0)?.f_log_sigmoid()?)),
        op!(Functional "hardswish" "(Tensor input, bool inplace=False)" => |_, a| fresh(a.tensor(0)?.f_hardswish()?)),
        op!(Functional "glu" "(Tensor input, int dim=-1)" => |_, a| fresh(a.tensor(0)?.f_glu(a.int(1)?)?)),
        op!(Functional "leaky_relu" "(Tensor input, float negative_slope=0.01, bool inplace=False)" => |_, a| {
            let t = a.tensor(0)?;
            let s = a.float(1)?;
            fresh(t.f_where_self(&t.f_ge(0)?, &t.f_mul_scalar(s)?)?)
        }),
        op!(Functional "elu" "(Tensor input, float alpha=1.0, bool inplace=False)" => |_, a| {
            if a.float(1)? != 1.0 {
                return Err(PyErr::unsupported("F.elu with alpha other than 1.0"));
            }
            fresh(a.tensor(0)?.f_elu()?)
        }),
        op!(Functional "softplus" "(Tensor input, float beta=1.0, float threshold=20.0)" => |_, a| fresh(a.tensor(0)?.f_softplus()?)),
        op!(Functional "dropout" "(Tensor input, float p=0.5, bool training=True, bool inplace=False)" => |_, a| fresh(a.tensor(0)?.f_dropout(a.float(1)?, a.bool(2)?)?)),
        op!(Functional "linear" "(Tensor input, Tensor weight, Tensor? bias=None)" => |_, a| fresh(a.tensor(0)?.f_linear(&a.tensor(1)?, a.opt_tensor(2)?)?)),
        op!(Functional "layer_norm" "(Tensor input, int[] normalized_shape, Tensor? weight=None, Tensor? bias=None, float eps=1e-05)" => |_, a| {
            fresh(a.tensor(0)?.f_layer_norm(a.ints(1)?.as_slice(), a.opt_tensor(2)?, a.opt_tensor(3)?, a.float(4)?, true)?)
        }),
        op!(Functional "group_norm" "(Tensor input, int num_groups, Tensor? weight=None, Tensor? bias=None, float eps=1e-05)" => |_, a| {
            fresh(a.tensor(0)?.f_group_norm(a.int(1)?, a.opt_tensor(2)?, a.opt_tensor(3)?, a.float(4)?, true)?)
        }),
        op!(Functional "rms_norm" "(Tensor input, int[] normalized_shape, Tensor? weight=None, float? eps=None)" => |_, a| {
            let t = a.tensor(0)?;
            let dims: Vec<i64> = (0..a.ints(1)?.len() as i64).map(|i| -1 - i).collect();
            let eps = a.opt_float(3)?.unwrap_or(f32::EPSILON as f64);
            let r = t.f_pow_tensor_scalar(2)?.f_mean_dim(Some(dims.as_slice()), true, None::<Kind>)?.f_add_scalar(eps)?.f_rsqrt()?;
            let mut out = t.f_mul(&r)?;
            if let Some(w) = a.opt_tensor(2)? { out = out.f_mul(&w)?; }
            fresh(out)
        }),
        op!(Functional "normalize" "(Tensor input, float p=2.0, int dim=1, float eps=1e-12)" => |_, a| {
            let t = a.tensor(0)?;
            let denom = t.f_norm_scalaropt_dim(a.float(1)?, [a.int(2)?].as_slice(), true)?.f_clamp_min(a.float(3)?)?.f_expand_as(&t)?;
            fresh(t.f_div(&denom)?)
        }),
        op!(Functional "cosine_similarity" "(Tensor x1, Tensor x2, int dim=1, float eps=1e-08)" => |_, a| fresh(Tensor::f_cosine_similarity(&a.tensor(0)?, &a.tensor(1)?, a.int(2)?, a.float(3)?)?)),
        op!(Function "cosine_similarity" "(Tensor x1, Tensor x2, int dim=1, float eps=1e-08)" => |_, a| fresh(Tensor::f_cosine_similarity(&a.tensor(0)?, &a.tensor(1)?, a.int(2)?, a.float(3)?)?)),
        op!(Functional "one_hot" "(Tensor tensor, int num_classes=-1)" => |_, a| {
            let t = a.tensor(0)?;
            let n = a.int(1)?;
            let classes = if n < 0 && t.numel() > 0 { t.f_max()?.f_int64_value(&[])? + 1 } else { n.max(0) };
            check_numel((t.numel() as i64).saturating_mul(classes))?;
            fresh(t.f_one_hot(n)?)
        }),
        op!(Functional "pad" "(Tensor input, int[] pad, str mode=\"constant\", float? value=None)" => |_, a| fresh(a.tensor(0)?.f_pad(a.ints(1)?.as_slice(), &a.str(2)?, a.opt_float(3)?)?)),
        op!(Functional "embedding" "(Tensor input, Tensor weight, int? padding_idx=None, Any max_norm=None, float norm_type=2.0, bool scale_grad_by_freq=False, bool sparse=False)" => |_, a| {
            fresh(Tensor::f_embedding(&a.tensor(1)?, &a.tensor(0)?, a.opt_int(2)?.unwrap_or(-1), a.bool(5)?, a.bool(6)?)?)
        }),
        op!(Functional "cross_entropy" "(Tensor input, Tensor target, Tensor? weight=None, Any size_average=None, int ignore_index=-100, Any reduce=None, str reduction=\"mean\", float label_smoothing=0.0)" => |_, a| {
            fresh(a.tensor(0)?.f_cross_entropy_loss(&a.tensor(1)?, a.opt_tensor(2)?, reduction(&a.str(6)?)?, a.int(4)?, a.float(7)?)?)
        }),
        op!(Functional "nll_loss" "(Tensor input, Tensor target, Tensor? weight=None, Any size_average=None, int ignore_index=-100, Any reduce=None, str reduction=\"mean\")" => |_, a| {
            fresh(a.tensor(0)?.f_nll_loss(&a.tensor(1)?, a.opt_tensor(2)?, reduction(&a.str(6)?)?, a.int(4)?)?)
        }),
        op!(Functional "mse_loss" "(Tensor input, Tensor target, Any size_average=None, Any reduce=None, str reduction=\"mean\")" => |_, a| fresh(a.tensor(0)?.f_mse_loss(&a.tensor(1)?, reduction(&a.str(4)?)?)?)),
        op!(Functional "l1_loss" "(Tensor input, Tensor target, Any size_average=None, Any reduce=None, str reduction=\"mean\")" => |_, a| fresh(a.tensor(0)?.f_l1_loss(&a.tensor(1)?, reduction(&a.str(4)?)?)?)),
        op!(Functional "smooth_l1_loss" "(Tensor input, Tensor target, Any size_average=None, Any reduce=None, str reduction=\"mean\", float beta=1.0)" => |_, a| fresh(a.tensor(0)?.f_smooth_l1_loss(&a.tensor(1)?, reduction(&a.str(4)?)?, a.float(5)?)?)),
        op!(Functional "kl_div" "(Tensor input, Tensor target, Any size_average=None, Any reduce=None, str reduction=\"mean\", bool log_target=False)" => |_, a| {
            let r = a.str(4)?;
            let red = if r == "batchmean" { Reduction::Sum } else { reduction(&r)? };
            let mut out = a.tensor(0)?.f_kl_div(&a.tensor(1)?, red, a.bool(5)?)?;
            if r == "batchmean" {
                let b = a.tensor(0)?.size().first().copied().unwrap_or(1).max(1);
                out = out.f_div_scalar(b)?;
            }
            fresh(out)
        }),
        op!(Functional "binary_cross_entropy_with_logits" "(Tensor input, Tensor target, Tensor? weight=None, Any size_average=None, Any reduce=None, str reduction=\"mean\", Tensor? pos_weight=None)" => |_, a| {
            fresh(a.tensor(0)?.f_binary_cross_entropy_with_logits(&a.tensor(1)?, a.opt_tensor(2)?, a.opt_tensor(6)?, reduction(&a.str(5)?)?)?)
        }),
        op!(Functional "scaled_dot_product_attention" "(Tensor query, Tensor key, Tensor value, Tensor? attn_mask=None, float dropout_p=0.0, bool is_causal=False, float? scale=None, *, bool enable_gqa=False)" => |_, a| {
            fresh(Tensor::f_scaled_dot_product_attention(&a.tensor(0)?, &a.tensor(1)?, &a.tensor(2)?, a.opt_tensor(3)?.as_ref(), a.float(4)?, a.bool(5)?, a.opt_float(6)?, a.bool(7)?)?)
        }),
    ]);
    v
}

fn cast(a: &Args, k: Kind) -> PyResult<Value> {
    let t = a.tensor(0)?;
    if t.kind() == k {
        return Ok(a.value(0).clone());
    }
    fresh(t.f_to_kind(k)?)
}

fn scaled(t: Tensor, alpha: &Value) -> PyResult<Tensor> {
    match alpha {
        Value::Int(1) | Value::Bool(true) => Ok(t),
        Value::Float(f) if *f == 1.0 => Ok(t),
        other => Ok(t.f_mul_scalar(schema::scalar_of(other)?)?),
    }
}

fn scaled_scalar(other: &Value, alpha: &Value) -> PyResult<Scalar> {
    match alpha {
        Value::Int(1) | Value::Bool(true) => schema::scalar_of(other),
        Value::Float(f) if *f == 1.0 => schema::scalar_of(other),
        al => {
            let x = crate::interp::ops::numeric("*", other, al)?;
            schema::scalar_of(&x)
        }
    }
}

fn clamp_scalar(a: &Args) -> PyResult<Value> {
    let t = a.tensor(0)?;
    let (lo, hi) = (a.is_none(1), a.is_none(2));
    fresh(match (lo, hi) {
        (false, false) => t.f_clamp(a.scalar(1)?, a.scalar(2)?)?,
        (false, true) => t.f_clamp_min(a.scalar(1)?)?,
        (true, false) => t.f_clamp_max(a.scalar(2)?)?,
        (true, true) => return Err(PyErr::runtime_error("torch.clamp: At least one of 'min' or 'max' must not be None")),
    })
}

fn var_std(a: &Args, std: bool, corr_i: usize, keep_i: usize) -> PyResult<Value> {
    let t = a.tensor(0)?;
    let dims = dims_opt(a, 1)?;
    let correction = if a.is_none(corr_i) { Scalar::int(1) } else { a.scalar(corr_i)? };
    let keep = a.bool(keep_i)?;
    fresh(if std {
        t.f_std_correction(dims.as_deref(), correction, keep)?
    } else {
        t.f_var_correction(dims.as_deref(), correction, keep)?
    })
}

fn cat(a: &Args, stack: bool) -> PyResult<Value> {
    let ts = a.tensors(0)?;
    let total: i64 = ts.iter().map(|t| t.numel() as i64).sum();
    check_numel(total)?;
    fresh(if stack { Tensor::f_stack(&ts, a.int(1)?)? } else { Tensor::f_cat(&ts, a.int(1)?)? })
}

fn arange(a: &Args, start: Option<&Value>, end: &Value, step: Option<&Value>, kind_i: usize, dev_i: usize) -> PyResult<Value> {
    let any_float = [start, Some(end), step].into_iter().flatten().any(|v| matches!(v, Value::Float(_)) || matches!(v, Value::Tensor(t) if dtype::is_float(t.t.kind())));
    let default = if any_float { dtype::DEFAULT_FLOAT } else { Kind::Int64 };
    let opts = factory_opts(a, kind_i, dev_i, default)?;
    let f = |v: &Value| -> PyResult<f64> { crate::value::int::to_f64(v).or_else(|_| match v { Value::Tensor(t) => Ok(t.t.f_double_value(&[])?), _ => Err(PyErr::type_error("arange expects numbers")) }) };
    let (s, e, st) = (start.map_or(Ok(0.0), f)?, f(end)?, step.map_or(Ok(1.0), f)?);
    if st == 0.0 {
        return Err(PyErr::runtime_error("step must be nonzero"));
    }
    let n = ((e - s) / st).ceil();
    if n.is_finite() && n > 0.0 {
        check_numel(n.min(i64::MAX as f64) as i64)?;
    }
    let sc = |v: Option<&Value>, d: i64| -> PyResult<Scalar> { v.map_or(Ok(Scalar::int(d)), schema::scalar_of) };
    fresh(Tensor::f_arange_start_step(sc(start, 0)?, schema::scalar_of(end)?, sc(step, 1)?, opts)?)
}

fn like(a: &Args, f: fn(&Tensor, (Kind, Device)) -> Result<Tensor, tch::TchError>) -> PyResult<Value> {
    let t = a.tensor(0)?;
    let k = a.kind(1)?.unwrap_or(t.kind());
    let d = a.device(3)?.unwrap_or(t.device());
    let v = fresh(f(&t, (k, d))?)?;
    with_grad(a, 4, v)
}

fn new_like(a: &Args, f: fn(&[i64], (Kind, Device)) -> Result<Tensor, tch::TchError>) -> PyResult<Value> {
    let t = a.tensor(0)?;
    let s = a.ints(1)?;
    create::check_size(&s)?;
    let k = a.kind(2)?.unwrap_or(t.kind());
    let d = a.device(4)?.unwrap_or(t.device());
    let v = fresh(f(&s, (k, d))?)?;
    with_grad(a, 5, v)
}

/// `t.to(...)`: a dtype, a device, both, or another tensor's dtype and device.
/// The legacy tensor type names `Tensor.type()` returns (`torch.FloatTensor`).
fn legacy_type_name(k: Kind) -> &'static str {
    match k {
        Kind::Float => "Float",
        Kind::Double => "Double",
        Kind::Half => "Half",
        Kind::BFloat16 => "BFloat16",
        Kind::Int64 => "Long",
        Kind::Int => "Int",
        Kind::Int16 => "Short",
        Kind::Int8 => "Char",
        Kind::Uint8 => "Byte",
        Kind::Bool => "Bool",
        _ => "",
    }
}

fn to(a: &Args) -> PyResult<Value> {
    let t = a.tensor(0)?;
    let mut kind = a.kind(5)?;
    let mut device = a.device(6)?;
    for i in [1, 2] {
        match a.value(i) {
            Value::None => {}
            Value::Dtype(k) => kind = Some(*k),
            Value::Device(d) => device = Some(*d),
            Value::Str(s) => {
                device = Some(dtype::parse_device(s.as_str()).ok_or_else(|| PyErr::runtime_error(format!("Invalid device string: '{}'", s.as_str())))?)
            }
            Value::Int(i) => device = Some(Device::Cuda(*i as usize)),
            Value::Tensor(o) => {
                kind = Some(o.t.kind());
                device = Some(o.t.device());
            }
            other => return Err(PyErr::type_error(format!("to() received an invalid combination of arguments - got ({})", other.type_name()))),
        }
    }
    let mut out = t.shallow_clone();
    let mut changed = false;
    if let Some(k) = kind
        && k != out.kind()
    {
        out = out.f_to_kind(k)?;
        changed = true;
    }
    if let Some(d) = device
        && d != out.device()
    {
        out = out.f_to_device(d)?;
        changed = true;
    }
    if a.bool(4)? && !changed {
        let mut c = out.f_empty_like()?;
        c.f_copy_(&out)?;
        return fresh(c);
    }
    if changed { fresh(out) } else { Ok(a.value(0).clone()) }
}

struct Registry {
    ops: Vec<Op>,
    schemas: Vec<Rc<Schema>>,
    by_name: HashMap<(Ns, &'static str), Vec<usize>>,
}

// Not job state: the op table and its parsed schemas, built once per thread and the same
// for every job (`Rc`, so per thread rather than a process-wide static).
thread_local! {
    static REGISTRY: RefCell<Option<Rc<Registry>>> = const { RefCell::new(None) };
}

fn registry() -> Rc<Registry> {
    REGISTRY.with(|r| {
        let mut r = r.borrow_mut();
        if let Some(reg) = &*r {
            return reg.clone();
        }
        let ops = table();
        let schemas = ops.iter().map(|o| Rc::new(schema::parse(o.schema))).collect();
        let mut by_name: HashMap<(Ns, &'static str), Vec<usize>> = HashMap::new();
        for (i, o) in ops.iter().enumerate() {
            let spaces: &[Ns] = match o.ns {
                Ns::Both => &[Ns::Method, Ns::Function],
                Ns::Method => &[Ns::Method],
                Ns::Function => &[Ns::Function],
                Ns::Functional => &[Ns::Functional],
                Ns::Linalg => &[Ns::Linalg],
            };
            for s in spaces {
                by_name.entry((*s, o.name)).or_default().push(i);
            }
        }
        // torch.nn.functional also exposes the plain elementwise ops torch has.
        for name in ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "gelu", "silu"] {
            if !by_name.contains_key(&(Ns::Functional, name))
                && let Some(ix) = by_name.get(&(Ns::Function, name)).cloned()
            {
                by_name.insert((Ns::Functional, name), ix);
            }
        }
        let reg = Rc::new(Registry { ops, schemas, by_name });
        *r = Some(reg.clone());
        reg
    })
}

pub fn has(ns: Ns, name: &str) -> bool {
    registry().by_name.keys().any(|(s, n)| *s == ns && *n == name)
}

/// Calls op `name` in namespace `ns` (with `self_value` as the method receiver).
pub fn call(it: &mut Interp, ns: Ns, name: &str, self_value: Option<Value>, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    let reg = registry();
    let Some((&(_, sname), idxs)) = reg.by_name.iter().find(|((s, n), _)| *s == ns && *n == name) else {
        return Err(PyErr::unsupported(format!("the torch operation `{name}`")));
    };
    let mut errors = Vec::new();
    for &i in idxs {
        match schema::bind(sname, &reg.schemas[i], self_value.clone(), &args, &kwargs) {
            Ok(bound) => return super::guarded(|| (reg.ops[i].f)(it, &bound)),
            Err(schema::Mismatch(m)) => errors.push(m),
        }
    }
    Err(PyErr::type_error(if errors.len() == 1 {
        errors.pop().unwrap_or_default()
    } else {
        let got: Vec<String> = self_value
            .iter()
            .chain(args.iter())
            .map(Value::type_name)
            .chain(kwargs.iter().map(|(k, v)| format!("{k}={}", v.type_name())))
            .collect();
        format!("{sname}() received an invalid combination of arguments - got ({})", got.join(", "))
    }))
}

/// `tensor.name` as a bound method, if the table has it.
pub fn method(_it: &mut Interp, obj: &Value, name: &str) -> Option<Value> {
    if !has(Ns::Method, name) {
        return None;
    }
    Some(Native::with_aux(
        name,
        Some(obj.clone()),
        |it, n, args, kw| ops_call_method(it, n, args, kw),
        Aux::None,
    ))
}

fn ops_call_method(it: &mut Interp, n: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    call(it, Ns::Method, &n.name, n.recv.clone(), args, kw)
}

/// `torch.name`, `F.name`, `torch.linalg.name` as a function value.
pub fn namespace_fn(ns: Ns, name: &str) -> Option<Value> {
    if ns == Ns::Function && name == "einsum" {
        return Some(Native::value("einsum", einsum));
    }
    if !has(ns, name) {
        return None;
    }
    let aux = Aux::Name(match ns {
        Ns::Functional => "F".into(),
        Ns::Linalg => "linalg".into(),
        _ => "torch".into(),
    });
    Some(Native::with_aux(
        name,
        None,
        |it, n, args, kw| {
            let ns = match &n.aux {
                Aux::Name(s) if s.as_ref() == "F" => Ns::Functional,
                Aux::Name(s) if s.as_ref() == "linalg" => Ns::Linalg,
                _ => Ns::Function,
            };
            call(it, ns, &n.name, None, args, kw)
        },
        aux,
    ))
}

/// `torch.einsum("ij,jk->ik", a, b)` or with a list of operands.
fn einsum(_it: &mut Interp, _n: &Native, args: Vec<Value>, _kw: Kwargs) -> PyResult<Value> {
    let Some(Value::Str(eq)) = args.first() else {
        return Err(PyErr::type_error("einsum(): argument 'equation' must be str"));
    };
    let operands: Vec<Value> = match args.get(1..) {
        Some([Value::List(l)]) => l.snapshot(),
        Some([Value::Tuple(t)]) => t.to_vec(),
        Some(rest) => rest.to_vec(),
        None => Vec::new(),
    };
    let ts = operands
        .iter()
        .map(|v| match v {
            Value::Tensor(t) => Ok(t.t.shallow_clone()),
            o => Err(PyErr::type_error(format!("einsum(): operands must be tensors, got {}", o.type_name()))),
        })
        .collect::<PyResult<Vec<_>>>()?;
    fresh(Tensor::f_einsum(eq.as_str(), &ts, None::<&[i64]>)?)
}

/// `torch.no_grad()` and friends: context managers (and decorators) over grad mode.
pub fn grad_mode(name: &str) -> Value {
    Native::with_aux(name, None, |_, n, args, _| {
        let enabled = match n.name.as_ref() {
            "enable_grad" => true,
            "set_grad_enabled" => matches!(args.first(), Some(Value::Bool(true))),
            _ => false,
        };
        let g: Rc<dyn HostObj> = Rc::new(GradMode { enabled, prev: RefCell::new(None) });
        Ok(Value::Host(g))
    }, Aux::None)
}

struct GradMode {
    enabled: bool,
    prev: RefCell<Option<bool>>,
}

impl HostObj for GradMode {
    fn type_name(&self) -> &str {
        if self.enabled { "enable_grad" } else { "no_grad" }
    }
    fn enter(&self, _it: &mut Interp, _this: &Value) -> PyResult<Value> {
        let prev = set_grad_enabled(self.enabled);
        *self.prev.borrow_mut() = Some(prev);
        Ok(Value::None)
    }
    fn exit(&self, _it: &mut Interp, _this: &Value, _err: Option<&PyErr>) -> PyResult<bool> {
        if let Some(prev) = self.prev.borrow_mut().take() {
            set_grad_enabled(prev);
        }
        Ok(false)
    }
    fn call(&self, _it: &mut Interp, _this: &Value, args: Vec<Value>, _kw: Kwargs) -> PyResult<Value> {
        // Used as a decorator: the function runs as it is (grad mode is a server concern).
        args.into_iter().next().ok_or_else(|| PyErr::type_error("no_grad() takes a function"))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Sets libtorch's (thread-local) grad mode, returning the previous one.
pub fn set_grad_enabled(enabled: bool) -> bool {
    // SAFETY: `at_grad_set_enabled` only flips libtorch's thread-local GradMode flag.
    unsafe { torch_sys::at_grad_set_enabled(i32::from(enabled)) != 0 }
}
