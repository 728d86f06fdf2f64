//! The one place hooks fire: [`Fwd::call`] runs a module as nnsight's controller does —
//! input hook (which may replace the call's arguments), skip gate, the module's own
//! forward (children called through `call` again), output hook (which may replace the
//! result) — so event order is `M.input → children → M.output` (docs/semantics.md §1.4).

use std::rc::Rc;

use super::ops::Op;
use super::tree::{Kind, ModuleId};
use super::Model;
use crate::value::{Dict, PyErr, PyResult, Value};

/// The interleaver's side of every module call.
pub trait Hooks {
    /// `(args, kwargs)` before the module runs; returns what it runs with.
    fn input(&mut self, id: ModuleId, inputs: Value) -> PyResult<Value>;
    /// A replacement for the module's output (`.skip(v)`), if a worker asked for one.
    fn skip(&mut self, id: ModuleId) -> PyResult<Option<Value>>;
    /// The module's result; returns what flows on.
    fn output(&mut self, id: ModuleId, out: Value) -> PyResult<Value>;

    /// Whether a worker waits on operation `op` of module `id`'s forward (`.source`).
    fn op_waiting(&self, _id: ModuleId, _op: usize) -> bool {
        false
    }
    /// Operation `op`'s `(args, kwargs)`; returns what it runs with.
    fn op_input(&mut self, _id: ModuleId, _op: usize, inputs: Value) -> PyResult<Value> {
        Ok(inputs)
    }
    /// A replacement for operation `op`'s result (`.skip(v)`), if a worker asked for one.
    fn op_skip(&mut self, _id: ModuleId, _op: usize) -> PyResult<Option<Value>> {
        Ok(None)
    }
    /// Operation `op`'s result; returns what flows on.
    fn op_output(&mut self, _id: ModuleId, _op: usize, out: Value) -> PyResult<Value> {
        Ok(out)
    }
    /// Operation `op` ran its input and skip gate with nobody waiting (counted).
    fn op_pass(&mut self, _id: ModuleId, _op: usize) {}
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

    /// Operation `op` of module `id`'s forward, as nnsight's `run_op`: its `(args,
    /// kwargs)` through the input hook, the skip gate, `f` over the (possibly replaced)
    /// arguments, the output hook (docs/semantics.md §7.3). The module's class listing
    /// (`model::source`) numbers it; a class without a listing runs it without hooks.
    pub fn op(
        &mut self,
        id: ModuleId,
        op: Op,
        args: Vec<Value>,
        kwargs: Vec<(&str, Value)>,
        f: impl FnOnce(&mut Fwd<'_>, &CallArgs, &Value) -> PyResult<Value>,
    ) -> PyResult<Value> {
        let node = self.m.tree().node(id);
        let inputs = inputs_value(args, kwargs)?;
        let Some(table) = super::source::table(node.class) else {
            let call = split_inputs(&inputs, op.name)?;
            return f(self, &call, &inputs);
        };
        let Some(index) = table.index(op.name) else {
            return Err(PyErr::internal(format!("{}'s forward performs {}.{}, which {}'s listing lacks", node.envoy, op.class, op.name, node.class)));
        };
        let out = if self.hooks.op_waiting(id, index) {
            let inputs = self.hooks.op_input(id, index, inputs)?;
            let call = split_inputs(&inputs, op.name)?;
            match self.hooks.op_skip(id, index)? {
                Some(v) => v,
                None => f(self, &call, &inputs)?,
            }
        } else {
            self.hooks.op_pass(id, index);
            let call = split_inputs(&inputs, op.name)?;
            f(self, &call, &inputs)?
        };
        self.hooks.op_output(id, index, out)
    }

    /// An assignment nnsight instruments (`x = value` is operation `x_<n>`): the value.
    pub fn bind(&mut self, id: ModuleId, op: Op, v: Value) -> PyResult<Value> {
        self.op(id, op, vec![v], vec![], |_, c, _| Ok(c.get(Some(0), "value")))
    }

    /// A child module called as operation `op` (`self.<child>(arg)`).
    pub fn call_op(&mut self, id: ModuleId, op: Op, child: &str, arg: Value) -> PyResult<Value> {
        let m = self.child(id, child)?;
        self.op(id, op, vec![arg], vec![], |f, _, inputs| f.call_value(m, inputs.clone()))
    }

    /// The child of `id` named `name`.
    pub fn child(&self, id: ModuleId, name: &str) -> PyResult<ModuleId> {
        self.m
            .tree()
            .child(id, name)
            .ok_or_else(|| PyErr::internal(format!("module {} has no child {name}", self.m.tree().node(id).envoy)))
    }

    /// Module `id`'s envoy path (`model.transformer.h.0`), for messages.
    pub fn envoy(&self, id: ModuleId) -> String {
        self.m.tree().node(id).envoy.clone()
    }

    /// The module's own forward: a leaf of the layer library, or a composite module whose
    /// forward the family declares.
    fn run(&mut self, id: ModuleId, c: &CallArgs) -> PyResult<Value> {
        let kind = self.m.tree().node(id).kind.clone();
        match kind {
            Kind::Leaf(leaf) => leaf.run(self, id, c),
            Kind::Block(block) => {
                let structure = self.m.structure.clone();
                structure.family.run(self, id, block, c)
            }
            // nnsight's pass-through wrappers (`model.generator`, its `streamer`).
            Kind::Generator | Kind::Streamer => Ok(match c.args.len() {
                1 => c.args[0].clone(),
                _ => Value::tuple(c.args.to_vec()),
            }),
            Kind::ModuleList | Kind::Unused { .. } => Err(PyErr::new(
                &crate::value::types::NOT_IMPLEMENTED_ERROR,
                format!(
                    "Module [{}] is missing the required \"forward\" function",
                    self.m.tree().node(id).class
                ),
            )),
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

/// A module's first output: the tensor itself, or the first item of its tuple
/// (`attn_output, attn_weights = self.attn(...)`).
pub fn first_output(v: &Value, module: &str) -> PyResult<tch::Tensor> {
    match v {
        Value::Tuple(items) if !items.is_empty() => out_tensor(&items[0], module),
        other => out_tensor(other, module),
    }
}

/// transformers' `output_hidden_states` capture: the input of the first layer, then every
/// layer's output, the last replaced by the final (normed) hidden state.
pub struct HiddenStates {
    record: bool,
    all: Vec<Value>,
}

impl HiddenStates {
    pub fn new(record: bool) -> HiddenStates {
        HiddenStates { record, all: Vec::new() }
    }

    /// Before a layer runs on `hidden`.
    pub fn before(&mut self, hidden: &Value) {
        if self.record && self.all.is_empty() {
            self.all.push(hidden.clone());
        }
    }

    /// After a layer returned `hidden`.
    pub fn after(&mut self, hidden: &Value) {
        if self.record {
            self.all.push(hidden.clone());
        }
    }

    /// The `hidden_states` field: the tuple, or None when not asked for.
    pub fn finish(mut self, normed: &Value) -> Value {
        if !self.record {
            return Value::None;
        }
        if let Some(last) = self.all.last_mut() {
            *last = normed.clone();
        }
        Value::tuple(self.all)
    }
}

/// Python's tuple unpacking of an operation's result (`a, b, c = ...`).
pub fn unpack(v: &Value, n: usize) -> PyResult<Vec<Value>> {
    let items = match v {
        Value::Tuple(t) => t.to_vec(),
        Value::List(l) => l.snapshot().to_vec(),
        other => return Err(PyErr::type_error(format!("cannot unpack non-iterable {} object", other.type_name()))),
    };
    match items.len().cmp(&n) {
        std::cmp::Ordering::Less => Err(PyErr::value_error(format!("not enough values to unpack (expected {n}, got {})", items.len()))),
        std::cmp::Ordering::Greater => Err(PyErr::value_error(format!("too many values to unpack (expected {n})"))),
        std::cmp::Ordering::Equal => Ok(items),
    }
}

/// A shape argument (`view(shape)`, `reshape(*dims)`): ints, or one tuple / `torch.Size` of them.
pub fn shape_arg(c: &CallArgs) -> PyResult<Vec<i64>> {
    let ints = |v: &Value| -> PyResult<Vec<i64>> {
        match v {
            Value::Size(s) => Ok(s.to_vec()),
            Value::Tuple(t) => t.iter().map(|x| x.as_int().ok_or_else(|| PyErr::type_error("a shape must hold ints"))).collect(),
            Value::List(l) => l.snapshot().iter().map(|x| x.as_int().ok_or_else(|| PyErr::type_error("a shape must hold ints"))).collect(),
            other => other.as_int().map(|i| vec![i]).ok_or_else(|| PyErr::type_error(format!("a shape cannot be {}", other.type_name()))),
        }
    };
    match c.args.len() {
        1 => ints(&c.args[0]),
        _ => c.args.iter().map(|x| x.as_int().ok_or_else(|| PyErr::type_error("a shape must hold ints"))).collect(),
    }
}

/// An int argument by position or keyword.
pub fn int_arg(c: &CallArgs, pos: usize, name: &str) -> PyResult<i64> {
    c.get(Some(pos), name)
        .as_int()
        .ok_or_else(|| PyErr::type_error(format!("argument '{name}' must be an int")))
}

/// A tensor argument by position or keyword.
pub fn tensor_arg(c: &CallArgs, pos: usize, name: &str) -> PyResult<tch::Tensor> {
    c.tensor(Some(pos), name, "an operation")
}

/// `(*t.shape[:-drop], *extra)` as the tuple of ints Python builds.
pub fn shape_tuple(t: &tch::Tensor, drop: usize, extra: &[i64]) -> Value {
    let mut s = t.size();
    s.truncate(s.len().saturating_sub(drop));
    s.extend_from_slice(extra);
    Value::tuple(s.into_iter().map(Value::Int).collect())
}

/// What `ALL_ATTENTION_FUNCTIONS.get_interface(...)` returns: transformers' attention
/// function for the kernel, as a value (the forward calls it itself; user code cannot).
pub fn attention_function(kernel: super::layers::attention::Kernel) -> Value {
    let name = match kernel {
        super::layers::attention::Kernel::Sdpa => "sdpa_attention_forward",
        super::layers::attention::Kernel::Eager => "eager_attention_forward",
    };
    crate::value::object::Native::with_aux(
        name,
        None,
        |_, _, _, _| Err(PyErr::unsupported("calling transformers' attention function from intervention code")),
        crate::value::object::Aux::None,
    )
}

/// `key_states, value_states = cache.update(key_states, value_states, self.layer_idx,
/// kwargs=kwargs)` as operation `op` of attention module `id` (GPT-NeoX passes no
/// `kwargs`: `kwargs` `None`).
pub fn cache_update(f: &mut Fwd<'_>, id: ModuleId, op: Op, cache: &super::cache::DynamicCache, layer: usize, kv: (Value, Value), kwargs: Option<&[(String, Value)]>) -> PyResult<(Value, Value)> {
    let mut kw = Vec::new();
    if let Some(kwargs) = kwargs {
        let d = Dict::new();
        for (k, v) in kwargs {
            d.insert(Value::str(k), v.clone())?;
        }
        kw.push(("kwargs", Value::Dict(d)));
    }
    let out = f.op(id, op, vec![kv.0, kv.1, Value::Int(layer as i64)], kw, |_, a, _| {
        let (nk, nv) = cache.update(layer, &tensor_arg(a, 0, "key_states")?, &tensor_arg(a, 1, "value_states")?)?;
        Ok(Value::tuple(vec![tv(nk), tv(nv)]))
    })?;
    let mut kv = unpack(&out, 2)?.into_iter();
    Ok((kv.next().unwrap_or(Value::None), kv.next().unwrap_or(Value::None)))
}

/// The `DynamicCache` a value holds, if it is one.
pub fn cache_of(v: &Value) -> Option<&super::cache::DynamicCache> {
    match v {
        Value::Host(h) => h.as_any().downcast_ref::<super::cache::DynamicCache>(),
        _ => None,
    }
}

/// A module's keyword arguments beyond the ones its forward names (its `**kwargs`).
pub fn rest_kwargs(c: &CallArgs, named: &[&str]) -> PyResult<Vec<(String, Value)>> {
    Ok(c.kwargs
        .items()
        .into_iter()
        .filter_map(|(k, v)| k.as_str().filter(|k| !named.contains(k)).map(|k| (k.to_string(), v)))
        .collect())
}
