//! Decoding errors of the pickle VM; each carries the byte offset of the opcode that
//! failed (docs/protocol.md).

/// A malformed or unsupported pickle, located at `offset` (start of the failing opcode).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pickle error at byte {offset}: {kind}")]
pub struct PickleError {
    pub offset: usize,
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("unexpected end of input (need {needed} bytes, {available} left)")]
    Truncated { needed: usize, available: usize },
    #[error("input ended before STOP")]
    NoStop,
    #[error("line argument without a terminating newline")]
    MissingNewline,
    #[error("length {0} does not fit in memory")]
    LengthOverflow(u64),
    #[error("negative length")]
    NegativeLength,
    #[error("unknown opcode 0x{0:02x}")]
    UnknownOpcode(u8),
    #[error("unsupported pickle protocol {0}")]
    UnsupportedProtocol(u8),
    #[error("stack underflow")]
    StackUnderflow,
    #[error("MARK expected but none is open")]
    NoMark,
    #[error("memo key {0} not found")]
    MemoMissing(u64),
    #[error("{op} cannot apply to {found}")]
    WrongTarget {
        op: &'static str,
        found: &'static str,
    },
    #[error("odd number of items for a dict")]
    OddDictItems,
    #[error("STACK_GLOBAL needs two str operands")]
    StackGlobalOperands,
    #[error("extension code {0} out of range")]
    BadExtCode(i64),
    #[error("invalid UTF-8 text")]
    InvalidUtf8,
    #[error("invalid {0} argument")]
    InvalidText(&'static str),
    #[error("more than {0} nodes")]
    TooManyNodes(usize),
}
