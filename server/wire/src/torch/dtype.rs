//! Tensor element types and their torch names: storage classes (docs/protocol.md table
//! "dtype → storage class"), element sizes and `torch.<dtype>` names.

/// The dtypes a storage class can carry (docs/protocol.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    pub const ALL: [DType; 10] = [
        DType::F64,
        DType::F32,
        DType::F16,
        DType::BF16,
        DType::I64,
        DType::I32,
        DType::I16,
        DType::I8,
        DType::U8,
        DType::Bool,
    ];

    /// The legacy typed storage class in `torch` (`GLOBAL torch FloatStorage`).
    pub fn storage_class(self) -> &'static str {
        match self {
            DType::F64 => "DoubleStorage",
            DType::F32 => "FloatStorage",
            DType::F16 => "HalfStorage",
            DType::BF16 => "BFloat16Storage",
            DType::I64 => "LongStorage",
            DType::I32 => "IntStorage",
            DType::I16 => "ShortStorage",
            DType::I8 => "CharStorage",
            DType::U8 => "ByteStorage",
            DType::Bool => "BoolStorage",
        }
    }

    pub fn from_storage_class(name: &str) -> Option<DType> {
        Self::ALL.into_iter().find(|d| d.storage_class() == name)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }

    /// The Python spelling, e.g. `torch.float32`.
    pub fn python_name(self) -> &'static str {
        match self {
            DType::F64 => "torch.float64",
            DType::F32 => "torch.float32",
            DType::F16 => "torch.float16",
            DType::BF16 => "torch.bfloat16",
            DType::I64 => "torch.int64",
            DType::I32 => "torch.int32",
            DType::I16 => "torch.int16",
            DType::I8 => "torch.int8",
            DType::U8 => "torch.uint8",
            DType::Bool => "torch.bool",
        }
    }

    pub fn from_python_name(name: &str) -> Option<DType> {
        Self::ALL.into_iter().find(|d| d.python_name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for dtype in DType::ALL {
            assert_eq!(
                DType::from_storage_class(dtype.storage_class()),
                Some(dtype)
            );
            assert_eq!(DType::from_python_name(dtype.python_name()), Some(dtype));
        }
        assert_eq!(
            DType::from_storage_class("BFloat16Storage").map(DType::size),
            Some(2)
        );
        assert_eq!(DType::from_storage_class("UntypedStorage"), None);
    }
}
