//! Source-text helpers for the layers that cut Python source apart and put it back
//! together (`request::g1`, `interleave::local`, `job::load`).

/// `textwrap.dedent` over lines: the indentation common to the non-blank lines is removed
/// from every line (a blank or shorter line loses its leading whitespace).
pub fn dedent<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| if l.len() >= indent && l.is_char_boundary(indent) { &l[indent..] } else { l.trim_start() })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn dedent_keeps_relative_indentation() {
        assert_eq!(super::dedent(&["    a", "", "      b", "  "]), ["a", "", "  b", ""]);
        assert_eq!(super::dedent(&["x", "  y"]), ["x", "  y"]);
    }
}
