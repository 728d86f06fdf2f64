//! The request edge: nodes of the decoded payload (`wire::pickle::Graph`) become values.
//! Shared nodes become one shared value and cycles stay cycles (a memo by node), the
//! model's envoys and tokenizer — persistent ids or envoy objects carrying their path —
//! become this job's handles on the served model, functions shipped by source become
//! functions ([`crate::interp::foreign`]). What the server cannot represent becomes an
//! opaque value that names itself and fails only if user code uses it.

use std::any::Any;
use std::collections::HashMap;
use std::rc::Rc;

use localndif_wire::pickle::{Graph, Id, Node, Obj};
use localndif_wire::torch::{TensorData, tensor_from_graph};
use tch::Tensor;

use crate::interleave::ModelCtx;
use crate::interleave::tracer::Edit;
use crate::interp::code::Code;
use crate::interp::program::Program;
use crate::model::ModuleId;
use crate::interleave::tokenizer::TokenizerObj;
use crate::interp::Interp;
use crate::interp::bytecode;
use crate::interp::call::Kwargs;
use crate::interp::foreign::{self, ShippedFunction};
use crate::interp::host::HostObj;
use crate::interp::{builtins, modules};
use crate::value::object::Namespace;
use crate::value::types::{self, ClassRef};
use crate::value::{Class, Dict, Instance, PyErr, PyResult, Set, Value, dtype, int};

/// Deepest nesting of captured values followed.
const MAX_DEPTH: usize = 500;

pub struct Loader<'g> {
    g: &'g Graph,
    ctx: Rc<ModelCtx>,
    /// The shipped tracer's node and the value it stands for.
    tracer: Option<(Id, Value)>,
    memo: HashMap<Id, Value>,
    /// `_fill(fn, globals)` calls, by the function they fill.
    fills: HashMap<Id, Id>,
    /// cloudpickle's `_class_setstate(cls, (state, slots))` calls, by the class.
    class_states: HashMap<Id, Id>,
    depth: usize,
    /// The job's `torch.nn` classes (`nn.py`), made when the payload first names one.
    nn: Option<Rc<Namespace>>,
    /// The class node of the client's model object (the envoy whose path is `model`).
    root_class: Option<Id>,
    /// The client's CPython (its `python-version`): which bytecode its functions
    /// shipped as code objects are (`interp::bytecode`). 3.11 unless told otherwise.
    pub python_version: bytecode::PyVersion,
}

impl<'g> Loader<'g> {
    pub fn new(g: &'g Graph, ctx: Rc<ModelCtx>, tracer: Option<(Id, Value)>) -> Loader<'g> {
        // cloudpickle's state setters are built then popped (docs/protocol.md): find
        // them among all nodes by the object they set up.
        let mut fills = HashMap::new();
        let mut class_states = HashMap::new();
        let root_class = g.nodes.iter().find_map(|node| match node {
            Node::Object(o) if envoy_state(g, o).is_some_and(|(_, path)| path == "model") => Some(o.callable),
            _ => None,
        });
        for node in &g.nodes {
            if let Node::Object(o) = node
                && let Some((_, setter)) = g.global(o.callable)
                && let Some(args) = o.args.and_then(|a| g.tuple_items(a))
                && let [target, state] = args
            {
                match setter {
                    "_fill" => {
                        fills.insert(*target, *state);
                    }
                    // nnsight 0.7: `(func_dict, {"__globals__": ..., "__deferred_closure__": ...})`;
                    // cloudpickle's for a function shipped as bytecode: `(state, slotstate)`.
                    "_source_function_setstate" | "_function_setstate" => {
                        fills.insert(*target, *state);
                    }
                    "_class_setstate" => {
                        class_states.insert(*target, *state);
                    }
                    _ => {}
                }
            }
        }
        Loader { g, ctx, tracer, memo: HashMap::new(), fills, class_states, depth: 0,
            nn: None, root_class, python_version: bytecode::PyVersion::default() }
    }

    /// A model handle of its own over `base`'s model whose traces run the `model.edit()`
    /// blocks `mediators` first (edits shipped beside the model rather than in it).
    pub fn with_edits(&mut self, base: &Rc<ModelCtx>, mediators: &[Id]) -> PyResult<Rc<ModelCtx>> {
        let ctx = base.fork();
        for &med in mediators {
            let e = self.edit(med)?;
            ctx.edits.borrow_mut().push(e);
        }
        Ok(ctx)
    }

    /// Makes node `id` (the shipped tracer) load as `tracer`.
    pub fn set_tracer(&mut self, id: Id, tracer: Value) {
        self.memo.insert(id, tracer.clone());
        self.tracer = Some((id, tracer));
    }

    /// The value of node `id`.
    pub fn value(&mut self, id: Id) -> PyResult<Value> {
        if let Some(v) = self.memo.get(&id) {
            return Ok(v.clone());
        }
        if self.depth >= MAX_DEPTH {
            return Ok(opaque("a value nested too deeply"));
        }
        self.depth += 1;
        let r = self.build(id);
        self.depth -= 1;
        let v = r?;
        self.memo.insert(id, v.clone());
        Ok(v)
    }

    /// `name = value` pairs (a scope, the kwargs) as keyword arguments.
    pub fn named(&mut self, items: &[(String, Id)]) -> PyResult<Kwargs> {
        items.iter().map(|(k, v)| Ok((Rc::from(k.as_str()), self.value(*v)?))).collect()
    }

    fn build(&mut self, id: Id) -> PyResult<Value> {
        let g = self.g;
        let Some(node) = g.node(id) else {
            return Ok(opaque("a dangling reference in the payload"));
        };
        Ok(match node {
            Node::None => Value::None,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::Int(*i),
            Node::BigInt(bytes) => int::normalize(num_bigint::BigInt::from_signed_bytes_le(bytes)),
            Node::Float(f) => Value::Float(*f),
            Node::Str(s) => Value::str(s),
            Node::PyStr2(b) => match std::str::from_utf8(b) {
                Ok(s) if b.is_ascii() => Value::str(s),
                _ => Value::Bytes(Rc::new(b.clone())),
            },
            Node::Bytes(b) | Node::ByteArray(b) => Value::Bytes(Rc::new(b.clone())),
            Node::List(items) => {
                // Memoized before its items, so a list that contains itself does.
                let list = Value::list(Vec::new());
                self.memo.insert(id, list.clone());
                let vals = items.iter().map(|&i| self.value(i)).collect::<PyResult<Vec<_>>>()?;
                if let Value::List(l) = &list {
                    l.extend(vals)?;
                }
                list
            }
            Node::Tuple(items) => Value::tuple(items.iter().map(|&i| self.value(i)).collect::<PyResult<_>>()?),
            Node::Dict(items) => {
                let d = Dict::new();
                let v = Value::Dict(d.clone());
                self.memo.insert(id, v.clone());
                for (k, x) in items {
                    let k = self.value(*k)?;
                    let x = self.value(*x)?;
                    d.insert(k, x)?;
                }
                v
            }
            Node::Set(items) | Node::FrozenSet(items) => {
                let vals = items.iter().map(|&i| self.value(i)).collect::<PyResult<Vec<_>>>()?;
                Value::Set(Set::new(vals, matches!(node, Node::FrozenSet(_)))?)
            }
            Node::Global { module, name } => match self.nn_class(module, name)? {
                Some(c) => c,
                None if self.root_class == Some(id) && modules::nnsight_class(module, name).is_none() => {
                    // The model's class, pickled by reference, that the server does not
                    // have (a LanguageModel subclass from a package installed on the
                    // client, e.g. nnterp's StandardizedTransformer): a stand-in class of
                    // that name deriving from LanguageModel, shared by every reference
                    // the payload makes to it.
                    let bases = match modules::nnsight_class("nnsight", "LanguageModel") {
                        Some(Value::Type(t)) => vec![ClassRef::Builtin(t)],
                        _ => Vec::new(),
                    };
                    Value::Class(Class::new(name, name, module, bases, Dict::new())?)
                }
                None => global(module, name),
            },
            Node::PersId(pid) => self.persistent(*pid),
            Node::Object(o) => self.object(id, o)?,
            Node::Ext(_) | Node::OutOfBand { .. } => opaque(&format!("a pickled {}", node.kind())),
        })
    }

    /// `Module:<path>` / `ENVOY:<path>` → that module's envoy; `Tokenizer` → the tokenizer.
    fn persistent(&self, pid: Id) -> Value {
        let Some(name) = self.g.as_str(pid) else {
            return opaque("a persistent object");
        };
        // `Module:<path>` (0.6+); `ENVOY:<path>` (nnsight 0.5.0 ships envoys by id).
        if let Some(path) = name.strip_prefix("Module:").or_else(|| name.strip_prefix("ENVOY:")) {
            return match self.ctx.model.tree().by_envoy(path) {
                Some(m) => self.ctx.envoy(m),
                None => opaque(&format!("the module '{path}', which this model does not have")),
            };
        }
        match name {
            "Tokenizer" => {
                let t: Rc<dyn HostObj> = Rc::new(TokenizerObj { tok: self.ctx.tokenizer.clone() });
                Value::Host(t)
            }
            other => opaque(&format!("the model's {other}")),
        }
    }

    fn object(&mut self, id: Id, o: &Obj) -> PyResult<Value> {
        let g = self.g;
        if let Some((tid, t)) = &self.tracer
            && *tid == id
        {
            return Ok(t.clone());
        }
        match tensor_from_graph(g, id) {
            Ok(Some(t)) => return Ok(Value::tensor(tensor(&t)?)),
            Ok(None) => {}
            Err(e) => return Err(PyErr::value_error(format!("a tensor in the request could not be decoded: {e}"))),
        }
        let args: Vec<Id> = o.args.and_then(|a| g.tuple_items(a)).map(<[Id]>::to_vec).unwrap_or_default();
        // An nnsight envoy (the model or one of its modules) carries its path.
        if let Some((state, path)) = envoy_state(g, o) {
            if path == "model" {
                self.model_class(o.callable)?;
            }
            let Some(m) = self.ctx.model.tree().by_envoy(path) else {
                return Ok(opaque(&format!("the module '{path}', which this model does not have")));
            };
            // `model.edit()` made before the request rides in the handle it edited
            // (0.8's `Envoy._edits`, 0.7's `_default_mediators`): that handle is a model
            // handle of its own, whose traces run those blocks first.
            let mediators = g
                .dict_get(state, "_edits")
                .or_else(|| g.dict_get(state, "_default_mediators"))
                // 0.5's `Envoy.__getstate__` names it without the underscore.
                .or_else(|| g.dict_get(state, "default_mediators"))
                .and_then(|l| list_items(g, l))
                .unwrap_or_default();
            if mediators.is_empty() {
                return Ok(self.ctx.envoy(m));
            }
            let ctx = self.ctx.fork();
            ctx.edits.borrow_mut().clear();
            let v = ctx.envoy(m);
            // The edit's own scope names the handle (`edited`): memoized before it loads.
            self.memo.insert(id, v.clone());
            for med in mediators {
                let e = self.edit(med)?;
                ctx.edits.borrow_mut().push(e);
            }
            return Ok(v);
        }
        let Some(Node::Global { module, name: class }) = g.node(o.callable) else {
            // An instance of a class the payload itself defines (cloudpickle ships the
            // user's classes by value): `cls.__new__(cls)` then its `__dict__`.
            return self.instance(id, o);
        };
        let state = g.dict_state(o);
        let arg = |i: usize| args.get(i).copied();
        let (module, class) = (module.as_str(), class.as_str());
        if self.nn_class(module, class)?.is_some() {
            // A torch.nn module shipped by value (`copyreg.__newobj__` + its `__dict__`).
            return self.instance(id, o);
        }
        Ok(match (module, class) {
            // A compiled pattern captured by value (`re.Pattern.__reduce__`).
            ("re", "_compile") => {
                let args = args.iter().map(|&a| self.value(a)).collect::<PyResult<Vec<_>>>()?;
                crate::interp::stdlib::call("re", "compile", args)?
            }
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state") => {
                // `nn.Parameter`: its tensor, requiring grad as it did.
                let data = arg(0).map(|a| self.value(a)).transpose()?.unwrap_or(Value::None);
                let grad = arg(1).and_then(|a| match g.node(a) {
                    Some(Node::Bool(b)) => Some(*b),
                    _ => None,
                });
                if let (Value::Tensor(t), Some(true)) = (&data, grad)
                    && crate::value::dtype::is_float(t.t.kind())
                {
                    let mut h = t.handle();
                    let _ = h.f_requires_grad_(true)?;
                }
                data
            }
            ("cloudpickle.cloudpickle" | "cloudpickle.cloudpickle_fast", "subimport") => {
                let name = arg(0).and_then(|a| g.as_str(a)).unwrap_or("");
                match modules::import(name) {
                    Ok(m) => m,
                    Err(_) => opaque(&format!("the module '{name}'")),
                }
            }
            ("cloudpickle.cloudpickle" | "cloudpickle.cloudpickle_fast", "dynamic_subimport") => {
                // A user module shipped by value: its name and its `__dict__`.
                let name = arg(0).and_then(|a| g.as_str(a)).unwrap_or("<module>").to_string();
                let attrs = Dict::new();
                let m = Value::Module(std::rc::Rc::new(crate::value::PyModule { name: name.as_str().into(), lookup: None, attrs: attrs.clone() }));
                self.memo.insert(id, m.clone());
                if let Some(Value::Dict(d)) = arg(1).map(|a| self.value(a)).transpose()? {
                    for (k, v) in d.items() {
                        if k.as_str().is_some_and(|k| !k.starts_with("__")) {
                            attrs.insert(k, v)?;
                        }
                    }
                }
                module_globals(&attrs)?;
                m
            }
            ("nnsight.intervention.serialization", "_load_function") => self.function(id, &args)?,
            ("nnsight.intervention.serialization", "make_function") => self.function_07(id, &args)?,
            ("nnsight.intervention.serialization", "_make_dataclass_skeleton") => self.dataclass_07(id, &args)?,
            ("cloudpickle.cloudpickle" | "cloudpickle.cloudpickle_fast", "_make_skeleton_class") => self.class(id, &args)?,
            ("cloudpickle.cloudpickle" | "cloudpickle.cloudpickle_fast", "_make_function") => self.bytecode_function(id, &args)?,
            ("cloudpickle.cloudpickle" | "cloudpickle.cloudpickle_fast", "_make_cell" | "_make_empty_cell") => {
                // Memoized empty first: the cell may hold a function whose closure is it.
                let cell = crate::value::object::Cell::new(None);
                let v = bytecode::cell_value(cell.clone());
                self.memo.insert(id, v.clone());
                if let Some(a) = arg(0) {
                    cell.set(Some(self.value(a)?));
                }
                v
            }
            ("builtins" | "__builtin__", kind @ ("property" | "staticmethod" | "classmethod")) => {
                let t = match kind {
                    "property" => &types::PROPERTY,
                    "staticmethod" => &types::STATICMETHOD,
                    _ => &types::CLASSMETHOD,
                };
                let d = Instance::new(ClassRef::Builtin(t));
                let first = match arg(0) {
                    Some(a) => self.value(a)?,
                    None => Value::None,
                };
                if kind == "property" {
                    d.set_attr("fget", first)?;
                    let fset = match arg(1) {
                        Some(a) => self.value(a)?,
                        None => Value::None,
                    };
                    d.set_attr("fset", fset)?;
                } else {
                    d.set_attr("__func__", first)?;
                }
                Value::Instance(d)
            }
            ("torch", "device") => {
                let text = arg(0).and_then(|a| g.as_str(a)).unwrap_or("cpu");
                let index = arg(1).and_then(|a| g.as_int(a));
                let spec = match index {
                    Some(i) => format!("{text}:{i}"),
                    None => text.to_string(),
                };
                match dtype::parse_device(&spec) {
                    Some(d) => Value::Device(d),
                    None => opaque(&format!("the device '{spec}'")),
                }
            }
            ("torch", "Size") => {
                let dims = match arg(0).map(|a| self.value(a)).transpose()? {
                    Some(Value::Tuple(t)) => t.iter().map(|d| d.as_int().unwrap_or(0)).collect(),
                    Some(Value::List(l)) => l.snapshot().iter().map(|d| d.as_int().unwrap_or(0)).collect(),
                    _ => Vec::new(),
                };
                Value::Size(Rc::new(dims))
            }
            ("collections", "OrderedDict") | ("builtins" | "__builtin__", "dict") => {
                let d = Dict::new();
                let v = Value::Dict(d.clone());
                self.memo.insert(id, v.clone());
                for (k, x) in &o.dictitems {
                    let k = self.value(*k)?;
                    let x = self.value(*x)?;
                    d.insert(k, x)?;
                }
                v
            }
            ("builtins" | "__builtin__", "set" | "frozenset") => {
                let items = match arg(0).map(|a| self.value(a)).transpose()? {
                    Some(Value::List(l)) => l.snapshot(),
                    Some(Value::Tuple(t)) => t.to_vec(),
                    _ => Vec::new(),
                };
                Value::Set(Set::new(items, class == "frozenset")?)
            }
            ("builtins" | "__builtin__", "slice") => {
                let mut parts = Vec::new();
                for i in 0..3 {
                    parts.push(match arg(i) {
                        Some(a) => self.value(a)?,
                        None => Value::None,
                    });
                }
                let [lo, hi, step] = <[Value; 3]>::try_from(parts).map_err(|_| PyErr::internal("slice parts"))?;
                Value::slice(lo, hi, step)
            }
            ("numpy._core.multiarray" | "numpy.core.multiarray", "_reconstruct") => {
                // `_reconstruct(ndarray, (0,), b'b')`, then BUILD with
                // `(version, shape, dtype, is_fortran, raw bytes)`.
                let Some(st) = o.state.last().and_then(|&s| g.tuple_items(s)).filter(|t| t.len() == 5) else {
                    return Ok(opaque("a numpy array of a layout localndif does not read"));
                };
                let shape: Vec<i64> = g.tuple_items(st[1]).unwrap_or(&[]).iter().filter_map(|&d| g.as_int(d)).collect();
                let Some(kind) = self.np_kind(st[2]) else {
                    return Ok(opaque("a numpy array of a dtype localndif does not run (object, str, complex, big-endian, ...)"));
                };
                let fortran = g.as_bool(st[3]).unwrap_or(false);
                let Value::Bytes(raw) = self.value(st[4])? else {
                    return Ok(opaque("a numpy array whose data is not raw bytes"));
                };
                let t = np_tensor(&raw, &shape, kind, fortran)?;
                crate::interp::numpy::array(t)?
            }
            ("numpy._core.numeric" | "numpy.core.numeric", "_frombuffer") => {
                // Protocol 5: `_frombuffer(buffer, dtype, shape, order)`.
                let (Some(buf), Some(dt), Some(shape), order) = (arg(0), arg(1), arg(2), arg(3)) else {
                    return Ok(opaque("a numpy array"));
                };
                let Some(kind) = self.np_kind(dt) else {
                    return Ok(opaque("a numpy array of a dtype localndif does not run (object, str, complex, big-endian, ...)"));
                };
                let shape: Vec<i64> = g.tuple_items(shape).unwrap_or(&[]).iter().filter_map(|&d| g.as_int(d)).collect();
                let fortran = order.and_then(|o| g.as_str(o)) == Some("F");
                let Value::Bytes(raw) = self.value(buf)? else {
                    return Ok(opaque("a numpy array whose data is out of band"));
                };
                crate::interp::numpy::array(np_tensor(&raw, &shape, kind, fortran)?)?
            }
            ("numpy._core.multiarray" | "numpy.core.multiarray", "scalar") => {
                let (Some(dt), Some(raw)) = (arg(0), arg(1)) else {
                    return Ok(opaque("a numpy scalar"));
                };
                let Some(kind) = self.np_kind(dt) else {
                    return Ok(opaque("a numpy scalar of a dtype localndif does not run"));
                };
                let Value::Bytes(raw) = self.value(raw)? else {
                    return Ok(opaque("a numpy scalar whose data is not raw bytes"));
                };
                crate::interp::numpy::scalar(&np_tensor(&raw, &[], kind, false)?)?
            }
            ("numpy", "dtype") => match self.np_kind(id) {
                Some(k) => crate::interp::numpy::NpDtype::value(k),
                None => opaque("a numpy dtype localndif does not run"),
            },
            ("_codecs", "encode") => {
                let text = arg(0).and_then(|a| g.as_str(a)).unwrap_or("");
                Value::Bytes(Rc::new(text.chars().map(|c| c as u32 as u8).collect()))
            }
            ("transformers.tokenization_utils_base", "BatchEncoding") => {
                // A UserDict: its items are the state's `data`.
                match state.and_then(|s| g.dict_get(s, "data")) {
                    Some(d) => self.value(d)?,
                    None => Value::Dict(Dict::new()),
                }
            }
            (m, c) => opaque(&format!("an object of class {m}.{c}")),
        })
    }

    /// The dtype of a pickled `numpy.dtype('f8', False, True)` (little-endian or
    /// byte-sized; the kinds localndif's numpy has).
    fn np_kind(&self, id: Id) -> Option<tch::Kind> {
        let g = self.g;
        let o = g.obj(id)?;
        if g.global(o.callable)? .1 != "dtype" {
            return None;
        }
        let code = g.tuple_items(o.args?)?.first().and_then(|&c| g.as_str(c))?;
        let order = o.state.last().and_then(|&s| g.tuple_items(s)).and_then(|t| t.get(1)).and_then(|&b| g.as_str(b)).unwrap_or("|");
        if order == ">" {
            return None;
        }
        crate::value::numpy::by_name(code)
    }

    /// One shipped `model.edit()` block: 0.8's `Mediator` state `{"reduced": (source,
    /// globals, locals), ...}` (nnsight's `reduce_block`), or 0.7's `Mediator` whose
    /// `intervention` is the block compiled into a function.
    fn edit(&mut self, med: Id) -> PyResult<Edit> {
        let g = self.g;
        let bad = |why: &str| PyErr::value_error(format!("a model.edit() shipped with the model could not be read: {why}"));
        let state = g.obj(med).and_then(|o| g.dict_state(o)).ok_or_else(|| bad("its mediator has no state"))?;
        let (source, globals, locals) = if let Some(reduced) = g.dict_get(state, "reduced") {
            let Some([src, gl, lo]) = g.tuple_items(reduced).and_then(|t| <[Id; 3]>::try_from(t).ok()) else {
                return Err(bad("its block is not (source, globals, locals)"));
            };
            let src = g.as_str(src).ok_or_else(|| bad("its source is not a string"))?.to_string();
            (src, Some(gl), Some(lo))
        } else {
            let (src, gl) = crate::request::mediator_body(g, med).map_err(|e| bad(&e.to_string()))?;
            (src, gl, None)
        };
        let program = Program::parse(&source, "<nnsight edit>")?;
        let code = Code::module(program.clone(), &program.module().body, "<module>")?;
        let scope = |this: &mut Self, id: Option<Id>| -> PyResult<Rc<Dict>> {
            let d = Dict::new();
            if let Some(id) = id {
                match this.value(id)? {
                    Value::Dict(src) => {
                        for (k, v) in src.items() {
                            d.insert(k, v)?;
                        }
                    }
                    _ => return Err(bad("its scope is not a dict")),
                }
            }
            Ok(d)
        };
        let globals = scope(self, globals)?;
        globals.insert(Value::str("__name__"), Value::str("__main__"))?;
        let own = scope(self, locals)?;
        Ok(Edit::new(code, own, Namespace::new(globals, None, None)))
    }

    /// A class the user's script defined, shipped by value: a skeleton
    /// (`_make_skeleton_class(type, name, bases, {'__module__': ...}, id, None)`), then its
    /// dict (`_class_setstate`). A dataclass gets its generated methods from our own
    /// dataclass machinery (cloudpickle ships those as bytecode).
    fn class(&mut self, id: Id, args: &[Id]) -> PyResult<Value> {
        let g = self.g;
        let (cls, dict) = match self.skeleton(id, args.get(1), args.get(2), args.get(3))? {
            Ok(c) => c,
            Err(opaque) => return Ok(opaque),
        };
        let Some(&state) = self.class_states.get(&id) else {
            return Ok(cls);
        };
        let Some(state) = g.tuple_items(state).and_then(|t| t.first().copied()) else {
            return Ok(cls);
        };
        let mut dataclass = false;
        if let Some(Node::Dict(items)) = g.node(state) {
            for (k, v) in items.clone() {
                let Some(key) = g.as_str(k) else { continue };
                match key {
                    "__module__" | "__doc__" | "__slotnames__" | "__dict__" | "__weakref__" | "__qualname__" => continue,
                    "__dataclass_fields__" | "__dataclass_params__" | "__match_args__" => {
                        dataclass = true;
                        continue;
                    }
                    _ => {}
                }
                let v = self.value(v)?;
                dict.insert(Value::str(key), v)?;
            }
        }
        set_owners(&cls);
        if dataclass {
            return crate::interp::dataclass::apply(cls);
        }
        Ok(cls)
    }

    /// A class from its `name`, `bases` (a tuple) and type kwargs (`{'__module__': ...}`),
    /// memoized as `id` before its dict is filled (a method may refer back to it); `Err`
    /// is what stands in for a class whose base cannot be loaded.
    #[allow(clippy::type_complexity)]
    fn skeleton(&mut self, id: Id, name: Option<&Id>, bases: Option<&Id>, kwargs: Option<&Id>) -> PyResult<Result<(Value, Rc<Dict>), Value>> {
        let g = self.g;
        let name = name.and_then(|&a| g.as_str(a)).unwrap_or("<class>").to_string();
        let module = kwargs
            .and_then(|&d| g.dict_get(d, "__module__"))
            .and_then(|m| g.as_str(m))
            .unwrap_or("__main__")
            .to_string();
        let mut resolved = Vec::new();
        for &b in bases.and_then(|&t| g.tuple_items(t)).unwrap_or(&[]) {
            match self.value(b)? {
                Value::Type(t) => resolved.push(ClassRef::Builtin(t)),
                Value::Class(c) => resolved.push(ClassRef::User(c)),
                other => return Ok(Err(opaque(&format!("the class '{name}' (its base {} cannot be loaded)", other.type_name())))),
            }
        }
        let dict = Dict::new();
        let cls = Value::Class(Class::new(&name, &name, &module, resolved, dict.clone())?);
        self.memo.insert(id, cls.clone());
        Ok(Ok((cls, dict)))
    }

    /// The class a `torch.nn` global names (`torch.nn.modules.linear.Linear`), from the
    /// job's `nn.py`; `None` for every other global.
    fn nn_class(&mut self, module: &str, name: &str) -> PyResult<Option<Value>> {
        if !(module == "torch.nn" || module.starts_with("torch.nn.modules.") || (module == "torch.nn.parameter" && name == "Parameter")) {
            return Ok(None);
        }
        if self.nn.is_none() {
            self.nn = Some(crate::interp::stdlib::run_module("torch.nn", include_str!("nn.py"), "<localndif torch.nn>")?);
        }
        let ns = self.nn.as_ref().expect("made above");
        Ok(ns.own.get_str(name).filter(|v| matches!(v, Value::Class(_))))
    }

    /// Records the class of the client's model object (node `class`) as the root
    /// envoy's (`ModelCtx::root_type`): one of nnsight's, or the user's subclass of
    /// LanguageModel shipped by value (or stood in for, when pickled by reference).
    fn model_class(&mut self, class: Id) -> PyResult<()> {
        let t = match self.value(class)? {
            Value::Type(t) if t.is_subtype(&types::ENVOY) => ClassRef::Builtin(t),
            Value::Class(c) if c.builtin_base().is_subtype(&types::ENVOY) => ClassRef::User(c),
            _ => return Ok(()),
        };
        *self.ctx.root_type.borrow_mut() = Some(t);
        Ok(())
    }

    /// `cls.__new__(cls)` of a class the payload defines, then its attributes.
    fn instance(&mut self, id: Id, o: &Obj) -> PyResult<Value> {
        let Value::Class(c) = self.value(o.callable)? else {
            return Ok(opaque("an object of a class built inside the payload"));
        };
        let inst = Instance::new(ClassRef::User(c));
        let v = Value::Instance(inst.clone());
        self.memo.insert(id, v.clone());
        for &s in &o.state {
            // BUILD with a dict (or a `(dict, slots)` pair) sets attributes.
            let d = match self.g.node(s) {
                Some(Node::Dict(_)) => Some(s),
                Some(Node::Tuple(t)) => t.first().copied().filter(|&d| matches!(self.g.node(d), Some(Node::Dict(_)))),
                _ => None,
            };
            if let Some(d) = d
                && let Value::Dict(items) = self.value(d)?
            {
                for (k, x) in items.items() {
                    if let Some(k) = k.as_str() {
                        inst.set_attr(k, x)?;
                    }
                }
            }
        }
        Ok(v)
    }

    /// Compiles a shipped function with empty globals (filled by the caller) and memoizes
    /// it as `id` first, so that a recursive function finds itself.
    ///
    /// A function the interpreter cannot run (a generator, an `async def`) fails when it
    /// is called, not when the job loads: a module shipped by value (`nnsight.register`)
    /// brings every function it defines, most of which the trace never calls.
    fn shipped(&mut self, id: Id, f: ShippedFunction<'_>) -> PyResult<(Value, Rc<Namespace>)> {
        let globals = Namespace::new(Dict::new(), None, None);
        let name = f.name.to_string();
        let f = match foreign::function(f, globals.clone()) {
            Ok(f) => f,
            Err(e) if e.is_instance_of(&types::NOT_IMPLEMENTED_ERROR) => {
                let u: Rc<dyn HostObj> = Rc::new(Unrunnable { name, err: e });
                Value::Host(u)
            }
            Err(e) => return Err(e),
        };
        self.memo.insert(id, f.clone());
        Ok((f, globals))
    }

    /// A shipped function's `__defaults__` (a tuple) and `__kwdefaults__` (a dict).
    #[allow(clippy::type_complexity)]
    fn defaults(&mut self, defaults: Option<&Id>, kwdefaults: Option<&Id>) -> PyResult<(Vec<Value>, Vec<(Rc<str>, Value)>)> {
        let defaults = match defaults.map(|&a| self.value(a)).transpose()? {
            Some(Value::Tuple(t)) => t.to_vec(),
            _ => Vec::new(),
        };
        let kwdefaults = match kwdefaults.map(|&a| self.value(a)).transpose()? {
            Some(Value::Dict(d)) => d
                .items()
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (Rc::from(k), v)))
                .collect(),
            _ => Vec::new(),
        };
        Ok((defaults, kwdefaults))
    }

    /// A function shipped by source, memoized before its globals are filled so that a
    /// recursive function finds itself.
    fn function(&mut self, id: Id, args: &[Id]) -> PyResult<Value> {
        let g = self.g;
        let s = |i: usize| args.get(i).and_then(|&a| g.as_str(a)).unwrap_or("");
        let (defaults, kwdefaults) = self.defaults(args.get(2), args.get(3))?;
        let first_line = args.get(6).and_then(|&a| g.as_int(a)).unwrap_or(1).clamp(1, 1 << 24) as u32;
        let (f, globals) = self.shipped(id, ShippedFunction { source: s(0), name: s(1), filename: s(5), first_line, defaults, kwdefaults })?;
        if let Some(&gid) = self.fills.get(&id)
            && let Value::Dict(d) = self.value(gid)?
        {
            for (k, v) in d.items() {
                if let Some(k) = k.as_str() {
                    globals.set(k, v)?;
                }
            }
        }
        if let Value::Function(func) = &f {
            foreign::own_defaults(func, None);
        }
        Ok(f)
    }
}

impl Loader<'_> {
    /// A function shipped by source by nnsight 0.5–0.7 (`make_function(source, name,
    /// filename, qualname, module, doc, annotations, defaults, kwdefaults, base_globals,
    /// closure_values, closure_names[, firstlineno])`), whose globals arrive afterwards
    /// (`_source_function_setstate`). Closure variables become globals of the function:
    /// it sees the same values under the same names.
    fn function_07(&mut self, id: Id, args: &[Id]) -> PyResult<Value> {
        let g = self.g;
        let s = |i: usize| args.get(i).and_then(|&a| g.as_str(a)).unwrap_or("");
        let (defaults, kwdefaults) = self.defaults(args.get(7), args.get(8))?;
        let first_line = args.get(12).and_then(|&a| g.as_int(a)).unwrap_or(1).clamp(1, 1 << 24) as u32;
        // A method arrives indented.
        let source = crate::text::dedent(&s(0).lines().collect::<Vec<_>>()).join("\n");
        let (f, globals) = self.shipped(id, ShippedFunction { source: &source, name: s(1), filename: s(2), first_line, defaults, kwdefaults })?;
        let names: Vec<String> = args
            .get(11)
            .and_then(|&a| list_items(g, a))
            .map(|v| v.iter().filter_map(|&n| g.as_str(n).map(str::to_string)).collect())
            .unwrap_or_default();
        let fill = |d: Option<Value>| -> PyResult<()> {
            if let Some(Value::Dict(d)) = d {
                for (k, v) in d.items() {
                    if let Some(k) = k.as_str() {
                        globals.set(k, v)?;
                    }
                }
            }
            Ok(())
        };
        fill(args.get(9).map(|&a| self.value(a)).transpose()?)?;
        if let Some(values) = args.get(10).and_then(|&a| list_items(g, a)) {
            for (name, &v) in names.iter().zip(values.iter()) {
                let v = self.value(v)?;
                globals.set(name, v)?;
            }
        }
        let slot = self
            .fills
            .get(&id)
            .and_then(|&st| g.tuple_items(st).and_then(|t| t.get(1).copied()));
        // The function's `__dict__` (`functools.wraps` puts `__wrapped__` there).
        let func_dict = self.fills.get(&id).and_then(|&st| g.tuple_items(st).and_then(|t| t.first().copied()));
        let mut wrapped = None;
        if let Some(Value::Dict(d)) = func_dict.map(|d| self.value(d)).transpose()?
            && let Value::Function(func) = &f
        {
            for (k, v) in d.items() {
                let Some(k) = k.as_str() else { continue };
                if k == "__wrapped__" {
                    wrapped = Some(v.clone());
                }
                func.attrs.borrow_mut().push((Rc::from(k), v));
            }
        }
        if let Some(slot) = slot {
            fill(g.dict_get(slot, "__globals__").map(|d| self.value(d)).transpose()?)?;
            // Closure cells that referred back to functions (local recursion).
            if let Some(Node::Dict(items)) = g.dict_get(slot, "__deferred_closure__").and_then(|d| g.node(d)) {
                for (k, v) in items.clone() {
                    let Some(name) = g.as_int(k).and_then(|i| names.get(i as usize)) else { continue };
                    let v = self.value(v)?;
                    globals.set(name, v)?;
                }
            }
        }
        if let Value::Function(func) = &f {
            foreign::own_defaults(func, wrapped.as_ref());
        }
        Ok(f)
    }
}

impl Loader<'_> {
    /// A dataclass shipped by nnsight 0.5–0.7 (`_make_dataclass_skeleton(name, bases,
    /// type_kwargs, fields_info, dataclass_params, tracker_id)` with `fields_info` a list
    /// of `(name, type, default or dataclasses.MISSING)`), then `_class_setstate`: the
    /// class is rebuilt and `@dataclass` applied by our own dataclass machinery.
    fn dataclass_07(&mut self, id: Id, args: &[Id]) -> PyResult<Value> {
        let g = self.g;
        let (cls, dict) = match self.skeleton(id, args.first(), args.get(1), args.get(2))? {
            Ok(c) => c,
            Err(opaque) => return Ok(opaque),
        };
        let annotations = Dict::new();
        for field in args.get(3).and_then(|&a| list_items(g, a)).unwrap_or_default() {
            let Some([fname, ftype, fdefault]) = g.tuple_items(field).and_then(|t| <&[Id; 3]>::try_from(t).ok()).copied() else {
                continue;
            };
            let Some(fname) = g.as_str(fname) else { continue };
            let ftype = self.value(ftype)?;
            annotations.insert(Value::str(fname), ftype)?;
            if g.global(fdefault) != Some(("dataclasses", "MISSING")) {
                let d = self.value(fdefault)?;
                dict.insert(Value::str(fname), d)?;
            }
        }
        dict.insert(Value::str("__annotations__"), Value::Dict(annotations))?;
        // Methods and class attributes from `_class_setstate` (not the generated ones).
        if let Some(state) = self.class_states.get(&id).and_then(|&st| g.tuple_items(st).and_then(|t| t.first().copied()))
            && let Some(Node::Dict(items)) = g.node(state)
        {
            for (k, v) in items.clone() {
                let Some(key) = g.as_str(k) else { continue };
                if key.starts_with("__") && key.ends_with("__") {
                    continue;
                }
                if dict.get(&Value::str(key))?.is_some() {
                    continue;
                }
                let v = self.value(v)?;
                dict.insert(Value::str(key), v)?;
            }
        }
        set_owners(&cls);
        crate::interp::dataclass::apply(cls)
    }
}

impl Loader<'_> {
    /// A function shipped as CPython bytecode (cloudpickle's `_make_function`), memoized
    /// before its state (`_function_setstate`) loads: its globals or closure may name it.
    fn bytecode_function(&mut self, id: Id, args: &[Id]) -> PyResult<Value> {
        let g = self.g;
        let f = bytecode::make_function(g, args, self.python_version, &mut |a| self.value(a))?;
        let v = f.clone().value();
        self.memo.insert(id, v.clone());
        if let Some(&[state, slots]) = self.fills.get(&id).and_then(|&st| g.tuple_items(st)) {
            let (state, slots) = (self.value(state)?, self.value(slots)?);
            bytecode::set_state(&f, &state, &slots)?;
        }
        // torch's own decorator wrapper (`@torch.no_grad()`, `@torch.inference_mode()`):
        // cloudpickle ships its nested `decorate_context` by value, around a bound method
        // of torch's context-manager object. Runs as the function it wraps — as a decorated
        // function shipped as source runs (its decorators are not re-applied).
        if f.code.qualname.as_ref() == "context_decorator.<locals>.decorate_context"
            && let Some(i) = f.code.freevars.iter().position(|n| n.as_ref() == "func")
            && let Some(func) = f.closure.borrow().get(i).and_then(|c| c.get())
        {
            self.memo.insert(id, func.clone());
            return Ok(func);
        }
        Ok(v)
    }
}

/// Makes the methods of a shipped class its own, for zero-argument `super()` (a method
/// compiled on its own has no `__class__` cell; the client ships the cell's class as a
/// global of the function, which `super()` does not read).
fn set_owners(cls: &Value) {
    let Value::Class(class) = cls else { return };
    for (_, v) in class.dict.items() {
        let func = match &v {
            Value::Function(func) => Some(func.clone()),
            // staticmethod / classmethod, property
            Value::Instance(i) => match i.get_attr("__func__").or_else(|| i.get_attr("fget")) {
                Some(Value::Function(func)) => Some(func),
                _ => None,
            },
            _ => None,
        };
        if let Some(func) = func {
            *func.owner.borrow_mut() = Some(Rc::downgrade(class));
        }
    }
}

fn list_items(g: &Graph, id: Id) -> Option<Vec<Id>> {
    match g.node(id)? {
        Node::List(v) | Node::Tuple(v) => Some(v.clone()),
        _ => None,
    }
}


/// A class or function by reference: builtin types and torch dtypes.
fn global(module: &str, name: &str) -> Value {
    match module {
        "builtins" | "__builtin__" => builtins::lookup(name).unwrap_or_else(|| opaque(&format!("the builtin '{name}'"))),
        "torch" | "torch._tensor" if name == "Tensor" => Value::Type(&types::TENSOR),
        "torch" => match dtype::by_name(name) {
            Some(k) => Value::Dtype(k),
            None => opaque(&format!("torch.{name}")),
        },
        // numpy's types (`np.float32` captured as a dtype argument) and functions.
        "numpy" => crate::interp::numpy::module_attr(name).unwrap_or_else(|| opaque(&format!("numpy.{name}"))),
        m => modules::nnsight_class(m, name)
            .or_else(|| stdlib_global(m, name))
            .unwrap_or_else(|| opaque(&format!("{m}.{name}"))),
    }
}

/// A class or function of a module the interpreter writes in Python (`collections.Counter`,
/// `einops.einops.rearrange`, `json.dumps`), captured by reference.
fn stdlib_global(module: &str, name: &str) -> Option<Value> {
    let top = module.split('.').next()?;
    crate::interp::stdlib::source(top)?;
    match modules::import(top).ok()? {
        Value::Module(m) => m.get(name),
        _ => None,
    }
}

/// A request tensor as a tch tensor (on the CPU, where the client's pickle put it).
pub fn tensor(t: &TensorData) -> PyResult<Tensor> {
    let shape: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
    crate::value::tensor::check_numel(crate::value::tensor::shape_numel(&shape))?;
    let out = Tensor::f_from_data_size(t.data(), &shape, dtype::from_wire(t.dtype()))?;
    Ok(if t.requires_grad() { out.set_requires_grad(true) } else { out })
}

/// A numpy array's data (C or Fortran order) as a CPU tensor of `kind`.
fn np_tensor(raw: &[u8], shape: &[i64], kind: tch::Kind, fortran: bool) -> PyResult<Tensor> {
    let numel = crate::value::tensor::shape_numel(shape);
    crate::value::tensor::check_numel(numel)?;
    if raw.len() as i64 != numel.saturating_mul(kind.elt_size_in_bytes() as i64) {
        return Err(PyErr::value_error("a numpy array in the request could not be decoded: its data does not match its shape"));
    }
    if !fortran || shape.len() < 2 {
        return Ok(Tensor::f_from_data_size(raw, shape, kind)?);
    }
    let reversed: Vec<i64> = shape.iter().rev().copied().collect();
    let perm: Vec<i64> = (0..shape.len() as i64).rev().collect();
    Ok(Tensor::f_from_data_size(raw, &reversed, kind)?.f_permute(perm.as_slice())?.f_contiguous()?)
}

/// A value the server cannot represent, standing in until user code touches it.
pub fn opaque(what: &str) -> Value {
    let o: Rc<dyn HostObj> = Rc::new(Opaque { what: what.to_string() });
    Value::Host(o)
}

struct Opaque {
    what: String,
}

impl Opaque {
    fn refuse(&self) -> PyErr {
        PyErr::unsupported(format!("a captured value of a kind it cannot run: {}", self.what))
    }
}

impl HostObj for Opaque {
    fn type_name(&self) -> &str {
        "object"
    }
    fn repr(&self) -> String {
        format!("<{}>", self.what)
    }
    fn getattr(&self, _it: &mut Interp, _this: &Value, _name: &str) -> PyResult<Value> {
        Err(self.refuse())
    }
    fn setattr(&self, _it: &mut Interp, _this: &Value, _name: &str, _v: Value) -> PyResult<()> {
        Err(self.refuse())
    }
    fn getitem(&self, _it: &mut Interp, _this: &Value, _key: &Value) -> PyResult<Value> {
        Err(self.refuse())
    }
    fn call(&self, _it: &mut Interp, _this: &Value, _args: Vec<Value>, _kwargs: Kwargs) -> PyResult<Value> {
        Err(self.refuse())
    }
    fn iter(&self, _it: &mut Interp, _this: &Value) -> Option<PyResult<Value>> {
        Some(Err(self.refuse()))
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An nnsight envoy among the payload's objects: its state dict and its `path`. Its
/// class is nnsight's (a global under `nnsight.`) or one derived from it, which the state
/// gives away: an envoy's `_module` (the persistent id of the module it wraps).
fn envoy_state<'a>(g: &'a Graph, o: &Obj) -> Option<(Id, &'a str)> {
    let state = g.dict_state(o)?;
    let path = g.as_str(g.dict_get(state, "path")?)?;
    let nnsight = matches!(g.node(o.callable), Some(Node::Global { module, .. }) if module.starts_with("nnsight."));
    // A subclass the payload defines gives itself away by its state: an envoy's `_module`
    // (0.6+), or 0.5's `Envoy.__getstate__` keys.
    let envoy_like = g.dict_get(state, "_module").is_some() || (g.dict_get(state, "named_children").is_some() && g.dict_get(state, "children").is_some());
    (nnsight || envoy_like).then_some((state, path))
}

/// The module globals of the decorated functions a module shipped by value defines.
/// nnsight 0.8.1 ships a decorated function with the globals its *wrapper* reads, from
/// the wrapper's module (`torch.utils._contextlib` for `torch.no_grad()`), so the names
/// its own body and defaults read from its module are missing; the module, shipped whole,
/// has them. A function defined in the module under the name it is bound to gets the
/// module's names (which win) and then its own defaults (`foreign::own_defaults`).
fn module_globals(attrs: &Rc<Dict>) -> PyResult<()> {
    for (k, v) in attrs.items() {
        let Value::Function(func) = &v else { continue };
        let decorated = func.code.function().is_some_and(|d| !d.decorator_list.is_empty());
        if !decorated || k.as_str() != Some(func.name.as_ref()) {
            continue;
        }
        for (name, x) in attrs.items() {
            if let Some(name) = name.as_str() {
                func.globals.set(name, x)?;
            }
        }
        foreign::own_defaults(func, None);
    }
    Ok(())
}

/// A shipped function the interpreter cannot run: calling it raises why.
struct Unrunnable {
    name: String,
    err: PyErr,
}

impl HostObj for Unrunnable {
    fn type_name(&self) -> &str {
        "function"
    }
    fn repr(&self) -> String {
        format!("<function {}>", self.name)
    }
    fn call(&self, _it: &mut Interp, _this: &Value, _args: Vec<Value>, _kwargs: Kwargs) -> PyResult<Value> {
        Err(self.err.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The module path an nnsight envoy object of the payload stands for (its `path`).
fn envoy_path(g: &Graph, id: Id) -> Option<&str> {
    let Node::Object(o) = g.node(id)? else { return None };
    let (module, _) = g.global(o.callable)?;
    if !module.starts_with("nnsight.") {
        return None;
    }
    g.as_str(g.dict_get(g.dict_state(o)?, "path")?)
}

/// The aliases the client's `rename=` bound: in 0.8.1 (`aliasing.bind`) an attribute of a
/// shipped envoy that holds another envoy than the child of that name; in 0.7 the
/// envoy's `_alias` (0.5: `alias`; an `Aliaser`) whose `alias_to_name` maps an alias to a path relative
/// to the envoy. What the client bound is what user code can write, whatever the rule
/// that bound it.
pub fn aliases(g: &Graph, tree: &crate::model::Tree) -> HashMap<(ModuleId, String), ModuleId> {
    let mut out = HashMap::new();
    for id in 0..g.nodes.len() {
        let Some(path) = envoy_path(g, id) else { continue };
        let Some(Node::Object(o)) = g.node(id) else { continue };
        let Some(from) = tree.by_envoy(path) else { continue };
        for &s in &o.state {
            let Some(Node::Dict(items)) = g.node(s) else { continue };
            for (k, v) in items {
                let Some(name) = g.as_str(*k) else { continue };
                // 0.7's `_alias`; 0.5's `Envoy.__getstate__` names it `alias`.
                if name == "_alias" || name == "alias" {
                    let Some(Node::Object(a)) = g.node(*v) else { continue };
                    let names = a.state.iter().rev().find_map(|&s| g.dict_get(s, "alias_to_name"));
                    let Some(Node::Dict(pairs)) = names.and_then(|n| g.node(n)) else { continue };
                    for (alias, rel) in pairs {
                        let (Some(alias), Some(rel)) = (g.as_str(*alias), g.as_str(*rel)) else { continue };
                        if let Some(to) = tree.by_envoy(&format!("{path}.{}", rel.trim_start_matches('.'))) {
                            out.insert((from, alias.to_string()), to);
                        }
                    }
                    continue;
                }
                if name.starts_with('_') {
                    continue;
                }
                let Some(target) = envoy_path(g, *v) else { continue };
                if target == format!("{path}.{name}") {
                    continue;
                }
                if let Some(to) = tree.by_envoy(target) {
                    out.insert((from, name.to_string()), to);
                }
            }
        }
    }
    out
}
