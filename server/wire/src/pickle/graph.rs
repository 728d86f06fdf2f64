//! The decoded arena and its read helpers.

use super::node::{Id, Node, Obj};

/// A decoded pickle: `nodes[root]` is the value STOP returned.
///
/// `nodes` also holds values that were built and then popped, such as the
/// state-setter calls `_fill(fn, globals)` that cloudpickle emits followed by POP
/// (docs/protocol.md): find them by scanning `nodes` for calls whose first argument
/// is the object they set up.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub root: Id,
}

impl Graph {
    pub fn node(&self, id: Id) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// A str: `Str`, or an ASCII protocol 0–2 byte string (Python's default decoding).
    pub fn as_str(&self, id: Id) -> Option<&str> {
        match self.node(id)? {
            Node::Str(s) => Some(s),
            Node::PyStr2(b) if b.is_ascii() => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    pub fn as_int(&self, id: Id) -> Option<i64> {
        match self.node(id)? {
            Node::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_bool(&self, id: Id) -> Option<bool> {
        match self.node(id)? {
            Node::Bool(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_bytes(&self, id: Id) -> Option<&[u8]> {
        match self.node(id)? {
            Node::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn obj(&self, id: Id) -> Option<&Obj> {
        match self.node(id)? {
            Node::Object(obj) => Some(obj),
            _ => None,
        }
    }

    /// An object's `__setstate__` dict: its last BUILD state that is a dict.
    pub fn dict_state(&self, obj: &Obj) -> Option<Id> {
        obj.state.iter().rev().copied().find(|&s| matches!(self.node(s), Some(Node::Dict(_))))
    }

    /// `(module, name)` of a `Global`, or of the `Global` an object was called from.
    pub fn global(&self, id: Id) -> Option<(&str, &str)> {
        match self.node(id)? {
            Node::Global { module, name } => Some((module, name)),
            Node::Object(obj) => match self.node(obj.callable)? {
                Node::Global { module, name } => Some((module, name)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value under a str key of a `Dict` (or of an object's SETITEMS items, e.g. an
    /// OrderedDict); the last occurrence wins, as in Python.
    pub fn dict_get(&self, id: Id, key: &str) -> Option<Id> {
        let items = match self.node(id)? {
            Node::Dict(items) => items,
            Node::Object(obj) => &obj.dictitems,
            _ => return None,
        };
        items
            .iter()
            .rev()
            .find(|(k, _)| self.as_str(*k) == Some(key))
            .map(|&(_, v)| v)
    }

    /// The items of a `Tuple` or `List`.
    pub fn tuple_items(&self, id: Id) -> Option<&[Id]> {
        match self.node(id)? {
            Node::Tuple(items) | Node::List(items) => Some(items),
            _ => None,
        }
    }
}
