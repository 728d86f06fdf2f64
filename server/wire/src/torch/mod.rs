//! Torch tensor encodings without libtorch: dtypes and storage classes, the tensors of
//! request payloads (`_rebuild_tensor_v2` over a legacy `_load_from_bytes` stream,
//! docs/protocol.md) and of `torch.save` zip archives (docs/protocol.md).

mod archive;
mod dtype;
mod legacy;
mod rebuild;
mod storage;
mod tensor;

pub use archive::{Storages, torch_load};
pub use dtype::DType;
pub use rebuild::{tensor_from_archive, tensor_from_graph};
pub use tensor::TensorData;
