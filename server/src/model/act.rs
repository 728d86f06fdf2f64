//! Values that flow through a model's hook points: what a module was called with and what
//! it returned, structured like the HF PyTorch objects (tensors, tuples, `ModelOutput`
//! records, caches) so the interpreter can show user code exactly what nnsight would.

use tch::Tensor;

/// One value at a hook point. Tensors are shallow handles: the interpreter and the model
/// share storage, so in-place edits by user code flow downstream (semantics.md §2.4).
#[derive(Debug)]
pub enum Act {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tensor(Tensor),
    Tuple(Vec<Act>),
    List(Vec<Act>),
    /// A dict with string keys (a call's keyword arguments).
    Dict(Vec<(String, Act)>),
    /// A `transformers.utils.ModelOutput`: attribute, string-key and integer access over the
    /// fields that are not `None` (semantics.md §2.5).
    Record(Record),
    /// An object user code may carry but not look into (e.g. `DynamicCache`).
    Opaque(&'static str),
}

/// A `ModelOutput`-like record: its Python class and its fields in declaration order.
#[derive(Debug)]
pub struct Record {
    pub module: &'static str,
    pub class: &'static str,
    pub fields: Vec<(&'static str, Act)>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Act> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl Act {
    /// A handle to the same values (tensors share storage, like Python references).
    pub fn share(&self) -> Act {
        match self {
            Act::None => Act::None,
            Act::Bool(b) => Act::Bool(*b),
            Act::Int(i) => Act::Int(*i),
            Act::Float(f) => Act::Float(*f),
            Act::Str(s) => Act::Str(s.clone()),
            Act::Tensor(t) => Act::Tensor(t.shallow_clone()),
            Act::Tuple(v) => Act::Tuple(v.iter().map(Act::share).collect()),
            Act::List(v) => Act::List(v.iter().map(Act::share).collect()),
            Act::Dict(v) => Act::Dict(v.iter().map(|(k, v)| (k.clone(), v.share())).collect()),
            Act::Record(r) => Act::Record(Record {
                module: r.module,
                class: r.class,
                fields: r.fields.iter().map(|(n, v)| (*n, v.share())).collect(),
            }),
            Act::Opaque(k) => Act::Opaque(k),
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Act::None => "NoneType",
            Act::Bool(_) => "bool",
            Act::Int(_) => "int",
            Act::Float(_) => "float",
            Act::Str(_) => "str",
            Act::Tensor(_) => "Tensor",
            Act::Tuple(_) => "tuple",
            Act::List(_) => "list",
            Act::Dict(_) => "dict",
            Act::Record(r) => r.class,
            Act::Opaque(k) => k,
        }
    }
}

/// The arguments of one module call, as `(args, kwargs)` (nnsight's `.inputs`).
#[derive(Debug)]
pub struct Call {
    pub args: Vec<Act>,
    pub kwargs: Vec<(String, Act)>,
}

impl Call {
    pub fn positional(args: Vec<Act>) -> Call {
        Call {
            args,
            kwargs: Vec::new(),
        }
    }

    pub fn kwarg(&self, name: &str) -> Option<&Act> {
        self.kwargs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}
