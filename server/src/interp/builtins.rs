//! Python builtins (`len`, `range`, `list`, ...) and `torch.*` functions. No file, network,
//! import or reflection builtins exist here (design.md §5 "Safety"). `print` and
//! `nnsight.save` touch interpreter state and live in the evaluator.

use tch::{Kind, Tensor};

use super::error::{PyErr, PyResult};
use super::sig::{Default as D, Sig, bind, int_arg, opt, req, shape_arg};
use super::tensor;
use super::value::{Value, lock, repr, to_str};

/// Names bound in every scope before user code runs.
pub const BUILTINS: &[&str] = &[
    "print",
    "len",
    "range",
    "list",
    "tuple",
    "dict",
    "int",
    "float",
    "str",
    "bool",
    "abs",
    "min",
    "max",
    "sum",
    "enumerate",
    "zip",
    "isinstance",
];

/// Largest sequence `range`/`list` may materialise (the element cap of design.md §10).
const MAX_ITEMS: i64 = 10_000_000;

pub fn call(name: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> PyResult<Value> {
    if let Some(op) = name.strip_prefix("torch.") {
        return torch_fn(op, args, kwargs);
    }
    if !kwargs.is_empty() {
        return Err(PyErr::type_error(format!(
            "{name}() takes no keyword arguments"
        )));
    }
    let one = |args: &[Value]| -> PyResult<Value> {
        match args {
            [v] => Ok(v.clone()),
            _ => Err(PyErr::type_error(format!(
                "{name}() takes exactly one argument ({} given)",
                args.len()
            ))),
        }
    };
    match name {
        "len" => len(&one(&args)?),
        "range" => range(&args),
        "list" => Ok(Value::list(if args.is_empty() {
            vec![]
        } else {
            iterate(&one(&args)?)?
        })),
        "tuple" => Ok(Value::tuple(if args.is_empty() {
            vec![]
        } else {
            iterate(&one(&args)?)?
        })),
        "dict" if args.is_empty() => Ok(Value::dict(vec![])),
        "str" => Ok(Value::str(&to_str(&one(&args)?))),
        "bool" => Ok(Value::Bool(one(&args)?.truthy()?)),
        "int" => to_int(&one(&args)?),
        "float" => to_float(&one(&args)?),
        "abs" => match one(&args)? {
            Value::Int(i) => Ok(Value::Int(i.abs())),
            Value::Float(f) => Ok(Value::Float(f.abs())),
            Value::Tensor(t) => Ok(Value::tensor(t.0.f_abs()?)),
            other => Err(PyErr::type_error(format!(
                "bad operand type for abs(): '{}'",
                other.type_name()
            ))),
        },
        "min" | "max" => min_max(name, args),
        "sum" => {
            let mut acc = Value::Int(0);
            for v in iterate(&one(&args)?)? {
                acc = super::ops::binary("+", &acc, &v)?;
            }
            Ok(acc)
        }
        "enumerate" => Ok(Value::list(
            iterate(&one(&args)?)?
                .into_iter()
                .enumerate()
                .map(|(i, v)| Value::tuple(vec![Value::Int(i as i64), v]))
                .collect(),
        )),
        "zip" => {
            let seqs = args.iter().map(iterate).collect::<PyResult<Vec<_>>>()?;
            let n = seqs.iter().map(Vec::len).min().unwrap_or(0);
            Ok(Value::list(
                (0..n)
                    .map(|i| Value::tuple(seqs.iter().map(|s| s[i].clone()).collect()))
                    .collect(),
            ))
        }
        other => Err(PyErr::unsupported(format!("the builtin '{other}()'"))),
    }
}

pub fn len(v: &Value) -> PyResult<Value> {
    let n = match v {
        Value::List(l) => lock(l).len(),
        Value::Tuple(t) => t.len(),
        Value::Dict(d) => lock(d).len(),
        Value::Str(s) => s.chars().count(),
        Value::Size(s) => s.len(),
        Value::Tensor(t) => match t.0.size().first() {
            Some(n) => *n as usize,
            None => return Err(PyErr::type_error("len() of a 0-d tensor")),
        },
        other => {
            return Err(PyErr::type_error(format!(
                "object of type '{}' has no len()",
                other.type_name()
            )));
        }
    };
    Ok(Value::Int(n as i64))
}

fn range(args: &[Value]) -> PyResult<Value> {
    let ints = args
        .iter()
        .map(|a| {
            a.as_int().ok_or_else(|| {
                PyErr::type_error(format!(
                    "'{}' object cannot be interpreted as an integer",
                    a.type_name()
                ))
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let (start, stop, step) = match ints.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] => (*start, *stop, *step),
        _ => {
            return Err(PyErr::type_error(format!(
                "range expected 1 to 3 arguments, got {}",
                ints.len()
            )));
        }
    };
    if step == 0 {
        return Err(PyErr::value_error("range() arg 3 must not be zero"));
    }
    let count = if step > 0 {
        (stop - start + step - 1) / step
    } else {
        (start - stop - step - 1) / -step
    };
    if count > MAX_ITEMS {
        return Err(PyErr::new(
            "MemoryError",
            format!("range of {count} items exceeds the limit of {MAX_ITEMS}"),
        ));
    }
    Ok(Value::list(
        (0..count.max(0))
            .map(|i| Value::Int(start + i * step))
            .collect(),
    ))
}

/// The items a `for` loop or `list(x)` sees.
pub fn iterate(v: &Value) -> PyResult<Vec<Value>> {
    Ok(match v {
        Value::List(l) => lock(l).clone(),
        Value::Tuple(t) => t.to_vec(),
        Value::Dict(d) => lock(d).iter().map(|(k, _)| k.clone()).collect(),
        Value::Size(s) => s.iter().map(|&i| Value::Int(i)).collect(),
        Value::Str(s) => s.chars().map(|c| Value::str(&c.to_string())).collect(),
        Value::Tensor(t) => {
            let n =
                *t.0.size()
                    .first()
                    .ok_or_else(|| PyErr::type_error("iteration over a 0-d tensor"))?;
            (0..n)
                .map(|i| Ok(Value::tensor(t.0.f_select(0, i)?)))
                .collect::<PyResult<_>>()?
        }
        other => {
            return Err(PyErr::type_error(format!(
                "'{}' object is not iterable",
                other.type_name()
            )));
        }
    })
}

fn to_int(v: &Value) -> PyResult<Value> {
    Ok(Value::Int(match v {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        Value::Float(f) if f.is_finite() => f.trunc() as i64,
        Value::Str(s) => s.trim().parse().map_err(|_| {
            PyErr::value_error(format!(
                "invalid literal for int() with base 10: {}",
                repr(v)
            ))
        })?,
        Value::Tensor(t) => match tensor::scalar(&t.0)? {
            Value::Float(f) => f.trunc() as i64,
            other => other.as_int().unwrap_or_default(),
        },
        other => {
            return Err(PyErr::type_error(format!(
                "int() argument must be a number, not '{}'",
                other.type_name()
            )));
        }
    }))
}

fn to_float(v: &Value) -> PyResult<Value> {
    Ok(Value::Float(match v {
        Value::Float(f) => *f,
        Value::Int(i) => *i as f64,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Str(s) => s.trim().parse().map_err(|_| {
            PyErr::value_error(format!("could not convert string to float: {}", repr(v)))
        })?,
        Value::Tensor(t) => t.0.f_double_value(&[])?,
        other => {
            return Err(PyErr::type_error(format!(
                "float() argument must be a number, not '{}'",
                other.type_name()
            )));
        }
    }))
}

fn min_max(name: &str, args: Vec<Value>) -> PyResult<Value> {
    let items = if args.len() == 1 {
        iterate(&args[0])?
    } else {
        args
    };
    let mut it = items.into_iter();
    let mut best = it
        .next()
        .ok_or_else(|| PyErr::value_error(format!("{name}() arg is an empty sequence")))?;
    let op = if name == "min" { "<" } else { ">" };
    for v in it {
        if super::ops::compare(op, &v, &best)?.truthy()? {
            best = v;
        }
    }
    Ok(best)
}

/// Attributes of the `torch` module object.
pub fn torch_attr(name: &str) -> Option<Value> {
    let kind = match name {
        "float32" | "float" => Some(Kind::Float),
        "float64" | "double" => Some(Kind::Double),
        "float16" | "half" => Some(Kind::Half),
        "bfloat16" => Some(Kind::BFloat16),
        "int64" | "long" => Some(Kind::Int64),
        "int32" | "int" => Some(Kind::Int),
        "bool" => Some(Kind::Bool),
        _ => None,
    };
    if let Some(k) = kind {
        return Some(Value::Dtype(k));
    }
    TORCH_FNS
        .iter()
        .find(|f| f.strip_prefix("torch.") == Some(name))
        .map(|f| Value::Builtin(f))
}

const TORCH_FNS: &[&str] = &[
    "torch.zeros_like",
    "torch.ones_like",
    "torch.zeros",
    "torch.ones",
    "torch.arange",
    "torch.cat",
    "torch.stack",
    "torch.tensor",
    "torch.matmul",
    // tensor-first functions: the same as the tensor method of that name
    "torch.argmax",
    "torch.argmin",
    "torch.sum",
    "torch.mean",
    "torch.softmax",
    "torch.log_softmax",
    "torch.abs",
    "torch.exp",
    "torch.log",
    "torch.clone",
    "torch.detach",
    "torch.unsqueeze",
    "torch.squeeze",
    "torch.transpose",
    "torch.reshape",
];

fn first_tensor(name: &str, args: &[Value]) -> PyResult<Tensor> {
    match args.first() {
        Some(Value::Tensor(t)) => Ok(t.0.shallow_clone()),
        Some(other) => Err(PyErr::type_error(format!(
            "{name}(): argument 'input' must be Tensor, not {}",
            other.type_name()
        ))),
        None => Err(PyErr::type_error(format!(
            "{name}() missing required argument 'input'"
        ))),
    }
}

fn tensors(name: &str, v: &Value) -> PyResult<Vec<Tensor>> {
    iterate(v)?
        .into_iter()
        .map(|x| match x {
            Value::Tensor(t) => Ok(t.0.shallow_clone()),
            other => Err(PyErr::type_error(format!(
                "{name}(): expected a sequence of Tensors, got {}",
                other.type_name()
            ))),
        })
        .collect()
}

fn torch_fn(op: &str, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> PyResult<Value> {
    const SEQ_DIM: Sig = Sig {
        name: "cat",
        params: &[req("tensors"), opt("dim", D::Int(0))],
        varargs: None,
    };
    const SHAPE: Sig = Sig {
        name: "zeros",
        params: &[],
        varargs: Some("size"),
    };
    match op {
        "zeros_like" | "ones_like" => {
            let t = first_tensor(op, &args)?;
            Ok(Value::tensor(if op == "zeros_like" {
                t.f_zeros_like()?
            } else {
                t.f_ones_like()?
            }))
        }
        "zeros" | "ones" => {
            let a = bind(&SHAPE, args, kwargs)?;
            let shape = shape_arg(&SHAPE, &a[0])?;
            let opts = (Kind::Float, tch::Device::Cpu);
            Ok(Value::tensor(if op == "zeros" {
                Tensor::f_zeros(&shape, opts)?
            } else {
                Tensor::f_ones(&shape, opts)?
            }))
        }
        "cat" | "stack" => {
            let a = bind(&SEQ_DIM, args, kwargs)?;
            let ts = tensors(op, &a[0])?;
            let dim = int_arg(&SEQ_DIM, 1, &a[1])?;
            Ok(Value::tensor(if op == "cat" {
                Tensor::f_cat(&ts, dim)?
            } else {
                Tensor::f_stack(&ts, dim)?
            }))
        }
        "matmul" => match args.as_slice() {
            [Value::Tensor(a), Value::Tensor(b)] => Ok(Value::tensor(a.0.f_matmul(&b.0)?)),
            _ => Err(PyErr::type_error("matmul() expects two tensors")),
        },
        "arange" | "tensor" => Err(PyErr::unsupported(format!("torch.{op}()"))),
        method => {
            let t = first_tensor(method, &args)?;
            tensor::call_method(&t, method, args[1..].to_vec(), kwargs)
                .unwrap_or_else(|| Err(PyErr::unsupported(format!("torch.{method}()"))))
        }
    }
}
