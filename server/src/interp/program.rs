//! Parsed user source: the AST (ruff_python_parser), its line table, and the result of a
//! symbol-table pass like CPython's `symtable`: for every function, lambda, comprehension
//! and class body, which names are fast locals, which are cells captured by inner scopes,
//! which are free (read from an enclosing function) and which are globals — so evaluation
//! resolves each name node with one lookup, with Python's scoping rules exactly.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use ruff_python_ast::visitor::{Visitor, walk_body, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::parse_module;

use crate::value::{PyErr, PyResult, stack, types};

/// The largest source accepted (bytes).
pub const MAX_SOURCE: usize = 1 << 20;
/// CPython's parser limit on nested brackets.
const MAX_NESTING: usize = 200;

/// How one name node is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOp {
    /// A plain local: `frame.fast[i]`.
    Fast(u32),
    /// A local captured by an inner scope, or a free variable: `frame.cells[i]`.
    Cell(u32),
    /// Module globals, then builtins.
    Global,
    /// The frame's namespace (module / class body), then globals, then builtins.
    Name,
    /// In a class body: the class namespace, then the enclosing function's cell.
    ClassDeref(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Function,
    Lambda,
    Comprehension,
    Class,
}

/// What evaluation needs to know about one scope.
#[derive(Debug)]
pub struct ScopeInfo {
    pub kind: ScopeKind,
    pub name: Rc<str>,
    pub qualname: Rc<str>,
    /// Names of the fast-local slots.
    pub fast: Vec<Rc<str>>,
    /// Names of the cell slots: captured locals first, then free variables.
    pub cells: Vec<Rc<str>>,
    /// How many of `cells` are this scope's own (the rest are free).
    pub n_own_cells: usize,
    /// Where each parameter goes, in declaration order.
    pub params: Vec<NameOp>,
    pub has_yield: bool,
}

impl ScopeInfo {
    /// The slot of a free or cell variable by name (to build closures).
    pub fn cell_index(&self, name: &str) -> Option<usize> {
        self.cells.iter().position(|c| c.as_ref() == name)
    }
}

pub struct Program {
    pub source: String,
    pub filename: Rc<str>,
    /// Private, and never mutated after parsing: code objects point into it.
    module: ast::ModModule,
    line_starts: Vec<usize>,
    /// Where every statement list and every function, class, lambda and comprehension
    /// node of `module` lives: a code object is made only for one of these
    /// ([`Program::owns_body`], [`Program::owns_node`]).
    bodies: HashSet<(usize, usize)>,
    nodes: HashSet<usize>,
}

/// How the names of a body of code resolve: the scope of every function, lambda,
/// comprehension and class in it, and the operation of every name node. A module has one;
/// a `with` body that nnsight runs on its own (an invoke, a trace inside a session) gets
/// its own, as nnsight compiles that body as a module of its own.
pub struct Resolution {
    root: usize,
    scopes: HashMap<usize, Rc<ScopeInfo>>,
    names: HashMap<usize, NameOp>,
}

impl Resolution {
    /// Analyzes `body` as module-level code named `name`; `root` identifies it.
    pub fn analyze(body: &[Stmt], root: usize, name: &str) -> PyResult<Rc<Resolution>> {
        let mut b = Builder::default();
        let r = b.new_scope(ScopeKind::Module, name, root, None);
        b.visit_body(body, r)?;
        let (scopes, names) = b.finish()?;
        Ok(Rc::new(Resolution { root, scopes, names }))
    }

    pub fn scope(&self, node: usize) -> Option<Rc<ScopeInfo>> {
        self.scopes.get(&node).cloned()
    }

    pub fn root_scope(&self) -> Rc<ScopeInfo> {
        self.scopes[&self.root].clone()
    }

    pub fn name_op(&self, node: usize) -> NameOp {
        self.names.get(&node).copied().unwrap_or(NameOp::Name)
    }
}

pub fn ptr<T>(r: &T) -> usize {
    r as *const T as usize
}

impl Program {
    /// Parses and analyzes `source`; errors are `SyntaxError`s with the user's line.
    pub fn parse(source: &str, filename: &str) -> PyResult<Rc<Program>> {
        if source.len() > MAX_SOURCE {
            return Err(PyErr::new(
                &types::SYNTAX_ERROR,
                format!(
                    "the source is {} bytes; localndif accepts at most {MAX_SOURCE}",
                    source.len()
                ),
            ));
        }
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |off: usize| line_starts.partition_point(|&s| s <= off);
        if let Some(at) = too_nested(source) {
            let mut e = PyErr::new(&types::SYNTAX_ERROR, "too many nested parentheses");
            e.push_frame(entry(filename, source, line_of(at), "<module>"));
            return Err(e);
        }
        let module = match parse_module(source) {
            Ok(parsed) => parsed.into_syntax(),
            Err(err) => {
                let line = line_of(err.location.start().to_usize());
                let mut e = PyErr::new(&types::SYNTAX_ERROR, err.error.to_string());
                e.push_frame(entry(filename, source, line, "<module>"));
                return Err(e);
            }
        };
        let mut owned = Owned::default();
        owned.visit_body(&module.body);
        Ok(Rc::new(Program {
            source: source.to_string(),
            filename: filename.into(),
            module,
            line_starts,
            bodies: owned.bodies,
            nodes: owned.nodes,
        }))
    }

    /// The parsed module.
    pub fn module(&self) -> &ast::ModModule {
        &self.module
    }

    /// Whether `stmts` is one of this program's statement lists (as a whole).
    pub fn owns_body(&self, stmts: &[Stmt]) -> bool {
        self.owns_body_ptr(stmts)
    }

    /// [`Program::owns_body`] for a pointer (its address and length only are read).
    pub fn owns_body_ptr(&self, stmts: *const [Stmt]) -> bool {
        self.bodies.contains(&(stmts.cast::<Stmt>() as usize, stmts.len()))
    }

    /// Whether `node` is one of this program's function, class, lambda or comprehension
    /// nodes.
    pub fn owns_node<T>(&self, node: *const T) -> bool {
        self.nodes.contains(&(node as usize))
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> u32 {
        self.line_starts.partition_point(|&s| s <= offset) as u32
    }

    pub fn line_text(&self, line: u32) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)? as usize)?;
        let end = self
            .line_starts
            .get(line as usize)
            .map_or(self.source.len(), |e| e - 1);
        self.source.get(start..end)
    }

    pub fn entry(&self, line: u32, func: &str) -> crate::value::TraceEntry {
        crate::value::TraceEntry {
            file: self.filename.clone(),
            line,
            func: func.into(),
            text: self.line_text(line).map(Rc::from),
        }
    }
}

/// Collects the addresses [`Program`] checks code objects against.
#[derive(Default)]
struct Owned {
    bodies: HashSet<(usize, usize)>,
    nodes: HashSet<usize>,
}

impl<'a> Visitor<'a> for Owned {
    fn visit_body(&mut self, body: &'a [Stmt]) {
        self.bodies.insert((body.as_ptr() as usize, body.len()));
        walk_body(self, body);
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(d) => {
                self.nodes.insert(d as *const _ as usize);
            }
            Stmt::ClassDef(c) => {
                self.nodes.insert(c as *const _ as usize);
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        let at = match expr {
            Expr::Lambda(e) => Some(e as *const _ as usize),
            Expr::ListComp(e) => Some(e as *const _ as usize),
            Expr::SetComp(e) => Some(e as *const _ as usize),
            Expr::DictComp(e) => Some(e as *const _ as usize),
            Expr::Generator(e) => Some(e as *const _ as usize),
            _ => None,
        };
        if let Some(at) = at {
            self.nodes.insert(at);
        }
        walk_expr(self, expr);
    }
}

fn entry(file: &str, source: &str, line: usize, func: &str) -> crate::value::TraceEntry {
    crate::value::TraceEntry {
        file: file.into(),
        line: line as u32,
        func: func.into(),
        text: source.lines().nth(line.saturating_sub(1)).map(Rc::from),
    }
}

/// The offset where brackets nest deeper than CPython allows (strings and comments are
/// skipped roughly; an overcount only refuses absurd sources).
fn too_nested(src: &str) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'\'' | b'"') => {
                let triple = b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q);
                let step = if triple { 3 } else { 1 };
                i += step;
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == q && (!triple || (b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q))) {
                        i += step - 1;
                        break;
                    }
                    if !triple && b[i] == b'\n' {
                        break;
                    }
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Default)]
struct Scope {
    kind: Option<ScopeKind>,
    name: String,
    qualname: String,
    node: usize,
    parent: Option<usize>,
    children: Vec<usize>,
    params: Vec<String>,
    bound: Vec<String>,
    bound_set: HashSet<String>,
    used: HashSet<String>,
    globals: HashSet<String>,
    nonlocals: HashSet<String>,
    /// Every name node in this scope: (node, name).
    refs: Vec<(usize, String)>,
    has_yield: bool,
    // Filled by analysis.
    needs: HashSet<String>,
}

#[derive(Default)]
struct Builder {
    scopes: Vec<Scope>,
}

impl Builder {
    fn new_scope(&mut self, kind: ScopeKind, name: &str, node: usize, parent: Option<usize>) -> usize {
        let qualname = match parent {
            Some(p) => {
                let ps = &self.scopes[p];
                match ps.kind {
                    Some(ScopeKind::Module) | None => name.to_string(),
                    Some(ScopeKind::Class) => format!("{}.{name}", ps.qualname),
                    _ => format!("{}.<locals>.{name}", ps.qualname),
                }
            }
            None => name.to_string(),
        };
        self.scopes.push(Scope {
            kind: Some(kind),
            name: name.to_string(),
            qualname,
            node,
            parent,
            ..Scope::default()
        });
        let id = self.scopes.len() - 1;
        if let Some(p) = parent {
            self.scopes[p].children.push(id);
        }
        id
    }

    fn bind(&mut self, s: usize, name: &str) {
        let sc = &mut self.scopes[s];
        if sc.bound_set.insert(name.to_string()) {
            sc.bound.push(name.to_string());
        }
    }

    fn store_name(&mut self, s: usize, node: usize, name: &str) {
        self.bind(s, name);
        self.scopes[s].refs.push((node, name.to_string()));
    }

    fn load_name(&mut self, s: usize, node: usize, name: &str) {
        self.scopes[s].used.insert(name.to_string());
        self.scopes[s].refs.push((node, name.to_string()));
    }

    fn visit_body(&mut self, body: &[Stmt], s: usize) -> PyResult<()> {
        for st in body {
            self.visit_stmt(st, s)?;
        }
        Ok(())
    }

    fn visit_params(&mut self, p: &ast::Parameters, outer: usize, inner: usize) -> PyResult<()> {
        for pw in p.posonlyargs.iter().chain(p.args.iter()).chain(p.kwonlyargs.iter()) {
            if let Some(d) = &pw.default {
                self.visit_expr(d, outer)?;
            }
        }
        let add = |b: &mut Builder, id: &ast::Identifier| {
            b.scopes[inner].params.push(id.id.to_string());
            b.store_name(inner, ptr(id), id.id.as_str());
        };
        for pw in p.posonlyargs.iter().chain(p.args.iter()) {
            add(self, &pw.parameter.name);
        }
        if let Some(v) = &p.vararg {
            add(self, &v.name);
        }
        for pw in p.kwonlyargs.iter() {
            add(self, &pw.parameter.name);
        }
        if let Some(k) = &p.kwarg {
            add(self, &k.name);
        }
        Ok(())
    }

    fn visit_stmt(&mut self, st: &Stmt, s: usize) -> PyResult<()> {
        stack::guard()?;
        match st {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.visit_expr(&d.expression, s)?;
                }
                let inner = self.new_scope(ScopeKind::Function, f.name.id.as_str(), ptr(f), Some(s));
                self.visit_params(&f.parameters, s, inner)?;
                self.visit_body(&f.body, inner)?;
                self.store_name(s, ptr(&f.name), f.name.id.as_str());
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.visit_expr(&d.expression, s)?;
                }
                if let Some(args) = &c.arguments {
                    for a in args.args.iter() {
                        self.visit_expr(a, s)?;
                    }
                    for k in args.keywords.iter() {
                        self.visit_expr(&k.value, s)?;
                    }
                }
                let inner = self.new_scope(ScopeKind::Class, c.name.id.as_str(), ptr(c), Some(s));
                self.visit_body(&c.body, inner)?;
                self.store_name(s, ptr(&c.name), c.name.id.as_str());
            }
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.visit_expr(v, s)?;
                }
            }
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.visit_target(t, s)?;
                }
            }
            Stmt::Assign(a) => {
                self.visit_expr(&a.value, s)?;
                for t in &a.targets {
                    self.visit_target(t, s)?;
                }
            }
            Stmt::AugAssign(a) => {
                self.visit_expr(&a.value, s)?;
                if let Expr::Name(n) = a.target.as_ref() {
                    self.scopes[s].used.insert(n.id.to_string());
                }
                self.visit_target(&a.target, s)?;
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.visit_expr(v, s)?;
                }
                self.visit_target(&a.target, s)?;
            }
            Stmt::For(f) => {
                self.visit_expr(&f.iter, s)?;
                self.visit_target(&f.target, s)?;
                self.visit_body(&f.body, s)?;
                self.visit_body(&f.orelse, s)?;
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test, s)?;
                self.visit_body(&w.body, s)?;
                self.visit_body(&w.orelse, s)?;
            }
            Stmt::If(i) => {
                self.visit_expr(&i.test, s)?;
                self.visit_body(&i.body, s)?;
                for c in &i.elif_else_clauses {
                    if let Some(t) = &c.test {
                        self.visit_expr(t, s)?;
                    }
                    self.visit_body(&c.body, s)?;
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    self.visit_expr(&item.context_expr, s)?;
                    if let Some(v) = &item.optional_vars {
                        self.visit_target(v, s)?;
                    }
                }
                self.visit_body(&w.body, s)?;
            }
            Stmt::Raise(r) => {
                if let Some(e) = &r.exc {
                    self.visit_expr(e, s)?;
                }
                if let Some(c) = &r.cause {
                    self.visit_expr(c, s)?;
                }
            }
            Stmt::Try(t) => {
                self.visit_body(&t.body, s)?;
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(ty) = &h.type_ {
                        self.visit_expr(ty, s)?;
                    }
                    if let Some(n) = &h.name {
                        self.store_name(s, ptr(n), n.id.as_str());
                    }
                    self.visit_body(&h.body, s)?;
                }
                self.visit_body(&t.orelse, s)?;
                self.visit_body(&t.finalbody, s)?;
            }
            Stmt::Assert(a) => {
                self.visit_expr(&a.test, s)?;
                if let Some(m) = &a.msg {
                    self.visit_expr(m, s)?;
                }
            }
            Stmt::Import(i) => {
                for al in &i.names {
                    match &al.asname {
                        Some(n) => self.store_name(s, ptr(n), n.id.as_str()),
                        None => {
                            let first = al.name.id.split('.').next().unwrap_or("");
                            self.store_name(s, ptr(&al.name), first);
                        }
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                for al in &i.names {
                    let id = al.asname.as_ref().unwrap_or(&al.name);
                    if id.id.as_str() != "*" {
                        self.store_name(s, ptr(id), id.id.as_str());
                    }
                }
            }
            Stmt::Global(g) => {
                for n in &g.names {
                    self.scopes[s].globals.insert(n.id.to_string());
                }
            }
            Stmt::Nonlocal(n) => {
                for id in &n.names {
                    self.scopes[s].nonlocals.insert(id.id.to_string());
                }
            }
            Stmt::Expr(e) => self.visit_expr(&e.value, s)?,
            Stmt::Match(m) => {
                self.visit_expr(&m.subject, s)?;
                for c in &m.cases {
                    self.visit_body(&c.body, s)?;
                }
            }
            Stmt::TypeAlias(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_)
            | Stmt::IpyEscapeCommand(_) => {}
        }
        Ok(())
    }

    fn visit_target(&mut self, t: &Expr, s: usize) -> PyResult<()> {
        match t {
            Expr::Name(n) => self.store_name(s, ptr(n), n.id.as_str()),
            Expr::Tuple(tp) => {
                for e in &tp.elts {
                    self.visit_target(e, s)?;
                }
            }
            Expr::List(l) => {
                for e in &l.elts {
                    self.visit_target(e, s)?;
                }
            }
            Expr::Starred(st) => self.visit_target(&st.value, s)?,
            other => self.visit_expr(other, s)?,
        }
        Ok(())
    }

    /// The nearest scope that is not a comprehension (where `:=` binds).
    fn binding_scope(&self, mut s: usize) -> usize {
        while self.scopes[s].kind == Some(ScopeKind::Comprehension) {
            match self.scopes[s].parent {
                Some(p) => s = p,
                None => break,
            }
        }
        s
    }

    fn visit_comprehension(
        &mut self,
        node: usize,
        gens: &[ast::Comprehension],
        s: usize,
        elts: &[&Expr],
    ) -> PyResult<()> {
        let Some(first) = gens.first() else {
            return Ok(());
        };
        // The first iterable is evaluated in the enclosing scope.
        self.visit_expr(&first.iter, s)?;
        let inner = self.new_scope(ScopeKind::Comprehension, "<comprehension>", node, Some(s));
        for (i, g) in gens.iter().enumerate() {
            if i > 0 {
                self.visit_expr(&g.iter, inner)?;
            }
            self.visit_target(&g.target, inner)?;
            for c in &g.ifs {
                self.visit_expr(c, inner)?;
            }
        }
        for e in elts {
            self.visit_expr(e, inner)?;
        }
        Ok(())
    }

    fn visit_expr(&mut self, e: &Expr, s: usize) -> PyResult<()> {
        stack::guard()?;
        match e {
            Expr::Name(n) => match n.ctx {
                ast::ExprContext::Store | ast::ExprContext::Del => {
                    self.store_name(s, ptr(n), n.id.as_str())
                }
                _ => self.load_name(s, ptr(n), n.id.as_str()),
            },
            Expr::Lambda(l) => {
                let inner = self.new_scope(ScopeKind::Lambda, "<lambda>", ptr(l), Some(s));
                if let Some(p) = &l.parameters {
                    self.visit_params(p, s, inner)?;
                }
                self.visit_expr(&l.body, inner)?;
            }
            Expr::ListComp(c) => self.visit_comprehension(ptr(c), &c.generators, s, &[&c.elt])?,
            Expr::SetComp(c) => self.visit_comprehension(ptr(c), &c.generators, s, &[&c.elt])?,
            Expr::Generator(c) => self.visit_comprehension(ptr(c), &c.generators, s, &[&c.elt])?,
            Expr::DictComp(c) => match &c.key {
                Some(k) => self.visit_comprehension(ptr(c), &c.generators, s, &[k, &c.value])?,
                None => self.visit_comprehension(ptr(c), &c.generators, s, &[&c.value])?,
            },
            Expr::Named(n) => {
                self.visit_expr(&n.value, s)?;
                let b = self.binding_scope(s);
                if let Expr::Name(t) = n.target.as_ref() {
                    if b != s {
                        // Bound in the enclosing scope, referenced here as free.
                        self.bind(b, t.id.as_str());
                        self.scopes[s].nonlocals.insert(t.id.to_string());
                        self.scopes[s].refs.push((ptr(t), t.id.to_string()));
                    } else {
                        self.store_name(s, ptr(t), t.id.as_str());
                    }
                }
            }
            Expr::Yield(y) => {
                self.scopes[s].has_yield = true;
                if let Some(v) = &y.value {
                    self.visit_expr(v, s)?;
                }
            }
            Expr::YieldFrom(y) => {
                self.scopes[s].has_yield = true;
                self.visit_expr(&y.value, s)?;
            }
            other => {
                let mut err = Ok(());
                walk_children(other, &mut |c| {
                    if err.is_ok() {
                        err = self.visit_expr(c, s);
                    }
                });
                err?;
            }
        }
        Ok(())
    }

    /// Locals of a function-like scope: bound names not declared global or nonlocal.
    fn locals(&self, s: usize) -> Vec<String> {
        let sc = &self.scopes[s];
        let mut out: Vec<String> = sc.params.clone();
        for n in &sc.bound {
            if !sc.globals.contains(n) && !sc.nonlocals.contains(n) && !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    }

    fn is_function_like(&self, s: usize) -> bool {
        matches!(
            self.scopes[s].kind,
            Some(ScopeKind::Function | ScopeKind::Lambda | ScopeKind::Comprehension)
        )
    }

    /// Bottom-up: the names each scope (with its descendants) reads from outside itself.
    fn compute_needs(&mut self, s: usize) -> HashSet<String> {
        let children = self.scopes[s].children.clone();
        let mut child_needs = HashSet::new();
        for c in children {
            child_needs.extend(self.compute_needs(c));
        }
        let kind = self.scopes[s].kind;
        let needs: HashSet<String> = match kind {
            Some(ScopeKind::Module) => HashSet::new(),
            Some(ScopeKind::Class) => {
                let sc = &self.scopes[s];
                let mut n: HashSet<String> = sc
                    .used
                    .iter()
                    .filter(|u| !sc.globals.contains(*u))
                    .cloned()
                    .collect();
                n.extend(sc.nonlocals.iter().cloned());
                n.extend(child_needs);
                n
            }
            _ => {
                let locals: HashSet<String> = self.locals(s).into_iter().collect();
                let sc = &self.scopes[s];
                let mut n: HashSet<String> = sc
                    .used
                    .iter()
                    .chain(child_needs.iter())
                    .filter(|u| !locals.contains(*u) && !sc.globals.contains(*u))
                    .cloned()
                    .collect();
                n.extend(sc.nonlocals.iter().cloned());
                n
            }
        };
        self.scopes[s].needs = needs.clone();
        needs
    }

    fn finish(mut self) -> PyResult<(HashMap<usize, Rc<ScopeInfo>>, HashMap<usize, NameOp>)> {
        self.compute_needs(0);
        let mut scopes = HashMap::new();
        let mut names = HashMap::new();
        self.resolve(0, &[], &mut scopes, &mut names)?;
        Ok((scopes, names))
    }

    /// Top-down: decides every name node's operation. `env` holds the locals of the
    /// enclosing function-like scopes, innermost last.
    fn resolve(
        &self,
        s: usize,
        env: &[HashSet<String>],
        scopes: &mut HashMap<usize, Rc<ScopeInfo>>,
        names: &mut HashMap<usize, NameOp>,
    ) -> PyResult<()> {
        let sc = &self.scopes[s];
        let kind = sc.kind.unwrap_or(ScopeKind::Module);
        let in_env = |n: &str| env.iter().any(|e| e.contains(n));
        let function_like = self.is_function_like(s);
        let locals = if function_like { self.locals(s) } else { Vec::new() };
        let local_set: HashSet<String> = locals.iter().cloned().collect();
        // Cells: own locals some descendant reads from outside.
        let mut own_cells: Vec<String> = Vec::new();
        if function_like {
            for c in &sc.children {
                for n in &self.scopes[*c].needs {
                    if local_set.contains(n) && !own_cells.contains(n) {
                        own_cells.push(n.clone());
                    }
                }
            }
            own_cells.sort();
        }
        // Free: names this scope needs that an enclosing function binds.
        let mut frees: Vec<String> = sc.needs.iter().filter(|n| in_env(n)).cloned().collect();
        frees.sort();
        for n in &sc.nonlocals {
            if !in_env(n) && kind != ScopeKind::Comprehension {
                return Err(PyErr::new(
                    &types::SYNTAX_ERROR,
                    format!("no binding for nonlocal '{n}' found"),
                ));
            }
        }
        let mut cells: Vec<Rc<str>> = own_cells.iter().map(|n| Rc::from(n.as_str())).collect();
        cells.extend(frees.iter().map(|n| Rc::from(n.as_str())));
        let cell_idx = |n: &str| cells.iter().position(|c| c.as_ref() == n).map(|i| i as u32);
        let fast: Vec<Rc<str>> = locals
            .iter()
            .filter(|n| !own_cells.contains(n))
            .map(|n| Rc::from(n.as_str()))
            .collect();
        let fast_idx = |n: &str| fast.iter().position(|c| c.as_ref() == n).map(|i| i as u32);
        let op_for = |n: &str| -> NameOp {
            match kind {
                ScopeKind::Module => NameOp::Name,
                ScopeKind::Class => {
                    if sc.globals.contains(n) {
                        NameOp::Global
                    } else if sc.nonlocals.contains(n) {
                        cell_idx(n).map_or(NameOp::Name, NameOp::Cell)
                    } else if sc.bound_set.contains(n) {
                        NameOp::Name
                    } else if let Some(i) = cell_idx(n) {
                        NameOp::ClassDeref(i)
                    } else {
                        NameOp::Name
                    }
                }
                _ => {
                    if sc.globals.contains(n) {
                        NameOp::Global
                    } else if let Some(i) = fast_idx(n) {
                        NameOp::Fast(i)
                    } else if let Some(i) = cell_idx(n) {
                        NameOp::Cell(i)
                    } else {
                        NameOp::Global
                    }
                }
            }
        };
        for (node, n) in &sc.refs {
            names.insert(*node, op_for(n));
        }
        let params = sc.params.iter().map(|p| op_for(p)).collect();
        scopes.insert(
            sc.node,
            Rc::new(ScopeInfo {
                kind,
                name: sc.name.as_str().into(),
                qualname: sc.qualname.as_str().into(),
                fast,
                n_own_cells: own_cells.len(),
                cells,
                params,
                has_yield: sc.has_yield,
            }),
        );
        let mut child_env = env.to_vec();
        if function_like {
            child_env.push(local_set);
        }
        for c in &sc.children {
            self.resolve(*c, &child_env, scopes, names)?;
        }
        Ok(())
    }
}

/// Calls `f` on every direct child expression of `e` (for kinds with no scoping role).
pub fn walk_children<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    match e {
        Expr::BoolOp(b) => b.values.iter().for_each(f),
        Expr::BinOp(b) => {
            f(&b.left);
            f(&b.right);
        }
        Expr::UnaryOp(u) => f(&u.operand),
        Expr::If(i) => {
            f(&i.test);
            f(&i.body);
            f(&i.orelse);
        }
        Expr::Dict(d) => {
            for it in &d.items {
                if let Some(k) = &it.key {
                    f(k);
                }
                f(&it.value);
            }
        }
        Expr::Set(s) => s.elts.iter().for_each(f),
        Expr::Await(a) => f(&a.value),
        Expr::Compare(c) => {
            f(&c.left);
            c.comparators.iter().for_each(f);
        }
        Expr::Call(c) => {
            f(&c.func);
            c.arguments.args.iter().for_each(&mut *f);
            for k in c.arguments.keywords.iter() {
                f(&k.value);
            }
        }
        Expr::FString(fs) => {
            for part in fs.value.as_slice() {
                if let ast::FStringPart::FString(s) = part {
                    walk_interpolations(&s.elements, f);
                }
            }
        }
        Expr::Attribute(a) => f(&a.value),
        Expr::Subscript(s) => {
            f(&s.value);
            f(&s.slice);
        }
        Expr::Starred(s) => f(&s.value),
        Expr::List(l) => l.elts.iter().for_each(f),
        Expr::Tuple(t) => t.elts.iter().for_each(f),
        Expr::Slice(s) => {
            for p in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                f(p);
            }
        }
        _ => {}
    }
}

fn walk_interpolations<'a>(els: &'a ast::InterpolatedStringElements, f: &mut dyn FnMut(&'a Expr)) {
    for el in els.iter() {
        if let ast::InterpolatedStringElement::Interpolation(i) = el {
            f(&i.expression);
            if let Some(spec) = &i.format_spec {
                walk_interpolations(&spec.elements, f);
            }
        }
    }
}
