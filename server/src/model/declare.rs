//! Declaring a family's module tree: each call adds one module under its HF attribute
//! name and class, and the typed layers (`linear`, `embedding`, `rms_norm`, …) know their
//! parameters' names and shapes. Against a checkpoint every parameter is looked up (under
//! the family's aliases) and its shape checked against the config, naming the tensor when
//! it is missing or wrong; in shapes mode (replicas, `model::replica`) the expected shape
//! and initialization of every parameter is recorded instead, so a replica needs nothing
//! but the config.

use std::collections::HashMap;

use tch::Tensor;

use super::layers::{Activation, Embedding, LayerNorm, Leaf, RmsNorm, Rope};
use super::tree::{Block, Kind, ModuleId, Tree, Weights};

/// How a replica initializes a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    Normal,
    Ones,
    Zeros,
}

/// A parameter as a replica writes it.
#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<i64>,
    pub init: Init,
}

/// The checkpoint names a parameter may be stored under, canonical name first
/// (openai-community/gpt2 stores `h.0.attn.c_attn.weight`; Pythia `embed_out.weight`).
pub type Aliases = fn(&str) -> Vec<String>;

pub fn no_aliases(name: &str) -> Vec<String> {
    vec![name.to_string()]
}

enum Source<'a> {
    Checkpoint { tensors: &'a HashMap<String, Tensor>, aliases: Aliases },
    Shapes(Vec<ParamSpec>),
}

pub struct Builder<'a> {
    tree: Option<Tree>,
    params: Vec<Vec<Tensor>>,
    source: Source<'a>,
}

impl<'a> Builder<'a> {
    /// A builder that takes every parameter from `tensors`.
    pub fn checkpoint(tensors: &'a HashMap<String, Tensor>, aliases: Aliases) -> Builder<'a> {
        Builder { tree: None, params: Vec::new(), source: Source::Checkpoint { tensors, aliases } }
    }

    /// A builder that records what every parameter should be.
    pub fn shapes() -> Builder<'a> {
        Builder { tree: None, params: Vec::new(), source: Source::Shapes(Vec::new()) }
    }

    fn tree(&mut self) -> &mut Tree {
        self.tree.as_mut().expect("the root is declared first")
    }

    /// The root module (`LlamaForCausalLM`).
    pub fn root(&mut self, class: &'static str) -> ModuleId {
        self.tree = Some(Tree::new(class, Kind::Block(Block::CausalLm)));
        self.params = vec![Vec::new()];
        0
    }

    /// A module without parameters of its own.
    pub fn module(&mut self, parent: ModuleId, name: &str, class: &'static str, kind: Kind) -> ModuleId {
        let id = self.tree().add(parent, name, class, kind);
        self.params.push(Vec::new());
        id
    }

    /// A composite module whose forward the family declares.
    pub fn block(&mut self, parent: ModuleId, name: &str, class: &'static str, block: Block) -> ModuleId {
        self.module(parent, name, class, Kind::Block(block))
    }

    /// An `nn.ModuleList`.
    pub fn list(&mut self, parent: ModuleId, name: &str) -> ModuleId {
        self.module(parent, name, "ModuleList", Kind::ModuleList)
    }

    /// Parameter `name` of module `id`: `shape`, from the checkpoint or recorded.
    fn param(&mut self, id: ModuleId, name: &str, shape: &[i64], init: Init) -> anyhow::Result<()> {
        let path = format!("{}.{name}", self.tree().node(id).path);
        self.tree().add_param(id, name);
        let t = match &mut self.source {
            Source::Shapes(specs) => {
                specs.push(ParamSpec { name: path, shape: shape.to_vec(), init });
                Tensor::new()
            }
            Source::Checkpoint { tensors, aliases } => {
                let t = aliases(&path)
                    .iter()
                    .find_map(|n| tensors.get(n))
                    .ok_or_else(|| anyhow::anyhow!("the checkpoint has no tensor '{path}'"))?;
                anyhow::ensure!(
                    t.size() == shape,
                    "the checkpoint's tensor '{path}' has shape {:?}; config.json implies {shape:?}",
                    t.size()
                );
                t.shallow_clone()
            }
        };
        self.params[id].push(t);
        Ok(())
    }

    fn leaf(&mut self, parent: ModuleId, name: &str, class: &'static str, leaf: Leaf) -> ModuleId {
        self.module(parent, name, class, Kind::Leaf(leaf))
    }

    /// `nn.Linear(in_features, out_features, bias)`.
    pub fn linear(&mut self, parent: ModuleId, name: &str, in_features: i64, out_features: i64, bias: bool) -> anyhow::Result<ModuleId> {
        let id = self.leaf(parent, name, "Linear", Leaf::Linear);
        self.param(id, "weight", &[out_features, in_features], Init::Normal)?;
        if bias {
            self.param(id, "bias", &[out_features], Init::Zeros)?;
        }
        Ok(id)
    }

    /// transformers' `Conv1D(nf, nx)`: weight `[nx, nf]`, bias `[nf]`.
    pub fn conv1d(&mut self, parent: ModuleId, name: &str, nx: i64, nf: i64) -> anyhow::Result<ModuleId> {
        let id = self.leaf(parent, name, "Conv1D", Leaf::Conv1D);
        self.param(id, "weight", &[nx, nf], Init::Normal)?;
        self.param(id, "bias", &[nf], Init::Zeros)?;
        Ok(id)
    }

    /// An embedding table `[num, dim]` of class `class` (`Embedding`, or a subclass).
    pub fn embedding(&mut self, parent: ModuleId, name: &str, class: &'static str, num: i64, dim: i64, e: Embedding) -> anyhow::Result<ModuleId> {
        let id = self.leaf(parent, name, class, Leaf::Embedding(e));
        self.param(id, "weight", &[num, dim], Init::Normal)?;
        Ok(id)
    }

    /// `nn.LayerNorm(dim, eps, bias)`.
    pub fn layer_norm(&mut self, parent: ModuleId, name: &str, dim: i64, eps: f64, bias: bool) -> anyhow::Result<ModuleId> {
        let id = self.leaf(parent, name, "LayerNorm", Leaf::LayerNorm(LayerNorm { eps, bias }));
        self.param(id, "weight", &[dim], Init::Ones)?;
        if bias {
            self.param(id, "bias", &[dim], Init::Zeros)?;
        }
        Ok(id)
    }

    /// An RMSNorm of class `class` over `dim` (its identity weight: 1, or 0 in Gemma's form).
    pub fn rms_norm(&mut self, parent: ModuleId, name: &str, class: &'static str, dim: i64, n: RmsNorm) -> anyhow::Result<ModuleId> {
        let init = if n.unit_offset { Init::Zeros } else { Init::Ones };
        let id = self.leaf(parent, name, class, Leaf::RmsNorm(n));
        self.param(id, "weight", &[dim], init)?;
        Ok(id)
    }

    /// An activation module.
    pub fn act(&mut self, parent: ModuleId, name: &str, a: Activation) -> ModuleId {
        self.leaf(parent, name, a.class(), Leaf::Act(a))
    }

    /// `nn.Dropout(p)`.
    pub fn dropout(&mut self, parent: ModuleId, name: &str, p: f64) -> ModuleId {
        self.leaf(parent, name, "Dropout", Leaf::Dropout { p })
    }

    /// The rotary-embedding module of class `class`.
    pub fn rotary(&mut self, parent: ModuleId, name: &str, class: &'static str, rope: Rope) -> ModuleId {
        self.leaf(parent, name, class, Leaf::Rotary(std::sync::Arc::new(rope)))
    }

    /// GPT-J's rotary module of class `class`, its sinusoid table computed here.
    pub fn sinusoidal(&mut self, parent: ModuleId, name: &str, class: &'static str, positions: i64, dim: i64) -> anyhow::Result<ModuleId> {
        let table = super::layers::rotary::Sinusoidal::new(positions, dim)?;
        Ok(self.leaf(parent, name, class, Leaf::Sinusoidal(std::sync::Arc::new(table))))
    }

    /// A rotary module of class `class` with a table per layer type (Gemma 3).
    pub fn typed_rotary(&mut self, parent: ModuleId, name: &str, class: &'static str, ropes: Vec<(&'static str, Rope)>) -> ModuleId {
        self.leaf(parent, name, class, Leaf::TypedRotary(std::sync::Arc::new(ropes)))
    }

    /// The LM head `nn.Linear(dim, vocab, bias=False)`; tied, it is the embedding's weight
    /// itself (the same tensor, as transformers ties it).
    pub fn head(&mut self, parent: ModuleId, name: &str, dim: i64, vocab: i64, embedding: ModuleId, tied: bool) -> anyhow::Result<ModuleId> {
        if !tied {
            return self.linear(parent, name, dim, vocab, false);
        }
        let id = self.leaf(parent, name, "Linear", Leaf::Linear);
        self.tree().add_param(id, "weight");
        let w = self.params[embedding][0].shallow_clone();
        self.params[id].push(w);
        Ok(id)
    }

    /// nnsight's `generator` and `streamer` wrappers, then the tree and its weights.
    pub fn finish(mut self) -> (Tree, Weights) {
        let root = 0;
        let g = self.module(root, "generator", "Generator", Kind::Generator);
        self.module(g, "streamer", "Streamer", Kind::Streamer);
        (self.tree.expect("a root was declared"), Weights { params: self.params })
    }

    /// What every parameter should be (shapes mode).
    pub fn specs(self) -> Vec<ParamSpec> {
        match self.source {
            Source::Shapes(specs) => specs,
            Source::Checkpoint { .. } => Vec::new(),
        }
    }
}
