//! Statements: the evaluator's outer loop. Every statement ticks the job budget (steps,
//! deadline, cancellation) and checks the native stack, so no user program can run
//! forever, stall its job past the deadline, or overflow the stack.

use std::cell::RefCell;
use std::rc::Rc;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use super::Interp;
use super::code::{Code, CodeNode};
use super::frame::Frame;
use super::host::WithBody;
use super::program::{NameOp, ptr};
use crate::value::object::{Cell, Namespace};
use crate::value::types::{self, ClassRef};
use crate::value::{Class, Dict, Function, PyErr, PyResult, Value, ctx, stack};

pub enum Flow {
    Normal,
    Break,
    Continue,
    Return(Value),
}

impl Interp<'_> {
    /// Runs module-level code against `ns`, recording the frame in tracebacks.
    pub fn exec_module(&mut self, code: Rc<Code>, ns: Rc<Namespace>) -> PyResult<()> {
        let mut frame = Frame::module(code.clone(), ns);
        let r = self.exec_block(&mut frame, code.body());
        match r {
            Ok(Flow::Return(_)) => Err(PyErr::new(&types::SYNTAX_ERROR, "'return' outside function")),
            Ok(_) => Ok(()),
            Err(mut e) => {
                if e.is_exception() {
                    e.push_frame(code.program.entry(frame.line, &code.name));
                }
                Err(e)
            }
        }
    }

    /// Runs statements in an existing frame (a `with` body run in place).
    pub fn exec_in(&mut self, frame: &mut Frame, stmts: &[Stmt]) -> PyResult<Flow> {
        self.exec_block(frame, stmts)
    }

    pub(super) fn exec_block(&mut self, f: &mut Frame, stmts: &[Stmt]) -> PyResult<Flow> {
        for st in stmts {
            match self.exec_stmt(f, st)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec_stmt(&mut self, f: &mut Frame, st: &Stmt) -> PyResult<Flow> {
        ctx::tick()?;
        stack::guard()?;
        f.line = f.code.program.line_of(st.start().to_usize());
        match st {
            Stmt::Expr(s) => {
                self.eval(f, &s.value)?;
            }
            Stmt::Assign(s) => {
                // Right-hand side first, then each target left to right (docs/semantics.md §4.2
                // depends on this order).
                let v = self.eval(f, &s.value)?;
                for t in &s.targets {
                    self.assign(f, t, v.clone())?;
                }
            }
            Stmt::AugAssign(s) => self.aug_assign(f, s)?,
            Stmt::AnnAssign(s) => {
                if let Some(v) = &s.value {
                    let v = self.eval(f, v)?;
                    self.assign(f, &s.target, v)?;
                }
                // Class bodies record their annotations (dataclasses read them); the
                // annotation is kept as text, not evaluated (PEP 563).
                if f.code.scope.kind == super::program::ScopeKind::Class
                    && let (Expr::Name(n), Some(ns)) = (s.target.as_ref(), &f.locals)
                {
                    let ann = match ns.get("__annotations__") {
                        Some(Value::Dict(d)) => d,
                        _ => {
                            let d = Dict::new();
                            ns.set("__annotations__", Value::Dict(d.clone()))?;
                            d
                        }
                    };
                    use ruff_text_size::Ranged;
                    let text = f.code.program.source.get(s.annotation.range().start().to_usize()..s.annotation.range().end().to_usize()).unwrap_or("");
                    ann.insert(Value::str(n.id.as_str()), Value::str(text))?;
                }
            }
            Stmt::Pass(_) => {}
            Stmt::Break(_) => return Ok(Flow::Break),
            Stmt::Continue(_) => return Ok(Flow::Continue),
            Stmt::Return(r) => {
                let v = match &r.value {
                    Some(e) => self.eval(f, e)?,
                    None => Value::None,
                };
                return Ok(Flow::Return(v));
            }
            Stmt::If(s) => {
                let t = self.eval(f, &s.test)?;
                if self.truthy(&t)? {
                    return self.exec_block(f, &s.body);
                }
                for c in &s.elif_else_clauses {
                    let take = match &c.test {
                        Some(t) => {
                            let v = self.eval(f, t)?;
                            self.truthy(&v)?
                        }
                        None => true,
                    };
                    if take {
                        return self.exec_block(f, &c.body);
                    }
                }
            }
            Stmt::While(s) => {
                loop {
                    let t = self.eval(f, &s.test)?;
                    if !self.truthy(&t)? {
                        return self.exec_block(f, &s.orelse);
                    }
                    match self.exec_block(f, &s.body)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                    ctx::tick()?;
                }
            }
            Stmt::For(s) => {
                if s.is_async {
                    return Err(PyErr::unsupported("`async for`"));
                }
                let iterable = self.eval(f, &s.iter)?;
                let it = self.iter(&iterable)?;
                let r = self.exec_for(f, s, &it);
                if let Value::Host(h) = &it {
                    h.clone().close(self);
                }
                return r;
            }
            Stmt::FunctionDef(d) => {
                let v = self.make_function(f, d)?;
                self.store_ident(f, &d.name, v)?;
            }
            Stmt::ClassDef(c) => {
                let v = self.make_class(f, c)?;
                self.store_ident(f, &c.name, v)?;
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.delete(f, t)?;
                }
            }
            Stmt::Raise(r) => return Err(self.raise(f, r)?),
            Stmt::Try(t) => return self.exec_try(f, t),
            Stmt::Assert(a) => {
                let t = self.eval(f, &a.test)?;
                if !self.truthy(&t)? {
                    return Err(match &a.msg {
                        Some(m) => {
                            let m = self.eval(f, m)?;
                            let text = self.str(&m)?;
                            PyErr::with_args(&types::ASSERTION_ERROR, text, vec![m])
                        }
                        None => PyErr::new(&types::ASSERTION_ERROR, ""),
                    });
                }
            }
            Stmt::With(w) => return self.exec_with(f, w, 0),
            Stmt::Import(i) => {
                for al in &i.names {
                    let full = al.name.id.as_str();
                    let module = super::modules::import(full)?;
                    match &al.asname {
                        Some(n) => self.store_ident(f, n, module)?,
                        None => {
                            let first = full.split('.').next().unwrap_or(full);
                            let top = super::modules::import(first)?;
                            let op = f.code.res.name_op(ptr(&al.name));
                            self.store_op(f, op, first, top)?;
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                let module_name = i.module.as_ref().map_or("", |m| m.id.as_str());
                if i.level > 0 {
                    return Err(PyErr::new(
                        &types::IMPORT_ERROR,
                        "attempted relative import with no known parent package",
                    ));
                }
                let module = super::modules::import(module_name)?;
                for al in &i.names {
                    if al.name.id.as_str() == "*" {
                        return Err(PyErr::unsupported("`from ... import *`"));
                    }
                    let name = al.name.id.as_str();
                    let v = match self.getattr(&module, name) {
                        Ok(v) => v,
                        Err(_) => match super::modules::import(&format!("{module_name}.{name}")) {
                            Ok(m) => m,
                            Err(_) => {
                                return Err(PyErr::new(
                                    &types::IMPORT_ERROR,
                                    format!("cannot import name '{name}' from '{module_name}'"),
                                ));
                            }
                        },
                    };
                    let id = al.asname.as_ref().unwrap_or(&al.name);
                    self.store_ident(f, id, v)?;
                }
            }
            Stmt::Global(_) | Stmt::Nonlocal(_) => {}
            Stmt::Match(_) => return Err(PyErr::unsupported("the `match` statement")),
            Stmt::TypeAlias(_) => return Err(PyErr::unsupported("`type` aliases")),
            Stmt::IpyEscapeCommand(_) => return Err(PyErr::unsupported("IPython escape commands")),
        }
        Ok(Flow::Normal)
    }

    fn exec_try(&mut self, f: &mut Frame, t: &ast::StmtTry) -> PyResult<Flow> {
        if t.is_star {
            return Err(PyErr::unsupported("`except*`"));
        }
        let mut outcome = self.exec_block(f, &t.body);
        if let Err(e) = &outcome
            && e.is_exception()
        {
            let mut e = e.clone();
            let mut handled = None;
            for h in &t.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                let matches = match &h.type_ {
                    None => true,
                    Some(ty) => {
                        let cls = self.eval(f, ty)?;
                        exception_matches(&e, &cls)?
                    }
                };
                if !matches {
                    continue;
                }
                if let Some(n) = &h.name {
                    let v = e.value();
                    self.store_ident(f, n, v)?;
                }
                self.handling.push(e.clone());
                let r = self.exec_block(f, &h.body);
                self.handling.pop();
                if let Some(n) = &h.name {
                    let op = f.code.res.name_op(ptr(n));
                    let _ = self.delete_op(f, op, n.id.as_str());
                }
                handled = Some(r.map_err(|mut inner| {
                    if inner.is_exception() && inner.cause().is_none() && !same_error(&inner, &e) {
                        // Python chains it as the context; we keep the new error.
                        let _ = &mut inner;
                    }
                    inner
                }));
                break;
            }
            if let Some(r) = handled {
                outcome = r;
            }
        } else if let Ok(Flow::Normal) = outcome {
            outcome = self.exec_block(f, &t.orelse);
        }
        if t.finalbody.is_empty() {
            return outcome;
        }
        // A budget stop or our bug skips `finally` (it could only run user code longer).
        if let Err(e) = &outcome
            && !e.is_exception()
        {
            return outcome;
        }
        match self.exec_block(f, &t.finalbody)? {
            Flow::Normal => outcome,
            other => Ok(other),
        }
    }

    fn raise(&mut self, f: &mut Frame, r: &ast::StmtRaise) -> PyResult<PyErr> {
        let Some(exc) = &r.exc else {
            return Ok(self.handling.last().cloned().unwrap_or_else(|| {
                PyErr::runtime_error("No active exception to reraise")
            }));
        };
        let v = self.eval(f, exc)?;
        let mut err = self.make_exception(v)?;
        if let Some(c) = &r.cause {
            let c = self.eval(f, c)?;
            let cause = match c {
                Value::None => None,
                other => Some(self.make_exception(other)?),
            };
            // `e.__cause__` reads it back from the instance.
            let inst = err.value();
            if let Value::Instance(i) = &inst {
                let cv = cause.clone().map_or(Value::None, |mut c| c.value());
                i.dict.insert(Value::str("__cause__"), cv)?;
            }
            err.set_cause(cause);
        }
        Ok(err)
    }

    /// `raise X`: an exception instance, or a class to instantiate.
    pub fn make_exception(&mut self, v: Value) -> PyResult<PyErr> {
        match &v {
            Value::Instance(i) if i.is_exception() => Ok(PyErr::from_instance(v)),
            Value::Type(t) if t.is_subtype(&types::BASE_EXCEPTION) => {
                let inst = self.call(&v, vec![], vec![])?;
                Ok(PyErr::from_instance(inst))
            }
            Value::Class(c) if ClassRef::User(c.clone()).derives_from_builtin(&types::BASE_EXCEPTION) => {
                let inst = self.call(&v, vec![], vec![])?;
                Ok(PyErr::from_instance(inst))
            }
            _ => Err(PyErr::type_error("exceptions must derive from BaseException")),
        }
    }

    fn exec_for(&mut self, f: &mut Frame, s: &ast::StmtFor, it: &Value) -> PyResult<Flow> {
        loop {
            let Some(item) = self.next(it)? else {
                return self.exec_block(f, &s.orelse);
            };
            self.assign(f, &s.target, item)?;
            match self.exec_block(f, &s.body)? {
                Flow::Break => return Ok(Flow::Normal),
                Flow::Return(v) => return Ok(Flow::Return(v)),
                Flow::Normal | Flow::Continue => {}
            }
        }
    }

    fn exec_with(&mut self, f: &mut Frame, w: &ast::StmtWith, item: usize) -> PyResult<Flow> {
        if w.is_async {
            return Err(PyErr::unsupported("`async with`"));
        }
        if item == w.items.len() {
            return self.exec_block(f, &w.body);
        }
        let it = &w.items[item];
        let mgr = self.with_manager(f, &it.context_expr)?;
        if let Value::Host(h) = &mgr
            && item + 1 == w.items.len()
        {
            let h = h.clone();
            let code = f.code.clone();
            let body = WithBody {
                code: &code,
                stmts: &w.body,
                target: it.optional_vars.as_deref(),
                line: f.line,
            };
            if let Some(r) = h.with_body(self, &mgr, body, f) {
                r?;
                return Ok(Flow::Normal);
            }
        }
        let entered = self.enter(&mgr)?;
        if let Some(t) = &it.optional_vars {
            self.assign(f, t, entered)?;
        }
        let r = self.exec_with(f, w, item + 1);
        match r {
            Ok(flow) => {
                self.exit(&mgr, None)?;
                Ok(flow)
            }
            Err(e) if e.is_exception() => {
                if self.exit(&mgr, Some(&e))? {
                    Ok(Flow::Normal)
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    /// A `with` item's manager. `with t.backward(...):` on a tensor asks the host for
    /// the tracer that interleaves the body with the backward pass (nnsight patches
    /// `Tensor.backward` for exactly this use); elsewhere `backward` is a plain call.
    fn with_manager(&mut self, f: &mut Frame, expr: &Expr) -> PyResult<Value> {
        if let Expr::Call(call) = expr
            && let Expr::Attribute(a) = &*call.func
            && a.attr.as_str() == "backward"
        {
            let recv = self.eval(f, &a.value)?;
            if matches!(recv, Value::Tensor(_)) {
                let (args, kwargs) = self.eval_args(f, &call.arguments)?;
                if let Some(r) = self.host.backward_tracer(&recv, args.clone(), kwargs.clone()) {
                    return r;
                }
                let m = self.getattr(&recv, "backward")?;
                return self.call(&m, args, kwargs);
            }
            let m = self.getattr(&recv, "backward")?;
            let (args, kwargs) = self.eval_args(f, &call.arguments)?;
            return self.call(&m, args, kwargs);
        }
        self.eval(f, expr)
    }

    fn enter(&mut self, mgr: &Value) -> PyResult<Value> {
        match mgr {
            Value::Host(h) => h.clone().enter(self, mgr),
            Value::Instance(_) => {
                let m = self.getattr(mgr, "__enter__").map_err(|_| no_context(mgr))?;
                self.call(&m, vec![], vec![])
            }
            other => Err(no_context(other)),
        }
    }

    /// `__exit__`; returns whether the exception is suppressed.
    fn exit(&mut self, mgr: &Value, err: Option<&PyErr>) -> PyResult<bool> {
        match mgr {
            Value::Host(h) => h.clone().exit(self, mgr, err),
            _ => {
                let m = self.getattr(mgr, "__exit__")?;
                let args = match err {
                    None => vec![Value::None, Value::None, Value::None],
                    Some(e) => {
                        let mut e = e.clone();
                        let v = e.value();
                        let cls = match v.class() {
                            ClassRef::Builtin(t) => Value::Type(t),
                            ClassRef::User(c) => Value::Class(c),
                        };
                        vec![cls, v, Value::None]
                    }
                };
                let r = self.call(&m, args, vec![])?;
                self.truthy(&r)
            }
        }
    }

    fn aug_assign(&mut self, f: &mut Frame, s: &ast::StmtAugAssign) -> PyResult<()> {
        let op = s.op.as_str();
        match s.target.as_ref() {
            Expr::Name(n) => {
                let cur = self.load_name(f, n)?;
                let rhs = self.eval(f, &s.value)?;
                let new = self.inplace_op(op, &cur, &rhs)?;
                self.store_name(f, n, new)
            }
            Expr::Attribute(a) => {
                let obj = self.eval(f, &a.value)?;
                let cur = self.getattr(&obj, a.attr.id.as_str())?;
                let rhs = self.eval(f, &s.value)?;
                let new = self.inplace_op(op, &cur, &rhs)?;
                self.setattr(&obj, a.attr.id.as_str(), new)
            }
            Expr::Subscript(sub) => {
                let obj = self.eval(f, &sub.value)?;
                let idx = self.eval(f, &sub.slice)?;
                let cur = self.getitem(&obj, &idx)?;
                let rhs = self.eval(f, &s.value)?;
                let new = self.inplace_op(op, &cur, &rhs)?;
                self.setitem(&obj, &idx, new)
            }
            other => Err(PyErr::new(
                &types::SYNTAX_ERROR,
                format!("'{}' is an illegal expression for augmented assignment", expr_kind(other)),
            )),
        }
    }

    /// Binds `v` to an assignment target.
    pub fn assign(&mut self, f: &mut Frame, target: &Expr, v: Value) -> PyResult<()> {
        match target {
            Expr::Name(n) => self.store_name(f, n, v),
            Expr::Attribute(a) => {
                let obj = self.eval(f, &a.value)?;
                self.setattr(&obj, a.attr.id.as_str(), v)
            }
            Expr::Subscript(s) => {
                let obj = self.eval(f, &s.value)?;
                let idx = self.eval(f, &s.slice)?;
                self.setitem(&obj, &idx, v)
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                self.unpack_into(f, elts, v)
            }
            Expr::Starred(_) => Err(PyErr::new(
                &types::SYNTAX_ERROR,
                "starred assignment target must be in a list or tuple",
            )),
            other => Err(PyErr::new(
                &types::SYNTAX_ERROR,
                format!("cannot assign to {}", expr_kind(other)),
            )),
        }
    }

    fn unpack_into(&mut self, f: &mut Frame, elts: &[Expr], v: Value) -> PyResult<()> {
        let items = self.collect(&v).map_err(|e| {
            if e.is_instance_of(&types::TYPE_ERROR) {
                PyErr::type_error(format!("cannot unpack non-iterable {} object", v.type_name()))
            } else {
                e
            }
        })?;
        let star = elts.iter().position(|e| matches!(e, Expr::Starred(_)));
        match star {
            None => {
                if items.len() != elts.len() {
                    return Err(PyErr::value_error(if items.len() > elts.len() {
                        format!("too many values to unpack (expected {})", elts.len())
                    } else {
                        format!(
                            "not enough values to unpack (expected {}, got {})",
                            elts.len(),
                            items.len()
                        )
                    }));
                }
                for (t, item) in elts.iter().zip(items) {
                    self.assign(f, t, item)?;
                }
            }
            Some(si) => {
                let after = elts.len() - si - 1;
                if items.len() < si + after {
                    return Err(PyErr::value_error(format!(
                        "not enough values to unpack (expected at least {}, got {})",
                        si + after,
                        items.len()
                    )));
                }
                let mut items = items;
                let tail = items.split_off(items.len() - after);
                let middle = items.split_off(si);
                for (t, item) in elts[..si].iter().zip(items) {
                    self.assign(f, t, item)?;
                }
                if let Expr::Starred(s) = &elts[si] {
                    self.assign(f, &s.value, Value::list(middle))?;
                }
                for (t, item) in elts[si + 1..].iter().zip(tail) {
                    self.assign(f, t, item)?;
                }
            }
        }
        Ok(())
    }

    fn delete(&mut self, f: &mut Frame, t: &Expr) -> PyResult<()> {
        match t {
            Expr::Name(n) => {
                let op = f.code.res.name_op(ptr(n));
                self.delete_op(f, op, n.id.as_str())
            }
            Expr::Subscript(s) => {
                let obj = self.eval(f, &s.value)?;
                let idx = self.eval(f, &s.slice)?;
                self.delitem(&obj, &idx)
            }
            Expr::Attribute(a) => {
                let obj = self.eval(f, &a.value)?;
                self.delattr(&obj, a.attr.id.as_str())
            }
            Expr::Tuple(tp) => {
                for e in &tp.elts {
                    self.delete(f, e)?;
                }
                Ok(())
            }
            Expr::List(l) => {
                for e in &l.elts {
                    self.delete(f, e)?;
                }
                Ok(())
            }
            other => Err(PyErr::new(
                &types::SYNTAX_ERROR,
                format!("cannot delete {}", expr_kind(other)),
            )),
        }
    }

    fn delete_op(&mut self, f: &mut Frame, op: NameOp, name: &str) -> PyResult<()> {
        let missing = || PyErr::name_error(name);
        match op {
            NameOp::Fast(i) => {
                if f.fast[i as usize].take().is_none() {
                    return Err(unbound_local(name));
                }
            }
            NameOp::Cell(i) | NameOp::ClassDeref(i) => {
                let c = &f.cells[i as usize];
                if c.get().is_none() {
                    return Err(unbound_local(name));
                }
                c.set(None);
            }
            NameOp::Global => {
                if !f.globals.delete(name)? {
                    return Err(missing());
                }
            }
            NameOp::Name => {
                let ns = f.locals.clone().unwrap_or_else(|| f.globals.clone());
                if !ns.delete(name)? {
                    return Err(missing());
                }
            }
        }
        Ok(())
    }

    pub(super) fn store_name(&mut self, f: &mut Frame, n: &ast::ExprName, v: Value) -> PyResult<()> {
        let op = f.code.res.name_op(ptr(n));
        self.store_op(f, op, n.id.as_str(), v)
    }

    fn store_ident(&mut self, f: &mut Frame, id: &ast::Identifier, v: Value) -> PyResult<()> {
        let op = f.code.res.name_op(ptr(id));
        self.store_op(f, op, id.id.as_str(), v)
    }

    pub(super) fn store_op(&mut self, f: &mut Frame, op: NameOp, name: &str, v: Value) -> PyResult<()> {
        match op {
            NameOp::Fast(i) => f.fast[i as usize] = Some(v),
            NameOp::Cell(i) | NameOp::ClassDeref(i) => f.cells[i as usize].set(Some(v)),
            NameOp::Global => f.globals.set(name, v)?,
            NameOp::Name => match &f.locals {
                Some(ns) => ns.set(name, v)?,
                None => f.globals.set(name, v)?,
            },
        }
        Ok(())
    }

    pub(super) fn load_name(&mut self, f: &mut Frame, n: &ast::ExprName) -> PyResult<Value> {
        let name = n.id.as_str();
        match f.code.res.name_op(ptr(n)) {
            NameOp::Fast(i) => f.fast[i as usize].clone().ok_or_else(|| unbound_local(name)),
            NameOp::Cell(i) => f.cells[i as usize].get().ok_or_else(|| {
                if (i as usize) < f.code.scope.n_own_cells {
                    unbound_local(name)
                } else {
                    PyErr::name_error_free(name)
                }
            }),
            NameOp::ClassDeref(i) => {
                if let Some(ns) = &f.locals
                    && let Ok(Some(v)) = ns.own.get(&Value::str(name))
                {
                    return Ok(v);
                }
                f.cells[i as usize].get().ok_or_else(|| PyErr::name_error_free(name))
            }
            NameOp::Global => lookup_global(&f.globals, name),
            NameOp::Name => {
                if let Some(ns) = &f.locals
                    && let Some(v) = ns.get(name)
                {
                    return Ok(v);
                }
                lookup_global(&f.globals, name)
            }
        }
    }

    /// `def`: evaluates decorators, defaults and keyword defaults now, in this frame.
    fn make_function(&mut self, f: &mut Frame, d: &ast::StmtFunctionDef) -> PyResult<Value> {
        if d.is_async {
            return Err(PyErr::unsupported("`async def`"));
        }
        let decorators = d
            .decorator_list
            .iter()
            .map(|dec| self.eval(f, &dec.expression))
            .collect::<PyResult<Vec<_>>>()?;
        let code = f
            .code
            .child(CodeNode::Function(d as *const _), ptr(d), d.name.id.as_str())
            .ok_or_else(|| PyErr::internal("a function without a scope"))?;
        if code.scope.has_yield {
            return Err(PyErr::unsupported("generator functions (`yield`)"));
        }
        let mut func = self.function_value(f, code, &d.parameters)?;
        for dec in decorators.into_iter().rev() {
            func = self.call(&dec, vec![func], vec![])?;
        }
        Ok(func)
    }

    pub(super) fn function_value(
        &mut self,
        f: &mut Frame,
        code: Rc<Code>,
        params: &ast::Parameters,
    ) -> PyResult<Value> {
        let mut defaults = Vec::new();
        for p in params.posonlyargs.iter().chain(params.args.iter()) {
            if let Some(d) = &p.default {
                defaults.push(self.eval(f, d)?);
            }
        }
        let mut kwdefaults = Vec::new();
        for p in params.kwonlyargs.iter() {
            if let Some(d) = &p.default {
                kwdefaults.push((Rc::from(p.parameter.name.id.as_str()), self.eval(f, d)?));
            }
        }
        let closure = self.closure_for(f, &code);
        let module = module_name(&f.globals);
        Ok(Value::Function(Rc::new(Function {
            name: code.name.clone(),
            qualname: code.scope.qualname.clone(),
            module,
            globals: f.globals.clone(),
            defaults: RefCell::new(defaults),
            kwdefaults: RefCell::new(kwdefaults),
            closure,
            attrs: Default::default(),
            code,
            owner: Default::default(),
        })))
    }

    /// The cells a new code object's free variables refer to, from this frame.
    pub(super) fn closure_for(&self, f: &Frame, code: &Code) -> Vec<Rc<Cell>> {
        let scope = &code.scope;
        scope.cells[scope.n_own_cells..]
            .iter()
            .map(|name| {
                f.code
                    .scope
                    .cell_index(name)
                    .and_then(|i| f.cells.get(i).cloned())
                    .unwrap_or_else(|| Cell::new(None))
            })
            .collect()
    }

    fn make_class(&mut self, f: &mut Frame, c: &ast::StmtClassDef) -> PyResult<Value> {
        let decorators = c
            .decorator_list
            .iter()
            .map(|dec| self.eval(f, &dec.expression))
            .collect::<PyResult<Vec<_>>>()?;
        let mut bases = Vec::new();
        if let Some(args) = &c.arguments {
            for a in args.args.iter() {
                let b = self.eval(f, a)?;
                bases.push(match b {
                    Value::Type(t) => ClassRef::Builtin(t),
                    Value::Class(k) => ClassRef::User(k),
                    other => {
                        return Err(PyErr::type_error(format!(
                            "bases must be types, not {}",
                            other.type_name()
                        )));
                    }
                });
            }
            if !args.keywords.is_empty() {
                return Err(PyErr::unsupported("class keyword arguments (metaclasses)"));
            }
        }
        let code = f
            .code
            .child(CodeNode::Class(c as *const _), ptr(c), c.name.id.as_str())
            .ok_or_else(|| PyErr::internal("a class without a scope"))?;
        let ns = Namespace::new(Dict::new(), None, None);
        let module = module_name(&f.globals);
        ns.set("__module__", Value::Str(Rc::new(crate::value::PyStr::new(&module))))?;
        ns.set("__qualname__", Value::str(&code.scope.qualname))?;
        let cells: Vec<Rc<Cell>> = (0..code.scope.n_own_cells)
            .map(|_| Cell::new(None))
            .chain(self.closure_for(f, &code))
            .collect();
        let mut frame = Frame {
            code: code.clone(),
            fast: Vec::new(),
            cells,
            globals: f.globals.clone(),
            locals: Some(ns.clone()),
            line: f.line,
            func: None,
        };
        self.depth_enter()?;
        let r = self.exec_block(&mut frame, code.body());
        self.depth -= 1;
        if let Err(mut e) = r {
            if e.is_exception() {
                e.push_frame(code.program.entry(frame.line, &code.name));
            }
            return Err(e);
        }
        let class = Class::new(
            c.name.id.as_str(),
            &code.scope.qualname,
            &module,
            bases,
            ns.own.clone(),
        )?;
        for (_, v) in class.dict.items() {
            let func = match &v {
                Value::Function(func) => Some(func.clone()),
                Value::Instance(i) => match i.get_attr("__func__") {
                    Some(Value::Function(func)) => Some(func),
                    _ => None,
                },
                _ => None,
            };
            if let Some(func) = func {
                *func.owner.borrow_mut() = Some(Rc::downgrade(&class));
            }
        }
        let mut v = Value::Class(class);
        for dec in decorators.into_iter().rev() {
            v = self.call(&dec, vec![v], vec![])?;
        }
        Ok(v)
    }

    pub(super) fn depth_enter(&mut self) -> PyResult<()> {
        if self.depth >= ctx::caps().max_depth {
            return Err(PyErr::recursion());
        }
        self.depth += 1;
        Ok(())
    }
}

/// Globals, then builtins.
pub(super) fn lookup_global(globals: &Namespace, name: &str) -> PyResult<Value> {
    if let Some(v) = globals.get(name) {
        return Ok(v);
    }
    super::builtins::lookup(name).ok_or_else(|| PyErr::name_error(name))
}

fn module_name(globals: &Namespace) -> Rc<str> {
    match globals.get("__name__") {
        Some(Value::Str(s)) => Rc::from(s.as_str()),
        _ => Rc::from("__main__"),
    }
}

fn unbound_local(name: &str) -> PyErr {
    PyErr::new(
        &types::UNBOUND_LOCAL_ERROR,
        format!("cannot access local variable '{name}' where it is not associated with a value"),
    )
}

fn no_context(v: &Value) -> PyErr {
    PyErr::type_error(format!(
        "'{}' object does not support the context manager protocol",
        v.type_name()
    ))
}

fn same_error(a: &PyErr, b: &PyErr) -> bool {
    a.headline() == b.headline()
}

/// Whether an exception matches an `except` clause's class (or tuple of classes).
pub fn exception_matches(e: &PyErr, cls: &Value) -> PyResult<bool> {
    let Some(class) = e.class() else {
        return Ok(false);
    };
    Ok(match cls {
        Value::Type(t) => class.derives_from_builtin(t),
        Value::Class(c) => class.is_subclass(&ClassRef::User(c.clone())),
        Value::Tuple(items) => {
            for it in items.iter() {
                if exception_matches(e, it)? {
                    return Ok(true);
                }
            }
            false
        }
        _ => {
            return Err(PyErr::type_error(
                "catching classes that do not inherit from BaseException is not allowed",
            ));
        }
    })
}

pub(super) fn expr_kind(e: &Expr) -> &'static str {
    match e {
        Expr::Call(_) => "function call",
        Expr::Lambda(_) => "lambda",
        Expr::BinOp(_) | Expr::BoolOp(_) | Expr::UnaryOp(_) => "expression",
        Expr::Compare(_) => "comparison",
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::BooleanLiteral(_) | Expr::NoneLiteral(_) => "literal",
        Expr::FString(_) => "f-string expression",
        Expr::ListComp(_) => "list comprehension",
        Expr::Dict(_) => "dict literal",
        Expr::Set(_) => "set display",
        _ => "expression",
    }
}

impl PyErr {
    pub fn name_error_free(name: &str) -> PyErr {
        PyErr::new(
            &types::NAME_ERROR,
            format!("cannot access free variable '{name}' where it is not associated with a value in enclosing scope"),
        )
    }
}
