//! The attention kernels as transformers calls them, after the projections: `sdpa`
//! (`integrations/sdpa_attention.py`: the `enable_gqa` / packed single-query / `repeat_kv`
//! choice, the causal flag only without a mask, the prefill slice) and `eager`
//! (`eager_attention_forward`: matmul, scaling, optional logit soft-capping, additive
//! mask, float32 softmax, matmul). Inputs are `[B, heads, S, head_dim]`; both return
//! `[B, S, heads, head_dim]` contiguous, as the forwards reshape it.

use crate::value::tensor::dim_size;
use tch::{Kind as DKind, Tensor};

use crate::value::PyResult;

/// Which kernel a model runs: transformers' default for its class (`sdpa` where the class
/// supports it; Gemma 2, whose soft-capping SDPA cannot express, runs `eager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Sdpa,
    Eager,
}

impl Kernel {
    /// `config._attn_implementation`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Sdpa => "sdpa",
            Kernel::Eager => "eager",
        }
    }
}

/// transformers' `repeat_kv`: `[B, kv, L, D]` → `[B, kv * n_rep, L, D]`.
pub fn repeat_kv(x: &Tensor, n_rep: i64) -> PyResult<Tensor> {
    if n_rep == 1 {
        return Ok(x.shallow_clone());
    }
    let s = x.size();
    let (b, kv, l, d) = (s[0], s[1], s[2], s[3]);
    Ok(x.f_unsqueeze(2)?.f_expand([b, kv, n_rep, l, d], false)?.f_reshape([b, kv * n_rep, l, d])?)
}

/// `sdpa_attention_forward` for a module with `n_rep` query heads per key/value head
/// (1 for a module without `num_key_value_groups`) and a boolean mask (or none);
/// `scaling` `None` is torch's default, `1/sqrt(head_dim)`.
pub fn sdpa(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<Tensor>, scaling: Option<f64>, n_rep: i64) -> PyResult<Tensor> {
    let q_len = dim_size(q, 2)?;
    let head_dim_v = dim_size(v, 3)?;
    let (mut q, mut k, mut v, mut mask, mut gqa) = (q.shallow_clone(), k.shallow_clone(), v.shallow_clone(), mask, false);
    if n_rep > 1 {
        if mask.is_none() && dim_size(&k, 3)? == head_dim_v && head_dim_v <= 256 {
            gqa = true;
        } else if q_len == 1 {
            // pack_gqa: (B, H, 1, D) → (B, H / n_rep, n_rep, D); a mask shared by all heads
            // stays as it is.
            let s = q.size();
            q = q.f_reshape([s[0], s[1] / n_rep, n_rep, s[3]])?;
            if let Some(m) = &mask
                && dim_size(m, 1)? != 1
            {
                let ms = m.size();
                mask = Some(m.f_reshape([ms[0], ms[1] / n_rep, n_rep, ms[3]])?);
            }
        } else {
            k = repeat_kv(&k, n_rep)?;
            v = repeat_kv(&v, n_rep)?;
        }
    }
    let kv_len = dim_size(&k, 2)?;
    let is_causal = q_len > 1 && mask.is_none();
    if is_causal && kv_len > q_len {
        k = k.f_narrow(2, 0, q_len)?;
        v = v.f_narrow(2, 0, q_len)?;
    }
    let out = Tensor::f_scaled_dot_product_attention(&q, &k, &v, mask.as_ref(), 0.0, is_causal, scaling, gqa)?;
    let os = out.size();
    Ok(out.f_reshape([os[0], -1, q_len, dim_size(&v, 3)?])?.f_transpose(1, 2)?.f_contiguous()?)
}

/// `eager_attention_forward` (Llama's, with Gemma 2's `softcap`): returns the output and
/// the attention weights. `mask` is the additive float mask.
pub fn eager(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>, scaling: f64, softcap: Option<f64>, n_rep: i64) -> PyResult<(Tensor, Tensor)> {
    let k = repeat_kv(k, n_rep)?;
    let v = repeat_kv(v, n_rep)?;
    let mut w = q.f_matmul(&k.f_transpose(2, 3)?)?.f_mul_scalar(scaling)?;
    if let Some(cap) = softcap {
        w = w.f_div_scalar(cap)?.f_tanh()?.f_mul_scalar(cap)?;
    }
    if let Some(m) = mask {
        w = w.f_add(m)?;
    }
    let w = w.f_softmax(-1, DKind::Float)?.f_to_kind(q.kind())?;
    let out = w.f_matmul(&v)?.f_transpose(1, 2)?.f_contiguous()?;
    Ok((out, w))
}
