//! Attention forwards, operation by operation as nnsight names them: the projected form
//! (`q_proj`/`k_proj`/`v_proj` viewed into heads, optional per-head q/k norms, rotary,
//! cache update, the attention interface, reshape and `o_proj`: Llama, Mistral, Qwen 2/3,
//! Gemma 2; OLMo-2's whole-projection norms) and the pieces fused-QKV families (GPT-2, GPT-NeoX) share with it: the
//! interface call ([`interface`]) and the output tail ([`tail`]); Phi-3's fused `qkv_proj`
//! sliced into parts ([`fused_qkv`]).

use super::super::forward::{CallArgs, Fwd, attention_function, cache_of, cache_update, int_arg, out_tensor, rest_kwargs, shape_arg, tensor_arg, tv, unpack};
use super::super::layers::attention::{self as kernels, Kernel};
use super::super::layers::rotary;
use super::super::ops::Op;
use crate::value::tensor::dim_size;
use super::super::tree::ModuleId;
use crate::value::{PyErr, PyResult, Value};

/// A keyword the forward passes to the attention interface, in the forward's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kw {
    Dropout,
    Scaling,
    /// `sliding_window=self.sliding_window` (Qwen, Gemma 2).
    SlidingWindow,
    /// `softcap=self.attn_logit_softcapping` (Gemma 2).
    Softcap,
}

/// What one attention module computes with.
#[derive(Debug, Clone)]
pub struct Spec {
    pub layer: usize,
    pub head_dim: i64,
    /// Query heads per key/value head (1: no grouping).
    pub n_rep: i64,
    pub scaling: f64,
    pub kernel: Kernel,
    pub sliding_window: Option<i64>,
    pub softcap: Option<f64>,
    /// The interface keywords, in the forward's order.
    pub kwargs: &'static [Kw],
}

/// `attention_interface = ALL_ATTENTION_FUNCTIONS.get_interface(...)` and its call.
pub struct Interface {
    pub get: Op,
    pub bound: Op,
    pub call: Op,
}

/// `attn_output = attn_output.reshape(...).contiguous()` then `self.<out>(attn_output)`.
pub struct Tail {
    pub reshape: Op,
    pub contiguous: Op,
    pub bound: Op,
    pub out: Op,
    pub out_bound: Op,
    pub out_child: &'static str,
}

/// The interface lookup and call: `(attn_output, attn_weights)`.
#[allow(clippy::too_many_arguments)]
pub fn interface(f: &mut Fwd<'_>, id: ModuleId, ops: &Interface, spec: &Spec, qkv: [Value; 3], mask: Value, rest: &[(String, Value)]) -> PyResult<(Value, Value)> {
    lookup(f, id, ops, spec.kernel)?;
    call_interface(f, id, ops, spec, qkv, mask, rest)
}

/// `attention_interface = ALL_ATTENTION_FUNCTIONS.get_interface(...)` alone.
pub fn lookup(f: &mut Fwd<'_>, id: ModuleId, ops: &Interface, kernel: Kernel) -> PyResult<()> {
    let iface = f.op(id, ops.get, vec![Value::str(kernel.name()), Value::str("eager_attention_forward")], vec![], |_, _, _| Ok(attention_function(kernel)))?;
    f.bind(id, ops.bound, iface)?;
    Ok(())
}

/// The interface call alone, after [`lookup`].
#[allow(clippy::too_many_arguments)]
pub fn call_interface(f: &mut Fwd<'_>, id: ModuleId, ops: &Interface, spec: &Spec, qkv: [Value; 3], mask: Value, rest: &[(String, Value)]) -> PyResult<(Value, Value)> {
    let kernel = spec.kernel;
    let mut kw: Vec<(&str, Value)> = spec
        .kwargs
        .iter()
        .map(|k| match k {
            Kw::Dropout => ("dropout", Value::Float(0.0)),
            Kw::Scaling => ("scaling", Value::Float(spec.scaling)),
            Kw::SlidingWindow => ("sliding_window", spec.sliding_window.map_or(Value::None, Value::Int)),
            Kw::Softcap => ("softcap", spec.softcap.map_or(Value::None, Value::Float)),
        })
        .collect();
    kw.extend(rest.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let [q, k, v] = qkv;
    let (n_rep, head_dim) = (spec.n_rep, spec.head_dim);
    let attn = f.op(id, ops.call, vec![Value::None, q, k, v, mask], kw, |_, a, _| {
        let number = |name: &str| match a.get(None, name) {
            Value::Float(s) => Some(s),
            Value::Int(s) => Some(s as f64),
            _ => None,
        };
        let (q, k, v) = (tensor_arg(a, 1, "query")?, tensor_arg(a, 2, "key")?, tensor_arg(a, 3, "value")?);
        let mask = a.opt_tensor(Some(4), "attention_mask");
        match kernel {
            Kernel::Sdpa => {
                if number("softcap").is_some() {
                    return Err(PyErr::value_error("`sdpa` attention does not support `softcap`. Try using `eager`, `flex_attention`, or the few FA kernels supporting it"));
                }
                let out = kernels::sdpa(&q, &k, &v, mask, number("scaling"), n_rep)?;
                Ok(Value::tuple(vec![tv(out), Value::None]))
            }
            Kernel::Eager => {
                let scaling = number("scaling").unwrap_or((head_dim as f64).powf(-0.5));
                let (out, w) = kernels::eager(&q, &k, &v, mask.as_ref(), scaling, number("softcap"), n_rep)?;
                Ok(Value::tuple(vec![tv(out), tv(w)]))
            }
        }
    })?;
    let [out, weights] = <[Value; 2]>::try_from(unpack(&attn, 2)?).map_err(|_| PyErr::internal("unpack"))?;
    Ok((out, weights))
}

/// The output tail: reshape to `dims`, contiguous, the output projection.
pub fn tail(f: &mut Fwd<'_>, id: ModuleId, ops: &Tail, out: Value, dims: Vec<Value>) -> PyResult<Value> {
    let name = f.envoy(id);
    let ot = out_tensor(&out, &name)?;
    let out = f.op(id, ops.reshape, dims, vec![], |_, a, _| Ok(tv(ot.f_reshape(shape_arg(a)?.as_slice())?)))?;
    let rt = out_tensor(&out, &name)?;
    let out = f.op(id, ops.contiguous, vec![], vec![], |_, _, _| Ok(tv(rt.f_contiguous()?)))?;
    let out = f.bind(id, ops.bound, out)?;
    let out = f.call_op(id, ops.out, ops.out_child, out)?;
    f.bind(id, ops.out_bound, out)
}

/// `x.view(shape)` as operation `op`.
pub fn view(f: &mut Fwd<'_>, id: ModuleId, op: Op, x: &Value, shape: Value) -> PyResult<Value> {
    let xt = out_tensor(x, &f.envoy(id))?;
    f.op(id, op, vec![shape], vec![], |_, a, _| Ok(tv(xt.f_view(shape_arg(a)?.as_slice())?)))
}

/// `x.transpose(1, 2)` as operation `op`.
pub fn transpose(f: &mut Fwd<'_>, id: ModuleId, op: Op, x: &Value) -> PyResult<Value> {
    let xt = out_tensor(x, &f.envoy(id))?;
    f.op(id, op, vec![Value::Int(1), Value::Int(2)], vec![], |_, a, _| {
        Ok(tv(xt.f_transpose(int_arg(a, 0, "dim0")?, int_arg(a, 1, "dim1")?)?))
    })
}

/// `query_states, key_states = apply_rotary_pos_emb(query_states, key_states, cos, sin)`.
pub fn rotate(f: &mut Fwd<'_>, id: ModuleId, op: Op, q: Value, k: Value, pe: &Value, sliced: bool) -> PyResult<(Value, Value)> {
    let (cos, sin) = match pe {
        Value::Tuple(t) if t.len() == 2 => (t[0].clone(), t[1].clone()),
        _ => return Err(PyErr::type_error(format!("{}: position_embeddings must be a (cos, sin) pair", f.envoy(id)))),
    };
    let qk = f.op(id, op, vec![q, k, cos, sin], vec![], |_, a, _| {
        let (q, k) = rotary::apply(&tensor_arg(a, 0, "q")?, &tensor_arg(a, 1, "k")?, &tensor_arg(a, 2, "cos")?, &tensor_arg(a, 3, "sin")?, sliced)?;
        Ok(Value::tuple(vec![tv(q), tv(k)]))
    })?;
    let [q, k] = <[Value; 2]>::try_from(unpack(&qk, 2)?).map_err(|_| PyErr::internal("unpack"))?;
    Ok((q, k))
}

/// `getattr(self.config, "sliding_window", None)` as operation `op`: the spec with the
/// window it gives (an edit of the operation's output reaches the interface call).
fn getattr_window(f: &mut Fwd<'_>, id: ModuleId, op: Op, spec: &Spec) -> PyResult<Spec> {
    let window = spec.sliding_window.map_or(Value::None, Value::Int);
    let window = f.op(id, op, vec![Value::None, Value::str("sliding_window"), Value::None], vec![], |_, _, _| Ok(window))?;
    Ok(Spec { sliding_window: window.as_int(), ..spec.clone() })
}

/// `x.chunk(n, dim=d)` as operation `op`: a tuple of `n` views.
pub fn chunk(f: &mut Fwd<'_>, id: ModuleId, op: Op, x: &Value, n: i64, dim: i64) -> PyResult<Value> {
    let xt = out_tensor(x, &f.envoy(id))?;
    f.op(id, op, vec![Value::Int(n)], vec![("dim", Value::Int(dim))], |_, a, _| {
        let dim = match a.get(Some(1), "dim") {
            Value::None => 0,
            d => d.as_int().ok_or_else(|| PyErr::type_error("chunk(): argument 'dim' must be int"))?,
        };
        Ok(Value::tuple(xt.f_chunk(int_arg(a, 0, "chunks")?, dim)?.into_iter().map(tv).collect()))
    })
}

/// One of a fused projection's parts: `x_states = qkv[..., a:b]`, later
/// `x_states = x_states.view(hidden_shape).transpose(1, 2)`.
pub struct Part {
    pub sliced: Op,
    pub view: Op,
    pub transpose: Op,
    pub bound: Op,
}

/// The operations of Phi-3's fused-projection attention: `qkv = self.qkv_proj(x)`, the
/// query width bound as `query_pos`, three slices of the last dimension, each viewed into
/// heads, partial rotary, the cache, the interface (with `sliding_window=getattr(self.config,
/// "sliding_window", None)`, itself an operation), the tail.
pub struct FusedQkv {
    pub input_shape: Op,
    pub hidden_shape: Op,
    pub child: &'static str,
    pub call: Op,
    pub bound: Op,
    pub query_pos: Op,
    pub q: Part,
    pub k: Part,
    pub v: Part,
    pub rotary: Op,
    pub cache_update: Op,
    pub interface: Interface,
    pub window: Op,
    pub tail: Tail,
}

/// Phi-3's `Phi3Attention.forward(hidden_states, position_embeddings, attention_mask, cache,
/// **kwargs)` with `heads` query heads: returns `(attn_output, attn_weights)`.
pub fn fused_qkv(f: &mut Fwd<'_>, id: ModuleId, ops: &FusedQkv, spec: &Spec, heads: i64, c: &CallArgs) -> PyResult<Value> {
    let name = f.envoy(id);
    let x = c.get(Some(0), "hidden_states");
    let xt = out_tensor(&x, &name)?;
    let pe = c.get(Some(1), "position_embeddings");
    let mask = match c.get(Some(2), "attention_mask") {
        v @ Value::Tensor(_) => v,
        _ => Value::None,
    };
    let cache_v = c.get(Some(3), "cache");
    let rest = rest_kwargs(c, &["hidden_states", "position_embeddings", "attention_mask", "cache"])?;
    let mut input_shape = xt.size();
    input_shape.pop();
    let input_shape_v = f.bind(id, ops.input_shape, Value::Size(std::rc::Rc::new(input_shape.clone())))?;
    let input_shape: Vec<i64> = match &input_shape_v {
        Value::Size(s) => s.to_vec(),
        _ => input_shape,
    };
    let mut hidden_shape: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
    hidden_shape.extend([Value::Int(-1), Value::Int(spec.head_dim)]);
    let hidden_shape = f.bind(id, ops.hidden_shape, Value::tuple(hidden_shape))?;
    let qkv = f.call_op(id, ops.call, ops.child, x)?;
    let qkv = out_tensor(&f.bind(id, ops.bound, qkv)?, &name)?;
    let query_pos = f.bind(id, ops.query_pos, Value::Int(heads * spec.head_dim))?;
    let query_pos = query_pos.as_int().ok_or_else(|| PyErr::type_error(format!("{name}: query_pos must be an int")))?;
    let kv_width = heads / spec.n_rep * spec.head_dim;
    let last = dim_size(&qkv, qkv.dim().saturating_sub(1))?;
    // `qkv[..., a:b]`, Python's slice clamped to the dimension.
    let slice = |a: i64, b: i64| -> PyResult<Value> {
        let (a, b) = (a.clamp(0, last), b.clamp(0, last));
        Ok(tv(qkv.f_narrow(-1, a, (b - a).max(0))?))
    };
    let q = f.bind(id, ops.q.sliced, slice(0, query_pos)?)?;
    let k = f.bind(id, ops.k.sliced, slice(query_pos, query_pos + kv_width)?)?;
    let v = f.bind(id, ops.v.sliced, slice(query_pos + kv_width, last)?)?;
    let heads_of = |f: &mut Fwd<'_>, p: &Part, x: Value| -> PyResult<Value> {
        let x = view(f, id, p.view, &x, hidden_shape.clone())?;
        let x = transpose(f, id, p.transpose, &x)?;
        f.bind(id, p.bound, x)
    };
    let q = heads_of(f, &ops.q, q)?;
    let k = heads_of(f, &ops.k, k)?;
    let v = heads_of(f, &ops.v, v)?;
    let (q, k) = rotate(f, id, ops.rotary, q, k, &pe, true)?;
    let (k, v) = match cache_of(&cache_v) {
        Some(cache) => cache_update(f, id, ops.cache_update, cache, spec.layer, (k, v), Some(&rest))?,
        None => (k, v),
    };
    lookup(f, id, &ops.interface, spec.kernel)?;
    let spec = getattr_window(f, id, ops.window, spec)?;
    let (out, weights) = call_interface(f, id, &ops.interface, &spec, [q, k, v], mask, &rest)?;
    let mut dims: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
    dims.push(Value::Int(-1));
    let out = tail(f, id, &ops.tail, out, dims)?;
    Ok(Value::tuple(vec![out, weights]))
}

/// `x_states = self.x_proj(hidden_states).view(hidden_shape)[, then self.x_norm(...)].transpose(1, 2)`.
pub struct Projection {
    pub child: &'static str,
    pub call: Op,
    pub view: Op,
    /// The per-head norm (Qwen 3's `q_norm` / `k_norm`): its child and operation.
    pub norm: Option<(&'static str, Op)>,
    pub transpose: Op,
    pub bound: Op,
    /// The projection bound whole first, optionally normed over its whole width, and
    /// viewed into heads in a later statement (OLMo-2).
    pub whole: Option<Whole>,
}

/// `x_states = self.x_norm(self.x_proj(hidden_states))` (or the bare projection): all
/// three projections are bound so before any is viewed into heads.
pub struct Whole {
    /// The norm over the whole projection: its child and operation.
    pub norm: Option<(&'static str, Op)>,
    pub bound: Op,
}

/// The operations of a projected attention's forward.
pub struct Projected {
    pub input_shape: Op,
    pub hidden_shape: Op,
    pub q: Projection,
    pub k: Projection,
    pub v: Projection,
    /// Per-head norms applied after all three projections (Gemma 3).
    pub head_norms: Option<HeadNorms>,
    /// `sliding_window=getattr(self.config, "sliding_window", None)` among the interface
    /// call's arguments, an operation of its own (Mistral).
    pub window: Option<Op>,
    pub rotary: Op,
    pub cache_update: Op,
    pub interface: Interface,
    pub tail: Tail,
}

/// `query_states = self.q_norm(query_states)`, then the same for keys: each norm's child,
/// its call and the assignment.
pub struct HeadNorms {
    pub q: (&'static str, Op, Op),
    pub k: (&'static str, Op, Op),
}

/// `XAttention.forward(hidden_states, position_embeddings, attention_mask, cache, **kwargs)`
/// in its projected form: returns `(attn_output, attn_weights)`.
pub fn projected(f: &mut Fwd<'_>, id: ModuleId, ops: &Projected, spec: &Spec, c: &CallArgs) -> PyResult<Value> {
    let name = f.envoy(id);
    let x = c.get(Some(0), "hidden_states");
    let xt = out_tensor(&x, &name)?;
    let pe = c.get(Some(1), "position_embeddings");
    let mask = match c.get(Some(2), "attention_mask") {
        v @ Value::Tensor(_) => v,
        _ => Value::None,
    };
    let cache_v = c.get(Some(3), "cache");
    let rest = rest_kwargs(c, &["hidden_states", "position_embeddings", "attention_mask", "cache"])?;
    let mut input_shape = xt.size();
    input_shape.pop();
    let input_shape_v = f.bind(id, ops.input_shape, Value::Size(std::rc::Rc::new(input_shape.clone())))?;
    let input_shape: Vec<i64> = match &input_shape_v {
        Value::Size(s) => s.to_vec(),
        _ => input_shape,
    };
    let mut hidden_shape: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
    hidden_shape.extend([Value::Int(-1), Value::Int(spec.head_dim)]);
    let hidden_shape = f.bind(id, ops.hidden_shape, Value::tuple(hidden_shape))?;
    let call = |f: &mut Fwd<'_>, p: &Projection| -> PyResult<Value> {
        let out = f.call_op(id, p.call, p.child, x.clone())?;
        let Some(w) = &p.whole else { return Ok(out) };
        let out = match w.norm {
            Some((child, op)) => f.call_op(id, op, child, out)?,
            None => out,
        };
        f.bind(id, w.bound, out)
    };
    let heads = |f: &mut Fwd<'_>, p: &Projection, out: Value| -> PyResult<Value> {
        let mut out = view(f, id, p.view, &out, hidden_shape.clone())?;
        if let Some((child, op)) = p.norm {
            out = f.call_op(id, op, child, out)?;
        }
        let out = transpose(f, id, p.transpose, &out)?;
        f.bind(id, p.bound, out)
    };
    let (q, k, v) = if ops.q.whole.is_some() {
        let (q, k, v) = (call(f, &ops.q)?, call(f, &ops.k)?, call(f, &ops.v)?);
        (heads(f, &ops.q, q)?, heads(f, &ops.k, k)?, heads(f, &ops.v, v)?)
    } else {
        let q = call(f, &ops.q)?;
        let q = heads(f, &ops.q, q)?;
        let k = call(f, &ops.k)?;
        let k = heads(f, &ops.k, k)?;
        let v = call(f, &ops.v)?;
        (q, k, heads(f, &ops.v, v)?)
    };
    let (q, k) = match &ops.head_norms {
        Some(HeadNorms { q: (qc, qn, qb), k: (kc, kn, kb) }) => {
            let q = f.call_op(id, *qn, qc, q)?;
            let q = f.bind(id, *qb, q)?;
            let k = f.call_op(id, *kn, kc, k)?;
            (q, f.bind(id, *kb, k)?)
        }
        None => (q, k),
    };
    let (q, k) = rotate(f, id, ops.rotary, q, k, &pe, false)?;
    let (k, v) = match cache_of(&cache_v) {
        Some(cache) => cache_update(f, id, ops.cache_update, cache, spec.layer, (k, v), Some(&rest))?,
        None => (k, v),
    };
    let (out, weights) = match ops.window {
        Some(op) => {
            lookup(f, id, &ops.interface, spec.kernel)?;
            let spec = getattr_window(f, id, op, spec)?;
            call_interface(f, id, &ops.interface, &spec, [q, k, v], mask, &rest)?
        }
        None => interface(f, id, &ops.interface, spec, [q, k, v], mask, &rest)?,
    };
    let mut dims: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
    dims.push(Value::Int(-1));
    let out = tail(f, id, &ops.tail, out, dims)?;
    Ok(Value::tuple(vec![out, weights]))
}
