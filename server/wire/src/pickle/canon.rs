//! Canonical text of a graph for tests and diagnostics (docs/protocol.md `Graph::canon`):
//! Python-like literals, sets sorted, shared references expanded, `<cycle>` where a
//! value contains itself.

use std::collections::HashSet;
use std::fmt::Write;

use super::bigint;
use super::graph::Graph;
use super::node::{Id, Node, Obj};

/// Nesting deeper than this prints `<deep>` (keeps the recursion off the stack limit).
const MAX_DEPTH: usize = 500;

impl Graph {
    /// Canonical text of the value at `id`, e.g.
    /// `CALL(G<collections.OrderedDict>; ()).dictitems{"a": 1}`.
    pub fn canon(&self, id: Id) -> String {
        let mut canon = Canon {
            graph: self,
            on_path: HashSet::new(),
            out: String::new(),
        };
        canon.value(id);
        canon.out
    }
}

struct Canon<'g> {
    graph: &'g Graph,
    on_path: HashSet<Id>,
    out: String,
}

impl Canon<'_> {
    fn value(&mut self, id: Id) {
        if self.on_path.len() >= MAX_DEPTH {
            return self.out.push_str("<deep>");
        }
        if !self.on_path.insert(id) {
            return self.out.push_str("<cycle>");
        }
        match self.graph.node(id) {
            Some(node) => self.node(node),
            None => self.out.push_str("<missing>"),
        }
        self.on_path.remove(&id);
    }

    fn node(&mut self, node: &Node) {
        match node {
            Node::None => self.out.push_str("None"),
            Node::Bool(b) => self.out.push_str(if *b { "True" } else { "False" }),
            Node::Int(v) => self.text(format_args!("{v}")),
            Node::BigInt(bytes) => self.out.push_str(&bigint::to_decimal(bytes)),
            Node::Float(v) => self.text(format_args!("{v:?}")),
            Node::Str(s) => self.text(format_args!("{s:?}")),
            Node::Bytes(b) => self.text(format_args!("b\"{}\"", b.escape_ascii())),
            Node::PyStr2(b) => self.text(format_args!("s2\"{}\"", b.escape_ascii())),
            Node::ByteArray(b) => self.text(format_args!("bytearray(b\"{}\")", b.escape_ascii())),
            Node::List(items) => self.seq("[", items, "]"),
            Node::Tuple(items) if items.len() == 1 => self.seq("(", items, ",)"),
            Node::Tuple(items) => self.seq("(", items, ")"),
            Node::Dict(items) => self.dict(items),
            Node::Set(items) if items.is_empty() => self.out.push_str("set()"),
            Node::Set(items) => self.sorted("{", items, "}"),
            Node::FrozenSet(items) => self.sorted("frozenset({", items, "})"),
            Node::Global { module, name } => self.text(format_args!("G<{module}.{name}>")),
            Node::Object(obj) => self.object(obj),
            Node::PersId(pid) => self.wrapped("PID(", *pid, ")"),
            Node::Ext(code) => self.text(format_args!("EXT({code})")),
            Node::OutOfBand {
                index,
                readonly: false,
            } => self.text(format_args!("OOB({index})")),
            Node::OutOfBand {
                index,
                readonly: true,
            } => self.text(format_args!("OOB({index}, readonly)")),
        }
    }

    fn text(&mut self, args: std::fmt::Arguments<'_>) {
        // Writing into a String cannot fail.
        let _ = self.out.write_fmt(args);
    }

    fn wrapped(&mut self, open: &str, id: Id, close: &str) {
        self.out.push_str(open);
        self.value(id);
        self.out.push_str(close);
    }

    fn seq(&mut self, open: &str, items: &[Id], close: &str) {
        self.out.push_str(open);
        for (i, &item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.value(item);
        }
        self.out.push_str(close);
    }

    fn dict(&mut self, items: &[(Id, Id)]) {
        self.out.push('{');
        for (i, &(key, value)) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.value(key);
            self.out.push_str(": ");
            self.value(value);
        }
        self.out.push('}');
    }

    /// Set elements in sorted canonical order (Python sets are unordered).
    fn sorted(&mut self, open: &str, items: &[Id], close: &str) {
        let mut texts: Vec<String> = items
            .iter()
            .map(|&item| {
                let start = self.out.len();
                self.value(item);
                self.out.split_off(start)
            })
            .collect();
        texts.sort();
        self.out.push_str(open);
        self.out.push_str(&texts.join(", "));
        self.out.push_str(close);
    }

    /// `CALL(f; args)`, `NEW(cls; args[; kwargs])` or `WRAP(value)`, then `.build(state)`
    /// per BUILD, `.items[..]` and `.dictitems{..}`.
    fn object(&mut self, obj: &Obj) {
        match (obj.args, obj.kwargs) {
            (None, _) => self.wrapped("WRAP(", obj.callable, ")"),
            (Some(args), kwargs) => {
                self.out.push_str(if obj.newobj { "NEW(" } else { "CALL(" });
                self.value(obj.callable);
                self.out.push_str("; ");
                self.value(args);
                if let Some(kwargs) = kwargs {
                    self.out.push_str("; ");
                    self.value(kwargs);
                }
                self.out.push(')');
            }
        }
        for &state in &obj.state {
            self.wrapped(".build(", state, ")");
        }
        if !obj.listitems.is_empty() {
            self.seq(".items[", &obj.listitems, "]");
        }
        if !obj.dictitems.is_empty() {
            self.out.push_str(".dictitems");
            self.dict(&obj.dictitems);
        }
    }
}
