//! The evaluator: runs a parsed module body statement by statement over the value model,
//! asking the [`Host`] for module values. Every AST node it does not implement is refused
//! by name with the user's line (design.md §5), so adding a construct is adding a case.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::parse_module;
use ruff_text_size::Ranged;

use super::builtins::{self, BUILTINS};
use super::error::{ErrorKind, PyErr, PyResult};
use super::host::{Hook, Host};
use super::ops;
use super::tensor;
use super::value::{RecordVal, Value, lock, repr, to_str};

/// Limits that keep a job finite (design.md §10).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 10_000_000,
        }
    }
}

/// Parsed user source with its file name, for errors that quote the user's lines.
pub struct Program {
    pub source: String,
    pub filename: String,
    body: Vec<Stmt>,
    line_starts: Vec<usize>,
}

impl Program {
    pub fn parse(source: &str, filename: &str) -> PyResult<Program> {
        if source.len() > MAX_SOURCE {
            return Err(PyErr::new(
                "SyntaxError",
                format!(
                    "the traced source is {} bytes; localndif accepts at most {MAX_SOURCE}",
                    source.len()
                ),
            ));
        }
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut program = Program {
            source: source.to_string(),
            filename: filename.to_string(),
            body: vec![],
            line_starts,
        };
        match parse_module(source) {
            Ok(parsed) => program.body = parsed.into_syntax().body.into_iter().collect(),
            Err(e) => {
                let line = program.line_of(e.location.start().to_usize());
                return Err(PyErr::new("SyntaxError", e.error.to_string()).at_line(line));
            }
        }
        Ok(program)
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    pub fn body(&self) -> &[Stmt] {
        &self.body
    }
}

/// Names → values in insertion order (Python dicts keep it; saved results follow it).
#[derive(Default)]
pub struct Scope {
    names: Vec<(String, Value)>,
}

impl Scope {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.names.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    pub fn set(&mut self, name: &str, value: Value) {
        match self.names.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.names.push((name.to_string(), value)),
        }
    }
    pub fn iter(&self) -> impl Iterator<Item = &(String, Value)> {
        self.names.iter()
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub struct Interp<'a> {
    host: &'a mut dyn Host,
    program: &'a Program,
    pub globals: Scope,
    pub locals: Scope,
    saves: Vec<Value>,
    steps: u64,
    depth: usize,
    limits: Limits,
}

/// CPython's default recursion limit; evaluation nests at most this deep.
const MAX_DEPTH: usize = 1000;

/// Stack for threads that parse or evaluate user code: room for [`MAX_DEPTH`] nested
/// evaluations and for the parser on the largest accepted source (only touched pages are
/// committed).
pub const STACK_SIZE: usize = 256 << 20;

/// The largest user source accepted (bytes).
pub const MAX_SOURCE: usize = 1 << 20;

impl<'a> Interp<'a> {
    pub fn new(
        host: &'a mut dyn Host,
        program: &'a Program,
        globals: Scope,
        locals: Scope,
        limits: Limits,
    ) -> Self {
        Interp {
            host,
            program,
            globals,
            locals,
            saves: Vec::new(),
            steps: 0,
            depth: 0,
            limits,
        }
    }

    /// Runs the whole program body.
    pub fn run(&mut self) -> PyResult<()> {
        let program = self.program;
        self.exec_block(program.body()).map(drop)
    }

    /// The locals whose values were marked with `.save()` / `nnsight.save()`, in binding
    /// order (nnsight's `push`, protocol.md §7.1).
    pub fn saved(&self) -> Vec<(String, Value)> {
        self.locals
            .iter()
            .filter(|(_, v)| self.saves.iter().any(|s| s.is(v)))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    }

    fn tick(&mut self) -> PyResult<()> {
        self.steps += 1;
        if self.steps > self.limits.max_steps {
            return Err(PyErr::new(
                "RuntimeError",
                format!(
                    "the trace exceeded localndif's budget of {} interpreter steps",
                    self.limits.max_steps
                ),
            ));
        }
        Ok(())
    }

    fn exec_block(&mut self, stmts: &[Stmt]) -> PyResult<Flow> {
        for stmt in stmts {
            let line = self.program.line_of(stmt.start().to_usize());
            match self.exec(stmt).map_err(|e| e.at_line(line))? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec(&mut self, stmt: &Stmt) -> PyResult<Flow> {
        self.tick()?;
        match stmt {
            Stmt::Expr(s) => {
                self.eval(&s.value)?;
            }
            Stmt::Assign(s) => {
                // Python evaluates the right-hand side first, then each target left to
                // right (semantics.md §4.2 depends on this order).
                let value = self.eval(&s.value)?;
                for target in &s.targets {
                    self.assign(target, value.clone())?;
                }
            }
            Stmt::AugAssign(s) => self.aug_assign(s)?,
            Stmt::Pass(_) => {}
            Stmt::If(s) => {
                if self.eval(&s.test)?.truthy()? {
                    return self.exec_block(&s.body);
                }
                for clause in &s.elif_else_clauses {
                    let take = match &clause.test {
                        Some(test) => self.eval(test)?.truthy()?,
                        None => true,
                    };
                    if take {
                        return self.exec_block(&clause.body);
                    }
                }
            }
            Stmt::For(s) if !s.is_async => {
                let items = builtins::iterate(&self.eval(&s.iter)?)?;
                let mut broke = false;
                for item in items {
                    self.assign(&s.target, item)?;
                    match self.exec_block(&s.body)? {
                        Flow::Break => {
                            broke = true;
                            break;
                        }
                        Flow::Continue | Flow::Normal => {}
                    }
                }
                if !broke {
                    return self.exec_block(&s.orelse);
                }
            }
            Stmt::While(s) => {
                while self.eval(&s.test)?.truthy()? {
                    self.tick()?;
                    match self.exec_block(&s.body)? {
                        Flow::Break => return Ok(Flow::Normal),
                        Flow::Continue | Flow::Normal => {}
                    }
                }
                return self.exec_block(&s.orelse);
            }
            Stmt::Break(_) => return Ok(Flow::Break),
            Stmt::Continue(_) => return Ok(Flow::Continue),
            other => return Err(PyErr::unsupported(stmt_name(other))),
        }
        Ok(Flow::Normal)
    }

    fn aug_assign(&mut self, s: &ast::StmtAugAssign) -> PyResult<()> {
        let op = operator(s.op);
        let current = self.eval(&s.target)?;
        let rhs = self.eval(&s.value)?;
        // Tensors update in place (`Tensor.__iadd__`), then the target is re-set with the
        // same object (for `m.output += 1` that is a swap, semantics.md §2.4).
        let new = match &current {
            Value::Tensor(t) => match tensor::inplace(op, &t.0, &rhs) {
                Some(r) => {
                    r?;
                    current.clone()
                }
                None => ops::binary(op, &current, &rhs)?,
            },
            Value::List(l) if op == "+" => {
                let extra = builtins::iterate(&rhs)?;
                lock(l).extend(extra);
                current.clone()
            }
            _ => ops::binary(op, &current, &rhs)?,
        };
        self.assign(&s.target, new)
    }

    fn assign(&mut self, target: &Expr, value: Value) -> PyResult<()> {
        match target {
            Expr::Name(n) => {
                self.locals.set(n.id.as_str(), value);
                Ok(())
            }
            Expr::Attribute(a) => {
                let base = self.eval(&a.value)?;
                self.set_attr(&base, a.attr.as_str(), value)
            }
            Expr::Subscript(s) => {
                let base = self.eval(&s.value)?;
                let index = self.eval_index(&s.slice)?;
                set_item(&base, &index, value)
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                let items = builtins::iterate(&value)?;
                if items.len() != elts.len() {
                    return Err(PyErr::value_error(if items.len() > elts.len() {
                        format!("too many values to unpack (expected {})", elts.len())
                    } else {
                        format!(
                            "not enough values to unpack (expected {}, got {})",
                            elts.len(),
                            items.len()
                        )
                    }));
                }
                for (t, v) in elts.iter().zip(items) {
                    self.assign(t, v)?;
                }
                Ok(())
            }
            other => Err(PyErr::unsupported(format!(
                "assignment to {}",
                expr_name(other)
            ))),
        }
    }

    /// Evaluates with CPython's recursion limit, so deeply nested user code is a
    /// `RecursionError`, not a stack overflow.
    fn eval(&mut self, expr: &Expr) -> PyResult<Value> {
        if self.depth >= MAX_DEPTH {
            return Err(PyErr::new(
                "RecursionError",
                "maximum recursion depth exceeded",
            ));
        }
        self.depth += 1;
        let result = self.eval_node(expr);
        self.depth -= 1;
        result
    }

    fn eval_node(&mut self, expr: &Expr) -> PyResult<Value> {
        self.tick()?;
        Ok(match expr {
            Expr::Name(n) => self.lookup(n.id.as_str())?,
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => Value::Int(i.as_i64().ok_or_else(|| {
                    PyErr::new("OverflowError", "integer literal does not fit in 64 bits")
                })?),
                ast::Number::Float(f) => Value::Float(*f),
                ast::Number::Complex { .. } => return Err(PyErr::unsupported("complex numbers")),
            },
            Expr::StringLiteral(s) => Value::str(s.value.to_str()),
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NoneLiteral(_) => Value::None,
            Expr::EllipsisLiteral(_) => Value::Ellipsis,
            Expr::Attribute(a) => {
                let base = self.eval(&a.value)?;
                self.get_attr(&base, a.attr.as_str())?
            }
            Expr::Subscript(s) => {
                let base = self.eval(&s.value)?;
                let index = self.eval_index(&s.slice)?;
                self.get_item(&base, &index)?
            }
            Expr::Call(c) => self.eval_call(c)?,
            Expr::BinOp(b) => {
                let l = self.eval(&b.left)?;
                let r = self.eval(&b.right)?;
                ops::binary(operator(b.op), &l, &r)?
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand)?;
                unary(u.op, &v)?
            }
            Expr::BoolOp(b) => {
                let mut last = Value::None;
                for (i, e) in b.values.iter().enumerate() {
                    last = self.eval(e)?;
                    let t = last.truthy()?;
                    let stop = match b.op {
                        ast::BoolOp::And => !t,
                        ast::BoolOp::Or => t,
                    };
                    if stop || i + 1 == b.values.len() {
                        break;
                    }
                }
                last
            }
            Expr::Compare(c) => {
                let mut left = self.eval(&c.left)?;
                let mut result = Value::Bool(true);
                for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
                    let right = self.eval(right)?;
                    result = ops::compare(op.as_str(), &left, &right)?;
                    if matches!(result, Value::Bool(false)) {
                        break;
                    }
                    left = right;
                }
                result
            }
            Expr::If(i) => {
                if self.eval(&i.test)?.truthy()? {
                    self.eval(&i.body)?
                } else {
                    self.eval(&i.orelse)?
                }
            }
            Expr::Tuple(t) => Value::tuple(self.eval_all(&t.elts)?),
            Expr::List(l) => Value::list(self.eval_all(&l.elts)?),
            Expr::Dict(d) => {
                let mut items = Vec::with_capacity(d.items.len());
                for item in &d.items {
                    let Some(key) = &item.key else {
                        return Err(PyErr::unsupported("`**` unpacking in a dict literal"));
                    };
                    let k = self.eval(key)?;
                    let v = self.eval(&item.value)?;
                    dict_set(&mut items, k, v);
                }
                Value::dict(items)
            }
            Expr::Slice(s) => {
                let part = |me: &mut Self, e: &Option<Box<Expr>>| -> PyResult<Value> {
                    e.as_deref().map_or(Ok(Value::None), |e| me.eval(e))
                };
                let lower = part(self, &s.lower)?;
                let upper = part(self, &s.upper)?;
                let step = part(self, &s.step)?;
                Value::Slice(std::sync::Arc::new([lower, upper, step]))
            }
            other => return Err(PyErr::unsupported(expr_name(other))),
        })
    }

    fn eval_all(&mut self, exprs: &[Expr]) -> PyResult<Vec<Value>> {
        exprs
            .iter()
            .map(|e| match e {
                Expr::Starred(_) => Err(PyErr::unsupported("`*` unpacking")),
                e => self.eval(e),
            })
            .collect()
    }

    /// A subscript's index: slices become `slice` values, tuples of them a tuple.
    fn eval_index(&mut self, expr: &Expr) -> PyResult<Value> {
        self.eval(expr)
    }

    fn lookup(&self, name: &str) -> PyResult<Value> {
        if let Some(v) = self.locals.get(name).or_else(|| self.globals.get(name)) {
            return Ok(v.clone());
        }
        if let Some(b) = BUILTINS.iter().find(|b| **b == name) {
            return Ok(Value::Builtin(b));
        }
        Err(PyErr::new(
            "NameError",
            format!("name '{name}' is not defined"),
        ))
    }

    fn eval_call(&mut self, c: &ast::ExprCall) -> PyResult<Value> {
        // `x.method(...)` calls the method without materialising a bound-method value.
        let (callee, method) = match &*c.func {
            Expr::Attribute(a) => (self.eval(&a.value)?, Some(a.attr.as_str())),
            other => (self.eval(other)?, None),
        };
        let args = self.eval_all(&c.arguments.args)?;
        let mut kwargs = Vec::with_capacity(c.arguments.keywords.len());
        for kw in &c.arguments.keywords {
            let Some(name) = &kw.arg else {
                return Err(PyErr::unsupported("`**` unpacking in a call"));
            };
            kwargs.push((name.as_str().to_string(), self.eval(&kw.value)?));
        }
        match method {
            Some(name) => self.call_method(callee, name, args, kwargs),
            None => self.call(callee, args, kwargs),
        }
    }

    fn call(
        &mut self,
        callee: Value,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> PyResult<Value> {
        match callee {
            Value::Builtin("print") => self.print(args, kwargs),
            Value::Builtin("nnsight.save") => match args.as_slice() {
                [v] if kwargs.is_empty() => Ok(self.save(v.clone())),
                _ => Err(PyErr::type_error("save() takes exactly one argument")),
            },
            Value::Builtin(name) => builtins::call(name, args, kwargs),
            Value::Method(m) => {
                let (recv, name) = (*m).clone();
                self.call_method(recv, &name, args, kwargs)
            }
            Value::Envoy(path) => Err(PyErr::unsupported(format!(
                "calling a module ({path}(...))"
            ))),
            other => Err(PyErr::type_error(format!(
                "'{}' object is not callable",
                other.type_name()
            ))),
        }
    }

    fn call_method(
        &mut self,
        recv: Value,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> PyResult<Value> {
        if name == "save" && !matches!(recv, Value::Module(_) | Value::Envoy(_)) {
            if !args.is_empty() || !kwargs.is_empty() {
                return Err(PyErr::type_error("save() takes no arguments"));
            }
            return Ok(self.save(recv));
        }
        match &recv {
            Value::Tensor(t) => {
                if let Some(r) = tensor::call_method(&t.0, name, args, kwargs) {
                    return r;
                }
            }
            Value::List(l) => match (name, args.as_slice()) {
                ("append", [v]) => {
                    lock(l).push(v.clone());
                    return Ok(Value::None);
                }
                ("extend", [v]) => {
                    let items = builtins::iterate(v)?;
                    lock(l).extend(items);
                    return Ok(Value::None);
                }
                _ => {}
            },
            Value::Dict(d) => match (name, args.as_slice()) {
                ("keys", []) => {
                    return Ok(Value::list(
                        lock(d).iter().map(|(k, _)| k.clone()).collect(),
                    ));
                }
                ("values", []) => {
                    return Ok(Value::list(
                        lock(d).iter().map(|(_, v)| v.clone()).collect(),
                    ));
                }
                ("items", []) => {
                    return Ok(Value::list(
                        lock(d)
                            .iter()
                            .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
                            .collect(),
                    ));
                }
                ("get", [k, rest @ ..]) if rest.len() <= 1 => {
                    let found = lock(d)
                        .iter()
                        .find(|(key, _)| ops::equal(key, k))
                        .map(|(_, v)| v.clone());
                    return Ok(found
                        .or_else(|| rest.first().cloned())
                        .unwrap_or(Value::None));
                }
                _ => {}
            },
            Value::Module(_) | Value::Envoy(_) | Value::Record(_) => {
                let f = self.get_attr(&recv, name)?;
                return self.call(f, args, kwargs);
            }
            _ => {}
        }
        Err(PyErr::attribute_error(format!(
            "'{}' object has no attribute '{name}'",
            recv.type_name()
        )))
    }

    fn save(&mut self, v: Value) -> Value {
        self.saves.push(v.clone());
        v
    }

    fn print(&mut self, args: Vec<Value>, kwargs: Vec<(String, Value)>) -> PyResult<Value> {
        let mut sep = " ".to_string();
        let mut end = "\n".to_string();
        for (k, v) in kwargs {
            match (k.as_str(), v) {
                ("sep", Value::Str(s)) => sep = s.to_string(),
                ("end", Value::Str(s)) => end = s.to_string(),
                ("sep" | "end", Value::None) => {}
                (other, _) => {
                    return Err(PyErr::type_error(format!(
                        "'{other}' is an invalid keyword argument for print()"
                    )));
                }
            }
        }
        let text = args.iter().map(to_str).collect::<Vec<_>>().join(&sep) + &end;
        self.host.print(text)?;
        Ok(Value::None)
    }

    fn get_attr(&mut self, base: &Value, name: &str) -> PyResult<Value> {
        match base {
            Value::Envoy(path) => match name {
                "output" => self.host.read(path, Hook::Output),
                "inputs" => self.host.read(path, Hook::Input),
                "input" => {
                    let inputs = self.host.read(path, Hook::Input)?;
                    first_input(&inputs)
                }
                _ => {
                    let child = format!("{path}.{name}");
                    if self.host.has_module(&child) {
                        Ok(Value::Envoy(child.into()))
                    } else {
                        Err(PyErr::attribute_error(format!(
                            "'Envoy' object (nor its module) has attribute '{name}'"
                        )))
                    }
                }
            },
            Value::Tensor(t) => tensor::attribute(&t.0, name)
                .or_else(|| tensor::has_method(name).then(|| Ok(method(base, name))))
                .unwrap_or_else(|| Err(no_attr(base, name))),
            Value::Record(r) => r
                .fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| Ok(v.clone()))
                .unwrap_or_else(|| Err(no_attr(base, name))),
            Value::Module("torch") => {
                builtins::torch_attr(name).ok_or_else(|| no_module_attr("torch", name))
            }
            Value::Module("nnsight") => match name {
                "save" => Ok(Value::Builtin("nnsight.save")),
                _ => Err(no_module_attr("nnsight", name)),
            },
            Value::List(_) if matches!(name, "append" | "extend") => Ok(method(base, name)),
            Value::Dict(_) if matches!(name, "keys" | "values" | "items" | "get") => {
                Ok(method(base, name))
            }
            _ if name == "save" => Ok(method(base, name)),
            _ => Err(no_attr(base, name)),
        }
    }

    fn set_attr(&mut self, base: &Value, name: &str, value: Value) -> PyResult<()> {
        match base {
            Value::Envoy(path) => match name {
                "output" => self.host.write(path, Hook::Output, value),
                "inputs" => self.host.write(path, Hook::Input, value),
                "input" => {
                    // 0.8.1: replace the first positional, else the first keyword
                    // (semantics.md §2.3).
                    let inputs = self.host.read(path, Hook::Input)?;
                    let swapped = replace_first_input(&inputs, value)?;
                    self.host.write(path, Hook::Input, swapped)
                }
                _ => Err(PyErr::unsupported(format!(
                    "setting the attribute '{name}' of a module"
                ))),
            },
            other => Err(PyErr::attribute_error(format!(
                "'{}' object attribute '{name}' is read-only",
                other.type_name()
            ))),
        }
    }

    fn get_item(&mut self, base: &Value, index: &Value) -> PyResult<Value> {
        match base {
            Value::Envoy(path) => {
                let i = index.as_int().ok_or_else(|| {
                    PyErr::unsupported(format!("indexing a module with {}", index.type_name()))
                })?;
                let len = self.host.module_len(path).ok_or_else(|| {
                    PyErr::type_error(format!("'Envoy' object ({path}) is not subscriptable"))
                })?;
                let j = if i < 0 { i + len as i64 } else { i };
                if !(0..len as i64).contains(&j) {
                    // 0.8.1 looks the child up by name, so a bad index is an AttributeError.
                    return Err(PyErr::attribute_error(format!(
                        "'Envoy' object (nor its module) has attribute '{i}'"
                    )));
                }
                Ok(Value::Envoy(format!("{path}.{j}").into()))
            }
            _ => get_item(base, index),
        }
    }
}

fn method(base: &Value, name: &str) -> Value {
    Value::Method(std::sync::Arc::new((base.clone(), name.to_string())))
}

fn no_attr(base: &Value, name: &str) -> PyErr {
    PyErr::attribute_error(format!(
        "'{}' object has no attribute '{name}'",
        base.type_name()
    ))
}

fn no_module_attr(module: &str, name: &str) -> PyErr {
    PyErr::unsupported(format!("'{module}.{name}'"))
}

/// `.input`: the first positional argument, else the first keyword value
/// (`[*args, *kwargs.values()][0]`, semantics.md §2.2).
fn first_input(inputs: &Value) -> PyResult<Value> {
    let (args, kwargs) = split_inputs(inputs)?;
    if let Some(first) = args.first() {
        return Ok(first.clone());
    }
    lock(&kwargs)
        .first()
        .map(|(_, v)| v.clone())
        .ok_or_else(|| PyErr::index_error("the module was called without arguments"))
}

fn replace_first_input(inputs: &Value, value: Value) -> PyResult<Value> {
    let (args, kwargs) = split_inputs(inputs)?;
    let mut args = args.to_vec();
    let mut kw = lock(&kwargs).clone();
    if let Some(first) = args.first_mut() {
        *first = value;
    } else if let Some(first) = kw.first_mut() {
        first.1 = value;
    } else {
        return Err(PyErr::index_error(
            "the module was called without arguments",
        ));
    }
    Ok(Value::tuple(vec![Value::tuple(args), Value::dict(kw)]))
}

type Inputs = (
    std::sync::Arc<Vec<Value>>,
    std::sync::Arc<std::sync::Mutex<Vec<(Value, Value)>>>,
);

fn split_inputs(inputs: &Value) -> PyResult<Inputs> {
    if let Value::Tuple(pair) = inputs
        && let [Value::Tuple(args), Value::Dict(kwargs)] = pair.as_slice()
    {
        return Ok((args.clone(), kwargs.clone()));
    }
    Err(PyErr::type_error(format!(
        "module inputs must be an (args, kwargs) pair, got {}",
        repr(inputs)
    )))
}

fn dict_set(items: &mut Vec<(Value, Value)>, k: Value, v: Value) {
    match items.iter_mut().find(|(key, _)| ops::equal(key, &k)) {
        Some(slot) => slot.1 = v,
        None => items.push((k, v)),
    }
}

fn seq_index(len: usize, index: &Value, what: &str) -> PyResult<usize> {
    let i = index.as_int().ok_or_else(|| {
        PyErr::type_error(format!(
            "{what} indices must be integers or slices, not {}",
            index.type_name()
        ))
    })?;
    let j = if i < 0 { i + len as i64 } else { i };
    if (0..len as i64).contains(&j) {
        Ok(j as usize)
    } else {
        Err(PyErr::index_error(format!("{what} index out of range")))
    }
}

fn slice_seq(items: &[Value], s: &[Value; 3]) -> PyResult<Vec<Value>> {
    let len = items.len() as i64;
    let get = |v: &Value| -> PyResult<Option<i64>> {
        match v {
            Value::None => Ok(None),
            other => other
                .as_int()
                .map(Some)
                .ok_or_else(|| PyErr::type_error("slice indices must be integers or None")),
        }
    };
    let step = get(&s[2])?.unwrap_or(1);
    if step == 0 {
        return Err(PyErr::value_error("slice step cannot be zero"));
    }
    let clamp = |i: i64, lo: i64, hi: i64| if i < 0 { (i + len).max(lo) } else { i.min(hi) };
    let (start, stop) = if step > 0 {
        (
            get(&s[0])?.map_or(0, |i| clamp(i, 0, len)),
            get(&s[1])?.map_or(len, |i| clamp(i, 0, len)),
        )
    } else {
        (
            get(&s[0])?.map_or(len - 1, |i| clamp(i, -1, len - 1)),
            get(&s[1])?.map_or(-1, |i| clamp(i, -1, len - 1)),
        )
    };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(items[i as usize].clone());
        i += step;
    }
    Ok(out)
}

fn get_item(base: &Value, index: &Value) -> PyResult<Value> {
    let seq = |items: &[Value], what: &str, tuple: bool| -> PyResult<Value> {
        match index {
            Value::Slice(s) => {
                let v = slice_seq(items, s)?;
                Ok(if tuple {
                    Value::tuple(v)
                } else {
                    Value::list(v)
                })
            }
            i => Ok(items[seq_index(items.len(), i, what)?].clone()),
        }
    };
    match base {
        Value::Tensor(t) => Ok(Value::tensor(tensor::get_item(&t.0, index)?)),
        Value::List(l) => seq(&lock(l), "list", false),
        Value::Tuple(t) => seq(t, "tuple", true),
        Value::Size(s) => {
            let items: Vec<Value> = s.iter().map(|&i| Value::Int(i)).collect();
            match seq(&items, "tuple", true)? {
                Value::Tuple(t) => Ok(Value::Size(std::sync::Arc::new(
                    t.iter().filter_map(Value::as_int).collect(),
                ))),
                v => Ok(v),
            }
        }
        Value::Str(s) => {
            let chars: Vec<Value> = s.chars().map(|c| Value::str(&c.to_string())).collect();
            match seq(&chars, "string", true)? {
                Value::Tuple(t) => Ok(Value::str(&t.iter().map(to_str).collect::<String>())),
                v => Ok(v),
            }
        }
        Value::Dict(d) => lock(d)
            .iter()
            .find(|(k, _)| ops::equal(k, index))
            .map(|(_, v)| v.clone())
            .ok_or_else(|| PyErr::new("KeyError", repr(index))),
        Value::Record(r) => record_item(r, index),
        other => Err(PyErr::type_error(format!(
            "'{}' object is not subscriptable",
            other.type_name()
        ))),
    }
}

/// `ModelOutput[i]` / `ModelOutput["name"]` (semantics.md §2.5).
fn record_item(r: &RecordVal, index: &Value) -> PyResult<Value> {
    match index {
        Value::Str(s) => r
            .fields
            .iter()
            .find(|(n, _)| *n == &**s)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| PyErr::new("KeyError", repr(index))),
        other => {
            let i = seq_index(r.fields.len(), other, "tuple")?;
            Ok(r.fields[i].1.clone())
        }
    }
}

fn set_item(base: &Value, index: &Value, value: Value) -> PyResult<()> {
    match base {
        Value::Tensor(t) => tensor::set_item(&t.0, index, &value),
        Value::List(l) => {
            let mut items = lock(l);
            let i = seq_index(items.len(), index, "list assignment")?;
            items[i] = value;
            Ok(())
        }
        Value::Dict(d) => {
            dict_set(&mut lock(d), index.clone(), value);
            Ok(())
        }
        other => Err(PyErr::type_error(format!(
            "'{}' object does not support item assignment",
            other.type_name()
        ))),
    }
}

fn unary(op: ast::UnaryOp, v: &Value) -> PyResult<Value> {
    Ok(match (op, v) {
        (ast::UnaryOp::Not, v) => Value::Bool(!v.truthy()?),
        (ast::UnaryOp::USub, Value::Int(i)) => Value::Int(
            i.checked_neg()
                .ok_or_else(|| PyErr::new("OverflowError", "integer negation overflows"))?,
        ),
        (ast::UnaryOp::USub, Value::Float(f)) => Value::Float(-f),
        (ast::UnaryOp::USub, Value::Tensor(t)) => Value::tensor(t.0.f_neg()?),
        (ast::UnaryOp::UAdd, Value::Int(_) | Value::Float(_) | Value::Tensor(_)) => v.clone(),
        (ast::UnaryOp::Invert, Value::Int(i)) => Value::Int(!i),
        (ast::UnaryOp::Invert, Value::Tensor(t)) => Value::tensor(t.0.f_bitwise_not()?),
        (op, v) => {
            return Err(PyErr::type_error(format!(
                "bad operand type for unary {}: '{}'",
                op.as_str(),
                v.type_name()
            )));
        }
    })
}

fn operator(op: ast::Operator) -> &'static str {
    op.as_str()
}

/// The user-facing name of a statement kind this interpreter does not run.
fn stmt_name(stmt: &Stmt) -> String {
    match stmt {
        Stmt::FunctionDef(_) => "`def` inside a trace".into(),
        Stmt::ClassDef(_) => "`class` inside a trace".into(),
        Stmt::Return(_) => "`return` in a traced block".into(),
        Stmt::Delete(_) => "the `del` statement".into(),
        Stmt::AnnAssign(_) => "annotated assignment".into(),
        Stmt::For(_) => "`async for`".into(),
        Stmt::With(_) => "a `with` block inside a trace (invokes, backward, sessions)".into(),
        Stmt::Match(_) => "the `match` statement".into(),
        Stmt::Raise(_) => "the `raise` statement".into(),
        Stmt::Try(_) => "`try`/`except`".into(),
        Stmt::Assert(_) => "the `assert` statement".into(),
        Stmt::Import(_) | Stmt::ImportFrom(_) => "`import` inside a trace".into(),
        Stmt::Global(_) | Stmt::Nonlocal(_) => "`global`/`nonlocal`".into(),
        Stmt::TypeAlias(_) => "type aliases".into(),
        Stmt::IpyEscapeCommand(_) => "IPython escape commands".into(),
        _ => "this statement".into(),
    }
}

fn expr_name(expr: &Expr) -> String {
    match expr {
        Expr::Lambda(_) => "lambda expressions".into(),
        Expr::ListComp(_) => "list comprehensions".into(),
        Expr::SetComp(_) => "set comprehensions".into(),
        Expr::DictComp(_) => "dict comprehensions".into(),
        Expr::Generator(_) => "generator expressions".into(),
        Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => "`await`/`yield`".into(),
        Expr::FString(_) => "f-strings".into(),
        Expr::TString(_) => "t-strings".into(),
        Expr::BytesLiteral(_) => "bytes literals".into(),
        Expr::Set(_) => "set literals".into(),
        Expr::Named(_) => "the walrus operator `:=`".into(),
        Expr::Starred(_) => "`*` unpacking".into(),
        _ => "this expression".into(),
    }
}

impl PyErr {
    /// Whether this error should be shown to the user as theirs.
    pub fn is_user_visible(&self) -> bool {
        !matches!(self.kind, ErrorKind::Cancelled)
    }
}
