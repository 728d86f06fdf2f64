//! What the interpreter asks of the world outside user code (starlark's injected-effects
//! pattern): where `print` goes, and objects the host provides (envoys, tracers,
//! invokers, iteration handles). A host object overrides what it supports; everything
//! else raises the `TypeError` / `AttributeError` CPython would.

use std::any::Any;
use std::rc::Rc;

use ruff_python_ast::{Expr, Stmt};

use super::Interp;
use super::call::Kwargs;
use super::code::Code;
use super::frame::Frame;
use crate::value::{PyErr, PyResult, Value};

/// The interpreter's link to its environment; one per running body (a worker coroutine,
/// the tracer body, a session body).
pub trait Host: Any {
    /// One `print()` call's text, newline included.
    fn print(&mut self, text: &str) -> PyResult<()>;
    fn as_any(&mut self) -> &mut dyn Any;
    /// `with t.backward(...):` — the object that runs the body interleaved with the
    /// backward pass (nnsight's `BackwardsTracer`); `None`: `backward` is a plain call.
    fn backward_tracer(&mut self, _tensor: &Value, _args: Vec<Value>, _kwargs: Kwargs) -> Option<PyResult<Value>> {
        None
    }
    /// `t.grad` read by a backward body (parks until the pass gets there); `None`: the
    /// tensor's own `.grad`.
    fn grad(&mut self, _tensor: &Value) -> Option<PyResult<Value>> {
        None
    }
    /// `t.grad = v` in a backward body (swaps the gradient flowing on); `None`: refused.
    fn set_grad(&mut self, _tensor: &Value, _v: &Value) -> Option<PyResult<()>> {
        None
    }
}

/// A host that prints to a buffer (tests, and bodies whose output is discarded).
#[derive(Default)]
pub struct BufferHost {
    pub out: String,
}

impl Host for BufferHost {
    fn print(&mut self, text: &str) -> PyResult<()> {
        crate::value::ctx::check_str_len(self.out.len() + text.len())?;
        self.out.push_str(text);
        Ok(())
    }
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
}

/// The body of a `with` statement handed to a host object that runs it itself.
pub struct WithBody<'a> {
    /// The code the `with` statement belongs to (its program and resolution).
    pub code: &'a Rc<Code>,
    pub stmts: &'a [Stmt],
    /// The `as` target, if any.
    pub target: Option<&'a Expr>,
    /// Where the `with` statement is (for names and tracebacks).
    pub line: u32,
}

pub trait HostObj: Any {
    fn type_name(&self) -> &str;

    /// `type(obj)` where the object stands for an instance of a class user code can
    /// name (a model envoy: `LanguageModel`, or the user's subclass of it); `None`: `object`.
    fn class(&self) -> Option<crate::value::types::ClassRef> {
        None
    }

    fn repr(&self) -> String {
        format!("<{} object>", self.type_name())
    }

    /// `str(obj)` where it differs from `repr(obj)` (a numpy dtype prints its name).
    fn str_text(&self) -> Option<String> {
        None
    }

    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        Err(PyErr::attribute_error(format!(
            "'{}' object has no attribute '{name}'",
            self.type_name()
        )))
    }

    fn setattr(&self, _it: &mut Interp, _this: &Value, name: &str, _v: Value) -> PyResult<()> {
        Err(PyErr::attribute_error(format!(
            "'{}' object has no attribute '{name}'",
            self.type_name()
        )))
    }

    fn getitem(&self, _it: &mut Interp, _this: &Value, _key: &Value) -> PyResult<Value> {
        Err(PyErr::type_error(format!(
            "'{}' object is not subscriptable",
            self.type_name()
        )))
    }

    fn call(
        &self,
        _it: &mut Interp,
        _this: &Value,
        _args: Vec<Value>,
        _kwargs: Vec<(Rc<str>, Value)>,
    ) -> PyResult<Value> {
        Err(PyErr::type_error(format!(
            "'{}' object is not callable",
            self.type_name()
        )))
    }

    /// `iter(obj)`: an iterator value, or `None` if not iterable.
    fn iter(&self, _it: &mut Interp, _this: &Value) -> Option<PyResult<Value>> {
        None
    }

    /// `next(obj)` for host iterators: `Ok(None)` when exhausted.
    fn next(&self, _it: &mut Interp, _this: &Value) -> Option<PyResult<Option<Value>>> {
        None
    }

    fn len(&self) -> Option<usize> {
        None
    }

    /// `item in obj`; `None` to fall back to iteration.
    fn contains(&self, _it: &mut Interp, _this: &Value, _item: &Value) -> Option<PyResult<bool>> {
        None
    }

    /// A `for` loop over this host iterator ended (exhausted, `break`, `return` or an
    /// exception): what a Python generator's `finally` would do.
    fn close(&self, _it: &mut Interp) {}

    /// A `with` block over this object. `Some` when the object runs (or defers) the body
    /// itself — how `tracer.invoke(...)`, inner traces and `backward()` capture their
    /// bodies; `None` to use [`HostObj::enter`] / [`HostObj::exit`] around a normal run.
    fn with_body(
        &self,
        _it: &mut Interp,
        _this: &Value,
        _body: WithBody<'_>,
        _frame: &mut Frame,
    ) -> Option<PyResult<()>> {
        None
    }

    fn enter(&self, _it: &mut Interp, _this: &Value) -> PyResult<Value> {
        Err(PyErr::type_error(format!(
            "'{}' object does not support the context manager protocol",
            self.type_name()
        )))
    }

    /// Returns whether the exception (if any) is suppressed.
    fn exit(&self, _it: &mut Interp, _this: &Value, _err: Option<&PyErr>) -> PyResult<bool> {
        Ok(false)
    }

    /// `x.save()` / `nnsight.save(x)` on this object; default: marks the object itself.
    fn truthy(&self) -> Option<bool> {
        None
    }

    /// Drops the values this object holds (the job's cycle breaker calls this).
    fn clear(&self) {}

    fn as_any(&self) -> &dyn Any;
}
