//! The legacy (non-zip) `torch.save` stream inside `torch.storage._load_from_bytes(b)`
//! (docs/protocol.md): five protocol-2 pickles (magic number, protocol 1001, sys info,
//! the storage as a persistent id, the storage keys), then per key a u64 LE element
//! count and the raw little-endian elements.

use std::borrow::Cow;

use super::storage::{Storage, bad, storage_ref};
use crate::WireError;
use crate::pickle::{self, Graph, Id, Limits, Node};

/// 0x1950a86a20f9469cfc6c, little-endian two's complement.
const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
const PROTOCOL_VERSION: i64 = 1001;

/// The storage of a `torch.storage._load_from_bytes(<bytes>)` call node.
pub(crate) fn load_from_bytes(g: &Graph, id: Id) -> Result<Storage<'static>, WireError> {
    if g.global(id) != Some(("torch.storage", "_load_from_bytes")) {
        return Err(bad("storage is not torch.storage._load_from_bytes(...)"));
    }
    let args = g
        .obj(id)
        .and_then(|obj| obj.args)
        .and_then(|args| g.tuple_items(args));
    let stream = match args {
        Some(&[bytes]) => g.as_bytes(bytes),
        _ => None,
    };
    parse(stream.ok_or_else(|| bad("_load_from_bytes takes one bytes argument"))?)
}

/// Parses a legacy stream holding one storage.
fn parse(stream: &[u8]) -> Result<Storage<'static>, WireError> {
    let mut rest = stream;
    let magic = next_pickle(&mut rest)?;
    if magic.node(magic.root) != Some(&Node::BigInt(MAGIC.to_vec())) {
        return Err(bad("legacy torch.save stream: bad magic number"));
    }
    let protocol = next_pickle(&mut rest)?;
    if protocol.as_int(protocol.root) != Some(PROTOCOL_VERSION) {
        return Err(bad(
            "legacy torch.save stream: unsupported protocol version",
        ));
    }
    let sys_info = next_pickle(&mut rest)?;
    if sys_info
        .dict_get(sys_info.root, "little_endian")
        .and_then(|v| sys_info.as_bool(v))
        != Some(true)
    {
        return Err(bad("legacy torch.save stream: not little-endian"));
    }
    let object = next_pickle(&mut rest)?;
    let storage = storage_ref(&object, object.root)?;
    let keys = next_pickle(&mut rest)?;
    match keys.tuple_items(keys.root) {
        Some(&[key]) if keys.as_str(key) == Some(storage.key) => {}
        _ => return Err(bad("legacy torch.save stream: storage keys do not match")),
    }
    let Some((numel, tail)) = rest.split_first_chunk::<8>() else {
        return Err(bad(
            "legacy torch.save stream: storage size header truncated",
        ));
    };
    rest = tail;
    if usize::try_from(u64::from_le_bytes(*numel)).ok() != Some(storage.numel) {
        return Err(bad(
            "legacy torch.save stream: storage size header mismatch",
        ));
    }
    let bytes = take(&mut rest, storage.nbytes()?)?;
    Ok(Storage {
        dtype: storage.dtype,
        bytes: Cow::Owned(bytes.to_vec()),
    })
}

fn next_pickle(rest: &mut &[u8]) -> Result<Graph, WireError> {
    let (graph, end) = pickle::decode_prefix(rest, &Limits::default())?;
    *rest = &rest[end..];
    Ok(graph)
}

fn take<'a>(rest: &mut &'a [u8], len: usize) -> Result<&'a [u8], WireError> {
    if len > rest.len() {
        return Err(bad("legacy torch.save stream: storage data truncated"));
    }
    let (head, tail) = rest.split_at(len);
    *rest = tail;
    Ok(head)
}
