//! `tracer.cache()` (nnsight 0.8.1's `Cache` and `CacheView`, docs/semantics.md §7.4): a
//! post-intervention observer of module inputs and outputs. A worker declares it before
//! its first request; from then on every visit of a selected module records the value
//! that flows on (after every worker parked there was served), narrowed to the declaring
//! worker's rows, detached and moved as asked — one entry per visit, so a generation has
//! one per step. User code reads it by path (`cache["model.transformer.h.0"].output`) or
//! by navigation (`cache.transformer.h[0].output`); saved, it reaches the client as the
//! `CacheView` 0.8.1 returns (see `job::save`).

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use super::batch::apply;
use super::envoy::{Envoy, ModelCtx};
use super::loc::Site;
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::host::HostObj;
use crate::model::ModuleId;
use crate::value::object::{Aux, Native};
use crate::value::{PyErr, PyResult, Value, types};

/// One visit of a module: its output and/or its `(args, kwargs)`.
#[derive(Clone, Default)]
pub struct Entry {
    pub output: Option<Value>,
    pub inputs: Option<Value>,
}

/// What a cache keeps and how (the arguments of `tracer.cache(...)`).
pub struct Options {
    /// `None`: every module.
    pub modules: Option<Vec<ModuleId>>,
    /// `None`: leave tensors where they are.
    pub device: Option<tch::Device>,
    pub dtype: Option<tch::Kind>,
    pub detach: bool,
    pub include_output: bool,
    pub include_inputs: bool,
}

/// A cache's records, shared by the interleaver (which fills it) and its views.
pub struct Cache {
    pub options: Options,
    /// Module → its entries, in the order modules were first recorded.
    entries: RefCell<Vec<(ModuleId, Vec<Entry>)>>,
}

impl Cache {
    pub fn new(options: Options) -> Cache {
        Cache { options, entries: RefCell::new(Vec::new()) }
    }

    /// Whether a visit of `site` of module `id` is kept.
    pub fn wants(&self, id: ModuleId, site: Site) -> bool {
        let o = &self.options;
        let kind = match site {
            Site::Output => o.include_output,
            Site::Input => o.include_inputs,
            _ => false,
        };
        kind && o.modules.as_ref().is_none_or(|m| m.contains(&id))
    }

    /// Records `value` (already narrowed to the worker's rows) for this visit: the
    /// module's open entry takes it if that slot is still empty, else a new entry starts
    /// (nnsight's `Cache._record`).
    pub fn record(&self, id: ModuleId, site: Site, value: &Value) -> PyResult<()> {
        let o = &self.options;
        let value = apply(value, &|t: &tch::Tensor| {
            let t = if o.detach { t.f_detach()? } else { t.shallow_clone() };
            let t = match (o.device, o.dtype) {
                (None, None) => t,
                (d, k) => t.f_to_device_(d.unwrap_or(t.device()), k.unwrap_or(t.kind()), false, false)?,
            };
            Ok(Some(t))
        })?;
        let mut entries = self.entries.borrow_mut();
        let i = match entries.iter().position(|(m, _)| *m == id) {
            Some(i) => i,
            None => {
                entries.push((id, Vec::new()));
                entries.len() - 1
            }
        };
        let list = &mut entries[i].1;
        if !list.last_mut().is_some_and(|e| slot(e, site).is_none()) {
            list.push(Entry::default());
        }
        if let Some(e) = list.last_mut() {
            *slot(e, site) = Some(value);
        }
        Ok(())
    }

    /// The records, module by module in first-record order.
    pub fn snapshot(&self) -> Vec<(ModuleId, Vec<Entry>)> {
        self.entries.borrow().clone()
    }

    fn entries_of(&self, id: ModuleId) -> Option<Vec<Entry>> {
        self.entries.borrow().iter().find(|(m, _)| *m == id).map(|(_, e)| e.clone())
    }
}

fn slot(e: &mut Entry, site: Site) -> &mut Option<Value> {
    match site {
        Site::Input => &mut e.inputs,
        _ => &mut e.output,
    }
}

/// `tracer.cache(modules=None, device=cpu, dtype=None, detach=True, include_output=True,
/// include_inputs=False, non_blocking=False)`: the options, with modules given as envoys
/// or path strings.
pub fn options(it: &mut Interp, ctx: &ModelCtx, args: Vec<Value>, kwargs: Kwargs) -> PyResult<Options> {
    const NAMES: [&str; 7] = ["modules", "device", "dtype", "detach", "include_output", "include_inputs", "non_blocking"];
    let mut vals = crate::interp::call::bind_named("cache", &NAMES, args, kwargs)?;
    let mut flag = |i: usize, default: bool| -> PyResult<bool> {
        match vals[i].take() {
            None => Ok(default),
            Some(v) => it.truthy(&v),
        }
    };
    let detach = flag(3, true)?;
    let include_output = flag(4, true)?;
    let include_inputs = flag(5, false)?;
    let tree = ctx.model.tree();
    let modules = match vals[0].take() {
        None | Some(Value::None) => None,
        Some(list) => {
            let mut ids = Vec::new();
            for m in it.collect(&list)? {
                let id = match &m {
                    Value::Str(s) => tree.by_envoy(s.as_str()).ok_or_else(|| {
                        PyErr::value_error(format!("tracer.cache(): '{}' is not a module path of this model", s.as_str()))
                    })?,
                    Value::Host(h) => h
                        .as_any()
                        .downcast_ref::<Envoy>()
                        .map(|e| e.id)
                        .ok_or_else(|| PyErr::type_error(format!("tracer.cache() modules must be envoys or path strings, not {}", m.type_name())))?,
                    other => {
                        return Err(PyErr::type_error(format!(
                            "tracer.cache() modules must be envoys or path strings, not {}",
                            other.type_name()
                        )));
                    }
                };
                ids.push(id);
            }
            Some(ids)
        }
    };
    let device = match vals[1].take() {
        None => Some(tch::Device::Cpu),
        Some(Value::None) => None,
        Some(Value::Device(d)) => Some(d),
        Some(Value::Str(s)) => Some(
            crate::value::dtype::parse_device(s.as_str())
                .ok_or_else(|| PyErr::runtime_error(format!("Expected one of cpu, cuda, mps device type at start of device string: {}", s.as_str())))?,
        ),
        Some(other) => return Err(PyErr::type_error(format!("tracer.cache() device must be a torch.device or a string, not {}", other.type_name()))),
    };
    let dtype = match vals[2].take() {
        None | Some(Value::None) => None,
        Some(Value::Dtype(k)) => Some(k),
        Some(other) => return Err(PyErr::type_error(format!("tracer.cache() dtype must be a torch.dtype, not {}", other.type_name()))),
    };
    Ok(Options { modules, device, dtype, detach, include_output, include_inputs })
}

/// What user code holds: a node of the cache's module tree (`None`: the virtual root
/// above the model), or a path that names no module of the tree.
pub struct CacheView {
    pub cache: Rc<Cache>,
    pub ctx: Rc<ModelCtx>,
    pub node: Option<ModuleId>,
}

impl CacheView {
    fn at(&self, node: Option<ModuleId>) -> Value {
        let v: Rc<dyn HostObj> = Rc::new(CacheView { cache: self.cache.clone(), ctx: self.ctx.clone(), node });
        Value::Host(v)
    }

    fn path(&self) -> Option<&str> {
        self.node.map(|id| self.ctx.model.tree().node(id).envoy.as_str())
    }

    fn entries(&self) -> PyResult<Vec<Entry>> {
        let Some(id) = self.node else {
            return Err(PyErr::key_error(Value::str("the cache root is not a module")));
        };
        self.cache
            .entries_of(id)
            .ok_or_else(|| PyErr::key_error(Value::str(&format!("'{}' was not cached", self.path().unwrap_or("")))))
    }

    /// `.output` / `.inputs` / `.input`: the one entry's value, or the list of them.
    fn values(&self, what: &str) -> PyResult<Value> {
        let mut out: Vec<Value> = self
            .entries()?
            .into_iter()
            .map(|e| match what {
                "output" => Ok(e.output.unwrap_or(Value::None)),
                "inputs" => Ok(e.inputs.unwrap_or(Value::None)),
                _ => first_input(e.inputs),
            })
            .collect::<PyResult<_>>()?;
        Ok(if out.len() == 1 { out.pop().unwrap_or(Value::None) } else { Value::list(out) })
    }

    /// The cached module paths at or below this node, in record order.
    fn keys(&self) -> Vec<String> {
        let tree = self.ctx.model.tree();
        // nnsight 0.5's `CacheDict` views are copies of the whole dict with a path: every
        // key, wherever the view is.
        let prefix = self.path().map(str::to_string).filter(|_| !self.ctx.dialect.cache_views_hold_everything());
        self.cache
            .snapshot()
            .iter()
            .map(|(id, _)| tree.node(*id).envoy.clone())
            .filter(|k| prefix.as_ref().is_none_or(|p| k == p || k.starts_with(&format!("{p}."))))
            .collect()
    }

    /// One path component down: at the root the model's own name (`model`) or, short
    /// form, a child of the model; elsewhere a child module by name or index.
    fn child(&self, it: &mut Interp, name: &Value) -> PyResult<Option<ModuleId>> {
        let tree = self.ctx.model.tree();
        let root = tree.root();
        let (from, name) = match (self.node, name) {
            (None, Value::Str(s)) if s.as_str() == tree.node(root).envoy => return Ok(Some(root)),
            (None, _) => (root, name),
            (Some(id), _) => (id, name),
        };
        let envoy = self.ctx.envoy(from);
        let next = match name {
            Value::Str(s) if s.as_str().trim_start_matches('-').chars().all(|c| c.is_ascii_digit()) && !s.as_str().is_empty() => {
                let i: i64 = s.as_str().parse().map_err(|_| PyErr::value_error("a bad module index"))?;
                it.getitem(&envoy, &Value::Int(i))?
            }
            Value::Str(s) => it.getattr(&envoy, s.as_str())?,
            other => it.getitem(&envoy, other)?,
        };
        match &next {
            Value::Host(h) => match h.as_any().downcast_ref::<Envoy>() {
                Some(e) => Ok(Some(e.id)),
                None => Err(PyErr::attribute_error(format!("{} is not a module", it.repr(&next)?))),
            },
            _ => Err(PyErr::attribute_error(format!("{} is not a module", it.repr(&next)?))),
        }
    }
}

/// `Entry.input`: the first positional argument, else the first keyword value.
fn first_input(inputs: Option<Value>) -> PyResult<Value> {
    let Some(Value::Tuple(pair)) = inputs else { return Ok(Value::None) };
    if let [Value::Tuple(args), Value::Dict(kwargs)] = pair.as_slice() {
        if let Some(a) = args.first() {
            return Ok(a.clone());
        }
        if let Some((_, v)) = kwargs.items().into_iter().next() {
            return Ok(v);
        }
    }
    Ok(Value::None)
}

fn view_of(n: &Native) -> PyResult<&CacheView> {
    match &n.recv {
        Some(Value::Host(h)) => h.as_any().downcast_ref::<CacheView>().ok_or_else(|| PyErr::internal("a cache method bound to something else")),
        _ => Err(PyErr::internal("a cache method without its cache")),
    }
}

impl HostObj for CacheView {
    fn type_name(&self) -> &str {
        "CacheView"
    }

    fn repr(&self) -> String {
        let at = self.path().map_or("root".to_string(), |p| format!("'{p}'"));
        let keys: Vec<String> = self.keys().iter().map(|k| format!("'{k}'")).collect();
        format!("CacheView({at}, cached=[{}])", keys.join(", "))
    }

    fn getattr(&self, it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        match name {
            "output" | "inputs" | "input" => self.values(name),
            "keys" => Ok(Native::with_aux("keys", Some(this.clone()), |_, n, _, _| {
                Ok(Value::list(view_of(n)?.keys().iter().map(|k| Value::str(k)).collect()))
            }, Aux::None)),
            _ if name.starts_with('_') => Err(PyErr::attribute_error(name.to_string())),
            // nnsight 0.7's `CacheDict` has no short form: paths start at the root's name.
            _ if self.node.is_none()
                && self.ctx.dialect.cache_dict()
                && name != self.ctx.model.tree().node(self.ctx.model.tree().root()).envoy =>
            {
                Err(PyErr::attribute_error(format!("'{name}' module path was never cached. 'CacheDict' has no matching attribute.")))
            }
            _ => {
                let node = self.child(it, &Value::str(name))?;
                Ok(self.at(node))
            }
        }
    }

    fn getitem(&self, it: &mut Interp, _this: &Value, key: &Value) -> PyResult<Value> {
        match key {
            Value::Str(s) if s.as_str().contains('.') => {
                // An absolute dotted path, resolved from the virtual root.
                if let Some(id) = self.ctx.model.tree().by_envoy(s.as_str()) {
                    return Ok(self.at(Some(id)));
                }
                let mut view = CacheView { cache: self.cache.clone(), ctx: self.ctx.clone(), node: None };
                for part in s.as_str().split('.') {
                    view.node = view.child(it, &Value::str(part))?;
                }
                Ok(self.at(view.node))
            }
            _ => {
                let node = self.child(it, key)?;
                Ok(self.at(node))
            }
        }
    }

    /// 0.8.1: the entries of this module (one per run); 0.7's `CacheDict`: the cached
    /// paths at or below this one.
    fn len(&self) -> Option<usize> {
        if self.ctx.dialect.cache_dict() {
            return Some(self.keys().len());
        }
        self.entries().ok().map(|e| e.len())
    }

    fn contains(&self, it: &mut Interp, _this: &Value, item: &Value) -> Option<PyResult<bool>> {
        let Value::Str(_) = item else { return Some(Ok(false)) };
        let found = match self.getitem(it, &Value::None, item) {
            Ok(Value::Host(h)) => h.as_any().downcast_ref::<CacheView>().and_then(|v| v.node),
            Ok(_) => None,
            Err(e) if e.is_instance_of(&types::ATTRIBUTE_ERROR) || e.is_instance_of(&types::INDEX_ERROR) || e.is_instance_of(&types::KEY_ERROR) => None,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(found.is_some_and(|id| self.cache.entries_of(id).is_some())))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
