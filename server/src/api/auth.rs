//! API keys (`serve --api-keys FILE`, one `name:key` per line, `#` comments). With keys, a
//! submission needs a known `ndif-api-key` (else NDIF's 401 text), and a job's statuses,
//! result and WebSocket belong to the key that submitted it: another key, or none, gets
//! 404 as if the job did not exist. A G1 socket.io connection carries no key (nnsight
//! 0.5–0.7 send none on connect); its random sid is what lets a POST reach it, as with
//! NDIF. Without the flag the server is open, and says so when it starts.

use std::collections::HashMap;
use std::path::Path;

use axum::http::{HeaderMap, StatusCode};

use super::ApiError;

/// NDIF's text for a missing or unknown key (docs/protocol.md).
pub const INVALID_KEY: &str = "Missing or invalid API key. Please visit https://login.ndif.us/ to create a new one.";

/// Known keys → the names they were given.
#[derive(Debug, Default)]
pub struct Keys {
    by_key: HashMap<String, String>,
}

impl Keys {
    pub fn parse(text: &str) -> Result<Keys, String> {
        let mut by_key = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, key) = line
                .split_once(':')
                .map(|(a, b)| (a.trim(), b.trim()))
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
                .ok_or_else(|| format!("line {}: expected `name:key`", n + 1))?;
            if by_key.insert(key.to_string(), name.to_string()).is_some() {
                return Err(format!("line {}: the key of '{name}' is listed twice", n + 1));
            }
        }
        if by_key.is_empty() {
            return Err("no keys (expected `name:key` lines)".into());
        }
        Ok(Keys { by_key })
    }

    pub fn load(path: &Path) -> anyhow::Result<Keys> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--api-keys {}: {e}", path.display()))?;
        Keys::parse(&text).map_err(|e| anyhow::anyhow!("--api-keys {}: {e}", path.display()))
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    fn name(&self, key: &str) -> Option<&str> {
        self.by_key.get(key).map(String::as_str)
    }
}

fn header_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("ndif-api-key").and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty())
}

/// Who submits: `Ok(None)` when the server is open, the key's name when it is known,
/// else NDIF's 401.
pub fn submitter(keys: Option<&Keys>, headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(keys) = keys else { return Ok(None) };
    header_key(headers)
        .and_then(|k| keys.name(k))
        .map(|n| Some(n.to_string()))
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, INVALID_KEY))
}

/// Who reads: the key's name, or `None` (no key, an unknown one, or an open server).
pub fn reader(keys: Option<&Keys>, headers: &HeaderMap) -> Option<String> {
    let keys = keys?;
    header_key(headers).and_then(|k| keys.name(k)).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files() {
        let k = Keys::parse("# team keys\nalice: k1\n\nbob:k2\n").unwrap();
        assert_eq!((k.len(), k.name("k1"), k.name("k2"), k.name("k3")), (2, Some("alice"), Some("bob"), None));
        assert!(Keys::parse("alice k1").unwrap_err().contains("line 1"));
        assert!(Keys::parse("a:k\nb:k").unwrap_err().contains("twice"));
        assert!(Keys::parse("# nothing").is_err());
    }
}
