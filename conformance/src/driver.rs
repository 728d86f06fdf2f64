//! Drivers: the real nnsight client, run from the pinned `.venv` as one long-lived Python
//! process (`drivers/session.py`) that imports nnsight once and runs each case twice —
//! locally as the oracle and against the server — and answers with `drivers/compare.py`'s
//! verdict. A case that does not answer in time ends the session; the next case starts a
//! fresh one.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde::Deserialize;

use crate::case::Case;
use crate::report::Outcome;
use crate::verdict::{Evidence, decide};

/// The nnsight 0.5.x releases `make venv` installs (`--client 0.5` is the newest).
pub const CLIENTS_05: [&str; 4] = ["0.5.0", "0.5.10", "0.5.13", "0.5.15"];

/// The server under test and the model it serves to the client.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// The repo id the client names (it goes into the model key).
    pub repo_id: String,
    /// The same weights, for the local oracle run.
    pub model_dir: PathBuf,
}

/// The numerical policy of a run (docs/conformance.md, "Numerics"): how close a server's
/// floats must be to the oracle's. Integers, booleans, strings, dtypes and shapes are
/// compared exactly under every policy; a case's own `TOLERANCE` wins over the policy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Numerics {
    /// Bit-identical floats, the oracle running at the server's advertised intra-op
    /// threads and attention implementation (localndif's promise in fp32 on CPU).
    Exact,
    /// float32 on CPU with other settings: rtol 1e-5, atol 1e-6.
    Fp32,
    /// bfloat16/float16 weights: rtol 2e-2, atol 2e-2.
    Bf16,
    /// float32 on a GPU (other kernels than the CPU oracle's): rtol 1e-4, atol 1e-4.
    Gpu,
}

impl Numerics {
    pub fn as_str(self) -> &'static str {
        match self {
            Numerics::Exact => "exact",
            Numerics::Fp32 => "fp32",
            Numerics::Bf16 => "bf16",
            Numerics::Gpu => "gpu",
        }
    }
}

pub struct Driver {
    pub python: PathBuf,
    pub drivers: PathBuf,
    /// How long one case (both runs) may take.
    pub case_timeout: Duration,
    /// How the clients find the model: `hub` (the server is the Hub for its models) or
    /// `dir` (a local directory stands in, for servers without a Hub endpoint).
    pub via: String,
    /// Directories put first on the client's `PYTHONPATH`: another nnsight installed with
    /// `pip --target` (`<workspace>/.nnsight-0.7.0` for the G1 client,
    /// `.nnsight-0.5.<n>` and `.nnsight-0.5-deps` for a 0.5.x client, see
    /// [`Driver::client`]); empty runs the `.venv`'s own (0.8.x).
    pub pythonpath: Vec<PathBuf>,
    /// Where oracle runs are kept and reused (`session.py --oracle-cache`); `None`: every
    /// case runs its oracle.
    pub oracle_cache: Option<PathBuf>,
    /// Client sessions that run cases side by side (`--jobs`).
    pub jobs: usize,
    /// torch's intra-op threads for the oracle (`session.py --threads`): `auto` (what
    /// the server advertises for the model in `/status`), `default` or a count.
    pub oracle_threads: String,
    /// How floats are compared (`--numerics`): bit for bit, or within a tolerance.
    pub numerics: Numerics,
    /// The checkout the driver belongs to.
    workspace: PathBuf,
}

#[derive(Deserialize)]
struct Reply {
    /// What the session observed (`crate::verdict::Evidence::from_basis`); the verdict
    /// is decided here, never by the driver.
    basis: String,
    /// Every compared value matched (`values`), or the server raised the declared error
    /// (`error`).
    #[serde(default)]
    equal: bool,
    #[serde(default)]
    details: serde_json::Value,
    #[serde(default)]
    message: String,
    #[serde(default)]
    remote: Option<RunOutcome>,
    /// The oracle's values came from the cache (`--oracle-cache`).
    #[serde(default)]
    oracle_cached: Option<bool>,
    /// The statuses the client handled, in order.
    #[serde(default)]
    transcript: Option<Vec<String>>,
    /// The numerics policy the values were compared under (tolerances, threads).
    #[serde(default)]
    numerics: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct RunOutcome {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    message: String,
}

impl Driver {
    /// The drivers and interpreter of this checkout (`<workspace>/.venv`), unless overridden.
    pub fn from_workspace(workspace: &Path) -> Driver {
        let python = std::env::var_os("LOCALNDIF_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join(".venv/bin/python"));
        Driver {
            python,
            drivers: workspace.join("conformance/drivers"),
            case_timeout: Duration::from_secs(180),
            via: "hub".into(),
            pythonpath: Vec::new(),
            oracle_cache: None,
            jobs: 1,
            oracle_threads: "auto".into(),
            numerics: Numerics::Fp32,
            workspace: workspace.to_path_buf(),
        }
    }

    /// Chooses the client: `"0.8"` (the `.venv`'s nnsight 0.8.1), `"0.7"` (nnsight 0.7.0
    /// from `<workspace>/.nnsight-0.7.0`) or a 0.5.x client: `"0.5"` (0.5.15) or one of
    /// [`CLIENTS_05`] exactly (from `<workspace>/.nnsight-<version>`, with the
    /// dependencies they share from `.nnsight-0.5-deps`). `make venv` installs them all.
    /// A missing install is an error, never a silent fall back to another client.
    pub fn client(&mut self, version: &str) -> Result<(), String> {
        let installed = |name: &str| {
            let dir = self.workspace.join(name);
            if dir.join("nnsight").is_dir() || (name.ends_with("-deps") && dir.is_dir()) {
                Ok(dir)
            } else {
                Err(format!("{name} is not installed in {} (run `make venv`)", self.workspace.display()))
            }
        };
        self.pythonpath = match version {
            "0.8" => Vec::new(),
            "0.7" => vec![installed(".nnsight-0.7.0")?],
            "0.5" => return self.client(CLIENTS_05[CLIENTS_05.len() - 1]),
            v if CLIENTS_05.contains(&v) => {
                vec![installed(&format!(".nnsight-{v}"))?, installed(".nnsight-0.5-deps")?]
            }
            other => {
                return Err(format!("unknown client '{other}' (0.8, 0.7, 0.5 or one of {})", CLIENTS_05.join(", ")));
            }
        };
        Ok(())
    }

    /// Starts a client session against `target` (imports nnsight, builds both models).
    pub fn session(&self, target: &Target) -> Result<Session, String> {
        let mut command = Command::new(&self.python);
        if !self.pythonpath.is_empty() {
            let path = std::env::join_paths(&self.pythonpath).map_err(|e| e.to_string())?;
            command.env("PYTHONPATH", path);
        }
        let mut child = command
            .arg(self.drivers.join("session.py"))
            .arg("--model-dir")
            .arg(&target.model_dir)
            .args(["--repo-id", &target.repo_id, "--host", &target.url, "--via", &self.via])
            .args(self.oracle_cache.iter().flat_map(|d| [std::ffi::OsStr::new("--oracle-cache"), d.as_os_str()]))
            .args(["--threads", &self.oracle_threads])
            .args(["--numerics", self.numerics.as_str()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", self.python.display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut session = Session { child, stdin, lines, timeout: self.case_timeout };
        let hello = session.next_line(Duration::from_secs(120))?;
        let ready: serde_json::Value =
            serde_json::from_str(&hello).map_err(|e| format!("the session said {hello:?}: {e}"))?;
        if ready["ready"] != true {
            return Err(format!("the client session did not start: {}", ready["error"]));
        }
        Ok(session)
    }
}

/// A running client session; killed when dropped.
pub struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    timeout: Duration,
}

impl Session {
    fn next_line(&mut self, timeout: Duration) -> Result<String, String> {
        self.lines
            .recv_timeout(timeout)
            .map_err(|e| match e {
                mpsc::RecvTimeoutError::Timeout => format!("no answer within {}s", timeout.as_secs()),
                mpsc::RecvTimeoutError::Disconnected => "the client session ended".to_string(),
            })
    }

    /// Runs one case (oracle, server, comparison); `Err` means the session is unusable.
    /// `timeout`: how long the case may take (`crate::server::Settings::case_timeout`);
    /// `unmet`: why the server cannot be judged by it (`NEEDS`), when it cannot — the
    /// session then runs nothing and reports that, unless the case is not for this client.
    pub fn run_case(&mut self, case: &Case, dir: &Path, timeout: Duration, unmet: Option<&str>) -> Result<Outcome, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        // The session runs in a directory of its own: hand it absolute paths.
        let path = std::fs::canonicalize(&case.path).map_err(|e| format!("{}: {e}", case.path.display()))?;
        let dir = std::fs::canonicalize(dir).map_err(|e| e.to_string())?;
        let request = serde_json::json!({ "case": path, "out": dir, "unmet": unmet });
        writeln!(self.stdin, "{request}").map_err(|e| format!("the client session is gone: {e}"))?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let line = self.next_line(timeout.min(self.timeout))?;
        let reply: Reply = serde_json::from_str(&line).map_err(|e| format!("bad reply {line:?}: {e}"))?;
        let remote = reply.remote.unwrap_or_default();
        // The client's error text is the evidence for a failed run; the session's message
        // (or its details) for the rest.
        let text = if matches!(reply.basis.as_str(), "run_failed" | "server_misbehaved") && !remote.ok && !remote.message.is_empty() {
            remote.message
        } else if reply.basis == "values" {
            values_summary(&reply.details)
        } else if reply.message.is_empty() {
            reply.details.to_string()
        } else {
            reply.message
        };
        let evidence = Evidence::from_basis(&reply.basis, reply.equal, &text)?;
        let mut outcome = Outcome::new(case, decide(&evidence), text);
        let mut details = serde_json::json!({"values": reply.details});
        if let Some(cached) = reply.oracle_cached {
            details["oracle"] = if cached { "cached" } else { "run" }.into();
        }
        if let Some(t) = reply.transcript {
            details["transcript"] = t.into();
        }
        if let Some(n) = reply.numerics {
            details["numerics"] = n;
        }
        outcome.details = details;
        Ok(outcome)
    }
}

/// One line for compared values: what differs, or how close the values were.
fn values_summary(details: &serde_json::Value) -> String {
    let values = details.as_array().map(Vec::as_slice).unwrap_or_default();
    let differ: Vec<&str> = values.iter().filter(|v| v["ok"] != true).filter_map(|v| v["why"].as_str()).collect();
    if !differ.is_empty() {
        return differ.join("; ");
    }
    let abs = values.iter().filter_map(|v| v["max_abs_diff"].as_f64()).fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
    let ulp = values.iter().filter_map(|v| v["max_ulp"].as_u64()).max();
    match (abs, ulp) {
        (Some(a), Some(0)) if a == 0.0 => format!("{} values match, floats bit-identical", values.len()),
        (Some(a), Some(u)) => format!("{} values match; largest float difference {a:.3e} ({u} ULP)", values.len()),
        (Some(a), None) => format!("{} values match; largest float difference {a:.3e}", values.len()),
        _ => format!("{} values match", values.len()),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::{CLIENTS_05, Driver};

    #[test]
    fn compared_values_are_summed_up_in_one_line() {
        let v = |ok: bool, abs: f64, ulp: u64, why: &str| serde_json::json!({"ok": ok, "max_abs_diff": abs, "max_ulp": ulp, "why": why});
        assert_eq!(super::values_summary(&serde_json::json!([v(true, 0.0, 0, "match"), v(true, 0.0, 0, "match")])), "2 values match, floats bit-identical");
        assert_eq!(super::values_summary(&serde_json::json!([v(true, 2e-7, 3, "match")])), "1 values match; largest float difference 2.000e-7 (3 ULP)");
        assert_eq!(super::values_summary(&serde_json::json!([v(true, 0.0, 0, "match"), v(false, 1e-3, 9, "x: values differ")])), "x: values differ");
        assert_eq!(super::values_summary(&serde_json::json!([{"ok": true, "max_abs_diff": null, "why": "match"}])), "1 values match");
    }

    #[test]
    fn a_client_is_its_installed_folders_on_pythonpath() {
        let ws = std::env::temp_dir().join(format!("localndif-driver-clients-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ws);
        for dir in [".nnsight-0.7.0/nnsight", ".nnsight-0.5.15/nnsight", ".nnsight-0.5.0/nnsight", ".nnsight-0.5-deps"] {
            std::fs::create_dir_all(ws.join(dir)).unwrap();
        }
        let mut driver = Driver::from_workspace(&ws);
        driver.client("0.8").unwrap();
        assert!(driver.pythonpath.is_empty());
        driver.client("0.7").unwrap();
        assert_eq!(driver.pythonpath, [ws.join(".nnsight-0.7.0")]);
        // "0.5" is the newest 0.5.x; an exact version is that one, each with the shared deps.
        driver.client("0.5").unwrap();
        assert_eq!(driver.pythonpath, [ws.join(".nnsight-0.5.15"), ws.join(".nnsight-0.5-deps")]);
        assert_eq!(CLIENTS_05.last(), Some(&"0.5.15"));
        driver.client("0.5.0").unwrap();
        assert_eq!(driver.pythonpath, [ws.join(".nnsight-0.5.0"), ws.join(".nnsight-0.5-deps")]);
        // Not installed, or not a client: an error naming it, never another client.
        let err = driver.client("0.5.13").unwrap_err();
        assert!(err.contains(".nnsight-0.5.13") && err.contains("make venv"), "{err}");
        assert!(driver.client("0.5.7").unwrap_err().contains("unknown client"));
        let _ = std::fs::remove_dir_all(&ws);
    }
}
