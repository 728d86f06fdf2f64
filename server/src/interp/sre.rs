//! `_localndif_re`: the matching engine under the Python-written `re` module
//! (`stdlib/re.py`): Python's pattern syntax translated to fancy-regex (named groups,
//! `(?P=name)`, `\Z`, the flags), a bounded per-thread cache of compiled patterns, and
//! spans in characters as Python reports them. Backtracking is bounded by fancy-regex's
//! limit, so a pathological pattern ends with an error rather than a hung job.

use std::collections::HashMap;
use std::rc::Rc;

use fancy_regex::{Regex, RegexBuilder};

use crate::value::object::Native;
use crate::value::{Dict, PyErr, PyResult, Value};

/// Compiled patterns kept per job thread.
const CACHE_MAX: usize = 256;
/// Backtracking steps one match may take.
const BACKTRACK_LIMIT: usize = 1_000_000;

const IGNORECASE: i64 = 2;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const VERBOSE: i64 = 64;

// Not job state: compiled patterns keyed by (pattern, flags), the same for every job.
thread_local! {
    static CACHE: std::cell::RefCell<HashMap<(String, i64), Rc<Regex>>> = Default::default();
}

/// Python's syntax in fancy-regex's: `(?P=name)` → `\k<name>`, `\Z` → `\z`.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            if chars[i + 1] == 'Z' {
                out.push_str("\\z");
            } else {
                out.push(c);
                out.push(chars[i + 1]);
            }
            i += 2;
            continue;
        }
        if c == '(' && chars[i + 1..].starts_with(&['?', 'P', '='])
            && let Some(end) = chars[i..].iter().position(|&x| x == ')')
        {
            let name: String = chars[i + 4..i + end].iter().collect();
            out.push_str(&format!("\\k<{name}>"));
            i += end + 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn compiled(pattern: &str, flags: i64) -> PyResult<Rc<Regex>> {
    let key = (pattern.to_string(), flags);
    if let Some(r) = CACHE.with(|c| c.borrow().get(&key).cloned()) {
        return Ok(r);
    }
    let mut prefix = String::new();
    for (bit, f) in [(IGNORECASE, 'i'), (MULTILINE, 'm'), (DOTALL, 's'), (VERBOSE, 'x')] {
        if flags & bit != 0 {
            prefix.push(f);
        }
    }
    let source = if prefix.is_empty() { translate(pattern) } else { format!("(?{prefix}){}", translate(pattern)) };
    let re = RegexBuilder::new(&source)
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
        .map_err(|e| PyErr::value_error(format!("re.error: {e}")))?;
    let re = Rc::new(re);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.clear();
        }
        c.insert(key, re.clone());
    });
    Ok(re)
}

fn str_arg<'a>(args: &'a [Value], i: usize, what: &str) -> PyResult<&'a str> {
    args.get(i).and_then(Value::as_str).ok_or_else(|| PyErr::type_error(format!("{what} must be a string")))
}

fn int_arg(args: &[Value], i: usize) -> i64 {
    args.get(i).and_then(Value::as_int).unwrap_or(0)
}

/// Byte offset of character `pos` in `s` (clamped to its end).
fn byte_of(s: &str, pos: usize) -> usize {
    s.char_indices().nth(pos).map_or(s.len(), |(b, _)| b)
}

fn char_of(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

pub fn attr(name: &str) -> Option<Value> {
    Some(match name {
        // (ngroups, {name: index}) of a pattern.
        "info" => Native::value("info", |_, _, args, _| {
            let re = compiled(str_arg(&args, 0, "pattern")?, int_arg(&args, 1))?;
            let names = Dict::new();
            for (i, n) in re.capture_names().enumerate() {
                if let Some(n) = n {
                    names.insert(Value::str(n), Value::Int(i as i64))?;
                }
            }
            Ok(Value::tuple(vec![Value::Int(re.captures_len() as i64 - 1), Value::Dict(names)]))
        }),
        // The first match at or after character `pos` whose end is within `endpos`:
        // None, or one `(start, end)` / None per group (0 = the whole match), in characters.
        "search" => Native::value("search", |_, _, args, _| {
            let re = compiled(str_arg(&args, 0, "pattern")?, int_arg(&args, 1))?;
            let full = str_arg(&args, 2, "string")?;
            let pos = int_arg(&args, 3).max(0) as usize;
            let endpos = args.get(4).and_then(Value::as_int).map(|e| e.max(0) as usize);
            let text = match endpos {
                Some(e) => &full[..byte_of(full, e)],
                None => full,
            };
            let start = byte_of(text, pos);
            let caps = re.captures_from_pos(text, start).map_err(|e| PyErr::runtime_error(format!("re: {e}")))?;
            let Some(caps) = caps else { return Ok(Value::None) };
            let spans = (0..caps.len())
                .map(|g| match caps.get(g) {
                    Some(m) => Value::tuple(vec![Value::Int(char_of(text, m.start())), Value::Int(char_of(text, m.end()))]),
                    None => Value::None,
                })
                .collect();
            Ok(Value::list(spans))
        }),
        _ => return None,
    })
}
