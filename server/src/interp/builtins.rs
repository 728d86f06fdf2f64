//! Python's builtin functions and the constructors of builtin types. No file, network,
//! import or reflection builtins exist here (`open`, `exec`, `eval`, `__import__`,
//! `globals` are refused by name), so user code can reach nothing but values.

use std::cmp::Ordering;
use std::rc::Rc;

use super::Interp;
use super::call::Kwargs;
use super::iter::{IterState, PyIter};
use crate::value::object::{Instance, Native, new_exception};
use crate::value::types::{self, ClassRef, TypeObj};
use crate::value::{Dict, List, PyErr, PyResult, Set, Value, ctx, float, int, repr};

/// A builtin name's value.
pub fn lookup(name: &str) -> Option<Value> {
    let f: crate::value::NativeFn = match name {
        "len" => b_len,
        "print" => b_print,
        "range" => return Some(Value::Type(&types::RANGE)),
        "enumerate" => b_enumerate,
        "zip" => b_zip,
        "map" => b_map,
        "filter" => b_filter,
        "reversed" => b_reversed,
        "sorted" => b_sorted,
        "min" => b_min,
        "max" => b_max,
        "sum" => b_sum,
        "abs" => b_abs,
        "round" => b_round,
        "divmod" => b_divmod,
        "pow" => b_pow,
        "isinstance" => b_isinstance,
        "issubclass" => b_issubclass,
        "hasattr" => b_hasattr,
        "getattr" => b_getattr,
        "setattr" => b_setattr,
        "delattr" => b_delattr,
        "callable" => b_callable,
        "iter" => b_iter,
        "next" => b_next,
        "any" => b_any,
        "all" => b_all,
        "chr" => b_chr,
        "ord" => b_ord,
        "repr" => b_repr,
        "ascii" => b_ascii,
        "hash" => b_hash,
        "id" => b_id,
        "format" => b_format,
        "bin" => b_bin,
        "hex" => b_hex,
        "oct" => b_oct,
        "super" => b_super,
        "vars" => b_vars,
        "dir" => b_dir,
        "open" | "exec" | "eval" | "compile" | "__import__" | "globals" | "locals" | "input"
        | "breakpoint" | "exit" | "quit" | "help" | "memoryview" | "bytearray" | "aiter"
        | "anext" => {
            return Some(Native::value(name, |_, n, _, _| {
                Err(PyErr::unsupported(format!("the builtin `{}()` inside a remote trace", n.name)))
            }));
        }
        "NotImplemented" => return Some(Value::NotImplemented),
        "Ellipsis" => return Some(Value::Ellipsis),
        "__name__" => return Some(Value::str("__main__")),
        "__debug__" => return Some(Value::Bool(true)),
        _ => return types::builtin_by_name(name).map(Value::Type),
    };
    Some(Native::value(name, f))
}

fn arity(name: &str, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    if args.len() < min || args.len() > max {
        return Err(PyErr::type_error(if min == max {
            format!(
                "{name}() takes exactly {min} argument{} ({} given)",
                if min == 1 { "" } else { "s" },
                args.len()
            )
        } else if args.len() < min {
            format!("{name} expected at least {min} argument{}, got {}", if min == 1 { "" } else { "s" }, args.len())
        } else {
            format!("{name} expected at most {max} argument{}, got {}", if max == 1 { "" } else { "s" }, args.len())
        }));
    }
    Ok(())
}

fn no_kwargs(name: &str, kw: &Kwargs) -> PyResult<()> {
    if let Some((k, _)) = kw.first() {
        return Err(PyErr::type_error(format!("{name}() takes no keyword arguments")).with_kw(k));
    }
    Ok(())
}

impl PyErr {
    fn with_kw(self, _k: &str) -> PyErr {
        self
    }
}

fn take_kw(kw: &mut Kwargs, name: &str) -> Option<Value> {
    let i = kw.iter().position(|(k, _)| k.as_ref() == name)?;
    Some(kw.remove(i).1)
}

fn reject_rest(fname: &str, kw: &Kwargs) -> PyResult<()> {
    if let Some((k, _)) = kw.first() {
        return Err(PyErr::type_error(format!(
            "{fname}() got an unexpected keyword argument '{k}'"
        )));
    }
    Ok(())
}

fn b_len(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("len", &kw)?;
    arity("len", &args, 1, 1)?;
    Ok(Value::Int(it.len(&args[0])? as i64))
}

fn b_print(it: &mut Interp, _: &Native, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    let sep = match take_kw(&mut kw, "sep") {
        None | Some(Value::None) => " ".to_string(),
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(o) => return Err(PyErr::type_error(format!("sep must be None or a string, not {}", o.type_name()))),
    };
    let end = match take_kw(&mut kw, "end") {
        None | Some(Value::None) => "\n".to_string(),
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(o) => return Err(PyErr::type_error(format!("end must be None or a string, not {}", o.type_name()))),
    };
    take_kw(&mut kw, "flush");
    if let Some(f) = take_kw(&mut kw, "file")
        && !f.is_none()
    {
        return Err(PyErr::unsupported("print(file=...)"));
    }
    reject_rest("print", &kw)?;
    let mut parts = Vec::with_capacity(args.len());
    for a in &args {
        parts.push(it.str(a)?);
    }
    let text = parts.join(&sep) + &end;
    ctx::check_str_len(text.len())?;
    it.host.print(&text)?;
    Ok(Value::None)
}

fn b_enumerate(it: &mut Interp, _: &Native, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    let start = take_kw(&mut kw, "start");
    reject_rest("enumerate", &kw)?;
    arity("enumerate", &args, 1, 2)?;
    let inner = it.iter(&args[0])?;
    let n = start.or_else(|| args.get(1).cloned()).unwrap_or(Value::Int(0));
    if !int::is_int(&n) {
        return Err(PyErr::type_error(format!("'{}' object cannot be interpreted as an integer", n.type_name())));
    }
    Ok(PyIter::new(IterState::Enumerate { inner, n }))
}

fn b_zip(it: &mut Interp, _: &Native, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    let strict = match take_kw(&mut kw, "strict") {
        Some(v) => it.truthy(&v)?,
        None => false,
    };
    reject_rest("zip", &kw)?;
    let mut iters = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        iters.push(it.iter(a).map_err(|_| {
            PyErr::type_error(format!("zip argument #{} must support iteration", i + 1))
        })?);
    }
    Ok(PyIter::new(IterState::Zip { iters, strict }))
}

fn b_map(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("map", &kw)?;
    if args.len() < 2 {
        return Err(PyErr::type_error("map() must have at least two arguments."));
    }
    let f = args[0].clone();
    let iters = args[1..].iter().map(|a| it.iter(a)).collect::<PyResult<Vec<_>>>()?;
    Ok(PyIter::new(IterState::Map { f, iters }))
}

fn b_filter(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("filter", &kw)?;
    arity("filter", &args, 2, 2)?;
    let inner = it.iter(&args[1])?;
    Ok(PyIter::new(IterState::Filter { f: args[0].clone(), inner }))
}

fn b_reversed(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("reversed", &kw)?;
    arity("reversed", &args, 1, 1)?;
    let v = &args[0];
    match v {
        Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Range(_) | Value::Size(_) | Value::Bytes(_) => {
            let mut items = it.collect(v)?;
            items.reverse();
            Ok(PyIter::items(items, "list_reverseiterator"))
        }
        Value::Dict(d) => {
            let mut k = d.keys();
            k.reverse();
            Ok(PyIter::items(k, "dict_reversekeyiterator"))
        }
        Value::Instance(_) => {
            if let Some(m) = it.getattr_opt(v, "__reversed__")? {
                return it.call(&m, vec![], vec![]);
            }
            let mut items = it.collect(v)?;
            items.reverse();
            Ok(PyIter::items(items, "reversed"))
        }
        Value::Tensor(_) | Value::Host(_) => {
            let mut items = it.collect(v)?;
            items.reverse();
            Ok(PyIter::items(items, "reversed"))
        }
        other => Err(PyErr::type_error(format!("'{}' object is not reversible", other.type_name()))),
    }
}

/// Sorts with Python's `<` (stable), keys computed first; the first comparison error wins.
pub fn sort_values(it: &mut Interp, items: Vec<Value>, key: Option<&Value>, reverse: bool) -> PyResult<Vec<Value>> {
    let keys = match key {
        Some(k) if !k.is_none() => items.iter().map(|v| it.call(k, vec![v.clone()], vec![])).collect::<PyResult<Vec<_>>>()?,
        _ => items.clone(),
    };
    let mut idx: Vec<usize> = (0..items.len()).collect();
    let mut err = None;
    if idx.len() < 64 {
        // CPython's list.sort on a short list is one run plus binary insertion; doing
        // the same comparisons in the same order gives the same errors (and the same
        // calls of user `__lt__`). `reverse` reverses before and after, as CPython does.
        if reverse {
            idx.reverse();
        }
        small_sort(it, &mut idx, &keys)?;
        if reverse {
            idx.reverse();
        }
    } else {
        // Merge sort by hand so every comparison can fail (and call user code).
        let mut buf = idx.clone();
        merge_sort(it, &mut idx, &mut buf, &keys, reverse, &mut err);
    }
    if let Some(e) = err {
        return Err(e);
    }
    Ok(idx.into_iter().map(|i| items[i].clone()).collect())
}

/// timsort below its minimum run length: `count_run`, then `binarysort`.
fn small_sort(it: &mut Interp, a: &mut [usize], keys: &[Value]) -> PyResult<()> {
    let n = a.len();
    if n < 2 {
        return Ok(());
    }
    let lt = |it: &mut Interp, x: usize, y: usize| it.less(&keys[x], &keys[y]);
    let mut run = 2;
    if lt(it, a[1], a[0])? {
        while run < n && lt(it, a[run], a[run - 1])? {
            run += 1;
        }
        a[..run].reverse();
    } else {
        while run < n && !lt(it, a[run], a[run - 1])? {
            run += 1;
        }
    }
    for start in run..n {
        let pivot = a[start];
        let (mut l, mut r) = (0, start);
        while l < r {
            let p = l + ((r - l) >> 1);
            if lt(it, pivot, a[p])? {
                r = p;
            } else {
                l = p + 1;
            }
        }
        a.copy_within(l..start, l + 1);
        a[l] = pivot;
    }
    Ok(())
}

fn merge_sort(it: &mut Interp, a: &mut [usize], buf: &mut [usize], keys: &[Value], reverse: bool, err: &mut Option<PyErr>) {
    let n = a.len();
    if n <= 1 || err.is_some() {
        return;
    }
    let mid = n / 2;
    merge_sort(it, &mut a[..mid], &mut buf[..mid], keys, reverse, err);
    merge_sort(it, &mut a[mid..], &mut buf[mid..], keys, reverse, err);
    if err.is_some() {
        return;
    }
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        // Stable: take from the right only if it is strictly smaller.
        let right_first = {
            let (x, y) = (&keys[a[j]], &keys[a[i]]);
            let r = if reverse { it.less(y, x) } else { it.less(x, y) };
            match r {
                Ok(b) => b,
                Err(e) => {
                    *err = Some(e);
                    return;
                }
            }
        };
        if right_first {
            buf[k] = a[j];
            j += 1;
        } else {
            buf[k] = a[i];
            i += 1;
        }
        k += 1;
    }
    while i < mid {
        buf[k] = a[i];
        i += 1;
        k += 1;
    }
    while j < n {
        buf[k] = a[j];
        j += 1;
        k += 1;
    }
    a.copy_from_slice(&buf[..n]);
}

fn b_sorted(it: &mut Interp, _: &Native, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    let key = take_kw(&mut kw, "key");
    let reverse = match take_kw(&mut kw, "reverse") {
        Some(v) => it.truthy(&v)?,
        None => false,
    };
    reject_rest("sorted", &kw)?;
    arity("sorted", &args, 1, 1)?;
    let items = it.collect(&args[0])?;
    let out = sort_values(it, items, key.as_ref(), reverse)?;
    Ok(Value::List(List::new(out)))
}

fn min_max(it: &mut Interp, args: Vec<Value>, mut kw: Kwargs, name: &str, want_max: bool) -> PyResult<Value> {
    let key = take_kw(&mut kw, "key");
    let default = take_kw(&mut kw, "default");
    reject_rest(name, &kw)?;
    let items = match args.len() {
        0 => return Err(PyErr::type_error(format!("{name} expected at least 1 argument, got 0"))),
        1 => it.collect(&args[0])?,
        _ => {
            if default.is_some() {
                return Err(PyErr::type_error(format!(
                    "Cannot specify a default for {name}() with multiple positional arguments"
                )));
            }
            args
        }
    };
    let Some(first) = items.first().cloned() else {
        return default.ok_or_else(|| PyErr::value_error(format!("{name}() arg is an empty sequence")));
    };
    let keyed = |it: &mut Interp, v: &Value| -> PyResult<Value> {
        match &key {
            Some(k) if !k.is_none() => it.call(k, vec![v.clone()], vec![]),
            _ => Ok(v.clone()),
        }
    };
    let mut best = first;
    let mut best_key = keyed(it, &best)?;
    for v in items.into_iter().skip(1) {
        let k = keyed(it, &v)?;
        // CPython asks `item > best` for max and `item < best` for min.
        let better = if want_max { it.less(&best_key, &k).map_err(|e| flip_order_error(e, ">"))? } else { it.less(&k, &best_key)? };
        if better {
            best = v;
            best_key = k;
        }
    }
    Ok(best)
}

/// `a < b` failed: the error as CPython words `b > a`.
fn flip_order_error(e: PyErr, op: &str) -> PyErr {
    let msg = e.message();
    if let Some(rest) = msg.strip_prefix("'<' not supported between instances of ")
        && let Some((a, b)) = rest.split_once(" and ")
    {
        return PyErr::type_error(format!("'{op}' not supported between instances of {b} and {a}"));
    }
    e
}

fn b_min(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    min_max(it, args, kw, "min", false)
}

fn b_max(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    min_max(it, args, kw, "max", true)
}

fn b_sum(it: &mut Interp, _: &Native, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    let start = take_kw(&mut kw, "start");
    reject_rest("sum", &kw)?;
    arity("sum", &args, 1, 2)?;
    let mut acc = start.or_else(|| args.get(1).cloned()).unwrap_or(Value::Int(0));
    if matches!(acc, Value::Str(_)) {
        return Err(PyErr::type_error("sum() can't sum strings [use ''.join(seq) instead]"));
    }
    let iter = it.iter(&args[0])?;
    while let Some(v) = it.next(&iter)? {
        acc = it.binary_op("+", &acc, &v)?;
    }
    Ok(acc)
}

fn b_abs(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("abs", &kw)?;
    arity("abs", &args, 1, 1)?;
    match &args[0] {
        Value::Float(f) => Ok(Value::Float(f.abs())),
        v if int::is_int(v) => int::abs(v),
        v if super::numpy::is_np(v) => super::numpy::call(it, "abs", vec![v.clone()], vec![]),
        v @ Value::Tensor(_) => it.call_method(v, "abs", vec![]),
        v => match it.getattr_opt(v, "__abs__")? {
            Some(m) => it.call(&m, vec![], vec![]),
            None => Err(PyErr::type_error(format!("bad operand type for abs(): '{}'", v.type_name()))),
        },
    }
}

/// Python's `round(x, n)` (round half to even, on the exact binary value).
fn b_round(it: &mut Interp, _: &Native, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    let nd = take_kw(&mut kw, "ndigits");
    reject_rest("round", &kw)?;
    arity("round", &args, 1, 2)?;
    let ndigits = nd.or_else(|| args.get(1).cloned()).filter(|v| !v.is_none());
    // A numpy scalar rounds like the Python number it is without `ndigits` (giving an
    // int), and with numpy's `round` with them (giving a numpy scalar).
    if ndigits.is_none()
        && let Some(x) = super::numpy::scalar_value(&args[0])
    {
        let x = x?;
        return b_round(it, &Native { name: "round".into(), recv: None, f: b_round, aux: crate::value::object::Aux::None }, vec![x], vec![]);
    }
    match &args[0] {
        Value::Float(f) => match ndigits {
            None => {
                if !f.is_finite() {
                    return Err(if f.is_nan() {
                        PyErr::value_error("cannot convert float NaN to integer")
                    } else {
                        PyErr::overflow("cannot convert float infinity to integer")
                    });
                }
                let r = f.round_ties_even();
                use num_traits::FromPrimitive;
                Ok(Value::from_bigint(num_bigint::BigInt::from_f64(r).unwrap_or_default()))
            }
            Some(n) => {
                let n = n.as_int().ok_or_else(|| PyErr::type_error("'float' object cannot be interpreted as an integer"))?;
                Ok(Value::Float(round_float(*f, n)))
            }
        },
        v if int::is_int(v) => match ndigits {
            None => Ok(match v {
                Value::Bool(b) => Value::Int(i64::from(*b)),
                o => o.clone(),
            }),
            Some(n) => {
                let n = n.as_int().unwrap_or(0);
                if n >= 0 {
                    return Ok(match v {
                        Value::Bool(b) => Value::Int(i64::from(*b)),
                        o => o.clone(),
                    });
                }
                let p = int::pow(&Value::Int(10), &Value::Int(-n))?;
                let q = int::floordiv(v, &p)?;
                let r = int::sub(v, &int::mul(&q, &p)?)?;
                let twice = int::mul(&r, &Value::Int(2))?;
                let up = match int::cmp(&twice, &p) {
                    Ordering::Greater => true,
                    Ordering::Equal => !int::is_zero(&int::modulo(&q, &Value::Int(2))?),
                    Ordering::Less => false,
                };
                let q = if up { int::add(&q, &Value::Int(1))? } else { q };
                int::mul(&q, &p)
            }
        },
        v @ Value::Tensor(_) => {
            let mut kw = Vec::new();
            if let Some(n) = ndigits {
                kw.push((Rc::from("decimals"), n));
            }
            let m = it.getattr(v, "round")?;
            it.call(&m, vec![], kw)
        }
        v => match it.getattr_opt(v, "__round__")? {
            Some(m) => it.call(&m, ndigits.into_iter().collect(), vec![]),
            None => Err(PyErr::type_error(format!(
                "type {} doesn't define __round__ method",
                v.type_name()
            ))),
        },
    }
}

/// `round(f, n)`: correctly rounded through the shortest decimal text, as CPython does.
fn round_float(f: f64, n: i64) -> f64 {
    if !f.is_finite() || n > 320 {
        return f;
    }
    if n < -310 {
        return 0.0f64.copysign(f);
    }
    if n >= 0 {
        let s = format!("{:.*}", n as usize, f);
        return s.parse().unwrap_or(f);
    }
    let p = 10f64.powi((-n) as i32);
    let y = f / p;
    let r = y.round_ties_even();
    let r = if (y - y.trunc()).abs() == 0.5 { r } else { y.round() };
    r * p
}

fn b_divmod(_: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("divmod", &kw)?;
    arity("divmod", &args, 2, 2)?;
    let (a, b) = (&args[0], &args[1]);
    if int::is_int(a) && int::is_int(b) {
        return Ok(Value::tuple(vec![int::floordiv(a, b)?, int::modulo(a, b)?]));
    }
    let x = int::to_f64(a).map_err(|_| repr::unsupported_operand("divmod()", a, b))?;
    let y = int::to_f64(b).map_err(|_| repr::unsupported_operand("divmod()", a, b))?;
    if y == 0.0 {
        return Err(PyErr::zero_division("float divmod()"));
    }
    Ok(Value::tuple(vec![
        Value::Float(super::ops::float_floordiv(x, y)),
        Value::Float(super::ops::float_mod(x, y)),
    ]))
}

fn b_pow(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("pow", &kw)?;
    arity("pow", &args, 2, 3)?;
    if args.len() == 3 && !args[2].is_none() {
        if !(int::is_int(&args[0]) && int::is_int(&args[1]) && int::is_int(&args[2])) {
            return Err(PyErr::type_error("pow() 3rd argument not allowed unless all arguments are integers"));
        }
        return int::pow_mod(&args[0], &args[1], &args[2]);
    }
    it.binary_op("**", &args[0], &args[1])
}

/// `isinstance(v, cls)` for one class value.
pub fn is_instance(v: &Value, cls: &Value) -> PyResult<bool> {
    Ok(match cls {
        Value::Type(t) => {
            if std::ptr::eq(*t, &types::OBJECT) {
                return Ok(true);
            }
            if std::ptr::eq(*t, &types::ITERATOR) {
                return Ok(matches!(v, Value::Iter(_)));
            }
            match v {
                Value::Record(r) if r.kind == crate::value::RecordKind::NamedTuple => std::ptr::eq(*t, &types::TUPLE),
                Value::Record(_) => std::ptr::eq(*t, &types::DICT),
                _ => v.class().derives_from_builtin(t),
            }
        }
        Value::Class(c) => v.class().is_subclass(&ClassRef::User(c.clone())),
        Value::Tuple(items) => {
            for c in items.iter() {
                if is_instance(v, c)? {
                    return Ok(true);
                }
            }
            false
        }
        Value::Host(h) if h.type_name() == "Envoy" => matches!(v, Value::Host(x) if x.type_name() == "Envoy"),
        other => {
            return Err(PyErr::type_error(format!(
                "isinstance() arg 2 must be a type, a tuple of types, or a union, not {}",
                other.type_name()
            )));
        }
    })
}

fn b_isinstance(_: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("isinstance", &kw)?;
    arity("isinstance", &args, 2, 2)?;
    Ok(Value::Bool(is_instance(&args[0], &args[1])?))
}

fn class_of_value(v: &Value) -> Option<ClassRef> {
    match v {
        Value::Type(t) => Some(ClassRef::Builtin(t)),
        Value::Class(c) => Some(ClassRef::User(c.clone())),
        _ => None,
    }
}

fn b_issubclass(_: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("issubclass", &kw)?;
    arity("issubclass", &args, 2, 2)?;
    let sub = class_of_value(&args[0]).ok_or_else(|| PyErr::type_error("issubclass() arg 1 must be a class"))?;
    let check = |c: &Value| -> PyResult<bool> {
        let sup = class_of_value(c).ok_or_else(|| {
            PyErr::type_error("issubclass() arg 2 must be a class, a tuple of classes, or a union")
        })?;
        Ok(sub.is_subclass(&sup))
    };
    Ok(Value::Bool(match &args[1] {
        Value::Tuple(items) => {
            let mut any = false;
            for c in items.iter() {
                any |= check(c)?;
            }
            any
        }
        c => check(c)?,
    }))
}

fn attr_name(v: &Value, fname: &str) -> PyResult<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| PyErr::type_error(format!("{fname}(): attribute name must be string, not '{}'", v.type_name())))
}

fn b_hasattr(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("hasattr", &kw)?;
    arity("hasattr", &args, 2, 2)?;
    let name = attr_name(&args[1], "hasattr")?;
    Ok(Value::Bool(it.hasattr(&args[0], &name)?))
}

fn b_getattr(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("getattr", &kw)?;
    arity("getattr", &args, 2, 3)?;
    let name = attr_name(&args[1], "getattr")?;
    match it.getattr(&args[0], &name) {
        Ok(v) => Ok(v),
        Err(e) if args.len() == 3 && e.is_instance_of(&types::ATTRIBUTE_ERROR) => Ok(args[2].clone()),
        Err(e) => Err(e),
    }
}

fn b_setattr(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("setattr", &kw)?;
    arity("setattr", &args, 3, 3)?;
    let name = attr_name(&args[1], "setattr")?;
    it.setattr(&args[0], &name, args[2].clone())?;
    Ok(Value::None)
}

fn b_delattr(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("delattr", &kw)?;
    arity("delattr", &args, 2, 2)?;
    let name = attr_name(&args[1], "delattr")?;
    it.delattr(&args[0], &name)?;
    Ok(Value::None)
}

pub fn is_callable(it: &mut Interp, v: &Value) -> PyResult<bool> {
    Ok(match v {
        Value::Function(_) | Value::Native(_) | Value::Method(_) | Value::Type(_) | Value::Class(_) => true,
        Value::Instance(_) => it.getattr_opt(v, "__call__")?.is_some(),
        Value::Host(h) => matches!(h.type_name(), "Envoy" | "builtin_function_or_method" | "function"),
        _ => false,
    })
}

fn b_callable(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("callable", &kw)?;
    arity("callable", &args, 1, 1)?;
    Ok(Value::Bool(is_callable(it, &args[0])?))
}

fn b_iter(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("iter", &kw)?;
    arity("iter", &args, 1, 1)?;
    it.iter(&args[0])
}

fn b_next(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("next", &kw)?;
    arity("next", &args, 1, 2)?;
    if !matches!(args[0], Value::Iter(_) | Value::Instance(_) | Value::Host(_)) {
        return Err(PyErr::type_error(format!("'{}' object is not an iterator", args[0].type_name())));
    }
    match it.next(&args[0])? {
        Some(v) => Ok(v),
        None => args.get(1).cloned().ok_or_else(|| PyErr::new(&types::STOP_ITERATION, "")),
    }
}

fn b_any(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("any", &kw)?;
    arity("any", &args, 1, 1)?;
    let i = it.iter(&args[0])?;
    while let Some(v) = it.next(&i)? {
        if it.truthy(&v)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn b_all(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("all", &kw)?;
    arity("all", &args, 1, 1)?;
    let i = it.iter(&args[0])?;
    while let Some(v) = it.next(&i)? {
        if !it.truthy(&v)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn b_chr(_: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("chr", &kw)?;
    arity("chr", &args, 1, 1)?;
    if !int::is_int(&args[0]) {
        return Err(PyErr::type_error(format!("'{}' object cannot be interpreted as an integer", args[0].type_name())));
    }
    let n = args[0]
        .as_int()
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| PyErr::overflow("Python int too large to convert to C int"))?;
    let c = u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| PyErr::value_error("chr() arg not in range(0x110000)"))?;
    Ok(Value::string(c.to_string()))
}

fn b_ord(_: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("ord", &kw)?;
    arity("ord", &args, 1, 1)?;
    match &args[0] {
        Value::Str(s) if s.len() == 1 => Ok(Value::Int(s.char_at(0) as i64)),
        Value::Str(s) => Err(PyErr::type_error(format!(
            "ord() expected a character, but string of length {} found",
            s.len()
        ))),
        Value::Bytes(b) if b.len() == 1 => Ok(Value::Int(i64::from(b[0]))),
        other => Err(PyErr::type_error(format!(
            "ord() expected string of length 1, but {} found",
            other.type_name()
        ))),
    }
}

fn b_repr(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("repr", &kw)?;
    arity("repr", &args, 1, 1)?;
    Ok(Value::string(it.repr(&args[0])?))
}

fn b_ascii(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("ascii", &kw)?;
    arity("ascii", &args, 1, 1)?;
    Ok(Value::string(super::expr::ascii(&it.repr(&args[0])?)))
}

fn b_hash(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("hash", &kw)?;
    arity("hash", &args, 1, 1)?;
    if let Some(i) = args[0].as_int() {
        return Ok(Value::Int(if i == -1 { -2 } else { i }));
    }
    Ok(Value::Int(it.hash(&args[0])?))
}

fn b_id(_: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("id", &kw)?;
    arity("id", &args, 1, 1)?;
    Ok(Value::Int(args[0].id()))
}

fn b_format(it: &mut Interp, _: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    no_kwargs("format", &kw)?;
    arity("format", &args, 1, 2)?;
    let spec = match args.get(1) {
        None => String::new(),
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(o) => return Err(PyErr::type_error(format!("format() argument 2 must be str, not {}", o.type_name()))),
    };
    Ok(Value::string(it.format_value(&args[0], &spec)?))
}

fn radix(args: &[Value], name: &str, spec: &str) -> PyResult<Value> {
    arity(name, args, 1, 1)?;
    if !int::is_int(&args[0]) {
        return Err(PyErr::type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            args[0].type_name()
        )));
    }
    let b = int::big(&args[0]).unwrap_or_default();
    let (neg, mag) = if b.sign() == num_bigint::Sign::Minus { (true, -b) } else { (false, b) };
    let digits = match spec {
        "b" => format!("0b{}", mag.to_str_radix(2)),
        "o" => format!("0o{}", mag.to_str_radix(8)),
        _ => format!("0x{}", mag.to_str_radix(16)),
    };
    Ok(Value::string(if neg { format!("-{digits}") } else { digits }))
}

fn b_bin(_: &mut Interp, _: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    radix(&args, "bin", "b")
}
fn b_hex(_: &mut Interp, _: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    radix(&args, "hex", "x")
}
fn b_oct(_: &mut Interp, _: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    radix(&args, "oct", "o")
}

fn b_super(_: &mut Interp, _: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    match args.as_slice() {
        [Value::Class(c), obj] => Ok(super_object(c.clone(), obj.clone())),
        [] => Err(PyErr::runtime_error("super(): no arguments")),
        _ => Err(PyErr::unsupported("this form of super()")),
    }
}

fn super_object(c: Rc<crate::value::Class>, obj: Value) -> Value {
    let factory = super::call::super_value(c, obj);
    // `super(C, self)` is already the super object, not its factory.
    if let Value::Host(h) = &factory {
        let mut none = crate::interp::host::BufferHost::default();
        let mut it = Interp::new(&mut none);
        if let Ok(v) = h.call(&mut it, &factory, vec![], vec![]) {
            return v;
        }
    }
    factory
}

fn b_vars(it: &mut Interp, _: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    arity("vars", &args, 1, 1)?;
    it.getattr(&args[0], "__dict__")
}

fn b_dir(it: &mut Interp, _: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    arity("dir", &args, 1, 1)?;
    let mut names: Vec<String> = match &args[0] {
        Value::Instance(i) => {
            let mut n: Vec<String> = i.dict.keys().iter().filter_map(|k| k.as_str().map(str::to_string)).collect();
            if let ClassRef::User(c) = &i.class {
                for k in c.mro() {
                    n.extend(k.dict.keys().iter().filter_map(|k| k.as_str().map(str::to_string)));
                }
            }
            n
        }
        Value::Class(c) => c.dict.keys().iter().filter_map(|k| k.as_str().map(str::to_string)).collect(),
        Value::Module(m) => m.attrs.keys().iter().filter_map(|k| k.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    let _ = it;
    names.sort();
    names.dedup();
    Ok(Value::list(names.iter().map(|n| Value::str(n)).collect()))
}

/// Calling a builtin type: `int(x)`, `list(it)`, `ValueError("x")`, ...
pub fn construct(it: &mut Interp, t: &'static TypeObj, args: Vec<Value>, mut kw: Kwargs) -> PyResult<Value> {
    if t.module == "numpy" {
        return super::numpy::construct(it, t, args, kw);
    }
    if t.is_subtype(&types::BASE_EXCEPTION) {
        no_kwargs(t.name, &kw)?;
        return Ok(new_exception(ClassRef::Builtin(t), args));
    }
    match t.name {
        "int" if t.module == "builtins" => {
            let base = take_kw(&mut kw, "base").or_else(|| args.get(1).cloned());
            reject_rest("int", &kw)?;
            let Some(x) = args.first() else {
                return Ok(Value::Int(0));
            };
            if let Some(b) = base {
                let b = b.as_int().ok_or_else(|| PyErr::type_error("'base' must be an int"))?;
                if b != 0 && !(2..=36).contains(&b) {
                    return Err(PyErr::value_error("int() base must be >= 2 and <= 36, or 0"));
                }
                return match x {
                    Value::Str(s) => int::parse(s.as_str(), b as u32),
                    _ => Err(PyErr::type_error("int() can't convert non-string with explicit base")),
                };
            }
            to_int(it, x)
        }
        "float" => {
            no_kwargs("float", &kw)?;
            arity("float", &args, 0, 1)?;
            match args.first() {
                None => Ok(Value::Float(0.0)),
                Some(Value::Float(f)) => Ok(Value::Float(*f)),
                Some(v) if int::is_int(v) => Ok(Value::Float(int::to_f64(v)?)),
                Some(Value::Str(s)) => float::parse(s.as_str()).map(Value::Float).ok_or_else(|| {
                    PyErr::value_error(format!(
                        "could not convert string to float: {}",
                        repr::str_literal(s.as_str())
                    ))
                }),
                Some(Value::Tensor(tt)) if tt.is_numpy() && tt.t.dim() != 0 => {
                    Err(PyErr::type_error("only 0-dimensional arrays can be converted to Python scalars"))
                }
                Some(Value::Tensor(tt)) => {
                    if tt.t.numel() != 1 {
                        return Err(PyErr::runtime_error(format!(
                            "a Tensor with {} elements cannot be converted to Scalar",
                            tt.t.numel()
                        )));
                    }
                    Ok(Value::Float(tt.t.f_double_value(&[])?))
                }
                Some(v) => match it.getattr_opt(v, "__float__")? {
                    Some(m) => it.call(&m, vec![], vec![]),
                    None => Err(PyErr::type_error(format!(
                        "float() argument must be a string or a real number, not '{}'",
                        v.type_name()
                    ))),
                },
            }
        }
        "str" => {
            reject_rest("str", &kw)?;
            arity("str", &args, 0, 3)?;
            match args.first() {
                None => Ok(Value::str("")),
                Some(Value::Bytes(b)) if args.len() > 1 => Ok(Value::string(String::from_utf8_lossy(b).into_owned())),
                Some(v) => Ok(Value::string(it.str(v)?)),
            }
        }
        "bytes" => {
            no_kwargs("bytes", &kw)?;
            match args.first() {
                None => Ok(Value::Bytes(Rc::new(Vec::new()))),
                Some(Value::Str(s)) => Ok(Value::Bytes(Rc::new(s.as_str().as_bytes().to_vec()))),
                Some(Value::Int(n)) => {
                    let n = usize::try_from(*n).map_err(|_| PyErr::value_error("negative count"))?;
                    ctx::check_str_len(n)?;
                    Ok(Value::Bytes(Rc::new(vec![0; n])))
                }
                Some(v) => {
                    let items = it.collect(v)?;
                    let bytes = items
                        .iter()
                        .map(|x| x.as_int().and_then(|i| u8::try_from(i).ok()).ok_or_else(|| PyErr::value_error("bytes must be in range(0, 256)")))
                        .collect::<PyResult<Vec<u8>>>()?;
                    Ok(Value::Bytes(Rc::new(bytes)))
                }
            }
        }
        "bool" => {
            no_kwargs("bool", &kw)?;
            arity("bool", &args, 0, 1)?;
            match args.first() {
                None => Ok(Value::Bool(false)),
                Some(v) => Ok(Value::Bool(it.truthy(v)?)),
            }
        }
        "list" => {
            no_kwargs("list", &kw)?;
            arity("list", &args, 0, 1)?;
            let items = match args.first() {
                None => Vec::new(),
                Some(v) => it.collect(v)?,
            };
            Ok(Value::List(List::checked(items)?))
        }
        "tuple" => {
            no_kwargs("tuple", &kw)?;
            arity("tuple", &args, 0, 1)?;
            match args.first() {
                None => Ok(Value::tuple(Vec::new())),
                Some(v @ Value::Tuple(_)) => Ok(v.clone()),
                Some(v) => Ok(Value::tuple(it.collect(v)?)),
            }
        }
        "dict" => {
            arity("dict", &args, 0, 1)?;
            let d = Dict::new();
            if let Some(src) = args.first() {
                match src {
                    Value::Dict(_) | Value::Record(_) => {
                        for (k, v) in it.mapping_items(src)? {
                            d.insert(k, v)?;
                        }
                    }
                    Value::Instance(_) if it.getattr_opt(src, "keys")?.is_some() => {
                        for (k, v) in it.mapping_items(src)? {
                            d.insert(k, v)?;
                        }
                    }
                    other => {
                        for (i, pair) in it.collect(other)?.into_iter().enumerate() {
                            let kv = it.collect(&pair).map_err(|_| {
                                PyErr::type_error(format!(
                                    "cannot convert dictionary update sequence element #{i} to a sequence"
                                ))
                            })?;
                            if kv.len() != 2 {
                                return Err(PyErr::value_error(format!(
                                    "dictionary update sequence element #{i} has length {}; 2 is required",
                                    kv.len()
                                )));
                            }
                            d.insert(kv[0].clone(), kv[1].clone())?;
                        }
                    }
                }
            }
            for (k, v) in kw {
                d.insert(Value::str(&k), v)?;
            }
            Ok(Value::Dict(d))
        }
        "set" | "frozenset" => {
            no_kwargs(t.name, &kw)?;
            arity(t.name, &args, 0, 1)?;
            let items = match args.first() {
                None => Vec::new(),
                Some(v) => it.collect(v)?,
            };
            Ok(Value::Set(Set::new(items, t.name == "frozenset")?))
        }
        "range" => {
            no_kwargs("range", &kw)?;
            let ints = args
                .iter()
                .map(|a| {
                    if let Value::Tensor(tt) = a
                        && tt.t.numel() == 1
                        && crate::value::dtype::is_integral(tt.t.kind(), false)
                    {
                        return Ok(tt.t.f_int64_value(&[])?);
                    }
                    a.as_int().ok_or_else(|| {
                        PyErr::type_error(format!(
                            "'{}' object cannot be interpreted as an integer",
                            a.type_name()
                        ))
                    })
                })
                .collect::<PyResult<Vec<i64>>>()?;
            let (start, stop, step) = match ints.as_slice() {
                [stop] => (0, *stop, 1),
                [start, stop] => (*start, *stop, 1),
                [start, stop, step] => (*start, *stop, *step),
                [] => return Err(PyErr::type_error("range expected at least 1 argument, got 0")),
                _ => return Err(PyErr::type_error(format!("range expected at most 3 arguments, got {}", ints.len()))),
            };
            if step == 0 {
                return Err(PyErr::value_error("range() arg 3 must not be zero"));
            }
            Ok(Value::Range(Rc::new([start, stop, step])))
        }
        "slice" => {
            no_kwargs("slice", &kw)?;
            match args.as_slice() {
                [stop] => Ok(Value::slice(Value::None, stop.clone(), Value::None)),
                [a, b] => Ok(Value::slice(a.clone(), b.clone(), Value::None)),
                [a, b, c] => Ok(Value::slice(a.clone(), b.clone(), c.clone())),
                _ => Err(PyErr::type_error(format!("slice expected at least 1 argument, got {}", args.len()))),
            }
        }
        "object" => {
            arity("object", &args, 0, 0)?;
            Ok(Value::Instance(Instance::new(ClassRef::Builtin(&types::OBJECT))))
        }
        "type" => match args.as_slice() {
            [v] => Ok(super::attr::class_value(&v.class())),
            _ => Err(PyErr::unsupported("type() with three arguments")),
        },
        "property" => {
            let fget = take_kw(&mut kw, "fget").or_else(|| args.first().cloned()).unwrap_or(Value::None);
            let fset = take_kw(&mut kw, "fset").or_else(|| args.get(1).cloned()).unwrap_or(Value::None);
            let p = Instance::new(ClassRef::Builtin(&types::PROPERTY));
            p.set_attr("fget", fget)?;
            p.set_attr("fset", fset)?;
            Ok(Value::Instance(p))
        }
        "staticmethod" | "classmethod" => {
            arity(t.name, &args, 1, 1)?;
            let d = Instance::new(ClassRef::Builtin(t));
            d.set_attr("__func__", args[0].clone())?;
            Ok(Value::Instance(d))
        }
        "Size" => {
            let items = match args.first() {
                None => Vec::new(),
                Some(v) => it.collect(v)?,
            };
            let dims = items
                .iter()
                .map(|x| x.as_int().ok_or_else(|| PyErr::type_error(format!("torch.Size() takes an iterable of 'int' (item 0 is '{}')", x.type_name()))))
                .collect::<PyResult<Vec<i64>>>()?;
            Ok(Value::Size(Rc::new(dims)))
        }
        "device" => match args.as_slice() {
            [Value::Str(s)] => crate::value::dtype::parse_device(s.as_str())
                .map(Value::Device)
                .ok_or_else(|| PyErr::runtime_error(format!("Invalid device string: '{}'", s.as_str()))),
            [Value::Str(s), Value::Int(i)] if s.as_str() == "cuda" => Ok(Value::Device(tch::Device::Cuda(*i as usize))),
            [Value::Int(i)] => Ok(Value::Device(tch::Device::Cuda(*i as usize))),
            [d @ Value::Device(_)] => Ok(d.clone()),
            _ => Err(PyErr::type_error("device() received an invalid combination of arguments")),
        },
        "Tensor" => super::torch::tensor_ctor(it, args, kw),
        _ => Err(PyErr::unsupported(format!("calling the type '{}'", t.qualified()))),
    }
}

/// `int(x)`.
pub fn to_int(it: &mut Interp, x: &Value) -> PyResult<Value> {
    match x {
        Value::Int(_) | Value::BigInt(_) => Ok(x.clone()),
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Float(f) => {
            if f.is_nan() {
                return Err(PyErr::value_error("cannot convert float NaN to integer"));
            }
            if f.is_infinite() {
                return Err(PyErr::overflow("cannot convert float infinity to integer"));
            }
            use num_traits::FromPrimitive;
            Ok(Value::from_bigint(num_bigint::BigInt::from_f64(f.trunc()).unwrap_or_default()))
        }
        Value::Str(s) => int::parse(s.as_str(), 10),
        Value::Tensor(t) if t.is_numpy() && t.t.dim() != 0 => {
            Err(PyErr::type_error("only 0-dimensional arrays can be converted to Python scalars"))
        }
        Value::Tensor(t) => {
            if t.t.numel() != 1 {
                return Err(PyErr::runtime_error(format!(
                    "a Tensor with {} elements cannot be converted to Scalar",
                    t.t.numel()
                )));
            }
            let v = super::torch::item(&t.t)?;
            to_int(it, &v)
        }
        v => {
            for name in ["__int__", "__index__", "__trunc__"] {
                if let Some(m) = it.getattr_opt(v, name)? {
                    return it.call(&m, vec![], vec![]);
                }
            }
            Err(PyErr::type_error(format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                v.type_name()
            )))
        }
    }
}
