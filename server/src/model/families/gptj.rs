//! GPT-J (`GPTJForCausalLM`: EleutherAI/gpt-j-6b) as transformers 5.24 builds it: separate
//! q/k/v projections viewed into heads, interleaved partial rotary (`rotary_dim` channels of
//! each head, rotated pairwise by `rotate_every_two`, from a sinusoid table the rotary module
//! gathers rows of), the attention's own residual dropout, the parallel residual with one
//! shared LayerNorm (`ln_1`), a sequential GELU MLP, an untied head with a bias.

use super::super::blocks::Signature;
use super::super::blocks::attention::{self, Interface, Kw, Spec, Tail};
use super::super::blocks::layer::{LayerDecl, Residual, forward as layer};
use super::super::blocks::mlp;
use super::super::blocks::model::{Arg, HeadDecl, ModelDecl, ModelSpec, Slot, causal_lm, forward as model};
use super::super::config::Config;
use super::super::declare::{Builder, no_aliases};
use super::super::forward::{CallArgs, Fwd, cache_of, cache_update, out_tensor, rest_kwargs, tensor_arg, tv, unpack};
use super::super::layers::attention::Kernel;
use super::super::layers::rotary::apply_interleaved;
use super::super::layers::{Activation, Embedding};
use super::super::ops::{GPTJAttention as A, GPTJMLP as M, Op};
use super::super::tree::{Block, ModuleId};
use super::{Declaration, Family};
use crate::value::{PyErr, PyResult, Value};

pub const DECLARATION: Declaration = Declaration { model_types: &[("gptj", "GPTJConfig")], declare, aliases: no_aliases, replica };

fn replica(real: &serde_json::Value, o: &mut serde_json::Map<String, serde_json::Value>, w: super::super::replica::Widths) -> anyhow::Result<()> {
    o.insert("n_embd".into(), w.hidden.into());
    o.insert("n_head".into(), w.heads.into());
    o.insert("n_inner".into(), w.intermediate.into());
    let rotary = real["rotary_dim"].as_i64().unwrap_or(64).min(w.hidden / w.heads);
    o.insert("rotary_dim".into(), rotary.into());
    Ok(())
}

struct GptJ {
    n_layers: usize,
    head_dim: i64,
    rotary_dim: i64,
    use_cache: bool,
}

fn declare(cfg: &Config, b: &mut Builder) -> anyhow::Result<Box<dyn Family>> {
    let (vocab, hidden, heads) = (cfg.int("vocab_size")?, cfg.int("n_embd")?, cfg.int("n_head")?);
    anyhow::ensure!(hidden % heads == 0, "embed_dim must be divisible by num_attention_heads (got `embed_dim`: {hidden} and `num_attention_heads`: {heads}).");
    let (n_layers, head_dim) = (cfg.int("n_layer")? as usize, hidden / heads);
    let inner = cfg.opt_int("n_inner")?.unwrap_or(4 * hidden);
    let rotary_dim = cfg
        .opt_int("rotary_dim")?
        .ok_or_else(|| anyhow::anyhow!("config.json sets rotary_dim=null (rotary over the whole hidden size), which localndif does not implement for GPT-J"))?;
    anyhow::ensure!(rotary_dim > 0 && rotary_dim % 2 == 0 && rotary_dim <= head_dim, "rotary_dim {rotary_dim} must be even and at most the head size {head_dim}");
    anyhow::ensure!(!cfg.bool_or("tie_word_embeddings", false)?, "config.json sets tie_word_embeddings=true, which localndif does not implement for GPT-J (its head has a bias of its own)");
    let positions = cfg.int_or("n_positions", cfg.int_or("max_position_embeddings", 2048)?)?;
    let act = Activation::from_config("activation_function", cfg.str_or("activation_function", "gelu_new")?)?;
    let (eps, p) = (cfg.float_or("layer_norm_epsilon", 1e-5)?, cfg.float_or("resid_pdrop", 0.0)?);
    let root = b.root("GPTJForCausalLM");
    let m = b.block(root, "transformer", "GPTJModel", Block::Model);
    b.embedding(m, "wte", "Embedding", vocab, hidden, Embedding::plain(None))?;
    b.dropout(m, "drop", cfg.float_or("embd_pdrop", 0.0)?);
    let layers = b.list(m, "h");
    for i in 0..n_layers {
        let l = b.block(layers, &i.to_string(), "GPTJBlock", Block::Layer(i));
        b.layer_norm(l, "ln_1", hidden, eps, true)?;
        let a = b.block(l, "attn", "GPTJAttention", Block::Attention(i));
        for n in ["k_proj", "v_proj", "q_proj", "out_proj"] {
            b.linear(a, n, hidden, hidden, false)?;
        }
        b.dropout(a, "resid_dropout", p);
        let mlp = b.block(l, "mlp", "GPTJMLP", Block::Mlp);
        b.linear(mlp, "fc_in", hidden, inner, true)?;
        b.linear(mlp, "fc_out", inner, hidden, true)?;
        b.act(mlp, "act", act);
        b.dropout(mlp, "dropout", p);
    }
    b.layer_norm(m, "ln_f", hidden, eps, true)?;
    b.sinusoidal(m, "rotary_emb", "GPTJRotaryEmbedding", positions, rotary_dim)?;
    b.linear(root, "lm_head", hidden, vocab, true)?;
    Ok(Box::new(GptJ { n_layers, head_dim, rotary_dim, use_cache: cfg.bool_or("use_cache", true)? }))
}

const HEAD: HeadDecl = HeadDecl {
    signature: Signature(&["input_ids", "cache", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds", "labels", "use_cache", "logits_to_keep"]),
    base: "transformer",
    input_ids_positional: true,
    base_kwargs: &[
        Arg::Pass("cache"),
        Arg::Pass("attention_mask"),
        Arg::Pass("token_type_ids"),
        Arg::Pass("position_ids"),
        Arg::Pass("inputs_embeds"),
        Arg::Pass("use_cache"),
        Arg::IfGiven("output_hidden_states"),
    ],
    require_input_ids: None,
    output: "CausalLMOutputWithPast",
    cross_attentions: false,
};

const MODEL: ModelDecl = ModelDecl {
    signature: Signature(&["input_ids", "cache", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds", "use_cache"]),
    embed: "wte",
    emb_dropout: Some("drop"),
    rotary: "rotary_emb",
    rotary_keyword: true,
    rotary_by_type: false,
    layers: "h",
    layer_kwargs: &[
        ("attention_mask", Slot::Mask),
        ("position_ids", Slot::PositionIds),
        ("cache", Slot::Cache),
        ("use_cache", Slot::UseCache),
        ("position_embeddings", Slot::PositionEmbeddings),
    ],
    norm: "ln_f",
    cache_out_if_use_cache: false,
};

const LAYER: LayerDecl = LayerDecl {
    signature: Signature(&["hidden_states", "attention_mask", "position_ids", "cache", "use_cache", "position_embeddings"]),
    input_norm: Some("ln_1"),
    attn: "attn",
    attn_positional: false,
    attn_kwargs: &["position_embeddings", "attention_mask", "position_ids", "cache", "use_cache"],
    residual: Residual::Parallel,
};

const MLP: &[mlp::Step] = &[
    (M::self_fc_in_0, M::hidden_states_0, "fc_in"),
    (M::self_act_0, M::hidden_states_1, "act"),
    (M::self_fc_out_0, M::hidden_states_2, "fc_out"),
    (M::self_dropout_0, M::hidden_states_3, "dropout"),
];

impl Family for GptJ {
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value> {
        match block {
            Block::CausalLm => causal_lm(f, id, &HEAD, None, c),
            Block::Model => {
                if !MODEL.signature.get(c, "token_type_ids").is_none() {
                    return Err(PyErr::value_error("localndif's GPT-J does not implement token_type_ids (GPTJModel adds their embeddings)"));
                }
                model(f, id, &MODEL, &ModelSpec { use_cache: self.use_cache, windows: &self.windows(), kernel: Kernel::Sdpa }, c)
            }
            Block::Layer(_) => layer(f, id, &LAYER, c),
            Block::Attention(i) => self.attention(f, id, i, c),
            Block::Mlp => mlp::sequential(f, id, c, "hidden_states", MLP),
        }
    }

    fn windows(&self) -> Vec<Option<i64>> {
        vec![None; self.n_layers]
    }
}

impl GptJ {
    /// `GPTJAttention.forward(hidden_states, position_embeddings, attention_mask, cache, **kwargs)`.
    fn attention(&self, f: &mut Fwd<'_>, id: ModuleId, layer: usize, c: &CallArgs) -> PyResult<Value> {
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
        let input_shape = match f.bind(id, A::input_shape_0, Value::Size(std::rc::Rc::new(input_shape.clone())))? {
            Value::Size(s) => s.to_vec(),
            _ => input_shape,
        };
        let mut hidden_shape: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
        hidden_shape.extend([Value::Int(-1), Value::Int(self.head_dim)]);
        let hidden_shape = f.bind(id, A::hidden_shape_0, Value::tuple(hidden_shape))?;
        let project = |f: &mut Fwd<'_>, call: Op, child: &str, view: Op| -> PyResult<Value> {
            let out = f.call_op(id, call, child, x.clone())?;
            attention::view(f, id, view, &out, hidden_shape.clone())
        };
        let q = project(f, A::self_q_proj_0, "q_proj", A::view_0)?;
        let q = f.bind(id, A::query_0, q)?;
        let k = project(f, A::self_k_proj_0, "k_proj", A::view_1)?;
        let k = f.bind(id, A::key_0, k)?;
        let v = project(f, A::self_v_proj_0, "v_proj", A::view_2)?;
        let v = attention::transpose(f, id, A::transpose_0, &v)?;
        let v = f.bind(id, A::value_0, v)?;
        let [sin, cos] = <[Value; 2]>::try_from(unpack(&pe, 2)?).map_err(|_| PyErr::internal("unpack"))?;
        // `x[:, :, :, : self.rotary_dim]` and `x[:, :, :, self.rotary_dim :]`.
        let rd = self.rotary_dim;
        let split = |f: &mut Fwd<'_>, t: &Value, rot: Op, pass: Op| -> PyResult<(Value, Value)> {
            let t = out_tensor(t, &name)?;
            let d = t.size().get(3).copied().unwrap_or(0);
            let r = f.bind(id, rot, tv(t.f_narrow(3, 0, rd.min(d))?))?;
            Ok((r, f.bind(id, pass, tv(t.f_narrow(3, rd.min(d), d - rd.min(d))?))?))
        };
        let (k_rot, k_pass) = split(f, &k, A::k_rot_0, A::k_pass_0)?;
        let (q_rot, q_pass) = split(f, &q, A::q_rot_0, A::q_pass_0)?;
        let rotate = |f: &mut Fwd<'_>, op: Op, bound: Op, t: Value| -> PyResult<Value> {
            let out = f.op(id, op, vec![t, sin.clone(), cos.clone()], vec![], |_, a, _| {
                Ok(tv(apply_interleaved(&tensor_arg(a, 0, "tensor")?, &tensor_arg(a, 1, "sin")?, &tensor_arg(a, 2, "cos")?)?))
            })?;
            f.bind(id, bound, out)
        };
        let k_rot = rotate(f, A::apply_rotary_pos_emb_0, A::k_rot_1, k_rot)?;
        let q_rot = rotate(f, A::apply_rotary_pos_emb_1, A::q_rot_1, q_rot)?;
        let cat = |f: &mut Fwd<'_>, op: Op, bound: Op, parts: [Value; 2]| -> PyResult<Value> {
            let out = f.op(id, op, vec![Value::list(parts.to_vec())], vec![("dim", Value::Int(-1))], |_, a, _| {
                let tensors = unpack(&a.get(Some(0), "tensors"), 2)?.iter().map(|t| out_tensor(t, "torch.cat")).collect::<PyResult<Vec<_>>>()?;
                let dim = a.get(Some(1), "dim").as_int().unwrap_or(0);
                Ok(tv(tch::Tensor::f_cat(&tensors, dim)?))
            })?;
            f.bind(id, bound, out)
        };
        let k = cat(f, A::torch_cat_0, A::key_1, [k_rot, k_pass])?;
        let q = cat(f, A::torch_cat_1, A::query_1, [q_rot, q_pass])?;
        let q = attention::transpose(f, id, A::query_transpose_0, &q)?;
        let q = f.bind(id, A::query_3, q)?;
        let k = attention::transpose(f, id, A::key_transpose_0, &k)?;
        let k = f.bind(id, A::key_3, k)?;
        let (k, v) = match cache_of(&cache_v) {
            Some(cache) => cache_update(f, id, A::cache_update_0, cache, layer, (k, v), Some(&rest))?,
            None => (k, v),
        };
        let spec = Spec { layer, head_dim: self.head_dim, n_rep: 1, scaling: (self.head_dim as f64).powf(-0.5), kernel: Kernel::Sdpa, sliding_window: None, softcap: None, kwargs: &[Kw::Dropout, Kw::Scaling] };
        let iface = Interface { get: A::ALL_ATTENTION_FUNCTIONS_get_interface_0, bound: A::attention_interface_0, call: A::attention_interface_1 };
        let (out, weights) = attention::interface(f, id, &iface, &spec, [q, k, v], mask, &rest)?;
        let mut dims: Vec<Value> = input_shape.iter().map(|&d| Value::Int(d)).collect();
        dims.push(Value::Int(-1));
        let tail = Tail { reshape: A::attn_output_reshape_0, contiguous: A::contiguous_0, bound: A::attn_output_0, out: A::self_out_proj_0, out_bound: A::attn_output_1, out_child: "out_proj" };
        let out = attention::tail(f, id, &tail, out, dims)?;
        let out = f.call_op(id, A::self_resid_dropout_0, "resid_dropout", out)?;
        let out = f.bind(id, A::attn_output_2, out)?;
        Ok(Value::tuple(vec![out, weights]))
    }
}
