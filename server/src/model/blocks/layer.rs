//! Decoder layers in their residual layouts: sequential pre-norm (Llama, Qwen), sandwich
//! norms around attention and MLP (Gemma 2/3), post-norms only (OLMo-2), and GPT-NeoX's
//! parallel (or sequential) residual with its dropouts, GPT-J's parallel residual. Child names are transformers'
//! (`input_layernorm`, `post_attention_layernorm`, `pre_feedforward_layernorm`,
//! `post_feedforward_layernorm`, `mlp`); the attention child and how the layer calls it
//! are the family's.

use super::super::forward::{CallArgs, Fwd, first_output, out_tensor, tv};
use super::super::tree::ModuleId;
use super::Signature;
use crate::value::{PyResult, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Residual {
    /// `h = x + attn(input_layernorm(x)); h + mlp(post_attention_layernorm(h))`.
    Sequential,
    /// Phi-3: sequential, each branch through its dropout module
    /// (`resid_attn_dropout`, `resid_mlp_dropout`) before the residual add.
    SequentialDropout,
    /// `h = x + post_attention_layernorm(attn(input_layernorm(x)));
    /// h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h)))`.
    Sandwich,
    /// OLMo-2 (with no input norm): `h = x + post_attention_layernorm(attn(x));
    /// h + post_feedforward_layernorm(mlp(h))`.
    PostNorm,
    /// GPT-J: attention and MLP both read the one normed input;
    /// `attn_output + feed_forward_hidden_states + residual`.
    Parallel,
    /// GPT-NeoX: attention and MLP both read the layer's input (`use_parallel_residual`),
    /// or the MLP reads `x + attn` (`parallel: false`); each output passes a dropout.
    NeoX { parallel: bool },
}

/// How a family's decoder layer is written.
pub struct LayerDecl {
    /// The layer forward's parameters (`hidden_states, attention_mask, …`).
    pub signature: Signature,
    /// The norm before attention (`input_layernorm`, GPT-J's `ln_1`; none in OLMo-2).
    pub input_norm: Option<&'static str>,
    /// The attention child (`self_attn`, `attention`).
    pub attn: &'static str,
    /// Whether the normed hidden states go to attention positionally (GPT-NeoX) or as
    /// `hidden_states=`.
    pub attn_positional: bool,
    /// The keywords the layer passes to attention, each its own argument of that name.
    pub attn_kwargs: &'static [&'static str],
    pub residual: Residual,
}

/// The decoder layer's forward.
pub fn forward(f: &mut Fwd<'_>, id: ModuleId, decl: &LayerDecl, c: &CallArgs) -> PyResult<Value> {
    let name = f.envoy(id);
    let hidden_v = decl.signature.get(c, "hidden_states");
    let residual = out_tensor(&hidden_v, &name)?;
    let call = |f: &mut Fwd<'_>, child: &str, x: Value| -> PyResult<Value> {
        let m = f.child(id, child)?;
        f.call(m, vec![x], vec![])
    };
    let x = match decl.input_norm {
        Some(norm) => call(f, norm, hidden_v)?,
        None => hidden_v,
    };
    let normed = x.clone();
    let (args, mut kwargs) = if decl.attn_positional { (vec![x], vec![]) } else { (vec![], vec![("hidden_states", x)]) };
    kwargs.extend(decl.attn_kwargs.iter().map(|&k| (k, decl.signature.get(c, k))));
    let attn_id = f.child(id, decl.attn)?;
    let attn = f.call(attn_id, args, kwargs)?;
    let attn_out = first_output(&attn, &format!("{name}.{}", decl.attn))?;
    match decl.residual {
        Residual::Sequential => {
            let hidden = residual.f_add(&attn_out)?;
            let x = call(f, "post_attention_layernorm", tv(hidden.shallow_clone()))?;
            let ff = call(f, "mlp", x)?;
            Ok(tv(hidden.f_add(&out_tensor(&ff, &format!("{name}.mlp"))?)?))
        }
        Residual::Parallel => {
            let ff = call(f, "mlp", normed)?;
            Ok(tv(attn_out.f_add(&out_tensor(&ff, &format!("{name}.mlp"))?)?.f_add(&residual)?))
        }
        Residual::SequentialDropout => {
            let a = call(f, "resid_attn_dropout", tv(attn_out))?;
            let hidden = residual.f_add(&out_tensor(&a, &name)?)?;
            let x = call(f, "post_attention_layernorm", tv(hidden.shallow_clone()))?;
            let x = call(f, "mlp", x)?;
            let x = call(f, "resid_mlp_dropout", x)?;
            Ok(tv(hidden.f_add(&out_tensor(&x, &name)?)?))
        }
        Residual::Sandwich => {
            let h = call(f, "post_attention_layernorm", tv(attn_out))?;
            let hidden = residual.f_add(&out_tensor(&h, &name)?)?;
            let x = call(f, "pre_feedforward_layernorm", tv(hidden.shallow_clone()))?;
            let x = call(f, "mlp", x)?;
            let x = call(f, "post_feedforward_layernorm", x)?;
            Ok(tv(hidden.f_add(&out_tensor(&x, &name)?)?))
        }
        Residual::PostNorm => {
            let h = call(f, "post_attention_layernorm", tv(attn_out))?;
            let hidden = residual.f_add(&out_tensor(&h, &name)?)?;
            let x = call(f, "mlp", tv(hidden.shallow_clone()))?;
            let x = call(f, "post_feedforward_layernorm", x)?;
            Ok(tv(hidden.f_add(&out_tensor(&x, &name)?)?))
        }
        Residual::NeoX { parallel } => {
            let attn_out = call(f, "post_attention_dropout", tv(attn_out))?;
            let attn_out = out_tensor(&attn_out, &name)?;
            if parallel {
                let x = call(f, "post_attention_layernorm", tv(residual.shallow_clone()))?;
                let m = call(f, "mlp", x)?;
                let m = out_tensor(&call(f, "post_mlp_dropout", m)?, &name)?;
                // `mlp_output + attn_output + hidden_states`.
                Ok(tv(m.f_add(&attn_out)?.f_add(&residual)?))
            } else {
                let attn_out = attn_out.f_add(&residual)?;
                let x = call(f, "post_attention_layernorm", tv(attn_out.shallow_clone()))?;
                let m = call(f, "mlp", x)?;
                let m = out_tensor(&call(f, "post_mlp_dropout", m)?, &name)?;
                Ok(tv(m.f_add(&attn_out)?))
            }
        }
    }
}
