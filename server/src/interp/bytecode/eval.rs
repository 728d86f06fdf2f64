//! The frame loop: runs one call of a [`BcFunction`] instruction by instruction, on the
//! interpreter's values and through the interpreter's own operations (operators,
//! attributes, calls, iteration, subscripts, formatting), so a helper computes what the
//! same code written in the `with` block computes. A call counts against the recursion
//! limit like the interpreter's calls, and every backward jump ticks the job's budget
//! (steps, deadline, cancellation) as every loop iteration of the interpreter does, so a
//! helper's endless loop ends with the job. Exceptions unwind through the code's
//! exception table; one leaving the frame names the helper's file and line.

use std::rc::Rc;

use ruff_python_ast::{CmpOp, UnaryOp};

use super::code::{CO_VARARGS, CO_VARKEYWORDS, CodeObject};
use super::function::{BcFunction, HostExit, as_cell, as_code, cell_value, defaults, kwdefaults, refused};
use super::opcodes::*;
use crate::interp::Interp;
use crate::interp::call::{self, Kwargs};
use crate::interp::eval::{exception_matches, lookup_global};
use crate::interp::iter::PyIter;
use crate::value::object::{Cell, Namespace};
use crate::value::types::{self, ClassRef};
use crate::value::{Dict, List, PyErr, PyResult, Set, TraceEntry, Value, ctx, stack};

/// Whether the evaluator runs `op` (what a code object's scan checks up front).
pub fn supported(op: u8) -> bool {
    matches!(
        op,
        CACHE | NOP | RESUME | EXTENDED_ARG | POP_TOP | PUSH_NULL | COPY | SWAP
            | LOAD_CONST | LOAD_FAST | STORE_FAST | DELETE_FAST
            | LOAD_GLOBAL | STORE_GLOBAL | DELETE_GLOBAL | LOAD_NAME | STORE_NAME | DELETE_NAME
            | LOAD_ATTR | STORE_ATTR | DELETE_ATTR | LOAD_METHOD
            | MAKE_CELL | COPY_FREE_VARS | LOAD_CLOSURE | LOAD_DEREF | LOAD_CLASSDEREF | STORE_DEREF | DELETE_DEREF
            | UNARY_POSITIVE | UNARY_NEGATIVE | UNARY_NOT | UNARY_INVERT | BINARY_OP
            | BINARY_SUBSCR | STORE_SUBSCR | DELETE_SUBSCR | BUILD_SLICE
            | COMPARE_OP | IS_OP | CONTAINS_OP
            | POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_FORWARD_IF_NONE | POP_JUMP_FORWARD_IF_NOT_NONE
            | POP_JUMP_BACKWARD_IF_FALSE | POP_JUMP_BACKWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NOT_NONE
            | JUMP_FORWARD | JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT | JUMP_IF_FALSE_OR_POP | JUMP_IF_TRUE_OR_POP
            | GET_ITER | FOR_ITER
            | BUILD_TUPLE | BUILD_LIST | BUILD_SET | BUILD_MAP | BUILD_CONST_KEY_MAP | BUILD_STRING
            | LIST_APPEND | SET_ADD | MAP_ADD | LIST_EXTEND | SET_UPDATE | LIST_TO_TUPLE | DICT_UPDATE | DICT_MERGE
            | UNPACK_SEQUENCE | UNPACK_EX
            | PRECALL | CALL | KW_NAMES | CALL_FUNCTION_EX | MAKE_FUNCTION | RETURN_VALUE
            | FORMAT_VALUE
            | RAISE_VARARGS | RERAISE | PUSH_EXC_INFO | POP_EXCEPT | CHECK_EXC_MATCH | LOAD_ASSERTION_ERROR
            | BEFORE_WITH | WITH_EXCEPT_START
            | IMPORT_NAME | IMPORT_FROM
    )
}

/// A value stack entry: 3.11 keeps `NULL`s (below a callable that is not a method call)
/// and the exception being handled (kept as the error it was, traceback included).
enum Slot {
    Null,
    Val(Value),
    Exc(PyErr),
}

/// Items a value stack may hold beyond the code's own `co_stacksize` before the code is
/// taken for malformed (a well-formed one never exceeds it).
const STACK_SLACK: usize = 64;

struct Frame<'a> {
    code: &'a CodeObject,
    func: &'a BcFunction,
    /// Fast locals (by localsplus index) and, where a variable is a cell, its cell.
    fast: Vec<Option<Value>>,
    cells: Vec<Option<Rc<Cell>>>,
    stack: Vec<Slot>,
    /// `KW_NAMES` for the next `CALL`.
    kwnames: Option<Rc<crate::value::drop::Items>>,
    /// The code unit of the running instruction's opcode (exception table lookups).
    instr: usize,
    /// The instruction tracebacks name (`RERAISE` points it back at the original one).
    lasti: usize,
    /// The error leaving `exec` is re-raised (`RERAISE`, bare `raise`): it already
    /// carries this frame's traceback entry.
    reraised: bool,
    /// A generator expression's items so far.
    yielded: Vec<Value>,
}

fn malformed(code: &CodeObject, what: &str) -> PyErr {
    PyErr::internal(format!("the bytecode of the helper `{}` is malformed: {what}", code.qualname))
}

impl Frame<'_> {
    fn push(&mut self, v: Value) {
        self.stack.push(Slot::Val(v));
    }

    fn pop_slot(&mut self) -> PyResult<Slot> {
        self.stack.pop().ok_or_else(|| malformed(self.code, "stack underflow"))
    }

    fn pop(&mut self) -> PyResult<Value> {
        match self.pop_slot()? {
            Slot::Val(v) => Ok(v),
            Slot::Exc(mut e) => Ok(e.value()),
            Slot::Null => Err(malformed(self.code, "NULL used as a value")),
        }
    }

    fn popn(&mut self, n: usize) -> PyResult<Vec<Value>> {
        if n > self.stack.len() {
            return Err(malformed(self.code, "stack underflow"));
        }
        let at = self.stack.len() - n;
        self.stack
            .split_off(at)
            .into_iter()
            .map(|s| match s {
                Slot::Val(v) => Ok(v),
                Slot::Exc(mut e) => Ok(e.value()),
                Slot::Null => Err(malformed(self.code, "NULL used as a value")),
            })
            .collect()
    }

    /// The `i`th item from the top (1: the top), as `PEEK(i)`.
    fn peek(&mut self, i: usize) -> PyResult<Value> {
        let n = self.stack.len();
        if i == 0 || i > n {
            return Err(malformed(self.code, "stack underflow"));
        }
        match &mut self.stack[n - i] {
            Slot::Val(v) => Ok(v.clone()),
            Slot::Exc(e) => Ok(e.value()),
            Slot::Null => Err(malformed(self.code, "NULL used as a value")),
        }
    }

    fn name(&self, i: u32) -> PyResult<Rc<str>> {
        self.code.names.get(i as usize).cloned().ok_or_else(|| malformed(self.code, "a name index out of range"))
    }

    fn local_name(&self, i: usize) -> Rc<str> {
        self.code.localsplus.get(i).cloned().unwrap_or_else(|| Rc::from("?"))
    }

    fn cell(&self, i: usize) -> PyResult<Rc<Cell>> {
        match self.cells.get(i) {
            Some(Some(c)) => Ok(c.clone()),
            _ => Err(malformed(self.code, "a variable used as a cell that is not one")),
        }
    }

    fn jump(&self, forward: bool, arg: u32) -> PyResult<usize> {
        let next = self.instr + 1;
        let target = if forward { next.checked_add(arg as usize) } else { next.checked_sub(arg as usize) };
        target.filter(|&t| t < self.code.units.len()).ok_or_else(|| malformed(self.code, "a jump out of the code"))
    }

    fn entry(&self) -> TraceEntry {
        TraceEntry { file: self.code.filename.clone(), line: self.code.line(self.lasti), func: self.code.name.clone(), text: None }
    }
}

fn unbound_local(name: &str) -> PyErr {
    PyErr::new(
        &types::UNBOUND_LOCAL_ERROR,
        format!("cannot access local variable '{name}' where it is not associated with a value"),
    )
}

/// The positional and keyword arguments of a call whose last `kwnames.len()` arguments
/// are keywords.
fn split_kwargs(mut args: Vec<Value>, kwnames: Option<&[Value]>) -> PyResult<(Vec<Value>, Kwargs)> {
    let Some(names) = kwnames.filter(|n| !n.is_empty()) else { return Ok((args, Vec::new())) };
    if names.len() > args.len() {
        return Err(PyErr::internal("KW_NAMES names more arguments than the call has"));
    }
    let values = args.split_off(args.len() - names.len());
    let kwargs = names
        .iter()
        .zip(values)
        .map(|(n, v)| match n {
            Value::Str(s) => Ok((Rc::from(s.as_str()), v)),
            _ => Err(PyErr::internal("KW_NAMES holds a name that is not a str")),
        })
        .collect::<PyResult<Kwargs>>()?;
    Ok((args, kwargs))
}

/// `f()` as CPython's messages name a callee.
fn func_str(it: &mut Interp, f: &Value) -> String {
    match it.getattr_opt(f, "__qualname__") {
        Ok(Some(Value::Str(s))) => format!("{}()", s.as_str()),
        _ => format!("{} object", f.type_name()),
    }
}

impl Interp<'_> {
    /// Calls a bytecode function: binds the arguments to its parameters as CPython does,
    /// then runs its frame.
    pub fn call_bytecode(&mut self, func: &BcFunction, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        let code = func.code.clone();
        if let Some(why) = &code.refusal {
            return Err(refused(why));
        }
        stack::guard()?;
        let n = code.localsplus.len();
        let mut frame = Frame {
            code: &code,
            func,
            fast: vec![None; n],
            cells: vec![None; n],
            stack: Vec::with_capacity(code.stacksize.min(256)),
            kwnames: None,
            instr: 0,
            lasti: 0,
            reraised: false,
            yielded: Vec::new(),
        };
        let qualname = func.qualname.borrow().clone();
        let (argc, kwonly) = (code.argcount, code.kwonlyargcount);
        let params = call::Params {
            qualname: &qualname,
            posonly: code.posonlyargcount,
            positional: code.varnames[..argc].iter().map(|s| &**s).collect(),
            kwonly: code.varnames[argc..argc + kwonly].iter().map(|s| &**s).collect(),
            varargs: code.flags & CO_VARARGS != 0,
            varkw: code.flags & CO_VARKEYWORDS != 0,
        };
        let bound = call::bind(&params, &func.defaults.borrow(), &func.kwdefaults.borrow(), args, kwargs)?;
        // `co_varnames` order: positional, keyword-only, `*args`, `**kwargs`.
        let values = bound.positional.into_iter().chain(bound.kwonly).chain(bound.varargs).chain(bound.varkw);
        for (slot, v) in frame.fast.iter_mut().zip(values) {
            *slot = Some(v);
        }
        self.depth_enter()?;
        let handling = self.handling.len();
        let r = self.run_frame(&mut frame);
        self.handling.truncate(handling);
        self.depth -= 1;
        r
    }

    /// Runs instructions, unwinding to the exception table's handler when one raises.
    fn run_frame(&mut self, f: &mut Frame<'_>) -> PyResult<Value> {
        let mut pc = 0;
        loop {
            let mut e = match self.exec(f, &mut pc) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if !e.is_exception() {
                return Err(e);
            }
            if !std::mem::take(&mut f.reraised) {
                e.push_frame(f.entry());
            }
            let Some(h) = f.code.handler(f.instr) else { return Err(e) };
            // A handler may jump back (a retry loop): it ticks as a backward jump does.
            ctx::tick()?;
            if f.stack.len() < h.depth {
                return Err(malformed(f.code, "an exception handler deeper than the stack"));
            }
            f.stack.truncate(h.depth);
            if h.lasti {
                f.push(Value::Int(f.lasti as i64));
            }
            f.stack.push(Slot::Exc(e));
            f.kwnames = None;
            pc = h.target;
        }
    }

    fn exec(&mut self, f: &mut Frame<'_>, pc: &mut usize) -> PyResult<Value> {
        let code = f.code;
        let mut ext: u32 = 0;
        loop {
            let Some(&(op, a)) = code.units.get(*pc) else {
                return Err(malformed(code, "it runs past its end"));
            };
            let arg = (ext << 8) | u32::from(a);
            if op == EXTENDED_ARG {
                ext = arg;
                *pc += 1;
                continue;
            }
            ext = 0;
            f.instr = *pc;
            f.lasti = *pc;
            *pc += 1 + caches(op);
            let i = arg as usize;
            match op {
                CACHE | NOP | RESUME | PRECALL => {}
                POP_TOP => {
                    f.pop_slot()?;
                }
                PUSH_NULL => f.stack.push(Slot::Null),
                COPY => {
                    let n = f.stack.len();
                    let s = match n.checked_sub(i).and_then(|k| f.stack.get_mut(k)) {
                        Some(Slot::Null) => Slot::Null,
                        Some(Slot::Val(v)) => Slot::Val(v.clone()),
                        Some(Slot::Exc(e)) => Slot::Exc(e.clone()),
                        None => return Err(malformed(code, "stack underflow")),
                    };
                    f.stack.push(s);
                }
                SWAP => {
                    let n = f.stack.len();
                    if i == 0 || i > n {
                        return Err(malformed(code, "stack underflow"));
                    }
                    f.stack.swap(n - 1, n - i);
                }
                LOAD_CONST => {
                    let v = code.consts.get(i).cloned().ok_or_else(|| malformed(code, "a constant index out of range"))?;
                    f.push(v);
                }
                LOAD_FAST => {
                    let v = f.fast.get(i).cloned().flatten().ok_or_else(|| unbound_local(&f.local_name(i)))?;
                    f.push(v);
                }
                STORE_FAST => {
                    let v = f.pop()?;
                    *f.fast.get_mut(i).ok_or_else(|| malformed(code, "a local index out of range"))? = Some(v);
                }
                DELETE_FAST => {
                    if f.fast.get_mut(i).and_then(Option::take).is_none() {
                        return Err(unbound_local(&f.local_name(i)));
                    }
                }
                LOAD_GLOBAL => {
                    let name = f.name(arg >> 1)?;
                    let v = lookup_global(&f.func.globals, &name)?;
                    if arg & 1 != 0 {
                        f.stack.push(Slot::Null);
                    }
                    f.push(v);
                }
                LOAD_NAME => {
                    let name = f.name(arg)?;
                    let v = lookup_global(&f.func.globals, &name)?;
                    f.push(v);
                }
                STORE_GLOBAL | STORE_NAME => {
                    let name = f.name(arg)?;
                    let v = f.pop()?;
                    f.func.globals.set(&name, v)?;
                }
                DELETE_GLOBAL | DELETE_NAME => {
                    let name = f.name(arg)?;
                    if !f.func.globals.delete(&name)? {
                        return Err(PyErr::name_error(&name));
                    }
                }
                LOAD_ATTR => {
                    let name = f.name(arg)?;
                    let obj = f.pop()?;
                    let v = self.getattr(&obj, &name)?;
                    f.push(v);
                }
                LOAD_METHOD => {
                    let name = f.name(arg)?;
                    let obj = f.pop()?;
                    let v = self.getattr(&obj, &name)?;
                    f.stack.push(Slot::Null);
                    f.push(v);
                }
                STORE_ATTR => {
                    let name = f.name(arg)?;
                    let obj = f.pop()?;
                    let v = f.pop()?;
                    self.setattr(&obj, &name, v)?;
                }
                DELETE_ATTR => {
                    let name = f.name(arg)?;
                    let obj = f.pop()?;
                    self.delattr(&obj, &name)?;
                }
                MAKE_CELL => {
                    let v = f.fast.get_mut(i).ok_or_else(|| malformed(code, "a cell index out of range"))?.take();
                    f.cells[i] = Some(Cell::new(v));
                }
                COPY_FREE_VARS => {
                    let first = code.first_free();
                    let closure = f.func.closure.borrow().clone();
                    for j in 0..i.min(code.freevars.len()) {
                        f.cells[first + j] = Some(closure.get(j).cloned().unwrap_or_else(|| Cell::new(None)));
                    }
                }
                LOAD_CLOSURE => {
                    let c = f.cell(i)?;
                    f.push(cell_value(c));
                }
                LOAD_DEREF | LOAD_CLASSDEREF => {
                    let v = f.cell(i)?.get().ok_or_else(|| {
                        let name = f.local_name(i);
                        if i >= code.first_free() { PyErr::name_error_free(&name) } else { unbound_local(&name) }
                    })?;
                    f.push(v);
                }
                STORE_DEREF => {
                    let v = f.pop()?;
                    f.cell(i)?.set(Some(v));
                }
                DELETE_DEREF => {
                    let c = f.cell(i)?;
                    if c.get().is_none() {
                        return Err(unbound_local(&f.local_name(i)));
                    }
                    c.set(None);
                }
                UNARY_POSITIVE | UNARY_NEGATIVE | UNARY_NOT | UNARY_INVERT => {
                    let v = f.pop()?;
                    let uop = match op {
                        UNARY_POSITIVE => UnaryOp::UAdd,
                        UNARY_NEGATIVE => UnaryOp::USub,
                        UNARY_NOT => UnaryOp::Not,
                        _ => UnaryOp::Invert,
                    };
                    let r = self.unary_op(uop, &v)?;
                    f.push(r);
                }
                BINARY_OP => {
                    let (sym, inplace) = binary_op(arg).ok_or_else(|| malformed(code, "an unknown BINARY_OP"))?;
                    let b = f.pop()?;
                    let a = f.pop()?;
                    let r = if inplace { self.inplace_op(sym, &a, &b)? } else { self.binary_op(sym, &a, &b)? };
                    f.push(r);
                }
                BINARY_SUBSCR => {
                    let key = f.pop()?;
                    let obj = f.pop()?;
                    let v = self.getitem(&obj, &key)?;
                    f.push(v);
                }
                STORE_SUBSCR => {
                    let key = f.pop()?;
                    let obj = f.pop()?;
                    let v = f.pop()?;
                    self.setitem(&obj, &key, v)?;
                }
                DELETE_SUBSCR => {
                    let key = f.pop()?;
                    let obj = f.pop()?;
                    self.delitem(&obj, &key)?;
                }
                BUILD_SLICE => {
                    let step = if arg == 3 { f.pop()? } else { Value::None };
                    let hi = f.pop()?;
                    let lo = f.pop()?;
                    f.push(Value::slice(lo, hi, step));
                }
                COMPARE_OP => {
                    let cop = match arg {
                        0 => CmpOp::Lt,
                        1 => CmpOp::LtE,
                        2 => CmpOp::Eq,
                        3 => CmpOp::NotEq,
                        4 => CmpOp::Gt,
                        5 => CmpOp::GtE,
                        _ => return Err(malformed(code, "an unknown COMPARE_OP")),
                    };
                    let b = f.pop()?;
                    let a = f.pop()?;
                    let r = self.compare_op(cop, &a, &b)?;
                    f.push(r);
                }
                IS_OP => {
                    let b = f.pop()?;
                    let a = f.pop()?;
                    f.push(Value::Bool(a.is(&b) != (arg != 0)));
                }
                CONTAINS_OP => {
                    let container = f.pop()?;
                    let item = f.pop()?;
                    let r = self.contains(&container, &item)?;
                    f.push(Value::Bool(r != (arg != 0)));
                }
                POP_JUMP_FORWARD_IF_FALSE | POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_FALSE | POP_JUMP_BACKWARD_IF_TRUE => {
                    let v = f.pop()?;
                    let want = matches!(op, POP_JUMP_FORWARD_IF_TRUE | POP_JUMP_BACKWARD_IF_TRUE);
                    if self.truthy(&v)? == want {
                        *pc = self.jump_to(f, op, arg)?;
                    }
                }
                POP_JUMP_FORWARD_IF_NONE | POP_JUMP_FORWARD_IF_NOT_NONE | POP_JUMP_BACKWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NOT_NONE => {
                    let v = f.pop()?;
                    let want = matches!(op, POP_JUMP_FORWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NONE);
                    if v.is_none() == want {
                        *pc = self.jump_to(f, op, arg)?;
                    }
                }
                JUMP_IF_FALSE_OR_POP | JUMP_IF_TRUE_OR_POP => {
                    let v = f.peek(1)?;
                    if self.truthy(&v)? == (op == JUMP_IF_TRUE_OR_POP) {
                        *pc = f.jump(true, arg)?;
                    } else {
                        f.pop_slot()?;
                    }
                }
                JUMP_FORWARD | JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT => *pc = self.jump_to(f, op, arg)?,
                GET_ITER => {
                    let v = f.pop()?;
                    let it = self.iter(&v)?;
                    f.push(it);
                }
                FOR_ITER => {
                    let it = f.peek(1)?;
                    match self.next(&it)? {
                        Some(v) => f.push(v),
                        None => {
                            f.pop_slot()?;
                            if let Value::Host(h) = &it {
                                h.clone().close(self);
                            }
                            *pc = f.jump(true, arg)?;
                        }
                    }
                }
                BUILD_TUPLE => {
                    let items = f.popn(i)?;
                    f.push(Value::tuple(items));
                }
                BUILD_LIST => {
                    let items = f.popn(i)?;
                    f.push(Value::List(List::checked(items)?));
                }
                BUILD_SET => {
                    let items = f.popn(i)?;
                    f.push(Value::Set(Set::new(items, false)?));
                }
                BUILD_MAP => {
                    let items = f.popn(i.saturating_mul(2))?;
                    let d = Dict::new();
                    let mut items = items.into_iter();
                    while let (Some(k), Some(v)) = (items.next(), items.next()) {
                        d.insert(k, v)?;
                    }
                    f.push(Value::Dict(d));
                }
                BUILD_CONST_KEY_MAP => {
                    let keys = f.pop()?;
                    let values = f.popn(i)?;
                    let Value::Tuple(keys) = keys else {
                        return Err(malformed(code, "BUILD_CONST_KEY_MAP without a tuple of keys"));
                    };
                    let d = Dict::new();
                    for (k, v) in keys.iter().zip(values) {
                        d.insert(k.clone(), v)?;
                    }
                    f.push(Value::Dict(d));
                }
                BUILD_STRING => {
                    let parts = f.popn(i)?;
                    let mut out = String::new();
                    for p in &parts {
                        out.push_str(p.as_str().ok_or_else(|| malformed(code, "BUILD_STRING of a value that is not a str"))?);
                    }
                    ctx::check_str_len(out.len())?;
                    f.push(Value::string(out));
                }
                LIST_APPEND | SET_ADD => {
                    let v = f.pop()?;
                    match f.peek(i)? {
                        Value::List(l) => l.push(v)?,
                        Value::Set(s) => s.add(v)?,
                        _ => return Err(malformed(code, "LIST_APPEND / SET_ADD to what is not a list or set")),
                    }
                }
                MAP_ADD => {
                    let v = f.pop()?;
                    let k = f.pop()?;
                    let Value::Dict(d) = f.peek(i)? else {
                        return Err(malformed(code, "MAP_ADD to what is not a dict"));
                    };
                    d.insert(k, v)?;
                }
                LIST_EXTEND | SET_UPDATE => {
                    let src = f.pop()?;
                    let items = self.collect(&src).map_err(|e| {
                        if e.is_instance_of(&types::TYPE_ERROR) && self.iter(&src).is_err() {
                            PyErr::type_error(format!("Value after * must be an iterable, not {}", src.type_name()))
                        } else {
                            e
                        }
                    })?;
                    match f.peek(i)? {
                        Value::List(l) => l.extend(items)?,
                        Value::Set(s) => {
                            for v in items {
                                s.add(v)?;
                            }
                        }
                        _ => return Err(malformed(code, "LIST_EXTEND / SET_UPDATE of what is not a list or set")),
                    }
                }
                LIST_TO_TUPLE => {
                    let Value::List(l) = f.pop()? else {
                        return Err(malformed(code, "LIST_TO_TUPLE of what is not a list"));
                    };
                    f.push(Value::tuple(l.snapshot()));
                }
                DICT_UPDATE | DICT_MERGE => {
                    let src = f.pop()?;
                    let Value::Dict(d) = f.peek(i)? else {
                        return Err(malformed(code, "DICT_UPDATE / DICT_MERGE of what is not a dict"));
                    };
                    let items = match self.mapping_items(&src) {
                        Ok(items) => items,
                        Err(e) if op == DICT_MERGE && e.is_instance_of(&types::TYPE_ERROR) => {
                            let callee = f.peek(i + 2)?;
                            return Err(PyErr::type_error(format!(
                                "{} argument after ** must be a mapping, not {}",
                                func_str(self, &callee),
                                src.type_name()
                            )));
                        }
                        Err(e) => return Err(e),
                    };
                    for (k, v) in items {
                        if op == DICT_MERGE && d.contains(&k)? {
                            let callee = f.peek(i + 2)?;
                            let key = self.str(&k)?;
                            return Err(PyErr::type_error(format!(
                                "{} got multiple values for keyword argument '{key}'",
                                func_str(self, &callee)
                            )));
                        }
                        d.insert(k, v)?;
                    }
                }
                UNPACK_SEQUENCE => {
                    let v = f.pop()?;
                    let items = self.unpack_items(&v)?;
                    if items.len() != i {
                        return Err(PyErr::value_error(if items.len() > i {
                            format!("too many values to unpack (expected {i})")
                        } else {
                            format!("not enough values to unpack (expected {i}, got {})", items.len())
                        }));
                    }
                    f.stack.extend(items.into_iter().rev().map(Slot::Val));
                }
                UNPACK_EX => {
                    let (before, after) = (i & 0xff, i >> 8);
                    let v = f.pop()?;
                    let mut items = self.unpack_items(&v)?;
                    if items.len() < before + after {
                        return Err(PyErr::value_error(format!(
                            "not enough values to unpack (expected at least {}, got {})",
                            before + after,
                            items.len()
                        )));
                    }
                    let tail = items.split_off(items.len() - after);
                    let middle = items.split_off(before);
                    f.stack.extend(tail.into_iter().rev().map(Slot::Val));
                    f.push(Value::list(middle));
                    f.stack.extend(items.into_iter().rev().map(Slot::Val));
                }
                KW_NAMES => {
                    let Some(Value::Tuple(names)) = code.consts.get(i) else {
                        return Err(malformed(code, "KW_NAMES of what is not a tuple"));
                    };
                    f.kwnames = Some(names.clone());
                }
                CALL => {
                    let kwnames = f.kwnames.take();
                    let args = f.popn(i)?;
                    let second = f.pop()?;
                    let (callee, args) = match f.pop_slot()? {
                        Slot::Null => (second, args),
                        Slot::Val(m) => (m, std::iter::once(second).chain(args).collect()),
                        Slot::Exc(mut e) => (e.value(), std::iter::once(second).chain(args).collect()),
                    };
                    let (args, kwargs) = split_kwargs(args, kwnames.as_deref().map(|n| &n[..]))?;
                    let callee = match self.bytecode_super(f, &callee, &args, &kwargs) {
                        Some(s) => s,
                        None => callee,
                    };
                    let r = self.call(&callee, args, kwargs)?;
                    f.push(r);
                }
                CALL_FUNCTION_EX => {
                    let kwargs = if arg & 1 != 0 { Some(f.pop()?) } else { None };
                    let callargs = f.pop()?;
                    let callee = f.pop()?;
                    f.pop_slot()?;
                    let args = match callargs {
                        Value::Tuple(t) => t.to_vec(),
                        other => self.collect(&other).map_err(|_| {
                            PyErr::type_error(format!("Value after * must be an iterable, not {}", other.type_name()))
                        })?,
                    };
                    let mut kw: Kwargs = Vec::new();
                    if let Some(k) = kwargs {
                        for (key, v) in self.mapping_items(&k)? {
                            let Value::Str(s) = &key else {
                                return Err(PyErr::type_error("keywords must be strings"));
                            };
                            kw.push((Rc::from(s.as_str()), v));
                        }
                    }
                    let r = self.call(&callee, args, kw)?;
                    f.push(r);
                }
                MAKE_FUNCTION => {
                    let c = f.pop()?;
                    let new_code = as_code(&c).ok_or_else(|| malformed(code, "MAKE_FUNCTION of what is not a code object"))?;
                    let closure = if arg & 0x08 != 0 {
                        match f.pop()? {
                            Value::Tuple(cells) => {
                                cells.iter().map(|c| as_cell(c).ok_or_else(|| malformed(code, "a closure of what is not a cell"))).collect::<PyResult<Vec<_>>>()?
                            }
                            _ => return Err(malformed(code, "a closure that is not a tuple")),
                        }
                    } else {
                        Vec::new()
                    };
                    if arg & 0x04 != 0 {
                        f.pop()?;
                    }
                    let kwd = if arg & 0x02 != 0 { kwdefaults(f.pop()?)? } else { Vec::new() };
                    let d = if arg & 0x01 != 0 { defaults(f.pop()?)? } else { Vec::new() };
                    let new = BcFunction::new(new_code, f.func.globals.clone(), closure);
                    *new.defaults.borrow_mut() = d;
                    *new.kwdefaults.borrow_mut() = kwd;
                    f.push(new.value());
                }
                RETURN_VALUE => {
                    let v = f.pop()?;
                    if code.genexpr {
                        return Ok(PyIter::items(std::mem::take(&mut f.yielded), "generator"));
                    }
                    return Ok(v);
                }
                RETURN_GENERATOR => f.push(Value::None),
                YIELD_VALUE => {
                    let v = f.pop()?;
                    f.yielded.push(v);
                    ctx::check_len(f.yielded.len(), "generator")?;
                    f.push(Value::None);
                }
                FORMAT_VALUE => {
                    let spec = if arg & 0x04 != 0 {
                        match f.pop()? {
                            Value::Str(s) => s.as_str().to_string(),
                            _ => return Err(malformed(code, "a format spec that is not a str")),
                        }
                    } else {
                        String::new()
                    };
                    let v = f.pop()?;
                    let converted = match arg & 0x03 {
                        1 => Value::string(self.str(&v)?),
                        2 => Value::string(self.repr(&v)?),
                        3 => Value::string(crate::interp::expr::ascii(&self.repr(&v)?)),
                        _ => v,
                    };
                    let text = match &converted {
                        Value::Str(s) if spec.is_empty() => s.as_str().to_string(),
                        other => self.format_value(other, &spec)?,
                    };
                    f.push(Value::string(text));
                }
                RAISE_VARARGS => {
                    return Err(match arg {
                        0 => {
                            f.reraised = true;
                            self.handling.last().cloned().unwrap_or_else(|| PyErr::runtime_error("No active exception to reraise"))
                        }
                        1 => {
                            let v = f.pop()?;
                            self.make_exception(v)?
                        }
                        _ => {
                            let cause = f.pop()?;
                            let v = f.pop()?;
                            let mut err = self.make_exception(v)?;
                            let cause = match cause {
                                Value::None => None,
                                other => Some(self.make_exception(other)?),
                            };
                            if let Value::Instance(inst) = &err.value() {
                                let cv = cause.clone().map_or(Value::None, |mut c| c.value());
                                inst.dict.insert(Value::str("__cause__"), cv)?;
                            }
                            err.set_cause(cause);
                            err
                        }
                    });
                }
                RERAISE => {
                    if i > 0
                        && let Value::Int(lasti) = f.peek(i + 1)?
                        && (0..code.units.len() as i64).contains(&lasti)
                    {
                        f.lasti = lasti as usize;
                    }
                    f.reraised = true;
                    return Err(match f.pop_slot()? {
                        Slot::Exc(e) => e,
                        Slot::Val(v) => self.make_exception(v)?,
                        Slot::Null => return Err(malformed(code, "RERAISE of NULL")),
                    });
                }
                PUSH_EXC_INFO => {
                    let mut e = match f.pop_slot()? {
                        Slot::Exc(e) => e,
                        Slot::Val(v) => PyErr::from_instance(v),
                        Slot::Null => return Err(malformed(code, "PUSH_EXC_INFO of NULL")),
                    };
                    // One exception object from here on, whoever reads it.
                    e.value();
                    let prev = match self.handling.last() {
                        Some(p) => Slot::Exc(p.clone()),
                        None => Slot::Val(Value::None),
                    };
                    f.stack.push(prev);
                    f.stack.push(Slot::Exc(e.clone()));
                    self.handling.push(e);
                }
                POP_EXCEPT => {
                    f.pop_slot()?;
                    self.handling.pop();
                }
                CHECK_EXC_MATCH => {
                    let cls = f.pop()?;
                    let matched = match f.stack.last() {
                        Some(Slot::Exc(e)) => exception_matches(e, &cls)?,
                        Some(Slot::Val(v)) => exception_matches(&PyErr::from_instance(v.clone()), &cls)?,
                        _ => return Err(malformed(code, "CHECK_EXC_MATCH without an exception")),
                    };
                    f.push(Value::Bool(matched));
                }
                LOAD_ASSERTION_ERROR => f.push(Value::Type(&types::ASSERTION_ERROR)),
                BEFORE_WITH => {
                    let mgr = f.pop()?;
                    let no_context = || PyErr::type_error(format!("'{}' object does not support the context manager protocol", mgr.type_name()));
                    match &mgr {
                        Value::Host(h) => {
                            let entered = h.clone().enter(self, &mgr)?;
                            let exit: Rc<dyn crate::interp::host::HostObj> = Rc::new(HostExit(mgr.clone()));
                            f.push(Value::Host(exit));
                            f.push(entered);
                        }
                        Value::Instance(_) => {
                            let enter = self.getattr_opt(&mgr, "__enter__")?.ok_or_else(no_context)?;
                            let exit = self.getattr_opt(&mgr, "__exit__")?.ok_or_else(no_context)?;
                            f.push(exit);
                            let entered = self.call(&enter, vec![], vec![])?;
                            f.push(entered);
                        }
                        _ => return Err(no_context()),
                    }
                }
                WITH_EXCEPT_START => {
                    let exit = f.peek(4)?;
                    let v = f.peek(1)?;
                    let cls = match v.class() {
                        ClassRef::Builtin(t) => Value::Type(t),
                        ClassRef::User(c) => Value::Class(c),
                    };
                    let r = self.call(&exit, vec![cls, v, Value::None], vec![])?;
                    f.push(r);
                }
                IMPORT_NAME => {
                    let name = f.name(arg)?;
                    let fromlist = f.pop()?;
                    let level = f.pop()?;
                    if level.as_int().is_some_and(|l| l != 0) {
                        return Err(PyErr::new(&types::IMPORT_ERROR, "attempted relative import with no known parent package"));
                    }
                    let module = crate::interp::modules::import(&name)?;
                    let top = name.split('.').next().unwrap_or(&name);
                    let v = if fromlist.is_none() && top != &*name { crate::interp::modules::import(top)? } else { module };
                    f.push(v);
                }
                IMPORT_FROM => {
                    let name = f.name(arg)?;
                    let module = f.peek(1)?;
                    let v = match self.getattr(&module, &name) {
                        Ok(v) => v,
                        Err(e) if !e.is_exception() => return Err(e),
                        Err(_) => {
                            let mname = match &module {
                                Value::Module(m) => m.name.to_string(),
                                other => other.type_name(),
                            };
                            crate::interp::modules::import(&format!("{mname}.{name}")).map_err(|_| {
                                PyErr::new(&types::IMPORT_ERROR, format!("cannot import name '{name}' from '{mname}'"))
                            })?
                        }
                    };
                    f.push(v);
                }
                _ => {
                    let opname = name(op).map_or_else(|| format!("opcode {op}"), str::to_string);
                    return Err(refused(&format!(
                        "the helper `{}` (shipped as CPython bytecode) uses {opname}, which this server does not run; define it inside the `with` block instead",
                        code.qualname
                    )));
                }
            }
        }
    }

    /// The target of a jump instruction; a backward jump (a loop's next iteration) ticks
    /// the job's budget as the interpreter's loops do.
    fn jump_to(&mut self, f: &Frame<'_>, op: u8, arg: u32) -> PyResult<usize> {
        let backward = matches!(
            op,
            JUMP_BACKWARD | JUMP_BACKWARD_NO_INTERRUPT | POP_JUMP_BACKWARD_IF_FALSE | POP_JUMP_BACKWARD_IF_TRUE
                | POP_JUMP_BACKWARD_IF_NONE | POP_JUMP_BACKWARD_IF_NOT_NONE
        );
        if backward {
            ctx::tick()?;
            if f.stack.len() > f.code.stacksize + STACK_SLACK {
                return Err(malformed(f.code, "its stack grows past its co_stacksize"));
            }
        }
        f.jump(!backward, arg)
    }

    /// A sequence's items for unpacking (CPython's message for what is not iterable).
    fn unpack_items(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        self.collect(v).map_err(|e| {
            if e.is_instance_of(&types::TYPE_ERROR) && self.iter(v).is_err() {
                PyErr::type_error(format!("cannot unpack non-iterable {} object", v.type_name()))
            } else {
                e
            }
        })
    }

    /// `super()` called without arguments in a method: bound to the class in the
    /// method's `__class__` cell and its first argument, as CPython's `super()` finds them.
    fn bytecode_super(&mut self, f: &Frame<'_>, callee: &Value, args: &[Value], kwargs: &Kwargs) -> Option<Value> {
        if !args.is_empty() || !kwargs.is_empty() || !matches!(callee, Value::Native(n) if n.name.as_ref() == "super") {
            return None;
        }
        let at = f.code.localsplus.iter().position(|n| n.as_ref() == "__class__")?;
        let Some(Value::Class(class)) = f.cells.get(at).cloned().flatten().and_then(|c| c.get()) else { return None };
        let first = match f.cells.first().cloned().flatten() {
            Some(c) => c.get(),
            None => f.fast.first().cloned().flatten(),
        }?;
        Some(call::super_value(class, first))
    }
}

/// The globals a function's `__globals__` update writes into.
pub fn update_globals(globals: &Namespace, items: &Dict) -> PyResult<()> {
    for (k, v) in items.items() {
        if let Some(k) = k.as_str() {
            globals.set(k, v)?;
        }
    }
    Ok(())
}
