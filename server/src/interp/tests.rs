//! Interpreter tests: small programs run to completion, their printed output compared with
//! what CPython prints (the differential corpus checks the rest against real Python).

use super::Interp;
use super::code::Code;
use super::host::BufferHost;
use super::program::Program;
use crate::value::object::Namespace;
use crate::value::{PyErr, stack};

/// Runs `src` on a thread with a job-sized stack (as the server's job threads have).
fn run(src: &str) -> Result<String, (String, String)> {
    const STACK: usize = 64 << 20;
    let src = src.to_string();
    let r = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            stack::enter(STACK);
            let go = || -> Result<String, PyErr> {
                let program = Program::parse(&src, "<test>")?;
                let code = Code::module(program.clone(), &program.module.body, "<module>")?;
                let mut host = BufferHost::default();
                let mut it = Interp::new(&mut host);
                it.exec_module(code, Namespace::plain())?;
                Ok(host.out)
            };
            go().map_err(|e| (e.headline(), e.render()))
        })
        .expect("spawning a test thread")
        .join()
        .expect("the interpreter thread panicked");
    r
}

fn out(src: &str) -> String {
    match run(src) {
        Ok(o) => o,
        Err((_, e)) => panic!("{src}\n---\n{e}"),
    }
}

fn err(src: &str) -> String {
    match run(src) {
        Ok(o) => panic!("expected an error from:\n{src}\nprinted:\n{o}"),
        Err((h, _)) => h,
    }
}

#[test]
fn arithmetic_and_printing() {
    assert_eq!(out("print(1 + 2, 7 // -2, -7 % 3, 2 ** 100, 1 / 3)"), "3 -4 2 1267650600228229401496703205376 0.3333333333333333\n");
    assert_eq!(out("print((-2**63) // -1)"), "9223372036854775808\n");
    assert_eq!(out("print(0.1 + 0.2, 1e16, 1e-5, 3.0)"), "0.30000000000000004 1e+16 1e-05 3.0\n");
    assert_eq!(out("print(True + True, 3 > 2 > 1, 1 < 2 > 3)"), "2 True False\n");
}

#[test]
fn functions_closures_and_classes() {
    let src = r#"
def make(n):
    total = 0
    def add(x, *, k=1):
        nonlocal total
        total += x * k
        return total
    return add
f = make(0)
f(2); f(3, k=10)
print(f(0))
class A:
    def __init__(self, v):
        self.v = v
    def double(self):
        return self.v * 2
    def __repr__(self):
        return f"A({self.v!r})"
class B(A):
    def double(self):
        return super().double() + 1
print(B(4).double(), [B("x")], sorted([3, 1, 2], key=lambda x: -x))
"#;
    assert_eq!(out(src), "32\n9 [A('x')] [3, 2, 1]\n");
}

#[test]
fn comprehensions_and_fstrings() {
    let src = r#"
xs = [i * i for i in range(5) if i % 2 == 0]
d = {k: v for k, v in zip("abc", range(3))}
print(xs, d, sum(x for x in xs), f"{3.14159:.2f}|{'hi':>5}|{255:#x}|{1234567:,}")
"#;
    assert_eq!(out(src), "[0, 4, 16] {'a': 0, 'b': 1, 'c': 2} 20 3.14|   hi|0xff|1,234,567\n");
}

#[test]
fn exceptions() {
    let src = r#"
try:
    {}["missing"]
except (KeyError, ValueError) as e:
    print("caught", repr(e), e.args)
finally:
    print("finally")
class MyErr(ValueError):
    pass
try:
    raise MyErr("bad")
except ValueError as e:
    print(type(e).__name__, str(e))
"#;
    assert_eq!(out(src), "caught KeyError('missing') ('missing',)\nfinally\nMyErr bad\n");
    assert_eq!(err("x = undefined_name"), "NameError: name 'undefined_name' is not defined");
    assert_eq!(err("def f(a, b): pass\nf(1)"), "TypeError: f() missing 1 required positional argument: 'b'");
}

#[test]
fn self_references_neither_hang_nor_crash() {
    assert_eq!(out("a = [1]\na.append(a)\nprint(a, a == a)"), "[1, [...]] True\n");
    assert_eq!(out("d = {}\nd['self'] = d\nprint(d)"), "{'self': {...}}\n");
    let e = err("a = [1]; a.append(a); b = [1]; b.append(b); print(a == b)");
    assert!(e.starts_with("RecursionError"), "{e}");
}

#[test]
fn huge_values_are_refused_not_allocated() {
    assert!(err("x = 'a' * 10**11").starts_with("MemoryError"));
    assert!(err("x = [0] * 10**11").starts_with("MemoryError"));
    assert!(err("x = 10 ** 10 ** 9").starts_with("MemoryError"));
    assert!(err("def f(n): return f(n + 1)\nf(0)").starts_with("RecursionError"));
}

#[test]
fn tensors_index_like_torch() {
    let src = r#"
import torch
h = torch.arange(24).view(2, 3, 4)
print(h[0, [0, 1], [2, 3]])
print(h[:, -1, ::2].shape, h[None, ..., 0].shape)
h[0, :, 1] = 0
h **= 2
print(h[0])
"#;
    assert_eq!(out(src), "tensor([2, 7])\ntorch.Size([2, 2]) torch.Size([1, 2, 3])\ntensor([[  0,   0,   4,   9],\n        [ 16,   0,  36,  49],\n        [ 64,   0, 100, 121]])\n");
}
