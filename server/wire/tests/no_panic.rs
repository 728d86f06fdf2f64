//! Robustness (docs/protocol.md): truncated and mutated real request pickles,
//! their nested legacy tensor streams and torch.save archives give errors, never panics.

mod common;

use std::sync::OnceLock;

use localndif_wire::pickle::{self, Graph};
use localndif_wire::torch::{
    DType, TensorData, tensor_from_archive, tensor_from_graph, torch_load,
};
use localndif_wire::torchsave::{Saved, torch_save};
use proptest::prelude::*;

fn captures() -> &'static [common::Capture] {
    static CAPTURES: OnceLock<Vec<common::Capture>> = OnceLock::new();
    CAPTURES.get_or_init(|| {
        common::captures_dir()
            .map(|dir| common::load_captures(&dir))
            .unwrap_or_default()
    })
}

fn capture(case: &str) -> Option<&'static [u8]> {
    captures()
        .iter()
        .find(|c| c.version == "v0.8.1" && c.case == case)
        .map(|c| c.pickle.as_slice())
}

/// Walks a decoded graph the way a consumer would.
fn exercise(g: &Graph) {
    for id in 0..g.nodes.len() {
        let _ = tensor_from_graph(g, id);
        let _ = (
            g.global(id),
            g.dict_get(id, "args"),
            g.tuple_items(id),
            g.as_str(id),
        );
    }
}

fn mutate(bytes: &[u8], range: std::ops::Range<usize>, edits: &[(usize, u8)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for &(pos, byte) in edits {
        out[range.start + pos % range.len()] = byte;
    }
    out
}

#[test]
fn every_truncation_of_a_tensor_payload_is_an_error() {
    let Some(pickle) = capture("c07_tensor_inputs") else {
        return;
    };
    for len in 0..pickle.len() {
        assert!(
            pickle::decode(&pickle[..len]).is_err(),
            "prefix of {len} bytes decoded"
        );
    }
    exercise(&pickle::decode(pickle).expect("full payload decodes"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_request_pickles_do_not_panic(which in 0usize..40, edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let all = captures();
        if !all.is_empty() {
            let pickle = &all[which % all.len()].pickle;
            if let Ok(g) = pickle::decode(&mutate(pickle, 0..pickle.len(), &edits)) {
                exercise(&g);
            }
        }
    }

    #[test]
    fn mutated_legacy_tensor_streams_do_not_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        if let Some(pickle) = capture("c07_tensor_inputs") {
            // the first `_load_from_bytes` stream: 314 bytes starting with its magic-number pickle
            let start = pickle.windows(5).position(|w| w == b"\x80\x02\x8a\nl").expect("legacy stream");
            if let Ok(g) = pickle::decode(&mutate(pickle, start..start + 314, &edits)) {
                exercise(&g);
            }
        }
    }

    #[test]
    fn mutated_archives_do_not_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let data = (0..24u8).collect();
        let tensor = TensorData::new(DType::F32, vec![2, 3], data).expect("consistent tensor");
        let value = Saved::Dict(vec![(Saved::Str("t".into()), Saved::Tensor(tensor))]);
        let archive = torch_save(&value).expect("torch_save");
        if let Ok((g, storages)) = torch_load(&mutate(&archive, 0..archive.len(), &edits)) {
            for id in 0..g.nodes.len() {
                let _ = tensor_from_archive(&g, id, &storages);
            }
        }
    }
}
