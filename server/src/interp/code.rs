//! Code objects: a piece of a program that runs in a frame of its own — a module body (or
//! a `with` body nnsight runs as one), a function, a lambda, a comprehension, a class body
//! — with the resolution its names were analyzed under.

use std::rc::Rc;

use ruff_python_ast::{self as ast, Stmt};

use super::program::{Program, Resolution, ScopeInfo};

#[derive(Clone, Copy)]
pub enum CodeNode {
    /// Statements run as module-level code (pointer into the program's AST).
    Body(*const [Stmt]),
    Function(*const ast::StmtFunctionDef),
    Lambda(*const ast::ExprLambda),
    Class(*const ast::StmtClassDef),
    ListComp(*const ast::ExprListComp),
    SetComp(*const ast::ExprSetComp),
    DictComp(*const ast::ExprDictComp),
    Generator(*const ast::ExprGenerator),
}

pub struct Code {
    pub program: Rc<Program>,
    pub res: Rc<Resolution>,
    pub scope: Rc<ScopeInfo>,
    pub node: CodeNode,
    /// The name tracebacks show for frames of this code.
    pub name: Rc<str>,
}

// SAFETY (for every accessor below): the pointers point into `program`'s AST, which is
// owned by the `Rc<Program>` this code holds, never mutated and never moved.
impl Code {
    pub fn body(&self) -> &[Stmt] {
        match self.node {
            CodeNode::Body(b) => unsafe { &*b },
            CodeNode::Function(f) => unsafe { &(*f).body },
            CodeNode::Class(c) => unsafe { &(*c).body },
            _ => &[],
        }
    }

    pub fn function(&self) -> Option<&ast::StmtFunctionDef> {
        match self.node {
            CodeNode::Function(f) => Some(unsafe { &*f }),
            _ => None,
        }
    }

    pub fn lambda(&self) -> Option<&ast::ExprLambda> {
        match self.node {
            CodeNode::Lambda(l) => Some(unsafe { &*l }),
            _ => None,
        }
    }

    pub fn parameters(&self) -> Option<&ast::Parameters> {
        match self.node {
            CodeNode::Function(f) => Some(unsafe { &(*f).parameters }),
            CodeNode::Lambda(l) => unsafe { (*l).parameters.as_deref() },
            _ => None,
        }
    }

    pub fn list_comp(&self) -> Option<&ast::ExprListComp> {
        match self.node {
            CodeNode::ListComp(c) => Some(unsafe { &*c }),
            _ => None,
        }
    }
    pub fn set_comp(&self) -> Option<&ast::ExprSetComp> {
        match self.node {
            CodeNode::SetComp(c) => Some(unsafe { &*c }),
            _ => None,
        }
    }
    pub fn dict_comp(&self) -> Option<&ast::ExprDictComp> {
        match self.node {
            CodeNode::DictComp(c) => Some(unsafe { &*c }),
            _ => None,
        }
    }
    pub fn generator(&self) -> Option<&ast::ExprGenerator> {
        match self.node {
            CodeNode::Generator(c) => Some(unsafe { &*c }),
            _ => None,
        }
    }

    /// A child code object (a def, lambda, comprehension or class inside this one).
    pub fn child(self: &Rc<Self>, node: CodeNode, key: usize, name: &str) -> Option<Rc<Code>> {
        let scope = self.res.scope(key)?;
        Some(Rc::new(Code {
            program: self.program.clone(),
            res: self.res.clone(),
            scope,
            node,
            name: name.into(),
        }))
    }

    /// Statements of this program run as their own module (a captured `with` body).
    pub fn module(program: Rc<Program>, stmts: &[Stmt], name: &str) -> crate::value::PyResult<Rc<Code>> {
        let key = stmts.as_ptr() as usize;
        let res = Resolution::analyze(stmts, key, name)?;
        Ok(Rc::new(Code {
            program,
            scope: res.root_scope(),
            res,
            node: CodeNode::Body(stmts as *const [Stmt]),
            name: name.into(),
        }))
    }
}
