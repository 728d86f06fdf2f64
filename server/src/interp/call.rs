//! Calls: user functions (frames, argument binding with CPython's messages), builtins,
//! bound methods, classes (`__init__`, exceptions' `args`), callable instances, host
//! objects, and `super()`.

use std::any::Any;
use std::rc::Rc;

use ruff_python_ast::Expr;

use super::Interp;
use super::eval::Flow;
use super::frame::Frame;
use super::host::HostObj;
use crate::value::object::{Cell, Instance};
use crate::value::types::{self, ClassRef};
use crate::value::{Class, Function, PyErr, PyResult, Value, ctx};

pub type Kwargs = Vec<(Rc<str>, Value)>;

impl Interp<'_> {
    /// `callee(*args, **kwargs)`.
    pub fn call(&mut self, callee: &Value, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        ctx::tick()?;
        match callee {
            Value::Function(func) => self.call_function(func, args, kwargs),
            Value::Native(n) => {
                let n = n.clone();
                (n.f)(self, &n, args, kwargs)
            }
            Value::Method(m) => {
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(m.receiver.clone());
                full.extend(args);
                self.call(&m.func.clone(), full, kwargs)
            }
            Value::Type(t) => super::builtins::construct(self, t, args, kwargs),
            Value::Class(c) => self.instantiate(c, args, kwargs),
            Value::Instance(_) => {
                let m = self.getattr(callee, "__call__").map_err(|_| not_callable(callee))?;
                self.call(&m, args, kwargs)
            }
            Value::Host(h) => h.clone().call(self, callee, args, kwargs),
            other => Err(not_callable(other)),
        }
    }

    pub fn call0(&mut self, callee: &Value) -> PyResult<Value> {
        self.call(callee, vec![], vec![])
    }

    pub fn call1(&mut self, callee: &Value, a: Value) -> PyResult<Value> {
        self.call(callee, vec![a], vec![])
    }

    /// Calls the method `name` of `obj`.
    pub fn call_method(&mut self, obj: &Value, name: &str, args: Vec<Value>) -> PyResult<Value> {
        let m = self.getattr(obj, name)?;
        self.call(&m, args, vec![])
    }

    pub fn call_function(&mut self, func: &Rc<Function>, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        let code = func.code.clone();
        let scope = code.scope.clone();
        let mut frame = Frame {
            fast: vec![None; scope.fast.len()],
            cells: (0..scope.n_own_cells)
                .map(|_| Cell::new(None))
                .chain(func.closure.iter().cloned())
                .collect(),
            globals: func.globals.clone(),
            locals: None,
            line: code.program.line_of(function_start(&code)),
            func: Some(func.clone()),
            code: code.clone(),
        };
        self.bind_args(func, &mut frame, args, kwargs)?;
        self.depth_enter()?;
        let r = match code.lambda() {
            Some(l) => {
                let body: &Expr = &l.body;
                self.eval(&mut frame, body).map(Flow::Return)
            }
            None => self.exec_block(&mut frame, code.body()),
        };
        self.depth -= 1;
        match r {
            Ok(Flow::Return(v)) => Ok(v),
            Ok(_) => Ok(Value::None),
            Err(mut e) => {
                if e.is_exception() {
                    e.push_frame(code.program.entry(frame.line, &code.name));
                }
                Err(e)
            }
        }
    }

    /// Binds call arguments to the function's parameters (CPython's rules and messages).
    fn bind_args(&mut self, func: &Function, frame: &mut Frame, args: Vec<Value>, kwargs: Kwargs) -> PyResult<()> {
        let empty = ruff_python_ast::Parameters::default();
        let params = func.code.parameters().unwrap_or(&empty);
        let ops = &func.code.scope.params;
        let spec = Params {
            qualname: &func.qualname,
            posonly: params.posonlyargs.len(),
            positional: params
                .posonlyargs
                .iter()
                .chain(params.args.iter())
                .map(|p| p.parameter.name.id.as_str())
                .collect(),
            kwonly: params.kwonlyargs.iter().map(|p| p.parameter.name.id.as_str()).collect(),
            varargs: params.vararg.is_some(),
            varkw: params.kwarg.is_some(),
        };
        let b = bind(&spec, &func.defaults.borrow(), &func.kwdefaults.borrow(), args, kwargs)?;
        // Parameter order in `ops`: positional, *args, keyword-only, **kwargs.
        let values = b.positional.into_iter().chain(b.varargs).chain(b.kwonly).chain(b.varkw);
        for (op, v) in ops.iter().zip(values) {
            match op {
                super::program::NameOp::Fast(i) => frame.fast[*i as usize] = Some(v),
                super::program::NameOp::Cell(i) => frame.cells[*i as usize].set(Some(v)),
                _ => {}
            }
        }
        Ok(())
    }

    /// `Class(*args)`: a new instance, initialized by `__init__`.
    fn instantiate(&mut self, c: &Rc<Class>, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        if c.builtin_base().is_subtype(&crate::value::types::ENVOY) {
            return Err(PyErr::unsupported(format!("building a model ('{}(...)') inside the traced code", c.name)));
        }
        let inst = Instance::new(ClassRef::User(c.clone()));
        let is_exc = inst.is_exception();
        if is_exc {
            *inst.args.borrow_mut() = args.clone();
        }
        let this = Value::Instance(inst);
        match c.lookup("__init__") {
            Some(init) => {
                let mut full = Vec::with_capacity(args.len() + 1);
                full.push(this.clone());
                full.extend(args);
                let r = self.call(&init, full, kwargs)?;
                if !r.is_none() {
                    return Err(PyErr::type_error(format!(
                        "__init__() should return None, not '{}'",
                        r.type_name()
                    )));
                }
            }
            None => {
                if !is_exc && (!args.is_empty() || !kwargs.is_empty()) {
                    return Err(PyErr::type_error(format!("{}() takes no arguments", c.name)));
                }
            }
        }
        Ok(this)
    }

    /// `super()` with no arguments: this function's class and first argument.
    pub(super) fn zero_arg_super(&mut self, f: &mut Frame) -> PyResult<Value> {
        let class = f
            .func
            .as_ref()
            .and_then(|func| func.owner.borrow().as_ref().and_then(|w| w.upgrade()))
            .ok_or_else(|| PyErr::runtime_error("super(): __class__ cell not found"))?;
        let first = match f.code.scope.params.first() {
            Some(super::program::NameOp::Fast(i)) => f.fast[*i as usize].clone(),
            Some(super::program::NameOp::Cell(i)) => f.cells[*i as usize].get(),
            _ => None,
        }
        .ok_or_else(|| PyErr::runtime_error("super(): no arguments"))?;
        Ok(super_value(class, first))
    }
}

pub fn super_value(class: Rc<Class>, obj: Value) -> Value {
    let s = SuperObj { class, obj };
    let sv: Rc<dyn HostObj> = Rc::new(SuperFactory(Rc::new(s)));
    Value::Host(sv)
}

/// The `super` builtin looked up in a method: calling it gives the super object.
struct SuperFactory(Rc<SuperObj>);

impl HostObj for SuperFactory {
    fn type_name(&self) -> &str {
        "builtin_function_or_method"
    }
    fn call(&self, _it: &mut Interp, _this: &Value, args: Vec<Value>, _kw: Kwargs) -> PyResult<Value> {
        if !args.is_empty() {
            return Err(PyErr::unsupported("super() with arguments"));
        }
        let s: Rc<dyn HostObj> = self.0.clone();
        Ok(Value::Host(s))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

pub struct SuperObj {
    class: Rc<Class>,
    obj: Value,
}

impl HostObj for SuperObj {
    fn type_name(&self) -> &str {
        "super"
    }
    fn repr(&self) -> String {
        format!("<super: <class '{}'>, <{} object>>", self.class.name, self.obj.type_name())
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        let owner = match &self.obj {
            Value::Instance(i) => i.class.clone(),
            Value::Class(c) => ClassRef::User(c.clone()),
            other => other.class(),
        };
        if let ClassRef::User(oc) = &owner
            && let Some(v) = oc.lookup_after(&self.class, name)
        {
            return Ok(super::attr::bind_class_attr(v, &self.obj, &owner));
        }
        // Past the user classes: the builtin base (`object.__init__`, `Exception.__init__`).
        if name == "__init__" {
            return Ok(crate::value::Native::with_aux(
                "__init__",
                Some(self.obj.clone()),
                |_, n, args, _| {
                    if let Some(Value::Instance(i)) = &n.recv
                        && i.is_exception()
                    {
                        *i.args.borrow_mut() = args;
                    }
                    Ok(Value::None)
                },
                crate::value::object::Aux::None,
            ));
        }
        Err(PyErr::attribute_error(format!("'super' object has no attribute '{name}'")))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn function_start(code: &super::code::Code) -> usize {
    use ruff_text_size::Ranged;
    if let Some(f) = code.function() {
        return f.start().to_usize();
    }
    if let Some(l) = code.lambda() {
        return l.start().to_usize();
    }
    0
}

/// A function's parameters by name, for [`bind`].
pub struct Params<'a> {
    pub qualname: &'a str,
    /// How many of `positional` are positional-only.
    pub posonly: usize,
    pub positional: Vec<&'a str>,
    pub kwonly: Vec<&'a str>,
    /// `*args` / `**kwargs`.
    pub varargs: bool,
    pub varkw: bool,
}

/// A call's arguments bound to [`Params`]: a value for every positional and keyword-only
/// parameter, the `*args` tuple and the `**kwargs` dict where the function has them.
pub struct Bound {
    pub positional: Vec<Value>,
    pub varargs: Option<Value>,
    pub kwonly: Vec<Value>,
    pub varkw: Option<Value>,
}

/// Binds call arguments to parameters with CPython's rules and messages: `defaults` fill
/// the last positional parameters, `kwdefaults` the keyword-only ones by name.
pub fn bind(p: &Params<'_>, defaults: &[Value], kwdefaults: &[(Rc<str>, Value)], args: Vec<Value>, kwargs: Kwargs) -> PyResult<Bound> {
    let qual = p.qualname;
    let posonly = &p.positional[..p.posonly.min(p.positional.len())];
    let positional = &p.positional;
    let kwonly = &p.kwonly;
    let npos = positional.len();
    let mut slots: Vec<Option<Value>> = vec![None; npos + kwonly.len()];
    let nargs = args.len();
    let mut extra = Vec::new();
    for (i, a) in args.into_iter().enumerate() {
        if i < npos {
            slots[i] = Some(a);
        } else {
            extra.push(a);
        }
    }
    if !extra.is_empty() && !p.varargs {
        let ndefaults = defaults.len().min(npos);
        let takes = if ndefaults > 0 {
            format!("from {} to {} positional arguments", npos - ndefaults, npos)
        } else {
            format!("{npos} positional argument{}", if npos == 1 { "" } else { "s" })
        };
        let nkw = kwargs.iter().filter(|(k, _)| kwonly.contains(&k.as_ref())).count();
        let given = if nkw > 0 {
            format!(
                "{nargs} positional argument{} (and {nkw} keyword-only argument{}) were given",
                if nargs == 1 { "" } else { "s" },
                if nkw == 1 { "" } else { "s" }
            )
        } else {
            format!("{nargs} {}", if nargs == 1 { "was given" } else { "were given" })
        };
        return Err(PyErr::type_error(format!("{qual}() takes {takes} but {given}")));
    }
    let kwarg_dict = crate::value::Dict::new();
    let mut posonly_as_kw = Vec::new();
    for (k, v) in kwargs {
        let name = k.as_ref();
        if let Some(i) = positional.iter().position(|p| *p == name).filter(|&i| i >= posonly.len()) {
            if slots[i].is_some() {
                return Err(PyErr::type_error(format!(
                    "{qual}() got multiple values for argument '{name}'"
                )));
            }
            slots[i] = Some(v);
        } else if let Some(i) = kwonly.iter().position(|p| *p == name) {
            slots[npos + i] = Some(v);
        } else if p.varkw {
            kwarg_dict.insert(Value::str(name), v)?;
        } else if posonly.contains(&name) {
            posonly_as_kw.push(name.to_string());
        } else {
            return Err(PyErr::type_error(format!(
                "{qual}() got an unexpected keyword argument '{name}'"
            )));
        }
    }
    if !posonly_as_kw.is_empty() {
        return Err(PyErr::type_error(format!(
            "{qual}() got some positional-only arguments passed as keyword arguments: '{}'",
            posonly_as_kw.join(", ")
        )));
    }
    // Defaults fill the last positional parameters.
    let defaults = &defaults[defaults.len().saturating_sub(npos)..];
    let first_default = npos - defaults.len();
    for (i, d) in defaults.iter().enumerate() {
        if slots[first_default + i].is_none() {
            slots[first_default + i] = Some(d.clone());
        }
    }
    for (i, name) in kwonly.iter().enumerate() {
        if slots[npos + i].is_none()
            && let Some((_, d)) = kwdefaults.iter().find(|(n, _)| n.as_ref() == *name)
        {
            slots[npos + i] = Some(d.clone());
        }
    }
    let missing_pos: Vec<&str> = (0..npos).filter(|&i| slots[i].is_none()).map(|i| positional[i]).collect();
    if !missing_pos.is_empty() {
        return Err(PyErr::type_error(format!(
            "{qual}() missing {} required positional argument{}: {}",
            missing_pos.len(),
            if missing_pos.len() == 1 { "" } else { "s" },
            name_list(&missing_pos)
        )));
    }
    let missing_kw: Vec<&str> = (0..kwonly.len())
        .filter(|&i| slots[npos + i].is_none())
        .map(|i| kwonly[i])
        .collect();
    if !missing_kw.is_empty() {
        return Err(PyErr::type_error(format!(
            "{qual}() missing {} required keyword-only argument{}: {}",
            missing_kw.len(),
            if missing_kw.len() == 1 { "" } else { "s" },
            name_list(&missing_kw)
        )));
    }
    let mut values = slots.into_iter().map(|s| s.unwrap_or(Value::None));
    let positional: Vec<Value> = values.by_ref().take(npos).collect();
    let kwonly: Vec<Value> = values.collect();
    Ok(Bound {
        positional,
        varargs: p.varargs.then(|| Value::tuple(extra)),
        kwonly,
        varkw: p.varkw.then(|| Value::Dict(kwarg_dict)),
    })
}

fn name_list(names: &[&str]) -> String {
    match names {
        [one] => format!("'{one}'"),
        [a, b] => format!("'{a}' and '{b}'"),
        many => {
            let (last, rest) = many.split_last().unwrap_or((&"", &[]));
            let rest: Vec<String> = rest.iter().map(|n| format!("'{n}'")).collect();
            format!("{}, and '{last}'", rest.join(", "))
        }
    }
}

pub fn not_callable(v: &Value) -> PyErr {
    PyErr::type_error(format!("'{}' object is not callable", v.type_name()))
}

#[allow(dead_code)]
fn is_exception_class(c: &ClassRef) -> bool {
    c.derives_from_builtin(&types::BASE_EXCEPTION)
}

/// Binds a native function's arguments to its parameter `names` (positionally, then by
/// keyword), with Python's errors for too many, unknown and repeated arguments.
pub fn bind_named(func: &str, names: &[&str], args: Vec<Value>, kwargs: Kwargs) -> PyResult<Vec<Option<Value>>> {
    if args.len() > names.len() {
        return Err(PyErr::type_error(format!("{func}() takes at most {} arguments ({} given)", names.len(), args.len())));
    }
    let mut vals: Vec<Option<Value>> = vec![None; names.len()];
    for (i, a) in args.into_iter().enumerate() {
        vals[i] = Some(a);
    }
    for (k, v) in kwargs {
        let i = names
            .iter()
            .position(|n| *n == k.as_ref())
            .ok_or_else(|| PyErr::type_error(format!("{func}() got an unexpected keyword argument '{k}'")))?;
        if vals[i].is_some() {
            return Err(PyErr::type_error(format!("{func}() got multiple values for argument '{k}'")));
        }
        vals[i] = Some(v);
    }
    Ok(vals)
}
