//! Native stack guard. User code can nest values and calls arbitrarily deep; every
//! recursive routine (evaluation, repr, equality, saving) calls [`guard`], which turns a
//! nearly exhausted stack into Python's `RecursionError` instead of a crash. Each job
//! thread and each worker coroutine records the lowest address its stack may reach.

use std::cell::Cell;

use super::error::{PyErr, PyResult};

/// Headroom kept below the guard for libtorch kernels and the unwinding path.
const MARGIN: usize = 512 << 10;

// Not job state: the limit belongs to the native stack running now (the job thread's, or
// the worker coroutine's `interleave::worker` switches to, which swaps it on each switch).
thread_local! {
    static LIMIT: Cell<usize> = const { Cell::new(0) };
}

#[inline(always)]
pub fn approx_sp() -> usize {
    let x = 0u8;
    std::hint::black_box(&x) as *const u8 as usize
}

/// Declares the current stack: `size` bytes below the current position.
pub fn enter(size: usize) -> usize {
    let limit = approx_sp().saturating_sub(size).saturating_add(MARGIN);
    set_limit(limit)
}

/// Sets the limit, returning the previous one (to restore after a context switch).
pub fn set_limit(limit: usize) -> usize {
    LIMIT.with(|l| l.replace(limit))
}

pub fn limit() -> usize {
    LIMIT.with(Cell::get)
}

/// `RecursionError` when the stack is nearly exhausted.
#[inline]
pub fn guard() -> PyResult<()> {
    let limit = LIMIT.with(Cell::get);
    if limit != 0 && approx_sp() < limit {
        return Err(PyErr::recursion());
    }
    Ok(())
}

/// The guard limit for a stack whose lowest usable address is `lowest`.
pub fn limit_for(lowest: usize) -> usize {
    lowest.saturating_add(MARGIN + 4096)
}
