//! The writer's output loads in real torch (docs/protocol.md): `torch.load` with
//! `weights_only=False`, `weights_only=True` and `weights_only=True, mmap=True`, warnings
//! as errors, must give exactly the values Python builds itself (dtype, shape, stride,
//! sign of -0.0, requires_grad, container types and key order).
//!
//! Needs the project's Python (`$LOCALNDIF_PYTHON`, else `<workspace>/.venv/bin/python`,
//! which `make test` installs): a missing interpreter or torch is a failure, not a skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use localndif_wire::torch::{DType, TensorData};
use localndif_wire::torchsave::{Saved, torch_save};

const CHECK_SCRIPT: &str = r#"
import collections, json, math, sys, types, warnings
import torch

def expected_main():
    return {
        "f32": torch.tensor([[1.0, -0.0, 1e-8], [3.4028234663852886e38, -2.5, float("inf")]], dtype=torch.float32),
        "bf16": torch.tensor([1.5, -2.25], dtype=torch.bfloat16),
        "f16": torch.tensor([1.0, -0.5], dtype=torch.float16),
        "i64": torch.tensor([[-(2**63), 2**63 - 1], [0, -1], [7, 1000000]], dtype=torch.int64),
        "f64_0d": torch.tensor(3.25, dtype=torch.float64),
        "empty": torch.zeros(0, 4, dtype=torch.float32),
        "empty_cols": torch.zeros(4, 0, dtype=torch.float32),
        "bool": torch.tensor([True, False, True]),
        "grad": torch.tensor([0.5, -1.0], requires_grad=True),
        "small_ints": [torch.tensor([1, -2], dtype=torch.int32), torch.tensor([300, -300], dtype=torch.int16),
                       torch.tensor([-128, 127], dtype=torch.int8), torch.tensor([0, 255], dtype=torch.uint8)],
        "ints": [-1, 300, 70000, -70000, 2**40, -(2**63), 2**63 - 1, 0, 255, 256, 65535, 65536, -(2**31), 2**31],
        "bigint": 2**100,
        "neg_bigint": -(2**100),
        "floats": [0.0, -0.0, 1.5, 1e-300, 1.7976931348623157e308, float("inf"), float("-inf"), float("nan")],
        "str": "héllo wörld ✓ 😀",
        "empty_str": "",
        "bytes": bytes(range(256)),
        "empty_bytes": b"",
        "none": None,
        "flags": (True, False),
        "nested": {"list": [1, [2, (3, "x")], {}], "tuple5": (1, 2, 3, 4, 5), "empty_list": [],
                   "empty_tuple": (), 7: "int key", "tuple1": (None,), "tuple3": (1, 2.0, "3")},
        "ordered": collections.OrderedDict([("b", 1), ("a", {"nested": {}})]),
        "empty_ordered": collections.OrderedDict(),
    }

def expected_objects():
    return {"device": torch.device("cpu"), "ns": types.SimpleNamespace(a=1, b=[2])}

def diff(a, b, path, out):
    if type(a) is not type(b):
        out.append(f"{path}: type {type(a).__name__} != {type(b).__name__}")
    elif isinstance(a, torch.Tensor):
        for attr in ("dtype", "shape", "requires_grad", "device"):
            if getattr(a, attr) != getattr(b, attr):
                out.append(f"{path}: {attr} {getattr(a, attr)} != {getattr(b, attr)}")
        if a.stride() != b.stride():
            out.append(f"{path}: stride {a.stride()} != {b.stride()}")
        if a.shape == b.shape and a.dtype == b.dtype:
            a, b = a.detach(), b.detach()
            if not torch.equal(a, b):
                out.append(f"{path}: values {a.tolist()} != {b.tolist()}")
            elif a.is_floating_point() and not torch.equal(torch.signbit(a), torch.signbit(b)):
                out.append(f"{path}: sign bits differ")
    elif isinstance(a, float):
        same = (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
        if not same:
            out.append(f"{path}: {a!r} != {b!r}")
    elif isinstance(a, dict):
        if list(a) != list(b):
            out.append(f"{path}: keys {list(a)!r} != {list(b)!r}")
        else:
            for k in a:
                diff(a[k], b[k], f"{path}[{k!r}]", out)
    elif isinstance(a, (list, tuple)):
        if len(a) != len(b):
            out.append(f"{path}: len {len(a)} != {len(b)}")
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                diff(x, y, f"{path}[{i}]", out)
    elif isinstance(a, types.SimpleNamespace):
        diff(vars(a), vars(b), f"{path}.__dict__", out)
    elif a != b:
        out.append(f"{path}: {a!r} != {b!r}")

def check(path, expected, **kwargs):
    out = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded = torch.load(path, map_location="cpu", **kwargs)
        diff(loaded, expected, "root", out)
    except Exception as e:
        out.append(f"{type(e).__name__}: {e}")
    return out

main_path, objects_path = sys.argv[1:3]
print(json.dumps({
    "main weights_only=False": check(main_path, expected_main(), weights_only=False),
    "main weights_only=True": check(main_path, expected_main(), weights_only=True),
    "main weights_only=True mmap": check(main_path, expected_main(), weights_only=True, mmap=True),
    "objects weights_only=False": check(objects_path, expected_objects(), weights_only=False),
}))
"#;

fn python() -> PathBuf {
    let python = std::env::var_os("LOCALNDIF_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../../.venv/bin/python"));
    assert!(
        python.exists(),
        "no Python interpreter at {} (set LOCALNDIF_PYTHON or run `make venv` to create .venv with torch)",
        python.display()
    );
    python
}

fn s(text: &str) -> Saved {
    Saved::Str(text.to_owned())
}

fn entry(key: &str, value: Saved) -> (Saved, Saved) {
    (s(key), value)
}

fn tensor<T: Copy, const N: usize>(
    dtype: DType,
    shape: &[usize],
    values: &[T],
    to_le: fn(T) -> [u8; N],
) -> Saved {
    let data = values.iter().flat_map(|&v| to_le(v)).collect();
    Saved::Tensor(TensorData::new(dtype, shape.to_vec(), data).expect("consistent tensor"))
}

fn f32_tensor(shape: &[usize], values: &[f32]) -> Saved {
    tensor(DType::F32, shape, values, f32::to_le_bytes)
}

/// The two's complement bytes of ±2^100.
fn two_pow_100(negative: bool) -> Saved {
    let mut bytes = vec![0u8; 13];
    bytes[12] = 0x10;
    if negative {
        bytes[12] = 0xf0;
    }
    Saved::BigInt(bytes)
}

fn main_value() -> Saved {
    let mut grad = TensorData::new(
        DType::F32,
        vec![2],
        [0.5f32, -1.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect(),
    )
    .expect("consistent tensor");
    grad.set_requires_grad(true);
    let ints = [
        -1,
        300,
        70000,
        -70000,
        1 << 40,
        i64::MIN,
        i64::MAX,
        0,
        255,
        256,
        65535,
        65536,
        -(1 << 31),
        1 << 31,
    ];
    let floats = [
        0.0,
        -0.0,
        1.5,
        1e-300,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    Saved::Dict(vec![
        entry(
            "f32",
            f32_tensor(&[2, 3], &[1.0, -0.0, 1e-8, f32::MAX, -2.5, f32::INFINITY]),
        ),
        entry(
            "bf16",
            tensor(DType::BF16, &[2], &[0x3fc0u16, 0xc010], u16::to_le_bytes),
        ),
        entry(
            "f16",
            tensor(DType::F16, &[2], &[0x3c00u16, 0xb800], u16::to_le_bytes),
        ),
        entry(
            "i64",
            tensor(
                DType::I64,
                &[3, 2],
                &[i64::MIN, i64::MAX, 0, -1, 7, 1_000_000],
                i64::to_le_bytes,
            ),
        ),
        entry(
            "f64_0d",
            tensor(DType::F64, &[], &[3.25f64], f64::to_le_bytes),
        ),
        entry("empty", f32_tensor(&[0, 4], &[])),
        entry("empty_cols", f32_tensor(&[4, 0], &[])),
        entry("bool", tensor(DType::Bool, &[3], &[1u8, 0, 1], |v| [v])),
        entry("grad", Saved::Tensor(grad)),
        entry(
            "small_ints",
            Saved::List(vec![
                tensor(DType::I32, &[2], &[1i32, -2], i32::to_le_bytes),
                tensor(DType::I16, &[2], &[300i16, -300], i16::to_le_bytes),
                tensor(DType::I8, &[2], &[-128i8, 127], i8::to_le_bytes),
                tensor(DType::U8, &[2], &[0u8, 255], |v| [v]),
            ]),
        ),
        entry(
            "ints",
            Saved::List(ints.into_iter().map(Saved::Int).collect()),
        ),
        entry("bigint", two_pow_100(false)),
        entry("neg_bigint", two_pow_100(true)),
        entry(
            "floats",
            Saved::List(floats.into_iter().map(Saved::Float).collect()),
        ),
        entry("str", s("héllo wörld ✓ 😀")),
        entry("empty_str", s("")),
        entry("bytes", Saved::Bytes((0..=255).collect())),
        entry("empty_bytes", Saved::Bytes(vec![])),
        entry("none", Saved::None),
        entry(
            "flags",
            Saved::Tuple(vec![Saved::Bool(true), Saved::Bool(false)]),
        ),
        entry("nested", nested()),
        entry(
            "ordered",
            Saved::OrderedDict(vec![
                entry("b", Saved::Int(1)),
                entry("a", Saved::Dict(vec![entry("nested", Saved::Dict(vec![]))])),
            ]),
        ),
        entry("empty_ordered", Saved::OrderedDict(vec![])),
    ])
}

fn nested() -> Saved {
    let int = Saved::Int;
    Saved::Dict(vec![
        entry(
            "list",
            Saved::List(vec![
                int(1),
                Saved::List(vec![int(2), Saved::Tuple(vec![int(3), s("x")])]),
                Saved::Dict(vec![]),
            ]),
        ),
        entry("tuple5", Saved::Tuple((1..=5).map(int).collect())),
        entry("empty_list", Saved::List(vec![])),
        entry("empty_tuple", Saved::Tuple(vec![])),
        (int(7), s("int key")),
        entry("tuple1", Saved::Tuple(vec![Saved::None])),
        entry(
            "tuple3",
            Saved::Tuple(vec![int(1), Saved::Float(2.0), s("3")]),
        ),
    ])
}

/// Objects rebuilt by call (and BUILD), for `weights_only=False` loads.
fn objects_value() -> Saved {
    let object = |module: &str, name: &str, args, state| Saved::Object {
        module: module.to_owned(),
        name: name.to_owned(),
        args,
        state,
    };
    let ns_state = Saved::Dict(vec![
        entry("a", Saved::Int(1)),
        entry("b", Saved::List(vec![Saved::Int(2)])),
    ]);
    Saved::Dict(vec![
        entry("device", object("torch", "device", vec![s("cpu")], None)),
        entry(
            "ns",
            object("types", "SimpleNamespace", vec![], Some(Box::new(ns_state))),
        ),
    ])
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("localndif-wire-{}-{name}.pt", std::process::id()));
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

#[test]
fn torch_loads_the_writer_output_exactly() {
    let main = write_temp("main", &torch_save(&main_value()).expect("torch_save"));
    let objects = write_temp(
        "objects",
        &torch_save(&objects_value()).expect("torch_save"),
    );
    let output = Command::new(python())
        .arg("-c")
        .arg(CHECK_SCRIPT)
        .arg(&main)
        .arg(&objects)
        .output();
    let _ = std::fs::remove_file(&main);
    let _ = std::fs::remove_file(&objects);
    let output = output.expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "python failed (is torch installed in the venv?)\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verdict = stdout.trim();
    let modes = [
        "main weights_only=False",
        "main weights_only=True",
        "main weights_only=True mmap",
        "objects weights_only=False",
    ];
    for mode in modes {
        assert!(
            verdict.contains(&format!("\"{mode}\": []")),
            "{mode} has mismatches: {verdict}"
        );
    }
}
