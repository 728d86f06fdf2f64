//! Interleaving: runs an invoke body on its own thread and meets the model's forward at hook
//! points through a rendezvous (semantics.md §1.5, design.md §6). The forward thread calls
//! [`Hooks`] at every module call; each worker parks on "give me module X's output" until the
//! forward gets there, may read or swap the value, then runs on to its next request. Exactly
//! one of the two threads runs at a time. Requests that can never be served (already passed,
//! never called) fail after the forward with 0.8.1's `OutOfOrderError`.

mod convert;
mod tree;

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Instant;

use crate::interp::{Hook, Host, Interp, Limits, Program, PyErr, PyResult, Scope, Value};
use crate::model::{Act, Call, CausalLm, ForwardError, Hooks, Interrupted};

use convert::{to_value, value_to_act};
pub use tree::ModuleTree;

/// How a trace ended badly.
#[derive(Debug)]
pub enum TraceError {
    /// An exception in user code, or an nnsight-level error (out of order, ...).
    User(PyErr),
    /// The model itself failed (e.g. a swapped value of the wrong shape).
    Model(String),
    /// The job ran past its wall-clock limit.
    Timeout { seconds: u64 },
}

/// What user code saw fit to return: the saved locals, in binding order.
pub type Saved = Vec<(String, Value)>;

/// A worker's request: the value at a hook point, or (with `swap`) its replacement.
struct Ask {
    path: Arc<str>,
    hook: Hook,
    swap: Option<Value>,
}

/// Worker → forward messages.
enum Up {
    Request(Ask),
    Print(String),
    Done(PyResult<()>, Saved),
}

/// Forward → worker replies.
enum Down {
    Value(Value),
    Swapped,
    /// The request cannot be served: the worker raises this error where it asked.
    Fail(PyErr),
}

/// One trace run: the model, its module tree, the time limit and where prints go.
pub struct Run<'a> {
    pub model: &'a dyn CausalLm,
    pub tree: Arc<ModuleTree>,
    pub limits: Limits,
    pub deadline: Instant,
    pub timeout_seconds: u64,
    pub log: &'a mut dyn FnMut(String),
}

impl Run<'_> {
    /// Runs `program` as the single invoke of a trace whose forward input is `inputs`.
    pub fn trace(
        &mut self,
        inputs: Call,
        program: Arc<Program>,
        globals: Scope,
        locals: Scope,
    ) -> Result<Saved, TraceError> {
        let mut worker = Worker::spawn(program, globals, locals, self.tree.clone(), self.limits);
        let mut state = Forward {
            workers: vec![],
            visits: Default::default(),
            failure: None,
            run: self,
        };
        // Start the worker: it runs until its first request (or finishes) before the model
        // runs (semantics.md §1.5).
        state.advance(&mut worker)?;
        state.workers.push(worker);
        let outcome = state.run.model.forward(inputs, &mut state);
        if let Some(failure) = state.failure.take() {
            return Err(failure);
        }
        if let Err(e) = outcome {
            return Err(match e {
                ForwardError::Interrupted => {
                    TraceError::User(PyErr::internal("forward interrupted without a reason"))
                }
                ForwardError::Torch(t) => TraceError::Model(PyErr::from(t).to_string()),
                ForwardError::Type(m) => TraceError::Model(format!("TypeError: {m}")),
            });
        }
        let mut saved = Vec::new();
        for mut w in std::mem::take(&mut state.workers) {
            match w.state.take() {
                Some(Pending::Done(Ok(()), s)) => saved.extend(s),
                Some(Pending::Done(Err(e), _)) => return Err(TraceError::User(e)),
                Some(Pending::Request(Ask { path, hook, .. })) => {
                    // Raised inside the worker, at the statement that asked, as nnsight does.
                    let err = PyErr::new(
                        "OutOfOrderError",
                        format!(
                            "'{path}.{}.i0' was requested but the model already ran past it",
                            hook.name()
                        ),
                    );
                    w.fail(err);
                    state.advance(&mut w)?;
                    return Err(TraceError::User(PyErr::internal(
                        "a worker went on after an out-of-order request",
                    )));
                }
                None => return Err(TraceError::User(PyErr::internal("worker state lost"))),
            }
        }
        Ok(saved)
    }
}

enum Pending {
    Request(Ask),
    Done(PyResult<()>, Saved),
}

/// The forward side of one worker.
struct Worker {
    down: Option<Sender<Down>>,
    up: Receiver<Up>,
    state: Option<Pending>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Worker {
    fn spawn(
        program: Arc<Program>,
        globals: Scope,
        locals: Scope,
        tree: Arc<ModuleTree>,
        limits: Limits,
    ) -> Worker {
        let (up_tx, up_rx) = mpsc::channel();
        let (down_tx, down_rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("invoke".into())
            .stack_size(crate::interp::STACK_SIZE)
            .spawn(move || {
                let mut host = WorkerHost {
                    up: up_tx.clone(),
                    down: down_rx,
                    tree,
                };
                let mut interp = Interp::new(&mut host, &program, globals, locals, limits);
                let result = interp.run();
                let saved = interp.saved();
                // The forward may have given up on us already; nobody to tell then.
                let _ = up_tx.send(Up::Done(result, saved));
            })
            .ok();
        Worker {
            down: Some(down_tx),
            up: up_rx,
            state: None,
            thread,
        }
    }
}

impl Worker {
    /// Its pending request, if it asks for this hook point.
    fn take_request(&mut self, envoy_path: &str, hook: Hook) -> Option<Ask> {
        match self.state.take() {
            Some(Pending::Request(ask)) if &*ask.path == envoy_path && ask.hook == hook => {
                Some(ask)
            }
            other => {
                self.state = other;
                None
            }
        }
    }

    fn fail(&self, err: PyErr) {
        if let Some(down) = &self.down {
            // A worker that is gone has nothing left to raise.
            let _ = down.send(Down::Fail(err));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the reply channel makes a parked worker's `read` fail with Cancelled,
        // so its thread unwinds instead of waiting forever.
        self.down.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Forward<'r, 'a> {
    workers: Vec<Worker>,
    visits: std::collections::HashMap<(String, Hook), usize>,
    failure: Option<TraceError>,
    run: &'r mut Run<'a>,
}

impl Forward<'_, '_> {
    /// Waits for the worker's next request (or its end), passing prints through.
    fn advance(&mut self, w: &mut Worker) -> Result<(), TraceError> {
        loop {
            let left = self.run.deadline.saturating_duration_since(Instant::now());
            match w.up.recv_timeout(left) {
                Ok(Up::Print(text)) => (self.run.log)(text),
                Ok(Up::Request(ask)) => {
                    w.state = Some(Pending::Request(ask));
                    return Ok(());
                }
                Ok(Up::Done(result, saved)) => {
                    if let Err(e) = &result
                        && e.is_user_visible()
                    {
                        return Err(TraceError::User(e.clone()));
                    }
                    w.state = Some(Pending::Done(result, saved));
                    return Ok(());
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(TraceError::Timeout {
                        seconds: self.run.timeout_seconds,
                    });
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(TraceError::User(PyErr::internal(
                        "the invoke's thread ended unexpectedly",
                    )));
                }
            }
        }
    }

    /// Serves every worker whose pending request is this location's current visit; the
    /// value may be swapped along the way and flows back into the model.
    fn handle(&mut self, path: &str, hook: Hook, mut value: Act) -> Result<Act, Interrupted> {
        let envoy = self.run.tree.envoy_path(path);
        let key = (envoy.clone(), hook);
        let visit = *self.visits.get(&key).unwrap_or(&0);
        let mut workers = std::mem::take(&mut self.workers);
        let result = (|| {
            for w in &mut workers {
                // Without tracer.iter every request targets occurrence 0 (semantics.md §1.6).
                while let Some(Ask { swap, .. }) =
                    (visit == 0).then(|| w.take_request(&envoy, hook)).flatten()
                {
                    let reply = match swap {
                        None => Down::Value(to_value(&value)),
                        Some(v) => match value_to_act(v, hook) {
                            Ok(new) => {
                                value = new;
                                Down::Swapped
                            }
                            Err(e) => {
                                self.failure = Some(TraceError::User(e));
                                return Err(Interrupted);
                            }
                        },
                    };
                    let Some(down) = &w.down else {
                        return Err(Interrupted);
                    };
                    if down.send(reply).is_err() {
                        self.failure = Some(TraceError::User(PyErr::internal(
                            "an invoke's thread vanished",
                        )));
                        return Err(Interrupted);
                    }
                    if let Err(e) = self.advance(w) {
                        self.failure = Some(e);
                        return Err(Interrupted);
                    }
                }
            }
            Ok(())
        })();
        self.workers = workers;
        self.visits.insert(key, visit + 1);
        result.map(|()| value)
    }
}

impl Hooks for Forward<'_, '_> {
    fn input(&mut self, path: &str, call: Call) -> Result<Call, Interrupted> {
        match self.handle(
            path,
            Hook::Input,
            Act::Tuple(vec![
                Act::Tuple(call.args),
                convert::kwargs_act(call.kwargs),
            ]),
        )? {
            Act::Tuple(mut pair) if pair.len() == 2 => {
                let kwargs = pair.pop().map(convert::act_kwargs).unwrap_or_default();
                let args = match pair.pop() {
                    Some(Act::Tuple(a)) => a,
                    _ => vec![],
                };
                Ok(Call { args, kwargs })
            }
            _ => {
                self.failure = Some(TraceError::User(PyErr::type_error(format!(
                    "inputs of '{}' must be an (args, kwargs) pair",
                    self.run.tree.envoy_path(path)
                ))));
                Err(Interrupted)
            }
        }
    }

    fn output(&mut self, path: &str, out: Act) -> Result<Act, Interrupted> {
        self.handle(path, Hook::Output, out)
    }
}

/// The worker side: turns interpreter requests into messages and waits for the reply.
struct WorkerHost {
    up: Sender<Up>,
    down: Receiver<Down>,
    tree: Arc<ModuleTree>,
}

impl WorkerHost {
    fn ask(&mut self, path: &str, hook: Hook, swap: Option<Value>) -> PyResult<Down> {
        self.up
            .send(Up::Request(Ask {
                path: path.into(),
                hook,
                swap,
            }))
            .map_err(|_| PyErr::cancelled())?;
        self.down.recv().map_err(|_| PyErr::cancelled())
    }
}

impl Host for WorkerHost {
    fn has_module(&self, path: &str) -> bool {
        self.tree.contains(path)
    }

    fn module_len(&self, path: &str) -> Option<usize> {
        self.tree.list_len(path)
    }

    fn read(&mut self, path: &str, hook: Hook) -> PyResult<Value> {
        match self.ask(path, hook, None)? {
            Down::Value(v) => Ok(v),
            Down::Fail(e) => Err(e),
            Down::Swapped => Err(PyErr::internal(
                "expected a value, got a swap acknowledgement",
            )),
        }
    }

    fn write(&mut self, path: &str, hook: Hook, value: Value) -> PyResult<()> {
        match self.ask(path, hook, Some(value))? {
            Down::Swapped => Ok(()),
            Down::Fail(e) => Err(e),
            Down::Value(_) => Err(PyErr::internal(
                "expected a swap acknowledgement, got a value",
            )),
        }
    }

    fn print(&mut self, text: String) -> PyResult<()> {
        self.up
            .send(Up::Print(text))
            .map_err(|_| PyErr::cancelled())
    }
}

#[cfg(test)]
mod tests;
