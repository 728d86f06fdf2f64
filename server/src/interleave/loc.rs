//! Locations: where a worker can ask for a value — a module's input, skip gate or output,
//! the traced call's result; open for `.source` operations and gradients. A requester is
//! printed as nnsight prints it: `model.transformer.h.0.output.i0`.

use crate::model::{ModuleId, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Site {
    Input,
    Skip,
    Output,
    /// The traced call's return value (`tracer.result`).
    Result,
    /// The gradient flowing into a tensor during a backward pass (nnsight's
    /// `"{id(tensor)}.grad"`); the key names the tensor's hook.
    Grad(u64),
    /// An operation of the module's forward (`.source.<op>`, its index in the module
    /// class's table): its `(args, kwargs)`, skip gate and result.
    OpInput(u16),
    OpSkip(u16),
    OpOutput(u16),
}

impl Site {
    /// The operation this site belongs to, if it is one.
    pub fn op(self) -> Option<u16> {
        match self {
            Site::OpInput(o) | Site::OpSkip(o) | Site::OpOutput(o) => Some(o),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    /// The module, or `None` for locations of the trace itself (`result`).
    pub module: Option<ModuleId>,
    pub site: Site,
}

impl Loc {
    pub fn module(id: ModuleId, site: Site) -> Loc {
        Loc { module: Some(id), site }
    }

    pub fn result() -> Loc {
        Loc { module: None, site: Site::Result }
    }

    pub fn grad(key: u64) -> Loc {
        Loc { module: None, site: Site::Grad(key) }
    }

    /// `model.transformer.h.0.output` (nnsight's provider string).
    pub fn name(&self, tree: &Tree) -> String {
        let site = match self.site {
            Site::Input => "input",
            Site::Skip => "skip",
            Site::Output => "output",
            Site::Result => "result",
            Site::Grad(key) => return format!("{key}.grad"),
            Site::OpInput(_) | Site::OpSkip(_) | Site::OpOutput(_) => {
                return op_name(self, |id| tree.node(id).envoy.clone(), |id| tree.node(id).class.to_string());
            }
        };
        match self.module {
            Some(id) => format!("{}.{site}", tree.node(id).envoy),
            None => site.to_string(),
        }
    }

    /// The requester string with its occurrence (`model.x.output.i0`).
    pub fn requester(&self, tree: &Tree, occurrence: usize) -> String {
        format!("{}.i{occurrence}", self.name(tree))
    }
}

/// `model.transformer.h.0.attn.source.split_1.output`: an operation's provider string.
pub fn op_name(loc: &Loc, envoy: impl Fn(crate::model::ModuleId) -> String, class: impl Fn(crate::model::ModuleId) -> String) -> String {
    let (Some(id), Some(op)) = (loc.module, loc.site.op()) else {
        return String::new();
    };
    let op_label = crate::model::source::table(&class(id))
        .and_then(|t| t.names.get(op as usize).copied())
        .unwrap_or("?");
    let site = match loc.site {
        Site::OpInput(_) => "input",
        Site::OpSkip(_) => "skip",
        _ => "output",
    };
    format!("{}.source.{op_label}.{site}", envoy(id))
}
