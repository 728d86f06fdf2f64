//! `str`: UTF-8 text indexed by code point, as Python indexes it. ASCII strings (nearly all
//! intervention code's) index by byte.

use std::hash::{Hash, Hasher};

pub struct PyStr {
    s: Box<str>,
    chars: usize,
}

impl PyStr {
    pub fn new(s: &str) -> PyStr {
        PyStr {
            chars: s.chars().count(),
            s: s.into(),
        }
    }

    pub fn from_string(s: String) -> PyStr {
        PyStr {
            chars: s.chars().count(),
            s: s.into_boxed_str(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.s
    }

    /// Length in code points (`len(s)`).
    pub fn len(&self) -> usize {
        self.chars
    }

    pub fn is_empty(&self) -> bool {
        self.chars == 0
    }

    pub fn is_ascii(&self) -> bool {
        self.chars == self.s.len()
    }

    /// The code point at index `i` (0-based, in range).
    pub fn char_at(&self, i: usize) -> char {
        if self.is_ascii() {
            self.s.as_bytes()[i] as char
        } else {
            self.s.chars().nth(i).unwrap_or('\0')
        }
    }

    /// Code points `[start, stop)` stepping by `step` (already clamped, Python slice rules).
    pub fn slice_chars(&self, indices: impl Iterator<Item = usize>) -> String {
        if self.is_ascii() {
            let b = self.s.as_bytes();
            indices.map(|i| b[i] as char).collect()
        } else {
            let chars: Vec<char> = self.s.chars().collect();
            indices.map(|i| chars[i]).collect()
        }
    }

    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        self.s.chars()
    }

    /// A hash consistent with equality (any hash works: dict order is insertion order).
    pub fn hash64(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.s.hash(&mut h);
        h.finish()
    }

    /// Byte offset of code point `i` (i ≤ len).
    pub fn byte_offset(&self, i: usize) -> usize {
        if self.is_ascii() {
            i
        } else {
            self.s.char_indices().nth(i).map_or(self.s.len(), |(b, _)| b)
        }
    }

    /// Code point index of byte offset `b`.
    pub fn char_index(&self, b: usize) -> usize {
        if self.is_ascii() {
            b
        } else {
            self.s[..b].chars().count()
        }
    }
}
