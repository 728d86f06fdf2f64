//! Tracers: `model.trace(...)`, `tracer.invoke(...)`, `model.session()` and the handles
//! user code gets from them (`tracer.stop()`, `tracer.result`, `tracer.barrier(n)`).
//!
//! A trace runs as nnsight 0.8.1's `InterleavingTracer.execute` does (docs/semantics.md §1):
//! with direct input (`model.trace(x)`) the whole body is one implicit invoke; otherwise
//! the body runs now, in the user's frame, and every `with tracer.invoke(...)` block in
//! it registers a worker and its rows of the batch. Then the model runs once over the
//! assembled batch, the workers meet it at hook points, and the names the bodies bound
//! are pushed back into the frame — only saved ones when this is the outermost trace.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::batch::batch_size;
use super::envoy::{ModelCtx, request};
use super::interleaver::Interleaver;
use super::loc::Loc;
use super::worker::{Event, WorkerHost};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::code::Code;
use crate::interp::frame::Frame;
use crate::interp::host::{HostObj, WithBody};
use crate::interp::saves;
use crate::model::Fwd;
use crate::model::generate::{self, GenConfig};
use crate::value::object::{Aux, Namespace, Native};
use crate::value::{Dict, PyErr, PyResult, Value, types};

/// What a tracer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    Trace,
    Generate,
}

enum State {
    /// Created, not entered.
    Fresh,
    /// The tracer body is running: invokes register here.
    Collecting(Interleaver),
    /// The model is running (or the trace is over).
    Running,
}

pub struct TracerObj {
    ctx: Rc<ModelCtx>,
    kind: TraceKind,
    args: Vec<Value>,
    kwargs: Kwargs,
    state: RefCell<State>,
    /// The store the invoke bodies of this trace share (names bound by siblings).
    invoke_store: Rc<Dict>,
    barriers: Cell<usize>,
}

/// `model.trace(...)` / `model.generate(...)` / `model.session()`.
pub fn new_tracer(_it: &mut Interp, ctx: Rc<ModelCtx>, method: &str, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
    let kind = match method {
        // `model.scan(x)`: nnsight runs the forward on fake tensors for their shapes; the
        // served model is real, so a scan is a trace (same shapes, real values).
        "trace" | "scan" => TraceKind::Trace,
        "generate" => TraceKind::Generate,
        "session" => {
            if !args.is_empty() || !kwargs.is_empty() {
                return Err(PyErr::type_error("session() takes no inputs; open traces inside it"));
            }
            let s: Rc<dyn HostObj> = Rc::new(SessionObj { ctx: ctx.clone() });
            return Ok(Value::Host(s));
        }
        "edit" => {
            if !args.is_empty() {
                return Err(PyErr::type_error(format!("Envoy.edit() takes 1 positional argument but {} were given", args.len() + 1)));
            }
            let mut inplace = false;
            for (k, v) in kwargs {
                match k.as_ref() {
                    "inplace" => inplace = matches!(v, Value::Bool(true)),
                    "backend" => {}
                    other => return Err(PyErr::type_error(format!("Envoy.edit() got an unexpected keyword argument '{other}'"))),
                }
            }
            let target = if inplace { ctx.clone() } else { ctx.fork() };
            let e: Rc<dyn HostObj> = Rc::new(EditObj { ctx: target, inplace });
            return Ok(Value::Host(e));
        }
        other => return Err(PyErr::unsupported(format!("model.{other}(...)"))),
    };
    let t: Rc<dyn HostObj> = Rc::new(TracerObj::new(ctx, kind, args, kwargs));
    Ok(Value::Host(t))
}

/// Whether the running body is intervention code (a worker of a running trace).
pub(crate) fn in_worker(it: &mut Interp) -> bool {
    it.host.as_any().downcast_mut::<WorkerHost>().is_some()
}

/// Leaves the trace scope however the trace ends.
struct SaveScope;

impl SaveScope {
    fn enter() -> SaveScope {
        saves::enter();
        SaveScope
    }
}

impl Drop for SaveScope {
    fn drop(&mut self) {
        saves::leave();
    }
}

/// nnsight's `push_result`: a body's names into the frame it was written in — only the
/// saved ones when the outermost trace is ending.
fn push_result(frame: &mut Frame, vars: Vec<(Rc<str>, Value)>) -> PyResult<()> {
    let outermost = saves::depth() == 1;
    for (name, v) in vars {
        if outermost && !saves::is_saved(&v) {
            continue;
        }
        frame.push_by_name(&name, v)?;
    }
    Ok(())
}

/// `frame.f_locals` as a fresh dict (nnsight's `dict(frame.f_locals)` snapshot).
pub(super) fn snapshot(frame: &Frame) -> PyResult<Rc<Dict>> {
    let d = Dict::new();
    for (k, v) in frame.snapshot_locals() {
        d.insert(Value::str(&k), v)?;
    }
    Ok(d)
}

impl TracerObj {
    pub fn new(ctx: Rc<ModelCtx>, kind: TraceKind, args: Vec<Value>, kwargs: Kwargs) -> TracerObj {
        TracerObj {
            ctx,
            kind,
            args,
            kwargs,
            state: RefCell::new(State::Fresh),
            invoke_store: Dict::new(),
            barriers: Cell::new(0),
        }
    }

    /// A block's scope as the client's nnsight scopes it (see `Namespace::delete_through`).
    fn scope(&self, ns: Rc<Namespace>) -> Rc<Namespace> {
        if self.ctx.dialect.scope_deletes_through() { ns.delete_through() } else { ns }
    }

    fn new_interleaver(&self) -> Interleaver {
        let mut il = Interleaver::new(self.ctx.names.clone(), self.ctx.log.clone());
        il.batcher.supply_positions = self.ctx.dialect.supplies_position_ids();
        il.batcher.attend_own_padding = self.ctx.dialect.invokes_attend_own_padding();
        il.dialect = self.ctx.dialect;
        il
    }

    /// Runs the trace whose body is `code`, written in `frame`.
    pub fn run(&self, it: &mut Interp, code: Rc<Code>, frame: &mut Frame) -> PyResult<()> {
        if in_worker(it) {
            // nnsight's own words (a trace's parent is the running trace); a session is
            // how several traces share values.
            return Err(PyErr::value_error(self.ctx.dialect.trace_inside_trace()));
        }
        if !matches!(*self.state.borrow(), State::Fresh) {
            return Err(PyErr::runtime_error("this tracer has already run; open a new `with model.trace(...)`"));
        }
        let _scope = SaveScope::enter();
        let mut il = self.new_interleaver();
        let r = self.collect_and_run(it, code, frame, &mut il);
        il.cancel();
        *self.state.borrow_mut() = State::Running;
        self.invoke_store.clear();
        r
    }

    fn collect_and_run(&self, it: &mut Interp, code: Rc<Code>, frame: &mut Frame, il: &mut Interleaver) -> PyResult<()> {
        // Stored edits run first, over the whole batch, each from a fresh copy of the
        // scope it was written in (nnsight's `mediators = self._edits + mediators`).
        for e in self.ctx.edits.borrow().iter() {
            let own = Dict::new();
            for (k, v) in e.own.items() {
                own.insert(k, v)?;
            }
            il.add(e.code.clone(), self.scope(Namespace::new(own, Some(Dict::new()), Some(e.parent.clone()))), None)?;
        }
        let own = snapshot(frame)?;
        let mut forward: Kwargs = Vec::new();
        if batch_size(&self.args, &self.kwargs)? > 0 {
            // Direct input: the whole body is one implicit invoke.
            let group = il.batcher.add(self.args.clone(), self.kwargs.clone())?;
            let scope = self.scope(Namespace::new(own, Some(Dict::new()), Some(frame.globals.clone())));
            il.add(code, scope, group)?;
        } else {
            forward = self.kwargs.clone();
            let body = self.scope(Namespace::new(own, Some(Dict::new()), Some(frame.globals.clone())));
            let taken = std::mem::replace(il, self.new_interleaver());
            *self.state.borrow_mut() = State::Collecting(taken);
            let r = it.exec_module(code, body.clone());
            let back = std::mem::replace(&mut *self.state.borrow_mut(), State::Running);
            if let State::Collecting(collected) = back {
                *il = collected;
            }
            r?;
            push_result(frame, body.writes())?;
            if il.mediators.is_empty() {
                return Err(PyErr::value_error("trace() needs an input, or at least one `with tracer.invoke(...)` block"));
            }
        }
        self.interleave(il, forward)?;
        for m in &il.mediators {
            push_result(frame, m.scope.writes())?;
        }
        Ok(())
    }

    /// Runs the model over the assembled batch with the workers interleaved.
    fn interleave(&self, il: &mut Interleaver, forward: Kwargs) -> PyResult<()> {
        let ctx = &self.ctx;
        let mut kwargs = il.batcher.assemble(&ctx.tokenizer, ctx.model.device)?;
        for (k, v) in forward {
            match kwargs.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => kwargs.push((k, v)),
            }
        }
        let r = (|| -> PyResult<()> {
            il.start()?;
            let out = match self.kind {
                TraceKind::Trace => {
                    let kw: Vec<(&str, Value)> = kwargs.iter().map(|(k, v)| (k.as_ref(), v.clone())).collect();
                    let root = ctx.model.tree().root();
                    Fwd { m: &ctx.model, hooks: &mut *il }.call(root, vec![], kw)?
                }
                TraceKind::Generate => self.generate(il, std::mem::take(&mut kwargs))?,
            };
            il.handle(Loc::result(), out)?;
            Ok(())
        })();
        match r {
            Ok(()) => {}
            Err(e) if e.is_instance_of(&types::EARLY_STOP) => {}
            Err(e) => return Err(e),
        }
        il.check_dangling()?;
        for w in std::mem::take(&mut il.warnings) {
            (ctx.log)(&format!("UserWarning: {w}\n"))?;
        }
        Ok(())
    }

    /// `model.generate(...)`: the batch's ids and mask, the generation settings from the
    /// keyword arguments, and the rest passed to every forward.
    fn generate(&self, il: &mut Interleaver, kwargs: Kwargs) -> PyResult<Value> {
        let ctx = &self.ctx;
        let mut rest = Vec::new();
        let (mut ids, mut mask, mut pos) = (None, None, None);
        for (k, v) in kwargs {
            match (k.as_ref(), &v) {
                ("input_ids", Value::Tensor(t)) => ids = Some(t.t.shallow_clone()),
                ("attention_mask", Value::Tensor(t)) => mask = Some(t.t.shallow_clone()),
                ("position_ids", Value::Tensor(t)) => pos = Some(t.t.shallow_clone()),
                _ => rest.push((k, v)),
            }
        }
        let ids = ids.ok_or_else(|| PyErr::value_error("generate() needs input ids (a prompt)"))?;
        let mask = match mask {
            Some(m) => m,
            None => ids.f_ones_like()?,
        };
        let prompt_len = ids.size().get(1).copied().unwrap_or(0) as usize;
        let (cfg, forward) = GenConfig::from_kwargs(rest, &ctx.generation_config, &ctx.config, ctx.tokenizer.pad_id(), prompt_len)?;
        let forward: Vec<(&str, Value)> = forward.iter().map(|(k, v)| (k.as_ref(), v.clone())).collect();
        generate::generate(&mut Fwd { m: &ctx.model, hooks: &mut *il }, &cfg, ids, mask, pos, &forward)
    }

    /// How many steps an open `tracer.iter[:]` may hand out: one past the last step the
    /// run can make (`max_new_tokens` for generation, one forward for a trace). nnsight
    /// 0.8.1 hands out steps without end and relies on the worker parking on the first
    /// step that never comes; a loop body that asks nothing on some steps would then spin
    /// forever, so localndif stops there.
    ///
    /// nnsight 0.7 instead ends such a loop after `max_new_tokens` steps when the call
    /// names it (`LanguageModel.__nnsight_generate__` sets `interleaver.default_all`),
    /// and the code after the loop runs.
    fn step_bound(&self) -> usize {
        match self.kind {
            TraceKind::Trace => 2,
            TraceKind::Generate => {
                let named = self
                    .kwargs
                    .iter()
                    .find(|(k, _)| k.as_ref() == "max_new_tokens")
                    .and_then(|(_, v)| v.as_int());
                if let Some(n) = self.ctx.dialect.iteration_bound(named) {
                    return n;
                }
                let max = named
                    .or_else(|| self.ctx.generation_config.get("max_new_tokens").and_then(serde_json::Value::as_i64))
                    .unwrap_or(20)
                    .max(0) as usize;
                max + 1
            }
        }
    }

    fn register(&self, code: Rc<Code>, scope: Rc<Namespace>, args: Vec<Value>, kwargs: Kwargs) -> PyResult<()> {
        let mut st = self.state.borrow_mut();
        let State::Collecting(il) = &mut *st else {
            return Err(invoking_while_running(self.ctx.dialect));
        };
        let group = il.batcher.add(args, kwargs)?;
        il.add(code, scope, group)
    }
}

/// The tracer a native method was bound to.
fn tracer_of(n: &Native) -> PyResult<&TracerObj> {
    match &n.recv {
        Some(Value::Host(h)) => h
            .as_any()
            .downcast_ref::<TracerObj>()
            .ok_or_else(|| PyErr::internal("a tracer method bound to something else")),
        _ => Err(PyErr::internal("a tracer method without its tracer")),
    }
}

impl HostObj for TracerObj {
    fn type_name(&self) -> &str {
        "InterleavingTracer"
    }

    fn getattr(&self, it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        let bound = |name: &str, f: crate::value::object::NativeFn| Native::with_aux(name, Some(this.clone()), f, Aux::None);
        Ok(match name {
            "invoke" => bound("invoke", |it, n, args, kwargs| {
                let t = tracer_of(n)?;
                if in_worker(it) || !matches!(*t.state.borrow(), State::Collecting(_)) {
                    return Err(invoking_while_running(t.ctx.dialect));
                }
                let inv: Rc<dyn HostObj> = Rc::new(InvokerObj {
                    tracer: n.recv.clone().unwrap_or(Value::None),
                    args,
                    kwargs,
                });
                Ok(Value::Host(inv))
            }),
            "stop" => bound("stop", |_, _, _, _| {
                Err(PyErr::new(&types::EARLY_STOP, "Early stopping the model run"))
            }),
            "barrier" => bound("barrier", |_, n, args, kwargs| {
                let t = tracer_of(n)?;
                let count = args
                    .first()
                    .or_else(|| kwargs.iter().find(|(k, _)| k.as_ref() == "n_participants" || k.as_ref() == "n").map(|(_, v)| v))
                    .and_then(Value::as_int)
                    .ok_or_else(|| PyErr::type_error("barrier() missing 1 required positional argument: 'n_participants'"))?;
                if count < 1 {
                    return Err(PyErr::value_error("a barrier needs at least one participant"));
                }
                let id = t.barriers.get();
                t.barriers.set(id + 1);
                let b: Rc<dyn HostObj> = Rc::new(BarrierObj { id, n: count as usize, arrived: Cell::new(0) });
                Ok(Value::Host(b))
            }),
            "result" => return request(it, Event::Value, Loc::result(), "result"),
            "model" => return Ok(self.ctx.envoy(self.ctx.model.tree().root())),
            "iter" => {
                let i: Rc<dyn HostObj> = Rc::new(Iterations { bound: self.step_bound(), start: 0, stop: None, steps: None, dialect: self.ctx.dialect });
                return Ok(Value::Host(i));
            }
            "all" => bound("all", |_, n, _, _| {
                let t = tracer_of(n)?;
                let i: Rc<dyn HostObj> = Rc::new(Iterations { bound: t.step_bound(), start: 0, stop: None, steps: None, dialect: t.ctx.dialect });
                Ok(Value::Host(i))
            }),
            "cache" => bound("cache", |it, n, args, kwargs| {
                let t = tracer_of(n)?;
                let Some(w) = it.host.as_any().downcast_mut::<WorkerHost>() else {
                    return Err(PyErr::value_error("Cannot access `tracer.cache()` outside of interleaving"));
                };
                // nnsight 0.7 lets a cache start late: it records from there on.
                if w.cursor.requested.get() && !t.ctx.dialect.cache_may_start_late() {
                    return Err(PyErr::value_error("tracer.cache() must be declared before reading or modifying a model value"));
                }
                let options = super::cache::options(it, &t.ctx, args, kwargs)?;
                let cache = Rc::new(super::cache::Cache::new(options));
                request(it, Event::Cache(cache.clone()), Loc::result(), "tracer.cache()")?;
                let view: Rc<dyn HostObj> = Rc::new(super::cache::CacheView { cache, ctx: t.ctx.clone(), node: None });
                let view = Value::Host(view);
                saves::mark(&view)?;
                Ok(view)
            }),
            _ => {
                return Err(PyErr::attribute_error(format!(
                    "'InterleavingTracer' object has no attribute '{name}'"
                )));
            }
        })
    }

    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            if let Some(t) = body.target {
                it.assign(frame, t, this.clone())?;
            }
            let code = Code::module(body.code.program.clone(), body.stmts, &body.code.name)?;
            self.run(it, code, frame)
        })())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A `model.edit()` block, stored: its code and the scope it was written in.
#[derive(Clone)]
pub struct Edit {
    code: Rc<Code>,
    own: Rc<Dict>,
    parent: Rc<Namespace>,
}

impl Edit {
    /// An edit that arrived with the model handle (made outside the request): its block,
    /// the locals it was written among and the globals it reads.
    pub fn new(code: Rc<Code>, own: Rc<Dict>, parent: Rc<Namespace>) -> Edit {
        Edit { code, own, parent }
    }
}

/// `with model.edit(inplace=False) as (tracer, edited):` — the body is not run but
/// stored on the model handle (a copy unless `inplace`), and replayed first in every
/// later trace of it (docs/semantics.md §7.11).
pub struct EditObj {
    ctx: Rc<ModelCtx>,
    inplace: bool,
}

impl HostObj for EditObj {
    fn type_name(&self) -> &str {
        "EditingTracer"
    }

    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            if in_worker(it) {
                return Err(PyErr::value_error("An edit cannot be made inside a trace's intervention code; make it before the trace."));
            }
            if let Some(t) = body.target {
                let model = self.ctx.envoy(self.ctx.model.tree().root());
                let bound = match (self.ctx.dialect.edit_binds_model(), self.inplace) {
                    // nnsight 0.7's `EditingTracer.__enter__` binds the (edited) model.
                    (true, _) => model,
                    (false, true) => this.clone(),
                    (false, false) => Value::tuple(vec![this.clone(), model]),
                };
                it.assign(frame, t, bound)?;
            }
            let code = Code::module(body.code.program.clone(), body.stmts, &body.code.name)?;
            let parent = frame.locals.clone().unwrap_or_else(|| frame.globals.clone());
            self.ctx.edits.borrow_mut().push(Edit { code, own: snapshot(frame)?, parent });
            Ok(())
        })())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `tracer.invoke(...)`: registers its body as a worker over its input's rows.
pub struct InvokerObj {
    /// The tracer value (kept alive while the invoker is).
    tracer: Value,
    args: Vec<Value>,
    kwargs: Kwargs,
}

impl HostObj for InvokerObj {
    fn type_name(&self) -> &str {
        "Invoker"
    }

    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            let Value::Host(h) = &self.tracer else {
                return Err(PyErr::internal("an invoker without its tracer"));
            };
            let Some(t) = h.as_any().downcast_ref::<TracerObj>() else {
                return Err(PyErr::internal("an invoker without its tracer"));
            };
            if in_worker(it) {
                return Err(invoking_while_running(t.ctx.dialect));
            }
            if let Some(target) = body.target {
                it.assign(frame, target, this.clone())?;
            }
            let code = Code::module(body.code.program.clone(), body.stmts, &body.code.name)?;
            // nnsight's Mediator scope: a snapshot of the frame the block is written in,
            // the store its sibling invokes share, then that frame's namespace.
            let parent = frame.locals.clone().unwrap_or_else(|| frame.globals.clone());
            let scope = t.scope(Namespace::new(snapshot(frame)?, Some(t.invoke_store.clone()), Some(parent)));
            t.register(code, scope, self.args.clone(), self.kwargs.clone())
        })())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `tracer.barrier(n)`: parks each caller until `n` have arrived (docs/semantics.md §7.7).
pub struct BarrierObj {
    id: usize,
    n: usize,
    arrived: Cell<usize>,
}

impl HostObj for BarrierObj {
    fn type_name(&self) -> &str {
        "Barrier"
    }

    fn call(&self, it: &mut Interp, _this: &Value, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        if !args.is_empty() || !kwargs.is_empty() {
            return Err(PyErr::type_error("Barrier.__call__() takes no arguments"));
        }
        if !in_worker(it) {
            return Err(PyErr::value_error("Cannot access `tracer.barrier()` outside of interleaving"));
        }
        let k = self.arrived.get() + 1;
        if k < self.n {
            self.arrived.set(k);
            request(it, Event::Barrier(self.id), Loc::result(), "tracer.barrier()")?;
        } else {
            self.arrived.set(0);
            request(it, Event::Release(self.id), Loc::result(), "tracer.barrier()")?;
        }
        Ok(Value::None)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `model.session()`: its body is plain Python run once; every trace in it is a whole
/// run of its own, and pushes all its names into the body (docs/semantics.md §8).
pub struct SessionObj {
    pub ctx: Rc<ModelCtx>,
}

impl SessionObj {
    /// Runs the session body `code`, written in `frame`.
    pub fn run(&self, it: &mut Interp, code: Rc<Code>, frame: &mut Frame) -> PyResult<()> {
        if in_worker(it) {
            return Err(PyErr::value_error(
                "A session cannot be opened inside a trace's intervention code (the model is already running).",
            ));
        }
        let _scope = SaveScope::enter();
        let ns = Namespace::new(snapshot(frame)?, Some(Dict::new()), Some(frame.globals.clone()));
        it.exec_module(code, ns.clone())?;
        push_result(frame, ns.writes())
    }
}

impl HostObj for SessionObj {
    fn type_name(&self) -> &str {
        "Tracer"
    }

    fn getattr(&self, _it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        match name {
            // nnsight 0.5–0.7's `RemoteTracer.local()` (hybrid execution).
            "local" if self.ctx.dialect.runs_local_blocks() => {
                Ok(Native::with_aux("local", Some(this.clone()), |_, n, _, _| {
                    let Some(Value::Host(h)) = &n.recv else { return Err(PyErr::internal("local() without its session")) };
                    let Some(s) = h.as_any().downcast_ref::<SessionObj>() else {
                        return Err(PyErr::internal("local() without its session"));
                    };
                    let l: Rc<dyn HostObj> = Rc::new(super::local::LocalObj { ctx: s.ctx.clone() });
                    Ok(Value::Host(l))
                }, Aux::None))
            }
            _ => Err(PyErr::attribute_error(format!("'{}' object has no attribute '{name}'", self.type_name()))),
        }
    }

    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            if let Some(t) = body.target {
                it.assign(frame, t, this.clone())?;
            }
            let code = Code::module(body.code.program.clone(), body.stmts, &body.code.name)?;
            self.run(it, code, frame)
        })())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `tracer.iter[...]` / `tracer.all()` (nnsight's `Iterations`): which occurrences a loop
/// body's requests bind to. Iterating pins the worker's cursor to each step in turn and
/// restores it when the loop ends, however it ends.
pub struct Iterations {
    bound: usize,
    start: i64,
    stop: Option<i64>,
    steps: Option<Vec<i64>>,
    /// What `with tracer.iter[...] as x:` binds and how a short run ends it.
    dialect: crate::request::Dialect,
}

impl HostObj for Iterations {
    fn type_name(&self) -> &str {
        "Iterations"
    }

    fn getitem(&self, _it: &mut Interp, _this: &Value, key: &Value) -> PyResult<Value> {
        let (start, stop, steps) = match key {
            Value::Slice(s) => {
                if !s[2].is_none() && s[2].as_int() != Some(1) {
                    return Err(PyErr::unsupported("a `tracer.iter` slice with a step"));
                }
                let start = if s[0].is_none() { 0 } else { s[0].as_int().ok_or_else(|| PyErr::type_error("tracer.iter slice bounds must be ints"))? };
                let stop = if s[1].is_none() { None } else { Some(s[1].as_int().ok_or_else(|| PyErr::type_error("tracer.iter slice bounds must be ints"))?) };
                (start, stop, None)
            }
            Value::List(_) | Value::Tuple(_) => {
                let items = match key {
                    Value::List(l) => l.snapshot(),
                    Value::Tuple(t) => t.to_vec(),
                    _ => Vec::new(),
                };
                let steps = items
                    .iter()
                    .map(|v| v.as_int().ok_or_else(|| PyErr::type_error("tracer.iter steps must be ints")))
                    .collect::<PyResult<Vec<_>>>()?;
                (0, None, Some(steps))
            }
            other => {
                let i = other.as_int().ok_or_else(|| PyErr::type_error(format!("tracer.iter indices must be ints, slices or lists, not {}", other.type_name())))?;
                (i, Some(i + 1), None)
            }
        };
        let i: Rc<dyn HostObj> = Rc::new(Iterations { bound: self.bound, start, stop, steps, dialect: self.dialect });
        Ok(Value::Host(i))
    }

    /// The deprecated block form, `with tracer.iter[...]:` / `with tracer.all():` — the
    /// body re-run once per selected step, as the `for` form runs it (nnsight 0.8.1's
    /// `Iterations.execute`; 0.7's `IteratorTracer.execute`, whose `as` name is the step,
    /// where 0.8.1 binds the selection itself).
    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            let Some(run) = self.iter(it, this).transpose()? else {
                return Err(PyErr::internal("a tracer.iter selection that does not iterate"));
            };
            let Value::Host(h) = &run else {
                return Err(PyErr::internal("a tracer.iter run that is not a host object"));
            };
            if let (Some(t), false) = (body.target, self.dialect.iteration_binds_step()) {
                it.assign(frame, t, this.clone())?;
            }
            let r = (|| -> PyResult<()> {
                while let Some(step) = h.next(it, &run).transpose()?.flatten() {
                    if let (Some(t), true) = (body.target, self.dialect.iteration_binds_step()) {
                        it.assign(frame, t, step)?;
                    }
                    // A `return` or `break` ends this step's block, as returning from
                    // the function 0.7 compiles the block into does.
                    it.exec_in(frame, body.stmts)?;
                }
                Ok(())
            })();
            // 0.8.1 keeps what the reached steps saved when the run ends short of the
            // selection (`except OutOfOrderError: pass`).
            let r = match r {
                Err(e) if self.dialect.iteration_ends_quietly() && e.is_instance_of(&types::OUT_OF_ORDER_ERROR) => Ok(()),
                other => other,
            };
            h.close(it);
            r
        })())
    }

    fn iter(&self, _it: &mut Interp, _this: &Value) -> Option<PyResult<Value>> {
        let steps: Vec<i64> = match &self.steps {
            Some(s) => s.clone(),
            None => {
                let stop = self.stop.unwrap_or(self.bound as i64);
                (self.start..stop.max(self.start)).collect()
            }
        };
        let run: Rc<dyn HostObj> = Rc::new(IterRun { steps, next: Cell::new(0), previous: Cell::new(None) });
        Some(Ok(Value::Host(run)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// One loop over a `tracer.iter` selection.
struct IterRun {
    steps: Vec<i64>,
    next: Cell<usize>,
    /// The cursor before the loop (`Some` once the loop has started).
    previous: Cell<Option<Option<usize>>>,
}

impl IterRun {
    fn restore(&self, it: &mut Interp) {
        if let Some(prev) = self.previous.take()
            && let Some(w) = it.host.as_any().downcast_mut::<WorkerHost>()
        {
            w.cursor.iteration.set(prev);
        }
    }
}

impl HostObj for IterRun {
    fn type_name(&self) -> &str {
        "generator"
    }

    fn iter(&self, _it: &mut Interp, this: &Value) -> Option<PyResult<Value>> {
        Some(Ok(this.clone()))
    }

    fn next(&self, it: &mut Interp, _this: &Value) -> Option<PyResult<Option<Value>>> {
        let Some(w) = it.host.as_any().downcast_mut::<WorkerHost>() else {
            return Some(Err(PyErr::value_error("Cannot access `tracer.iter` outside of interleaving")));
        };
        let i = self.next.get();
        let Some(&step) = self.steps.get(i) else {
            self.restore(it);
            return Some(Ok(None));
        };
        if step < 0 {
            self.restore(it);
            return Some(Err(PyErr::value_error(format!("tracer.iter step cannot be negative: {step}"))));
        }
        if self.previous.get().is_none() {
            self.previous.set(Some(w.cursor.iteration.get()));
        }
        w.cursor.iteration.set(Some(step as usize));
        self.next.set(i + 1);
        Some(Ok(Some(Value::Int(step))))
    }

    fn close(&self, it: &mut Interp) {
        self.restore(it);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `tracer.invoke()` inside a running invoke, in the client's words.
fn invoking_while_running(dialect: crate::request::Dialect) -> PyErr {
    PyErr::value_error(dialect.invoke_while_running())
}
