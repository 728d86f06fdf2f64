//! The layer library: typed building blocks whose forwards are transformers 5.24's op for
//! op (same ATen kernels, same evaluation order, so values and gradients are bit-identical
//! to a local run). Leaf modules ([`Leaf`]) run here whenever the tree calls them; the
//! attention kernels and masks ([`attention`], [`mask`]) and the rotary tables
//! ([`rotary`]) are what the composite forwards (`model::blocks`) call. Nothing here knows
//! a family: the declarations in `model::families` compose these.

pub mod activation;
pub mod attention;
pub mod embedding;
pub mod linear;
pub mod mask;
pub mod norm;
pub mod rotary;

pub use activation::Activation;
pub use embedding::Embedding;
pub use norm::{LayerNorm, RmsNorm};
pub use rotary::Rope;

use std::sync::Arc;

use super::forward::{CallArgs, Fwd, tv};
use super::tree::ModuleId;
use crate::value::{PyResult, Value};

/// A leaf module: what it computes from its input and its own parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// `nn.Linear`: `weight` `[out, in]`, optional `bias` `[out]`.
    Linear,
    /// transformers' `Conv1D` (GPT-2): a linear layer with `weight` `[in, out]`.
    Conv1D,
    Embedding(Embedding),
    LayerNorm(LayerNorm),
    RmsNorm(RmsNorm),
    Act(Activation),
    /// `nn.Dropout(p)`: the identity in eval mode.
    Dropout { p: f64 },
    /// The rotary-embedding module: `(x, position_ids)` → `(cos, sin)`.
    Rotary(Arc<Rope>),
    /// GPT-J's rotary module: `(x, position_ids)` → `(sin, cos)` rows of its table.
    Sinusoidal(Arc<rotary::Sinusoidal>),
    /// A rotary module with a table per layer type (Gemma 3):
    /// `(x, position_ids, layer_type)` → that type's `(cos, sin)`.
    TypedRotary(Arc<Vec<(&'static str, Rope)>>),
}

impl Leaf {
    /// The module's forward over its (hooked) arguments.
    pub fn run(&self, f: &Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
        let name = &f.m.tree().node(id).envoy;
        let w = |i: usize| f.m.weights.get(id, i);
        let bias = || (f.m.tree().node(id).params.len() > 1).then(|| w(1));
        match self {
            Leaf::Linear => Ok(tv(linear::linear(&c.tensor(Some(0), "input", name)?, w(0), bias())?)),
            Leaf::Conv1D => Ok(tv(linear::conv1d(&c.tensor(Some(0), "x", name)?, w(0), w(1))?)),
            Leaf::Embedding(e) => Ok(tv(e.forward(&c.tensor(Some(0), e.arg, name)?, w(0))?)),
            Leaf::LayerNorm(n) => Ok(tv(n.forward(&c.tensor(Some(0), "input", name)?, w(0), bias())?)),
            Leaf::RmsNorm(n) => Ok(tv(n.forward(&c.tensor(Some(0), n.arg, name)?, w(0))?)),
            Leaf::Act(a) => Ok(tv(a.forward(&c.tensor(Some(0), "input", name)?)?)),
            Leaf::Dropout { .. } => Ok(c.get(Some(0), "input")),
            Leaf::Rotary(rope) => {
                let (cos, sin) = rope.forward(&c.tensor(Some(0), "x", name)?, &c.tensor(Some(1), "position_ids", name)?)?;
                Ok(Value::tuple(vec![tv(cos), tv(sin)]))
            }
            Leaf::Sinusoidal(table) => {
                let (sin, cos) = table.forward(&c.tensor(Some(0), "x", name)?, &c.tensor(Some(1), "position_ids", name)?)?;
                Ok(Value::tuple(vec![tv(sin), tv(cos)]))
            }
            Leaf::TypedRotary(ropes) => {
                let t = c.get(Some(2), "layer_type");
                let t = t.as_str().unwrap_or("None");
                let rope = ropes
                    .iter()
                    .find(|(n, _)| *n == t)
                    .map(|(_, r)| r)
                    .ok_or_else(|| crate::value::PyErr::attribute_error(format!("'{}' object has no attribute '{t}_inv_freq'", f.m.tree().node(id).class)))?;
                let (cos, sin) = rope.forward(&c.tensor(Some(0), "x", name)?, &c.tensor(Some(1), "position_ids", name)?)?;
                Ok(Value::tuple(vec![tv(cos), tv(sin)]))
            }
        }
    }

    /// torch's `extra_repr` (what `print(model)` shows in the parentheses), given the
    /// module's parameter shapes in registration order.
    pub fn extra_repr(&self, shapes: &[Vec<i64>]) -> String {
        let dim = |i: usize, d: usize| shapes.get(i).and_then(|s| s.get(d)).copied().unwrap_or(0);
        let float = crate::value::float::repr;
        match self {
            Leaf::Linear => format!(
                "in_features={}, out_features={}, bias={}",
                dim(0, 1),
                dim(0, 0),
                if shapes.len() > 1 { "True" } else { "False" }
            ),
            Leaf::Conv1D => format!("nf={}, nx={}", dim(0, 1), dim(0, 0)),
            Leaf::Embedding(e) => match e.padding_idx {
                Some(p) => format!("{}, {}, padding_idx={p}", dim(0, 0), dim(0, 1)),
                None => format!("{}, {}", dim(0, 0), dim(0, 1)),
            },
            Leaf::LayerNorm(n) => format!(
                "({},), eps={}, elementwise_affine=True, bias={}",
                dim(0, 0),
                float(n.eps),
                if n.bias { "True" } else { "False" }
            ),
            Leaf::RmsNorm(n) => format!("({},), eps={}", dim(0, 0), float(n.eps)),
            Leaf::Dropout { p } => format!("p={}, inplace=False", float(*p)),
            Leaf::Act(_) | Leaf::Rotary(_) | Leaf::Sinusoidal(_) | Leaf::TypedRotary(_) => String::new(),
        }
    }
}
