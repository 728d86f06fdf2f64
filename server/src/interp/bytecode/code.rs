//! A CPython code object as cloudpickle ships it (`_builtin_type('CodeType')` called with
//! the constructor's positional arguments), decoded into a Rust struct: the instructions
//! as code units, constants (nested code objects for lambdas, comprehensions and inner
//! functions included), names, the fast-locals-plus layout of variables, cells and free
//! variables, the 3.11 exception table and the line of every instruction from the
//! location table. Code this server must not run — another CPython's bytecode, an
//! opcode the evaluator does not run, a generator — decodes with the reason it is
//! refused, raised when the function is called.

use std::fmt;
use std::rc::Rc;

use localndif_wire::pickle::{Graph, Id, Node};

use super::eval::supported;
use super::function::code_value;
use super::opcodes;
use crate::value::{PyResult, Value};

pub const CO_VARARGS: u32 = 0x04;
pub const CO_VARKEYWORDS: u32 = 0x08;
pub const CO_GENERATOR: u32 = 0x20;
pub const CO_COROUTINE: u32 = 0x80;
pub const CO_ITERABLE_COROUTINE: u32 = 0x100;
pub const CO_ASYNC_GENERATOR: u32 = 0x200;

/// The CPython version the client runs (nnsight ≥ 0.5.10 sends it as the
/// `python-version` header, e.g. `3.11.7 (main, ...)`). Only 3.11's bytecode runs here;
/// 3.12's has the same code object fields and other opcodes, so only this tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PyVersion {
    pub major: u32,
    pub minor: u32,
}

impl PyVersion {
    /// The bytecode this evaluator runs.
    pub const RUNS: PyVersion = PyVersion { major: 3, minor: 11 };

    /// `3.11.7 (main, May  9 2026, ...)`, `3.12.1`, `3.13.0rc1` → (major, minor).
    pub fn parse(text: &str) -> Option<PyVersion> {
        let head = text.split_whitespace().next()?;
        let mut parts = head.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor: String = parts.next()?.chars().take_while(char::is_ascii_digit).collect();
        Some(PyVersion { major, minor: minor.parse().ok()? })
    }
}

impl Default for PyVersion {
    fn default() -> Self {
        PyVersion::RUNS
    }
}

impl fmt::Display for PyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// One exception table entry: an exception raised by an instruction in
/// `start..end` (code units) unwinds the stack to `depth` items, pushes the raising
/// instruction's offset if `lasti`, then the exception, and continues at `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handler {
    pub start: usize,
    pub end: usize,
    pub target: usize,
    pub depth: usize,
    pub lasti: bool,
}

pub struct CodeObject {
    pub name: Rc<str>,
    pub qualname: Rc<str>,
    pub filename: Rc<str>,
    pub firstlineno: u32,
    pub argcount: usize,
    pub posonlyargcount: usize,
    pub kwonlyargcount: usize,
    pub flags: u32,
    pub stacksize: usize,
    /// `(opcode, oparg)` per code unit (inline caches included, as in `co_code`).
    pub units: Vec<(u8, u8)>,
    pub consts: Vec<Value>,
    pub names: Vec<Rc<str>>,
    pub varnames: Vec<Rc<str>>,
    pub freevars: Vec<Rc<str>>,
    pub cellvars: Vec<Rc<str>>,
    /// Variables, then cells that are not variables, then free variables: what
    /// `LOAD_FAST`, `LOAD_DEREF` and friends index (3.11's "fast locals plus").
    pub localsplus: Vec<Rc<str>>,
    /// The line of each code unit's instruction (`None`: no location).
    pub lines: Vec<Option<u32>>,
    pub handlers: Vec<Handler>,
    /// A generator expression: runs to the end at once, its items collected (as the
    /// interpreter runs generator expressions).
    pub genexpr: bool,
    /// Why calling it raises `NotImplementedError` instead of running it.
    pub refusal: Option<String>,
}

impl CodeObject {
    /// The handler for an exception raised by the instruction at `unit`.
    pub fn handler(&self, unit: usize) -> Option<Handler> {
        self.handlers.iter().find(|h| h.start <= unit && unit < h.end).copied()
    }

    /// The line of the instruction at `unit` (the last located one before it, where it
    /// has none).
    pub fn line(&self, unit: usize) -> u32 {
        self.lines[..(unit + 1).min(self.lines.len())].iter().rev().find_map(|l| *l).unwrap_or(self.firstlineno)
    }

    /// The index into the fast locals of the first free variable.
    pub fn first_free(&self) -> usize {
        self.localsplus.len() - self.freevars.len()
    }

    fn refused(name: Rc<str>, why: String) -> CodeObject {
        CodeObject {
            qualname: name.clone(),
            name,
            filename: Rc::from("<unknown>"),
            firstlineno: 1,
            argcount: 0,
            posonlyargcount: 0,
            kwonlyargcount: 0,
            flags: 0,
            stacksize: 0,
            units: Vec::new(),
            consts: Vec::new(),
            names: Vec::new(),
            varnames: Vec::new(),
            freevars: Vec::new(),
            cellvars: Vec::new(),
            localsplus: Vec::new(),
            lines: Vec::new(),
            handlers: Vec::new(),
            genexpr: false,
            refusal: Some(why),
        }
    }
}

/// Whether node `id` is a code object (`CodeType(...)` as cloudpickle reduces it).
pub fn is_code(g: &Graph, id: Id) -> bool {
    let Some(o) = g.obj(id) else { return false };
    match g.node(o.callable) {
        Some(Node::Global { module, name }) => {
            (module == "types" && name == "CodeType") || (matches!(module.as_str(), "builtins" | "__builtin__") && name == "code")
        }
        Some(Node::Object(inner)) => {
            matches!(g.global(o.callable), Some((m, "_builtin_type")) if m.starts_with("cloudpickle"))
                && inner.args.and_then(|a| g.tuple_items(a)).and_then(|t| t.first()).and_then(|&n| g.as_str(n)) == Some("CodeType")
        }
        _ => false,
    }
}

/// What to tell the user to do instead.
const INSTEAD: &str = "define it inside the `with` block instead (nnsight ships code written there as source)";

/// Decodes the code object at node `id`, shipped by a client on `version`; `load` turns
/// the other constants into values.
pub fn decode(g: &Graph, id: Id, version: PyVersion, load: &mut dyn FnMut(Id) -> PyResult<Value>) -> PyResult<Rc<CodeObject>> {
    // Code objects nest (a lambda's in its function's constants), as deep as a payload makes them.
    crate::value::stack::guard()?;
    let args: Vec<Id> = g.obj(id).and_then(|o| o.args).and_then(|a| g.tuple_items(a)).map(<[Id]>::to_vec).unwrap_or_default();
    let text = |i: usize| args.get(i).and_then(|&a| g.as_str(a)).unwrap_or("");
    // `co_name` is the 12th argument in every layout since 3.8.
    let name: Rc<str> = Rc::from(if text(11).is_empty() { "<function>" } else { text(11) });
    let refuse = |why: String| Ok(Rc::new(CodeObject::refused(name.clone(), why)));
    if !is_code(g, id) {
        return refuse(format!("the helper `{name}` was shipped as something that is not a code object; {INSTEAD}"));
    }
    match args.len() {
        18 => {}
        16 => {
            return refuse(format!(
                "the helper `{name}` was shipped as bytecode of CPython 3.10 or older, which this server does not run (it runs CPython {}'s); {INSTEAD}",
                PyVersion::RUNS
            ));
        }
        n => {
            return refuse(format!(
                "the helper `{name}` was shipped as a code object of {n} fields, from a CPython this server does not run (it runs CPython {}'s bytecode); {INSTEAD}",
                PyVersion::RUNS
            ));
        }
    }
    if version != PyVersion::RUNS {
        return refuse(format!(
            "the helper `{name}` was shipped as CPython {version} bytecode, which this server does not run (it runs CPython {}'s); {INSTEAD}",
            PyVersion::RUNS
        ));
    }
    let malformed = |what: &str| format!("the helper `{name}` was shipped as CPython bytecode whose {what} is malformed; {INSTEAD}");
    let int = |i: usize| args.get(i).and_then(|&a| g.as_int(a)).filter(|&v| (0..1 << 30).contains(&v)).map(|v| v as usize);
    let (Some(argcount), Some(posonly), Some(kwonly), Some(stacksize), Some(flags), Some(firstlineno)) =
        (int(0), int(1), int(2), int(4), int(5), int(13))
    else {
        return refuse(malformed("header"));
    };
    let mut bytes = |i: usize| -> PyResult<Option<Vec<u8>>> {
        let Some(&a) = args.get(i) else { return Ok(None) };
        if let Some(b) = g.as_bytes(a) {
            return Ok(Some(b.to_vec()));
        }
        Ok(match load(a)? {
            Value::Bytes(b) => Some(b.as_ref().clone()),
            _ => None,
        })
    };
    let (Some(co_code), Some(linetable), Some(exctable)) = (bytes(6)?, bytes(14)?, bytes(15)?) else {
        return refuse(malformed("code"));
    };
    let strs = |i: usize| -> Option<Vec<Rc<str>>> {
        let items = g.tuple_items(*args.get(i)?)?;
        items.iter().map(|&s| g.as_str(s).map(Rc::from)).collect()
    };
    let (Some(names), Some(varnames), Some(freevars), Some(cellvars)) = (strs(8), strs(9), strs(16), strs(17)) else {
        return refuse(malformed("names"));
    };
    let flags = flags as u32;
    let qualname: Rc<str> = Rc::from(if text(12).is_empty() { &*name } else { text(12) });
    let mut consts = Vec::new();
    for &c in args.get(7).and_then(|&a| g.tuple_items(a)).unwrap_or(&[]) {
        consts.push(if is_code(g, c) { code_value(decode(g, c, version, load)?) } else { load(c)? });
    }
    if co_code.len() % 2 != 0 {
        return refuse(malformed("code"));
    }
    let units: Vec<(u8, u8)> = co_code.chunks_exact(2).map(|u| (u[0], u[1])).collect();
    let Some(handlers) = exception_table(&exctable) else {
        return refuse(malformed("exception table"));
    };
    let nparams = argcount + kwonly + usize::from(flags & CO_VARARGS != 0) + usize::from(flags & CO_VARKEYWORDS != 0);
    if posonly > argcount || nparams > varnames.len() || handlers.iter().any(|h| h.target >= units.len()) {
        return refuse(malformed("header"));
    }
    let mut localsplus = varnames.clone();
    localsplus.extend(cellvars.iter().filter(|c| !varnames.contains(c)).cloned());
    localsplus.extend(freevars.iter().cloned());
    let genexpr = flags & CO_GENERATOR != 0 && &*name == "<genexpr>";
    let refusal = if flags & (CO_COROUTINE | CO_ITERABLE_COROUTINE) != 0 {
        Some(format!("the helper `{qualname}` (shipped as CPython bytecode) is a coroutine (`async def`), which this server does not run; {INSTEAD}"))
    } else if flags & CO_ASYNC_GENERATOR != 0 {
        Some(format!("the helper `{qualname}` (shipped as CPython bytecode) is an async generator, which this server does not run; {INSTEAD}"))
    } else if flags & CO_GENERATOR != 0 && !genexpr {
        Some(format!("the helper `{qualname}` (shipped as CPython bytecode) is a generator function (`yield`), which this server does not run; {INSTEAD}"))
    } else {
        scan(&units, genexpr).map(|op| match opcodes::name(op) {
            Some(op) => format!("the helper `{qualname}` (shipped as CPython bytecode) uses {op}, which this server does not run; {INSTEAD}"),
            None => format!(
                "the helper `{qualname}` (shipped as CPython bytecode) uses opcode {op}, which CPython {} does not have (was it compiled by another Python?); {INSTEAD}",
                PyVersion::RUNS
            ),
        })
    };
    let lines = line_table(&linetable, firstlineno as u32, units.len());
    Ok(Rc::new(CodeObject {
        filename: Rc::from(text(10)),
        name,
        qualname,
        firstlineno: firstlineno as u32,
        argcount,
        posonlyargcount: posonly,
        kwonlyargcount: kwonly,
        flags,
        stacksize,
        units,
        consts,
        names,
        varnames,
        freevars,
        cellvars,
        localsplus,
        lines,
        handlers,
        genexpr,
        refusal,
    }))
}

/// The first opcode of `units` the evaluator does not run, skipping inline caches.
fn scan(units: &[(u8, u8)], genexpr: bool) -> Option<u8> {
    let mut pc = 0;
    while let Some(&(op, _)) = units.get(pc) {
        let generator_op = matches!(op, opcodes::YIELD_VALUE | opcodes::RETURN_GENERATOR);
        if !(supported(op) || genexpr && generator_op) {
            return Some(op);
        }
        pc += 1 + opcodes::caches(op);
    }
    None
}

/// 3.11's exception table (`Objects/exception_handling_notes.txt`): entries of four
/// varints (start, length, target, depth << 1 | lasti), each in 6-bit chunks, most
/// significant first, bit 6 set on all but the last; bit 7 marks an entry's first byte.
pub fn exception_table(b: &[u8]) -> Option<Vec<Handler>> {
    let mut i = 0;
    let varint = |i: &mut usize| -> Option<usize> {
        let mut byte = *b.get(*i)?;
        *i += 1;
        let mut val = usize::from(byte & 63);
        while byte & 64 != 0 {
            byte = *b.get(*i)?;
            *i += 1;
            val = val.checked_mul(64)? | usize::from(byte & 63);
            if val > 1 << 40 {
                return None;
            }
        }
        Some(val)
    };
    let mut out = Vec::new();
    while i < b.len() {
        let start = varint(&mut i)?;
        let len = varint(&mut i)?;
        let target = varint(&mut i)?;
        let dl = varint(&mut i)?;
        out.push(Handler { start, end: start + len, target, depth: dl >> 1, lasti: dl & 1 != 0 });
    }
    Some(out)
}

/// The line of each of `n` code units from 3.11's location table
/// (`Objects/locations.md`): entries of `1 code(4) length-1(3)` then their data;
/// codes 0–9 are short forms (same line, one byte of columns), 10–12 one-line forms
/// (line delta code − 10, two bytes of columns), 13 a line delta alone, 14 the long form
/// (line delta, end line delta, columns), 15 no location. Varints here are 6-bit chunks,
/// least significant first; signed ones keep the sign in bit 0.
pub fn line_table(table: &[u8], first: u32, n: usize) -> Vec<Option<u32>> {
    let mut lines = vec![None; n];
    let mut line = i64::from(first);
    let mut i = 0;
    let mut unit = 0;
    let varint = |i: &mut usize| -> u64 {
        let mut val = 0u64;
        let mut shift = 0;
        while let Some(&b) = table.get(*i) {
            *i += 1;
            if shift < 60 {
                val |= u64::from(b & 63) << shift;
            }
            shift += 6;
            if b & 64 == 0 {
                break;
            }
        }
        val
    };
    let svarint = |i: &mut usize| -> i64 {
        let u = varint(i);
        let mag = (u >> 1) as i64;
        if u & 1 != 0 { -mag } else { mag }
    };
    while let Some(&b) = table.get(i) {
        if unit >= n {
            break;
        }
        i += 1;
        let code = (b >> 3) & 15;
        let len = usize::from(b & 7) + 1;
        let this = match code {
            15 => None,
            14 => {
                line += svarint(&mut i);
                varint(&mut i);
                varint(&mut i);
                varint(&mut i);
                Some(line)
            }
            13 => {
                line += svarint(&mut i);
                Some(line)
            }
            10..=12 => {
                line += i64::from(code) - 10;
                i += 2;
                Some(line)
            }
            _ => {
                i += 1;
                Some(line)
            }
        };
        let this = this.and_then(|l| u32::try_from(l).ok());
        for slot in lines.iter_mut().skip(unit).take(len) {
            *slot = this;
        }
        unit += len;
    }
    lines
}
