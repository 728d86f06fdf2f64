//! localndif: a local NDIF-compatible server. nnsight clients send their traced block as
//! Python source plus captured variables (pickled); this crate decodes the pickle inertly
//! (`wire`), extracts what was asked (`request`), interprets the source (`interp`) in
//! lock-step with a hooked tch model (`interleave`, `model`), and returns the saved values
//! as `torch.save` bytes (`job`). `api` and `jobs` are the control plane; `value` is the
//! one value model everything in between shares.

pub use localndif_wire as wire;

pub mod api;
pub mod cluster;
pub mod faults;
pub mod fuzz;
pub mod interleave;
pub mod interp;
pub mod job;
pub mod jobs;
pub mod model;
pub mod request;
pub mod text;
pub mod value;
