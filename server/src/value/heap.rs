//! Breaking reference cycles. Values are reference counted, so `a = []; a.append(a)` would
//! outlive its job and a hostile client could leak memory job after job. Every mutable
//! container (the only kind a cycle can pass through) registers here; when the job ends,
//! every one still alive is emptied, which breaks every cycle and frees what it held.

use std::rc::{Rc, Weak};

/// A value that can hold other values and can be emptied.
pub trait Clear {
    fn clear_refs(&self);
}

#[derive(Default)]
pub struct Heap {
    objs: Vec<Weak<dyn Clear>>,
    /// Length after the last sweep of dead entries; sweeping again at twice that keeps
    /// registration amortized O(1) however many short-lived containers a loop makes.
    swept_at: usize,
}

impl Heap {
    fn push(&mut self, w: Weak<dyn Clear>) {
        self.objs.push(w);
        if self.objs.len() >= 2 * self.swept_at.max(1024) {
            self.objs.retain(|w| w.strong_count() > 0);
            self.swept_at = self.objs.len();
        }
    }

    pub fn clear_all(&mut self) {
        let objs = std::mem::take(&mut self.objs);
        for w in objs {
            if let Some(obj) = w.upgrade() {
                obj.clear_refs();
            }
        }
    }
}

/// Registers a new container with the current job (no-op outside a job).
pub fn track<T: Clear + 'static>(rc: &Rc<T>) {
    let weak: Weak<dyn Clear> = Rc::downgrade(rc) as Weak<dyn Clear>;
    super::ctx::with_heap(|h| h.push(weak));
}
