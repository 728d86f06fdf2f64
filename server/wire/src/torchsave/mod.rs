//! A `torch.save` writer (docs/protocol.md): a
//! protocol-2 `data.pkl` plus raw storages in a STORED zip with 64-byte aligned
//! records, laid out exactly as torch 2.13 writes it. `torch.load` reads the result with
//! `weights_only` both False and True (docs/protocol.md, docs/protocol.md).

mod graph;
mod pickler;

pub use graph::{SaveGraph, SaveId, SaveNode};

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::WireError;
use crate::torch::TensorData;
use pickler::Pickler;

/// A tree-shaped value to save (statuses, tests); [`SaveGraph`] is the general form.
/// `Object` is rebuilt by `module.name(*args)` then, with a state,
/// BUILD (for `ModelOutput`, `torch.device` and the like).
#[derive(Debug, Clone, PartialEq)]
pub enum Saved {
    None,
    Bool(bool),
    Int(i64),
    /// An int outside `i64` as little-endian two's complement bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Saved>),
    Tuple(Vec<Saved>),
    Dict(Vec<(Saved, Saved)>),
    OrderedDict(Vec<(Saved, Saved)>),
    Tensor(TensorData),
    Object {
        module: String,
        name: String,
        args: Vec<Saved>,
        state: Option<Box<Saved>>,
    },
}

/// torch's archive folder name (any name loads).
const ARCHIVE: &str = "archive";
/// Any 40 digits are a valid serialization id.
const SERIALIZATION_ID: &[u8; 40] = b"0000000000000000000000000000000000000000";

/// The bytes of `torch.save(value)`.
///
/// Fails if a tensor's data length does not match its shape and dtype, or a string or
/// int is too long for protocol 2.
pub fn torch_save(value: &Saved) -> Result<Vec<u8>, WireError> {
    torch_save_graph(&SaveGraph::from_tree(value))
}

/// The bytes of `torch.save(value)` for a value graph: every node reached more than
/// once is written once and then referenced through the memo.
pub fn torch_save_graph(value: &SaveGraph) -> Result<Vec<u8>, WireError> {
    archive(value, false)
}

/// `torch.save` of a status message (read with `weights_only=False`): `bytes` travel
/// raw (BINBYTES), as nnsight 0.8's own protocol-4 `ResponseModel.pickle()` writes them.
pub fn torch_save_status(value: &Saved) -> Result<Vec<u8>, WireError> {
    archive(&SaveGraph::from_tree(value), true)
}

/// A plain pickle of `value` (what `pickle.loads` reads; no archive): each tensor is
/// `torch.storage._load_from_bytes(<its own torch.save bytes>)`, bytes are BINBYTES.
/// For values handed to a client's Python outside a result (a STREAM function).
pub fn pickle_graph(value: &SaveGraph) -> Result<Vec<u8>, WireError> {
    Ok(Pickler::dump(value, true, true)?.0)
}

fn archive(value: &SaveGraph, binbytes: bool) -> Result<Vec<u8>, WireError> {
    let (data_pkl, storages) = Pickler::dump(value, binbytes, false)?;
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut record = |name: &str, bytes: &[u8]| -> Result<(), WireError> {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .with_alignment(64)
            .large_file(bytes.len() >= u32::MAX as usize);
        zip.start_file(format!("{ARCHIVE}/{name}"), options)?;
        zip.write_all(bytes).map_err(zip::result::ZipError::from)?;
        Ok(())
    };
    record("data.pkl", &data_pkl)?;
    record(".format_version", b"1")?;
    record(".storage_alignment", b"64")?;
    record("byteorder", b"little")?;
    for (key, bytes) in storages.iter().enumerate() {
        record(&format!("data/{key}"), bytes)?;
    }
    record("version", b"3\n")?;
    record(".data/serialization_id", SERIALIZATION_ID)?;
    Ok(zip.finish()?.into_inner())
}
