//! Generation as transformers 5.24's `generate` runs it under nnsight 0.8.1's
//! `TransformersModel.generate` (docs/semantics.md §6): the prompt goes to the
//! `model.generator.streamer` module, then each step is one full forward of the root
//! module over a real KV cache (`logits_to_keep=1`, so `lm_head` sees the last position
//! even at the first step), the next token is picked (greedy, or sampled with
//! temperature / top-k / top-p), passed to the streamer, and appended; finished rows are
//! padded. The ids finally pass through `model.generator`, whose output is the result.
//! Every module call goes through [`Fwd::call`], so each step is one occurrence of every
//! hook point.

use crate::value::tensor::dim_size;
use tch::{Kind as DKind, Tensor};

use super::ModuleId;
use super::forward::{Fwd, tv};
use crate::value::{PyErr, PyResult, Value};

/// Keyword arguments by name, in the order given.
pub type Kwargs = Vec<(std::rc::Rc<str>, Value)>;

/// The generation settings of one `model.generate(...)` call.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub max_new_tokens: usize,
    pub min_new_tokens: usize,
    pub eos: Vec<i64>,
    pub pad: Option<i64>,
    pub do_sample: bool,
    pub temperature: f64,
    pub top_k: Option<i64>,
    pub top_p: f64,
}

/// Generation parameters localndif takes from `generate(...)`'s keyword arguments; the
/// rest go to every forward.
const GEN_KWARGS: &[&str] = &[
    "max_new_tokens",
    "min_new_tokens",
    "max_length",
    "min_length",
    "eos_token_id",
    "pad_token_id",
    "bos_token_id",
    "do_sample",
    "temperature",
    "top_k",
    "top_p",
    "num_beams",
    "num_return_sequences",
    "repetition_penalty",
    "use_cache",
    "streamer",
    "generation_config",
];

fn as_ids(v: &Value) -> Option<Vec<i64>> {
    match v {
        Value::Int(i) => Some(vec![*i]),
        Value::List(l) => l.snapshot().iter().map(Value::as_int).collect(),
        Value::Tuple(t) => t.iter().map(Value::as_int).collect(),
        _ => None,
    }
}

fn json_ids(v: &serde_json::Value) -> Vec<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().into_iter().collect(),
        serde_json::Value::Array(a) => a.iter().filter_map(serde_json::Value::as_i64).collect(),
        _ => Vec::new(),
    }
}

impl GenConfig {
    /// Splits `kwargs` into the generation settings (over the checkpoint's
    /// `generation_config.json` and `config.json`) and the forward's keyword arguments.
    pub fn from_kwargs(
        kwargs: Kwargs,
        generation_config: &serde_json::Value,
        config: &serde_json::Value,
        tokenizer_pad: i64,
        prompt_len: usize,
    ) -> PyResult<(GenConfig, Kwargs)> {
        let defaults = |k: &str| generation_config.get(k).filter(|v| !v.is_null()).or_else(|| config.get(k).filter(|v| !v.is_null()));
        let mut cfg = GenConfig {
            max_new_tokens: 20,
            min_new_tokens: 0,
            eos: defaults("eos_token_id").map(json_ids).unwrap_or_default(),
            pad: defaults("pad_token_id").and_then(serde_json::Value::as_i64),
            do_sample: defaults("do_sample").and_then(serde_json::Value::as_bool).unwrap_or(false),
            temperature: defaults("temperature").and_then(serde_json::Value::as_f64).unwrap_or(1.0),
            top_k: defaults("top_k").and_then(serde_json::Value::as_i64),
            top_p: defaults("top_p").and_then(serde_json::Value::as_f64).unwrap_or(1.0),
        };
        if let Some(m) = defaults("max_new_tokens").and_then(serde_json::Value::as_u64) {
            cfg.max_new_tokens = m as usize;
        } else if let Some(m) = generation_config.get("max_length").and_then(serde_json::Value::as_u64) {
            cfg.max_new_tokens = (m as usize).saturating_sub(prompt_len);
        }
        let mut forward = Vec::new();
        let int = |k: &str, v: &Value| {
            v.as_int()
                .filter(|i| *i >= 0)
                .ok_or_else(|| PyErr::value_error(format!("`{k}` must be a non-negative integer")))
        };
        let float = |k: &str, v: &Value| match v {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            _ => Err(PyErr::value_error(format!("`{k}` must be a number"))),
        };
        for (k, v) in kwargs {
            if !GEN_KWARGS.contains(&k.as_ref()) {
                forward.push((k, v));
                continue;
            }
            if v.is_none() {
                continue;
            }
            match k.as_ref() {
                "max_new_tokens" => cfg.max_new_tokens = int(&k, &v)? as usize,
                "min_new_tokens" => cfg.min_new_tokens = int(&k, &v)? as usize,
                "max_length" => cfg.max_new_tokens = (int(&k, &v)? as usize).saturating_sub(prompt_len),
                "min_length" => cfg.min_new_tokens = (int(&k, &v)? as usize).saturating_sub(prompt_len),
                "eos_token_id" => cfg.eos = as_ids(&v).ok_or_else(|| PyErr::value_error("`eos_token_id` must be an int or a list of ints"))?,
                "pad_token_id" => cfg.pad = Some(int(&k, &v)?),
                "bos_token_id" => {}
                "do_sample" => cfg.do_sample = matches!(v, Value::Bool(true)),
                "temperature" => cfg.temperature = float(&k, &v)?,
                "top_k" => cfg.top_k = Some(int(&k, &v)?),
                "top_p" => cfg.top_p = float(&k, &v)?,
                "use_cache" if matches!(v, Value::Bool(true)) => {}
                "num_beams" | "num_return_sequences" if v.as_int() == Some(1) => {}
                "repetition_penalty" if float(&k, &v)? == 1.0 => {}
                other => return Err(PyErr::unsupported(format!("generate(..., {other}=...)"))),
            }
        }
        if cfg.do_sample && cfg.top_k.is_none() {
            // transformers' default when sampling.
            cfg.top_k = Some(50);
        }
        if cfg.temperature <= 0.0 && cfg.do_sample {
            return Err(PyErr::value_error(format!(
                "`temperature` (={}) has to be a strictly positive float, otherwise your next token scores will be invalid.",
                cfg.temperature
            )));
        }
        if cfg.pad.is_none() && !cfg.eos.is_empty() {
            // transformers pads finished rows with the (first) EOS when there is no pad.
            cfg.pad = Some(cfg.eos[0]);
        }
        let _ = tokenizer_pad;
        Ok((cfg, forward))
    }
}

fn wrapper(f: &Fwd<'_>, path: &str) -> PyResult<ModuleId> {
    f.m.tree()
        .by_envoy(path)
        .ok_or_else(|| PyErr::internal(format!("the model has no {path} module")))
}

/// The next token scores after transformers' processors and warpers, as float32.
fn pick(cfg: &GenConfig, logits: &Tensor, step: usize) -> PyResult<Tensor> {
    let mut scores = logits.f_to_kind(DKind::Float)?;
    let vocab = dim_size(&scores, 1)?;
    if step < cfg.min_new_tokens {
        for &e in &cfg.eos {
            if (0..vocab).contains(&e) {
                let _ = scores.f_narrow(1, e, 1)?.f_fill_(f64::NEG_INFINITY)?;
            }
        }
    }
    if !cfg.do_sample {
        return Ok(scores.f_argmax(-1, false)?);
    }
    if cfg.temperature != 1.0 {
        scores = scores.f_div_scalar(cfg.temperature)?;
    }
    if let Some(k) = cfg.top_k.filter(|&k| k > 0) {
        let k = k.min(vocab);
        let (top, _) = scores.f_topk(k, -1, true, true)?;
        let kth = top.f_narrow(1, k - 1, 1)?;
        let remove = scores.f_lt_tensor(&kth)?;
        scores = scores.f_masked_fill(&remove, f64::NEG_INFINITY)?;
    }
    if cfg.top_p < 1.0 {
        let (sorted, idx) = scores.f_sort(-1, false)?;
        let cum = sorted.f_softmax(-1, DKind::Float)?.f_cumsum(-1, DKind::Float)?;
        let remove_sorted = cum.f_le(1.0 - cfg.top_p)?;
        let _ = remove_sorted.f_narrow(1, vocab - 1, 1)?.f_fill_(0)?;
        let remove = remove_sorted.f_scatter(1, &idx, &remove_sorted)?;
        scores = scores.f_masked_fill(&remove, f64::NEG_INFINITY)?;
    }
    let probs = scores.f_softmax(-1, DKind::Float)?;
    Ok(probs.f_multinomial(1, false)?.f_squeeze_dim(1)?)
}

/// Runs generation; returns the output of `model.generator` (the prompt and new ids).
pub fn generate(
    f: &mut Fwd<'_>,
    cfg: &GenConfig,
    input_ids: Tensor,
    attention_mask: Tensor,
    position_ids: Option<Tensor>,
    forward: &[(&str, Value)],
) -> PyResult<Value> {
    let root = f.m.tree().root();
    let streamer = wrapper(f, "model.generator.streamer")?;
    let generator = wrapper(f, "model.generator")?;
    let device = input_ids.device();
    let batch = dim_size(&input_ids, 0)?;
    let mut ids = input_ids;
    let mut mask = attention_mask;
    // transformers' `prepare_inputs_for_generation`: positions from the mask, padding
    // at 1 (nnsight passes its own for a padded batch).
    let mut pos = match position_ids {
        Some(p) => p,
        None => mask.f_cumsum(-1, DKind::Int64)?.f_sub_scalar(1)?.f_masked_fill(&mask.f_eq(0)?, 1)?,
    };
    f.call(streamer, vec![tv(ids.shallow_clone())], vec![])?;
    let cache = f.m.structure.family.new_cache().value();
    // transformers leaves an all-ones mask out of the forward's arguments.
    let pass_mask = mask.f_eq(0)?.f_any()?.f_int64_value(&[])? != 0;
    let mut unfinished = Tensor::f_ones([batch], (DKind::Bool, device))?;
    for step in 0..cfg.max_new_tokens {
        crate::value::ctx::check()?;
        let (inp, p) = if step == 0 {
            (ids.shallow_clone(), pos.shallow_clone())
        } else {
            let n = dim_size(&ids, 1)?;
            (ids.f_narrow(1, n - 1, 1)?, pos.f_narrow(1, n - 1, 1)?)
        };
        let mut kwargs: Vec<(&str, Value)> = vec![("input_ids", tv(inp)), ("cache", cache.clone()), ("position_ids", tv(p))];
        if pass_mask {
            kwargs.push(("attention_mask", tv(mask.shallow_clone())));
        }
        kwargs.extend([
            ("logits_to_keep", Value::Int(1)),
            ("use_cache", Value::Bool(true)),
            ("return_dict", Value::Bool(true)),
        ]);
        kwargs.extend(forward.iter().cloned());
        let out = f.call(root, vec![], kwargs)?;
        let logits = match &out {
            Value::Record(r) => r.get("logits").unwrap_or(Value::None),
            other => other.clone(),
        };
        let Value::Tensor(logits) = logits else {
            return Err(PyErr::type_error("the model's output has no logits tensor"));
        };
        let n = dim_size(&logits.t, 1)?;
        let last = logits.t.f_narrow(1, n - 1, 1)?.f_squeeze_dim(1)?;
        let mut next = pick(cfg, &last, step)?;
        if let Some(pad) = cfg.pad {
            let padded = Tensor::f_full_like(&next, pad)?;
            next = next.f_where_self(&unfinished, &padded)?;
        }
        ids = Tensor::f_cat(&[&ids, &next.f_unsqueeze(1)?], 1)?;
        mask = Tensor::f_cat(&[&mask, &Tensor::f_ones([batch, 1], (mask.kind(), device))?], 1)?;
        let m = dim_size(&pos, 1)?;
        pos = Tensor::f_cat(&[&pos, &pos.f_narrow(1, m - 1, 1)?.f_add_scalar(1)?], 1)?;
        f.call(streamer, vec![tv(next.shallow_clone())], vec![])?;
        if !cfg.eos.is_empty() {
            let eos = Tensor::f_from_slice(&cfg.eos)?.f_to_device(device)?;
            let hit = Tensor::f_isin(&next, &eos, false, false)?;
            unfinished = unfinished.f_logical_and(&hit.f_logical_not()?)?;
            if unfinished.f_any()?.f_int64_value(&[])? == 0 {
                break;
            }
        }
    }
    f.call(generator, vec![tv(ids)], vec![])
}
