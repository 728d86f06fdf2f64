//! Normalization layers: `nn.LayerNorm`, and RMSNorm in its two transformers forms — the
//! Llama form (`weight * x_normed.to(input_dtype)`) and the Gemma form
//! (`(x_normed * (1 + weight.float())).type_as(x)`); both normalize in float32.

use tch::{Kind as DKind, Tensor};

use crate::value::PyResult;

#[derive(Debug, Clone, PartialEq)]
pub struct LayerNorm {
    pub eps: f64,
    /// Whether the module has a `bias` parameter.
    pub bias: bool,
}

impl LayerNorm {
    pub fn forward(&self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> PyResult<Tensor> {
        let n = x.size().last().copied().unwrap_or(0);
        Ok(x.f_layer_norm([n], Some(w), b, self.eps, true)?)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RmsNorm {
    pub eps: f64,
    /// Gemma's form: the weight is an offset from 1 and multiplies in float32.
    pub unit_offset: bool,
    /// The forward's argument name (`hidden_states`; Gemma's `x`).
    pub arg: &'static str,
}

impl RmsNorm {
    /// The Llama form (Llama, Mistral, Qwen2/3, OLMo-2).
    pub fn llama(eps: f64) -> RmsNorm {
        RmsNorm { eps, unit_offset: false, arg: "hidden_states" }
    }

    /// The Gemma form (Gemma 1–3).
    pub fn gemma(eps: f64) -> RmsNorm {
        RmsNorm { eps, unit_offset: true, arg: "x" }
    }

    pub fn forward(&self, x: &Tensor, w: &Tensor) -> PyResult<Tensor> {
        let dtype = x.kind();
        // `h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)` on `h = x.float()`.
        let h = x.f_to_kind(DKind::Float)?;
        let var = h.f_pow_tensor_scalar(2)?.f_mean_dim(-1, true, None::<DKind>)?;
        let h = h.f_mul(&var.f_add_scalar(self.eps)?.f_rsqrt()?)?;
        if self.unit_offset {
            let scale = w.f_to_kind(DKind::Float)?.f_add_scalar(1.0)?;
            Ok(h.f_mul(&scale)?.f_to_kind(dtype)?)
        } else {
            Ok(w.f_mul(&h.f_to_kind(dtype)?)?)
        }
    }
}
