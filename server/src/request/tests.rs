//! G2 extraction from real nnsight 0.8.1 payloads (`fixtures/captures/v0.8.1`): method,
//! inputs, source and captured scope as the payload carries them (docs/protocol.md).

use std::path::PathBuf;

use localndif_wire::pickle::Node;

use super::*;

fn decode(case: &str) -> Request {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/captures/v0.8.1")
        .join(case);
    let blob = std::fs::read(dir.join("request.blob"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let envelope = Envelope {
        model_key: r#"nnsight.modeling.transformers.TransformersModel:{"repo_id": "openai-community/gpt2", "revision": null, "task": "text-generation"}"#.into(),
        session_id: String::new(),
        compress: true,
        env: serde_json::Value::Null,
    };
    decode_g2(&envelope, &blob).unwrap_or_else(|e| panic!("{case}: {e}"))
}

fn node<'a>(r: &'a Request, vars: &[(String, Id)], name: &str) -> &'a Node {
    let id = vars
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no '{name}' in the scope"))
        .1;
    r.payload.node(id).unwrap()
}

#[test]
fn a_direct_input_trace() {
    let r = decode("c01_save_output");
    assert_eq!(r.method, Method::Trace);
    assert_eq!(r.model_key.repo_id, "openai-community/gpt2");
    assert!(matches!(r.args.as_slice(), [a] if r.payload.as_str(*a) == Some("The Eiffel Tower is in the city of")));
    assert!(r.kwargs.is_empty());
    // The model envoy arrives with its path.
    let Node::Object(o) = node(&r, &r.globals, "model") else { panic!("model is not an object") };
    let state = *o.state.last().unwrap();
    assert_eq!(r.payload.dict_get(state, "path").and_then(|p| r.payload.as_str(p)), Some("model"));
    // The source is padded so that line numbers are the user's file's: the body's first
    // statement sits on a line after the blank padding.
    let first_code = r.source.lines().position(|l| !l.trim().is_empty()).unwrap();
    assert!(first_code > 0, "no padding in {:?}", r.source);
    assert!(r.filename.ends_with(".py"), "{}", r.filename);
}

#[test]
fn captured_values_stay_nodes_of_the_payload() {
    let r = decode("c08_closure_values");
    assert!(matches!(node(&r, &r.locals, "layer"), Node::Int(1)));
    assert!(matches!(node(&r, &r.locals, "scale"), Node::Float(f) if *f == 0.5));
    assert!(matches!(node(&r, &r.locals, "label"), Node::Str(s) if s == "steered"));
    assert!(matches!(node(&r, &r.locals, "positions"), Node::List(v) if v.len() == 2));
    let steer = r.locals.iter().find(|(n, _)| n == "steer").unwrap().1;
    let t = localndif_wire::torch::tensor_from_graph(&r.payload, steer).unwrap().unwrap();
    assert_eq!(t.shape, [32]);
}

#[test]
fn tensor_inputs_and_keyword_arguments() {
    let r = decode("c07_tensor_inputs");
    let [a] = r.args.as_slice() else { panic!("one input expected") };
    let t = localndif_wire::torch::tensor_from_graph(&r.payload, *a).unwrap().unwrap();
    assert_eq!(t.shape, [2, 4]);
    assert!(matches!(r.kwargs.as_slice(), [(k, _)] if k == "attention_mask"));
}

#[test]
fn invokes_generation_and_sessions_are_recognised() {
    let r = decode("c05_multi_invoke");
    assert_eq!((r.method.clone(), r.args.len()), (Method::Trace, 0));
    // `tracer` in the scope is the shipped tracer itself (a cycle in the payload).
    let t = r.locals.iter().find(|(n, _)| n == "tracer").unwrap().1;
    assert_eq!(Some(t), r.tracer);
    let r = decode("c12_generate_iter_all");
    assert_eq!(r.method, Method::Generate);
    assert!(r
        .kwargs
        .iter()
        .any(|(k, v)| k == "max_new_tokens" && r.payload.as_int(*v) == Some(3)));
    assert_eq!(decode("c14_session_two_traces").method, Method::Session);
}
