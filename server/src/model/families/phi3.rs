//! Phi-3 (`Phi3ForCausalLM`) as transformers 5.24 builds it: a fused `qkv_proj` sliced
//! into queries, keys and values, partial rotary (`partial_rotary_factor`: the first
//! channels of each head rotate, the rest pass), the fused `gate_up_proj` chunked into gate
//! and up, residual dropouts, `sliding_window` for every layer when the config sets one
//! (`create_sliding_window_causal_mask`, `DynamicSlidingWindowLayer` caches), an untied
//! head. `longrope` (Phi-3-*-128k, Phi-3.5) is refused at start, naming it.

use super::super::blocks::attention::{FusedQkv, Interface, Kw, Part, Tail, fused_qkv};
use super::super::blocks::layer::{LayerDecl, Residual, forward as layer};
use super::super::blocks::mlp::{FusedGated, fused_gated};
use super::super::blocks::model::{ModelDecl, ModelSpec, Slot, causal_lm, forward as model};
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, RmsNorm, Rope};
use super::super::ops::{Phi3Attention as A, Phi3MLP as M};
use super::super::tree::{Block, ModuleId};
use super::llama::{HEAD, Heads, LAYER as LLAMA_LAYER, MODEL as LLAMA_MODEL, padding_idx};
use super::{Declaration, Family};
use crate::value::{PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("phi3", "Phi3Config")], declare, aliases: no_aliases, replica: super::llama::replica };

struct Phi3 {
    heads: Heads,
    windows: Vec<Option<i64>>,
    use_cache: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    let h = Heads::from_config(cfg)?;
    let (vocab, n_layers, inter) = (cfg.int("vocab_size")?, cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    // Phi3Config.validate_rope admits `default` and `longrope` (which `su` and `yarn` become).
    let params = cfg.get("rope_parameters").or_else(|| cfg.get("rope_scaling")).filter(|p| p.is_object());
    let kind = params.and_then(|p| p.get("rope_type").or_else(|| p.get("type"))).and_then(serde_json::Value::as_str).unwrap_or("default");
    anyhow::ensure!(kind == "default", "config.json sets rope_type '{kind}', which localndif does not implement for Phi-3 (it handles default; longrope is Phi-3-*-128k's and Phi-3.5's)");
    // Phi3ForCausalLM.prepare_inputs_for_generation drops the cache once a sequence passes
    // original_max_position_embeddings; with it below the model's length, that would bite.
    let (max_pos, original) = (cfg.int_or("max_position_embeddings", 4096)?, cfg.int_or("original_max_position_embeddings", 4096)?);
    anyhow::ensure!(original >= max_pos, "config.json sets original_max_position_embeddings={original} below max_position_embeddings={max_pos}: Phi-3's cache reset past it is not implemented");
    let window = cfg.opt_int("sliding_window")?;
    anyhow::ensure!(window.is_none_or(|w| w >= 2), "sliding_window must be at least 2");
    let act = Activation::from_config("hidden_act", cfg.str_or("hidden_act", "silu")?)?;
    let rope = Rope::from_config(cfg, &RopeSpec { head_dim: h.head_dim, default_partial: true, legacy: &[] })?;
    let norm = RmsNorm::llama(cfg.float_or("rms_norm_eps", 1e-5)?);
    let p = cfg.float_or("resid_pdrop", 0.0)?;
    let root = b.root("Phi3ForCausalLM");
    let m = b.block(root, "model", "Phi3Model", Block::Model);
    let embed = b.embedding(m, "embed_tokens", "Embedding", vocab, h.hidden, Embedding::plain(padding_idx(cfg, vocab)?))?;
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "Phi3DecoderLayer", Block::Layer(i));
        let a = b.block(l, "self_attn", "Phi3Attention", Block::Attention(i));
        b.linear(a, "o_proj", h.heads * h.head_dim, h.hidden, false)?;
        b.linear(a, "qkv_proj", h.hidden, (h.heads + 2 * h.kv_heads) * h.head_dim, false)?;
        let mlp = b.block(l, "mlp", "Phi3MLP", Block::Mlp);
        b.linear(mlp, "gate_up_proj", h.hidden, 2 * inter, false)?;
        b.linear(mlp, "down_proj", inter, h.hidden, false)?;
        b.act(mlp, "activation_fn", act);
        b.rms_norm(l, "input_layernorm", "Phi3RMSNorm", h.hidden, norm.clone())?;
        b.rms_norm(l, "post_attention_layernorm", "Phi3RMSNorm", h.hidden, norm.clone())?;
        b.dropout(l, "resid_attn_dropout", p);
        b.dropout(l, "resid_mlp_dropout", p);
    }
    b.rms_norm(m, "norm", "Phi3RMSNorm", h.hidden, norm)?;
    b.rotary(m, "rotary_emb", "Phi3RotaryEmbedding", rope);
    b.head(root, "lm_head", h.hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", false)?)?;
    Ok(Box::new(Phi3 { heads: h, windows: vec![window; n_layers], use_cache: cfg.bool_or("use_cache", true)? }))
}

/// `Phi3Model.forward`: Llama's, with the layers' keywords in Gemma's order and
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

/// `Phi3DecoderLayer.forward`: Llama's signature and attention call, residual dropouts.
const LAYER: LayerDecl = LayerDecl { residual: Residual::SequentialDropout, ..LLAMA_LAYER };

const ATTENTION: FusedQkv = FusedQkv {
    input_shape: A::input_shape_0,
    hidden_shape: A::hidden_shape_0,
    child: "qkv_proj",
    call: A::self_qkv_proj_0,
    bound: A::qkv_0,
    query_pos: A::query_pos_0,
    q: Part { sliced: A::query_states_0, view: A::query_states_view_0, transpose: A::transpose_0, bound: A::query_states_1 },
    k: Part { sliced: A::key_states_0, view: A::key_states_view_0, transpose: A::transpose_1, bound: A::key_states_1 },
    v: Part { sliced: A::value_states_0, view: A::value_states_view_0, transpose: A::transpose_2, bound: A::value_states_1 },
    rotary: A::apply_rotary_pos_emb_0,
    cache_update: A::cache_update_0,
    interface: Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 },
    window: A::getattr_0,
    tail: Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_o_proj_0, out_bound: A::attn_output_1, out_child: "o_proj" },
};

const MLP: FusedGated = FusedGated {
    child: "gate_up_proj",
    call: M::self_gate_up_proj_0,
    bound: M::up_states_0,
    chunk: M::up_states_chunk_0,
    act_child: "activation_fn",
    act: M::self_activation_fn_0,
    gated: M::up_states_1,
    down: M::self_down_proj_0,
};

impl Family for Phi3 {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, None, c),
            Block::Model => model(f, id, &MODEL, &ModelSpec { use_cache: self.use_cache, windows: &self.windows, kernel: Kernel::Sdpa }, c),
            Block::Layer(_) => layer(f, id, &LAYER, c),
            Block::Attention(i) => {
                let spec = self.heads.sdpa(i, self.windows.get(i).copied().flatten(), &[Kw::Dropout, Kw::Scaling, Kw::SlidingWindow]);
                fused_qkv(f, id, &ATTENTION, &spec, self.heads.heads, c)
            }
            Block::Mlp => fused_gated(f, id, c, &MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        self.windows.clone()
    }
}
