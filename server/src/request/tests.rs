//! G2 extraction from the real nnsight 0.8.1 captures (../shared/reference/captures):
//! method, inputs, source and captured scope as payloads.md §4 and §10 describe them.

use std::path::PathBuf;

use super::*;

fn decode(case: &str) -> Option<Request> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/reference/captures/v0.8.1")
        .join(case);
    let blob = std::fs::read(dir.join("request.blob")).ok()?;
    let envelope = Envelope {
        model_key: r#"nnsight.modeling.transformers.TransformersModel:{"repo_id": "openai-community/gpt2", "revision": null, "task": "text-generation"}"#.into(),
        session_id: String::new(),
        compress: true,
        env: serde_json::Value::Null,
    };
    Some(decode_g2(&envelope, &blob).unwrap_or_else(|e| panic!("{case}: {e}")))
}

fn scope<'a>(vars: &'a [(String, Captured)], name: &str) -> &'a Captured {
    &vars
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no '{name}' in {vars:?}"))
        .1
}

#[test]
fn a_direct_input_trace() {
    let Some(r) = decode("c01_save_output") else {
        return eprintln!("captures not found; skipped");
    };
    assert_eq!(r.method, Method::Trace);
    assert_eq!(r.model_key.repo_id, "openai-community/gpt2");
    assert!(
        matches!(r.args.as_slice(), [Captured::Str(s)] if s == "The Eiffel Tower is in the city of")
    );
    assert!(r.kwargs.is_empty());
    assert!(matches!(scope(&r.globals, "model"), Captured::Envoy(p) if p == "model"));
    // The source is padded so that line numbers are the user's file's.
    let line = r
        .source
        .lines()
        .position(|l| l.contains("model.transformer.h[0].output.save()"))
        .unwrap()
        + 1;
    let snippet = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/captures/v0.8.1/c01_save_output/tree.txt"),
    )
    .unwrap();
    let first = snippet
        .lines()
        .find_map(|l| l.trim().strip_prefix("'co_firstlineno': "))
        .unwrap()
        .parse::<usize>()
        .unwrap();
    assert!(
        line > first,
        "body line {line} must follow the def at {first}"
    );
    assert!(r.filename.ends_with(".py"), "{}", r.filename);
}

#[test]
fn captured_values_of_every_plain_kind() {
    let Some(r) = decode("c08_closure_values") else {
        return eprintln!("captures not found; skipped");
    };
    assert!(matches!(scope(&r.locals, "layer"), Captured::Int(1)));
    assert!(matches!(scope(&r.locals, "scale"), Captured::Float(f) if *f == 0.5));
    assert!(matches!(scope(&r.locals, "label"), Captured::Str(s) if s == "steered"));
    assert!(
        matches!(scope(&r.locals, "positions"), Captured::List(v) if matches!(v.as_slice(), [Captured::Int(0), Captured::Int(2)]))
    );
    let Captured::Tensor(steer) = scope(&r.locals, "steer") else {
        panic!("steer is not a tensor")
    };
    assert_eq!(steer.shape, [32]);
    let Captured::Dict(cfg) = scope(&r.locals, "cfg") else {
        panic!("cfg is not a dict")
    };
    assert!(
        matches!(&cfg[1], (Captured::Str(k), Captured::Tuple(v)) if k == "names" && v.len() == 2)
    );
}

#[test]
fn tensor_inputs_and_keyword_arguments() {
    let Some(r) = decode("c07_tensor_inputs") else {
        return eprintln!("captures not found; skipped");
    };
    assert!(matches!(r.args.as_slice(), [Captured::Tensor(t)] if t.shape == [2, 4]));
    assert!(matches!(r.kwargs.as_slice(), [(k, Captured::Tensor(_))] if k == "attention_mask"));
}

#[test]
fn invokes_generation_and_sessions_are_recognised() {
    let Some(r) = decode("c05_multi_invoke") else {
        return eprintln!("captures not found; skipped");
    };
    assert_eq!((r.method.clone(), r.args.len()), (Method::Trace, 0));
    assert!(matches!(scope(&r.locals, "tracer"), Captured::Tracer));
    let Some(r) = decode("c12_generate_iter_all") else {
        return;
    };
    assert_eq!(r.method, Method::Generate);
    assert!(
        r.kwargs
            .iter()
            .any(|(k, v)| k == "max_new_tokens" && matches!(v, Captured::Int(3)))
    );
    let Some(r) = decode("c14_session_two_traces") else {
        return;
    };
    assert_eq!(r.method, Method::Session);
}

#[test]
fn functions_shipped_by_source_are_marked_unsupported() {
    let Some(r) = decode("c09_user_function") else {
        return eprintln!("captures not found; skipped");
    };
    assert!(
        matches!(scope(&r.globals, "scale_fn"), Captured::Unsupported(w) if w.contains("function"))
    );
}
