//! Records: transformers' `ModelOutput` (an ordered dict whose keys are the fields that are
//! not `None`, also readable as attributes and by integer position, docs/semantics.md §2.5) and
//! torch's namedtuple results (`torch.return_types.max(values, indices)`).

use std::cell::RefCell;
use std::rc::Rc;

use super::Value;
use super::heap::{self, Clear};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    ModelOutput,
    NamedTuple,
}

pub struct Record {
    pub kind: RecordKind,
    /// Where the client imports the class from (`transformers.modeling_outputs`).
    pub module: Rc<str>,
    pub class: Rc<str>,
    /// Every declared field in order (`None` ones included: they read as `None`).
    fields: RefCell<Vec<(Rc<str>, Value)>>,
}

impl Record {
    pub fn new(kind: RecordKind, module: &str, class: &str, fields: Vec<(&str, Value)>) -> Rc<Record> {
        let r = Rc::new(Record {
            kind,
            module: module.into(),
            class: class.into(),
            fields: RefCell::new(fields.into_iter().map(|(k, v)| (Rc::from(k), v)).collect()),
        });
        heap::track(&r);
        r
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        self.fields
            .borrow()
            .iter()
            .find(|(n, _)| n.as_ref() == name)
            .map(|(_, v)| v.clone())
    }

    /// Sets a field (declared or new, as ModelOutput's `__setitem__` does).
    pub fn set(&self, name: &str, v: Value) {
        let mut f = self.fields.borrow_mut();
        match f.iter_mut().find(|(n, _)| n.as_ref() == name) {
            Some(slot) => slot.1 = v,
            None => f.push((name.into(), v)),
        }
    }

    /// All fields, `None` ones included.
    pub fn fields(&self) -> Vec<(Rc<str>, Value)> {
        self.fields.borrow().clone()
    }

    /// What the record holds as a sequence: a ModelOutput's non-`None` fields (its keys),
    /// a namedtuple's every field.
    pub fn items(&self) -> Vec<(Rc<str>, Value)> {
        let f = self.fields.borrow();
        match self.kind {
            RecordKind::ModelOutput => f.iter().filter(|(_, v)| !v.is_none()).cloned().collect(),
            RecordKind::NamedTuple => f.clone(),
        }
    }
}

impl Clear for Record {
    fn clear_refs(&self) {
        let old = std::mem::take(&mut *self.fields.borrow_mut());
        drop(old);
    }
}
