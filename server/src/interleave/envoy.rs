//! Envoys: user code's handle on a module of the served model (`model`,
//! `model.transformer.h[0].attn`). Reading `.output` / `.input` / `.inputs` parks the
//! worker until the forward gets there; assigning them swaps the value; `.skip(v)` replaces
//! the module's output; calling an envoy runs the module without events (the logit lens,
//! docs/semantics.md §7.1); children, `len()`, iteration, `.weight`, `model.config`,
//! `model.tokenizer` and the envoy utilities of docs/semantics.md §7.12 come from the module tree.

use std::any::Any;
use std::rc::Rc;
use std::sync::Arc;

use super::interleaver::TreeNames;
use super::loc::{Loc, Site};
use super::worker::{Event, LogSink, WorkerHost};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::host::{HostObj, WithBody};
use crate::interp::frame::Frame;
use crate::model::{Fwd, Model, ModuleId, NoHooks, TextTokenizer};
use crate::value::object::{Aux, Native};
use crate::value::types::ClassRef;
use crate::value::{Dict, PyErr, PyResult, Value, types};

/// What user code can reach of the served model in one job.
pub struct ModelCtx {
    pub model: Model,
    pub tokenizer: Arc<TextTokenizer>,
    pub repo_id: String,
    pub config: serde_json::Value,
    /// `generation_config.json`, for `model.generate(...)`'s defaults.
    pub generation_config: serde_json::Value,
    /// The class nnsight's root envoy has (`LanguageModel`), for messages.
    pub root_class: String,
    /// Module names for requester strings.
    pub names: Rc<TreeNames>,
    /// Where `print` goes, for every body of the job.
    pub log: LogSink,
    /// How the job speaks to its client (`request::Dialect`).
    pub dialect: crate::request::Dialect,
    /// Runs a `session.local()` block on the client (G1 blocking jobs only).
    pub client_runner: Option<super::local::ClientRunner>,
    /// `model.edit()` blocks replayed first in every trace of this model handle.
    pub edits: std::cell::RefCell<Vec<super::tracer::Edit>>,
    /// The names the client's `rename=` gave modules: (envoy, alias) → module.
    pub aliases: std::collections::HashMap<(ModuleId, String), ModuleId>,
    /// The class of the client's model object when it is not nnsight's own: a subclass
    /// of `LanguageModel` the client shipped by value (or the server's stand-in for one
    /// it pickled by reference). The loader sets it when it loads the model object; the
    /// root envoy is then an instance of it for `isinstance` / `type()`, and its class
    /// attributes, methods and properties resolve on the envoy.
    pub root_type: std::cell::RefCell<Option<ClassRef>>,
}

impl ModelCtx {
    /// Another handle on the same model with a copy of this one's edits (nnsight's
    /// `Envoy._shallow_copy`, what `model.edit()` edits by default).
    pub fn fork(&self) -> Rc<ModelCtx> {
        Rc::new(ModelCtx {
            model: Model { structure: self.model.structure.clone(), weights: self.model.weights.handles(), device: self.model.device },
            tokenizer: self.tokenizer.clone(),
            repo_id: self.repo_id.clone(),
            config: self.config.clone(),
            generation_config: self.generation_config.clone(),
            root_class: self.root_class.clone(),
            names: self.names.clone(),
            log: self.log.clone(),
            dialect: self.dialect,
            client_runner: self.client_runner.clone(),
            edits: std::cell::RefCell::new(self.edits.borrow().clone()),
            aliases: self.aliases.clone(),
            root_type: self.root_type.clone(),
        })
    }

    pub fn envoy(self: &Rc<Self>, id: ModuleId) -> Value {
        let e: Rc<dyn HostObj> = Rc::new(Envoy { ctx: self.clone(), id });
        Value::Host(e)
    }
}

pub struct Envoy {
    pub ctx: Rc<ModelCtx>,
    pub id: ModuleId,
}

/// Parks the current worker on `event` at `loc`; outside a worker, nnsight's error.
pub fn request(it: &mut Interp, event: Event, loc: Loc, what: &str) -> PyResult<Value> {
    match it.host.as_any().downcast_mut::<WorkerHost>() {
        Some(w) => w.request(event, loc),
        None => Err(PyErr::value_error(format!("Cannot access `{what}` outside of interleaving"))),
    }
}

/// `.input`: the first positional argument, else the first keyword value (docs/semantics.md §2.2).
pub(super) fn first_input(inputs: &Value) -> PyResult<Value> {
    if let Value::Tuple(pair) = inputs
        && let [Value::Tuple(args), Value::Dict(kwargs)] = pair.as_slice()
    {
        if let Some(a) = args.first() {
            return Ok(a.clone());
        }
        if let Some((_, v)) = kwargs.items().into_iter().next() {
            return Ok(v);
        }
        return Err(PyErr::new(&types::STOP_ITERATION, ""));
    }
    Err(PyErr::type_error("module inputs must be an (args, kwargs) pair"))
}

/// `(args, kwargs)` with the first input replaced (0.8.1's rule, docs/semantics.md §2.3).
pub(super) fn replace_first_input(inputs: &Value, v: Value) -> PyResult<Value> {
    if let Value::Tuple(pair) = inputs
        && let [Value::Tuple(args), Value::Dict(kwargs)] = pair.as_slice()
    {
        if !args.is_empty() {
            let mut a = args.to_vec();
            a[0] = v;
            return Ok(Value::tuple(vec![Value::tuple(a), Value::Dict(kwargs.clone())]));
        }
        let items = kwargs.items();
        let Some((k0, _)) = items.first() else {
            return Err(PyErr::new(&types::STOP_ITERATION, ""));
        };
        let d = Dict::new();
        for (k, x) in items.iter() {
            d.insert(k.clone(), if k.is(k0) { v.clone() } else { x.clone() })?;
        }
        return Ok(Value::tuple(vec![Value::tuple(vec![]), Value::Dict(d)]));
    }
    Err(PyErr::type_error("module inputs must be an (args, kwargs) pair"))
}

impl Envoy {
    fn node(&self) -> &crate::model::tree::Node {
        self.ctx.model.tree().node(self.id)
    }

    fn type_label(&self) -> String {
        if self.id == 0 { self.ctx.root_class.clone() } else { "Envoy".into() }
    }

    /// The user class the root envoy is an instance of, if the client's model was one.
    fn user_class(&self) -> Option<Rc<crate::value::Class>> {
        match &*self.ctx.root_type.borrow() {
            Some(ClassRef::User(c)) if self.id == 0 => Some(c.clone()),
            _ => None,
        }
    }

    fn no_attr(&self, name: &str) -> PyErr {
        PyErr::attribute_error(format!("'{}' object (nor its module) has attribute '{name}'", self.type_label()))
    }

    fn loc_name(&self, site: &str) -> String {
        format!("{}.{site}", self.node().envoy)
    }

    /// The `i`-th child of a ModuleList (negative from the end).
    fn index(&self, i: i64) -> PyResult<Value> {
        let kids = &self.node().children;
        let n = kids.len() as i64;
        let j = if i < 0 { i + n } else { i };
        if !(0..n).contains(&j) || self.node().kind != crate::model::Kind::ModuleList {
            // 0.8.1 looks the child up by name, so a bad index is an AttributeError;
            // 0.7 indexes its list of children.
            return Err(if self.ctx.dialect.envoy_index_is_list_index() {
                PyErr::index_error("list index out of range")
            } else {
                self.no_attr(&i.to_string())
            });
        }
        Ok(self.ctx.envoy(kids[j as usize]))
    }

    /// Runs the module on user values, without events (docs/semantics.md §7.1).
    fn call_module(&self, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        let d = Dict::new();
        for (k, v) in kwargs {
            d.insert(Value::str(&k), v)?;
        }
        let inputs = Value::tuple(vec![Value::tuple(args), Value::Dict(d)]);
        let mut hooks = NoHooks;
        let mut f = Fwd { m: &self.ctx.model, hooks: &mut hooks };
        f.call_value(self.id, inputs)
    }
}

impl HostObj for Envoy {
    fn type_name(&self) -> &str {
        if self.id == 0 { "LanguageModel" } else { "Envoy" }
    }

    fn class(&self) -> Option<ClassRef> {
        if self.id != 0 {
            return Some(ClassRef::Builtin(&types::ENVOY));
        }
        if let Some(c) = &*self.ctx.root_type.borrow() {
            return Some(c.clone());
        }
        let g1 = self.ctx.dialect.nnsight_classes_g1();
        let t = types::nnsight_class("nnsight", &self.ctx.root_class, g1)
            .unwrap_or(if g1 { &types::LANGUAGE_MODEL_G1 } else { &types::LANGUAGE_MODEL });
        Some(ClassRef::Builtin(t))
    }

    fn repr(&self) -> String {
        module_repr(&self.ctx.model, self.id, 0)
    }

    fn getattr(&self, it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        // What the client's own subclass of LanguageModel defines comes first, as its
        // class comes first in the instance's MRO.
        if let Some(c) = self.user_class()
            && let Some(v) = c.lookup(name)
        {
            if let Some(getter) = crate::interp::attr::property_getter(&v) {
                return it.call(&getter, vec![this.clone()], vec![]);
            }
            return Ok(crate::interp::attr::bind_class_attr(v, this, &ClassRef::User(c)));
        }
        let node = self.node();
        match name {
            "output" => return request(it, Event::Value, Loc::module(self.id, Site::Output), &self.loc_name("output")),
            "inputs" => return request(it, Event::Value, Loc::module(self.id, Site::Input), &self.loc_name("input")),
            "input" => {
                let inputs = request(it, Event::Value, Loc::module(self.id, Site::Input), &self.loc_name("input"))?;
                return first_input(&inputs);
            }
            "skip" => {
                return Ok(Native::with_aux("skip", Some(this.clone()), |it, n, args, _| {
                    let Some(Value::Host(h)) = &n.recv else { return Ok(Value::None) };
                    let Some(e) = h.as_any().downcast_ref::<Envoy>() else { return Ok(Value::None) };
                    let v = args.into_iter().next().ok_or_else(|| PyErr::type_error("skip() missing 1 required positional argument: 'replacement'"))?;
                    request(it, Event::Skip(v), Loc::module(e.id, Site::Skip), &e.loc_name("skip"))?;
                    Ok(Value::None)
                }, Aux::None));
            }
            "path" => return Ok(Value::str(&node.envoy)),
            "source" => return super::source::SourceObj::of(&self.ctx, self.id),
            "device" => return Ok(Value::Device(self.ctx.model.device)),
            "dtype" => {
                let k = self.ctx.model.weights.params.iter().flatten().next().map_or(tch::Kind::Float, tch::Tensor::kind);
                return Ok(Value::Dtype(k));
            }
            "_module" => return Ok(this.clone()),
            "config" if self.id == 0 => return Ok(config_value(&self.ctx.config)),
            "tokenizer" if self.id == 0 => {
                let t: Rc<dyn HostObj> = Rc::new(super::tokenizer::TokenizerObj { tok: self.ctx.tokenizer.clone() });
                return Ok(Value::Host(t));
            }
            "clear_edits" if self.id == 0 => {
                return Ok(Native::with_aux(name, Some(this.clone()), |_, n, _, _| {
                    let Some(Value::Host(h)) = &n.recv else { return Ok(Value::None) };
                    if let Some(e) = h.as_any().downcast_ref::<Envoy>() {
                        e.ctx.edits.borrow_mut().clear();
                    }
                    Ok(Value::None)
                }, Aux::None));
            }
            "trace" | "generate" | "session" | "scan" | "edit" if self.id == 0 => {
                return Ok(Native::with_aux(name, Some(this.clone()), |it, n, args, kw| {
                    let Some(Value::Host(h)) = &n.recv else { return Ok(Value::None) };
                    let Some(e) = h.as_any().downcast_ref::<Envoy>() else { return Ok(Value::None) };
                    super::tracer::new_tracer(it, e.ctx.clone(), &n.name, args, kw)
                }, Aux::None));
            }
            "modules" | "named_modules" => {
                // nnsight's Envoy.modules: the subtree children first, then self,
                // optionally filtered by `include_fn`, as (path, envoy) with names.
                return Ok(Native::with_aux(name, Some(this.clone()), |it, n, args, kw| {
                    let Some(Value::Host(h)) = &n.recv else { return Ok(Value::None) };
                    let Some(e) = h.as_any().downcast_ref::<Envoy>() else { return Ok(Value::None) };
                    let mut args = args.into_iter();
                    let mut include = args.next().unwrap_or(Value::None);
                    let mut named = n.name.as_ref() == "named_modules";
                    for (k, v) in kw {
                        match k.as_ref() {
                            "include_fn" => include = v,
                            "names" if !named => named = it.truthy(&v)?,
                            other => return Err(PyErr::type_error(format!("{}() got an unexpected keyword argument '{other}'", n.name))),
                        }
                    }
                    if !named && let Some(v) = args.next() {
                        named = it.truthy(&v)?;
                    }
                    let tree = e.ctx.model.tree();
                    let mut order = Vec::new();
                    fn walk(tree: &crate::model::Tree, id: ModuleId, out: &mut Vec<ModuleId>) {
                        for &c in &tree.node(id).children {
                            walk(tree, c, out);
                        }
                        out.push(id);
                    }
                    walk(tree, e.id, &mut order);
                    let mut out = Vec::new();
                    for id in order {
                        let env = e.ctx.envoy(id);
                        if !include.is_none() {
                            let keep = it.call(&include, vec![env.clone()], vec![])?;
                            if !it.truthy(&keep)? {
                                continue;
                            }
                        }
                        out.push(if named { Value::tuple(vec![Value::str(&tree.node(id).envoy), env]) } else { env });
                    }
                    Ok(Value::list(out))
                }, Aux::None));
            }
            "get" => {
                return Ok(Native::with_aux("get", Some(this.clone()), |_, n, args, _| {
                    let Some(Value::Host(h)) = &n.recv else { return Ok(Value::None) };
                    let Some(e) = h.as_any().downcast_ref::<Envoy>() else { return Ok(Value::None) };
                    let path = args.first().and_then(Value::as_str).unwrap_or("").to_string();
                    let full = if path.is_empty() { "model".to_string() } else if path.starts_with("model.") || path == "model" { path.clone() } else { format!("model.{path}") };
                    e.ctx
                        .model
                        .tree()
                        .by_envoy(&full)
                        .map(|id| e.ctx.envoy(id))
                        .ok_or_else(|| PyErr::attribute_error(format!("'{}' object (nor its module) has attribute '{path}'", e.type_label())))
                }, Aux::None));
            }
            _ => {}
        }
        if let Some(c) = self.ctx.model.tree().child(self.id, name) {
            return Ok(self.ctx.envoy(c));
        }
        if let Some(&c) = self.ctx.aliases.get(&(self.id, name.to_string())) {
            return Ok(self.ctx.envoy(c));
        }
        if let Some(i) = node.params.iter().position(|p| p == name) {
            // A detached alias: metadata changes stay the job's; writes into the storage
            // are refused (value::tensor::check_writable). A job that takes gradients
            // holds its own leaf handles (`Weights::trainable`): those are handed out
            // as they are, so `.grad` reads what `backward()` accumulated.
            let w = self.ctx.model.weights.get(self.id, i);
            if w.requires_grad() {
                return Ok(Value::tensor(w.shallow_clone()));
            }
            return Ok(Value::tensor(w.f_detach()?));
        }
        Err(self.no_attr(name))
    }

    fn setattr(&self, it: &mut Interp, _this: &Value, name: &str, v: Value) -> PyResult<()> {
        match name {
            "output" => request(it, Event::Swap(v), Loc::module(self.id, Site::Output), &self.loc_name("output")).map(drop),
            "inputs" => {
                let ok = matches!(&v, Value::Tuple(p) if p.len() == 2 && matches!(p[1], Value::Dict(_)) && matches!(p[0], Value::Tuple(_)));
                if !ok {
                    return Err(PyErr::type_error("`.inputs` must be set to an (args, kwargs) pair"));
                }
                request(it, Event::Swap(v), Loc::module(self.id, Site::Input), &self.loc_name("input")).map(drop)
            }
            "input" => {
                let loc = Loc::module(self.id, Site::Input);
                let inputs = request(it, Event::Value, loc, &self.loc_name("input"))?;
                let swapped = replace_first_input(&inputs, v)?;
                request(it, Event::Swap(swapped), loc, &self.loc_name("input")).map(drop)
            }
            other if self.node().params.iter().any(|p| p == other) => Err(PyErr::runtime_error(format!(
                "localndif never lets a job replace the served model's weights ('{other}' of {}); use `model.edit()` or work on a copy",
                self.node().envoy
            ))),
            other => Err(PyErr::unsupported(format!("setting the attribute '{other}' of a module"))),
        }
    }

    fn getitem(&self, _it: &mut Interp, _this: &Value, key: &Value) -> PyResult<Value> {
        match key {
            Value::Int(i) => self.index(*i),
            Value::Slice(s) => {
                let n = self.node().children.len();
                let idx = crate::interp::ops::slice_indices(s, n)?;
                Ok(Value::list(idx.into_iter().map(|i| self.ctx.envoy(self.node().children[i])).collect()))
            }
            other => Err(PyErr::type_error(format!(
                "'{}' object is not subscriptable with {}",
                self.type_label(),
                other.type_name()
            ))),
        }
    }

    fn call(&self, _it: &mut Interp, _this: &Value, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Value> {
        if kwargs.iter().any(|(k, _)| k.as_ref() == "hook") {
            return Err(PyErr::unsupported("module calls with hook=True"));
        }
        self.call_module(args, kwargs)
    }

    fn iter(&self, _it: &mut Interp, _this: &Value) -> Option<PyResult<Value>> {
        Some(Ok(crate::interp::iter::PyIter::items(
            self.node().children.iter().map(|&c| self.ctx.envoy(c)).collect(),
            "iterator",
        )))
    }

    fn len(&self) -> Option<usize> {
        (self.node().kind == crate::model::Kind::ModuleList).then(|| self.node().children.len())
    }

    fn with_body(&self, _it: &mut Interp, _this: &Value, _body: WithBody<'_>, _frame: &mut Frame) -> Option<PyResult<()>> {
        None
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `model.config`: the served config.json, readable by attribute and key.
fn config_value(cfg: &serde_json::Value) -> Value {
    let c: Rc<dyn HostObj> = Rc::new(ConfigObj { cfg: cfg.clone() });
    Value::Host(c)
}

fn json_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::None,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::list(a.iter().map(json_value).collect()),
        serde_json::Value::Object(o) => {
            let d = Dict::new();
            for (k, v) in o {
                let _ = d.insert(Value::str(k), json_value(v));
            }
            Value::Dict(d)
        }
    }
}

struct ConfigObj {
    cfg: serde_json::Value,
}

impl HostObj for ConfigObj {
    fn type_name(&self) -> &str {
        "PretrainedConfig"
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        let alias = match name {
            "hidden_size" if self.cfg.get("hidden_size").is_none() => "n_embd",
            "num_hidden_layers" if self.cfg.get("num_hidden_layers").is_none() => "n_layer",
            "num_attention_heads" if self.cfg.get("num_attention_heads").is_none() => "n_head",
            "max_position_embeddings" if self.cfg.get("max_position_embeddings").is_none() => "n_positions",
            other => other,
        };
        match self.cfg.get(alias) {
            Some(v) => Ok(json_value(v)),
            None if name == "to_dict" => Ok(Native::with_aux("to_dict", None, |_, n, _, _| {
                let Aux::Value(v) = &n.aux else { return Ok(Value::None) };
                Ok(v.clone())
            }, Aux::Value(json_value(&self.cfg)))),
            None => Err(PyErr::attribute_error(format!("'{}' object has no attribute '{name}'", self.cfg.get("model_type").and_then(|m| m.as_str()).map_or("PretrainedConfig".to_string(), config_class)))),
        }
    }
    fn getitem(&self, it: &mut Interp, this: &Value, key: &Value) -> PyResult<Value> {
        let k = key.as_str().ok_or_else(|| PyErr::key_error(key.clone()))?;
        self.getattr(it, this, k).map_err(|_| PyErr::key_error(key.clone()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn config_class(model_type: &str) -> String {
    crate::model::families::config_class(model_type).map_or_else(|| format!("{model_type}Config"), str::to_string)
}

/// A module's `repr`, like torch's (`GPT2Block(\n  (ln_1): LayerNorm(...)\n ...)`).
pub fn module_repr(m: &Model, id: ModuleId, indent: usize) -> String {
    let node = m.tree().node(id);
    let extra = leaf_extra(m, id);
    if node.children.is_empty() {
        return format!("{}({extra})", node.class);
    }
    let pad = " ".repeat(indent + 2);
    let mut out = format!("{}(\n", node.class);
    let kids = &node.children;
    // Runs of identical children in a ModuleList print once, as torch does.
    let mut i = 0;
    while i < kids.len() {
        let c = kids[i];
        let r = module_repr(m, c, indent + 2);
        let mut j = i + 1;
        if node.kind == crate::model::Kind::ModuleList {
            while j < kids.len() && module_repr(m, kids[j], indent + 2) == r {
                j += 1;
            }
        }
        if j - i > 1 {
            out.push_str(&format!("{pad}({}-{}): {} x {r}\n", m.tree().node(c).name, m.tree().node(kids[j - 1]).name, j - i));
        } else {
            out.push_str(&format!("{pad}({}): {r}\n", m.tree().node(c).name));
        }
        i = j;
    }
    out.push_str(&" ".repeat(indent));
    out.push(')');
    out
}

fn leaf_extra(m: &Model, id: ModuleId) -> String {
    let shapes: Vec<Vec<i64>> = m.weights.params[id].iter().map(tch::Tensor::size).collect();
    m.tree().node(id).kind.extra_repr(&shapes)
}
