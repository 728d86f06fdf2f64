//! Modules user code may import: `torch` (with `torch.nn.functional` and `torch.linalg`),
//! `math`, `nnsight`, `functools`, `itertools`, `operator`, `copy`, `typing`, `warnings`,
//! `dataclasses`, `numpy` (arrays and scalars on the CPU: creation, operators,
//! reductions, indexing, printing, `torch.from_numpy` / `t.numpy()`, saving —
//! [`super::numpy`]), and the modules written in Python in [`super::stdlib`]
//! (`collections`, `json`, `random`, `einops`, `re`). A name one of these modules has in
//! Python but localndif does not provide raises `NotImplementedError` naming it; anything
//! else is refused with NDIF's `ImportError: Module … is not whitelisted` — user code
//! cannot reach files, processes or the network.

use std::rc::Rc;

use super::Interp;
use super::call::Kwargs;
use super::iter::PyIter;
use crate::value::object::{Aux, Native, PyModule};
use crate::value::types;
use crate::value::{Dict, List, PyErr, PyResult, Value, ctx, int};

/// The running job's module objects, one per name (`import a as x; import a as y; x is y`);
/// kept in the job context, so they end with the job. Outside a job nothing is kept.
#[derive(Default)]
struct Imported(std::cell::RefCell<std::collections::HashMap<String, Value>>);

pub fn import(name: &str) -> PyResult<Value> {
    let cache = ctx::state::<Imported>();
    if let Some(m) = cache.as_ref().and_then(|c| c.0.borrow().get(name).cloned()) {
        return Ok(m);
    }
    let m = load(name)?;
    if let Some(c) = cache {
        c.0.borrow_mut().insert(name.to_string(), m.clone());
    }
    Ok(m)
}

/// The server's stand-in for one of nnsight's model classes, in this job's hierarchy.
pub fn nnsight_class(module: &str, name: &str) -> Option<Value> {
    types::nnsight_class(module, name, ctx::dialect().nnsight_classes_g1()).map(Value::Type)
}

/// Whether the real Python module has this public name (module_names.txt, generated
/// from the pinned environment by python/module_names.py).
pub fn real_name(module: &str, name: &str) -> bool {
    static NAMES: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        include_str!("module_names.txt").lines().filter(|l| !l.starts_with('#')).collect()
    });
    names.contains(format!("{module} {name}").as_str())
}

fn load(name: &str) -> PyResult<Value> {
    if let Some(source) = super::stdlib::source(name) {
        return super::stdlib::load(name, source);
    }
    let lookup: fn(&str) -> Option<Value> = match name {
        "torch" => super::torch::torch_attr,
        "torch.nn" => |n| match n {
            "functional" => import("torch.nn.functional").ok(),
            _ => None,
        },
        "torch.nn.functional" => |n| super::torch::ops::namespace_fn(super::torch::Ns::Functional, n),
        "torch.linalg" => |n| super::torch::ops::namespace_fn(super::torch::Ns::Linalg, n),
        "math" => math_attr,
        "nnsight" => nnsight_attr,
        "functools" => functools_attr,
        "itertools" => itertools_attr,
        "operator" => operator_attr,
        "copy" => copy_attr,
        "typing" | "typing_extensions" | "collections.abc" => |_| Some(Value::Type(&types::OBJECT)),
        "warnings" => |n| match n {
            "warn" | "filterwarnings" | "simplefilter" => Some(Native::value("warn", |_, _, _, _| Ok(Value::None))),
            _ => None,
        },
        "dataclasses" => dataclasses_attr,
        "_localndif_re" => super::sre::attr,
        "numpy" => super::numpy::module_attr,
        "numpy.linalg" => super::numpy::linalg_attr,
        "nnsight.intervention.interleaver" => |n| match n {
            "OutOfOrderError" => Some(Value::Type(&types::OUT_OF_ORDER_ERROR)),
            "EarlyStopException" => Some(Value::Type(&types::EARLY_STOP)),
            _ => None,
        },
        other => {
            // NDIF's sandbox wording (`ImportError("Module {name} is not whitelisted")`).
            return Err(PyErr::new(
                &types::IMPORT_ERROR,
                format!("Module {other} is not whitelisted (localndif runs the modules intervention code uses: torch, math, nnsight, numpy, functools, itertools, operator, copy, typing, dataclasses, collections, json, random, re, einops)"),
            ));
        }
    };
    Ok(PyModule::builtin(name, lookup))
}

fn nnsight_attr(name: &str) -> Option<Value> {
    if let Some(c) = nnsight_class("nnsight", name) {
        return Some(c);
    }
    match name {
        "save" => Some(Native::value("save", |_, _, args, _| {
            let v = args.into_iter().next().ok_or_else(|| PyErr::type_error("save() missing 1 required positional argument: 'value'"))?;
            super::saves::mark(&v)?;
            Ok(v)
        })),
        _ => None,
    }
}

fn num(v: &Value) -> PyResult<f64> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Tensor(t) if t.t.numel() == 1 => Ok(t.t.f_double_value(&[])?),
        v if int::is_int(v) => int::to_f64(v),
        other => Err(PyErr::type_error(format!("must be real number, not {}", other.type_name()))),
    }
}

fn math_domain() -> PyErr {
    PyErr::value_error("math domain error")
}

fn math_attr(name: &str) -> Option<Value> {
    let c = |f: f64| Some(Value::Float(f));
    match name {
        "pi" => return c(std::f64::consts::PI),
        "e" => return c(std::f64::consts::E),
        "tau" => return c(std::f64::consts::TAU),
        "inf" => return c(f64::INFINITY),
        "nan" => return c(f64::NAN),
        _ => {}
    }
    let f: crate::value::NativeFn = match name {
        "sqrt" => |_, _, a, _| {
            let x = num(a.first().unwrap_or(&Value::None))?;
            if x < 0.0 { Err(math_domain()) } else { Ok(Value::Float(x.sqrt())) }
        },
        "exp" => |_, _, a, _| {
            let r = num(a.first().unwrap_or(&Value::None))?.exp();
            if r.is_infinite() { Err(PyErr::overflow("math range error")) } else { Ok(Value::Float(r)) }
        },
        "log" => |_, _, a, _| {
            let x = num(a.first().unwrap_or(&Value::None))?;
            if x <= 0.0 {
                return Err(math_domain());
            }
            Ok(Value::Float(match a.get(1) {
                Some(b) => x.ln() / num(b)?.ln(),
                None => x.ln(),
            }))
        },
        "log2" => |_, _, a, _| { let x = num(a.first().unwrap_or(&Value::None))?; if x <= 0.0 { Err(math_domain()) } else { Ok(Value::Float(x.log2())) } },
        "log10" => |_, _, a, _| { let x = num(a.first().unwrap_or(&Value::None))?; if x <= 0.0 { Err(math_domain()) } else { Ok(Value::Float(x.log10())) } },
        "log1p" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.ln_1p())),
        "expm1" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.exp_m1())),
        "sin" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.sin())),
        "cos" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.cos())),
        "tan" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.tan())),
        "asin" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.asin())),
        "acos" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.acos())),
        "atan" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.atan())),
        "atan2" => |_, _, a, _| Ok(Value::Float(num(&a[0])?.atan2(num(a.get(1).unwrap_or(&Value::None))?))),
        "sinh" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.sinh())),
        "cosh" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.cosh())),
        "tanh" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.tanh())),
        "fabs" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.abs())),
        "floor" | "ceil" | "trunc" => |it, n, a, _| {
            let v = a.first().cloned().unwrap_or(Value::None);
            if int::is_int(&v) {
                return Ok(v);
            }
            let x = num(&v)?;
            let r = match n.name.as_ref() {
                "floor" => x.floor(),
                "ceil" => x.ceil(),
                _ => x.trunc(),
            };
            super::builtins::to_int(it, &Value::Float(r))
        },
        "pow" => |_, _, a, _| Ok(Value::Float(num(&a[0])?.powf(num(a.get(1).unwrap_or(&Value::None))?))),
        "isnan" => |_, _, a, _| Ok(Value::Bool(num(a.first().unwrap_or(&Value::None))?.is_nan())),
        "isinf" => |_, _, a, _| Ok(Value::Bool(num(a.first().unwrap_or(&Value::None))?.is_infinite())),
        "isfinite" => |_, _, a, _| Ok(Value::Bool(num(a.first().unwrap_or(&Value::None))?.is_finite())),
        "copysign" => |_, _, a, _| Ok(Value::Float(num(&a[0])?.copysign(num(a.get(1).unwrap_or(&Value::None))?))),
        "hypot" => |_, _, a, _| Ok(Value::Float(a.iter().map(num).collect::<PyResult<Vec<f64>>>()?.iter().map(|x| x * x).sum::<f64>().sqrt())),
        "degrees" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.to_degrees())),
        "radians" => |_, _, a, _| Ok(Value::Float(num(a.first().unwrap_or(&Value::None))?.to_radians())),
        "erf" => |_, _, a, _| Ok(Value::Float(libm_erf(num(a.first().unwrap_or(&Value::None))?))),
        "fmod" => |_, _, a, _| Ok(Value::Float(num(&a[0])? % num(a.get(1).unwrap_or(&Value::None))?)),
        "isclose" => |_, _, a, mut kw| {
            let (x, y) = (num(&a[0])?, num(a.get(1).unwrap_or(&Value::None))?);
            let take = |kw: &mut Kwargs, k: &str, d: f64| -> PyResult<f64> {
                match kw.iter().position(|(n, _)| n.as_ref() == k) {
                    Some(i) => num(&kw.remove(i).1),
                    None => Ok(d),
                }
            };
            let rel = take(&mut kw, "rel_tol", 1e-9)?;
            let abs = take(&mut kw, "abs_tol", 0.0)?;
            Ok(Value::Bool(x == y || (x - y).abs() <= (rel * x.abs().max(y.abs())).max(abs)))
        },
        "gcd" => |_, _, a, _| {
            let mut g = num_bigint::BigInt::from(0);
            for v in &a {
                g = num_integer::Integer::gcd(&g, &int::big(v).ok_or_else(|| PyErr::type_error("gcd() requires ints"))?);
            }
            Ok(Value::from_bigint(g))
        },
        "factorial" => |_, _, a, _| {
            let n = a.first().and_then(Value::as_int).ok_or_else(|| PyErr::type_error("factorial() only accepts integral values"))?;
            if n < 0 {
                return Err(PyErr::value_error("factorial() not defined for negative values"));
            }
            let mut r = Value::Int(1);
            for k in 2..=n {
                ctx::tick()?;
                r = int::mul(&r, &Value::Int(k))?;
            }
            Ok(r)
        },
        "comb" => |_, _, a, _| {
            let (n, k) = (a[0].as_int().unwrap_or(0), a.get(1).and_then(Value::as_int).unwrap_or(0));
            if n < 0 || k < 0 {
                return Err(PyErr::value_error("n must be a non-negative integer"));
            }
            if k > n {
                return Ok(Value::Int(0));
            }
            let mut r = Value::Int(1);
            for i in 0..k.min(n - k) {
                ctx::tick()?;
                r = int::floordiv(&int::mul(&r, &Value::Int(n - i))?, &Value::Int(i + 1))?;
            }
            Ok(r)
        },
        "prod" => |it, _, a, _| {
            let mut acc = Value::Int(1);
            for v in it.collect(&a[0])? {
                acc = it.binary_op("*", &acc, &v)?;
            }
            Ok(acc)
        },
        "fsum" => |it, _, a, _| {
            let items = it.collect(&a[0])?;
            let vals = items.iter().map(num).collect::<PyResult<Vec<f64>>>()?;
            Ok(Value::Float(fsum(&vals)))
        },
        _ => return None,
    };
    Some(Native::value(name, f))
}

/// Exactly rounded sum (Shewchuk), as `math.fsum`.
fn fsum(xs: &[f64]) -> f64 {
    let mut partials: Vec<f64> = Vec::new();
    for &x0 in xs {
        let mut x = x0;
        let mut i = 0;
        for j in 0..partials.len() {
            let mut y = partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            let lo = y - (hi - x);
            if lo != 0.0 {
                partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        partials.truncate(i);
        partials.push(x);
    }
    partials.iter().sum()
}

/// C's `erf` (musl's), as CPython's `math.erf` uses.
fn libm_erf(x: f64) -> f64 {
    libm::erf(x)
}

fn functools_attr(name: &str) -> Option<Value> {
    let f: crate::value::NativeFn = match name {
        "partial" => |_, _, args, kw| {
            let mut args = args.into_iter();
            let f = args.next().ok_or_else(|| PyErr::type_error("type 'partial' takes at least one argument"))?;
            let bound = Value::tuple(args.collect());
            let kwd = Dict::from_pairs(kw.into_iter().map(|(k, v)| (Value::str(&k), v)).collect())?;
            Ok(Native::with_aux(
                "partial",
                Some(Value::tuple(vec![f, bound, Value::Dict(kwd)])),
                |it, n, args, kw| {
                    let Some(Value::Tuple(p)) = &n.recv else { return Ok(Value::None) };
                    let (f, bound, kwd) = (&p[0], &p[1], &p[2]);
                    let mut all = it.collect(bound)?;
                    all.extend(args);
                    let mut kws: Kwargs = it
                        .mapping_items(kwd)?
                        .into_iter()
                        .filter_map(|(k, v)| k.as_str().map(|s| (Rc::from(s), v)))
                        .filter(|(k, _)| !kw.iter().any(|(n, _)| n == k))
                        .collect();
                    kws.extend(kw);
                    it.call(f, all, kws)
                },
                Aux::None,
            ))
        },
        "reduce" => |it, _, a, _| {
            let f = a.first().cloned().ok_or_else(|| PyErr::type_error("reduce expected at least 2 arguments"))?;
            let items = it.collect(a.get(1).ok_or_else(|| PyErr::type_error("reduce expected at least 2 arguments"))?)?;
            let mut iter = items.into_iter();
            let mut acc = match a.get(2) {
                Some(init) => init.clone(),
                None => iter.next().ok_or_else(|| PyErr::type_error("reduce() of empty iterable with no initial value"))?,
            };
            for v in iter {
                acc = it.call(&f, vec![acc, v], vec![])?;
            }
            Ok(acc)
        },
        "wraps" => |_, _, _, _| Ok(Native::value("wraps", |_, _, a, _| Ok(a.into_iter().next().unwrap_or(Value::None)))),
        "lru_cache" | "cache" => |_, _, a, _| match a.first() {
            Some(f @ (Value::Function(_) | Value::Native(_))) => Ok(f.clone()),
            _ => Ok(Native::value("lru_cache", |_, _, a, _| Ok(a.into_iter().next().unwrap_or(Value::None)))),
        },
        _ => return None,
    };
    Some(Native::value(name, f))
}

fn itertools_attr(name: &str) -> Option<Value> {
    let f: crate::value::NativeFn = match name {
        "count" => |_, _, a, kw| {
            let get = |i: usize, k: &str| a.get(i).cloned().or_else(|| kw.iter().find(|(n, _)| n.as_ref() == k).map(|(_, v)| v.clone()));
            let start = get(0, "start").map_or(Some(0), |v| v.as_int());
            let step = get(1, "step").map_or(Some(1), |v| v.as_int());
            let (Some(start), Some(step)) = (start, step) else {
                return Err(PyErr::unsupported("itertools.count with a non-int start or step"));
            };
            let stop = if step >= 0 { i64::MAX } else { i64::MIN };
            Ok(super::iter::PyIter::new(super::iter::IterState::Range { cur: start, stop, step }))
        },
        "chain" => |it, _, a, _| {
            let mut out = Vec::new();
            for x in &a {
                out.extend(it.collect(x)?);
                ctx::check_len(out.len(), "chain")?;
            }
            Ok(PyIter::items(out, "itertools.chain"))
        },
        "product" => |it, _, a, kw| {
            let repeat = kw.iter().find(|(k, _)| k.as_ref() == "repeat").and_then(|(_, v)| v.as_int()).unwrap_or(1).max(0) as usize;
            let mut pools = Vec::new();
            for x in &a {
                pools.push(it.collect(x)?);
            }
            let pools: Vec<Vec<Value>> = (0..repeat).flat_map(|_| pools.clone()).collect();
            let mut out: Vec<Vec<Value>> = vec![vec![]];
            for pool in &pools {
                let mut next = Vec::new();
                for prefix in &out {
                    for item in pool {
                        let mut p = prefix.clone();
                        p.push(item.clone());
                        next.push(p);
                        ctx::check_len(next.len(), "product")?;
                    }
                }
                out = next;
            }
            Ok(PyIter::items(out.into_iter().map(Value::tuple).collect(), "itertools.product"))
        },
        "combinations" | "permutations" => |it, n, a, _| {
            let pool = it.collect(a.first().unwrap_or(&Value::None))?;
            let r = a.get(1).and_then(Value::as_int).map_or(pool.len(), |r| r.max(0) as usize);
            let mut out = Vec::new();
            let mut idx: Vec<usize> = Vec::new();
            fn rec(pool: &[Value], r: usize, combos: bool, idx: &mut Vec<usize>, out: &mut Vec<Value>) -> PyResult<()> {
                if idx.len() == r {
                    out.push(Value::tuple(idx.iter().map(|&i| pool[i].clone()).collect()));
                    return ctx::check_len(out.len(), "combinations");
                }
                let start = if combos { idx.last().map_or(0, |&l| l + 1) } else { 0 };
                for i in start..pool.len() {
                    if !combos && idx.contains(&i) {
                        continue;
                    }
                    idx.push(i);
                    rec(pool, r, combos, idx, out)?;
                    idx.pop();
                }
                Ok(())
            }
            rec(&pool, r, n.name.as_ref() == "combinations", &mut idx, &mut out)?;
            Ok(PyIter::items(out, "itertools.combinations"))
        },
        "islice" => |it, _, a, _| {
            let src = it.iter(a.first().unwrap_or(&Value::None))?;
            let (start, stop, step) = match a.len() {
                2 => (0, a[1].as_int(), 1),
                3 => (a[1].as_int().unwrap_or(0), a[2].as_int(), 1),
                _ => (a[1].as_int().unwrap_or(0), a[2].as_int(), a.get(3).and_then(Value::as_int).unwrap_or(1)),
            };
            let mut out = Vec::new();
            let mut i = 0i64;
            while stop.is_none_or(|s| i < s) {
                match it.next(&src)? {
                    Some(v) => {
                        if i >= start && (i - start) % step.max(1) == 0 {
                            out.push(v);
                        }
                    }
                    None => break,
                }
                i += 1;
            }
            Ok(PyIter::items(out, "itertools.islice"))
        },
        "repeat" => |_, _, a, _| {
            let n = a.get(1).and_then(Value::as_int).ok_or_else(|| PyErr::unsupported("itertools.repeat without a count"))?;
            ctx::check_len(n.max(0) as usize, "repeat")?;
            Ok(PyIter::items(vec![a[0].clone(); n.max(0) as usize], "itertools.repeat"))
        },
        "accumulate" => |it, _, a, _| {
            let items = it.collect(a.first().unwrap_or(&Value::None))?;
            let mut out: Vec<Value> = Vec::new();
            for v in items {
                let next = match out.last() {
                    Some(prev) => match a.get(1) {
                        Some(f) => it.call(f, vec![prev.clone(), v], vec![])?,
                        None => it.binary_op("+", prev, &v)?,
                    },
                    None => v,
                };
                out.push(next);
            }
            Ok(PyIter::items(out, "itertools.accumulate"))
        },
        "zip_longest" => |it, _, a, kw| {
            let fill = kw.iter().find(|(k, _)| k.as_ref() == "fillvalue").map_or(Value::None, |(_, v)| v.clone());
            let cols = a.iter().map(|x| it.collect(x)).collect::<PyResult<Vec<_>>>()?;
            let n = cols.iter().map(Vec::len).max().unwrap_or(0);
            let rows = (0..n)
                .map(|i| Value::tuple(cols.iter().map(|c| c.get(i).cloned().unwrap_or_else(|| fill.clone())).collect()))
                .collect();
            Ok(PyIter::items(rows, "itertools.zip_longest"))
        },
        "starmap" => |it, _, a, _| {
            let f = a.first().cloned().unwrap_or(Value::None);
            let mut out = Vec::new();
            for args in it.collect(a.get(1).unwrap_or(&Value::None))? {
                let args = it.collect(&args)?;
                out.push(it.call(&f, args, vec![])?);
            }
            Ok(PyIter::items(out, "itertools.starmap"))
        },
        _ => return None,
    };
    Some(Native::value(name, f))
}

fn operator_attr(name: &str) -> Option<Value> {
    let binop = |n: &'static str| -> Option<Value> {
        Some(Native::with_aux(n, None, |it, nat, a, _| {
            let op = match nat.name.as_ref() {
                "add" => "+", "sub" => "-", "mul" => "*", "truediv" => "/", "floordiv" => "//",
                "mod" => "%", "pow" => "**", "matmul" => "@", "and_" => "&", "or_" => "|", _ => "^",
            };
            it.binary_op(op, &a[0], a.get(1).unwrap_or(&Value::None))
        }, Aux::None))
    };
    match name {
        "add" | "sub" | "mul" | "truediv" | "floordiv" | "mod" | "pow" | "matmul" | "and_" | "or_" | "xor" => {
            binop(match name {
                "add" => "add", "sub" => "sub", "mul" => "mul", "truediv" => "truediv", "floordiv" => "floordiv",
                "mod" => "mod", "pow" => "pow", "matmul" => "matmul", "and_" => "and_", "or_" => "or_", _ => "xor",
            })
        }
        "itemgetter" => Some(Native::value("itemgetter", |_, _, a, _| {
            Ok(Native::with_aux("itemgetter", Some(Value::tuple(a)), |it, n, args, _| {
                let Some(Value::Tuple(keys)) = &n.recv else { return Ok(Value::None) };
                let obj = args.first().cloned().unwrap_or(Value::None);
                if keys.len() == 1 {
                    return it.getitem(&obj, &keys[0]);
                }
                Ok(Value::tuple(keys.iter().map(|k| it.getitem(&obj, k)).collect::<PyResult<Vec<_>>>()?))
            }, Aux::None))
        })),
        "attrgetter" => Some(Native::value("attrgetter", |_, _, a, _| {
            Ok(Native::with_aux("attrgetter", Some(Value::tuple(a)), |it, n, args, _| {
                let Some(Value::Tuple(keys)) = &n.recv else { return Ok(Value::None) };
                let obj = args.first().cloned().unwrap_or(Value::None);
                let get = |it: &mut Interp, k: &Value| -> PyResult<Value> {
                    let mut v = obj.clone();
                    for part in k.as_str().unwrap_or("").split('.') {
                        v = it.getattr(&v, part)?;
                    }
                    Ok(v)
                };
                if keys.len() == 1 {
                    return get(it, &keys[0]);
                }
                Ok(Value::tuple(keys.iter().map(|k| get(it, k)).collect::<PyResult<Vec<_>>>()?))
            }, Aux::None))
        })),
        _ => None,
    }
}

fn copy_attr(name: &str) -> Option<Value> {
    match name {
        "copy" => Some(Native::value("copy", |_, _, a, _| shallow_copy(a.first().unwrap_or(&Value::None)))),
        "deepcopy" => Some(Native::value("deepcopy", |it, _, a, _| {
            let mut memo = Vec::new();
            deep_copy(it, a.first().unwrap_or(&Value::None), &mut memo)
        })),
        _ => None,
    }
}

fn shallow_copy(v: &Value) -> PyResult<Value> {
    Ok(match v {
        Value::List(l) => Value::List(List::new(l.snapshot())),
        Value::Dict(d) => Value::Dict(Dict::with_table(d.table_clone())),
        Value::Set(s) => Value::Set(crate::value::Set::new(s.items(), s.frozen)?),
        // numpy's `__copy__` copies the data.
        Value::Tensor(t) if t.np == crate::value::tensor::Np::Array => {
            super::numpy::array(super::torch::create::copy_of(&t.t)?)?
        }
        other => other.clone(),
    })
}

/// `copy.deepcopy`: containers copied recursively (sharing and cycles preserved by a memo),
/// tensors cloned.
fn deep_copy(it: &mut Interp, v: &Value, memo: &mut Vec<(crate::value::Identity, Value)>) -> PyResult<Value> {
    crate::value::stack::guard()?;
    let id = v.identity();
    if let Some((_, c)) = memo.iter().find(|(i, _)| *i == id) {
        return Ok(c.clone());
    }
    Ok(match v {
        Value::List(l) => {
            let out = List::new(Vec::new());
            memo.push((id, Value::List(out.clone())));
            for x in l.snapshot() {
                let c = deep_copy(it, &x, memo)?;
                out.push(c)?;
            }
            Value::List(out)
        }
        Value::Tuple(t) => {
            let items = t.iter().map(|x| deep_copy(it, x, memo)).collect::<PyResult<Vec<_>>>()?;
            Value::tuple(items)
        }
        Value::Dict(d) => {
            let out = Dict::new();
            memo.push((id, Value::Dict(out.clone())));
            for (k, x) in d.items() {
                let c = deep_copy(it, &x, memo)?;
                out.insert(k, c)?;
            }
            Value::Dict(out)
        }
        Value::Tensor(t) => {
            let mut c = t.t.f_empty_like()?;
            c.f_copy_(&t.t)?;
            // A numpy array stays a numpy array (and a scalar a scalar).
            Value::Tensor(crate::value::tensor::Tens::fresh_as(c, t.np)?)
        }
        other => other.clone(),
    })
}

fn dataclasses_attr(name: &str) -> Option<Value> {
    match name {
        "dataclass" => Some(Native::value("dataclass", |_, _, a, _| match a.first() {
            Some(cls @ Value::Class(_)) => super::dataclass::apply(cls.clone()),
            _ => Ok(Native::value("dataclass", |_, _, a, _| super::dataclass::apply(a.into_iter().next().unwrap_or(Value::None)))),
        })),
        "field" => Some(Native::value("field", |_, _, _, kw| super::dataclass::field(kw))),
        _ => None,
    }
}
