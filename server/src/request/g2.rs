//! G2 (nnsight 0.8.x) requests: the multipart `data` envelope (docs/protocol.md) and the
//! `blob` payload `(tracer, (source, globals, locals))` (docs/protocol.md), decoded inertly.

use localndif_wire::pickle::{self, Graph, Id, Node};
use std::sync::Arc;
use serde::Deserialize;

use super::inflate::{Limits, inflate};
use super::{Method, ModelKey, Request, RequestError};

/// The multipart `data` part: `RequestModel.model_dump_json()` of 0.8.1.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub model_key: String,
    #[serde(default)]
    pub session_id: String,
    #[serde(default = "yes")]
    pub compress: bool,
    #[serde(default)]
    pub env: serde_json::Value,
}

fn yes() -> bool {
    true
}

/// Decodes a G2 payload into a [`Request`].
pub fn decode_g2(envelope: &Envelope, blob: &[u8], limits: &Limits) -> Result<Request, RequestError> {
    let model_key = ModelKey::parse(&envelope.model_key)?;
    // Sniffed rather than trusting the flag (docs/protocol.md).
    let (raw, _held) = inflate(blob, limits)?;
    let g = pickle::decode(&raw).map_err(|e| RequestError::Pickle(e.to_string()))?;
    let x = Extract { g: &g };
    let [tracer, block] = x.tuple_n::<2>(g.root, "the payload")?;
    let [source, globals, locals] = x.tuple_n::<3>(block, "the code block")?;
    let source = x
        .str(source)
        .ok_or_else(|| shape("the code block's source is not a string"))?
        .to_string();
    let (tmodule, tclass) = x
        .class(tracer)
        .ok_or_else(|| shape("the tracer is not an object"))?;
    let state = x.state(tracer);
    let method = match (tmodule, tclass) {
        ("nnsight.tracing.tracer", "Tracer") => Method::Session,
        (_, "InterleavingTracer") => match state.and_then(|s| x.get(s, "fn")) {
            Some(f) => x.method_of(f)?,
            None => Method::Trace,
        },
        (m, c) => return Err(shape(&format!("unknown tracer class {m}.{c}"))),
    };
    let filename = state
        .and_then(|s| x.get(s, "info"))
        .and_then(|i| x.state(i))
        .and_then(|i| x.get(i, "frame"))
        .and_then(|f| x.state(f))
        .and_then(|f| x.get(f, "f_code"))
        .and_then(|c| x.state(c))
        .and_then(|c| x.get(c, "co_filename"))
        .and_then(|n| x.str(n))
        .unwrap_or("<nnsight trace>")
        .to_string();
    let args = match state.and_then(|s| x.get(s, "args")) {
        Some(a) => x.items(a).ok_or_else(|| shape("the tracer's args are not a tuple"))?,
        None => Vec::new(),
    };
    let kwargs = match state.and_then(|s| x.get(s, "kwargs")) {
        Some(k) => x.named(k)?,
        None => Vec::new(),
    };
    let globals = x.named(globals)?;
    let locals = x.named(locals)?;
    Ok(Request {
        model_key,
        method,
        source,
        filename,
        compress: envelope.compress,
        tracer: Some(tracer),
        model: state.and_then(|s| x.get(s, "envoy").or_else(|| x.get(s, "model"))),
        args,
        kwargs,
        globals,
        locals,
        payload: Arc::new(g),
        edits: Vec::new(),
        client: super::ClientGeneration::G2,
        nnsight_05: false,
        python: None,
    })
}

fn shape(why: &str) -> RequestError {
    RequestError::Shape(why.to_string())
}

/// Read-only views over the decoded graph.
struct Extract<'g> {
    g: &'g Graph,
}

impl<'g> Extract<'g> {
    fn node(&self, id: Id) -> Option<&'g Node> {
        self.g.node(id)
    }

    fn str(&self, id: Id) -> Option<&'g str> {
        self.g.as_str(id)
    }

    fn items(&self, id: Id) -> Option<Vec<Id>> {
        self.g.tuple_items(id).map(<[Id]>::to_vec)
    }

    fn tuple_n<const N: usize>(&self, id: Id, what: &str) -> Result<[Id; N], RequestError> {
        let items = self
            .items(id)
            .ok_or_else(|| shape(&format!("{what} is not a tuple")))?;
        <[Id; N]>::try_from(items)
            .map_err(|v| shape(&format!("{what} has {} items, expected {N}", v.len())))
    }

    /// `(module, name)` of an object's class when the class is a GLOBAL.
    fn class(&self, id: Id) -> Option<(&'g str, &'g str)> {
        self.g.obj(id)?;
        self.g.global(id)
    }

    /// The object's `__setstate__` dict (its last BUILD state that is a dict).
    fn state(&self, id: Id) -> Option<Id> {
        self.g.dict_state(self.g.obj(id)?)
    }

    fn get(&self, dict: Id, key: &str) -> Option<Id> {
        self.g.dict_get(dict, key)
    }

    fn args_of(&self, id: Id) -> Vec<Id> {
        match self.node(id) {
            Some(Node::Object(o)) => o.args.and_then(|a| self.items(a)).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The tracer's `fn`: `MethodType(TransformersModel._call, envoy)` is a trace; a
    /// function shipped by source named `generate` is nnsight's generate (docs/protocol.md).
    fn method_of(&self, f: Id) -> Result<Method, RequestError> {
        let target = self.args_of(f).first().copied();
        if let Some(t) = target
            && let Some((_, name)) = self.g.global(t)
        {
            if name.ends_with("._call") || name == "__call__" {
                return Ok(Method::Trace);
            }
            if name == "_load_function" {
                let fname = self
                    .args_of(t)
                    .get(1)
                    .and_then(|&n| self.str(n))
                    .unwrap_or("");
                return match fname {
                    "generate" => Ok(Method::Generate),
                    other => Err(shape(&format!("unknown traced method '{other}'"))),
                };
            }
            return Err(shape(&format!("unknown traced method '{name}'")));
        }
        Err(shape("the tracer's fn is not a method reference"))
    }

    /// A scope dict `{name: value}` as names and nodes.
    fn named(&self, dict: Id) -> Result<Vec<(String, Id)>, RequestError> {
        match self.node(dict) {
            Some(Node::Dict(items)) => items
                .iter()
                .map(|(k, v)| {
                    let name = self
                        .str(*k)
                        .ok_or_else(|| shape("a scope key is not a string"))?;
                    Ok((name.to_string(), *v))
                })
                .collect(),
            _ => Err(shape("a scope is not a dict")),
        }
    }
}

