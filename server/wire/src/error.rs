//! The crate-wide error type.

use crate::pickle::PickleError;

/// Anything that can go wrong decoding or encoding wire payloads.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error(transparent)]
    Pickle(#[from] PickleError),
    #[error("zstd: {0}")]
    Zstd(#[source] std::io::Error),
    #[error("decompressed payload exceeds {limit} bytes")]
    TooLarge { limit: usize },
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("torch.save archive: {0}")]
    Archive(String),
    #[error("tensor: {0}")]
    Tensor(String),
}
