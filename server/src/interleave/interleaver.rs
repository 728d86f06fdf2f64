//! The model side of interleaving (docs/semantics.md §1.5, nnsight 0.8.1's `Interleaver`):
//! workers start in order and run to their first request; at every hook point the
//! workers parked on this visit are served in invoke order — a read gets the value (its
//! rows of it), an assignment replaces it (its rows), a skip supplies the module's
//! output — and a worker may make any number of requests at one visit. After the model
//! returns, a worker still parked asked for a location the model ran past: nnsight's
//! `OutOfOrderError` is thrown into it at the line that asked.

use crate::request::{DanglingForm, Dialect};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::batch::{Batcher, Group};
use super::cache::Cache;
use super::loc::{Loc, Site};
use super::worker::{Cursor, Event, LogSink, Reply, Request, Step, Worker};
use crate::interp::code::Code;
use crate::model::{Hooks, ModuleId, Tree};
use crate::value::object::Namespace;
use crate::value::{PyErr, PyResult, Value, types};

pub struct Mediator {
    worker: Worker,
    pub pending: Option<Request>,
    pub cursor: Rc<Cursor>,
    pub group: Group,
    /// The scope the body runs in (what the trace pushes back).
    pub scope: Rc<Namespace>,
    /// The error the body ended with, if any (kept for the caller to decide).
    pub error: Option<PyErr>,
}

/// An interleaved run: its workers, visit counts and batch.
pub struct Interleaver {
    pub mediators: Vec<Mediator>,
    counts: Rc<RefCell<HashMap<Loc, usize>>>,
    pub batcher: Batcher,
    tree: Rc<TreeNames>,
    log: LogSink,
    /// A `tracer.stop()` was served; raised once the current visit completes.
    stopped: Option<PyErr>,
    /// Warnings to show the user (a loop that asked for a step the run did not make).
    pub warnings: Vec<String>,
    /// Whose words errors use (0.7 and 0.8 name a missed module differently).
    pub dialect: Dialect,
    /// `tracer.cache()`s, each with the rows of the worker that declared it.
    caches: Vec<(Group, Rc<Cache>)>,
    /// The backward pass this interleaver serves (`with loss.backward():`), if it does.
    pub backward: Option<u64>,
}

/// Module names for requester strings, shared without borrowing the model.
pub struct TreeNames {
    pub envoys: Vec<String>,
    pub classes: Vec<String>,
    /// Name operations as nnsight 0.7 does (`<module>.<0.7 name>.output`, no `.source`).
    pub g1: bool,
}

impl TreeNames {
    pub fn of(tree: &Tree, g1: bool) -> TreeNames {
        TreeNames {
            envoys: tree.ids().map(|id| tree.node(id).envoy.clone()).collect(),
            classes: tree.ids().map(|id| tree.node(id).class.to_string()).collect(),
            g1,
        }
    }

    fn requester(&self, loc: &Loc, occurrence: usize) -> String {
        let site = match loc.site {
            Site::Input => "input",
            Site::Skip => "skip",
            Site::Output => "output",
            Site::Result => "result",
            Site::Grad(key) => return format!("{key}.grad.i{occurrence}"),
            Site::OpInput(_) | Site::OpSkip(_) | Site::OpOutput(_) => {
                if self.g1
                    && let (Some(id), Some(op)) = (loc.module, loc.site.op())
                    && let Some(label) = crate::model::source::name_07(&self.classes[id], op as usize)
                {
                    let site = if matches!(loc.site, Site::OpInput(_)) { "input" } else { "output" };
                    return format!("{}.{label}.{site}.i{occurrence}", self.envoys[id]);
                }
                let name = super::loc::op_name(loc, |id| self.envoys[id].clone(), |id| self.classes[id].clone());
                return format!("{name}.i{occurrence}");
            }
        };
        match loc.module {
            Some(id) => format!("{}.{site}.i{occurrence}", self.envoys[id]),
            None => format!("{site}.i{occurrence}"),
        }
    }
}

fn is_early_stop(e: &PyErr) -> bool {
    e.is_instance_of(&types::EARLY_STOP)
}

impl Interleaver {
    pub fn new(tree: Rc<TreeNames>, log: LogSink) -> Interleaver {
        Interleaver {
            mediators: Vec::new(),
            counts: Rc::new(RefCell::new(HashMap::new())),
            batcher: Batcher::default(),
            tree,
            log,
            stopped: None,
            warnings: Vec::new(),
            dialect: Dialect::default(),
            caches: Vec::new(),
            backward: None,
        }
    }

    /// Registers a worker for `code` (started by [`Interleaver::start`]).
    pub fn add(&mut self, code: Rc<Code>, scope: Rc<Namespace>, group: Group) -> PyResult<()> {
        if self.mediators.len() >= 4096 {
            return Err(PyErr::memory("a trace of more than 4096 invokes exceeds localndif's limit"));
        }
        let cursor = Rc::new(Cursor {
            iteration: std::cell::Cell::new(Some(0)),
            counts: self.counts.clone(),
            counts_at_start: RefCell::new(HashMap::new()),
            requested: std::cell::Cell::new(false),
            backward: self.backward,
            grad_keys: RefCell::new(HashMap::new()),
        });
        let worker = Worker::new(code, scope.clone(), cursor.clone(), self.log.clone(), self.tree.clone(), self.dialect)?;
        self.mediators.push(Mediator {
            worker,
            pending: None,
            cursor,
            group,
            scope,
            error: None,
        });
        Ok(())
    }

    /// Starts every worker in order, each running to its first request.
    pub fn start(&mut self) -> PyResult<()> {
        for i in 0..self.mediators.len() {
            *self.mediators[i].cursor.counts_at_start.borrow_mut() = self.counts.borrow().clone();
            let step = self.mediators[i].worker.resume(Reply::Start);
            self.settle(i, step)?;
        }
        Ok(())
    }

    /// Records what a worker did after a resume: parked, finished, or failed. A worker
    /// that completes a barrier has the others released first, then goes on.
    fn settle(&mut self, i: usize, mut step: Step) -> PyResult<()> {
        loop {
            match &step {
                Step::Parked(Request { event: Event::Release(id), .. }) => {
                    let id = *id;
                    self.mediators[i].pending = None;
                    self.release_barrier(id)?;
                }
                Step::Parked(Request { event: Event::Cache(c), .. }) => {
                    self.caches.push((self.mediators[i].group, c.clone()));
                }
                _ => break,
            }
            step = self.mediators[i].worker.resume(Reply::Ack);
        }
        match step {
            Step::Parked(req) => {
                self.mediators[i].pending = Some(req);
                Ok(())
            }
            Step::Done(Ok(())) => {
                self.mediators[i].pending = None;
                Ok(())
            }
            Step::Done(Err(e)) => {
                self.mediators[i].pending = None;
                if is_early_stop(&e) {
                    self.stopped = Some(e);
                    return Ok(());
                }
                Err(e)
            }
        }
    }

    fn ready(&self, loc: &Loc) -> Vec<usize> {
        self.mediators
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                m.pending
                    .as_ref()
                    .is_some_and(|p| {
                        p.loc == *loc
                            && !matches!(p.event, Event::Barrier(_) | Event::Release(_) | Event::Cache(_))
                            && p.occurrence == m.cursor.occurrence(loc)
                    })
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Serves the workers parked on this visit of `loc`; returns the value that flows on.
    pub fn handle(&mut self, loc: Loc, mut value: Value) -> PyResult<Value> {
        let any = self.mediators.iter().any(|m| m.pending.as_ref().is_some_and(|p| p.loc == loc));
        if any {
            loop {
                let ready = self.ready(&loc);
                if ready.is_empty() {
                    break;
                }
                for i in ready {
                    value = self.serve(i, &loc, value)?;
                }
            }
        }
        *self.counts.borrow_mut().entry(loc).or_insert(0) += 1;
        if let Some(id) = loc.module {
            for (group, cache) in &self.caches {
                if cache.wants(id, loc.site) {
                    cache.record(id, loc.site, &self.batcher.narrow(&value, *group)?)?;
                }
            }
        }
        if let Some(stop) = self.stopped.take() {
            return Err(stop);
        }
        Ok(value)
    }

    /// Drains worker `i`'s requests at this visit.
    fn serve(&mut self, i: usize, loc: &Loc, mut value: Value) -> PyResult<Value> {
        loop {
            let occ = self.mediators[i].cursor.occurrence(loc);
            let Some(req) = self.mediators[i].pending.clone() else {
                return Ok(value);
            };
            if req.loc != *loc || req.occurrence != occ || matches!(req.event, Event::Barrier(_) | Event::Release(_) | Event::Cache(_)) {
                return Ok(value);
            }
            // First hit of a pinned non-zero step relaxes the cursor (docs/semantics.md §1.6).
            let cursor = &self.mediators[i].cursor;
            if cursor.iteration.get().is_some_and(|n| n > 0) {
                cursor.iteration.set(None);
            }
            let group = self.mediators[i].group;
            let reply = match req.event {
                Event::Value => Reply::Value(self.batcher.narrow(&value, group)?),
                Event::Swap(new) => {
                    value = self.batcher.widen(&value, group, new)?;
                    Reply::Ack
                }
                Event::Skip(new) => {
                    value = new;
                    Reply::Ack
                }
                Event::Barrier(_) | Event::Release(_) | Event::Cache(_) => return Ok(value),
            };
            let step = self.mediators[i].worker.resume(reply);
            self.settle(i, step)?;
        }
    }

    /// A module's skip gate: the replacement a worker supplied, if any.
    pub fn handle_skip(&mut self, id: ModuleId) -> PyResult<Option<Value>> {
        self.skip_gate(Loc::module(id, Site::Skip))
    }

    /// A skip gate (a module's or an operation's).
    fn skip_gate(&mut self, loc: Loc) -> PyResult<Option<Value>> {
        let any = self.mediators.iter().any(|m| m.pending.as_ref().is_some_and(|p| p.loc == loc));
        if !any {
            *self.counts.borrow_mut().entry(loc).or_insert(0) += 1;
            return Ok(None);
        }
        let mut parts: Vec<((i64, i64), Value)> = Vec::new();
        let mut whole: Option<Value> = None;
        loop {
            let ready = self.ready(&loc);
            if ready.is_empty() {
                break;
            }
            for i in ready {
                let Some(Request { event: Event::Skip(v), .. }) = self.mediators[i].pending.clone() else {
                    // A read at a skip gate cannot happen (nothing asks for it).
                    let step = self.mediators[i].worker.resume(Reply::Ack);
                    self.settle(i, step)?;
                    continue;
                };
                let cursor = &self.mediators[i].cursor;
                if cursor.iteration.get().is_some_and(|n| n > 0) {
                    cursor.iteration.set(None);
                }
                match self.mediators[i].group {
                    Some(g) if self.batcher.batching() => parts.push((g, v)),
                    _ => whole = Some(v),
                }
                let step = self.mediators[i].worker.resume(Reply::Ack);
                self.settle(i, step)?;
            }
        }
        *self.counts.borrow_mut().entry(loc).or_insert(0) += 1;
        if let Some(stop) = self.stopped.take() {
            return Err(stop);
        }
        if !parts.is_empty() {
            return self.batcher.assemble_skip(parts).map(Some);
        }
        Ok(whole)
    }

    /// Releases the workers parked at barrier `id` (all `n` arrived), in invoke order.
    pub fn release_barrier(&mut self, id: usize) -> PyResult<()> {
        let waiting: Vec<usize> = self
            .mediators
            .iter()
            .enumerate()
            .filter(|(_, m)| matches!(m.pending.as_ref().map(|p| &p.event), Some(Event::Barrier(b)) if *b == id))
            .map(|(i, _)| i)
            .collect();
        for i in waiting {
            let step = self.mediators[i].worker.resume(Reply::Ack);
            self.settle(i, step)?;
        }
        Ok(())
    }

    /// How many workers are parked at barrier `id`.
    pub fn at_barrier(&self, id: usize) -> usize {
        self.mediators
            .iter()
            .filter(|m| matches!(m.pending.as_ref().map(|p| &p.event), Some(Event::Barrier(b)) if *b == id))
            .count()
    }

    /// After the run: every worker still parked asked for something that never came.
    /// Returns the error that stands (the first), warnings for loops that outran the run.
    pub fn check_dangling(&mut self) -> PyResult<()> {
        for i in 0..self.mediators.len() {
            let Some(req) = self.mediators[i].pending.clone() else {
                continue;
            };
            let (err, expected) = match req.event {
                Event::Barrier(_) | Event::Release(_) => (
                    PyErr::value_error(
                        "A barrier was never reached by every block it waits for; check the count it was created with",
                    ),
                    None,
                ),
                _ => {
                    let requester = match (self.dialect.names_grad_by_provider(), req.loc.site) {
                        // nnsight 0.7 names a gradient by its provider alone.
                        (true, Site::Grad(key)) => format!("{key}.grad"),
                        _ => self.tree.requester(&req.loc, req.occurrence),
                    };
                    let seen = req.loc.module.is_some() && self.counts.borrow().get(&req.loc).copied().unwrap_or(0) > req.occurrence;
                    let e = match self.dialect.dangling() {
                        // nnsight 0.5's `Mediator.OutOfOrderError` for a module the run
                        // already passed; its `check_dangling_mediators` ValueError else.
                        DanglingForm::Missed05 => match (seen, req.loc.site) {
                            (true, site) if !matches!(site, Site::Grad(_)) => PyErr::new(
                                &types::OUT_OF_ORDER_ERROR,
                                format!("Value was missed for {requester}. Did you call an Envoy out of order?"),
                            ),
                            _ => PyErr::value_error(format!(
                                "Execution complete but `{requester}` was not provided. Did you call an Envoy out of order? Investigate why this module was not called."
                            )),
                        },
                        DanglingForm::OutOfOrder => PyErr::new(
                            &types::OUT_OF_ORDER_ERROR,
                            format!("'{requester}' was requested but the model already ran past it"),
                        ),
                        // nnsight 0.7's `Interleaver.check_dangling_mediators`.
                        DanglingForm::MissedProvider => PyErr::new(
                            &types::MISSED_PROVIDER_ERROR,
                            format!("Execution complete but `{requester}` was not provided. Did you call an Envoy out of order? Investigate why this module was not called."),
                        ),
                    };
                    if self.mediators[i].cursor.iteration.get() == Some(0) {
                        (e, None)
                    } else {
                        (
                            e,
                            Some(format!(
                                "'{requester}' was never reached: the loop asked for a step the run did not make, so it was cut short — values saved inside the loop are kept, and the statements after it did not run. An open `tracer.iter[:]` / `tracer.all()` loop ends this way by design. To hold a generation to a bounded loop's count, pass `min_new_tokens=` on transformers or `min_tokens=` / `ignore_eos=True` on vLLM; put what follows the loop in a separate `tracer.invoke()`."
                            )),
                        )
                    }
                }
            };
            let headline = err.headline();
            let step = self.mediators[i].worker.resume(Reply::Throw(err));
            match step {
                Step::Done(Ok(())) => self.mediators[i].pending = None,
                Step::Parked(_) => {
                    // It caught the error and asked again: nothing can serve it now.
                    self.mediators[i].pending = None;
                    self.mediators[i].worker.cancel();
                }
                Step::Done(Err(e)) => {
                    self.mediators[i].pending = None;
                    match expected {
                        Some(w) if e.headline() == headline => self.warnings.push(w),
                        _ => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// Ends every worker that is still running (after an error, or at the end).
    pub fn cancel(&mut self) {
        for m in &mut self.mediators {
            m.worker.cancel();
            m.pending = None;
        }
    }

    pub fn names(&self) -> &TreeNames {
        &self.tree
    }
}

impl Hooks for Interleaver {
    fn input(&mut self, id: ModuleId, inputs: Value) -> PyResult<Value> {
        self.handle(Loc::module(id, Site::Input), inputs)
    }
    fn skip(&mut self, id: ModuleId) -> PyResult<Option<Value>> {
        self.handle_skip(id)
    }
    fn output(&mut self, id: ModuleId, out: Value) -> PyResult<Value> {
        self.handle(Loc::module(id, Site::Output), out)
    }
    fn op_waiting(&self, id: ModuleId, op: usize) -> bool {
        self.mediators.iter().any(|m| {
            m.pending
                .as_ref()
                .is_some_and(|p| p.loc.module == Some(id) && p.loc.site.op() == Some(op as u16))
        })
    }
    fn op_input(&mut self, id: ModuleId, op: usize, inputs: Value) -> PyResult<Value> {
        self.handle(Loc::module(id, Site::OpInput(op as u16)), inputs)
    }
    fn op_skip(&mut self, id: ModuleId, op: usize) -> PyResult<Option<Value>> {
        self.skip_gate(Loc::module(id, Site::OpSkip(op as u16)))
    }
    fn op_output(&mut self, id: ModuleId, op: usize, out: Value) -> PyResult<Value> {
        self.handle(Loc::module(id, Site::OpOutput(op as u16)), out)
    }
    fn op_pass(&mut self, id: ModuleId, op: usize) {
        let mut counts = self.counts.borrow_mut();
        for site in [Site::OpInput(op as u16), Site::OpSkip(op as u16)] {
            *counts.entry(Loc::module(id, site)).or_insert(0) += 1;
        }
    }
}
