//! `nn.Embedding`, with its `padding_idx` (whose row gets no gradient) and the scaled
//! variant Gemma uses (`Gemma2TextScaledWordEmbedding`: the lookup times
//! `sqrt(hidden_size)`, the scale rounded to the weights' dtype first).

use tch::Tensor;

use crate::value::PyResult;

#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// `padding_idx` as the module was built with it.
    pub padding_idx: Option<i64>,
    /// Gemma's `embed_scale` (a float32 buffer), when the class scales.
    pub scale: Option<f64>,
    /// The forward's argument name (`input`; Gemma's `input_ids`).
    pub arg: &'static str,
}

impl Embedding {
    pub fn plain(padding_idx: Option<i64>) -> Embedding {
        Embedding { padding_idx, scale: None, arg: "input" }
    }

    pub fn forward(&self, ids: &Tensor, weight: &Tensor) -> PyResult<Tensor> {
        let out = Tensor::f_embedding(weight, ids, self.padding_idx.unwrap_or(-1), false, false)?;
        match self.scale {
            // `super().forward(input_ids) * self.embed_scale.to(self.weight.dtype)`.
            Some(s) => {
                let scale = Tensor::f_from_slice(&[s as f32])?.f_reshape([] as [i64; 0])?.f_to_device(weight.device())?;
                Ok(out.f_mul(&scale.f_to_kind(weight.kind())?)?)
            }
            None => Ok(out),
        }
    }
}
