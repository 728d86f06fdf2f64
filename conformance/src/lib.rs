//! Conformance suite for NDIF-compatible servers, modelled on Autobahn|Testsuite (numbered
//! catalogue in twelve areas, per-case verdicts, a side-by-side matrix of implementations)
//! with nnbench-style numeric verdicts (docs/conformance.md). A differential case is a file
//! under `cases/` (a Python module with `run(model, remote)`) that runs twice with the real
//! nnsight client — locally (`remote=False`, the oracle) and against the server — and the
//! two results are compared; `native` cases speak the protocol directly. Knows nothing of
//! the server's internals: it talks to it only as clients do.

pub mod case;
pub mod catalogue;
pub mod driver;
pub mod matrix;
pub mod native;
pub mod report;
pub mod server;
pub mod verdict;

pub use case::{Case, discover};
pub use driver::{CLIENTS_05, Driver, Numerics, Target};
pub use report::{Outcome, Verdict, junit, write_report};

/// Runs the selected cases against `target` and returns one outcome per case, in order:
/// with `driver.jobs` > 1 that many client sessions take cases side by side, then the
/// cases that measure the server itself ([`Case::alone`]) run one after another. A case
/// that breaks its session (no answer in time) is FAIL, and the session's next case gets
/// a fresh one.
pub fn run_suite(
    driver: &Driver,
    target: &Target,
    cases: &[Case],
    scratch: &std::path::Path,
) -> Vec<Outcome> {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; cases.len()]);
    let (side_by_side, alone): (VecDeque<usize>, VecDeque<usize>) = (0..cases.len()).partition(|&i| !cases[i].alone);
    let queue = Mutex::new(side_by_side);
    let model_type = catalogue::model_type(&target.model_dir);
    let at = At { target, model_type: model_type.as_deref(), settings: server::Settings::read(&target.url), scratch };
    std::thread::scope(|scope| {
        for _ in 0..driver.jobs.max(1) {
            scope.spawn(|| drain(driver, &at, cases, &queue, &results));
        }
    });
    let queue = Mutex::new(alone);
    drain(driver, &at, cases, &queue, &results);
    results.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().map(|o| o.expect("every case ran")).collect()
}

/// What every case of a run is run against.
struct At<'a> {
    target: &'a Target,
    model_type: Option<&'a str>,
    /// What the server advertises of its settings (`GET /env`), read once per run.
    settings: server::Settings,
    scratch: &'a std::path::Path,
}

/// Takes cases from `queue` until it is empty, in one client session (restarted after a
/// case that breaks it).
fn drain(
    driver: &Driver,
    at: &At<'_>,
    cases: &[Case],
    queue: &std::sync::Mutex<std::collections::VecDeque<usize>>,
    results: &std::sync::Mutex<Vec<Option<Outcome>>>,
) {
    use verdict::{Evidence, decide};
    let mut session: Option<driver::Session> = None;
    // A session that cannot start once will not start for the next case either: its
    // reason is reported once (FAIL), the cases after it are INFO, not run.
    let mut broken: Option<(String, String)> = None;
    loop {
        let Some(i) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else { return };
        let case = &cases[i];
        let dir = at.scratch.join(case.id.replace('/', "_"));
        let decided = |evidence: Evidence, text: String| Outcome::new(case, decide(&evidence), text);
        let outcome = if let Some(why) = catalogue::not_for_architecture(case, at.model_type) {
            decided(Evidence::NotFor(why.clone()), why)
        } else if let Some((first, why)) = &broken {
            let text = format!("not run: the client session could not start (reported at {first}): {why}");
            decided(Evidence::NotRun(text.clone()), text)
        } else {
            let timeout = at.settings.case_timeout(&case.needs, driver.case_timeout);
            (|| {
                if session.is_none() {
                    session = Some(driver.session(at.target).map_err(|why| {
                        broken = Some((case.id.clone(), why.clone()));
                        format!("the client session could not start: {why}")
                    })?);
                }
                let s = session.as_mut().ok_or("no session")?;
                // An unmet need is the session's to report, after NOT_FOR: a case that is
                // not for this client is SKIP whatever the server's settings.
                s.run_case(case, &dir, timeout, at.settings.unmet(&case.needs).as_deref())
            })()
            .unwrap_or_else(|why| {
                session = None;
                decided(Evidence::DriverFailed(why.clone()), why)
            })
        };
        eprintln!("{:<8} {:<7} {}", case.id, outcome.verdict.as_str(), case.title);
        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(outcome);
    }
}
