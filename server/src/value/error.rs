//! Python-shaped errors: an exception (a builtin type with its message, or an instance of
//! a user's exception class) plus the traceback entries collected as it unwinds through
//! the user's frames. Two kinds are not exceptions and user code cannot catch them: a job
//! budget running out ([`Stop`]) and a localndif bug (`Internal`), which never poses as the
//! user's error (starlark's error classification).

use std::fmt;
use std::rc::Rc;

use super::ctx::Stop;
use super::types::{self, ClassRef, TypeObj};
use super::Value;

#[derive(Clone)]
pub struct PyErr(Box<ErrInner>);

#[derive(Clone)]
pub struct ErrInner {
    pub kind: ErrKind,
    /// Frames the exception unwound through, innermost first.
    pub trace: Vec<TraceEntry>,
    /// `raise X from Y`.
    pub cause: Option<PyErr>,
}

#[derive(Clone)]
pub enum ErrKind {
    /// A builtin exception raised by the interpreter or a builtin; materialized as an
    /// instance only if user code binds it (`except E as e`).
    Exc {
        ty: &'static TypeObj,
        msg: String,
        args: Option<Rc<Vec<Value>>>,
    },
    /// An exception instance user code raised (`raise MyError(...)`).
    Obj(Value),
    Stop(Stop),
    Internal(String),
}

/// One frame of a traceback: where the exception passed.
#[derive(Clone, Debug)]
pub struct TraceEntry {
    pub file: Rc<str>,
    pub line: u32,
    pub func: Rc<str>,
    pub text: Option<Rc<str>>,
}

pub type PyResult<T> = Result<T, PyErr>;

impl PyErr {
    pub fn new(ty: &'static TypeObj, msg: impl Into<String>) -> PyErr {
        PyErr(Box::new(ErrInner {
            kind: ErrKind::Exc {
                ty,
                msg: msg.into(),
                args: None,
            },
            trace: Vec::new(),
            cause: None,
        }))
    }

    /// A builtin exception with explicit `args` (its message is `str` of them).
    pub fn with_args(ty: &'static TypeObj, msg: String, args: Vec<Value>) -> PyErr {
        PyErr(Box::new(ErrInner {
            kind: ErrKind::Exc {
                ty,
                msg,
                args: Some(Rc::new(args)),
            },
            trace: Vec::new(),
            cause: None,
        }))
    }

    pub fn from_instance(v: Value) -> PyErr {
        PyErr(Box::new(ErrInner {
            kind: ErrKind::Obj(v),
            trace: Vec::new(),
            cause: None,
        }))
    }

    pub fn stop(s: Stop) -> PyErr {
        PyErr(Box::new(ErrInner {
            kind: ErrKind::Stop(s),
            trace: Vec::new(),
            cause: None,
        }))
    }

    pub fn internal(msg: impl Into<String>) -> PyErr {
        PyErr(Box::new(ErrInner {
            kind: ErrKind::Internal(msg.into()),
            trace: Vec::new(),
            cause: None,
        }))
    }

    /// Whether this is a localndif bug rather than the user's error.
    pub fn is_internal(&self) -> bool {
        matches!(self.0.kind, ErrKind::Internal(_))
    }

    pub fn type_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::TYPE_ERROR, msg)
    }
    pub fn value_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::VALUE_ERROR, msg)
    }
    pub fn index_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::INDEX_ERROR, msg)
    }
    pub fn attribute_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::ATTRIBUTE_ERROR, msg)
    }
    pub fn runtime_error(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::RUNTIME_ERROR, msg)
    }
    pub fn zero_division(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::ZERO_DIVISION_ERROR, msg)
    }
    pub fn overflow(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::OVERFLOW_ERROR, msg)
    }
    pub fn memory(msg: impl Into<String>) -> PyErr {
        PyErr::new(&types::MEMORY_ERROR, msg)
    }
    pub fn name_error(name: &str) -> PyErr {
        PyErr::with_args(
            &types::NAME_ERROR,
            format!("name '{name}' is not defined"),
            vec![Value::str(&format!("name '{name}' is not defined"))],
        )
    }
    pub fn key_error(key: Value) -> PyErr {
        let msg = super::repr::repr_plain(&key);
        PyErr::with_args(&types::KEY_ERROR, msg, vec![key])
    }
    pub fn recursion() -> PyErr {
        PyErr::new(
            &types::RECURSION_ERROR,
            "maximum recursion depth exceeded",
        )
    }
    /// Something localndif does not run; the text names it (`NotImplementedError`).
    pub fn unsupported(what: impl Into<String>) -> PyErr {
        PyErr::new(
            &types::NOT_IMPLEMENTED_ERROR,
            format!("localndif does not support {} yet", what.into()),
        )
    }

    pub fn kind(&self) -> &ErrKind {
        &self.0.kind
    }

    pub fn trace(&self) -> &[TraceEntry] {
        &self.0.trace
    }

    pub fn push_frame(&mut self, entry: TraceEntry) {
        self.0.trace.push(entry);
    }

    pub fn set_cause(&mut self, cause: Option<PyErr>) {
        self.0.cause = cause;
    }

    pub fn cause(&self) -> Option<&PyErr> {
        self.0.cause.as_ref()
    }

    /// User code may catch it: a Python exception, not a budget stop or our bug.
    pub fn is_exception(&self) -> bool {
        matches!(self.0.kind, ErrKind::Exc { .. } | ErrKind::Obj(_))
    }

    pub fn stop_reason(&self) -> Option<Stop> {
        match self.0.kind {
            ErrKind::Stop(s) => Some(s),
            _ => None,
        }
    }

    /// The exception's class (`None` for stops and internal errors).
    pub fn class(&self) -> Option<ClassRef> {
        match &self.0.kind {
            ErrKind::Exc { ty, .. } => Some(ClassRef::Builtin(ty)),
            ErrKind::Obj(v) => Some(v.class()),
            _ => None,
        }
    }

    pub fn is_instance_of(&self, t: &'static TypeObj) -> bool {
        self.class().is_some_and(|c| c.derives_from_builtin(t))
    }

    /// `str(exception)`.
    pub fn message(&self) -> String {
        match &self.0.kind {
            ErrKind::Exc { msg, .. } => msg.clone(),
            ErrKind::Obj(v) => super::object::exception_str(v),
            ErrKind::Stop(s) => stop_text(*s),
            ErrKind::Internal(m) => m.clone(),
        }
    }

    /// The exception as a Python value (`except E as e` binds this).
    pub fn value(&mut self) -> Value {
        match &self.0.kind {
            ErrKind::Obj(v) => v.clone(),
            ErrKind::Exc { ty, msg, args } => {
                let args = match args {
                    Some(a) => a.as_ref().clone(),
                    None => vec![Value::str(msg)],
                };
                let v = super::object::new_exception(ClassRef::Builtin(ty), args);
                self.0.kind = ErrKind::Obj(v.clone());
                v
            }
            _ => Value::None,
        }
    }

    /// The last line of a traceback: `TypeError: ...`, `__main__.MyError: ...`.
    pub fn headline(&self) -> String {
        self.headline_as(Names::Qualified)
    }

    fn headline_as(&self, names: Names) -> String {
        match &self.0.kind {
            ErrKind::Stop(s) => stop_text(*s),
            ErrKind::Internal(m) => format!("{}: {m}", crate::jobs::INTERNAL_ERROR),
            _ => {
                let name = self
                    .class()
                    .map(|c| match names {
                        Names::Qualified => c.qualified(),
                        Names::Bare => c.name(),
                    })
                    .unwrap_or_else(|| "Exception".into());
                let msg = self.message();
                if msg.is_empty() {
                    name
                } else {
                    format!("{name}: {msg}")
                }
            }
        }
    }

    /// The whole text the client shows: Python's traceback format, user frames only.
    pub fn render(&self) -> String {
        self.render_as(Names::Qualified)
    }

    /// The whole text as `names` spells exception classes (nnsight 0.5–0.7's
    /// `ExceptionWrapper` ends with the bare `type(e).__name__`).
    pub fn render_as(&self, names: Names) -> String {
        let mut out = String::new();
        if let Some(cause) = &self.0.cause {
            out.push_str(&cause.render_as(names));
            out.push_str(
                "\n\nThe above exception was the direct cause of the following exception:\n\n",
            );
        }
        if !self.0.trace.is_empty() {
            out.push_str("Traceback (most recent call last):\n");
            for e in self.0.trace.iter().rev() {
                out.push_str(&format!(
                    "  File \"{}\", line {}, in {}\n",
                    e.file, e.line, e.func
                ));
                if let Some(t) = &e.text {
                    out.push_str(&format!("    {}\n", t.trim()));
                }
            }
        }
        out.push_str(&self.headline_as(names));
        out
    }
}

/// How a traceback names exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// As Python's own traceback: `nnsight.intervention.interleaver.OutOfOrderError`.
    Qualified,
    /// `OutOfOrderError`.
    Bare,
}

fn stop_text(s: Stop) -> String {
    let caps = super::ctx::caps();
    match s {
        Stop::Steps => format!(
            "RuntimeError: the job exceeded localndif's limit of {} interpreter steps (--max-steps)",
            caps.max_steps
        ),
        Stop::Deadline => format!(
            "Your job exceeded the execution timeout of {}s.",
            caps.wall.as_secs()
        ),
        Stop::Cancelled => "The job was cancelled.".into(),
    }
}

impl fmt::Debug for PyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl fmt::Display for PyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())
    }
}

impl From<tch::TchError> for PyErr {
    /// libtorch errors read like torch's Python ones: the first line, as a RuntimeError
    /// (IndexError / TypeError / ValueError where torch raises those).
    fn from(e: tch::TchError) -> PyErr {
        let text = e.to_string();
        let text = text
            .strip_prefix("Torch(\"")
            .map(|t| t.trim_end_matches("\")"))
            .unwrap_or(&text)
            .to_string();
        let text = text.strip_prefix("Internal torch error: ").unwrap_or(&text);
        let first = text.lines().next().unwrap_or("").trim().to_string();
        // libtorch prefixes an exception class it maps to a Python type.
        for (prefix, ty) in [
            ("IndexError: ", &types::INDEX_ERROR),
            ("TypeError: ", &types::TYPE_ERROR),
            ("ValueError: ", &types::VALUE_ERROR),
            ("NotImplementedError: ", &types::NOT_IMPLEMENTED_ERROR),
        ] {
            if let Some(rest) = first.strip_prefix(prefix) {
                return PyErr::new(ty, rest.to_string());
            }
        }
        // c10::NotImplementedError (a kernel missing for a dtype) is Python's
        // NotImplementedError; its text carries no class prefix.
        if first.contains("\" not implemented for '") {
            return PyErr::new(&types::NOT_IMPLEMENTED_ERROR, first);
        }
        PyErr::runtime_error(first)
    }
}
