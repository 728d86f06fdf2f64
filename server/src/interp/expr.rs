//! Expressions, in Python's evaluation order (left to right; a call's callee before its
//! arguments), including comprehensions (each in a frame of its own, its first iterable
//! evaluated outside) and f-strings.

use std::rc::Rc;

use ruff_python_ast::{self as ast, Expr};

use super::Interp;
use super::code::CodeNode;
use super::frame::Frame;
use super::program::ptr;
use crate::value::object::Cell;
use crate::value::types;
use crate::value::{Dict, PyErr, PyResult, Set, Value, ctx, int, stack};

impl Interp<'_> {
    pub fn eval(&mut self, f: &mut Frame, e: &Expr) -> PyResult<Value> {
        stack::guard()?;
        Ok(match e {
            Expr::Name(n) => self.load_name(f, n)?,
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => match i.as_i64() {
                    Some(v) => Value::Int(v),
                    None => int::from_literal(&i.to_string())?,
                },
                ast::Number::Float(x) => Value::Float(*x),
                ast::Number::Complex { .. } => return Err(PyErr::unsupported("complex numbers")),
            },
            Expr::StringLiteral(s) => Value::str(s.value.to_str()),
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.iter().flat_map(|p| p.value.iter().copied()).collect();
                Value::Bytes(Rc::new(bytes))
            }
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NoneLiteral(_) => Value::None,
            Expr::EllipsisLiteral(_) => Value::Ellipsis,
            Expr::FString(fs) => {
                let mut out = String::new();
                for part in fs.value.as_slice() {
                    match part {
                        ast::FStringPart::Literal(l) => out.push_str(&l.value),
                        ast::FStringPart::FString(s) => self.fstring_elements(f, &s.elements, &mut out)?,
                    }
                    ctx::check_str_len(out.len())?;
                }
                Value::string(out)
            }
            Expr::TString(_) => return Err(PyErr::unsupported("t-strings")),
            Expr::BoolOp(b) => {
                let mut last = Value::None;
                for (i, v) in b.values.iter().enumerate() {
                    last = self.eval(f, v)?;
                    if i + 1 == b.values.len() {
                        break;
                    }
                    let t = self.truthy(&last)?;
                    match b.op {
                        ast::BoolOp::And if !t => break,
                        ast::BoolOp::Or if t => break,
                        _ => {}
                    }
                }
                last
            }
            Expr::Named(n) => {
                let v = self.eval(f, &n.value)?;
                if let Expr::Name(t) = n.target.as_ref() {
                    self.store_name(f, t, v.clone())?;
                }
                v
            }
            Expr::BinOp(b) => {
                let l = self.eval(f, &b.left)?;
                let r = self.eval(f, &b.right)?;
                self.binary_op(b.op.as_str(), &l, &r)?
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(f, &u.operand)?;
                self.unary_op(u.op, &v)?
            }
            Expr::Lambda(l) => {
                let code = f
                    .code
                    .child(CodeNode::Lambda(l as *const _), ptr(l), "<lambda>")
                    .ok_or_else(|| PyErr::internal("a lambda without a scope"))?;
                let empty = ast::Parameters::default();
                let params = l.parameters.as_deref().unwrap_or(&empty);
                self.function_value(f, code, params)?
            }
            Expr::If(i) => {
                let t = self.eval(f, &i.test)?;
                if self.truthy(&t)? {
                    self.eval(f, &i.body)?
                } else {
                    self.eval(f, &i.orelse)?
                }
            }
            Expr::Dict(d) => {
                let dict = Dict::new();
                for item in &d.items {
                    match &item.key {
                        Some(k) => {
                            let k = self.eval(f, k)?;
                            let v = self.eval(f, &item.value)?;
                            dict.insert(k, v)?;
                        }
                        None => {
                            let m = self.eval(f, &item.value)?;
                            for (k, v) in self.mapping_items(&m)? {
                                dict.insert(k, v)?;
                            }
                        }
                    }
                }
                Value::Dict(dict)
            }
            Expr::Set(s) => {
                let items = self.eval_seq(f, &s.elts)?;
                Value::Set(Set::new(items, false)?)
            }
            Expr::List(l) => {
                let items = self.eval_seq(f, &l.elts)?;
                Value::List(crate::value::List::checked(items)?)
            }
            Expr::Tuple(t) => Value::tuple(self.eval_seq(f, &t.elts)?),
            Expr::ListComp(c) => {
                let code = f.code.child(CodeNode::ListComp(c as *const _), ptr(c), "<listcomp>");
                let out = self.comprehension(f, code, &c.generators, Comp::List(&c.elt))?;
                Value::List(crate::value::List::checked(out)?)
            }
            Expr::SetComp(c) => {
                let code = f.code.child(CodeNode::SetComp(c as *const _), ptr(c), "<setcomp>");
                let out = self.comprehension(f, code, &c.generators, Comp::List(&c.elt))?;
                Value::Set(Set::new(out, false)?)
            }
            Expr::Generator(c) => {
                let code = f.code.child(CodeNode::Generator(c as *const _), ptr(c), "<genexpr>");
                let out = self.comprehension(f, code, &c.generators, Comp::List(&c.elt))?;
                super::iter::PyIter::items(out, "generator")
            }
            Expr::DictComp(c) => {
                let code = f.code.child(CodeNode::DictComp(c as *const _), ptr(c), "<dictcomp>");
                let key = c
                    .key
                    .as_deref()
                    .ok_or_else(|| PyErr::unsupported("`**` in a dict comprehension"))?;
                let out = self.comprehension(f, code, &c.generators, Comp::Dict(key, &c.value))?;
                let dict = Dict::new();
                for pair in out.chunks(2) {
                    dict.insert(pair[0].clone(), pair[1].clone())?;
                }
                Value::Dict(dict)
            }
            Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => {
                return Err(PyErr::unsupported("`await` and `yield`"));
            }
            Expr::Compare(c) => {
                let mut left = self.eval(f, &c.left)?;
                let mut result = Value::Bool(true);
                for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
                    let right = self.eval(f, right)?;
                    result = self.compare_op(*op, &left, &right)?;
                    if c.ops.len() > 1 && !self.truthy(&result)? {
                        return Ok(result);
                    }
                    left = right;
                }
                result
            }
            Expr::Call(c) => {
                let callee = self.eval_callee(f, &c.func)?;
                let (args, kwargs) = self.eval_args(f, &c.arguments)?;
                self.call(&callee, args, kwargs)?
            }
            Expr::Attribute(a) => {
                let obj = self.eval(f, &a.value)?;
                self.getattr(&obj, a.attr.id.as_str())?
            }
            Expr::Subscript(s) => {
                let obj = self.eval(f, &s.value)?;
                let idx = self.eval(f, &s.slice)?;
                self.getitem(&obj, &idx)?
            }
            Expr::Slice(s) => {
                let mut part = |e: &Option<Box<Expr>>| -> PyResult<Value> {
                    match e {
                        Some(e) => self.eval(f, e),
                        None => Ok(Value::None),
                    }
                };
                let lo = part(&s.lower)?;
                let hi = part(&s.upper)?;
                let st = part(&s.step)?;
                Value::slice(lo, hi, st)
            }
            Expr::Starred(_) => {
                return Err(PyErr::new(
                    &types::SYNTAX_ERROR,
                    "can't use starred expression here",
                ));
            }
            Expr::IpyEscapeCommand(_) => return Err(PyErr::unsupported("IPython escape commands")),
        })
    }

    /// The callee of a call. A bare `super` is bound to this frame's class and first
    /// argument here, so `super().f(...)` works without arguments.
    fn eval_callee(&mut self, f: &mut Frame, func: &Expr) -> PyResult<Value> {
        if let Expr::Name(n) = func
            && n.id.as_str() == "super"
        {
            let v = self.load_name(f, n)?;
            if matches!(&v, Value::Native(nat) if nat.name.as_ref() == "super") {
                return self.zero_arg_super(f);
            }
            return Ok(v);
        }
        self.eval(f, func)
    }

    /// Evaluates list/tuple/set elements, expanding `*iterable`.
    fn eval_seq(&mut self, f: &mut Frame, elts: &[Expr]) -> PyResult<Vec<Value>> {
        let mut out = Vec::with_capacity(elts.len());
        for e in elts {
            if let Expr::Starred(s) = e {
                let v = self.eval(f, &s.value)?;
                out.extend(self.collect(&v)?);
                ctx::check_len(out.len(), "sequence")?;
            } else {
                out.push(self.eval(f, e)?);
            }
        }
        Ok(out)
    }

    /// A call's arguments: positionals (with `*`), then keywords (with `**`).
    pub(super) fn eval_args(
        &mut self,
        f: &mut Frame,
        a: &ast::Arguments,
    ) -> PyResult<(Vec<Value>, Vec<(Rc<str>, Value)>)> {
        let mut args = Vec::with_capacity(a.args.len());
        for e in a.args.iter() {
            if let Expr::Starred(s) = e {
                let v = self.eval(f, &s.value)?;
                let items = self.collect(&v).map_err(|_| {
                    PyErr::type_error(format!(
                        "Value after * must be an iterable, not {}",
                        v.type_name()
                    ))
                })?;
                args.extend(items);
            } else {
                args.push(self.eval(f, e)?);
            }
        }
        let mut kwargs: Vec<(Rc<str>, Value)> = Vec::with_capacity(a.keywords.len());
        for k in a.keywords.iter() {
            let v = self.eval(f, &k.value)?;
            match &k.arg {
                Some(name) => {
                    let name: Rc<str> = Rc::from(name.id.as_str());
                    if kwargs.iter().any(|(n, _)| *n == name) {
                        return Err(PyErr::new(
                            &types::SYNTAX_ERROR,
                            format!("keyword argument repeated: {name}"),
                        ));
                    }
                    kwargs.push((name, v));
                }
                None => {
                    for (key, val) in self.mapping_items(&v)? {
                        let Value::Str(s) = &key else {
                            return Err(PyErr::type_error("keywords must be strings"));
                        };
                        let name: Rc<str> = Rc::from(s.as_str());
                        if kwargs.iter().any(|(n, _)| *n == name) {
                            return Err(PyErr::type_error(format!(
                                "got multiple values for keyword argument '{name}'"
                            )));
                        }
                        kwargs.push((name, val));
                    }
                }
            }
        }
        Ok((args, kwargs))
    }

    fn fstring_elements(
        &mut self,
        f: &mut Frame,
        els: &ast::InterpolatedStringElements,
        out: &mut String,
    ) -> PyResult<()> {
        for el in els.iter() {
            match el {
                ast::InterpolatedStringElement::Literal(l) => out.push_str(&l.value),
                ast::InterpolatedStringElement::Interpolation(i) => {
                    let v = self.eval(f, &i.expression)?;
                    if let Some(d) = &i.debug_text {
                        out.push_str(d.leading());
                        out.push_str(d.expression());
                        out.push_str(d.trailing());
                    }
                    let converted = match i.conversion {
                        ast::ConversionFlag::Str => Value::string(self.str(&v)?),
                        ast::ConversionFlag::Repr => Value::string(self.repr(&v)?),
                        ast::ConversionFlag::Ascii => Value::string(ascii(&self.repr(&v)?)),
                        ast::ConversionFlag::None => {
                            if i.debug_text.is_some() && i.format_spec.is_none() {
                                Value::string(self.repr(&v)?)
                            } else {
                                v
                            }
                        }
                    };
                    let mut spec = String::new();
                    if let Some(s) = &i.format_spec {
                        self.fstring_elements(f, &s.elements, &mut spec)?;
                    }
                    out.push_str(&self.format_value(&converted, &spec)?);
                }
            }
            ctx::check_str_len(out.len())?;
        }
        Ok(())
    }

    /// Runs a comprehension in its own frame; returns its items (key, value pairs
    /// flattened for dict comprehensions).
    fn comprehension(
        &mut self,
        f: &mut Frame,
        code: Option<Rc<super::code::Code>>,
        gens: &[ast::Comprehension],
        what: Comp<'_>,
    ) -> PyResult<Vec<Value>> {
        let code = code.ok_or_else(|| PyErr::internal("a comprehension without a scope"))?;
        if gens.iter().any(|g| g.is_async) {
            return Err(PyErr::unsupported("async comprehensions"));
        }
        let first = self.eval(f, &gens[0].iter)?;
        let first_iter = self.iter(&first)?;
        let cells: Vec<Rc<Cell>> = (0..code.scope.n_own_cells)
            .map(|_| Cell::new(None))
            .chain(self.closure_for(f, &code))
            .collect();
        let mut frame = Frame {
            fast: vec![None; code.scope.fast.len()],
            cells,
            globals: f.globals.clone(),
            locals: None,
            line: f.line,
            func: None,
            code,
        };
        let mut out = Vec::new();
        self.depth_enter()?;
        let r = self.comp_level(&mut frame, gens, 0, Some(first_iter), &what, &mut out);
        self.depth -= 1;
        r?;
        Ok(out)
    }

    fn comp_level(
        &mut self,
        f: &mut Frame,
        gens: &[ast::Comprehension],
        level: usize,
        iter: Option<Value>,
        what: &Comp<'_>,
        out: &mut Vec<Value>,
    ) -> PyResult<()> {
        let g = &gens[level];
        let it = match iter {
            Some(it) => it,
            None => {
                let v = self.eval(f, &g.iter)?;
                self.iter(&v)?
            }
        };
        'items: while let Some(item) = self.next(&it)? {
            ctx::tick()?;
            self.assign(f, &g.target, item)?;
            for cond in &g.ifs {
                let c = self.eval(f, cond)?;
                if !self.truthy(&c)? {
                    continue 'items;
                }
            }
            if level + 1 < gens.len() {
                self.comp_level(f, gens, level + 1, None, what, out)?;
            } else {
                match what {
                    Comp::List(e) => out.push(self.eval(f, e)?),
                    Comp::Dict(k, v) => {
                        let k = self.eval(f, k)?;
                        let v = self.eval(f, v)?;
                        out.push(k);
                        out.push(v);
                    }
                }
                ctx::check_len(out.len(), "comprehension")?;
            }
        }
        Ok(())
    }

    /// `(key, value)` pairs of a mapping (`**m`, `dict(m)`).
    pub fn mapping_items(&mut self, m: &Value) -> PyResult<Vec<(Value, Value)>> {
        match m {
            Value::Dict(d) => Ok(d.items()),
            Value::Record(r) => Ok(r
                .items()
                .into_iter()
                .map(|(k, v)| (Value::str(&k), v))
                .collect()),
            other => {
                let keys = self.getattr(other, "keys").map_err(|_| {
                    PyErr::type_error(format!(
                        "'{}' object is not a mapping",
                        other.type_name()
                    ))
                })?;
                let keys = self.call(&keys, vec![], vec![])?;
                let mut out = Vec::new();
                for k in self.collect(&keys)? {
                    let v = self.getitem(other, &k)?;
                    out.push((k, v));
                }
                Ok(out)
            }
        }
    }
}

enum Comp<'a> {
    List(&'a Expr),
    Dict(&'a Expr, &'a Expr),
}

/// `ascii()`: non-ASCII characters escaped.
pub fn ascii(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n <= 0xff {
            out.push_str(&format!("\\x{n:02x}"));
        } else if n <= 0xffff {
            out.push_str(&format!("\\u{n:04x}"));
        } else {
            out.push_str(&format!("\\U{n:08x}"));
        }
    }
    out
}
