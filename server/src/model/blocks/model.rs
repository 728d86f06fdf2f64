//! The decoder base model (`LlamaModel`: embeddings, rotary tables, masks, the layers,
//! the final norm) and the causal-LM root (`LlamaForCausalLM`: the base model, logits to
//! keep, the head, optional final soft-capping, the loss), as transformers 5.24 writes
//! them; argument orders and child names are the family's declaration.

use crate::value::tensor::dim_size;
use tch::{Kind as DKind, Tensor};

use super::super::cache::DynamicCache;
use super::super::forward::{CallArgs, Fwd, HiddenStates, cache_of, out_tensor, tv};
use super::super::layers::attention::Kernel;
use super::super::layers::mask::{self, Span};
use super::super::tree::ModuleId;
use super::Signature;
use crate::value::{PyErr, PyResult, Record, RecordKind, Value};

/// What the base model passes each layer, by keyword, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The layer's mask (full or sliding, by its type).
    Mask,
    PositionEmbeddings,
    PositionIds,
    Cache,
    UseCache,
}

/// How a family's base model is written.
pub struct ModelDecl {
    pub signature: Signature,
    pub embed: &'static str,
    /// `hidden_states = self.emb_dropout(inputs_embeds)` (GPT-NeoX).
    pub emb_dropout: Option<&'static str>,
    pub rotary: &'static str,
    /// `self.rotary_emb(h, position_ids=p)` rather than `self.rotary_emb(h, p)`.
    pub rotary_keyword: bool,
    /// `self.rotary_emb(h, p, layer_type)` once per layer type, each layer given its
    /// type's tables (Gemma 3).
    pub rotary_by_type: bool,
    pub layers: &'static str,
    /// The layer call's keywords, in order.
    pub layer_kwargs: &'static [(&'static str, Slot)],
    pub norm: &'static str,
    /// `cache=cache if use_cache else None` in the output (Qwen 3).
    pub cache_out_if_use_cache: bool,
}

/// What the base model computes with.
pub struct ModelSpec<'a> {
    pub use_cache: bool,
    /// Each layer's sliding window (`None`: full attention).
    pub windows: &'a [Option<i64>],
    pub kernel: Kernel,
}

/// The mask of a full or sliding layer, as `create_causal_mask` /
/// `create_sliding_window_causal_mask` build it for the model's kernel.
pub fn layer_mask(attention_mask: Option<&Tensor>, embeds: &Tensor, cache: Option<&DynamicCache>, layer: usize, window: Option<i64>, kernel: Kernel) -> PyResult<Option<Tensor>> {
    let (batch, q_len) = (dim_size(embeds, 0)?, dim_size(embeds, 1)?);
    let span = match (cache, window) {
        (Some(c), Some(w)) => Span::sliding(q_len, c.layer_seq_length(layer), w),
        (Some(c), None) => Span::full(q_len, c.layer_seq_length(layer)),
        (None, _) => Span::uncached(q_len, attention_mask.map(|m| dim_size(m, 1)).transpose()?),
    };
    let attention_mask = attention_mask.map(|m| m.f_to_device(embeds.device())).transpose()?;
    match kernel {
        Kernel::Sdpa => mask::boolean(attention_mask.as_ref(), batch, span, window, true),
        Kernel::Eager => mask::boolean(attention_mask.as_ref(), batch, span, window, false)?
            .map(|m| mask::additive(&m, embeds.kind()))
            .transpose(),
    }
}

/// The base model's forward.
pub fn forward(f: &mut Fwd<'_>, id: ModuleId, decl: &ModelDecl, spec: &ModelSpec<'_>, c: &CallArgs) -> PyResult<Value> {
    let name = f.envoy(id);
    let sig = decl.signature;
    let input_ids = sig.get(c, "input_ids");
    let embeds_in = sig.get(c, "inputs_embeds");
    if input_ids.is_none() == embeds_in.is_none() {
        return Err(PyErr::value_error("You must specify exactly one of input_ids or inputs_embeds"));
    }
    let embeds = if embeds_in.is_none() {
        let e = f.child(id, decl.embed)?;
        f.call(e, vec![input_ids], vec![])?
    } else {
        embeds_in
    };
    let embeds_t = out_tensor(&embeds, &format!("{name}.{}", decl.embed))?;
    let use_cache = match sig.get(c, "use_cache") {
        Value::Bool(b) => b,
        _ => spec.use_cache,
    };
    let cache = match sig.get(c, "cache") {
        v @ Value::Host(_) => Some(v),
        _ if use_cache => Some(DynamicCache::with_windows(spec.windows).value()),
        _ => None,
    };
    let dc = cache.as_ref().and_then(cache_of);
    let past = dc.map_or(0, DynamicCache::seq_length);
    let seq = dim_size(&embeds_t, 1)?;
    let position_ids = match sig.get(c, "position_ids") {
        Value::Tensor(t) => t.t.shallow_clone(),
        _ => Tensor::f_arange_start(past, past + seq, (DKind::Int64, embeds_t.device()))?.f_unsqueeze(0)?,
    };
    let attention_mask = match sig.get(c, "attention_mask") {
        Value::Tensor(t) => Some(t.t.shallow_clone()),
        _ => None,
    };
    // One mask per layer type, from the first layer of that type.
    let first = |sliding: bool| spec.windows.iter().position(|w| w.is_some() == sliding);
    let full_mask = layer_mask(attention_mask.as_ref(), &embeds_t, dc, first(false).unwrap_or(0), None, spec.kernel)?;
    let sliding_mask = match first(true) {
        Some(l) => layer_mask(attention_mask.as_ref(), &embeds_t, dc, l, spec.windows[l], spec.kernel)?,
        None => None,
    };
    let as_value = |m: &Option<Tensor>| m.as_ref().map_or(Value::None, |m| tv(m.shallow_clone()));
    let (full_v, sliding_v) = (as_value(&full_mask), as_value(&sliding_mask));
    let mut hidden = match decl.emb_dropout {
        Some(d) => {
            let d = f.child(id, d)?;
            f.call(d, vec![embeds], vec![])?
        }
        None => embeds,
    };
    let pos_v = tv(position_ids.shallow_clone());
    let rotary = f.child(id, decl.rotary)?;
    // (sliding, tables): one entry, or one per layer type in the order of their first layer
    // (Python's `set(layer_types)` order is the per-process string hash's).
    let mut pes: Vec<(bool, Value)> = Vec::new();
    if decl.rotary_by_type {
        let mut types: Vec<bool> = Vec::new();
        for w in spec.windows {
            if !types.contains(&w.is_some()) {
                types.push(w.is_some());
            }
        }
        for sliding in types {
            let t = Value::str(if sliding { "sliding_attention" } else { "full_attention" });
            pes.push((sliding, f.call(rotary, vec![hidden.clone(), pos_v.clone(), t], vec![])?));
        }
    } else if decl.rotary_keyword {
        pes.push((false, f.call(rotary, vec![hidden.clone()], vec![("position_ids", pos_v.clone())])?));
    } else {
        pes.push((false, f.call(rotary, vec![hidden.clone(), pos_v.clone()], vec![])?));
    }
    let pe_of = |sliding: bool| pes.iter().find(|(s, _)| *s == sliding).unwrap_or(&pes[0]).1.clone();
    let layers = f.m.tree().node(f.child(id, decl.layers)?).children.clone();
    let record = matches!(c.get(None, "output_hidden_states"), Value::Bool(true));
    let mut captured = HiddenStates::new(record);
    for (i, l) in layers.into_iter().enumerate() {
        captured.before(&hidden);
        let kwargs = decl
            .layer_kwargs
            .iter()
            .map(|&(k, slot)| {
                let v = match slot {
                    Slot::Mask if spec.windows.get(i).copied().flatten().is_some() => sliding_v.clone(),
                    Slot::Mask => full_v.clone(),
                    Slot::PositionEmbeddings => pe_of(spec.windows.get(i).copied().flatten().is_some()),
                    Slot::PositionIds => pos_v.clone(),
                    Slot::Cache => cache.clone().unwrap_or(Value::None),
                    Slot::UseCache => Value::Bool(use_cache),
                };
                (k, v)
            })
            .collect();
        hidden = f.call(l, vec![hidden], kwargs)?;
        captured.after(&hidden);
    }
    let norm = f.child(id, decl.norm)?;
    let hidden = f.call(norm, vec![hidden], vec![])?;
    let hidden_states = captured.finish(&hidden);
    let cache_out = if decl.cache_out_if_use_cache && !use_cache { Value::None } else { cache.unwrap_or(Value::None) };
    Ok(Value::Record(Record::new(
        RecordKind::ModelOutput,
        "transformers.modeling_outputs",
        "BaseModelOutputWithPast",
        vec![
            ("last_hidden_state", hidden),
            ("cache", cache_out),
            ("hidden_states", hidden_states),
            ("attentions", Value::None),
        ],
    )))
}

/// An argument the root passes its base model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// The root's own argument of that name.
    Pass(&'static str),
    /// That keyword with the value `None`.
    None(&'static str),
    /// The root's own argument, passed only when given (not `None`).
    IfGiven(&'static str),
}

/// How a family's causal-LM root is written.
pub struct HeadDecl {
    pub signature: Signature,
    /// The base model child (`model`, `transformer`, `gpt_neox`).
    pub base: &'static str,
    /// `self.base(input_ids, …)` rather than `self.base(input_ids=input_ids, …)`.
    pub input_ids_positional: bool,
    /// The keywords of the base-model call, in order (after `input_ids`).
    pub base_kwargs: &'static [Arg],
    /// GPT-2 checks for `input_ids` itself, with its own message.
    pub require_input_ids: Option<&'static str>,
    /// The output class (`CausalLMOutputWithPast`), and whether it has `cross_attentions`.
    pub output: &'static str,
    pub cross_attentions: bool,
}

/// The causal-LM root's forward; `softcap`: Gemma 2's `final_logit_softcapping`.
pub fn causal_lm(f: &mut Fwd<'_>, id: ModuleId, decl: &HeadDecl, softcap: Option<f64>, c: &CallArgs) -> PyResult<Value> {
    let sig = decl.signature;
    let input_ids = sig.get(c, "input_ids");
    if let Some(msg) = decl.require_input_ids
        && input_ids.is_none()
    {
        return Err(PyErr::value_error(msg));
    }
    let base = f.child(id, decl.base)?;
    let (args, mut kwargs) = if decl.input_ids_positional { (vec![input_ids], vec![]) } else { (vec![], vec![("input_ids", input_ids)]) };
    for &a in decl.base_kwargs {
        match a {
            Arg::Pass(k) => kwargs.push((k, sig.get(c, k))),
            Arg::None(k) => kwargs.push((k, Value::None)),
            Arg::IfGiven(k) => {
                let v = sig.get(c, k);
                if !v.is_none() {
                    kwargs.push((k, v));
                }
            }
        }
    }
    let out = f.call(base, args, kwargs)?;
    let (hidden, cache, hidden_states) = match &out {
        Value::Record(r) => (
            r.get("last_hidden_state").unwrap_or(Value::None),
            r.get("cache").unwrap_or(Value::None),
            r.get("hidden_states").unwrap_or(Value::None),
        ),
        other => (other.clone(), Value::None, Value::None),
    };
    let hidden_t = out_tensor(&hidden, &format!("model.{}.last_hidden_state", decl.base))?;
    let keep = sig.get(c, "logits_to_keep").as_int().unwrap_or(0);
    let sliced = if keep > 0 {
        let s = dim_size(&hidden_t, 1)?;
        tv(hidden_t.f_narrow(1, (s - keep).max(0), keep.min(s))?)
    } else {
        tv(hidden_t)
    };
    let head = f.child(id, "lm_head")?;
    let mut logits = f.call(head, vec![sliced], vec![])?;
    if let Some(cap) = softcap {
        let t = out_tensor(&logits, "model.lm_head")?;
        logits = tv(t.f_div_scalar(cap)?.f_tanh()?.f_mul_scalar(cap)?);
    }
    let loss = match sig.get(c, "labels") {
        Value::Tensor(labels) => tv(causal_lm_loss(&out_tensor(&logits, "model.lm_head")?, &labels.t)?),
        _ => Value::None,
    };
    let mut fields = vec![("loss", loss), ("logits", logits), ("cache", cache), ("hidden_states", hidden_states), ("attentions", Value::None)];
    if decl.cross_attentions {
        fields.push(("cross_attentions", Value::None));
    }
    Ok(Value::Record(Record::new(RecordKind::ModelOutput, "transformers.modeling_outputs", decl.output, fields)))
}

/// transformers' `ForCausalLMLoss`: logits upcast to float, labels shifted by one with
/// -100 padding, mean cross entropy ignoring -100.
pub fn causal_lm_loss(logits: &Tensor, labels: &Tensor) -> PyResult<Tensor> {
    let logits = logits.f_to_kind(DKind::Float)?;
    let labels = labels.f_to_device(logits.device())?;
    let padded = labels.f_pad([0, 1], "constant", Some(-100.0))?;
    let shift = padded.f_narrow(-1, 1, dim_size(&labels, labels.dim() - 1)?)?.f_contiguous()?;
    let v = logits.size().last().copied().unwrap_or(0);
    Ok(logits
        .f_reshape([-1, v])?
        .f_cross_entropy_loss(&shift.f_reshape([-1])?, None::<Tensor>, tch::Reduction::Mean, -100, 0.0)?)
}
