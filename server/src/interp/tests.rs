//! Interpreter tests against a scripted [`Host`] (no model, no threads): each checks one
//! behaviour and would fail without it. Expected tensors come from tch ops applied directly,
//! never from the interpreter itself.

use std::collections::HashMap;

use tch::{Kind, Tensor};

use super::*;

#[derive(Default)]
struct FakeHost {
    modules: Vec<&'static str>,
    values: HashMap<(String, Hook), Value>,
    reads: Vec<(String, Hook)>,
    writes: Vec<(String, Hook, Value)>,
    printed: Vec<String>,
}

impl Host for FakeHost {
    fn has_module(&self, path: &str) -> bool {
        self.modules.contains(&path)
    }
    fn module_len(&self, path: &str) -> Option<usize> {
        let n = self
            .modules
            .iter()
            .filter(|m| {
                m.rsplit_once('.')
                    .is_some_and(|(p, last)| p == path && last.parse::<usize>().is_ok())
            })
            .count();
        (n > 0).then_some(n)
    }
    fn read(&mut self, path: &str, hook: Hook) -> PyResult<Value> {
        self.reads.push((path.to_string(), hook));
        self.values
            .get(&(path.to_string(), hook))
            .cloned()
            .ok_or_else(|| {
                PyErr::new(
                    "OutOfOrderError",
                    format!("'{path}.{}.i0' was never provided", hook.name()),
                )
            })
    }
    fn write(&mut self, path: &str, hook: Hook, value: Value) -> PyResult<()> {
        self.writes.push((path.to_string(), hook, value));
        Ok(())
    }
    fn print(&mut self, text: String) -> PyResult<()> {
        self.printed.push(text);
        Ok(())
    }
}

fn host() -> FakeHost {
    let mut h = FakeHost {
        modules: vec![
            "model",
            "model.h",
            "model.h.0",
            "model.h.1",
            "model.lm_head",
        ],
        ..Default::default()
    };
    let t = Tensor::arange(24, (Kind::Float, tch::Device::Cpu)).view([1, 4, 6]);
    h.values
        .insert(("model.h.0".into(), Hook::Output), Value::tensor(t));
    let inputs = Value::tuple(vec![
        Value::tuple(vec![]),
        Value::dict(vec![
            (Value::str("hidden_states"), Value::Int(7)),
            (Value::str("mask"), Value::None),
        ]),
    ]);
    h.values.insert(("model.h.1".into(), Hook::Input), inputs);
    h
}

struct Ran {
    result: PyResult<()>,
    saved: Vec<(String, Value)>,
    host: FakeHost,
}

fn run_with(mut h: FakeHost, src: &str) -> Ran {
    let program = Program::parse(src, "user.py").expect("parses");
    let mut globals = Scope::default();
    globals.set("model", Value::Envoy("model".into()));
    globals.set("torch", Value::Module("torch"));
    globals.set("nnsight", Value::Module("nnsight"));
    let (result, saved) = {
        let mut interp = Interp::new(
            &mut h,
            &program,
            globals,
            Scope::default(),
            Limits { max_steps: 10_000 },
        );
        let r = interp.run();
        (r, interp.saved())
    };
    Ran {
        result,
        saved,
        host: h,
    }
}

fn run(src: &str) -> Ran {
    run_with(host(), src)
}

fn tensor(v: &Value) -> &Tensor {
    match v {
        Value::Tensor(t) => &t.0,
        other => panic!("expected a tensor, got {}", repr(other)),
    }
}

fn saved<'a>(r: &'a Ran, name: &str) -> &'a Value {
    &r.saved
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("'{name}' not saved: {:?}", r.saved))
        .1
}

fn fails(src: &str, kind: &str, words: &[&str], line: usize) {
    let r = run(src);
    let e = r.result.expect_err("should fail");
    let text = e.to_string();
    assert_eq!(e.kind_name(), kind, "{text}");
    for w in words {
        assert!(text.contains(w), "'{w}' not in '{text}'");
    }
    assert_eq!(e.line, Some(line), "{text}");
}

#[test]
fn only_saved_locals_are_returned_by_identity() {
    let r = run("a = model.h[0].output\nb = a.save()\nc = model.h[0].output.sum()\n");
    r.result.as_ref().unwrap();
    // `a` and `b` are the same object, so both names are pushed back, like nnsight's push.
    let names: Vec<&str> = r.saved.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn nnsight_save_function_marks_its_argument() {
    let r = run("x = nnsight.save(model.h[0].output.shape[-1])\ny = 5\n");
    r.result.as_ref().unwrap();
    assert!(matches!(saved(&r, "x"), Value::Int(6)));
    assert!(r.saved.iter().all(|(n, _)| n != "y"));
}

#[test]
fn module_lists_index_like_python_lists() {
    let r = run("a = model.h[-1]\nb = model.h[1]\n");
    r.result.as_ref().unwrap();
    // h[-1] and h[1] name the same envoy path.
    let r2 = run("x = model.h[-1].input.save()\n");
    r2.result.as_ref().unwrap();
    assert_eq!(r2.host.reads, [("model.h.1".to_string(), Hook::Input)]);
    fails(
        "x = model.h[2]\n",
        "AttributeError",
        &["'Envoy' object (nor its module) has attribute '2'"],
        1,
    );
    fails("x = model.nope\n", "AttributeError", &["'nope'"], 1);
}

#[test]
fn input_is_first_positional_else_first_keyword() {
    let r = run("x = model.h[1].input.save()\n");
    r.result.as_ref().unwrap();
    assert!(matches!(saved(&r, "x"), Value::Int(7)));
    let r = run("model.h[1].input = 9\n");
    r.result.as_ref().unwrap();
    let (_, hook, v) = &r.host.writes[0];
    assert_eq!(*hook, Hook::Input);
    assert_eq!(repr(v), "((), {'hidden_states': 9, 'mask': None})");
}

#[test]
fn tensor_indexing_matches_torch() {
    let r = run(
        "h = model.h[0].output\na = h[0, -1].save()\nb = h[:, 1:3].save()\nc = h[0, :, ::2].save()\nd = h[..., -1].save()\ne = h[:, None, 0].save()\n",
    );
    r.result.as_ref().unwrap();
    let t = Tensor::arange(24, (Kind::Float, tch::Device::Cpu)).view([1, 4, 6]);
    assert!(tensor(saved(&r, "a")).equal(&t.select(0, 0).select(0, 3)));
    assert!(tensor(saved(&r, "b")).equal(&t.slice(1, 1, 3, 1)));
    assert!(tensor(saved(&r, "c")).equal(&t.select(0, 0).slice(1, 0, None, 2)));
    assert!(tensor(saved(&r, "d")).equal(&t.select(2, 5)));
    assert!(tensor(saved(&r, "e")).equal(&t.unsqueeze(1).select(2, 0)));
    fails(
        "x = model.h[0].output[0, 9]\n",
        "IndexError",
        &["out of bounds"],
        1,
    );
}

#[test]
fn index_assignment_writes_through_to_the_module_value() {
    let h = host();
    let original = match h.values.get(&("model.h.0".to_string(), Hook::Output)) {
        Some(Value::Tensor(t)) => t.0.shallow_clone(),
        _ => unreachable!(),
    };
    let r = run_with(
        h,
        "model.h[0].output[:, -1, :] = 0\nmodel.h[0].output[0, 0] += 100\n",
    );
    r.result.as_ref().unwrap();
    assert_eq!(
        original
            .select(1, 3)
            .abs()
            .sum(Kind::Float)
            .double_value(&[]),
        0.0
    );
    assert_eq!(original.double_value(&[0, 0, 1]), 101.0);
}

#[test]
fn tensor_methods_bind_python_signatures() {
    let r = run(
        "h = model.h[0].output\na = h.argmax(dim=-1).save()\nb = h.sum().save()\nc = h.clone().detach().cpu().save()\nd = h.shape.save()\nf = h[0, 0, 1].item()\ng = nnsight.save(f * 2)\n",
    );
    r.result.as_ref().unwrap();
    let t = Tensor::arange(24, (Kind::Float, tch::Device::Cpu)).view([1, 4, 6]);
    assert!(tensor(saved(&r, "a")).equal(&t.argmax(-1, false)));
    assert!(tensor(saved(&r, "b")).equal(&t.sum(Kind::Float)));
    assert!(tensor(saved(&r, "c")).equal(&t));
    assert!(matches!(saved(&r, "d"), Value::Size(s) if s.as_slice() == [1, 4, 6]));
    assert!(matches!(saved(&r, "g"), Value::Float(f) if *f == 2.0));
    fails(
        "x = model.h[0].output.argmax(axis=1)\n",
        "TypeError",
        &["argmax() got an unexpected keyword argument 'axis'"],
        1,
    );
}

#[test]
fn arithmetic_and_control_flow_follow_python() {
    let r = run(
        "out = []\nfor i in range(5):\n    if i % 2 == 0:\n        continue\n    out.append(i // 2 - 7 % 3)\nout.save()\nn = len(out)\n",
    );
    r.result.as_ref().unwrap();
    assert_eq!(repr(saved(&r, "out")), "[-1, 0]");
    let r = run(
        "x = -7 // 2\ny = -7 % 3\nz = 2 ** 10\nw = 1 / 4\nnnsight.save([x, y, z, w])\nv = [x, y, z, w]\nv.save()\n",
    );
    r.result.as_ref().unwrap();
    assert_eq!(repr(saved(&r, "v")), "[-4, 2, 1024, 0.25]");
}

#[test]
fn print_goes_to_the_host() {
    let r = run("print('hidden', model.h[0].output.shape[1], sep='=')\n");
    r.result.as_ref().unwrap();
    assert_eq!(r.host.printed, ["hidden=4\n"]);
}

#[test]
fn unsupported_constructs_are_named_with_their_line() {
    fails(
        "x = 1\n\nf = lambda t: t\n",
        "NotImplementedError",
        &["does not support lambda expressions yet"],
        3,
    );
    fails(
        "x = [i for i in range(3)]\n",
        "NotImplementedError",
        &["list comprehensions"],
        1,
    );
    fails(
        "\n\nwith model.trace() as t:\n    pass\n",
        "NotImplementedError",
        &["`with` block"],
        3,
    );
}

#[test]
fn errors_carry_the_innermost_line() {
    fails(
        "for i in range(2):\n    y = undefined_name\n",
        "NameError",
        &["name 'undefined_name' is not defined"],
        2,
    );
    fails(
        "t = (1, 2)\nt[0] = 3\n",
        "TypeError",
        &["does not support item assignment"],
        2,
    );
    let e = Program::parse("x = (\n", "user.py")
        .err()
        .expect("syntax error");
    assert_eq!(e.kind_name(), "SyntaxError");
}

#[test]
fn the_step_budget_ends_endless_loops() {
    fails("while True:\n    pass\n", "RuntimeError", &["budget"], 1);
}

#[test]
fn tracebacks_quote_the_users_line() {
    let src = "\n\nx = model.h[0].output\ny = x.nope\n";
    let r = run(src);
    let e = r.result.unwrap_err();
    let tb = e.traceback("/home/u/analysis.py", src);
    assert!(tb.contains("File \"/home/u/analysis.py\", line 4"), "{tb}");
    assert!(tb.contains("    y = x.nope\n"), "{tb}");
    assert!(
        tb.ends_with("AttributeError: 'Tensor' object has no attribute 'nope'"),
        "{tb}"
    );
}

#[test]
fn deep_nesting_is_a_recursion_error_not_a_crash() {
    let kind = |src: String| -> &'static str {
        match Program::parse(&src, "user.py") {
            Err(e) => e.kind_name(),
            Ok(_) => run(&src).result.err().map_or("no error", |e| e.kind_name()),
        }
    };
    // Run where the server runs user code: a thread with the interpreter's stack.
    let (parens, chain) = std::thread::Builder::new()
        .stack_size(STACK_SIZE)
        .spawn(move || {
            let parens = kind(format!(
                "x = {}1{}\n",
                "(".repeat(50_000),
                ")".repeat(50_000)
            ));
            let chain = kind(format!("y = {}\n", vec!["1"; 20_000].join(" + ")));
            (parens, chain)
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    // Parentheses add no AST depth: the parser survives them and the value is just 1.
    assert_eq!(parens, "no error");
    assert_eq!(chain, "RecursionError");
}
