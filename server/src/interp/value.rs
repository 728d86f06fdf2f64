//! The interpreter's value model (design.md §5): Python's builtin types, tensors (tch),
//! envoys (a module path), ModelOutput-like records and opaque model objects. Heap values
//! are `Arc`s so identity (`is`, what `.save()` marks) is pointer identity, as in Python.

use std::fmt;
use std::sync::{Arc, Mutex};

use tch::{Device, Kind, Tensor};

use super::error::{PyErr, PyResult};

/// A tensor handle user code holds. Handles share storage with the model's tensors.
pub struct Tens(pub Tensor);

// SAFETY: libtorch reference-counts TensorImpl atomically, and the interleaver's handshake
// lets exactly one thread (the model's or one worker's) touch values at any time, so a
// handle is never used from two threads at once.
unsafe impl Sync for Tens {}

impl fmt::Debug for Tens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tensor(shape={:?}, dtype={:?})",
            self.0.size(),
            self.0.kind()
        )
    }
}

/// A `ModelOutput`-like record: `.name`, `["name"]` and `[i]` over its (non-None) fields.
#[derive(Debug)]
pub struct RecordVal {
    pub module: &'static str,
    pub class: &'static str,
    pub fields: Vec<(&'static str, Value)>,
}

#[derive(Debug, Clone)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<Mutex<Vec<Value>>>),
    Tuple(Arc<Vec<Value>>),
    /// Insertion-ordered; keys compared with Python equality on hashable scalars.
    Dict(Arc<Mutex<Vec<(Value, Value)>>>),
    Slice(Arc<[Value; 3]>),
    Ellipsis,
    Tensor(Arc<Tens>),
    /// `torch.Size`.
    Size(Arc<Vec<i64>>),
    Dtype(Kind),
    Device(Device),
    /// An nnsight Envoy: the module at this envoy path (`model.transformer.h.0`).
    Envoy(Arc<str>),
    Record(Arc<RecordVal>),
    /// A model object user code can carry but not inspect (`DynamicCache`).
    Opaque(&'static str),
    /// A Python module object (`torch`, `nnsight`).
    Module(&'static str),
    /// A builtin function, by name (`print`, `len`, `nnsight.save`, `torch.zeros`, ...).
    Builtin(&'static str),
    /// `receiver.name` for a method looked up but not yet called.
    Method(Arc<(Value, String)>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }
    pub fn tensor(t: Tensor) -> Value {
        Value::Tensor(Arc::new(Tens(t)))
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(Mutex::new(items)))
    }
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Arc::new(items))
    }
    pub fn dict(items: Vec<(Value, Value)>) -> Value {
        Value::Dict(Arc::new(Mutex::new(items)))
    }

    /// Python's `type(x).__name__`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::None => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Slice(_) => "slice",
            Value::Ellipsis => "ellipsis",
            Value::Tensor(_) => "Tensor",
            Value::Size(_) => "Size",
            Value::Dtype(_) => "dtype",
            Value::Device(_) => "device",
            Value::Envoy(_) => "Envoy",
            Value::Record(r) => r.class,
            Value::Opaque(k) => k,
            Value::Module(_) => "module",
            Value::Builtin(_) => "builtin_function_or_method",
            Value::Method(_) => "method",
        }
    }

    /// `x is y`: pointer identity for heap values, value identity for immutable scalars
    /// (CPython shares small ints and interned strings the same way).
    pub fn is(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) | (Value::Ellipsis, Value::Ellipsis) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b),
            (Value::Tuple(a), Value::Tuple(b)) => Arc::ptr_eq(a, b),
            (Value::Dict(a), Value::Dict(b)) => Arc::ptr_eq(a, b),
            (Value::Tensor(a), Value::Tensor(b)) => Arc::ptr_eq(a, b),
            (Value::Size(a), Value::Size(b)) => Arc::ptr_eq(a, b),
            (Value::Record(a), Value::Record(b)) => Arc::ptr_eq(a, b),
            (Value::Envoy(a), Value::Envoy(b)) => a == b,
            _ => false,
        }
    }

    /// Python truthiness (`bool(x)`).
    pub fn truthy(&self) -> PyResult<bool> {
        Ok(match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !lock(l).is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !lock(d).is_empty(),
            Value::Size(s) => !s.is_empty(),
            Value::Tensor(t) => {
                if t.0.numel() != 1 {
                    return Err(PyErr::new(
                        "RuntimeError",
                        "Boolean value of Tensor with more than one value is ambiguous",
                    ));
                }
                t.0.f_double_value(&[])? != 0.0
            }
            _ => true,
        })
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
}

/// Locks a container; a poisoned lock only means another worker panicked mid-update, and
/// that run is already failing, so the data is still readable.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `repr(x)` for messages and `print`.
pub fn repr(v: &Value) -> String {
    match v {
        Value::None => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_repr(*f),
        Value::Str(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::List(l) => format!("[{}]", join(&lock(l))),
        Value::Tuple(t) if t.len() == 1 => format!("({},)", repr(&t[0])),
        Value::Tuple(t) => format!("({})", join(t)),
        Value::Dict(d) => {
            let items: Vec<String> = lock(d)
                .iter()
                .map(|(k, v)| format!("{}: {}", repr(k), repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Slice(s) => format!("slice({}, {}, {})", repr(&s[0]), repr(&s[1]), repr(&s[2])),
        Value::Ellipsis => "Ellipsis".into(),
        Value::Tensor(t) => format!("{:?}", t.0),
        Value::Size(s) => format!("torch.Size({s:?})"),
        Value::Dtype(k) => format!("torch.{}", dtype_name(*k)),
        Value::Device(d) => format!("device(type='{}')", device_name(*d)),
        Value::Envoy(p) => format!("<Envoy {p}>"),
        Value::Record(r) => format!("{}(...)", r.class),
        Value::Opaque(k) => format!("<{k}>"),
        Value::Module(m) => format!("<module '{m}'>"),
        Value::Builtin(b) => format!("<built-in function {b}>"),
        Value::Method(m) => format!("<bound method {} of {}>", m.1, m.0.type_name()),
    }
}

/// `str(x)`: like repr, but strings print bare.
pub fn to_str(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => repr(other),
    }
}

fn join(items: &[Value]) -> String {
    items.iter().map(repr).collect::<Vec<_>>().join(", ")
}

pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else if f == f.trunc() && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

pub fn dtype_name(k: Kind) -> &'static str {
    match k {
        Kind::Float => "float32",
        Kind::Double => "float64",
        Kind::Half => "float16",
        Kind::BFloat16 => "bfloat16",
        Kind::Int64 => "int64",
        Kind::Int => "int32",
        Kind::Int16 => "int16",
        Kind::Int8 => "int8",
        Kind::Uint8 => "uint8",
        Kind::Bool => "bool",
        _ => "unknown",
    }
}

pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}
