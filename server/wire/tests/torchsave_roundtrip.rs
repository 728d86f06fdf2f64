//! The writer's archive layout (docs/protocol.md, STORED, 64-byte aligned
//! data) and a Rust round trip through `torch_load`.

use std::io::Cursor;

use localndif_wire::torch::{DType, TensorData, tensor_from_archive, torch_load};
use localndif_wire::torchsave::{Saved, torch_save};
use zip::{CompressionMethod, ZipArchive};

fn tensor(dtype: DType, shape: &[usize], data: Vec<u8>) -> TensorData {
    TensorData::new(dtype, shape.to_vec(), data).expect("consistent tensor")
}

fn sample() -> (Saved, TensorData, TensorData) {
    let a = tensor(
        DType::F32,
        &[2, 3],
        (0..6u8).flat_map(|i| f32::from(i).to_le_bytes()).collect(),
    );
    let mut b = tensor(
        DType::I64,
        &[3],
        [-1i64, 0, 1 << 40]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    );
    b.set_requires_grad(true);
    let value = Saved::Dict(vec![
        (Saved::Str("a".into()), Saved::Tensor(a.clone())),
        (
            Saved::Str("b".into()),
            Saved::List(vec![Saved::Tensor(b.clone()), Saved::Int(-70000)]),
        ),
        (Saved::Str("c".into()), Saved::Bytes(vec![0, 0x80, 0xff])),
        (
            Saved::Str("d".into()),
            Saved::OrderedDict(vec![(
                Saved::Int(1),
                Saved::Tuple(vec![Saved::Float(-0.0), Saved::None]),
            )]),
        ),
    ]);
    (value, a, b)
}

#[test]
fn archive_layout_matches_torch() {
    let (value, _, _) = sample();
    let bytes = torch_save(&value).expect("torch_save");
    let mut zip = ZipArchive::new(Cursor::new(&bytes)).expect("zip");
    let expected = [
        "archive/data.pkl",
        "archive/.format_version",
        "archive/.storage_alignment",
        "archive/byteorder",
        "archive/data/0",
        "archive/data/1",
        "archive/version",
        "archive/.data/serialization_id",
    ];
    assert_eq!(zip.len(), expected.len());
    for (index, name) in expected.iter().enumerate() {
        let file = zip.by_index(index).expect("record");
        assert_eq!(file.name().expect("utf-8 name"), *name);
        assert_eq!(file.compression(), CompressionMethod::Stored, "{name}");
        assert_eq!(
            file.data_start().expect("data offset") % 64,
            0,
            "{name} is not 64-byte aligned"
        );
    }
    let record = |zip: &mut ZipArchive<_>, name: &str| {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut zip.by_name(name).expect(name), &mut out).expect(name);
        out
    };
    assert_eq!(record(&mut zip, "archive/version"), b"3\n");
    assert_eq!(record(&mut zip, "archive/byteorder"), b"little");
    assert_eq!(record(&mut zip, "archive/.data/serialization_id").len(), 40);
    assert_eq!(
        &record(&mut zip, "archive/data.pkl")[..2],
        b"\x80\x02",
        "protocol 2"
    );
}

#[test]
fn round_trip_through_torch_load() {
    let (value, a, b) = sample();
    let (g, storages) = torch_load(&torch_save(&value).expect("torch_save")).expect("torch_load");
    let root = g.root;
    let loaded_a = tensor_from_archive(&g, g.dict_get(root, "a").unwrap(), &storages).unwrap();
    assert_eq!(loaded_a, Some(a));
    let list = g.tuple_items(g.dict_get(root, "b").unwrap()).unwrap();
    assert_eq!(
        tensor_from_archive(&g, list[0], &storages).unwrap(),
        Some(b)
    );
    assert_eq!(g.as_int(list[1]), Some(-70000));
    assert_eq!(
        g.canon(g.dict_get(root, "c").unwrap()),
        r#"CALL(G<_codecs.encode>; ("\0\u{80}ÿ", "latin1"))"#
    );
    assert_eq!(
        g.canon(g.dict_get(root, "d").unwrap()),
        "CALL(G<collections.OrderedDict>; ()).dictitems{1: (-0.0, None)}"
    );
}

#[test]
fn an_inconsistent_tensor_cannot_be_made() {
    // Two f32s need 8 bytes; the fields are private, so no unchecked one reaches a writer.
    assert!(TensorData::new(DType::F32, vec![2], vec![0; 4]).is_err());
    assert!(TensorData::with_grad(DType::F32, vec![usize::MAX, 2], vec![], true).is_err());
}
