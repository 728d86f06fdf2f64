//! Models: tch implementations whose module tree and per-call inputs/outputs mirror the HF
//! transformers 5.24 classes (design.md §7, semantics.md §9), with a hook point at every
//! module call; the loader (config.json + safetensors + tokenizer.json); the registry that
//! maps repo ids to loaded models. Knows nothing of the interpreter: values cross as [`Act`].

mod act;
mod gpt2;
mod registry;
mod tokenize;
mod weights;

pub use act::{Act, Call, Record};
pub use registry::{ModelSource, Registry, ServedModel, embedded_defaults};
pub use tokenize::TextTokenizer;

use tch::Device;

/// Returned by a hook that wants the forward abandoned; the hook's owner knows why.
#[derive(Debug)]
pub struct Interrupted;

/// Why a forward did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("the forward was interrupted by a hook")]
    Interrupted,
    #[error("{0}")]
    Torch(#[from] tch::TchError),
    /// A module got an argument of the wrong kind (e.g. user code swapped in a tuple).
    #[error("TypeError: {0}")]
    Type(String),
}

impl From<Interrupted> for ForwardError {
    fn from(_: Interrupted) -> Self {
        ForwardError::Interrupted
    }
}

/// The interleaver's side of every module call: the pre-forward hook sees (and may
/// replace) the call's arguments, the post-forward hook sees (and may replace) its result.
/// Event order is `input → children → output` (semantics.md §1.4).
pub trait Hooks {
    fn input(&mut self, path: &str, call: Call) -> Result<Call, Interrupted>;
    fn output(&mut self, path: &str, out: Act) -> Result<Act, Interrupted>;
}

/// A causal language model with HF module names. Paths are HF names without nnsight's
/// `model.` root prefix; the root module's path is `""`.
pub trait CausalLm: Send + Sync {
    /// Every module path in the tree, parents before children, in registration order.
    fn module_paths(&self) -> &[String];
    /// Runs the root module on `inputs` (`input_ids`, `attention_mask`, ... as kwargs),
    /// calling `hooks` at every module call, root included.
    fn forward(&self, inputs: Call, hooks: &mut dyn Hooks) -> Result<Act, ForwardError>;
    fn device(&self) -> Device;
    /// A short description for `/status` (`config.json` as text).
    fn config_json(&self) -> &str;
    fn n_params(&self) -> i64;
}

/// Runs `body` as the module at `path`: pre-hook, body on the (possibly replaced) call,
/// post-hook.
pub(crate) fn hooked(
    hooks: &mut dyn Hooks,
    path: &str,
    call: Call,
    body: impl FnOnce(&mut dyn Hooks, Call) -> Result<Act, ForwardError>,
) -> Result<Act, ForwardError> {
    let call = hooks.input(path, call)?;
    let out = body(hooks, call)?;
    Ok(hooks.output(path, out)?)
}

/// The first positional argument as a tensor (modules like Linear take exactly that).
pub(crate) fn arg_tensor(call: &Call, path: &str) -> Result<tch::Tensor, ForwardError> {
    match call.args.first() {
        Some(Act::Tensor(t)) => Ok(t.shallow_clone()),
        Some(other) => Err(ForwardError::Type(format!(
            "module '{path}' expected a Tensor as its first argument, got {}",
            other.type_name()
        ))),
        None => Err(ForwardError::Type(format!(
            "module '{path}' was called without arguments"
        ))),
    }
}

/// A module with one tensor in and one tensor out (Linear, LayerNorm, Dropout, ...).
pub(crate) fn hooked_unary(
    hooks: &mut dyn Hooks,
    path: &str,
    x: &tch::Tensor,
    f: impl FnOnce(&tch::Tensor) -> Result<tch::Tensor, tch::TchError>,
) -> Result<tch::Tensor, ForwardError> {
    let out = hooked(
        hooks,
        path,
        Call::positional(vec![Act::Tensor(x.shallow_clone())]),
        |_, call| Ok(Act::Tensor(f(&arg_tensor(&call, path)?)?)),
    )?;
    output_tensor(out, path)
}

/// A module's (possibly swapped) output, which the parent needs as a tensor.
pub(crate) fn output_tensor(out: Act, path: &str) -> Result<tch::Tensor, ForwardError> {
    match out {
        Act::Tensor(t) => Ok(t),
        other => Err(ForwardError::Type(format!(
            "the output of module '{path}' must be a Tensor, got {}",
            other.type_name()
        ))),
    }
}
