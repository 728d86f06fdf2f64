//! Conformance suite for NDIF-compatible servers, modelled on Autobahn|Testsuite with
//! nnbench-style numeric verdicts (docs/architecture.md). A case is a file under `cases/` (a Python
//! module with `run(model, remote)`); each case runs twice with the real nnsight client —
//! locally (`remote=False`, the oracle) and against the server — and the two results are
//! compared. Knows nothing of the server's internals: it talks to it only through clients.

pub mod case;
pub mod driver;
pub mod matrix;
pub mod native;
pub mod report;

pub use case::{Case, discover};
pub use driver::{Driver, Target};
pub use report::{Outcome, Verdict, junit, write_report};

/// Runs the selected cases against `target` in one client session and returns one
/// outcome per case, in order. A case that breaks the session (no answer in time) is
/// FAIL, and the cases after it get a fresh session.
pub fn run_suite(
    driver: &Driver,
    target: &Target,
    cases: &[Case],
    scratch: &std::path::Path,
) -> Vec<Outcome> {
    let mut session: Option<driver::Session> = None;
    // A session that cannot start once will not start for the next case either.
    let mut broken: Option<String> = None;
    cases
        .iter()
        .map(|case| {
            let dir = scratch.join(case.id.replace('/', "_"));
            let outcome = (|| {
                if let Some(why) = &broken {
                    return Err(why.clone());
                }
                if session.is_none() {
                    session = Some(driver.session(target).map_err(|why| {
                        broken = Some(format!("the client session could not start: {why}"));
                        why
                    })?);
                }
                let s = session.as_mut().ok_or("no session")?;
                s.run_case(case, &dir)
            })()
            .unwrap_or_else(|why| {
                session = None;
                Outcome::new(case, Verdict::Fail, why)
            });
            eprintln!(
                "{:<8} {:<7} {}",
                case.id,
                outcome.verdict.as_str(),
                case.title
            );
            outcome
        })
        .collect()
}
