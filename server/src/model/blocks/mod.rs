//! Composite forwards shared by families: the causal-LM root and the decoder base model
//! ([`model`]), decoder layers in each residual layout ([`layer`]), attention from
//! projections to output projection ([`attention`]), and MLPs ([`mlp`]). Each calls its
//! children through the hooks (`Fwd::call`) and performs its `.source` operations under
//! the typed names the family's declaration hands it, in transformers' order; what
//! differs between families — child names, argument orders, which operation is which —
//! is data in those declarations, not code here.

pub mod attention;
pub mod layer;
pub mod mlp;
pub mod model;

use super::forward::CallArgs;
use crate::value::Value;

/// A forward's parameters in order, to read an argument given by position or keyword.
#[derive(Debug, Clone, Copy)]
pub struct Signature(pub &'static [&'static str]);

impl Signature {
    /// The argument `name`: by its position if passed positionally, else by keyword.
    pub fn get(&self, c: &CallArgs, name: &str) -> Value {
        c.get(self.0.iter().position(|p| *p == name), name)
    }
}
