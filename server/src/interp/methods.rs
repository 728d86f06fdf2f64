//! Methods of builtin types (`str`, `list`, `dict`, `set`, `tuple`, `int`, `float`,
//! `bytes`, `range`, `torch.Size`, `slice`, records), one function each, looked up by
//! name and bound to their receiver; the same functions serve the unbound forms
//! (`str.join`, `dict.fromkeys`).

use std::any::Any;
use std::rc::Rc;

use super::Interp;
use super::call::Kwargs;
use super::host::HostObj;
use super::iter::PyIter;
use crate::value::object::{Aux, Native};
use crate::value::types::{self, TypeObj};
use crate::value::{Dict, List, NativeFn, PyErr, PyResult, RecordKind, Set, Value, ctx, int, repr};

fn recv(n: &Native, args: &mut Vec<Value>) -> PyResult<Value> {
    match &n.recv {
        Some(r) => Ok(r.clone()),
        None => {
            if args.is_empty() {
                return Err(PyErr::type_error(format!(
                    "unbound method {}() needs an argument",
                    n.name
                )));
            }
            Ok(args.remove(0))
        }
    }
}

fn argc(n: &Native, args: &[Value], min: usize, max: usize) -> PyResult<()> {
    if args.len() < min || args.len() > max {
        let name = &n.name;
        return Err(PyErr::type_error(if min == max && min == 0 {
            format!("{name}() takes no arguments ({} given)", args.len())
        } else if min == max {
            format!("{name}() takes exactly one argument ({} given)", args.len())
        } else if args.len() < min {
            format!("{name} expected at least {min} argument{}, got {}", if min == 1 { "" } else { "s" }, args.len())
        } else {
            format!("{name} expected at most {max} argument{}, got {}", if max == 1 { "" } else { "s" }, args.len())
        }));
    }
    Ok(())
}

fn nokw(n: &Native, kw: &Kwargs) -> PyResult<()> {
    if !kw.is_empty() {
        return Err(PyErr::type_error(format!("{}() takes no keyword arguments", n.name)));
    }
    Ok(())
}

fn kwarg(kw: &mut Kwargs, name: &str) -> Option<Value> {
    let i = kw.iter().position(|(k, _)| k.as_ref() == name)?;
    Some(kw.remove(i).1)
}

fn s_of(v: &Value) -> PyResult<Rc<crate::value::PyStr>> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(PyErr::type_error(format!(
            "descriptor requires a 'str' object but received a '{}'",
            other.type_name()
        ))),
    }
}

fn str_arg(v: &Value, what: &str) -> PyResult<String> {
    match v {
        Value::Str(s) => Ok(s.as_str().to_string()),
        other => Err(PyErr::type_error(format!(
            "{what} must be str, not {}",
            other.type_name()
        ))),
    }
}

fn opt_int(v: Option<&Value>) -> PyResult<Option<i64>> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(x) => x
            .as_int()
            .map(Some)
            .ok_or_else(|| PyErr::type_error("slice indices must be integers or None or have an __index__ method")),
    }
}

/// A bound method of a builtin value, if it has one by that name.
pub fn bound(obj: &Value, name: &str) -> Option<Value> {
    let f = method_fn(obj.builtin_type(), obj, name)?;
    Some(Native::with_aux(name, Some(obj.clone()), f, Aux::None))
}

/// `Type.method` unbound (`str.join`, `dict.fromkeys`).
pub fn unbound(t: &'static TypeObj, name: &str) -> Option<Value> {
    if std::ptr::eq(t, &types::DICT) && name == "fromkeys" {
        return Some(Native::value("fromkeys", dict_fromkeys));
    }
    if std::ptr::eq(t, &types::INT) && name == "from_bytes" {
        return Some(Native::value("from_bytes", int_from_bytes));
    }
    if std::ptr::eq(t, &types::TENSOR) {
        return super::torch::unbound_method(name);
    }
    let probe = match t.name {
        "str" => Value::str(""),
        "list" => Value::list(vec![]),
        "dict" => Value::Dict(Dict::new()),
        "tuple" => Value::tuple(vec![]),
        "int" => Value::Int(0),
        "float" => Value::Float(0.0),
        _ => return None,
    };
    let f = method_fn(t, &probe, name)?;
    Some(Native::with_aux(name, None, f, Aux::None))
}

fn method_fn(t: &'static TypeObj, obj: &Value, name: &str) -> Option<NativeFn> {
    match obj {
        Value::Str(_) => str_method(name),
        Value::List(_) => list_method(name),
        Value::Dict(_) => dict_method(name),
        Value::Set(s) => set_method(name, s.frozen),
        Value::Tuple(_) => tuple_method(name),
        Value::Size(_) => size_method(name),
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => int_method(name),
        Value::Float(_) => float_method(name),
        Value::Bytes(_) => bytes_method(name),
        Value::Range(_) => match name {
            "count" | "index" => tuple_method(name),
            _ => None,
        },
        Value::Slice(_) => (name == "indices").then_some(slice_indices as NativeFn),
        _ => {
            let _ = t;
            None
        }
    }
}

// ---- str ---------------------------------------------------------------------------

fn str_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "upper" => |_, n, mut a, _| Ok(Value::string(s_of(&recv(n, &mut a)?)?.as_str().to_uppercase())),
        "lower" | "casefold" => |_, n, mut a, _| Ok(Value::string(s_of(&recv(n, &mut a)?)?.as_str().to_lowercase())),
        "title" => |_, n, mut a, _| Ok(Value::string(title(s_of(&recv(n, &mut a)?)?.as_str()))),
        "capitalize" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            let mut c = s.as_str().chars();
            Ok(Value::string(match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }))
        },
        "swapcase" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::string(
                s.as_str()
                    .chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect::<Vec<_>>()
                        }
                    })
                    .collect(),
            ))
        },
        "strip" | "lstrip" | "rstrip" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 0, 1)?;
            let chars: Option<Vec<char>> = match a.first() {
                None | Some(Value::None) => None,
                Some(v) => Some(str_arg(v, "strip arg")?.chars().collect()),
            };
            let pred = |c: char| match &chars {
                Some(cs) => cs.contains(&c),
                None => c.is_whitespace(),
            };
            let t = s.as_str();
            Ok(Value::str(match n.name.as_ref() {
                "strip" => t.trim_matches(pred),
                "lstrip" => t.trim_start_matches(pred),
                _ => t.trim_end_matches(pred),
            }))
        },
        "split" | "rsplit" => |_, n, mut a, mut kw| {
            let s = s_of(&recv(n, &mut a)?)?;
            let sep = kwarg(&mut kw, "sep").or_else(|| a.first().cloned());
            let maxsplit = kwarg(&mut kw, "maxsplit").or_else(|| a.get(1).cloned());
            let maxsplit = opt_int(maxsplit.as_ref())?.unwrap_or(-1);
            let parts = split(s.as_str(), sep.as_ref(), maxsplit, n.name.as_ref() == "rsplit")?;
            Ok(Value::List(List::checked(parts.into_iter().map(Value::string).collect())?))
        },
        "splitlines" => |_, n, mut a, mut kw| {
            let s = s_of(&recv(n, &mut a)?)?;
            let keep = kwarg(&mut kw, "keepends").or_else(|| a.first().cloned()).is_some_and(|v| matches!(v, Value::Bool(true)));
            let mut out = Vec::new();
            let mut cur = String::new();
            let mut chars = s.as_str().chars().peekable();
            while let Some(c) = chars.next() {
                if matches!(c, '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}') {
                    if keep {
                        cur.push(c);
                    }
                    if c == '\r' && chars.peek() == Some(&'\n') {
                        chars.next();
                        if keep {
                            cur.push('\n');
                        }
                    }
                    out.push(Value::string(std::mem::take(&mut cur)));
                } else {
                    cur.push(c);
                }
            }
            if !cur.is_empty() {
                out.push(Value::string(cur));
            }
            Ok(Value::List(List::checked(out)?))
        },
        "join" => |it, n, mut a, kw| {
            nokw(n, &kw)?;
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let items = it.collect(&a[0])?;
            let mut parts = Vec::with_capacity(items.len());
            let mut total = 0usize;
            for (i, v) in items.iter().enumerate() {
                match v {
                    Value::Str(x) => {
                        total += x.as_str().len() + s.as_str().len();
                        ctx::check_str_len(total)?;
                        parts.push(x.as_str().to_string());
                    }
                    other => {
                        return Err(PyErr::type_error(format!(
                            "sequence item {i}: expected str instance, {} found",
                            other.type_name()
                        )));
                    }
                }
            }
            Ok(Value::string(parts.join(s.as_str())))
        },
        "replace" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 2, 3)?;
            let old = str_arg(&a[0], "replace() argument 1")?;
            let new = str_arg(&a[1], "replace() argument 2")?;
            let count = opt_int(a.get(2))?.unwrap_or(-1);
            let occurrences = if old.is_empty() { s.len() + 1 } else { s.as_str().matches(old.as_str()).count() };
            let n_repl = if count < 0 { occurrences } else { (count as usize).min(occurrences) };
            ctx::check_str_len(s.as_str().len() + n_repl.saturating_mul(new.len()))?;
            Ok(Value::string(if count < 0 {
                s.as_str().replace(&old, &new)
            } else {
                s.as_str().replacen(&old, &new, count as usize)
            }))
        },
        "startswith" | "endswith" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 3)?;
            let start = opt_int(a.get(1))?;
            let end = opt_int(a.get(2))?;
            let sl = crate::interp::ops::slice_bounds(&[start.map_or(Value::None, Value::Int), end.map_or(Value::None, Value::Int), Value::None], s.len())?;
            let (lo, hi) = (sl.0.max(0) as usize, (sl.1.max(sl.0)).max(0) as usize);
            let text: String = s.as_str().chars().skip(lo).take(hi.saturating_sub(lo)).collect();
            let check = |p: &str| if n.name.as_ref() == "startswith" { text.starts_with(p) } else { text.ends_with(p) };
            match &a[0] {
                Value::Str(p) => Ok(Value::Bool(check(p.as_str()))),
                Value::Tuple(ps) => {
                    for p in ps.iter() {
                        if check(&str_arg(p, "tuple for startswith")?) {
                            return Ok(Value::Bool(true));
                        }
                    }
                    Ok(Value::Bool(false))
                }
                other => Err(PyErr::type_error(format!(
                    "{} first arg must be str or a tuple of str, not {}",
                    n.name,
                    other.type_name()
                ))),
            }
        },
        "find" | "rfind" | "index" | "rindex" | "count" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 3)?;
            let sub = str_arg(&a[0], "must be str")?;
            let (lo, hi, _) = crate::interp::ops::slice_bounds(
                &[a.get(1).cloned().unwrap_or(Value::None), a.get(2).cloned().unwrap_or(Value::None), Value::None],
                s.len(),
            )?;
            let (lo, hi) = (lo.max(0) as usize, hi.max(lo).max(0) as usize);
            let (blo, bhi) = (s.byte_offset(lo), s.byte_offset(hi.min(s.len())));
            let hay = &s.as_str()[blo..bhi];
            match n.name.as_ref() {
                "count" => Ok(Value::Int(if sub.is_empty() {
                    hay.chars().count() as i64 + 1
                } else {
                    hay.matches(sub.as_str()).count() as i64
                })),
                name => {
                    let pos = if name.starts_with('r') { hay.rfind(&sub) } else { hay.find(&sub) };
                    match pos {
                        Some(p) => Ok(Value::Int(s.char_index(blo + p) as i64)),
                        None if name.ends_with("find") => Ok(Value::Int(-1)),
                        None => Err(PyErr::value_error("substring not found")),
                    }
                }
            }
        },
        "format" => |it, n, mut a, kw| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::string(it.str_format(s.as_str(), &a, &kw)?))
        },
        "format_map" => |it, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let kw: Kwargs = it
                .mapping_items(&a[0])?
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|s| (Rc::from(s), v)))
                .collect();
            Ok(Value::string(it.str_format(s.as_str(), &[], &kw)?))
        },
        "isdigit" | "isdecimal" | "isnumeric" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bool(!s.is_empty() && s.chars().all(|c| c.is_numeric())))
        },
        "isalpha" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bool(!s.is_empty() && s.chars().all(char::is_alphabetic)))
        },
        "isalnum" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bool(!s.is_empty() && s.chars().all(char::is_alphanumeric)))
        },
        "isspace" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bool(!s.is_empty() && s.chars().all(char::is_whitespace)))
        },
        "isupper" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bool(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase)))
        },
        "islower" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bool(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase)))
        },
        "isidentifier" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            let mut c = s.chars();
            Ok(Value::Bool(
                c.next().is_some_and(|f| f == '_' || f.is_alphabetic()) && c.all(|x| x == '_' || x.is_alphanumeric()),
            ))
        },
        "zfill" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let w = a[0].as_int().unwrap_or(0).max(0) as usize;
            ctx::check_str_len(w)?;
            let t = s.as_str();
            if s.len() >= w {
                return Ok(Value::str(t));
            }
            let (sign, rest) = match t.chars().next() {
                Some(c @ ('+' | '-')) => (c.to_string(), &t[1..]),
                _ => (String::new(), t),
            };
            Ok(Value::string(format!("{sign}{}{rest}", "0".repeat(w - s.len()))))
        },
        "center" | "ljust" | "rjust" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 2)?;
            let w = a[0].as_int().unwrap_or(0).max(0) as usize;
            ctx::check_str_len(w)?;
            let fill = match a.get(1) {
                Some(Value::Str(f)) if f.len() == 1 => f.char_at(0),
                Some(_) => return Err(PyErr::type_error("The fill character must be exactly one character long")),
                None => ' ',
            };
            let len = s.len();
            if len >= w {
                return Ok(Value::str(s.as_str()));
            }
            let pad = w - len;
            let fs = |k: usize| fill.to_string().repeat(k);
            Ok(Value::string(match n.name.as_ref() {
                "ljust" => format!("{}{}", s.as_str(), fs(pad)),
                "rjust" => format!("{}{}", fs(pad), s.as_str()),
                _ => {
                    let left = pad / 2 + (pad & w & 1);
                    format!("{}{}{}", fs(left), s.as_str(), fs(pad - left))
                }
            }))
        },
        "partition" | "rpartition" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let sep = str_arg(&a[0], "must be str")?;
            if sep.is_empty() {
                return Err(PyErr::value_error("empty separator"));
            }
            let t = s.as_str();
            let pos = if n.name.as_ref() == "partition" { t.find(&sep) } else { t.rfind(&sep) };
            Ok(Value::tuple(match pos {
                Some(p) => vec![Value::str(&t[..p]), Value::str(&sep), Value::str(&t[p + sep.len()..])],
                None if n.name.as_ref() == "partition" => vec![Value::str(t), Value::str(""), Value::str("")],
                None => vec![Value::str(""), Value::str(""), Value::str(t)],
            }))
        },
        "removeprefix" | "removesuffix" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let p = str_arg(&a[0], "must be str")?;
            let t = s.as_str();
            Ok(Value::str(if n.name.as_ref() == "removeprefix" {
                t.strip_prefix(p.as_str()).unwrap_or(t)
            } else {
                t.strip_suffix(p.as_str()).unwrap_or(t)
            }))
        },
        "encode" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            Ok(Value::Bytes(Rc::new(s.as_str().as_bytes().to_vec())))
        },
        "expandtabs" => |_, n, mut a, _| {
            let s = s_of(&recv(n, &mut a)?)?;
            let size = a.first().and_then(Value::as_int).unwrap_or(8).max(0) as usize;
            let mut out = String::new();
            let mut col = 0;
            for c in s.chars() {
                match c {
                    '\t' => {
                        let k = if size == 0 { 0 } else { size - col % size };
                        out.push_str(&" ".repeat(k));
                        col += k;
                    }
                    '\n' | '\r' => {
                        out.push(c);
                        col = 0;
                    }
                    c => {
                        out.push(c);
                        col += 1;
                    }
                }
            }
            Ok(Value::string(out))
        },
        _ => return None,
    })
}

fn title(s: &str) -> String {
    let mut out = String::new();
    let mut prev_cased = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_cased = true;
        } else {
            out.push(c);
            prev_cased = false;
        }
    }
    out
}

fn split(s: &str, sep: Option<&Value>, maxsplit: i64, from_right: bool) -> PyResult<Vec<String>> {
    let limit = if maxsplit < 0 { usize::MAX } else { maxsplit as usize };
    match sep {
        None | Some(Value::None) => {
            let words: Vec<&str> = s.split_whitespace().collect();
            if limit >= words.len() {
                return Ok(words.into_iter().map(str::to_string).collect());
            }
            // Keep the remainder (with its inner whitespace) as the last piece.
            let mut out = Vec::new();
            if !from_right {
                let mut rest = s.trim_start();
                for _ in 0..limit {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    out.push(rest[..end].to_string());
                    rest = rest[end..].trim_start();
                }
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
            } else {
                let mut rest = s.trim_end();
                for _ in 0..limit {
                    let start = rest.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                    out.push(rest[start..].to_string());
                    rest = rest[..start].trim_end();
                }
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
                out.reverse();
            }
            Ok(out)
        }
        Some(v) => {
            let sep = str_arg(v, "must be str or None")?;
            if sep.is_empty() {
                return Err(PyErr::value_error("empty separator"));
            }
            let parts: Vec<String> = if from_right {
                let mut p: Vec<String> = s.rsplitn(limit.saturating_add(1), sep.as_str()).map(str::to_string).collect();
                p.reverse();
                p
            } else {
                s.splitn(limit.saturating_add(1), sep.as_str()).map(str::to_string).collect()
            };
            Ok(parts)
        }
    }
}

// ---- list --------------------------------------------------------------------------

fn l_of(v: &Value) -> PyResult<Rc<List>> {
    match v {
        Value::List(l) => Ok(l.clone()),
        other => Err(PyErr::type_error(format!(
            "descriptor requires a 'list' object but received a '{}'",
            other.type_name()
        ))),
    }
}

fn list_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "append" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            l.push(a.pop().unwrap_or(Value::None))?;
            Ok(Value::None)
        },
        "extend" => |it, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let items = it.collect(&a[0])?;
            l.extend(items)?;
            Ok(Value::None)
        },
        "insert" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            if a.len() != 2 {
                return Err(PyErr::type_error(format!("insert expected 2 arguments, got {}", a.len())));
            }
            let i = a[0].as_int().ok_or_else(|| PyErr::type_error(format!("'{}' object cannot be interpreted as an integer", a[0].type_name())))?;
            ctx::check_len(l.len() + 1, "list")?;
            let len = l.len() as i64;
            let j = if i < 0 { (i + len).max(0) } else { i.min(len) } as usize;
            l.borrow_mut().insert(j, a[1].clone());
            Ok(Value::None)
        },
        "pop" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            argc(n, &a, 0, 1)?;
            let len = l.len() as i64;
            if len == 0 {
                return Err(PyErr::index_error("pop from empty list"));
            }
            let i = a.first().and_then(Value::as_int).unwrap_or(-1);
            let j = if i < 0 { i + len } else { i };
            if !(0..len).contains(&j) {
                return Err(PyErr::index_error("pop index out of range"));
            }
            let v = l.borrow_mut().remove(j as usize);
            Ok(v)
        },
        "remove" => |it, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let items = l.snapshot();
            for (i, v) in items.iter().enumerate() {
                if it.eq(v, &a[0])? {
                    l.borrow_mut().remove(i);
                    return Ok(Value::None);
                }
            }
            Err(PyErr::value_error("list.remove(x): x not in list"))
        },
        "index" => |it, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 3)?;
            let items = l.snapshot();
            let (lo, hi, _) = crate::interp::ops::slice_bounds(
                &[a.get(1).cloned().unwrap_or(Value::None), a.get(2).cloned().unwrap_or(Value::None), Value::None],
                items.len(),
            )?;
            for i in lo.max(0)..hi.max(0) {
                if it.eq(&items[i as usize], &a[0])? {
                    return Ok(Value::Int(i));
                }
            }
            Err(PyErr::value_error(format!("{} is not in list", it.repr(&a[0])?)))
        },
        "count" => |it, n, mut a, kw| {
            nokw(n, &kw)?;
            let l = l_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let mut c = 0;
            for v in l.snapshot() {
                if it.eq(&v, &a[0])? {
                    c += 1;
                }
            }
            Ok(Value::Int(c))
        },
        "sort" => |it, n, mut a, mut kw| {
            let l = l_of(&recv(n, &mut a)?)?;
            if !a.is_empty() {
                return Err(PyErr::type_error("sort() takes no positional arguments"));
            }
            let key = kwarg(&mut kw, "key");
            let reverse = match kwarg(&mut kw, "reverse") {
                Some(v) => it.truthy(&v)?,
                None => false,
            };
            let items = l.snapshot();
            let sorted = super::builtins::sort_values(it, items, key.as_ref(), reverse)?;
            l.replace(sorted);
            Ok(Value::None)
        },
        "reverse" => |_, n, mut a, _| {
            let l = l_of(&recv(n, &mut a)?)?;
            l.borrow_mut().reverse();
            Ok(Value::None)
        },
        "copy" => |_, n, mut a, _| {
            let l = l_of(&recv(n, &mut a)?)?;
            Ok(Value::List(List::new(l.snapshot())))
        },
        "clear" => |_, n, mut a, _| {
            let l = l_of(&recv(n, &mut a)?)?;
            let old = std::mem::take(&mut *l.borrow_mut());
            drop(old);
            Ok(Value::None)
        },
        _ => return None,
    })
}

// ---- tuple, Size, range ----------------------------------------------------------------

fn tuple_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "count" => |it, n, mut a, _| {
            let t = recv(n, &mut a)?;
            argc(n, &a, 1, 1)?;
            let mut c = 0;
            for v in it.collect(&t)? {
                if it.eq(&v, &a[0])? {
                    c += 1;
                }
            }
            Ok(Value::Int(c))
        },
        "index" => |it, n, mut a, _| {
            let t = recv(n, &mut a)?;
            argc(n, &a, 1, 3)?;
            for (i, v) in it.collect(&t)?.iter().enumerate() {
                if it.eq(v, &a[0])? {
                    return Ok(Value::Int(i as i64));
                }
            }
            Err(PyErr::value_error(match t {
                Value::Range(_) => format!("{} is not in range", it.repr(&a[0])?),
                _ => "tuple.index(x): x not in tuple".to_string(),
            }))
        },
        _ => return None,
    })
}

fn size_method(name: &str) -> Option<NativeFn> {
    match name {
        "numel" => Some(|_, n, mut a, _| {
            let s = recv(n, &mut a)?;
            let Value::Size(d) = s else { return Err(PyErr::type_error("numel of a non-Size")) };
            Ok(Value::Int(d.iter().product()))
        }),
        other => tuple_method(other),
    }
}

// ---- numbers --------------------------------------------------------------------------

fn int_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "bit_length" => |_, n, mut a, _| Ok(Value::Int(int::bit_length(&recv(n, &mut a)?))),
        "conjugate" | "__index__" | "__int__" => |_, n, mut a, _| {
            let v = recv(n, &mut a)?;
            Ok(match v {
                Value::Bool(b) => Value::Int(i64::from(b)),
                o => o,
            })
        },
        "as_integer_ratio" => |_, n, mut a, _| {
            let v = recv(n, &mut a)?;
            Ok(Value::tuple(vec![v, Value::Int(1)]))
        },
        "is_integer" => |_, _, _, _| Ok(Value::Bool(true)),
        "bit_count" => |_, n, mut a, _| {
            let v = int::big(&recv(n, &mut a)?).unwrap_or_default();
            Ok(Value::Int(v.magnitude().count_ones() as i64))
        },
        "to_bytes" => |_, n, mut a, kw| {
            let v = int::big(&recv(n, &mut a)?).unwrap_or_default();
            let mut a = a.into_iter();
            let length = a.next().or_else(|| kw_get(&kw, "length")).map_or(Ok(1), |l| l.as_int().ok_or_else(|| PyErr::type_error("length must be an int")))?;
            let order = a.next().or_else(|| kw_get(&kw, "byteorder")).map_or(Ok("big".to_string()), |o| o.as_str().map(str::to_string).ok_or_else(|| PyErr::type_error("byteorder must be str")))?;
            let signed = kw_get(&kw, "signed").is_some_and(|s| matches!(s, Value::Bool(true)));
            if length < 0 {
                return Err(PyErr::value_error("length argument must be non-negative"));
            }
            crate::value::ctx::check_str_len(length as usize)?;
            if v.sign() == num_bigint::Sign::Minus && !signed {
                return Err(PyErr::overflow("can't convert negative int to unsigned"));
            }
            let mut le = if signed { v.to_signed_bytes_le() } else { v.magnitude().to_bytes_le() };
            if v.sign() == num_bigint::Sign::NoSign {
                le.clear();
            }
            if le.len() > length as usize {
                return Err(PyErr::overflow("int too big to convert"));
            }
            let fill = if v.sign() == num_bigint::Sign::Minus { 0xff } else { 0 };
            le.resize(length as usize, fill);
            if order == "big" {
                le.reverse();
            } else if order != "little" {
                return Err(PyErr::value_error("byteorder must be either 'little' or 'big'"));
            }
            Ok(Value::Bytes(std::rc::Rc::new(le)))
        },
        _ => return None,
    })
}

fn kw_get(kw: &[(std::rc::Rc<str>, Value)], name: &str) -> Option<Value> {
    kw.iter().find(|(k, _)| k.as_ref() == name).map(|(_, v)| v.clone())
}

/// `int.from_bytes(bytes, byteorder='big', *, signed=False)`.
fn int_from_bytes(_it: &mut Interp, _n: &Native, args: Vec<Value>, kw: Vec<(std::rc::Rc<str>, Value)>) -> PyResult<Value> {
    let mut a = args.into_iter();
    let data = match a.next().or_else(|| kw_get(&kw, "bytes")) {
        Some(Value::Bytes(b)) => b.as_ref().clone(),
        Some(Value::List(l)) => l.snapshot().iter().map(|x| x.as_int().unwrap_or(0) as u8).collect(),
        _ => return Err(PyErr::type_error("cannot convert to bytes")),
    };
    let order = a.next().or_else(|| kw_get(&kw, "byteorder")).and_then(|o| o.as_str().map(str::to_string)).unwrap_or_else(|| "big".into());
    let signed = kw_get(&kw, "signed").is_some_and(|s| matches!(s, Value::Bool(true)));
    let v = match (order.as_str(), signed) {
        ("big", false) => num_bigint::BigInt::from_bytes_be(num_bigint::Sign::Plus, &data),
        ("little", false) => num_bigint::BigInt::from_bytes_le(num_bigint::Sign::Plus, &data),
        ("big", true) => num_bigint::BigInt::from_signed_bytes_be(&data),
        ("little", true) => num_bigint::BigInt::from_signed_bytes_le(&data),
        _ => return Err(PyErr::value_error("byteorder must be either 'little' or 'big'")),
    };
    Ok(int::normalize(v))
}

fn bytes_map(v: Value, f: fn(&u8) -> u8) -> PyResult<Value> {
    let Value::Bytes(b) = v else { return Err(PyErr::type_error("bytes expected")) };
    Ok(Value::Bytes(Rc::new(b.iter().map(f).collect())))
}

fn float_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "is_integer" => |_, n, mut a, _| match recv(n, &mut a)? {
            Value::Float(f) => Ok(Value::Bool(f.is_finite() && f.fract() == 0.0)),
            _ => Ok(Value::Bool(false)),
        },
        "conjugate" | "__float__" => |_, n, mut a, _| recv(n, &mut a),
        "as_integer_ratio" => |_, n, mut a, _| {
            let Value::Float(f) = recv(n, &mut a)? else { return Err(PyErr::type_error("float expected")) };
            if !f.is_finite() {
                return Err(PyErr::value_error("cannot convert Infinity to integer ratio"));
            }
            let bits = f.to_bits();
            let exp = ((bits >> 52) & 0x7ff) as i64;
            let mant = if exp == 0 { (bits & ((1 << 52) - 1)) << 1 } else { (bits & ((1 << 52) - 1)) | (1 << 52) } as i64;
            let mut num = num_bigint::BigInt::from(mant);
            let mut den = num_bigint::BigInt::from(1);
            let e = exp - 1075;
            if e > 0 {
                num <<= e as usize;
            } else {
                den <<= (-e) as usize;
            }
            let g = num_integer::Integer::gcd(&num, &den);
            let (num, den) = (num / &g, den / &g);
            let num = if f < 0.0 { -num } else { num };
            Ok(Value::tuple(vec![Value::from_bigint(num), Value::from_bigint(den)]))
        },
        "hex" => |_, n, mut a, _| {
            let Value::Float(f) = recv(n, &mut a)? else { return Err(PyErr::type_error("float expected")) };
            Ok(Value::string(format!("{f:e}")))
        },
        _ => return None,
    })
}

fn bytes_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "decode" => |_, n, mut a, _| {
            let Value::Bytes(b) = recv(n, &mut a)? else { return Err(PyErr::type_error("bytes expected")) };
            String::from_utf8(b.as_ref().clone())
                .map(Value::string)
                .map_err(|e| PyErr::new(&types::UNICODE_ERROR, format!("'utf-8' codec can't decode bytes: {e}")))
        },
        "hex" => |_, n, mut a, _| {
            let Value::Bytes(b) = recv(n, &mut a)? else { return Err(PyErr::type_error("bytes expected")) };
            Ok(Value::string(b.iter().map(|x| format!("{x:02x}")).collect()))
        },
        "upper" => |_, n, mut a, _| bytes_map(recv(n, &mut a)?, |b| b.to_ascii_uppercase()),
        "lower" => |_, n, mut a, _| bytes_map(recv(n, &mut a)?, |b| b.to_ascii_lowercase()),
        "strip" | "lstrip" | "rstrip" | "startswith" | "endswith" | "split" | "replace" | "find" | "count" | "join" | "index" => |it, n, mut a, kw| {
            // The rest of bytes' methods behave as str's do on its latin-1 text.
            let Value::Bytes(b) = recv(n, &mut a)? else { return Err(PyErr::type_error("bytes expected")) };
            let as_text = |v: Value| match v {
                Value::Bytes(x) => Ok(Value::string(x.iter().map(|&c| c as char).collect())),
                Value::List(_) | Value::Tuple(_) => Ok(v),
                Value::None => Ok(v),
                i @ (Value::Int(_) | Value::Bool(_)) => Ok(i),
                other => Err(PyErr::type_error(format!("a bytes-like object is required, not '{}'", other.type_name()))),
            };
            let args = a.into_iter().map(as_text).collect::<PyResult<Vec<_>>>()?;
            let args = match (n.name.as_ref(), args.first()) {
                ("join", Some(items)) => {
                    let parts = it.collect(items)?.into_iter().map(as_text).collect::<PyResult<Vec<_>>>()?;
                    vec![Value::list(parts)]
                }
                _ => args,
            };
            let text = Value::string(b.iter().map(|&c| c as char).collect());
            let m = bound(&text, &n.name).ok_or_else(|| PyErr::attribute_error("no such method"))?;
            let r = it.call(&m, args, kw)?;
            let back = |v: &Value| match v {
                Value::Str(s) => Value::Bytes(Rc::new(s.as_str().chars().map(|c| c as u32 as u8).collect())),
                other => other.clone(),
            };
            Ok(match &r {
                Value::List(l) => Value::list(l.snapshot().iter().map(back).collect()),
                other => back(other),
            })
        },
        _ => return None,
    })
}

fn slice_indices(_: &mut Interp, n: &Native, mut a: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    let Value::Slice(s) = recv(n, &mut a)? else {
        return Err(PyErr::type_error("slice expected"));
    };
    argc(n, &a, 1, 1)?;
    let len = a[0].as_int().ok_or_else(|| PyErr::type_error("length must be an int"))?;
    if len < 0 {
        return Err(PyErr::value_error("length should not be negative"));
    }
    let (lo, hi, st) = crate::interp::ops::slice_bounds(&s, len as usize)?;
    Ok(Value::tuple(vec![Value::Int(lo), Value::Int(hi), Value::Int(st)]))
}

// ---- dict ---------------------------------------------------------------------------------

fn d_of(v: &Value) -> PyResult<Rc<Dict>> {
    match v {
        Value::Dict(d) => Ok(d.clone()),
        other => Err(PyErr::type_error(format!(
            "descriptor requires a 'dict' object but received a '{}'",
            other.type_name()
        ))),
    }
}

fn dict_fromkeys(it: &mut Interp, _: &Native, a: Vec<Value>, _: Kwargs) -> PyResult<Value> {
    if a.is_empty() || a.len() > 2 {
        return Err(PyErr::type_error("fromkeys expected 1 or 2 arguments"));
    }
    let d = Dict::new();
    let v = a.get(1).cloned().unwrap_or(Value::None);
    for k in it.collect(&a[0])? {
        d.insert(k, v.clone())?;
    }
    Ok(Value::Dict(d))
}

fn dict_method(name: &str) -> Option<NativeFn> {
    Some(match name {
        "keys" | "values" | "items" => |_, n, mut a, _| {
            let d = d_of(&recv(n, &mut a)?)?;
            let kind = match n.name.as_ref() {
                "keys" => ViewKind::Keys,
                "values" => ViewKind::Values,
                _ => ViewKind::Items,
            };
            let v: Rc<dyn HostObj> = Rc::new(DictView { dict: d, kind });
            Ok(Value::Host(v))
        },
        "get" => |_, n, mut a, kw| {
            nokw(n, &kw)?;
            let d = d_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 2)?;
            Ok(d.get(&a[0])?.unwrap_or_else(|| a.get(1).cloned().unwrap_or(Value::None)))
        },
        "pop" => |_, n, mut a, _| {
            let d = d_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 2)?;
            match d.remove(&a[0])? {
                Some(v) => Ok(v),
                None => a.get(1).cloned().ok_or_else(|| PyErr::key_error(a[0].clone())),
            }
        },
        "popitem" => |_, n, mut a, _| {
            let d = d_of(&recv(n, &mut a)?)?;
            let (k, v) = d.pop_last().ok_or_else(|| PyErr::key_error_text("popitem(): dictionary is empty"))?;
            Ok(Value::tuple(vec![k, v]))
        },
        "setdefault" => |_, n, mut a, _| {
            let d = d_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 2)?;
            if let Some(v) = d.get(&a[0])? {
                return Ok(v);
            }
            let v = a.get(1).cloned().unwrap_or(Value::None);
            d.insert(a[0].clone(), v.clone())?;
            Ok(v)
        },
        "update" => |it, n, mut a, kw| {
            let d = d_of(&recv(n, &mut a)?)?;
            argc(n, &a, 0, 1)?;
            if let Some(src) = a.first() {
                let pairs = match src {
                    Value::Dict(_) | Value::Record(_) => it.mapping_items(src)?,
                    other => {
                        let mut out = Vec::new();
                        for item in it.collect(other)? {
                            let kv = it.collect(&item)?;
                            if kv.len() != 2 {
                                return Err(PyErr::value_error("dictionary update sequence element has length != 2"));
                            }
                            out.push((kv[0].clone(), kv[1].clone()));
                        }
                        out
                    }
                };
                for (k, v) in pairs {
                    d.insert(k, v)?;
                }
            }
            for (k, v) in kw {
                d.insert(Value::str(&k), v)?;
            }
            Ok(Value::None)
        },
        "copy" => |_, n, mut a, _| {
            let d = d_of(&recv(n, &mut a)?)?;
            Ok(Value::Dict(Dict::with_table(d.table_clone())))
        },
        "clear" => |_, n, mut a, _| {
            d_of(&recv(n, &mut a)?)?.clear();
            Ok(Value::None)
        },
        _ => return None,
    })
}

impl PyErr {
    fn key_error_text(msg: &str) -> PyErr {
        PyErr::with_args(&types::KEY_ERROR, format!("'{msg}'"), vec![Value::str(msg)])
    }
}

#[derive(Clone, Copy, PartialEq)]
enum ViewKind {
    Keys,
    Values,
    Items,
}

/// `dict.keys()` / `.values()` / `.items()`: live views over the dict.
struct DictView {
    dict: Rc<Dict>,
    kind: ViewKind,
}

impl DictView {
    fn items(&self) -> Vec<Value> {
        match self.kind {
            ViewKind::Keys => self.dict.keys(),
            ViewKind::Values => self.dict.values(),
            ViewKind::Items => self.dict.items().into_iter().map(|(k, v)| Value::tuple(vec![k, v])).collect(),
        }
    }
}

impl HostObj for DictView {
    fn type_name(&self) -> &str {
        match self.kind {
            ViewKind::Keys => "dict_keys",
            ViewKind::Values => "dict_values",
            ViewKind::Items => "dict_items",
        }
    }
    fn repr(&self) -> String {
        format!("{}({})", self.type_name(), repr::repr_plain(&Value::list(self.items())))
    }
    fn iter(&self, _it: &mut Interp, _this: &Value) -> Option<PyResult<Value>> {
        Some(Ok(PyIter::items(self.items(), "dict_keyiterator")))
    }
    fn len(&self) -> Option<usize> {
        Some(self.dict.len())
    }
    fn getattr(&self, _it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        if name == "__contains__" && self.kind == ViewKind::Keys {
            let d = self.dict.clone();
            return Ok(Native::with_aux("__contains__", Some(this.clone()), |_, n, a, _| {
                let Aux::Value(Value::Dict(d)) = &n.aux else { return Ok(Value::Bool(false)) };
                Ok(Value::Bool(d.contains(&a[0])?))
            }, Aux::Value(Value::Dict(d))));
        }
        Err(PyErr::attribute_error(format!("'{}' object has no attribute '{name}'", self.type_name())))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

// ---- set ----------------------------------------------------------------------------------

fn set_of(v: &Value) -> PyResult<Rc<Set>> {
    match v {
        Value::Set(s) => Ok(s.clone()),
        other => Err(PyErr::type_error(format!("descriptor requires a 'set' object but received a '{}'", other.type_name()))),
    }
}

fn set_method(name: &str, frozen: bool) -> Option<NativeFn> {
    let mutating = matches!(name, "add" | "remove" | "discard" | "pop" | "update" | "clear" | "intersection_update" | "difference_update");
    if frozen && mutating {
        return None;
    }
    Some(match name {
        "add" => |_, n, mut a, _| {
            let s = set_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            s.add(a[0].clone())?;
            Ok(Value::None)
        },
        "remove" | "discard" => |_, n, mut a, _| {
            let s = set_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            if !s.remove(&a[0])? && n.name.as_ref() == "remove" {
                return Err(PyErr::key_error(a[0].clone()));
            }
            Ok(Value::None)
        },
        "pop" => |_, n, mut a, _| {
            let s = set_of(&recv(n, &mut a)?)?;
            s.pop().ok_or_else(|| PyErr::key_error_text("pop from an empty set"))
        },
        "clear" => |_, n, mut a, _| {
            set_of(&recv(n, &mut a)?)?.clear();
            Ok(Value::None)
        },
        "copy" => |_, n, mut a, _| {
            let s = set_of(&recv(n, &mut a)?)?;
            Ok(Value::Set(Set::new(s.items(), s.frozen)?))
        },
        "update" | "union" | "intersection" | "difference" | "symmetric_difference" | "intersection_update" | "difference_update" => {
            |it, n, mut a, _| {
                let s = set_of(&recv(n, &mut a)?)?;
                let mut acc = s.items();
                for other in &a {
                    let o = it.collect(other)?;
                    let oset = Set::new(o.clone(), true)?;
                    acc = match n.name.as_ref() {
                        "update" | "union" => acc.into_iter().chain(o).collect(),
                        "intersection" | "intersection_update" => acc.into_iter().filter(|v| oset.contains(v).unwrap_or(false)).collect(),
                        "difference" | "difference_update" => acc.into_iter().filter(|v| !oset.contains(v).unwrap_or(false)).collect(),
                        _ => {
                            let cur = Set::new(acc.clone(), true)?;
                            let left: Vec<Value> = acc.into_iter().filter(|v| !oset.contains(v).unwrap_or(false)).collect();
                            left.into_iter().chain(o.into_iter().filter(|v| !cur.contains(v).unwrap_or(false))).collect()
                        }
                    };
                }
                let result = Set::new(acc, s.frozen)?;
                if n.name.ends_with("update") {
                    s.clear();
                    for v in result.items() {
                        s.add(v)?;
                    }
                    return Ok(Value::None);
                }
                Ok(Value::Set(result))
            }
        }
        "issubset" | "issuperset" | "isdisjoint" => |it, n, mut a, _| {
            let s = set_of(&recv(n, &mut a)?)?;
            argc(n, &a, 1, 1)?;
            let o = Set::new(it.collect(&a[0])?, true)?;
            Ok(Value::Bool(match n.name.as_ref() {
                "issubset" => s.items().iter().all(|v| o.contains(v).unwrap_or(false)),
                "issuperset" => o.items().iter().all(|v| s.contains(v).unwrap_or(false)),
                _ => !s.items().iter().any(|v| o.contains(v).unwrap_or(false)),
            }))
        },
        _ => return None,
    })
}

// ---- records --------------------------------------------------------------------------------

/// Methods of ModelOutput / namedtuple records.
pub fn record_method(kind: RecordKind, obj: &Value, name: &str) -> Option<Value> {
    let f: NativeFn = match (kind, name) {
        (RecordKind::ModelOutput, "keys") => |_, n, _, _| {
            let Some(Value::Record(r)) = &n.recv else { return Ok(Value::None) };
            Ok(Value::list(r.items().into_iter().map(|(k, _)| Value::str(&k)).collect()))
        },
        (RecordKind::ModelOutput, "values") => |_, n, _, _| {
            let Some(Value::Record(r)) = &n.recv else { return Ok(Value::None) };
            Ok(Value::list(r.items().into_iter().map(|(_, v)| v).collect()))
        },
        (RecordKind::ModelOutput, "items") => |_, n, _, _| {
            let Some(Value::Record(r)) = &n.recv else { return Ok(Value::None) };
            Ok(Value::list(r.items().into_iter().map(|(k, v)| Value::tuple(vec![Value::str(&k), v])).collect()))
        },
        (RecordKind::ModelOutput, "to_tuple") => |_, n, _, _| {
            let Some(Value::Record(r)) = &n.recv else { return Ok(Value::None) };
            Ok(Value::tuple(r.items().into_iter().map(|(_, v)| v).collect()))
        },
        (RecordKind::ModelOutput, "get") => |_, n, a, _| {
            let Some(Value::Record(r)) = &n.recv else { return Ok(Value::None) };
            let key = a.first().and_then(|k| k.as_str().map(str::to_string)).unwrap_or_default();
            Ok(r.items()
                .into_iter()
                .find(|(k, _)| k.as_ref() == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| a.get(1).cloned().unwrap_or(Value::None)))
        },
        (RecordKind::NamedTuple, "_asdict") => |_, n, _, _| {
            let Some(Value::Record(r)) = &n.recv else { return Ok(Value::None) };
            Ok(Value::Dict(Dict::from_pairs(r.items().into_iter().map(|(k, v)| (Value::str(&k), v)).collect())?))
        },
        (RecordKind::NamedTuple, "_fields") => {
            let Value::Record(r) = obj else { return None };
            return Some(Value::tuple(r.fields().into_iter().map(|(k, _)| Value::str(&k)).collect()));
        }
        _ => return None,
    };
    Some(Native::with_aux(name, Some(obj.clone()), f, Aux::None))
}
