//! Gemma 2 (`Gemma2ForCausalLM`) as transformers 5.24 builds it: embeddings scaled by
//! `sqrt(hidden_size)`, RMSNorms in Gemma's `(1 + w)` form, sandwich norms around
//! attention and MLP, the tanh-GELU gated MLP, alternating sliding-window and full
//! attention layers (`layer_types`, sliding layers' cache keeping `sliding_window - 1`
//! tokens), attention logit soft-capping and `query_pre_attn_scalar` through transformers'
//! eager attention (the class supports no SDPA, so eager is what a local run uses), final
//! logit soft-capping, a tied head.

use super::super::blocks::attention::{Interface, Kw, Projected, Projection, Spec, Tail, projected};
use super::super::blocks::layer::{LayerDecl, Residual, forward as layer};
use super::super::blocks::mlp::{Gated, gated};
use super::super::blocks::model::{ModelDecl, ModelSpec, Slot, causal_lm, forward as model};
use super::super::blocks::Signature;
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, RmsNorm, Rope};
use super::super::ops::{Gemma2Attention as A, Gemma2MLP as M};
use super::super::tree::{Block, ModuleId};
use super::llama::{HEAD, Heads, MODEL as LLAMA_MODEL, padding_idx};
use super::{Declaration, Family};
use crate::value::{PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("gemma2", "Gemma2Config")], declare, aliases: no_aliases, replica: super::llama::replica };

struct Gemma2 {
    heads: Heads,
    windows: Vec<Option<i64>>,
    scaling: f64,
    attn_softcap: Option<f64>,
    final_softcap: Option<f64>,
    use_cache: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    cfg.only("use_bidirectional_attention", &[false.into()], "Gemma 2")?;
    let h = Heads::from_config(cfg)?;
    let (vocab, n_layers, inter) = (cfg.int("vocab_size")?, cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    let window = cfg.opt_int("sliding_window")?;
    let windows = cfg
        .layer_types(n_layers)?
        .iter()
        .take(n_layers)
        .map(|t| match t.as_str() {
            "full_attention" => Ok(None),
            "sliding_attention" => window.map(Some).ok_or_else(|| anyhow::anyhow!("config.json has sliding_attention layers but no sliding_window")),
            other => anyhow::bail!("config.json's layer_types names '{other}', an attention localndif does not implement for Gemma 2 (it handles full_attention, sliding_attention)"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(window.is_none_or(|w| w >= 2), "sliding_window must be at least 2");
    let act = Activation::from_config("hidden_activation", cfg.str_or("hidden_activation", "gelu_pytorch_tanh")?)?;
    let rope = Rope::from_config(cfg, &RopeSpec { head_dim: h.head_dim, default_partial: false, legacy: &[] })?;
    let bias = cfg.bool_or("attention_bias", false)?;
    let norm = RmsNorm::gemma(cfg.float_or("rms_norm_eps", 1e-6)?);
    let root = b.root("Gemma2ForCausalLM");
    let m = b.block(root, "model", "Gemma2Model", Block::Model);
    // `hidden_size**0.5`, held as a float32 buffer.
    let scale = Embedding { padding_idx: padding_idx(cfg, vocab)?, scale: Some((h.hidden as f64).sqrt()), arg: "input_ids" };
    let embed = b.embedding(m, "embed_tokens", "Gemma2TextScaledWordEmbedding", vocab, h.hidden, scale)?;
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "Gemma2DecoderLayer", Block::Layer(i));
        let a = b.block(l, "self_attn", "Gemma2Attention", Block::Attention(i));
        b.linear(a, "q_proj", h.hidden, h.heads * h.head_dim, bias)?;
        b.linear(a, "k_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "v_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "o_proj", h.heads * h.head_dim, h.hidden, bias)?;
        let mlp = b.block(l, "mlp", "Gemma2MLP", Block::Mlp);
        b.linear(mlp, "gate_proj", h.hidden, inter, false)?;
        b.linear(mlp, "up_proj", h.hidden, inter, false)?;
        b.linear(mlp, "down_proj", inter, h.hidden, false)?;
        b.act(mlp, "act_fn", act);
        for n in ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"] {
            b.rms_norm(l, n, "Gemma2RMSNorm", h.hidden, norm.clone())?;
        }
    }
    b.rms_norm(m, "norm", "Gemma2RMSNorm", h.hidden, norm)?;
    b.rotary(m, "rotary_emb", "Gemma2RotaryEmbedding", rope);
    b.head(root, "lm_head", h.hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", true)?)?;
    Ok(Box::new(Gemma2 {
        scaling: cfg.float_or("query_pre_attn_scalar", 256.0)?.powf(-0.5),
        attn_softcap: cfg.opt_float("attn_logit_softcapping")?,
        final_softcap: cfg.opt_float("final_logit_softcapping")?,
        use_cache: cfg.bool_or("use_cache", true)?,
        heads: h,
        windows,
    }))
}

/// `Gemma2Model.forward`: Llama's, with the rotary module called positionally and the
/// layers given no `use_cache`.
pub const MODEL: ModelDecl = ModelDecl {
    rotary_keyword: false,
    layer_kwargs: &[
        ("attention_mask", Slot::Mask),
        ("position_embeddings", Slot::PositionEmbeddings),
        ("position_ids", Slot::PositionIds),
        ("cache", Slot::Cache),
    ],
    ..LLAMA_MODEL
};

/// `Gemma2DecoderLayer.forward(hidden_states, position_embeddings, attention_mask, position_ids, cache)`.
pub const LAYER: LayerDecl = LayerDecl {
    signature: Signature(&["hidden_states", "position_embeddings", "attention_mask", "position_ids", "cache"]),
    input_norm: Some("input_layernorm"),
    attn: "self_attn",
    attn_positional: false,
    attn_kwargs: &["position_embeddings", "attention_mask", "position_ids", "cache"],
    residual: Residual::Sandwich,
};

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

impl Family for Gemma2 {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, self.final_softcap, c),
            Block::Model => model(f, id, &MODEL, &ModelSpec { use_cache: self.use_cache, windows: &self.windows, kernel: Kernel::Eager }, c),
            Block::Layer(_) => layer(f, id, &LAYER, c),
            Block::Attention(i) => {
                let h = &self.heads;
                let spec = Spec {
                    layer: i,
                    head_dim: h.head_dim,
                    n_rep: h.heads / h.kv_heads,
                    scaling: self.scaling,
                    kernel: Kernel::Eager,
                    sliding_window: self.windows.get(i).copied().flatten(),
                    softcap: self.attn_softcap,
                    kwargs: &[Kw::Dropout, Kw::Scaling, Kw::SlidingWindow, Kw::Softcap],
                };
                projected(f, id, &ATTENTION, &spec, c)
            }
            Block::Mlp => gated(f, id, c, &MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        self.windows.clone()
    }

    fn kernel(&self) -> Kernel {
        Kernel::Eager
    }
}
