//! GPT-2 (`GPT2LMHeadModel`) as transformers 5.24 builds it (docs/semantics.md §9.1):
//! `Conv1D` projections, learned positions, blocks that return a tensor, attention that
//! returns `(out, None)` through the SDPA integration, a tied head, a
//! `CausalLMOutputWithCrossAttentions` root.

use tch::{Kind as DKind, Tensor};

use super::super::blocks::attention::{self, Interface, Kw, Spec, Tail};
use super::super::blocks::mlp;
use super::super::blocks::model::{Arg, HeadDecl, causal_lm, layer_mask};
use super::super::blocks::Signature;
use super::super::cache::DynamicCache;
use super::super::config::Config;
use super::super::declare::Builder;
use super::super::forward::{CallArgs, Fwd, HiddenStates, cache_of, cache_update, first_output, int_arg, out_tensor, rest_kwargs, shape_tuple, tv, unpack};
use super::super::layers::attention::Kernel;
use super::super::layers::{Activation, Embedding};
use super::super::ops::{GPT2Attention as A, GPT2MLP as M};
use super::super::tree::{Block, ModuleId};
use super::{Declaration, Family};
use crate::value::{PyErr, PyResult, Record, RecordKind, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("gpt2", "GPT2Config")], declare, aliases, replica };

/// openai-community/gpt2's own checkpoint stores `h.0.attn.c_attn.weight`.
fn aliases(name: &str) -> Vec<String> {
    let mut v = vec![name.to_string()];
    if let Some(short) = name.strip_prefix("transformer.") {
        v.push(short.to_string());
    }
    v
}

fn replica(_: &serde_json::Value, o: &mut serde_json::Map<String, serde_json::Value>, w: super::super::replica::Widths) -> anyhow::Result<()> {
    o.insert("n_embd".into(), w.hidden.into());
    o.insert("n_head".into(), w.heads.into());
    o.insert("n_inner".into(), w.intermediate.into());
    Ok(())
}

struct Gpt2 {
    n_layer: usize,
    n_embd: i64,
    n_head: i64,
    use_cache: bool,
    scale_attn_weights: bool,
    scale_by_inverse_layer_idx: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    cfg.only("add_cross_attention", &[false.into()], "GPT-2")?;
    cfg.only("reorder_and_upcast_attn", &[false.into()], "GPT-2")?;
    let (vocab, n_embd, n_head) = (cfg.int("vocab_size")?, cfg.int("n_embd")?, cfg.int("n_head")?);
    let n_layer = cfg.int("n_layer")? as usize;
    anyhow::ensure!(n_embd % n_head == 0, "n_embd must be divisible by n_head");
    let inner = cfg.opt_int("n_inner")?.unwrap_or(4 * n_embd);
    let eps = cfg.float_or("layer_norm_epsilon", 1e-5)?;
    let act = Activation::from_config("activation_function", cfg.str_or("activation_function", "gelu_new")?)?;
    let (resid_p, embd_p, attn_p) = (cfg.float_or("resid_pdrop", 0.1)?, cfg.float_or("embd_pdrop", 0.1)?, cfg.float_or("attn_pdrop", 0.1)?);
    let root = b.root("GPT2LMHeadModel");
    let tr = b.block(root, "transformer", "GPT2Model", Block::Model);
    let wte = b.embedding(tr, "wte", "Embedding", vocab, n_embd, Embedding::plain(None))?;
    b.embedding(tr, "wpe", "Embedding", cfg.int_or("n_positions", 1024)?, n_embd, Embedding::plain(None))?;
    b.dropout(tr, "drop", embd_p);
    let h = b.list(tr, "h");
    for i in 0..n_layer {
        let blk = b.block(h, &i.to_string(), "GPT2Block", Block::Layer(i));
        b.layer_norm(blk, "ln_1", n_embd, eps, true)?;
        let a = b.block(blk, "attn", "GPT2Attention", Block::Attention(i));
        b.conv1d(a, "c_attn", n_embd, 3 * n_embd)?;
        b.conv1d(a, "c_proj", n_embd, n_embd)?;
        b.module(a, "attn_dropout", "Dropout", super::super::tree::Kind::Unused { p: attn_p });
        b.dropout(a, "resid_dropout", resid_p);
        b.layer_norm(blk, "ln_2", n_embd, eps, true)?;
        let m = b.block(blk, "mlp", "GPT2MLP", Block::Mlp);
        b.conv1d(m, "c_fc", n_embd, inner)?;
        b.conv1d(m, "c_proj", inner, n_embd)?;
        b.act(m, "act", act);
        b.dropout(m, "dropout", resid_p);
    }
    b.layer_norm(tr, "ln_f", n_embd, eps, true)?;
    // Tied by default (GPT2LMHeadModel._tied_weights_keys).
    b.head(root, "lm_head", n_embd, vocab, wte, cfg.bool_or("tie_word_embeddings", true)?)?;
    Ok(Box::new(Gpt2 {
        n_layer,
        n_embd,
        n_head,
        use_cache: cfg.bool_or("use_cache", true)?,
        scale_attn_weights: cfg.bool_or("scale_attn_weights", true)?,
        scale_by_inverse_layer_idx: cfg.bool_or("scale_attn_by_inverse_layer_idx", false)?,
    }))
}

const HEAD: HeadDecl = HeadDecl {
    signature: Signature(&["input_ids"]),
    base: "transformer",
    input_ids_positional: true,
    base_kwargs: &[
        Arg::Pass("cache"),
        Arg::Pass("attention_mask"),
        Arg::None("token_type_ids"),
        Arg::Pass("position_ids"),
        Arg::None("inputs_embeds"),
        Arg::None("encoder_hidden_states"),
        Arg::None("encoder_attention_mask"),
        Arg::Pass("use_cache"),
        Arg::Pass("output_hidden_states"),
    ],
    require_input_ids: Some("You have to specify either input_ids or inputs_embeds"),
    output: "CausalLMOutputWithCrossAttentions",
    cross_attentions: true,
};

const MLP: &[mlp::Step] = &[
    (M::self_c_fc_0, M::hidden_states_0, "c_fc"),
    (M::self_act_0, M::hidden_states_1, "act"),
    (M::self_c_proj_0, M::hidden_states_2, "c_proj"),
    (M::self_dropout_0, M::hidden_states_3, "dropout"),
];

impl Family for Gpt2 {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, None, c),
            Block::Model => self.model(f, id, c),
            Block::Layer(_) => block_forward(f, id, c),
            Block::Attention(layer) => self.attention(f, id, layer, c),
            Block::Mlp => mlp::sequential(f, id, c, "hidden_states", MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        vec![None; self.n_layer]
    }
}

impl Gpt2 {
    /// `GPT2Attention.forward`, self-attention path, as nnsight names its operations: a
    /// trace or generation step takes the branch without cross-attention, with the cache
    /// when there is one.
    fn attention(&self, f: &mut Fwd<'_>, id: ModuleId, layer: usize, c: &CallArgs) -> PyResult<Value> {
        let name = f.envoy(id);
        let x = c.get(Some(0), "hidden_states");
        let mask = c.get(None, "attention_mask");
        let cache_v = c.get(None, "cache");
        let rest = rest_kwargs(c, &["hidden_states", "cache", "attention_mask", "encoder_hidden_states", "encoder_attention_mask", "output_attentions"])?;
        let head_dim = self.n_embd / self.n_head;
        f.bind(id, A::is_cross_attention_0, Value::Bool(false))?;
        let mut curr_cache = Value::None;
        if !cache_v.is_none() {
            f.op(id, A::isinstance_0, vec![cache_v.clone(), Value::str("EncoderDecoderCache")], vec![], |_, _, _| Ok(Value::Bool(false)))?;
            curr_cache = f.bind(id, A::curr_cache_2, cache_v.clone())?;
        }
        let qkv = f.call_op(id, A::self_c_attn_1, "c_attn", x)?;
        let n_embd = self.n_embd;
        let parts = f.op(id, A::split_1, vec![Value::Int(n_embd)], vec![("dim", Value::Int(2))], |_, a, _| {
            let t = out_tensor(&qkv, &format!("{name}.c_attn"))?;
            let dim = match a.get(Some(1), "dim") {
                Value::None => 0,
                d => d.as_int().ok_or_else(|| PyErr::type_error("split(): argument 'dim' must be int"))?,
            };
            Ok(Value::tuple(t.f_split(int_arg(a, 0, "split_size")?, dim)?.into_iter().map(tv).collect()))
        })?;
        let [q, k, v] = <[Value; 3]>::try_from(unpack(&parts, 3)?).map_err(|_| PyErr::internal("unpack"))?;
        // `shape_kv` is computed once, from the keys; the values are viewed with it.
        let shape_kv = f.bind(id, A::shape_kv_1, shape_tuple(&out_tensor(&k, &name)?, 1, &[-1, head_dim]))?;
        let k = attention::view(f, id, A::key_states_view_1, &k, shape_kv)?;
        let k = attention::transpose(f, id, A::transpose_2, &k)?;
        let k = f.bind(id, A::key_states_2, k)?;
        let v = attention::view(f, id, A::value_states_view_1, &v, shape_tuple(&out_tensor(&v, &name)?, 1, &[-1, head_dim]))?;
        let v = attention::transpose(f, id, A::transpose_3, &v)?;
        let v = f.bind(id, A::value_states_2, v)?;
        let shape_q = f.bind(id, A::shape_q_0, shape_tuple(&out_tensor(&q, &name)?, 1, &[-1, head_dim]))?;
        let q = attention::view(f, id, A::query_states_view_0, &q, shape_q)?;
        let q = attention::transpose(f, id, A::transpose_4, &q)?;
        let q = f.bind(id, A::query_states_1, q)?;
        let (k, v) = match cache_of(&curr_cache) {
            Some(cache) => cache_update(f, id, A::curr_cache_update_0, cache, layer, (k, v), Some(&rest))?,
            None => (k, v),
        };
        f.bind(id, A::using_eager_0, Value::Bool(false))?;
        let mut scaling = if self.scale_attn_weights { (head_dim as f64).powf(-0.5) } else { 1.0 };
        if self.scale_by_inverse_layer_idx {
            scaling /= (layer + 1) as f64;
        }
        let spec = Spec { layer, head_dim, n_rep: 1, scaling, kernel: Kernel::Sdpa, sliding_window: None, softcap: None, kwargs: &[Kw::Dropout, Kw::Scaling] };
        let iface = Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 };
        let (out, weights) = attention::interface(f, id, &iface, &spec, [q, k, v], mask, &rest)?;
        let dims = match shape_tuple(&out_tensor(&out, &name)?, 2, &[-1]) {
            Value::Tuple(t) => t.to_vec(),
            _ => vec![],
        };
        let tail = Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_c_proj_0, out_bound: A::attn_output_1, out_child: "c_proj" };
        let out = attention::tail(f, id, &tail, out, dims)?;
        let out = f.call_op(id, A::self_resid_dropout_0, "resid_dropout", out)?;
        let out = f.bind(id, A::attn_output_2, out)?;
        Ok(Value::tuple(vec![out, weights]))
    }

    /// `GPT2Model.forward`: token and position embeddings, the blocks, `ln_f`.
    fn model(&self, f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
        let name = f.envoy(id);
        let input_ids = c.tensor(Some(0), "input_ids", &name)?;
        let attention_mask = c.opt_tensor(None, "attention_mask");
        let use_cache = match c.get(None, "use_cache") {
            Value::Bool(b) => b,
            _ => self.use_cache,
        };
        let cache = match c.get(None, "cache") {
            v @ Value::Host(_) => Some(v),
            _ if use_cache => Some(DynamicCache::new(self.n_layer).value()),
            _ => None,
        };
        let dc = cache.as_ref().and_then(cache_of);
        let past = dc.map_or(0, DynamicCache::seq_length);
        let seq = match input_ids.size().as_slice() {
            [_, s] => *s,
            other => return Err(PyErr::value_error(format!("input_ids must be [batch, seq], got {other:?}"))),
        };
        let embeds = f.call(f.child(id, "wte")?, vec![tv(input_ids.shallow_clone())], vec![])?;
        let embeds_t = out_tensor(&embeds, &format!("{name}.wte"))?;
        let position_ids = match c.opt_tensor(None, "position_ids") {
            Some(p) => p,
            None => Tensor::f_arange_start(past, past + seq, (DKind::Int64, embeds_t.device()))?.f_unsqueeze(0)?,
        };
        let pos = f.call(f.child(id, "wpe")?, vec![tv(position_ids.shallow_clone())], vec![])?;
        let hidden = embeds_t.f_add(&out_tensor(&pos, &format!("{name}.wpe"))?)?;
        let mask = layer_mask(attention_mask.as_ref(), &embeds_t, dc, 0, None, Kernel::Sdpa)?;
        let mut hidden = f.call(f.child(id, "drop")?, vec![tv(hidden)], vec![])?;
        let blocks = f.m.tree().node(f.child(id, "h")?).children.clone();
        let mask_v = mask.as_ref().map_or(Value::None, |m| tv(m.shallow_clone()));
        // transformers' output capturing: the input of the first block, then every block's
        // output, the last replaced by the final (layer-normed) hidden state.
        let record = match c.get(None, "output_hidden_states") {
            Value::None => false,
            Value::Bool(b) => b,
            other => return Err(PyErr::unsupported(format!("output_hidden_states={}", other.type_name()))),
        };
        let mut captured = HiddenStates::new(record);
        for blk in blocks {
            captured.before(&hidden);
            hidden = f.call(
                blk,
                vec![hidden, cache.clone().unwrap_or(Value::None), mask_v.clone(), Value::None],
                vec![
                    ("encoder_attention_mask", Value::None),
                    ("use_cache", Value::Bool(use_cache)),
                    ("position_ids", tv(position_ids.shallow_clone())),
                ],
            )?;
            captured.after(&hidden);
        }
        let hidden = f.call(f.child(id, "ln_f")?, vec![hidden], vec![])?;
        let hidden_states = captured.finish(&hidden);
        Ok(Value::Record(Record::new(
            RecordKind::ModelOutput,
            "transformers.modeling_outputs",
            "BaseModelOutputWithPastAndCrossAttentions",
            vec![
                ("last_hidden_state", hidden),
                ("cache", cache.unwrap_or(Value::None)),
                ("hidden_states", hidden_states),
                ("attentions", Value::None),
                ("cross_attentions", Value::None),
            ],
        )))
    }
}

/// `GPT2Block.forward`: `x + attn(ln_1(x))`, then `+ mlp(ln_2(·))`.
fn block_forward(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let name = f.envoy(id);
    let hidden_v = c.get(Some(0), "hidden_states");
    let hidden = out_tensor(&hidden_v, &name)?;
    let cache = c.get(Some(1), "cache");
    let mask = c.get(Some(2), "attention_mask");
    let use_cache = c.get(None, "use_cache");
    let position_ids = c.get(None, "position_ids");
    let x = f.call(f.child(id, "ln_1")?, vec![hidden_v], vec![])?;
    let attn = f.call(
        f.child(id, "attn")?,
        vec![x],
        vec![("cache", cache), ("attention_mask", mask), ("use_cache", use_cache), ("position_ids", position_ids)],
    )?;
    let attn_out = first_output(&attn, &format!("{name}.attn"))?;
    let hidden = attn_out.f_add(&hidden)?;
    let x = f.call(f.child(id, "ln_2")?, vec![tv(hidden.shallow_clone())], vec![])?;
    let ff = f.call(f.child(id, "mlp")?, vec![x], vec![])?;
    let ff = out_tensor(&ff, &format!("{name}.mlp"))?;
    Ok(tv(hidden.f_add(&ff)?))
}
