//! String formatting like CPython: the format-spec mini-language (`format()`, f-strings,
//! `str.format`) for ints, floats and strings, `str.format`'s field syntax, and
//! printf-style `%` formatting.

use super::Interp;
use crate::value::{PyErr, PyResult, Value, float, int, types};

#[derive(Default, Debug)]
struct Spec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(spec: &str) -> PyResult<Spec> {
    let bad = || PyErr::value_error("Invalid format specifier");
    let c: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut s = Spec {
        fill: ' ',
        sign: '-',
        ..Spec::default()
    };
    if c.len() >= 2 && "<>=^".contains(c[1]) {
        s.fill = c[0];
        s.align = Some(c[1]);
        i = 2;
    } else if !c.is_empty() && "<>=^".contains(c[0]) {
        s.align = Some(c[0]);
        i = 1;
    }
    if i < c.len() && "+- ".contains(c[i]) {
        s.sign = c[i];
        i += 1;
    }
    if i < c.len() && c[i] == 'z' {
        i += 1;
    }
    if i < c.len() && c[i] == '#' {
        s.alt = true;
        i += 1;
    }
    if i < c.len() && c[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while i < c.len() && c[i].is_ascii_digit() {
        i += 1;
    }
    if i > start {
        s.width = c[start..i].iter().collect::<String>().parse().map_err(|_| bad())?;
        if s.width > 1 << 20 {
            return Err(PyErr::value_error("Too many decimal digits in format string"));
        }
    }
    if i < c.len() && (c[i] == ',' || c[i] == '_') {
        s.grouping = Some(c[i]);
        i += 1;
    }
    if i < c.len() && c[i] == '.' {
        i += 1;
        let ps = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        if i == ps {
            return Err(PyErr::value_error("Format specifier missing precision"));
        }
        s.precision = Some(c[ps..i].iter().collect::<String>().parse().map_err(|_| bad())?);
        if s.precision > Some(1 << 16) {
            return Err(PyErr::value_error("precision too big"));
        }
    }
    if i < c.len() {
        s.ty = Some(c[i]);
        i += 1;
    }
    if i != c.len() {
        return Err(bad());
    }
    Ok(s)
}

fn group(digits: &str, sep: char, every: usize) -> String {
    let chars: Vec<char> = digits.chars().collect();
    let mut out = String::new();
    for (i, ch) in chars.iter().enumerate() {
        if i > 0 && (chars.len() - i) % every == 0 {
            out.push(sep);
        }
        out.push(*ch);
    }
    out
}

/// Pads `sign` + `body` to the spec's width and alignment.
fn pad(s: &Spec, sign: &str, body: &str, numeric: bool) -> String {
    let len = sign.chars().count() + body.chars().count();
    let (fill, align) = if s.zero && s.align.is_none() && numeric {
        ('0', '=')
    } else {
        (s.fill, s.align.unwrap_or(if numeric { '>' } else { '<' }))
    };
    if len >= s.width {
        return format!("{sign}{body}");
    }
    let n = s.width - len;
    let f = |k: usize| fill.to_string().repeat(k);
    match align {
        '<' => format!("{sign}{body}{}", f(n)),
        '>' => format!("{}{sign}{body}", f(n)),
        '^' => format!("{}{sign}{body}{}", f(n / 2), f(n - n / 2)),
        _ => format!("{sign}{}{body}", f(n)),
    }
}

fn sign_of(neg: bool, s: &Spec) -> &'static str {
    if neg {
        "-"
    } else {
        match s.sign {
            '+' => "+",
            ' ' => " ",
            _ => "",
        }
    }
}

fn format_int(v: &Value, s: &Spec) -> PyResult<String> {
    let b = int::big(v).unwrap_or_default();
    let neg = b.sign() == num_bigint::Sign::Minus;
    let mag = if neg { -b.clone() } else { b.clone() };
    let (body, prefix, every) = match s.ty {
        None | Some('d') | Some('n') => (mag.to_string(), "", 3),
        Some('b') => (mag.to_str_radix(2), "0b", 4),
        Some('o') => (mag.to_str_radix(8), "0o", 4),
        Some('x') => (mag.to_str_radix(16), "0x", 4),
        Some('X') => (mag.to_str_radix(16).to_uppercase(), "0X", 4),
        Some('c') => {
            let c = char::from_u32(u32::try_from(b).map_err(|_| PyErr::overflow("%c arg not in range(0x110000)"))?)
                .ok_or_else(|| PyErr::overflow("%c arg not in range(0x110000)"))?;
            return Ok(pad(s, "", &c.to_string(), false));
        }
        Some(t @ ('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%')) => {
            let f = int::to_f64(v)?;
            return format_float(f, &Spec { ty: Some(t), ..clone_spec(s) });
        }
        Some(t) => {
            return Err(PyErr::value_error(format!(
                "Unknown format code '{t}' for object of type 'int'"
            )));
        }
    };
    if s.precision.is_some() {
        return Err(PyErr::value_error("Precision not allowed in integer format specifier"));
    }
    let body = match s.grouping {
        Some(g) => group(&body, g, every),
        None => body,
    };
    let sign = sign_of(neg, s);
    let prefix = if s.alt { prefix } else { "" };
    Ok(pad(s, &format!("{sign}{prefix}"), &body, true))
}

fn clone_spec(s: &Spec) -> Spec {
    Spec {
        fill: s.fill,
        align: s.align,
        sign: s.sign,
        alt: s.alt,
        zero: s.zero,
        width: s.width,
        grouping: s.grouping,
        precision: s.precision,
        ty: s.ty,
    }
}

fn format_float(f: f64, s: &Spec) -> PyResult<String> {
    let neg = f.is_sign_negative() && !f.is_nan();
    let mut body = match s.ty {
        Some('f') | Some('F') => float::fixed(f, s.precision.unwrap_or(6)),
        Some('e') | Some('E') => float::sci(f, s.precision.unwrap_or(6)),
        Some('g') | Some('G') | Some('n') => float::general(f, s.precision.unwrap_or(6), s.alt, false),
        Some('%') => {
            let v = float::fixed(f * 100.0, s.precision.unwrap_or(6));
            format!("{v}%")
        }
        None => match s.precision {
            Some(p) => float::general(f, p, s.alt, true),
            None => {
                let r = float::repr(f.abs());
                r
            }
        },
        Some(t) => {
            return Err(PyErr::value_error(format!(
                "Unknown format code '{t}' for object of type 'float'"
            )));
        }
    };
    if matches!(s.ty, Some('E' | 'G' | 'F')) {
        body = body.to_uppercase();
    }
    if s.alt && !body.contains('.') && !body.contains('e') && f.is_finite() && matches!(s.ty, Some('f' | 'F' | 'e' | 'E')) {
        body.push('.');
    }
    if let Some(g) = s.grouping {
        let (int_part, rest) = match body.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => body.split_at(i),
            None => (body.as_str(), ""),
        };
        body = format!("{}{rest}", group(int_part, g, 3));
    }
    Ok(pad(s, sign_of(neg, s), &body, true))
}

fn format_str(text: &str, s: &Spec) -> PyResult<String> {
    if let Some(t) = s.ty
        && t != 's'
    {
        return Err(PyErr::value_error(format!(
            "Unknown format code '{t}' for object of type 'str'"
        )));
    }
    if s.sign != '-' {
        return Err(PyErr::value_error("Sign not allowed in string format specifier"));
    }
    if s.align == Some('=') {
        return Err(PyErr::value_error("'=' alignment not allowed in string format specifier"));
    }
    let t: String = match s.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_string(),
    };
    Ok(pad(s, "", &t, false))
}

impl Interp<'_> {
    /// `format(v, spec)`.
    pub fn format_value(&mut self, v: &Value, spec: &str) -> PyResult<String> {
        match v {
            Value::Bool(_) if spec.is_empty() => self.str(v),
            Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => format_int(v, &parse_spec(spec)?),
            Value::Float(f) => format_float(*f, &parse_spec(spec)?),
            Value::Str(s) => format_str(s.as_str(), &parse_spec(spec)?),
            Value::Tensor(t) if t.is_numpy() => {
                if t.np == crate::value::tensor::Np::Array {
                    if spec.is_empty() {
                        return self.str(v);
                    }
                    return Err(PyErr::type_error("unsupported format string passed to numpy.ndarray.__format__"));
                }
                // A numpy scalar formats as the Python number it holds.
                let item = super::numpy::item(&t.t)?;
                self.format_value(&item, spec)
            }
            Value::Tensor(t) => {
                if t.t.dim() == 0 {
                    let item = super::torch::item(&t.t)?;
                    return self.format_value(&item, spec);
                }
                if spec.is_empty() {
                    return self.str(v);
                }
                Err(PyErr::type_error("unsupported format string passed to Tensor.__format__"))
            }
            Value::Instance(_) => {
                if let Some(m) = self.getattr_opt(v, "__format__")? {
                    let r = self.call(&m, vec![Value::str(spec)], vec![])?;
                    return match r {
                        Value::Str(s) => Ok(s.as_str().to_string()),
                        other => Err(PyErr::type_error(format!(
                            "__format__ must return a str, not {}",
                            other.type_name()
                        ))),
                    };
                }
                if spec.is_empty() {
                    return self.str(v);
                }
                Err(PyErr::type_error(format!(
                    "unsupported format string passed to {}.__format__",
                    v.type_name()
                )))
            }
            other => {
                if spec.is_empty() {
                    return self.str(other);
                }
                Err(PyErr::type_error(format!(
                    "unsupported format string passed to {}.__format__",
                    other.type_name()
                )))
            }
        }
    }

    /// `template.format(*args, **kwargs)`.
    pub fn str_format(&mut self, template: &str, args: &[Value], kwargs: &[(std::rc::Rc<str>, Value)]) -> PyResult<String> {
        let c: Vec<char> = template.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        let mut auto = 0usize;
        let mut manual = false;
        while i < c.len() {
            match c[i] {
                '{' if c.get(i + 1) == Some(&'{') => {
                    out.push('{');
                    i += 2;
                }
                '}' if c.get(i + 1) == Some(&'}') => {
                    out.push('}');
                    i += 2;
                }
                '}' => return Err(PyErr::value_error("Single '}' encountered in format string")),
                '{' => {
                    let mut depth = 1;
                    let mut j = i + 1;
                    while j < c.len() && depth > 0 {
                        match c[j] {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        j += 1;
                    }
                    if depth != 0 {
                        return Err(PyErr::value_error("expected '}' before end of string"));
                    }
                    let field: String = c[i + 1..j - 1].iter().collect();
                    out.push_str(&self.format_field(&field, args, kwargs, &mut auto, &mut manual)?);
                    crate::value::ctx::check_str_len(out.len())?;
                    i = j;
                }
                ch => {
                    out.push(ch);
                    i += 1;
                }
            }
        }
        Ok(out)
    }

    fn format_field(
        &mut self,
        field: &str,
        args: &[Value],
        kwargs: &[(std::rc::Rc<str>, Value)],
        auto: &mut usize,
        manual: &mut bool,
    ) -> PyResult<String> {
        // field_name [!conversion] [:format_spec]
        let (head, spec) = match split_top(field, ':') {
            Some((h, s)) => (h, Some(s)),
            None => (field, None),
        };
        let (name, conv) = match head.rfind('!') {
            Some(p) => (&head[..p], Some(&head[p + 1..])),
            None => (head, None),
        };
        let first_end = name.find(['.', '[']).unwrap_or(name.len());
        let first = &name[..first_end];
        let mut v = if first.is_empty() {
            if *manual {
                return Err(PyErr::value_error(
                    "cannot switch from manual field specification to automatic field numbering",
                ));
            }
            let v = args
                .get(*auto)
                .cloned()
                .ok_or_else(|| PyErr::index_error(format!("Replacement index {} out of range for positional args tuple", *auto)))?;
            *auto += 1;
            v
        } else if let Ok(k) = first.parse::<usize>() {
            *manual = true;
            args.get(k)
                .cloned()
                .ok_or_else(|| PyErr::index_error(format!("Replacement index {k} out of range for positional args tuple")))?
        } else {
            kwargs
                .iter()
                .find(|(n, _)| n.as_ref() == first)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| PyErr::key_error(Value::str(first)))?
        };
        let mut rest = &name[first_end..];
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                v = self.getattr(&v, &r[..end])?;
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| PyErr::value_error("Missing ']' in format string"))?;
                let key = &r[..end];
                let k = key.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::str(key));
                v = self.getitem(&v, &k)?;
                rest = &r[end + 1..];
            } else {
                return Err(PyErr::value_error("Only '.' or '[' may follow ']' in format field specifier"));
            }
        }
        let v = match conv {
            None => v,
            Some("r") => Value::string(self.repr(&v)?),
            Some("s") => Value::string(self.str(&v)?),
            Some("a") => Value::string(super::expr::ascii(&self.repr(&v)?)),
            Some(other) => {
                return Err(PyErr::value_error(format!(
                    "Unknown conversion specifier {other}"
                )));
            }
        };
        let spec = match spec {
            Some(s) if s.contains('{') => self.str_format(s, args, kwargs)?,
            Some(s) => s.to_string(),
            None => String::new(),
        };
        self.format_value(&v, &spec)
    }
}

/// Splits at the first `sep` outside brackets.
fn split_top(s: &str, sep: char) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, ch) in s.char_indices() {
        match ch {
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            c if c == sep && depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

/// printf-style `template % args`.
pub fn percent(it: &mut Interp, template: &str, args: &Value) -> PyResult<String> {
    let items: Vec<Value> = match args {
        Value::Tuple(t) => t.to_vec(),
        other => vec![other.clone()],
    };
    let mapping = matches!(args, Value::Dict(_) | Value::Record(_));
    let c: Vec<char> = template.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut next = 0;
    let mut take = |it: &mut Interp, key: Option<&str>| -> PyResult<Value> {
        if let Some(k) = key {
            return it.getitem(args, &Value::str(k));
        }
        let v = items
            .get(next)
            .cloned()
            .ok_or_else(|| PyErr::type_error("not enough arguments for format string"))?;
        next += 1;
        Ok(v)
    };
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= c.len() {
            return Err(PyErr::value_error("incomplete format"));
        }
        if c[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut key = None;
        if c[i] == '(' {
            let end = c[i..].iter().position(|&x| x == ')').ok_or_else(|| PyErr::value_error("incomplete format key"))?;
            key = Some(c[i + 1..i + end].iter().collect::<String>());
            i += end + 1;
        }
        let mut spec = Spec {
            fill: ' ',
            sign: '-',
            ..Spec::default()
        };
        let mut left = false;
        while i < c.len() && "-+ #0".contains(c[i]) {
            match c[i] {
                '-' => left = true,
                '+' => spec.sign = '+',
                ' ' => {
                    if spec.sign != '+' {
                        spec.sign = ' '
                    }
                }
                '#' => spec.alt = true,
                _ => spec.zero = true,
            }
            i += 1;
        }
        let ws = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        if i > ws {
            spec.width = c[ws..i].iter().collect::<String>().parse().unwrap_or(0);
        } else if i < c.len() && c[i] == '*' {
            spec.width = take(it, None)?.as_int().unwrap_or(0).max(0) as usize;
            i += 1;
        }
        if i < c.len() && c[i] == '.' {
            i += 1;
            let ps = i;
            while i < c.len() && c[i].is_ascii_digit() {
                i += 1;
            }
            spec.precision = Some(c[ps..i].iter().collect::<String>().parse().unwrap_or(0));
        }
        if left {
            spec.align = Some('<');
            spec.zero = false;
        } else if spec.align.is_none() {
            // printf-style fields are right-aligned for every conversion.
            spec.align = Some('>');
        }
        let Some(&conv) = c.get(i) else {
            return Err(PyErr::value_error("incomplete format"));
        };
        i += 1;
        let v = take(it, key.as_deref())?;
        let text = match conv {
            's' | 'r' | 'a' => {
                let t = match conv {
                    's' => it.str(&v)?,
                    'r' => it.repr(&v)?,
                    _ => super::expr::ascii(&it.repr(&v)?),
                };
                let t: String = match spec.precision {
                    Some(p) => t.chars().take(p).collect(),
                    None => t,
                };
                spec.precision = None;
                pad(&spec, "", &t, false)
            }
            'd' | 'i' | 'u' => {
                let n = num_arg(it, &v, conv)?;
                let n = match n {
                    Value::Float(f) => Value::from_bigint(num_bigint::BigInt::from(f.trunc() as i64)),
                    other => other,
                };
                let prec = spec.precision.take();
                let mut s = format_int(&n, &Spec { ty: Some('d'), ..clone_spec(&spec) })?;
                if let Some(p) = prec {
                    let digits = int::to_string(&int::abs(&n)?)?;
                    if digits.len() < p {
                        let neg = int::cmp(&n, &Value::Int(0)) == std::cmp::Ordering::Less;
                        let body = format!("{}{digits}", "0".repeat(p - digits.len()));
                        s = pad(&spec, sign_of(neg, &spec), &body, true);
                    }
                }
                s
            }
            'x' | 'X' | 'o' => {
                let n = num_arg(it, &v, conv)?;
                if !int::is_int(&n) {
                    return Err(PyErr::type_error(format!("%{conv} format: an integer is required, not float")));
                }
                format_int(&n, &Spec { ty: Some(conv), ..clone_spec(&spec) })?
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let n = num_arg(it, &v, conv)?;
                let f = int::to_f64(&n)?;
                let mut sp = clone_spec(&spec);
                sp.ty = Some(conv);
                if sp.precision.is_none() {
                    sp.precision = Some(6);
                }
                format_float(f, &sp)?
            }
            'c' => match &v {
                Value::Str(s) if s.len() == 1 => pad(&spec, "", s.as_str(), false),
                other => format_int(other, &Spec { ty: Some('c'), ..clone_spec(&spec) })?,
            },
            other => {
                return Err(PyErr::value_error(format!(
                    "unsupported format character '{other}' (0x{:x}) at index {}",
                    other as u32,
                    i - 1
                )));
            }
        };
        out.push_str(&text);
        crate::value::ctx::check_str_len(out.len())?;
    }
    if !mapping && next < items.len() {
        return Err(PyErr::type_error("not all arguments converted during string formatting"));
    }
    Ok(out)
}

fn num_arg(it: &mut Interp, v: &Value, conv: char) -> PyResult<Value> {
    match v {
        Value::Int(_) | Value::BigInt(_) | Value::Float(_) => Ok(v.clone()),
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Tensor(t) if t.t.numel() == 1 => super::torch::item(&t.t),
        other => {
            let _ = it;
            Err(PyErr::new(
                &types::TYPE_ERROR,
                format!("%{conv} format: a real number is required, not {}", other.type_name()),
            ))
        }
    }
}
