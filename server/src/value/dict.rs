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

impl Drop for Table {
    fn drop(&mut self) {
        let entries = std::mem::take(&mut self.entries);
        super::drop::release(entries.into_iter().flatten().flat_map(|(_, k, v)| [k, v]));
    }
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
    py_hash(v).map(|h| h as u64)
}

/// CPython's modulus for numeric hashes (`sys.hash_info.modulus`).
const HASH_MODULUS: u64 = (1 << 61) - 1;

/// `hash(v)` as CPython computes it for numbers and tuples (so `hash(1) == hash(1.0) ==
/// hash(True)` and equal tuples of them hash alike); strings and bytes use their own
/// stable hash (CPython randomizes those per process anyway).
pub fn py_hash(v: &Value) -> PyResult<i64> {
    use super::error::PyErr;
    super::stack::guard()?;
    let fix = |h: i64| if h == -1 { -2 } else { h };
    Ok(match v {
        Value::None => 0xFCA86420,
        Value::Ellipsis => 0x5eee,
        Value::NotImplemented => 0x5eef,
        Value::Bool(b) => i64::from(*b),
        Value::Int(i) => {
            let m = (i.unsigned_abs() % HASH_MODULUS) as i64;
            fix(if *i < 0 { -m } else { m })
        }
        Value::BigInt(b) => {
            use num_traits::{Signed, ToPrimitive};
            let m = (b.abs() % num_bigint::BigInt::from(HASH_MODULUS)).to_i64().unwrap_or(0);
            fix(if b.is_negative() { -m } else { m })
        }
        Value::Float(f) => float_hash(*f, v),
        Value::Str(s) => (s.hash64() >> 1) as i64,
        Value::Bytes(b) => {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for byte in b.iter() {
                h = (h ^ u64::from(*byte)).wrapping_mul(0x100_0000_01b3);
            }
            (h >> 1) as i64
        }
        Value::Tuple(items) => {
            let hashes = items.iter().map(py_hash).collect::<PyResult<Vec<_>>>()?;
            tuple_hash(&hashes)
        }
        Value::Size(items) => {
            let hashes = items.iter().map(|&d| py_hash(&Value::Int(d))).collect::<PyResult<Vec<_>>>()?;
            tuple_hash(&hashes)
        }
        Value::Set(s) if s.frozen => {
            let mut h = 0x1f0e_u64;
            for it in s.items() {
                h ^= (py_hash(&it)? as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            }
            fix((h >> 1) as i64)
        }
        Value::Range(r) => {
            let hashes = r.iter().map(|&x| py_hash(&Value::Int(x))).collect::<PyResult<Vec<_>>>()?;
            tuple_hash(&hashes)
        }
        Value::List(_) | Value::Dict(_) | Value::Set(_) | Value::Slice(_) => {
            return Err(PyErr::type_error(format!(
                "unhashable type: '{}'",
                v.type_name()
            )));
        }
        // numpy scalars hash as the Python number they equal; arrays are unhashable.
        Value::Tensor(t) if t.np == super::tensor::Np::Scalar => return py_hash(&super::numpy::scalar_item(&t.t)?),
        Value::Tensor(t) if t.np == super::tensor::Np::Array => {
            return Err(PyErr::type_error("unhashable type: 'numpy.ndarray'"));
        }
        _ => fix(v.id() >> 4),
    })
}

/// CPython's `_Py_HashDouble`.
fn float_hash(f: f64, v: &Value) -> i64 {
    if f.is_nan() {
        return v.id() >> 4;
    }
    if f.is_infinite() {
        return if f > 0.0 { 314159 } else { -314159 };
    }
    let (mut m, mut e) = libm::frexp(f);
    let sign: i64 = if m < 0.0 {
        m = -m;
        -1
    } else {
        1
    };
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & HASH_MODULUS) | (x >> (61 - 28));
        m *= 268435456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= HASH_MODULUS {
            x -= HASH_MODULUS;
        }
    }
    let e = if e >= 0 { e % 61 } else { 61 - 1 - ((-1 - e) % 61) } as u32;
    x = ((x << e) & HASH_MODULUS) | (x >> (61 - e));
    let h = x as i64 * sign;
    if h == -1 { -2 } else { h }
}

/// CPython's tuple hash (xxHash-based, 3.8+).
fn tuple_hash(hashes: &[i64]) -> i64 {
    const P1: u64 = 11400714785074694791;
    const P2: u64 = 14029467366897019727;
    const P5: u64 = 2870177450012600261;
    let mut acc = P5;
    for &h in hashes {
        acc = acc.wrapping_add((h as u64).wrapping_mul(P2));
        acc = acc.rotate_left(31);
        acc = acc.wrapping_mul(P1);
    }
    acc = acc.wrapping_add((hashes.len() as u64) ^ (P5 ^ 3527539));
    if acc == u64::MAX {
        return 1546275796;
    }
    acc as i64
}

/// Key equality for dict and set lookups: identity, then builtin value equality.
pub fn key_eq(a: &Value, b: &Value) -> bool {
    if a.is(b) {
        return true;
    }
    repr::builtin_eq(a, b, 0).unwrap_or(false)
}
