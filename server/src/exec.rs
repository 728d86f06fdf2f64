//! Runs one validated [`Request`] on a served model: tokenizes the inputs like HF, builds
//! the user's scope, interleaves the body with the forward, and encodes the saved values as
//! the `torch.save` result blob the client `torch.load`s (protocol.md §7.1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use localndif_wire::torch::{DType, TensorData};
use localndif_wire::torchsave::{Saved, torch_save};
use localndif_wire::zstdio;
use ruff_text_size::Ranged;
use tch::{Kind, Tensor};

use crate::interleave::{ModuleTree, Run, TraceError};
use crate::interp::{Limits, Program, PyErr, Scope, Value, lock};
use crate::model::{Act, Call, ServedModel};
use crate::request::{Captured, Method, Request};

/// Per-job limits (design.md §10).
#[derive(Debug, Clone, Copy)]
pub struct ExecLimits {
    pub interp: Limits,
    pub wall: Duration,
}

impl Default for ExecLimits {
    fn default() -> Self {
        ExecLimits {
            interp: Limits::default(),
            wall: Duration::from_secs(600),
        }
    }
}

/// Runs `req` and returns the result blob, or the ERROR description the client shows.
pub fn execute(
    req: &Request,
    served: &ServedModel,
    limits: ExecLimits,
    log: &mut dyn FnMut(String),
) -> Result<Vec<u8>, String> {
    let program = Program::parse(&req.source, &req.filename)
        .map_err(|e| e.traceback(&req.filename, &req.source))?;
    let user_error = |e: PyErr| e.traceback(&req.filename, &req.source);
    // What localndif cannot run yet is refused up front, pointing at the first line of
    // the traced body (the `with` line itself is not shipped).
    let first_line = program
        .body()
        .first()
        .map_or(1, |stmt| program.line_of(stmt.start().to_usize()));
    let refuse = |what: &str| user_error(PyErr::unsupported(what).at_line(first_line));
    match req.method {
        Method::Trace => {}
        Method::Generate => return Err(refuse("model.generate(...) with remote=True")),
        Method::Session => return Err(refuse("model.session(...) with remote=True")),
    }
    if req.args.is_empty() {
        return Err(refuse(
            "a trace without direct input (`model.trace()` with `tracer.invoke(...)` blocks)",
        ));
    }
    let at_start = |e: PyErr| user_error(e.at_line(first_line));
    let inputs = model_inputs(req, served).map_err(at_start)?;
    let globals = scope(&req.globals).map_err(at_start)?;
    let locals = scope(&req.locals).map_err(at_start)?;
    let model = served.model.as_ref();
    let mut run = Run {
        model,
        tree: Arc::new(ModuleTree::new(model.module_paths())),
        limits: limits.interp,
        deadline: Instant::now() + limits.wall,
        timeout_seconds: limits.wall.as_secs(),
        log,
    };
    let saved = tch::no_grad(|| run.trace(inputs, Arc::new(program), globals, locals)).map_err(
        |e| match e {
            TraceError::User(e) => user_error(e),
            TraceError::Model(m) => m,
            TraceError::Timeout { seconds } => {
                format!("Your job exceeded the execution timeout of {seconds}s.")
            }
        },
    )?;
    let mut items = Vec::with_capacity(saved.len());
    for (name, value) in saved {
        let v = to_saved(&value).map_err(|why| {
            format!("TypeError: cannot return the saved variable '{name}': {why}")
        })?;
        items.push((Saved::Str(name), v));
    }
    let blob = torch_save(&Saved::Dict(items))
        .map_err(|e| format!("InternalError (a localndif bug): encoding the result: {e}"))?;
    // One frame with the content size in its header: 0.8.1 decompresses one-shot (§8).
    Ok(if req.compress {
        zstdio::compress(&blob, 3)
    } else {
        blob
    })
}

/// The root call's kwargs, as nnsight 0.8.1 builds them for one input invoke: text is
/// tokenized with left padding; token ids and tensors pass through (payloads.md §12.9).
fn model_inputs(req: &Request, served: &ServedModel) -> Result<Call, PyErr> {
    let device = served.model.device();
    let [input] = req.args.as_slice() else {
        return Err(PyErr::unsupported(format!(
            "trace() with {} positional inputs",
            req.args.len()
        )));
    };
    if let Captured::Tensor(t) = input {
        let ids = tensor_of(t)?.to_device(device);
        let ids = if ids.dim() == 1 {
            ids.unsqueeze(0)
        } else {
            ids
        };
        let mask = match req.kwargs.iter().find(|(k, _)| k == "attention_mask") {
            Some((_, Captured::Tensor(m))) => tensor_of(m)?.to_device(device),
            _ => ids.ones_like(),
        };
        return root_call(ids, mask);
    }
    let rows = token_rows(input, served)?.ok_or_else(|| {
        PyErr::unsupported(format!("trace() input of this kind ({})", describe(input)))
    })?;
    if let Some((k, _)) = req.kwargs.iter().find(|(k, _)| k != "attention_mask") {
        return Err(PyErr::unsupported(format!(
            "the trace() keyword argument '{k}'"
        )));
    }
    let enc = served
        .tokenizer
        .batch(&rows, device)
        .map_err(|e| PyErr::value_error(e.to_string()))?;
    root_call(enc.input_ids, enc.attention_mask)
}

/// Text, a list of texts, one list of token ids, or a list of them → rows of ids.
fn token_rows(input: &Captured, served: &ServedModel) -> Result<Option<Vec<Vec<i64>>>, PyErr> {
    let encode = |text: &str| {
        served
            .tokenizer
            .encode(text)
            .map_err(|e| PyErr::value_error(e.to_string()))
    };
    let items = match input {
        Captured::Str(text) => return Ok(Some(vec![encode(text)?])),
        Captured::List(items) | Captured::Tuple(items) if !items.is_empty() => items,
        _ => return Ok(None),
    };
    if let Some(texts) = items.iter().map(as_str).collect::<Option<Vec<_>>>() {
        return texts
            .into_iter()
            .map(encode)
            .collect::<Result<_, _>>()
            .map(Some);
    }
    if let Some(ids) = as_ids(items) {
        return Ok(Some(vec![ids]));
    }
    Ok(items
        .iter()
        .map(|row| match row {
            Captured::List(r) | Captured::Tuple(r) => as_ids(r),
            _ => None,
        })
        .collect())
}

fn as_str(c: &Captured) -> Option<&str> {
    match c {
        Captured::Str(s) => Some(s),
        _ => None,
    }
}

fn as_ids(items: &[Captured]) -> Option<Vec<i64>> {
    items
        .iter()
        .map(|c| match c {
            Captured::Int(i) => Some(*i),
            _ => None,
        })
        .collect()
}

/// The root call's kwargs. Like nnsight 0.8.1's `supply_position_ids`, a batch with padding
/// in its mask also gets mask-derived `position_ids`, so a left-padded row keeps its tokens
/// at their own positions (semantics.md §5.1).
fn root_call(input_ids: Tensor, attention_mask: Tensor) -> Result<Call, PyErr> {
    let mut kwargs = vec![
        ("input_ids".to_string(), Act::Tensor(input_ids)),
        (
            "attention_mask".to_string(),
            Act::Tensor(attention_mask.shallow_clone()),
        ),
    ];
    if attention_mask.f_eq(0)?.f_any()?.f_int64_value(&[])? != 0 {
        kwargs.push((
            "position_ids".to_string(),
            Act::Tensor(positions(&attention_mask)?),
        ));
    }
    Ok(Call {
        args: vec![],
        kwargs,
    })
}

/// nnsight's `processing.positions`: a row that is padding then tokens counts from its first
/// token; any other row counts from its first position.
fn positions(mask: &Tensor) -> Result<Tensor, tch::TchError> {
    let mask = mask.f_to_kind(Kind::Int64)?;
    let counted = mask
        .f_cumsum(-1, None::<Kind>)?
        .f_sub_scalar(1)?
        .f_clamp_min(0)?;
    let width = *mask.size().last().unwrap_or(&0);
    let plain = Tensor::f_arange(width, (Kind::Int64, mask.device()))?.f_expand_as(&mask)?;
    let left_padded = mask
        .f_diff(1, -1, None::<Tensor>, None::<Tensor>)?
        .f_ge(0)?
        .f_all_dim(-1, true)?;
    counted.f_where_self(&left_padded, &plain)
}

fn describe(c: &Captured) -> String {
    match c {
        Captured::Unsupported(what) => what.clone(),
        Captured::None => "None".into(),
        Captured::Bool(_) => "bool".into(),
        Captured::Int(_) => "int".into(),
        Captured::Float(_) => "float".into(),
        Captured::Str(_) => "str".into(),
        Captured::List(_) => "list".into(),
        Captured::Tuple(_) => "tuple".into(),
        Captured::Dict(_) => "dict".into(),
        Captured::Tensor(_) => "Tensor".into(),
        Captured::Envoy(p) => format!("the module {p}"),
        Captured::Module(m) => format!("the module object {m}"),
        Captured::Tracer => "the tracer".into(),
    }
}

/// The captured variables as interpreter values; unsupported ones are refused by name.
fn scope(vars: &[(String, Captured)]) -> Result<Scope, PyErr> {
    let mut s = Scope::default();
    for (name, c) in vars {
        let v = value_of(c).map_err(|what| {
            PyErr::unsupported(format!("the captured variable '{name}' ({what})"))
        })?;
        s.set(name, v);
    }
    Ok(s)
}

fn value_of(c: &Captured) -> Result<Value, String> {
    Ok(match c {
        Captured::None => Value::None,
        Captured::Bool(b) => Value::Bool(*b),
        Captured::Int(i) => Value::Int(*i),
        Captured::Float(f) => Value::Float(*f),
        Captured::Str(s) => Value::str(s),
        Captured::List(items) => Value::list(items.iter().map(value_of).collect::<Result<_, _>>()?),
        Captured::Tuple(items) => {
            Value::tuple(items.iter().map(value_of).collect::<Result<_, _>>()?)
        }
        Captured::Dict(items) => Value::dict(
            items
                .iter()
                .map(|(k, v)| Ok((value_of(k)?, value_of(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Captured::Tensor(t) => Value::tensor(tensor_of(t).map_err(|e| e.to_string())?),
        Captured::Envoy(path) => Value::Envoy(path.as_str().into()),
        Captured::Module(m) if m == "torch" => Value::Module("torch"),
        Captured::Module(m) if m == "nnsight" => Value::Module("nnsight"),
        other => return Err(describe(other)),
    })
}

/// torch dtypes by both names: the wire's and tch's.
const DTYPES: [(DType, Kind); 10] = [
    (DType::F64, Kind::Double),
    (DType::F32, Kind::Float),
    (DType::F16, Kind::Half),
    (DType::BF16, Kind::BFloat16),
    (DType::I64, Kind::Int64),
    (DType::I32, Kind::Int),
    (DType::I16, Kind::Int16),
    (DType::I8, Kind::Int8),
    (DType::U8, Kind::Uint8),
    (DType::Bool, Kind::Bool),
];

fn kind_of(d: DType) -> Kind {
    DTYPES
        .iter()
        .find(|(w, _)| *w == d)
        .map_or(Kind::Float, |(_, k)| *k)
}

fn dtype_of(k: Kind) -> Option<DType> {
    DTYPES.iter().find(|(_, t)| *t == k).map(|(w, _)| *w)
}

fn tensor_of(t: &TensorData) -> Result<Tensor, PyErr> {
    let shape: Vec<i64> = t.shape.iter().map(|&d| d as i64).collect();
    let out = Tensor::f_from_data_size(&t.data, &shape, kind_of(t.dtype))?;
    Ok(if t.requires_grad {
        out.set_requires_grad(true)
    } else {
        out
    })
}

fn tensor_data(t: &Tensor) -> Result<TensorData, String> {
    let dtype = dtype_of(t.kind())
        .ok_or_else(|| format!("tensors of dtype {:?} cannot be returned yet", t.kind()))?;
    let cpu = t
        .f_detach()
        .and_then(|d| d.f_to_device(tch::Device::Cpu))
        .and_then(|d| d.f_contiguous())
        .map_err(|e| e.to_string())?;
    let numel = cpu.numel();
    let mut data = vec![0u8; numel * cpu.kind().elt_size_in_bytes()];
    cpu.f_copy_data_u8(&mut data, numel)
        .map_err(|e| e.to_string())?;
    Ok(TensorData {
        dtype,
        shape: cpu.size().iter().map(|&d| d as usize).collect(),
        data,
        requires_grad: t.requires_grad(),
    })
}

/// A saved value as what `torch.save` writes (protocol.md §7.1: the client rebuilds it by
/// import, so only types we can name are returned).
fn to_saved(v: &Value) -> Result<Saved, String> {
    Ok(match v {
        Value::None => Saved::None,
        Value::Bool(b) => Saved::Bool(*b),
        Value::Int(i) => Saved::Int(*i),
        Value::Float(f) => Saved::Float(*f),
        Value::Str(s) => Saved::Str(s.to_string()),
        Value::List(items) => {
            Saved::List(lock(items).iter().map(to_saved).collect::<Result<_, _>>()?)
        }
        Value::Tuple(items) => Saved::Tuple(items.iter().map(to_saved).collect::<Result<_, _>>()?),
        Value::Dict(items) => Saved::Dict(
            lock(items)
                .iter()
                .map(|(k, v)| Ok((to_saved(k)?, to_saved(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        Value::Tensor(t) => Saved::Tensor(tensor_data(&t.0)?),
        Value::Size(s) => Saved::Object {
            module: "torch".into(),
            name: "Size".into(),
            args: vec![Saved::List(s.iter().map(|&d| Saved::Int(d)).collect())],
            state: None,
        },
        other => {
            return Err(format!(
                "values of type '{}' cannot be returned yet",
                other.type_name()
            ));
        }
    })
}
