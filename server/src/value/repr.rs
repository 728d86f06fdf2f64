//! `repr()`, `str()` and builtin equality like CPython, for any value graph: containers
//! that contain themselves print as `[...]` / `{...}`, nesting is bounded by the stack
//! guard (RecursionError), and no container is borrowed while its items are visited.
//! Instances with `__repr__` / `__eq__` are the interpreter's business: it passes a hook.

use std::rc::Rc;

use super::error::{PyErr, PyResult};
use super::types::ClassRef;
use super::{RecordKind, Value, dtype, float, int, stack};

/// Renders instances and host objects the value model cannot (user `__repr__`).
pub type Hook<'h> = &'h mut dyn FnMut(&Value, bool) -> Option<PyResult<String>>;

struct Printer<'h> {
    hook: Option<Hook<'h>>,
    /// Containers being printed (a re-entered one prints as `[...]`); bounded by the
    /// depth limit, so the linear search stays cheap.
    active: Vec<usize>,
    depth: usize,
}

/// `repr(v)` without calling user code (messages, default reprs).
pub fn repr_plain(v: &Value) -> String {
    repr_with(v, None).unwrap_or_else(|e| format!("<repr failed: {}>", e.message()))
}

/// `str(v)` without calling user code.
pub fn str_plain(v: &Value) -> String {
    str_with(v, None).unwrap_or_else(|e| format!("<str failed: {}>", e.message()))
}

pub fn repr_with(v: &Value, hook: Option<Hook<'_>>) -> PyResult<String> {
    let mut p = Printer {
        depth: 0,
        hook,
        active: Vec::new(),
    };
    let mut out = String::new();
    p.repr(v, &mut out)?;
    Ok(out)
}

pub fn str_with(v: &Value, hook: Option<Hook<'_>>) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.as_str().to_string()),
        Value::Instance(i) if i.is_exception() => {
            let mut p = Printer {
        depth: 0,
                hook,
                active: Vec::new(),
            };
            if let Some(h) = p.hook.as_mut()
                && let Some(r) = h(v, true)
            {
                return r;
            }
            Ok(super::object::exception_str(v))
        }
        Value::Host(h) if let Some(s) = h.str_text() => Ok(s),
        Value::Instance(_) | Value::Host(_) => {
            let mut p = Printer {
        depth: 0,
                hook,
                active: Vec::new(),
            };
            if let Some(h) = p.hook.as_mut()
                && let Some(r) = h(v, true)
            {
                return r;
            }
            let mut out = String::new();
            p.repr(v, &mut out)?;
            Ok(out)
        }
        Value::Tensor(t) => match t.np {
            super::tensor::Np::Torch => super::tensor_repr::tensor_str(&t.t),
            super::tensor::Np::Array => super::numpy::array_str(&t.t),
            super::tensor::Np::Scalar => super::numpy::scalar_str(&t.t),
        },
        other => repr_with(other, hook),
    }
}

/// Python's string literal form: single quotes unless the text has `'` and no `"`.
pub fn str_literal(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if !is_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"))
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"))
                } else {
                    out.push_str(&format!("\\U{n:08x}"))
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// An approximation of `str.isprintable` for one character.
fn is_printable(c: char) -> bool {
    let n = c as u32;
    !(n < 0x20
        || (0x7f..0xa0).contains(&n)
        || n == 0xad
        || (0x2028..=0x2029).contains(&n)
        || (0xd800..0xe000).contains(&n)
        || (0xfff9..=0xfffb).contains(&n)
        || c.is_whitespace() && c != ' ')
}

pub fn bytes_literal(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') { b'"' } else { b'\'' };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

impl Printer<'_> {
    fn enter(&mut self, id: usize) -> bool {
        if self.active.contains(&id) {
            return false;
        }
        self.active.push(id);
        true
    }

    fn leave(&mut self) {
        self.active.pop();
    }

    fn seq(&mut self, items: &[Value], out: &mut String) -> PyResult<()> {
        for (i, it) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.repr(it, out)?;
        }
        Ok(())
    }

    fn repr(&mut self, v: &Value, out: &mut String) -> PyResult<()> {
        stack::guard()?;
        super::ctx::check_str_len(out.len())?;
        self.depth += 1;
        let r = if self.depth > super::ctx::caps().max_depth {
            Err(PyErr::new(
                &super::types::RECURSION_ERROR,
                "maximum recursion depth exceeded while getting the repr of an object",
            ))
        } else {
            self.repr_value(v, out)
        };
        self.depth -= 1;
        r
    }

    fn repr_value(&mut self, v: &Value, out: &mut String) -> PyResult<()> {
        match v {
            Value::None => out.push_str("None"),
            Value::Ellipsis => out.push_str("Ellipsis"),
            Value::NotImplemented => out.push_str("NotImplemented"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::BigInt(_) => out.push_str(&int::to_string(v)?),
            Value::Float(f) => out.push_str(&float::repr(*f)),
            Value::Str(s) => out.push_str(&str_literal(s.as_str())),
            Value::Bytes(b) => out.push_str(&bytes_literal(b)),
            Value::List(l) => {
                let id = Rc::as_ptr(l) as usize;
                if !self.enter(id) {
                    out.push_str("[...]");
                    return Ok(());
                }
                out.push('[');
                let items = l.snapshot();
                let r = self.seq(&items, out);
                self.leave();
                r?;
                out.push(']');
            }
            Value::Tuple(t) => {
                out.push('(');
                self.seq(t, out)?;
                if t.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Value::Dict(d) => {
                let id = Rc::as_ptr(d) as usize;
                if !self.enter(id) {
                    out.push_str("{...}");
                    return Ok(());
                }
                out.push('{');
                let items = d.items();
                let mut r = Ok(());
                for (i, (k, val)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    r = self.repr(k, out).and_then(|_| {
                        out.push_str(": ");
                        self.repr(val, out)
                    });
                    if r.is_err() {
                        break;
                    }
                }
                self.leave();
                r?;
                out.push('}');
            }
            Value::Set(s) => {
                let items = s.items();
                let name = if s.frozen { "frozenset" } else { "set" };
                if items.is_empty() {
                    out.push_str(name);
                    out.push_str("()");
                    return Ok(());
                }
                let id = Rc::as_ptr(s) as usize;
                if !self.enter(id) {
                    out.push_str(name);
                    out.push_str("(...)");
                    return Ok(());
                }
                if s.frozen {
                    out.push_str("frozenset(");
                }
                out.push('{');
                let r = self.seq(&items, out);
                self.leave();
                r?;
                out.push('}');
                if s.frozen {
                    out.push(')');
                }
            }
            Value::Range(r) => {
                if r[2] == 1 {
                    out.push_str(&format!("range({}, {})", r[0], r[1]))
                } else {
                    out.push_str(&format!("range({}, {}, {})", r[0], r[1], r[2]))
                }
            }
            Value::Slice(s) => {
                out.push_str("slice(");
                self.seq(&s[..], out)?;
                out.push(')');
            }
            Value::Function(f) => out.push_str(&format!(
                "<function {} at {:#x}>",
                f.qualname,
                v.id()
            )),
            Value::Native(n) => match &n.recv {
                Some(r) => out.push_str(&format!(
                    "<built-in method {} of {} object at {:#x}>",
                    n.name,
                    r.type_name(),
                    r.id()
                )),
                None => out.push_str(&format!("<built-in function {}>", n.name)),
            },
            Value::Method(m) => {
                let fname = match &m.func {
                    Value::Function(f) => f.qualname.to_string(),
                    other => other.type_name(),
                };
                out.push_str(&format!("<bound method {fname} of "));
                self.repr(&m.receiver, out)?;
                out.push('>');
            }
            Value::Type(t) => out.push_str(&format!("<class '{}'>", t.qualified())),
            Value::Class(c) => out.push_str(&format!("<class '{}.{}'>", c.module, c.qualname)),
            Value::Instance(i) => {
                if let Some(h) = self.hook.as_mut()
                    && let Some(r) = h(v, false)
                {
                    out.push_str(&r?);
                    return Ok(());
                }
                if i.is_exception() {
                    out.push_str(&i.class.name());
                    out.push('(');
                    let args = i.args.borrow().clone();
                    self.seq(&args, out)?;
                    out.push(')');
                } else {
                    let name = match &i.class {
                        ClassRef::User(c) => format!("{}.{}", c.module, c.qualname),
                        ClassRef::Builtin(t) => t.qualified(),
                    };
                    out.push_str(&format!("<{name} object at {:#x}>", v.id()));
                }
            }
            Value::Module(m) => out.push_str(&format!("<module '{}'>", m.name)),
            Value::Tensor(t) => out.push_str(&match t.np {
                super::tensor::Np::Torch => super::tensor_repr::tensor_repr(&t.t)?,
                super::tensor::Np::Array => super::numpy::array_repr(&t.t)?,
                super::tensor::Np::Scalar => super::numpy::scalar_repr(&t.t)?,
            }),
            Value::Size(s) => {
                let items: Vec<String> = s.iter().map(i64::to_string).collect();
                out.push_str(&format!("torch.Size([{}])", items.join(", ")));
            }
            Value::Dtype(k) => out.push_str(&format!("torch.{}", dtype::name(*k))),
            Value::Device(d) => out.push_str(&dtype::device_repr(*d)),
            Value::Record(r) => {
                let id = Rc::as_ptr(r) as usize;
                if !self.enter(id) {
                    out.push_str("...");
                    return Ok(());
                }
                let fields = r.fields();
                let res = (|| -> PyResult<()> {
                    match r.kind {
                        RecordKind::NamedTuple => {
                            out.push_str(&format!("{}.{}(", r.module, r.class));
                            for (i, (n, fv)) in fields.iter().enumerate() {
                                out.push_str(if i == 0 { "\n" } else { ",\n" });
                                out.push_str(n);
                                out.push('=');
                                self.repr(fv, out)?;
                            }
                            out.push(')');
                        }
                        RecordKind::ModelOutput => {
                            out.push_str(&r.class);
                            out.push('(');
                            for (i, (n, fv)) in fields.iter().enumerate() {
                                if i > 0 {
                                    out.push_str(", ");
                                }
                                out.push_str(n);
                                out.push('=');
                                self.repr(fv, out)?;
                            }
                            out.push(')');
                        }
                    }
                    Ok(())
                })();
                self.leave();
                res?;
            }
            Value::Iter(it) => out.push_str(&format!("<{} object at {:#x}>", it.kind_name(), v.id())),
            Value::Host(h) => {
                if let Some(hk) = self.hook.as_mut()
                    && let Some(r) = hk(v, false)
                {
                    out.push_str(&r?);
                    return Ok(());
                }
                out.push_str(&h.repr());
            }
        }
        Ok(())
    }
}

/// Builtin equality (`==` between builtin values). `None` when the answer needs user code
/// or elementwise tensor comparison (the interpreter decides those).
pub fn builtin_eq(a: &Value, b: &Value, depth: usize) -> Option<bool> {
    if depth > 1000 || stack::guard().is_err() {
        return Option::None;
    }
    use Value::*;
    Some(match (a, b) {
        (None, None) | (Ellipsis, Ellipsis) | (NotImplemented, NotImplemented) => true,
        (Bool(_) | Int(_) | BigInt(_), Bool(_) | Int(_) | BigInt(_)) => {
            int::cmp(a, b) == std::cmp::Ordering::Equal
        }
        (Float(x), Float(y)) => x == y,
        (Bool(_) | Int(_) | BigInt(_), Float(f)) | (Float(f), Bool(_) | Int(_) | BigInt(_)) => {
            let i = if matches!(a, Float(_)) { b } else { a };
            int::cmp_float(i, *f) == Some(std::cmp::Ordering::Equal)
        }
        (Str(x), Str(y)) => x.as_str() == y.as_str(),
        (Bytes(x), Bytes(y)) => x == y,
        (Tuple(x), Tuple(y)) => seq_eq(x, y, depth)?,
        (List(x), List(y)) => {
            if Rc::ptr_eq(x, y) {
                return Some(true);
            }
            let (x, y) = (x.snapshot(), y.snapshot());
            seq_eq(&x, &y, depth)?
        }
        (Size(x), Size(y)) => x == y,
        (Size(s), Tuple(t)) | (Tuple(t), Size(s)) => {
            s.len() == t.len()
                && s.iter()
                    .zip(t.iter())
                    .all(|(i, v)| builtin_eq(&Int(*i), v, depth + 1) == Some(true))
        }
        (Dict(x), Dict(y)) => {
            if Rc::ptr_eq(x, y) {
                return Some(true);
            }
            if x.len() != y.len() {
                return Some(false);
            }
            for (k, v) in x.items() {
                match y.get(&k).ok().flatten() {
                    Option::None => return Some(false),
                    Some(w) => {
                        if !v.is(&w) && !builtin_eq(&v, &w, depth + 1)? {
                            return Some(false);
                        }
                    }
                }
            }
            true
        }
        (Set(x), Set(y)) => {
            x.len() == y.len() && x.items().iter().all(|v| y.contains(v).unwrap_or(false))
        }
        (Range(x), Range(y)) => {
            let (lx, ly) = (range_len(x), range_len(y));
            lx == ly && (lx == 0 || (x[0] == y[0] && (lx == 1 || x[2] == y[2])))
        }
        (Slice(x), Slice(y)) => seq_eq(&x[..], &y[..], depth)?,
        (Dtype(x), Dtype(y)) => x == y,
        (Device(x), Device(y)) => x == y,
        (Type(x), Type(y)) => std::ptr::eq(*x, *y),
        (Tensor(x), _) if x.np == super::tensor::Np::Scalar => {
            let xv = super::numpy::scalar_item(&x.t).ok()?;
            return builtin_eq(&xv, b, depth + 1);
        }
        (_, Tensor(y)) if y.np == super::tensor::Np::Scalar => {
            let yv = super::numpy::scalar_item(&y.t).ok()?;
            return builtin_eq(a, &yv, depth + 1);
        }
        (Instance(_), _) | (_, Instance(_)) | (Tensor(_), _) | (_, Tensor(_)) => {
            if a.is(b) {
                return Some(true);
            }
            return Option::None;
        }
        (Record(x), Record(y)) => {
            if Rc::ptr_eq(x, y) {
                return Some(true);
            }
            let (fx, fy) = (x.items(), y.items());
            fx.len() == fy.len()
                && fx.iter().zip(fy.iter()).all(|((n, v), (m, w))| {
                    n == m && (v.is(w) || builtin_eq(v, w, depth + 1) == Some(true))
                })
        }
        _ => a.is(b),
    })
}

fn seq_eq(x: &[Value], y: &[Value], depth: usize) -> Option<bool> {
    if x.len() != y.len() {
        return Some(false);
    }
    for (a, b) in x.iter().zip(y) {
        if !a.is(b) && !builtin_eq(a, b, depth + 1)? {
            return Some(false);
        }
    }
    Some(true)
}

pub fn range_len(r: &[i64; 3]) -> i64 {
    let (start, stop, step) = (r[0] as i128, r[1] as i128, r[2] as i128);
    let n = if step > 0 && start < stop {
        (stop - start + step - 1) / step
    } else if step < 0 && start > stop {
        (start - stop - step - 1) / (-step)
    } else {
        0
    };
    n.min(i64::MAX as i128) as i64
}

/// A type error for an operation the value does not support.
pub fn unsupported_operand(op: &str, a: &Value, b: &Value) -> PyErr {
    let is_seq = |v: &Value| matches!(v, Value::List(_) | Value::Str(_) | Value::Tuple(_) | Value::Bytes(_));
    if matches!(op, "*" | "*=") && (is_seq(a) || is_seq(b)) {
        // Sequence repetition tried first on the left, then the right sequence's `__rmul__`.
        let other = if is_seq(a) { b } else { a };
        return PyErr::type_error(format!("can't multiply sequence by non-int of type '{}'", other.type_name()));
    }
    if matches!(op, "**" | "**=") {
        return PyErr::type_error(format!(
            "unsupported operand type(s) for ** or pow(): '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ));
    }
    if matches!(op, "+" | "+=") && matches!(a, Value::List(_) | Value::Str(_) | Value::Tuple(_) | Value::Bytes(_)) {
        let t = a.type_name();
        if !matches!(a, Value::Bytes(_)) {
            return PyErr::type_error(format!("can only concatenate {t} (not \"{}\") to {t}", b.type_name()));
        }
        return PyErr::type_error(format!("can't concat {} to bytes", b.type_name()));
    }
    PyErr::type_error(format!(
        "unsupported operand type(s) for {op}: '{}' and '{}'",
        a.type_name(),
        b.type_name()
    ))
}
