//! Hook values ↔ interpreter values. Tensors cross as shallow handles (shared storage), so
//! a worker's in-place edit is the model's edit; containers are rebuilt.

use std::sync::Arc;

use crate::interp::{Hook, PyErr, PyResult, RecordVal, Value, lock, repr};
use crate::model::{Act, Record};

/// What user code sees at a hook point: `.output` as is; `.inputs` as `(args, kwargs)`.
pub fn to_value(act: &Act) -> Value {
    match act {
        Act::None => Value::None,
        Act::Bool(b) => Value::Bool(*b),
        Act::Int(i) => Value::Int(*i),
        Act::Float(f) => Value::Float(*f),
        Act::Str(s) => Value::str(s),
        Act::Tensor(t) => Value::tensor(t.shallow_clone()),
        Act::Tuple(items) => Value::tuple(items.iter().map(to_value).collect()),
        Act::List(items) => Value::list(items.iter().map(to_value).collect()),
        Act::Dict(items) => Value::dict(
            items
                .iter()
                .map(|(k, v)| (Value::str(k), to_value(v)))
                .collect(),
        ),
        Act::Record(r) => Value::Record(Arc::new(RecordVal {
            module: r.module,
            class: r.class,
            fields: r.fields.iter().map(|(k, v)| (*k, to_value(v))).collect(),
        })),
        Act::Opaque(k) => Value::Opaque(k),
    }
}

/// A value user code swapped in, as the model will receive it.
pub fn value_to_act(v: Value, hook: Hook) -> PyResult<Act> {
    if hook == Hook::Input {
        let ok = matches!(&v, Value::Tuple(p) if p.len() == 2 && matches!(p[1], Value::Dict(_)));
        if !ok {
            return Err(PyErr::type_error(format!(
                "`.inputs` must be set to an (args, kwargs) pair, got {}",
                repr(&v)
            )));
        }
    }
    to_act(&v)
}

fn to_act(v: &Value) -> PyResult<Act> {
    Ok(match v {
        Value::None => Act::None,
        Value::Bool(b) => Act::Bool(*b),
        Value::Int(i) => Act::Int(*i),
        Value::Float(f) => Act::Float(*f),
        Value::Str(s) => Act::Str(s.to_string()),
        Value::Tensor(t) => Act::Tensor(t.0.shallow_clone()),
        Value::Tuple(items) => Act::Tuple(items.iter().map(to_act).collect::<PyResult<_>>()?),
        Value::List(items) => Act::List(lock(items).iter().map(to_act).collect::<PyResult<_>>()?),
        Value::Dict(items) => {
            let mut fields = Vec::new();
            for (k, v) in lock(items).iter() {
                let Value::Str(name) = k else {
                    return Err(PyErr::type_error("keyword argument names must be strings"));
                };
                fields.push((name.to_string(), to_act(v)?));
            }
            Act::Dict(fields)
        }
        Value::Record(r) => Act::Record(Record {
            module: r.module,
            class: r.class,
            fields: r
                .fields
                .iter()
                .map(|(k, v)| Ok((*k, to_act(v)?)))
                .collect::<PyResult<_>>()?,
        }),
        Value::Opaque(k) => Act::Opaque(k),
        other => {
            return Err(PyErr::type_error(format!(
                "a {} cannot be passed to the model",
                other.type_name()
            )));
        }
    })
}

/// A call's keyword arguments as one hook value (shown to user code as a dict).
pub fn kwargs_act(kwargs: Vec<(String, Act)>) -> Act {
    Act::Dict(kwargs)
}

pub fn act_kwargs(act: Act) -> Vec<(String, Act)> {
    match act {
        Act::Dict(items) => items,
        _ => Vec::new(),
    }
}
