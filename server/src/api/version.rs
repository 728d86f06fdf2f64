//! `nnsight-version` gating (`serve --min-nnsight-version`) with NDIF's texts
//! (docs/protocol.md). Off by default: the server runs no Python, so neither the client's
//! nnsight nor its Python version has to match anything here.

use std::cmp::Ordering;

/// The release numbers of a PEP 440 version, and whether it is a pre-/dev-release
/// (`0.8.0rc1 < 0.8.0`). Local and post segments are ignored.
#[derive(Debug, Clone)]
pub struct Version {
    release: Vec<u64>,
    pre: bool,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches(['v', 'V']);
        let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (numbers, rest) = text.split_at(end);
        let numbers = numbers.trim_end_matches('.');
        if numbers.is_empty() {
            return None;
        }
        let release = numbers.split('.').map(|n| n.parse().ok()).collect::<Option<Vec<u64>>>()?;
        let rest = rest.to_ascii_lowercase();
        let pre = ["a", "b", "c", "rc", "alpha", "beta", "pre", "preview", ".dev", "dev", "-dev"]
            .iter()
            .any(|p| rest.starts_with(p));
        Some(Version { release, pre })
    }

    fn padded(&self, len: usize) -> Vec<u64> {
        let mut r = self.release.clone();
        r.resize(len, 0);
        r
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        self.padded(len)
            .cmp(&other.padded(len))
            .then_with(|| other.pre.cmp(&self.pre))
    }
}

/// Checks the `nnsight-version` header against `--min-nnsight-version`; the `Err` is the
/// 400's detail.
pub fn check(header: Option<&str>, min: Option<&str>) -> Result<(), String> {
    let Some(min) = min else { return Ok(()) };
    let client = header.map(str::trim).unwrap_or("");
    if client.is_empty() {
        return Err("Client nnsight version was not provided to the NDIF server. This likely means that you are using an outdated version of nnsight. Please update your nnsight version and try again.".into());
    }
    let (Some(have), Some(need)) = (Version::parse(client), Version::parse(min)) else {
        return Err(format!("Client nnsight version '{client}' is not a valid version. Please install nnsight from a release (`pip install --upgrade nnsight`) and try again."));
    };
    if have < need {
        return Err(format!("Client nnsight version {client} is incompatible with the server nnsight version. The minimum supported version is {min}. Please update nnsight to the latest version: `pip install --upgrade nnsight`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_order() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("0.7.0") < v("0.8.1"));
        assert!(v("0.8") == v("0.8.0"));
        assert!(v("0.8.0rc1") < v("0.8.0"));
        assert!(v("0.8.0.dev3") < v("0.8.0"));
        assert!(v("0.10.0") > v("0.9.9"));
        assert!(v("0.8.1+local") == v("0.8.1"));
        assert_eq!(Version::parse("unknown version"), None);
    }

    #[test]
    fn the_gate_uses_ndif_texts_and_is_off_by_default() {
        assert!(check(None, None).is_ok());
        assert!(check(Some("0.5.0"), None).is_ok());
        assert!(check(None, Some("0.7")).unwrap_err().starts_with("Client nnsight version was not provided"));
        assert!(check(Some(""), Some("0.7")).is_err());
        assert!(check(Some("0.6.3"), Some("0.7")).unwrap_err().contains("The minimum supported version is 0.7."));
        assert!(check(Some("0.7.0"), Some("0.7")).is_ok());
        assert!(check(Some("unknown version"), Some("0.7")).unwrap_err().contains("not a valid version"));
    }
}
