//! Every captured client request (docs/protocol.md) decompresses and decodes; the
//! 0.8.1 top object has the documented shape and the shipped tensors decode to the
//! dtype, shape and values of the snippets (v0.8.1/c07, c08 `snippet.py`, `tree.txt`).

mod common;

use std::collections::HashMap;

use localndif_wire::pickle::{self, Graph, Id, Node};
use localndif_wire::torch::{DType, TensorData, tensor_from_graph};

fn decode_all() -> Option<HashMap<(String, String), Graph>> {
    let dir = common::captures_dir()?;
    let mut graphs = HashMap::new();
    for capture in common::load_captures(&dir) {
        let graph = pickle::decode(&capture.pickle)
            .unwrap_or_else(|e| panic!("{}/{}: {e}", capture.version, capture.case));
        graphs.insert((capture.version, capture.case), graph);
    }
    Some(graphs)
}

fn get<'a>(graphs: &'a HashMap<(String, String), Graph>, version: &str, case: &str) -> &'a Graph {
    &graphs[&(version.to_owned(), case.to_owned())]
}

/// `(source, globals, locals)` of a 0.8.1 payload `(tracer, (source, globals, locals))`.
fn block(g: &Graph) -> (&str, Id, Id) {
    let top = g.tuple_items(g.root).expect("root is a tuple");
    assert!(matches!(g.node(g.root), Some(Node::Tuple(_))));
    assert_eq!(top.len(), 2);
    let block = g.tuple_items(top[1]).expect("[1] is a tuple");
    assert!(matches!(g.node(top[1]), Some(Node::Tuple(_))));
    let [source, globals, locals] = block else {
        panic!("[1] has {} items", block.len())
    };
    assert!(matches!(g.node(*globals), Some(Node::Dict(_))));
    assert!(matches!(g.node(*locals), Some(Node::Dict(_))));
    (
        g.as_str(*source).expect("source is a str"),
        *globals,
        *locals,
    )
}

/// The tracer's BUILD state dict.
fn tracer_state(g: &Graph) -> Id {
    let tracer = g.tuple_items(g.root).unwrap()[0];
    *g.obj(tracer)
        .expect("tracer object")
        .state
        .first()
        .expect("tracer state")
}

fn tensor(g: &Graph, id: Id) -> TensorData {
    tensor_from_graph(g, id)
        .expect("tensor decodes")
        .expect("node is a tensor")
}

fn i64s(t: &TensorData) -> Vec<i64> {
    t.data()
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn every_payload_decodes() {
    let Some(graphs) = decode_all() else { return };
    assert_eq!(graphs.len(), 52, "20 cases × 2 client versions (0.8.1, 0.7.0) and 6 × 2 (0.5.13, 0.5.0)");
    for ((version, case), g) in &graphs {
        if version == "v0.8.1" {
            let (source, _, _) = block(g);
            assert!(!source.trim().is_empty(), "{case}: empty source");
        } else {
            assert_eq!(
                g.global(g.root),
                Some(("nnsight.schema.request", "RequestModel")),
                "{case}"
            );
        }
    }
}

#[test]
fn c01_source_and_shared_model_envoy() {
    let Some(graphs) = decode_all() else { return };
    let g = get(&graphs, "v0.8.1", "c01_save_output");
    let (source, globals, locals) = block(g);
    assert!(
        source.contains("model.transformer.h[0].output.save()"),
        "{source}"
    );
    assert_eq!(g.node(locals), Some(&Node::Dict(vec![])));
    let model = g.dict_get(globals, "model").expect("globals['model']");
    let envoy = g.dict_get(tracer_state(g), "envoy").expect("tracer envoy");
    assert_eq!(
        model, envoy,
        "globals['model'] is the memoized tracer envoy (docs/protocol.md)"
    );
    assert_eq!(
        g.global(model),
        Some(("nnsight.modeling.language", "LanguageModel"))
    );
    let info = g.dict_get(tracer_state(g), "info").expect("tracer info");
    let expected = concat!(
        r#"NEW(G<nnsight.tracing.tracer.Tracer.Info>; ()).build({"frame": "#,
        r#"NEW(G<nnsight.tracing.util.SerializedFrame>; ()).build({"f_locals": {}, "f_globals": {}, "f_code": "#,
        r#"CALL(CALL(G<cloudpickle.cloudpickle._builtin_type>; ("SimpleNamespace",)); ()).build({"#,
        r#""co_filename": "/home/user/code/nnsight-captures/tools/snippets08.py", "#,
        r#""co_firstlineno": 44, "co_name": "c01_save_output"})})})"#,
    );
    assert_eq!(g.canon(info), expected);
}

#[test]
fn c05_tracer_local_is_a_cycle_to_the_top_tracer() {
    let Some(graphs) = decode_all() else { return };
    let g = get(&graphs, "v0.8.1", "c05_multi_invoke");
    let (_, _, locals) = block(g);
    let tracer = g.tuple_items(g.root).unwrap()[0];
    assert_eq!(g.dict_get(locals, "tracer"), Some(tracer));
}

#[test]
fn c07_input_ids_and_attention_mask() {
    let Some(graphs) = decode_all() else { return };
    let g = get(&graphs, "v0.8.1", "c07_tensor_inputs");
    let state = tracer_state(g);
    let args = g.tuple_items(g.dict_get(state, "args").unwrap()).unwrap();
    let input_ids = tensor(g, args[0]);
    assert_eq!(
        (
            input_ids.dtype(),
            input_ids.shape(),
            input_ids.requires_grad()
        ),
        (DType::I64, &[2, 4][..], false)
    );
    assert_eq!(i64s(&input_ids), [464, 412, 318, 287, 10, 11, 12, 13]);
    let mask = tensor(
        g,
        g.dict_get(g.dict_get(state, "kwargs").unwrap(), "attention_mask")
            .unwrap(),
    );
    assert_eq!(
        (mask.dtype(), mask.shape()),
        (DType::I64, &[2, 4][..])
    );
    assert_eq!(i64s(&mask), [1; 8]);
    assert_eq!(
        tensor_from_graph(g, state).ok().flatten(),
        None,
        "a dict is not a tensor"
    );
}

#[test]
fn c08_steer_vector_and_closure_values() {
    let Some(graphs) = decode_all() else { return };
    let g = get(&graphs, "v0.8.1", "c08_closure_values");
    let (_, _, locals) = block(g);
    let steer = tensor(g, g.dict_get(locals, "steer").expect("locals['steer']"));
    assert_eq!(
        (steer.dtype(), steer.shape()),
        (DType::F32, &[32][..])
    );
    let values: Vec<f32> = steer
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let expected: Vec<f32> = (0..32).map(|i| i as f32 / 32.0).collect();
    assert_eq!(values, expected, "torch.arange(32) / 32.0");
    assert_eq!(
        g.dict_get(locals, "layer").and_then(|v| g.as_int(v)),
        Some(1)
    );
    assert_eq!(
        g.dict_get(locals, "label").and_then(|v| g.as_str(v)),
        Some("steered")
    );
    let cfg = g.dict_get(locals, "cfg").unwrap();
    assert_eq!(
        g.canon(cfg),
        r#"{"alpha": 3, "names": ("a", "b"), "none": None}"#
    );
}

#[test]
fn v070_batcher_tensors_decode() {
    let Some(graphs) = decode_all() else { return };
    let g = get(&graphs, "v0.7.0", "c06_token_id_inputs");
    let tensors: Vec<TensorData> = (0..g.nodes.len())
        .filter_map(|id| tensor_from_graph(g, id).unwrap())
        .collect();
    assert_eq!(
        tensors.len(),
        2,
        "input_ids and attention_mask (docs/protocol.md)"
    );
    assert!(
        tensors
            .iter()
            .all(|t| t.dtype() == DType::I64 && t.shape() == [1, 4])
    );
    assert!(tensors.iter().any(|t| i64s(t) == [464, 412, 318, 287]));
}
