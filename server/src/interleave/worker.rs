//! A worker: one body of intervention code (an invoke, a direct-input trace) running as a
//! stackful coroutine on the job thread — what nnsight 0.8.1 does with a greenlet. The
//! worker parks by yielding a [`Request`] ("the output of model.x, occurrence n") and is
//! resumed with a [`Reply`]; the model side never runs while a worker does, so values
//! need no locks. A worker that must end (an error elsewhere, a timeout) is resumed with
//! `Throw(Cancelled)`, which user code cannot catch.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use corosensei::stack::{DefaultStack, Stack};
use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::interleaver::TreeNames;
use super::loc::Loc;
use crate::interp::call::Kwargs;
use crate::request::Dialect;
use crate::interp::Interp;
use crate::interp::code::Code;
use crate::interp::host::Host;
use crate::value::object::Namespace;
use crate::value::{PyErr, PyResult, Value, ctx, stack};

/// Bytes of address space reserved per worker stack (pages are committed on use).
pub const WORKER_STACK: usize = 256 << 20;

/// What a worker parks on.
#[derive(Clone)]
pub enum Event {
    Value,
    Swap(Value),
    Skip(Value),
    /// Waiting for the other blocks at a barrier (names no location).
    Barrier(usize),
    /// The last block to reach barrier `id`: release the others, then continue.
    Release(usize),
    /// `tracer.cache()`: observe the run from now on, then continue.
    Cache(Rc<super::cache::Cache>),
}

#[derive(Clone)]
pub struct Request {
    pub event: Event,
    pub loc: Loc,
    pub occurrence: usize,
}

pub enum Reply {
    Start,
    Value(Value),
    Ack,
    Throw(PyErr),
}

/// Where `print` goes for every body of a job.
pub type LogSink = Rc<dyn Fn(&str) -> PyResult<()>>;

/// State a worker and the interleaver both read: the occurrence cursor
/// (docs/semantics.md §1.6) and the visit counts the worker's occurrences are measured from.
pub struct Cursor {
    /// `Some(n)`: pinned to occurrence n (0 by default); `None`: relaxed (next one).
    pub iteration: Cell<Option<usize>>,
    pub counts: Rc<RefCell<HashMap<Loc, usize>>>,
    pub counts_at_start: RefCell<HashMap<Loc, usize>>,
    /// The worker has asked the model for something (a cache comes too late then).
    pub requested: Cell<bool>,
    /// The backward pass whose `.grad` requests this worker makes (a `with
    /// loss.backward():` body), if it is one.
    pub backward: Option<u64>,
    /// The hook key of each tensor whose `.grad` the body asked for (one hook, one
    /// location per tensor, as nnsight's `"{id(tensor)}.grad"`).
    pub grad_keys: RefCell<HashMap<crate::value::Identity, u64>>,
}

impl Cursor {
    /// How many times the model reached `loc` since this worker started.
    pub fn occurrence(&self, loc: &Loc) -> usize {
        let now = self.counts.borrow().get(loc).copied().unwrap_or(0);
        now - self.counts_at_start.borrow().get(loc).copied().unwrap_or(0)
    }

    /// The occurrence a request made now asks for.
    pub fn wanted(&self, loc: &Loc) -> usize {
        self.iteration.get().unwrap_or_else(|| self.occurrence(loc))
    }
}

/// The interpreter's host inside a worker.
pub struct WorkerHost {
    /// The coroutine's yielder. A raw pointer so the host is `'static` (host objects find
    /// it by downcasting `Interp::host`).
    yielder: *const Yielder<Reply, Request>,
    pub cursor: Rc<Cursor>,
    log: LogSink,
    limit: usize,
    names: Rc<TreeNames>,
    dialect: Dialect,
}

impl WorkerHost {
    /// Parks until the model serves `event` at `loc`; returns the reply.
    pub fn request(&mut self, event: Event, loc: Loc) -> PyResult<Value> {
        ctx::check()?;
        let occurrence = match event {
            Event::Barrier(_) | Event::Release(_) | Event::Cache(_) => 0,
            _ => self.cursor.wanted(&loc),
        };
        if !matches!(event, Event::Cache(_)) {
            self.cursor.requested.set(true);
        }
        // SAFETY: the host lives inside the coroutine body, which is where the yielder
        // is valid: the pointer is never used after the body returns.
        let yielder = unsafe { &*self.yielder };
        let reply = yielder.suspend(Request { event, loc, occurrence });
        stack::set_limit(self.limit);
        match reply {
            Reply::Value(v) => Ok(v),
            Reply::Ack | Reply::Start => Ok(Value::None),
            Reply::Throw(e) => Err(e),
        }
    }
}

impl WorkerHost {
    /// The location of `tensor`'s gradient in this backward body, hooking it the first
    /// time it is asked for.
    fn grad_key(&self, tensor: &Value) -> PyResult<u64> {
        let session = self.cursor.backward.ok_or_else(|| PyErr::internal("a .grad request outside a backward body"))?;
        let id = tensor.identity();
        if let Some(&key) = self.cursor.grad_keys.borrow().get(&id) {
            return Ok(key);
        }
        let key = super::grad::hook(tensor, session)?;
        self.cursor.grad_keys.borrow_mut().insert(id, key);
        Ok(key)
    }
}

impl Host for WorkerHost {
    fn print(&mut self, text: &str) -> PyResult<()> {
        (self.log)(text)
    }
    fn backward_tracer(&mut self, tensor: &Value, args: Vec<Value>, kwargs: Kwargs) -> Option<PyResult<Value>> {
        Some(super::grad::BackwardTracer::value(tensor, args, kwargs, self.names.clone(), self.log.clone(), self.dialect))
    }
    fn grad(&mut self, tensor: &Value) -> Option<PyResult<Value>> {
        self.cursor.backward?;
        Some(self.grad_key(tensor).and_then(|key| self.request(Event::Value, Loc::grad(key))))
    }
    fn set_grad(&mut self, tensor: &Value, v: &Value) -> Option<PyResult<()>> {
        self.cursor.backward?;
        Some(self.grad_key(tensor).and_then(|key| self.request(Event::Swap(v.clone()), Loc::grad(key)).map(drop)))
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// What a worker returns when its body ends: its error, if any.
pub type Done = PyResult<()>;

pub struct Worker {
    co: Option<Coroutine<Reply, Request, Done, DefaultStack>>,
}

pub enum Step {
    Parked(Request),
    Done(Done),
}

impl Worker {
    /// A worker that will run `code` against `scope` when first resumed.
    pub fn new(code: Rc<Code>, scope: Rc<Namespace>, cursor: Rc<Cursor>, log: LogSink, names: Rc<TreeNames>, dialect: Dialect) -> PyResult<Worker> {
        let stack = DefaultStack::new(WORKER_STACK)
            .map_err(|e| PyErr::memory(format!("could not reserve a worker stack: {e}")))?;
        let limit = stack::limit_for(stack.limit().get());
        let co = Coroutine::with_stack(stack, move |yielder: &Yielder<Reply, Request>, first: Reply| {
            stack::set_limit(limit);
            if let Reply::Throw(e) = first {
                return Err(e);
            }
            let mut host = WorkerHost {
                yielder: yielder as *const _,
                cursor,
                log,
                limit,
                names,
                dialect,
            };
            let mut it = Interp::new(&mut host);
            it.exec_module(code, scope)
        });
        Ok(Worker { co: Some(co) })
    }

    pub fn alive(&self) -> bool {
        self.co.as_ref().is_some_and(|c| !c.done())
    }

    /// Resumes the worker with `reply`; it runs until it parks again or ends.
    pub fn resume(&mut self, reply: Reply) -> Step {
        let Some(co) = self.co.as_mut() else {
            return Step::Done(Ok(()));
        };
        if co.done() {
            return Step::Done(Ok(()));
        }
        let saved = stack::limit();
        let r = co.resume(reply);
        stack::set_limit(saved);
        match r {
            CoroutineResult::Yield(req) => Step::Parked(req),
            CoroutineResult::Return(done) => {
                self.co = None;
                Step::Done(done)
            }
        }
    }

    /// Ends the worker (whatever it was doing); user code cannot catch this.
    pub fn cancel(&mut self) {
        for _ in 0..4 {
            if !self.alive() {
                break;
            }
            let _ = self.resume(Reply::Throw(PyErr::stop(ctx::Stop::Cancelled)));
        }
        // Still parked (impossible unless a `finally` keeps requesting): drop it, which
        // unwinds its stack.
        self.co = None;
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.alive() {
            self.cancel();
        }
    }
}
