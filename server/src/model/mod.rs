//! Models: tch implementations whose module tree and per-call inputs/outputs mirror the HF
//! transformers 5.24 classes (docs/architecture.md, docs/architectures.md, docs/semantics.md
//! §9), with a hook point at every module call ([`forward`]): a layer library ([`layers`],
//! [`blocks`]) and one declaration per family ([`families`]) that builds the tree
//! ([`declare`]) and names its `.source` operations ([`ops`]); the loader (config.json +
//! safetensors + tokenizer.json); the registry that maps repo ids to loaded models. Values
//! crossing hook points are the one value model (`crate::value`); nothing here knows about
//! the interpreter.

pub mod blocks;
pub mod cache;
pub mod config;
pub mod declare;
pub mod device;
pub mod families;
pub mod forward;
pub mod generate;
pub mod layers;
mod listing;
pub mod ops;
mod registry;
pub mod replica;
pub mod source;
pub mod repo;
mod tokenize;
pub mod tree;
mod weights;

use std::sync::Arc;

pub use forward::{Fwd, Hooks, NoHooks};

/// The attention kernel families run unless their class does not support it:
/// transformers' `sdpa_attention_forward` (`torch.nn.functional.scaled_dot_product_attention`),
/// transformers' default. A local run with `attn_implementation="eager"` computes the same
/// values in another order. A model's own is [`Structure::attn_implementation`] (Gemma 2:
/// `eager`).
pub const ATTN_IMPLEMENTATION: &str = "sdpa";
pub use registry::{ModelSource, ModelSpec, Registry, ServedModel, embedded_defaults, read_models_config};
pub use tokenize::TextTokenizer;
pub use tree::{Kind, ModuleId, Tree, Weights};

use tch::Device;

/// What every job on a served model shares: structure and configuration (no tensors).
pub struct Structure {
    pub tree: Tree,
    /// The forwards of the model's family.
    pub family: Box<dyn families::Family>,
    /// `config.json` as served (for `/status`, `model.config`).
    pub config_json: String,
    pub n_params: i64,
}

/// One job's model: the shared structure plus this job's handles to the weights.
pub struct Model {
    pub structure: Arc<Structure>,
    pub weights: Weights,
    pub device: Device,
}

impl Structure {
    /// `config._attn_implementation` of the model as transformers loads it by default.
    pub fn attn_implementation(&self) -> &'static str {
        self.family.kernel().name()
    }
}

impl Model {
    pub fn tree(&self) -> &Tree {
        &self.structure.tree
    }

    /// A parameter of a module by name (`weight`, `bias`).
    pub fn param(&self, id: ModuleId, name: &str) -> Option<&tch::Tensor> {
        let i = self.tree().node(id).params.iter().position(|p| p == name)?;
        Some(self.weights.get(id, i))
    }
}
