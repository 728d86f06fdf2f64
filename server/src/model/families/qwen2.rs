//! Qwen2 (`Qwen2ForCausalLM`) as transformers 5.24 builds it: a [`Variant`] of the Llama
//! declaration with q/k/v biases (and none on `o_proj`), the rotary module called
//! positionally, no cache in the output without `use_cache`, and `layer_types` (sliding
//! layers from `max_window_layers` on when `use_sliding_window`), each sliding layer's
//! window passed to the interface as `sliding_window=self.sliding_window`.

use super::super::blocks::attention::{Interface, Kw, Projected, Projection, Tail};
use super::super::blocks::mlp::Gated;
use super::super::blocks::model::ModelDecl;
use super::super::config::Config;
use super::super::declare::no_aliases;
use super::super::ops::{Qwen2Attention as A, Qwen2MLP as M};
use super::Declaration;
use super::llama::{MODEL as LLAMA_MODEL, Variant, declare_as};

pub const DECLARATION: Declaration = Declaration { model_types: &[("qwen2", "Qwen2Config")], declare: |cfg, b| declare_as(cfg, b, &QWEN2), aliases: no_aliases, replica: super::llama::replica };

const QWEN2: Variant = Variant { name: "Qwen2", model: &MODEL, attention: &ATTENTION, mlp: &MLP, kwargs: &[Kw::Dropout, Kw::Scaling, Kw::SlidingWindow], windows };

/// `Qwen2Config.__post_init__`: `sliding_window` only with `use_sliding_window`; without
/// `layer_types`, layers from `max_window_layers` on slide.
fn windows(cfg: &Config, n: usize) -> anyhow::Result<Vec<Option<i64>>> {
    let window = if cfg.bool_or("use_sliding_window", false)? { cfg.opt_int("sliding_window")? } else { None };
    anyhow::ensure!(window.is_none_or(|w| w >= 2), "sliding_window must be at least 2");
    let from = cfg.int_or("max_window_layers", 28)?.max(0) as usize;
    let types = match cfg.get("layer_types") {
        Some(t) if !t.is_null() => cfg.layer_types(n)?,
        _ => (0..n).map(|i| if window.is_some() && i >= from { "sliding_attention" } else { "full_attention" }.to_string()).collect(),
    };
    types
        .iter()
        .take(n)
        .map(|t| match t.as_str() {
            "full_attention" => Ok(None),
            "sliding_attention" => window.map(Some).ok_or_else(|| anyhow::anyhow!("config.json has sliding_attention layers but no sliding_window")),
            other => anyhow::bail!("config.json's layer_types names '{other}', an attention localndif does not implement for Qwen2 (it handles full_attention, sliding_attention)"),
        })
        .collect()
}

/// `Qwen2Model.forward`: Llama's, with `self.rotary_emb(hidden_states, position_ids)` and
/// `cache=cache if use_cache else None`.
const MODEL: ModelDecl = ModelDecl { rotary_keyword: false, cache_out_if_use_cache: true, ..LLAMA_MODEL };

const ATTENTION: Projected = Projected {
    input_shape: A::input_shape_0,
    hidden_shape: A::hidden_shape_0,
    q: Projection { child: "q_proj", call: A::self_q_proj_0, view: A::view_0, norm: None, transpose: A::transpose_0, bound: A::query_states_0, whole: None },
    k: Projection { child: "k_proj", call: A::self_k_proj_0, view: A::view_1, norm: None, transpose: A::transpose_1, bound: A::key_states_0, whole: None },
    v: Projection { child: "v_proj", call: A::self_v_proj_0, view: A::view_2, norm: None, transpose: A::transpose_2, bound: A::value_states_0, whole: None },
    head_norms: None,
    window: None,
    rotary: A::apply_rotary_pos_emb_0,
    cache_update: A::cache_update_0,
    interface: Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 },
    tail: Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_o_proj_0, out_bound: A::attn_output_1, out_child: "o_proj" },
};

const MLP: Gated = Gated { gate: M::self_gate_proj_0, act: M::self_act_fn_0, up: M::self_up_proj_0, down: M::self_down_proj_0, bound: M::down_proj_0 };
