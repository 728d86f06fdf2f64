//! The one value model (docs/architecture.md): Python values as the server holds them, from request
//! decoding (captured variables) through the interpreter and the model's hook points to
//! saving. Heap values are `Rc`s, so `is` (and what `.save()` marks) is pointer identity,
//! as in Python; a job's values live on its thread only. Conversions to and from the wire
//! (`Captured`, pickles) are at the edges (`crate::program`), nowhere else.

pub mod autograd;
pub mod ctx;
pub mod dict;
pub mod drop;
pub mod dtype;
pub mod error;
pub mod float;
pub mod heap;
pub mod int;
pub mod list;
pub mod numpy;
pub mod object;
pub mod record;
pub mod repr;
pub mod set;
pub mod stack;
pub mod str;
pub mod tensor;
pub mod tensor_repr;
pub mod types;

use std::rc::Rc;

use num_bigint::BigInt;
use tch::{Device, Kind};

pub use dict::Dict;
pub use error::{ErrKind, PyErr, PyResult, TraceEntry};
pub use list::List;
pub use object::{BoundMethod, Class, Function, Instance, Native, NativeFn, PyModule};
pub use record::{Record, RecordKind};
pub use set::Set;
pub use str::PyStr;
pub use tensor::Tens;
pub use types::{ClassRef, TypeObj};

use crate::interp::host::HostObj;
use crate::interp::iter::PyIter;

#[derive(Clone)]
pub enum Value {
    None,
    Ellipsis,
    NotImplemented,
    Bool(bool),
    Int(i64),
    /// An int outside `i64` (always normalized: never holds a value that fits).
    BigInt(Rc<BigInt>),
    Float(f64),
    Str(Rc<PyStr>),
    Bytes(Rc<Vec<u8>>),
    List(Rc<List>),
    Tuple(Rc<drop::Items>),
    Dict(Rc<Dict>),
    /// `set` and `frozenset` (the latter with `frozen`).
    Set(Rc<Set>),
    Range(Rc<[i64; 3]>),
    Slice(Rc<[Value; 3]>),
    /// A function user code defined (`def`, `lambda`) or shipped by source.
    Function(Rc<Function>),
    /// A builtin function or a builtin's bound method.
    Native(Rc<Native>),
    /// A user function bound to an instance (`obj.method`).
    Method(Rc<BoundMethod>),
    /// A builtin type (`int`, `ValueError`, `torch.Tensor`).
    Type(&'static TypeObj),
    /// A class user code defined.
    Class(Rc<Class>),
    Instance(Rc<Instance>),
    Module(Rc<PyModule>),
    Tensor(Rc<Tens>),
    /// `torch.Size`.
    Size(Rc<Vec<i64>>),
    Dtype(Kind),
    Device(Device),
    /// transformers' `ModelOutput` and torch's namedtuple results (`torch.return_types.max`).
    Record(Rc<Record>),
    Iter(Rc<PyIter>),
    /// Objects the host provides: envoys, the tracer, invokers, iteration handles, caches.
    Host(Rc<dyn HostObj>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::new(PyStr::new(s)))
    }
    pub fn string(s: String) -> Value {
        Value::Str(Rc::new(PyStr::from_string(s)))
    }
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(List::new(items))
    }
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(drop::Items::new(items)))
    }
    pub fn dict(items: Vec<(Value, Value)>) -> PyResult<Value> {
        Ok(Value::Dict(Dict::from_pairs(items)?))
    }
    pub fn tensor(t: tch::Tensor) -> Value {
        Value::Tensor(Tens::new(t))
    }
    pub fn from_bigint(b: BigInt) -> Value {
        int::normalize(b)
    }
    pub fn slice(lo: Value, hi: Value, step: Value) -> Value {
        Value::Slice(Rc::new([lo, hi, step]))
    }

    /// Python's `type(x).__name__`.
    pub fn type_name(&self) -> String {
        match self {
            Value::Instance(i) => i.class.name(),
            Value::Record(r) => r.class.to_string(),
            Value::Host(h) => h.type_name().to_string(),
            other => other.builtin_type().name.to_string(),
        }
    }

    /// The builtin type of a non-instance value (`object` for instances and host objects).
    pub fn builtin_type(&self) -> &'static TypeObj {
        use types::*;
        match self {
            Value::None => &NONE_TYPE,
            Value::Ellipsis => &ELLIPSIS,
            Value::NotImplemented => &NOT_IMPLEMENTED,
            Value::Bool(_) => &BOOL,
            Value::Int(_) | Value::BigInt(_) => &INT,
            Value::Float(_) => &FLOAT,
            Value::Str(_) => &STR,
            Value::Bytes(_) => &BYTES,
            Value::List(_) => &LIST,
            Value::Tuple(_) => &TUPLE,
            Value::Dict(_) => &DICT,
            Value::Set(s) if s.frozen => &FROZENSET,
            Value::Set(_) => &SET,
            Value::Range(_) => &RANGE,
            Value::Slice(_) => &SLICE,
            Value::Function(_) => &FUNCTION,
            Value::Native(_) => &BUILTIN_FUNCTION,
            Value::Method(_) => &METHOD,
            Value::Type(_) | Value::Class(_) => &TYPE,
            Value::Module(_) => &MODULE,
            Value::Tensor(t) => match t.np {
                tensor::Np::Torch => &TENSOR,
                tensor::Np::Array => &NDARRAY,
                tensor::Np::Scalar => numpy::scalar_type(t.t.kind()),
            },
            Value::Size(_) => &SIZE,
            Value::Dtype(_) => &DTYPE,
            Value::Device(_) => &DEVICE,
            Value::Iter(_) => &ITERATOR,
            Value::Instance(_) | Value::Record(_) | Value::Host(_) => &OBJECT,
        }
    }

    /// `type(x)` as a class reference.
    pub fn class(&self) -> ClassRef {
        match self {
            Value::Instance(i) => i.class.clone(),
            Value::Host(h) => h.class().unwrap_or(ClassRef::Builtin(&types::OBJECT)),
            other => ClassRef::Builtin(other.builtin_type()),
        }
    }

    /// A stable identity for `is` and `id()`: the heap address, or for immutable scalars
    /// a value-derived one (CPython shares small ints and interned strings likewise).
    pub fn identity(&self) -> Identity {
        fn p<T: ?Sized>(r: &Rc<T>) -> Identity {
            Identity::Ptr(Rc::as_ptr(r) as *const u8 as usize)
        }
        match self {
            Value::None => Identity::Const(0),
            Value::Ellipsis => Identity::Const(1),
            Value::NotImplemented => Identity::Const(2),
            Value::Bool(b) => Identity::Const(3 + u64::from(*b)),
            Value::Int(i) => Identity::Int(*i),
            Value::Float(f) => Identity::Float(f.to_bits()),
            Value::Str(s) => Identity::Str(s.hash64()),
            Value::Dtype(k) => Identity::Const(100 + *k as u64),
            Value::Device(d) => Identity::Const(200 + dtype::device_code(*d)),
            Value::Type(t) => Identity::Ptr(*t as *const TypeObj as usize),
            Value::BigInt(r) => p(r),
            Value::Bytes(r) => p(r),
            Value::List(r) => p(r),
            Value::Tuple(r) => p(r),
            Value::Dict(r) => p(r),
            Value::Set(r) => p(r),
            Value::Range(r) => p(r),
            Value::Slice(r) => p(r),
            Value::Function(r) => p(r),
            Value::Native(r) => p(r),
            Value::Method(r) => p(r),
            Value::Class(r) => p(r),
            Value::Instance(r) => p(r),
            Value::Module(r) => p(r),
            Value::Tensor(r) => p(r),
            Value::Size(r) => p(r),
            Value::Record(r) => p(r),
            Value::Iter(r) => p(r),
            Value::Host(r) => Identity::Ptr(Rc::as_ptr(r) as *const u8 as usize),
        }
    }

    /// `x is y`.
    pub fn is(&self, other: &Value) -> bool {
        match (self.identity(), other.identity()) {
            // Equal strings are the same object only when interned; treat equal text as
            // identical (CPython interns identifiers and most literals).
            (Identity::Str(a), Identity::Str(b)) => {
                a == b
                    && matches!((self, other), (Value::Str(x), Value::Str(y)) if x.as_str() == y.as_str())
            }
            (a, b) => a == b,
        }
    }

    /// `id(x)` as a Python int.
    pub fn id(&self) -> i64 {
        match self.identity() {
            Identity::Ptr(p) => p as i64,
            Identity::Int(i) => i.wrapping_mul(0x9E37_79B9).wrapping_add(0x1000),
            Identity::Float(b) => (b >> 1) as i64,
            Identity::Str(h) => (h >> 2) as i64,
            Identity::Const(c) => 0x10_0000 + c as i64 * 16,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    pub fn as_tensor(&self) -> Option<&tch::Tensor> {
        match self {
            Value::Tensor(t) => Some(&t.t),
            _ => None,
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// Whether `isinstance(self, t)` for a builtin type.
    pub fn isinstance_builtin(&self, t: &'static TypeObj) -> bool {
        self.class().derives_from_builtin(t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Identity {
    Ptr(usize),
    Int(i64),
    Float(u64),
    Str(u64),
    Const(u64),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&repr::repr_plain(self))
    }
}
