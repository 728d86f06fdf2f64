//! Functions shipped as CPython bytecode. nnsight 0.5's clients ship the helpers a traced
//! block calls — functions defined elsewhere in the user's script — with cloudpickle, as
//! code objects rather than source: `_make_function(CodeType(...), globals, name,
//! argdefs, closure)` then `_function_setstate(func, (state, slotstate))` with the
//! globals the code reads, its defaults, closure cells and names. This module owns
//! running them: decoding the code object ([`code`]: instructions, constants, the 3.11
//! exception and line tables), the function, code and cell values ([`function`]), and an
//! evaluator for CPython 3.11's bytecode ([`eval`]) that runs a helper's frame on the
//! interpreter's own values and operations, under the interpreter's limits (recursion
//! depth, the job's step budget, deadline and cancellation).
//!
//! Only 3.11's bytecode runs: code objects from other CPythons (3.10's have 16 fields;
//! 3.12's have 3.11's 18 and other opcodes, told apart by the client's version, see
//! [`PyVersion`]), generators, coroutines and code using opcodes the evaluator does not
//! run (`match`, `async`, class bodies, `except*`, ...) load as functions whose call
//! raises `NotImplementedError` naming the helper and what to do instead.

pub mod code;
pub mod eval;
pub mod function;
pub mod opcodes;

#[cfg(test)]
mod tests;

use std::rc::Rc;

use localndif_wire::pickle::{Graph, Id};

pub use code::{CodeObject, PyVersion};
pub use function::{BcFunction, cell_value};

use crate::value::object::{Cell, Namespace};
use crate::value::{Dict, PyErr, PyResult, Value};

/// `cloudpickle.cloudpickle._make_function(code, globals, name, argdefs, closure)` from
/// its argument nodes `args`, for a client on CPython `version`; `load` gives the value
/// of any other node (the loader's, so shared nodes stay shared: functions pickled
/// together share their globals dict, as in the client). The state comes after
/// ([`set_state`]), once the caller has memoized the function (its globals may name it).
pub fn make_function(g: &Graph, args: &[Id], version: PyVersion, load: &mut dyn FnMut(Id) -> PyResult<Value>) -> PyResult<Rc<BcFunction>> {
    let &code = args.first().ok_or_else(|| PyErr::value_error("a function shipped without its code object"))?;
    let mut code = code::decode(g, code, version, load)?;
    let globals = match args.get(1).map(|&a| load(a)).transpose()? {
        Some(Value::Dict(d)) => d,
        _ => Dict::new(),
    };
    // cloudpickle ships `co_filename` as `<dynamic-code>`; the script's own name is the
    // `__file__` among the globals it gives the function, which tracebacks should show.
    if code.filename.starts_with('<')
        && let Some(file) = globals.get_str("__file__").and_then(|f| f.as_str().map(Rc::from))
        && let Some(c) = Rc::get_mut(&mut code)
    {
        c.filename = file;
    }
    let closure = match args.get(4).map(|&a| load(a)).transpose()? {
        Some(Value::Tuple(cells)) => cells.iter().map(|c| function::as_cell(c).unwrap_or_else(|| Cell::new(None))).collect(),
        _ => Vec::new(),
    };
    let f = BcFunction::new(code, Namespace::new(globals, None, None), closure);
    if let Some(Value::Str(name)) = args.get(2).map(|&a| load(a)).transpose()? {
        *f.name.borrow_mut() = Rc::from(name.as_str());
    }
    if let Some(d) = args.get(3).map(|&a| load(a)).transpose()? {
        *f.defaults.borrow_mut() = function::defaults(d)?;
    }
    Ok(f)
}

/// `cloudpickle.cloudpickle._function_setstate(func, (state, slotstate))`: `state` is the
/// function's `__dict__`; `slotstate` its `__globals__` (the globals the code reads:
/// other helpers, modules, envoys — merged into its globals dict), `__closure__` (its
/// cells with their contents), `__defaults__`, `__kwdefaults__` and names.
pub fn set_state(f: &BcFunction, state: &Value, slotstate: &Value) -> PyResult<()> {
    if let Value::Dict(d) = state {
        for (k, v) in d.items() {
            if let Some(k) = k.as_str() {
                f.attrs.borrow_mut().push((Rc::from(k), v));
            }
        }
    }
    let Value::Dict(slots) = slotstate else { return Ok(()) };
    for (k, v) in slots.items() {
        let Some(k) = k.as_str() else { continue };
        let text = || v.as_str().map(Rc::from);
        match k {
            "__globals__" => {
                if let Value::Dict(d) = &v {
                    eval::update_globals(&f.globals, d)?;
                }
            }
            "__closure__" => {
                let Value::Tuple(cells) = &v else { continue };
                let cells: Vec<Rc<Cell>> = cells.iter().map(|c| function::as_cell(c).unwrap_or_else(|| Cell::new(None))).collect();
                let mut own = f.closure.borrow_mut();
                if own.len() == cells.len() || own.is_empty() {
                    *own = cells;
                } else {
                    for (o, c) in own.iter().zip(&cells) {
                        o.set(c.get());
                    }
                }
            }
            "__defaults__" => *f.defaults.borrow_mut() = function::defaults(v)?,
            "__kwdefaults__" => *f.kwdefaults.borrow_mut() = function::kwdefaults(v)?,
            "__name__" => {
                if let Some(s) = text() {
                    *f.name.borrow_mut() = s;
                }
            }
            "__qualname__" => {
                if let Some(s) = text() {
                    *f.qualname.borrow_mut() = s;
                }
            }
            "__module__" => {
                if let Some(s) = text() {
                    *f.module.borrow_mut() = s;
                }
            }
            "__doc__" | "__annotations__" | "_cloudpickle_submodules" => {}
            other => f.attrs.borrow_mut().push((Rc::from(other), v)),
        }
    }
    Ok(())
}
