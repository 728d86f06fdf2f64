//! numpy's reductions (`sum`, `mean`, `std`, `var`, `prod`, `max`, `argmax`, `cumsum`,
//! `median`, ...), as functions and methods, with `axis=` (an int or a tuple),
//! `keepdims=` and `dtype=`. A full reduction returns a numpy scalar.
//!
//! Float sums follow numpy's order exactly, so they are bit-identical: numpy walks the
//! array in memory order; when the innermost axis is reduced it adds each run of that
//! axis with its pairwise summation (`pairwise_sum` in `loops_utils.h.src`: eight
//! accumulators up to 128 elements, halves above) to the output, otherwise it adds the
//! elements one after another. Products and cumulative sums are sequential. `mean`,
//! `var` and `std` are composed of these exactly as `numpy/_core/_methods.py` composes
//! them. Integer sums and products wrap in int64, as numpy's do.

use std::ops::{Add, Mul};

use tch::{Device, Kind, Tensor};

use super::{array, bind, bool_arg, dtype_arg, from_value, int_arg, norm_axis, opt, required, scalar, unsupported, wrap};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::value::{PyErr, PyResult, Value, ctx};

pub const FUNCTIONS: &[&str] = &[
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var", "prod", "cumsum", "cumprod", "any",
    "all", "median", "average", "ptp",
];

fn is_float(k: Kind) -> bool {
    matches!(k, Kind::Half | Kind::Float | Kind::Double)
}

/// The element types float reductions accumulate in.
trait Acc: Copy + Add<Output = Self> + Mul<Output = Self> + tch::kind::Element {
    const Z: Self;
    const ONE: Self;
}

impl Acc for f64 {
    const Z: f64 = 0.0;
    const ONE: f64 = 1.0;
}

impl Acc for f32 {
    const Z: f32 = 0.0;
    const ONE: f32 = 1.0;
}

/// numpy's `pairwise_sum`.
fn pairwise<T: Acc>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        let mut res = T::Z;
        for &x in a {
            res = res + x;
        }
        res
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] = r[j] + a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res = res + a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Fold {
    Sum,
    Prod,
}

/// The memory order of a tensor's axes (outermost first).
fn memory_order(t: &Tensor) -> Vec<usize> {
    let strides = t.stride();
    let mut perm: Vec<usize> = (0..t.dim()).collect();
    perm.sort_by(|&a, &b| strides[b].cmp(&strides[a]));
    perm
}

/// Reduces `t` (of element type `T`) over `axes` in numpy's order; `order` is the
/// memory order to follow and `strides` the strides of the original array. The result
/// has the kept axes, in their logical order.
fn fold_axes<T: Acc>(t: &Tensor, order: &[usize], strides: &[i64], axes: &[usize], fold: Fold) -> PyResult<Tensor> {
    let nd = t.dim();
    let size = t.size();
    let perm: Vec<i64> = order.iter().map(|&p| p as i64).collect();
    let mem = t.f_permute(perm.as_slice())?.f_contiguous()?;
    let data: Vec<T> = Vec::<T>::try_from(&mem.f_reshape([-1])?)?;
    let ms: Vec<usize> = order.iter().map(|&p| size[p] as usize).collect();
    let mr: Vec<bool> = order.iter().map(|p| axes.contains(p)).collect();
    let ostride: Vec<i64> = order.iter().map(|&p| strides[p]).collect();
    // The inner run numpy adds pairwise: the innermost reduced axis and the reduced axes
    // around it that coalesce with it in memory (size-1 axes coalesce with anything).
    let mut j = nd;
    let mut run = 1usize;
    let mut outer_of_run: Option<(i64, i64)> = None;
    while j > 0 {
        let (s, st) = (ms[j - 1], ostride[j - 1]);
        if s == 1 {
            j -= 1;
            continue;
        }
        if !mr[j - 1] {
            break;
        }
        if let Some((ist, isz)) = outer_of_run
            && st != ist * isz
        {
            break;
        }
        run *= s;
        outer_of_run = Some((st, s as i64));
        j -= 1;
    }
    let kept: Vec<usize> = (0..nd).filter(|&i| !mr[i]).collect();
    let mut out_stride = vec![0usize; nd];
    let mut s = 1usize;
    for &k in kept.iter().rev() {
        out_stride[k] = s;
        s *= ms[k];
    }
    let out_len = s;
    let init = if fold == Fold::Sum { T::Z } else { T::ONE };
    let mut acc = vec![init; out_len];
    let outer: usize = ms[..j].iter().product();
    let mut coord = vec![0usize; j];
    let mut oi = 0usize;
    for o in 0..outer {
        if o % 4096 == 0 {
            ctx::check()?;
        }
        let base = o * run;
        let chunk = &data[base..base + run];
        acc[oi] = match fold {
            Fold::Sum => acc[oi] + pairwise(chunk),
            Fold::Prod => chunk.iter().fold(acc[oi], |a, &x| a * x),
        };
        // Advance the outer coordinate (C order) and the output index with it.
        let mut d = j;
        while d > 0 {
            d -= 1;
            coord[d] += 1;
            oi += out_stride[d];
            if coord[d] < ms[d] {
                break;
            }
            oi -= out_stride[d] * ms[d];
            coord[d] = 0;
        }
    }
    let kept_shape: Vec<i64> = kept.iter().map(|&k| ms[k] as i64).collect();
    let r = Tensor::f_from_slice(&acc)?.f_reshape(kept_shape.as_slice())?;
    // Back to the logical order of the kept axes.
    let logical: Vec<usize> = kept.iter().map(|&k| order[k]).collect();
    let mut q: Vec<i64> = (0..logical.len() as i64).collect();
    q.sort_by_key(|&i| logical[i as usize]);
    Ok(r.f_permute(q.as_slice())?)
}

/// A float sum or product over `axes` in numpy's order, accumulating in `k`.
fn float_fold(t: &Tensor, axes: &[usize], k: Kind, fold: Fold) -> PyResult<Tensor> {
    let order = memory_order(t);
    let strides = t.stride();
    match k {
        Kind::Double => fold_axes::<f64>(&t.f_to_kind(Kind::Double)?, &order, &strides, axes, fold),
        Kind::Float => fold_axes::<f32>(&t.f_to_kind(Kind::Float)?, &order, &strides, axes, fold),
        // float16 accumulates in float32 and rounds at the end.
        _ => Ok(fold_axes::<f32>(&t.f_to_kind(Kind::Float)?, &order, &strides, axes, fold)?.f_to_kind(k)?),
    }
}

/// The axes an `axis=` argument names (`None`: all).
fn axes_of(it: &mut Interp, v: &Value, ndim: usize) -> PyResult<Option<Vec<usize>>> {
    match v {
        Value::None => Ok(None),
        Value::Tuple(_) | Value::List(_) => {
            let mut out = Vec::new();
            for a in it.collect(v)? {
                let d = norm_axis(int_arg(&a, "axis")?, ndim)?;
                if out.contains(&d) {
                    return Err(PyErr::value_error("duplicate value in 'axis'"));
                }
                out.push(d);
            }
            Ok(Some(out))
        }
        other => Ok(Some(vec![norm_axis(int_arg(other, "axis")?, ndim)?])),
    }
}

/// Puts the reduced axes back as size-1 axes (`keepdims=True`).
fn keep(r: Tensor, axes: &[usize], keepdims: bool) -> PyResult<Tensor> {
    if !keepdims {
        return Ok(r);
    }
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    let mut r = r;
    for &d in &sorted {
        r = r.f_unsqueeze(d as i64)?;
    }
    Ok(r)
}

/// The result of a reduction: an array when axes are kept, else a numpy scalar.
fn result(r: Tensor, keepdims: bool) -> PyResult<Value> {
    if keepdims && r.dim() > 0 { array(r) } else { wrap(r) }
}

/// `sum` / `prod` of `t` over `axes` into dtype `out`.
fn sum_prod(t: &Tensor, axes: &[usize], out: Kind, fold: Fold) -> PyResult<Tensor> {
    if is_float(out) {
        return float_fold(t, axes, out, fold);
    }
    // Integers (and bools) wrap in int64, whatever the order.
    let x = t.f_to_kind(Kind::Int64)?;
    let dims: Vec<i64> = axes.iter().map(|&d| d as i64).collect();
    let r = match fold {
        Fold::Sum => x.f_sum_dim_intlist(dims.as_slice(), false, Kind::Int64)?,
        Fold::Prod => {
            let mut r = x;
            let mut sorted = dims.clone();
            sorted.sort_unstable();
            for &d in sorted.iter().rev() {
                r = r.f_prod_dim_int(d, false, Kind::Int64)?;
            }
            r
        }
    };
    Ok(if out == Kind::Int64 { r } else if out == Kind::Bool { r.f_ne(0i64)? } else { r.f_to_kind(out)? })
}

/// The dtype `sum` and `prod` give a dtype (small ints and bools → int64).
fn sum_kind(k: Kind) -> Kind {
    if is_float(k) { k } else { Kind::Int64 }
}

/// The elements of `axes`.
fn count(t: &Tensor, axes: &[usize]) -> i64 {
    let size = t.size();
    axes.iter().map(|&d| size[d]).product()
}

/// `mean`: the sum (float64 for ints and bools, float32 for float16) divided by the count.
fn mean(t: &Tensor, axes: &[usize], dtype: Option<Kind>, keepdims: bool) -> PyResult<Tensor> {
    let k = t.kind();
    let acc = dtype.unwrap_or(if is_float(k) { if k == Kind::Half { Kind::Float } else { k } } else { Kind::Double });
    let s = keep(sum_prod(t, axes, acc, Fold::Sum)?, axes, keepdims)?;
    let n = count(t, axes);
    let r = if is_float(acc) { s.f_div_scalar(n as f64)? } else { s.f_to_kind(Kind::Double)?.f_div_scalar(n as f64)?.f_to_kind(acc)? };
    Ok(if dtype.is_none() && k == Kind::Half { r.f_to_kind(Kind::Half)? } else { r })
}

/// `var` (and `std`) as numpy's `_var`: mean with kept dims, squared deviations, their
/// sum over the count less `ddof`.
fn var(t: &Tensor, axes: &[usize], dtype: Option<Kind>, ddof: f64, keepdims: bool) -> PyResult<Tensor> {
    let k = t.kind();
    let acc = dtype.unwrap_or(if is_float(k) { k } else { Kind::Double });
    let n = count(t, axes);
    let arrmean = sum_prod(t, axes, acc, Fold::Sum)?;
    let arrmean = keep(arrmean, axes, true)?.f_div_scalar(n as f64)?.f_to_kind(acc)?;
    let x = t.f_to_kind(crate::interp::numpy::math::promote(k, acc))?.f_sub(&arrmean)?;
    let x = x.f_mul(&x)?;
    let ret = keep(sum_prod(&x, axes, acc, Fold::Sum)?, axes, keepdims)?;
    let dof = (n as f64 - ddof).max(0.0);
    Ok(ret.f_div_scalar(dof)?.f_to_kind(acc)?)
}

/// The `ddof` of `var`/`std` (or its alias `correction`).
fn ddof_of(a: &[Option<Value>], i_ddof: usize, i_corr: usize) -> PyResult<f64> {
    let v = match (opt(a, i_ddof), opt(a, i_corr)) {
        (Value::None, Value::None) => return Ok(0.0),
        (Value::None, c) => c,
        (d, Value::None) => d,
        _ => return Err(PyErr::value_error("ddof and correction can't be provided simultaneously.")),
    };
    super::float_arg(&v)
}

fn no_where(name: &str, a: &[Option<Value>], i: usize) -> PyResult<()> {
    match opt(a, i) {
        Value::None | Value::Bool(true) => Ok(()),
        _ => Err(unsupported(&format!("numpy.{name} with where="))),
    }
}

fn no_out(name: &str, a: &[Option<Value>], i: usize) -> PyResult<()> {
    if opt(a, i).is_none() { Ok(()) } else { Err(unsupported(&format!("numpy.{name} with out="))) }
}

pub fn call(it: &mut Interp, name: &str, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    match name {
        "sum" | "prod" => {
            let a = bind(name, &["a", "axis", "dtype", "out", "keepdims", "initial", "where"], args, kw)?;
            no_out(name, &a, 3)?;
            no_where(name, &a, 6)?;
            if !opt(&a, 5).is_none() {
                return Err(unsupported(&format!("numpy.{name} with initial=")));
            }
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let axes = axes_of(it, &opt(&a, 1), t.dim())?.unwrap_or_else(|| (0..t.dim()).collect());
            let out = dtype_arg(&opt(&a, 2))?.unwrap_or_else(|| sum_kind(t.kind()));
            let keepdims = bool_arg(&opt(&a, 4))?;
            let r = sum_prod(&t, &axes, out, if name == "sum" { Fold::Sum } else { Fold::Prod })?;
            result(keep(r, &axes, keepdims)?, keepdims)
        }
        "mean" | "average" => {
            let spec: &[&str] = if name == "mean" { &["a", "axis", "dtype", "out", "keepdims", "*", "where"] } else { &["a", "axis", "weights", "returned", "*", "keepdims"] };
            let a = bind(name, spec, args, kw)?;
            let (dtype, keepdims) = if name == "mean" {
                no_out(name, &a, 3)?;
                no_where(name, &a, 5)?;
                (dtype_arg(&opt(&a, 2))?, bool_arg(&opt(&a, 4))?)
            } else {
                if !opt(&a, 2).is_none() || bool_arg(&opt(&a, 3))? {
                    return Err(unsupported("numpy.average with weights= or returned="));
                }
                (None, bool_arg(&opt(&a, 4))?)
            };
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let axes = axes_of(it, &opt(&a, 1), t.dim())?.unwrap_or_else(|| (0..t.dim()).collect());
            result(mean(&t, &axes, dtype, keepdims)?, keepdims)
        }
        "std" | "var" => {
            let a = bind(name, &["a", "axis", "dtype", "out", "ddof", "keepdims", "*", "where", "mean", "correction"], args, kw)?;
            no_out(name, &a, 3)?;
            no_where(name, &a, 6)?;
            if !opt(&a, 7).is_none() {
                return Err(unsupported(&format!("numpy.{name} with mean=")));
            }
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let axes = axes_of(it, &opt(&a, 1), t.dim())?.unwrap_or_else(|| (0..t.dim()).collect());
            let ddof = ddof_of(&a, 4, 8)?;
            let keepdims = bool_arg(&opt(&a, 5))?;
            let v = var(&t, &axes, dtype_arg(&opt(&a, 2))?, ddof, keepdims)?;
            result(if name == "std" { super::math::sqrt(&v)? } else { v }, keepdims)
        }
        "max" | "min" | "amax" | "amin" | "ptp" => {
            let spec: &[&str] = if name == "ptp" { &["a", "axis", "out", "keepdims"] } else { &["a", "axis", "out", "keepdims", "initial", "where"] };
            let a = bind(name, spec, args, kw)?;
            no_out(name, &a, 2)?;
            if name != "ptp" {
                no_where(name, &a, 5)?;
                if !opt(&a, 4).is_none() {
                    return Err(unsupported(&format!("numpy.{name} with initial=")));
                }
            }
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let axes = axes_of(it, &opt(&a, 1), t.dim())?.unwrap_or_else(|| (0..t.dim()).collect());
            let keepdims = bool_arg(&opt(&a, 3))?;
            // rank: `axes_of` normalized every axis against t.dim().
            if axes.iter().any(|&d| t.size()[d] == 0) || (t.numel() == 0 && axes.is_empty()) {
                let what = if name.ends_with("in") { "minimum" } else { "maximum" };
                return Err(PyErr::value_error(format!("zero-size array to reduction operation {what} which has no identity")));
            }
            let dims: Vec<i64> = axes.iter().map(|&d| d as i64).collect();
            let (x, k) = if t.kind() == Kind::Bool { (t.f_to_kind(Kind::Uint8)?, Kind::Bool) } else { (t.shallow_clone(), t.kind()) };
            let hi = || -> PyResult<Tensor> { Ok(if dims.is_empty() { x.shallow_clone() } else { x.f_amax(dims.as_slice(), false)? }) };
            let lo = || -> PyResult<Tensor> { Ok(if dims.is_empty() { x.shallow_clone() } else { x.f_amin(dims.as_slice(), false)? }) };
            let r = match name {
                "max" | "amax" => hi()?,
                "min" | "amin" => lo()?,
                _ => {
                    if k == Kind::Bool {
                        return Err(PyErr::type_error("numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` operator, or the logical_xor function instead."));
                    }
                    hi()?.f_sub(&lo()?)?
                }
            };
            let r = if k == Kind::Bool { r.f_ne(0i64)? } else { r };
            result(keep(r, &axes, keepdims)?, keepdims)
        }
        "argmax" | "argmin" => {
            let a = bind(name, &["a", "axis", "out", "*", "keepdims"], args, kw)?;
            no_out(name, &a, 2)?;
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let keepdims = bool_arg(&opt(&a, 3))?;
            let x = if t.kind() == Kind::Bool { t.f_to_kind(Kind::Uint8)? } else { t.shallow_clone() };
            match opt(&a, 1) {
                Value::None => {
                    if t.numel() == 0 {
                        return Err(PyErr::value_error(format!("attempt to get {name} of an empty sequence")));
                    }
                    let flat = x.f_reshape([-1])?;
                    let r = if name == "argmax" { flat.f_argmax(0, false)? } else { flat.f_argmin(0, false)? };
                    if keepdims {
                        return array(r.f_reshape(vec![1i64; t.dim()].as_slice())?);
                    }
                    scalar(&r)
                }
                ax => {
                    let d = norm_axis(int_arg(&ax, "axis")?, t.dim())?;
                    // rank: `norm_axis` checked d against t.dim().
                    if t.size()[d] == 0 {
                        return Err(PyErr::value_error(format!("attempt to get {name} of an empty sequence")));
                    }
                    let r = if name == "argmax" { x.f_argmax(d as i64, keepdims)? } else { x.f_argmin(d as i64, keepdims)? };
                    result(r, keepdims)
                }
            }
        }
        "cumsum" | "cumprod" => {
            let a = bind(name, &["a", "axis", "dtype", "out"], args, kw)?;
            no_out(name, &a, 3)?;
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let (t, d) = match opt(&a, 1) {
                Value::None => (t.f_reshape([-1])?, 0),
                ax => {
                    let d = norm_axis(int_arg(&ax, "axis")?, t.dim())?;
                    (t, d)
                }
            };
            let out = dtype_arg(&opt(&a, 2))?.unwrap_or_else(|| sum_kind(t.kind()));
            array(cumulative(&t, d, out, if name == "cumsum" { Fold::Sum } else { Fold::Prod })?)
        }
        "any" | "all" => {
            let a = bind(name, &["a", "axis", "out", "keepdims", "*", "where"], args, kw)?;
            no_out(name, &a, 2)?;
            no_where(name, &a, 5)?;
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?.f_ne(0i64)?;
            let axes = axes_of(it, &opt(&a, 1), t.dim())?.unwrap_or_else(|| (0..t.dim()).collect());
            let keepdims = bool_arg(&opt(&a, 3))?;
            let mut r = t.shallow_clone();
            let mut sorted = axes.clone();
            sorted.sort_unstable();
            for &d in sorted.iter().rev() {
                r = if name == "any" { r.f_any_dim(d as i64, false)? } else { r.f_all_dim(d as i64, false)? };
            }
            result(keep(r, &axes, keepdims)?, keepdims)
        }
        "median" => {
            let a = bind(name, &["a", "axis", "out", "overwrite_input", "keepdims"], args, kw)?;
            no_out(name, &a, 2)?;
            let t = from_value(it, &required(name, &a, 0, "a")?, None)?;
            let keepdims = bool_arg(&opt(&a, 4))?;
            let (x, d, axes) = match opt(&a, 1) {
                Value::None => (t.f_reshape([-1])?, 0usize, (0..t.dim()).collect::<Vec<_>>()),
                ax => {
                    let d = norm_axis(int_arg(&ax, "axis")?, t.dim())?;
                    (t.shallow_clone(), d, vec![d])
                }
            };
            // rank: d is 0 of the flattened x, or normalized against t.dim() (x is t).
            let n = x.size()[d];
            if n == 0 {
                return Ok(Value::Float(f64::NAN));
            }
            let k = if is_float(t.kind()) { t.kind() } else { Kind::Double };
            let (sorted, _) = x.f_to_kind(k)?.f_sort_stable(true, d as i64, false)?;
            let mid = sorted.f_select(d as i64, (n - 1) / 2)?;
            let r = if n % 2 == 1 {
                mid
            } else {
                let hi = sorted.f_select(d as i64, n / 2)?;
                mid.f_add(&hi)?.f_div_scalar(2.0)?.f_to_kind(k)?
            };
            // NaNs sort last; numpy's median of data with a NaN is NaN.
            let has_nan = x.f_to_kind(k)?.f_isnan()?.f_any_dim(d as i64, false)?;
            let r = r.f_masked_fill(&has_nan, f64::NAN)?;
            result(keep(r, &axes, keepdims)?, keepdims)
        }
        other => Err(unsupported(&format!("numpy.{other}"))),
    }
}

/// `cumsum` / `cumprod` along `d`: sequential, in the result dtype.
fn cumulative(t: &Tensor, d: usize, out: Kind, fold: Fold) -> PyResult<Tensor> {
    if !is_float(out) {
        let x = t.f_to_kind(Kind::Int64)?;
        let r = match fold {
            Fold::Sum => x.f_cumsum(d as i64, Kind::Int64)?,
            Fold::Prod => x.f_cumprod(d as i64, Kind::Int64)?,
        };
        return Ok(if out == Kind::Int64 { r } else { r.f_to_kind(out)? });
    }
    // Move the axis last, scan each row, move it back.
    let nd = t.dim() as i64;
    let moved = t.f_movedim(d as i64, nd - 1)?.f_contiguous()?;
    let shape = moved.size();
    let len = *shape.last().unwrap_or(&1) as usize;
    let r = match out {
        Kind::Double => scan::<f64>(&moved.f_to_kind(Kind::Double)?, len, fold)?,
        _ => scan::<f32>(&moved.f_to_kind(Kind::Float)?, len, fold)?.f_to_kind(out)?,
    };
    Ok(r.f_reshape(shape.as_slice())?.f_movedim(nd - 1, d as i64)?.f_contiguous()?)
}

fn scan<T: Acc>(t: &Tensor, len: usize, fold: Fold) -> PyResult<Tensor> {
    let mut data: Vec<T> = Vec::<T>::try_from(&t.f_reshape([-1])?)?;
    if len > 0 {
        for (row_i, row) in data.chunks_mut(len).enumerate() {
            if row_i % 4096 == 0 {
                ctx::check()?;
            }
            for i in 1..row.len() {
                row[i] = match fold {
                    Fold::Sum => row[i - 1] + row[i],
                    Fold::Prod => row[i - 1] * row[i],
                };
            }
        }
    }
    let _ = Device::Cpu;
    Ok(Tensor::f_from_slice(&data)?)
}
