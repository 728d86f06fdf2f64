//! OLMo-2 (`Olmo2ForCausalLM`) as transformers 5.24 builds it: the Llama model and head,
//! decoder layers with no input norm and RMSNorms after attention and after the MLP
//! (`post_attention_layernorm`, `post_feedforward_layernorm`), and q/k RMSNorms over the
//! whole projection (`q_norm` over all query heads, `k_norm` over the key/value heads'
//! width) before the view into heads, all three projections bound before any is viewed.

use super::super::blocks::attention::{Interface, Kw, Projected, Projection, Tail, Whole, projected};
use super::super::blocks::layer::{LayerDecl, Residual, forward as layer};
use super::super::blocks::mlp::{Gated, gated};
use super::super::blocks::model::{ModelSpec, causal_lm, forward as model};
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, RmsNorm, Rope};
use super::super::ops::{Olmo2Attention as A, Olmo2MLP as M};
use super::super::tree::{Block, ModuleId};
use super::llama::{HEAD, Heads, LAYER as LLAMA_LAYER, MODEL, padding_idx};
use super::{Declaration, Family};
use crate::value::{PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("olmo2", "Olmo2Config")], declare, aliases: no_aliases, replica: super::llama::replica };

struct Olmo2 {
    n_layers: usize,
    heads: Heads,
    use_cache: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    let h = Heads::from_config(cfg)?;
    let (vocab, n_layers, inter) = (cfg.int("vocab_size")?, cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    let act = Activation::from_config("hidden_act", cfg.str_or("hidden_act", "silu")?)?;
    let rope = Rope::from_config(cfg, &RopeSpec { head_dim: h.head_dim, default_partial: false, legacy: &[] })?;
    let bias = cfg.bool_or("attention_bias", false)?;
    let norm = RmsNorm::llama(cfg.float_or("rms_norm_eps", 1e-5)?);
    let root = b.root("Olmo2ForCausalLM");
    let m = b.block(root, "model", "Olmo2Model", Block::Model);
    let embed = b.embedding(m, "embed_tokens", "Embedding", vocab, h.hidden, Embedding::plain(padding_idx(cfg, vocab)?))?;
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "Olmo2DecoderLayer", Block::Layer(i));
        let a = b.block(l, "self_attn", "Olmo2Attention", Block::Attention(i));
        b.linear(a, "q_proj", h.hidden, h.heads * h.head_dim, bias)?;
        b.linear(a, "k_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "v_proj", h.hidden, h.kv_heads * h.head_dim, bias)?;
        b.linear(a, "o_proj", h.heads * h.head_dim, h.hidden, bias)?;
        b.rms_norm(a, "q_norm", "Olmo2RMSNorm", h.heads * h.head_dim, norm.clone())?;
        b.rms_norm(a, "k_norm", "Olmo2RMSNorm", h.kv_heads * h.head_dim, norm.clone())?;
        let mlp = b.block(l, "mlp", "Olmo2MLP", Block::Mlp);
        b.linear(mlp, "gate_proj", h.hidden, inter, false)?;
        b.linear(mlp, "up_proj", h.hidden, inter, false)?;
        b.linear(mlp, "down_proj", inter, h.hidden, false)?;
        b.act(mlp, "act_fn", act);
        b.rms_norm(l, "post_attention_layernorm", "Olmo2RMSNorm", h.hidden, norm.clone())?;
        b.rms_norm(l, "post_feedforward_layernorm", "Olmo2RMSNorm", h.hidden, norm.clone())?;
    }
    b.rms_norm(m, "norm", "Olmo2RMSNorm", h.hidden, norm)?;
    b.rotary(m, "rotary_emb", "Olmo2RotaryEmbedding", rope);
    b.head(root, "lm_head", h.hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", false)?)?;
    Ok(Box::new(Olmo2 { n_layers, heads: h, use_cache: cfg.bool_or("use_cache", true)? }))
}

/// `Olmo2DecoderLayer.forward`: Llama's signature and attention call, post-norms only.
const LAYER: LayerDecl = LayerDecl { input_norm: None, residual: Residual::PostNorm, ..LLAMA_LAYER };

const ATTENTION: Projected = Projected {
    input_shape: A::input_shape_0,
    hidden_shape: A::hidden_shape_0,
    q: Projection {
        child: "q_proj",
        call: A::self_q_proj_0,
        view: A::query_states_view_0,
        norm: None,
        transpose: A::transpose_0,
        bound: A::query_states_1,
        whole: Some(Whole { norm: Some(("q_norm", A::self_q_norm_0)), bound: A::query_states_0 }),
    },
    k: Projection {
        child: "k_proj",
        call: A::self_k_proj_0,
        view: A::key_states_view_0,
        norm: None,
        transpose: A::transpose_1,
        bound: A::key_states_1,
        whole: Some(Whole { norm: Some(("k_norm", A::self_k_norm_0)), bound: A::key_states_0 }),
    },
    v: Projection {
        child: "v_proj",
        call: A::self_v_proj_0,
        view: A::value_states_view_0,
        norm: None,
        transpose: A::transpose_2,
        bound: A::value_states_1,
        whole: Some(Whole { norm: None, bound: A::value_states_0 }),
    },
    head_norms: None,
    window: None,
    rotary: A::apply_rotary_pos_emb_0,
    cache_update: A::cache_update_0,
    interface: Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 },
    tail: Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_o_proj_0, out_bound: A::attn_output_1, out_child: "o_proj" },
};

const MLP: Gated = Gated { gate: M::self_gate_proj_0, act: M::self_act_fn_0, up: M::self_up_proj_0, down: M::self_down_proj_0, bound: M::down_proj_0 };

impl Family for Olmo2 {
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
