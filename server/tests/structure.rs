//! The crate's structural rules (issue 23), checked by reading the source tree: where
//! per-job state may live, and which modules may know the client generation. Each rule
//! says why it holds; a change that breaks one either moves the code where the rule puts
//! it or, when the rule is wrong, changes the rule here with its reason.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `server/src`, as (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("reading the source tree") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(&root).expect("under src").to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).expect("reading a source file")));
            }
        }
    }
    assert!(out.len() > 50, "found only {} source files under {}", out.len(), root.display());
    out.sort();
    out
}

/// The `thread_local!`s that do not hold job state, and why. Per-job state lives in the
/// job context (`value::ctx::JobCtx`: a field, or `ctx::state::<T>()`), which its guard
/// drops when the job ends however it ends; a thread-local would outlive the job on a
/// reused runner thread.
const THREAD_LOCALS: &[(&str, &str)] = &[
    ("value/ctx.rs", "the installed job context itself: where the job is, not what it holds"),
    ("value/stack.rs", "the stack limit of the native stack running now (thread or worker coroutine)"),
    ("value/drop.rs", "the work list of the drop running now, empty between drops"),
    ("interp/sre.rs", "compiled regular expressions, the same for every job"),
    ("interp/torch/ops.rs", "the op table and parsed schemas, the same for every job"),
];

#[test]
fn no_thread_local_holds_job_state() {
    let mut wrong = Vec::new();
    for (path, text) in sources() {
        let n = text.lines().filter(|l| l.trim_start().starts_with("thread_local!")).count();
        if n == 0 {
            continue;
        }
        match THREAD_LOCALS.iter().find(|(p, _)| *p == path) {
            Some(_) if n == 1 => {}
            Some(_) => wrong.push(format!("{path}: {n} thread_local! blocks (the allow-list vouches for one)")),
            None => wrong.push(format!("{path}: a thread_local! outside the allow-list")),
        }
    }
    assert!(
        wrong.is_empty(),
        "per-job state belongs in the job context (value::ctx), not a thread-local; a thread-local that holds no job state goes in THREAD_LOCALS with its reason:\n{}",
        wrong.join("\n")
    );
}

/// Where the client generation may be named: `request` decides the [`Dialect`] from it
/// and `api` reads it off the wire (which endpoint, which envelope). Execution consults
/// the dialect's methods instead (`request/dialect.rs`).
const GENERATION_KNOWN_IN: &[&str] = &["request/", "api/"];

#[test]
fn only_request_and_api_know_the_client_generation() {
    let wrong: Vec<String> = sources()
        .into_iter()
        .filter(|(path, _)| !GENERATION_KNOWN_IN.iter().any(|d| path.starts_with(d)))
        .filter(|(_, text)| text.contains("ClientGeneration"))
        .map(|(path, _)| path)
        .collect();
    assert!(wrong.is_empty(), "ClientGeneration named outside request/ and api/ (ask request::Dialect instead): {wrong:?}");
}
