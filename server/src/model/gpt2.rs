//! GPT-2 (`GPT2LMHeadModel`) with transformers 5.24's module tree and call structure
//! (docs/semantics.md §9.1): blocks return a tensor, attention returns `(out, None)`, the root
//! returns a `CausalLMOutputWithCrossAttentions`, keys and values go into a
//! `DynamicCache`. Ops follow `modeling_gpt2.py`, the SDPA integration and `Conv1D`
//! exactly (same ATen kernels), so numbers equal HF PyTorch's.

use std::collections::HashMap;

use serde::Deserialize;
use tch::{Kind as DKind, Tensor};

use super::cache::DynamicCache;
use super::forward::{CallArgs, Fwd, HiddenStates, cache_update, first_output, int_arg, out_tensor, rest_kwargs, sdpa_function, shape_arg, shape_tuple, tensor_arg, tv, unpack};
use super::tree::{Kind, ModuleId, Tree, Weights};
use crate::value::{PyErr, PyResult, Record, RecordKind, Value};

/// The fields of GPT-2's `config.json` this implementation reads (HF defaults).
#[derive(Debug, Clone, Deserialize)]
pub struct Gpt2Config {
    pub vocab_size: i64,
    pub n_embd: i64,
    pub n_layer: usize,
    pub n_head: i64,
    #[serde(default)]
    pub n_inner: Option<i64>,
    #[serde(default = "default_eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "default_act")]
    pub activation_function: String,
    #[serde(default = "yes")]
    pub scale_attn_weights: bool,
    #[serde(default)]
    pub scale_attn_by_inverse_layer_idx: bool,
    #[serde(default)]
    pub reorder_and_upcast_attn: bool,
    #[serde(default)]
    pub add_cross_attention: bool,
    #[serde(default = "yes")]
    pub use_cache: bool,
}

fn default_eps() -> f64 {
    1e-5
}
fn default_act() -> String {
    "gelu_new".into()
}
fn yes() -> bool {
    true
}

/// Looks a weight up under its HF name, with or without the `transformer.` prefix
/// (openai-community/gpt2's own checkpoint stores `h.0.attn.c_attn.weight`).
fn take(tensors: &HashMap<String, Tensor>, name: &str) -> anyhow::Result<Tensor> {
    let short = name.strip_prefix("transformer.").unwrap_or(name);
    tensors
        .get(name)
        .or_else(|| tensors.get(short))
        .map(Tensor::shallow_clone)
        .ok_or_else(|| anyhow::anyhow!("the checkpoint has no tensor '{name}'"))
}

/// Builds the module tree and the weights, checking every tensor against the config.
pub fn build(config_json: &str, tensors: &HashMap<String, Tensor>) -> anyhow::Result<(Gpt2Config, Tree, Weights)> {
    let cfg: Gpt2Config = serde_json::from_str(config_json)?;
    anyhow::ensure!(
        cfg.activation_function == "gelu_new",
        "activation_function '{}' is not supported (only gelu_new)",
        cfg.activation_function
    );
    anyhow::ensure!(!cfg.add_cross_attention, "GPT-2 with cross-attention is not supported");
    anyhow::ensure!(!cfg.reorder_and_upcast_attn, "reorder_and_upcast_attn is not supported");
    anyhow::ensure!(cfg.n_embd % cfg.n_head == 0, "n_embd must be divisible by n_head");
    let mut t = Tree::new("GPT2LMHeadModel", Kind::Gpt2LmHead);
    let mut params: Vec<Vec<Tensor>> = vec![Vec::new()];
    let add = |t: &mut Tree, params: &mut Vec<Vec<Tensor>>, parent: ModuleId, name: &str, class: &'static str, kind: Kind, ws: &[&str]| -> anyhow::Result<ModuleId> {
        let id = t.add(parent, name, class, kind);
        params.push(Vec::new());
        let path = t.node(id).path.clone();
        for w in ws {
            t.add_param(id, w);
            params[id].push(take(tensors, &format!("{path}.{w}"))?);
        }
        Ok(id)
    };
    let root = t.root();
    let tr = add(&mut t, &mut params, root, "transformer", "GPT2Model", Kind::Gpt2Model, &[])?;
    let wte = add(&mut t, &mut params, tr, "wte", "Embedding", Kind::Embedding, &["weight"])?;
    add(&mut t, &mut params, tr, "wpe", "Embedding", Kind::Embedding, &["weight"])?;
    add(&mut t, &mut params, tr, "drop", "Dropout", Kind::Dropout, &[])?;
    let h = add(&mut t, &mut params, tr, "h", "ModuleList", Kind::ModuleList, &[])?;
    let head_dim = (cfg.n_embd / cfg.n_head) as f64;
    for i in 0..cfg.n_layer {
        let b = add(&mut t, &mut params, h, &i.to_string(), "GPT2Block", Kind::Gpt2Block, &[])?;
        add(&mut t, &mut params, b, "ln_1", "LayerNorm", Kind::LayerNorm { eps: cfg.layer_norm_epsilon }, &["weight", "bias"])?;
        let mut scaling = if cfg.scale_attn_weights { head_dim.powf(-0.5) } else { 1.0 };
        if cfg.scale_attn_by_inverse_layer_idx {
            scaling /= (i + 1) as f64;
        }
        let a = add(&mut t, &mut params, b, "attn", "GPT2Attention", Kind::Gpt2Attention { scaling, layer: i }, &[])?;
        add(&mut t, &mut params, a, "c_attn", "Conv1D", Kind::Conv1D, &["weight", "bias"])?;
        add(&mut t, &mut params, a, "c_proj", "Conv1D", Kind::Conv1D, &["weight", "bias"])?;
        add(&mut t, &mut params, a, "attn_dropout", "Dropout", Kind::Unused, &[])?;
        add(&mut t, &mut params, a, "resid_dropout", "Dropout", Kind::Dropout, &[])?;
        add(&mut t, &mut params, b, "ln_2", "LayerNorm", Kind::LayerNorm { eps: cfg.layer_norm_epsilon }, &["weight", "bias"])?;
        let m = add(&mut t, &mut params, b, "mlp", "GPT2MLP", Kind::Gpt2Mlp, &[])?;
        add(&mut t, &mut params, m, "c_fc", "Conv1D", Kind::Conv1D, &["weight", "bias"])?;
        add(&mut t, &mut params, m, "c_proj", "Conv1D", Kind::Conv1D, &["weight", "bias"])?;
        add(&mut t, &mut params, m, "act", "NewGELUActivation", Kind::NewGelu, &[])?;
        add(&mut t, &mut params, m, "dropout", "Dropout", Kind::Dropout, &[])?;
    }
    add(&mut t, &mut params, tr, "ln_f", "LayerNorm", Kind::LayerNorm { eps: cfg.layer_norm_epsilon }, &["weight", "bias"])?;
    // Tied by default (GPT2LMHeadModel._tied_weights_keys).
    let lm_head = t.add(root, "lm_head", "Linear", Kind::Linear);
    t.add_param(lm_head, "weight");
    params.push(vec![take(tensors, "lm_head.weight").unwrap_or_else(|_| params[wte][0].shallow_clone())]);
    let wte_w = &params[wte][0];
    anyhow::ensure!(
        wte_w.size() == [cfg.vocab_size, cfg.n_embd],
        "transformer.wte.weight has shape {:?}, config.json says [{}, {}]",
        wte_w.size(),
        cfg.vocab_size,
        cfg.n_embd
    );
    let g = t.add(root, "generator", "Generator", Kind::Generator);
    params.push(Vec::new());
    t.add(g, "streamer", "Streamer", Kind::Streamer);
    params.push(Vec::new());
    Ok((cfg, t, Weights { params }))
}

fn layer_norm(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> PyResult<Tensor> {
    let n = x.size().last().copied().unwrap_or(0);
    Ok(x.f_layer_norm([n], Some(w), Some(b), eps, true)?)
}

/// HF `Conv1D`: `addmm(bias, x.view(-1, nx), weight)` with weight `[nx, nf]`.
fn conv1d(x: &Tensor, w: &Tensor, b: &Tensor) -> PyResult<Tensor> {
    let mut size = x.size();
    let nx = size.pop().unwrap_or(0);
    size.push(w.size()[1]);
    Ok(b.f_addmm(&x.f_view([-1, nx])?, w)?.f_view(size.as_slice())?)
}

/// `NewGELUActivation`, op for op and in Python's evaluation order
/// (`0.5 * input * (1.0 + tanh(c * (input + 0.044715 * pow(input, 3.0))))`: `0.5 * input`
/// first). The order fixes the autograd graph's, and so the order in which `input`'s
/// three gradient contributions are summed: another order differs in the last bits.
fn gelu_new(x: &Tensor) -> PyResult<Tensor> {
    let c = (2.0f64 / std::f64::consts::PI).sqrt();
    let half = x.f_mul_scalar(0.5)?;
    let inner = x.f_add(&x.f_pow_tensor_scalar(3.0)?.f_mul_scalar(0.044715)?)?.f_mul_scalar(c)?;
    Ok(half.f_mul(&inner.f_tanh()?.f_add_scalar(1.0)?)?)
}

/// The SDPA mask transformers builds: `None` without padding (the kernel's causal flag is
/// used), else a boolean `[B, 1, S, past+S]` mask, causal and hiding padded keys.
pub fn causal_mask(attention_mask: Option<&Tensor>, q_len: i64, past: i64) -> PyResult<Option<Tensor>> {
    let Some(mask) = attention_mask else {
        return Ok(None);
    };
    if mask.f_eq(1)?.f_all()?.f_int64_value(&[])? == 1 {
        return Ok(None);
    }
    let device = mask.device();
    let kv = past + q_len;
    let b = mask.size()[0];
    let q = Tensor::f_arange_start(past, past + q_len, (DKind::Int64, device))?.f_view([q_len, 1])?;
    let k = Tensor::f_arange(kv, (DKind::Int64, device))?.f_view([1, kv])?;
    let causal = k.f_le_tensor(&q)?;
    let keys = mask.f_narrow(1, mask.size()[1] - kv, kv)?.f_to_kind(DKind::Bool)?.f_view([b, 1, 1, kv])?;
    Ok(Some(causal.f_view([1, 1, q_len, kv])?.f_logical_and(&keys)?))
}

fn param<'a>(f: &'a Fwd<'_>, id: ModuleId, i: usize) -> &'a Tensor {
    f.m.weights.get(id, i)
}

fn child(f: &Fwd<'_>, id: ModuleId, name: &str) -> PyResult<ModuleId> {
    f.m.tree()
        .child(id, name)
        .ok_or_else(|| PyErr::internal(format!("module {} has no child {name}", f.m.tree().node(id).envoy)))
}

fn envoy<'a>(f: &'a Fwd<'_>, id: ModuleId) -> &'a str {
    &f.m.tree().node(id).envoy
}

pub fn run(f: &mut Fwd<'_>, cfg: &Gpt2Config, id: ModuleId, kind: Kind, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id).to_string();
    match kind {
        Kind::Embedding => {
            let ids = c.tensor(Some(0), "input", &name)?;
            Ok(tv(Tensor::f_embedding(param(f, id, 0), &ids, -1, false, false)?))
        }
        Kind::LayerNorm { eps } => {
            let x = c.tensor(Some(0), "input", &name)?;
            Ok(tv(layer_norm(&x, param(f, id, 0), param(f, id, 1), eps)?))
        }
        Kind::Conv1D => {
            let x = c.tensor(Some(0), "x", &name)?;
            Ok(tv(conv1d(&x, param(f, id, 0), param(f, id, 1))?))
        }
        Kind::Linear => {
            let x = c.tensor(Some(0), "input", &name)?;
            let w = param(f, id, 0).shallow_clone();
            let b = f.m.tree().node(id).params.get(1).map(|_| param(f, id, 1).shallow_clone());
            Ok(tv(x.f_linear(&w, b.as_ref())?))
        }
        Kind::NewGelu => Ok(tv(gelu_new(&c.tensor(Some(0), "input", &name)?)?)),
        Kind::Gpt2Mlp => {
            // `hidden_states = self.c_fc(hidden_states)` and so on: each call and each
            // assignment is an operation (model::source).
            let mut x = c.get(Some(0), "hidden_states");
            for (call, bound, module) in [
                ("self_c_fc_0", "hidden_states_0", "c_fc"),
                ("self_act_0", "hidden_states_1", "act"),
                ("self_c_proj_0", "hidden_states_2", "c_proj"),
                ("self_dropout_0", "hidden_states_3", "dropout"),
            ] {
                let m = child(f, id, module)?;
                x = f.op(id, call, vec![x], vec![], |f, _, inputs| f.call_value(m, inputs.clone()))?;
                x = f.bind(id, bound, x)?;
            }
            Ok(x)
        }
        Kind::Gpt2Attention { scaling, layer } => attention(f, cfg, id, scaling, layer, c),
        Kind::Gpt2Block => block(f, id, c),
        Kind::Gpt2Model => model(f, cfg, id, c),
        Kind::Gpt2LmHead => lm_head_model(f, id, c),
        other => Err(PyErr::unsupported(format!("calling a {other:?} module of a GPT-2 model"))),
    }
}

/// `GPT2Attention.forward` (self-attention path), operation by operation as nnsight
/// names them (model::source): a trace or generation step takes the branch without
/// cross-attention, with the cache when there is one.
fn attention(f: &mut Fwd<'_>, cfg: &Gpt2Config, id: ModuleId, scaling: f64, layer: usize, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id).to_string();
    let x = c.get(Some(0), "hidden_states");
    let mask = c.get(None, "attention_mask");
    let cache_v = c.get(None, "cache");
    let rest = rest_kwargs(c, &["hidden_states", "cache", "attention_mask", "encoder_hidden_states", "encoder_attention_mask", "output_attentions"])?;
    let head_dim = cfg.n_embd / cfg.n_head;
    f.bind(id, "is_cross_attention_0", Value::Bool(false))?;
    let mut curr_cache = Value::None;
    if !cache_v.is_none() {
        f.op(id, "isinstance_0", vec![cache_v.clone(), Value::str("EncoderDecoderCache")], vec![], |_, _, _| Ok(Value::Bool(false)))?;
        curr_cache = f.bind(id, "curr_cache_2", cache_v.clone())?;
    }
    let c_attn = child(f, id, "c_attn")?;
    let qkv = f.op(id, "self_c_attn_1", vec![x], vec![], |f, _, inputs| f.call_value(c_attn, inputs.clone()))?;
    let parts = f.op(id, "split_1", vec![Value::Int(cfg.n_embd)], vec![("dim", Value::Int(2))], |_, a, _| {
        let t = out_tensor(&qkv, &format!("{name}.c_attn"))?;
        let dim = match a.get(Some(1), "dim") {
            Value::None => 0,
            d => d.as_int().ok_or_else(|| PyErr::type_error("split(): argument 'dim' must be int"))?,
        };
        Ok(Value::tuple(t.f_split(int_arg(a, 0, "split_size")?, dim)?.into_iter().map(tv).collect()))
    })?;
    let [q, k, v] = <[Value; 3]>::try_from(unpack(&parts, 3)?).map_err(|_| PyErr::internal("unpack"))?;
    // `x_states = x_states.view(shape).transpose(1, 2)`, for k, v then q.
    let heads = |f: &mut Fwd<'_>, t: Value, shape_op: &str, view_op: &str, transpose_op: &str, bound: &str| -> PyResult<Value> {
        let tt = out_tensor(&t, &name)?;
        let shape = f.bind(id, shape_op, shape_tuple(&tt, 1, &[-1, head_dim]))?;
        let viewed = f.op(id, view_op, vec![shape], vec![], |_, a, _| Ok(tv(tt.f_view(shape_arg(a)?.as_slice())?)))?;
        let vt = out_tensor(&viewed, &name)?;
        let moved = f.op(id, transpose_op, vec![Value::Int(1), Value::Int(2)], vec![], |_, a, _| {
            Ok(tv(vt.f_transpose(int_arg(a, 0, "dim0")?, int_arg(a, 1, "dim1")?)?))
        })?;
        f.bind(id, bound, moved)
    };
    let k = heads(f, k, "shape_kv_1", "key_states_view_1", "transpose_2", "key_states_2")?;
    let v = {
        // `shape_kv` is computed once, from the keys; the values are viewed with it.
        let vt = out_tensor(&v, &name)?;
        let shape = shape_tuple(&vt, 1, &[-1, head_dim]);
        let viewed = f.op(id, "value_states_view_1", vec![shape], vec![], |_, a, _| Ok(tv(vt.f_view(shape_arg(a)?.as_slice())?)))?;
        let vv = out_tensor(&viewed, &name)?;
        let moved = f.op(id, "transpose_3", vec![Value::Int(1), Value::Int(2)], vec![], |_, a, _| {
            Ok(tv(vv.f_transpose(int_arg(a, 0, "dim0")?, int_arg(a, 1, "dim1")?)?))
        })?;
        f.bind(id, "value_states_2", moved)?
    };
    let q = heads(f, q, "shape_q_0", "query_states_view_0", "transpose_4", "query_states_1")?;
    let (k, v) = match cache_of(&curr_cache) {
        Some(cache) => cache_update(f, id, "curr_cache_update_0", cache, layer, (k, v), &rest)?,
        None => (k, v),
    };
    f.bind(id, "using_eager_0", Value::Bool(false))?;
    let iface = f.op(id, "ALL_ATTENTION_FUNCTIONS_get_interface_0", vec![Value::str("sdpa"), Value::str("eager_attention_forward")], vec![], |_, _, _| Ok(sdpa_function()))?;
    f.bind(id, "attention_interface_0", iface)?;
    let mut kw: Vec<(&str, Value)> = vec![("dropout", Value::Float(0.0)), ("scaling", Value::Float(scaling))];
    kw.extend(rest.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let attn = f.op(id, "attention_interface_1", vec![Value::None, q, k, v, mask], kw, |_, a, _| {
        // transformers' sdpa_attention_forward: causal flag only without an explicit mask.
        let (q, k, v) = (tensor_arg(a, 1, "query")?, tensor_arg(a, 2, "key")?, tensor_arg(a, 3, "value")?);
        let mask = a.opt_tensor(Some(4), "attention_mask");
        let scaling = match a.get(None, "scaling") {
            Value::Float(s) => Some(s),
            Value::Int(s) => Some(s as f64),
            _ => None,
        };
        let is_causal = q.size()[2] > 1 && mask.is_none();
        let out = Tensor::f_scaled_dot_product_attention(&q, &k, &v, mask.as_ref(), 0.0, is_causal, scaling, false)?;
        Ok(Value::tuple(vec![tv(out.f_transpose(1, 2)?.f_contiguous()?), Value::None]))
    })?;
    let [out, weights] = <[Value; 2]>::try_from(unpack(&attn, 2)?).map_err(|_| PyErr::internal("unpack"))?;
    let ot = out_tensor(&out, &name)?;
    let dims = match shape_tuple(&ot, 2, &[-1]) {
        Value::Tuple(t) => t.to_vec(),
        _ => vec![],
    };
    let out = f.op(id, "attn_output_reshape_0", dims, vec![], |_, a, _| Ok(tv(ot.f_reshape(shape_arg(a)?.as_slice())?)))?;
    let rt = out_tensor(&out, &name)?;
    let out = f.op(id, "contiguous_0", vec![], vec![], |_, _, _| Ok(tv(rt.f_contiguous()?)))?;
    let out = f.bind(id, "attn_output_0", out)?;
    let c_proj = child(f, id, "c_proj")?;
    let out = f.op(id, "self_c_proj_0", vec![out], vec![], |f, _, inputs| f.call_value(c_proj, inputs.clone()))?;
    let out = f.bind(id, "attn_output_1", out)?;
    let dropout = child(f, id, "resid_dropout")?;
    let out = f.op(id, "self_resid_dropout_0", vec![out], vec![], |f, _, inputs| f.call_value(dropout, inputs.clone()))?;
    let out = f.bind(id, "attn_output_2", out)?;
    Ok(Value::tuple(vec![out, weights]))
}

/// The `DynamicCache` a value holds, if it is one.
pub fn cache_of(v: &Value) -> Option<&DynamicCache> {
    match v {
        Value::Host(h) => h.as_any().downcast_ref::<DynamicCache>(),
        _ => None,
    }
}

fn block(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id).to_string();
    let hidden_v = c.get(Some(0), "hidden_states");
    let hidden = out_tensor(&hidden_v, &name)?;
    let cache = c.get(Some(1), "cache");
    let mask = c.get(Some(2), "attention_mask");
    let use_cache = c.get(None, "use_cache");
    let position_ids = c.get(None, "position_ids");
    let x = f.call(child(f, id, "ln_1")?, vec![hidden_v], vec![])?;
    let attn = f.call(
        child(f, id, "attn")?,
        vec![x],
        vec![("cache", cache), ("attention_mask", mask), ("use_cache", use_cache), ("position_ids", position_ids)],
    )?;
    let attn_out = first_output(&attn, &format!("{name}.attn"))?;
    let hidden = attn_out.f_add(&hidden)?;
    let x = f.call(child(f, id, "ln_2")?, vec![tv(hidden.shallow_clone())], vec![])?;
    let ff = f.call(child(f, id, "mlp")?, vec![x], vec![])?;
    let ff = out_tensor(&ff, &format!("{name}.mlp"))?;
    Ok(tv(hidden.f_add(&ff)?))
}

fn model(f: &mut Fwd<'_>, cfg: &Gpt2Config, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id).to_string();
    let input_ids = c.tensor(Some(0), "input_ids", &name)?;
    let attention_mask = c.opt_tensor(None, "attention_mask");
    let position_ids = c.opt_tensor(None, "position_ids");
    let use_cache = match c.get(None, "use_cache") {
        Value::Bool(b) => b,
        _ => cfg.use_cache,
    };
    let cache = match c.get(None, "cache") {
        v @ Value::Host(_) => Some(v),
        _ if use_cache => Some(DynamicCache::new(cfg.n_layer).value()),
        _ => None,
    };
    let past = cache.as_ref().and_then(cache_of).map_or(0, DynamicCache::seq_length);
    let (batch, seq) = match input_ids.size().as_slice() {
        [b, s] => (*b, *s),
        other => return Err(PyErr::value_error(format!("input_ids must be [batch, seq], got {other:?}"))),
    };
    let embeds = f.call(child(f, id, "wte")?, vec![tv(input_ids.shallow_clone())], vec![])?;
    let embeds_t = out_tensor(&embeds, &format!("{name}.wte"))?;
    let position_ids = match position_ids {
        Some(p) => p,
        None => Tensor::f_arange_start(past, past + seq, (DKind::Int64, embeds_t.device()))?.f_unsqueeze(0)?,
    };
    let pos = f.call(child(f, id, "wpe")?, vec![tv(position_ids.shallow_clone())], vec![])?;
    let pos = out_tensor(&pos, &format!("{name}.wpe"))?;
    let hidden = embeds_t.f_add(&pos)?;
    let mask = causal_mask(attention_mask.as_ref(), seq, past)?;
    let _ = batch;
    let mut hidden = f.call(child(f, id, "drop")?, vec![tv(hidden)], vec![])?;
    let h = child(f, id, "h")?;
    let blocks = f.m.tree().node(h).children.clone();
    let mask_v = mask.as_ref().map_or(Value::None, |m| tv(m.shallow_clone()));
    // transformers' output capturing: the input of the first block, then every block's
    // output, the last replaced by the final (layer-normed) hidden state.
    let record = match c.get(None, "output_hidden_states") {
        Value::None => false,
        Value::Bool(b) => b,
        other => return Err(PyErr::unsupported(format!("output_hidden_states={}", other.type_name()))),
    };
    let mut captured = HiddenStates::new(record);
    for b in blocks {
        captured.before(&hidden);
        hidden = f.call(
            b,
            vec![hidden, cache.clone().unwrap_or(Value::None), mask_v.clone(), Value::None],
            vec![
                ("encoder_attention_mask", Value::None),
                ("use_cache", Value::Bool(use_cache)),
                ("position_ids", tv(position_ids.shallow_clone())),
            ],
        )?;
        captured.after(&hidden);
    }
    let hidden = f.call(child(f, id, "ln_f")?, vec![hidden], vec![])?;
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

fn lm_head_model(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let input_ids = c.get(Some(0), "input_ids");
    if input_ids.is_none() {
        return Err(PyErr::value_error("You have to specify either input_ids or inputs_embeds"));
    }
    let tr = child(f, id, "transformer")?;
    let out = f.call(
        tr,
        vec![input_ids],
        vec![
            ("cache", c.get(None, "cache")),
            ("attention_mask", c.get(None, "attention_mask")),
            ("token_type_ids", Value::None),
            ("position_ids", c.get(None, "position_ids")),
            ("inputs_embeds", Value::None),
            ("encoder_hidden_states", Value::None),
            ("encoder_attention_mask", Value::None),
            ("use_cache", c.get(None, "use_cache")),
            ("output_hidden_states", c.get(None, "output_hidden_states")),
        ],
    )?;
    let (hidden, cache, hidden_states) = match &out {
        Value::Record(r) => (
            r.get("last_hidden_state").unwrap_or(Value::None),
            r.get("cache").unwrap_or(Value::None),
            r.get("hidden_states").unwrap_or(Value::None),
        ),
        other => (other.clone(), Value::None, Value::None),
    };
    let hidden_t = out_tensor(&hidden, "model.transformer.last_hidden_state")?;
    let keep = c.get(None, "logits_to_keep").as_int().unwrap_or(0);
    let sliced = if keep > 0 {
        let s = hidden_t.size()[1];
        tv(hidden_t.f_narrow(1, (s - keep).max(0), keep.min(s))?)
    } else {
        tv(hidden_t)
    };
    let logits = f.call(child(f, id, "lm_head")?, vec![sliced], vec![])?;
    let loss = match c.opt_tensor(None, "labels") {
        Some(labels) => tv(causal_lm_loss(&out_tensor(&logits, "model.lm_head")?, &labels)?),
        None => Value::None,
    };
    Ok(Value::Record(Record::new(
        RecordKind::ModelOutput,
        "transformers.modeling_outputs",
        "CausalLMOutputWithCrossAttentions",
        vec![
            ("loss", loss),
            ("logits", logits),
            ("cache", cache),
            ("hidden_states", hidden_states),
            ("attentions", Value::None),
            ("cross_attentions", Value::None),
        ],
    )))
}

/// transformers' `ForCausalLMLoss`: logits upcast to float, labels shifted by one with
/// -100 padding, mean cross entropy ignoring -100.
pub fn causal_lm_loss(logits: &Tensor, labels: &Tensor) -> PyResult<Tensor> {
    let logits = logits.f_to_kind(DKind::Float)?;
    let labels = labels.f_to_device(logits.device())?;
    let padded = labels.f_pad([0, 1], "constant", Some(-100.0))?;
    let shift = padded.f_narrow(-1, 1, labels.size()[labels.dim() - 1])?.f_contiguous()?;
    let v = logits.size().last().copied().unwrap_or(0);
    Ok(logits
        .f_reshape([-1, v])?
        .f_cross_entropy_loss(&shift.f_reshape([-1])?, None::<Tensor>, tch::Reduction::Mean, -100, 0.0)?)
}
