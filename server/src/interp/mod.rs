//! The interpreter of the Python that intervention code is written in (docs/architecture.md):
//! parsing and scope analysis ([`program`]), statements ([`eval`]) and expressions
//! ([`expr`]) over the one value model (`crate::value`), calls with Python's argument
//! binding ([`call`]), attributes ([`attr`]), operators ([`ops`]), builtins and the
//! methods of builtin types, the format mini-language ([`format`]), importable modules
//! ([`modules`]), torch's tensor operations ([`torch`]) and numpy arrays ([`numpy`]), and
//! functions the client ships as CPython 3.11 bytecode ([`bytecode`]). It reaches the world outside
//! user code only through [`host::Host`] and host objects, so it knows nothing of
//! coroutines, hooks or models.

pub mod attr;
pub mod builtins;
pub mod bytecode;
pub mod call;
pub mod code;
pub mod dataclass;
pub mod eval;
pub mod expr;
pub mod foreign;
pub mod format;
pub mod frame;
pub mod host;
pub mod iter;
pub mod methods;
pub mod modules;
pub mod numpy;
pub mod sre;
pub mod stdlib;
pub mod ops;
pub mod program;
pub mod saves;
pub mod torch;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;

use host::Host;

use crate::value::PyErr;

/// One running body of user code. Interpreters for the workers of a trace run on their
/// own coroutine stacks; they share nothing but values.
pub struct Interp<'h> {
    pub host: &'h mut dyn Host,
    /// Python call depth (RecursionError past CPython's limit).
    depth: usize,
    /// Exceptions being handled by `except` blocks (bare `raise` re-raises the last).
    handling: Vec<PyErr>,
    /// Nesting of container comparisons (RecursionError past the limit).
    cmp_depth: usize,
}

impl<'h> Interp<'h> {
    pub fn new(host: &'h mut dyn Host) -> Interp<'h> {
        Interp {
            host,
            depth: 0,
            handling: Vec::new(),
            cmp_depth: 0,
        }
    }
}
