//! Operators and the protocols builtins rely on: arithmetic with Python's numeric tower,
//! sequence concatenation and repetition (bounded by the container caps), rich
//! comparisons, `in`, truthiness, `len`, iteration, subscripting, `repr`/`str`/`hash`
//! with user dunders — and tensors everywhere through the op table. No container is
//! borrowed while user code runs.

use std::cmp::Ordering;
use std::rc::Rc;

use ruff_python_ast::{CmpOp, UnaryOp};

use super::Interp;
use super::iter::{IterState, PyIter};
use super::numpy;
use crate::value::repr::{self, unsupported_operand};
use crate::value::types::{self, ClassRef};
use crate::value::{Dict, List, PyErr, PyResult, RecordKind, Set, Value, ctx, float, int, stack};

fn dunder(op: &str) -> (&'static str, &'static str) {
    match op {
        "+" => ("__add__", "__radd__"),
        "-" => ("__sub__", "__rsub__"),
        "*" => ("__mul__", "__rmul__"),
        "/" => ("__truediv__", "__rtruediv__"),
        "//" => ("__floordiv__", "__rfloordiv__"),
        "%" => ("__mod__", "__rmod__"),
        "**" => ("__pow__", "__rpow__"),
        "@" => ("__matmul__", "__rmatmul__"),
        "<<" => ("__lshift__", "__rlshift__"),
        ">>" => ("__rshift__", "__rrshift__"),
        "&" => ("__and__", "__rand__"),
        "|" => ("__or__", "__ror__"),
        "^" => ("__xor__", "__rxor__"),
        _ => ("", ""),
    }
}

fn is_num(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Bool(_) | Value::Float(_))
}

impl Interp<'_> {
    pub fn binary_op(&mut self, op: &str, a: &Value, b: &Value) -> PyResult<Value> {
        if let Some(r) = self.builtin_binary(op, a, b)? {
            return Ok(r);
        }
        let (name, rname) = dunder(op);
        if let Value::Instance(_) = a
            && let Some(m) = self.getattr_opt(a, name)?
        {
            let r = self.call(&m, vec![b.clone()], vec![])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        if let Value::Instance(_) = b
            && let Some(m) = self.getattr_opt(b, rname)?
        {
            let r = self.call(&m, vec![a.clone()], vec![])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        if let Value::Host(h) = a
            && let Some(m) = h.clone().getattr(self, a, name).ok()
        {
            return self.call(&m, vec![b.clone()], vec![]);
        }
        Err(unsupported_operand(op, a, b))
    }

    /// Builtin types' operators; `Ok(None)` for "not implemented" (try the dunders).
    fn builtin_binary(&mut self, op: &str, a: &Value, b: &Value) -> PyResult<Option<Value>> {
        if numpy::is_np(a) || numpy::is_np(b) {
            return numpy::binary(self, op, a, b);
        }
        if matches!(a, Value::Tensor(_)) || matches!(b, Value::Tensor(_)) {
            return super::torch::binary(self, op, a, b);
        }
        if is_num(a) && is_num(b) {
            return numeric(op, a, b).map(Some);
        }
        Ok(match (op, a, b) {
            ("+", Value::Str(x), Value::Str(y)) => {
                ctx::check_str_len(x.as_str().len() + y.as_str().len())?;
                Some(Value::string(format!("{}{}", x.as_str(), y.as_str())))
            }
            ("+", Value::Bytes(x), Value::Bytes(y)) => {
                ctx::check_str_len(x.len() + y.len())?;
                Some(Value::Bytes(Rc::new([x.as_slice(), y.as_slice()].concat())))
            }
            ("+", Value::List(x), Value::List(y)) => {
                let mut v = x.snapshot();
                v.extend(y.snapshot());
                Some(Value::List(List::checked(v)?))
            }
            ("+", Value::Tuple(x), Value::Tuple(y)) => {
                ctx::check_len(x.len() + y.len(), "tuple")?;
                Some(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
            }
            ("+", Value::Size(x), Value::Tuple(_) | Value::Size(_)) => {
                let mut v = x.as_ref().clone();
                for it in self.collect(b)? {
                    v.push(it.as_int().ok_or_else(|| {
                        PyErr::type_error("torch.Size() takes an iterable of 'int'")
                    })?);
                }
                Some(Value::Size(Rc::new(v)))
            }
            ("+", Value::Tuple(_), Value::Size(_)) => {
                let mut items = self.collect(a)?;
                items.extend(self.collect(b)?);
                Some(Value::tuple(items))
            }
            ("*", Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_), n)
            | ("*", n, Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_))
                if int::is_int(n) =>
            {
                let seq = if int::is_int(a) { b } else { a };
                Some(repeat(seq, n)?)
            }
            ("%", Value::Str(s), args) => Some(Value::string(super::format::percent(self, s.as_str(), args)?)),
            ("|", Value::Dict(x), Value::Dict(y)) => {
                let d = Dict::with_table(x.table_clone());
                for (k, v) in y.items() {
                    d.insert(k, v)?;
                }
                Some(Value::Dict(d))
            }
            ("|" | "&" | "-" | "^", Value::Set(x), Value::Set(y)) => Some(set_op(op, x, y)?),
            _ => None,
        })
    }

    /// `a op= b`: in place where the type mutates (tensors, lists, user `__iop__`).
    pub fn inplace_op(&mut self, op: &str, a: &Value, b: &Value) -> PyResult<Value> {
        match a {
            Value::Tensor(t) if t.is_numpy() => {
                if let Some(r) = numpy::inplace(self, op, a, b)? {
                    return Ok(r);
                }
            }
            Value::Tensor(_) => {
                if let Some(r) = super::torch::inplace(self, op, a, b)? {
                    return Ok(r);
                }
            }
            Value::List(l) if op == "+" => {
                let items = self.collect(b)?;
                l.extend(items)?;
                return Ok(a.clone());
            }
            Value::List(l) if op == "*" && int::is_int(b) => {
                let n = b.as_int().unwrap_or(0).max(0) as usize;
                let items = l.snapshot();
                ctx::check_len(items.len().saturating_mul(n), "list")?;
                let mut out = Vec::with_capacity(items.len() * n);
                for _ in 0..n {
                    out.extend(items.iter().cloned());
                }
                l.replace(out);
                return Ok(a.clone());
            }
            Value::Dict(d) if op == "|" => {
                for (k, v) in self.mapping_items(b)? {
                    d.insert(k, v)?;
                }
                return Ok(a.clone());
            }
            Value::Set(s) if matches!(op, "|" | "&" | "-" | "^") && !s.frozen => {
                if let Value::Set(other) = b {
                    let r = set_op(op, s, other)?;
                    if let Value::Set(r) = r {
                        s.clear();
                        for it in r.items() {
                            s.add(it)?;
                        }
                    }
                    return Ok(a.clone());
                }
            }
            Value::Instance(_) => {
                let iname = format!("__i{}", &dunder(op).0[2..]);
                if let Some(m) = self.getattr_opt(a, &iname)? {
                    let r = self.call(&m, vec![b.clone()], vec![])?;
                    if !matches!(r, Value::NotImplemented) {
                        return Ok(r);
                    }
                }
            }
            _ => {}
        }
        self.binary_op(op, a, b)
    }

    pub fn unary_op(&mut self, op: UnaryOp, v: &Value) -> PyResult<Value> {
        Ok(match (op, v) {
            (UnaryOp::Not, v) => Value::Bool(!self.truthy(v)?),
            (UnaryOp::USub, Value::Float(f)) => Value::Float(-f),
            (UnaryOp::USub, v) if int::is_int(v) => int::neg(v)?,
            (UnaryOp::UAdd, Value::Float(f)) => Value::Float(*f),
            (UnaryOp::UAdd, Value::Bool(b)) => Value::Int(i64::from(*b)),
            (UnaryOp::UAdd, v) if int::is_int(v) => v.clone(),
            (UnaryOp::Invert, v) if int::is_int(v) => int::invert(v)?,
            (op, Value::Tensor(t)) if t.is_numpy() && op != UnaryOp::Not => numpy::unary(self, op, v)?,
            (op, Value::Tensor(_)) => super::torch::unary(self, op, v)?,
            (op, Value::Instance(_)) => {
                let name = match op {
                    UnaryOp::USub => "__neg__",
                    UnaryOp::UAdd => "__pos__",
                    UnaryOp::Invert => "__invert__",
                    UnaryOp::Not => unreachable!(),
                };
                match self.getattr_opt(v, name)? {
                    Some(m) => self.call(&m, vec![], vec![])?,
                    None => return Err(bad_unary(op, v)),
                }
            }
            (op, v) => return Err(bad_unary(op, v)),
        })
    }

    pub fn compare_op(&mut self, op: CmpOp, a: &Value, b: &Value) -> PyResult<Value> {
        match op {
            CmpOp::Is => Ok(Value::Bool(a.is(b))),
            CmpOp::IsNot => Ok(Value::Bool(!a.is(b))),
            CmpOp::In => Ok(Value::Bool(self.contains(b, a)?)),
            CmpOp::NotIn => Ok(Value::Bool(!self.contains(b, a)?)),
            CmpOp::Eq => self.rich_eq(a, b, false),
            CmpOp::NotEq => self.rich_eq(a, b, true),
            CmpOp::Lt => self.rich_order("<", a, b),
            CmpOp::LtE => self.rich_order("<=", a, b),
            CmpOp::Gt => self.rich_order(">", a, b),
            CmpOp::GtE => self.rich_order(">=", a, b),
        }
    }

    /// `a == b` / `a != b` as Python evaluates them (tensors compare elementwise).
    fn rich_eq(&mut self, a: &Value, b: &Value, negate: bool) -> PyResult<Value> {
        if let Some(eq) = numpy::dtype_eq(a, b) {
            return Ok(Value::Bool(eq != negate));
        }
        if numpy::is_np(a) || numpy::is_np(b) {
            let op = if negate { "!=" } else { "==" };
            if let Some(v) = numpy::compare(self, op, a, b)? {
                return Ok(v);
            }
        }
        if matches!(a, Value::Tensor(_)) || matches!(b, Value::Tensor(_)) {
            let op = if negate { "!=" } else { "==" };
            if let Some(v) = super::torch::compare(self, op, a, b)? {
                return Ok(v);
            }
        }
        for (x, y) in [(a, b), (b, a)] {
            if let Value::Instance(_) | Value::Host(_) = x
                && let Some(m) = self.getattr_opt(x, if negate { "__ne__" } else { "__eq__" })?
                && !matches!(x, Value::Host(_))
            {
                let r = self.call(&m, vec![y.clone()], vec![])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        let eq = self.eq_noid(a, b)?;
        Ok(Value::Bool(eq != negate))
    }

    /// Equality as containers use it: identity first, then `==` made a bool.
    pub fn eq(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        if a.is(b) {
            return Ok(true);
        }
        self.eq_noid(a, b)
    }

    fn eq_noid(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        stack::guard()?;
        self.cmp_depth += 1;
        let r = self.eq_inner(a, b);
        self.cmp_depth -= 1;
        r
    }

    fn eq_inner(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        if self.cmp_depth > crate::value::ctx::caps().max_depth {
            return Err(PyErr::new(&types::RECURSION_ERROR, "maximum recursion depth exceeded in comparison"));
        }
        let containers = matches!(
            (a, b),
            (Value::List(_), Value::List(_)) | (Value::Tuple(_), Value::Tuple(_)) | (Value::Dict(_), Value::Dict(_))
        );
        if let Some(r) = numpy::dtype_eq(a, b) {
            return Ok(r);
        }
        if !containers && let Some(r) = repr::builtin_eq(a, b, 0) {
            return Ok(r);
        }
        match (a, b) {
            (Value::List(x), Value::List(y)) => self.seq_eq(&x.snapshot(), &y.snapshot()),
            (Value::Tuple(x), Value::Tuple(y)) => self.seq_eq(x, y),
            (Value::Dict(x), Value::Dict(y)) => {
                if x.len() != y.len() {
                    return Ok(false);
                }
                for (k, v) in x.items() {
                    match y.get(&k)? {
                        None => return Ok(false),
                        Some(w) => {
                            if !self.eq(&v, &w)? {
                                return Ok(false);
                            }
                        }
                    }
                }
                Ok(true)
            }
            _ => {
                let r = self.rich_eq_objects(a, b)?;
                self.truthy(&r)
            }
        }
    }

    fn rich_eq_objects(&mut self, a: &Value, b: &Value) -> PyResult<Value> {
        if let Some(eq) = numpy::dtype_eq(a, b) {
            return Ok(Value::Bool(eq));
        }
        if (numpy::is_np(a) || numpy::is_np(b))
            && let Some(v) = numpy::compare(self, "==", a, b)?
        {
            return Ok(v);
        }
        if matches!(a, Value::Tensor(_)) || matches!(b, Value::Tensor(_)) {
            if let Some(v) = super::torch::compare(self, "==", a, b)? {
                return Ok(v);
            }
        }
        for (x, y) in [(a, b), (b, a)] {
            if let Value::Instance(_) = x
                && let Some(m) = self.getattr_opt(x, "__eq__")?
            {
                let r = self.call(&m, vec![y.clone()], vec![])?;
                if !matches!(r, Value::NotImplemented) {
                    return Ok(r);
                }
            }
        }
        Ok(Value::Bool(a.is(b)))
    }

    fn seq_eq(&mut self, x: &[Value], y: &[Value]) -> PyResult<bool> {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (a, b) in x.iter().zip(y) {
            if !self.eq(a, b)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn rich_order(&mut self, op: &str, a: &Value, b: &Value) -> PyResult<Value> {
        if (numpy::is_np(a) || numpy::is_np(b))
            && let Some(v) = numpy::compare(self, op, a, b)?
        {
            return Ok(v);
        }
        if matches!(a, Value::Tensor(_)) || matches!(b, Value::Tensor(_)) {
            if let Some(v) = super::torch::compare(self, op, a, b)? {
                return Ok(v);
            }
        }
        let (name, reflected) = match op {
            "<" => ("__lt__", "__gt__"),
            "<=" => ("__le__", "__ge__"),
            ">" => ("__gt__", "__lt__"),
            _ => ("__ge__", "__le__"),
        };
        if let Value::Instance(_) = a
            && let Some(m) = self.getattr_opt(a, name)?
        {
            let r = self.call(&m, vec![b.clone()], vec![])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        if let Value::Instance(_) = b
            && let Some(m) = self.getattr_opt(b, reflected)?
        {
            let r = self.call(&m, vec![a.clone()], vec![])?;
            if !matches!(r, Value::NotImplemented) {
                return Ok(r);
            }
        }
        let ord = self.order(a, b).map_err(|_| {
            PyErr::type_error(format!(
                "'{op}' not supported between instances of '{}' and '{}'",
                a.type_name(),
                b.type_name()
            ))
        })?;
        Ok(Value::Bool(match (op, ord) {
            (_, None) => false,
            ("<", Some(o)) => o == Ordering::Less,
            ("<=", Some(o)) => o != Ordering::Greater,
            (">", Some(o)) => o == Ordering::Greater,
            (_, Some(o)) => o != Ordering::Less,
        }))
    }

    /// The builtin order of two values (`None` for unordered NaNs); errors if unorderable.
    pub fn order(&mut self, a: &Value, b: &Value) -> PyResult<Option<Ordering>> {
        stack::guard()?;
        Ok(match (a, b) {
            (x, y) if int::is_int(x) && int::is_int(y) => Some(int::cmp(x, y)),
            (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
            (x, Value::Float(y)) if int::is_int(x) => int::cmp_float(x, *y),
            (Value::Float(x), y) if int::is_int(y) => int::cmp_float(y, *x).map(Ordering::reverse),
            (Value::Str(x), Value::Str(y)) => Some(x.as_str().cmp(y.as_str())),
            (Value::Bytes(x), Value::Bytes(y)) => Some(x.cmp(y)),
            (Value::List(x), Value::List(y)) => self.seq_order(&x.snapshot(), &y.snapshot())?,
            (Value::Tuple(x), Value::Tuple(y)) => self.seq_order(x, y)?,
            (Value::Size(x), Value::Size(y)) => Some(x.cmp(y)),
            (Value::Set(x), Value::Set(y)) => {
                let sub = x.items().iter().all(|v| y.contains(v).unwrap_or(false));
                let sup = y.items().iter().all(|v| x.contains(v).unwrap_or(false));
                match (sub, sup) {
                    (true, true) => Some(Ordering::Equal),
                    (true, false) => Some(Ordering::Less),
                    (false, true) => Some(Ordering::Greater),
                    _ => None,
                }
            }
            _ => {
                if matches!(a, Value::Instance(_) | Value::Tensor(_)) || matches!(b, Value::Instance(_) | Value::Tensor(_)) {
                    let lt = self.rich_order("<", a, b)?;
                    if self.truthy(&lt)? {
                        return Ok(Some(Ordering::Less));
                    }
                    let gt = self.rich_order(">", a, b)?;
                    return Ok(Some(if self.truthy(&gt)? { Ordering::Greater } else { Ordering::Equal }));
                }
                return Err(PyErr::type_error("unorderable"));
            }
        })
    }

    fn seq_order(&mut self, x: &[Value], y: &[Value]) -> PyResult<Option<Ordering>> {
        for (a, b) in x.iter().zip(y) {
            if !self.eq(a, b)? {
                return self.order(a, b);
            }
        }
        Ok(Some(x.len().cmp(&y.len())))
    }

    /// `a < b` as a bool (sorting, `min`, `max`).
    pub fn less(&mut self, a: &Value, b: &Value) -> PyResult<bool> {
        let r = self.rich_order("<", a, b)?;
        self.truthy(&r)
    }

    /// `item in container`.
    pub fn contains(&mut self, container: &Value, item: &Value) -> PyResult<bool> {
        match container {
            Value::Str(s) => match item {
                Value::Str(sub) => Ok(s.as_str().contains(sub.as_str())),
                other => Err(PyErr::type_error(format!(
                    "'in <string>' requires string as left operand, not {}",
                    other.type_name()
                ))),
            },
            Value::Bytes(b) => match item {
                Value::Bytes(sub) => Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == sub.as_slice())),
                v => {
                    let n = v.as_int().ok_or_else(|| PyErr::type_error("a bytes-like object is required"))?;
                    Ok(b.iter().any(|&x| i64::from(x) == n))
                }
            },
            Value::Dict(d) => d.contains(item),
            Value::Host(h) if let Some(r) = h.clone().contains(self, container, item) => r,
            Value::Set(s) => match item {
                // A set is looked up as the frozenset with its items (CPython's set_contains).
                Value::Set(x) if !x.frozen => s.contains(&Value::Set(Set::new(x.items(), true)?)),
                _ => s.contains(item),
            },
            Value::Range(r) => Ok(match item.as_int() {
                Some(i) => {
                    let (start, stop, step) = (r[0], r[1], r[2]);
                    let inside = if step > 0 { i >= start && i < stop } else { i <= start && i > stop };
                    inside && (i - start) % step == 0
                }
                None => {
                    for v in self.collect(container)? {
                        if self.eq(item, &v)? {
                            return Ok(true);
                        }
                    }
                    false
                }
            }),
            Value::Record(r) if r.kind == RecordKind::ModelOutput => {
                Ok(item.as_str().is_some_and(|k| r.items().iter().any(|(n, _)| n.as_ref() == k)))
            }
            Value::Tensor(t) if t.is_numpy() => {
                if t.np == crate::value::tensor::Np::Scalar {
                    return Err(PyErr::type_error(format!("argument of type '{}' is not iterable", numpy_type_name(container))));
                }
                let eq = numpy::compare(self, "==", container, item)?
                    .ok_or_else(|| PyErr::type_error("unsupported `in` on an array"))?;
                let any = self.call_method(&eq, "any", vec![])?;
                self.truthy(&any)
            }
            Value::Tensor(_) => {
                let eq = super::torch::compare(self, "==", container, item)?
                    .ok_or_else(|| PyErr::type_error("unsupported `in` on a tensor"))?;
                let any = self.call_method(&eq, "any", vec![])?;
                self.truthy(&any)
            }
            Value::Instance(_) => {
                if let Some(m) = self.getattr_opt(container, "__contains__")? {
                    let r = self.call(&m, vec![item.clone()], vec![])?;
                    return self.truthy(&r);
                }
                self.contains_by_iter(container, item)
            }
            Value::Host(_) => self.contains_by_iter(container, item),
            _ => self.contains_by_iter(container, item),
        }
    }

    fn contains_by_iter(&mut self, container: &Value, item: &Value) -> PyResult<bool> {
        let it = self.iter(container).map_err(|_| {
            PyErr::type_error(format!(
                "argument of type '{}' is not iterable",
                container.type_name()
            ))
        })?;
        while let Some(v) = self.next(&it)? {
            if self.eq(item, &v)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub fn truthy(&mut self, v: &Value) -> PyResult<bool> {
        Ok(match v {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Set(s) => !s.is_empty(),
            Value::Range(r) => repr::range_len(r) > 0,
            Value::Size(s) => !s.is_empty(),
            Value::Tensor(t) if t.is_numpy() => {
                let n = t.t.numel();
                if n != 1 {
                    return Err(PyErr::value_error(if n == 0 {
                        "The truth value of an empty array is ambiguous. Use `array.size > 0` to check that an array is not empty."
                    } else {
                        "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
                    }));
                }
                t.t.f_reshape([0i64; 0])?.f_double_value(&[])? != 0.0
            }
            Value::Tensor(t) => super::torch::tensor_bool(&t.t)?,
            Value::Record(r) => !r.items().is_empty(),
            Value::Instance(_) => {
                if let Some(m) = self.getattr_opt(v, "__bool__")? {
                    let r = self.call(&m, vec![], vec![])?;
                    return match r {
                        Value::Bool(b) => Ok(b),
                        other => Err(PyErr::type_error(format!(
                            "__bool__ should return bool, returned {}",
                            other.type_name()
                        ))),
                    };
                }
                if self.getattr_opt(v, "__len__")?.is_some() {
                    return Ok(self.len(v)? > 0);
                }
                true
            }
            Value::Host(h) => h.truthy().or_else(|| h.len().map(|n| n > 0)).unwrap_or(true),
            _ => true,
        })
    }

    pub fn len(&mut self, v: &Value) -> PyResult<usize> {
        Ok(match v {
            Value::Str(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(l) => l.len(),
            Value::Tuple(t) => t.len(),
            Value::Dict(d) => d.len(),
            Value::Set(s) => s.len(),
            Value::Range(r) => repr::range_len(r) as usize,
            Value::Size(s) => s.len(),
            Value::Record(r) => r.items().len(),
            Value::Tensor(t) if t.is_numpy() => match t.t.size().first() {
                Some(n) if t.np == crate::value::tensor::Np::Array => *n as usize,
                _ if t.np == crate::value::tensor::Np::Scalar => {
                    return Err(PyErr::type_error(format!("object of type '{}' has no len()", numpy_type_name(v))));
                }
                _ => return Err(PyErr::type_error("len() of unsized object")),
            },
            Value::Tensor(t) => match t.t.size().first() {
                Some(n) => *n as usize,
                None => return Err(PyErr::type_error("len() of a 0-d tensor")),
            },
            Value::Instance(_) => {
                let m = self.getattr_opt(v, "__len__")?.ok_or_else(|| no_len(v))?;
                let r = self.call(&m, vec![], vec![])?;
                let n = r.as_int().ok_or_else(|| {
                    PyErr::type_error(format!("'{}' object cannot be interpreted as an integer", r.type_name()))
                })?;
                if n < 0 {
                    return Err(PyErr::value_error("__len__() should return >= 0"));
                }
                n as usize
            }
            Value::Host(h) => h.len().ok_or_else(|| no_len(v))?,
            other => return Err(no_len(other)),
        })
    }

    /// `iter(v)`.
    pub fn iter(&mut self, v: &Value) -> PyResult<Value> {
        Ok(match v {
            Value::List(_) | Value::Tuple(_) | Value::Str(_) | Value::Bytes(_) | Value::Size(_) => {
                PyIter::new(IterState::Seq { seq: v.clone(), i: 0 })
            }
            Value::Range(r) => PyIter::new(IterState::Range {
                cur: r[0],
                stop: r[1],
                step: r[2],
            }),
            Value::Dict(d) => PyIter::items(d.keys(), "dict_keyiterator"),
            Value::Set(s) => PyIter::items(s.items(), "set_iterator"),
            Value::Iter(_) => v.clone(),
            Value::Tensor(t) if t.np == crate::value::tensor::Np::Scalar => {
                return Err(PyErr::type_error(format!("'{}' object is not iterable", numpy_type_name(v))));
            }
            Value::Tensor(t) if t.is_numpy() && t.t.dim() == 0 => {
                return Err(PyErr::type_error("iteration over a 0-d array"));
            }
            Value::Tensor(t) => {
                let n = *t.t.size().first().ok_or_else(|| PyErr::type_error("iteration over a 0-d tensor"))?;
                PyIter::new(IterState::Rows { t: v.clone(), i: 0, n })
            }
            Value::Record(r) => match r.kind {
                RecordKind::ModelOutput => PyIter::items(
                    r.items().into_iter().map(|(k, _)| Value::str(&k)).collect(),
                    "odict_iterator",
                ),
                RecordKind::NamedTuple => PyIter::items(r.items().into_iter().map(|(_, v)| v).collect(), "tuple_iterator"),
            },
            Value::Instance(_) => {
                if let Some(m) = self.getattr_opt(v, "__iter__")? {
                    return self.call(&m, vec![], vec![]);
                }
                if self.getattr_opt(v, "__getitem__")?.is_some() {
                    let mut items = Vec::new();
                    let mut i = 0;
                    loop {
                        match self.getitem(v, &Value::Int(i)) {
                            Ok(x) => items.push(x),
                            Err(e) if e.is_instance_of(&types::INDEX_ERROR) || e.is_instance_of(&types::STOP_ITERATION) => break,
                            Err(e) => return Err(e),
                        }
                        i += 1;
                        ctx::check_len(items.len(), "iteration")?;
                    }
                    return Ok(PyIter::items(items, "iterator"));
                }
                return Err(not_iterable(v));
            }
            Value::Host(h) => match h.clone().iter(self, v) {
                Some(r) => return r,
                None => return Err(not_iterable(v)),
            },
            other => return Err(not_iterable(other)),
        })
    }

    /// `next(it)`: `Ok(None)` when exhausted.
    pub fn next(&mut self, it: &Value) -> PyResult<Option<Value>> {
        ctx::tick()?;
        match it {
            Value::Iter(p) => {
                let state = std::mem::replace(&mut *p.state.borrow_mut(), IterState::Done);
                let (out, state) = self.advance(state)?;
                *p.state.borrow_mut() = state;
                Ok(out)
            }
            Value::Instance(_) => {
                let m = self.getattr(it, "__next__")?;
                match self.call(&m, vec![], vec![]) {
                    Ok(v) => Ok(Some(v)),
                    Err(e) if e.is_instance_of(&types::STOP_ITERATION) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            Value::Host(h) => match h.clone().next(self, it) {
                Some(r) => r,
                None => Err(PyErr::type_error(format!("'{}' object is not an iterator", it.type_name()))),
            },
            other => Err(PyErr::type_error(format!("'{}' object is not an iterator", other.type_name()))),
        }
    }

    fn advance(&mut self, state: IterState) -> PyResult<(Option<Value>, IterState)> {
        Ok(match state {
            IterState::Done => (None, IterState::Done),
            IterState::Seq { seq, i } => {
                let item = match &seq {
                    Value::List(l) => l.get(i),
                    Value::Tuple(t) => t.get(i).cloned(),
                    Value::Size(s) => s.get(i).map(|&d| Value::Int(d)),
                    Value::Str(s) => (i < s.len()).then(|| Value::string(s.char_at(i).to_string())),
                    Value::Bytes(b) => b.get(i).map(|&x| Value::Int(i64::from(x))),
                    _ => None,
                };
                match item {
                    Some(v) => (Some(v), IterState::Seq { seq, i: i + 1 }),
                    None => (None, IterState::Done),
                }
            }
            IterState::Range { cur, stop, step } => {
                if (step > 0 && cur < stop) || (step < 0 && cur > stop) {
                    (Some(Value::Int(cur)), IterState::Range { cur: cur.saturating_add(step), stop, step })
                } else {
                    (None, IterState::Done)
                }
            }
            IterState::Items { items, i, kind } => match items.get(i) {
                Some(v) => (Some(v.clone()), IterState::Items { items, i: i + 1, kind }),
                None => (None, IterState::Done),
            },
            IterState::Enumerate { inner, n } => match self.next(&inner)? {
                Some(v) => {
                    let next = int::add(&n, &Value::Int(1))?;
                    (Some(Value::tuple(vec![n, v])), IterState::Enumerate { inner, n: next })
                }
                None => (None, IterState::Done),
            },
            IterState::Zip { iters, strict } => {
                if iters.is_empty() {
                    return Ok((None, IterState::Done));
                }
                let mut row = Vec::with_capacity(iters.len());
                for (k, i) in iters.iter().enumerate() {
                    match self.next(i)? {
                        Some(v) => row.push(v),
                        None => {
                            if strict {
                                if k > 0 {
                                    return Err(PyErr::value_error(format!(
                                        "zip() argument {} is shorter than argument{} 1{}",
                                        k + 1,
                                        if k > 1 { "s" } else { "" },
                                        if k > 1 { format!("-{k}") } else { String::new() }
                                    )));
                                }
                                for (j, other) in iters.iter().enumerate().skip(1) {
                                    if self.next(other)?.is_some() {
                                        return Err(PyErr::value_error(format!(
                                            "zip() argument {} is longer than argument{} 1{}",
                                            j + 1,
                                            if j > 1 { "s" } else { "" },
                                            if j > 1 { format!("-{j}") } else { String::new() }
                                        )));
                                    }
                                }
                            }
                            return Ok((None, IterState::Done));
                        }
                    }
                }
                (Some(Value::tuple(row)), IterState::Zip { iters, strict })
            }
            IterState::Map { f, iters } => {
                let mut args = Vec::with_capacity(iters.len());
                for i in &iters {
                    match self.next(i)? {
                        Some(v) => args.push(v),
                        None => return Ok((None, IterState::Done)),
                    }
                }
                let v = self.call(&f, args, vec![])?;
                (Some(v), IterState::Map { f, iters })
            }
            IterState::Filter { f, inner } => loop {
                match self.next(&inner)? {
                    Some(v) => {
                        let keep = if f.is_none() {
                            self.truthy(&v)?
                        } else {
                            let r = self.call(&f, vec![v.clone()], vec![])?;
                            self.truthy(&r)?
                        };
                        if keep {
                            break (Some(v), IterState::Filter { f, inner });
                        }
                    }
                    None => break (None, IterState::Done),
                }
            },
            IterState::Rows { t, i, n } => {
                if i < n {
                    let row = self.getitem(&t, &Value::Int(i))?;
                    (Some(row), IterState::Rows { t, i: i + 1, n })
                } else {
                    (None, IterState::Done)
                }
            }
        })
    }

    /// Every item of an iterable (bounded by the container cap).
    pub fn collect(&mut self, v: &Value) -> PyResult<Vec<Value>> {
        match v {
            Value::List(l) => return Ok(l.snapshot()),
            Value::Tuple(t) => return Ok(t.to_vec()),
            _ => {}
        }
        let it = self.iter(v)?;
        let mut out = Vec::new();
        while let Some(x) = self.next(&it)? {
            out.push(x);
            if out.len() % 4096 == 0 {
                ctx::check_len(out.len(), "sequence")?;
            }
        }
        ctx::check_len(out.len(), "sequence")?;
        Ok(out)
    }

    pub fn getitem(&mut self, obj: &Value, idx: &Value) -> PyResult<Value> {
        match obj {
            Value::List(l) => {
                let items = l.snapshot();
                seq_get(&items, idx, "list").map(|r| match r {
                    SeqItem::One(v) => Ok(v),
                    SeqItem::Many(v) => List::checked(v).map(Value::List),
                })?
            }
            Value::Tuple(t) => match seq_get(t, idx, "tuple")? {
                SeqItem::One(v) => Ok(v),
                SeqItem::Many(v) => Ok(Value::tuple(v)),
            },
            Value::Size(s) => {
                let items: Vec<Value> = s.iter().map(|&d| Value::Int(d)).collect();
                match seq_get(&items, idx, "tuple")? {
                    SeqItem::One(v) => Ok(v),
                    SeqItem::Many(v) => Ok(Value::Size(Rc::new(v.iter().filter_map(Value::as_int).collect()))),
                }
            }
            Value::Str(s) => {
                if let Value::Slice(sl) = idx {
                    let idxs = slice_indices(sl, s.len())?;
                    return Ok(Value::string(s.slice_chars(idxs.into_iter())));
                }
                let i = index_of(idx, "string indices must be integers, not '{}'")?;
                let j = norm(i, s.len()).ok_or_else(|| PyErr::index_error("string index out of range"))?;
                Ok(Value::string(s.char_at(j).to_string()))
            }
            Value::Bytes(b) => {
                if let Value::Slice(sl) = idx {
                    let idxs = slice_indices(sl, b.len())?;
                    return Ok(Value::Bytes(Rc::new(idxs.into_iter().map(|i| b[i]).collect())));
                }
                let i = index_of(idx, "byte indices must be integers or slices, not {}")?;
                let j = norm(i, b.len()).ok_or_else(|| PyErr::index_error("index out of range"))?;
                Ok(Value::Int(i64::from(b[j])))
            }
            Value::Range(r) => {
                let len = repr::range_len(r) as usize;
                if let Value::Slice(sl) = idx {
                    let (start, stop, step) = slice_bounds(sl, len)?;
                    let at = |k: i64| r[0] + k * r[2];
                    return Ok(Value::Range(Rc::new([at(start), at(stop), r[2] * step])));
                }
                let i = index_of(idx, "range indices must be integers or slices, not {}")?;
                let j = norm(i, len).ok_or_else(|| PyErr::index_error("range object index out of range"))?;
                Ok(Value::Int(r[0] + j as i64 * r[2]))
            }
            Value::Dict(d) => match d.get(idx)? {
                Some(v) => Ok(v),
                None => Err(PyErr::key_error(idx.clone())),
            },
            Value::Tensor(t) if t.is_numpy() => numpy::getitem(self, obj, idx),
            Value::Tensor(_) => super::torch::getitem(self, obj, idx),
            Value::Record(r) => match idx {
                Value::Str(s) => match r.kind {
                    RecordKind::ModelOutput => r
                        .items()
                        .into_iter()
                        .find(|(n, _)| n.as_ref() == s.as_str())
                        .map(|(_, v)| v)
                        .ok_or_else(|| PyErr::key_error(idx.clone())),
                    RecordKind::NamedTuple => Err(PyErr::type_error("tuple indices must be integers or slices, not str")),
                },
                other => {
                    let items: Vec<Value> = r.items().into_iter().map(|(_, v)| v).collect();
                    match seq_get(&items, other, "tuple")? {
                        SeqItem::One(v) => Ok(v),
                        SeqItem::Many(v) => Ok(Value::tuple(v)),
                    }
                }
            },
            Value::Instance(_) => {
                let m = self.getattr_opt(obj, "__getitem__")?.ok_or_else(|| not_subscriptable(obj))?;
                self.call(&m, vec![idx.clone()], vec![])
            }
            Value::Class(_) => match self.getattr_opt(obj, "__class_getitem__")? {
                Some(m) => self.call(&m, vec![idx.clone()], vec![]),
                None => Ok(obj.clone()),
            },
            Value::Type(_) => Ok(obj.clone()),
            Value::Host(h) => h.clone().getitem(self, obj, idx),
            other => Err(not_subscriptable(other)),
        }
    }

    pub fn setitem(&mut self, obj: &Value, idx: &Value, v: Value) -> PyResult<()> {
        match obj {
            Value::List(l) => {
                if let Value::Slice(sl) = idx {
                    let items = self.collect(&v)?;
                    let mut cur = l.snapshot();
                    let len = cur.len();
                    let (start, stop, step) = slice_bounds(sl, len)?;
                    if step == 1 {
                        let stop = stop.max(start);
                        ctx::check_len(len - (stop - start) as usize + items.len(), "list")?;
                        cur.splice(start as usize..stop as usize, items);
                    } else {
                        let idxs = slice_indices(sl, len)?;
                        if idxs.len() != items.len() {
                            return Err(PyErr::value_error(format!(
                                "attempt to assign sequence of size {} to extended slice of size {}",
                                items.len(),
                                idxs.len()
                            )));
                        }
                        for (i, x) in idxs.into_iter().zip(items) {
                            cur[i] = x;
                        }
                    }
                    l.replace(cur);
                    return Ok(());
                }
                let i = index_of(idx, "list indices must be integers or slices, not {}")?;
                let len = l.len();
                let j = norm(i, len).ok_or_else(|| PyErr::index_error("list assignment index out of range"))?;
                let old = std::mem::replace(&mut l.borrow_mut()[j], v);
                drop(old);
                Ok(())
            }
            Value::Dict(d) => d.insert(idx.clone(), v),
            Value::Tensor(t) if t.is_numpy() => numpy::setitem(self, obj, idx, &v),
            Value::Tensor(_) => super::torch::setitem(self, obj, idx, &v),
            Value::Record(r) => match idx {
                Value::Str(s) => {
                    r.set(s.as_str(), v);
                    Ok(())
                }
                _ => Err(PyErr::type_error("ModelOutput keys must be strings")),
            },
            Value::Instance(_) => {
                let m = self.getattr_opt(obj, "__setitem__")?.ok_or_else(|| no_item_assign(obj))?;
                self.call(&m, vec![idx.clone(), v], vec![]).map(drop)
            }
            Value::Host(h) => {
                let m = h.clone().getattr(self, obj, "__setitem__").map_err(|_| no_item_assign(obj))?;
                self.call(&m, vec![idx.clone(), v], vec![]).map(drop)
            }
            other => Err(no_item_assign(other)),
        }
    }

    pub fn delitem(&mut self, obj: &Value, idx: &Value) -> PyResult<()> {
        match obj {
            Value::List(l) => {
                let mut cur = l.snapshot();
                if let Value::Slice(sl) = idx {
                    let mut idxs = slice_indices(sl, cur.len())?;
                    idxs.sort_unstable();
                    for i in idxs.into_iter().rev() {
                        cur.remove(i);
                    }
                } else {
                    let i = index_of(idx, "list indices must be integers or slices, not {}")?;
                    let j = norm(i, cur.len()).ok_or_else(|| PyErr::index_error("list assignment index out of range"))?;
                    cur.remove(j);
                }
                l.replace(cur);
                Ok(())
            }
            Value::Dict(d) => match d.remove(idx)? {
                Some(_) => Ok(()),
                None => Err(PyErr::key_error(idx.clone())),
            },
            Value::Instance(_) => {
                let m = self.getattr_opt(obj, "__delitem__")?.ok_or_else(|| {
                    PyErr::type_error(format!("'{}' object doesn't support item deletion", obj.type_name()))
                })?;
                self.call(&m, vec![idx.clone()], vec![]).map(drop)
            }
            other => Err(PyErr::type_error(format!(
                "'{}' object doesn't support item deletion",
                other.type_name()
            ))),
        }
    }

    pub fn repr(&mut self, v: &Value) -> PyResult<String> {
        let mut hook = |x: &Value, is_str: bool| self.dunder_text(x, is_str);
        repr::repr_with(v, Some(&mut hook as repr::Hook<'_>))
    }

    pub fn str(&mut self, v: &Value) -> PyResult<String> {
        let mut hook = |x: &Value, is_str: bool| self.dunder_text(x, is_str);
        repr::str_with(v, Some(&mut hook as repr::Hook<'_>))
    }

    /// A user `__str__` / `__repr__`, if the instance's class defines one.
    fn dunder_text(&mut self, v: &Value, is_str: bool) -> Option<PyResult<String>> {
        let Value::Instance(i) = v else {
            return None;
        };
        let ClassRef::User(c) = &i.class else {
            return None;
        };
        let name = if is_str && c.lookup("__str__").is_some() {
            "__str__"
        } else if c.lookup("__repr__").is_some() {
            "__repr__"
        } else {
            return None;
        };
        // Like CPython's PyObject_Repr, a user repr counts toward the recursion limit.
        if self.depth >= ctx::caps().max_depth {
            return Some(Err(PyErr::new(
                &types::RECURSION_ERROR,
                format!("maximum recursion depth exceeded while getting the {} of an object", if is_str { "str" } else { "repr" }),
            )));
        }
        self.depth += 1;
        let r = self.getattr(v, name).and_then(|m| self.call(&m, vec![], vec![]));
        self.depth -= 1;
        Some(r.and_then(|s| match s {
            Value::Str(s) => Ok(s.as_str().to_string()),
            other => Err(PyErr::type_error(format!(
                "{name} returned non-string (type {})",
                other.type_name()
            ))),
        }))
    }

    /// `hash(v)`.
    pub fn hash(&mut self, v: &Value) -> PyResult<i64> {
        if let Value::Instance(i) = v
            && let ClassRef::User(c) = &i.class
        {
            if let Some(h) = c.lookup("__hash__") {
                if h.is_none() {
                    return Err(PyErr::type_error(format!("unhashable type: '{}'", c.name)));
                }
                let m = self.getattr(v, "__hash__")?;
                let r = self.call(&m, vec![], vec![])?;
                return r.as_int().ok_or_else(|| PyErr::type_error("__hash__ method should return an integer"));
            }
            if c.lookup("__eq__").is_some() {
                return Err(PyErr::type_error(format!("unhashable type: '{}'", c.name)));
            }
        }
        crate::value::dict::py_hash(v)
    }
}

enum SeqItem {
    One(Value),
    Many(Vec<Value>),
}

fn seq_get(items: &[Value], idx: &Value, what: &str) -> PyResult<SeqItem> {
    if let Value::Slice(sl) = idx {
        let idxs = slice_indices(sl, items.len())?;
        return Ok(SeqItem::Many(idxs.into_iter().map(|i| items[i].clone()).collect()));
    }
    let msg = format!("{what} indices must be integers or slices, not {{}}");
    let i = index_of(idx, &msg)?;
    let j = norm(i, items.len()).ok_or_else(|| PyErr::index_error(format!("{what} index out of range")))?;
    Ok(SeqItem::One(items[j].clone()))
}

/// An index operand as an int (ints, bools, 0-d integer tensors, `__index__`).
fn index_of(idx: &Value, msg: &str) -> PyResult<i64> {
    match idx {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::BigInt(_) => Err(PyErr::index_error("cannot fit 'int' into an index-sized integer")),
        Value::Tensor(t) if t.t.numel() == 1 && crate::value::dtype::is_integral(t.t.kind(), true) => {
            Ok(t.t.f_int64_value(&[])?)
        }
        other => Err(PyErr::type_error(msg.replace("{}", &other.type_name()))),
    }
}

fn norm(i: i64, len: usize) -> Option<usize> {
    let j = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&j).then_some(j as usize)
}

fn slice_part(v: &Value) -> PyResult<Option<i64>> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::Bool(b) => Ok(Some(i64::from(*b))),
        Value::BigInt(b) => Ok(Some(if b.sign() == num_bigint::Sign::Minus { i64::MIN } else { i64::MAX })),
        Value::Tensor(t) if t.t.numel() == 1 => Ok(Some(t.t.f_int64_value(&[])?)),
        _ => Err(PyErr::type_error(
            "slice indices must be integers or None or have an __index__ method",
        )),
    }
}

/// `slice.indices(len)`: clamped (start, stop, step).
pub fn slice_bounds(s: &[Value; 3], len: usize) -> PyResult<(i64, i64, i64)> {
    let len = len as i64;
    let step = slice_part(&s[2])?.unwrap_or(1);
    if step == 0 {
        return Err(PyErr::value_error("slice step cannot be zero"));
    }
    let clamp = |i: i64, lo: i64, hi: i64| {
        if i < 0 {
            (i.saturating_add(len)).max(lo)
        } else {
            i.min(hi)
        }
    };
    let (start, stop) = if step > 0 {
        (
            slice_part(&s[0])?.map_or(0, |i| clamp(i, 0, len)),
            slice_part(&s[1])?.map_or(len, |i| clamp(i, 0, len)),
        )
    } else {
        (
            slice_part(&s[0])?.map_or(len - 1, |i| clamp(i, -1, len - 1)),
            slice_part(&s[1])?.map_or(-1, |i| clamp(i, -1, len - 1)),
        )
    };
    Ok((start, stop, step))
}

pub fn slice_indices(s: &[Value; 3], len: usize) -> PyResult<Vec<usize>> {
    let (start, stop, step) = slice_bounds(s, len)?;
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

fn repeat(seq: &Value, n: &Value) -> PyResult<Value> {
    // A count past the machine's index size is CPython's OverflowError, even for "".
    let n = n.as_int().ok_or_else(|| PyErr::overflow("cannot fit 'int' into an index-sized integer"))?.max(0);
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    Ok(match seq {
        Value::Str(s) => {
            let total = s.as_str().len().saturating_mul(n);
            ctx::check_str_len(total)?;
            Value::string(s.as_str().repeat(n))
        }
        Value::Bytes(b) => {
            ctx::check_str_len(b.len().saturating_mul(n))?;
            Value::Bytes(Rc::new(b.repeat(n)))
        }
        Value::List(l) => {
            let items = l.snapshot();
            ctx::check_len(items.len().saturating_mul(n), "list")?;
            let mut out = Vec::with_capacity(items.len() * n);
            for _ in 0..n {
                out.extend(items.iter().cloned());
            }
            Value::List(List::new(out))
        }
        Value::Tuple(t) => {
            ctx::check_len(t.len().saturating_mul(n), "tuple")?;
            let mut out = Vec::with_capacity(t.len() * n);
            for _ in 0..n {
                out.extend(t.iter().cloned());
            }
            Value::tuple(out)
        }
        _ => unreachable!(),
    })
}

fn set_op(op: &str, x: &Set, y: &Set) -> PyResult<Value> {
    let (xs, ys) = (x.items(), y.items());
    let out: Vec<Value> = match op {
        "|" => xs.into_iter().chain(ys).collect(),
        "&" => xs.into_iter().filter(|v| y.contains(v).unwrap_or(false)).collect(),
        "-" => xs.into_iter().filter(|v| !y.contains(v).unwrap_or(false)).collect(),
        _ => {
            let a: Vec<Value> = xs.iter().filter(|v| !y.contains(v).unwrap_or(false)).cloned().collect();
            let b: Vec<Value> = ys.iter().filter(|v| !x.contains(v).unwrap_or(false)).cloned().collect();
            a.into_iter().chain(b).collect()
        }
    };
    Ok(Value::Set(Set::new(out, x.frozen)?))
}

/// Arithmetic on ints, bools and floats.
pub fn numeric(op: &str, a: &Value, b: &Value) -> PyResult<Value> {
    if int::is_int(a) && int::is_int(b) {
        let both_bool = matches!((a, b), (Value::Bool(_), Value::Bool(_)));
        return match op {
            "+" => int::add(a, b),
            "-" => int::sub(a, b),
            "*" => int::mul(a, b),
            "/" => int::truediv(a, b),
            "//" => int::floordiv(a, b),
            "%" => int::modulo(a, b),
            "**" => int::pow(a, b),
            "<<" => int::shift(a, b, true),
            ">>" => int::shift(a, b, false),
            "&" | "|" | "^" => {
                let r = int::bitop(a, b, op.chars().next().unwrap_or('&'))?;
                Ok(if both_bool { Value::Bool(!int::is_zero(&r)) } else { r })
            }
            _ => Err(unsupported_operand(op, a, b)),
        };
    }
    let x = int::to_f64(a)?;
    let y = int::to_f64(b)?;
    Ok(Value::Float(match op {
        "+" => x + y,
        "-" => x - y,
        "*" => x * y,
        "/" => {
            if y == 0.0 {
                return Err(PyErr::zero_division("float division by zero"));
            }
            x / y
        }
        "//" => {
            if y == 0.0 {
                return Err(PyErr::zero_division("float floor division by zero"));
            }
            float_floordiv(x, y)
        }
        "%" => {
            if y == 0.0 {
                return Err(PyErr::zero_division("float modulo"));
            }
            float_mod(x, y)
        }
        "**" => {
            if x == 0.0 && y < 0.0 {
                return Err(PyErr::zero_division("0.0 cannot be raised to a negative power"));
            }
            if x < 0.0 && y.fract() != 0.0 && y.is_finite() {
                return Err(PyErr::unsupported("complex results of `**`"));
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return Err(PyErr::overflow("(34, 'Numerical result out of range')"));
            }
            r
        }
        _ => return Err(unsupported_operand(op, a, b)),
    }))
}

/// Python's float modulo (sign of the divisor).
pub fn float_mod(x: f64, y: f64) -> f64 {
    let m = x % y;
    if m != 0.0 && ((m < 0.0) != (y < 0.0)) {
        m + y
    } else if m == 0.0 {
        0.0f64.copysign(y)
    } else {
        m
    }
}

/// Python's float floor division (`divmod`'s quotient).
pub fn float_floordiv(x: f64, y: f64) -> f64 {
    let m = x % y;
    let mut div = (x - m) / y;
    if m != 0.0 && ((y < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 {
            return f + 1.0;
        }
        f
    } else {
        0.0f64.copysign(x / y)
    }
}

fn bad_unary(op: UnaryOp, v: &Value) -> PyErr {
    let sym = match op {
        UnaryOp::USub => "-",
        UnaryOp::UAdd => "+",
        UnaryOp::Invert => "~",
        UnaryOp::Not => "not",
    };
    PyErr::type_error(format!("bad operand type for unary {sym}: '{}'", v.type_name()))
}

fn no_len(v: &Value) -> PyErr {
    PyErr::type_error(format!("object of type '{}' has no len()", v.type_name()))
}

pub fn not_iterable(v: &Value) -> PyErr {
    PyErr::type_error(format!("'{}' object is not iterable", v.type_name()))
}

fn not_subscriptable(v: &Value) -> PyErr {
    PyErr::type_error(format!("'{}' object is not subscriptable", v.type_name()))
}

fn no_item_assign(v: &Value) -> PyErr {
    PyErr::type_error(format!("'{}' object does not support item assignment", v.type_name()))
}

#[allow(dead_code)]
fn float_text(f: f64) -> String {
    float::repr(f)
}

/// `numpy.float64`, `numpy.ndarray`: a numpy value's type as numpy's messages name it.
fn numpy_type_name(v: &Value) -> String {
    format!("numpy.{}", v.type_name())
}
