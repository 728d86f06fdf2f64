//! Gemma (v1, `GemmaForCausalLM`) as transformers 5.24 builds it: the Llama layout with
//! embeddings scaled by `sqrt(hidden_size)` (`GemmaTextScaledWordEmbedding`), RMSNorms in
//! Gemma's `(1 + w)` form, the tanh-GELU gated MLP (a config's legacy `hidden_act="gelu"`
//! is read as `gelu_pytorch_tanh`, as `GemmaConfig` does), SDPA attention, the layers
//! given their keywords in Gemma's order, no cache in the output without `use_cache`, a
//! tied head.

use super::super::blocks::attention::{Interface, Kw, Projected, Projection, Tail, projected};
use super::super::blocks::layer::forward as layer;
use super::super::blocks::mlp::{Gated, gated};
use super::super::blocks::model::{ModelDecl, ModelSpec, Slot, causal_lm, forward as model};
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, RmsNorm, Rope};
use super::super::ops::{GemmaAttention as A, GemmaMLP as M};
use super::super::tree::{Block, ModuleId};
use super::llama::{HEAD, Heads, LAYER, MODEL as LLAMA_MODEL, padding_idx};
use super::{Declaration, Family};
use crate::value::{PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("gemma", "GemmaConfig")], declare, aliases: no_aliases, replica: super::llama::replica };

struct Gemma {
    n_layers: usize,
    heads: Heads,
    use_cache: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    cfg.only("use_bidirectional_attention", &[serde_json::Value::Null, false.into()], "Gemma")?;
    let h = Heads::from_config(cfg)?;
    let (vocab, n_layers, inter) = (cfg.int("vocab_size")?, cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    // `GemmaConfig.__post_init__`: "gelu" in a Gemma config means the tanh approximation.
    let act = match cfg.str_or("hidden_act", "gelu_pytorch_tanh")? {
        "gelu" => Activation::GeluTanh,
        other => Activation::from_config("hidden_act", other)?,
    };
    let rope = Rope::from_config(cfg, &RopeSpec { head_dim: h.head_dim, default_partial: false, legacy: &[] })?;
    let bias = cfg.bool_or("attention_bias", false)?;
    let norm = RmsNorm::gemma(cfg.float_or("rms_norm_eps", 1e-6)?);
    let root = b.root("GemmaForCausalLM");
    let m = b.block(root, "model", "GemmaModel", Block::Model);
    // `hidden_size**0.5`, held as a float32 buffer.
    let scale = Embedding { padding_idx: padding_idx(cfg, vocab)?, scale: Some((h.hidden as f64).sqrt()), arg: "input_ids" };
    let embed = b.embedding(m, "embed_tokens", "GemmaTextScaledWordEmbedding", vocab, h.hidden, scale)?;
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "GemmaDecoderLayer", Block::Layer(i));
        let a = b.block(l, "self_attn", "GemmaAttention", Block::Attention(i));
        b.linear(a, "q_proj", h.hidden, h.heads * h.head_dim, bias)?;
        b.linear(a, "k_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "v_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "o_proj", h.heads * h.head_dim, h.hidden, bias)?;
        let mlp = b.block(l, "mlp", "GemmaMLP", Block::Mlp);
        b.linear(mlp, "gate_proj", h.hidden, inter, false)?;
        b.linear(mlp, "up_proj", h.hidden, inter, false)?;
        b.linear(mlp, "down_proj", inter, h.hidden, false)?;
        b.act(mlp, "act_fn", act);
        b.rms_norm(l, "input_layernorm", "GemmaRMSNorm", h.hidden, norm.clone())?;
        b.rms_norm(l, "post_attention_layernorm", "GemmaRMSNorm", h.hidden, norm.clone())?;
    }
    b.rms_norm(m, "norm", "GemmaRMSNorm", h.hidden, norm)?;
    b.rotary(m, "rotary_emb", "GemmaRotaryEmbedding", rope);
    b.head(root, "lm_head", h.hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", true)?)?;
    Ok(Box::new(Gemma { n_layers, heads: h, use_cache: cfg.bool_or("use_cache", true)? }))
}

/// `GemmaModel.forward`: Llama's, with the layers' keywords in another order and
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
    window: None,
    rotary: A::apply_rotary_pos_emb_0,
    cache_update: A::cache_update_0,
    interface: Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 },
    tail: Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_o_proj_0, out_bound: A::attn_output_1, out_child: "o_proj" },
};

const MLP: Gated = Gated { gate: M::self_gate_proj_0, act: M::self_act_fn_0, up: M::self_up_proj_0, down: M::self_down_proj_0, bound: M::down_proj_0 };

impl Family for Gemma {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, None, c),
            Block::Model => model(f, id, &MODEL, &ModelSpec { use_cache: self.use_cache, windows: &self.windows(), kernel: Kernel::Sdpa }, c),
            Block::Layer(_) => layer(f, id, &LAYER, c),
            Block::Attention(i) => {
                let spec = self.heads.sdpa(i, None, &[Kw::Dropout, Kw::Scaling]);
                projected(f, id, &ATTENTION, &spec, c)
            }
            Block::Mlp => gated(f, id, c, &MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        vec![None; self.n_layers]
    }
}
