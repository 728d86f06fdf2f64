//! The one rule that reads an operation name off a line of nnsight's `.source` listing: a
//! label, spaces, then `->` (python/source_ops.py checks the same rule against nnsight's
//! `Source.names`). Shared by the build script, which turns every listing into typed
//! operation names (`model::ops`), and by `model::source`, which serves the listings.

/// The operation a listing line names, if it names one.
pub fn label(line: &str) -> Option<&str> {
    let s = line.trim_start();
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    let (name, rest) = s.split_at(end);
    let first = name.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let rest = rest.trim_start();
    (rest.starts_with("->") && rest[2..].starts_with(char::is_whitespace)).then_some(name)
}
