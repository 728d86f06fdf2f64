//! Mistral (`MistralForCausalLM`) as transformers 5.24 builds it: a [`Variant`] of the
//! Llama declaration whose base model passes the layers their keywords in another order
//! and returns no cache without `use_cache`, and whose `sliding_window`, when the config
//! sets one, makes every layer a sliding layer (`create_sliding_window_causal_mask`,
//! `DynamicSlidingWindowLayer` caches) and reaches the interface through
//! `getattr(self.config, "sliding_window", None)`, an operation of its listing.

use super::super::blocks::attention::{Interface, Kw, Projected, Projection, Tail};
use super::super::blocks::mlp::Gated;
use super::super::blocks::model::{ModelDecl, Slot};
use super::super::config::Config;
use super::super::declare::no_aliases;
use super::super::ops::{MistralAttention as A, MistralMLP as M};
use super::Declaration;
use super::llama::{MODEL as LLAMA_MODEL, Variant, declare_as};

pub const DECLARATION: Declaration = Declaration { model_types: &[("mistral", "MistralConfig")], declare: |cfg, b| declare_as(cfg, b, &MISTRAL), aliases: no_aliases, replica: super::llama::replica };

const MISTRAL: Variant = Variant { name: "Mistral", model: &MODEL, attention: &ATTENTION, mlp: &MLP, kwargs: &[Kw::Dropout, Kw::Scaling, Kw::SlidingWindow], windows };

/// Every layer slides when `sliding_window` is set.
fn windows(cfg: &Config, n: usize) -> anyhow::Result<Vec<Option<i64>>> {
    let window = cfg.opt_int("sliding_window")?;
    anyhow::ensure!(window.is_none_or(|w| w >= 2), "sliding_window must be at least 2");
    Ok(vec![window; n])
}

/// `MistralModel.forward`: Llama's, with the layers' keywords in Mistral's order and
/// `cache=cache if use_cache else None`.
const MODEL: ModelDecl = ModelDecl {
    layer_kwargs: &[
        ("attention_mask", Slot::Mask),
        ("position_ids", Slot::PositionIds),
        ("cache", Slot::Cache),
        ("use_cache", Slot::UseCache),
        ("position_embeddings", Slot::PositionEmbeddings),
    ],
    cache_out_if_use_cache: true,
    ..LLAMA_MODEL
};

const ATTENTION: Projected = Projected {
    input_shape: A::input_shape_0,
    hidden_shape: A::hidden_shape_0,
    q: Projection { child: "q_proj", call: A::self_q_proj_0, view: A::view_0, norm: None, transpose: A::transpose_0, bound: A::query_states_0, whole: None },
    k: Projection { child: "k_proj", call: A::self_k_proj_0, view: A::view_1, norm: None, transpose: A::transpose_1, bound: A::key_states_0, whole: None },
    v: Projection { child: "v_proj", call: A::self_v_proj_0, view: A::view_2, norm: None, transpose: A::transpose_2, bound: A::value_states_0, whole: None },
    head_norms: None,
    window: Some(A::getattr_0),
    rotary: A::apply_rotary_pos_emb_0,
    cache_update: A::cache_update_0,
    interface: Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 },
    tail: Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_o_proj_0, out_bound: A::attn_output_1, out_child: "o_proj" },
};

const MLP: Gated = Gated { gate: M::self_gate_proj_0, act: M::self_act_fn_0, up: M::self_up_proj_0, down: M::self_down_proj_0, bound: M::down_proj_0 };
