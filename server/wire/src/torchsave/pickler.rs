//! The protocol-2 `data.pkl` of a torch.save archive, opcode by opcode per the table in
//! docs/protocol.md. Only opcodes that torch's
//! `weights_only` unpickler accepts are written. A node reached more than once goes in
//! the memo (BINPUT) when first written and is referenced (BINGET) after, with
//! CPython's rule for a tuple that is reached again while its items are written.

use std::collections::HashMap;

use super::graph::{SaveGraph, SaveId, SaveNode};
use crate::WireError;
use crate::pickle::encode_i64;
use crate::torch::TensorData;

const PROTO: u8 = 0x80;
const STOP: u8 = b'.';
const MARK: u8 = b'(';
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT: u8 = b'J';
const BININT1: u8 = b'K';
const BININT2: u8 = b'M';
const LONG1: u8 = 0x8a;
const LONG4: u8 = 0x8b;
const BINFLOAT: u8 = b'G';
const BINUNICODE: u8 = b'X';
const EMPTY_LIST: u8 = b']';
const APPENDS: u8 = b'e';
const EMPTY_TUPLE: u8 = b')';
const TUPLE: u8 = b't';
const TUPLE1: u8 = 0x85;
const TUPLE2: u8 = 0x86;
const TUPLE3: u8 = 0x87;
const EMPTY_DICT: u8 = b'}';
const SETITEMS: u8 = b'u';
const GLOBAL: u8 = b'c';
const REDUCE: u8 = b'R';
const BUILD: u8 = b'b';
const BINPERSID: u8 = b'Q';
const BINPUT: u8 = b'q';
const LONG_BINPUT: u8 = b'r';
const BINGET: u8 = b'h';
const LONG_BINGET: u8 = b'j';
const POP_MARK: u8 = b'1';
const NEWOBJ: u8 = 0x81;
const BINBYTES: u8 = b'B';
const POP: u8 = b'0';

/// Deepest nesting written (a deeper value is refused, as CPython's pickle refuses
/// one past its recursion limit).
const MAX_DEPTH: usize = 2000;

/// Writes `value` as a protocol-2 pickle; tensor storages are collected in write order
/// (storage key = decimal index).
pub(super) struct Pickler<'a> {
    g: &'a SaveGraph,
    out: Vec<u8>,
    storages: Vec<&'a [u8]>,
    /// Nodes referenced more than once (they go in the memo).
    shared: Vec<bool>,
    memo: HashMap<SaveId, u32>,
    depth: usize,
    /// Bytes as BINBYTES (protocol 3+; `weights_only=True` refuses it) instead of
    /// protocol 2's `_codecs.encode` call.
    binbytes: bool,
    /// A plain pickle, not an archive's `data.pkl`: each tensor carries its own bytes.
    plain: bool,
}

impl<'a> Pickler<'a> {
    /// The pickle bytes and the storages its tensors reference.
    pub(super) fn dump(g: &'a SaveGraph, binbytes: bool, plain: bool) -> Result<(Vec<u8>, Vec<&'a [u8]>), WireError> {
        let mut refs = vec![0u32; g.nodes.len()];
        let mut bump = |id: SaveId| -> Result<(), WireError> {
            let r = refs
                .get_mut(id)
                .ok_or_else(|| WireError::Archive(format!("node {id} does not exist")))?;
            *r = r.saturating_add(1);
            Ok(())
        };
        bump(g.root)?;
        for node in &g.nodes {
            match node {
                SaveNode::List(items) | SaveNode::Tuple(items) | SaveNode::Set(items) | SaveNode::FrozenSet(items) => {
                    items.iter().try_for_each(|&i| bump(i))?
                }
                SaveNode::Dict(items) | SaveNode::OrderedDict(items) => {
                    items.iter().try_for_each(|&(k, v)| bump(k).and_then(|_| bump(v)))?
                }
                SaveNode::Object { args, items, state, .. } => {
                    args.iter().try_for_each(|&i| bump(i))?;
                    items.iter().try_for_each(|&(k, v)| bump(k).and_then(|_| bump(v)))?;
                    if let Some(s) = state {
                        bump(*s)?;
                    }
                }
                SaveNode::SetState { target, state, .. } => {
                    // Written, then fetched again for the setter call.
                    bump(*target)?;
                    bump(*target)?;
                    bump(*state)?;
                }
                _ => {}
            }
        }
        let mut pickler = Pickler {
            g,
            out: vec![PROTO, 2],
            storages: Vec::new(),
            shared: refs.iter().map(|&r| r > 1).collect(),
            memo: HashMap::new(),
            depth: 0,
            binbytes,
            plain,
        };
        pickler.node(g.root)?;
        pickler.out.push(STOP);
        Ok((pickler.out, pickler.storages))
    }

    fn node(&mut self, id: SaveId) -> Result<(), WireError> {
        if let Some(&m) = self.memo.get(&id) {
            self.get(m);
            return Ok(());
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(WireError::Archive(format!(
                "the value is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        let r = self.write(id);
        self.depth -= 1;
        r
    }

    fn write(&mut self, id: SaveId) -> Result<(), WireError> {
        let g = self.g;
        match &g.nodes[id] {
            SaveNode::None => self.out.push(NONE),
            SaveNode::Bool(b) => self.out.push(if *b { NEWTRUE } else { NEWFALSE }),
            SaveNode::Int(v) => self.int(*v),
            SaveNode::BigInt(bytes) => self.long(bytes)?,
            SaveNode::Float(v) => {
                self.out.push(BINFLOAT);
                self.out.extend_from_slice(&v.to_be_bytes());
            }
            SaveNode::Str(s) => {
                self.str(s)?;
                self.put(id);
            }
            SaveNode::Bytes(b) => {
                self.bytes(b)?;
                self.put(id);
            }
            SaveNode::List(items) => {
                self.out.push(EMPTY_LIST);
                self.put(id);
                if !items.is_empty() {
                    self.out.push(MARK);
                    items.iter().try_for_each(|&i| self.node(i))?;
                    self.out.push(APPENDS);
                }
            }
            SaveNode::Tuple(items) => self.tuple(id, items)?,
            SaveNode::Dict(items) => {
                self.out.push(EMPTY_DICT);
                self.put(id);
                self.set_items(items)?;
            }
            SaveNode::OrderedDict(items) => {
                self.empty_ordered_dict();
                self.put(id);
                self.set_items(items)?;
            }
            SaveNode::Set(items) | SaveNode::FrozenSet(items) => {
                // Protocol 2 has no set opcodes: `builtins.set([items])`, as CPython writes.
                let frozen = matches!(g.nodes[id], SaveNode::FrozenSet(_));
                self.global("builtins", if frozen { "frozenset" } else { "set" });
                self.out.push(EMPTY_LIST);
                if !items.is_empty() {
                    self.out.push(MARK);
                    items.iter().try_for_each(|&i| self.node(i))?;
                    self.out.push(APPENDS);
                }
                self.out.extend_from_slice(&[TUPLE1, REDUCE]);
                self.put(id);
            }
            SaveNode::Tensor(t) => {
                self.tensor(t)?;
                self.put(id);
            }
            SaveNode::Global { module, name } => {
                self.global(module, name);
                self.put(id);
            }
            SaveNode::SetState { target, module, name, state } => {
                self.node(*target)?;
                self.global(module, name);
                self.node(*target)?;
                self.node(*state)?;
                self.out.extend_from_slice(&[TUPLE2, REDUCE, POP]);
            }
            SaveNode::Object { module, name, newobj, args, items, state } => {
                self.global(module, name);
                self.out.push(MARK);
                args.iter().try_for_each(|&a| self.node(a))?;
                self.out.push(TUPLE);
                self.out.push(if *newobj { NEWOBJ } else { REDUCE });
                self.put(id);
                self.set_items(items)?;
                if let Some(s) = state {
                    self.node(*s)?;
                    self.out.push(BUILD);
                }
            }
        }
        Ok(())
    }

    /// A tuple; if writing its items reached it again (a cycle through a container),
    /// its copy is in the memo now: drop the items and reference that (CPython's rule).
    fn tuple(&mut self, id: SaveId, items: &'a [SaveId]) -> Result<(), WireError> {
        if items.is_empty() {
            self.out.push(EMPTY_TUPLE);
            self.put(id);
            return Ok(());
        }
        self.out.push(MARK);
        items.iter().try_for_each(|&i| self.node(i))?;
        if let Some(&m) = self.memo.get(&id) {
            self.out.push(POP_MARK);
            self.get(m);
            return Ok(());
        }
        self.out.push(TUPLE);
        self.put(id);
        Ok(())
    }

    fn set_items(&mut self, items: &'a [(SaveId, SaveId)]) -> Result<(), WireError> {
        if !items.is_empty() {
            self.out.push(MARK);
            for &(key, value) in items {
                self.node(key)?;
                self.node(value)?;
            }
            self.out.push(SETITEMS);
        }
        Ok(())
    }

    /// Memoizes the object just written, if it is referenced again.
    fn put(&mut self, id: SaveId) {
        if !self.shared[id] || self.memo.contains_key(&id) {
            return;
        }
        let m = self.memo.len() as u32;
        self.memo.insert(id, m);
        if let Ok(small) = u8::try_from(m) {
            self.out.extend_from_slice(&[BINPUT, small]);
        } else {
            self.out.push(LONG_BINPUT);
            self.out.extend_from_slice(&m.to_le_bytes());
        }
    }

    fn get(&mut self, m: u32) {
        if let Ok(small) = u8::try_from(m) {
            self.out.extend_from_slice(&[BINGET, small]);
        } else {
            self.out.push(LONG_BINGET);
            self.out.extend_from_slice(&m.to_le_bytes());
        }
    }

    /// `K` u8 and `M` u16 for non-negative values, `J` i32, else minimal LONG1.
    fn int(&mut self, v: i64) {
        if let Ok(small) = u8::try_from(v) {
            self.out.extend_from_slice(&[BININT1, small]);
        } else if let Ok(medium) = u16::try_from(v) {
            self.out.push(BININT2);
            self.out.extend_from_slice(&medium.to_le_bytes());
        } else if let Ok(word) = i32::try_from(v) {
            self.out.push(BININT);
            self.out.extend_from_slice(&word.to_le_bytes());
        } else {
            let bytes = encode_i64(v);
            self.out.extend_from_slice(&[LONG1, bytes.len() as u8]); // at most 8
            self.out.extend_from_slice(&bytes);
        }
    }

    /// LONG1, or LONG4 past 255 bytes (the latter loads with `weights_only=False` only).
    fn long(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        if let Ok(len) = u8::try_from(bytes.len()) {
            self.out.extend_from_slice(&[LONG1, len]);
        } else {
            self.out.push(LONG4);
            self.out
                .extend_from_slice(&len_u32(bytes.len(), "int")?.to_le_bytes());
        }
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result<(), WireError> {
        self.out.push(BINUNICODE);
        self.out
            .extend_from_slice(&len_u32(s.len(), "str")?.to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// Protocol 2 has no BINBYTES: `_codecs.encode(<latin-1 text>, 'latin1')`.
    fn bytes(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        if self.binbytes {
            self.out.push(BINBYTES);
            self.out.extend_from_slice(&len_u32(bytes.len(), "bytes")?.to_le_bytes());
            self.out.extend_from_slice(bytes);
            return Ok(());
        }
        self.global("_codecs", "encode");
        let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
        self.str(&latin1)?;
        self.str("latin1")?;
        self.out.extend_from_slice(&[TUPLE2, REDUCE]);
        Ok(())
    }

    fn int_tuple(&mut self, values: &[usize]) -> Result<(), WireError> {
        self.tuple_of(values.len(), |pickler| {
            values.iter().try_for_each(|&v| {
                pickler.int(
                    i64::try_from(v)
                        .map_err(|_| WireError::Tensor(format!("dimension {v} too large")))?,
                );
                Ok(())
            })
        })
    }

    /// `)`, TUPLE1–3 for up to three items, else MARK … TUPLE.
    fn tuple_of(
        &mut self,
        len: usize,
        items: impl FnOnce(&mut Self) -> Result<(), WireError>,
    ) -> Result<(), WireError> {
        let short = [EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3];
        if let Some(&op) = short.get(len) {
            items(self)?;
            self.out.push(op);
        } else {
            self.out.push(MARK);
            items(self)?;
            self.out.push(TUPLE);
        }
        Ok(())
    }

    /// A class or function by reference. A nested class (`Cache.CacheDict`) is reached
    /// as protocol 2 writes it, `getattr(module.Outer, "Inner")`: GLOBAL cannot name a
    /// dotted path below protocol 4.
    fn global(&mut self, module: &str, name: &str) {
        let mut parts = name.split('.');
        let first = parts.next().unwrap_or(name);
        let rest: Vec<&str> = parts.collect();
        for _ in &rest {
            self.plain_global("builtins", "getattr");
        }
        self.plain_global(module, first);
        for attr in rest {
            self.out.push(BINUNICODE);
            self.out.extend_from_slice(&(attr.len() as u32).to_le_bytes());
            self.out.extend_from_slice(attr.as_bytes());
            self.out.extend_from_slice(&[TUPLE2, REDUCE]);
        }
    }

    fn plain_global(&mut self, module: &str, name: &str) {
        self.out.push(GLOBAL);
        for part in [module, name] {
            self.out.extend_from_slice(part.as_bytes());
            self.out.push(b'\n');
        }
    }

    fn empty_ordered_dict(&mut self) {
        self.global("collections", "OrderedDict");
        self.out.extend_from_slice(&[EMPTY_TUPLE, REDUCE]);
    }

    /// `_rebuild_tensor_v2((storage pid), 0, shape, stride, requires_grad, OrderedDict())`.
    fn tensor(&mut self, tensor: &'a TensorData) -> Result<(), WireError> {
        tensor.validate()?;
        if self.plain {
            // What a pickled storage reduces to: `torch.load` of its own archive.
            let archive = super::torch_save(&super::Saved::Tensor(tensor.clone()))?;
            self.global("torch.storage", "_load_from_bytes");
            self.bytes(&archive)?;
            self.out.extend_from_slice(&[TUPLE1, REDUCE]);
            return Ok(());
        }
        let key = self.storages.len().to_string();
        self.storages.push(tensor.data());

        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(MARK);
        self.out.push(MARK);
        self.str("storage")?;
        self.global("torch", tensor.dtype().storage_class());
        self.str(&key)?;
        self.str("cpu")?;
        self.int(
            i64::try_from(tensor.numel())
                .map_err(|_| WireError::Tensor("too many elements".into()))?,
        );
        self.out.extend_from_slice(&[TUPLE, BINPERSID]);
        self.int(0); // storage_offset
        self.int_tuple(tensor.shape())?;
        self.int_tuple(&tensor.strides())?;
        self.out.push(if tensor.requires_grad() {
            NEWTRUE
        } else {
            NEWFALSE
        });
        self.empty_ordered_dict();
        self.out.extend_from_slice(&[TUPLE, REDUCE]);
        Ok(())
    }
}

fn len_u32(len: usize, what: &str) -> Result<u32, WireError> {
    u32::try_from(len)
        .map_err(|_| WireError::Archive(format!("{what} longer than 4 GiB cannot be pickled")))
}
