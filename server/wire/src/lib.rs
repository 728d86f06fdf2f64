//! Wire formats of NDIF/nnsight payloads, without Python or libtorch:
//!
//! * [`pickle`]: an inert pickle VM (request payloads, torch.save `data.pkl`);
//! * [`torch`]: dtypes and tensor decoding (request tensors, torch.save archives);
//! * [`torchsave`]: a `torch.save` writer for responses;
//! * [`zstdio`]: zstd framing of requests and result blobs.
//!
//! What the payloads look like: docs/protocol.md; real ones are in fixtures/captures.

mod error;
pub mod fuzz;
pub mod pickle;
pub mod torch;
pub mod torchsave;
pub mod zstdio;

pub use error::WireError;
