//! The attention masks transformers' `masking_utils` builds from a 2D padding mask and the
//! cache: which keys each query sees (causal, within a sliding window, not padding), as
//! the boolean mask SDPA takes — or none when the kernel's causal flag stands in
//! (`_ignore_causal_mask_sdpa`) — or as eager attention's additive float mask (0 and the
//! dtype's minimum).

use crate::value::tensor::dim_size;
use tch::{Kind as DKind, Tensor};

use crate::value::PyResult;

/// Where one layer's keys sit relative to its queries (`cache.get_query_offset` and
/// `cache.get_mask_sizes` for that layer; without a cache, the input alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub q_len: i64,
    pub q_offset: i64,
    pub kv_len: i64,
    pub kv_offset: i64,
}

impl Span {
    /// A full-attention layer with `past` tokens cached.
    pub fn full(q_len: i64, past: i64) -> Span {
        Span { q_len, q_offset: past, kv_len: past + q_len, kv_offset: 0 }
    }

    /// A sliding-window layer (`DynamicSlidingWindowLayer`) that has seen `seen` tokens.
    pub fn sliding(q_len: i64, seen: i64, window: i64) -> Span {
        let kv_len = if seen >= window { window - 1 + q_len } else { seen + q_len };
        Span { q_len, q_offset: seen, kv_len, kv_offset: (seen - window + 1).max(0) }
    }

    /// No cache: the keys are the input, or as long as the 2D mask when one is given.
    pub fn uncached(q_len: i64, mask_len: Option<i64>) -> Span {
        Span { q_len, q_offset: 0, kv_len: mask_len.unwrap_or(q_len), kv_offset: 0 }
    }
}

/// The 2D padding mask as booleans, padded with `False` to cover the span's keys
/// (`prepare_padding_mask`).
fn padding(mask: &Tensor, span: Span) -> PyResult<Tensor> {
    let mask = mask.f_to_kind(DKind::Bool)?;
    let short = span.kv_len + span.kv_offset - dim_size(&mask, 1)?;
    Ok(if short > 0 { mask.f_constant_pad_nd([0, short])? } else { mask })
}

/// Whether every element is true.
fn all(t: &Tensor) -> PyResult<bool> {
    Ok(t.numel() == 0 || t.f_all()?.f_int64_value(&[])? == 1)
}

/// `_ignore_causal_mask_sdpa`: SDPA's causal flag gives the same attention.
fn causal_flag_suffices(pad: Option<&Tensor>, span: Span, window: Option<i64>) -> PyResult<bool> {
    if window.is_some_and(|w| span.kv_len >= w) {
        return Ok(false);
    }
    let pad = match pad {
        Some(p) if dim_size(p, 1)? > span.kv_len => Some(p.f_narrow(1, span.kv_offset, span.kv_len)?),
        Some(p) => Some(p.shallow_clone()),
        None => None,
    };
    if (span.q_len == 1 || span.kv_len == span.q_len) && pad.as_ref().map_or(Ok(true), all)? {
        return Ok(true);
    }
    if span.q_offset == 0 {
        let Some(p) = pad else { return Ok(true) };
        let q = span.q_len.min(dim_size(&p, 1)?);
        return Ok(all(&p.f_narrow(1, 0, q)?)? && all(&p.f_narrow(1, q, dim_size(&p, 1)? - q)?.f_logical_not()?)?);
    }
    Ok(false)
}

/// The boolean `[B, 1, q, kv]` mask (`sdpa_mask`): causal, within `window` if given, keys
/// not padded. `allow_skip`: `None` where SDPA's causal flag suffices (SDPA models);
/// eager attention always takes a mask.
pub fn boolean(attention_mask: Option<&Tensor>, batch: i64, span: Span, window: Option<i64>, allow_skip: bool) -> PyResult<Option<Tensor>> {
    let pad = attention_mask.map(|m| padding(m, span)).transpose()?;
    if allow_skip && causal_flag_suffices(pad.as_ref(), span, window)? {
        return Ok(None);
    }
    let device = attention_mask.map_or(tch::Device::Cpu, Tensor::device);
    let q = Tensor::f_arange_start(span.q_offset, span.q_offset + span.q_len, (DKind::Int64, device))?.f_view([span.q_len, 1])?;
    let kv_idx = Tensor::f_arange_start(span.kv_offset, span.kv_offset + span.kv_len, (DKind::Int64, device))?;
    let k = kv_idx.f_view([1, span.kv_len])?;
    let mut m = k.f_le_tensor(&q)?;
    if let Some(w) = window {
        // `kv_idx > q_idx - sliding_window`.
        m = m.f_logical_and(&k.f_gt_tensor(&q.f_sub_scalar(w)?)?)?;
    }
    let m = m.f_view([1, 1, span.q_len, span.kv_len])?;
    Ok(Some(match pad {
        Some(p) => {
            let keys = p.f_index_select(1, &kv_idx)?.f_view([dim_size(&p, 0)?, 1, 1, span.kv_len])?;
            m.f_logical_and(&keys)?
        }
        None => m.f_expand([batch, 1, span.q_len, span.kv_len], false)?,
    }))
}

/// `eager_mask`: the boolean mask as `0` where a key is seen and the dtype's minimum
/// where it is not.
pub fn additive(mask: &Tensor, dtype: DKind) -> PyResult<Tensor> {
    let min = match dtype {
        DKind::Half => f64::from(half_min()),
        DKind::BFloat16 => -3.3895313892515355e38,
        DKind::Double => f64::MIN,
        _ => f64::from(f32::MIN),
    };
    let zero = Tensor::f_zeros([] as [i64; 0], (dtype, mask.device()))?;
    Ok(zero.f_where_scalarother(mask, min)?)
}

/// `torch.finfo(torch.float16).min`.
fn half_min() -> f32 {
    -65504.0
}
