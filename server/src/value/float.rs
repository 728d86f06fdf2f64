//! `float` text like CPython: `repr` is the shortest string that round-trips, in fixed
//! notation for exponents in [-4, 16) and `1e+16` style otherwise; the `e`, `f`, `g` and
//! `%` presentation types of the format mini-language round like CPython (correctly).

/// Shortest round-trip digits and the decimal exponent: `value = 0.d1d2... × 10^(exp+1)`,
/// i.e. `d1.d2... × 10^exp`.
fn shortest(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits, exp.parse().unwrap_or(0))
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("nan")
    } else if f.is_infinite() {
        Some(if f > 0.0 { "inf" } else { "-inf" })
    } else {
        None
    }
}

/// `repr(float)` / `str(float)`.
pub fn repr(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    let (digits, exp) = shortest(f);
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exp) {
        format!("{sign}{}", fixed_from_digits(&digits, exp, true))
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        format!("{sign}{mant}e{}", exp_text(exp))
    }
}

/// Digits `d1d2...` with decimal exponent `exp` in fixed notation; `force_point` adds `.0`.
fn fixed_from_digits(digits: &str, exp: i32, force_point: bool) -> String {
    let n = digits.len() as i32;
    let s = if exp < 0 {
        format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
    } else if exp + 1 >= n {
        format!("{}{}", digits, "0".repeat((exp + 1 - n) as usize))
    } else {
        let (a, b) = digits.split_at((exp + 1) as usize);
        format!("{a}.{b}")
    };
    if force_point && !s.contains('.') {
        format!("{s}.0")
    } else {
        s
    }
}

fn exp_text(exp: i32) -> String {
    format!("{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

/// `format(f, '.{prec}f')` (without sign handling: the caller adds it).
pub fn fixed(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s.trim_start_matches('-').to_string();
    }
    format!("{:.*}", prec, f.abs())
}

/// `format(f, '.{prec}e')`.
pub fn sci(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s.trim_start_matches('-').to_string();
    }
    let s = format!("{:.*e}", prec, f.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{mant}e{}", exp_text(exp.parse().unwrap_or(0)))
}

/// `format(f, '.{prec}g')`; `alt` is the `#` flag (keep trailing zeros); `repr_like` is the
/// empty presentation type with a precision (at least one digit after the point).
pub fn general(f: f64, prec: usize, alt: bool, repr_like: bool) -> String {
    if let Some(s) = special(f) {
        return s.trim_start_matches('-').to_string();
    }
    let p = prec.max(1);
    let a = f.abs();
    if a == 0.0 {
        return if alt {
            format!("0.{}", "0".repeat(p - 1))
        } else if repr_like {
            "0.0".into()
        } else {
            "0".into()
        };
    }
    // The exponent after rounding to p significant digits.
    let s = format!("{:.*e}", p - 1, a);
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let use_fixed = if repr_like {
        exp >= -4 && exp < p as i32
    } else {
        exp >= -4 && exp < p as i32
    };
    if use_fixed {
        let mut out = fixed_from_digits(&digits, exp, false);
        if !alt && out.contains('.') {
            out = out.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        if repr_like && !out.contains('.') {
            out.push_str(".0");
        }
        out
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if alt {
            rest.to_string()
        } else {
            rest.trim_end_matches('0').to_string()
        };
        let mant = if rest.is_empty() && !alt {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        format!("{mant}e{}", exp_text(exp))
    }
}

/// Parses Python float text (`float("1e3")`, `"inf"`, `" -2.5 "`).
pub fn parse(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_lowercase().replace('_', "");
    match t.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => return Some(f64::NAN),
        _ => {}
    }
    if t.is_empty() || t.contains("inf") || t.contains("nan") {
        return None;
    }
    t.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_cpython() {
        for (f, want) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.6, "123456789012345.6"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (-0.0, "-0.0"),
            (2.5e-7, "2.5e-07"),
            (1e100, "1e+100"),
            (f64::INFINITY, "inf"),
            (1.0 / 3.0, "0.3333333333333333"),
        ] {
            assert_eq!(repr(f), want, "{f}");
        }
    }

    #[test]
    fn general_format() {
        assert_eq!(general(1234567.0, 6, false, false), "1.23457e+06");
        assert_eq!(general(0.0001234, 6, false, false), "0.0001234");
        assert_eq!(general(100.0, 6, false, false), "100");
        assert_eq!(general(3.14159, 3, false, false), "3.14");
        assert_eq!(sci(12345.678, 2), "1.23e+04");
        assert_eq!(fixed(2.675, 2), "2.67");
    }
}
