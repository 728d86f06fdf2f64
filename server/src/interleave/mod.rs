//! Interleaving (docs/semantics.md §1.5, docs/architecture.md): the user's trace bodies run as
//! coroutines on the job thread ([`worker`]) and meet the model's forward at hook points
//! ([`interleaver`]). A worker parks on a [`loc::Loc`] ("the output of model.x,
//! occurrence n") until the forward gets there, reads or swaps its rows of the value
//! ([`batch`]), and runs on to its next request; exactly one side runs at a time.
//! [`envoy`] gives user code its handles on modules, [`tracer`] the traces, invokes and
//! sessions that drive it all; [`cache`] `tracer.cache()`; [`grad`] `with
//! loss.backward():`; [`source`] `module.source`; [`local`] the blocks of a session that
//! run on the client.

pub mod batch;
pub mod cache;
pub mod envoy;
pub mod grad;
pub mod interleaver;
pub mod loc;
pub mod local;
pub mod source;
pub mod tokenizer;
pub mod tracer;
pub mod worker;

pub use envoy::ModelCtx;
pub use interleaver::TreeNames;
pub use tracer::{TraceKind, TracerObj};
pub use worker::LogSink;
