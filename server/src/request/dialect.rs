//! The client's dialect: which nnsight a request came from, decided once here (from the
//! client generation and, for G1, whether the payload is nnsight 0.5.x's), and every way
//! what the user sees differs between those nnsight versions, one method each. Execution
//! (`interleave`, `job`) asks a [`Dialect`] the question it has; it never branches on the
//! client generation itself, so this file is the index of version differences.
//!
//! Three dialects exist: nnsight 0.8.x (G2, the default), 0.6–0.7 (G1) and 0.5.x (G1
//! with functions shipped as bytecode, which differs from 0.7 where noted).

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

/// How a request the run never served ends (`Interleaver::check_dangling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DanglingForm {
    /// 0.8.1: `OutOfOrderError("'{requester}' was requested but the model already ran past it")`.
    OutOfOrder,
    /// 0.7's `check_dangling_mediators`: `MissedProviderError("Execution complete but ...")`.
    MissedProvider,
    /// 0.5: `Mediator.OutOfOrderError("Value was missed for ...")` for a module the run
    /// already passed, a `ValueError("Execution complete but ...")` otherwise.
    Missed05,
}

impl Dialect {
    /// The dialect of a client generation (`nnsight_05` only counts for G1).
    pub fn new(generation: ClientGeneration, nnsight_05: bool) -> Dialect {
        Dialect { generation, v05: nnsight_05 && generation == ClientGeneration::G1 }
    }

    fn g1(self) -> bool {
        self.generation == ClientGeneration::G1
    }

    fn g2(self) -> bool {
        self.generation == ClientGeneration::G2
    }

    // --- Errors -------------------------------------------------------------------

    /// Whether error names in the ERROR the client shows are qualified
    /// (`nnsight.….OutOfOrderError`, 0.8) or bare (`OutOfOrderError`, 0.5–0.7).
    pub fn qualified_error_names(self) -> bool {
        self.g2()
    }

    /// The `ValueError` text of `tracer.invoke()` inside a running invoke (also of a
    /// trace opened inside a running trace, for 0.5–0.7).
    pub fn invoke_while_running(self) -> &'static str {
        if self.g1() {
            "Cannot invoke during an active model execution / interleaving."
        } else {
            "Cannot invoke while the model is already running."
        }
    }

    /// The `ValueError` text of a trace opened inside a running trace (0.8.1: its parent
    /// is the running trace).
    pub fn trace_inside_trace(self) -> &'static str {
        if self.g1() { self.invoke_while_running() } else { "cyclic parent chain" }
    }

    /// How a request the run never served ends.
    pub fn dangling(self) -> DanglingForm {
        match (self.generation, self.v05) {
            (ClientGeneration::G2, _) => DanglingForm::OutOfOrder,
            (ClientGeneration::G1, false) => DanglingForm::MissedProvider,
            (ClientGeneration::G1, true) => DanglingForm::Missed05,
        }
    }

    /// Whether a gradient request is named by its provider alone (`{key}.grad`, 0.5–0.7)
    /// rather than with its occurrence.
    pub fn names_grad_by_provider(self) -> bool {
        self.g1()
    }

    /// Whether indexing a module list past its end is an `IndexError` (0.5–0.7 index
    /// their list of children) rather than 0.8.1's `AttributeError` (a lookup by name).
    pub fn envoy_index_is_list_index(self) -> bool {
        self.g1()
    }

    // --- Classes, scopes and the model ---------------------------------------------

    /// Whether nnsight's model classes derive from `NNsight` (0.5–0.7's hierarchy).
    pub fn nnsight_classes_g1(self) -> bool {
        self.g1()
    }

    /// Whether a block's scope deletes through to the enclosing frame
    /// (`Namespace::delete_through`, 0.5–0.7's compiled functions).
    pub fn scope_deletes_through(self) -> bool {
        self.g1()
    }

    /// Whether the server supplies mask-derived `position_ids` (0.8; 0.5–0.7 clients
    /// tokenize themselves and pass none).
    pub fn supplies_position_ids(self) -> bool {
        self.g2()
    }

    /// Whether each invoke after the first attends to its own padding (0.5's batching).
    pub fn invokes_attend_own_padding(self) -> bool {
        self.v05
    }

    /// Whether `with model.edit() as m:` binds the (edited) model (0.7's
    /// `EditingTracer.__enter__`) rather than the tracer (or `(tracer, model)`).
    pub fn edit_binds_model(self) -> bool {
        self.g1()
    }

    /// Whether `.source` lists and names 0.7's table (its calls only, no `skip`) rather
    /// than 0.8.1's.
    pub fn source_07(self) -> bool {
        self.g1()
    }

    // --- Sessions and the result --------------------------------------------------

    /// Whether a session offers `session.local()` (0.5–0.7's hybrid execution).
    pub fn runs_local_blocks(self) -> bool {
        self.g1()
    }

    /// Whether functions the server sends the client (a `session.local()` block) must
    /// load without nnsight 0.6's serialization helpers (0.5).
    pub fn plain_function_pickles(self) -> bool {
        self.v05
    }

    /// Whether a saved `None` comes back (0.8; 0.7's local execution leaves such a name
    /// unbound, so neither does its remote result).
    pub fn returns_saved_none(self) -> bool {
        self.g2()
    }

    // --- Cache and iteration shapes ------------------------------------------------

    /// Whether `tracer.cache()` is 0.5–0.7's `CacheDict` (paths start at the root's name,
    /// `len` counts cached paths, it pickles as a `CacheDict`) rather than 0.8.1's
    /// `CacheView` of entries.
    pub fn cache_dict(self) -> bool {
        self.g1()
    }

    /// Whether a cache view holds every entry wherever it is (0.5's views are copies of
    /// the whole dict with a path).
    pub fn cache_views_hold_everything(self) -> bool {
        self.v05
    }

    /// Whether `tracer.cache()` may be declared after the code read or modified a model
    /// value (0.7 records from there on; 0.8.1 refuses).
    pub fn cache_may_start_late(self) -> bool {
        self.g1()
    }

    /// The number of steps `tracer.iter` / `tracer.all()` may bind in a generation given
    /// `max_new_tokens=n`, when the client says so itself (0.5–0.7: `n`); `None` when
    /// the bound is the generation's length plus the prompt step (0.8).
    pub fn iteration_bound(self, max_new_tokens: Option<i64>) -> Option<usize> {
        max_new_tokens.filter(|_| self.g1()).map(|n| n.max(0) as usize)
    }

    /// Whether `with tracer.iter[...] as x:` binds each step (0.7's `IteratorTracer`)
    /// rather than the selection (0.8.1).
    pub fn iteration_binds_step(self) -> bool {
        self.g1()
    }

    /// Whether a `with tracer.iter[...]:` block that the run ends short of its selection
    /// ends quietly, keeping what the reached steps saved (0.8.1's
    /// `except OutOfOrderError: pass`).
    pub fn iteration_ends_quietly(self) -> bool {
        self.g2()
    }
}

impl Request {
    /// The dialect this request's job speaks.
    pub fn dialect(&self) -> Dialect {
        Dialect::new(self.client, self.nnsight_05)
    }
}
