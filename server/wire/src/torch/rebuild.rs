//! Recognising `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
//! requires_grad, backward_hooks[, metadata])` calls in a decoded pickle
//! (docs/protocol.md) and materialising them as [`TensorData`].

use super::TensorData;
use super::archive::{Storages, archive_storage};
use super::legacy::load_from_bytes;
use super::storage::{Storage, bad};
use super::tensor::View;
use crate::WireError;
use crate::pickle::{Graph, Id};

/// The tensor at `id` in a request payload, whose storage is
/// `torch.storage._load_from_bytes(<legacy torch.save stream>)`. `Ok(None)` when the
/// node is not a `_rebuild_tensor_v2` call.
pub fn tensor_from_graph(g: &Graph, id: Id) -> Result<Option<TensorData>, WireError> {
    rebuild(g, id, load_from_bytes)
}

/// The tensor at `id` in the `data.pkl` of a [`super::torch_load`]ed archive, whose
/// storage is a persistent id naming a `data/<key>` record.
pub fn tensor_from_archive(
    g: &Graph,
    id: Id,
    storages: &Storages,
) -> Result<Option<TensorData>, WireError> {
    rebuild(g, id, |g, storage| archive_storage(g, storage, storages))
}

fn rebuild<'s>(
    g: &Graph,
    id: Id,
    storage_of: impl FnOnce(&Graph, Id) -> Result<Storage<'s>, WireError>,
) -> Result<Option<TensorData>, WireError> {
    let Some(call) = g.obj(id) else {
        return Ok(None);
    };
    if g.global(id) != Some(("torch._utils", "_rebuild_tensor_v2")) {
        return Ok(None);
    }
    let args = call.args.and_then(|args| g.tuple_items(args));
    let Some(&[storage, offset, size, stride, requires_grad, _hooks, ..]) = args else {
        return Err(bad("_rebuild_tensor_v2 takes at least 6 arguments"));
    };
    let storage = storage_of(g, storage)?;
    let offset = index(g, offset).ok_or_else(|| bad("bad storage_offset"))?;
    let size = indices(g, size).ok_or_else(|| bad("bad size"))?;
    let stride = indices(g, stride).ok_or_else(|| bad("bad stride"))?;
    let requires_grad = g
        .as_bool(requires_grad)
        .ok_or_else(|| bad("requires_grad is not a bool"))?;
    let view = View {
        storage: &storage.bytes,
        dtype: storage.dtype,
        offset,
        size: &size,
        stride: &stride,
    };
    let data = view.gather()?;
    Ok(Some(TensorData::with_grad(storage.dtype, size, data, requires_grad)?))
}

fn index(g: &Graph, id: Id) -> Option<usize> {
    g.as_int(id).and_then(|v| usize::try_from(v).ok())
}

fn indices(g: &Graph, id: Id) -> Option<Vec<usize>> {
    g.tuple_items(id)?
        .iter()
        .map(|&item| index(g, item))
        .collect()
}
