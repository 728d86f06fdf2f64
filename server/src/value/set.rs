//! `set` and `frozenset`: a dict table without values (insertion-ordered iteration; CPython
//! orders by hash, so printed sets of strings may list their items in another order).

use std::cell::RefCell;
use std::rc::Rc;

use super::Value;
use super::dict::Table;
use super::error::PyResult;
use super::heap::{self, Clear};

pub struct Set {
    table: RefCell<Table>,
    pub frozen: bool,
}

impl Set {
    pub fn new(items: Vec<Value>, frozen: bool) -> PyResult<Rc<Set>> {
        let mut t = Table::default();
        for v in items {
            t.insert(v, Value::None)?;
        }
        let s = Rc::new(Set {
            table: RefCell::new(t),
            frozen,
        });
        heap::track(&s);
        Ok(s)
    }

    pub fn contains(&self, v: &Value) -> PyResult<bool> {
        self.table.borrow().contains(v)
    }

    pub fn add(&self, v: Value) -> PyResult<()> {
        self.table.borrow_mut().insert(v, Value::None)
    }

    pub fn remove(&self, v: &Value) -> PyResult<bool> {
        Ok(self.table.borrow_mut().remove(v)?.is_some())
    }

    pub fn items(&self) -> Vec<Value> {
        self.table.borrow().keys()
    }

    pub fn len(&self) -> usize {
        self.table.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn pop(&self) -> Option<Value> {
        self.table.borrow_mut().pop_last().map(|(k, _)| k)
    }

    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.table.borrow_mut());
        drop(old);
    }
}

impl Clear for Set {
    fn clear_refs(&self) {
        self.clear();
    }
}
