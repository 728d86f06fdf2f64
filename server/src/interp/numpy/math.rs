//! numpy's arithmetic: NEP 50 type promotion (arrays and numpy scalars are strongly
//! typed, Python scalars weak), the operators, comparisons, in-place operators with
//! numpy's `same_kind` casting, and the element-wise and combining functions (`where`,
//! `concatenate`, `sort`, `unique`, `dot`, ...). Every computation runs in the result
//! dtype through tch, so IEEE operations (`+ - * /`, `sqrt`) give numpy's bits;
//! transcendental functions (`exp`, `log`, ...) are libtorch's and may differ from
//! numpy's SIMD ones in the last place.

use ruff_python_ast::UnaryOp;
use tch::{Device, Kind, Tensor};

use super::{array, bind, bool_arg, dtype_arg, float_arg, from_value, int_arg, is_np, norm_axis, opt, required, scalar, unsupported, wrap};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::value::numpy as vnp;
use crate::value::tensor::{Np, check_writable};
use crate::value::types;
use crate::value::{PyErr, PyResult, Value};

pub const FUNCTIONS: &[&str] = &[
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "mod", "remainder", "power", "negative",
    "positive", "abs", "absolute", "fabs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "square",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "floor", "ceil", "trunc", "rint",
    "sign", "reciprocal", "isnan", "isinf", "isfinite", "maximum", "minimum", "fmax", "fmin", "clip", "round",
    "around", "where", "concatenate", "stack", "vstack", "hstack", "column_stack", "sort", "argsort", "unique",
    "dot", "matmul", "vdot", "inner", "outer", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not", "isclose", "allclose",
    "array_equal", "nonzero", "argwhere", "diff", "count_nonzero",
];

fn is_float(k: Kind) -> bool {
    matches!(k, Kind::Half | Kind::Float | Kind::Double)
}

fn is_int(k: Kind) -> bool {
    matches!(k, Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Int64 | Kind::Uint8)
}

fn int_size(k: Kind) -> usize {
    k.elt_size_in_bytes()
}

/// numpy's promotion of two dtypes.
pub fn promote(a: Kind, b: Kind) -> Kind {
    if a == b {
        return a;
    }
    if a == Kind::Bool {
        return b;
    }
    if b == Kind::Bool {
        return a;
    }
    match (is_float(a), is_float(b)) {
        (true, true) => {
            if a.elt_size_in_bytes() >= b.elt_size_in_bytes() { a } else { b }
        }
        (false, false) => {
            let (ua, ub) = (a == Kind::Uint8, b == Kind::Uint8);
            match (ua, ub) {
                (false, false) => {
                    if int_size(a) >= int_size(b) { a } else { b }
                }
                _ => {
                    let s = if ua { b } else { a };
                    if int_size(s) > 1 { s } else { Kind::Int16 }
                }
            }
        }
        _ => {
            let (i, f) = if is_float(a) { (b, a) } else { (a, b) };
            let isz = int_size(i);
            match f {
                Kind::Half if isz == 1 => Kind::Half,
                Kind::Half if isz == 2 => Kind::Float,
                Kind::Float if isz <= 2 => Kind::Float,
                _ => Kind::Double,
            }
        }
    }
}

/// An operand of a numpy operation.
pub enum Operand {
    /// An array or numpy scalar (or data converted to one): its dtype counts.
    Strong(Tensor),
    /// A Python scalar: takes the other operands' dtype where it fits (NEP 50).
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Clone for Operand {
    fn clone(&self) -> Operand {
        match self {
            Operand::Strong(t) => Operand::Strong(t.shallow_clone()),
            Operand::Int(i) => Operand::Int(*i),
            Operand::Float(f) => Operand::Float(*f),
            Operand::Bool(b) => Operand::Bool(*b),
        }
    }
}

impl Operand {
    pub fn strong(k: Kind) -> Operand {
        Operand::Strong(Tensor::f_zeros([0i64; 0], (k, Device::Cpu)).unwrap_or_else(|_| Tensor::from(0.0)))
    }
}

/// `v` as an operand; `None` for what numpy would not take (the caller raises).
pub fn operand(it: &mut Interp, v: &Value) -> PyResult<Option<Operand>> {
    Ok(Some(match v {
        Value::Bool(b) => Operand::Bool(*b),
        Value::Int(i) => Operand::Int(*i),
        Value::BigInt(_) => return Err(PyErr::overflow("Python int too large to convert to C long")),
        Value::Float(f) => Operand::Float(*f),
        Value::Tensor(t) => Operand::Strong(t.t.f_detach()?.f_to_device(Device::Cpu)?),
        Value::List(_) | Value::Tuple(_) => Operand::Strong(from_value(it, v, None)?),
        _ => return Ok(None),
    }))
}

/// The dtype of a numpy operation's result (`np.result_type`).
pub fn result_kind(ops: &[Operand]) -> PyResult<Kind> {
    let mut strong: Option<Kind> = None;
    for o in ops {
        if let Operand::Strong(t) = o {
            strong = Some(match strong {
                Some(k) => promote(k, t.kind()),
                None => t.kind(),
            });
        }
    }
    let mut k = strong;
    // Weak Python scalars: a float makes ints float64; an int makes bools int64.
    let has_float = ops.iter().any(|o| matches!(o, Operand::Float(_)));
    let has_int = ops.iter().any(|o| matches!(o, Operand::Int(_)));
    let has_bool = ops.iter().any(|o| matches!(o, Operand::Bool(_)));
    k = Some(match k {
        None => {
            if has_float {
                Kind::Double
            } else if has_int {
                Kind::Int64
            } else if has_bool {
                Kind::Bool
            } else {
                Kind::Double
            }
        }
        Some(k) if has_float && !is_float(k) => Kind::Double,
        Some(Kind::Bool) if has_int => Kind::Int64,
        Some(k) => k,
    });
    let k = k.unwrap_or(Kind::Double);
    if is_int(k) {
        let (lo, hi) = super::create::int_range(k);
        for o in ops {
            if let Operand::Int(i) = o
                && (*i < lo || *i > hi)
            {
                return Err(PyErr::overflow(format!("Python integer {i} out of bounds for {}", vnp::name(k))));
            }
        }
    }
    Ok(k)
}

/// An operand as a tensor of dtype `k`.
fn tensor_of(o: &Operand, k: Kind) -> PyResult<Tensor> {
    Ok(match o {
        Operand::Strong(t) if t.kind() == k => t.shallow_clone(),
        Operand::Strong(t) => {
            if k == Kind::Bool { t.f_ne(0i64)? } else { t.f_to_kind(k)? }
        }
        Operand::Int(i) => Tensor::f_scalar_tensor(*i, (Kind::Int64, Device::Cpu))?.f_to_kind(k)?,
        Operand::Float(f) => Tensor::f_scalar_tensor(*f, (Kind::Double, Device::Cpu))?.f_to_kind(k)?,
        Operand::Bool(b) => Tensor::f_scalar_tensor(i64::from(*b), (Kind::Int64, Device::Cpu))?.f_to_kind(k)?,
    })
}

fn shape_of(o: &Operand) -> Vec<i64> {
    match o {
        Operand::Strong(t) => t.size(),
        _ => Vec::new(),
    }
}

/// Broadcast shapes (numpy's error when they do not fit); checks the element cap.
fn broadcast(shapes: &[Vec<i64>]) -> PyResult<Vec<i64>> {
    let n = shapes.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = vec![1i64; n];
    for s in shapes {
        for (i, &d) in s.iter().enumerate() {
            let j = n - s.len() + i;
            if out[j] == 1 {
                out[j] = d;
            } else if d != 1 && d != out[j] {
                let text: Vec<String> = shapes
                    .iter()
                    .map(|s| match s.as_slice() {
                        [d] => format!("({d},)"),
                        s => format!("({})", s.iter().map(i64::to_string).collect::<Vec<_>>().join(",")),
                    })
                    .collect();
                return Err(PyErr::value_error(format!("operands could not be broadcast together with shapes {} ", text.join(" "))));
            }
        }
    }
    crate::value::tensor::check_numel(crate::value::tensor::shape_numel(&out))?;
    Ok(out)
}

fn ufunc_name(op: &str) -> &'static str {
    match op {
        "+" => "add",
        "-" => "subtract",
        "*" => "multiply",
        "/" => "divide",
        "//" => "floor_divide",
        "%" => "remainder",
        "**" => "power",
        "&" => "bitwise_and",
        "|" => "bitwise_or",
        "^" => "bitwise_xor",
        "<<" => "left_shift",
        ">>" => "right_shift",
        "@" => "matmul",
        _ => "?",
    }
}

fn no_loop(name: &str) -> PyErr {
    PyErr::type_error(format!(
        "ufunc '{name}' not supported for the input types, and the inputs could not be safely coerced to any supported types according to the casting rule ''safe''"
    ))
}

/// `x op y` on tensors of dtype `k` (both already broadcastable), numpy's way.
fn apply(op: &str, k: Kind, x: &Tensor, y: &Tensor) -> PyResult<Tensor> {
    Ok(match op {
        "+" => {
            if k == Kind::Bool { x.f_logical_or(y)? } else { x.f_add(y)? }
        }
        "-" => {
            if k == Kind::Bool {
                return Err(PyErr::type_error(
                    "numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` operator, or the logical_xor function instead.",
                ));
            }
            x.f_sub(y)?
        }
        "*" => {
            if k == Kind::Bool { x.f_logical_and(y)? } else { x.f_mul(y)? }
        }
        "/" => x.f_div(y)?,
        "//" | "%" => {
            if is_int(k) {
                // numpy gives 0 for an integer division by zero (with a warning).
                let zero = y.f_eq(0i64)?;
                let safe = y.f_masked_fill(&zero, 1i64)?;
                let r = if op == "//" { x.f_floor_divide(&safe)? } else { x.f_remainder_tensor(&safe)? };
                r.f_masked_fill(&zero, 0i64)?
            } else if op == "//" {
                x.f_floor_divide(y)?
            } else {
                x.f_remainder_tensor(y)?
            }
        }
        "**" => {
            if is_int(k) && y.f_lt(0i64)?.f_any()?.int64_value(&[]) != 0 {
                return Err(PyErr::value_error("Integers to negative integer powers are not allowed."));
            }
            x.f_pow(y)?
        }
        "&" | "|" | "^" | "<<" | ">>" => {
            if is_float(k) || (k == Kind::Bool && matches!(op, "<<" | ">>")) {
                return Err(no_loop(ufunc_name(op)));
            }
            match op {
                "&" => x.f_bitwise_and_tensor(y)?,
                "|" => x.f_bitwise_or_tensor(y)?,
                "^" => x.f_bitwise_xor_tensor(y)?,
                "<<" => x.f_bitwise_left_shift(y)?,
                _ => x.f_bitwise_right_shift(y)?,
            }
        }
        _ => return Err(unsupported(&format!("the operator {op} on numpy arrays"))),
    })
}

/// The dtype an arithmetic operator computes in, from its operands' common dtype.
fn op_kind(op: &str, common: Kind) -> Kind {
    match op {
        "/" if !is_float(common) => Kind::Double,
        "//" | "%" | "**" if common == Kind::Bool => Kind::Int8,
        _ => common,
    }
}

/// `a op b` where one side is a numpy value. A torch tensor on the other side makes it
/// torch's operation (numpy scalars then count as Python numbers); `Ok(None)` for an
/// operand numpy does not take.
pub fn binary(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let torch_side = |v: &Value| matches!(v, Value::Tensor(t) if !t.is_numpy());
    if torch_side(a) || torch_side(b) {
        let (x, y) = (super::as_python(a)?, super::as_python(b)?);
        return crate::interp::torch::binary(it, op, &x, &y);
    }
    if op == "@" {
        return matmul(it, a, b).map(Some);
    }
    let (Some(x), Some(y)) = (operand(it, a)?, operand(it, b)?) else {
        return Ok(None);
    };
    let common = result_kind(&[x.clone(), y.clone()])?;
    let mut k = op_kind(op, common);
    // numpy has no bool power loop: a bool array to a Python int power is int8.
    let bool_array = |v: &Value| matches!(v, Value::Tensor(t) if t.np == Np::Array && t.t.kind() == Kind::Bool);
    if op == "**" && bool_array(a) && matches!(y, Operand::Int(_) | Operand::Bool(_)) {
        k = Kind::Int8;
    }
    broadcast(&[shape_of(&x), shape_of(&y)])?;
    let r = apply(op, k, &tensor_of(&x, k)?, &tensor_of(&y, k)?)?;
    let r = if r.kind() != k { r.f_to_kind(k)? } else { r };
    wrap(r).map(Some)
}

/// `a op b` comparisons with a numpy side (elementwise, bool results).
pub fn compare(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let torch_side = |v: &Value| matches!(v, Value::Tensor(t) if !t.is_numpy());
    if torch_side(a) || torch_side(b) {
        let (x, y) = (super::as_python(a)?, super::as_python(b)?);
        return crate::interp::torch::compare(it, op, &x, &y);
    }
    let (Some(x), Some(y)) = (operand(it, a)?, operand(it, b)?) else {
        return Ok(None);
    };
    // A Python int beyond the array's integer dtype compares exactly (in int64).
    let k = match result_kind(&[x.clone(), y.clone()]) {
        Ok(k) => k,
        Err(_) => Kind::Int64,
    };
    broadcast(&[shape_of(&x), shape_of(&y)])?;
    let (tx, ty) = (tensor_of(&x, k)?, tensor_of(&y, k)?);
    let r = match op {
        "==" => tx.f_eq_tensor(&ty)?,
        "!=" => tx.f_ne_tensor(&ty)?,
        "<" => tx.f_lt_tensor(&ty)?,
        "<=" => tx.f_le_tensor(&ty)?,
        ">" => tx.f_gt_tensor(&ty)?,
        _ => tx.f_ge_tensor(&ty)?,
    };
    wrap(r).map(Some)
}

/// Whether numpy's `same_kind` casting allows `from` → `to`.
fn same_kind(from: Kind, to: Kind) -> bool {
    from == to
        || from == Kind::Bool
        || (is_int(from) && (is_int(to) || is_float(to)))
        || (is_float(from) && is_float(to))
}

/// `a op= b` on an array: computed as `a op b`, then written into `a` (numpy's
/// `same_kind` rule); a numpy scalar is immutable, so it rebinds.
pub fn inplace(it: &mut Interp, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
    let Value::Tensor(ta) = a else { return binary(it, op, a, b) };
    if ta.np != Np::Array || op == "@" {
        return binary(it, op, a, b);
    }
    let Some(r) = binary(it, op, a, b)? else { return Ok(None) };
    let Value::Tensor(tr) = &r else { return Ok(Some(r)) };
    let (from, to) = (tr.t.kind(), ta.t.kind());
    if !same_kind(from, to) {
        return Err(PyErr::new(
            &types::NP_UFUNC_CASTING_ERROR,
            format!(
                "Cannot cast ufunc '{}' output from dtype('{}') to dtype('{}') with casting rule 'same_kind'",
                ufunc_name(op),
                vnp::name(from),
                vnp::name(to)
            ),
        ));
    }
    if tr.t.size() != ta.t.size() {
        return Err(PyErr::value_error(format!(
            "non-broadcastable output operand with shape {:?} doesn't match the broadcast shape {:?}",
            ta.t.size(),
            tr.t.size()
        )));
    }
    check_writable(&ta.t)?;
    ta.t.shallow_clone().f_copy_(&tr.t)?;
    Ok(Some(a.clone()))
}

/// `-a`, `+a`, `~a`, `not a`.
pub fn unary(it: &mut Interp, op: UnaryOp, v: &Value) -> PyResult<Value> {
    let Value::Tensor(t) = v else { return Err(PyErr::type_error("expected an array")) };
    let x = &t.t;
    let k = x.kind();
    let r = match op {
        UnaryOp::Not => return Ok(Value::Bool(!it.truthy(v)?)),
        UnaryOp::UAdd => crate::interp::torch::create::copy_of(x)?,
        UnaryOp::USub => {
            if k == Kind::Bool {
                return Err(PyErr::type_error(
                    "The numpy boolean negative, the `-` operator, is not supported, use the `~` operator or the logical_not function instead.",
                ));
            }
            x.f_neg()?
        }
        UnaryOp::Invert => {
            if is_float(k) {
                return Err(no_loop("invert"));
            }
            if k == Kind::Bool { x.f_logical_not()? } else { x.f_bitwise_not()? }
        }
    };
    wrap(r)
}

/// The float dtype numpy's float ufuncs give an input dtype (`exp(int64)` is float64,
/// `exp(int8)` float16).
fn float_kind(k: Kind) -> Kind {
    match k {
        Kind::Bool | Kind::Int8 | Kind::Uint8 => Kind::Half,
        Kind::Int16 => Kind::Float,
        Kind::Int | Kind::Int64 => Kind::Double,
        other => other,
    }
}

/// The array argument of a function (any array-like).
fn arg_tensor(it: &mut Interp, v: &Value) -> PyResult<Tensor> {
    from_value(it, v, None)
}

/// An `axis` argument: `None`, or an axis of an array of `ndim` dimensions.
fn axis_of(v: &Value, ndim: usize) -> PyResult<Option<usize>> {
    match v {
        Value::None => Ok(None),
        other => norm_axis(int_arg(other, "axis")?, ndim).map(Some),
    }
}

/// An `out=` argument is not provided.
fn no_out(name: &str, kw: &Kwargs) -> PyResult<()> {
    if kw.iter().any(|(k, v)| k.as_ref() == "out" && !v.is_none()) {
        return Err(unsupported(&format!("numpy.{name} with out=")));
    }
    Ok(())
}

fn without(kw: Kwargs, names: &[&str]) -> Kwargs {
    kw.into_iter().filter(|(k, _)| !names.contains(&k.as_ref())).collect()
}

pub fn call(it: &mut Interp, name: &str, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_out(name, &kw)?;
    let kw = without(kw, &["out"]);
    let binop = match name {
        "add" => Some("+"),
        "subtract" => Some("-"),
        "multiply" => Some("*"),
        "divide" | "true_divide" => Some("/"),
        "floor_divide" => Some("//"),
        "mod" | "remainder" => Some("%"),
        "power" => Some("**"),
        "matmul" => Some("@"),
        _ => None,
    };
    if let Some(op) = binop {
        let a = bind(name, &["x1", "x2", "*", "dtype", "where", "casting", "order", "subok"], args, kw)?;
        let (x, y) = (required(name, &a, 0, "x1")?, required(name, &a, 1, "x2")?);
        let (x, y) = (np_value(it, &x)?, y);
        let r = binary(it, op, &x, &y)?.ok_or_else(|| no_loop(ufunc_name(op)))?;
        return match dtype_arg(&opt(&a, 2))? {
            Some(k) => super::method(it, &r, "astype", vec![super::NpDtype::value(k)], vec![]),
            None => Ok(r),
        };
    }
    let cmp = match name {
        "equal" => Some("=="),
        "not_equal" => Some("!="),
        "less" => Some("<"),
        "less_equal" => Some("<="),
        "greater" => Some(">"),
        "greater_equal" => Some(">="),
        _ => None,
    };
    if let Some(op) = cmp {
        let a = bind(name, &["x1", "x2"], args, kw)?;
        let x = np_value(it, &required(name, &a, 0, "x1")?)?;
        let y = required(name, &a, 1, "x2")?;
        return compare(it, op, &x, &y)?.ok_or_else(|| no_loop(name));
    }
    match name {
        "negative" | "positive" => {
            let a = bind(name, &["x"], args, kw)?;
            let x = np_value(it, &required(name, &a, 0, "x")?)?;
            unary(it, if name == "negative" { UnaryOp::USub } else { UnaryOp::UAdd }, &x)
        }
        "logical_not" => {
            let a = bind(name, &["x"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "x")?)?;
            wrap(t.f_eq(0i64)?)
        }
        "logical_and" | "logical_or" | "logical_xor" => {
            let a = bind(name, &["x1", "x2"], args, kw)?;
            let x = arg_tensor(it, &required(name, &a, 0, "x1")?)?.f_ne(0i64)?;
            let y = arg_tensor(it, &required(name, &a, 1, "x2")?)?.f_ne(0i64)?;
            broadcast(&[x.size(), y.size()])?;
            wrap(match name {
                "logical_and" => x.f_logical_and(&y)?,
                "logical_or" => x.f_logical_or(&y)?,
                _ => x.f_logical_xor(&y)?,
            })
        }
        "abs" | "absolute" | "fabs" | "sign" | "square" | "floor" | "ceil" | "trunc" | "rint" | "isnan" | "isinf" | "isfinite"
        | "reciprocal" => {
            let a = bind(name, &["x"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "x")?)?;
            let k = t.kind();
            wrap(match name {
                "abs" | "absolute" => {
                    if k == Kind::Bool { crate::interp::torch::create::copy_of(&t)? } else { t.f_abs()? }
                }
                "fabs" => t.f_to_kind(float_kind(k))?.f_abs()?,
                "sign" => {
                    if k == Kind::Bool {
                        return Err(no_loop("sign"));
                    }
                    t.f_sign()?
                }
                "square" => {
                    let t = if k == Kind::Bool { t.f_to_kind(Kind::Int8)? } else { t };
                    t.f_mul(&t)?
                }
                "floor" | "ceil" | "trunc" | "rint" => {
                    if !is_float(k) {
                        if k == Kind::Bool {
                            t.f_to_kind(Kind::Half)?
                        } else {
                            crate::interp::torch::create::copy_of(&t)?
                        }
                    } else {
                        match name {
                            "floor" => t.f_floor()?,
                            "ceil" => t.f_ceil()?,
                            "trunc" => t.f_trunc()?,
                            _ => t.f_round()?,
                        }
                    }
                }
                "isnan" => t.f_isnan()?,
                "isinf" => t.f_isinf()?,
                "isfinite" => t.f_isfinite()?,
                _ => {
                    if is_float(k) {
                        t.f_reciprocal()?
                    } else {
                        return Err(unsupported("numpy.reciprocal of integers"));
                    }
                }
            })
        }
        "exp" | "exp2" | "expm1" | "log" | "log2" | "log10" | "log1p" | "sqrt" | "sin" | "cos" | "tan" | "arcsin" | "arccos"
        | "arctan" | "sinh" | "cosh" | "tanh" => {
            let a = bind(name, &["x"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "x")?)?;
            let t = t.f_to_kind(float_kind(t.kind()))?;
            wrap(match name {
                "exp" => t.f_exp()?,
                "exp2" => t.f_exp2()?,
                "expm1" => t.f_expm1()?,
                "log" => t.f_log()?,
                "log2" => t.f_log2()?,
                "log10" => t.f_log10()?,
                "log1p" => t.f_log1p()?,
                "sqrt" => sqrt(&t)?,
                "sin" => t.f_sin()?,
                "cos" => t.f_cos()?,
                "tan" => t.f_tan()?,
                "arcsin" => t.f_arcsin()?,
                "arccos" => t.f_arccos()?,
                "arctan" => t.f_arctan()?,
                "sinh" => t.f_sinh()?,
                "cosh" => t.f_cosh()?,
                _ => t.f_tanh()?,
            })
        }
        "maximum" | "minimum" | "fmax" | "fmin" => {
            let a = bind(name, &["x1", "x2"], args, kw)?;
            let (Some(x), Some(y)) = (operand(it, &required(name, &a, 0, "x1")?)?, operand(it, &required(name, &a, 1, "x2")?)?) else {
                return Err(no_loop(name));
            };
            let k = result_kind(&[x.clone(), y.clone()])?;
            broadcast(&[shape_of(&x), shape_of(&y)])?;
            let (tx, ty) = (tensor_of(&x, k)?, tensor_of(&y, k)?);
            wrap(match name {
                "maximum" => tx.f_maximum(&ty)?,
                "minimum" => tx.f_minimum(&ty)?,
                "fmax" => tx.f_fmax(&ty)?,
                _ => tx.f_fmin(&ty)?,
            })
        }
        "clip" => {
            let a = bind(name, &["a", "a_min", "a_max"], args, kw)?;
            let arr = required(name, &a, 0, "a")?;
            let (lo, hi) = (opt(&a, 1), opt(&a, 2));
            let mut ops = vec![operand(it, &arr)?.ok_or_else(|| no_loop("clip"))?];
            for v in [&lo, &hi] {
                if !v.is_none() {
                    ops.push(operand(it, v)?.ok_or_else(|| no_loop("clip"))?);
                }
            }
            if lo.is_none() && hi.is_none() {
                return Err(PyErr::value_error("One of max or min must be given"));
            }
            let k = result_kind(&ops)?;
            let mut r = tensor_of(&ops[0], k)?;
            let mut i = 1;
            if !lo.is_none() {
                r = r.f_maximum(&tensor_of(&ops[i], k)?)?;
                i += 1;
            }
            if !hi.is_none() {
                r = r.f_minimum(&tensor_of(&ops[i], k)?)?;
            }
            wrap(r)
        }
        "round" | "around" => {
            let a = bind(name, &["a", "decimals"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "a")?)?;
            let d = match opt(&a, 1) {
                Value::None => 0,
                v => int_arg(&v, "decimals")?,
            };
            let k = t.kind();
            wrap(if is_float(k) {
                if d == 0 { t.f_round()? } else { t.f_round_decimals(d)? }
            } else if d >= 0 {
                crate::interp::torch::create::copy_of(&t)?
            } else {
                let p = 10i64.pow((-d).min(18) as u32);
                let q = t.f_to_kind(Kind::Double)?.f_div_scalar(p as f64)?.f_round()?.f_mul_scalar(p as f64)?;
                q.f_to_kind(k)?
            })
        }
        "where" => {
            let a = bind(name, &["condition", "x", "y"], args, kw)?;
            let cond = arg_tensor(it, &required(name, &a, 0, "condition")?)?.f_ne(0i64)?;
            match (&a[1], &a[2]) {
                (None, None) => {
                    let parts = cond.f_nonzero_numpy()?;
                    let parts = if cond.dim() == 0 { vec![cond.f_reshape([1])?.f_nonzero()?.f_reshape([-1])?] } else { parts };
                    Ok(Value::tuple(parts.into_iter().map(array).collect::<PyResult<Vec<_>>>()?))
                }
                (Some(x), Some(y)) => {
                    let (Some(ox), Some(oy)) = (operand(it, x)?, operand(it, y)?) else {
                        return Err(no_loop("where"));
                    };
                    let k = result_kind(&[ox.clone(), oy.clone()])?;
                    broadcast(&[cond.size(), shape_of(&ox), shape_of(&oy)])?;
                    wrap(tensor_of(&ox, k)?.f_where_self(&cond, &tensor_of(&oy, k)?)?)
                }
                _ => Err(PyErr::value_error("either both or neither of x and y should be given")),
            }
        }
        "nonzero" | "argwhere" => {
            let a = bind(name, &["a"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "a")?)?.f_ne(0i64)?;
            if name == "argwhere" {
                return array(t.f_nonzero()?);
            }
            if t.dim() == 0 {
                return Err(PyErr::value_error("Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead."));
            }
            Ok(Value::tuple(t.f_nonzero_numpy()?.into_iter().map(array).collect::<PyResult<Vec<_>>>()?))
        }
        "concatenate" | "stack" | "vstack" | "hstack" | "column_stack" => {
            let a = bind(name, &["arrays", "axis", "*", "dtype", "casting"], args, kw)?;
            let seq = it.collect(&required(name, &a, 0, "arrays")?)?;
            if seq.is_empty() {
                return Err(PyErr::value_error("need at least one array to concatenate"));
            }
            let mut ts = Vec::with_capacity(seq.len());
            for v in &seq {
                ts.push(arg_tensor(it, v)?);
            }
            let k = match dtype_arg(&opt(&a, 2))? {
                Some(k) => k,
                None => ts.iter().skip(1).fold(ts[0].kind(), |acc, t| promote(acc, t.kind())),
            };
            let ts = ts.iter().map(|t| if t.kind() == k { Ok(t.shallow_clone()) } else { t.f_to_kind(k) }).collect::<Result<Vec<_>, _>>()?;
            let total: i64 = ts.iter().map(|t| t.numel() as i64).sum();
            crate::value::tensor::check_numel(total)?;
            let r = match name {
                "concatenate" => {
                    if ts.iter().any(|t| t.dim() == 0) {
                        return Err(PyErr::value_error("zero-dimensional arrays cannot be concatenated"));
                    }
                    match a[1].clone().unwrap_or(Value::Int(0)) {
                        Value::None => {
                            let flat = ts.iter().map(|t| t.f_reshape([-1])).collect::<Result<Vec<_>, _>>()?;
                            Tensor::f_cat(&flat, 0)?
                        }
                        ax => {
                            let d = norm_axis(int_arg(&ax, "axis")?, ts[0].dim())?;
                            same_dims(&ts, Some(d))?;
                            Tensor::f_cat(&ts, d as i64)?
                        }
                    }
                }
                "stack" => {
                    let shape = ts[0].size();
                    if ts.iter().any(|t| t.size() != shape) {
                        return Err(PyErr::value_error("all input arrays must have the same shape"));
                    }
                    let ax = match opt(&a, 1) {
                        Value::None => 0,
                        v => int_arg(&v, "axis")?,
                    };
                    let d = norm_axis(ax, ts[0].dim() + 1)?;
                    Tensor::f_stack(&ts, d as i64)?
                }
                "vstack" => {
                    let ts = ts.iter().map(|t| at_least(t, 2)).collect::<PyResult<Vec<_>>>()?;
                    same_dims(&ts, Some(0))?;
                    Tensor::f_cat(&ts, 0)?
                }
                "column_stack" => {
                    let ts = ts
                        .iter()
                        .map(|t| if t.dim() < 2 { at_least(t, 1)?.f_unsqueeze(1).map_err(Into::into) } else { Ok(t.shallow_clone()) })
                        .collect::<PyResult<Vec<_>>>()?;
                    same_dims(&ts, Some(1))?;
                    Tensor::f_cat(&ts, 1)?
                }
                _ => {
                    let ts = ts.iter().map(|t| at_least(t, 1)).collect::<PyResult<Vec<_>>>()?;
                    let d = if ts[0].dim() == 1 { 0 } else { 1 };
                    same_dims(&ts, Some(d))?;
                    Tensor::f_cat(&ts, d as i64)?
                }
            };
            array(r)
        }
        "sort" | "argsort" => {
            let a = bind(name, &["a", "axis", "kind", "order", "*", "stable"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "a")?)?;
            let (t, d) = match &a[1] {
                Some(Value::None) => (t.f_reshape([-1])?, 0),
                Some(ax) => {
                    let d = norm_axis(int_arg(ax, "axis")?, t.dim().max(1))?;
                    (t, d)
                }
                None => {
                    if t.dim() == 0 {
                        return Err(PyErr::new(&types::NP_AXIS_ERROR, "axis -1 is out of bounds for array of dimension 0"));
                    }
                    let d = t.dim() - 1;
                    (t, d)
                }
            };
            let (sorted, idx) = t.f_sort_stable(true, d as i64, false)?;
            array(if name == "sort" { sorted } else { idx })
        }
        "unique" => unique(it, args, kw),
        "dot" | "vdot" | "inner" | "outer" => {
            let a = bind(name, &["a", "b"], args, kw)?;
            let x = required(name, &a, 0, "a")?;
            let y = required(name, &a, 1, "b")?;
            let (Some(ox), Some(oy)) = (operand(it, &x)?, operand(it, &y)?) else {
                return Err(no_loop(name));
            };
            let k = result_kind(&[ox.clone(), oy.clone()])?;
            let (tx, ty) = (tensor_of(&ox, k)?, tensor_of(&oy, k)?);
            match name {
                "outer" => {
                    let (fx, fy) = (tx.f_reshape([-1])?, ty.f_reshape([-1])?);
                    crate::value::tensor::check_numel(crate::value::tensor::shape_numel(&[fx.numel() as i64, fy.numel() as i64]))?;
                    array(fx.f_unsqueeze(1)?.f_mul(&fy.f_unsqueeze(0)?)?)
                }
                "vdot" => matmul_tensors(&tx.f_reshape([-1])?, &ty.f_reshape([-1])?),
                _ => {
                    if tx.dim() == 0 || ty.dim() == 0 {
                        broadcast(&[tx.size(), ty.size()])?;
                        return wrap(mul_k(&tx, &ty, k)?);
                    }
                    if name == "inner" || (tx.dim() <= 2 && ty.dim() <= 2) {
                        let ty = if name == "inner" && ty.dim() == 2 { ty.f_transpose(0, 1)? } else { ty };
                        return matmul_tensors(&tx, &ty);
                    }
                    Err(unsupported("numpy.dot of arrays with more than 2 dimensions"))
                }
            }
        }
        "isclose" | "allclose" => {
            let a = bind(name, &["a", "b", "rtol", "atol", "equal_nan"], args, kw)?;
            let x = arg_tensor(it, &required(name, &a, 0, "a")?)?;
            let y = arg_tensor(it, &required(name, &a, 1, "b")?)?;
            let rtol = match opt(&a, 2) {
                Value::None => 1e-5,
                v => float_arg(&v)?,
            };
            let atol = match opt(&a, 3) {
                Value::None => 1e-8,
                v => float_arg(&v)?,
            };
            let equal_nan = bool_arg(&opt(&a, 4))?;
            broadcast(&[x.size(), y.size()])?;
            let k = promote(promote(x.kind(), y.kind()), Kind::Double);
            let (x, y) = (x.f_to_kind(k)?, y.f_to_kind(k)?);
            // |a - b| <= atol + rtol * |b|, with infinities equal only to themselves.
            let close = x.f_sub(&y)?.f_abs()?.f_le_tensor(&y.f_abs()?.f_mul_scalar(rtol)?.f_add_scalar(atol)?)?;
            let close = close.f_logical_or(&x.f_eq_tensor(&y)?)?;
            let close = if equal_nan { close.f_logical_or(&x.f_isnan()?.f_logical_and(&y.f_isnan()?)?)? } else { close };
            if name == "allclose" {
                return Ok(Value::Bool(close.f_all()?.int64_value(&[]) != 0));
            }
            wrap(close)
        }
        "array_equal" => {
            let a = bind(name, &["a1", "a2", "equal_nan"], args, kw)?;
            let x = arg_tensor(it, &required(name, &a, 0, "a1")?)?;
            let y = arg_tensor(it, &required(name, &a, 1, "a2")?)?;
            if x.size() != y.size() {
                return Ok(Value::Bool(false));
            }
            let k = promote(x.kind(), y.kind());
            let eq = x.f_to_kind(k)?.f_eq_tensor(&y.f_to_kind(k)?)?;
            Ok(Value::Bool(eq.f_all()?.int64_value(&[]) != 0))
        }
        "diff" => {
            let a = bind(name, &["a", "n", "axis"], args, kw)?;
            let mut t = arg_tensor(it, &required(name, &a, 0, "a")?)?;
            if t.dim() == 0 {
                return Err(PyErr::value_error("diff requires input that is at least one dimensional"));
            }
            let n = match opt(&a, 1) {
                Value::None => 1,
                v => int_arg(&v, "n")?,
            };
            let d = match opt(&a, 2) {
                Value::None => t.dim() - 1,
                v => norm_axis(int_arg(&v, "axis")?, t.dim())?,
            } as i64;
            for _ in 0..n.max(0) {
                let len = crate::interp::torch::dim_size(&t, d as usize)?;
                if len == 0 {
                    break;
                }
                let hi = t.f_narrow(d, 1, len - 1)?;
                let lo = t.f_narrow(d, 0, len - 1)?;
                t = if t.kind() == Kind::Bool { hi.f_logical_xor(&lo)? } else { hi.f_sub(&lo)? };
            }
            array(t)
        }
        "count_nonzero" => {
            let a = bind(name, &["a", "axis", "*", "keepdims"], args, kw)?;
            let t = arg_tensor(it, &required(name, &a, 0, "a")?)?.f_ne(0i64)?;
            match axis_of(&opt(&a, 1), t.dim())? {
                None => scalar(&t.f_sum(Kind::Int64)?),
                Some(d) => {
                    let keep = bool_arg(&opt(&a, 2))?;
                    array(t.f_sum_dim_intlist([d as i64].as_slice(), keep, Kind::Int64)?)
                }
            }
        }
        other => Err(unsupported(&format!("numpy.{other}"))),
    }
}

/// `x * y` in dtype `k` (bool: logical and).
fn mul_k(x: &Tensor, y: &Tensor, k: Kind) -> PyResult<Tensor> {
    Ok(if k == Kind::Bool { x.f_logical_and(y)? } else { x.f_mul(y)? })
}

fn at_least(t: &Tensor, n: usize) -> PyResult<Tensor> {
    let mut r = t.shallow_clone();
    while r.dim() < n {
        r = r.f_unsqueeze(0)?;
    }
    Ok(r)
}

/// numpy's error when arrays to concatenate differ off the joined axis.
fn same_dims(ts: &[Tensor], axis: Option<usize>) -> PyResult<()> {
    let first = ts[0].size();
    for (i, t) in ts.iter().enumerate().skip(1) {
        let s = t.size();
        if s.len() != first.len() {
            return Err(PyErr::value_error(format!(
                "all the input array dimensions except for the concatenation axis must match exactly, but along dimension 0, the array at index 0 has size {} and the array at index {i} has size {}",
                first.first().copied().unwrap_or(0),
                s.first().copied().unwrap_or(0)
            )));
        }
        for d in 0..s.len() {
            if Some(d) != axis && s[d] != first[d] {
                return Err(PyErr::value_error(format!(
                    "all the input array dimensions except for the concatenation axis must match exactly, but along dimension {d}, the array at index 0 has size {} and the array at index {i} has size {}",
                    first[d], s[d]
                )));
            }
        }
    }
    Ok(())
}

/// A numpy value for a function's first operand (lists become arrays, as in numpy).
fn np_value(it: &mut Interp, v: &Value) -> PyResult<Value> {
    if is_np(v) {
        return Ok(v.clone());
    }
    match v {
        Value::List(_) | Value::Tuple(_) => array(from_value(it, v, None)?),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => scalar(&from_value(it, v, None)?),
        other => Ok(other.clone()),
    }
}

fn matmul_tensors(x: &Tensor, y: &Tensor) -> PyResult<Value> {
    if x.dim() == 0 || y.dim() == 0 {
        return Err(PyErr::value_error(format!(
            "matmul: Input operand {} does not have enough dimensions (has 0, gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1)",
            if x.dim() == 0 { 0 } else { 1 }
        )));
    }
    let (xs, ys) = (x.size(), y.size());
    let kx = xs[xs.len() - 1];
    let ky = if ys.len() == 1 { ys[0] } else { ys[ys.len() - 2] };
    if kx != ky {
        return Err(PyErr::value_error(format!(
            "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {ky} is different from {kx})"
        )));
    }
    if xs.len() >= 2 && ys.len() >= 2 {
        let mut out = xs[..xs.len() - 1].to_vec();
        out.push(ys[ys.len() - 1]);
        crate::value::tensor::check_numel(crate::value::tensor::shape_numel(&out))?;
    }
    let k = x.kind();
    let r = if k == Kind::Bool {
        x.f_to_kind(Kind::Int64)?.f_matmul(&y.f_to_kind(Kind::Int64)?)?.f_ne(0i64)?
    } else if matches!(k, Kind::Int8 | Kind::Int16 | Kind::Int | Kind::Uint8) {
        x.f_to_kind(Kind::Int64)?.f_matmul(&y.f_to_kind(Kind::Int64)?)?.f_to_kind(k)?
    } else {
        x.f_matmul(y)?
    };
    wrap(r)
}

fn matmul(it: &mut Interp, a: &Value, b: &Value) -> PyResult<Value> {
    let (Some(x), Some(y)) = (operand(it, a)?, operand(it, b)?) else {
        return Err(PyErr::type_error(format!(
            "unsupported operand type(s) for @: '{}' and '{}'",
            a.type_name(),
            b.type_name()
        )));
    };
    let k = result_kind(&[x.clone(), y.clone()])?;
    matmul_tensors(&tensor_of(&x, k)?, &tensor_of(&y, k)?)
}

/// `np.unique(ar, return_index, return_inverse, return_counts, axis)` (flattened).
fn unique(it: &mut Interp, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    let a = bind("unique", &["ar", "return_index", "return_inverse", "return_counts", "axis", "*", "equal_nan", "sorted"], args, kw)?;
    if !opt(&a, 4).is_none() {
        return Err(unsupported("numpy.unique with axis="));
    }
    let t = arg_tensor(it, &required("unique", &a, 0, "ar")?)?;
    let shape = t.size();
    let flat = t.f_reshape([-1])?;
    let (want_index, want_inverse, want_counts) = (bool_arg(&opt(&a, 1))?, bool_arg(&opt(&a, 2))?, bool_arg(&opt(&a, 3))?);
    let n = flat.numel() as i64;
    let (sorted, perm) = flat.f_sort_stable(true, 0, false)?;
    // The first of each run of equal values.
    let first = if n == 0 {
        Tensor::f_zeros([0], (Kind::Bool, Device::Cpu))?
    } else {
        let head = Tensor::f_ones([1], (Kind::Bool, Device::Cpu))?;
        let rest = sorted.f_narrow(0, 1, n - 1)?.f_ne_tensor(&sorted.f_narrow(0, 0, n - 1)?)?;
        Tensor::f_cat(&[head, rest], 0)?
    };
    let uniq = sorted.f_masked_select(&first)?;
    let mut out = vec![array(uniq.shallow_clone())?];
    if want_index {
        out.push(array(perm.f_masked_select(&first)?)?);
    }
    if want_inverse {
        let group = first.f_to_kind(Kind::Int64)?.f_cumsum(0, Kind::Int64)?.f_sub_scalar(1)?;
        let inv = Tensor::f_zeros([n], (Kind::Int64, Device::Cpu))?.f_scatter(0, &perm, &group)?;
        out.push(array(inv.f_reshape(shape.as_slice())?)?);
    }
    if want_counts {
        let starts = first.f_nonzero()?.f_reshape([-1])?;
        let ends = Tensor::f_cat(&[starts.f_narrow(0, 1, (starts.numel() as i64 - 1).max(0))?, Tensor::from_slice(&[n])], 0)?;
        let counts = if starts.numel() == 0 { starts.shallow_clone() } else { ends.f_sub(&starts)? };
        out.push(array(counts)?);
    }
    if out.len() == 1 {
        return Ok(out.remove(0));
    }
    Ok(Value::tuple(out))
}

/// An element-wise square root rounded correctly (IEEE's, as numpy's): libtorch's
/// vectorized `sqrt` is off by one unit in the last place for some inputs.
pub fn sqrt(t: &Tensor) -> PyResult<Tensor> {
    let shape = t.size();
    let flat = t.f_contiguous()?.f_reshape([-1])?;
    let r = match t.kind() {
        Kind::Double => {
            let v: Vec<f64> = Vec::<f64>::try_from(&flat)?.into_iter().map(f64::sqrt).collect();
            Tensor::f_from_slice(&v)?
        }
        k => {
            let v: Vec<f32> = Vec::<f32>::try_from(&flat.f_to_kind(Kind::Float)?)?.into_iter().map(f32::sqrt).collect();
            Tensor::f_from_slice(&v)?.f_to_kind(k)?
        }
    };
    Ok(r.f_reshape(shape.as_slice())?)
}

