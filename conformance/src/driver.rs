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
use crate::report::{Outcome, Verdict};

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
    /// Floats must be bit-identical to the oracle's, unless a case names its tolerance.
    pub exact: bool,
    /// The checkout the driver belongs to.
    workspace: PathBuf,
}

#[derive(Deserialize)]
struct Reply {
    verdict: String,
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
            exact: false,
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
            .args(self.exact.then_some("--exact"))
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
    pub fn run_case(&mut self, case: &Case, dir: &Path) -> Result<Outcome, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        // The session runs in a directory of its own: hand it absolute paths.
        let path = std::fs::canonicalize(&case.path).map_err(|e| format!("{}: {e}", case.path.display()))?;
        let dir = std::fs::canonicalize(dir).map_err(|e| e.to_string())?;
        let request = serde_json::json!({ "case": path, "out": dir });
        writeln!(self.stdin, "{request}").map_err(|e| format!("the client session is gone: {e}"))?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let line = self.next_line(self.timeout)?;
        let reply: Reply = serde_json::from_str(&line).map_err(|e| format!("bad reply {line:?}: {e}"))?;
        let verdict = Verdict::parse(&reply.verdict).ok_or_else(|| format!("unknown verdict {}", reply.verdict))?;
        let remote = reply.remote.unwrap_or_default();
        // A server that says it does not run something is MISSING, not broken.
        // (A case its oracle cannot judge stays INFO whatever the server said.)
        let verdict = if matches!(verdict, Verdict::Fail | Verdict::Wrong) && !remote.ok && says_unsupported(&remote.message) {
            Verdict::Missing
        } else {
            verdict
        };
        let message = if verdict == Verdict::Missing {
            remote.message
        } else if reply.message.is_empty() {
            reply.details.to_string()
        } else {
            reply.message
        };
        let mut outcome = Outcome::new(case, verdict, message);
        let mut details = serde_json::json!({"values": reply.details});
        if let Some(cached) = reply.oracle_cached {
            details["oracle"] = if cached { "cached" } else { "run" }.into();
        }
        if let Some(t) = reply.transcript {
            details["transcript"] = t.into();
        }
        outcome.details = details;
        Ok(outcome)
    }
}

/// The rule that makes a failure MISSING, the same for every server: the error the
/// client raised ends with nnsight's and Python's form for an absent feature, a
/// `NotImplementedError` (bare or qualified, as a remote traceback's last line or a
/// `RemoteError`'s text; the line nnsight 0.5 adds after it aside). Words in other errors
/// decide nothing: `TypeError: unsupported operand type(s)` is a real failure, not a
/// missing feature.
pub fn says_unsupported(message: &str) -> bool {
    // nnsight 0.5's RemoteException appends a line of its own to the server's text.
    let message = message.trim_end().strip_suffix("\nRemote exception.").unwrap_or(message);
    let Some(last) = message.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return false;
    };
    // `RemoteError: NotImplementedError: ...` (0.8's wrapper) or the bare final line.
    let last = last.strip_prefix("RemoteError: ").unwrap_or(last);
    let ty = last.split(':').next().unwrap_or("");
    ty.rsplit('.').next() == Some("NotImplementedError") && !ty.contains(' ')
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::{CLIENTS_05, Driver, says_unsupported};

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

    #[test]
    fn missing_is_a_not_implemented_error_and_nothing_else() {
        assert!(says_unsupported("RemoteError: NotImplementedError: localndif does not support torch.fft yet"));
        assert!(says_unsupported("Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    f()\nNotImplementedError: localndif does not support the builtin `__import__()` yet\n"));
        assert!(says_unsupported("builtins.NotImplementedError: fft"));
        assert!(says_unsupported("Traceback (most recent call last):\nNotImplementedError: localndif does not support `numpy.fft` yet\nRemote exception."));
        // The words of other errors do not make a failure MISSING.
        assert!(!says_unsupported("TypeError: unsupported operand type(s) for +: 'int' and 'str'"));
        assert!(!says_unsupported("ValueError: gradients on CUDA are not supported by this server"));
        assert!(!says_unsupported("RuntimeError: not implemented for 'Half'"));
        assert!(!says_unsupported("AttributeError: 'Envoy' object has no attribute 'x'"));
        // The last exception decides, not an earlier one in the chain.
        assert!(!says_unsupported("NotImplementedError: a\n\nDuring handling of the above exception, another exception occurred:\n\nKeyError: 'b'"));
        assert!(!says_unsupported(""));
    }
}
