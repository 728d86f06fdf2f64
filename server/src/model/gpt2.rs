//! GPT-2 (`GPT2LMHeadModel`) with transformers 5.24's module tree and call structure
//! (semantics.md §9.1): blocks return a tensor, attention returns `(out, None)`, the root
//! returns a `CausalLMOutputWithCrossAttentions`. Ops follow `modeling_gpt2.py`, the SDPA
//! integration and `Conv1D` exactly (same ATen kernels), so numbers equal HF PyTorch's.

use std::collections::HashMap;

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use super::{
    Act, Call, CausalLm, ForwardError, Hooks, Record, arg_tensor, hooked, hooked_unary,
    output_tensor,
};

/// The fields of GPT-2's `config.json` this implementation reads (HF defaults).
#[derive(Debug, Deserialize)]
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
    pub add_cross_attention: bool,
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

struct Norm {
    w: Tensor,
    b: Tensor,
    eps: f64,
}

impl Norm {
    fn apply(&self, x: &Tensor) -> Result<Tensor, tch::TchError> {
        let n = x.size().last().copied().unwrap_or(0);
        x.f_layer_norm([n], Some(&self.w), Some(&self.b), self.eps, true)
    }
}

/// HF `Conv1D`: `addmm(bias, x.view(-1, nx), weight)` with weight `[nx, nf]`.
struct Conv1d {
    w: Tensor,
    b: Tensor,
}

impl Conv1d {
    fn apply(&self, x: &Tensor) -> Result<Tensor, tch::TchError> {
        let mut size = x.size();
        let nx = size.pop().unwrap_or(0);
        size.push(self.w.size()[1]);
        self.b
            .f_addmm(&x.f_view([-1, nx])?, &self.w)?
            .f_view(size.as_slice())
    }
}

struct BlockPaths {
    block: String,
    ln_1: String,
    attn: String,
    c_attn: String,
    attn_proj: String,
    resid_dropout: String,
    ln_2: String,
    mlp: String,
    c_fc: String,
    act: String,
    mlp_proj: String,
    mlp_dropout: String,
}

struct Block {
    p: BlockPaths,
    ln_1: Norm,
    c_attn: Conv1d,
    attn_proj: Conv1d,
    ln_2: Norm,
    c_fc: Conv1d,
    mlp_proj: Conv1d,
    scaling: f64,
}

pub struct Gpt2 {
    n_embd: i64,
    n_head: i64,
    wte: Tensor,
    wpe: Tensor,
    blocks: Vec<Block>,
    ln_f: Norm,
    lm_head: Tensor,
    paths: Vec<String>,
    device: Device,
    config_json: String,
    n_params: i64,
}

/// Looks a weight up under its HF name, with or without the `transformer.` prefix
/// (openai-community/gpt2's own checkpoint stores `h.0.attn.c_attn.weight`).
struct Weights(HashMap<String, Tensor>);

impl Weights {
    fn get(&self, name: &str) -> anyhow::Result<Tensor> {
        let short = name.strip_prefix("transformer.").unwrap_or(name);
        self.0
            .get(name)
            .or_else(|| self.0.get(short))
            .map(Tensor::shallow_clone)
            .ok_or_else(|| anyhow::anyhow!("checkpoint has no tensor '{name}'"))
    }
    fn norm(&self, prefix: &str, eps: f64) -> anyhow::Result<Norm> {
        Ok(Norm {
            w: self.get(&format!("{prefix}.weight"))?,
            b: self.get(&format!("{prefix}.bias"))?,
            eps,
        })
    }
    fn conv(&self, prefix: &str) -> anyhow::Result<Conv1d> {
        Ok(Conv1d {
            w: self.get(&format!("{prefix}.weight"))?,
            b: self.get(&format!("{prefix}.bias"))?,
        })
    }
}

impl Gpt2 {
    pub fn load(
        config_json: &str,
        tensors: HashMap<String, Tensor>,
        device: Device,
    ) -> anyhow::Result<Gpt2> {
        let cfg: Gpt2Config = serde_json::from_str(config_json)?;
        anyhow::ensure!(
            cfg.activation_function == "gelu_new",
            "activation_function '{}' is not supported (only gelu_new)",
            cfg.activation_function
        );
        anyhow::ensure!(
            !cfg.add_cross_attention,
            "GPT-2 with cross-attention is not supported"
        );
        anyhow::ensure!(
            cfg.n_embd % cfg.n_head == 0,
            "n_embd must be divisible by n_head"
        );
        let _ = cfg.n_inner; // the MLP width comes from the checkpoint's c_fc shape
        let n_params = tensors.values().map(Tensor::numel).sum::<usize>() as i64;
        let w = Weights(tensors);
        let head_dim = (cfg.n_embd / cfg.n_head) as f64;
        let mut paths: Vec<String> = [
            "",
            "transformer",
            "transformer.wte",
            "transformer.wpe",
            "transformer.drop",
            "transformer.h",
        ]
        .map(String::from)
        .to_vec();
        let mut blocks = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let b = format!("transformer.h.{i}");
            let p = BlockPaths {
                ln_1: format!("{b}.ln_1"),
                attn: format!("{b}.attn"),
                c_attn: format!("{b}.attn.c_attn"),
                attn_proj: format!("{b}.attn.c_proj"),
                resid_dropout: format!("{b}.attn.resid_dropout"),
                ln_2: format!("{b}.ln_2"),
                mlp: format!("{b}.mlp"),
                c_fc: format!("{b}.mlp.c_fc"),
                act: format!("{b}.mlp.act"),
                mlp_proj: format!("{b}.mlp.c_proj"),
                mlp_dropout: format!("{b}.mlp.dropout"),
                block: b.clone(),
            };
            // named_modules() order of GPT2Block; attn_dropout exists but is never called.
            paths.extend([
                p.block.clone(),
                p.ln_1.clone(),
                p.attn.clone(),
                p.c_attn.clone(),
                p.attn_proj.clone(),
                format!("{b}.attn.attn_dropout"),
                p.resid_dropout.clone(),
                p.ln_2.clone(),
                p.mlp.clone(),
                p.c_fc.clone(),
                p.mlp_proj.clone(),
                p.act.clone(),
                p.mlp_dropout.clone(),
            ]);
            let mut scaling = if cfg.scale_attn_weights {
                head_dim.powf(-0.5)
            } else {
                1.0
            };
            if cfg.scale_attn_by_inverse_layer_idx {
                scaling /= (i + 1) as f64;
            }
            blocks.push(Block {
                ln_1: w.norm(&format!("{b}.ln_1"), cfg.layer_norm_epsilon)?,
                c_attn: w.conv(&p.c_attn)?,
                attn_proj: w.conv(&p.attn_proj)?,
                ln_2: w.norm(&format!("{b}.ln_2"), cfg.layer_norm_epsilon)?,
                c_fc: w.conv(&p.c_fc)?,
                mlp_proj: w.conv(&p.mlp_proj)?,
                scaling,
                p,
            });
        }
        paths.extend(["transformer.ln_f", "lm_head"].map(String::from));
        let wte = w.get("transformer.wte.weight")?;
        anyhow::ensure!(
            wte.size() == [cfg.vocab_size, cfg.n_embd],
            "transformer.wte.weight has shape {:?}, config.json says [{}, {}]",
            wte.size(),
            cfg.vocab_size,
            cfg.n_embd
        );
        // Tied by default (GPT2LMHeadModel._tied_weights_keys).
        let lm_head = w
            .get("lm_head.weight")
            .unwrap_or_else(|_| wte.shallow_clone());
        Ok(Gpt2 {
            n_embd: cfg.n_embd,
            n_head: cfg.n_head,
            wpe: w.get("transformer.wpe.weight")?,
            ln_f: w.norm("transformer.ln_f", cfg.layer_norm_epsilon)?,
            wte,
            lm_head,
            blocks,
            paths,
            device,
            config_json: config_json.to_string(),
            n_params,
        })
    }

    fn transformer(&self, h: &mut dyn Hooks, call: Call) -> Result<Act, ForwardError> {
        let input_ids = arg_tensor(&call, "transformer")?;
        let attention_mask = kwarg_tensor(&call, "attention_mask");
        let position_ids = kwarg_tensor(&call, "position_ids");
        let (batch, seq) = match input_ids.size().as_slice() {
            [b, s] => (*b, *s),
            other => {
                return Err(ForwardError::Type(format!(
                    "input_ids must be [batch, seq], got {other:?}"
                )));
            }
        };
        let embeds = hooked_unary(h, "transformer.wte", &input_ids, |x| {
            Tensor::f_embedding(&self.wte, x, -1, false, false)
        })?;
        let position_ids = match position_ids {
            Some(p) => p,
            None => Tensor::f_arange(seq, (Kind::Int64, self.device))?.f_unsqueeze(0)?,
        };
        let pos = hooked_unary(h, "transformer.wpe", &position_ids, |x| {
            Tensor::f_embedding(&self.wpe, x, -1, false, false)
        })?;
        let hidden = embeds.f_add(&pos)?;
        let mask = causal_mask(attention_mask.as_ref(), batch, seq)?;
        let mut hidden = hooked_unary(h, "transformer.drop", &hidden, |x| Ok(x.shallow_clone()))?;
        for block in &self.blocks {
            let call = Call {
                args: vec![
                    Act::Tensor(hidden),
                    Act::Opaque("DynamicCache"),
                    mask.as_ref()
                        .map_or(Act::None, |m| Act::Tensor(m.shallow_clone())),
                    Act::None,
                ],
                kwargs: vec![
                    ("encoder_attention_mask".into(), Act::None),
                    ("use_cache".into(), Act::Bool(true)),
                    (
                        "position_ids".into(),
                        Act::Tensor(position_ids.shallow_clone()),
                    ),
                ],
            };
            let out = hooked(h, &block.p.block, call, |h, call| {
                self.block(block, h, call)
            })?;
            hidden = output_tensor(out, &block.p.block)?;
        }
        let hidden = hooked_unary(h, "transformer.ln_f", &hidden, |x| self.ln_f.apply(x))?;
        Ok(Act::Record(Record {
            module: "transformers.modeling_outputs",
            class: "BaseModelOutputWithPastAndCrossAttentions",
            fields: vec![
                ("last_hidden_state", Act::Tensor(hidden)),
                ("cache", Act::Opaque("DynamicCache")),
            ],
        }))
    }

    fn block(&self, b: &Block, h: &mut dyn Hooks, call: Call) -> Result<Act, ForwardError> {
        let hidden = arg_tensor(&call, &b.p.block)?;
        let mask = match call.args.get(2) {
            Some(Act::Tensor(m)) => Act::Tensor(m.shallow_clone()),
            _ => Act::None,
        };
        let position_ids = call.kwarg("position_ids").map_or(Act::None, Act::share);
        let x = hooked_unary(h, &b.p.ln_1, &hidden, |x| b.ln_1.apply(x))?;
        let attn_call = Call {
            args: vec![Act::Tensor(x)],
            kwargs: vec![
                ("cache".into(), Act::Opaque("DynamicCache")),
                ("attention_mask".into(), mask),
                ("use_cache".into(), Act::Bool(true)),
                ("position_ids".into(), position_ids),
            ],
        };
        let attn = hooked(h, &b.p.attn, attn_call, |h, call| {
            self.attention(b, h, call)
        })?;
        let attn_out = match attn {
            Act::Tuple(mut items) if !items.is_empty() => {
                output_tensor(items.swap_remove(0), &b.p.attn)?
            }
            other => output_tensor(other, &b.p.attn)?,
        };
        let hidden = attn_out.f_add(&hidden)?;
        let x = hooked_unary(h, &b.p.ln_2, &hidden, |x| b.ln_2.apply(x))?;
        let mlp = hooked(
            h,
            &b.p.mlp,
            Call::positional(vec![Act::Tensor(x)]),
            |h, call| {
                let x = arg_tensor(&call, &b.p.mlp)?;
                let x = hooked_unary(h, &b.p.c_fc, &x, |x| b.c_fc.apply(x))?;
                let x = hooked_unary(h, &b.p.act, &x, gelu_new)?;
                let x = hooked_unary(h, &b.p.mlp_proj, &x, |x| b.mlp_proj.apply(x))?;
                let x = hooked_unary(h, &b.p.mlp_dropout, &x, |x| Ok(x.shallow_clone()))?;
                Ok(Act::Tensor(x))
            },
        )?;
        let ff = output_tensor(mlp, &b.p.mlp)?;
        Ok(Act::Tensor(hidden.f_add(&ff)?))
    }

    fn attention(&self, b: &Block, h: &mut dyn Hooks, call: Call) -> Result<Act, ForwardError> {
        let x = arg_tensor(&call, &b.p.attn)?;
        let mask = kwarg_tensor(&call, "attention_mask");
        let qkv = hooked_unary(h, &b.p.c_attn, &x, |x| b.c_attn.apply(x))?;
        let parts = qkv.f_split(self.n_embd, 2)?;
        let [q, k, v] = <[Tensor; 3]>::try_from(parts)
            .map_err(|_| ForwardError::Type("c_attn output must split into q, k, v".into()))?;
        let head_dim = self.n_embd / self.n_head;
        let heads = |t: &Tensor| -> Result<Tensor, tch::TchError> {
            let mut shape = t.size();
            shape.pop();
            shape.extend([-1, head_dim]);
            t.f_view(shape.as_slice())?.f_transpose(1, 2)
        };
        let (q, k, v) = (heads(&q)?, heads(&k)?, heads(&v)?);
        // transformers' sdpa_attention_forward: causal flag only without an explicit mask.
        let is_causal = q.size()[2] > 1 && mask.is_none();
        let out = Tensor::f_scaled_dot_product_attention(
            &q,
            &k,
            &v,
            mask.as_ref(),
            0.0,
            is_causal,
            Some(b.scaling),
            false,
        )?;
        let out = out.f_transpose(1, 2)?.f_contiguous()?;
        let mut shape = out.size();
        shape.truncate(shape.len().saturating_sub(2));
        shape.push(-1);
        let out = out.f_reshape(shape.as_slice())?.f_contiguous()?;
        let out = hooked_unary(h, &b.p.attn_proj, &out, |x| b.attn_proj.apply(x))?;
        let out = hooked_unary(h, &b.p.resid_dropout, &out, |x| Ok(x.shallow_clone()))?;
        Ok(Act::Tuple(vec![Act::Tensor(out), Act::None]))
    }
}

// SAFETY: the weights are only ever read (no module exposes them to user code and forwards
// never write them), and libtorch reads of one tensor from several threads are safe.
unsafe impl Sync for Gpt2 {}

impl CausalLm for Gpt2 {
    fn module_paths(&self) -> &[String] {
        &self.paths
    }

    fn forward(&self, inputs: Call, hooks: &mut dyn Hooks) -> Result<Act, ForwardError> {
        hooked(hooks, "", inputs, |h, call| {
            let input_ids = kwarg_tensor(&call, "input_ids")
                .or_else(|| match call.args.first() {
                    Some(Act::Tensor(t)) => Some(t.shallow_clone()),
                    _ => None,
                })
                .ok_or_else(|| {
                    ForwardError::Type("the model was called without input_ids".into())
                })?;
            let mut kwargs = vec![("cache".to_string(), Act::None)];
            kwargs.push(("attention_mask".into(), kwarg_act(&call, "attention_mask")));
            kwargs.push(("token_type_ids".into(), Act::None));
            kwargs.push(("position_ids".into(), kwarg_act(&call, "position_ids")));
            for name in [
                "inputs_embeds",
                "encoder_hidden_states",
                "encoder_attention_mask",
                "use_cache",
            ] {
                kwargs.push((name.into(), Act::None));
            }
            let call = Call {
                args: vec![Act::Tensor(input_ids)],
                kwargs,
            };
            let out = hooked(h, "transformer", call, |h, call| self.transformer(h, call))?;
            let last = match &out {
                Act::Record(r) => match r.get("last_hidden_state") {
                    Some(Act::Tensor(t)) => t.shallow_clone(),
                    _ => {
                        return Err(ForwardError::Type(
                            "transformer output has no last_hidden_state tensor".into(),
                        ));
                    }
                },
                Act::Tensor(t) => t.shallow_clone(),
                other => {
                    return Err(ForwardError::Type(format!(
                        "unexpected transformer output {}",
                        other.type_name()
                    )));
                }
            };
            let logits = hooked_unary(h, "lm_head", &last, |x| {
                x.f_linear(&self.lm_head, None::<&Tensor>)
            })?;
            Ok(Act::Record(Record {
                module: "transformers.modeling_outputs",
                class: "CausalLMOutputWithCrossAttentions",
                fields: vec![
                    ("logits", Act::Tensor(logits)),
                    ("cache", Act::Opaque("DynamicCache")),
                ],
            }))
        })
    }

    fn device(&self) -> Device {
        self.device
    }

    fn config_json(&self) -> &str {
        &self.config_json
    }

    fn n_params(&self) -> i64 {
        self.n_params
    }
}

fn kwarg_tensor(call: &Call, name: &str) -> Option<Tensor> {
    match call.kwarg(name) {
        Some(Act::Tensor(t)) => Some(t.shallow_clone()),
        _ => None,
    }
}

fn kwarg_act(call: &Call, name: &str) -> Act {
    call.kwarg(name).map_or(Act::None, Act::share)
}

/// `NewGELUActivation`, op for op.
fn gelu_new(x: &Tensor) -> Result<Tensor, tch::TchError> {
    let c = (2.0f64 / std::f64::consts::PI).sqrt();
    let inner = x
        .f_add(&x.f_pow_tensor_scalar(3.0)?.f_mul_scalar(0.044715)?)?
        .f_mul_scalar(c)?;
    x.f_mul_scalar(0.5)?
        .f_mul(&inner.f_tanh()?.f_add_scalar(1.0)?)
}

/// The SDPA mask transformers builds: `None` without padding (the kernel's causal flag is
/// used), else a boolean `[B, 1, S, S]` mask, causal and hiding padded keys.
fn causal_mask(
    attention_mask: Option<&Tensor>,
    batch: i64,
    seq: i64,
) -> Result<Option<Tensor>, tch::TchError> {
    let Some(mask) = attention_mask else {
        return Ok(None);
    };
    if mask.f_eq(1)?.f_all()?.int64_value(&[]) == 1 {
        return Ok(None);
    }
    let device = mask.device();
    let causal = Tensor::f_ones([seq, seq], (Kind::Bool, device))?.f_tril(0)?;
    let keys = mask.f_to_kind(Kind::Bool)?.f_view([batch, 1, 1, seq])?;
    Ok(Some(causal.f_view([1, 1, seq, seq])?.f_logical_and(&keys)?))
}
