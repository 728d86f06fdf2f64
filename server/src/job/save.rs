//! The result edge: saved values become the `torch.save` archive the client `torch.load`s,
//! in the pickle shape Python's own `torch.save` gives each type (docs/protocol.md,
//! "Results"), so the client gets the same types back: tensors, scalars, containers
//! (shared and self-referencing ones through the pickle memo), `torch.Size`, dtypes and
//! devices, transformers' `ModelOutput` and `DynamicCache`, torch's namedtuple results.

use std::collections::HashMap;
use std::rc::Rc;

use localndif_wire::torch::TensorData;
use localndif_wire::torchsave::{SaveGraph, SaveId, SaveNode, torch_save_graph};
use num_bigint::BigInt;

use crate::interleave::cache::CacheView;
use crate::model::cache::DynamicCache;
use crate::value::record::RecordKind;
use crate::value::{Identity, PyErr, PyResult, Value, dtype};

/// Deepest nesting saved (CPython's pickle stops at its recursion limit too).
const MAX_DEPTH: usize = 1000;

/// `torch.save({name: value, ...})` of the saved names, in order.
pub fn encode(saved: &[(Rc<str>, Value)]) -> PyResult<Vec<u8>> {
    let mut s = Saver::default();
    let mut items = Vec::with_capacity(saved.len());
    for (name, v) in saved {
        let k = s.g.push(SaveNode::Str(name.to_string()));
        let v = s.value(v).map_err(|e| {
            PyErr::type_error(format!("cannot return the saved variable '{name}': {}", e.headline()))
        })?;
        items.push((k, v));
    }
    s.g.root = s.g.push(SaveNode::Dict(items));
    torch_save_graph(&s.g).map_err(|e| PyErr::value_error(format!("the saved values could not be encoded: {e}")))
}

#[derive(Default)]
struct Saver {
    g: SaveGraph,
    memo: HashMap<Identity, SaveId>,
    depth: usize,
}

impl Saver {
    fn value(&mut self, v: &Value) -> PyResult<SaveId> {
        let shared = matches!(
            v,
            Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Set(_) | Value::Tensor(_) | Value::Record(_) | Value::Host(_) | Value::Str(_)
        );
        let key = v.identity();
        if shared && let Some(&id) = self.memo.get(&key) {
            return Ok(id);
        }
        if self.depth >= MAX_DEPTH {
            return Err(PyErr::new(
                &crate::value::types::RECURSION_ERROR,
                "maximum recursion depth exceeded while pickling an object",
            ));
        }
        self.depth += 1;
        let r = self.build(v, key);
        self.depth -= 1;
        let id = r?;
        if shared {
            self.memo.insert(key, id);
        }
        Ok(id)
    }

    /// Reserves the node of a container before its items, so a self-reference finds it.
    fn open(&mut self, key: Identity, node: SaveNode) -> SaveId {
        let id = self.g.push(node);
        self.memo.insert(key, id);
        id
    }

    fn object(&mut self, module: &str, name: &str, newobj: bool, args: Vec<SaveId>, state: Option<SaveId>) -> SaveId {
        self.g.push(SaveNode::Object {
            module: module.into(),
            name: name.into(),
            newobj,
            args,
            items: Vec::new(),
            state,
        })
    }

    fn str_node(&mut self, s: &str) -> SaveId {
        self.g.push(SaveNode::Str(s.into()))
    }

    /// A `{str: value}` dict node (an object's `__dict__`).
    fn attrs(&mut self, fields: Vec<(&str, SaveId)>) -> SaveId {
        let items = fields.into_iter().map(|(k, v)| (self.str_node(k), v)).collect();
        self.g.push(SaveNode::Dict(items))
    }

    /// `collections.Counter` / `defaultdict` / `deque` (`interp/stdlib/collections.py`),
    /// pickled as CPython's `__reduce__` gives them, so the client gets the real types:
    /// `Counter(dict)`, `defaultdict(factory)` + its items, `deque(list, maxlen)`.
    fn stdlib_container(&mut self, i: &crate::value::Instance) -> PyResult<Option<SaveId>> {
        let crate::value::types::ClassRef::User(c) = &i.class else { return Ok(None) };
        if c.module.as_ref() != "collections" {
            return Ok(None);
        }
        let data = i.dict.get_str("_data");
        Ok(Some(match (c.name.as_ref(), data) {
            ("Counter", Some(d @ Value::Dict(_))) => {
                let d = self.value(&d)?;
                self.object("collections", "Counter", false, vec![d], None)
            }
            ("defaultdict", Some(Value::Dict(d))) => {
                let factory = i.dict.get_str("default_factory").unwrap_or(Value::None);
                let factory = self.value(&factory)?;
                let mut items = Vec::new();
                for (k, x) in d.items() {
                    items.push((self.value(&k)?, self.value(&x)?));
                }
                self.g.push(SaveNode::Object {
                    module: "collections".into(),
                    name: "defaultdict".into(),
                    newobj: false,
                    args: vec![factory],
                    items,
                    state: None,
                })
            }
            ("deque", Some(l @ Value::List(_))) => {
                let maxlen = i.dict.get_str("maxlen").unwrap_or(Value::None);
                let args = vec![self.value(&l)?, self.value(&maxlen)?];
                self.object("collections", "deque", false, args, None)
            }
            _ => return Ok(None),
        }))
    }

    /// `numpy.dtype('f8', False, True)` with its state, as numpy pickles a dtype.
    fn np_dtype(&mut self, k: tch::Kind) -> PyResult<SaveId> {
        let (code, order) = crate::value::numpy::pickle_code(k)
            .ok_or_else(|| PyErr::type_error(format!("numpy arrays of dtype {} cannot be returned", dtype::name(k))))?;
        let args = vec![self.str_node(code), self.g.push(SaveNode::Bool(false)), self.g.push(SaveNode::Bool(true))];
        let order = self.str_node(order);
        let none = self.g.push(SaveNode::None);
        let mut state = vec![self.g.push(SaveNode::Int(3)), order, none, none, none];
        state.extend([self.g.push(SaveNode::Int(-1)), self.g.push(SaveNode::Int(-1)), self.g.push(SaveNode::Int(0))]);
        let state = self.g.push(SaveNode::Tuple(state));
        Ok(self.object("numpy", "dtype", false, args, Some(state)))
    }

    /// An ndarray as numpy pickles one: `_reconstruct(ndarray, (0,), b'b')`, then BUILD
    /// with `(1, shape, dtype, is_fortran=False, raw C-order bytes)`.
    fn ndarray(&mut self, t: &tch::Tensor) -> PyResult<SaveId> {
        let data = tensor_data(t)?;
        let cls = self.g.push(SaveNode::Global { module: "numpy".into(), name: "ndarray".into() });
        let zero = self.g.push(SaveNode::Int(0));
        let shape0 = self.g.push(SaveNode::Tuple(vec![zero]));
        let b = self.g.push(SaveNode::Bytes(b"b".to_vec()));
        let dims = data.shape().iter().map(|&d| self.g.push(SaveNode::Int(d as i64))).collect();
        let shape = self.g.push(SaveNode::Tuple(dims));
        let dt = self.np_dtype(t.kind())?;
        let one = self.g.push(SaveNode::Int(1));
        let fortran = self.g.push(SaveNode::Bool(false));
        let raw = self.g.push(SaveNode::Bytes(data.into_data()));
        let state = self.g.push(SaveNode::Tuple(vec![one, shape, dt, fortran, raw]));
        Ok(self.object("numpy._core.multiarray", "_reconstruct", false, vec![cls, shape0, b], Some(state)))
    }

    /// A numpy scalar as numpy pickles one: `scalar(dtype, raw bytes)`.
    fn np_scalar(&mut self, t: &tch::Tensor) -> PyResult<SaveId> {
        let data = tensor_data(t)?;
        let dt = self.np_dtype(t.kind())?;
        let raw = self.g.push(SaveNode::Bytes(data.into_data()));
        Ok(self.object("numpy._core.multiarray", "scalar", false, vec![dt, raw], None))
    }

    fn build(&mut self, v: &Value, key: Identity) -> PyResult<SaveId> {
        Ok(match v {
            Value::None => self.g.push(SaveNode::None),
            Value::Bool(b) => self.g.push(SaveNode::Bool(*b)),
            Value::Int(i) => self.g.push(SaveNode::Int(*i)),
            Value::BigInt(b) => self.g.push(SaveNode::BigInt(BigInt::to_signed_bytes_le(b))),
            Value::Float(f) => self.g.push(SaveNode::Float(*f)),
            Value::Str(s) => self.g.push(SaveNode::Str(s.as_str().to_string())),
            Value::Bytes(b) => self.g.push(SaveNode::Bytes(b.as_ref().clone())),
            Value::List(l) => {
                let id = self.open(key, SaveNode::List(Vec::new()));
                let items = l.snapshot().iter().map(|x| self.value(x)).collect::<PyResult<Vec<_>>>()?;
                self.g.nodes[id] = SaveNode::List(items);
                id
            }
            Value::Tuple(t) => {
                let items = t.iter().map(|x| self.value(x)).collect::<PyResult<Vec<_>>>()?;
                self.g.push(SaveNode::Tuple(items))
            }
            Value::Dict(d) => {
                let id = self.open(key, SaveNode::Dict(Vec::new()));
                let mut items = Vec::new();
                for (k, x) in d.items() {
                    items.push((self.value(&k)?, self.value(&x)?));
                }
                self.g.nodes[id] = SaveNode::Dict(items);
                id
            }
            Value::Set(s) => {
                let items = s.items().iter().map(|x| self.value(x)).collect::<PyResult<Vec<_>>>()?;
                self.g.push(if s.frozen { SaveNode::FrozenSet(items) } else { SaveNode::Set(items) })
            }
            Value::Range(r) => {
                let args = r.iter().map(|&x| self.g.push(SaveNode::Int(x))).collect();
                self.object("builtins", "range", false, args, None)
            }
            Value::Slice(s) => {
                let args = s.iter().map(|x| self.value(x)).collect::<PyResult<Vec<_>>>()?;
                self.object("builtins", "slice", false, args, None)
            }
            Value::Ellipsis => self.g.push(SaveNode::Global { module: "builtins".into(), name: "Ellipsis".into() }),
            Value::Tensor(t) if t.np == crate::value::tensor::Np::Array => self.ndarray(&t.t)?,
            Value::Tensor(t) if t.np == crate::value::tensor::Np::Scalar => self.np_scalar(&t.t)?,
            Value::Tensor(t) => {
                let data = tensor_data(&t.t)?;
                self.g.push(SaveNode::Tensor(data))
            }
            Value::Size(s) => {
                let dims = s.iter().map(|&d| self.g.push(SaveNode::Int(d))).collect();
                let t = self.g.push(SaveNode::Tuple(dims));
                self.object("torch", "Size", false, vec![t], None)
            }
            Value::Dtype(k) => {
                let name = dtype::name(*k).trim_start_matches("torch.").to_string();
                self.g.push(SaveNode::Global { module: "torch".into(), name })
            }
            Value::Device(d) => self.device(*d),
            Value::Record(r) => match r.kind {
                RecordKind::ModelOutput => {
                    // ModelOutput.__reduce__: every field as an argument, the non-None
                    // ones as dict items, the whole field dict as state.
                    let fields = r.fields();
                    let vals = fields.iter().map(|(_, x)| self.value(x)).collect::<PyResult<Vec<_>>>()?;
                    let mut items = Vec::new();
                    for ((name, x), &id) in fields.iter().zip(&vals) {
                        if !x.is_none() {
                            items.push((self.str_node(name), id));
                        }
                    }
                    let state = self.attrs(fields.iter().map(|(n, _)| n.as_ref()).zip(vals.iter().copied()).collect());
                    self.g.push(SaveNode::Object {
                        module: r.module.to_string(),
                        name: r.class.to_string(),
                        newobj: false,
                        args: vals,
                        items,
                        state: Some(state),
                    })
                }
                RecordKind::NamedTuple => {
                    // structseq.__reduce__: (cls, (tuple_of_fields, {})).
                    let vals = r.items().iter().map(|(_, x)| self.value(x)).collect::<PyResult<Vec<_>>>()?;
                    let t = self.g.push(SaveNode::Tuple(vals));
                    let d = self.g.push(SaveNode::Dict(Vec::new()));
                    self.object(&r.module, &r.class, false, vec![t, d], None)
                }
            },
            // A builtin type (a defaultdict's factory, a saved `int`): by reference.
            Value::Type(t) => self.g.push(SaveNode::Global { module: t.module.into(), name: t.name.into() }),
            Value::Instance(i) => match self.stdlib_container(i)? {
                Some(id) => id,
                None => {
                    return Err(PyErr::type_error(format!("values of type '{}' cannot be returned", v.type_name())));
                }
            },
            Value::Host(h) => {
                if let Some(d) = h.as_any().downcast_ref::<crate::interp::numpy::NpDtype>() {
                    return self.np_dtype(d.0);
                }
                if let Some(c) = h.as_any().downcast_ref::<DynamicCache>() {
                    return self.cache(c);
                }
                if let Some(v) = h.as_any().downcast_ref::<CacheView>() {
                    return self.cache_view(v);
                }
                return Err(PyErr::type_error(format!("values of type '{}' cannot be returned", h.type_name())));
            }
            other => {
                return Err(PyErr::type_error(format!(
                    "values of type '{}' cannot be returned",
                    other.type_name()
                )));
            }
        })
    }

    fn device(&mut self, d: tch::Device) -> SaveId {
        let mut args = vec![];
        match d {
            tch::Device::Cuda(i) => {
                args.push(self.str_node("cuda"));
                args.push(self.g.push(SaveNode::Int(i as i64)));
            }
            tch::Device::Mps => args.push(self.str_node("mps")),
            _ => args.push(self.str_node("cpu")),
        }
        self.object("torch", "device", false, args, None)
    }

    /// One cached `Entry` (0.8.1's dataclass, 0.7's `Cache.Entry`): `cls.__new__(cls)` then
    /// its `output` and `inputs`.
    fn cache_entry(&mut self, e: crate::interleave::cache::Entry, module: &str, class: &str) -> PyResult<SaveId> {
        let output = self.value(&e.output.unwrap_or(Value::None))?;
        let inputs = self.value(&e.inputs.unwrap_or(Value::None))?;
        let state = self.attrs(vec![("output", output), ("inputs", inputs)]);
        Ok(self.object(module, class, true, vec![], Some(state)))
    }

    /// nnsight 0.5–0.7's `Cache.CacheDict` (a dict subclass) of `Cache.Entry`s: each
    /// cached module path → its entry, or the list of them when it ran more than once
    /// (`Cache.add`), at or below the view's path. Pickled as the call
    /// `CacheDict(entries, path, alias, rename, alias_paths)`: unpickling a BUILD would
    /// look up `__setstate__`, which 0.5's `__getattr__` answers by reading `_path` before
    /// it exists (endless recursion).
    fn cache_dict_07(&mut self, v: &CacheView) -> PyResult<SaveId> {
        const TRACER: &str = "nnsight.intervention.tracing.tracer";
        let tree = v.ctx.model.tree();
        let path = v.node.map(|id| tree.node(id).envoy.clone());
        // 0.5's views hold every entry (a copy of the whole dict with a path).
        let below = path.clone().filter(|_| !v.ctx.dialect.cache_views_hold_everything());
        let mut items = Vec::new();
        for (module, list) in v.cache.snapshot() {
            let key = tree.node(module).envoy.clone();
            if below.as_ref().is_some_and(|p| key != *p && !key.starts_with(&format!("{p}."))) {
                continue;
            }
            let entries = list.into_iter().map(|e| self.cache_entry(e, TRACER, "Cache.Entry")).collect::<PyResult<Vec<_>>>()?;
            let value = if entries.len() == 1 { entries[0] } else { self.g.push(SaveNode::List(entries)) };
            items.push((self.str_node(&key), value));
        }
        let path = self.str_node(path.as_deref().unwrap_or(""));
        let empty = |s: &mut Saver| s.g.push(SaveNode::Dict(Vec::new()));
        let (alias, rename, alias_paths) = (empty(self), empty(self), empty(self));
        let entries = self.g.push(SaveNode::Dict(items));
        Ok(self.object(TRACER, "Cache.CacheDict", false, vec![entries, path, alias, rename, alias_paths], None))
    }

    /// nnsight 0.8.1's `CacheView` as it pickles: the view's `__dict__` (`_cache`, `_envoy`,
    /// `_path`) over the `Cache` of `Cache.__getstate__` (no model) whose `entries` map each
    /// module path to its `Entry` dataclasses. Views of one cache share its node.
    fn cache_view(&mut self, v: &CacheView) -> PyResult<SaveId> {
        if v.ctx.dialect.cache_dict() {
            return self.cache_dict_07(v);
        }
        let cache_key = crate::value::Identity::Ptr(Rc::as_ptr(&v.cache) as *const u8 as usize);
        let cache = match self.memo.get(&cache_key) {
            Some(&id) => id,
            None => {
                let id = self.cache_state(v)?;
                self.memo.insert(cache_key, id);
                id
            }
        };
        let none = self.g.push(SaveNode::None);
        let path = match v.node {
            Some(id) => self.str_node(&v.ctx.model.tree().node(id).envoy),
            None => none,
        };
        let state = self.attrs(vec![("_cache", cache), ("_envoy", none), ("_path", path)]);
        // `value` memoizes the view itself, as every host object.
        Ok(self.object("nnsight.intervention.cache", "CacheView", true, vec![], Some(state)))
    }

    fn cache_state(&mut self, v: &CacheView) -> PyResult<SaveId> {
        let tree = v.ctx.model.tree();
        let o = &v.cache.options;
        let mut entries = Vec::new();
        for (module, list) in v.cache.snapshot() {
            let items = list.into_iter().map(|e| self.cache_entry(e, "nnsight.intervention.cache", "Entry")).collect::<PyResult<Vec<_>>>()?;
            let k = self.str_node(&tree.node(module).envoy);
            let l = self.g.push(SaveNode::List(items));
            entries.push((k, l));
        }
        let entries = self.g.push(SaveNode::Dict(entries));
        let none = self.g.push(SaveNode::None);
        let device = match o.device {
            Some(d) => self.device(d),
            None => none,
        };
        let dtype = match o.dtype {
            Some(k) => self.value(&Value::Dtype(k))?,
            None => none,
        };
        let targets = match &o.modules {
            Some(ids) => {
                let paths = ids.iter().map(|&id| self.str_node(&tree.node(id).envoy)).collect();
                self.g.push(SaveNode::Set(paths))
            }
            None => none,
        };
        let flag = |s: &mut Saver, b: bool| s.g.push(SaveNode::Bool(b));
        let (detach, non_blocking, out, inp) = (flag(self, o.detach), flag(self, false), flag(self, o.include_output), flag(self, o.include_inputs));
        let open = self.g.push(SaveNode::Dict(Vec::new()));
        let state = self.attrs(vec![
            ("model", none),
            ("device", device),
            ("dtype", dtype),
            ("detach", detach),
            ("non_blocking", non_blocking),
            ("include_output", out),
            ("include_inputs", inp),
            ("targets", targets),
            ("entries", entries),
            ("_open", open),
        ]);
        Ok(self.object("nnsight.intervention.cache", "Cache", true, vec![], Some(state)))
    }

    /// transformers' `DynamicCache` as it pickles (NEWOBJ + BUILD of `__dict__`).
    fn cache(&mut self, c: &DynamicCache) -> PyResult<SaveId> {
        let mut layers = Vec::new();
        for (i, (k, v)) in c.snapshot().into_iter().enumerate() {
            let init = k.is_some();
            let device = match &k {
                Some(Value::Tensor(t)) => t.t.device(),
                _ => tch::Device::Cpu,
            };
            let keys = self.value(&k.unwrap_or(Value::None))?;
            let values = self.value(&v.unwrap_or(Value::None))?;
            let is_init = self.g.push(SaveNode::Bool(init));
            let dev = if init { self.device(device) } else { self.g.push(SaveNode::None) };
            let mut fields = vec![("keys", keys), ("values", values), ("is_initialized", is_init)];
            // A sliding-window layer (Gemma 2) pickles its window state too.
            let class = match c.window(i) {
                Some(w) => {
                    let window = self.g.push(SaveNode::Int(w));
                    let seen = self.g.push(SaveNode::Int(c.layer_seq_length(i)));
                    let t = self.value(&Value::tensor(tch::Tensor::from(w).f_to_device(device)?))?;
                    let record = self.g.push(SaveNode::Bool(false));
                    fields.extend([("sliding_window", window), ("cumulative_length", seen), ("_sliding_window_tensor", t), ("record_past", record)]);
                    "DynamicSlidingWindowLayer"
                }
                None => "DynamicLayer",
            };
            fields.push(("device", dev));
            let state = self.attrs(fields);
            layers.push(self.object("transformers.cache_utils", class, true, vec![], Some(state)));
        }
        let layers = self.g.push(SaveNode::List(layers));
        // transformers 5.24 builds the model's cache from its config: no layer class to
        // replicate (it is None on the cache a forward returns).
        let class = self.g.push(SaveNode::None);
        let off = self.g.push(SaveNode::Bool(false));
        let state = self.attrs(vec![("layers", layers), ("layer_class_to_replicate", class), ("offloading", off)]);
        Ok(self.object("transformers.cache_utils", "DynamicCache", true, vec![], Some(state)))
    }
}

/// A tensor's data as the wire writes it (detached, on the CPU, contiguous).
pub fn tensor_data(t: &tch::Tensor) -> PyResult<TensorData> {
    let wire = dtype::to_wire(t.kind())
        .ok_or_else(|| PyErr::type_error(format!("tensors of dtype {} cannot be returned yet", dtype::name(t.kind()))))?;
    let cpu = t.f_detach()?.f_to_device(tch::Device::Cpu)?.f_contiguous()?;
    let numel = cpu.numel();
    let mut data = vec![0u8; numel * dtype::elt_size(cpu.kind())];
    cpu.f_copy_data_u8(&mut data, numel)?;
    let shape = cpu.size().iter().map(|&d| d as usize).collect();
    TensorData::with_grad(wire, shape, data, t.requires_grad()).map_err(|e| PyErr::internal(format!("a tensor's bytes: {e}")))
}

/// The STREAM of a `session.local()` block (nnsight 0.5–0.7; docs/protocol.md): a plain
/// pickle of the function as nnsight 0.7's `CustomCloudPickler` writes one —
/// `make_function(source, name, filename, qualname, module, doc, annotations, defaults,
/// kwdefaults, base_globals, closure_values, closure_names, firstlineno)`, then
/// `_source_function_setstate(fn, ({}, {"__globals__": captured, ...}))` — or, for
/// nnsight 0.5.x (`nnsight_05`), which has no such helper, the function defined by its
/// source run in its globals. Its filename starts with `<nnsight` as the client's
/// `pull()` requires.
pub fn stream_function(source: &str, name: &str, captured: &[(Rc<str>, Value)], nnsight_05: bool) -> PyResult<Vec<u8>> {
    let mut s = Saver::default();
    let mut globals = Vec::with_capacity(captured.len());
    for (k, v) in captured {
        let key = s.g.push(SaveNode::Str(k.to_string()));
        if let Value::Module(m) = v {
            // By reference, as cloudpickle ships an importable module.
            let name = s.g.push(SaveNode::Str(m.name.to_string()));
            let module = s.object("cloudpickle.cloudpickle", "subimport", false, vec![name], None);
            globals.push((key, module));
            continue;
        }
        let v = s.value(v).map_err(|e| {
            PyErr::type_error(format!("session.local() cannot send the variable '{k}' to the client: {}", e.headline()))
        })?;
        globals.push((key, v));
    }
    let str_node = |s: &mut Saver, text: &str| s.g.push(SaveNode::Str(text.into()));
    let encode = |s: &Saver| {
        localndif_wire::torchsave::pickle_graph(&s.g)
            .map_err(|e| PyErr::value_error(format!("the session.local() block could not be encoded: {e}")))
    };
    if nnsight_05 {
        // nnsight 0.5 has no source-function helper (`make_function`) and loads the
        // STREAM with a plain `pickle.Unpickler`: the function is defined by running its
        // source in its globals — `exec(compile(source, "<nnsight local …>", "exec"), G)`,
        // then `G[name]` (the file name starts with `<nnsight`, which `LocalTracer`'s
        // `pull()` / `push()` look for).
        let globals = s.g.push(SaveNode::Dict(globals));
        let args = vec![str_node(&mut s, source), str_node(&mut s, &format!("<nnsight local {name}>")), str_node(&mut s, "exec")];
        let code = s.object("builtins", "compile", false, args, None);
        let ran = s.object("builtins", "exec", false, vec![code, globals], None);
        let pair = s.g.push(SaveNode::Tuple(vec![ran, globals]));
        let one = s.g.push(SaveNode::Int(1));
        let namespace = s.object("operator", "getitem", false, vec![pair, one], None);
        let key = str_node(&mut s, name);
        s.g.root = s.object("operator", "getitem", false, vec![namespace, key], None);
        return encode(&s);
    }
    let none = s.g.push(SaveNode::None);
    let empty = |s: &mut Saver| s.g.push(SaveNode::Dict(Vec::new()));
    let args = vec![
        str_node(&mut s, source),
        str_node(&mut s, name),
        str_node(&mut s, &format!("<nnsight local {name}>")),
        str_node(&mut s, name),
        str_node(&mut s, "__main__"),
        none,
        empty(&mut s),
        none,
        none,
        empty(&mut s),
        none,
        none,
        s.g.push(SaveNode::Int(1)),
    ];
    let function = s.object("nnsight.intervention.serialization", "make_function", false, args, None);
    let globals = s.g.push(SaveNode::Dict(globals));
    let slot_keys = (str_node(&mut s, "__globals__"), str_node(&mut s, "__deferred_closure__"));
    let deferred = empty(&mut s);
    let slot = s.g.push(SaveNode::Dict(vec![(slot_keys.0, globals), (slot_keys.1, deferred)]));
    let func_dict = empty(&mut s);
    let state = s.g.push(SaveNode::Tuple(vec![func_dict, slot]));
    s.g.root = s.g.push(SaveNode::SetState {
        target: function,
        module: "nnsight.intervention.serialization".into(),
        name: "_source_function_setstate".into(),
        state,
    });
    encode(&s)
}
