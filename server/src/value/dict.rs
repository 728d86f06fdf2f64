//! `dict`: insertion-ordered, keyed by Python equality of hashable values. Keys hash and
//! compare without calling user code (user instances by identity), so a lookup never
//! re-enters the interpreter while the table is borrowed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::ctx;
use super::error::PyResult;
use super::heap::{self, Clear};
use super::{Value, repr};

#[derive(Default, Clone)]
pub struct Table {
    /// `None` marks a deleted slot (compacted when they pile up).
    entries: Vec<Option<(u64, Value, Value)>>,
    index: HashMap<u64, Vec<u32>>,
    len: usize,
}

impl Table {
    fn find(&self, h: u64, key: &Value) -> Option<usize> {
        let slots = self.index.get(&h)?;
        slots.iter().map(|&i| i as usize).find(|&i| {
            self.entries[i]
                .as_ref()
                .is_some_and(|(_, k, _)| key_eq(k, key))
        })
    }

    pub fn get(&self, key: &Value) -> PyResult<Option<Value>> {
        let h = key_hash(key)?;
        Ok(self
            .find(h, key)
            .and_then(|i| self.entries[i].as_ref().map(|(_, _, v)| v.clone())))
    }

    pub fn contains(&self, key: &Value) -> PyResult<bool> {
        let h = key_hash(key)?;
        Ok(self.find(h, key).is_some())
    }

    pub fn insert(&mut self, key: Value, value: Value) -> PyResult<()> {
        let h = key_hash(&key)?;
        if let Some(i) = self.find(h, &key) {
            if let Some(e) = &mut self.entries[i] {
                e.2 = value;
            }
            return Ok(());
        }
        ctx::check_len(self.len + 1, "dict")?;
        let i = self.entries.len() as u32;
        self.entries.push(Some((h, key, value)));
        self.index.entry(h).or_default().push(i);
        self.len += 1;
        Ok(())
    }

    pub fn remove(&mut self, key: &Value) -> PyResult<Option<Value>> {
        let h = key_hash(key)?;
        let Some(i) = self.find(h, key) else {
            return Ok(None);
        };
        let old = self.entries[i].take().map(|(_, _, v)| v);
        if let Some(slots) = self.index.get_mut(&h) {
            slots.retain(|&s| s as usize != i);
            if slots.is_empty() {
                self.index.remove(&h);
            }
        }
        self.len -= 1;
        if self.entries.len() > 32 && self.len * 2 < self.entries.len() {
            self.compact();
        }
        Ok(old)
    }

    fn compact(&mut self) {
        let entries: Vec<_> = std::mem::take(&mut self.entries).into_iter().flatten().collect();
        self.index.clear();
        for (i, (h, _, _)) in entries.iter().enumerate() {
            self.index.entry(*h).or_default().push(i as u32);
        }
        self.entries = entries.into_iter().map(Some).collect();
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn items(&self) -> Vec<(Value, Value)> {
        self.entries
            .iter()
            .flatten()
            .map(|(_, k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn keys(&self) -> Vec<Value> {
        self.entries.iter().flatten().map(|(_, k, _)| k.clone()).collect()
    }

    pub fn values(&self) -> Vec<Value> {
        self.entries.iter().flatten().map(|(_, _, v)| v.clone()).collect()
    }

    /// Removes and returns the last item (`popitem`).
    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        let i = self.entries.iter().rposition(Option::is_some)?;
        let (_, k, _) = self.entries[i].clone()?;
        let v = self.remove(&k).ok().flatten()?;
        Some((k, v))
    }

    pub fn clear(&mut self) {
        *self = Table::default();
    }
}

pub struct Dict {
    table: RefCell<Table>,
}

impl Dict {
    pub fn new() -> Rc<Dict> {
        Dict::with_table(Table::default())
    }

    pub fn with_table(table: Table) -> Rc<Dict> {
        let d = Rc::new(Dict {
            table: RefCell::new(table),
        });
        heap::track(&d);
        d
    }

    pub fn from_pairs(items: Vec<(Value, Value)>) -> PyResult<Rc<Dict>> {
        let mut t = Table::default();
        for (k, v) in items {
            t.insert(k, v)?;
        }
        Ok(Dict::with_table(t))
    }

    pub fn get(&self, key: &Value) -> PyResult<Option<Value>> {
        self.table.borrow().get(key)
    }

    pub fn get_str(&self, key: &str) -> Option<Value> {
        self.table.borrow().get(&Value::str(key)).ok().flatten()
    }

    pub fn contains(&self, key: &Value) -> PyResult<bool> {
        self.table.borrow().contains(key)
    }

    pub fn insert(&self, key: Value, value: Value) -> PyResult<()> {
        // The old value is dropped after the borrow ends (its drop cannot re-enter, but
        // keep the rule simple: no work under a borrow).
        let mut t = self.table.borrow_mut();
        t.insert(key, value)
    }

    pub fn remove(&self, key: &Value) -> PyResult<Option<Value>> {
        let old = self.table.borrow_mut().remove(key)?;
        Ok(old)
    }

    pub fn len(&self) -> usize {
        self.table.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn items(&self) -> Vec<(Value, Value)> {
        self.table.borrow().items()
    }

    pub fn keys(&self) -> Vec<Value> {
        self.table.borrow().keys()
    }

    pub fn values(&self) -> Vec<Value> {
        self.table.borrow().values()
    }

    pub fn pop_last(&self) -> Option<(Value, Value)> {
        self.table.borrow_mut().pop_last()
    }

    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.table.borrow_mut());
        drop(old);
    }

    pub fn table_clone(&self) -> Table {
        self.table.borrow().clone()
    }
}

impl Clear for Dict {
    fn clear_refs(&self) {
        self.clear();
    }
}

/// Python's hash for hashable builtin values; numbers that compare equal hash equal.
pub fn key_hash(v: &Value) -> PyResult<u64> {
    use super::error::PyErr;
    const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
    Ok(match v {
        Value::None => 0x5eed,
        Value::Ellipsis => 0x5eee,
        Value::NotImplemented => 0x5eef,
        Value::Bool(b) => u64::from(*b),
        Value::Int(i) => (*i as u64).wrapping_mul(MIX),
        Value::BigInt(b) => {
            let mut h = 0u64;
            for byte in b.to_signed_bytes_le() {
                h = (h ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
            }
            h
        }
        Value::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 {
                if f.abs() < 9.2e18 {
                    (*f as i64 as u64).wrapping_mul(MIX)
                } else {
                    use num_traits::FromPrimitive;
                    let b = num_bigint::BigInt::from_f64(*f).unwrap_or_default();
                    return key_hash(&Value::BigInt(std::rc::Rc::new(b)));
                }
            } else {
                f.to_bits().wrapping_mul(MIX) ^ 0xf1
            }
        }
        Value::Str(s) => s.hash64(),
        Value::Bytes(b) => {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for byte in b.iter() {
                h = (h ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3);
            }
            h
        }
        Value::Tuple(items) => {
            let mut h = 0x345678u64;
            for it in items.iter() {
                h = (h ^ key_hash(it)?).wrapping_mul(1_000_003);
            }
            h
        }
        Value::Size(items) => {
            let mut h = 0x345678u64;
            for it in items.iter() {
                h = (h ^ key_hash(&Value::Int(*it))?).wrapping_mul(1_000_003);
            }
            h
        }
        Value::Set(s) if s.frozen => {
            let mut h = 0x1f0e_u64;
            for it in s.items() {
                h ^= key_hash(&it)?.wrapping_mul(MIX);
            }
            h
        }
        Value::Range(r) => r[0] as u64 ^ (r[1] as u64).rotate_left(21) ^ (r[2] as u64).rotate_left(42),
        Value::Dtype(_) | Value::Device(_) => v.id() as u64,
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Slice(_) => {
            return Err(PyErr::type_error(format!(
                "unhashable type: '{}'",
                v.type_name()
            )));
        }
        _ => v.id() as u64,
    })
}

/// Key equality for dict and set lookups: identity, then builtin value equality.
pub fn key_eq(a: &Value, b: &Value) -> bool {
    if a.is(b) {
        return true;
    }
    repr::builtin_eq(a, b, 0).unwrap_or(false)
}
