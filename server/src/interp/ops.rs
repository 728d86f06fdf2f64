//! Python operators on values: arithmetic, comparison and containment with CPython's
//! semantics for numbers, strings and sequences; tensors defer to `tensor::binary`.

use super::error::{PyErr, PyResult};
use super::tensor;
use super::value::{Value, lock, repr};

pub fn binary(op: &str, a: &Value, b: &Value) -> PyResult<Value> {
    if let Some(r) = tensor::binary(op, a, b) {
        return r;
    }
    use Value::*;
    Ok(match (a, b) {
        (Int(_) | Bool(_), Int(_) | Bool(_)) => {
            let (x, y) = (
                a.as_int().unwrap_or_default(),
                b.as_int().unwrap_or_default(),
            );
            int_op(op, x, y)?
        }
        (Int(_) | Bool(_) | Float(_), Int(_) | Bool(_) | Float(_)) => float_op(op, num(a), num(b))?,
        (Str(x), Str(y)) if op == "+" => Value::str(&format!("{x}{y}")),
        (Str(s), Int(n)) | (Int(n), Str(s)) if op == "*" => {
            Value::str(&s.repeat((*n).max(0) as usize))
        }
        (List(x), List(y)) if op == "+" => {
            let mut v = lock(x).clone();
            v.extend(lock(y).iter().cloned());
            Value::list(v)
        }
        (Tuple(x), Tuple(y)) if op == "+" => {
            Value::tuple(x.iter().chain(y.iter()).cloned().collect())
        }
        _ => {
            return Err(PyErr::type_error(format!(
                "unsupported operand type(s) for {op}: '{}' and '{}'",
                a.type_name(),
                b.type_name()
            )));
        }
    })
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        other => other.as_int().unwrap_or_default() as f64,
    }
}

fn int_op(op: &str, x: i64, y: i64) -> PyResult<Value> {
    let overflow = || PyErr::new("OverflowError", "integer result does not fit in 64 bits");
    let zero = |what: &str| PyErr::new("ZeroDivisionError", what.to_string());
    Ok(match op {
        "+" => Value::Int(x.checked_add(y).ok_or_else(overflow)?),
        "-" => Value::Int(x.checked_sub(y).ok_or_else(overflow)?),
        "*" => Value::Int(x.checked_mul(y).ok_or_else(overflow)?),
        "/" if y == 0 => return Err(zero("division by zero")),
        "/" => Value::Float(x as f64 / y as f64),
        "//" if y == 0 => return Err(zero("integer division or modulo by zero")),
        "//" => Value::Int(x.div_euclid(y) - i64::from(y < 0 && x.rem_euclid(y) != 0)),
        "%" if y == 0 => return Err(zero("integer modulo by zero")),
        "%" => {
            let r = x.rem_euclid(y);
            Value::Int(if y < 0 && r != 0 { r + y } else { r })
        }
        "**" if y < 0 => Value::Float((x as f64).powf(y as f64)),
        "**" => Value::Int(
            x.checked_pow(u32::try_from(y).map_err(|_| overflow())?)
                .ok_or_else(overflow)?,
        ),
        "&" => Value::Int(x & y),
        "|" => Value::Int(x | y),
        "^" => Value::Int(x ^ y),
        "<<" => Value::Int(
            x.checked_shl(u32::try_from(y).map_err(|_| overflow())?)
                .ok_or_else(overflow)?,
        ),
        ">>" => Value::Int(x >> y.clamp(0, 63)),
        other => {
            return Err(PyErr::type_error(format!(
                "unsupported operand type(s) for {other}: 'int' and 'int'"
            )));
        }
    })
}

fn float_op(op: &str, x: f64, y: f64) -> PyResult<Value> {
    let zero = || PyErr::new("ZeroDivisionError", "float division by zero");
    Ok(Value::Float(match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" if y == 0.0 => return Err(zero()),
        "/" => x / y,
        "//" if y == 0.0 => return Err(zero()),
        "//" => (x / y).floor(),
        "%" if y == 0.0 => return Err(zero()),
        "%" => x - y * (x / y).floor(),
        "**" => x.powf(y),
        other => {
            return Err(PyErr::type_error(format!(
                "unsupported operand type(s) for {other}: 'float' and 'float'"
            )));
        }
    }))
}

/// `a == b` for plain Python values (tensors compare elementwise via `binary`).
pub fn equal(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Int(_) | Bool(_) | Float(_), Int(_) | Bool(_) | Float(_)) => num(a) == num(b),
        (Str(x), Str(y)) => x == y,
        (None, None) | (Ellipsis, Ellipsis) => true,
        (List(x), List(y)) => seq_eq(&lock(x), &lock(y)),
        (Tuple(x), Tuple(y)) => seq_eq(x, y),
        (Size(x), Size(y)) => x == y,
        (Size(x), Tuple(y)) | (Tuple(y), Size(x)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(i, v)| v.as_int() == Some(*i))
        }
        (Dtype(x), Dtype(y)) => x == y,
        _ => a.is(b),
    }
}

fn seq_eq(x: &[Value], y: &[Value]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b))
}

pub fn compare(op: &str, a: &Value, b: &Value) -> PyResult<Value> {
    if (matches!(a, Value::Tensor(_)) || matches!(b, Value::Tensor(_)))
        && let Some(r) = tensor::binary(op, a, b)
    {
        return r;
    }
    Ok(Value::Bool(match op {
        "==" => equal(a, b),
        "!=" => !equal(a, b),
        "is" => a.is(b),
        "is not" => !a.is(b),
        "in" => contains(b, a)?,
        "not in" => !contains(b, a)?,
        _ => order(op, a, b)?,
    }))
}

fn order(op: &str, a: &Value, b: &Value) -> PyResult<bool> {
    use std::cmp::Ordering;
    let ord = match (a, b) {
        (
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
            Value::Int(_) | Value::Bool(_) | Value::Float(_),
        ) => num(a).partial_cmp(&num(b)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        _ => {
            return Err(PyErr::type_error(format!(
                "'{op}' not supported between instances of '{}' and '{}'",
                a.type_name(),
                b.type_name()
            )));
        }
    };
    Ok(match (op, ord) {
        (_, None) => false,
        ("<", Some(o)) => o == Ordering::Less,
        ("<=", Some(o)) => o != Ordering::Greater,
        (">", Some(o)) => o == Ordering::Greater,
        (">=", Some(o)) => o != Ordering::Less,
        _ => false,
    })
}

pub fn contains(container: &Value, item: &Value) -> PyResult<bool> {
    Ok(match container {
        Value::List(l) => lock(l).iter().any(|v| equal(v, item)),
        Value::Tuple(t) => t.iter().any(|v| equal(v, item)),
        Value::Dict(d) => lock(d).iter().any(|(k, _)| equal(k, item)),
        Value::Size(s) => item.as_int().is_some_and(|i| s.contains(&i)),
        Value::Str(s) => match item {
            Value::Str(sub) => s.contains(&**sub),
            other => {
                return Err(PyErr::type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    other.type_name()
                )));
            }
        },
        other => {
            return Err(PyErr::type_error(format!(
                "argument of type '{}' is not iterable ({})",
                other.type_name(),
                repr(other)
            )));
        }
    })
}
