//! Python-style signatures for builtin functions and methods: positional/keyword binding
//! with defaults and CPython-worded `TypeError`s (style.md §1, starlark's `#[starlark]`).

use super::error::{PyErr, PyResult};
use super::value::Value;

/// One parameter: its name and default (`None` = required).
#[derive(Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub default: Option<Default>,
}

#[derive(Clone, Copy)]
pub enum Default {
    None,
    Bool(bool),
    Int(i64),
}

pub const fn req(name: &'static str) -> Param {
    Param {
        name,
        default: None,
    }
}
pub const fn opt(name: &'static str, default: Default) -> Param {
    Param {
        name,
        default: Some(default),
    }
}

/// A signature; `varargs` collects extra positionals into a tuple (`view(*shape)`).
pub struct Sig {
    pub name: &'static str,
    pub params: &'static [Param],
    pub varargs: Option<&'static str>,
}

/// Binds call arguments to `sig`, returning one value per parameter (plus the varargs
/// tuple last when the signature has one).
pub fn bind(sig: &Sig, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> PyResult<Vec<Value>> {
    let n = sig.params.len();
    let mut slots: Vec<Option<Value>> = vec![None; n];
    let mut extra = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        if i < n && sig.varargs.is_none() {
            slots[i] = Some(a);
        } else if sig.varargs.is_some() {
            extra.push(a);
        } else {
            return Err(PyErr::type_error(format!(
                "{}() takes at most {n} argument{} ({} given)",
                sig.name,
                if n == 1 { "" } else { "s" },
                i + 1
            )));
        }
    }
    for (k, v) in kwargs {
        let Some(i) = sig.params.iter().position(|p| p.name == k) else {
            return Err(PyErr::type_error(format!(
                "{}() got an unexpected keyword argument '{k}'",
                sig.name
            )));
        };
        if slots[i].is_some() {
            return Err(PyErr::type_error(format!(
                "{}() got multiple values for argument '{k}'",
                sig.name
            )));
        }
        slots[i] = Some(v);
    }
    let mut out = Vec::with_capacity(n + 1);
    for (p, slot) in sig.params.iter().zip(slots) {
        out.push(match (slot, p.default) {
            (Some(v), _) => v,
            (None, Some(Default::None)) => Value::None,
            (None, Some(Default::Bool(b))) => Value::Bool(b),
            (None, Some(Default::Int(i))) => Value::Int(i),
            (None, None) => {
                return Err(PyErr::type_error(format!(
                    "{}() missing required argument '{}'",
                    sig.name, p.name
                )));
            }
        });
    }
    if sig.varargs.is_some() {
        out.push(Value::tuple(extra));
    }
    Ok(out)
}

/// Argument accessors with messages naming the function and parameter.
pub fn int_arg(sig: &Sig, i: usize, v: &Value) -> PyResult<i64> {
    v.as_int().ok_or_else(|| {
        PyErr::type_error(format!(
            "{}(): argument '{}' must be int, not {}",
            sig.name,
            sig.params.get(i).map_or("*args", |p| p.name),
            v.type_name()
        ))
    })
}

pub fn opt_int_arg(sig: &Sig, i: usize, v: &Value) -> PyResult<Option<i64>> {
    match v {
        Value::None => Ok(None),
        other => int_arg(sig, i, other).map(Some),
    }
}

pub fn bool_arg(sig: &Sig, i: usize, v: &Value) -> PyResult<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Int(i) => Ok(*i != 0),
        other => Err(PyErr::type_error(format!(
            "{}(): argument '{}' must be bool, not {}",
            sig.name,
            sig.params.get(i).map_or("?", |p| p.name),
            other.type_name()
        ))),
    }
}

/// A shape given as `view(2, 3)` or `view((2, 3))` / `view(torch.Size([2, 3]))`.
pub fn shape_arg(sig: &Sig, v: &Value) -> PyResult<Vec<i64>> {
    let items = match v {
        Value::Tuple(t) if t.len() == 1 => match &t[0] {
            Value::Size(s) => return Ok(s.to_vec()),
            Value::Tuple(inner) => inner.to_vec(),
            Value::List(l) => super::value::lock(l).clone(),
            single => vec![single.clone()],
        },
        Value::Tuple(t) => t.to_vec(),
        Value::Size(s) => return Ok(s.to_vec()),
        other => vec![other.clone()],
    };
    items.iter().map(|x| int_arg(sig, usize::MAX, x)).collect()
}
