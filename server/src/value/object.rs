//! Functions, classes, instances, closures' cells, namespaces and module objects: the
//! values that make up user-defined code (docs/architecture.md), as data the evaluator runs.

use std::cell::RefCell;
use std::rc::Rc;

use super::dict::Dict;
use super::error::{PyErr, PyResult};
use super::heap::{self, Clear};
use super::types::{self, ClassRef, TypeObj};
use super::Value;
use crate::interp::code::Code;
use crate::interp::Interp;

/// A variable captured by a closure (CPython's cell).
pub struct Cell(RefCell<Option<Value>>);

impl Cell {
    pub fn new(v: Option<Value>) -> Rc<Cell> {
        let c = Rc::new(Cell(RefCell::new(v)));
        heap::track(&c);
        c
    }
    pub fn get(&self) -> Option<Value> {
        self.0.borrow().clone()
    }
    pub fn set(&self, v: Option<Value>) {
        let old = std::mem::replace(&mut *self.0.borrow_mut(), v);
        drop(old);
    }
}

impl Drop for Cell {
    fn drop(&mut self) {
        if let Some(v) = self.0.get_mut().take() {
            super::drop::release([v]);
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let d = std::mem::take(self.defaults.get_mut());
        let k = std::mem::take(self.kwdefaults.get_mut());
        let a = std::mem::take(self.attrs.get_mut());
        super::drop::release(d.into_iter().chain(k.into_iter().map(|(_, v)| v)).chain(a.into_iter().map(|(_, v)| v)));
    }
}

impl Drop for BoundMethod {
    fn drop(&mut self) {
        let r = std::mem::replace(&mut self.receiver, Value::None);
        let f = std::mem::replace(&mut self.func, Value::None);
        super::drop::release([r, f]);
    }
}

impl Drop for Native {
    fn drop(&mut self) {
        if let Some(r) = self.recv.take() {
            super::drop::release([r]);
        }
        if let Aux::Value(v) = std::mem::replace(&mut self.aux, Aux::None) {
            super::drop::release([v]);
        }
    }
}

impl Clear for Cell {
    fn clear_refs(&self) {
        self.set(None);
    }
}

/// A name → value mapping code runs against: module globals, or a traced block's scope
/// (its own names, then the names its sibling blocks share, then the enclosing globals —
/// nnsight's `Scope`).
pub struct Namespace {
    pub own: Rc<Dict>,
    /// Written through by every store; read when `own` misses (sibling invokes' names).
    pub shared: Option<Rc<Dict>>,
    pub parent: Option<Rc<Namespace>>,
    /// Names this block bound, in order (what a trace pushes back).
    written: RefCell<Vec<Rc<str>>>,
    /// `del name` also unbinds it in `shared` (nnsight 0.7 runs each block as a function,
    /// so a deleted name is gone; 0.8.1 still finds it in the shared store).
    delete_through: std::cell::Cell<bool>,
}

impl Namespace {
    pub fn new(own: Rc<Dict>, shared: Option<Rc<Dict>>, parent: Option<Rc<Namespace>>) -> Rc<Namespace> {
        let n = Rc::new(Namespace {
            own,
            shared,
            parent,
            written: RefCell::new(Vec::new()),
            delete_through: std::cell::Cell::new(false),
        });
        heap::track(&n);
        n
    }

    pub fn plain() -> Rc<Namespace> {
        Namespace::new(Dict::new(), None, None)
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        let key = Value::str(name);
        if let Ok(Some(v)) = self.own.get(&key) {
            return Some(v);
        }
        if let Some(s) = &self.shared
            && let Ok(Some(v)) = s.get(&key)
        {
            return Some(v);
        }
        self.parent.as_ref().and_then(|p| p.get(name))
    }

    pub fn set(&self, name: &str, v: Value) -> PyResult<()> {
        let key = Value::str(name);
        self.own.insert(key.clone(), v.clone())?;
        if let Some(s) = &self.shared {
            s.insert(key, v)?;
        }
        let mut w = self.written.borrow_mut();
        if !w.iter().any(|n| n.as_ref() == name) {
            w.push(name.into());
        }
        Ok(())
    }

    /// Binds `name` here only (not in the shared store) and marks it written.
    pub fn push(&self, name: &str, v: Value) -> PyResult<()> {
        self.own.insert(Value::str(name), v)?;
        self.mark_written(&[name.into()]);
        Ok(())
    }

    pub fn delete(&self, name: &str) -> PyResult<bool> {
        let key = Value::str(name);
        let found = self.own.remove(&key)?.is_some();
        if found && self.delete_through.get() && let Some(s) = &self.shared {
            s.remove(&key)?;
        }
        Ok(found)
    }

    /// Makes `del` unbind names in the shared store too (see `delete_through`).
    pub fn delete_through(self: &Rc<Self>) -> Rc<Self> {
        self.delete_through.set(true);
        self.clone()
    }

    /// The names this block bound, with their current values (nnsight's `Scope.writes`).
    pub fn writes(&self) -> Vec<(Rc<str>, Value)> {
        let names = self.written.borrow().clone();
        names
            .into_iter()
            .filter_map(|n| self.own.get(&Value::str(&n)).ok().flatten().map(|v| (n, v)))
            .collect()
    }

    /// Marks names as bound by this block (a nested trace pushed them in).
    pub fn mark_written(&self, names: &[Rc<str>]) {
        let mut w = self.written.borrow_mut();
        for n in names {
            if !w.iter().any(|x| x == n) {
                w.push(n.clone());
            }
        }
    }
}

impl Clear for Namespace {
    fn clear_refs(&self) {
        self.written.borrow_mut().clear();
    }
}

/// A function user code defined or the client shipped by source.
pub struct Function {
    pub name: Rc<str>,
    pub qualname: Rc<str>,
    pub module: Rc<str>,
    pub code: Rc<Code>,
    pub globals: Rc<Namespace>,
    /// `__defaults__` and `__kwdefaults__`; settable after creation (the loader gives a
    /// decorated function shipped by value its own, `foreign::own_defaults`).
    pub defaults: RefCell<Vec<Value>>,
    pub kwdefaults: RefCell<Vec<(Rc<str>, Value)>>,
    pub closure: Vec<Rc<Cell>>,
    /// `__dict__` (decorators and user code may set attributes).
    pub attrs: RefCell<Vec<(Rc<str>, Value)>>,
    /// The class whose body defined this function (zero-argument `super()`).
    pub owner: RefCell<Option<std::rc::Weak<Class>>>,
}

/// A user function bound to its instance (or class, for classmethods).
pub struct BoundMethod {
    pub receiver: Value,
    pub func: Value,
}

pub type NativeFn = fn(&mut Interp, &Native, Vec<Value>, Vec<(Rc<str>, Value)>) -> PyResult<Value>;

/// What a native function carries besides its receiver.
#[derive(Clone)]
pub enum Aux {
    None,
    Index(usize),
    Name(Rc<str>),
    Value(Value),
}

/// A builtin function, or a builtin method bound to its receiver.
pub struct Native {
    pub name: Rc<str>,
    pub recv: Option<Value>,
    pub f: NativeFn,
    pub aux: Aux,
}

impl Native {
    pub fn value(name: &str, f: NativeFn) -> Value {
        Value::Native(Rc::new(Native {
            name: name.into(),
            recv: None,
            f,
            aux: Aux::None,
        }))
    }
    pub fn bound(name: &str, recv: Value, f: NativeFn) -> Value {
        Value::Native(Rc::new(Native {
            name: name.into(),
            recv: Some(recv),
            f,
            aux: Aux::None,
        }))
    }
    pub fn with_aux(name: &str, recv: Option<Value>, f: NativeFn, aux: Aux) -> Value {
        Value::Native(Rc::new(Native {
            name: name.into(),
            recv,
            f,
            aux,
        }))
    }
}

/// A class user code defined (`class`), or the client shipped.
pub struct Class {
    pub name: Rc<str>,
    pub qualname: Rc<str>,
    pub module: Rc<str>,
    pub bases: Vec<ClassRef>,
    pub dict: Rc<Dict>,
    /// This class then its user-defined ancestors in method resolution order.
    mro: RefCell<Vec<Rc<Class>>>,
    /// The builtin type the class ultimately derives from (`object`, `Exception`, ...).
    builtin: &'static TypeObj,
}

impl Class {
    pub fn new(
        name: &str,
        qualname: &str,
        module: &str,
        bases: Vec<ClassRef>,
        dict: Rc<Dict>,
    ) -> PyResult<Rc<Class>> {
        let mut builtin: &'static TypeObj = &types::OBJECT;
        for b in &bases {
            let bt = match b {
                ClassRef::Builtin(t) => *t,
                ClassRef::User(c) => c.builtin,
            };
            if !std::ptr::eq(bt, &types::OBJECT) {
                // Exceptions; and nnsight's model classes, which a class the client
                // shipped (a `LanguageModel` subclass) derives from: its one instance is
                // the job's model envoy, never built here (`Interp::instantiate`).
                if !bt.is_subtype(&types::BASE_EXCEPTION) && !bt.is_subtype(&types::ENVOY) {
                    return Err(PyErr::unsupported(format!(
                        "classes that derive from the builtin type '{}'",
                        bt.name
                    )));
                }
                if std::ptr::eq(builtin, &types::OBJECT) || bt.is_subtype(builtin) {
                    builtin = bt;
                }
            }
        }
        let c = Rc::new(Class {
            name: name.into(),
            qualname: qualname.into(),
            module: module.into(),
            bases,
            dict,
            mro: RefCell::new(Vec::new()),
            builtin,
        });
        let mro = c3(&c)?;
        *c.mro.borrow_mut() = mro;
        heap::track(&c);
        Ok(c)
    }

    pub fn mro(&self) -> Vec<Rc<Class>> {
        self.mro.borrow().clone()
    }

    pub fn builtin_base(&self) -> &'static TypeObj {
        self.builtin
    }

    /// Looks an attribute up along the MRO (user classes only).
    pub fn lookup(&self, name: &str) -> Option<Value> {
        let key = Value::str(name);
        for c in self.mro.borrow().iter() {
            if let Ok(Some(v)) = c.dict.get(&key) {
                return Some(v);
            }
        }
        None
    }

    /// Looks up along the MRO after `after` (for `super()`).
    pub fn lookup_after(&self, after: &Rc<Class>, name: &str) -> Option<Value> {
        let key = Value::str(name);
        let mro = self.mro.borrow();
        let start = mro.iter().position(|c| Rc::ptr_eq(c, after)).map_or(0, |i| i + 1);
        for c in &mro[start..] {
            if let Ok(Some(v)) = c.dict.get(&key) {
                return Some(v);
            }
        }
        None
    }
}

impl Clear for Class {
    fn clear_refs(&self) {
        self.mro.borrow_mut().clear();
    }
}

/// C3 linearization of the user-defined part of the hierarchy.
fn c3(c: &Rc<Class>) -> PyResult<Vec<Rc<Class>>> {
    let mut seqs: Vec<Vec<Rc<Class>>> = c
        .bases
        .iter()
        .filter_map(|b| match b {
            ClassRef::User(u) => Some(u.mro()),
            ClassRef::Builtin(_) => None,
        })
        .collect();
    seqs.push(
        c.bases
            .iter()
            .filter_map(|b| match b {
                ClassRef::User(u) => Some(u.clone()),
                ClassRef::Builtin(_) => None,
            })
            .collect(),
    );
    let mut out = vec![c.clone()];
    loop {
        seqs.retain(|s| !s.is_empty());
        if seqs.is_empty() {
            return Ok(out);
        }
        let head = seqs
            .iter()
            .map(|s| s[0].clone())
            .find(|h| !seqs.iter().any(|s| s[1..].iter().any(|x| Rc::ptr_eq(x, h))))
            .ok_or_else(|| {
                PyErr::type_error(
                    "Cannot create a consistent method resolution order (MRO) for bases",
                )
            })?;
        for s in &mut seqs {
            if Rc::ptr_eq(&s[0], &head) {
                s.remove(0);
            }
        }
        out.push(head);
    }
}

/// An instance of a user class (or of a builtin exception / descriptor type).
pub struct Instance {
    pub class: ClassRef,
    pub dict: Rc<Dict>,
    /// `BaseException.args`, for exception instances.
    pub args: RefCell<Vec<Value>>,
}

impl Instance {
    pub fn new(class: ClassRef) -> Rc<Instance> {
        let i = Rc::new(Instance {
            class,
            dict: Dict::new(),
            args: RefCell::new(Vec::new()),
        });
        heap::track(&i);
        i
    }

    pub fn get_attr(&self, name: &str) -> Option<Value> {
        self.dict.get(&Value::str(name)).ok().flatten()
    }

    pub fn set_attr(&self, name: &str, v: Value) -> PyResult<()> {
        self.dict.insert(Value::str(name), v)
    }

    pub fn is_exception(&self) -> bool {
        self.class.derives_from_builtin(&types::BASE_EXCEPTION)
    }
}

impl Clear for Instance {
    fn clear_refs(&self) {
        self.args.borrow_mut().clear();
    }
}

/// A new exception instance with `args`.
pub fn new_exception(class: ClassRef, args: Vec<Value>) -> Value {
    let i = Instance::new(class);
    *i.args.borrow_mut() = args;
    Value::Instance(i)
}

/// `str(exception)` from its args (BaseException.__str__; KeyError shows the key's repr).
pub fn exception_str(v: &Value) -> String {
    let Value::Instance(i) = v else {
        return super::repr::str_plain(v);
    };
    let args = i.args.borrow().clone();
    match args.as_slice() {
        [] => String::new(),
        [one] if i.class.derives_from_builtin(&types::KEY_ERROR) => super::repr::repr_plain(one),
        [one] => super::repr::str_plain(one),
        many => super::repr::repr_plain(&Value::tuple(many.to_vec())),
    }
}

/// A module object: builtin (`torch`, `math`) with a static attribute lookup, or one the
/// client shipped by value with its attributes.
pub struct PyModule {
    pub name: Rc<str>,
    pub lookup: Option<fn(&str) -> Option<Value>>,
    pub attrs: Rc<Dict>,
}

impl PyModule {
    pub fn builtin(name: &str, lookup: fn(&str) -> Option<Value>) -> Value {
        Value::Module(Rc::new(PyModule {
            name: name.into(),
            lookup: Some(lookup),
            attrs: Dict::new(),
        }))
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        if let Ok(Some(v)) = self.attrs.get(&Value::str(name)) {
            return Some(v);
        }
        self.lookup.and_then(|f| f(name))
    }
}
