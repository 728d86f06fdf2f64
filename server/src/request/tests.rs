//! G2 extraction from real nnsight 0.8.1 payloads (`fixtures/captures/v0.8.1`): method,
//! inputs, source and captured scope as the payload carries them (docs/protocol.md).

use std::path::PathBuf;

use localndif_wire::pickle::Node;

use super::*;

fn decode(case: &str) -> Request {
    let dir = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test"))
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
    decode_g2(&envelope, &blob, &Limits::default()).unwrap_or_else(|e| panic!("{case}: {e}"))
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

/// G1: the same extraction from real nnsight 0.7.0 payloads (`fixtures/captures/v0.7.0`).
mod g1 {
    use super::*;

    const KEY: &str = r#"nnsight.modeling.language.LanguageModel:{"repo_id": "openai-community/gpt2", "revision": null}"#;

    #[test]
    fn zstd_zlib_and_raw_bodies_decode_alike() {
        let dir = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/captures/v0.7.0/c01_save_output");
        let blob = std::fs::read(dir.join("request.blob")).unwrap();
        let raw = localndif_wire::zstdio::decompress(&blob, 1 << 30).unwrap();
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut zlib, &raw).unwrap();
        let zlib = zlib.finish().unwrap();
        let sources: Vec<String> = [&blob, &raw, &zlib]
            .iter()
            .map(|b| decode_g1(KEY, b, true, &Limits::default()).unwrap().source)
            .collect();
        assert!(sources.iter().all(|s| *s == sources[0]));
        assert!(matches!(decode_g1(KEY, b"\x78\x9cgarbage", true, &Limits::default()), Err(RequestError::Decompress(_))));
    }

    pub fn decode(case: &str) -> Request {
        let dir = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test"))
            .join("../fixtures/captures/v0.7.0")
            .join(case);
        let blob = std::fs::read(dir.join("request.blob"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        decode_g1(KEY, &blob, true, &Limits::default()).unwrap_or_else(|e| panic!("{case}: {e}"))
    }

    #[test]
    fn every_capture_decodes_to_the_users_block() {
        let dir = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/captures/v0.7.0");
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        cases.sort();
        assert_eq!(cases.len(), 20, "the 0.7.0 captures are missing");
        for case in cases {
            let r = decode(&case);
            let snippet = std::fs::read_to_string(dir.join(&case).join("snippet.py")).unwrap();
            assert_eq!(code_lines(&r.source), block_body(&snippet), "{case}");
        }
    }

    /// The body of the snippet's `remote=True` block, dedented.
    pub fn block_body(snippet: &str) -> Vec<String> {
        let lines: Vec<&str> = snippet.lines().collect();
        let at = lines.iter().position(|l| l.contains("remote=True")).expect("a remote block");
        let indent = |l: &str| l.len() - l.trim_start().len();
        let outer = indent(lines[at]);
        let body: Vec<&str> = lines[at + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || indent(l) > outer)
            .copied()
            .collect();
        code_lines(&body.join("\n"))
    }

    /// Non-blank lines, dedented, without trailing space.
    pub fn code_lines(source: &str) -> Vec<String> {
        let lines: Vec<&str> = source.lines().filter(|l| !l.trim().is_empty()).collect();
        let indent = lines.iter().map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
        lines.iter().map(|l| l[indent..].trim_end().to_string()).collect()
    }

    #[test]
    fn direct_input_arrives_tokenized_and_invokes_and_sessions_keep_their_blocks() {
        let r = decode("c01_save_output");
        assert_eq!(r.method, Method::Trace);
        assert_eq!(r.client, ClientGeneration::G1);
        assert!(r.args.is_empty());
        let ids = r.kwargs.iter().find(|(k, _)| k == "input_ids").expect("input_ids").1;
        let t = localndif_wire::torch::tensor_from_graph(&r.payload, ids).unwrap().unwrap();
        assert_eq!(t.shape.len(), 2);
        // Padding keeps the user's line numbers: the capture's function starts (at its
        // `@case` decorator) on line 44 of the client's file, so its body is on 47-48.
        let line_of = |r: &Request, text: &str| r.source.lines().position(|l| l == text).map(|i| i + 1);
        assert_eq!(line_of(&r, "hidden = model.transformer.h[0].output.save()"), Some(47));
        assert_eq!(line_of(&r, "logits = model.lm_head.output.save()"), Some(48));
        assert!(r.filename.ends_with(".py"), "{}", r.filename);
        let r = decode("c05_multi_invoke");
        assert!(r.kwargs.is_empty() && r.locals.iter().any(|(n, id)| n == "tracer" && Some(*id) == r.tracer));
        assert_eq!(decode("c12_generate_iter_all").method, Method::Generate);
        assert_eq!(decode("c14_session_two_traces").method, Method::Session);
        // Captured variables are the function's globals.
        let r = decode("c08_closure_values");
        for name in ["layer", "scale", "label", "positions", "steer", "cfg", "model"] {
            assert!(r.globals.iter().any(|(n, _)| n == name), "no '{name}' captured");
        }
    }
}

/// nnsight 0.5.x: the same extraction from real 0.5.13 and 0.5.0 payloads, whose functions
/// travel as bytecode (`fixtures/captures/v0.5.*`, recorded by `python/capture_05.py`).
mod g05 {
    use super::*;

    const KEY: &str = r#"nnsight.modeling.language.LanguageModel:{"repo_id": "localndif/tiny-gpt2", "revision": null}"#;
    const VERSIONS: [&str; 2] = ["v0.5.13", "v0.5.0"];

    fn dir(version: &str) -> PathBuf {
        PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/captures").join(version)
    }

    fn decode(version: &str, case: &str) -> Request {
        let path = dir(version).join(case).join("request.blob");
        let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        decode_g1(KEY, &blob, false, &Limits::default()).unwrap_or_else(|e| panic!("{version}/{case}: {e}"))
    }

    #[test]
    fn every_capture_decodes_to_the_users_block() {
        for version in VERSIONS {
            let mut cases: Vec<_> = std::fs::read_dir(dir(version))
                .unwrap_or_else(|e| panic!("{version}: {e}"))
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            cases.sort();
            assert_eq!(cases.len(), 6, "the {version} captures are missing");
            for case in cases {
                let r = decode(version, &case);
                assert!(r.nnsight_05, "{version}/{case}: not recognised as a 0.5 payload");
                let snippet = std::fs::read_to_string(dir(version).join(&case).join("snippet.py")).unwrap();
                assert_eq!(super::g1::code_lines(&r.source), super::g1::block_body(&snippet), "{version}/{case}");
            }
        }
    }

    #[test]
    fn methods_keywords_helpers_and_edits_are_recovered() {
        for version in VERSIONS {
            assert_eq!(decode(version, "c01_save_output").method, Method::Trace);
            assert_eq!(decode(version, "c04_session").method, Method::Session);
            // 0.5 keeps `max_new_tokens` on the tracer, not in the batch.
            let r = decode(version, "c03_generate");
            assert_eq!(r.method, Method::Generate);
            assert!(r.kwargs.iter().any(|(k, v)| k == "max_new_tokens" && r.payload.as_int(*v) == Some(3)), "{version}");
            assert!(r.kwargs.iter().any(|(k, _)| k == "input_ids"), "{version}");
            // A function of the script is a captured global (shipped as bytecode).
            let r = decode(version, "c05_helper_function");
            assert!(r.globals.iter().any(|(n, _)| n == "helper"), "{version}: no 'helper' captured");
            // The script's name comes from the function's `__file__`.
            assert!(r.filename.ends_with("capture_05.py"), "{version}: {}", r.filename);
        }
        // 0.5.13 ships the edited handle with its mediators; 0.5.0 ships the model by
        // persistent id and the edit among the tracer's mediators.
        assert!(decode("v0.5.13", "c06_edit").edits.is_empty());
        assert_eq!(decode("v0.5.0", "c06_edit").edits.len(), 1);
        assert!(decode("v0.5.0", "c01_save_output").edits.is_empty());
    }
}
