//! The one dtype table: tch's `Kind`, torch's Python names (`torch.float32` and its
//! aliases), the wire's storage dtype, and the category rules type promotion needs.

use localndif_wire::torch::DType;
use tch::{Device, Kind};

/// (kind, canonical name, aliases, wire dtype)
const TABLE: &[(Kind, &str, &[&str], Option<DType>)] = &[
    (Kind::Float, "float32", &["float"], Some(DType::F32)),
    (Kind::Double, "float64", &["double"], Some(DType::F64)),
    (Kind::Half, "float16", &["half"], Some(DType::F16)),
    (Kind::BFloat16, "bfloat16", &[], Some(DType::BF16)),
    (Kind::Int64, "int64", &["long"], Some(DType::I64)),
    (Kind::Int, "int32", &["int"], Some(DType::I32)),
    (Kind::Int16, "int16", &["short"], Some(DType::I16)),
    (Kind::Int8, "int8", &[], Some(DType::I8)),
    (Kind::Uint8, "uint8", &[], Some(DType::U8)),
    (Kind::Bool, "bool", &[], Some(DType::Bool)),
    (Kind::ComplexFloat, "complex64", &["cfloat"], None),
    (Kind::ComplexDouble, "complex128", &["cdouble"], None),
];

pub fn name(k: Kind) -> &'static str {
    TABLE
        .iter()
        .find(|(t, ..)| *t == k)
        .map_or("unknown", |(_, n, ..)| n)
}

/// `torch.<name>` → kind, for canonical names and aliases.
pub fn by_name(n: &str) -> Option<Kind> {
    TABLE
        .iter()
        .find(|(_, c, aliases, _)| *c == n || aliases.contains(&n))
        .map(|(k, ..)| *k)
}

pub fn to_wire(k: Kind) -> Option<DType> {
    TABLE.iter().find(|(t, ..)| *t == k).and_then(|(_, _, _, d)| *d)
}

pub fn from_wire(d: DType) -> Kind {
    TABLE
        .iter()
        .find(|(_, _, _, w)| *w == Some(d))
        .map_or(Kind::Float, |(k, ..)| *k)
}

pub fn is_float(k: Kind) -> bool {
    matches!(k, Kind::Float | Kind::Double | Kind::Half | Kind::BFloat16)
}

pub fn is_complex(k: Kind) -> bool {
    matches!(k, Kind::ComplexFloat | Kind::ComplexDouble | Kind::ComplexHalf)
}

pub fn is_integral(k: Kind, include_bool: bool) -> bool {
    matches!(k, Kind::Int64 | Kind::Int | Kind::Int16 | Kind::Int8 | Kind::Uint8)
        || (include_bool && k == Kind::Bool)
}

pub fn elt_size(k: Kind) -> usize {
    k.elt_size_in_bytes()
}

/// torch's default float dtype (`torch.get_default_dtype()`).
pub const DEFAULT_FLOAT: Kind = Kind::Float;

pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        other => format!("{other:?}").to_lowercase(),
    }
}

/// `repr(torch.device(...))`: `device(type='cuda', index=0)`.
pub fn device_repr(d: Device) -> String {
    match d {
        Device::Cuda(i) => format!("device(type='cuda', index={i})"),
        other => format!("device(type='{}')", device_name(other)),
    }
}

pub fn device_code(d: Device) -> u64 {
    match d {
        Device::Cpu => 0,
        Device::Cuda(i) => 1 + i as u64,
        _ => 99,
    }
}

/// `torch.device("cuda:0")`, `"cpu"`, `"cuda"` (→ the current device, index 0).
pub fn parse_device(s: &str) -> Option<Device> {
    match s {
        "cpu" => Some(Device::Cpu),
        "cuda" => Some(Device::Cuda(0)),
        "mps" => Some(Device::Mps),
        _ => s
            .strip_prefix("cuda:")
            .and_then(|i| i.parse().ok())
            .map(Device::Cuda),
    }
}
