//! `module.source` (docs/semantics.md §7.3): user code's handle on the operations of a
//! module's forward, named as nnsight 0.8.1 names them (`model::source`; a 0.7 client sees
//! 0.7's listing, its calls only, under the same names). Printing it
//! gives nnsight's listing; `.source.<op>` reads and writes that operation's
//! `.output`, `.inputs`, `.input` and `.skip(v)` exactly as an envoy does a module's.

use std::any::Any;
use std::rc::Rc;

use super::envoy::{ModelCtx, first_input, replace_first_input, request};
use super::loc::{Loc, Site};
use super::worker::Event;
use crate::interp::Interp;
use crate::interp::host::HostObj;
use crate::model::ModuleId;
use crate::model::source::{OpTable, op_07, table, table_07};
use crate::value::object::{Aux, Native};
use crate::value::{PyErr, PyResult, Value};

/// `model.<module>.source`.
pub struct SourceObj {
    pub ctx: Rc<ModelCtx>,
    pub id: ModuleId,
}

impl SourceObj {
    /// The `.source` of module `id`, if localndif serves its operations.
    pub fn of(ctx: &Rc<ModelCtx>, id: ModuleId) -> PyResult<Value> {
        let class = ctx.model.tree().node(id).class;
        if table(class).is_none() || table_07(class).is_none() {
            return Err(PyErr::unsupported(format!(
                "`.source` of a {class} module (operations are served for the attention and MLP modules of GPT-2, Llama, GPT-NeoX, Qwen 3 and Gemma 2)"
            )));
        }
        let s: Rc<dyn HostObj> = Rc::new(SourceObj { ctx: ctx.clone(), id });
        Ok(Value::Host(s))
    }

    fn table(&self) -> &'static OpTable {
        table(self.ctx.model.tree().node(self.id).class).expect("checked by SourceObj::of")
    }

    /// What the client lists and names: 0.8.1's table, or 0.7's (its calls only).
    fn listed(&self) -> &'static OpTable {
        if self.ctx.dialect.source_07() {
            table_07(self.ctx.model.tree().node(self.id).class).expect("checked by SourceObj::of")
        } else {
            self.table()
        }
    }
}

impl HostObj for SourceObj {
    fn type_name(&self) -> &str {
        "Source"
    }

    fn repr(&self) -> String {
        self.listed().listing.trim_end_matches('\n').to_string()
    }

    fn getattr(&self, _it: &mut Interp, _this: &Value, name: &str) -> PyResult<Value> {
        if name == "names" {
            return Ok(Value::list(self.listed().names.iter().map(|n| Value::str(n)).collect()));
        }
        let class = self.ctx.model.tree().node(self.id).class;
        let g1 = self.ctx.dialect.source_07();
        let op = if g1 { self.listed().index(name).and_then(|i| op_07(class, i)) } else { self.table().index(name) };
        match op {
            Some(op) => {
                let o: Rc<dyn HostObj> = Rc::new(OpEnvoy { ctx: self.ctx.clone(), id: self.id, op: op as u16 });
                Ok(Value::Host(o))
            }
            // nnsight 0.7's `SourceEnvoy.__getattr__`.
            None if g1 => Err(PyErr::attribute_error(format!("'SourceEnvoy' object has no attribute '{name}'"))),
            None => Err(PyErr::attribute_error(format!(
                "'{}' has no operation '{name}'; print(...source) lists them",
                self.ctx.model.tree().node(self.id).envoy
            ))),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `model.<module>.source.<op>`.
pub struct OpEnvoy {
    ctx: Rc<ModelCtx>,
    id: ModuleId,
    op: u16,
}

impl OpEnvoy {
    fn loc(&self, site: fn(u16) -> Site) -> Loc {
        Loc::module(self.id, site(self.op))
    }

    fn name(&self, loc: &Loc) -> String {
        loc.name(self.ctx.model.tree())
    }
}

impl HostObj for OpEnvoy {
    fn type_name(&self) -> &str {
        "OperationEnvoy"
    }

    fn getattr(&self, it: &mut Interp, this: &Value, name: &str) -> PyResult<Value> {
        match name {
            "output" => {
                let loc = self.loc(Site::OpOutput);
                request(it, Event::Value, loc, &self.name(&loc))
            }
            "inputs" => {
                let loc = self.loc(Site::OpInput);
                request(it, Event::Value, loc, &self.name(&loc))
            }
            "input" => {
                let loc = self.loc(Site::OpInput);
                let inputs = request(it, Event::Value, loc, &self.name(&loc))?;
                first_input(&inputs)
            }
            // nnsight 0.7's OperationEnvoy has no `skip`.
            "skip" if self.ctx.dialect.source_07() => {
                Err(PyErr::attribute_error("'OperationEnvoy' object has no attribute 'skip'"))
            }
            "skip" => Ok(Native::with_aux("skip", Some(this.clone()), |it, n, args, _| {
                let Some(Value::Host(h)) = &n.recv else { return Ok(Value::None) };
                let Some(o) = h.as_any().downcast_ref::<OpEnvoy>() else { return Ok(Value::None) };
                let v = args.into_iter().next().ok_or_else(|| PyErr::type_error("skip() missing 1 required positional argument: 'replacement'"))?;
                let loc = o.loc(Site::OpSkip);
                request(it, Event::Skip(v), loc, &o.name(&loc))?;
                Ok(Value::None)
            }, Aux::None)),
            "source" => Err(PyErr::unsupported("`.source` of an operation (the function it calls)")),
            other => Err(PyErr::attribute_error(format!("'OperationEnvoy' object has no attribute '{other}'"))),
        }
    }

    fn setattr(&self, it: &mut Interp, _this: &Value, name: &str, v: Value) -> PyResult<()> {
        match name {
            "output" => {
                let loc = self.loc(Site::OpOutput);
                request(it, Event::Swap(v), loc, &self.name(&loc)).map(drop)
            }
            "inputs" => {
                let ok = matches!(&v, Value::Tuple(p) if p.len() == 2 && matches!(p[1], Value::Dict(_)) && matches!(p[0], Value::Tuple(_)));
                if !ok {
                    return Err(PyErr::type_error("`.inputs` must be set to an (args, kwargs) pair"));
                }
                let loc = self.loc(Site::OpInput);
                request(it, Event::Swap(v), loc, &self.name(&loc)).map(drop)
            }
            "input" => {
                let loc = self.loc(Site::OpInput);
                let inputs = request(it, Event::Value, loc, &self.name(&loc))?;
                let swapped = replace_first_input(&inputs, v)?;
                request(it, Event::Swap(swapped), loc, &self.name(&loc)).map(drop)
            }
            other => Err(PyErr::attribute_error(format!("'OperationEnvoy' object has no attribute '{other}'"))),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
