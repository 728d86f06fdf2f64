//! The rendezvous against a two-module fake model (`a`: +1, then `b`: ×2), so each rule of
//! semantics.md §1.5/§3 is checked without tokenizers or weights: reads see live values,
//! swaps and in-place edits flow downstream, user errors abort the forward at once, and
//! requests the forward never serves fail at the user's line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tch::{Kind, Tensor};

use super::*;
use crate::model::{hooked, hooked_unary};

struct Chain {
    paths: Vec<String>,
    calls: AtomicUsize,
}

impl Chain {
    fn new() -> Chain {
        Chain {
            paths: ["", "a", "b"].map(String::from).to_vec(),
            calls: AtomicUsize::new(0),
        }
    }
}

impl CausalLm for Chain {
    fn module_paths(&self) -> &[String] {
        &self.paths
    }
    fn forward(&self, inputs: Call, hooks: &mut dyn Hooks) -> Result<Act, ForwardError> {
        hooked(hooks, "", inputs, |h, call| {
            let Some(Act::Tensor(x)) = call.kwarg("x") else {
                unreachable!()
            };
            let a = hooked_unary(h, "a", x, |x| {
                self.calls.fetch_add(1, Ordering::SeqCst);
                x.f_add_scalar(1)
            })?;
            let b = hooked_unary(h, "b", &a, |x| {
                self.calls.fetch_add(1, Ordering::SeqCst);
                x.f_mul_scalar(2)
            })?;
            Ok(Act::Tensor(b))
        })
    }
    fn device(&self) -> tch::Device {
        tch::Device::Cpu
    }
    fn config_json(&self) -> &str {
        "{}"
    }
    fn n_params(&self) -> i64 {
        0
    }
}

fn input() -> Call {
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
    Call {
        args: vec![],
        kwargs: vec![("x".into(), Act::Tensor(x))],
    }
}

fn trace(model: &Chain, src: &str) -> (Result<Saved, TraceError>, Vec<String>) {
    let program = Arc::new(Program::parse(src, "user.py").unwrap());
    let mut globals = Scope::default();
    globals.set("model", Value::Envoy("model".into()));
    let mut printed = Vec::new();
    let mut log = |t: String| printed.push(t);
    let mut run = Run {
        model,
        tree: Arc::new(ModuleTree::new(model.module_paths())),
        limits: Limits::default(),
        deadline: Instant::now() + Duration::from_secs(60),
        timeout_seconds: 60,
        log: &mut log,
    };
    let result = run.trace(input(), program, globals, Scope::default());
    (result, printed)
}

fn floats(saved: &Saved, name: &str) -> Vec<f32> {
    let v = &saved.iter().find(|(n, _)| n == name).unwrap().1;
    let Value::Tensor(t) = v else {
        panic!("{name} is not a tensor")
    };
    Vec::<f32>::try_from(t.0.to_kind(Kind::Float)).unwrap()
}

#[test]
fn reads_see_the_live_values_and_edits_flow_downstream() {
    let model = Chain::new();
    let src = "a = model.a.output.clone().save()\nmodel.a.output[0] = 10\nb = model.b.output.save()\nprint('seen')\n";
    let (result, printed) = trace(&model, src);
    let saved = result.unwrap();
    assert_eq!(floats(&saved, "a"), [2.0, 3.0, 4.0]);
    // The in-place edit of a's output reached b: (10, 3, 4) × 2.
    assert_eq!(floats(&saved, "b"), [20.0, 6.0, 8.0]);
    assert_eq!(printed, ["seen\n"]);
}

#[test]
fn a_swap_replaces_the_value_for_the_rest_of_the_forward() {
    let model = Chain::new();
    let (result, _) = trace(
        &model,
        "model.a.output = model.a.output * 0\nb = model.b.output.save()\n",
    );
    assert_eq!(floats(&result.unwrap(), "b"), [0.0, 0.0, 0.0]);
    let (result, _) = trace(
        &model,
        "x = model.b.input.save()\nmodel.b.input = x + 100\ny = model.b.output.save()\n",
    );
    let saved = result.unwrap();
    assert_eq!(floats(&saved, "y"), [204.0, 206.0, 208.0]);
}

#[test]
fn a_user_error_aborts_the_forward_at_once() {
    let model = Chain::new();
    let (result, _) = trace(&model, "x = model.a.output\ny = undefined\n");
    let Err(TraceError::User(e)) = result else {
        panic!("expected a user error")
    };
    assert_eq!((e.kind_name(), e.line), ("NameError", Some(2)));
    // Module a ran; b never did.
    assert_eq!(model.calls.load(Ordering::SeqCst), 1);
}

#[test]
fn requests_the_forward_passed_fail_at_the_users_line() {
    let model = Chain::new();
    let (result, _) = trace(&model, "b = model.b.output\n\na = model.a.output\n");
    let Err(TraceError::User(e)) = result else {
        panic!("expected an out-of-order error")
    };
    assert_eq!(e.kind_name(), "OutOfOrderError");
    assert!(
        e.message
            .contains("'model.a.output.i0' was requested but the model already ran past it"),
        "{e}"
    );
    assert_eq!(e.line, Some(3));
    // The forward ran to the end before the dangling request was reported.
    assert_eq!(model.calls.load(Ordering::SeqCst), 2);
}
