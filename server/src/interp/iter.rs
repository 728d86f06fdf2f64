//! Iterators: over sequences (live, like CPython's list iterator), ranges, snapshots
//! (dict views, sets, generator expressions), and the lazy builtins `enumerate`, `zip`,
//! `map`, `filter`. Advancing one may call user code, so the state is taken out of its
//! cell for the duration of the call.

use std::cell::RefCell;
use std::rc::Rc;

use crate::value::Value;

pub enum IterState {
    Seq { seq: Value, i: usize },
    Range { cur: i64, stop: i64, step: i64 },
    Items { items: Vec<Value>, i: usize, kind: &'static str },
    Enumerate { inner: Value, n: Value },
    Zip { iters: Vec<Value>, strict: bool },
    Map { f: Value, iters: Vec<Value> },
    Filter { f: Value, inner: Value },
    /// Rows of a tensor (`for row in t`).
    Rows { t: Value, i: i64, n: i64 },
    Done,
}

pub struct PyIter {
    pub state: RefCell<IterState>,
}

impl PyIter {
    pub fn new(state: IterState) -> Value {
        Value::Iter(Rc::new(PyIter {
            state: RefCell::new(state),
        }))
    }

    pub fn items(items: Vec<Value>, kind: &'static str) -> Value {
        PyIter::new(IterState::Items { items, i: 0, kind })
    }

    pub fn kind_name(&self) -> &'static str {
        match &*self.state.borrow() {
            IterState::Seq { seq, .. } => match seq {
                Value::List(_) => "list_iterator",
                Value::Tuple(_) | Value::Size(_) => "tuple_iterator",
                Value::Str(_) => "str_ascii_iterator",
                _ => "iterator",
            },
            IterState::Range { .. } => "range_iterator",
            IterState::Items { kind, .. } => kind,
            IterState::Enumerate { .. } => "enumerate",
            IterState::Zip { .. } => "zip",
            IterState::Map { .. } => "map",
            IterState::Filter { .. } => "filter",
            IterState::Rows { .. } => "iterator",
            IterState::Done => "iterator",
        }
    }
}
