//! Gradients (docs/semantics.md §7.8, nnsight 0.8.1's `BackwardsTracer`): `with
//! loss.backward():` runs its body as a worker of a new interleaver over the backward
//! pass. A `.grad` read or assignment in the body registers a one-shot hook on the tensor
//! (`value::autograd`) and parks on the location `"{key}.grad"`; the pass then runs, and
//! each hook serves the parked worker with the gradient flowing into its tensor — the
//! same tensor autograd passes on, so in-place edits and assignments change what flows
//! upstream exactly as in PyTorch. Gradients arrive in reverse order of the forward; a
//! request the pass already went past ends as nnsight's `OutOfOrderError`.
//!
//! Hooks run on the thread that called backward for CPU tensors (libtorch's engine runs
//! CPU work on the caller), which is the job thread; CUDA passes run on libtorch's device
//! threads and are refused for now.

use std::any::Any;
use std::cell::Cell;
use std::ffi::c_int;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use torch_sys::C_tensor;

use super::interleaver::{Interleaver, TreeNames};
use super::loc::Loc;
use super::worker::LogSink;
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::code::Code;
use crate::interp::frame::Frame;
use crate::interp::host::{HostObj, WithBody};
use crate::request::Dialect;
use crate::value::object::Namespace;
use crate::value::{Dict, PyErr, PyResult, Value, autograd, ctx};

/// Keys of backward sessions and of hooks (unique in the process).
static NEXT: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The backward pass running on this thread: where its hooks deliver gradients.
struct Running {
    session: u64,
    il: *mut Interleaver,
    /// What stopped the pass (a failing body, an assignment that is not a tensor).
    error: Option<PyErr>,
}

/// The running job's backward pass, if one runs (kept in the job context, so a pass a
/// panic left behind ends with its job).
struct Active(Cell<*mut Running>);

impl Default for Active {
    fn default() -> Self {
        Active(Cell::new(std::ptr::null_mut()))
    }
}

/// The pass running now, null when none (or outside a job).
fn active() -> *mut Running {
    ctx::state::<Active>().map_or(std::ptr::null_mut(), |a| a.0.get())
}

/// Makes `running` the pass hooks deliver to until the guard drops (also on a panic).
struct Activated(Rc<Active>);

impl Activated {
    fn new(running: &mut Running) -> PyResult<Activated> {
        let a = ctx::state::<Active>().ok_or_else(|| PyErr::internal("a backward pass outside a job"))?;
        a.0.set(running);
        Ok(Activated(a))
    }
}

impl Drop for Activated {
    fn drop(&mut self) {
        self.0.0.set(std::ptr::null_mut());
    }
}

/// Registers the one-shot hook a `.grad` request of a backward body waits on; returns
/// its key (the location `"{key}.grad"`).
pub fn hook(tensor: &Value, session: u64) -> PyResult<u64> {
    let Value::Tensor(t) = tensor else {
        return Err(PyErr::internal("a .grad request on a non-tensor"));
    };
    let key = next_id();
    autograd::register_hook(&t.t, session, key, on_grad)?;
    Ok(key)
}

/// A hook fired: serve the workers parked on this tensor's gradient, hand back what flows on.
extern "C" fn on_grad(session: u64, key: u64, grad: *mut C_tensor, out: *mut *mut C_tensor) -> c_int {
    // SAFETY: libtorch hands over a tensor it allocated for us.
    let grad = unsafe { autograd::adopt(grad) };
    let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> c_int {
        let p = active();
        if p.is_null() {
            return 0;
        }
        // SAFETY: `active()` points at the `Running` of `BackwardTracer::run`, which is
        // blocked in the backward call that fired this hook (same thread), and its
        // `Activated` guard clears it before that frame ends.
        let running = unsafe { &mut *p };
        if running.session != session {
            // A stale hook of an earlier pass on the same graph: one-shot, so inert.
            return 0;
        }
        // SAFETY: as above; nothing else touches the interleaver during the pass.
        let il = unsafe { &mut *running.il };
        match il.handle(Loc::grad(key), Value::tensor(grad.shallow_clone())) {
            Ok(Value::Tensor(t)) => {
                // SAFETY: `out` is the C++ side's slot for the replacement.
                unsafe { *out = autograd::release(t.t.shallow_clone()) };
                0
            }
            Ok(other) => {
                running.error = Some(PyErr::type_error(format!(
                    "assigned grad expected to be a Tensor, not {}",
                    other.type_name()
                )));
                1
            }
            Err(e) => {
                running.error = Some(e);
                1
            }
        }
    }));
    served.unwrap_or(1)
}

/// `with loss.backward(gradient=None, retain_graph=None, create_graph=False):`.
pub struct BackwardTracer {
    tensor: Value,
    gradient: Option<Value>,
    retain_graph: bool,
    create_graph: bool,
    names: Rc<TreeNames>,
    log: LogSink,
    dialect: Dialect,
}

impl BackwardTracer {
    pub fn value(tensor: &Value, args: Vec<Value>, kwargs: Kwargs, names: Rc<TreeNames>, log: LogSink, dialect: Dialect) -> PyResult<Value> {
        let mut vals = crate::interp::call::bind_named("backward", &["gradient", "retain_graph", "create_graph", "inputs"], args, kwargs)?;
        if vals[3].as_ref().is_some_and(|v| !v.is_none()) {
            return Err(PyErr::unsupported("backward(inputs=...)"));
        }
        let flag = |v: &Option<Value>| matches!(v, Some(Value::Bool(true)));
        let create_graph = flag(&vals[2]);
        let retain_graph = match &vals[1] {
            None | Some(Value::None) => create_graph,
            v => flag(v),
        };
        let t: Rc<dyn HostObj> = Rc::new(BackwardTracer {
            tensor: tensor.clone(),
            gradient: vals[0].take().filter(|v| !v.is_none()),
            retain_graph,
            create_graph,
            names,
            log,
            dialect,
        });
        Ok(Value::Host(t))
    }

    fn run(&self, code: Rc<Code>, frame: &mut Frame) -> PyResult<()> {
        let Value::Tensor(t) = &self.tensor else {
            return Err(PyErr::internal("backward of a non-tensor"));
        };
        if t.t.device().is_cuda() {
            return Err(PyErr::unsupported("`with loss.backward():` on a CUDA model"));
        }
        if !active().is_null() {
            return Err(PyErr::unsupported("a `with ....backward():` block inside another one"));
        }
        let gradient = match &self.gradient {
            None => None,
            Some(Value::Tensor(g)) => Some(g.t.shallow_clone()),
            Some(other) => return Err(PyErr::type_error(format!("backward() gradient must be a Tensor, not {}", other.type_name()))),
        };
        let session = next_id();
        let mut il = Interleaver::new(self.names.clone(), self.log.clone());
        il.dialect = self.dialect;
        il.backward = Some(session);
        // The body sees the enclosing block's names and binds its own there afterwards.
        let parent = frame.locals.clone().unwrap_or_else(|| frame.globals.clone());
        let scope = Namespace::new(super::tracer::snapshot(frame)?, Some(Dict::new()), Some(parent));
        let r = (|| -> PyResult<()> {
            il.add(code, scope.clone(), None)?;
            il.start()?;
            let mut running = Running { session, il: &mut il, error: None };
            let activated = Activated::new(&mut running)?;
            let pass = autograd::backward(&t.t, gradient.as_ref(), self.retain_graph, self.create_graph);
            drop(activated);
            if let Some(e) = running.error.take() {
                return Err(e);
            }
            pass?;
            il.check_dangling()
        })();
        il.cancel();
        r?;
        for (name, v) in scope.writes() {
            frame.push_by_name(&name, v)?;
        }
        Ok(())
    }
}

impl HostObj for BackwardTracer {
    fn type_name(&self) -> &str {
        "BackwardsTracer"
    }

    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            if let Some(t) = body.target {
                it.assign(frame, t, this.clone())?;
            }
            let code = Code::module(body.code.program.clone(), body.stmts, &body.code.name)?;
            self.run(code, frame)
        })())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
