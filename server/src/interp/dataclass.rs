//! `@dataclasses.dataclass` for classes user code defines (and classes the client ships,
//! whose generated methods arrive as bytecode we cannot run): `__init__`, `__repr__` and
//! `__eq__` generated from the class's annotated fields, with defaults and
//! `field(default=..., default_factory=...)`.

use std::rc::Rc;

use crate::value::object::{Aux, Instance, Native};
use crate::value::types::{self, ClassRef};
use crate::value::{PyErr, PyResult, Value};

use super::call::Kwargs;

/// The marker `field(...)` returns until the decorator reads it.
fn is_field(v: &Value) -> Option<Rc<Instance>> {
    match v {
        Value::Instance(i) if i.get_attr("__dataclass_field__").is_some() => Some(i.clone()),
        _ => None,
    }
}

pub fn field(kw: Kwargs) -> PyResult<Value> {
    let f = Instance::new(ClassRef::Builtin(&types::OBJECT));
    f.set_attr("__dataclass_field__", Value::Bool(true))?;
    for (k, v) in kw {
        match k.as_ref() {
            "default" | "default_factory" => f.set_attr(&k, v)?,
            "init" | "repr" | "compare" | "hash" | "metadata" | "kw_only" => {}
            other => return Err(PyErr::type_error(format!("field() got an unexpected keyword argument '{other}'"))),
        }
    }
    Ok(Value::Instance(f))
}

/// Field spec stored on the class: a list of (name, default | None, factory | None,
/// has_default).
pub fn apply(cls: Value) -> PyResult<Value> {
    let Value::Class(c) = &cls else {
        return Err(PyErr::type_error("dataclass() should be called on a class"));
    };
    let mut names: Vec<String> = Vec::new();
    // Inherited fields first (base dataclasses), then this class's annotations.
    for base in c.mro().iter().rev() {
        if let Ok(Some(Value::Dict(ann))) = base.dict.get(&Value::str("__annotations__")) {
            for k in ann.keys() {
                if let Some(s) = k.as_str()
                    && !names.iter().any(|n| n == s)
                {
                    names.push(s.to_string());
                }
            }
        }
    }
    let mut spec = Vec::new();
    let mut seen_default = false;
    for n in &names {
        let attr = c.lookup(n);
        let (default, factory, has) = match attr {
            Some(v) => match is_field(&v) {
                Some(f) => {
                    let d = f.get_attr("default");
                    let fac = f.get_attr("default_factory");
                    let has = d.is_some() || fac.is_some();
                    if let Some(d) = &d {
                        c.dict.insert(Value::str(n), d.clone())?;
                    } else {
                        c.dict.remove(&Value::str(n))?;
                    }
                    (d.unwrap_or(Value::None), fac.unwrap_or(Value::None), has)
                }
                None => (v, Value::None, true),
            },
            None => (Value::None, Value::None, false),
        };
        if seen_default && !has {
            return Err(PyErr::type_error(format!("non-default argument '{n}' follows default argument")));
        }
        seen_default |= has;
        spec.push(Value::tuple(vec![Value::str(n), default, factory, Value::Bool(has)]));
    }
    c.dict.insert(Value::str("__dataclass_spec__"), Value::list(spec))?;
    let aux = Aux::Value(cls.clone());
    c.dict.insert(Value::str("__init__"), Native::with_aux("__init__", None, init, aux.clone()))?;
    c.dict.insert(Value::str("__repr__"), Native::with_aux("__repr__", None, repr, aux.clone()))?;
    c.dict.insert(Value::str("__eq__"), Native::with_aux("__eq__", None, eq, aux))?;
    Ok(cls)
}

fn spec_of(n: &Native) -> PyResult<Vec<(String, Value, Value, bool)>> {
    let Aux::Value(Value::Class(c)) = &n.aux else {
        return Err(PyErr::internal("dataclass method without its class"));
    };
    let Some(Value::List(l)) = c.lookup("__dataclass_spec__") else {
        return Ok(Vec::new());
    };
    Ok(l.snapshot()
        .into_iter()
        .filter_map(|t| match t {
            Value::Tuple(t) => Some((
                t[0].as_str().unwrap_or("").to_string(),
                t[1].clone(),
                t[2].clone(),
                matches!(t[3], Value::Bool(true)),
            )),
            _ => None,
        })
        .collect())
}

fn init(it: &mut super::Interp, n: &Native, args: Vec<Value>, kw: Kwargs) -> PyResult<Value> {
    let spec = spec_of(n)?;
    let mut args = args.into_iter();
    let this = args.next().ok_or_else(|| PyErr::type_error("__init__() missing 'self'"))?;
    let rest: Vec<Value> = args.collect();
    if rest.len() > spec.len() {
        return Err(PyErr::type_error(format!(
            "__init__() takes {} positional arguments but {} were given",
            spec.len() + 1,
            rest.len() + 1
        )));
    }
    for (i, (name, default, factory, has)) in spec.iter().enumerate() {
        let v = if let Some(v) = rest.get(i) {
            if kw.iter().any(|(k, _)| k.as_ref() == name) {
                return Err(PyErr::type_error(format!("__init__() got multiple values for argument '{name}'")));
            }
            v.clone()
        } else if let Some((_, v)) = kw.iter().find(|(k, _)| k.as_ref() == name) {
            v.clone()
        } else if !factory.is_none() {
            it.call(factory, vec![], vec![])?
        } else if *has {
            default.clone()
        } else {
            return Err(PyErr::type_error(format!("__init__() missing 1 required positional argument: '{name}'")));
        };
        it.setattr(&this, name, v)?;
    }
    if let Some((k, _)) = kw.iter().find(|(k, _)| !spec.iter().any(|(n, ..)| n == k.as_ref())) {
        return Err(PyErr::type_error(format!("__init__() got an unexpected keyword argument '{k}'")));
    }
    if let Ok(Some(post)) = it.getattr_opt(&this, "__post_init__") {
        it.call(&post, vec![], vec![])?;
    }
    Ok(Value::None)
}

fn repr(it: &mut super::Interp, n: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let spec = spec_of(n)?;
    let this = args.into_iter().next().unwrap_or(Value::None);
    let mut parts = Vec::new();
    for (name, ..) in &spec {
        let v = it.getattr(&this, name)?;
        parts.push(format!("{name}={}", it.repr(&v)?));
    }
    let cname = match &this {
        Value::Instance(i) => match &i.class {
            ClassRef::User(c) => c.qualname.to_string(),
            ClassRef::Builtin(t) => t.name.to_string(),
        },
        other => other.type_name(),
    };
    Ok(Value::string(format!("{cname}({})", parts.join(", "))))
}

fn eq(it: &mut super::Interp, n: &Native, args: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let spec = spec_of(n)?;
    let (a, b) = (args.first().cloned().unwrap_or(Value::None), args.get(1).cloned().unwrap_or(Value::None));
    if !a.class().same(&b.class()) {
        return Ok(Value::NotImplemented);
    }
    for (name, ..) in &spec {
        let (x, y) = (it.getattr(&a, name)?, it.getattr(&b, name)?);
        if !it.eq(&x, &y)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}
