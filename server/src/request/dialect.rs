//! The client's dialect: which nnsight a request came from, decided once here (from the
//! client generation and, for G1, whether the payload is nnsight 0.5.x's) and consulted
//! by the job through methods wherever what the user sees differs between nnsight
//! versions. Execution (`interleave`, `job`) asks a [`Dialect`] a question; it never
//! branches on the generation itself.

use super::{ClientGeneration, Request};

/// How one job speaks to its client. `Copy`, carried by the job context
/// (`value::ctx::JobCtx`) and by the model context the job builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    generation: ClientGeneration,
    /// nnsight 0.5.x (a G1 client whose functions travel as bytecode).
    v05: bool,
}

impl Default for Dialect {
    /// nnsight 0.8.x: what a job speaks when nothing says otherwise (unit tests).
    fn default() -> Self {
        Dialect { generation: ClientGeneration::G2, v05: false }
    }
}

impl Dialect {
    /// The dialect of a client generation (`nnsight_05` only counts for G1).
    pub fn new(generation: ClientGeneration, nnsight_05: bool) -> Dialect {
        Dialect { generation, v05: nnsight_05 && generation == ClientGeneration::G1 }
    }

    /// nnsight 0.5–0.7 (the first generation): model classes derive from `NNsight`.
    pub fn is_g1(self) -> bool {
        self.generation == ClientGeneration::G1
    }

    /// nnsight 0.5.x: where 0.5 and 0.7 differ in what the user sees, the 0.5 form.
    pub fn is_05(self) -> bool {
        self.v05
    }
}

impl Request {
    /// The dialect this request's job speaks.
    pub fn dialect(&self) -> Dialect {
        Dialect::new(self.client, self.nnsight_05)
    }
}
