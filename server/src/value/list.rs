//! `list`: a shared, mutable vector. Borrows are never held across a call that could
//! re-enter user code (style: copy the items out, then compare, print or call).

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;

use super::Value;
use super::ctx;
use super::error::PyResult;
use super::heap::{self, Clear};

pub struct List {
    items: RefCell<Vec<Value>>,
}

impl Drop for List {
    fn drop(&mut self) {
        super::drop::release(std::mem::take(self.items.get_mut()));
    }
}

impl List {
    pub fn new(items: Vec<Value>) -> Rc<List> {
        let l = Rc::new(List {
            items: RefCell::new(items),
        });
        heap::track(&l);
        l
    }

    /// A list of `items`, refused past the container cap.
    pub fn checked(items: Vec<Value>) -> PyResult<Rc<List>> {
        ctx::check_len(items.len(), "list")?;
        Ok(List::new(items))
    }

    pub fn borrow(&self) -> Ref<'_, Vec<Value>> {
        self.items.borrow()
    }

    pub fn borrow_mut(&self) -> RefMut<'_, Vec<Value>> {
        self.items.borrow_mut()
    }

    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the items (cheap: clones of handles).
    pub fn snapshot(&self) -> Vec<Value> {
        self.items.borrow().clone()
    }

    pub fn get(&self, i: usize) -> Option<Value> {
        self.items.borrow().get(i).cloned()
    }

    pub fn push(&self, v: Value) -> PyResult<()> {
        let n = self.len() + 1;
        ctx::check_len(n, "list")?;
        self.items.borrow_mut().push(v);
        Ok(())
    }

    pub fn extend(&self, vs: Vec<Value>) -> PyResult<()> {
        let n = self.len() + vs.len();
        ctx::check_len(n, "list")?;
        self.items.borrow_mut().extend(vs);
        Ok(())
    }

    pub fn replace(&self, items: Vec<Value>) {
        *self.items.borrow_mut() = items;
    }
}

impl Clear for List {
    fn clear_refs(&self) {
        let old = std::mem::take(&mut *self.items.borrow_mut());
        drop(old);
    }
}
