//! GPT-NeoX (`GPTNeoXForCausalLM`: Pythia, GPT-NeoX-20B) as transformers 5.24 builds it: a
//! fused `query_key_value` projection chunked into heads, partial rotary (the first
//! `rotary_pct` of each head's channels rotate), LayerNorms with biases, the parallel
//! residual (`use_parallel_residual`) with its dropouts, an untied head that checkpoints
//! store as `embed_out`.

use super::super::blocks::attention::{self, Interface, Kw, Spec, Tail};
use super::super::blocks::layer::{LayerDecl, Residual, forward as layer};
use super::super::blocks::mlp;
use super::super::blocks::model::{Arg, HeadDecl, ModelDecl, ModelSpec, Slot, causal_lm, forward as model};
use super::super::blocks::Signature;
use super::super::config::Config;
use super::super::declare::Builder;
use super::super::forward::{CallArgs, Fwd, cache_of, cache_update, int_arg, out_tensor, rest_kwargs, tv, unpack};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::RopeSpec;
use super::super::layers::{Activation, Embedding, Rope};
use super::super::ops::{GPTNeoXAttention as A, GPTNeoXMLP as M};
use super::super::tree::{Block, ModuleId};
use super::{Declaration, Family};
use crate::value::{PyErr, PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("gpt_neox", "GPTNeoXConfig")], declare, aliases, replica };

/// transformers 5 names the head `lm_head`; checkpoints (Pythia's, and what
/// `save_pretrained` writes) store it as `embed_out`.
fn aliases(name: &str) -> Vec<String> {
    match name.strip_prefix("lm_head.") {
        Some(rest) => vec![name.to_string(), format!("embed_out.{rest}")],
        None => vec![name.to_string()],
    }
}

fn replica(_: &serde_json::Value, o: &mut serde_json::Map<String, serde_json::Value>, w: super::super::replica::Widths) -> anyhow::Result<()> {
    o.insert("hidden_size".into(), w.hidden.into());
    o.insert("num_attention_heads".into(), w.heads.into());
    o.insert("intermediate_size".into(), w.intermediate.into());
    Ok(())
}

struct NeoX {
    n_layers: usize,
    head_size: i64,
    parallel: bool,
    use_cache: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    let (vocab, hidden, heads) = (cfg.int("vocab_size")?, cfg.int("hidden_size")?, cfg.int("num_attention_heads")?);
    anyhow::ensure!(hidden % heads == 0, "The hidden size is not divisible by the number of attention heads");
    let (n_layers, inter) = (cfg.int("num_hidden_layers")? as usize, cfg.int("intermediate_size")?);
    let head_size = hidden / heads;
    let act = Activation::from_config("hidden_act", cfg.str_or("hidden_act", "gelu")?)?;
    // GPTNeoXConfig.convert_rope_params_to_dict: `rotary_emb_base` and `rotary_pct` (0.25).
    let legacy = &[("rotary_emb_base", "rope_theta", Some(10000.0)), ("rotary_pct", "partial_rotary_factor", Some(0.25))];
    let rope = Rope::from_config(cfg, &RopeSpec { head_dim: head_size, default_partial: true, legacy })?;
    let (eps, bias, p) = (cfg.float_or("layer_norm_eps", 1e-5)?, cfg.bool_or("attention_bias", true)?, cfg.float_or("hidden_dropout", 0.0)?);
    let root = b.root("GPTNeoXForCausalLM");
    let m = b.block(root, "gpt_neox", "GPTNeoXModel", Block::Model);
    let embed = b.embedding(m, "embed_in", "Embedding", vocab, hidden, Embedding::plain(None))?;
    b.dropout(m, "emb_dropout", p);
    let layers = b.list(m, "layers");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "GPTNeoXLayer", Block::Layer(i));
        b.layer_norm(l, "input_layernorm", hidden, eps, true)?;
        b.layer_norm(l, "post_attention_layernorm", hidden, eps, true)?;
        b.dropout(l, "post_attention_dropout", p);
        b.dropout(l, "post_mlp_dropout", p);
        let a = b.block(l, "attention", "GPTNeoXAttention", Block::Attention(i));
        b.linear(a, "query_key_value", hidden, 3 * hidden, bias)?;
        b.linear(a, "dense", hidden, hidden, bias)?;
        let mlp = b.block(l, "mlp", "GPTNeoXMLP", Block::Mlp);
        b.linear(mlp, "dense_h_to_4h", hidden, inter, true)?;
        b.linear(mlp, "dense_4h_to_h", inter, hidden, true)?;
        b.act(mlp, "act", act);
    }
    b.layer_norm(m, "final_layer_norm", hidden, eps, true)?;
    b.rotary(m, "rotary_emb", "GPTNeoXRotaryEmbedding", rope);
    b.head(root, "lm_head", hidden, vocab, embed, cfg.bool_or("tie_word_embeddings", false)?)?;
    Ok(Box::new(NeoX {
        n_layers,
        head_size,
        parallel: cfg.bool_or("use_parallel_residual", true)?,
        use_cache: cfg.bool_or("use_cache", true)?,
    }))
}

const HEAD: HeadDecl = HeadDecl {
    signature: Signature(&["input_ids", "attention_mask", "position_ids", "inputs_embeds", "cache", "labels", "use_cache", "logits_to_keep"]),
    base: "gpt_neox",
    input_ids_positional: true,
    base_kwargs: &[
        Arg::Pass("attention_mask"),
        Arg::Pass("position_ids"),
        Arg::Pass("inputs_embeds"),
        Arg::Pass("cache"),
        Arg::Pass("use_cache"),
        Arg::IfGiven("output_hidden_states"),
    ],
    require_input_ids: None,
    output: "CausalLMOutputWithPast",
    cross_attentions: false,
};

const MODEL: ModelDecl = ModelDecl {
    signature: Signature(&["input_ids", "attention_mask", "position_ids", "inputs_embeds", "cache", "use_cache"]),
    embed: "embed_in",
    emb_dropout: Some("emb_dropout"),
    rotary: "rotary_emb",
    rotary_keyword: true,
    rotary_by_type: false,
    layers: "layers",
    layer_kwargs: &[
        ("attention_mask", Slot::Mask),
        ("position_ids", Slot::PositionIds),
        ("layer_past", Slot::Cache),
        ("use_cache", Slot::UseCache),
        ("position_embeddings", Slot::PositionEmbeddings),
    ],
    norm: "final_layer_norm",
    cache_out_if_use_cache: false,
};

fn layer_decl(parallel: bool) -> LayerDecl {
    LayerDecl {
        signature: Signature(&["hidden_states", "attention_mask", "position_ids", "use_cache", "layer_past", "position_embeddings"]),
        input_norm: Some("input_layernorm"),
        attn: "attention",
        attn_positional: true,
        attn_kwargs: &["attention_mask", "position_ids", "layer_past", "use_cache", "position_embeddings"],
        residual: Residual::NeoX { parallel },
    }
}

const MLP: &[mlp::Step] = &[
    (M::self_dense_h_to_4h_0, M::hidden_states_0, "dense_h_to_4h"),
    (M::self_act_0, M::hidden_states_1, "act"),
    (M::self_dense_4h_to_h_0, M::hidden_states_2, "dense_4h_to_h"),
];

impl Family for NeoX {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, None, c),
            Block::Model => model(f, id, &MODEL, &ModelSpec { use_cache: self.use_cache, windows: &self.windows(), kernel: Kernel::Sdpa }, c),
            Block::Layer(_) => layer(f, id, &layer_decl(self.parallel), c),
            Block::Attention(i) => self.attention(f, id, i, c),
            Block::Mlp => mlp::sequential(f, id, c, "hidden_states", MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        vec![None; self.n_layers]
    }
}

impl NeoX {
    /// `GPTNeoXAttention.forward(hidden_states, attention_mask, layer_past, position_embeddings, **kwargs)`.
    fn attention(&self, f: &mut Fwd<'_>, id: ModuleId, layer: usize, c: &CallArgs) -> PyResult<Value> {
        let name = f.envoy(id);
        let x = c.get(Some(0), "hidden_states");
        let xt = out_tensor(&x, &name)?;
        let mask = match c.get(Some(1), "attention_mask") {
            v @ Value::Tensor(_) => v,
            _ => Value::None,
        };
        let layer_past = c.get(Some(2), "layer_past");
        let pe = c.get(Some(3), "position_embeddings");
        let rest = rest_kwargs(c, &["hidden_states", "attention_mask", "layer_past", "position_embeddings"])?;
        let mut input_shape = xt.size();
        input_shape.pop();
        let input_shape_v = f.bind(id, A::input_shape_0, Value::Size(std::rc::Rc::new(input_shape.clone())))?;
        let input_shape: Vec<i64> = match &input_shape_v {
            Value::Size(s) => s.to_vec(),
            _ => input_shape,
        };
        let mut hidden_shape: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
        hidden_shape.extend([Value::Int(-1), Value::Int(3 * self.head_size)]);
        let hidden_shape = f.bind(id, A::hidden_shape_0, Value::tuple(hidden_shape))?;
        let qkv = f.call_op(id, A::self_query_key_value_0, "query_key_value", x)?;
        let qkv = attention::view(f, id, A::view_0, &qkv, hidden_shape)?;
        let qkv = attention::transpose(f, id, A::transpose_0, &qkv)?;
        let qkv = f.bind(id, A::qkv_0, qkv)?;
        let qkv_t = out_tensor(&qkv, &name)?;
        let parts = f.op(id, A::qkv_chunk_0, vec![Value::Int(3)], vec![("dim", Value::Int(-1))], |_, a, _| {
            let dim = match a.get(Some(1), "dim") {
                Value::None => 0,
                d => d.as_int().ok_or_else(|| PyErr::type_error("chunk(): argument 'dim' must be int"))?,
            };
            Ok(Value::tuple(qkv_t.f_chunk(int_arg(a, 0, "chunks")?, dim)?.into_iter().map(tv).collect()))
        })?;
        let [q, k, v] = <[Value; 3]>::try_from(unpack(&parts, 3)?).map_err(|_| PyErr::internal("unpack"))?;
        let (q, k) = attention::rotate(f, id, A::apply_rotary_pos_emb_0, q, k, &pe, true)?;
        let (k, v) = match cache_of(&layer_past) {
            Some(cache) => cache_update(f, id, A::layer_past_update_0, cache, layer, (k, v), None)?,
            None => (k, v),
        };
        let spec = Spec {
            layer,
            head_dim: self.head_size,
            n_rep: 1,
            scaling: (self.head_size as f64).powf(-0.5),
            kernel: Kernel::Sdpa,
            sliding_window: None,
            softcap: None,
            kwargs: &[Kw::Scaling, Kw::Dropout],
        };
        let iface = Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 };
        let (out, weights) = attention::interface(f, id, &iface, &spec, [q, k, v], mask, &rest)?;
        let mut dims: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
        dims.push(Value::Int(-1));
        let tail = Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_dense_0, out_bound: A::attn_output_1, out_child: "dense" };
        let out = attention::tail(f, id, &tail, out, dims)?;
        Ok(Value::tuple(vec![out, weights]))
    }
}
