//! The bytecode evaluator against CPython 3.11 (python/bytecode_corpus.py): helpers
//! pickled by cloudpickle as a client ships them are decoded by the project's pickle
//! decoder, loaded by the job's loader (`_make_function` → [`super::make_function`]) and
//! called here; each must give CPython's result (its `repr`), or raise CPython's
//! exception from CPython's line, or — code this server does not run — raise
//! `NotImplementedError` naming the helper. The decoded line and exception tables must
//! be CPython's own (`co_lines()`, `dis._parse_exception_table`). An endless loop ends
//! with the job's budget or cancellation, and other CPythons' code objects are refused.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use localndif_wire::pickle::{self, Graph};

use super::code::{CodeObject, PyVersion};
use super::function::{BcFunction, as_code};
use crate::interleave::{ModelCtx, TreeNames};
use crate::interp::Interp;
use crate::interp::call::Kwargs;
use crate::interp::host::BufferHost;
use crate::job::load::Loader;
use crate::model::{Registry, embedded_defaults};
use crate::value::ctx::{Caps, JobCtx, Stop};
use crate::value::{PyErr, Value, stack, types};

fn fixture(name: &str) -> Graph {
    let path = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/bytecode").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `.venv/bin/python python/bytecode_corpus.py`)", path.display()));
    pickle::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The job's handle on the embedded tiny model (what the loader needs to load envoys).
fn model_ctx() -> Rc<ModelCtx> {
    let (repo, source) = embedded_defaults().into_iter().next().expect("an embedded model");
    let registry = Registry::load(vec![(repo.clone(), source)], tch::Device::Cpu).expect("loading the embedded model");
    let served = registry.get(&repo).expect("the model just loaded");
    let model = served.instance();
    Rc::new(ModelCtx {
        names: Rc::new(TreeNames::of(model.tree(), false)),
        root_class: "LanguageModel".into(),
        model,
        tokenizer: served.tokenizer.clone(),
        repo_id: repo,
        config: served.config.clone(),
        generation_config: served.generation_config.clone(),
        log: Rc::new(|_| Ok(())),
        dialect: crate::request::Dialect::default(),
        client_runner: None,
        edits: Default::default(),
        aliases: Default::default(),
        root_type: Default::default(),
    })
}

/// Runs `f` on a thread with a job's stack, inside a job context with `caps` cancelled
/// by `cancel` (as the server runs a job).
fn on_job_thread<R: Send + 'static>(caps: Caps, cancel: Arc<AtomicBool>, f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(crate::job::JOB_STACK)
        .spawn(move || {
            stack::enter(crate::job::JOB_STACK - (4 << 20));
            let _job = JobCtx::new(caps, tch::Device::Cpu, cancel).install();
            f()
        })
        .expect("spawning a job thread")
        .join()
        .expect("the job thread panicked")
}

fn job<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    on_job_thread(Caps::default(), Arc::new(AtomicBool::new(false)), f)
}

/// The fixture's root value as the loader loads it, shipped by a client on `version`.
fn load(g: &Graph, version: PyVersion) -> Value {
    let mut loader = Loader::new(g, model_ctx(), None);
    loader.python_version = version;
    loader.value(g.root).expect("loading the fixture")
}

fn get(d: &Value, key: &str) -> Value {
    match d {
        Value::Dict(d) => d.get_str(key).unwrap_or_else(|| panic!("no '{key}' in the fixture")),
        other => panic!("the fixture is a {}, not a dict", other.type_name()),
    }
}

fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.snapshot(),
        Value::Tuple(t) => t.to_vec(),
        other => panic!("a {} where the fixture has a sequence", other.type_name()),
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("{v:?} is not a str")).to_string()
}

fn kwargs(v: &Value) -> Kwargs {
    match v {
        Value::Dict(d) => d.items().into_iter().map(|(k, v)| (Rc::from(k.as_str().expect("str keys")), v)).collect(),
        other => panic!("kwargs are a {}", other.type_name()),
    }
}

/// One corpus case: `(name, function, args, kwargs, expected)`.
type Case = (String, Value, Vec<Value>, Kwargs, Vec<Value>);

fn cases(root: &Value) -> Vec<Case> {
    items(&get(root, "cases"))
        .iter()
        .map(|c| {
            let c = items(c);
            (text(&c[0]), c[1].clone(), items(&c[2]), kwargs(&c[3]), items(&c[4]))
        })
        .collect()
}

fn function(v: &Value) -> &BcFunction {
    match v {
        Value::Host(h) => h.as_any().downcast_ref::<BcFunction>().expect("a function shipped as bytecode"),
        other => panic!("a {} where a bytecode function was expected", other.type_name()),
    }
}

/// What calling `f` gave, as the corpus records it.
fn outcome(it: &mut Interp, f: &Value, args: Vec<Value>, kw: Kwargs) -> Result<String, PyErr> {
    let v = it.call(f, args, kw)?;
    it.repr(&v)
}

#[test]
fn helpers_give_cpythons_results() {
    let failures = job(|| {
        let g = fixture("corpus.pkl");
        let root = load(&g, PyVersion::RUNS);
        let mut host = BufferHost::default();
        let mut it = Interp::new(&mut host);
        let mut failures = Vec::new();
        let mut checked = 0;
        for (name, f, args, kw, expected) in cases(&root) {
            let kind = text(&expected[0]);
            if kind == "loops" {
                continue;
            }
            checked += 1;
            let got = outcome(&mut it, &f, args, kw);
            match (kind.as_str(), got) {
                ("ok", Ok(repr)) if repr == text(&expected[1]) => {}
                ("raises", Err(e)) => {
                    let class = e.class().map(|c| c.name()).unwrap_or_default();
                    let trace: Vec<(String, u32)> = e.trace().iter().map(|t| (t.func.to_string(), t.line)).collect();
                    let mut want: Vec<(String, u32)> = items(&expected[3])
                        .iter()
                        .map(|f| {
                            let f = items(f);
                            (text(&f[0]), f[1].as_int().unwrap() as u32)
                        })
                        .collect();
                    // Endless recursion: as deep as each limit lets it; the innermost frame.
                    let trace = if class == "RecursionError" { trace.into_iter().take(1).collect() } else { trace };
                    want.truncate(if class == "RecursionError" { 1 } else { want.len() });
                    if class != text(&expected[1]) || e.message() != text(&expected[2]) || trace != want {
                        failures.push(format!(
                            "{name}: raised {class}: {} from {trace:?}; CPython raised {}: {} from {want:?}",
                            e.message(),
                            text(&expected[1]),
                            text(&expected[2])
                        ));
                    }
                }
                ("refused", Err(e)) => {
                    let msg = e.message();
                    if !e.is_instance_of(&types::NOT_IMPLEMENTED_ERROR) || !msg.contains(&format!("`{name}`")) || !msg.contains(&text(&expected[1])) {
                        failures.push(format!("{name}: refused with {}", e.headline()));
                    }
                }
                (_, got) => failures.push(format!("{name}: got {:?}, CPython: {:?}", got.map_err(|e| e.render()), expected)),
            }
        }
        assert!(checked > 50, "only {checked} cases");
        failures
    });
    assert!(failures.is_empty(), "{} helpers differ from CPython:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_helpers_error_names_its_file_and_line() {
    let rendered = job(|| {
        let g = fixture("corpus.pkl");
        let root = load(&g, PyVersion::RUNS);
        let mut host = BufferHost::default();
        let mut it = Interp::new(&mut host);
        it.call(&get_case(&root, "calls_raiser"), vec![Value::Int(1)], vec![]).expect_err("raiser returned").render()
    });
    // (Which lines: `helpers_give_cpythons_results` compares them with CPython's.)
    let frames: Vec<&str> = rendered.lines().filter(|l| l.trim_start().starts_with("File ")).collect();
    assert_eq!(frames.len(), 2, "{rendered}");
    // cloudpickle ships `<dynamic-code>` as the file; the frames name the script (its
    // `__file__`, among the function's globals), as CPython's traceback does.
    assert!(frames[0].contains("bytecode_corpus.py\", line ") && frames[0].ends_with("in calls_raiser"), "{rendered}");
    assert!(frames[1].ends_with("in raiser"), "{rendered}");
    assert!(rendered.ends_with("ValueError: bad value 2"), "{rendered}");
}

/// `code` and the code objects in its constants, depth first (the corpus's order).
fn code_objects(code: &Rc<CodeObject>, out: &mut Vec<Rc<CodeObject>>) {
    out.push(code.clone());
    for c in &code.consts {
        if let Some(inner) = as_code(c) {
            code_objects(&inner, out);
        }
    }
}

#[test]
fn line_and_exception_tables_are_cpythons() {
    let failures = job(|| {
        let g = fixture("corpus.pkl");
        let root = load(&g, PyVersion::RUNS);
        let functions: Vec<(String, Value)> = cases(&root).into_iter().map(|(n, f, ..)| (n, f)).collect();
        let mut failures = Vec::new();
        let mut units = 0;
        for entry in items(&get(&root, "codes")) {
            let entry = items(&entry);
            let name = text(&entry[0]);
            let f = &functions.iter().find(|(n, _)| *n == name).expect("the case's function").1;
            let mut codes = Vec::new();
            code_objects(&function(f).code, &mut codes);
            let want = items(&entry[1]);
            assert_eq!(codes.len(), want.len(), "{name}: code objects");
            for (code, want) in codes.iter().zip(want) {
                let want = items(&want);
                assert_eq!(code.qualname.as_ref(), text(&want[0]), "{name}: code objects in another order");
                for l in items(&want[1]) {
                    let l = items(&l);
                    let (start, end) = (l[0].as_int().unwrap() as usize / 2, l[1].as_int().unwrap() as usize / 2);
                    let line = l[2].as_int().map(|l| l as u32);
                    for u in start..end {
                        units += 1;
                        if code.lines.get(u).copied().flatten() != line {
                            failures.push(format!("{}: unit {u} is on line {:?}, CPython: {line:?}", code.qualname, code.lines.get(u)));
                        }
                    }
                }
                let handlers: Vec<[i64; 5]> = code
                    .handlers
                    .iter()
                    .map(|h| [h.start as i64 * 2, h.end as i64 * 2, h.target as i64 * 2, h.depth as i64, i64::from(h.lasti)])
                    .collect();
                let want_handlers: Vec<[i64; 5]> = items(&want[2])
                    .iter()
                    .map(|e| {
                        let e = items(e);
                        std::array::from_fn(|i| e[i].as_int().unwrap())
                    })
                    .collect();
                if handlers != want_handlers {
                    failures.push(format!("{}: exception table {handlers:?}, CPython: {want_handlers:?}", code.qualname));
                }
            }
        }
        assert!(units > 1000, "only {units} code units compared");
        failures
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_endless_loop_ends_with_the_step_budget_or_cancellation() {
    for (caps, cancel_after, want) in [
        (Caps { max_steps: 200_000, ..Caps::default() }, None, Stop::Steps),
        (Caps { max_steps: u64::MAX, ..Caps::default() }, Some(Duration::from_millis(300)), Stop::Cancelled),
        (Caps { max_steps: u64::MAX, wall: Duration::from_millis(300), ..Caps::default() }, None, Stop::Deadline),
    ] {
        let cancel = Arc::new(AtomicBool::new(false));
        if let Some(after) = cancel_after {
            let c = cancel.clone();
            std::thread::spawn(move || {
                std::thread::sleep(after);
                c.store(true, Ordering::SeqCst);
            });
        }
        let (stop, text) = on_job_thread(caps, cancel, || {
            let g = fixture("corpus.pkl");
            let root = load(&g, PyVersion::RUNS);
            let (_, f, ..) = cases(&root).into_iter().find(|(n, ..)| n == "forever").expect("the forever case");
            let mut host = BufferHost::default();
            let mut it = Interp::new(&mut host);
            let e = it.call(&f, vec![], vec![]).expect_err("`while True: pass` returned");
            (e.stop_reason(), e.render())
        });
        assert_eq!(stop, Some(want), "{text}");
    }
}

#[test]
fn deep_recursion_is_a_recursion_error() {
    let (class, caught) = job(|| {
        let g = fixture("corpus.pkl");
        let root = load(&g, PyVersion::RUNS);
        let (_, f, ..) = cases(&root).into_iter().find(|(n, ..)| n == "deep").expect("the deep case");
        let mut host = BufferHost::default();
        let mut it = Interp::new(&mut host);
        let e = it.call(&f, vec![Value::Int(0)], vec![]).expect_err("endless recursion returned");
        // The interpreter is usable afterwards: its depth unwound with the error.
        let caught = it.call(&f, vec![Value::Int(0)], vec![]).is_err() && it.call(&get_case(&root, "fact"), vec![Value::Int(5)], vec![]).ok().and_then(|v| v.as_int()) == Some(120);
        (e.class().map(|c| c.name()), caught)
    });
    assert_eq!(class.as_deref(), Some("RecursionError"));
    assert!(caught, "the interpreter did not recover from the RecursionError");
}

fn get_case(root: &Value, name: &str) -> Value {
    cases(root).into_iter().find(|(n, ..)| n == name).map(|(_, f, ..)| f).unwrap_or_else(|| panic!("no case {name}"))
}

#[test]
fn other_cpythons_code_objects_are_refused_by_name() {
    let (old, newer, loaded) = job(|| {
        let mut host = BufferHost::default();
        let mut it = Interp::new(&mut host);
        // 3.10's 16-field code object.
        let g = fixture("py310.pkl");
        let root = load(&g, PyVersion::RUNS);
        let old = it.call(&get(&root, "old_helper"), vec![Value::Int(1)], vec![]).expect_err("3.10 bytecode ran");
        // 3.11's fields from a client that says it runs 3.12.
        let g = fixture("corpus.pkl");
        let root = load(&g, PyVersion::parse("3.12.1 (main, Dec  7 2023, 20:45:44) [GCC 11.4.0]").unwrap());
        let newer = it.call(&get_case(&root, "fact"), vec![Value::Int(3)], vec![]).expect_err("3.12 bytecode ran");
        // What loads is still a function by name.
        let loaded = it.repr(&get_case(&root, "fact")).unwrap();
        (old.headline(), newer.headline(), loaded)
    });
    assert!(old.starts_with("NotImplementedError: ") && old.contains("`old_helper`") && old.contains("3.10") && old.contains("inside the `with` block"), "{old}");
    assert!(newer.starts_with("NotImplementedError: ") && newer.contains("`fact`") && newer.contains("3.12") && newer.contains("inside the `with` block"), "{newer}");
    assert!(loaded.starts_with("<function fact at "), "{loaded}");
}

#[test]
fn versions_parse_from_the_header() {
    assert_eq!(PyVersion::parse("3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]"), Some(PyVersion { major: 3, minor: 11 }));
    assert_eq!(PyVersion::parse("3.13.0rc1"), Some(PyVersion { major: 3, minor: 13 }));
    assert_eq!(PyVersion::parse("3.10"), Some(PyVersion { major: 3, minor: 10 }));
    assert_eq!(PyVersion::parse("banana"), None);
    assert_eq!(PyVersion::default(), PyVersion::RUNS);
}
