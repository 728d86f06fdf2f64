//! G1 (nnsight 0.5–0.7) requests: a raw POST body (zstd, zlib or plain) holding the
//! pickled `RequestModel` — the traced block compiled by the client into functions
//! (docs/protocol.md, "Payloads"). The block's own statements are recovered from those
//! functions' source — the source argument of 0.6+'s source-shipped functions, or, for
//! 0.5's bytecode ones, the `Tracer.Info.source` they were compiled from — so both
//! generations reach the same program runner:
//!
//! * with direct input (`model.trace("...")`), the client has tokenized the batch
//!   (`tracer.batcher.batched_kwargs`) and the body is the `try:` block of the one
//!   mediator's function;
//! * with `tracer.invoke(...)` blocks or a session, the body is the top function's, less
//!   nnsight's `pull()` / `get_frame()` / `push()` calls.
//!
//! The captured variables are the functions' `__globals__` (`_source_function_setstate`,
//! or cloudpickle's `_function_setstate` for 0.5).

use std::sync::Arc;

use localndif_wire::pickle::{self, Graph, Id, Node};

use super::inflate::{Limits, inflate};
use super::{ClientGeneration, Method, ModelKey, Request, RequestError};

fn shape(why: &str) -> RequestError {
    RequestError::Shape(why.to_string())
}

/// Decodes a G1 request body (`model_key` from the `nnsight-model-key` header; `compress`:
/// whether the client wants its result zstd-compressed).
pub fn decode_g1(model_key: &str, body: &[u8], compress: bool, limits: &Limits) -> Result<Request, RequestError> {
    let model_key = ModelKey::parse(model_key)?;
    let (payload, _held) = inflate(body, limits)?;
    let g = pickle::decode(&payload).map_err(|e| RequestError::Pickle(e.to_string()))?;
    let dict = state(&g, g.root).and_then(|s| g.dict_get(s, "__dict__")).ok_or_else(|| shape("the payload is not a RequestModel"))?;
    let interventions = g.dict_get(dict, "interventions").ok_or_else(|| shape("the RequestModel has no interventions"))?;
    let tracer = g.dict_get(dict, "tracer").ok_or_else(|| shape("the RequestModel has no tracer"))?;
    let tstate = state(&g, tracer).ok_or_else(|| shape("the tracer has no state"))?;
    let class = g.global(tracer).map(|(_, c)| c).unwrap_or("");
    let method = match class {
        "RemoteTracer" | "Tracer" => Method::Session,
        _ => match g.dict_get(tstate, "fn").and_then(|f| g.as_str(f)) {
            Some("__nnsight_generate__") | Some("generate") => Method::Generate,
            Some("__call__") | None => Method::Trace,
            Some(other) => return Err(shape(&format!("unknown traced method '{other}'"))),
        },
    };
    let tracer_var = g
        .dict_get(tstate, "tracer_var_name")
        .and_then(|v| g.as_str(v))
        .unwrap_or("__nnsight_tracer__")
        .to_string();
    // The traced model's stored edits (`_default_mediators`, added to the tracer's
    // mediators when the client compiled it) ride with the model, not in the body.
    let edits = g
        .dict_get(tstate, "model")
        .and_then(|m| state(&g, m))
        .and_then(|s| g.dict_get(s, "_default_mediators").or_else(|| g.dict_get(s, "default_mediators")))
        .and_then(|l| list(&g, l))
        .unwrap_or_default();
    let mut mediators: Vec<Id> = g
        .dict_get(tstate, "mediators")
        .and_then(|m| list(&g, m))
        .unwrap_or_default()
        .into_iter()
        .filter(|m| !edits.contains(m))
        .collect();
    // nnsight 0.5.0 ships the model by persistent id, so its edits reach us only as the
    // first mediators of the tracer (`InterleavingTracer.compile` appends them before the
    // direct-input invoke, whose presence the top function's `get_frame()` line shows).
    let mut shipped_edits = Vec::new();
    if g.dict_get(tstate, "model").is_some_and(|m| matches!(g.node(m), Some(Node::PersId(_)))) && !mediators.is_empty() {
        let direct = info_lines(&g, tstate).is_some_and(|s| s.contains(".info.frame = "));
        let keep = usize::from(direct);
        shipped_edits = mediators.drain(..mediators.len() - keep).collect();
    }
    // The function whose body is the user's block, and how to cut it out.
    let mut mediator_info_start = None;
    let (func, body_of) = match mediators.as_slice() {
        [] => (interventions, Body::Top),
        [m] => {
            let ms = state(&g, *m).ok_or_else(|| shape("a mediator has no state"))?;
            mediator_info_start = g
                .dict_get(ms, "info")
                .and_then(|i| state(&g, i))
                .and_then(|i| g.dict_get(i, "start_line"))
                .and_then(|l| g.as_int(l));
            (g.dict_get(ms, "intervention").ok_or_else(|| shape("a mediator has no intervention"))?, Body::Mediator)
        }
        _ => return Err(RequestError::Shape("a G1 trace with several direct-input mediators is not supported".into())),
    };
    let (fn_args, fn_state) = function(&g, func)?;
    // 0.5's function is owned by the tracer (the top function) or by the mediator (an
    // invoke's function), whose `Tracer.Info` keeps its source.
    let owner = match body_of {
        Body::Top => Some(tstate),
        Body::Mediator => mediators.first().and_then(|&m| state(&g, m)),
    };
    let (source, bytecode) = compiled_source(&g, &fn_args, owner).ok_or_else(|| shape("the intervention function has no source"))?;
    let filename = g
        .dict_get(tstate, "info")
        .and_then(|i| state(&g, i))
        .and_then(|i| g.dict_get(i, "frame"))
        .and_then(|f| match g.node(f) {
            Some(Node::Object(o)) => o.args.and_then(|a| g.tuple_items(a)).map(<[Id]>::to_vec),
            _ => None,
        })
        .unwrap_or_default();
    // 0.5 ships the frame as a persistent id: the script's name is its `__file__`, among
    // the globals cloudpickle gives the function it rebuilds.
    let script = fn_args.get(1).and_then(|&d| g.dict_get(d, "__file__")).and_then(|f| g.as_str(f));
    let co_filename = filename.first().and_then(|&f| g.as_str(f)).or(script).unwrap_or("<nnsight trace>").to_string();
    let co_first = filename.get(1).and_then(|&l| g.as_int(l)).unwrap_or(1);
    let start_line = g
        .dict_get(tstate, "info")
        .and_then(|i| state(&g, i))
        .and_then(|i| g.dict_get(i, "start_line"))
        .and_then(|l| g.as_int(l))
        .unwrap_or(1);
    let lines = extract_body(&source, body_of, &tracer_var)?;
    // Pad so a traceback names the user's own line numbers: nnsight 0.7 maps line `L` of
    // a compiled function to `L + (co_firstlineno - 1) + Σ(info.start_line - 1)` over the
    // tracer's info and, for a mediator, the mediator's (`ExceptionWrapper`).
    let mediator_start = match body_of {
        Body::Top => 1,
        Body::Mediator => mediator_info_start.unwrap_or(1),
    };
    let offset = (co_first - 1 + start_line - 1 + mediator_start - 1).clamp(0, 1 << 20) as usize;
    let source = format!("{}{}", "\n".repeat(offset), lines.join("\n"));
    // Captured variables: the function's `__globals__`.
    let globals = fn_state
        .and_then(|s| g.tuple_items(s).and_then(|t| t.get(1).copied()))
        .and_then(|d| g.dict_get(d, "__globals__"))
        .map(|d| named(&g, d))
        .transpose()?
        .unwrap_or_default();
    let mut locals = Vec::new();
    if !tracer_var.starts_with("__nnsight") {
        locals.push((tracer_var.clone(), tracer));
    }
    // Direct input arrives tokenized by the client.
    let tracer_kwargs = || g.dict_get(tstate, "kwargs").map(|d| named(&g, d)).transpose().map(Option::unwrap_or_default);
    let kwargs = match body_of {
        Body::Mediator => {
            let mut kwargs = g
                .dict_get(tstate, "batcher")
                .and_then(|b| state(&g, b))
                .and_then(|b| g.dict_get(b, "batched_kwargs"))
                .map(|d| named(&g, d))
                .transpose()?
                .unwrap_or_default();
            // 0.5 keeps the traced call's own keywords (`max_new_tokens`) on the tracer
            // and runs `{**batched_kwargs, **tracer.kwargs}` (`InterleavingTracer.execute`).
            if bytecode {
                for (k, v) in tracer_kwargs()? {
                    kwargs.retain(|(name, _)| *name != k);
                    kwargs.push((k, v));
                }
            }
            kwargs
        }
        Body::Top => tracer_kwargs()?,
    };
    Ok(Request {
        model_key,
        method,
        source,
        filename: co_filename,
        compress,
        payload: Arc::new(g.clone()),
        tracer: Some(tracer),
        model: g.dict_get(tstate, "model"),
        args: Vec::new(),
        kwargs,
        globals,
        locals,
        edits: shipped_edits,
        client: ClientGeneration::G1,
        nnsight_05: bytecode,
        python: None,
    })
}

/// A 0.7 mediator shipped with the model (`model.edit()`'s `_default_mediators`): the
/// user's lines of its `intervention` function and that function's `__globals__` dict.
pub fn mediator_body(g: &Graph, mediator: Id) -> Result<(String, Option<Id>), RequestError> {
    let ms = state(g, mediator).ok_or_else(|| shape("an edit's mediator has no state"))?;
    let func = g.dict_get(ms, "intervention").ok_or_else(|| shape("an edit's mediator has no intervention"))?;
    let (args, fstate) = function(g, func)?;
    let (source, _) = compiled_source(g, &args, Some(ms)).ok_or_else(|| shape("an edit's function has no source"))?;
    let lines = extract_body(&source, Body::Mediator, "__nnsight_tracer__")?;
    let globals = fstate
        .and_then(|s| g.tuple_items(s).and_then(|t| t.get(1).copied()))
        .and_then(|d| g.dict_get(d, "__globals__"));
    Ok((lines.join("\n"), globals))
}

#[derive(Clone, Copy)]
enum Body {
    /// The top function: drop nnsight's calls.
    Top,
    /// A mediator's function: the `try:` block.
    Mediator,
}

/// The user's lines of a compiled block, dedented, each on its own line of the compiled
/// function (nnsight's boilerplate and the `def` line become blank lines), so that line
/// `L` of the result is line `L` of the function nnsight compiled.
fn extract_body(source: &str, body: Body, tracer_var: &str) -> Result<Vec<String>, RequestError> {
    let lines: Vec<&str> = source.lines().collect();
    let is_def = |i: usize| i == 0 && lines[0].trim_start().starts_with("def ");
    let keep: Vec<bool> = match body {
        Body::Mediator => {
            let start = lines.iter().position(|l| l.trim() == "try:").ok_or_else(|| shape("a mediator function has no try block"))?;
            let end = lines
                .iter()
                .rposition(|l| l.trim_start().starts_with("except Exception as exception:"))
                .ok_or_else(|| shape("a mediator function has no except clause"))?;
            (0..lines.len()).map(|i| i > start && i < end).collect()
        }
        Body::Top => {
            let calls = [
                format!("{tracer_var}.pull()"),
                format!("{tracer_var}.get_frame()"),
                format!("return {tracer_var}.push()"),
                "__nnsight_tracer__.pull()".to_string(),
                "__nnsight_tracer__.get_frame()".to_string(),
                "return __nnsight_tracer__.push()".to_string(),
                // 0.5's session function ends with a bare push.
                format!("{tracer_var}.push()"),
                "__nnsight_tracer__.push()".to_string(),
            ];
            let boiler = |l: &str| {
                let t = l.trim();
                calls.iter().any(|c| t == c) || t.starts_with("__nnsight_tracer__.mediators[-1].info.frame")
            };
            (0..lines.len()).map(|i| !is_def(i) && !boiler(lines[i])).collect()
        }
    };
    let kept: Vec<&str> = lines.iter().zip(&keep).map(|(l, k)| if *k { *l } else { "" }).collect();
    Ok(crate::text::dedent(&kept).into_iter().map(str::to_string).collect())
}

/// The source a client function was compiled from, and whether the function travelled as
/// bytecode: 0.6+ ship it by its source (the first argument of their `make_function`);
/// 0.5 ships bytecode, compiled from the `source` of the `Tracer.Info` of the object that
/// owns the function (`owner`'s state).
fn compiled_source(g: &Graph, fn_args: &[Id], owner: Option<Id>) -> Option<(String, bool)> {
    match fn_args.first().and_then(|&s| g.as_str(s)) {
        Some(s) => Some((s.to_string(), false)),
        None => owner.and_then(|o| info_lines(g, o)).map(|s| (s, true)),
    }
}

/// The lines of a `Tracer.Info`'s `source` (an object's `info`), joined: what nnsight
/// 0.5 compiled a function from.
fn info_lines(g: &Graph, owner_state: Id) -> Option<String> {
    let info = state(g, g.dict_get(owner_state, "info")?)?;
    let lines = list(g, g.dict_get(info, "source")?)?;
    lines.iter().map(|&l| g.as_str(l)).collect::<Option<Vec<&str>>>().map(|v| v.concat())
}

/// The last dict BUILD state of an object (pydantic models keep theirs under `__dict__`).
fn state(g: &Graph, id: Id) -> Option<Id> {
    g.dict_state(g.obj(id)?)
}

fn list(g: &Graph, id: Id) -> Option<Vec<Id>> {
    match g.node(id)? {
        Node::List(v) | Node::Tuple(v) => Some(v.clone()),
        _ => None,
    }
}

/// A `make_function(...)` call: its arguments and the state its popped
/// `_source_function_setstate(fn, state)` call gave it.
fn function(g: &Graph, id: Id) -> Result<(Vec<Id>, Option<Id>), RequestError> {
    let Some(Node::Object(o)) = g.node(id) else {
        return Err(shape("the intervention is not a function"));
    };
    let args = o.args.and_then(|a| g.tuple_items(a)).map(<[Id]>::to_vec).unwrap_or_default();
    let setstate = g.nodes.iter().find_map(|n| match n {
        // 0.6+'s `_source_function_setstate`, cloudpickle's own `_function_setstate` (0.5).
        Node::Object(s) if g.global(s.callable).is_some_and(|(_, name)| matches!(name, "_source_function_setstate" | "_function_setstate")) => {
            let a = s.args.and_then(|a| g.tuple_items(a))?;
            (a.first() == Some(&id)).then(|| a.get(1).copied()).flatten()
        }
        _ => None,
    });
    Ok((args, setstate))
}

fn named(g: &Graph, dict: Id) -> Result<Vec<(String, Id)>, RequestError> {
    match g.node(dict) {
        Some(Node::Dict(items)) => items
            .iter()
            .map(|(k, v)| Ok((g.as_str(*k).ok_or_else(|| shape("a scope key is not a string"))?.to_string(), *v)))
            .collect(),
        _ => Err(shape("a scope is not a dict")),
    }
}
