//! Scale-out (docs/cluster.md): the same binary as stateless fronts (`serve --role front`)
//! and model workers (`localndif worker`) sharing a Redis ([`bus`]: the job queue as Redis
//! Streams, statuses, the update channel, the worker registry) and an object store
//! ([`blobs`]: results). A single `serve` needs neither and stays the default.

pub mod blobs;
pub mod bus;
pub mod front;
pub mod worker;

pub use blobs::Blobs;
pub use bus::Bus;
pub use front::Front;
pub use worker::{Worker, WorkerConfig};
