//! Conformance suite for NDIF-compatible servers, modelled on Autobahn|Testsuite with
//! nnbench-style numeric verdicts (design.md §9). A case is a file under `cases/` (a Python
//! module with `run(model, remote)`); each case runs twice with the real nnsight client —
//! locally (`remote=False`, the oracle) and against the server — and the two results are
//! compared. Knows nothing of the server's internals: it talks to it only through clients.

pub mod case;
pub mod driver;
pub mod report;

pub use case::{Case, discover};
pub use driver::{Driver, Target};
pub use report::{Outcome, Verdict, write_report};

/// Runs the selected cases against `target` and returns one outcome per case, in order.
pub fn run_suite(
    driver: &Driver,
    target: &Target,
    cases: &[Case],
    scratch: &std::path::Path,
) -> Vec<Outcome> {
    cases
        .iter()
        .map(|case| {
            let dir = scratch.join(&case.id);
            let outcome = driver.run_case(case, target, &dir);
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
