//! The interpreter of the Python subset that nnsight intervention code uses (design.md §5):
//! parsing with `ruff_python_parser`, a small explicit value model, builtins, the tensor op
//! table and Python-shaped errors carrying the user's line. It reaches the model only
//! through [`Host`], so it knows nothing of threads, hooks or tch modules.

mod builtins;
mod error;
mod eval;
mod host;
mod ops;
mod sig;
mod tensor;
mod value;

pub use error::{ErrorKind, PyErr, PyResult};
pub use eval::{Interp, Limits, MAX_SOURCE, Program, STACK_SIZE, Scope};
pub use host::{Hook, Host};
pub use value::{RecordVal, Tens, Value, dtype_name, lock, repr};

#[cfg(test)]
mod tests;
