//! Activation modules as transformers' `ACT2FN` builds them: each name a config's
//! `hidden_act` may give, the module class it makes, and its forward.

use tch::Tensor;

use crate::value::PyResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// `gelu_new`: `NewGELUActivation` (GPT-2).
    GeluNew,
    /// `gelu`: `GELUActivation`, torch's exact (erf) GELU (GPT-NeoX).
    Gelu,
    /// `gelu_pytorch_tanh`: `GELUTanh`, torch's tanh-approximated GELU (Gemma).
    GeluTanh,
    /// `silu`: `SiLUActivation` (Llama and most gated MLPs).
    Silu,
    /// `relu`: `nn.ReLU`.
    Relu,
}

/// The `hidden_act` names this library implements.
pub const NAMES: &[&str] = &["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu"];

impl Activation {
    /// The activation a config names, or an error naming what is implemented.
    pub fn from_config(key: &str, name: &str) -> anyhow::Result<Activation> {
        Ok(match name {
            "gelu_new" => Activation::GeluNew,
            "gelu" => Activation::Gelu,
            "gelu_pytorch_tanh" => Activation::GeluTanh,
            "silu" => Activation::Silu,
            "relu" => Activation::Relu,
            other => anyhow::bail!("config.json sets {key}=\"{other}\", an activation localndif does not implement (it handles {})", NAMES.join(", ")),
        })
    }

    /// The module's class name.
    pub fn class(self) -> &'static str {
        match self {
            Activation::GeluNew => "NewGELUActivation",
            Activation::Gelu => "GELUActivation",
            Activation::GeluTanh => "GELUTanh",
            Activation::Silu => "SiLUActivation",
            Activation::Relu => "ReLU",
        }
    }

    pub fn forward(self, x: &Tensor) -> PyResult<Tensor> {
        Ok(match self {
            Activation::GeluNew => gelu_new(x)?,
            Activation::Gelu => x.f_gelu("none")?,
            Activation::GeluTanh => x.f_gelu("tanh")?,
            Activation::Silu => x.f_silu()?,
            Activation::Relu => x.f_relu()?,
        })
    }
}

/// `NewGELUActivation`, op for op and in Python's evaluation order
/// (`0.5 * input * (1.0 + tanh(c * (input + 0.044715 * pow(input, 3.0))))`: `0.5 * input`
/// first). The order fixes the autograd graph's, and so the order in which `input`'s
/// three gradient contributions are summed: another order differs in the last bits.
fn gelu_new(x: &Tensor) -> PyResult<Tensor> {
    let c = (2.0f64 / std::f64::consts::PI).sqrt();
    let half = x.f_mul_scalar(0.5)?;
    let inner = x.f_add(&x.f_pow_tensor_scalar(3.0)?.f_mul_scalar(0.044715)?)?.f_mul_scalar(c)?;
    Ok(half.f_mul(&inner.f_tanh()?.f_add_scalar(1.0)?)?)
}
