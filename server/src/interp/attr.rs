//! Attribute access for every kind of value: instances (their dict, then the class with
//! descriptors: methods bind, `staticmethod`, `classmethod`, `property`, then
//! `__getattr__`), classes, builtin types' methods, tensors, records, modules and host
//! objects — plus nnsight's `.save()`, which nnsight mounts on every object.

use std::rc::Rc;

use super::Interp;
use crate::value::object::{BoundMethod, Native};
use crate::value::types::{self, ClassRef};
use crate::value::{PyErr, PyResult, RecordKind, Value};

impl Interp<'_> {
    pub fn getattr(&mut self, obj: &Value, name: &str) -> PyResult<Value> {
        match self.getattr_opt(obj, name)? {
            Some(v) => Ok(v),
            None => {
                if name == "save" {
                    return Ok(Native::bound("save", obj.clone(), |_, n, args, kw| {
                        if !args.is_empty() || !kw.is_empty() {
                            return Err(PyErr::type_error("save() takes no arguments"));
                        }
                        let v = n.recv.clone().unwrap_or(Value::None);
                        super::saves::mark(&v)?;
                        Ok(v)
                    }));
                }
                Err(no_attr(obj, name))
            }
        }
    }

    /// `hasattr`-style lookup: `Ok(None)` when the attribute does not exist.
    pub fn getattr_opt(&mut self, obj: &Value, name: &str) -> PyResult<Option<Value>> {
        if name == "__class__" {
            return Ok(Some(class_value(&obj.class())));
        }
        match obj {
            Value::Instance(i) => {
                if name == "__dict__" {
                    return Ok(Some(Value::Dict(i.dict.clone())));
                }
                let class_attr = match &i.class {
                    ClassRef::User(c) => c.lookup(name),
                    ClassRef::Builtin(_) => None,
                };
                if let Some(ca) = &class_attr
                    && let Some(getter) = property_getter(ca)
                {
                    return self.call(&getter, vec![obj.clone()], vec![]).map(Some);
                }
                if let Some(v) = i.get_attr(name) {
                    return Ok(Some(v));
                }
                if let Some(ca) = class_attr {
                    return Ok(Some(bind_class_attr(ca, obj, &i.class)));
                }
                if i.is_exception() {
                    match name {
                        "args" => return Ok(Some(Value::tuple(i.args.borrow().clone()))),
                        "__traceback__" | "__cause__" | "__context__" => return Ok(Some(Value::None)),
                        _ => {}
                    }
                }
                if let ClassRef::User(c) = &i.class
                    && let Some(ga) = c.lookup("__getattr__")
                {
                    let bound = bind_class_attr(ga, obj, &i.class);
                    return match self.call(&bound, vec![Value::str(name)], vec![]) {
                        Ok(v) => Ok(Some(v)),
                        Err(e) if e.is_instance_of(&types::ATTRIBUTE_ERROR) => Ok(None),
                        Err(e) => Err(e),
                    };
                }
                Ok(None)
            }
            Value::Class(c) => {
                match name {
                    "__name__" => return Ok(Some(Value::str(&c.name))),
                    "__qualname__" => return Ok(Some(Value::str(&c.qualname))),
                    "__module__" => return Ok(Some(Value::str(&c.module))),
                    "__dict__" => return Ok(Some(Value::Dict(c.dict.clone()))),
                    "__bases__" => {
                        return Ok(Some(Value::tuple(c.bases.iter().map(class_value).collect())));
                    }
                    "__mro__" => {
                        let mut m: Vec<Value> = c.mro().into_iter().map(Value::Class).collect();
                        m.push(Value::Type(c.builtin_base()));
                        if !std::ptr::eq(c.builtin_base(), &types::OBJECT) {
                            m.push(Value::Type(&types::OBJECT));
                        }
                        return Ok(Some(Value::tuple(m)));
                    }
                    _ => {}
                }
                Ok(c.lookup(name).map(|v| match &v {
                    Value::Instance(d) if is_descr(d, &types::CLASSMETHOD) => {
                        bind_method(d.get_attr("__func__").unwrap_or(Value::None), obj.clone())
                    }
                    Value::Instance(d) if is_descr(d, &types::STATICMETHOD) => {
                        d.get_attr("__func__").unwrap_or(Value::None)
                    }
                    _ => v,
                }))
            }
            Value::Type(t) => Ok(match name {
                "__name__" | "__qualname__" => Some(Value::str(t.name)),
                "__module__" => Some(Value::str(t.module)),
                _ => super::methods::unbound(t, name),
            }),
            Value::Function(func) => Ok(match name {
                "__name__" => Some(Value::str(&func.name)),
                "__qualname__" => Some(Value::str(&func.qualname)),
                "__module__" => Some(Value::str(&func.module)),
                "__doc__" => Some(Value::None),
                "__defaults__" => Some(if func.defaults.borrow().is_empty() {
                    Value::None
                } else {
                    Value::tuple(func.defaults.borrow().clone())
                }),
                "__globals__" => Some(Value::Dict(func.globals.own.clone())),
                _ => func
                    .attrs
                    .borrow()
                    .iter()
                    .find(|(n, _)| n.as_ref() == name)
                    .map(|(_, v)| v.clone()),
            }),
            Value::Method(m) => Ok(match name {
                "__self__" => Some(m.receiver.clone()),
                "__func__" => Some(m.func.clone()),
                _ => return self.getattr_opt(&m.func.clone(), name),
            }),
            Value::Native(n) => Ok(match name {
                "__name__" | "__qualname__" => Some(Value::str(&n.name)),
                "__self__" => n.recv.clone(),
                _ => None,
            }),
            Value::Module(m) => {
                if name == "__name__" {
                    return Ok(Some(Value::str(&m.name)));
                }
                match m.get(name) {
                    Some(v) => Ok(Some(v)),
                    // A name the real module has is one localndif does not run yet; any
                    // other is Python's AttributeError.
                    None if m.lookup.is_some() && super::modules::real_name(&m.name, name) => Err(
                        PyErr::unsupported(format!("`{}.{name}`", m.name)),
                    ),
                    None => Ok(None),
                }
            }
            Value::Tensor(t) if t.is_numpy() => super::numpy::getattr(self, obj, name),
            Value::Tensor(_) => super::torch::tensor_getattr(self, obj, name),
            Value::Record(r) => {
                if let Some(v) = r.get(name) {
                    return Ok(Some(v));
                }
                Ok(super::methods::record_method(r.kind, obj, name))
            }
            Value::Host(h) => match h.clone().getattr(self, obj, name) {
                Ok(v) => Ok(Some(v)),
                Err(e) if e.is_instance_of(&types::ATTRIBUTE_ERROR) && name == "save" => Ok(None),
                Err(e) => Err(e),
            },
            Value::Slice(s) => Ok(match name {
                "start" => Some(s[0].clone()),
                "stop" => Some(s[1].clone()),
                "step" => Some(s[2].clone()),
                _ => super::methods::bound(obj, name),
            }),
            Value::Range(r) => Ok(match name {
                "start" => Some(Value::Int(r[0])),
                "stop" => Some(Value::Int(r[1])),
                "step" => Some(Value::Int(r[2])),
                _ => super::methods::bound(obj, name),
            }),
            Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => Ok(match name {
                "real" | "numerator" => Some(int_value(obj)),
                "imag" => Some(Value::Int(0)),
                "denominator" => Some(Value::Int(1)),
                _ => super::methods::bound(obj, name),
            }),
            Value::Float(x) => Ok(match name {
                "real" => Some(Value::Float(*x)),
                "imag" => Some(Value::Float(0.0)),
                _ => super::methods::bound(obj, name),
            }),
            Value::Dtype(k) => Ok(match name {
                "is_floating_point" => Some(Value::Bool(crate::value::dtype::is_float(*k))),
                "is_complex" => Some(Value::Bool(crate::value::dtype::is_complex(*k))),
                "is_signed" => Some(Value::Bool(!matches!(k, tch::Kind::Uint8 | tch::Kind::Bool))),
                "itemsize" => Some(Value::Int(k.elt_size_in_bytes() as i64)),
                _ => None,
            }),
            Value::Device(d) => Ok(match name {
                "type" => Some(Value::str(match d {
                    tch::Device::Cpu => "cpu",
                    tch::Device::Cuda(_) => "cuda",
                    tch::Device::Mps => "mps",
                    _ => "unknown",
                })),
                "index" => Some(match d {
                    tch::Device::Cuda(i) => Value::Int(*i as i64),
                    _ => Value::None,
                }),
                _ => None,
            }),
            Value::Iter(_) if name == "__next__" => Ok(Some(Native::bound("__next__", obj.clone(), |it, n, _, _| {
                let i = n.recv.clone().unwrap_or(Value::None);
                it.next(&i)?.ok_or_else(|| PyErr::new(&types::STOP_ITERATION, ""))
            }))),
            _ => Ok(super::methods::bound(obj, name)),
        }
    }

    pub fn setattr(&mut self, obj: &Value, name: &str, v: Value) -> PyResult<()> {
        match obj {
            Value::Instance(i) => {
                if let ClassRef::User(c) = &i.class {
                    if let Some(Value::Instance(d)) = c.lookup(name)
                        && is_descr(&d, &types::PROPERTY)
                    {
                        return match d.get_attr("fset") {
                            Some(setter) if !setter.is_none() => {
                                self.call(&setter, vec![obj.clone(), v], vec![]).map(drop)
                            }
                            _ => Err(PyErr::attribute_error(format!(
                                "property '{name}' of '{}' object has no setter",
                                c.name
                            ))),
                        };
                    }
                    if let Some(sa) = c.lookup("__setattr__") {
                        let bound = bind_class_attr(sa, obj, &i.class);
                        return self.call(&bound, vec![Value::str(name), v], vec![]).map(drop);
                    }
                }
                if name == "args" && i.is_exception() {
                    *i.args.borrow_mut() = self.collect(&v)?;
                    return Ok(());
                }
                i.set_attr(name, v)
            }
            Value::Class(c) => c.dict.insert(Value::str(name), v),
            Value::Function(f) => {
                let mut attrs = f.attrs.borrow_mut();
                match attrs.iter_mut().find(|(n, _)| n.as_ref() == name) {
                    Some(slot) => slot.1 = v,
                    None => attrs.push((Rc::from(name), v)),
                }
                Ok(())
            }
            Value::Record(r) => {
                r.set(name, v);
                Ok(())
            }
            Value::Tensor(t) if t.is_numpy() => Err(super::numpy::setattr(obj, name)),
            Value::Tensor(_) => super::torch::tensor_setattr(self, obj, name, v),
            Value::Host(h) => h.clone().setattr(self, obj, name, v),
            Value::Module(m) if m.lookup.is_none() => m.attrs.insert(Value::str(name), v),
            other => Err(if super::methods::bound(other, name).is_some() {
                PyErr::attribute_error(format!(
                    "'{}' object attribute '{name}' is read-only",
                    other.type_name()
                ))
            } else {
                PyErr::attribute_error(format!(
                    "'{}' object has no attribute '{name}'",
                    other.type_name()
                ))
            }),
        }
    }

    pub fn delattr(&mut self, obj: &Value, name: &str) -> PyResult<()> {
        match obj {
            Value::Instance(i) => {
                if i.dict.remove(&Value::str(name))?.is_none() {
                    return Err(no_attr(obj, name));
                }
                Ok(())
            }
            Value::Class(c) => {
                c.dict.remove(&Value::str(name))?;
                Ok(())
            }
            other => Err(no_attr(other, name)),
        }
    }

    pub fn hasattr(&mut self, obj: &Value, name: &str) -> PyResult<bool> {
        match self.getattr(obj, name) {
            Ok(_) => Ok(true),
            Err(e) if e.is_instance_of(&types::ATTRIBUTE_ERROR) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn int_value(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Int(i64::from(*b)),
        other => other.clone(),
    }
}

pub fn class_value(c: &ClassRef) -> Value {
    match c {
        ClassRef::Builtin(t) => Value::Type(t),
        ClassRef::User(c) => Value::Class(c.clone()),
    }
}

fn is_descr(d: &crate::value::Instance, t: &'static types::TypeObj) -> bool {
    matches!(&d.class, ClassRef::Builtin(b) if std::ptr::eq(*b, t))
}

pub fn property_getter(v: &Value) -> Option<Value> {
    match v {
        Value::Instance(d) if is_descr(d, &types::PROPERTY) => d.get_attr("fget"),
        _ => None,
    }
}

pub fn bind_method(func: Value, recv: Value) -> Value {
    Value::Method(Rc::new(BoundMethod { receiver: recv, func }))
}

/// A class attribute as seen through an instance (or a `super()` object).
pub fn bind_class_attr(v: Value, obj: &Value, class: &ClassRef) -> Value {
    match &v {
        Value::Function(_) => bind_method(v, obj.clone()),
        // A function shipped as bytecode (`interp::bytecode`), or one that cannot run.
        Value::Host(h) if h.type_name() == "function" => bind_method(v, obj.clone()),
        // Methods the server generated for a user class (dataclass `__init__`, ...).
        Value::Native(n) if n.recv.is_none() && matches!(n.aux, crate::value::object::Aux::Value(Value::Class(_))) => {
            bind_method(v, obj.clone())
        }
        Value::Instance(d) if is_descr(d, &types::STATICMETHOD) => {
            d.get_attr("__func__").unwrap_or(Value::None)
        }
        Value::Instance(d) if is_descr(d, &types::CLASSMETHOD) => {
            bind_method(d.get_attr("__func__").unwrap_or(Value::None), class_value(class))
        }
        _ => v,
    }
}

pub fn no_attr(obj: &Value, name: &str) -> PyErr {
    match obj {
        Value::Module(m) => PyErr::attribute_error(format!("module '{}' has no attribute '{name}'", m.name)),
        Value::Class(c) => PyErr::attribute_error(format!("type object '{}' has no attribute '{name}'", c.name)),
        Value::Type(t) => PyErr::attribute_error(format!("type object '{}' has no attribute '{name}'", t.name)),
        Value::Record(r) if r.kind == RecordKind::ModelOutput => {
            PyErr::attribute_error(format!("'{}' object has no attribute '{name}'", r.class))
        }
        other => PyErr::attribute_error(format!(
            "'{}' object has no attribute '{name}'",
            other.type_name()
        )),
    }
}
