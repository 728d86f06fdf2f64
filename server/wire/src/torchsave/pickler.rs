//! The protocol-2 `data.pkl` of a torch.save archive, opcode by opcode per the table in
//! toolchain.md §1 "Own torch.save writer (proven)". Only opcodes that torch's
//! `weights_only` unpickler accepts are written; no memo is needed.

use super::Saved;
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

/// Writes `value` as a protocol-2 pickle; tensor storages are collected in write order
/// (storage key = decimal index).
pub(super) struct Pickler<'a> {
    out: Vec<u8>,
    storages: Vec<&'a [u8]>,
}

impl<'a> Pickler<'a> {
    /// The pickle bytes and the storages its tensors reference.
    pub(super) fn dump(value: &'a Saved) -> Result<(Vec<u8>, Vec<&'a [u8]>), WireError> {
        let mut pickler = Pickler {
            out: vec![PROTO, 2],
            storages: Vec::new(),
        };
        pickler.value(value)?;
        pickler.out.push(STOP);
        Ok((pickler.out, pickler.storages))
    }

    fn value(&mut self, value: &'a Saved) -> Result<(), WireError> {
        match value {
            Saved::None => self.out.push(NONE),
            Saved::Bool(b) => self.out.push(if *b { NEWTRUE } else { NEWFALSE }),
            Saved::Int(v) => self.int(*v),
            Saved::BigInt(bytes) => self.long(bytes)?,
            Saved::Float(v) => {
                self.out.push(BINFLOAT);
                self.out.extend_from_slice(&v.to_be_bytes());
            }
            Saved::Str(s) => self.str(s)?,
            Saved::Bytes(b) => self.bytes(b)?,
            Saved::List(items) => self.list(items)?,
            Saved::Tuple(items) => self.tuple(items)?,
            Saved::Dict(items) => {
                self.out.push(EMPTY_DICT);
                self.set_items(items)?;
            }
            Saved::OrderedDict(items) => {
                self.empty_ordered_dict();
                self.set_items(items)?;
            }
            Saved::Tensor(tensor) => self.tensor(tensor)?,
            Saved::Object {
                module,
                name,
                args,
                state,
            } => {
                self.global(module, name);
                self.tuple(args)?;
                self.out.push(REDUCE);
                if let Some(state) = state {
                    self.value(state)?;
                    self.out.push(BUILD);
                }
            }
        }
        Ok(())
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
        self.global("_codecs", "encode");
        let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
        self.str(&latin1)?;
        self.str("latin1")?;
        self.out.extend_from_slice(&[TUPLE2, REDUCE]);
        Ok(())
    }

    fn list(&mut self, items: &'a [Saved]) -> Result<(), WireError> {
        self.out.push(EMPTY_LIST);
        if !items.is_empty() {
            self.out.push(MARK);
            self.values(items)?;
            self.out.push(APPENDS);
        }
        Ok(())
    }

    fn tuple(&mut self, items: &'a [Saved]) -> Result<(), WireError> {
        self.tuple_of(items.len(), |pickler| pickler.values(items))
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

    fn set_items(&mut self, items: &'a [(Saved, Saved)]) -> Result<(), WireError> {
        if !items.is_empty() {
            self.out.push(MARK);
            for (key, value) in items {
                self.value(key)?;
                self.value(value)?;
            }
            self.out.push(SETITEMS);
        }
        Ok(())
    }

    fn values(&mut self, items: &'a [Saved]) -> Result<(), WireError> {
        items.iter().try_for_each(|item| self.value(item))
    }

    fn global(&mut self, module: &str, name: &str) {
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
        let key = self.storages.len().to_string();
        self.storages.push(&tensor.data);

        self.global("torch._utils", "_rebuild_tensor_v2");
        self.out.push(MARK);
        self.out.push(MARK);
        self.str("storage")?;
        self.global("torch", tensor.dtype.storage_class());
        self.str(&key)?;
        self.str("cpu")?;
        self.int(
            i64::try_from(tensor.numel())
                .map_err(|_| WireError::Tensor("too many elements".into()))?,
        );
        self.out.extend_from_slice(&[TUPLE, BINPERSID]);
        self.int(0); // storage_offset
        self.int_tuple(&tensor.shape)?;
        self.int_tuple(&tensor.strides())?;
        self.out.push(if tensor.requires_grad {
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
