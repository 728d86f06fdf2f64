//! nnsight's saved set: `.save()` / `nnsight.save(x)` mark an object by identity; only
//! names bound to marked objects leave the outermost trace (docs/semantics.md §4.1). One
//! per job, like nnsight's per-thread set, with the trace nesting depth that tells the
//! outermost trace (which filters) from inner ones (which push everything). Kept in the
//! job context (`value::ctx::state`), so it ends with the job however the job ends;
//! outside a job nothing is in a trace.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use crate::value::{Identity, PyErr, PyResult, Value, ctx};

#[derive(Default)]
struct Saves {
    ids: HashSet<Identity>,
    /// Keeps marked objects alive so their identities stay theirs.
    keep: Vec<Value>,
    depth: usize,
}

/// The running job's saved set.
#[derive(Default)]
struct JobSaves(RefCell<Saves>);

fn saves() -> Option<Rc<JobSaves>> {
    ctx::state::<JobSaves>()
}

/// `save(x)`: refused outside a trace, as 0.8.1 refuses it.
pub fn mark(v: &Value) -> PyResult<()> {
    let outside = || {
        PyErr::value_error(
            "save() was called outside a trace. `.save()` / nnsight.save(x) marks a value to return from the enclosing `with model.trace(...):` block, so it only works inside one — move the save into the trace block.",
        )
    };
    let Some(s) = saves() else { return Err(outside()) };
    let mut s = s.0.borrow_mut();
    if s.depth == 0 {
        return Err(outside());
    }
    if s.ids.insert(v.identity()) {
        s.keep.push(v.clone());
    }
    Ok(())
}

pub fn is_saved(v: &Value) -> bool {
    saves().is_some_and(|s| s.0.borrow().ids.contains(&v.identity()))
}

/// Enters a trace scope; returns the new depth (1 = outermost).
pub fn enter() -> usize {
    let Some(s) = saves() else { return 1 };
    let mut s = s.0.borrow_mut();
    s.depth += 1;
    s.depth
}

/// Leaves a trace scope, clearing the set when the outermost one ends.
pub fn leave() {
    let Some(s) = saves() else { return };
    let cleared = {
        let mut s = s.0.borrow_mut();
        s.depth = s.depth.saturating_sub(1);
        if s.depth == 0 {
            s.ids.clear();
            std::mem::take(&mut s.keep)
        } else {
            Vec::new()
        }
    };
    // Dropped outside the borrow: a value's drop may reach back here.
    drop(cleared);
}

pub fn depth() -> usize {
    saves().map_or(0, |s| s.0.borrow().depth)
}
