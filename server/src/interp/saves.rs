//! nnsight's saved set: `.save()` / `nnsight.save(x)` mark an object by identity; only
//! names bound to marked objects leave the outermost trace (docs/semantics.md §4.1). Per job
//! thread, like nnsight's per-thread set, with the trace nesting depth that tells the
//! outermost trace (which filters) from inner ones (which push everything).

use std::cell::RefCell;
use std::collections::HashSet;

use crate::value::{Identity, PyErr, PyResult, Value};

#[derive(Default)]
struct Saves {
    ids: HashSet<Identity>,
    /// Keeps marked objects alive so their identities stay theirs.
    keep: Vec<Value>,
    depth: usize,
}

thread_local! {
    static SAVES: RefCell<Saves> = RefCell::new(Saves::default());
}

/// `save(x)`: refused outside a trace, as 0.8.1 refuses it.
pub fn mark(v: &Value) -> PyResult<()> {
    SAVES.with(|s| {
        let mut s = s.borrow_mut();
        if s.depth == 0 {
            return Err(PyErr::value_error(
                "save() was called outside a trace. `.save()` / nnsight.save(x) marks a value to return from the enclosing `with model.trace(...):` block, so it only works inside one — move the save into the trace block.",
            ));
        }
        if s.ids.insert(v.identity()) {
            s.keep.push(v.clone());
        }
        Ok(())
    })
}

pub fn is_saved(v: &Value) -> bool {
    SAVES.with(|s| s.borrow().ids.contains(&v.identity()))
}

/// Enters a trace scope; returns the new depth (1 = outermost).
pub fn enter() -> usize {
    SAVES.with(|s| {
        let mut s = s.borrow_mut();
        s.depth += 1;
        s.depth
    })
}

/// Leaves a trace scope, clearing the set when the outermost one ends.
pub fn leave() {
    SAVES.with(|s| {
        let mut s = s.borrow_mut();
        s.depth = s.depth.saturating_sub(1);
        if s.depth == 0 {
            s.ids.clear();
            s.keep.clear();
        }
    })
}

pub fn depth() -> usize {
    SAVES.with(|s| s.borrow().depth)
}

/// Forgets everything (a job ended, however it ended).
pub fn reset() {
    SAVES.with(|s| *s.borrow_mut() = Saves::default());
}
