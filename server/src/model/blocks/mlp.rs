//! MLP forwards: the sequential form (`x = self.c_fc(x); x = self.act(x); …`, GPT-2 and
//! GPT-NeoX), each call and each assignment an operation, and the gated form
//! (`down_proj(act_fn(gate_proj(x)) * up_proj(x))`: Llama, Qwen, Gemma), and Phi-3's fused
//! `gate_up_proj` chunked into gate and up.

use super::super::forward::{CallArgs, Fwd, out_tensor, tv, unpack};
use super::super::ops::Op;
use super::super::tree::ModuleId;
use crate::value::{PyErr, PyResult, Value};

/// One step of a sequential MLP: the call operation, the assignment operation, the child.
pub type Step = (Op, Op, &'static str);

/// `hidden_states = self.<child>(hidden_states)` for each step, from argument `arg`.
pub fn sequential(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs, arg: &str, steps: &[Step]) -> PyResult<Value> {
    let mut x = c.get(Some(0), arg);
    for &(call, bound, child) in steps {
        x = f.call_op(id, call, child, x)?;
        x = f.bind(id, bound, x)?;
    }
    Ok(x)
}

/// The operations of a gated MLP's one line.
pub struct Gated {
    pub gate: Op,
    pub act: Op,
    pub up: Op,
    pub down: Op,
    /// `down_proj = …`.
    pub bound: Op,
}

/// `down_proj = self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))`.
pub fn gated(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs, ops: &Gated) -> PyResult<Value> {
    let name = f.envoy(id);
    let x = c.get(Some(0), "x");
    let g = f.call_op(id, ops.gate, "gate_proj", x.clone())?;
    let g = f.call_op(id, ops.act, "act_fn", g)?;
    let u = f.call_op(id, ops.up, "up_proj", x)?;
    let gu = out_tensor(&g, &name)?.f_mul(&out_tensor(&u, &name)?)?;
    let d = f.call_op(id, ops.down, "down_proj", tv(gu))?;
    f.bind(id, ops.bound, d)
}

/// The operations of Phi-3's fused gated MLP.
pub struct FusedGated {
    pub child: &'static str,
    pub call: Op,
    /// `up_states = self.gate_up_proj(hidden_states)`.
    pub bound: Op,
    pub chunk: Op,
    pub act_child: &'static str,
    pub act: Op,
    /// `up_states = up_states * self.activation_fn(gate)`.
    pub gated: Op,
    pub down: Op,
}

/// `up_states = self.gate_up_proj(x); gate, up_states = up_states.chunk(2, dim=-1);
/// up_states = up_states * self.activation_fn(gate); return self.down_proj(up_states)`.
pub fn fused_gated(f: &mut Fwd<'_>, id: ModuleId, c: &CallArgs, ops: &FusedGated) -> PyResult<Value> {
    let name = f.envoy(id);
    let x = c.get(Some(0), "hidden_states");
    let up = f.call_op(id, ops.call, ops.child, x)?;
    let up = f.bind(id, ops.bound, up)?;
    let parts = super::attention::chunk(f, id, ops.chunk, &up, 2, -1)?;
    let [gate, up] = <[Value; 2]>::try_from(unpack(&parts, 2)?).map_err(|_| PyErr::internal("unpack"))?;
    let g = f.call_op(id, ops.act, ops.act_child, gate)?;
    let gu = out_tensor(&up, &name)?.f_mul(&out_tensor(&g, &name)?)?;
    let gu = f.bind(id, ops.gated, tv(gu))?;
    f.call_op(id, ops.down, "down_proj", gu)
}
