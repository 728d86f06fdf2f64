//! The module tree of a served model: one node per `nn.Module` with its HF attribute path,
//! its class, what its forward does ([`Kind`]), its parameter names and its children by
//! name, as a family's declaration builds it (`model::declare`). Envoy paths
//! (`model.transformer.h.0`), `len(model.transformer.h)`, `.weight` and every hook point
//! come from here. The structure is shared by every job; the parameters are per job
//! handles to the same storage ([`Weights`]).

use std::collections::HashMap;

use tch::Tensor;

pub use super::layers::Leaf;

pub type ModuleId = usize;

/// What a module's forward computes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A module of the layer library (`model::layers`), run by the library.
    Leaf(Leaf),
    /// A composite module whose forward the family declares (`model::families`).
    Block(Block),
    /// `nn.ModuleList`: never called itself.
    ModuleList,
    /// An `nn.Dropout` that exists but is never called (GPT-2's `attn_dropout` under SDPA).
    Unused { p: f64 },
    // nnsight's wrappers around generation.
    Generator,
    Streamer,
}

/// The role of a composite module in its family's forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The root (`LlamaForCausalLM`): the base model, then the head.
    CausalLm,
    /// The base model (`LlamaModel`): embeddings, the decoder layers, the final norm.
    Model,
    /// Decoder layer `i`.
    Layer(usize),
    /// The attention module of decoder layer `i`.
    Attention(usize),
    Mlp,
}

impl Kind {
    /// torch's `extra_repr` of the module, given its parameter shapes.
    pub fn extra_repr(&self, shapes: &[Vec<i64>]) -> String {
        match self {
            Kind::Leaf(leaf) => leaf.extra_repr(shapes),
            Kind::Unused { p } => Leaf::Dropout { p: *p }.extra_repr(shapes),
            _ => String::new(),
        }
    }
}

pub struct Node {
    /// Attribute name in the parent (`h`, `0`, `attn`); `""` for the root.
    pub name: String,
    /// HF path (`transformer.h.0.attn`); `""` for the root.
    pub path: String,
    /// nnsight's envoy path (`model.transformer.h.0.attn`).
    pub envoy: String,
    /// The torch class name (`GPT2Attention`), for `repr` and messages.
    pub class: &'static str,
    pub kind: Kind,
    /// Parameter names in registration order (`weight`, `bias`).
    pub params: Vec<String>,
    pub children: Vec<ModuleId>,
    pub parent: Option<ModuleId>,
}

pub struct Tree {
    pub nodes: Vec<Node>,
    by_envoy: HashMap<String, ModuleId>,
}

impl Tree {
    pub fn new(root_class: &'static str, root_kind: Kind) -> Tree {
        let mut t = Tree {
            nodes: Vec::new(),
            by_envoy: HashMap::new(),
        };
        t.push(None, "", root_class, root_kind);
        t
    }

    fn push(&mut self, parent: Option<ModuleId>, name: &str, class: &'static str, kind: Kind) -> ModuleId {
        let (path, envoy) = match parent {
            None => (String::new(), "model".to_string()),
            Some(p) => {
                let pp = &self.nodes[p];
                let path = if pp.path.is_empty() {
                    name.to_string()
                } else {
                    format!("{}.{name}", pp.path)
                };
                (path, format!("{}.{name}", pp.envoy))
            }
        };
        let id = self.nodes.len();
        self.by_envoy.insert(envoy.clone(), id);
        self.nodes.push(Node {
            name: name.to_string(),
            path,
            envoy,
            class,
            kind,
            params: Vec::new(),
            children: Vec::new(),
            parent,
        });
        if let Some(p) = parent {
            self.nodes[p].children.push(id);
        }
        id
    }

    /// Adds a child module; returns its id.
    pub fn add(&mut self, parent: ModuleId, name: &str, class: &'static str, kind: Kind) -> ModuleId {
        self.push(Some(parent), name, class, kind)
    }

    pub fn add_param(&mut self, id: ModuleId, name: &str) {
        self.nodes[id].params.push(name.to_string());
    }

    pub fn root(&self) -> ModuleId {
        0
    }

    pub fn node(&self, id: ModuleId) -> &Node {
        &self.nodes[id]
    }

    pub fn by_envoy(&self, envoy: &str) -> Option<ModuleId> {
        self.by_envoy.get(envoy).copied()
    }

    /// The child of `id` named `name`.
    pub fn child(&self, id: ModuleId, name: &str) -> Option<ModuleId> {
        self.nodes[id].children.iter().copied().find(|&c| self.nodes[c].name == name)
    }

    /// Every module in registration order (`named_modules()`), root first.
    pub fn ids(&self) -> impl Iterator<Item = ModuleId> {
        0..self.nodes.len()
    }

    /// The (module, parameter index) of every parameter, in `named_parameters()` order.
    pub fn param_slots(&self) -> Vec<(ModuleId, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .flat_map(|(id, n)| (0..n.params.len()).map(move |p| (id, p)))
            .collect()
    }
}

/// A job's handles to the served parameters: `params[module][i]` (shallow handles sharing
/// the model's storage; weights are read-only to jobs, tensor.rs guards writes).
pub struct Weights {
    pub params: Vec<Vec<Tensor>>,
}

impl Weights {
    pub fn get(&self, id: ModuleId, i: usize) -> &Tensor {
        &self.params[id][i]
    }

    /// Another set of handles to the same tensors (for another job thread).
    pub fn handles(&self) -> Weights {
        Weights {
            params: self
                .params
                .iter()
                .map(|ps| ps.iter().map(Tensor::shallow_clone).collect())
                .collect(),
        }
    }

    /// Handles for a job that takes gradients: every float weight a fresh leaf that
    /// requires grad (as a local `nn.Parameter` does), sharing the weights' storage, so
    /// the autograd state stays the job's own.
    pub fn trainable(&self) -> Result<Weights, tch::TchError> {
        let mut params = Vec::with_capacity(self.params.len());
        for ps in &self.params {
            let mut out = Vec::with_capacity(ps.len());
            for p in ps {
                let mut t = p.f_detach()?;
                if t.is_floating_point() {
                    t = t.f_requires_grad_(true)?;
                }
                out.push(t);
            }
            params.push(out);
        }
        Ok(Weights { params })
    }

    /// Byte ranges of every weight (to refuse in-place writes into them).
    pub fn ranges(&self) -> Vec<(usize, usize)> {
        self.params
            .iter()
            .flatten()
            .filter_map(crate::value::tensor::byte_range)
            .collect()
    }
}
