//! numpy's side of the value model: its dtypes (names, the codes its pickles carry, the
//! scalar type of each) and the text of arrays and scalars exactly as numpy 2.x prints
//! them with its default print options (`numpy/_core/arrayprint.py`: `FloatingFormat`
//! in `maxprec` mode with precision 8, `IntegerFormat`, `BoolFormat`, `_formatArray`'s
//! line wrapping at 75 columns, summaries of arrays over 1000 elements; the scalar reprs
//! of `scalartypes.c`). The arrays themselves are tensors flagged as numpy
//! ([`super::tensor::Np`]); their operations live in `crate::interp::numpy`.

use tch::{Kind, Tensor};

use super::types::{self, TypeObj};
use super::{PyErr, PyResult};

/// (kind, name, pickle code, byte order, kind char, scalar type)
const DTYPES: &[(Kind, &str, &str, &str, char, &TypeObj)] = &[
    (Kind::Bool, "bool", "b1", "|", 'b', &types::NP_BOOL),
    (Kind::Int8, "int8", "i1", "|", 'i', &types::NP_INT8),
    (Kind::Int16, "int16", "i2", "<", 'i', &types::NP_INT16),
    (Kind::Int, "int32", "i4", "<", 'i', &types::NP_INT32),
    (Kind::Int64, "int64", "i8", "<", 'i', &types::NP_INT64),
    (Kind::Uint8, "uint8", "u1", "|", 'u', &types::NP_UINT8),
    (Kind::Half, "float16", "f2", "<", 'f', &types::NP_FLOAT16),
    (Kind::Float, "float32", "f4", "<", 'f', &types::NP_FLOAT32),
    (Kind::Double, "float64", "f8", "<", 'f', &types::NP_FLOAT64),
];

fn row(k: Kind) -> Option<&'static (Kind, &'static str, &'static str, &'static str, char, &'static TypeObj)> {
    DTYPES.iter().find(|r| r.0 == k)
}

/// Whether numpy has this dtype (bfloat16 and complex tensors have no numpy twin here).
pub fn supported(k: Kind) -> bool {
    row(k).is_some()
}

/// `dtype.name` (`float64`).
pub fn name(k: Kind) -> &'static str {
    row(k).map_or("unknown", |r| r.1)
}

/// The code numpy's pickles carry (`f8`) and the byte order (`<`, or `|` for one byte).
pub fn pickle_code(k: Kind) -> Option<(&'static str, &'static str)> {
    row(k).map(|r| (r.2, r.3))
}

/// `dtype.kind` (`f`, `i`, `u`, `b`).
pub fn kind_char(k: Kind) -> char {
    row(k).map_or('V', |r| r.4)
}

/// The scalar type of a dtype (`numpy.float64`).
pub fn scalar_type(k: Kind) -> &'static TypeObj {
    row(k).map_or(&types::NP_GENERIC, |r| r.5)
}

/// The dtype of a numpy scalar type (`np.float32` → float32).
pub fn kind_of_type(t: &'static TypeObj) -> Option<Kind> {
    DTYPES.iter().find(|r| std::ptr::eq(r.5, t)).map(|r| r.0)
}

/// A dtype from its text (`np.dtype("float32")`, `dtype="i8"`, `astype("f")`).
pub fn by_name(s: &str) -> Option<Kind> {
    let s = s.trim_start_matches(['<', '=', '|']);
    Some(match s {
        "bool" | "?" | "b1" | "bool_" => Kind::Bool,
        "int8" | "i1" | "b" | "byte" => Kind::Int8,
        "int16" | "i2" | "h" | "short" => Kind::Int16,
        "int32" | "i4" | "i" | "intc" => Kind::Int,
        "int64" | "i8" | "l" | "q" | "int" | "int_" | "intp" | "long" | "longlong" => Kind::Int64,
        "uint8" | "u1" | "B" | "ubyte" => Kind::Uint8,
        "float16" | "f2" | "e" | "half" => Kind::Half,
        "float32" | "f4" | "f" | "single" => Kind::Float,
        "float64" | "f8" | "d" | "double" | "float" => Kind::Double,
        _ => return None,
    })
}

fn is_float(k: Kind) -> bool {
    matches!(k, Kind::Half | Kind::Float | Kind::Double)
}

/// The elements of a tensor, flattened in C order, as the printing code reads them.
enum Elems {
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Float(Vec<f64>),
}

fn elems(t: &Tensor) -> PyResult<Elems> {
    let flat = t.f_detach()?.f_to_device(tch::Device::Cpu)?.f_contiguous()?.f_reshape([-1])?;
    let k = t.kind();
    Ok(if k == Kind::Bool {
        Elems::Bool(Vec::<i64>::try_from(&flat.f_to_kind(Kind::Int64)?)?.into_iter().map(|x| x != 0).collect())
    } else if is_float(k) {
        Elems::Float(Vec::<f64>::try_from(&flat.f_to_kind(Kind::Double)?)?)
    } else {
        Elems::Int(Vec::<i64>::try_from(&flat.f_to_kind(Kind::Int64)?)?)
    })
}

/// Rounds a double to the nearest float16 (ties to even), as a double.
fn round_f16(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let a = v.abs();
    if a >= 65520.0 {
        return f64::INFINITY.copysign(v);
    }
    let e = (((a.to_bits() >> 52) & 0x7ff) as i32 - 1023).max(-14);
    let ulp = 2f64.powi(e - 10);
    ((a / ulp).round_ties_even() * ulp).copysign(v)
}

/// A value as its own dtype holds it (the float32 and float16 roundings).
fn in_kind(v: f64, k: Kind) -> f64 {
    match k {
        Kind::Float => f64::from(v as f32),
        Kind::Half => round_f16(v),
        _ => v,
    }
}

/// The shortest digits that identify `|x|` among the values of its dtype, and the decimal
/// exponent of the first (`x = d1.d2d3… × 10^exp`). `x` is finite and non-zero.
fn shortest(x: f64, k: Kind) -> (String, i32) {
    let a = x.abs();
    let s = match k {
        Kind::Float => format!("{:e}", a as f32),
        Kind::Half => (0..=5)
            .map(|p| format!("{a:.p$e}"))
            .find(|s| s.parse::<f64>().is_ok_and(|b| round_f16(b) == a))
            .unwrap_or_else(|| format!("{a:e}")),
        _ => format!("{a:e}"),
    };
    split_sci(&s)
}

/// `d.ddde±x` → (digits without trailing zeros, exponent).
fn split_sci(s: &str) -> (String, i32) {
    let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
    let mut digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, exp.parse().unwrap_or(0))
}

/// How trailing zeros are trimmed (numpy's `trim`): `k` keeps them, `.` drops them and
/// keeps the point, `0` leaves one zero after the point, `-` drops the point too.
#[derive(Clone, Copy, PartialEq)]
enum Trim {
    Keep,
    Dot,
    Zero,
    Dash,
}

fn finish(int: &str, frac: &str, min_digits: usize, trim: Trim) -> String {
    let mut frac = frac.trim_end_matches('0').to_string();
    while frac.len() < min_digits {
        frac.push('0');
    }
    match trim {
        Trim::Keep | Trim::Dot => format!("{int}.{frac}"),
        Trim::Zero if frac.is_empty() => format!("{int}.0"),
        Trim::Zero => format!("{int}.{frac}"),
        Trim::Dash if frac.is_empty() => int.to_string(),
        Trim::Dash => format!("{int}.{frac}"),
    }
}

/// numpy's `dragon4_positional` in unique mode: the shortest digits, cut off (and
/// correctly rounded) after `precision` fractional digits.
fn positional(x: f64, k: Kind, precision: Option<usize>, min_digits: usize, trim: Trim) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let a = x.abs();
    let (int, frac) = if a == 0.0 {
        ("0".to_string(), String::new())
    } else {
        let (digits, exp) = shortest(a, k);
        let nfrac = (digits.len() as i32 - 1 - exp).max(0) as usize;
        if precision.is_some_and(|p| nfrac > p) {
            let p = precision.unwrap_or(0);
            let s = match k {
                Kind::Float => format!("{:.p$}", a as f32),
                _ => format!("{a:.p$}"),
            };
            let (i, f) = s.split_once('.').unwrap_or((&s, ""));
            (i.to_string(), f.to_string())
        } else if exp < 0 {
            ("0".to_string(), format!("{}{}", "0".repeat((-exp - 1) as usize), digits))
        } else if exp as usize + 1 >= digits.len() {
            (format!("{}{}", digits, "0".repeat(exp as usize + 1 - digits.len())), String::new())
        } else {
            let (i, f) = digits.split_at(exp as usize + 1);
            (i.to_string(), f.to_string())
        }
    };
    finish(&format!("{sign}{int}"), &frac, min_digits, trim)
}

/// numpy's `dragon4_scientific` in unique mode: the shortest digits, cut off after
/// `precision` digits past the point; the exponent has at least `exp_digits` digits.
fn scientific(x: f64, k: Kind, precision: Option<usize>, min_digits: usize, trim: Trim, exp_digits: usize) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    let a = x.abs();
    let (digits, exp) = if a == 0.0 {
        ("0".to_string(), 0)
    } else {
        let (digits, exp) = shortest(a, k);
        match precision {
            Some(p) if digits.len() > p + 1 => split_sci(&match k {
                Kind::Float => format!("{:.p$e}", a as f32),
                _ => format!("{a:.p$e}"),
            }),
            _ => (digits, exp),
        }
    };
    let (first, rest) = digits.split_at(1);
    let mant = finish(&format!("{sign}{first}"), rest, min_digits, trim);
    let width = exp_digits.max(2);
    format!("{mant}e{}{:0width$}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

/// `str()` of a numpy float scalar (`repr` wraps it in `np.float64(...)`).
fn float_scalar_text(x: f64, k: Kind) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let cutoff = match k {
        Kind::Half => 1e3,
        Kind::Float => 1e6,
        _ => 1e16,
    };
    let a = x.abs();
    if a == 0.0 || (a >= 1e-4 && a < cutoff) {
        positional(x, k, None, 0, Trim::Zero)
    } else {
        scientific(x, k, None, 0, Trim::Dash, 2)
    }
}

/// One element's text in an array (numpy's format function for the array's dtype).
enum Format {
    Bool { pad: bool },
    Int { width: usize },
    Float(FloatFormat),
}

struct FloatFormat {
    kind: Kind,
    exp: bool,
    precision: usize,
    min_digits: usize,
    trim: Trim,
    pad_left: usize,
    pad_right: usize,
    exp_size: usize,
}

impl FloatFormat {
    /// `FloatingFormat.fillFormat` with the default options.
    fn new(data: &[f64], k: Kind) -> FloatFormat {
        let finite: Vec<f64> = data.iter().copied().filter(|x| x.is_finite()).collect();
        let nonzero: Vec<f64> = finite.iter().map(|x| x.abs()).filter(|&x| x != 0.0).collect();
        let mut exp = false;
        if !nonzero.is_empty() {
            let max = nonzero.iter().copied().fold(f64::MIN, f64::max);
            let min = nonzero.iter().copied().fold(f64::MAX, f64::min);
            let cutoff = match k {
                Kind::Half => 1e3,
                Kind::Float => 1e6,
                _ => 1e8,
            };
            // Compared (and divided) in the array's own dtype, as numpy does.
            exp = max >= cutoff || min < in_kind(1e-4, k) || in_kind(max / min, k) > 1000.0;
        }
        let mut f = FloatFormat { kind: k, exp, precision: 8, min_digits: 0, trim: Trim::Dot, pad_left: 0, pad_right: 0, exp_size: 0 };
        if finite.is_empty() {
            f.exp = false;
        } else if exp {
            let strs: Vec<String> = finite.iter().map(|&x| scientific(x, k, Some(8), 0, Trim::Dot, 2)).collect();
            let mut frac_max = 0;
            let mut int_max = 0;
            let mut exp_max = 0;
            for s in &strs {
                let (mant, e) = s.split_once('e').unwrap_or((s, ""));
                let (i, fr) = mant.split_once('.').unwrap_or((mant, ""));
                int_max = int_max.max(i.len());
                frac_max = frac_max.max(fr.len());
                exp_max = exp_max.max(e.len().saturating_sub(1));
            }
            f.exp_size = exp_max;
            f.trim = Trim::Keep;
            f.precision = frac_max;
            f.min_digits = frac_max;
            f.pad_left = int_max;
            f.pad_right = exp_max + 2 + frac_max;
        } else {
            for &x in &finite {
                let s = positional(x, k, Some(8), 0, Trim::Dot);
                let (i, fr) = s.split_once('.').unwrap_or((&s, ""));
                f.pad_left = f.pad_left.max(i.len());
                f.pad_right = f.pad_right.max(fr.len());
            }
        }
        if finite.len() != data.len() {
            let neginf = usize::from(data.iter().any(|x| x.is_infinite() && *x < 0.0));
            let offset = f.pad_right + 1;
            f.pad_left = f.pad_left.max(3usize.saturating_sub(offset)).max((3 + neginf).saturating_sub(offset));
        }
        f
    }

    fn text(&self, x: f64) -> String {
        if !x.is_finite() {
            let s = if x.is_nan() {
                "nan"
            } else if x < 0.0 {
                "-inf"
            } else {
                "inf"
            };
            let width = self.pad_left + self.pad_right + 1;
            return format!("{s:>width$}");
        }
        let s = if self.exp {
            scientific(x, self.kind, Some(self.precision), self.min_digits, self.trim, self.exp_size)
        } else {
            positional(x, self.kind, Some(self.precision), self.min_digits, self.trim)
        };
        let (i, rest) = s.split_once('.').unwrap_or((&s, ""));
        let pad_left = self.pad_left;
        if self.exp {
            format!("{i:>pad_left$}.{rest}")
        } else {
            let pad_right = self.pad_right;
            format!("{i:>pad_left$}.{rest:<pad_right$}")
        }
    }
}

const THRESHOLD: i64 = 1000;
const EDGE: i64 = 3;
const LINEWIDTH: usize = 75;

/// The array (or its corners, for a summary) and whether each axis was summarized.
fn corners(t: &Tensor) -> PyResult<(Tensor, Vec<bool>)> {
    let size = t.size();
    let summarize = t.numel() as i64 > THRESHOLD;
    let mut out = t.shallow_clone();
    let mut flags = Vec::with_capacity(size.len());
    for (d, &n) in size.iter().enumerate() {
        if summarize && n > 2 * EDGE {
            let idx: Vec<i64> = (0..EDGE).chain(n - EDGE..n).collect();
            let idx = Tensor::from_slice(&idx).f_to_device(out.device())?;
            out = out.f_index_select(d as i64, &idx)?;
            flags.push(true);
        } else {
            flags.push(false);
        }
    }
    Ok((out, flags))
}

fn format_for(data: &Elems, k: Kind, zero_d: bool) -> Format {
    match data {
        Elems::Bool(_) => Format::Bool { pad: !zero_d },
        Elems::Int(v) => {
            let max = v.iter().copied().max().unwrap_or(0);
            let min = v.iter().copied().min().unwrap_or(0);
            Format::Int { width: max.to_string().len().max(min.to_string().len()) }
        }
        Elems::Float(v) => Format::Float(FloatFormat::new(v, k)),
    }
}

fn element_texts(data: &Elems, f: &Format) -> Vec<String> {
    match (data, f) {
        (Elems::Bool(v), Format::Bool { pad }) => v
            .iter()
            .map(|&b| if b { if *pad { " True" } else { "True" } } else { "False" }.to_string())
            .collect(),
        (Elems::Int(v), Format::Int { width }) => v.iter().map(|x| format!("{x:>width$}", width = *width)).collect(),
        (Elems::Float(v), Format::Float(ff)) => v.iter().map(|&x| ff.text(x)).collect(),
        _ => Vec::new(),
    }
}

fn extend_line(s: &mut String, line: &mut String, word: &str, width: usize, next_prefix: &str) {
    let mut wrap = line.len() + word.len() > width;
    if line.len() <= next_prefix.len() {
        wrap = false;
    }
    if wrap {
        s.push_str(line.trim_end());
        s.push('\n');
        *line = next_prefix.to_string();
    }
    line.push_str(word);
}

struct Layout<'a> {
    words: &'a [String],
    shape: Vec<i64>,
    summarized: Vec<bool>,
    separator: &'a str,
}

impl Layout<'_> {
    /// `_formatArray`'s recurser over the (possibly summarized) array, at flat offset
    /// `base` with `axis` axes already chosen.
    fn recurse(&self, axis: usize, base: usize, hanging: &str, width: usize) -> String {
        let ndim = self.shape.len();
        if axis == ndim {
            return self.words[base].clone();
        }
        let stride: usize = self.shape[axis + 1..].iter().map(|&d| d as usize).product();
        let n = self.shape[axis] as usize;
        let next_hanging = format!("{hanging} ");
        let next_width = width.saturating_sub(1);
        let summary = self.summarized[axis];
        let (lead, trail) = if summary { (EDGE as usize, EDGE as usize) } else { (0, n) };
        let at = |i: usize| base + i * stride;
        let mut s = String::new();
        if ndim - axis == 1 {
            let elem_width = width.saturating_sub(self.separator.trim_end().len().max(1));
            let mut line = hanging.to_string();
            for i in 0..lead {
                let w = self.recurse(axis + 1, at(i), &next_hanging, next_width);
                extend_line(&mut s, &mut line, &w, elem_width, hanging);
                line.push_str(self.separator);
            }
            if summary {
                extend_line(&mut s, &mut line, "...", elem_width, hanging);
                line.push_str(self.separator);
            }
            let first_trail = if summary { n - trail } else { 0 };
            for i in first_trail..n.saturating_sub(1) {
                let w = self.recurse(axis + 1, at(i), &next_hanging, next_width);
                extend_line(&mut s, &mut line, &w, elem_width, hanging);
                line.push_str(self.separator);
            }
            if n > 0 {
                let w = self.recurse(axis + 1, at(n - 1), &next_hanging, next_width);
                extend_line(&mut s, &mut line, &w, elem_width, hanging);
            }
            s.push_str(&line);
        } else {
            let line_sep = format!("{}{}", self.separator.trim_end(), "\n".repeat(ndim - axis - 1));
            for i in 0..lead {
                s.push_str(hanging);
                s.push_str(&self.recurse(axis + 1, at(i), &next_hanging, next_width));
                s.push_str(&line_sep);
            }
            if summary {
                s.push_str(hanging);
                s.push_str("...");
                s.push_str(&line_sep);
            }
            let first_trail = if summary { n - trail } else { 0 };
            for i in first_trail..n.saturating_sub(1) {
                s.push_str(hanging);
                s.push_str(&self.recurse(axis + 1, at(i), &next_hanging, next_width));
                s.push_str(&line_sep);
            }
            if n > 0 {
                s.push_str(hanging);
                s.push_str(&self.recurse(axis + 1, at(n - 1), &next_hanging, next_width));
            }
        }
        format!("[{}]", &s[hanging.len().min(s.len())..])
    }
}

/// `np.array2string(a, separator=..., prefix=...)` with the suffix's width reserved.
fn array2string(t: &Tensor, separator: &str, prefix: &str, suffix: &str) -> PyResult<String> {
    if t.numel() == 0 {
        return Ok("[]".into());
    }
    let (data_t, summarized) = corners(t)?;
    let data = elems(&data_t)?;
    let f = format_for(&data, t.kind(), t.dim() == 0);
    let words = element_texts(&data, &f);
    let layout = Layout { words: &words, shape: data_t.size(), summarized, separator };
    let next_prefix = format!(" {}", " ".repeat(prefix.len()));
    Ok(layout.recurse(0, 0, &next_prefix, LINEWIDTH - suffix.len()))
}

fn shape_text(shape: &[i64]) -> String {
    match shape {
        [d] => format!("({d},)"),
        _ => format!("({})", shape.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// `repr(array)`.
pub fn array_repr(t: &Tensor) -> PyResult<String> {
    let prefix = "array(";
    let body = array2string(t, ", ", prefix, ")")?;
    let mut extras = Vec::new();
    let shape = t.size();
    let numel = t.numel() as i64;
    if (numel == 0 && shape != [0]) || numel > THRESHOLD {
        extras.push(format!("shape={}", shape_text(&shape)));
    }
    let implied = matches!(t.kind(), Kind::Double | Kind::Int64 | Kind::Bool);
    if !implied || numel == 0 {
        extras.push(format!("dtype={}", name(t.kind())));
    }
    if extras.is_empty() {
        return Ok(format!("{prefix}{body})"));
    }
    let arr = format!("{prefix}{body},");
    let extra = format!("{})", extras.join(", "));
    let last_line = arr.len() - arr.rfind('\n').map_or(0, |i| i + 1);
    let spacer = if last_line + extra.len() + 1 > LINEWIDTH { format!("\n{}", " ".repeat(prefix.len())) } else { " ".into() };
    Ok(format!("{arr}{spacer}{extra}"))
}

/// `str(array)`.
pub fn array_str(t: &Tensor) -> PyResult<String> {
    if t.dim() == 0 {
        return scalar_str(t);
    }
    array2string(t, " ", "", "")
}

/// `str()` of a numpy scalar.
pub fn scalar_str(t: &Tensor) -> PyResult<String> {
    let k = t.kind();
    Ok(match elems(t)? {
        Elems::Bool(v) => if v.first().copied().unwrap_or(false) { "True" } else { "False" }.into(),
        Elems::Int(v) => v.first().copied().unwrap_or(0).to_string(),
        Elems::Float(v) => float_scalar_text(v.first().copied().unwrap_or(0.0), k),
    })
}

/// `repr()` of a numpy scalar (`np.float64(1.5)`, `np.True_`).
pub fn scalar_repr(t: &Tensor) -> PyResult<String> {
    if t.kind() == Kind::Bool {
        return Ok(if scalar_str(t)? == "True" { "np.True_" } else { "np.False_" }.into());
    }
    Ok(format!("np.{}({})", name(t.kind()), scalar_str(t)?))
}

/// `repr(dtype)` (`dtype('float64')`).
pub fn dtype_repr(k: Kind) -> String {
    format!("dtype('{}')", name(k))
}

/// numpy's refusal of a dtype it does not have.
pub fn unsupported_kind(k: Kind) -> PyErr {
    PyErr::type_error(format!("Got unsupported ScalarType {}", match k {
        Kind::BFloat16 => "BFloat16",
        Kind::ComplexFloat => "ComplexFloat",
        Kind::ComplexDouble => "ComplexDouble",
        _ => "Unknown",
    }))
}

/// The Python number a numpy scalar equals (for `==` between builtin values and hashing).
pub fn scalar_item(t: &Tensor) -> PyResult<super::Value> {
    use super::Value;
    Ok(match elems(t)? {
        Elems::Bool(v) => Value::Bool(v.first().copied().unwrap_or(false)),
        Elems::Int(v) => Value::Int(v.first().copied().unwrap_or(0)),
        Elems::Float(v) => Value::Float(v.first().copied().unwrap_or(0.0)),
    })
}
