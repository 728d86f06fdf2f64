//! Fuzz entry points (`fuzz/`, cargo-fuzz): each takes arbitrary bytes and must return
//! without panicking, however hostile the bytes. The same functions run over the seed
//! corpora in `cargo test` (`tests/fuzz_smoke.rs`).

use crate::pickle::{self, Graph, Limits};
use crate::torch::{DType, TensorData, tensor_from_graph, torch_load};
use crate::torchsave::{Saved, torch_save};

/// Walks a decoded graph the way a consumer does.
fn exercise(g: &Graph) {
    for id in 0..g.nodes.len() {
        let _ = tensor_from_graph(g, id);
        let _ = (g.global(id), g.dict_get(id, "args"), g.tuple_items(id), g.as_str(id));
    }
}

/// The pickle VM on arbitrary bytes, with limits small enough to keep runs fast.
pub fn pickle(data: &[u8]) {
    if let Ok(g) = pickle::decode_with(data, &Limits { max_nodes: 100_000 }) {
        exercise(&g);
    }
}

/// The torch.save reader on arbitrary bytes (an archive, or anything).
pub fn torch_archive(data: &[u8]) {
    if let Ok((g, _)) = torch_load(data) {
        exercise(&g);
    }
}

/// zstd decompression with a bound on what it may produce.
pub fn zstd(data: &[u8]) {
    let _ = crate::zstdio::decompress(data, 1 << 20);
}

/// A value built from the bytes, written by the torch.save writer and read back: the
/// reader sees exactly what was written.
pub fn torch_roundtrip(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let value = build(&mut bytes, 0);
    let written = torch_save(&value).expect("the writer takes every value built here");
    let (g, _) = torch_load(&written).expect("the reader reads what the writer wrote");
    let again = torch_save(&value).expect("writing twice");
    assert_eq!(written, again, "the writer is deterministic");
    exercise(&g);
}

fn build(b: &mut impl Iterator<Item = u8>, depth: usize) -> Saved {
    let tag = b.next().unwrap_or(0);
    let small = |b: &mut dyn Iterator<Item = u8>| usize::from(b.next().unwrap_or(0) % 5);
    match tag % 10 {
        0 => Saved::None,
        1 => Saved::Bool(tag & 0x10 != 0),
        2 => Saved::Int(i64::from_le_bytes(std::array::from_fn(|_| b.next().unwrap_or(0)))),
        3 => Saved::Float(f64::from_le_bytes(std::array::from_fn(|_| b.next().unwrap_or(0)))),
        4 => Saved::Str(String::from_utf8_lossy(&(0..small(b)).map(|_| b.next().unwrap_or(b'a')).collect::<Vec<_>>()).into_owned()),
        5 => Saved::Bytes((0..small(b)).map(|_| b.next().unwrap_or(0)).collect()),
        6 if depth < 4 => Saved::List((0..small(b)).map(|_| build(b, depth + 1)).collect()),
        7 if depth < 4 => Saved::Tuple((0..small(b)).map(|_| build(b, depth + 1)).collect()),
        8 if depth < 4 => Saved::Dict((0..small(b)).map(|i| (Saved::Int(i as i64), build(b, depth + 1))).collect()),
        _ => {
            let dtype = [DType::F32, DType::F64, DType::I64, DType::U8, DType::Bool][usize::from(tag >> 4) % 5];
            let shape: Vec<usize> = (0..small(b) % 3).map(|_| small(b)).collect();
            let numel: usize = shape.iter().product();
            let size = match dtype {
                DType::F64 | DType::I64 => 8,
                DType::F32 => 4,
                _ => 1,
            };
            let data = (0..numel * size).map(|_| b.next().unwrap_or(0) & if dtype == DType::Bool { 1 } else { 0xff }).collect();
            match TensorData::new(dtype, shape, data) {
                Ok(t) => Saved::Tensor(t),
                Err(_) => Saved::None,
            }
        }
    }
}

/// Deterministic mutations of `seed` (byte flips, truncations, splices; xorshift), for
/// the smoke runs of the fuzz targets in `cargo test`.
pub fn mutations(seed: &[u8], n: usize) -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ seed.len() as u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let mut m = seed.to_vec();
            match next() % 3 {
                0 if !m.is_empty() => {
                    for _ in 0..1 + next() % 8 {
                        let i = (next() as usize) % m.len();
                        m[i] = next() as u8;
                    }
                }
                1 => m.truncate((next() as usize) % (seed.len() + 1)),
                _ if !m.is_empty() => {
                    let at = (next() as usize) % m.len();
                    let len = ((next() as usize) % 64).min(m.len() - at);
                    let chunk = m[at..at + len].to_vec();
                    let to = (next() as usize) % m.len();
                    m.splice(to..to, chunk);
                }
                _ => {}
            }
            m
        })
        .collect()
}
