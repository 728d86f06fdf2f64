//! Inert pickle decoding (docs/protocol.md).
//!
//! [`decode`] runs every opcode of protocols 0–5 into an arena [`Graph`] without importing
//! or calling anything: GLOBALs stay names, REDUCE/NEWOBJ/BUILD become [`Obj`] records,
//! persistent ids stay [`Node::PersId`]. The memo shares node ids, so a container memoized
//! empty and filled later is seen filled, and recursive structures are real cycles
//! (docs/protocol.md). Lengths are checked before allocation, errors carry the byte
//! offset, and [`Limits::max_nodes`] bounds memory.

mod bigint;
mod canon;
mod error;
mod graph;
mod node;
mod opcodes;
mod reader;
mod text;
mod vm;

#[cfg(test)]
mod tests;

pub(crate) use bigint::encode_i64;
pub use error::{ErrorKind, PickleError};
pub use graph::Graph;
pub use node::{Id, Node, Obj};

/// Resource bounds for [`decode_with`]. The machine is iterative and every value it
/// stores is bounded by the input length, so the node count is the one knob needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Maximum number of arena nodes (each pushed value is one node).
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_nodes: 10_000_000,
        }
    }
}

/// Decodes one pickle with [`Limits::default`]; bytes after STOP are ignored, as by
/// `pickle.loads`.
pub fn decode(bytes: &[u8]) -> Result<Graph, PickleError> {
    decode_with(bytes, &Limits::default())
}

/// Decodes one pickle under `limits`.
pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Graph, PickleError> {
    decode_prefix(bytes, limits).map(|(graph, _)| graph)
}

/// Decodes the pickle at the start of `bytes`; also returns the offset just after its
/// STOP, where a following pickle or raw data begins (legacy torch.save streams).
pub fn decode_prefix(bytes: &[u8], limits: &Limits) -> Result<(Graph, usize), PickleError> {
    vm::Vm::run(bytes, limits)
}
