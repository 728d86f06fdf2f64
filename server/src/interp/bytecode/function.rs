//! The values bytecode lives in: a function whose code is a CPython code object
//! ([`BcFunction`], what `type()` calls `function`), the code object itself as a constant
//! (`MAKE_FUNCTION` reads it) and closure cells (`LOAD_CLOSURE` pushes them, a closure
//! tuple holds them).

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use super::code::CodeObject;
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::host::HostObj;
use crate::value::heap::{self, Clear};
use crate::value::object::{Cell, Namespace};
use crate::value::{PyErr, PyResult, Value, types};

/// A function whose body is CPython bytecode: shipped by cloudpickle, or made by
/// `MAKE_FUNCTION` inside one.
pub struct BcFunction {
    pub code: Rc<CodeObject>,
    pub globals: Rc<Namespace>,
    pub name: RefCell<Rc<str>>,
    pub qualname: RefCell<Rc<str>>,
    pub module: RefCell<Rc<str>>,
    /// `__defaults__`, `__kwdefaults__`.
    pub defaults: RefCell<Vec<Value>>,
    pub kwdefaults: RefCell<Vec<(Rc<str>, Value)>>,
    /// One cell per free variable of the code (`co_freevars`), in order.
    pub closure: RefCell<Vec<Rc<Cell>>>,
    /// `__dict__`.
    pub attrs: RefCell<Vec<(Rc<str>, Value)>>,
}

impl BcFunction {
    pub fn new(code: Rc<CodeObject>, globals: Rc<Namespace>, closure: Vec<Rc<Cell>>) -> Rc<BcFunction> {
        let module: Rc<str> = match globals.get("__name__") {
            Some(Value::Str(s)) => Rc::from(s.as_str()),
            _ => Rc::from("__main__"),
        };
        let f = Rc::new(BcFunction {
            name: RefCell::new(code.name.clone()),
            qualname: RefCell::new(code.qualname.clone()),
            module: RefCell::new(module),
            code,
            globals,
            defaults: RefCell::default(),
            kwdefaults: RefCell::default(),
            closure: RefCell::new(closure),
            attrs: RefCell::default(),
        });
        heap::track(&f);
        f
    }

    pub fn value(self: Rc<Self>) -> Value {
        let h: Rc<dyn HostObj> = self;
        Value::Host(h)
    }

    fn attr(&self, name: &str) -> Option<Value> {
        self.attrs.borrow().iter().find(|(k, _)| k.as_ref() == name).map(|(_, v)| v.clone())
    }
}

impl Clear for BcFunction {
    fn clear_refs(&self) {
        let d = std::mem::take(&mut *self.defaults.borrow_mut());
        let k = std::mem::take(&mut *self.kwdefaults.borrow_mut());
        let a = std::mem::take(&mut *self.attrs.borrow_mut());
        self.closure.borrow_mut().clear();
        crate::value::drop::release(d.into_iter().chain(k.into_iter().map(|(_, v)| v)).chain(a.into_iter().map(|(_, v)| v)));
    }
}

impl HostObj for BcFunction {
    fn type_name(&self) -> &str {
        "function"
    }

    fn repr(&self) -> String {
        format!("<function {} at {:#x}>", self.qualname.borrow(), self as *const Self as usize)
    }

    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        Ok(match name {
            "__name__" => Value::str(&self.name.borrow()),
            "__qualname__" => Value::str(&self.qualname.borrow()),
            "__module__" => Value::str(&self.module.borrow()),
            "__defaults__" => {
                let d = self.defaults.borrow();
                if d.is_empty() { Value::None } else { Value::tuple(d.clone()) }
            }
            "__kwdefaults__" => {
                let k = self.kwdefaults.borrow();
                if k.is_empty() {
                    Value::None
                } else {
                    Value::dict(k.iter().map(|(n, v)| (Value::str(n), v.clone())).collect())?
                }
            }
            "__code__" => code_value(self.code.clone()),
            "__globals__" => Value::Dict(self.globals.own.clone()),
            "__closure__" => {
                let c = self.closure.borrow();
                if c.is_empty() { Value::None } else { Value::tuple(c.iter().cloned().map(cell_value).collect()) }
            }
            "__dict__" => Value::dict(self.attrs.borrow().iter().map(|(k, v)| (Value::str(k), v.clone())).collect())?,
            _ => match self.attr(name) {
                Some(v) => v,
                None if name == "__doc__" => Value::None,
                None => return Err(PyErr::attribute_error(format!("'function' object has no attribute '{name}'"))),
            },
        })
    }

    fn setattr(&self, _it: &mut Interp, _this: &Value, name: &str, v: Value) -> PyResult<()> {
        let text = |v: &Value| match v {
            Value::Str(s) => Ok(Rc::from(s.as_str())),
            other => Err(PyErr::type_error(format!("{name} must be set to a string object, not '{}'", other.type_name()))),
        };
        match name {
            "__name__" => *self.name.borrow_mut() = text(&v)?,
            "__qualname__" => *self.qualname.borrow_mut() = text(&v)?,
            "__module__" => *self.module.borrow_mut() = text(&v)?,
            "__defaults__" => *self.defaults.borrow_mut() = defaults(v)?,
            "__kwdefaults__" => *self.kwdefaults.borrow_mut() = kwdefaults(v)?,
            "__code__" | "__globals__" | "__closure__" => {
                return Err(PyErr::attribute_error(format!("localndif does not let '{name}' of a function be set")));
            }
            _ => {
                let mut attrs = self.attrs.borrow_mut();
                match attrs.iter_mut().find(|(k, _)| k.as_ref() == name) {
                    Some(slot) => slot.1 = v,
                    None => attrs.push((Rc::from(name), v)),
                }
            }
        }
        Ok(())
    }

    fn call(&self, it: &mut Interp, _this: &Value, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        it.call_bytecode(self, args, kwargs)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `__defaults__` as set: a tuple or None.
pub fn defaults(v: Value) -> PyResult<Vec<Value>> {
    match v {
        Value::None => Ok(Vec::new()),
        Value::Tuple(t) => Ok(t.to_vec()),
        other => Err(PyErr::type_error(format!("__defaults__ must be set to a tuple object, not '{}'", other.type_name()))),
    }
}

/// `__kwdefaults__` as set: a dict of str keys, or None.
pub fn kwdefaults(v: Value) -> PyResult<Vec<(Rc<str>, Value)>> {
    match v {
        Value::None => Ok(Vec::new()),
        Value::Dict(d) => Ok(d.items().into_iter().filter_map(|(k, v)| k.as_str().map(|k| (Rc::from(k), v))).collect()),
        other => Err(PyErr::type_error(format!("__kwdefaults__ must be set to a dict object, not '{}'", other.type_name()))),
    }
}

/// A code object as a value (a constant of the code that makes the function).
pub struct CodeValue(pub Rc<CodeObject>);

pub fn code_value(code: Rc<CodeObject>) -> Value {
    let h: Rc<dyn HostObj> = Rc::new(CodeValue(code));
    Value::Host(h)
}

/// The code object a value holds, if it is one.
pub fn as_code(v: &Value) -> Option<Rc<CodeObject>> {
    match v {
        Value::Host(h) => h.as_any().downcast_ref::<CodeValue>().map(|c| c.0.clone()),
        _ => None,
    }
}

impl HostObj for CodeValue {
    fn type_name(&self) -> &str {
        "code"
    }
    fn repr(&self) -> String {
        let c = &self.0;
        format!("<code object {} at {:#x}, file \"{}\", line {}>", c.name, Rc::as_ptr(c) as usize, c.filename, c.firstlineno)
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        let c = &self.0;
        let names = |v: &[Rc<str>]| Value::tuple(v.iter().map(|n| Value::str(n)).collect());
        Ok(match name {
            "co_name" => Value::str(&c.name),
            "co_qualname" => Value::str(&c.qualname),
            "co_filename" => Value::str(&c.filename),
            "co_firstlineno" => Value::Int(i64::from(c.firstlineno)),
            "co_argcount" => Value::Int(c.argcount as i64),
            "co_posonlyargcount" => Value::Int(c.posonlyargcount as i64),
            "co_kwonlyargcount" => Value::Int(c.kwonlyargcount as i64),
            "co_flags" => Value::Int(i64::from(c.flags)),
            "co_varnames" => names(&c.varnames),
            "co_names" => names(&c.names),
            "co_freevars" => names(&c.freevars),
            "co_cellvars" => names(&c.cellvars),
            "co_consts" => Value::tuple(c.consts.clone()),
            _ => return Err(PyErr::attribute_error(format!("'code' object has no attribute '{name}'"))),
        })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A closure cell as a value (cloudpickle's `_make_cell`, `LOAD_CLOSURE`).
pub struct CellValue(pub Rc<Cell>);

pub fn cell_value(cell: Rc<Cell>) -> Value {
    let h: Rc<dyn HostObj> = Rc::new(CellValue(cell));
    Value::Host(h)
}

/// The cell a value holds, if it is one.
pub fn as_cell(v: &Value) -> Option<Rc<Cell>> {
    match v {
        Value::Host(h) => h.as_any().downcast_ref::<CellValue>().map(|c| c.0.clone()),
        _ => None,
    }
}

impl HostObj for CellValue {
    fn type_name(&self) -> &str {
        "cell"
    }
    fn repr(&self) -> String {
        match self.0.get() {
            Some(v) => format!("<cell at {:#x}: {} object>", Rc::as_ptr(&self.0) as usize, v.type_name()),
            None => format!("<cell at {:#x}: empty>", Rc::as_ptr(&self.0) as usize),
        }
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        match name {
            "cell_contents" => self.0.get().ok_or_else(|| PyErr::value_error("Cell is empty")),
            _ => Err(PyErr::attribute_error(format!("'cell' object has no attribute '{name}'"))),
        }
    }
    fn setattr(&self, _it: &mut Interp, _this: &Value, name: &str, v: Value) -> PyResult<()> {
        match name {
            "cell_contents" => {
                self.0.set(Some(v));
                Ok(())
            }
            _ => Err(PyErr::attribute_error(format!("'cell' object has no attribute '{name}'"))),
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The `__exit__` of a host object's `with` block (`BEFORE_WITH` pushes it; the block's
/// end calls it with `(None, None, None)` or the exception's type, value and traceback).
pub struct HostExit(pub Value);

impl HostObj for HostExit {
    fn type_name(&self) -> &str {
        "builtin_function_or_method"
    }
    fn call(&self, it: &mut Interp, _this: &Value, args: Vec<Value>, _kwargs: Kwargs) -> PyResult<Value> {
        let Value::Host(h) = &self.0 else {
            return Err(PyErr::internal("a host context manager that is not a host object"));
        };
        let err = match args.get(1) {
            None | Some(Value::None) => None,
            Some(v) => Some(PyErr::from_instance(v.clone())),
        };
        Ok(Value::Bool(h.clone().exit(it, &self.0, err.as_ref())?))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `NotImplementedError` for code this server does not run.
pub fn refused(why: &str) -> PyErr {
    PyErr::new(&types::NOT_IMPLEMENTED_ERROR, why)
}
