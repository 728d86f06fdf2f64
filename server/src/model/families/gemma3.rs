//! Gemma 3's text model (`Gemma3ForCausalLM`, `model_type` `gemma3_text`) as transformers
//! 5.24 builds it: Gemma 2's scaled embeddings, `(1 + w)` RMSNorms, sandwich norms and
//! tanh-GELU gated MLP; per-head q/k norms applied after all three projections are viewed
//! into heads; sliding and full layers (`layer_types`, or the legacy
//! `sliding_window_pattern`) each with its own rotary tables (`rope_parameters` per layer
//! type, or the legacy `rope_theta` / `rope_scaling` for full layers and
//! `rope_local_base_freq` for sliding ones), the rotary module called once per type;
//! `query_pre_attn_scalar`; SDPA (the class supports it; `attn_logit_softcapping` is not
//! passed to attention by this forward, so it changes nothing); final logit soft-capping.

use super::super::blocks::attention::{HeadNorms, Interface, Kw, Projected, Projection, Spec, Tail, projected};
use super::super::blocks::layer::forward as layer;
use super::super::blocks::mlp::{Gated, gated};
use super::super::blocks::model::{ModelDecl, ModelSpec, causal_lm, forward as model};
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, RmsNorm, Rope};
use super::super::ops::{Gemma3Attention as A, Gemma3MLP as M};
use super::super::tree::{Block, ModuleId};
use super::gemma2::{LAYER, MODEL as GEMMA2_MODEL};
use super::llama::{HEAD, Heads, padding_idx};
use super::{Declaration, Family};
use crate::value::{PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("gemma3_text", "Gemma3TextConfig")], declare, aliases: no_aliases, replica: super::llama::replica };

struct Gemma3 {
    heads: Heads,
    windows: Vec<Option<i64>>,
    scaling: f64,
    final_softcap: Option<f64>,
    use_cache: bool,
}

/// `Gemma3TextConfig.convert_rope_params_to_dict`: the rotary parameters of one layer type.
fn rope_parameters(cfg: &Config, layer_type: &str) -> serde_json::Value {
    let mut p = cfg.get("rope_parameters").and_then(|p| p.get(layer_type)).filter(|p| p.is_object()).cloned().unwrap_or_else(|| serde_json::json!({"rope_type": "default"}));
    let sliding = layer_type == "sliding_attention";
    if !sliding && let Some(s) = cfg.get("rope_scaling").and_then(serde_json::Value::as_object) {
        p.as_object_mut().into_iter().for_each(|o| o.extend(s.clone()));
    }
    if p.get("rope_theta").is_none_or(serde_json::Value::is_null) {
        let (key, default) = if sliding { ("rope_local_base_freq", 10_000.0) } else { ("rope_theta", 1_000_000.0) };
        p["rope_theta"] = cfg.get(key).cloned().unwrap_or(default.into());
    }
    serde_json::json!({ "rope_parameters": p })
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    cfg.only("use_bidirectional_attention", &[serde_json::Value::Null, false.into()], "Gemma 3")?;
    let h = Heads::from_config(cfg)?;
    let (vocab, n_layers, inter) = (cfg.int("vocab_size")?, cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    let pattern = cfg.int_or("sliding_window_pattern", 6)?.max(1) as usize;
    let types = match cfg.get("layer_types") {
        Some(t) if !t.is_null() => cfg.layer_types(n_layers)?,
        _ => (0..n_layers).map(|i| if (i + 1) % pattern != 0 { "sliding_attention" } else { "full_attention" }.to_string()).collect(),
    };
    let window = cfg.opt_int("sliding_window")?;
    anyhow::ensure!(window.is_none_or(|w| w >= 2), "sliding_window must be at least 2");
    let windows = types
        .iter()
        .take(n_layers)
        .map(|t| match t.as_str() {
            "full_attention" => Ok(None),
            "sliding_attention" => window.map(Some).ok_or_else(|| anyhow::anyhow!("config.json has sliding_attention layers but no sliding_window")),
            other => anyhow::bail!("config.json's layer_types names '{other}', an attention localndif does not implement for Gemma 3 (it handles full_attention, sliding_attention)"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let act = Activation::from_config("hidden_activation", cfg.str_or("hidden_activation", "gelu_pytorch_tanh")?)?;
    // `sorted(set(config.layer_types))`: a table for each type the layers use.
    let mut ropes = Vec::new();
    for t in ["full_attention", "sliding_attention"] {
        if windows.iter().any(|w| w.is_some() == (t == "sliding_attention")) {
            let p = rope_parameters(cfg, t);
            let rope = Rope::from_config(&Config::new(&p), &RopeSpec { head_dim: h.head_dim, default_partial: false, legacy: &[] }).map_err(|e| anyhow::anyhow!("{t} layers: {e}"))?;
            ropes.push((t, rope));
        }
    }
    let bias = cfg.bool_or("attention_bias", false)?;
    let norm = RmsNorm::gemma(cfg.float_or("rms_norm_eps", 1e-6)?);
    let root = b.root("Gemma3ForCausalLM");
    let m = b.block(root, "model", "Gemma3TextModel", Block::Model);
    // `hidden_size**0.5`, held as a float32 buffer.
    let scale = Embedding { padding_idx: padding_idx(cfg, vocab)?, scale: Some((h.hidden as f64).sqrt()), arg: "input_ids" };
    let embed = b.embedding(m, "embed_tokens", "Gemma3TextScaledWordEmbedding", vocab, h.hidden, scale)?;
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "Gemma3DecoderLayer", Block::Layer(i));
        let a = b.block(l, "self_attn", "Gemma3Attention", Block::Attention(i));
        b.linear(a, "q_proj", h.hidden, h.heads * h.head_dim, bias)?;
        b.linear(a, "k_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "v_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "o_proj", h.heads * h.head_dim, h.hidden, bias)?;
        b.rms_norm(a, "q_norm", "Gemma3RMSNorm", h.head_dim, norm.clone())?;
        b.rms_norm(a, "k_norm", "Gemma3RMSNorm", h.head_dim, norm.clone())?;
        let mlp = b.block(l, "mlp", "Gemma3MLP", Block::Mlp);
        b.linear(mlp, "gate_proj", h.hidden, inter, false)?;
        b.linear(mlp, "up_proj", h.hidden, inter, false)?;
        b.linear(mlp, "down_proj", inter, h.hidden, false)?;
        b.act(mlp, "act_fn", act);
        for n in ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"] {
            b.rms_norm(l, n, "Gemma3RMSNorm", h.hidden, norm.clone())?;
        }
    }
    b.rms_norm(m, "norm", "Gemma3RMSNorm", h.hidden, norm)?;
    b.typed_rotary(m, "rotary_emb", "Gemma3RotaryEmbedding", ropes);
    b.head(root, "lm_head", h.hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", true)?)?;
    Ok(Box::new(Gemma3 {
        scaling: cfg.float_or("query_pre_attn_scalar", 256.0)?.powf(-0.5),
        final_softcap: cfg.opt_float("final_logit_softcapping")?,
        use_cache: cfg.bool_or("use_cache", true)?,
        heads: h,
        windows,
    }))
}

/// `Gemma3TextModel.forward`: Gemma 2's, with `self.rotary_emb(h, position_ids, layer_type)`
/// for each layer type.
const MODEL: ModelDecl = ModelDecl { rotary_by_type: true, ..GEMMA2_MODEL };

const ATTENTION: Projected = Projected {
    input_shape: A::input_shape_0,
    hidden_shape: A::hidden_shape_0,
    q: Projection { child: "q_proj", call: A::self_q_proj_0, view: A::view_0, norm: None, transpose: A::transpose_0, bound: A::query_states_0, whole: None },
    k: Projection { child: "k_proj", call: A::self_k_proj_0, view: A::view_1, norm: None, transpose: A::transpose_1, bound: A::key_states_0, whole: None },
    v: Projection { child: "v_proj", call: A::self_v_proj_0, view: A::view_2, norm: None, transpose: A::transpose_2, bound: A::value_states_0, whole: None },
    window: None,
    head_norms: Some(HeadNorms { q: ("q_norm", A::self_q_norm_0, A::query_states_1), k: ("k_norm", A::self_k_norm_0, A::key_states_1) }),
    rotary: A::apply_rotary_pos_emb_0,
    cache_update: A::cache_update_0,
    interface: Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 },
    tail: Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_o_proj_0, out_bound: A::attn_output_1, out_child: "o_proj" },
};

const MLP: Gated = Gated { gate: M::self_gate_proj_0, act: M::self_act_fn_0, up: M::self_up_proj_0, down: M::self_down_proj_0, bound: M::down_proj_0 };

impl Family for Gemma3 {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, self.final_softcap, c),
            Block::Model => model(f, id, &MODEL, &ModelSpec { use_cache: self.use_cache, windows: &self.windows, kernel: Kernel::Sdpa }, c),
            Block::Layer(_) => layer(f, id, &LAYER, c),
            Block::Attention(i) => {
                let h = &self.heads;
                let spec = Spec {
                    layer: i,
                    head_dim: h.head_dim,
                    n_rep: h.heads / h.kv_heads,
                    scaling: self.scaling,
                    kernel: Kernel::Sdpa,
                    sliding_window: self.windows.get(i).copied().flatten(),
                    softcap: None,
                    kwargs: &[Kw::Dropout, Kw::Scaling, Kw::SlidingWindow],
                };
                projected(f, id, &ATTENTION, &spec, c)
            }
            Block::Mlp => gated(f, id, c, &MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        self.windows.clone()
    }
}
