//! The running job's context, one per job thread, owning everything a job keeps between
//! calls: the caps every value constructor checks (docs/architecture.md), the
//! step/deadline/cancel budget the evaluator ticks, the registry that breaks reference
//! cycles when the job ends, the tensor memory it holds, the device and RNG user-created
//! tensors use, the byte ranges of the model's weights a job may not write, the client's
//! [`Dialect`], and the typed state other modules keep for the job ([`state`]: the saved
//! set, the module objects, the running backward pass). Installed by [`JobCtx::install`]
//! for the life of a job; the guard drops all of it when the job ends, however it ends (a
//! panic unwinding through the runner included), so nothing of one job reaches the next
//! job a reused runner thread runs. Outside a job (unit tests) the defaults apply and
//! [`state`] keeps nothing.
//!
//! The one `thread_local!` here holds the installed context itself: the job runs on one
//! OS thread (its workers are coroutines on that thread), so the thread is where the job is.
use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tch::Device;

use super::error::{PyErr, PyResult};
use super::heap::Heap;
use crate::request::Dialect;

/// Every size user code can create is bounded; each cap is configurable on the command line.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Characters of a `str` / bytes of a `bytes`.
    pub max_str: usize,
    /// Items of a list, tuple, dict or set.
    pub max_container: usize,
    /// Bits of an `int`.
    pub max_int_bits: u64,
    /// Elements of one tensor user code creates.
    pub max_tensor_numel: i64,
    /// Bytes of tensor storage user code may hold at once.
    pub tensor_budget: u64,
    /// Interpreter steps per job.
    pub max_steps: u64,
    /// Python call depth (CPython's default recursion limit).
    pub max_depth: usize,
    /// Wall-clock time per job.
    pub wall: Duration,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            max_str: 64 << 20,
            max_container: 16 << 20,
            max_int_bits: 1 << 20,
            max_tensor_numel: 1 << 31,
            tensor_budget: default_tensor_budget(),
            max_steps: 50_000_000,
            max_depth: 1000,
            wall: Duration::from_secs(600),
        }
    }
}

/// A quarter of physical memory (docs/architecture.md), 4 GiB when it cannot be read.
fn default_tensor_budget() -> u64 {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024);
    total.map_or(4 << 30, |b| b / 4)
}

/// Why a job must stop now; these are not Python exceptions and user code cannot catch them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Steps,
    Deadline,
    Cancelled,
}

pub struct JobCtx {
    pub caps: Caps,
    pub device: Device,
    steps: Cell<u64>,
    deadline: Instant,
    cancel: Arc<AtomicBool>,
    pub(super) heap: RefCell<Heap>,
    tensor_bytes: Cell<u64>,
    peak_bytes: Cell<u64>,
    /// How the job speaks to its client.
    dialect: Dialect,
    /// Byte ranges of the served model's weights, sorted by start ([`weight_ranges`]).
    weights: RefCell<Vec<(usize, usize)>>,
    /// State other modules keep for the job, one value per type ([`state`]).
    states: RefCell<HashMap<TypeId, Rc<dyn Any>>>,
}

thread_local! {
    /// The job installed on this thread (not job state itself: where to find it).
    static JOB: RefCell<Option<Rc<JobCtx>>> = const { RefCell::new(None) };
}

/// Uninstalls the job context when dropped (also while a panic unwinds): breaks every
/// cycle the job made, then drops everything the context owns.
pub struct Installed(());

impl Drop for Installed {
    fn drop(&mut self) {
        // Taken out first: what drops below runs as outside a job.
        let job = JOB.with(|j| j.borrow_mut().take());
        if let Some(job) = job {
            job.heap.borrow_mut().clear_all();
            let states = std::mem::take(&mut *job.states.borrow_mut());
            drop(states);
        }
    }
}

impl JobCtx {
    pub fn new(caps: Caps, device: Device, cancel: Arc<AtomicBool>) -> JobCtx {
        JobCtx {
            caps,
            device,
            steps: Cell::new(0),
            deadline: Instant::now() + caps.wall,
            cancel,
            heap: RefCell::new(Heap::default()),
            tensor_bytes: Cell::new(0),
            peak_bytes: Cell::new(0),
            dialect: Dialect::default(),
            weights: RefCell::new(Vec::new()),
            states: RefCell::new(HashMap::new()),
        }
    }

    /// The client's dialect (nnsight 0.8's when not given).
    pub fn with_dialect(mut self, dialect: Dialect) -> JobCtx {
        self.dialect = dialect;
        self
    }

    /// Makes this the current thread's job until the guard drops.
    pub fn install(self) -> Installed {
        JOB.with(|j| *j.borrow_mut() = Some(Rc::new(self)));
        Installed(())
    }
}

fn with<R>(f: impl FnOnce(Option<&JobCtx>) -> R) -> R {
    JOB.with(|j| f(j.borrow().as_deref()))
}

pub fn caps() -> Caps {
    with(|j| j.map_or_else(Caps::default, |j| j.caps))
}

/// The device user-created tensors default to (the model's).
pub fn device() -> Device {
    with(|j| j.map_or(Device::Cpu, |j| j.device))
}

/// The running job's dialect (nnsight 0.8's outside a job).
pub fn dialect() -> Dialect {
    with(|j| j.map_or_else(Dialect::default, |j| j.dialect))
}

/// Declares the weights of the model the running job runs on (ignored outside a job).
pub fn set_weight_ranges(mut ranges: Vec<(usize, usize)>) {
    ranges.sort_unstable();
    with(|j| {
        if let Some(j) = j {
            *j.weights.borrow_mut() = ranges;
        }
    })
}

/// Whether `[lo, hi)` overlaps the running job's model weights.
pub fn overlaps_weights(lo: usize, hi: usize) -> bool {
    with(|j| j.is_some_and(|j| j.weights.borrow().iter().any(|&(s, e)| s < hi && lo < e)))
}

/// The running job's state of type `T` (created with `T::default()` on first use), or
/// `None` outside a job. Each module that keeps something per job declares its own
/// type and uses interior mutability inside it; the context drops it with the job.
pub fn state<T: Default + 'static>() -> Option<Rc<T>> {
    with(|j| {
        let j = j?;
        let any = j.states.borrow_mut().entry(TypeId::of::<T>()).or_insert_with(|| Rc::new(T::default())).clone();
        Some(any.downcast::<T>().unwrap_or_else(|_| unreachable!("job state is keyed by its type")))
    })
}

pub(super) fn with_heap(f: impl FnOnce(&mut Heap)) {
    with(|j| {
        if let Some(j) = j {
            f(&mut j.heap.borrow_mut())
        }
    })
}

/// One evaluation step: counts against the budget and checks the deadline and the cancel
/// flag, so every worker ends promptly when its job times out or is cancelled.
pub fn tick() -> PyResult<()> {
    with(|j| {
        let Some(j) = j else { return Ok(()) };
        let n = j.steps.get() + 1;
        j.steps.set(n);
        if n > j.caps.max_steps {
            return Err(PyErr::stop(Stop::Steps));
        }
        if n % 64 == 0 {
            check_time(j)?;
        }
        Ok(())
    })
}

/// Checks the deadline and cancel flag without counting a step (blocking waits, long ops).
pub fn check() -> PyResult<()> {
    with(|j| j.map_or(Ok(()), check_time))
}

fn check_time(j: &JobCtx) -> PyResult<()> {
    if j.cancel.load(Ordering::Relaxed) {
        return Err(PyErr::stop(Stop::Cancelled));
    }
    if Instant::now() >= j.deadline {
        return Err(PyErr::stop(Stop::Deadline));
    }
    Ok(())
}

/// Accounts `bytes` of new tensor storage held by user values; refuses past the budget.
pub fn charge_tensor(bytes: u64) -> PyResult<()> {
    with(|j| {
        let Some(j) = j else { return Ok(()) };
        let now = j.tensor_bytes.get().saturating_add(bytes);
        if now > j.caps.tensor_budget {
            return Err(PyErr::memory(format!(
                "the job's tensors would hold {now} bytes, which exceeds localndif's limit of {} bytes per job (--tensor-budget)",
                j.caps.tensor_budget
            )));
        }
        j.tensor_bytes.set(now);
        j.peak_bytes.set(j.peak_bytes.get().max(now));
        Ok(())
    })
}

/// The most tensor memory the job's values held at once.
pub fn peak_tensor_bytes() -> u64 {
    with(|j| j.map_or(0, |j| j.peak_bytes.get()))
}

pub fn release_tensor(bytes: u64) {
    with(|j| {
        if let Some(j) = j {
            j.tensor_bytes.set(j.tensor_bytes.get().saturating_sub(bytes));
        }
    })
}

/// Refuses a container of `n` items past the cap.
pub fn check_len(n: usize, what: &str) -> PyResult<()> {
    let cap = caps().max_container;
    if n > cap {
        return Err(PyErr::memory(format!(
            "a {what} of {n} items exceeds localndif's limit of {cap} items (--max-container)"
        )));
    }
    Ok(())
}

pub fn check_str_len(n: usize) -> PyResult<()> {
    let cap = caps().max_str;
    if n > cap {
        return Err(PyErr::memory(format!(
            "a string of {n} characters exceeds localndif's limit of {cap} characters (--max-str)"
        )));
    }
    Ok(())
}
