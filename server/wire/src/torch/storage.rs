//! Typed storages as torch pickles them: the persistent-id tuple
//! `('storage', torch.<X>Storage, key, location, numel[, view_metadata])` shared by the
//! legacy stream (docs/protocol.md) and the zip format (docs/protocol.md).

use std::borrow::Cow;

use super::DType;
use crate::WireError;
use crate::pickle::{Graph, Id, Node};

/// Raw little-endian elements of one dtype.
pub(crate) struct Storage<'a> {
    pub dtype: DType,
    pub bytes: Cow<'a, [u8]>,
}

/// The parsed persistent id of a storage.
pub(crate) struct StorageRef<'g> {
    pub dtype: DType,
    pub key: &'g str,
    pub numel: usize,
}

impl StorageRef<'_> {
    /// Size in bytes of the storage this reference declares.
    pub fn nbytes(&self) -> Result<usize, WireError> {
        self.numel
            .checked_mul(self.dtype.size())
            .ok_or_else(|| bad("storage size overflows"))
    }
}

pub(crate) fn bad(message: impl Into<String>) -> WireError {
    WireError::Tensor(message.into())
}

/// Reads a `PersId` node holding the storage tuple.
pub(crate) fn storage_ref(g: &Graph, id: Id) -> Result<StorageRef<'_>, WireError> {
    let Some(Node::PersId(pid)) = g.node(id) else {
        return Err(bad("storage is not a persistent id"));
    };
    let items = g
        .tuple_items(*pid)
        .ok_or_else(|| bad("storage persistent id is not a tuple"))?;
    let [tag, class, key, _location, numel, view_metadata @ ..] = items else {
        return Err(bad("storage persistent id has fewer than 5 items"));
    };
    if g.as_str(*tag) != Some("storage") {
        return Err(bad("persistent id is not a 'storage' tuple"));
    }
    if view_metadata
        .iter()
        .any(|&v| !matches!(g.node(v), Some(Node::None)))
    {
        return Err(bad("legacy storage views are not supported"));
    }
    let dtype = match g.node(*class) {
        Some(Node::Global { module, name }) if module == "torch" => DType::from_storage_class(name),
        _ => None,
    };
    Ok(StorageRef {
        dtype: dtype.ok_or_else(|| bad("unsupported storage class"))?,
        key: g
            .as_str(*key)
            .ok_or_else(|| bad("storage key is not a str"))?,
        numel: g
            .as_int(*numel)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad("bad storage numel"))?,
    })
}
