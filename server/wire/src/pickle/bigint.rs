//! Arbitrary-size ints as minimal little-endian two's complement bytes: the LONG1/LONG4
//! encoding (Python's `encode_long`), shared by the decoder and the torch.save writer.

use super::node::Node;

/// Drops redundant sign bytes; zero becomes the empty vector (as Python encodes it).
pub(crate) fn minimal(mut bytes: Vec<u8>) -> Vec<u8> {
    while let Some(&last) = bytes.last() {
        let below_negative = bytes.len() >= 2 && bytes[bytes.len() - 2] & 0x80 != 0;
        let redundant = match last {
            0x00 => !below_negative,
            0xff => bytes.len() >= 2 && below_negative,
            _ => false,
        };
        if !redundant {
            break;
        }
        bytes.pop();
    }
    bytes
}

/// The minimal LONG1 payload of an `i64`.
pub(crate) fn encode_i64(value: i64) -> Vec<u8> {
    minimal(value.to_le_bytes().to_vec())
}

/// An `Int` when the value fits in `i64`, else a minimal `BigInt`.
pub(crate) fn int_node(bytes: &[u8]) -> Node {
    let bytes = minimal(bytes.to_vec());
    if bytes.len() > 8 {
        return Node::BigInt(bytes);
    }
    let fill = if bytes.last().is_some_and(|b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut full = [fill; 8];
    full[..bytes.len()].copy_from_slice(&bytes);
    Node::Int(i64::from_le_bytes(full))
}

/// Parses an optionally signed decimal integer of any size.
pub(crate) fn from_decimal(text: &str) -> Option<Node> {
    if let Ok(value) = text.parse::<i64>() {
        return Some(Node::Int(value));
    }
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut magnitude = vec![0u8];
    for digit in digits {
        mul_add(&mut magnitude, 10, u32::from(digit - b'0'));
    }
    magnitude.push(0); // room for the sign bit
    if negative {
        negate(&mut magnitude);
    }
    Some(int_node(&magnitude))
}

/// Decimal text of a two's complement value (for canonical output).
pub(crate) fn to_decimal(bytes: &[u8]) -> String {
    let negative = bytes.last().is_some_and(|b| b & 0x80 != 0);
    let mut magnitude = bytes.to_vec();
    if negative {
        negate(&mut magnitude);
    }
    let mut digits = Vec::new();
    while magnitude.iter().any(|&b| b != 0) {
        digits.push(b'0' + div_small(&mut magnitude, 10));
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if negative {
        digits.push(b'-');
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

fn mul_add(bytes: &mut Vec<u8>, mul: u32, add: u32) {
    let mut carry = add;
    for byte in bytes.iter_mut() {
        let value = u32::from(*byte) * mul + carry;
        *byte = value as u8;
        carry = value >> 8;
    }
    while carry > 0 {
        bytes.push(carry as u8);
        carry >>= 8;
    }
}

/// Divides an unsigned little-endian magnitude in place, returning the remainder.
fn div_small(bytes: &mut [u8], divisor: u8) -> u8 {
    let mut remainder = 0u16;
    for byte in bytes.iter_mut().rev() {
        let value = (remainder << 8) | u16::from(*byte);
        *byte = (value / u16::from(divisor)) as u8;
        remainder = value % u16::from(divisor);
    }
    remainder as u8
}

/// Two's complement negation in place (invert, add one).
fn negate(bytes: &mut [u8]) {
    let mut carry = true;
    for byte in bytes.iter_mut() {
        let (value, overflow) = (!*byte).overflowing_add(u8::from(carry));
        *byte = value;
        carry = overflow;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_matches_python_encode_long() {
        assert_eq!(encode_i64(0), Vec::<u8>::new());
        assert_eq!(encode_i64(255), vec![0xff, 0x00]);
        assert_eq!(encode_i64(-1), vec![0xff]);
        assert_eq!(encode_i64(-128), vec![0x80]);
        assert_eq!(encode_i64(-129), vec![0x7f, 0xff]);
        assert_eq!(encode_i64(i64::MIN), vec![0, 0, 0, 0, 0, 0, 0, 0x80]);
    }

    #[test]
    fn big_decimal_round_trip() {
        let two_pow_200 = "1606938044258990275541962092341162602522202993782792835301376";
        let Some(Node::BigInt(bytes)) = from_decimal(two_pow_200) else {
            panic!("not a BigInt")
        };
        assert_eq!(bytes.len(), 26);
        assert_eq!(to_decimal(&bytes), two_pow_200);
        let Some(Node::BigInt(neg)) = from_decimal("-9223372036854775809") else {
            panic!("not a BigInt")
        };
        assert_eq!(to_decimal(&neg), "-9223372036854775809");
        assert_eq!(
            from_decimal("-9223372036854775808"),
            Some(Node::Int(i64::MIN))
        );
    }

    #[test]
    fn int_node_sign_extends() {
        assert_eq!(int_node(&[0xff]), Node::Int(-1));
        assert_eq!(
            int_node(&[0x00, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Node::Int(-32768)
        );
        assert_eq!(int_node(&[]), Node::Int(0));
    }
}
