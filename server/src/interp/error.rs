//! Python-shaped errors: a kind (`NameError`, `TypeError`, nnsight's `OutOfOrderError`,
//! ...), a message, and the user's line, set where first known and never overwritten
//! (starlark's `set_span` rule, style.md §1). `Internal` is our bug and never poses as the
//! user's; `Cancelled` unwinds a worker whose run was abandoned.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A Python exception type name shown to the user (`TypeError`, `OutOfOrderError`, ...).
    Python(&'static str),
    /// A construct this interpreter does not implement (yet): reported as such.
    Unsupported,
    /// A bug in localndif.
    Internal,
    /// The run was abandoned (another worker failed, the forward ended); not user-visible.
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct PyErr {
    pub kind: ErrorKind,
    pub message: String,
    /// 1-based line in the user's file (the shipped source keeps line numbers).
    pub line: Option<usize>,
}

pub type PyResult<T> = Result<T, PyErr>;

impl PyErr {
    pub fn new(kind: &'static str, message: impl Into<String>) -> PyErr {
        PyErr {
            kind: ErrorKind::Python(kind),
            message: message.into(),
            line: None,
        }
    }
    pub fn type_error(message: impl Into<String>) -> PyErr {
        PyErr::new("TypeError", message)
    }
    pub fn value_error(message: impl Into<String>) -> PyErr {
        PyErr::new("ValueError", message)
    }
    pub fn index_error(message: impl Into<String>) -> PyErr {
        PyErr::new("IndexError", message)
    }
    pub fn attribute_error(message: impl Into<String>) -> PyErr {
        PyErr::new("AttributeError", message)
    }
    pub fn unsupported(message: impl Into<String>) -> PyErr {
        PyErr {
            kind: ErrorKind::Unsupported,
            message: message.into(),
            line: None,
        }
    }
    pub fn internal(message: impl Into<String>) -> PyErr {
        PyErr {
            kind: ErrorKind::Internal,
            message: message.into(),
            line: None,
        }
    }
    pub fn cancelled() -> PyErr {
        PyErr {
            kind: ErrorKind::Cancelled,
            message: "the run was cancelled".into(),
            line: None,
        }
    }

    /// Sets the line only if no deeper frame set it first.
    pub fn at_line(mut self, line: usize) -> PyErr {
        self.line.get_or_insert(line);
        self
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ErrorKind::Python(k) => k,
            ErrorKind::Unsupported => "NotImplementedError",
            ErrorKind::Internal => "InternalError",
            ErrorKind::Cancelled => "Cancelled",
        }
    }

    /// The text the client shows: a Python-style traceback naming the user's file, line
    /// and source line, then `Kind: message`.
    pub fn traceback(&self, filename: &str, source: &str) -> String {
        let mut out = String::from("Traceback (most recent call last):\n");
        if let Some(line) = self.line {
            out.push_str(&format!(
                "  File \"{filename}\", line {line}, in <module>\n"
            ));
            if let Some(text) = source.lines().nth(line.saturating_sub(1)) {
                out.push_str(&format!("    {}\n", text.trim()));
            }
        }
        out.push_str(&self.to_string());
        out
    }
}

impl fmt::Display for PyErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Unsupported => {
                write!(
                    f,
                    "NotImplementedError: localndif does not support {} yet",
                    self.message
                )
            }
            ErrorKind::Internal => write!(f, "InternalError (a localndif bug): {}", self.message),
            // nnsight's own exceptions print with their module, as Python's traceback does.
            ErrorKind::Python("OutOfOrderError") => {
                write!(
                    f,
                    "nnsight.intervention.interleaver.OutOfOrderError: {}",
                    self.message
                )
            }
            _ => write!(f, "{}: {}", self.kind_name(), self.message),
        }
    }
}

impl From<tch::TchError> for PyErr {
    fn from(e: tch::TchError) -> PyErr {
        // libtorch's messages carry a C++ backtrace after the first line.
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("Torch(\"")
            .to_string();
        PyErr::new("RuntimeError", first)
    }
}
