//! Code objects: a piece of a program that runs in a frame of its own — a module body (or
//! a `with` body nnsight runs as one), a function, a lambda, a comprehension, a class body
//! — with the resolution its names were analyzed under.

use std::rc::Rc;

use ruff_python_ast::{self as ast, Stmt};

use super::program::{Program, Resolution, ScopeInfo};

/// Which node of its program a code object runs. The pointers are only dereferenced by
/// [`Code`], which is only made for nodes its program owns ([`Code::module`],
/// [`Code::child`] check), and holds that program.
#[derive(Clone, Copy)]
pub enum CodeNode {
    /// Statements run as module-level code.
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
    /// Private: a `Code` is made only by `module` and `child`, which check the node.
    node: CodeNode,
    /// The name tracebacks show for frames of this code.
    pub name: Rc<str>,
}

// SAFETY (for every accessor below): `node` points into `program`'s AST — `module` and
// `child` refuse any other node — which the `Rc<Program>` this code holds owns; the AST is
// private to `Program` and never mutated or moved after parsing.
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

    /// A child code object (a def, lambda, comprehension or class inside this one);
    /// `None` for a node that is not this program's.
    pub fn child(self: &Rc<Self>, node: CodeNode, key: usize, name: &str) -> Option<Rc<Code>> {
        let owned = match node {
            CodeNode::Body(b) => self.program.owns_body_ptr(b),
            CodeNode::Function(p) => self.program.owns_node(p),
            CodeNode::Lambda(p) => self.program.owns_node(p),
            CodeNode::Class(p) => self.program.owns_node(p),
            CodeNode::ListComp(p) => self.program.owns_node(p),
            CodeNode::SetComp(p) => self.program.owns_node(p),
            CodeNode::DictComp(p) => self.program.owns_node(p),
            CodeNode::Generator(p) => self.program.owns_node(p),
        };
        if !owned {
            return None;
        }
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
        if !program.owns_body(stmts) {
            return Err(crate::value::PyErr::internal(format!("code for statements that are not the program's own ({name})")));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A code object is made only for a node of the program it holds: statements or a
    /// function of another program are refused, so no accessor can reach freed memory.
    #[test]
    fn code_is_only_made_for_the_programs_own_nodes() {
        let a = Program::parse("def f(x):\n    return x\nwith g:\n    y = 1\n", "<a>").unwrap();
        let b = Program::parse("def h():\n    pass\n", "<b>").unwrap();
        let module = Code::module(a.clone(), &a.module().body, "<module>").unwrap();
        // Its own with-body and def are fine.
        let Stmt::With(w) = &a.module().body[1] else { panic!("a with statement") };
        assert!(Code::module(a.clone(), &w.body, "<with>").is_ok());
        let Stmt::FunctionDef(f) = &a.module().body[0] else { panic!("a def") };
        assert!(module.child(CodeNode::Function(f as *const _), f as *const _ as usize, "f").is_some());
        // Another program's are not, nor a part of a statement list.
        assert!(Code::module(a.clone(), &b.module().body, "<module>").is_err());
        assert!(Code::module(a.clone(), &a.module().body[..1], "<module>").is_err());
        let Stmt::FunctionDef(h) = &b.module().body[0] else { panic!("a def") };
        assert!(module.child(CodeNode::Function(h as *const _), h as *const _ as usize, "h").is_none());
    }
}
