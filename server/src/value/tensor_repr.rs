//! `repr(tensor)` / `str(tensor)` exactly as torch prints them (`torch/_tensor_str.py` with
//! the default print options: precision 4, threshold 1000, edgeitems 3, linewidth 80), so
//! `print(t)` inside a trace logs what it prints locally.

use tch::{Device, Kind, Tensor};

use super::dtype;
use super::error::PyResult;
use super::float;

const PRECISION: usize = 4;
const THRESHOLD: i64 = 1000;
const EDGE: i64 = 3;
const LINEWIDTH: usize = 80;

struct Formatter {
    floating: bool,
    int_mode: bool,
    sci_mode: bool,
    max_width: usize,
}

impl Formatter {
    fn new(t: &Tensor, floating: bool) -> PyResult<Formatter> {
        let mut f = Formatter {
            floating,
            int_mode: true,
            sci_mode: false,
            max_width: 1,
        };
        if !floating {
            for v in scalars(t)? {
                f.max_width = f.max_width.max(v.len());
            }
            return Ok(f);
        }
        let vals: Vec<f64> = doubles(t)?
            .into_iter()
            .filter(|v| v.is_finite() && *v != 0.0)
            .collect();
        if vals.is_empty() {
            return Ok(f);
        }
        let abs: Vec<f64> = vals.iter().map(|v| v.abs()).collect();
        let min = abs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = abs.iter().copied().fold(0.0, f64::max);
        f.int_mode = vals.iter().all(|v| *v == v.ceil());
        if f.int_mode {
            if max / min > 1000.0 || max > 1.0e8 {
                f.sci_mode = true;
                for v in &vals {
                    f.max_width = f.max_width.max(sign(*v).len() + float::sci(*v, PRECISION).len());
                }
            } else {
                for v in &vals {
                    f.max_width = f.max_width.max(sign(*v).len() + float::fixed(*v, 0).len() + 1);
                }
            }
        } else if max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4 {
            f.sci_mode = true;
            for v in &vals {
                f.max_width = f.max_width.max(sign(*v).len() + float::sci(*v, PRECISION).len());
            }
        } else {
            for v in &vals {
                f.max_width = f.max_width.max(sign(*v).len() + float::fixed(*v, PRECISION).len());
            }
        }
        Ok(f)
    }

    fn format_float(&self, v: f64) -> String {
        let body = if self.sci_mode {
            format!("{}{}", sign(v), float::sci(v, PRECISION))
        } else if self.int_mode {
            let mut s = format!("{}{}", sign(v), float::fixed(v, 0));
            if v.is_finite() {
                s.push('.');
            }
            s
        } else {
            format!("{}{}", sign(v), float::fixed(v, PRECISION))
        };
        pad(&body, self.max_width)
    }

    fn format_text(&self, text: &str) -> String {
        pad(text, self.max_width)
    }
}

fn sign(v: f64) -> &'static str {
    if v.is_sign_negative() && !v.is_nan() { "-" } else { "" }
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_string()
    } else {
        format!("{}{s}", " ".repeat(width - n))
    }
}

fn doubles(t: &Tensor) -> PyResult<Vec<f64>> {
    let flat = t.f_reshape([-1])?.f_to_kind(Kind::Double)?;
    Ok(Vec::<f64>::try_from(&flat)?)
}

/// Non-float elements as Python prints them (`3`, `True`).
fn scalars(t: &Tensor) -> PyResult<Vec<String>> {
    let flat = t.f_reshape([-1])?;
    if t.kind() == Kind::Bool {
        let v = Vec::<i64>::try_from(&flat.f_to_kind(Kind::Int64)?)?;
        return Ok(v.into_iter().map(|b| if b != 0 { "True" } else { "False" }.to_string()).collect());
    }
    let v = Vec::<i64>::try_from(&flat.f_to_kind(Kind::Int64)?)?;
    Ok(v.into_iter().map(|i| i.to_string()).collect())
}

fn element_strings(t: &Tensor, f: &Formatter) -> PyResult<Vec<String>> {
    if f.floating {
        Ok(doubles(t)?.into_iter().map(|v| f.format_float(v)).collect())
    } else {
        Ok(scalars(t)?.iter().map(|s| f.format_text(s)).collect())
    }
}

fn summarized(t: &Tensor) -> PyResult<Tensor> {
    let dim = t.dim();
    if dim == 0 {
        return Ok(t.shallow_clone());
    }
    // rank: dim > 0 here.
    let n = t.size()[0];
    if dim == 1 {
        if n > 2 * EDGE {
            return Ok(Tensor::f_cat(&[t.f_narrow(0, 0, EDGE)?, t.f_narrow(0, n - EDGE, EDGE)?], 0)?);
        }
        return Ok(t.shallow_clone());
    }
    let rows: Vec<i64> = if n > 2 * EDGE {
        (0..EDGE).chain(n - EDGE..n).collect()
    } else {
        (0..n).collect()
    };
    let parts = rows
        .into_iter()
        .map(|i| summarized(&t.f_select(0, i)?))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(Tensor::f_stack(&parts, 0)?)
}

fn vector_str(t: &Tensor, indent: usize, summarize: bool, f: &Formatter) -> PyResult<String> {
    let element_length = f.max_width + 2;
    let per_line = ((LINEWIDTH.saturating_sub(indent)) / element_length).max(1);
    // rank: called for 1-d tensors only.
    let n = t.size()[0];
    let data: Vec<String> = if summarize && n > 2 * EDGE {
        let mut d = element_strings(&t.f_narrow(0, 0, EDGE)?, f)?;
        d.push(" ...".into());
        d.extend(element_strings(&t.f_narrow(0, n - EDGE, EDGE)?, f)?);
        d
    } else {
        element_strings(t, f)?
    };
    let lines: Vec<String> = data.chunks(per_line).map(|c| c.join(", ")).collect();
    Ok(format!("[{}]", lines.join(&format!(",\n{}", " ".repeat(indent + 1)))))
}

fn tensor_str_with(t: &Tensor, indent: usize, summarize: bool, f: &Formatter) -> PyResult<String> {
    super::stack::guard()?;
    let dim = t.dim();
    if dim == 0 {
        return Ok(element_strings(t, f)?.pop().unwrap_or_default().trim_start().to_string());
    }
    if dim == 1 {
        return vector_str(t, indent, summarize, f);
    }
    // rank: dim ≥ 2 here.
    let n = t.size()[0];
    let mut slices = Vec::new();
    if summarize && n > 2 * EDGE {
        for i in 0..EDGE {
            slices.push(tensor_str_with(&t.f_select(0, i)?, indent + 1, summarize, f)?);
        }
        slices.push("...".into());
        for i in n - EDGE..n {
            slices.push(tensor_str_with(&t.f_select(0, i)?, indent + 1, summarize, f)?);
        }
    } else {
        for i in 0..n {
            slices.push(tensor_str_with(&t.f_select(0, i)?, indent + 1, summarize, f)?);
        }
    }
    let sep = format!(",{}{}", "\n".repeat(dim - 1), " ".repeat(indent + 1));
    Ok(format!("[{}]", slices.join(&sep)))
}

/// `_tensor_str`: the bracketed contents.
fn contents(t: &Tensor, indent: usize) -> PyResult<String> {
    if t.numel() == 0 {
        return Ok("[]".into());
    }
    let summarize = t.numel() as i64 > THRESHOLD;
    let mut t = t.f_detach()?.f_to_device(Device::Cpu)?;
    if matches!(t.kind(), Kind::Half | Kind::BFloat16) {
        t = t.f_to_kind(Kind::Float)?;
    }
    let floating = dtype::is_float(t.kind());
    let basis = if summarize { summarized(&t)? } else { t.shallow_clone() };
    let f = Formatter::new(&basis, floating)?;
    // A 0-dim tensor's element is not padded (`_scalar_str`).
    if t.dim() == 0 {
        return Ok(element_strings(&t, &f)?.pop().unwrap_or_default().trim_start().to_string());
    }
    tensor_str_with(&t, indent, summarize, &f)
}

/// `repr(t)`.
pub fn tensor_repr(t: &Tensor) -> PyResult<String> {
    let prefix = "tensor(";
    let indent = prefix.len();
    let mut suffixes = Vec::new();
    if t.device() != Device::Cpu {
        suffixes.push(format!("device='{}'", dtype::device_name(t.device())));
    }
    let kind = t.kind();
    let default_dtype = matches!(kind, Kind::Float | Kind::Int64 | Kind::Bool | Kind::ComplexFloat);
    let body = if t.numel() == 0 {
        if t.dim() != 1 {
            suffixes.push(format!("size={}", shape_tuple(&t.size())));
        }
        if kind != Kind::Float {
            suffixes.push(format!("dtype=torch.{}", dtype::name(kind)));
        }
        "[]".to_string()
    } else {
        if !default_dtype {
            suffixes.push(format!("dtype=torch.{}", dtype::name(kind)));
        }
        contents(t, indent)?
    };
    if t.requires_grad() {
        suffixes.push("requires_grad=True".into());
    }
    let mut out = format!("{prefix}{body}");
    // `_add_suffixes`: len(text) - text.rfind("\n") + 1, where rfind is -1 without one.
    let mut last_line_len = match out.rfind('\n') {
        Some(p) => out.len() - p + 1,
        None => out.len() + 2,
    };
    for s in suffixes {
        if last_line_len + s.len() + 2 > LINEWIDTH {
            out.push_str(&format!(",\n{}{s}", " ".repeat(indent)));
            last_line_len = indent + s.len();
        } else {
            out.push_str(&format!(", {s}"));
            last_line_len += s.len() + 2;
        }
    }
    out.push(')');
    Ok(out)
}

/// `str(t)` is `repr(t)` for tensors.
pub fn tensor_str(t: &Tensor) -> PyResult<String> {
    tensor_repr(t)
}

fn shape_tuple(s: &[i64]) -> String {
    match s {
        [one] => format!("({one},)"),
        many => format!(
            "({})",
            many.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}
