//! Bounds-checked cursor over the pickle bytes: every length is compared with the
//! remaining input before anything is sliced or allocated (docs/protocol.md).

use super::error::ErrorKind;

pub(super) struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0 }
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// The next `len` bytes; fails without allocating when fewer remain.
    pub(super) fn take(&mut self, len: usize) -> Result<&'a [u8], ErrorKind> {
        if len > self.remaining() {
            return Err(ErrorKind::Truncated {
                needed: len,
                available: self.remaining(),
            });
        }
        let bytes = &self.input[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    /// A length read from the stream (u64 in the 8-byte opcodes) as a checked `usize`.
    pub(super) fn take_u64_len(&mut self, len: u64) -> Result<&'a [u8], ErrorKind> {
        let len = usize::try_from(len).map_err(|_| ErrorKind::LengthOverflow(len))?;
        self.take(len)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ErrorKind> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, ErrorKind> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, ErrorKind> {
        self.array().map(u16::from_le_bytes)
    }

    pub(super) fn u32(&mut self) -> Result<u32, ErrorKind> {
        self.array().map(u32::from_le_bytes)
    }

    pub(super) fn i32(&mut self) -> Result<i32, ErrorKind> {
        self.array().map(i32::from_le_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, ErrorKind> {
        self.array().map(u64::from_le_bytes)
    }

    pub(super) fn f64_be(&mut self) -> Result<f64, ErrorKind> {
        self.array().map(f64::from_be_bytes)
    }

    /// The bytes up to the next `\n` (which is consumed, not returned).
    pub(super) fn line(&mut self) -> Result<&'a [u8], ErrorKind> {
        let rest = &self.input[self.pos..];
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(ErrorKind::MissingNewline)?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }
}
