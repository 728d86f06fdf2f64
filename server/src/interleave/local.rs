//! `with session.local():` — nnsight 0.5–0.7's hybrid execution (their
//! `RemoteTracer.local` / `StreamTracer`; docs/protocol.md, "STREAM"). Inside a remote
//! session the block does not run here: it is compiled into a function the way nnsight
//! compiles a traced block, sent to the client as a STREAM with the session values it
//! reads, run there by the client's `LocalTracer`, and the values it marks with
//! `.remote()` come back (`stream_upload`) and are bound in the session. This module owns
//! the block's side (its source and the names it reads); the job supplies the
//! [`ClientRunner`] that encodes, sends and decodes.

use std::any::Any;
use std::collections::BTreeSet;
use std::rc::Rc;

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use crate::interp::Interp;
use crate::interp::frame::Frame;
use crate::interp::host::{HostObj, WithBody};
use crate::value::{PyErr, PyResult, Value};

use super::ModelCtx;

/// What the job runs a local block with: the function source and its name, and the
/// session values the block reads; returns the values the client uploaded.
pub type ClientRunner = Rc<dyn Fn(&Rc<ModelCtx>, ClientBlock) -> PyResult<Vec<(Rc<str>, Value)>>>;

/// A block to run on the client.
pub struct ClientBlock {
    /// `def <name>(__nnsight_tracer__, __nnsight_tracing_info__): ...`, as nnsight
    /// compiles a block (`pull()` first, `push()` last).
    pub source: String,
    pub name: String,
    /// Session values the block reads, by name.
    pub captured: Vec<(Rc<str>, Value)>,
}

/// Why a block cannot run on the client unless the server was started with
/// `--stream-local`: nnsight 0.6–0.7's `RemoteBackend.handle_response` answers a STREAM
/// with `load(response.data, model)`, whose `persistent_objects or {}` calls `bool()` on
/// the model envoy, and `Envoy.__len__` raises TypeError for a transformers model — the
/// client would crash before running anything.
pub const NO_STREAM: &str = "session.local() needs the server to send this block to your client as a STREAM, and nnsight 0.6-0.7 clients crash on one (RemoteBackend.handle_response calls load(data, model), and bool(model) raises TypeError for a LanguageModel). Run this code after the session on the values you saved, or use a client with that fixed against a server started with --stream-local.";

/// What `session.local()` returns.
pub struct LocalObj {
    pub ctx: Rc<ModelCtx>,
}

impl HostObj for LocalObj {
    fn type_name(&self) -> &str {
        "StreamTracer"
    }

    fn with_body(&self, it: &mut Interp, this: &Value, body: WithBody<'_>, frame: &mut Frame) -> Option<PyResult<()>> {
        Some((|| {
            if super::tracer::in_worker(it) {
                return Err(PyErr::value_error(
                    "`session.local()` cannot be used inside a trace's intervention code (the model is already running).",
                ));
            }
            let Some(run) = self.ctx.client_runner.clone() else {
                return Err(PyErr::runtime_error(NO_STREAM));
            };
            if let Some(t) = body.target {
                it.assign(frame, t, this.clone())?;
            }
            let name = format!("__nnsight_local_{}__", body.line);
            let source = function_source(&body.code.program.source, body.stmts, &name)?;
            let scope = frame.locals.clone().unwrap_or_else(|| frame.globals.clone());
            let captured = read_names(body.stmts)
                .into_iter()
                .filter_map(|n| scope.get(&n).filter(shippable).map(|v| (Rc::from(n.as_str()), v)))
                .collect();
            for (k, v) in run(&self.ctx, ClientBlock { source, name, captured })? {
                scope.set(&k, v)?;
            }
            Ok(())
        })())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Values a client can rebuild without this server's objects (the client loads the
/// function without persistent objects: no envoys, tracers or tokenizers; modules go by
/// name, so only importable ones).
fn shippable(v: &Value) -> bool {
    match v {
        Value::Host(_) => false,
        Value::Module(m) => m.lookup.is_some(),
        _ => true,
    }
}

/// The block as the function nnsight would compile it.
fn function_source(source: &str, stmts: &[Stmt], name: &str) -> PyResult<String> {
    let (Some(first), Some(last)) = (stmts.first(), stmts.last()) else {
        return Err(PyErr::value_error("a `with session.local():` block is empty"));
    };
    let start = source[..first.start().to_usize()].rfind('\n').map_or(0, |i| i + 1);
    let end = last.end().to_usize();
    let lines: Vec<&str> = source[start..end].lines().collect();
    let mut out = format!("def {name}(__nnsight_tracer__, __nnsight_tracing_info__):\n    __nnsight_tracer__.pull()\n");
    for body in crate::text::dedent(&lines) {
        out.push_str("    ");
        out.push_str(body);
        out.push('\n');
    }
    out.push_str("    __nnsight_tracer__.push()\n");
    Ok(out)
}

/// Every name the block reads, in a stable order.
fn read_names(stmts: &[Stmt]) -> BTreeSet<String> {
    struct Reads(BTreeSet<String>);
    impl<'a> Visitor<'a> for Reads {
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Name(n) = e
                && n.ctx == ExprContext::Load
            {
                self.0.insert(n.id.to_string());
            }
            walk_expr(self, e);
        }
    }
    let mut r = Reads(BTreeSet::new());
    for s in stmts {
        r.visit_stmt(s);
    }
    r.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_becomes_nnsights_function_and_its_reads_are_found() {
        let src = "x = 1\nwith session.local():\n    y = h * 2\n    if y.sum() > 0:\n        z = y.remote()\nw = 3\n";
        let module = ruff_python_parser::parse_module(src).unwrap().into_syntax();
        let Stmt::With(w) = &module.body[1] else { panic!("no with") };
        let f = function_source(src, &w.body, "__nnsight_local_2__").unwrap();
        assert_eq!(
            f,
            "def __nnsight_local_2__(__nnsight_tracer__, __nnsight_tracing_info__):\n    __nnsight_tracer__.pull()\n    y = h * 2\n    if y.sum() > 0:\n        z = y.remote()\n    __nnsight_tracer__.push()\n"
        );
        let names: Vec<String> = read_names(&w.body).into_iter().collect();
        assert_eq!(names, ["h", "y"]);
    }
}
