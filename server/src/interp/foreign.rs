//! Code the client ships by value: a function defined in the user's script arrives as its
//! source text (nnsight 0.8.1's `serialization._load_function`: source, name, defaults,
//! keyword defaults, file and first line), is compiled here as a module of its own, and
//! its `def` (or lambda) is lifted out without running the module — so decorators are
//! not applied, as nnsight does not apply them. Its globals are the values the client
//! captured for it (`_fill`), filled in after creation so recursion resolves.

use std::rc::Rc;

use ruff_python_ast::{Expr, Stmt};

use super::code::{Code, CodeNode};
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
    let module = Code::module(program.clone(), &program.module.body, "<module>")?;
    let not_found = || PyErr::value_error(format!("Could not find function '{}' in compiled source", f.name));
    let code = if f.name == "<lambda>" {
        let lambda = program
            .module
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
            .module
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
        defaults: f.defaults,
        kwdefaults: f.kwdefaults,
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
