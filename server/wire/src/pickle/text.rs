//! Protocol-0 text arguments (INT, LONG, FLOAT, STRING, UNICODE, GET/PUT), decoded like
//! CPython's `_pickle.c`: py2 string escapes, raw-unicode-escape (docs/protocol.md).

use super::bigint;
use super::error::ErrorKind;
use super::node::Node;

fn ascii<'a>(line: &'a [u8], what: &'static str) -> Result<&'a str, ErrorKind> {
    std::str::from_utf8(line)
        .ok()
        .filter(|text| text.is_ascii())
        .ok_or(ErrorKind::InvalidText(what))
}

/// INT: `00`/`01` are protocol-0 booleans, anything else a decimal int.
pub(super) fn int(line: &[u8]) -> Result<Node, ErrorKind> {
    match line {
        b"00" => Ok(Node::Bool(false)),
        b"01" => Ok(Node::Bool(true)),
        _ => bigint::from_decimal(ascii(line, "INT")?.trim()).ok_or(ErrorKind::InvalidText("INT")),
    }
}

/// LONG: a decimal int with an optional trailing `L`.
pub(super) fn long(line: &[u8]) -> Result<Node, ErrorKind> {
    let text = ascii(line, "LONG")?.trim();
    let digits = text.strip_suffix('L').unwrap_or(text);
    bigint::from_decimal(digits).ok_or(ErrorKind::InvalidText("LONG"))
}

/// FLOAT: Python `repr` text (`1.5`, `1e-08`, `inf`, `nan`).
pub(super) fn float(line: &[u8]) -> Result<f64, ErrorKind> {
    ascii(line, "FLOAT")?
        .trim()
        .parse()
        .map_err(|_| ErrorKind::InvalidText("FLOAT"))
}

/// GET / PUT: a non-negative decimal memo key.
pub(super) fn memo_key(line: &[u8]) -> Result<u64, ErrorKind> {
    ascii(line, "memo key")?
        .trim()
        .parse()
        .map_err(|_| ErrorKind::InvalidText("memo key"))
}

/// STRING: a quoted py2 `repr`, unescaped like `codecs.escape_decode`.
pub(super) fn quoted_string(line: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    let inner = match line {
        [q, inner @ .., last] if (*q == b'\'' || *q == b'"') && q == last => inner,
        _ => return Err(ErrorKind::InvalidText("STRING")),
    };
    escape_decode(inner)
}

fn escape_decode(input: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        if byte != b'\\' {
            out.push(byte);
            continue;
        }
        let Some((&esc, tail)) = rest.split_first() else {
            return Err(ErrorKind::InvalidText("STRING"));
        };
        rest = tail;
        match esc {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(esc),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let extra = rest
                    .iter()
                    .take(2)
                    .take_while(|b| (b'0'..=b'7').contains(*b))
                    .count();
                let value = std::iter::once(&esc)
                    .chain(&rest[..extra])
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(value as u8); // like CPython, \400 and up wrap to a byte
                rest = &rest[extra..];
            }
            b'x' => {
                let hex = rest.get(..2).ok_or(ErrorKind::InvalidText("STRING"))?;
                out.push(hex_value(hex).ok_or(ErrorKind::InvalidText("STRING"))? as u8);
                rest = &rest[2..];
            }
            other => out.extend_from_slice(&[b'\\', other]),
        }
    }
    Ok(out)
}

/// UNICODE: `raw-unicode-escape`: bytes are Latin-1 except `\uXXXX` and `\UXXXXXXXX`.
pub(super) fn raw_unicode_escape(line: &[u8]) -> Result<String, ErrorKind> {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        let width = match (byte, rest.first()) {
            (b'\\', Some(b'u')) => 4,
            (b'\\', Some(b'U')) => 8,
            // Any other backslash pair is kept verbatim (so `\\u` is not an escape).
            (b'\\', Some(&next)) => {
                out.extend(['\\', char::from(next)]);
                rest = &rest[1..];
                continue;
            }
            _ => {
                out.push(char::from(byte));
                continue;
            }
        };
        let hex = rest
            .get(1..=width)
            .ok_or(ErrorKind::InvalidText("UNICODE"))?;
        let ch = hex_value(hex)
            .and_then(char::from_u32)
            .ok_or(ErrorKind::InvalidText("UNICODE"))?;
        out.push(ch);
        rest = &rest[width + 1..];
    }
    Ok(out)
}

fn hex_value(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |acc, &d| {
        Some(acc.checked_mul(16)? + char::from(d).to_digit(16)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py2_string_escapes() {
        assert_eq!(
            quoted_string(br"'a\x41\n\101\\\q'").unwrap(),
            b"aA\nA\\\\q".to_vec()
        );
        assert_eq!(quoted_string(br#""it's""#).unwrap(), b"it's".to_vec());
        assert!(quoted_string(b"'unterminated").is_err());
        assert!(quoted_string(br"'\x4'").is_err());
    }

    #[test]
    fn raw_unicode_escape_rules() {
        assert_eq!(
            raw_unicode_escape(br"caf\u00e9 \U0001f600").unwrap(),
            "café 😀"
        );
        assert_eq!(raw_unicode_escape(b"\xe9").unwrap(), "é");
        assert_eq!(raw_unicode_escape(br"\\u0041").unwrap(), r"\\u0041");
        assert!(raw_unicode_escape(br"\ud800").is_err());
        assert!(raw_unicode_escape(br"\u12").is_err());
    }

    #[test]
    fn protocol0_ints() {
        assert_eq!(int(b"00").unwrap(), Node::Bool(false));
        assert_eq!(int(b"-42").unwrap(), Node::Int(-42));
        assert_eq!(
            long(b"18446744073709551616L").unwrap(),
            Node::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 0, 1])
        );
        assert!(int(b"4x").is_err());
    }
}
