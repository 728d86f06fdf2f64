//! Rotary position embeddings: the inverse frequencies a config's `rope_parameters` give
//! (transformers' `ROPE_INIT_FUNCTIONS`, computed with torch's own kernels so the values are
//! bit-identical), the rotary module's `(cos, sin)`, and `apply_rotary_pos_emb` in its full
//! form (Llama) and its sliced form (GPT-NeoX's partial rotary: only the first
//! `rotary_dim` channels of each head rotate), and GPT-J's sinusoid table with its
//! interleaved (`rotate_every_two`) application.
//!
//! Implemented `rope_type`s: `default`, `linear`, `llama3`. Another type (`dynamic`,
//! `yarn`, `longrope`, …) is refused at load, naming it; adding one is a new arm of
//! [`Scaling`] (its inverse frequencies and attention factor) plus, for `dynamic` and
//! `longrope`, the position-dependent update transformers' `dynamic_rope_update` makes.

use tch::{Device, Kind as DKind, Tensor};

use super::super::config::Config;
use crate::value::PyResult;

/// A family's rotary module: its inverse frequencies and post-scaling.
#[derive(Debug, Clone, PartialEq)]
pub struct Rope {
    pub inv_freq: Vec<f32>,
    /// transformers' `attention_scaling` (1.0 for the implemented types).
    pub attention_scaling: f64,
}

/// How a rope type rescales the default frequencies.
#[derive(Debug, Clone, PartialEq)]
enum Scaling {
    None,
    Linear { factor: f64 },
    Llama3 { factor: f64, low: f64, high: f64, original: f64 },
}

/// What a family's rotary class reads from its config.
pub struct RopeSpec {
    /// The head dimension the frequencies are for.
    pub head_dim: i64,
    /// Whether the family's own default computation honours `partial_rotary_factor`
    /// (GPT-NeoX does; Llama's ignores it). The scaled types always do.
    pub default_partial: bool,
    /// Legacy top-level keys and the `rope_parameters` key each stands for, with the
    /// default when neither is given (GPT-NeoX: `rotary_emb_base` → `rope_theta`,
    /// `rotary_pct` → `partial_rotary_factor` = 0.25).
    pub legacy: &'static [(&'static str, &'static str, Option<f64>)],
}

/// `config.rope_parameters` after transformers' standardization: the object itself, or
/// one made of the legacy `rope_scaling` / `rope_theta` / family keys.
fn parameters(cfg: &Config, spec: &RopeSpec) -> serde_json::Value {
    let mut p = cfg
        .get("rope_parameters")
        .or_else(|| cfg.get("rope_scaling"))
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    let mut set = |key: &str, v: Option<serde_json::Value>| {
        if p.get(key).is_none_or(serde_json::Value::is_null)
            && let Some(v) = v
        {
            p[key] = v;
        }
    };
    set("rope_theta", cfg.get("rope_theta").cloned());
    set("partial_rotary_factor", cfg.get("partial_rotary_factor").cloned());
    for &(old, new, default) in spec.legacy {
        set(new, cfg.get(old).cloned());
        set(new, default.map(serde_json::Value::from));
    }
    p
}

impl Rope {
    /// The family's rotary module as its config builds it; a rope type not implemented
    /// here is refused, naming it.
    pub fn from_config(cfg: &Config, spec: &RopeSpec) -> anyhow::Result<Rope> {
        let p = parameters(cfg, spec);
        let pc = Config::new(&p);
        let theta = pc.float_or("rope_theta", 10000.0)?;
        let partial = pc.float_or("partial_rotary_factor", 1.0)?;
        let kind = pc.get("rope_type").or_else(|| pc.get("type")).and_then(serde_json::Value::as_str).unwrap_or("default");
        let scaling = match kind {
            "default" => Scaling::None,
            "linear" => Scaling::Linear { factor: pc.float_or("factor", 1.0)? },
            "llama3" => Scaling::Llama3 {
                factor: pc.float_or("factor", 8.0)?,
                low: pc.float_or("low_freq_factor", 1.0)?,
                high: pc.float_or("high_freq_factor", 4.0)?,
                original: pc.float_or("original_max_position_embeddings", 8192.0)?,
            },
            other => anyhow::bail!("config.json sets rope_type '{other}', which localndif does not implement (it handles default, linear, llama3)"),
        };
        let honours_partial = spec.default_partial || scaling != Scaling::None;
        // `int(head_dim * partial_rotary_factor)`.
        let dim = if honours_partial { (spec.head_dim as f64 * partial) as i64 } else { spec.head_dim };
        anyhow::ensure!(dim > 0, "the rotary dimension {dim} (head_dim {} × partial_rotary_factor {partial}) must be positive", spec.head_dim);
        // 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float) / dim)).
        let exps = Tensor::f_arange_start_step(0, dim, 2, (DKind::Float, Device::Cpu))?.f_div_scalar(dim)?;
        let inv = Tensor::f_pow_scalar(theta, &exps)?.f_reciprocal()?;
        let inv = match scaling {
            Scaling::None => inv,
            // `inv_freq /= factor`.
            Scaling::Linear { factor } => inv.f_div_scalar(factor)?,
            Scaling::Llama3 { factor, low, high, original } => llama3(&inv, factor, low, high, original)?,
        };
        Ok(Rope { inv_freq: Vec::<f32>::try_from(&inv)?, attention_scaling: 1.0 })
    }

    /// The rotary module's forward: `(cos, sin)` for `position_ids`, in `x`'s dtype.
    pub fn forward(&self, x: &Tensor, position_ids: &Tensor) -> PyResult<(Tensor, Tensor)> {
        let inv = Tensor::f_from_slice(&self.inv_freq)?.f_to_device(x.device())?;
        let freqs = position_ids.f_unsqueeze(-1)?.f_to_kind(DKind::Float)?.f_mul(&inv)?;
        let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?;
        let s = self.attention_scaling;
        let (cos, sin) = (emb.f_cos()?.f_mul_scalar(s)?, emb.f_sin()?.f_mul_scalar(s)?);
        Ok((cos.f_to_kind(x.kind())?, sin.f_to_kind(x.kind())?))
    }
}

/// `_compute_llama3_parameters` after the default frequencies, tensor op for tensor op
/// (`2 * math.pi / inv_freq` is `inv_freq.reciprocal() * (2 * math.pi)` in torch).
fn llama3(inv: &Tensor, factor: f64, low: f64, high: f64, original: f64) -> Result<Tensor, tch::TchError> {
    let (low_wavelen, high_wavelen) = (original / low, original / high);
    let wavelen = inv.f_reciprocal()?.f_mul_scalar(2.0 * std::f64::consts::PI)?;
    let scaled = inv.f_where_self(&wavelen.f_le(low_wavelen)?, &inv.f_div_scalar(factor)?)?;
    let smooth = wavelen.f_reciprocal()?.f_mul_scalar(original)?.f_sub_scalar(low)?.f_div_scalar(high - low)?;
    let smoothed = smooth.f_neg()?.f_add_scalar(1.0)?.f_mul(&scaled)?.f_div_scalar(factor)?.f_add(&smooth.f_mul(&scaled)?)?;
    let medium = wavelen.f_lt(high_wavelen)?.f_logical_not()?.f_mul(&wavelen.f_gt(low_wavelen)?.f_logical_not()?)?;
    smoothed.f_where_self(&medium, &scaled)
}

/// `rotate_half`: `cat((-x2, x1), -1)` of `x`'s two halves.
fn rotate_half(x: &Tensor) -> PyResult<Tensor> {
    let d = x.size().last().copied().unwrap_or(0);
    let x1 = x.f_narrow(-1, 0, d / 2)?;
    let x2 = x.f_narrow(-1, d / 2, d - d / 2)?;
    Ok(Tensor::f_cat(&[&x2.f_neg()?, &x1], -1)?)
}

/// `(x * cos) + (rotate_half(x) * sin)`, in Python's evaluation order.
fn rotate(x: &Tensor, cos: &Tensor, sin: &Tensor) -> PyResult<Tensor> {
    let a = x.f_mul(cos)?;
    Ok(a.f_add(&rotate_half(x)?.f_mul(sin)?)?)
}

/// `apply_rotary_pos_emb(q, k, cos, sin)` (unsqueeze_dim 1). `sliced`: GPT-NeoX's form,
/// which rotates the first `cos.shape[-1]` channels and concatenates the rest back.
pub fn apply(q: &Tensor, k: &Tensor, cos: &Tensor, sin: &Tensor, sliced: bool) -> PyResult<(Tensor, Tensor)> {
    let (cos, sin) = (cos.f_unsqueeze(1)?, sin.f_unsqueeze(1)?);
    if !sliced {
        let q_embed = rotate(q, &cos, &sin)?;
        return Ok((q_embed, rotate(k, &cos, &sin)?));
    }
    let rd = cos.size().last().copied().unwrap_or(0);
    let split = |x: &Tensor| -> PyResult<(Tensor, Tensor)> {
        let d = x.size().last().copied().unwrap_or(0);
        Ok((x.f_narrow(-1, 0, rd.min(d))?, x.f_narrow(-1, rd.min(d), d - rd.min(d))?))
    };
    let (q_rot, q_pass) = split(q)?;
    let (k_rot, k_pass) = split(k)?;
    let q_embed = rotate(&q_rot, &cos, &sin)?;
    let k_embed = rotate(&k_rot, &cos, &sin)?;
    Ok((Tensor::f_cat(&[&q_embed, &q_pass], -1)?, Tensor::f_cat(&[&k_embed, &k_pass], -1)?))
}

/// GPT-J's rotary module (`GPTJRotaryEmbedding`): a sinusoid table for every position up to
/// `max_position_embeddings`, computed at load as `create_sinusoidal_positions` does, of which
/// the forward gathers rows (`(sin, cos)`, in that order).
#[derive(Debug, Clone, PartialEq)]
pub struct Sinusoidal {
    /// `[positions, dim]`: the sines of the `dim / 2` frequencies, then their cosines.
    pub table: Vec<f32>,
    pub positions: i64,
    pub dim: i64,
}

impl Sinusoidal {
    /// `create_sinusoidal_positions(num_pos, dim)`, tensor op for tensor op (the whole table
    /// at once: a vectorized kernel's tail can round otherwise).
    pub fn new(positions: i64, dim: i64) -> Result<Sinusoidal, tch::TchError> {
        // 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.int64) / dim))
        let exps = Tensor::f_arange_start_step(0, dim, 2, (DKind::Int64, Device::Cpu))?.f_div_scalar(dim)?;
        let inv = Tensor::f_pow_scalar(10000, &exps)?.f_reciprocal()?;
        let inp = Tensor::f_arange(positions, (DKind::Int64, Device::Cpu))?.f_to_kind(DKind::Float)?.f_unsqueeze(1)?.f_mul(&inv)?;
        let table = Tensor::f_cat(&[inp.f_sin()?, inp.f_cos()?], 1)?.f_contiguous()?;
        Ok(Sinusoidal { table: Vec::<f32>::try_from(&table.f_flatten(0, -1)?)?, positions, dim })
    }

    /// `sincos = self.embed_positions[position_ids].to(x.dtype)`, split in halves.
    pub fn forward(&self, x: &Tensor, position_ids: &Tensor) -> PyResult<(Tensor, Tensor)> {
        let table = Tensor::f_from_slice(&self.table)?.f_view([self.positions, self.dim])?.f_to_device(x.device())?;
        let sincos = table.f_index(&[Some(position_ids.shallow_clone())])?.f_to_kind(x.kind())?;
        let half = sincos.size().last().copied().unwrap_or(0) / 2;
        let parts = sincos.f_split(half, -1)?;
        Ok((parts[0].shallow_clone(), parts[1].shallow_clone()))
    }
}

/// GPT-J's `apply_rotary_pos_emb(tensor, sin, cos)` on `[B, S, heads, d]`: the tables
/// repeated pairwise (`repeat_interleave(·[:, :, None, :], 2, 3)`) and `rotate_every_two`
/// (`stack((-x[..., 1::2], x[..., ::2]), -1).flatten(-2)`), in Python's order.
pub fn apply_interleaved(t: &Tensor, sin: &Tensor, cos: &Tensor) -> PyResult<Tensor> {
    let sin = sin.f_unsqueeze(2)?.f_repeat_interleave_self_int(2, Some(3), None)?;
    let cos = cos.f_unsqueeze(2)?.f_repeat_interleave_self_int(2, Some(3), None)?;
    let d = t.size().last().copied().unwrap_or(0);
    let x1 = t.f_slice(-1, 0, d, 2)?;
    let x2 = t.f_slice(-1, 1, d, 2)?;
    let rotated = Tensor::f_stack(&[x2.f_neg()?, x1], -1)?.f_flatten(-2, -1)?;
    let a = t.f_mul(&cos)?;
    Ok(a.f_add(&rotated.f_mul(&sin)?)?)
}
