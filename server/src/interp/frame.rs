//! A frame: the variables of one running code object — fast locals and cells for
//! functions, a namespace for module-level and class bodies — and the line it is at.

use std::rc::Rc;

use super::code::Code;
use crate::value::object::{Cell, Namespace};
use crate::value::{Function, PyResult, Value};

pub struct Frame {
    pub code: Rc<Code>,
    pub fast: Vec<Option<Value>>,
    pub cells: Vec<Rc<Cell>>,
    pub globals: Rc<Namespace>,
    /// Module-level and class-body frames store names here.
    pub locals: Option<Rc<Namespace>>,
    pub line: u32,
    /// The function this frame runs (for zero-argument `super()`).
    pub func: Option<Rc<Function>>,
}

impl Frame {
    /// A frame running module-level code against `ns` (its globals and locals).
    pub fn module(code: Rc<Code>, ns: Rc<Namespace>) -> Frame {
        Frame {
            fast: Vec::new(),
            cells: Vec::new(),
            locals: Some(ns.clone()),
            globals: ns,
            line: 0,
            func: None,
            code,
        }
    }

    /// The frame's variables by name (CPython's `frame.f_locals`).
    pub fn snapshot_locals(&self) -> Vec<(Rc<str>, Value)> {
        if let Some(ns) = &self.locals {
            return ns
                .own
                .items()
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|s| (Rc::from(s), v)))
                .collect();
        }
        let scope = &self.code.scope;
        let mut out: Vec<(Rc<str>, Value)> = scope
            .fast
            .iter()
            .zip(&self.fast)
            .filter_map(|(n, v)| v.clone().map(|v| (n.clone(), v)))
            .collect();
        for (n, c) in scope.cells.iter().zip(&self.cells) {
            if let Some(v) = c.get() {
                out.push((n.clone(), v));
            }
        }
        out
    }

    /// nnsight's `push`: a name a finished trace hands back. Into a block's namespace it
    /// lands in the block's own names (not its siblings' store) and counts as bound by
    /// the block, so the block's own push carries it on up.
    pub fn push_by_name(&mut self, name: &str, v: Value) -> PyResult<()> {
        if let Some(ns) = &self.locals {
            return ns.push(name, v);
        }
        self.store_by_name(name, v)
    }

    /// Writes a variable by name.
    pub fn store_by_name(&mut self, name: &str, v: Value) -> PyResult<()> {
        if let Some(ns) = &self.locals {
            return ns.set(name, v);
        }
        let scope = self.code.scope.clone();
        if let Some(i) = scope.fast.iter().position(|n| n.as_ref() == name) {
            self.fast[i] = Some(v);
        } else if let Some(i) = scope.cells.iter().position(|n| n.as_ref() == name) {
            self.cells[i].set(Some(v));
        } else {
            self.globals.set(name, v)?;
        }
        Ok(())
    }
}
