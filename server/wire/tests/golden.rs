//! `torch_load` on the golden response files (docs/protocol.md): the torch-free
//! `result.pt` written by `tools/torchsave_min.py`, the protocol-4 COMPLETED frame that
//! wraps its zstd blob, and real `torch.save` output of a Python server.

mod common;

use std::path::Path;

use localndif_wire::pickle::{Graph, Id};
use localndif_wire::torch::{DType, Storages, TensorData, tensor_from_archive, torch_load};
use localndif_wire::zstdio;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn tensor(g: &Graph, storages: &Storages, dict: Id, key: &str) -> TensorData {
    let id = g
        .dict_get(dict, key)
        .unwrap_or_else(|| panic!("no key {key:?}"));
    tensor_from_archive(g, id, storages)
        .expect("tensor decodes")
        .expect("value is a tensor")
}

fn f32s(t: &TensorData) -> Vec<f32> {
    t.data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn i64s(t: &TensorData) -> Vec<i64> {
    t.data()
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// The saves dict of `responses/v0.8.1/result.pt` (see `tools/torchsave_min.py`).
fn check_result_dict(g: &Graph, storages: &Storages) {
    let root = g.root;
    let hidden = tensor(g, storages, root, "hidden");
    assert_eq!(
        (hidden.dtype(), hidden.shape()),
        (DType::F32, &[1, 3, 4][..])
    );
    assert_eq!(
        f32s(&hidden),
        (0..12).map(|i| i as f32 / 8.0).collect::<Vec<_>>()
    );
    let ids = tensor(g, storages, root, "ids");
    assert_eq!(
        (ids.dtype(), ids.shape(), i64s(&ids)),
        (DType::I64, &[1, 3][..], vec![464, 412, 318])
    );
    let layers = g.tuple_items(g.dict_get(root, "layers").unwrap()).unwrap();
    let layers: Vec<Vec<f32>> = layers
        .iter()
        .map(|&id| f32s(&tensor_from_archive(g, id, storages).unwrap().unwrap()))
        .collect();
    assert_eq!(layers, [[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(
        g.dict_get(root, "note").and_then(|v| g.as_str(v)),
        Some("plain python values travel too")
    );
    assert_eq!(g.dict_get(root, "count").and_then(|v| g.as_int(v)), Some(3));
}

#[test]
fn result_pt_yields_its_tensors() {
    let Some(dir) = common::captures_dir() else {
        return;
    };
    let (g, storages) = torch_load(&read(&dir, "responses/v0.8.1/result.pt")).expect("torch_load");
    assert_eq!(storages.len(), 4);
    check_result_dict(&g, &storages);
}

#[test]
fn completed_frame_wraps_the_zstd_result_blob() {
    let Some(dir) = common::captures_dir() else {
        return;
    };
    let (frame, _) =
        torch_load(&read(&dir, "responses/v0.8.1/ws_completed_binary_frame.pt")).expect("frame");
    assert_eq!(
        frame
            .dict_get(frame.root, "status")
            .and_then(|v| frame.as_str(v)),
        Some("COMPLETED")
    );
    let blob = frame
        .dict_get(frame.root, "data")
        .and_then(|v| frame.as_bytes(v))
        .expect("data bytes");
    assert_eq!(blob, read(&dir, "responses/v0.8.1/result.pt.zst"));
    let (g, storages) = torch_load(&zstdio::decompress(blob, 1 << 20).unwrap()).expect("result");
    check_result_dict(&g, &storages);
}

#[test]
fn python_server_results_decode() {
    let Some(dir) = common::captures_dir() else {
        return;
    };
    let results = dir.join("responses/v0.8.1/python_server_results");
    let (g, storages) = torch_load(&read(&results, "c01_save_output.result.pt")).expect("c01");
    let hidden = tensor(&g, &storages, g.root, "hidden");
    let logits = tensor(&g, &storages, g.root, "logits");
    assert_eq!(
        (hidden.dtype(), hidden.shape()),
        (DType::F32, &[1, 15, 32][..])
    );
    assert_eq!(
        (logits.dtype(), logits.shape()),
        (DType::F32, &[1, 15, 1000][..])
    );
    assert!(f32s(&logits).iter().all(|v| v.is_finite()));

    let (g, storages) = torch_load(&read(&results, "c13_generate_result.result.pt")).expect("c13");
    let tokens = tensor(&g, &storages, g.root, "tokens");
    let streamed = tensor(&g, &storages, g.root, "streamed");
    assert_eq!(
        (tokens.dtype(), tokens.shape()),
        (DType::I64, &[1, 18][..])
    );
    assert_eq!(streamed.shape(), [1, 14]);
    assert_eq!(
        i64s(&tokens)[..14],
        i64s(&streamed)[..],
        "generate() output starts with the prompt"
    );

    let (g, storages) =
        torch_load(&read(&results, "c02_save_input_inputs.result.pt")).expect("c02");
    let all_args = g
        .tuple_items(g.dict_get(g.root, "all_args").unwrap())
        .unwrap();
    let (positional, kwargs) = (all_args[0], all_args[1]);
    let position_ids = tensor(&g, &storages, kwargs, "position_ids");
    assert_eq!(i64s(&position_ids), (0..15).collect::<Vec<_>>());
    let cache = g.tuple_items(positional).unwrap()[1];
    assert_eq!(
        g.global(cache),
        Some(("transformers.cache_utils", "DynamicCache"))
    );
}
