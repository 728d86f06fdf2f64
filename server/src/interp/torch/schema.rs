//! Op signatures written the way PyTorch writes them (`native_functions.yaml`):
//! `(Tensor self, int[1]? dim=None, bool keepdim=False, *, ScalarType? dtype=None)`.
//! A schema is parsed once; [`bind`] binds Python call arguments to it with Python's
//! positional/keyword rules and checks each argument's type, so an op's implementation
//! reads typed values and never re-validates.

use std::rc::Rc;

use tch::{Device, Kind, Scalar, Tensor};

use crate::value::{PyErr, PyResult, Value, dtype, int};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ty {
    Tensor,
    Scalar,
    Int,
    Float,
    Bool,
    Str,
    /// `int[]`: a list, tuple or Size of ints (and `view(*shape)`-style varargs).
    IntList,
    /// `int[1]`: one int or a list of them.
    Dims,
    TensorList,
    Dtype,
    Device,
    /// Anything (layout, memory format, generator: accepted and ignored where harmless).
    Any,
}

#[derive(Debug, Clone)]
pub enum Default {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'static str),
    IntList(Vec<i64>),
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub optional: bool,
    pub kwonly: bool,
    pub default: Option<Default>,
}

#[derive(Debug, Clone)]
pub struct Schema {
    pub params: Vec<Param>,
}

/// Parses `(Tensor self, int dim=-1, *, bool keepdim=False)`.
pub fn parse(text: &'static str) -> Schema {
    let inner = text.trim().trim_start_matches('(').trim_end_matches(')');
    let mut params = Vec::new();
    let mut kwonly = false;
    for part in split_params(inner) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if part == "*" {
            kwonly = true;
            continue;
        }
        let (decl, default) = match part.split_once('=') {
            Some((d, v)) => (d.trim(), Some(v.trim())),
            None => (part, None),
        };
        let (ty_text, name) = decl.rsplit_once(' ').unwrap_or(("Any", decl));
        let optional = ty_text.ends_with('?');
        let base = ty_text.trim_end_matches('?');
        let ty = match base {
            "Tensor" => Ty::Tensor,
            "Scalar" => Ty::Scalar,
            "int" | "SymInt" => Ty::Int,
            "float" => Ty::Float,
            "bool" => Ty::Bool,
            "str" => Ty::Str,
            "int[]" | "SymInt[]" => Ty::IntList,
            "int[1]" => Ty::Dims,
            "Tensor[]" => Ty::TensorList,
            "ScalarType" => Ty::Dtype,
            "Device" => Ty::Device,
            _ => Ty::Any,
        };
        let default = default.map(|d| parse_default(d, ty));
        params.push(Param {
            name,
            ty,
            optional,
            kwonly,
            default,
        });
    }
    Schema { params }
}

fn split_params(s: &'static str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_default(d: &'static str, ty: Ty) -> Default {
    match d {
        "None" => Default::None,
        "True" => Default::Bool(true),
        "False" => Default::Bool(false),
        _ if d.starts_with('[') => Default::IntList(
            d.trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect(),
        ),
        _ if d.starts_with('"') || d.starts_with('\'') => Default::Str(d.trim_matches(|c| c == '"' || c == '\'')),
        _ => match ty {
            Ty::Float | Ty::Scalar => Default::Float(d.parse().unwrap_or(0.0)),
            _ => d
                .parse::<i64>()
                .map(Default::Int)
                .unwrap_or_else(|_| Default::Float(d.parse().unwrap_or(0.0))),
        },
    }
}

/// Bound, type-checked arguments.
pub struct Args {
    pub op: &'static str,
    vals: Vec<Option<Value>>,
    params: Rc<Schema>,
}

/// Why a call did not bind; the message is torch's shape of it.
pub struct Mismatch(pub String);

fn type_ok(ty: Ty, v: &Value) -> bool {
    match ty {
        Ty::Tensor => matches!(v, Value::Tensor(_)),
        Ty::Scalar => matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::BigInt(_))
            || matches!(v, Value::Tensor(t) if t.t.dim() == 0),
        Ty::Int => matches!(v, Value::Int(_) | Value::Bool(_))
            || matches!(v, Value::Tensor(t) if t.t.dim() == 0 && dtype::is_integral(t.t.kind(), false)),
        Ty::Float => matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_))
            || matches!(v, Value::Tensor(t) if t.t.dim() == 0),
        Ty::Bool => matches!(v, Value::Bool(_)) || matches!(v, Value::Int(i) if *i == 0 || *i == 1),
        Ty::Str => matches!(v, Value::Str(_)),
        Ty::IntList => match v {
            Value::Size(_) => true,
            Value::List(l) => l.snapshot().iter().all(|x| type_ok(Ty::Int, x)),
            Value::Tuple(t) => t.iter().all(|x| type_ok(Ty::Int, x)),
            _ => false,
        },
        Ty::Dims => type_ok(Ty::Int, v) || type_ok(Ty::IntList, v),
        Ty::TensorList => match v {
            Value::List(l) => l.snapshot().iter().all(|x| matches!(x, Value::Tensor(_))),
            Value::Tuple(t) => t.iter().all(|x| matches!(x, Value::Tensor(_))),
            _ => false,
        },
        Ty::Dtype => matches!(v, Value::Dtype(_)) || matches!(v, Value::Type(t) if matches!(t.name, "float" | "int" | "bool")),
        Ty::Device => matches!(v, Value::Device(_) | Value::Str(_) | Value::Int(_)),
        Ty::Any => true,
    }
}

pub fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::Tensor => "Tensor",
        Ty::Scalar => "Number",
        Ty::Int => "int",
        Ty::Float => "float",
        Ty::Bool => "bool",
        Ty::Str => "str",
        Ty::IntList => "tuple of ints",
        Ty::Dims => "tuple of ints",
        Ty::TensorList => "tuple of Tensors",
        Ty::Dtype => "torch.dtype",
        Ty::Device => "torch.device",
        Ty::Any => "object",
    }
}

/// Binds `args`/`kwargs` to `schema`. `self_value` is the method receiver (param 0).
pub fn bind(
    op: &'static str,
    schema: &Rc<Schema>,
    self_value: Option<Value>,
    args: &[Value],
    kwargs: &[(Rc<str>, Value)],
) -> Result<Args, Mismatch> {
    let params = &schema.params;
    let mut vals: Vec<Option<Value>> = vec![None; params.len()];
    let mut pos = 0usize;
    if let Some(s) = self_value {
        vals[0] = Some(s);
        pos = 1;
    }
    let positional: Vec<usize> = (pos..params.len()).filter(|&i| !params[i].kwonly).collect();
    // `view(2, 3)`: a lone int-list parameter takes varargs ints (torch's arg parser rule).
    let varargs = positional.len() == 1
        && matches!(params[positional[0]].ty, Ty::IntList | Ty::Dims)
        && args.first().is_some_and(|a| type_ok(Ty::Int, a));
    if varargs {
        let pi = positional[0];
        if let Some(bad) = args.iter().position(|x| !type_ok(Ty::Int, x)) {
            return Err(Mismatch(format!(
                "{op}(): argument '{}' must be tuple of ints, but found element of type {} at pos {bad}",
                params[pi].name,
                args[bad].type_name()
            )));
        }
        vals[pi] = Some(Value::tuple(args.to_vec()));
    } else {
        for (k, a) in args.iter().enumerate() {
            let Some(&pi) = positional.get(k) else {
                return Err(Mismatch(format!(
                    "{op}() takes {} positional argument{} but {} were given",
                    positional.len() + pos,
                    if positional.len() + pos == 1 { "" } else { "s" },
                    args.len() + pos
                )));
            };
            let p = &params[pi];
            if !(type_ok(p.ty, a) || (p.optional && a.is_none())) {
                return Err(Mismatch(format!(
                    "{op}(): argument '{}' (position {}) must be {}, not {}",
                    p.name,
                    pi + 1 - pos,
                    ty_name(p.ty),
                    a.type_name()
                )));
            }
            vals[pi] = Some(a.clone());
        }
    }
    for (name, v) in kwargs {
        let Some(pi) = params.iter().position(|p| p.name == name.as_ref()) else {
            return Err(Mismatch(format!("{op}() got an unexpected keyword argument '{name}'")));
        };
        if vals[pi].is_some() {
            return Err(Mismatch(format!("{op}() got multiple values for argument '{name}'")));
        }
        let p = &params[pi];
        if !(type_ok(p.ty, v) || (p.optional && v.is_none())) {
            return Err(Mismatch(format!(
                "{op}(): argument '{name}' must be {}, not {}",
                ty_name(p.ty),
                v.type_name()
            )));
        }
        vals[pi] = Some(v.clone());
    }
    for (i, p) in params.iter().enumerate() {
        if vals[i].is_none() {
            match &p.default {
                Some(d) => vals[i] = Some(default_value(d)),
                None if p.optional => vals[i] = Some(Value::None),
                None => {
                    return Err(Mismatch(format!(
                        "{op}() missing 1 required positional argument: \"{}\"",
                        p.name
                    )));
                }
            }
        }
    }
    Ok(Args {
        op,
        vals,
        params: schema.clone(),
    })
}

fn default_value(d: &Default) -> Value {
    match d {
        Default::None => Value::None,
        Default::Bool(b) => Value::Bool(*b),
        Default::Int(i) => Value::Int(*i),
        Default::Float(f) => Value::Float(*f),
        Default::Str(s) => Value::str(s),
        Default::IntList(v) => Value::tuple(v.iter().map(|&i| Value::Int(i)).collect()),
    }
}

fn as_i64(v: &Value) -> PyResult<i64> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Tensor(t) => Ok(t.t.f_int64_value(&[])?),
        other => Err(PyErr::type_error(format!("expected an int, got {}", other.type_name()))),
    }
}

impl Args {
    pub fn value(&self, i: usize) -> &Value {
        self.vals[i].as_ref().unwrap_or(&Value::None)
    }

    pub fn is_none(&self, i: usize) -> bool {
        self.value(i).is_none()
    }

    pub fn name(&self, i: usize) -> &'static str {
        self.params.params[i].name
    }

    pub fn tensor(&self, i: usize) -> PyResult<Tensor> {
        match self.value(i) {
            Value::Tensor(t) => Ok(t.t.shallow_clone()),
            other => Err(PyErr::type_error(format!(
                "{}(): argument '{}' must be Tensor, not {}",
                self.op,
                self.name(i),
                other.type_name()
            ))),
        }
    }

    pub fn opt_tensor(&self, i: usize) -> PyResult<Option<Tensor>> {
        if self.is_none(i) {
            return Ok(None);
        }
        self.tensor(i).map(Some)
    }

    pub fn int(&self, i: usize) -> PyResult<i64> {
        as_i64(self.value(i))
    }

    pub fn opt_int(&self, i: usize) -> PyResult<Option<i64>> {
        if self.is_none(i) {
            return Ok(None);
        }
        self.int(i).map(Some)
    }

    pub fn float(&self, i: usize) -> PyResult<f64> {
        match self.value(i) {
            Value::Float(f) => Ok(*f),
            Value::Tensor(t) => Ok(t.t.f_double_value(&[])?),
            v => int::to_f64(v),
        }
    }

    pub fn opt_float(&self, i: usize) -> PyResult<Option<f64>> {
        if self.is_none(i) {
            return Ok(None);
        }
        self.float(i).map(Some)
    }

    pub fn bool(&self, i: usize) -> PyResult<bool> {
        match self.value(i) {
            Value::Bool(b) => Ok(*b),
            Value::Int(x) => Ok(*x != 0),
            Value::None => Ok(false),
            other => Err(PyErr::type_error(format!("expected a bool, got {}", other.type_name()))),
        }
    }

    pub fn str(&self, i: usize) -> PyResult<String> {
        match self.value(i) {
            Value::Str(s) => Ok(s.as_str().to_string()),
            other => Err(PyErr::type_error(format!("expected a str, got {}", other.type_name()))),
        }
    }

    pub fn opt_str(&self, i: usize) -> PyResult<Option<String>> {
        if self.is_none(i) {
            return Ok(None);
        }
        self.str(i).map(Some)
    }

    pub fn ints(&self, i: usize) -> PyResult<Vec<i64>> {
        match self.value(i) {
            Value::Size(s) => Ok(s.as_ref().clone()),
            Value::List(l) => l.snapshot().iter().map(as_i64).collect(),
            Value::Tuple(t) => t.iter().map(as_i64).collect(),
            v => Ok(vec![as_i64(v)?]),
        }
    }

    pub fn opt_ints(&self, i: usize) -> PyResult<Option<Vec<i64>>> {
        if self.is_none(i) {
            return Ok(None);
        }
        self.ints(i).map(Some)
    }

    pub fn tensors(&self, i: usize) -> PyResult<Vec<Tensor>> {
        let items = match self.value(i) {
            Value::List(l) => l.snapshot(),
            Value::Tuple(t) => t.to_vec(),
            other => return Err(PyErr::type_error(format!("expected a sequence of Tensors, got {}", other.type_name()))),
        };
        items
            .iter()
            .map(|v| match v {
                Value::Tensor(t) => Ok(t.t.shallow_clone()),
                o => Err(PyErr::type_error(format!("expected Tensor as element, but got {}", o.type_name()))),
            })
            .collect()
    }

    pub fn scalar(&self, i: usize) -> PyResult<Scalar> {
        scalar_of(self.value(i))
    }

    pub fn kind(&self, i: usize) -> PyResult<Option<Kind>> {
        Ok(match self.value(i) {
            Value::None => None,
            Value::Dtype(k) => Some(*k),
            Value::Type(t) => Some(match t.name {
                "float" => Kind::Double,
                "int" => Kind::Int64,
                _ => Kind::Bool,
            }),
            other => return Err(PyErr::type_error(format!("expected a dtype, got {}", other.type_name()))),
        })
    }

    pub fn device(&self, i: usize) -> PyResult<Option<Device>> {
        Ok(match self.value(i) {
            Value::None => None,
            Value::Device(d) => Some(*d),
            Value::Str(s) => Some(
                dtype::parse_device(s.as_str())
                    .ok_or_else(|| PyErr::runtime_error(format!("Invalid device string: '{}'", s.as_str())))?,
            ),
            Value::Int(i) => Some(Device::Cuda(*i as usize)),
            other => return Err(PyErr::type_error(format!("expected a device, got {}", other.type_name()))),
        })
    }
}

/// A Python number (or 0-d tensor) as a torch Scalar (ints stay ints: promotion differs).
pub fn scalar_of(v: &Value) -> PyResult<Scalar> {
    Ok(match v {
        Value::Bool(b) => Scalar::int(i64::from(*b)),
        Value::Int(i) => Scalar::int(*i),
        Value::Float(f) => Scalar::float(*f),
        Value::BigInt(_) => return Err(PyErr::runtime_error("Overflow when unpacking long")),
        Value::Tensor(t) if t.t.dim() == 0 => {
            if dtype::is_float(t.t.kind()) {
                Scalar::float(t.t.f_double_value(&[])?)
            } else {
                Scalar::int(t.t.f_int64_value(&[])?)
            }
        }
        other => return Err(PyErr::type_error(format!("expected a number, got {}", other.type_name()))),
    })
}
