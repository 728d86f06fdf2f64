//! One job, start to end: the request's captured values become values ([`load`]), the
//! user's frame is rebuilt around them, the shipped body runs as the `with` block it was
//! (a trace, or a session of traces) on this thread, and the names it saved become the
//! result archive ([`save`]). Runs inside a job context (`value::ctx`) that bounds
//! everything the code can do and is cancelled from outside; nothing survives the job.

pub mod load;
pub mod memory;
pub mod save;
mod stream;

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use localndif_wire::pickle::Node;
use localndif_wire::zstdio;

use crate::faults::{self, Fault};
use crate::interleave::tracer::{SessionObj, TraceKind, TracerObj};
use crate::interleave::envoy::Envoy;
use crate::interleave::{LogSink, ModelCtx, TreeNames};
use crate::interp::Interp;
use crate::interp::code::Code;
use crate::interp::frame::Frame;
use crate::interp::host::{Host, HostObj};
use crate::interp::program::Program;
use crate::model::ServedModel;
use crate::request::{Method, Request};
use crate::value::ctx::{Caps, JobCtx};
use crate::value::object::Namespace;
use crate::value::error::Names;
use crate::value::{Dict, PyErr, PyResult, Value, stack, tensor};

/// Bytes of stack each job thread gets (user code recurses on it; the guard in
/// `value::stack` turns exhaustion into `RecursionError`).
pub const JOB_STACK: usize = 256 << 20;

/// Printed text a job may send back as LOG updates in all.
pub const MAX_LOG: usize = 16 << 20;

/// Where a job's printed lines go (a LOG update each).
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// Runs `req` on `served` and returns the result blob, or the ERROR description the
/// client shows. Call on a thread with [`JOB_STACK`] bytes of stack.
pub fn execute(req: &Request, served: &ServedModel, caps: Caps, ctl: crate::jobs::JobCtl) -> Result<Vec<u8>, String> {
    stack::enter(JOB_STACK - (4 << 20));
    intra_op_threads(served);
    ctl.threads.store(served.intra_op_threads.max(0) as u32, std::sync::atomic::Ordering::SeqCst);
    let _ = ctl.attn.set(served.structure.attn_implementation());
    // Everything the job keeps lives in this context and goes with it, however the job ends.
    let _installed = JobCtx::new(caps, served.device, ctl.cancel).with_dialect(req.dialect()).install();
    let names = if req.dialect().qualified_error_names() { Names::Qualified } else { Names::Bare };
    let meter = memory::Meter::start();
    let out = run(req, served, ctl.log, ctl.stream).map_err(|e| e.render_as(names));
    // The peak of the tensor memory the job held, measured at the allocator (what the
    // model computed for it included); the interpreter's own count where the allocator
    // sees nothing (tensors on a GPU).
    let measured = meter.finish();
    ctl.peak_bytes.store(measured.max(crate::value::ctx::peak_tensor_bytes()), std::sync::atomic::Ordering::SeqCst);
    out.map(|(blob, _)| blob)
}

/// libtorch's intra-op threads for this job: the model's advertised count
/// (`ServedModel::intra_op_threads`). libtorch sets OpenMP's and MKL's thread counts for
/// the calling thread only, so this touches only this job runner.
fn intra_op_threads(served: &ServedModel) {
    tch::set_num_threads(served.intra_op_threads);
}

/// The interpreter's host for the user's own frame (the session or tracer body).
struct JobHost {
    log: LogSink,
}

impl Host for JobHost {
    fn print(&mut self, text: &str) -> PyResult<()> {
        (self.log)(text)
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// The result blob, and the size of the saved values before compression.
fn run(req: &Request, served: &ServedModel, log: Log, stream: Option<crate::jobs::StreamFn>) -> PyResult<(Vec<u8>, usize)> {
    let program = Program::parse(&req.source, &req.filename)?;
    let mut model = served.instance();
    // Autograd only for jobs that can ask for it: the rest run without building graphs.
    let grads = wants_grad(&req.source);
    // Every job's weights are its own leaves that require grad, as a local model's
    // `nn.Parameter`s do — also when no gradient is taken: libtorch chooses kernels by
    // it (`matmul` folds a strided batch into one matrix product only when the weight
    // requires grad, else it runs one matrix-vector product per row, which sums in
    // another order), so the numbers stay bit-identical to a local run's.
    model.weights = model.weights.trainable()?;
    tensor::set_weight_ranges(model.weights.ranges());
    let printed = Rc::new(Cell::new(0usize));
    let sink: LogSink = Rc::new(move |text: &str| {
        let total = printed.get() + text.len();
        if total > MAX_LOG {
            return Err(PyErr::memory(format!(
                "the job printed more than localndif's limit of {MAX_LOG} bytes of output"
            )));
        }
        printed.set(total);
        // One LOG per print call, without its final newline (a whole line, as NDIF sends).
        log(text.strip_suffix('\n').unwrap_or(text).to_string());
        Ok(())
    });
    let dialect = req.dialect();
    let g = &req.payload;
    let aliases = load::aliases(&req.payload, model.tree());
    let ctx = Rc::new(ModelCtx {
        names: Rc::new(TreeNames::of(model.tree(), dialect.source_07())),
        root_class: root_class(req),
        model,
        tokenizer: served.tokenizer.clone(),
        repo_id: served.repo_id.clone(),
        config: served.config.clone(),
        generation_config: served.generation_config.clone(),
        log: sink.clone(),
        dialect,
        client_runner: stream.filter(|_| dialect.runs_local_blocks()).map(|s| stream::runner(s, dialect.plain_function_pickles())),
        edits: Default::default(),
        aliases,
        root_type: Default::default(),
    });
    let mut loader = load::Loader::new(g, ctx.clone(), None);
    // Functions nnsight 0.5 ships as bytecode are for the client's Python.
    if let Some(v) = req.python.as_deref().and_then(crate::interp::bytecode::PyVersion::parse) {
        loader.python_version = v;
    }
    let args = req.args.iter().map(|&a| loader.value(a)).collect::<PyResult<Vec<_>>>()?;
    let kwargs = loader.named(&req.kwargs)?;
    // `edited.trace(...)` on a handle that carries `model.edit()` blocks: the trace is that
    // handle's, so its edits run first.
    let traced = match (&req.method, req.model) {
        (Method::Trace | Method::Generate, Some(id)) => match loader.value(id)? {
            Value::Host(h) => h.as_any().downcast_ref::<Envoy>().map(|e| e.ctx.clone()),
            _ => None,
        },
        _ => None,
    }
    .unwrap_or_else(|| ctx.clone());
    let traced = if req.edits.is_empty() { traced } else { loader.with_edits(&traced, &req.edits)? };
    let tracer: Value = match req.method {
        Method::Session => {
            let s: Rc<dyn HostObj> = Rc::new(SessionObj { ctx: ctx.clone() });
            Value::Host(s)
        }
        Method::Trace | Method::Generate => {
            let kind = if req.method == Method::Trace { TraceKind::Trace } else { TraceKind::Generate };
            let t: Rc<dyn HostObj> = Rc::new(TracerObj::new(traced, kind, args, kwargs));
            Value::Host(t)
        }
    };
    if let Some(id) = req.tracer {
        loader.set_tracer(id, tracer.clone());
    }
    let globals = Namespace::new(Dict::new(), None, None);
    globals.set("__name__", Value::str("__main__"))?;
    for (k, v) in loader.named(&req.globals)? {
        globals.set(&k, v)?;
    }
    let user = Namespace::new(Dict::new(), None, Some(globals));
    for (k, v) in loader.named(&req.locals)? {
        user.own.insert(Value::str(&k), v)?;
    }
    drop(loader);

    let code = Code::module(program.clone(), &program.module().body, "<module>")?;
    let mut frame = Frame::module(code.clone(), user.clone());
    let mut host = JobHost { log: sink };
    let mut it = Interp::new(&mut host);
    let Value::Host(h) = &tracer else { unreachable!("the tracer is a host object") };
    let body = || -> PyResult<()> {
        if let Some(t) = h.as_any().downcast_ref::<TracerObj>() {
            t.run(&mut it, code, &mut frame)
        } else if let Some(s) = h.as_any().downcast_ref::<SessionObj>() {
            s.run(&mut it, code, &mut frame)
        } else {
            Err(PyErr::internal("unknown tracer"))
        }
    };
    if grads {
        let prev = crate::interp::torch::ops::set_grad_enabled(true);
        let r = body();
        crate::interp::torch::ops::set_grad_enabled(prev);
        r?;
    } else {
        tch::no_grad(body)?;
    }
    let mut saved = user.writes();
    if !dialect.returns_saved_none() {
        // nnsight 0.7 never hands a saved None back to the caller's frame (its local
        // execution leaves such a name unbound), so neither does its remote result.
        saved.retain(|(_, v)| !matches!(v, Value::None));
    }
    faulty(&mut saved)?;
    let blob = save::encode(&saved)?;
    drop(it);
    // One frame with the content size in its header: 0.8.1 decompresses one-shot.
    let raw = blob.len();
    let mut out = if req.compress { zstdio::compress(&blob, 3) } else { blob };
    if faults::on(Fault::TruncateResult) {
        out.truncate(out.len().saturating_sub(16));
    }
    Ok((out, raw))
}

/// The result faults of `serve --fault` (`crate::faults`), applied to the saved values.
fn faulty(saved: &mut Vec<(Rc<str>, Value)>) -> PyResult<()> {
    if faults::on(Fault::DropSave) {
        saved.pop();
    }
    if faults::on(Fault::SwapSaves) && saved.len() >= 2 {
        let first = saved[0].1.clone();
        saved[0].1 = std::mem::replace(&mut saved[1].1, first);
    }
    if faults::on(Fault::Offset) || faults::on(Fault::Dtype) {
        for (_, v) in saved.iter_mut() {
            *v = crate::interleave::batch::apply(v, &|t: &tch::Tensor| {
                if !t.is_floating_point() {
                    return Ok(None);
                }
                let t = if faults::on(Fault::Offset) { t.f_add_scalar(1e-3)? } else { t.shallow_clone() };
                Ok(Some(if faults::on(Fault::Dtype) { t.f_to_kind(tch::Kind::Double)? } else { t }))
            })?;
        }
    }
    Ok(())
}

/// Whether a job's code can take gradients (`backward`, `requires_grad`, `.grad`): only
/// such jobs run the forward with autograd, as local nnsight always does.
fn wants_grad(source: &str) -> bool {
    ["backward", "requires_grad", ".grad"].iter().any(|w| source.contains(w))
}

/// The name of the shipped model envoy's class (`LanguageModel`, or the user's subclass
/// of it: a global, or a class cloudpickle shipped by value), for messages that name it.
fn root_class(req: &Request) -> String {
    let g = &req.payload;
    req.globals
        .iter()
        .chain(&req.locals)
        .find_map(|(_, id)| match g.node(*id) {
            Some(Node::Object(o)) => {
                let state = o.state.iter().rev().find_map(|&s| g.dict_get(s, "path"))?;
                (g.as_str(state) == Some("model")).then(|| class_name(g, o.callable))?
            }
            _ => None,
        })
        .unwrap_or_else(|| "LanguageModel".into())
}

/// The name of the class node `id` stands for: a global, or cloudpickle's
/// `_make_skeleton_class(type, name, ...)`.
fn class_name(g: &localndif_wire::pickle::Graph, id: localndif_wire::pickle::Id) -> Option<String> {
    match g.node(id)? {
        Node::Global { name, .. } => Some(name.clone()),
        Node::Object(o) => {
            let (_, maker) = g.global(o.callable)?;
            let args = o.args.and_then(|a| g.tuple_items(a))?;
            (maker == "_make_skeleton_class").then(|| args.get(1).and_then(|&n| g.as_str(n)).map(str::to_string))?
        }
        _ => None,
    }
}
