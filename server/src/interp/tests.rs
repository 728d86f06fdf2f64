//! Interpreter tests: small programs run to completion, their printed output compared with
//! what CPython prints (the differential corpus checks the rest against real Python).

use super::Interp;
use super::code::Code;
use super::host::BufferHost;
use super::program::Program;
use crate::value::object::Namespace;
use crate::value::{PyErr, stack};

/// A job context with the default caps, as a job thread has one (module objects and the
/// saved set live in it).
fn job() -> crate::value::ctx::Installed {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    crate::value::ctx::JobCtx::new(crate::value::ctx::Caps::default(), tch::Device::Cpu, Arc::new(AtomicBool::new(false))).install()
}

/// Runs `src` on a thread with a job-sized stack (as the server's job threads have).
fn run(src: &str) -> Result<String, (String, String)> {
    const STACK: usize = 64 << 20;
    let src = src.to_string();
    let r = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            stack::enter(STACK);
            let _job = job();
            let go = || -> Result<String, PyErr> {
                let program = Program::parse(&src, "<test>")?;
                let code = Code::module(program.clone(), &program.module().body, "<module>")?;
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

/// Like [`run`], keeping what was printed before an error.
fn run_capturing(src: &str) -> (String, Result<(), String>) {
    const STACK: usize = 64 << 20;
    let src = src.to_string();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            stack::enter(STACK);
            let _job = job();
            let mut host = BufferHost::default();
            let r = (|| -> Result<(), PyErr> {
                let program = Program::parse(&src, "<test>")?;
                let code = Code::module(program.clone(), &program.module().body, "<module>")?;
                let mut it = Interp::new(&mut host);
                it.exec_module(code, Namespace::plain())
            })();
            (host.out, r.map_err(|e| e.headline()))
        })
        .expect("spawning a test thread")
        .join()
        .expect("the interpreter thread panicked")
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

/// Rows of a CPython-recorded corpus (`make fixtures` rewrites them).
fn corpus(name: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/cpython").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (run `make fixtures`)", path.display()));
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Random expressions (python/cpython_corpus.py): the same `repr()` or the same
/// `Type: message` as CPython 3.11.
#[test]
fn expressions_agree_with_cpython() {
    let rows = corpus("expressions.jsonl");
    assert!(rows.len() >= 1000, "the corpus is too small");
    let mut wrong = Vec::new();
    for row in &rows {
        let expr = row["expr"].as_str().unwrap();
        let want = row["answer"].as_str().unwrap();
        let got = match run(&format!("print(repr({expr}))")) {
            Ok(o) => o.strip_suffix('\n').unwrap_or(&o).to_string(),
            Err((h, _)) => format!("!{h}"),
        };
        if got != want {
            wrong.push(format!("{expr}\n    CPython: {want}\n    ours:    {got}"));
        }
    }
    assert!(wrong.is_empty(), "{} of {} differ:\n{}", wrong.len(), rows.len(), wrong.join("\n"));
}

/// Small programs (python/cpython_programs.py): the same output, and the same final
/// `Type: message` when CPython raised.
#[test]
fn programs_agree_with_cpython() {
    let rows = corpus("programs.jsonl");
    let mut wrong = Vec::new();
    for row in &rows {
        let name = row["name"].as_str().unwrap();
        let src = row["src"].as_str().unwrap();
        let stdout = row["stdout"].as_str().unwrap();
        let error = row["error"].as_str();
        let (out, err) = match run_capturing(src) {
            (o, Ok(())) => (o, None),
            (o, Err(h)) => (o, Some(h)),
        };
        if out != stdout || err.as_deref() != error {
            wrong.push(format!("{name}:\n  CPython: {stdout:?} {error:?}\n  ours:    {out:?} {err:?}"));
        }
    }
    assert!(wrong.is_empty(), "{} of {} differ:\n{}", wrong.len(), rows.len(), wrong.join("\n"));
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

#[test]
fn numpy_names_what_it_does_not_run() {
    let e = err("import numpy as np\nnp.fft.rfft(np.ones(3))");
    assert!(e.starts_with("NotImplementedError") && e.contains("`numpy.fft`"), "{e}");
    let e = err("import numpy as np\nnp.ones(3).searchsorted(1)");
    assert!(e.starts_with("NotImplementedError") && e.contains("numpy.ndarray.searchsorted"), "{e}");
    let e = err("import numpy as np\nimport torch\nnp.mean(torch.ones(3))");
    assert!(e.starts_with("NotImplementedError") && e.contains("numpy.mean of a torch.Tensor"), "{e}");
    let e = err("import numpy as np\nnp.random.rand(3)");
    assert!(e.starts_with("NotImplementedError") && e.contains("`numpy.random`"), "{e}");
    let e = err("import numpy as np\nnp.ones(3).nonexistent");
    assert!(e.starts_with("AttributeError: 'numpy.ndarray' object has no attribute 'nonexistent'"), "{e}");
    let e = err("import numpy as np\nnp.zeros((10**6, 10**6))");
    assert!(e.starts_with("MemoryError"), "{e}");
}
