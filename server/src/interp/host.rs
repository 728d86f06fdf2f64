//! What the interpreter asks of the world outside user code (starlark's injected effects,
//! style.md §1): the module tree of the model, values at hook points (which may block
//! until the forward reaches them), swaps, and `print`. The interleaver implements it.

use super::error::PyResult;
use super::value::Value;

/// The two hook points of a module call (semantics.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Hook {
    /// `(args, kwargs)` before the module runs: `.inputs`, `.input`.
    Input,
    /// The module's return value: `.output`.
    Output,
}

impl Hook {
    pub fn name(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Output => "output",
        }
    }
}

pub trait Host {
    /// Whether the model has a module at this envoy path (`model.transformer.h.0`).
    fn has_module(&self, path: &str) -> bool;
    /// Number of numerically named children (a `ModuleList`'s length), if any.
    fn module_len(&self, path: &str) -> Option<usize>;
    /// The value at a hook point of the module at `path`; blocks until the forward is there.
    fn read(&mut self, path: &str, hook: Hook) -> PyResult<Value>;
    /// Replaces the value at a hook point (`.output = v`, `.inputs = (args, kwargs)`).
    fn write(&mut self, path: &str, hook: Hook, value: Value) -> PyResult<()>;
    /// One `print()` call's text (a LOG status for remote jobs).
    fn print(&mut self, text: String) -> PyResult<()>;
}
