//! What the server under test says about its own settings (`GET /env`: `limits`,
//! `features`), and the rule for cases that depend on them: a case declares what it needs
//! (`NEEDS = {"limits.timeout_s": 120}`); a server that does not advertise it, or
//! advertises another value, makes the case INFO with the reason — never a FAIL for the
//! server's configuration. A need on `limits.timeout_s` also bounds how long the case
//! waits: the advertised limit plus a margin for the client, not the global `--timeout`.

use std::time::Duration;

use serde_json::Value;

/// A case's needs: setting path (`limits.timeout_s`, `features.stream_local`) → what it
/// must be: a number (advertised, at most this), a bool (advertised, equal) or null
/// (advertised, any value).
pub type Needs = serde_json::Map<String, Value>;

/// The margin a case that waits for the server's job time limit gets on top of it: the
/// client's own polling and download.
const MARGIN: Duration = Duration::from_secs(45);

/// The server's advertised settings; empty when it advertises none.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    env: Value,
}

impl Settings {
    /// Reads `GET {url}/env`; a server without it (or without JSON there) advertises nothing.
    pub fn read(url: &str) -> Settings {
        let env = crate::native::http::get(url, "/env").ok().filter(|r| r.status == 200).and_then(|r| r.json().ok()).unwrap_or(Value::Null);
        Settings { env }
    }

    pub fn from_env(env: Value) -> Settings {
        Settings { env }
    }

    fn advertised(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(&self.env, |v, key| v.get(key)).filter(|v| !v.is_null())
    }

    /// Why the server cannot be judged by a case with `needs`, or `None` when it meets them.
    pub fn unmet(&self, needs: &Needs) -> Option<String> {
        let mut why = Vec::new();
        for (path, want) in needs {
            let Some(have) = self.advertised(path) else {
                why.push(format!("the server does not advertise `{path}` (GET /env)"));
                continue;
            };
            let ok = match want {
                Value::Null => true,
                Value::Bool(b) => have.as_bool() == Some(*b),
                Value::Number(n) => matches!((have.as_f64(), n.as_f64()), (Some(h), Some(w)) if h <= w),
                _ => false,
            };
            if !ok {
                why.push(match want {
                    Value::Number(n) => format!("`{path}` is {have} on this server; the case judges a server whose `{path}` is at most {n}"),
                    _ => format!("`{path}` is {have} on this server; the case needs {want}"),
                });
            }
        }
        (!why.is_empty()).then(|| format!("cannot judge this server: {}", why.join("; ")))
    }

    /// How long a case with `needs` may take: the advertised job time limit plus a margin
    /// when it needs one, else `default` (never more than `default`).
    pub fn case_timeout(&self, needs: &Needs, default: Duration) -> Duration {
        match (needs.contains_key("limits.timeout_s"), self.advertised("limits.timeout_s").and_then(Value::as_f64)) {
            (true, Some(s)) if s.is_finite() && s >= 0.0 => (Duration::from_secs_f64(s) + MARGIN).min(default),
            _ => default,
        }
    }
}

/// A case file's `NEEDS = {...}` line (a Python dict literal of strings, numbers,
/// `True`/`False`/`None`), or an empty map when it has none.
pub fn parse_needs(text: &str) -> Result<Needs, String> {
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("NEEDS =").or_else(|| l.strip_prefix("NEEDS="))) else {
        return Ok(Needs::new());
    };
    let json = line.trim().replace("True", "true").replace("False", "false").replace("None", "null");
    serde_json::from_str(&json).map_err(|e| format!("NEEDS must be a one-line dict of settings: {e}: {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::from_env(serde_json::json!({
            "limits": {"timeout_s": 10.0, "max_steps": 5_000_000},
            "features": {"stream_local": false},
        }))
    }

    #[test]
    fn a_need_is_met_only_by_what_the_server_advertises() {
        let s = settings();
        assert_eq!(s.unmet(&parse_needs("NEEDS = {\"limits.timeout_s\": 120}").unwrap()), None);
        assert_eq!(s.unmet(&parse_needs("NEEDS = {\"features.stream_local\": False}").unwrap()), None);
        assert_eq!(s.unmet(&parse_needs("NEEDS = {\"limits.max_steps\": None}").unwrap()), None);
        let why = s.unmet(&parse_needs("NEEDS = {\"limits.timeout_s\": 5}").unwrap()).unwrap();
        assert!(why.contains("at most 5"), "{why}");
        let why = s.unmet(&parse_needs("NEEDS = {\"features.stream_local\": True}").unwrap()).unwrap();
        assert!(why.contains("features.stream_local"), "{why}");
        let why = s.unmet(&parse_needs("NEEDS = {\"limits.tensor_budget\": None}").unwrap()).unwrap();
        assert!(why.contains("does not advertise `limits.tensor_budget`"), "{why}");
        // A server that advertises nothing cannot be judged by any case that needs something.
        assert!(Settings::default().unmet(&parse_needs("NEEDS = {\"limits.timeout_s\": 600}").unwrap()).is_some());
        assert_eq!(Settings::default().unmet(&parse_needs("x = 1").unwrap()), None);
    }

    #[test]
    fn a_case_that_waits_for_the_time_limit_waits_for_that_limit() {
        let s = settings();
        let needs = parse_needs("NEEDS = {\"limits.timeout_s\": 120}").unwrap();
        assert_eq!(s.case_timeout(&needs, Duration::from_secs(180)), Duration::from_secs(10) + MARGIN);
        assert_eq!(s.case_timeout(&needs, Duration::from_secs(20)), Duration::from_secs(20));
        assert_eq!(s.case_timeout(&Needs::new(), Duration::from_secs(180)), Duration::from_secs(180));
        assert!(parse_needs("NEEDS = {limits: 1}").is_err());
    }
}
