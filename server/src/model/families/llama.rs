//! The Llama family (`LlamaForCausalLM`) as transformers 5.24 builds it (docs/semantics.md
//! §9): RMSNorm in float32, `model.rotary_emb` run once before the layers, grouped-query
//! attention through the SDPA integration, the SiLU-gated MLP, a tied or untied head.
//! Mistral and Qwen2 (`mistral.rs`, `qwen2.rs`) are [`Variant`]s of this declaration:
//! their class names, their forwards' small differences and their sliding windows.

use super::super::blocks::attention::{Interface, Kw, Projected, Projection, Spec, Tail, projected};
use super::super::blocks::layer::{LayerDecl, Residual, forward as layer};
use super::super::blocks::mlp::{Gated, gated};
use super::super::blocks::model::{Arg, HeadDecl, ModelDecl, ModelSpec, Slot, causal_lm, forward as model};
use super::super::blocks::Signature;
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, RmsNorm, Rope};
use super::super::ops::{LlamaAttention as A, LlamaMLP as M};
use super::super::tree::{Block, ModuleId};
use super::{Declaration, Family};
use crate::value::{PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("llama", "LlamaConfig")], declare: |cfg, b| declare_as(cfg, b, &LLAMA), aliases: no_aliases, replica };

/// What a Llama-layout family changes: its class prefix, its base model's forward, its
/// attention and MLP operations, the keywords its attention passes the interface, and
/// each layer's sliding window as its config gives them.
pub struct Variant {
    pub name: &'static str,
    pub model: &'static ModelDecl,
    pub attention: &'static Projected,
    pub mlp: &'static Gated,
    pub kwargs: &'static [Kw],
    pub windows: fn(&Config, usize) -> anyhow::Result<Vec<Option<i64>>>,
}

const LLAMA: Variant = Variant { name: "Llama", model: &MODEL, attention: &ATTENTION, mlp: &MLP, kwargs: &[Kw::Dropout, Kw::Scaling], windows: |_, n| Ok(vec![None; n]) };

/// A replica keeps grouped-query attention grouped and full attention full.
pub fn replica(real: &serde_json::Value, o: &mut serde_json::Map<String, serde_json::Value>, w: super::super::replica::Widths) -> anyhow::Result<()> {
    let heads = real["num_attention_heads"].as_i64().unwrap_or(w.heads);
    let kv = real["num_key_value_heads"].as_i64().unwrap_or(heads);
    let kv_heads = if kv < heads { w.kv_heads.clamp(1, w.heads) } else { w.heads };
    anyhow::ensure!(w.heads % kv_heads == 0, "--replica-heads {} must be a multiple of --replica-kv-heads {kv_heads}", w.heads);
    o.insert("hidden_size".into(), w.hidden.into());
    o.insert("num_attention_heads".into(), w.heads.into());
    o.insert("num_key_value_heads".into(), kv_heads.into());
    o.insert("intermediate_size".into(), w.intermediate.into());
    o.insert("head_dim".into(), (w.hidden / w.heads).into());
    Ok(())
}

/// The attention geometry every Llama-like config gives.
pub struct Heads {
    pub hidden: i64,
    pub heads: i64,
    pub kv_heads: i64,
    pub head_dim: i64,
}

impl Heads {
    /// The attention settings of layer `layer` as transformers' SDPA path computes them:
    /// `head_dim ** -0.5` scaling, grouped heads, no soft-capping.
    pub fn sdpa(&self, layer: usize, sliding_window: Option<i64>, kwargs: &'static [Kw]) -> Spec {
        Spec {
            layer,
            head_dim: self.head_dim,
            n_rep: self.heads / self.kv_heads,
            scaling: (self.head_dim as f64).powf(-0.5),
            kernel: Kernel::Sdpa,
            sliding_window,
            softcap: None,
            kwargs,
        }
    }

    pub fn from_config(cfg: &Config) -> anyhow::Result<Heads> {
        let hidden = cfg.int("hidden_size")?;
        let heads = cfg.int("num_attention_heads")?;
        let kv_heads = cfg.int_or("num_key_value_heads", heads)?;
        let head_dim = cfg.int_or("head_dim", hidden / heads)?;
        anyhow::ensure!(kv_heads > 0 && heads % kv_heads == 0, "num_attention_heads must be a multiple of num_key_value_heads");
        Ok(Heads { hidden, heads, kv_heads, head_dim })
    }
}

/// `padding_idx=config.pad_token_id`, when it names a row of the table.
pub fn padding_idx(cfg: &Config, vocab: i64) -> anyhow::Result<Option<i64>> {
    Ok(cfg.opt_int("pad_token_id")?.filter(|p| (0..vocab).contains(p)))
}

struct Llama {
    variant: &'static Variant,
    windows: Vec<Option<i64>>,
    heads: Heads,
    use_cache: bool,
}

fn class(family: &str, part: &str) -> &'static str {
    // Leaked once per distinct name; a handful of strings per process.
    Box::leak(format!("{family}{part}").into_boxed_str())
}

/// Declares a Llama-layout model of variant `v`.
pub fn declare_as(cfg: &Config, b: &mut Builder, v: &'static Variant) -> anyhow::Result<Box<dyn Family>> {
    let fam = v.name;
    let h = Heads::from_config(cfg)?;
    let windows = (v.windows)(cfg, cfg.int("num_hidden_layers")? as usize)?;
    let act = Activation::from_config("hidden_act", cfg.str_or("hidden_act", "silu")?)?;
    let rope = Rope::from_config(cfg, &RopeSpec { head_dim: h.head_dim, default_partial: false, legacy: &[] })?;
    let attn_bias = cfg.bool_or("attention_bias", fam == "Qwen2")?;
    let (qkv_bias, o_bias) = (attn_bias || fam == "Qwen2", attn_bias && fam != "Qwen2");
    let mlp_bias = cfg.bool_or("mlp_bias", false)?;
    let (vocab, n_layers, inter) = (cfg.int("vocab_size")?, cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    let eps = cfg.float_or("rms_norm_eps", 1e-6)?;
    let root = b.root(class(fam, "ForCausalLM"));
    let m = b.block(root, "model", class(fam, "Model"), Block::Model);
    let embed = b.embedding(m, "embed_tokens", "Embedding", vocab, h.hidden, Embedding::plain(padding_idx(cfg, vocab)?))?;
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), class(fam, "DecoderLayer"), Block::Layer(i));
        let a = b.block(l, "self_attn", class(fam, "Attention"), Block::Attention(i));
        b.linear(a, "q_proj", h.hidden, h.heads * h.head_dim, qkv_bias)?;
        b.linear(a, "k_proj", h.hidden, h.kv_heads * h.head_dim, qkv_bias)?;
        b.linear(a, "v_proj", h.hidden, h.kv_heads * h.head_dim, qkv_bias)?;
        b.linear(a, "o_proj", h.heads * h.head_dim, h.hidden, o_bias)?;
        let mlp = b.block(l, "mlp", class(fam, "MLP"), Block::Mlp);
        b.linear(mlp, "gate_proj", h.hidden, inter, mlp_bias)?;
        b.linear(mlp, "up_proj", h.hidden, inter, mlp_bias)?;
        b.linear(mlp, "down_proj", inter, h.hidden, mlp_bias)?;
        b.act(mlp, "act_fn", act);
        b.rms_norm(l, "input_layernorm", class(fam, "RMSNorm"), h.hidden, RmsNorm::llama(eps))?;
        b.rms_norm(l, "post_attention_layernorm", class(fam, "RMSNorm"), h.hidden, RmsNorm::llama(eps))?;
    }
    b.rms_norm(m, "norm", class(fam, "RMSNorm"), h.hidden, RmsNorm::llama(eps))?;
    b.rotary(m, "rotary_emb", class(fam, "RotaryEmbedding"), rope);
    b.head(root, "lm_head", h.hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", false)?)?;
    Ok(Box::new(Llama { variant: v, windows, heads: h, use_cache: cfg.bool_or("use_cache", true)? }))
}

/// `LlamaForCausalLM.forward`'s parameters and its call of `self.model`.
pub const HEAD: HeadDecl = HeadDecl {
    signature: Signature(&["input_ids", "attention_mask", "position_ids", "cache", "inputs_embeds", "labels", "use_cache", "logits_to_keep"]),
    base: "model",
    input_ids_positional: false,
    base_kwargs: &[
        Arg::Pass("attention_mask"),
        Arg::Pass("position_ids"),
        Arg::Pass("cache"),
        Arg::Pass("inputs_embeds"),
        Arg::Pass("use_cache"),
        Arg::IfGiven("output_hidden_states"),
    ],
    require_input_ids: None,
    output: "CausalLMOutputWithPast",
    cross_attentions: false,
};

/// `LlamaModel.forward`.
pub const MODEL: ModelDecl = ModelDecl {
    signature: Signature(&["input_ids", "attention_mask", "position_ids", "cache", "inputs_embeds", "use_cache"]),
    embed: "embed_tokens",
    emb_dropout: None,
    rotary: "rotary_emb",
    rotary_keyword: true,
    rotary_by_type: false,
    layers: "layers",
    layer_kwargs: &[
        ("attention_mask", Slot::Mask),
        ("position_embeddings", Slot::PositionEmbeddings),
        ("position_ids", Slot::PositionIds),
        ("cache", Slot::Cache),
        ("use_cache", Slot::UseCache),
    ],
    norm: "norm",
    cache_out_if_use_cache: false,
};

/// `LlamaDecoderLayer.forward`.
pub const LAYER: LayerDecl = LayerDecl {
    signature: Signature(&["hidden_states", "attention_mask", "position_ids", "cache", "use_cache", "position_embeddings"]),
    input_norm: Some("input_layernorm"),
    attn: "self_attn",
    attn_positional: false,
    attn_kwargs: &["attention_mask", "position_ids", "cache", "use_cache", "position_embeddings"],
    residual: Residual::Sequential,
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

impl Family for Llama {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, None, c),
            Block::Model => model(f, id, self.variant.model, &ModelSpec { use_cache: self.use_cache, windows: &self.windows, kernel: Kernel::Sdpa }, c),
            Block::Layer(_) => layer(f, id, &LAYER, c),
            Block::Attention(i) => {
                let spec = self.heads.sdpa(i, self.windows.get(i).copied().flatten(), self.variant.kwargs);
                projected(f, id, self.variant.attention, &spec, c)
            }
            Block::Mlp => gated(f, id, c, self.variant.mlp),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        self.windows.clone()
    }
}
