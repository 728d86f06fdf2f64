//! End to end: starts the real `localndif` binary and runs every conformance case with the
//! real nnsight 0.8.1 client against it, the oracle being the same client run locally on the
//! same weights. Needs the binary (`make test` builds it; or set LOCALNDIF_BIN) and the
//! project's `.venv` (`make venv`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use localndif_conformance::{Driver, Target, Verdict, discover, run_suite, write_report};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A running server, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let bin = std::env::var_os("LOCALNDIF_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/debug/localndif"));
        assert!(
            bin.exists(),
            "{} is missing: run `make test` (or `cargo build -p localndif`) first",
            bin.display()
        );
        let mut child = Command::new(&bin)
            .args(["serve", "--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
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

/// Runs the cases whose id matches `filter` (minus those in `except` areas) against
/// `server` and fails listing every case that did not pass.
fn run(server: &Server, repo_id: &str, filter: &str, except: &[&str], label: &str) {
    let ws = workspace();
    let mut cases = discover(&ws.join("conformance/cases"), filter).unwrap();
    cases.retain(|c| !except.iter().any(|area| c.id.starts_with(area)));
    assert!(!cases.is_empty(), "no conformance cases match {filter}");
    let target = Target {
        url: server.url.clone(),
        repo_id: repo_id.into(),
        model_dir: ws.join("fixtures/models/tiny-gpt2"),
    };
    let out = ws.join("target/conformance").join(label);
    let outcomes = run_suite(
        &Driver::from_workspace(&ws),
        &target,
        &cases,
        &out.join("runs"),
    );
    write_report(&out, &server.url, &outcomes).unwrap();
    let bad: Vec<String> = outcomes
        .iter()
        .filter(|o| o.verdict != Verdict::Pass)
        .map(|o| format!("{} {}: {}", o.id, o.verdict.as_str(), o.message))
        .collect();
    assert!(
        bad.is_empty(),
        "cases not passing (report in {}):\n{}",
        out.display(),
        bad.join("\n")
    );
}

/// Areas that need a server started with particular flags (their own tests below).
const SPECIAL: &[&str] = &["40.", "41."];

#[test]
fn every_case_passes_on_the_embedded_default_model() {
    let server = Server::start(&[]);
    run(&server, "localndif/tiny-gpt2", "*", SPECIAL, "default");
}

#[test]
fn a_model_directory_is_served_under_the_repo_id_clients_name() {
    let dir = workspace().join("fixtures/models/tiny-gpt2");
    let server = Server::start(&[
        "--model",
        &format!("openai-community/gpt2={}", dir.display()),
    ]);
    run(&server, "openai-community/gpt2", "10.1", &[], "model-flag");
}

/// Hostile code ends its own job with an error naming the limit, and the same server
/// process (same pid) then runs a normal trace.
#[test]
fn hostile_jobs_end_with_clear_errors_and_the_server_goes_on() {
    let mut server = Server::start(&[
        "--timeout",
        "10",
        "--max-steps",
        "5000000",
        "--tensor-budget",
        "300000000",
    ]);
    let pid = server.child.id();
    run(&server, "localndif/tiny-gpt2", "40.*", &[], "hostile");
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server process exited"
    );
    assert_eq!(server.child.id(), pid);
    run(&server, "localndif/tiny-gpt2", "10.1", &[], "after-hostile");
}

/// Eight clients at once against four workers, valid and failing jobs mixed.
#[test]
fn concurrent_clients_get_their_own_results() {
    let server = Server::start(&["--workers", "4", "--max-steps", "2000000", "--timeout", "60"]);
    run(&server, "localndif/tiny-gpt2", "41.*", &[], "concurrency");
}
