//! Dropping without recursion. User code can nest containers a million levels deep
//! (`x = [x]` in a loop); dropping the outermost would recurse once per level and
//! overflow the native stack, taking the server down. Every container hands its items
//! to [`release`] instead: the first drop on the thread drains a work queue iteratively,
//! and drops that happen inside it only add to the queue.

use std::cell::{Cell, RefCell};

use super::Value;

// Not job state: the work list of the drop running now on this thread, empty between drops
// (a value of one job is never left in it when the drop that queued it returns).
thread_local! {
    static DRAINING: Cell<bool> = const { Cell::new(false) };
    static QUEUE: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Drops `items` (a container's contents) with bounded native stack depth.
pub fn release(items: impl IntoIterator<Item = Value>) {
    let Ok(draining) = DRAINING.try_with(Cell::get) else {
        // The thread is exiting and its queue is gone: plain drops.
        drop(items.into_iter().collect::<Vec<_>>());
        return;
    };
    if draining {
        // Inside a drain: the outer loop drops these, one level at a time.
        let mut items = Some(items);
        let queued = QUEUE.try_with(|q| q.borrow_mut().extend(items.take().into_iter().flatten()));
        if queued.is_err() {
            drop(items.map(|i| i.into_iter().collect::<Vec<_>>()));
        }
        return;
    }
    DRAINING.with(|d| d.set(true));
    let mut batch: Vec<Value> = items.into_iter().collect();
    loop {
        // Dropping a value whose container empties runs that container's drop, which
        // queues its items rather than dropping them here.
        batch.clear();
        batch = QUEUE.try_with(|q| std::mem::take(&mut *q.borrow_mut())).unwrap_or_default();
        if batch.is_empty() {
            break;
        }
    }
    DRAINING.with(|d| d.set(false));
}

/// A tuple's items: a `Vec` that releases its items through [`release`] when dropped.
#[derive(Clone, Default)]
pub struct Items(Vec<Value>);

impl Items {
    pub fn new(items: Vec<Value>) -> Items {
        Items(items)
    }

    pub fn into_vec(mut self) -> Vec<Value> {
        std::mem::take(&mut self.0)
    }
}

impl std::ops::Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            release(std::mem::take(&mut self.0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_nested_containers_drop_without_recursion() {
        let mut x = Value::tuple(vec![]);
        let mut l = Value::list(vec![]);
        for _ in 0..1_000_000 {
            x = Value::tuple(vec![x]);
            l = Value::list(vec![l]);
        }
        let d = crate::value::Dict::new();
        d.insert(Value::Int(0), x).unwrap();
        d.insert(Value::Int(1), l).unwrap();
        // On the default 8 MiB test thread stack a recursive drop would overflow.
        drop(d);
    }
}
