//! The Llama family (`LlamaForCausalLM`, and Mistral- and Qwen2-style checkpoints whose
//! difference is configuration) with transformers 5.24's module tree, call structure and
//! outputs (docs/semantics.md §9): RMSNorm in float32, `model.rotary_emb` run once before
//! the layers, grouped-query attention through transformers' SDPA integration (the same
//! `enable_gqa` / packed single-query / `repeat_kv` choice it makes), the SiLU-gated MLP,
//! a tied or untied head. Ops follow `modeling_llama.py` op by op, so numbers equal HF's.

use std::collections::HashMap;

use tch::{Kind as DKind, Tensor};

use super::cache::DynamicCache;
use super::forward::{CallArgs, Fwd, HiddenStates, cache_update, first_output, int_arg, out_tensor, rest_kwargs, sdpa_function, shape_arg, tensor_arg, tv, unpack};
use super::tree::{Kind, ModuleId, Tree, Weights};
use crate::value::{PyErr, PyResult, Record, RecordKind, Value};

/// The configuration a Llama-family forward reads.
#[derive(Debug, Clone)]
pub struct LlamaConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub n_layers: usize,
    pub n_heads: i64,
    pub n_kv_heads: i64,
    pub head_dim: i64,
    pub rms_eps: f64,
    pub use_cache: bool,
    /// RoPE inverse frequencies (after any scaling) and the attention scaling factor.
    pub inv_freq: Vec<f32>,
    pub rope_attention_scaling: f64,
    /// Class names of this family (`Llama`, `Mistral`, `Qwen2`).
    pub family: &'static str,
}

fn num(cfg: &serde_json::Value, key: &str) -> Option<f64> {
    cfg.get(key).and_then(serde_json::Value::as_f64)
}

fn int(cfg: &serde_json::Value, key: &str) -> anyhow::Result<i64> {
    cfg.get(key)
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| anyhow::anyhow!("config.json has no integer '{key}'"))
}

/// RoPE parameters: transformers 5's `rope_parameters`, or the older `rope_theta` +
/// `rope_scaling` keys.
fn rope(cfg: &serde_json::Value, head_dim: i64) -> anyhow::Result<(Vec<f32>, f64)> {
    let params = cfg.get("rope_parameters").filter(|p| p.is_object()).cloned().unwrap_or_else(|| {
        let mut p = cfg.get("rope_scaling").filter(|p| p.is_object()).cloned().unwrap_or_else(|| serde_json::json!({}));
        if let Some(t) = cfg.get("rope_theta") {
            p["rope_theta"] = t.clone();
        }
        p
    });
    let theta = num(&params, "rope_theta").unwrap_or(10000.0);
    let kind = params
        .get("rope_type")
        .or_else(|| params.get("type"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("default");
    // compute_default_rope_parameters, with torch's own kernels so the values are
    // bit-identical: 1.0 / (base ** (arange(0, dim, 2, float) / dim)).
    let exps = Tensor::f_arange_start_step(0, head_dim, 2, (DKind::Float, tch::Device::Cpu))?.f_div_scalar(head_dim)?;
    let inv_t = Tensor::f_pow_scalar(theta, &exps)?.f_reciprocal()?;
    let inv: Vec<f32> = Vec::<f32>::try_from(&inv_t)?;
    match kind {
        "default" => Ok((inv, 1.0)),
        "llama3" => {
            let factor = num(&params, "factor").unwrap_or(8.0) as f32;
            let low = num(&params, "low_freq_factor").unwrap_or(1.0) as f32;
            let high = num(&params, "high_freq_factor").unwrap_or(4.0) as f32;
            let old = num(&params, "original_max_position_embeddings").unwrap_or(8192.0) as f32;
            let (low_wl, high_wl) = (old / low, old / high);
            let out = inv
                .iter()
                .map(|&f| {
                    let wavelen = 2.0 * std::f32::consts::PI / f;
                    let scaled = if wavelen > low_wl { f / factor } else { f };
                    if wavelen >= high_wl && wavelen <= low_wl {
                        let smooth = (old / wavelen - low) / (high - low);
                        (1.0 - smooth) * scaled / factor + smooth * scaled
                    } else {
                        scaled
                    }
                })
                .collect();
            Ok((out, 1.0))
        }
        "linear" => {
            let factor = num(&params, "factor").unwrap_or(1.0) as f32;
            Ok((inv.iter().map(|f| f / factor).collect(), 1.0))
        }
        other => anyhow::bail!("rope type '{other}' is not supported (default, linear, llama3)"),
    }
}

impl LlamaConfig {
    pub fn from_json(cfg: &serde_json::Value) -> anyhow::Result<LlamaConfig> {
        let family = match cfg["model_type"].as_str() {
            Some("mistral") => "Mistral",
            Some("qwen2") => "Qwen2",
            _ => "Llama",
        };
        let hidden_size = int(cfg, "hidden_size")?;
        let n_heads = int(cfg, "num_attention_heads")?;
        let n_kv_heads = cfg.get("num_key_value_heads").and_then(serde_json::Value::as_i64).unwrap_or(n_heads);
        let head_dim = cfg.get("head_dim").and_then(serde_json::Value::as_i64).unwrap_or(hidden_size / n_heads);
        anyhow::ensure!(n_heads % n_kv_heads == 0, "num_attention_heads must be a multiple of num_key_value_heads");
        if let Some(w) = cfg.get("sliding_window").and_then(serde_json::Value::as_i64) {
            let max = cfg.get("max_position_embeddings").and_then(serde_json::Value::as_i64).unwrap_or(0);
            let used = cfg.get("use_sliding_window").and_then(serde_json::Value::as_bool).unwrap_or(family == "Mistral");
            anyhow::ensure!(!used || w >= max, "sliding-window attention (sliding_window={w}) is not supported yet");
        }
        let act = cfg["hidden_act"].as_str().unwrap_or("silu");
        anyhow::ensure!(act == "silu", "hidden_act '{act}' is not supported (only silu)");
        let (inv_freq, rope_attention_scaling) = rope(cfg, head_dim)?;
        Ok(LlamaConfig {
            vocab_size: int(cfg, "vocab_size")?,
            hidden_size,
            n_layers: int(cfg, "num_hidden_layers")? as usize,
            n_heads,
            n_kv_heads,
            head_dim,
            rms_eps: num(cfg, "rms_norm_eps").unwrap_or(1e-6),
            use_cache: cfg.get("use_cache").and_then(serde_json::Value::as_bool).unwrap_or(true),
            inv_freq,
            rope_attention_scaling,
            family,
        })
    }
}

fn class(family: &'static str, part: &str) -> &'static str {
    // Leaked once per distinct name; a handful of strings per process.
    let name = format!("{family}{part}");
    Box::leak(name.into_boxed_str())
}

/// Builds the module tree and the weights, checking shapes against the config.
pub fn build(config_json: &str, tensors: &HashMap<String, Tensor>) -> anyhow::Result<(LlamaConfig, Tree, Weights)> {
    let json: serde_json::Value = serde_json::from_str(config_json)?;
    let cfg = LlamaConfig::from_json(&json)?;
    let fam = cfg.family;
    let attn_bias = json.get("attention_bias").and_then(serde_json::Value::as_bool).unwrap_or(fam == "Qwen2");
    let qkv_bias = attn_bias || fam == "Qwen2";
    let o_bias = attn_bias && fam != "Qwen2";
    let mlp_bias = json.get("mlp_bias").and_then(serde_json::Value::as_bool).unwrap_or(false);
    let take = |name: &str| -> anyhow::Result<Tensor> {
        tensors
            .get(name)
            .map(Tensor::shallow_clone)
            .ok_or_else(|| anyhow::anyhow!("the checkpoint has no tensor '{name}'"))
    };
    let mut t = Tree::new(class(fam, "ForCausalLM"), Kind::LlamaForCausalLm);
    let mut params: Vec<Vec<Tensor>> = vec![Vec::new()];
    let mut add = |t: &mut Tree, parent: ModuleId, name: &str, cls: &'static str, kind: Kind, ws: &[&str]| -> anyhow::Result<ModuleId> {
        let id = t.add(parent, name, cls, kind);
        params.push(Vec::new());
        let path = t.node(id).path.clone();
        for w in ws {
            t.add_param(id, w);
            params[id].push(take(&format!("{path}.{w}"))?);
        }
        Ok(id)
    };
    let lin = |bias: bool| -> &'static [&'static str] { if bias { &["weight", "bias"] } else { &["weight"] } };
    let root = t.root();
    let m = add(&mut t, root, "model", class(fam, "Model"), Kind::LlamaModel, &[])?;
    let embed = add(&mut t, m, "embed_tokens", "Embedding", Kind::Embedding, &["weight"])?;
    let layers = add(&mut t, m, "layers", "ModuleList", Kind::ModuleList, &[])?;
    let eps = cfg.rms_eps;
    for i in 0..cfg.n_layers {
        let l = add(&mut t, layers, &i.to_string(), class(fam, "DecoderLayer"), Kind::LlamaDecoderLayer, &[])?;
        let a = add(&mut t, l, "self_attn", class(fam, "Attention"), Kind::LlamaAttention { layer: i }, &[])?;
        add(&mut t, a, "q_proj", "Linear", Kind::Linear, lin(qkv_bias))?;
        add(&mut t, a, "k_proj", "Linear", Kind::Linear, lin(qkv_bias))?;
        add(&mut t, a, "v_proj", "Linear", Kind::Linear, lin(qkv_bias))?;
        add(&mut t, a, "o_proj", "Linear", Kind::Linear, lin(o_bias))?;
        let mlp = add(&mut t, l, "mlp", class(fam, "MLP"), Kind::LlamaMlp, &[])?;
        add(&mut t, mlp, "gate_proj", "Linear", Kind::Linear, lin(mlp_bias))?;
        add(&mut t, mlp, "up_proj", "Linear", Kind::Linear, lin(mlp_bias))?;
        add(&mut t, mlp, "down_proj", "Linear", Kind::Linear, lin(mlp_bias))?;
        add(&mut t, mlp, "act_fn", "SiLUActivation", Kind::Silu, &[])?;
        add(&mut t, l, "input_layernorm", class(fam, "RMSNorm"), Kind::RmsNorm { eps }, &["weight"])?;
        add(&mut t, l, "post_attention_layernorm", class(fam, "RMSNorm"), Kind::RmsNorm { eps }, &["weight"])?;
    }
    add(&mut t, m, "norm", class(fam, "RMSNorm"), Kind::RmsNorm { eps }, &["weight"])?;
    add(&mut t, m, "rotary_emb", class(fam, "RotaryEmbedding"), Kind::LlamaRotary, &[])?;
    let head = t.add(root, "lm_head", "Linear", Kind::Linear);
    t.add_param(head, "weight");
    let tied = json.get("tie_word_embeddings").and_then(serde_json::Value::as_bool).unwrap_or(false);
    let head_w = match take("lm_head.weight") {
        Ok(w) => w,
        Err(_) if tied => params[embed][0].shallow_clone(),
        Err(e) => return Err(e.context("the head is untied (tie_word_embeddings is false)")),
    };
    params.push(vec![head_w]);
    let g = t.add(root, "generator", "Generator", Kind::Generator);
    params.push(Vec::new());
    t.add(g, "streamer", "Streamer", Kind::Streamer);
    params.push(Vec::new());
    anyhow::ensure!(
        params[embed][0].size() == [cfg.vocab_size, cfg.hidden_size],
        "model.embed_tokens.weight has shape {:?}, config.json says [{}, {}]",
        params[embed][0].size(),
        cfg.vocab_size,
        cfg.hidden_size
    );
    Ok((cfg, t, Weights { params }))
}

fn param<'a>(f: &'a Fwd<'_>, id: ModuleId, i: usize) -> &'a Tensor {
    f.m.weights.get(id, i)
}

fn child(f: &Fwd<'_>, id: ModuleId, name: &str) -> PyResult<ModuleId> {
    f.m.tree()
        .child(id, name)
        .ok_or_else(|| PyErr::internal(format!("module {} has no child {name}", f.m.tree().node(id).envoy)))
}

fn envoy(f: &Fwd<'_>, id: ModuleId) -> String {
    f.m.tree().node(id).envoy.clone()
}

pub fn run(f: &mut Fwd<'_>, cfg: &LlamaConfig, id: ModuleId, kind: Kind, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id);
    match kind {
        Kind::Embedding => {
            let ids = c.tensor(Some(0), "input", &name)?;
            Ok(tv(Tensor::f_embedding(param(f, id, 0), &ids, -1, false, false)?))
        }
        Kind::Linear => {
            let x = c.tensor(Some(0), "input", &name)?;
            let b = f.m.tree().node(id).params.get(1).map(|_| param(f, id, 1).shallow_clone());
            Ok(tv(x.f_linear(param(f, id, 0), b.as_ref())?))
        }
        Kind::RmsNorm { eps } => {
            let x = c.tensor(Some(0), "hidden_states", &name)?;
            let dtype = x.kind();
            let h = x.f_to_kind(DKind::Float)?;
            let var = h.f_pow_tensor_scalar(2)?.f_mean_dim(-1, true, None::<DKind>)?;
            let h = h.f_mul(&var.f_add_scalar(eps)?.f_rsqrt()?)?;
            Ok(tv(param(f, id, 0).f_mul(&h.f_to_kind(dtype)?)?))
        }
        Kind::Silu => Ok(tv(c.tensor(Some(0), "input", &name)?.f_silu()?)),
        Kind::LlamaRotary => {
            let x = c.tensor(Some(0), "x", &name)?;
            let pos = c.tensor(Some(1), "position_ids", &name)?;
            let inv = Tensor::f_from_slice(&cfg.inv_freq)?.f_to_device(x.device())?;
            let freqs = pos.f_unsqueeze(-1)?.f_to_kind(DKind::Float)?.f_mul(&inv)?;
            let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?;
            let s = cfg.rope_attention_scaling;
            let (cos, sin) = (emb.f_cos()?.f_mul_scalar(s)?, emb.f_sin()?.f_mul_scalar(s)?);
            Ok(Value::tuple(vec![tv(cos.f_to_kind(x.kind())?), tv(sin.f_to_kind(x.kind())?)]))
        }
        Kind::LlamaMlp => {
            // `down_proj = self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))`.
            let x = c.get(Some(0), "x");
            let call = |f: &mut Fwd<'_>, op: &str, module: &str, arg: Value| -> PyResult<Value> {
                let m = child(f, id, module)?;
                f.op(id, op, vec![arg], vec![], |f, _, inputs| f.call_value(m, inputs.clone()))
            };
            let g = call(f, "self_gate_proj_0", "gate_proj", x.clone())?;
            let g = call(f, "self_act_fn_0", "act_fn", g)?;
            let u = call(f, "self_up_proj_0", "up_proj", x)?;
            let gu = out_tensor(&g, &name)?.f_mul(&out_tensor(&u, &name)?)?;
            let d = call(f, "self_down_proj_0", "down_proj", tv(gu))?;
            f.bind(id, "down_proj_0", d)
        }
        Kind::LlamaAttention { layer } => attention(f, cfg, id, layer, c),
        Kind::LlamaDecoderLayer => decoder_layer(f, id, c),
        Kind::LlamaModel => model(f, cfg, id, c),
        Kind::LlamaForCausalLm => causal_lm(f, id, c),
        other => Err(PyErr::unsupported(format!("calling a {other:?} module of a Llama-family model"))),
    }
}

/// `rotate_half` then `apply_rotary_pos_emb` (unsqueeze_dim 1).
fn rotary(x: &Tensor, cos: &Tensor, sin: &Tensor) -> PyResult<Tensor> {
    let d = x.size().last().copied().unwrap_or(0);
    let (x1, x2) = (x.f_narrow(-1, 0, d / 2)?, x.f_narrow(-1, d / 2, d - d / 2)?);
    let rot = Tensor::f_cat(&[&x2.f_neg()?, &x1], -1)?;
    Ok(x.f_mul(cos)?.f_add(&rot.f_mul(sin)?)?)
}

/// transformers' `repeat_kv`.
fn repeat_kv(x: &Tensor, n_rep: i64) -> PyResult<Tensor> {
    if n_rep == 1 {
        return Ok(x.shallow_clone());
    }
    let s = x.size();
    let (b, kv, l, d) = (s[0], s[1], s[2], s[3]);
    Ok(x.f_unsqueeze(2)?.f_expand([b, kv, n_rep, l, d], false)?.f_reshape([b, kv * n_rep, l, d])?)
}

/// `LlamaAttention.forward`, operation by operation as nnsight names them (model::source).
fn attention(f: &mut Fwd<'_>, cfg: &LlamaConfig, id: ModuleId, layer: usize, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id);
    let x = c.get(Some(0), "hidden_states");
    let xt = out_tensor(&x, &name)?;
    let (cos, sin) = match c.get(Some(1), "position_embeddings") {
        Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
        _ => return Err(PyErr::type_error(format!("{name}: position_embeddings must be a (cos, sin) pair"))),
    };
    let mask = match c.get(Some(2), "attention_mask") {
        v @ Value::Tensor(_) => v,
        _ => Value::None,
    };
    let cache_v = c.get(Some(3), "cache");
    let rest = rest_kwargs(c, &["hidden_states", "position_embeddings", "attention_mask", "cache"])?;
    let mut input_shape = xt.size();
    input_shape.pop();
    let input_shape_v = f.bind(id, "input_shape_0", Value::Size(std::rc::Rc::new(input_shape.clone())))?;
    let input_shape: Vec<i64> = match &input_shape_v {
        Value::Size(s) => s.to_vec(),
        _ => input_shape,
    };
    let mut hidden_shape: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
    hidden_shape.extend([Value::Int(-1), Value::Int(cfg.head_dim)]);
    let hidden_shape = f.bind(id, "hidden_shape_0", Value::tuple(hidden_shape))?;
    // `x_states = self.x_proj(hidden_states).view(hidden_shape).transpose(1, 2)`.
    let proj = |f: &mut Fwd<'_>, module: &str, ops: [&str; 4]| -> PyResult<Value> {
        let m = child(f, id, module)?;
        let p = f.op(id, ops[0], vec![x.clone()], vec![], |f, _, inputs| f.call_value(m, inputs.clone()))?;
        let pt = out_tensor(&p, &format!("{name}.{module}"))?;
        let viewed = f.op(id, ops[1], vec![hidden_shape.clone()], vec![], |_, a, _| Ok(tv(pt.f_view(shape_arg(a)?.as_slice())?)))?;
        let vt = out_tensor(&viewed, &name)?;
        let moved = f.op(id, ops[2], vec![Value::Int(1), Value::Int(2)], vec![], |_, a, _| {
            Ok(tv(vt.f_transpose(int_arg(a, 0, "dim0")?, int_arg(a, 1, "dim1")?)?))
        })?;
        f.bind(id, ops[3], moved)
    };
    let q = proj(f, "q_proj", ["self_q_proj_0", "view_0", "transpose_0", "query_states_0"])?;
    let k = proj(f, "k_proj", ["self_k_proj_0", "view_1", "transpose_1", "key_states_0"])?;
    let v = proj(f, "v_proj", ["self_v_proj_0", "view_2", "transpose_2", "value_states_0"])?;
    let qk = f.op(id, "apply_rotary_pos_emb_0", vec![q, k, cos, sin], vec![], |_, a, _| {
        let (cos, sin) = (tensor_arg(a, 2, "cos")?.f_unsqueeze(1)?, tensor_arg(a, 3, "sin")?.f_unsqueeze(1)?);
        Ok(Value::tuple(vec![
            tv(rotary(&tensor_arg(a, 0, "q")?, &cos, &sin)?),
            tv(rotary(&tensor_arg(a, 1, "k")?, &cos, &sin)?),
        ]))
    })?;
    let [q, k] = <[Value; 2]>::try_from(unpack(&qk, 2)?).map_err(|_| PyErr::internal("unpack"))?;
    let (k, v) = match super::gpt2::cache_of(&cache_v) {
        Some(cache) => cache_update(f, id, "cache_update_0", cache, layer, (k, v), &rest)?,
        None => (k, v),
    };
    let iface = f.op(id, "ALL_ATTENTION_FUNCTIONS_get_interface_0", vec![Value::str("sdpa"), Value::str("eager_attention_forward")], vec![], |_, _, _| Ok(sdpa_function()))?;
    f.bind(id, "attention_interface_0", iface)?;
    let scaling = (cfg.head_dim as f64).powf(-0.5);
    let mut kw: Vec<(&str, Value)> = vec![("dropout", Value::Float(0.0)), ("scaling", Value::Float(scaling))];
    kw.extend(rest.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let attn = f.op(id, "attention_interface_1", vec![Value::None, q, k, v, mask], kw, |_, a, _| {
        let scaling = match a.get(None, "scaling") {
            Value::Float(s) => s,
            Value::Int(s) => s as f64,
            _ => scaling,
        };
        let out = sdpa(cfg, &tensor_arg(a, 1, "query")?, &tensor_arg(a, 2, "key")?, &tensor_arg(a, 3, "value")?, a.opt_tensor(Some(4), "attention_mask"), scaling)?;
        Ok(Value::tuple(vec![tv(out), Value::None]))
    })?;
    let [out, weights] = <[Value; 2]>::try_from(unpack(&attn, 2)?).map_err(|_| PyErr::internal("unpack"))?;
    let ot = out_tensor(&out, &name)?;
    let mut dims: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
    dims.push(Value::Int(-1));
    let out = f.op(id, "attn_output_reshape_0", dims, vec![], |_, a, _| Ok(tv(ot.f_reshape(shape_arg(a)?.as_slice())?)))?;
    let rt = out_tensor(&out, &name)?;
    let out = f.op(id, "contiguous_0", vec![], vec![], |_, _, _| Ok(tv(rt.f_contiguous()?)))?;
    let out = f.bind(id, "attn_output_0", out)?;
    let o_proj = child(f, id, "o_proj")?;
    let out = f.op(id, "self_o_proj_0", vec![out], vec![], |f, _, inputs| f.call_value(o_proj, inputs.clone()))?;
    let out = f.bind(id, "attn_output_1", out)?;
    Ok(Value::tuple(vec![out, weights]))
}

/// transformers' `sdpa_attention_forward` (GQA included): `[B, S, heads, head_dim]`.
fn sdpa(cfg: &LlamaConfig, q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<Tensor>, scaling: f64) -> PyResult<Tensor> {
    let n_rep = cfg.n_heads / cfg.n_kv_heads;
    let q_len = q.size()[2];
    let head_dim_v = v.size()[3];
    let (mut q, mut k, mut v, mut mask, mut gqa) = (q.shallow_clone(), k.shallow_clone(), v.shallow_clone(), mask, false);
    if n_rep > 1 {
        if mask.is_none() && k.size()[3] == head_dim_v && head_dim_v <= 256 {
            gqa = true;
        } else if q_len == 1 {
            let s = q.size();
            q = q.f_reshape([s[0], s[1] / n_rep, n_rep, s[3]])?;
            if let Some(m) = &mask
                && m.size()[1] != 1
            {
                let ms = m.size();
                mask = Some(m.f_reshape([ms[0], ms[1] / n_rep, n_rep, ms[3]])?);
            }
        } else {
            k = repeat_kv(&k, n_rep)?;
            v = repeat_kv(&v, n_rep)?;
        }
    }
    let kv_len = k.size()[2];
    let is_causal = q_len > 1 && mask.is_none();
    if is_causal && kv_len > q_len {
        k = k.f_narrow(2, 0, q_len)?;
        v = v.f_narrow(2, 0, q_len)?;
    }
    let out = Tensor::f_scaled_dot_product_attention(&q, &k, &v, mask.as_ref(), 0.0, is_causal, Some(scaling), gqa)?;
    let os = out.size();
    Ok(out.f_reshape([os[0], -1, q_len, v.size()[3]])?.f_transpose(1, 2)?.f_contiguous()?)
}

fn decoder_layer(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id);
    let hidden_v = c.get(Some(0), "hidden_states");
    let residual = out_tensor(&hidden_v, &name)?;
    let x = f.call(child(f, id, "input_layernorm")?, vec![hidden_v], vec![])?;
    let attn = f.call(
        child(f, id, "self_attn")?,
        vec![],
        vec![
            ("hidden_states", x),
            ("attention_mask", c.get(Some(1), "attention_mask")),
            ("position_ids", c.get(Some(2), "position_ids")),
            ("cache", c.get(Some(3), "cache")),
            ("use_cache", c.get(Some(4), "use_cache")),
            ("position_embeddings", c.get(Some(5), "position_embeddings")),
        ],
    )?;
    let attn_out = first_output(&attn, &format!("{name}.self_attn"))?;
    let hidden = residual.f_add(&attn_out)?;
    let x = f.call(child(f, id, "post_attention_layernorm")?, vec![tv(hidden.shallow_clone())], vec![])?;
    let ff = f.call(child(f, id, "mlp")?, vec![x], vec![])?;
    Ok(tv(hidden.f_add(&out_tensor(&ff, &format!("{name}.mlp"))?)?))
}

fn model(f: &mut Fwd<'_>, cfg: &LlamaConfig, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let name = envoy(f, id);
    let input_ids = c.get(Some(0), "input_ids");
    let embeds_in = c.get(Some(4), "inputs_embeds");
    if input_ids.is_none() == embeds_in.is_none() {
        return Err(PyErr::value_error("You must specify exactly one of input_ids or inputs_embeds"));
    }
    let embeds = if embeds_in.is_none() {
        f.call(child(f, id, "embed_tokens")?, vec![input_ids], vec![])?
    } else {
        embeds_in
    };
    let embeds_t = out_tensor(&embeds, &format!("{name}.embed_tokens"))?;
    let use_cache = match c.get(Some(5), "use_cache") {
        Value::Bool(b) => b,
        _ => cfg.use_cache,
    };
    let cache = match c.get(Some(3), "cache") {
        v @ Value::Host(_) => Some(v),
        _ if use_cache => Some(DynamicCache::new(cfg.n_layers).value()),
        _ => None,
    };
    let past = cache.as_ref().and_then(super::gpt2::cache_of).map_or(0, DynamicCache::seq_length);
    let seq = embeds_t.size()[1];
    let position_ids = match c.opt_tensor(Some(2), "position_ids") {
        Some(p) => p,
        None => Tensor::f_arange_start(past, past + seq, (DKind::Int64, embeds_t.device()))?.f_unsqueeze(0)?,
    };
    let mask = super::gpt2::causal_mask(c.opt_tensor(Some(1), "attention_mask").as_ref(), seq, past)?;
    let mask_v = mask.as_ref().map_or(Value::None, |m| tv(m.shallow_clone()));
    let pos_v = tv(position_ids.shallow_clone());
    let pe = f.call(child(f, id, "rotary_emb")?, vec![embeds.clone()], vec![("position_ids", pos_v.clone())])?;
    let layers = f.m.tree().node(child(f, id, "layers")?).children.clone();
    let record = matches!(c.get(None, "output_hidden_states"), Value::Bool(true));
    let mut captured = HiddenStates::new(record);
    let mut hidden = embeds;
    for l in layers {
        captured.before(&hidden);
        hidden = f.call(
            l,
            vec![hidden],
            vec![
                ("attention_mask", mask_v.clone()),
                ("position_embeddings", pe.clone()),
                ("position_ids", pos_v.clone()),
                ("cache", cache.clone().unwrap_or(Value::None)),
                ("use_cache", Value::Bool(use_cache)),
            ],
        )?;
        captured.after(&hidden);
    }
    let hidden = f.call(child(f, id, "norm")?, vec![hidden], vec![])?;
    let hidden_states = captured.finish(&hidden);
    Ok(Value::Record(Record::new(
        RecordKind::ModelOutput,
        "transformers.modeling_outputs",
        "BaseModelOutputWithPast",
        vec![
            ("last_hidden_state", hidden),
            ("cache", cache.unwrap_or(Value::None)),
            ("hidden_states", hidden_states),
            ("attentions", Value::None),
        ],
    )))
}

fn causal_lm(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
    let m = child(f, id, "model")?;
    let mut kw = vec![
        ("input_ids", c.get(Some(0), "input_ids")),
        ("attention_mask", c.get(Some(1), "attention_mask")),
        ("position_ids", c.get(Some(2), "position_ids")),
        ("cache", c.get(Some(3), "cache")),
        ("inputs_embeds", c.get(Some(4), "inputs_embeds")),
        ("use_cache", c.get(Some(6), "use_cache")),
    ];
    let ohs = c.get(None, "output_hidden_states");
    if !ohs.is_none() {
        kw.push(("output_hidden_states", ohs));
    }
    let out = f.call(m, vec![], kw)?;
    let (hidden, cache, hidden_states) = match &out {
        Value::Record(r) => (
            r.get("last_hidden_state").unwrap_or(Value::None),
            r.get("cache").unwrap_or(Value::None),
            r.get("hidden_states").unwrap_or(Value::None),
        ),
        other => (other.clone(), Value::None, Value::None),
    };
    let hidden_t = out_tensor(&hidden, "model.model.last_hidden_state")?;
    let keep = c.get(Some(7), "logits_to_keep").as_int().unwrap_or(0);
    let sliced = if keep > 0 {
        let s = hidden_t.size()[1];
        tv(hidden_t.f_narrow(1, (s - keep).max(0), keep.min(s))?)
    } else {
        tv(hidden_t)
    };
    let logits = f.call(child(f, id, "lm_head")?, vec![sliced], vec![])?;
    let loss = match c.opt_tensor(Some(5), "labels") {
        Some(labels) => tv(super::gpt2::causal_lm_loss(&out_tensor(&logits, "model.lm_head")?, &labels)?),
        None => Value::None,
    };
    Ok(Value::Record(Record::new(
        RecordKind::ModelOutput,
        "transformers.modeling_outputs",
        "CausalLMOutputWithPast",
        vec![
            ("loss", loss),
            ("logits", logits),
            ("cache", cache),
            ("hidden_states", hidden_states),
            ("attentions", Value::None),
        ],
    )))
}
