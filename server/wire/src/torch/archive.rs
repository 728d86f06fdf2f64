//! Reading `torch.save` zip archives (docs/protocol.md layout; docs/protocol.md):
//! `<prefix>/data.pkl` plus one `<prefix>/data/<key>` record per storage. Records must
//! be STORED, as torch writes them (this crate builds `zip` without compression codecs).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::storage::{Storage, bad, storage_ref};
use crate::WireError;
use crate::pickle::{self, Graph, Id};

/// Storage records of an archive by key (`data/<key>`).
pub type Storages = HashMap<String, Vec<u8>>;

/// Loads a `torch.save` archive: the decoded `data.pkl` and its storages by key.
pub fn torch_load(bytes: &[u8]) -> Result<(Graph, Storages), WireError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|name| name.map(Cow::into_owned))
        .collect::<Result<_, _>>()?;
    let pickle_name = names
        .iter()
        .find(|name| {
            name.strip_suffix("/data.pkl")
                .is_some_and(|prefix| !prefix.contains('/'))
        })
        .ok_or_else(|| WireError::Archive("no <prefix>/data.pkl record".into()))?;
    let prefix = &pickle_name[..pickle_name.len() - "data.pkl".len()];
    let byteorder = read_optional(&mut zip, &format!("{prefix}byteorder"))?;
    if byteorder.is_some_and(|order| order != b"little") {
        return Err(WireError::Archive(
            "only little-endian archives are supported".into(),
        ));
    }
    let data_dir = format!("{prefix}data/");
    let mut storages = Storages::new();
    for name in &names {
        if let Some(key) = name.strip_prefix(&data_dir) {
            storages.insert(key.to_owned(), read(&mut zip, name)?);
        }
    }
    let graph = pickle::decode(&read(&mut zip, pickle_name)?)?;
    Ok((graph, storages))
}

fn read(zip: &mut ZipArchive<Cursor<&[u8]>>, name: &str) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    zip.by_name(name)?
        .read_to_end(&mut out)
        .map_err(ZipError::from)?;
    Ok(out)
}

fn read_optional(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<Vec<u8>>, WireError> {
    match read(zip, name) {
        Err(WireError::Zip(ZipError::FileNotFound)) => Ok(None),
        other => other.map(Some),
    }
}

/// The storage a zip-format persistent id names.
pub(crate) fn archive_storage<'s>(
    g: &Graph,
    id: Id,
    storages: &'s Storages,
) -> Result<Storage<'s>, WireError> {
    let storage = storage_ref(g, id)?;
    let bytes = storages
        .get(storage.key)
        .ok_or_else(|| bad(format!("no record data/{}", storage.key)))?;
    if bytes.len() != storage.nbytes()? {
        return Err(bad(format!(
            "record data/{} has {} bytes, expected {}",
            storage.key,
            bytes.len(),
            storage.nbytes()?
        )));
    }
    Ok(Storage {
        dtype: storage.dtype,
        bytes: Cow::Borrowed(bytes),
    })
}
