//! What the end-to-end tests share: the server binary as a child process, and suites of
//! conformance cases run with the real clients against it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use localndif_conformance::{Driver, Numerics, Target, Verdict, discover, run_suite, write_report};

pub fn workspace() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A running server, killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
}

/// The server binary under test (`LOCALNDIF_BIN`, else the debug build).
pub fn binary() -> PathBuf {
    std::env::var_os("LOCALNDIF_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/debug/localndif"))
}

impl Server {
    pub fn start(args: &[&str]) -> Server {
        Server::launch("serve", args)
    }

    /// Starts `localndif SUBCOMMAND --port 0 ARGS…` and waits for the line saying where it listens.
    pub fn launch(subcommand: &str, args: &[&str]) -> Server {
        Server::launch_with(subcommand, args, &[])
    }

    /// [`Server::launch`] with extra environment variables.
    pub fn launch_with(subcommand: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let bin = binary();
        assert!(
            bin.exists(),
            "{} is missing: run `make test` (or `cargo build -p localndif`) first",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .args([subcommand, "--port", "0"])
            // Warnings only: a line per request and per job would bury the test output.
            .env("RUST_LOG", "warn")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        // Keep reading what else it prints, so its stdout never fills or closes.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = line
            .trim()
            .strip_prefix("localndif listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_string();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One suite run: the cases whose id matches `filter` (minus the `except` areas, `35.`, and
/// cases, `35.1`), with
/// one client version, against the model `repo_id` (weights in `model_dir`).
pub struct Suite<'a> {
    pub repo_id: &'a str,
    pub model_dir: &'a str,
    pub filter: &'a str,
    pub except: &'a [&'a str],
    pub label: &'a str,
    pub via: &'a str,
    pub client: &'a str,
    /// How long one case may take (a loaded 2-core machine runs the concurrency case
    /// slowly).
    pub case_timeout: std::time::Duration,
    /// Floats bit-identical to the oracle's, which runs at the server's advertised
    /// intra-op threads (localndif's promise; cases with a TOLERANCE say why not).
    pub numerics: Numerics,
}

impl<'a> Suite<'a> {
    /// GPT-2 fixture cases with the 0.8.1 client through the Hub endpoint.
    pub fn new(repo_id: &'a str, filter: &'a str, label: &'a str) -> Suite<'a> {
        Suite {
            repo_id,
            model_dir: "fixtures/models/tiny-gpt2",
            filter,
            except: &[],
            label,
            via: "hub",
            client: "0.8",
            case_timeout: std::time::Duration::from_secs(180),
            numerics: Numerics::Exact,
        }
    }

    /// Runs the suite against `server`; the cases that did not pass (a case that is not
    /// for this client version is skipped with its reason, not failed).
    pub fn failures(&self, server: &Server) -> Vec<String> {
        self.failures_at(&server.url)
    }

    /// [`Suite::failures`] against the server at `url`: every case that is not PASS or
    /// SKIP, but for the MISSING ones [`KNOWN_MISSING`] lists (each of which must still be
    /// MISSING: a feature that lands takes its case off the list).
    pub fn failures_at(&self, url: &str) -> Vec<String> {
        let outcomes = self.outcomes_at(url);
        let mut bad: Vec<String> = outcomes
            .iter()
            .filter(|o| !matches!(o.verdict, Verdict::Pass | Verdict::Skip))
            .filter(|o| !(o.verdict == Verdict::Missing && KNOWN_MISSING.iter().any(|(id, _)| *id == o.id)))
            .map(|o| format!("[{} client {}] {} {}: {}", self.label, self.client, o.id, o.verdict.as_str(), o.message))
            .collect();
        for o in outcomes.iter().filter(|o| KNOWN_MISSING.iter().any(|(id, _)| *id == o.id)) {
            if !matches!(o.verdict, Verdict::Missing | Verdict::Skip) {
                bad.push(format!("[{} client {}] {} is {}, not MISSING: take it off KNOWN_MISSING", self.label, self.client, o.id, o.verdict.as_str()));
            }
        }
        bad
    }

    /// Every case's outcome against the server at `url` (the report is written under
    /// `target/conformance/<label>`).
    pub fn outcomes_at(&self, url: &str) -> Vec<localndif_conformance::Outcome> {
        let ws = workspace();
        let mut cases = discover(&ws.join("conformance/cases"), self.filter).unwrap();
        // An area (`35.`) by prefix, a case (`35.1`) by its id alone.
        cases.retain(|c| !self.except.iter().any(|x| if x.ends_with('.') { c.id.starts_with(x) } else { c.id == *x }));
        assert!(!cases.is_empty(), "no conformance cases match {}", self.filter);
        let target = Target {
            url: url.to_string(),
            repo_id: self.repo_id.into(),
            model_dir: ws.join(self.model_dir),
        };
        let out = ws.join("target/conformance").join(self.label);
        let mut driver = Driver::from_workspace(&ws);
        driver.via = self.via.into();
        driver.client(self.client).unwrap_or_else(|e| panic!("{e}"));
        driver.case_timeout = self.case_timeout;
        driver.numerics = self.numerics;
        // Oracle values keyed by case, weights, threads and environment: safe to share.
        driver.oracle_cache = Some(ws.join("target/conformance/oracle-cache"));
        let outcomes = run_suite(&driver, &target, &cases, &out.join("runs"));
        write_report(&out, url, self.client, &outcomes).unwrap();
        outcomes
    }

    /// Runs the suite and fails listing every case that did not pass.
    pub fn run(&self, server: &Server) {
        check(self.failures(server));
    }
}

/// Cases localndif answers MISSING on purpose (a `NotImplementedError` naming what it
/// lacks), with what: the only MISSING verdicts a localndif test accepts.
pub const KNOWN_MISSING: &[(&str, &str)] = &[("32.22", "torch.fft (complex tensors)")];

pub fn check(bad: Vec<String>) {
    assert!(bad.is_empty(), "cases not passing (reports under target/conformance):\n{}", bad.join("\n"));
}

/// Runs several suites against one server at once (two client processes, one server):
/// the 0.7 and 0.8 clients are served side by side.
pub fn run_together(server: &Server, suites: &[Suite<'_>]) {
    let bad: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = suites.iter().map(|s| scope.spawn(move || s.failures(server))).collect();
        handles.into_iter().flat_map(|h| h.join().expect("a suite panicked")).collect()
    });
    check(bad);
}

/// Areas that need a server started with particular flags (their own tests below), the
/// Llama area (run against the Llama fixture), and the first steps of every nnsight 0.5.x
/// client (48, run with each of them).
pub const SPECIAL: &[&str] = &["35.", "40.", "41.", "42.", "44.", "48."];

