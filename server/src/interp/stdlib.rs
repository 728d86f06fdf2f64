//! Standard-library modules written in the Python the interpreter runs (`stdlib/*.py`):
//! `collections` (Counter, defaultdict, deque, namedtuple), `json`, `random`, `einops`
//! and `re` (over the engine in [`super::sre`]). Each is executed once per job thread on first import (in a nested
//! interpreter over the same job limits) and its module-level names become the module's
//! attributes, so user code gets them with the same step, size and time bounds as its
//! own code.

use std::rc::Rc;

use super::Interp;
use super::code::Code;
use super::host::BufferHost;
use super::program::Program;
use crate::value::object::{Namespace, PyModule};
use crate::value::{Dict, PyResult, Value};

/// The source of the Python-written module `name`, if it is one.
pub fn source(name: &str) -> Option<&'static str> {
    Some(match name {
        "collections" => include_str!("stdlib/collections.py"),
        "json" => include_str!("stdlib/json.py"),
        "random" => include_str!("stdlib/random.py"),
        "einops" => include_str!("stdlib/einops.py"),
        "re" => include_str!("stdlib/re.py"),
        _ => return None,
    })
}

/// Calls `module.name(*args)` of a Python-written module outside user code (the loader
/// rebuilding a captured `re.compile(...)`), on a nested interpreter.
pub fn call(module: &str, name: &str, args: Vec<Value>) -> PyResult<Value> {
    let Value::Module(m) = super::modules::import(module)? else {
        return Err(crate::value::PyErr::internal("a stdlib module that is not a module"));
    };
    let f = m.get(name).ok_or_else(|| crate::value::PyErr::attribute_error(format!("module '{module}' has no attribute '{name}'")))?;
    let mut host = BufferHost::default();
    Interp::new(&mut host).call(&f, args, vec![])
}

/// Runs Python source the server ships (a stdlib module, the job's `torch.nn`) as module
/// `name`, on a nested interpreter, and returns its namespace.
pub fn run_module(name: &str, source: &str, filename: &str) -> PyResult<Rc<Namespace>> {
    let program = Program::parse(source, filename)?;
    let code = Code::module(program.clone(), &program.module().body, "<module>")?;
    let ns = Namespace::new(Dict::new(), None, None);
    ns.set("__name__", Value::str(name))?;
    let mut host = BufferHost::default();
    Interp::new(&mut host).exec_module(code, ns.clone())?;
    Ok(ns)
}

/// Runs the module's source and returns the module object.
pub fn load(name: &str, source: &str) -> PyResult<Value> {
    let ns = run_module(name, source, &format!("<localndif {name}>"))?;
    let attrs = Dict::new();
    for (k, v) in ns.own.items() {
        if k.as_str().is_some_and(|s| !s.starts_with("__")) {
            attrs.insert(k, v)?;
        }
    }
    Ok(Value::Module(Rc::new(PyModule { name: name.into(), lookup: None, attrs })))
}
