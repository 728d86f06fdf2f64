//! The one place hooks fire: [`Fwd::call`] runs a module as nnsight's controller does —
//! input hook (which may replace the call's arguments), skip gate, the module's own
//! forward (children called through `call` again), output hook (which may replace the
//! result) — so event order is `M.input → children → M.output` (docs/semantics.md §1.4).

use std::rc::Rc;

use super::tree::{Kind, ModuleId};
use super::{Arch, Model, gpt2, llama};
use crate::value::{Dict, PyErr, PyResult, Value};

/// The interleaver's side of every module call.
pub trait Hooks {
    /// `(args, kwargs)` before the module runs; returns what it runs with.
    fn input(&mut self, id: ModuleId, inputs: Value) -> PyResult<Value>;
    /// A replacement for the module's output (`.skip(v)`), if a worker asked for one.
    fn skip(&mut self, id: ModuleId) -> PyResult<Option<Value>>;
    /// The module's result; returns what flows on.
    fn output(&mut self, id: ModuleId, out: Value) -> PyResult<Value>;
}

/// Runs modules without events (module calls from user code, docs/semantics.md §7.1).
pub struct NoHooks;

impl Hooks for NoHooks {
    fn input(&mut self, _: ModuleId, inputs: Value) -> PyResult<Value> {
        Ok(inputs)
    }
    fn skip(&mut self, _: ModuleId) -> PyResult<Option<Value>> {
        Ok(None)
    }
    fn output(&mut self, _: ModuleId, out: Value) -> PyResult<Value> {
        Ok(out)
    }
}

/// A module call's arguments after the input hook.
pub struct CallArgs {
    pub args: Rc<crate::value::drop::Items>,
    pub kwargs: Rc<Dict>,
}

impl CallArgs {
    /// The argument at `pos` (if passed positionally), else the keyword `name`.
    pub fn get(&self, pos: Option<usize>, name: &str) -> Value {
        if let Some(p) = pos
            && let Some(v) = self.args.get(p)
        {
            return v.clone();
        }
        self.kwargs.get_str(name).unwrap_or(Value::None)
    }

    pub fn tensor(&self, pos: Option<usize>, name: &str, module: &str) -> PyResult<tch::Tensor> {
        match self.get(pos, name) {
            Value::Tensor(t) => Ok(t.t.shallow_clone()),
            other => Err(PyErr::type_error(format!(
                "{module}: argument '{name}' must be a Tensor, got {}",
                other.type_name()
            ))),
        }
    }

    pub fn opt_tensor(&self, pos: Option<usize>, name: &str) -> Option<tch::Tensor> {
        match self.get(pos, name) {
            Value::Tensor(t) => Some(t.t.shallow_clone()),
            _ => None,
        }
    }
}

pub struct Fwd<'a> {
    pub m: &'a Model,
    pub hooks: &'a mut dyn Hooks,
}

/// `(args, kwargs)` as the value hooks see.
pub fn inputs_value(args: Vec<Value>, kwargs: Vec<(&str, Value)>) -> PyResult<Value> {
    let d = Dict::new();
    for (k, v) in kwargs {
        d.insert(Value::str(k), v)?;
    }
    Ok(Value::tuple(vec![Value::tuple(args), Value::Dict(d)]))
}

fn split_inputs(v: &Value, module: &str) -> PyResult<CallArgs> {
    if let Value::Tuple(pair) = v
        && let [Value::Tuple(args), Value::Dict(kwargs)] = pair.as_slice()
    {
        return Ok(CallArgs {
            args: args.clone(),
            kwargs: kwargs.clone(),
        });
    }
    Err(PyErr::type_error(format!(
        "the inputs of '{module}' must be an (args, kwargs) pair"
    )))
}

impl Fwd<'_> {
    /// Calls module `id` with hooks: input → skip gate → forward → output.
    pub fn call(&mut self, id: ModuleId, args: Vec<Value>, kwargs: Vec<(&str, Value)>) -> PyResult<Value> {
        crate::value::ctx::check()?;
        let inputs = inputs_value(args, kwargs)?;
        self.call_value(id, inputs)
    }

    /// Like [`Fwd::call`] with the `(args, kwargs)` pair already built.
    pub fn call_value(&mut self, id: ModuleId, inputs: Value) -> PyResult<Value> {
        let inputs = self.hooks.input(id, inputs)?;
        let call = split_inputs(&inputs, &self.m.tree().node(id).envoy)?;
        let out = match self.hooks.skip(id)? {
            Some(v) => v,
            None => self.run(id, &call)?,
        };
        self.hooks.output(id, out)
    }

    /// The module's own forward.
    fn run(&mut self, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
        let kind = self.m.tree().node(id).kind.clone();
        match (&self.m.structure.arch, kind) {
            (_, Kind::Dropout) => Ok(c.get(Some(0), "input")),
            // nnsight's pass-through wrappers (`model.generator`, its `streamer`).
            (_, Kind::Generator | Kind::Streamer) => Ok(match c.args.len() {
                1 => c.args[0].clone(),
                _ => Value::tuple(c.args.to_vec()),
            }),
            (_, Kind::ModuleList) | (_, Kind::Unused) => Err(PyErr::new(
                &crate::value::types::NOT_IMPLEMENTED_ERROR,
                format!(
                    "Module [{}] is missing the required \"forward\" function",
                    self.m.tree().node(id).class
                ),
            )),
            (Arch::Gpt2(cfg), kind) => gpt2::run(self, cfg, id, kind, c),
            (Arch::Llama(cfg), kind) => llama::run(self, cfg, id, kind, c),
        }
    }
}

/// A tensor result as a value.
pub fn tv(t: tch::Tensor) -> Value {
    Value::tensor(t)
}

/// A module's (possibly swapped) tensor output.
pub fn out_tensor(v: &Value, module: &str) -> PyResult<tch::Tensor> {
    match v {
        Value::Tensor(t) => Ok(t.t.shallow_clone()),
        other => Err(PyErr::type_error(format!(
            "the output of '{module}' must be a Tensor, got {}",
            other.type_name()
        ))),
    }
}
