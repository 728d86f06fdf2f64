//! Drivers: the real nnsight client, run as a Python subprocess from the pinned `.venv`
//! (`drivers/nnsight_case.py`), once locally as the oracle and once against the server,
//! then `drivers/compare.py` gives the numeric verdict.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::case::Case;
use crate::report::{Outcome, Verdict};

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
}

#[derive(Deserialize)]
struct Compared {
    verdict: String,
    #[serde(default)]
    details: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct ClientOutcome {
    #[serde(default)]
    ok: bool,
    #[serde(default)]
    error_type: String,
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
        }
    }

    fn client(
        &self,
        case: &Case,
        target: &Target,
        mode: &str,
        out: &Path,
    ) -> Result<ClientOutcome, String> {
        let status = Command::new(&self.python)
            .arg(self.drivers.join("nnsight_case.py"))
            .arg("--case")
            .arg(&case.path)
            .arg("--model-dir")
            .arg(&target.model_dir)
            .args([
                "--repo-id",
                &target.repo_id,
                "--mode",
                mode,
                "--host",
                &target.url,
                "--out",
            ])
            .arg(out)
            .status()
            .map_err(|e| format!("could not start {}: {e}", self.python.display()))?;
        if !status.success() {
            return Err(format!("the {mode} driver failed ({status})"));
        }
        let text = std::fs::read_to_string(out.join("outcome.json"))
            .map_err(|e| format!("no outcome.json: {e}"))?;
        serde_json::from_str(&text).map_err(|e| format!("bad outcome.json: {e}"))
    }

    /// Runs one case: oracle, server, comparison.
    pub fn run_case(&self, case: &Case, target: &Target, dir: &Path) -> Outcome {
        let (local, remote) = (dir.join("local"), dir.join("remote"));
        let result = (|| -> Result<Outcome, String> {
            std::fs::create_dir_all(&local).map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&remote).map_err(|e| e.to_string())?;
            // The oracle and the server run side by side: each is mostly Python start-up.
            let (oracle, served) = std::thread::scope(|scope| {
                let oracle = scope.spawn(|| self.client(case, target, "local", &local));
                let served = self.client(case, target, "remote", &remote);
                let oracle = oracle
                    .join()
                    .unwrap_or_else(|_| Err("the oracle driver panicked".into()));
                (oracle, served)
            });
            let (oracle, served) = (oracle?, served?);
            if !oracle.ok {
                return Ok(Outcome::new(
                    case,
                    Verdict::Info,
                    format!(
                        "the oracle failed: {}: {}",
                        oracle.error_type, oracle.message
                    ),
                ));
            }
            if !served.ok && served.message.contains("NotImplementedError") {
                return Ok(Outcome::new(case, Verdict::Missing, served.message));
            }
            let output = Command::new(&self.python)
                .arg(self.drivers.join("compare.py"))
                .arg(&local)
                .arg(&remote)
                .output()
                .map_err(|e| format!("could not run compare.py: {e}"))?;
            let compared: Compared = serde_json::from_slice(&output.stdout).map_err(|e| {
                format!(
                    "compare.py printed no verdict ({e}): {}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })?;
            let verdict = Verdict::parse(&compared.verdict)
                .ok_or_else(|| format!("unknown verdict {}", compared.verdict))?;
            let mut outcome = Outcome::new(case, verdict, compared.details.to_string());
            outcome.details = compared.details;
            Ok(outcome)
        })();
        result.unwrap_or_else(|why| Outcome::new(case, Verdict::Fail, why))
    }
}
