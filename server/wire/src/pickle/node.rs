//! The arena node types of a decoded pickle (docs/protocol.md).

/// Index of a node in [`super::Graph::nodes`].
pub type Id = usize;

/// One pickled value. Containers hold [`Id`]s, so shared references and cycles are real.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    None,
    Bool(bool),
    Int(i64),
    /// An int outside `i64`: minimal little-endian two's complement bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// A protocol 0–2 byte string (STRING, BINSTRING, SHORT_BINSTRING), undecoded.
    PyStr2(Vec<u8>),
    ByteArray(Vec<u8>),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    /// Insertion order; a repeated key is kept twice (the later one wins in Python).
    Dict(Vec<(Id, Id)>),
    Set(Vec<Id>),
    FrozenSet(Vec<Id>),
    /// GLOBAL / STACK_GLOBAL / INST reference, as written (no `fix_imports` renaming:
    /// `__builtin__` stays `__builtin__`); never imported.
    Global {
        module: String,
        name: String,
    },
    Object(Obj),
    /// A persistent id (PERSID / BINPERSID); the id value is the referenced node.
    PersId(Id),
    /// An extension-registry code (EXT1/2/4).
    Ext(u32),
    /// A protocol-5 out-of-band buffer (NEXT_BUFFER), `index` in stream order.
    OutOfBand {
        index: usize,
        readonly: bool,
    },
}

/// An object built by a call, mirroring `__reduce_ex__`: `callable(*args, **kwargs)`,
/// then every BUILD state in order, then list and dict items.
#[derive(Debug, Clone, PartialEq)]
pub struct Obj {
    /// The class or function (a `Global` unless built inside the pickle). For a value
    /// that received BUILD without being an object, the original value (`args` is `None`).
    pub callable: Id,
    pub args: Option<Id>,
    /// NEWOBJ_EX keyword arguments.
    pub kwargs: Option<Id>,
    /// Created by NEWOBJ / NEWOBJ_EX (`cls.__new__(cls, *args)`), not by a call.
    pub newobj: bool,
    /// Each BUILD appends its state.
    pub state: Vec<Id>,
    /// APPEND(S) / ADDITEMS applied to the object.
    pub listitems: Vec<Id>,
    /// SETITEM(S) applied to the object (how OrderedDict and defaultdict arrive).
    pub dictitems: Vec<(Id, Id)>,
}

impl Obj {
    pub(crate) fn call(callable: Id, args: Option<Id>, kwargs: Option<Id>, newobj: bool) -> Self {
        Self {
            callable,
            args,
            kwargs,
            newobj,
            state: Vec::new(),
            listitems: Vec::new(),
            dictitems: Vec::new(),
        }
    }
}

impl Node {
    /// A short type name for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::None => "None",
            Node::Bool(_) => "bool",
            Node::Int(_) | Node::BigInt(_) => "int",
            Node::Float(_) => "float",
            Node::Str(_) => "str",
            Node::Bytes(_) => "bytes",
            Node::PyStr2(_) => "py2 str",
            Node::ByteArray(_) => "bytearray",
            Node::List(_) => "list",
            Node::Tuple(_) => "tuple",
            Node::Dict(_) => "dict",
            Node::Set(_) => "set",
            Node::FrozenSet(_) => "frozenset",
            Node::Global { .. } => "global",
            Node::Object(_) => "object",
            Node::PersId(_) => "persistent id",
            Node::Ext(_) => "extension",
            Node::OutOfBand { .. } => "out-of-band buffer",
        }
    }
}
