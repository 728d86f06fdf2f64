//! What the client asked: turns a decoded payload into one validated [`Request`] (model key,
//! method, source, and the payload's inputs and captured scope) that later stages require (TGI's
//! `ValidGenerateRequest` pattern), whichever client generation sent it. G2 (nnsight 0.8.x)
//! payloads are `(tracer, (source, globals, locals))`; G1 (0.5–0.7) payloads are a pickled
//! `RequestModel` holding the block compiled into a function ([`g1`]; docs/protocol.md). The
//! model, envoys and tokenizer are persistent ids or envoy objects carrying their `path`.

mod dialect;
mod g1;
mod g2;
pub mod inflate;
mod model_key;

pub use dialect::{DanglingForm, Dialect};
pub use g1::{decode_g1, mediator_body};
pub use g2::{Envelope, decode_g2};
pub use inflate::{DecodeBudget, Limits};
pub use model_key::ModelKey;

use std::sync::Arc;

use localndif_wire::pickle::{Graph, Id};

/// What the traced call does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// `model.trace(...)`: one forward.
    Trace,
    /// `model.generate(...)`.
    Generate,
    /// `model.session()`: a body containing several traces.
    Session,
}

/// Which client generation sent a request: nnsight 0.5–0.7 (G1) or 0.8.x (G2). The
/// program runner is the same; a few behaviours follow the client's own local semantics
/// (G1 clients tokenize themselves and pass no mask-derived `position_ids`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientGeneration {
    G1,
    G2,
}

/// One validated request, independent of the client generation.
#[derive(Debug, Clone)]
pub struct Request {
    pub model_key: ModelKey,
    pub method: Method,
    /// The decoded payload, kept as the inert graph it is: the job turns the nodes below
    /// into values on its own thread (`job::load`), keeping shared references shared.
    pub payload: Arc<Graph>,
    /// The shipped tracer object (what `as tracer` names in the captured scope).
    pub tracer: Option<Id>,
    /// The envoy the trace was opened on (`edited.trace(...)`): its shipped `model.edit()`
    /// blocks run first in the trace (nnsight's `Envoy._edits`, 0.7's `_default_mediators`).
    pub model: Option<Id>,
    /// `model.edit()` blocks shipped beside a model sent by persistent id (nnsight 0.5.0):
    /// they run first in a trace, as the traced handle's own edits do.
    pub edits: Vec<Id>,
    /// The traced call's positional arguments (`trace("prompt")` → one string).
    pub args: Vec<Id>,
    pub kwargs: Vec<(String, Id)>,
    /// The `with` body as source, padded with newlines so line numbers are the user's.
    pub source: String,
    /// The user's file, for tracebacks.
    pub filename: String,
    pub globals: Vec<(String, Id)>,
    pub locals: Vec<(String, Id)>,
    /// Whether the client wants a zstd-compressed result.
    pub compress: bool,
    pub client: ClientGeneration,
    /// The payload is nnsight 0.5.x's: its functions travel as CPython bytecode, and what
    /// the server sends it back (a `session.local()` block) must load without nnsight
    /// 0.6's serialization helpers.
    pub nnsight_05: bool,
    /// The client's Python as its `python-version` header says (`sys.version`, G1): what
    /// the bytecode of functions shipped by nnsight 0.5 is for.
    pub python: Option<String>,
}

/// What a client sent, before decoding: enough to decode it again elsewhere (a cluster
/// front validates a request, a worker decodes it anew to run it).
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    /// nnsight 0.5–0.7: the raw body and the headers it is read with (`python`: the
    /// client's `python-version`, empty when it sent none).
    G1 { model_key: String, body: bytes::Bytes, compress: bool, python: String },
    /// nnsight 0.8.x: the multipart `data` (JSON envelope) and `blob` fields.
    G2 { envelope: bytes::Bytes, blob: bytes::Bytes },
}

impl Submission {
    pub fn decode(&self, limits: &Limits) -> Result<Request, RequestError> {
        match self {
            Submission::G1 { model_key, body, compress, python } => {
                let mut r = decode_g1(model_key, body, *compress, limits)?;
                r.python = Some(python.clone()).filter(|p| !p.is_empty());
                Ok(r)
            }
            Submission::G2 { envelope, blob } => {
                let envelope: Envelope = serde_json::from_slice(envelope).map_err(|e| RequestError::Envelope(e.to_string()))?;
                decode_g2(&envelope, blob, limits)
            }
        }
    }
}

/// Why a payload was refused; the text is the `detail` of a 400.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("invalid request envelope: {0}")]
    Envelope(String),
    #[error("could not decompress the request payload: {0}")]
    Decompress(String),
    #[error("could not decode the request payload: {0}")]
    Pickle(String),
    #[error("unexpected request payload: {0}")]
    Shape(String),
    #[error("{}", too_large(*limit, *declared))]
    TooLarge { limit: usize, declared: Option<u64> },
    #[error("The server is decoding as many request bytes as it may at once ({budget} bytes, `serve --decode-budget`): try again shortly.")]
    Busy { budget: usize },
    #[error("invalid model key '{key}': {why}")]
    ModelKey { key: String, why: String },
}

fn too_large(limit: usize, declared: Option<u64>) -> String {
    match declared {
        Some(n) => format!("The request payload is {n} bytes decompressed; this server takes at most {limit} (`serve --max-request-bytes`)."),
        None => format!("The request payload decompresses to more than {limit} bytes, the most this server takes (`serve --max-request-bytes`)."),
    }
}

impl RequestError {
    /// The HTTP status a refusal is: 413 past the size cap, 503 while the decode budget
    /// is spent, 400 for everything a client got wrong.
    pub fn http_status(&self) -> u16 {
        match self {
            RequestError::TooLarge { .. } => 413,
            RequestError::Busy { .. } => 503,
            _ => 400,
        }
    }
}

#[cfg(test)]
mod tests;
