//! What `torch.save` writes, as a graph: containers refer to nodes by index, so a value
//! reachable twice is written once and referenced through the pickle memo, and a
//! container that contains itself round-trips (pickle's own memo rules).

use super::Saved;
use crate::torch::TensorData;

/// Index of a node in [`SaveGraph::nodes`].
pub type SaveId = usize;

#[derive(Debug, Clone, PartialEq)]
pub enum SaveNode {
    None,
    Bool(bool),
    Int(i64),
    /// An int outside `i64` as little-endian two's complement bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<SaveId>),
    Tuple(Vec<SaveId>),
    Dict(Vec<(SaveId, SaveId)>),
    OrderedDict(Vec<(SaveId, SaveId)>),
    Set(Vec<SaveId>),
    FrozenSet(Vec<SaveId>),
    Tensor(TensorData),
    /// A class or function by reference (`torch.float32`, `builtins.slice`).
    Global { module: String, name: String },
    /// `module.name(*args)` (or, with `newobj`, `cls.__new__(cls, *args)`), then its
    /// dict items (SETITEMS), then BUILD with `state` — the order pickle's `save_reduce`
    /// writes them in (how a `ModelOutput` or a `DynamicCache` arrives).
    Object {
        module: String,
        name: String,
        newobj: bool,
        args: Vec<SaveId>,
        items: Vec<(SaveId, SaveId)>,
        state: Option<SaveId>,
    },
    /// `target`, after `module.name(target, state)` was called on it: pickle's reduce with
    /// a state setter, as cloudpickle writes a function (its globals arrive once the
    /// function is in the memo, so they may refer back to it).
    SetState {
        target: SaveId,
        module: String,
        name: String,
        state: SaveId,
    },
}

/// A value to save; `root` is what `torch.load` returns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SaveGraph {
    pub nodes: Vec<SaveNode>,
    pub root: SaveId,
}

impl SaveGraph {
    pub fn push(&mut self, node: SaveNode) -> SaveId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// The graph of a tree-shaped value.
    pub fn from_tree(value: &Saved) -> SaveGraph {
        let mut g = SaveGraph::default();
        g.root = g.add_tree(value);
        g
    }

    fn add_tree(&mut self, value: &Saved) -> SaveId {
        let node = match value {
            Saved::None => SaveNode::None,
            Saved::Bool(b) => SaveNode::Bool(*b),
            Saved::Int(v) => SaveNode::Int(*v),
            Saved::BigInt(b) => SaveNode::BigInt(b.clone()),
            Saved::Float(v) => SaveNode::Float(*v),
            Saved::Str(s) => SaveNode::Str(s.clone()),
            Saved::Bytes(b) => SaveNode::Bytes(b.clone()),
            Saved::List(items) => SaveNode::List(items.iter().map(|i| self.add_tree(i)).collect()),
            Saved::Tuple(items) => SaveNode::Tuple(items.iter().map(|i| self.add_tree(i)).collect()),
            Saved::Dict(items) => SaveNode::Dict(self.add_pairs(items)),
            Saved::OrderedDict(items) => SaveNode::OrderedDict(self.add_pairs(items)),
            Saved::Tensor(t) => SaveNode::Tensor(t.clone()),
            Saved::Object { module, name, args, state } => SaveNode::Object {
                module: module.clone(),
                name: name.clone(),
                newobj: false,
                args: args.iter().map(|a| self.add_tree(a)).collect(),
                items: Vec::new(),
                state: state.as_ref().map(|s| self.add_tree(s)),
            },
        };
        self.push(node)
    }

    fn add_pairs(&mut self, items: &[(Saved, Saved)]) -> Vec<(SaveId, SaveId)> {
        items.iter().map(|(k, v)| (self.add_tree(k), self.add_tree(v))).collect()
    }
}
