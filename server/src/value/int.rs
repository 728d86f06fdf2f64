//! Python `int`: arbitrary precision with an `i64` fast path and a bounded size (the
//! `--max-int-bits` cap, so `10 ** 10 ** 9` is a clear error instead of a stalled job).
//! Floor division and modulo take the divisor's sign; true division is correctly rounded.

use std::cmp::Ordering;
use std::rc::Rc;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::Value;
use super::ctx;
use super::error::{PyErr, PyResult};

/// CPython's `sys.int_info.default_max_str_digits`.
pub const MAX_STR_DIGITS: usize = 4300;

pub fn normalize(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Rc::new(b)),
    }
}

/// The value as a BigInt, for ints and bools.
pub fn big(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Bool(b) => Some(BigInt::from(i64::from(*b))),
        Value::BigInt(b) => Some((**b).clone()),
        _ => None,
    }
}

pub fn is_int(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Bool(_) | Value::BigInt(_))
}

fn checked(b: BigInt) -> PyResult<Value> {
    let cap = ctx::caps().max_int_bits;
    if b.bits() > cap {
        return Err(too_big(b.bits()));
    }
    Ok(normalize(b))
}

fn too_big(bits: u64) -> PyErr {
    PyErr::memory(format!(
        "an int of {bits} bits exceeds localndif's limit of {} bits (--max-int-bits)",
        ctx::caps().max_int_bits
    ))
}

pub fn add(a: &Value, b: &Value) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int())
        && let Some(r) = x.checked_add(y)
    {
        return Ok(Value::Int(r));
    }
    checked(big(a).unwrap_or_default() + big(b).unwrap_or_default())
}

pub fn sub(a: &Value, b: &Value) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int())
        && let Some(r) = x.checked_sub(y)
    {
        return Ok(Value::Int(r));
    }
    checked(big(a).unwrap_or_default() - big(b).unwrap_or_default())
}

pub fn mul(a: &Value, b: &Value) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int())
        && let Some(r) = x.checked_mul(y)
    {
        return Ok(Value::Int(r));
    }
    let (x, y) = (big(a).unwrap_or_default(), big(b).unwrap_or_default());
    if x.bits() + y.bits() > ctx::caps().max_int_bits + 1 {
        return Err(too_big(x.bits() + y.bits()));
    }
    checked(x * y)
}

pub fn neg(a: &Value) -> PyResult<Value> {
    if let Some(x) = a.as_int()
        && let Some(r) = x.checked_neg()
    {
        return Ok(Value::Int(r));
    }
    checked(-big(a).unwrap_or_default())
}

pub fn abs(a: &Value) -> PyResult<Value> {
    if let Some(x) = a.as_int()
        && let Some(r) = x.checked_abs()
    {
        return Ok(Value::Int(r));
    }
    checked(big(a).unwrap_or_default().abs())
}

fn zero_div(what: &str) -> PyErr {
    PyErr::zero_division(what.to_string())
}

/// `a // b` (floor).
pub fn floordiv(a: &Value, b: &Value) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        if y == 0 {
            return Err(zero_div("integer division or modulo by zero"));
        }
        if x != i64::MIN || y != -1 {
            return Ok(Value::Int(Integer::div_floor(&x, &y)));
        }
    }
    let (x, y) = (big(a).unwrap_or_default(), big(b).unwrap_or_default());
    if y.is_zero() {
        return Err(zero_div("integer division or modulo by zero"));
    }
    checked(Integer::div_floor(&x, &y))
}

/// `a % b` (sign of the divisor).
pub fn modulo(a: &Value, b: &Value) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        if y == 0 {
            return Err(zero_div("integer modulo by zero"));
        }
        if x != i64::MIN || y != -1 {
            return Ok(Value::Int(Integer::mod_floor(&x, &y)));
        }
    }
    let (x, y) = (big(a).unwrap_or_default(), big(b).unwrap_or_default());
    if y.is_zero() {
        return Err(zero_div("integer modulo by zero"));
    }
    checked(Integer::mod_floor(&x, &y))
}

/// `a / b` for ints: the correctly rounded float quotient (CPython's long_true_divide).
pub fn truediv(a: &Value, b: &Value) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        if y == 0 {
            return Err(zero_div("division by zero"));
        }
        const EXACT: i64 = 1 << 53;
        if x.abs() <= EXACT && y.abs() <= EXACT {
            return Ok(Value::Float(x as f64 / y as f64));
        }
    }
    let (x, y) = (big(a).unwrap_or_default(), big(b).unwrap_or_default());
    if y.is_zero() {
        return Err(zero_div("division by zero"));
    }
    Ok(Value::Float(div_to_f64(&x, &y)?))
}

/// `x / y` correctly rounded (round half to even), or OverflowError.
fn div_to_f64(x: &BigInt, y: &BigInt) -> PyResult<f64> {
    let negative = (x.sign() == Sign::Minus) != (y.sign() == Sign::Minus);
    let (x, y) = (x.abs(), y.abs());
    if x.is_zero() {
        return Ok(if negative { -0.0 } else { 0.0 });
    }
    // Scale so the integer quotient has 55 significant bits (53 + guard + round), then
    // fold the remainder into a sticky bit and round once.
    let shift: i64 = 55 - (x.bits() as i64 - y.bits() as i64);
    let (num, den) = if shift >= 0 {
        (x << shift as usize, y)
    } else {
        (x, y << (-shift) as usize)
    };
    let (q, r) = num.div_rem(&den);
    let mut q = q.to_u64().unwrap_or(u64::MAX);
    if !r.is_zero() {
        q |= 1;
    }
    // q has 55 or 56 bits; normalize to exactly 55 (keeping stickiness) and round to 53.
    let mut exp = -shift;
    while q >= (1u64 << 56) {
        q = (q >> 1) | (q & 1);
        exp += 1;
    }
    // q in [2^54, 2^56): reduce to 53 bits with round-half-even.
    let extra = 64 - q.leading_zeros() as i64 - 53;
    let mut mant = q >> extra;
    let rem = q & ((1u64 << extra) - 1);
    let half = 1u64 << (extra - 1);
    if rem > half || (rem == half && mant & 1 == 1) {
        mant += 1;
    }
    exp += extra;
    let result = ldexp(mant as f64, exp);
    if result.is_infinite() {
        return Err(PyErr::overflow("integer division result too large for a float"));
    }
    Ok(if negative { -result } else { result })
}

fn ldexp(x: f64, mut e: i64) -> f64 {
    let mut x = x;
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e as i32)
}

/// `a ** b` for ints (`b` negative gives a float, like Python).
pub fn pow(a: &Value, b: &Value) -> PyResult<Value> {
    let e = big(b).unwrap_or_default();
    if e.is_negative() {
        let base = to_f64(a)?;
        let exp = to_f64(b)?;
        if base == 0.0 {
            return Err(zero_div("0.0 cannot be raised to a negative power"));
        }
        return Ok(Value::Float(base.powf(exp)));
    }
    let x = big(a).unwrap_or_default();
    if x.is_zero() || x.is_one() {
        return Ok(if e.is_zero() { Value::Int(1) } else { normalize(x) });
    }
    if x == BigInt::from(-1) {
        return Ok(Value::Int(if e.is_even() { 1 } else { -1 }));
    }
    let cap = ctx::caps().max_int_bits;
    let e_small = e.to_u64().unwrap_or(u64::MAX);
    // bits(x^e) ≥ (bits(x) - 1) * e + 1: refuse before computing what cannot fit.
    let lower = (x.bits() - 1).saturating_mul(e_small).saturating_add(1);
    if lower > cap {
        return Err(too_big(lower));
    }
    if let (Some(xi), Ok(ei)) = (x.to_i64(), u32::try_from(e_small))
        && let Some(r) = xi.checked_pow(ei)
    {
        return Ok(Value::Int(r));
    }
    checked(x.pow(e_small as u32))
}

/// `pow(a, b, m)`.
pub fn pow_mod(a: &Value, b: &Value, m: &Value) -> PyResult<Value> {
    let (x, e, m) = (
        big(a).unwrap_or_default(),
        big(b).unwrap_or_default(),
        big(m).unwrap_or_default(),
    );
    if m.is_zero() {
        return Err(PyErr::value_error("pow() 3rd argument cannot be 0"));
    }
    let am = m.abs();
    let mut x = ((x % &am) + &am) % &am;
    let mut e = e;
    if e.is_negative() {
        // pow(x, -e, m) is pow(inverse of x mod m, e, m).
        use num_integer::Integer;
        let g = x.extended_gcd(&am);
        if !g.gcd.is_one() {
            return Err(PyErr::value_error("base is not invertible for the given modulus"));
        }
        x = ((g.x % &am) + &am) % &am;
        e = -e;
    }
    let r = x.modpow(&e, &am);
    let r = if m.is_negative() && !r.is_zero() { r + m } else { r };
    checked(r)
}

pub fn shift(a: &Value, b: &Value, left: bool) -> PyResult<Value> {
    let n = big(b).unwrap_or_default();
    if n.is_negative() {
        return Err(PyErr::value_error("negative shift count"));
    }
    let x = big(a).unwrap_or_default();
    if left {
        let n = n.to_u64().unwrap_or(u64::MAX);
        if x.is_zero() {
            return Ok(Value::Int(0));
        }
        if x.bits().saturating_add(n) > ctx::caps().max_int_bits {
            return Err(too_big(x.bits().saturating_add(n)));
        }
        checked(x << n as usize)
    } else {
        let n = n.to_u64().unwrap_or(u64::MAX);
        if n >= x.bits() + 1 {
            return Ok(Value::Int(if x.is_negative() { -1 } else { 0 }));
        }
        checked(x >> n as usize)
    }
}

pub fn bitop(a: &Value, b: &Value, op: char) -> PyResult<Value> {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        return Ok(Value::Int(match op {
            '&' => x & y,
            '|' => x | y,
            _ => x ^ y,
        }));
    }
    let (x, y) = (big(a).unwrap_or_default(), big(b).unwrap_or_default());
    checked(match op {
        '&' => x & y,
        '|' => x | y,
        _ => x ^ y,
    })
}

pub fn invert(a: &Value) -> PyResult<Value> {
    sub(&neg(a)?, &Value::Int(1))
}

pub fn cmp(a: &Value, b: &Value) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_int(), b.as_int()) {
        return x.cmp(&y);
    }
    big(a).unwrap_or_default().cmp(&big(b).unwrap_or_default())
}

pub fn is_zero(a: &Value) -> bool {
    match a {
        Value::Int(i) => *i == 0,
        Value::Bool(b) => !b,
        Value::BigInt(_) => false,
        _ => false,
    }
}

/// `float(int)`, or OverflowError.
pub fn to_f64(a: &Value) -> PyResult<f64> {
    match a {
        Value::Int(i) => Ok(*i as f64),
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Float(f) => Ok(*f),
        Value::BigInt(b) => {
            let f = div_to_f64(b, &BigInt::one())?;
            if f.is_infinite() {
                return Err(PyErr::overflow("int too large to convert to float"));
            }
            Ok(f)
        }
        _ => Err(PyErr::type_error("expected an int")),
    }
}

/// Exact comparison of an int with a float (`1 == 1.0`, `2**64 > 1e19`).
pub fn cmp_float(a: &Value, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    if let Some(i) = a.as_int()
        && i.unsigned_abs() < (1 << 53)
    {
        return (i as f64).partial_cmp(&f);
    }
    use num_traits::FromPrimitive;
    let x = big(a)?;
    let fl = f.floor();
    let fb = BigInt::from_f64(fl)?;
    match x.cmp(&fb) {
        Ordering::Equal if f > fl => Some(Ordering::Less),
        o => Some(o),
    }
}

/// `str(int)` with CPython's digit limit for huge values.
pub fn to_string(a: &Value) -> PyResult<String> {
    match a {
        Value::Int(i) => Ok(i.to_string()),
        Value::Bool(b) => Ok(if *b { "True" } else { "False" }.into()),
        Value::BigInt(b) => {
            // digits ≈ bits * log10(2); check before converting.
            let digits = (b.bits() as f64 * std::f64::consts::LOG10_2) as usize;
            if digits > MAX_STR_DIGITS {
                return Err(PyErr::value_error(format!(
                    "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"
                )));
            }
            Ok(b.to_string())
        }
        _ => Err(PyErr::type_error("expected an int")),
    }
}

/// `int(text, base)`.
pub fn parse(text: &str, base: u32) -> PyResult<Value> {
    let invalid = || {
        PyErr::value_error(format!(
            "invalid literal for int() with base {base}: {}",
            super::repr::repr_plain(&Value::str(text))
        ))
    };
    let t = text.trim();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (base, digits) = match base {
        0 => {
            let lower = digits.to_ascii_lowercase();
            if lower.starts_with("0x") {
                (16, &digits[2..])
            } else if lower.starts_with("0o") {
                (8, &digits[2..])
            } else if lower.starts_with("0b") {
                (2, &digits[2..])
            } else {
                (10, digits)
            }
        }
        16 if digits.to_ascii_lowercase().starts_with("0x") => (16, &digits[2..]),
        8 if digits.to_ascii_lowercase().starts_with("0o") => (8, &digits[2..]),
        2 if digits.to_ascii_lowercase().starts_with("0b") => (2, &digits[2..]),
        b => (b, digits),
    };
    let cleaned: String = digits.chars().filter(|&c| c != '_').collect();
    if cleaned.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err(invalid());
    }
    if base == 10 && cleaned.len() > MAX_STR_DIGITS {
        return Err(PyErr::value_error(format!(
            "Exceeds the limit ({MAX_STR_DIGITS} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            cleaned.len()
        )));
    }
    let b = BigInt::parse_bytes(cleaned.as_bytes(), base).ok_or_else(invalid)?;
    checked(if neg { -b } else { b })
}

/// An int literal from the parser.
pub fn from_literal(text: &str) -> PyResult<Value> {
    parse(text, 0)
}

pub fn bit_length(a: &Value) -> i64 {
    big(a).map_or(0, |b| b.bits() as i64)
}
