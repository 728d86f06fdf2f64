//! Code the client ships by value: a function defined in the user's script arrives as its
//! source text (nnsight 0.8.1's `serialization._load_function`: source, name, defaults,
//! keyword defaults, file and first line), is compiled here as a module of its own, and
//! its `def` (or lambda) is lifted out without running the module — so decorators are
//! not applied, as nnsight does not apply them. Its globals are the values the client
//! captured for it (`_fill`), filled in after creation so recursion resolves.
//!
//! A function under a decorator needs one more step ([`own_defaults`]): what the client
//! ships for it is the *wrapper* (`functools.wraps`, `torch.no_grad()`), whose source
//! `inspect.getsource` takes from the wrapped function (it follows `__wrapped__`), so the
//! code that arrives and runs here is the wrapped function's — but the defaults that
//! arrive are the wrapper's (none, for `(*args, **kwargs)`).

use std::cell::RefCell;
use std::rc::Rc;

use ruff_python_ast::{Expr, Stmt};

use super::Interp;
use super::code::{Code, CodeNode};
use super::frame::Frame;
use super::host::BufferHost;
use super::program::{Program, ptr};
use crate::value::object::Namespace;
use crate::value::{Function, PyErr, PyResult, Value};

/// What the client sent for one function.
pub struct ShippedFunction<'a> {
    pub source: &'a str,
    pub name: &'a str,
    pub filename: &'a str,
    pub first_line: u32,
    pub defaults: Vec<Value>,
    pub kwdefaults: Vec<(Rc<str>, Value)>,
}

/// Builds the function; `globals` is its (still empty or partly filled) namespace.
pub fn function(f: ShippedFunction<'_>, globals: Rc<Namespace>) -> PyResult<Value> {
    let padded = format!("{}{}", "\n".repeat(f.first_line.saturating_sub(1) as usize), f.source);
    let filename = format!("[{}:{}] {}", f.name, f.first_line, f.filename);
    let program = Program::parse(&padded, &filename)?;
    let module = Code::module(program.clone(), &program.module().body, "<module>")?;
    let not_found = || PyErr::value_error(format!("Could not find function '{}' in compiled source", f.name));
    let code = if f.name == "<lambda>" {
        let lambda = program
            .module()
            .body
            .iter()
            .find_map(|s| match s {
                Stmt::Expr(e) => find_lambda(&e.value),
                Stmt::Assign(a) => find_lambda(&a.value),
                _ => None,
            })
            .ok_or_else(not_found)?;
        module.child(CodeNode::Lambda(lambda as *const _), ptr(lambda), "<lambda>")
    } else {
        // The last top-level `def` of that name, as nnsight keeps the last match.
        let def = program
            .module()
            .body
            .iter()
            .rev()
            .find_map(|s| match s {
                Stmt::FunctionDef(d) if d.name.id.as_str() == f.name => Some(d),
                _ => None,
            })
            .ok_or_else(not_found)?;
        if def.is_async {
            return Err(PyErr::unsupported("`async def` functions"));
        }
        module.child(CodeNode::Function(def as *const _), ptr(def), f.name)
    }
    .ok_or_else(not_found)?;
    if code.scope.has_yield {
        return Err(PyErr::unsupported(format!("the generator function '{}' (`yield`)", f.name)));
    }
    if !code.scope.cells[code.scope.n_own_cells..].is_empty() {
        return Err(PyErr::internal(format!("the shipped function {} has free variables", f.name)));
    }
    Ok(Value::Function(Rc::new(Function {
        name: code.name.clone(),
        qualname: code.scope.qualname.clone(),
        module: "__main__".into(),
        globals,
        defaults: RefCell::new(f.defaults),
        kwdefaults: RefCell::new(f.kwdefaults),
        closure: Vec::new(),
        attrs: Default::default(),
        code,
        owner: Default::default(),
    })))
}

fn find_lambda(e: &Expr) -> Option<&ruff_python_ast::ExprLambda> {
    match e {
        Expr::Lambda(l) => Some(l),
        _ => None,
    }
}

/// Gives the shipped function `func` its `def`'s own defaults when it arrived as the
/// wrapper of a decorated `def` and so without them (see the module doc); returns whether
/// it changed anything. The defaults stay when they already are the `def`'s (no
/// decorator, or one that returned the function itself). The defaults come from
/// `wrapped` (`__wrapped__`, which nnsight 0.7 ships in the function's `__dict__`, with
/// the globals the wrapped function reads, which become `func`'s too) or else, as nnsight
/// 0.8.1 ships nothing more, from the `def`'s default expressions evaluated against the
/// function's globals — as CPython evaluated them, at module level. If one cannot be
/// evaluated there (a name the client did not ship), the shipped defaults stay and a
/// call that needs them fails.
pub fn own_defaults(func: &Function, wrapped: Option<&Value>) -> bool {
    let Some(def) = func.code.function() else { return false };
    if def.decorator_list.is_empty() {
        return false;
    }
    let params = &def.parameters;
    let positional = params.posonlyargs.iter().chain(params.args.iter()).filter(|p| p.default.is_some()).count();
    let keyword: Vec<&str> = params
        .kwonlyargs
        .iter()
        .filter(|p| p.default.is_some())
        .map(|p| p.parameter.name.id.as_str())
        .collect();
    let same = |d: &[Value], k: &[(Rc<str>, Value)]| {
        d.len() == positional && k.len() == keyword.len() && k.iter().all(|(n, _)| keyword.contains(&n.as_ref()))
    };
    let mut changed = false;
    if let Some(Value::Function(w)) = wrapped {
        for (k, v) in w.globals.own.items() {
            if let Some(k) = k.as_str()
                && func.globals.set(k, v).is_ok()
            {
                changed = true;
            }
        }
    }
    if same(&func.defaults.borrow(), &func.kwdefaults.borrow()) {
        return changed;
    }
    if let Some(Value::Function(w)) = wrapped
        && same(&w.defaults.borrow(), &w.kwdefaults.borrow())
    {
        *func.defaults.borrow_mut() = w.defaults.borrow().clone();
        *func.kwdefaults.borrow_mut() = w.kwdefaults.borrow().clone();
        return true;
    }
    let Ok(module) = Code::module(func.code.program.clone(), &func.code.program.module().body, "<module>") else {
        return changed;
    };
    let mut frame = Frame::module(module, func.globals.clone());
    let mut host = BufferHost::default();
    let mut it = Interp::new(&mut host);
    let mut defaults = Vec::new();
    for p in params.posonlyargs.iter().chain(params.args.iter()) {
        if let Some(d) = &p.default {
            let Ok(v) = it.eval(&mut frame, d) else { return changed };
            defaults.push(v);
        }
    }
    let mut kwdefaults = Vec::new();
    for p in params.kwonlyargs.iter() {
        if let Some(d) = &p.default {
            let Ok(v) = it.eval(&mut frame, d) else { return changed };
            kwdefaults.push((Rc::from(p.parameter.name.id.as_str()), v));
        }
    }
    *func.defaults.borrow_mut() = defaults;
    *func.kwdefaults.borrow_mut() = kwdefaults;
    true
}
