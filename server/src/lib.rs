//! localndif: a local NDIF-compatible server. nnsight clients send their traced block as
//! Python source plus captured variables (pickled); this crate decodes the pickle inertly
//! (`wire`), extracts what was asked (`request`), interprets the source (`interp`) in
//! lock-step with a hooked tch model (`interleave`, `model`), and returns the saved values
//! as `torch.save` bytes. `api` and `jobs` are the control plane. See ../shared/design.md.

pub use localndif_wire as wire;

pub mod api;
pub mod exec;
pub mod interleave;
pub mod interp;
pub mod jobs;
pub mod model;
pub mod request;
