//! The oracle cache and the determinism control (`session.py --oracle-cache`): a second
//! run of a case takes the oracle's values from the cache, and an oracle that gives other
//! values when run twice makes its case INFO rather than judging the server with it; each
//! case's report carries the statuses the client handled; a case broken in its oracle is
//! INFO.

mod common;

use common::{Server, workspace};
use localndif_conformance::{Driver, Target, Verdict, discover, run_suite};

fn target(server: &Server) -> Target {
    Target { url: server.url.clone(), repo_id: "localndif/tiny-gpt2".into(), model_dir: workspace().join("fixtures/models/tiny-gpt2") }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = workspace().join("target/conformance/oracle").join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn a_second_run_takes_the_oracle_from_the_cache() {
    let server = Server::start(&[]);
    let mut driver = Driver::from_workspace(&workspace());
    driver.oracle_cache = Some(scratch("cache"));
    let cases = discover(&workspace().join("conformance/cases"), "10.1").unwrap();
    let first = run_suite(&driver, &target(&server), &cases, &scratch("first"));
    let second = run_suite(&driver, &target(&server), &cases, &scratch("second"));
    assert_eq!((first[0].verdict, second[0].verdict), (Verdict::Pass, Verdict::Pass), "{first:?} {second:?}");
    assert_eq!(first[0].details["oracle"], "run", "{:?}", first[0].details);
    assert_eq!(second[0].details["oracle"], "cached", "{:?}", second[0].details);
    // The report's status transcript: what the client handled, COMPLETED last.
    let transcript = second[0].details["transcript"].as_array().expect("a transcript");
    assert_eq!(transcript.last().and_then(|s| s.as_str()), Some("COMPLETED"), "{transcript:?}");
}

#[test]
fn an_oracle_that_is_not_deterministic_makes_its_case_info() {
    let server = Server::start(&[]);
    let mut driver = Driver::from_workspace(&workspace());
    driver.oracle_cache = Some(scratch("control-cache"));
    let cases = discover(&workspace().join("conformance/tests/cases"), "99.1").unwrap();
    assert_eq!(cases.len(), 1, "the control case is missing");
    let out = run_suite(&driver, &target(&server), &cases, &scratch("control"));
    assert_eq!(out[0].verdict, Verdict::Info, "{:?}", out[0]);
    assert!(out[0].message.contains("determinism control"), "{}", out[0].message);
    assert!(std::fs::read_dir(driver.oracle_cache.as_ref().unwrap()).map_or(0, |d| d.count()) == 0, "a failed control is not cached");
}

/// A case that raises in the oracle without declaring it (`EXPECT_ERROR`), or declares an
/// error its oracle does not raise, is broken: INFO, never an error case that a server
/// passes by failing the same way.
#[test]
fn a_case_broken_in_its_oracle_is_info_not_a_pass() {
    let server = Server::start(&[]);
    let driver = Driver::from_workspace(&workspace());
    let cases = discover(&workspace().join("conformance/tests/cases"), "99.2,99.3").unwrap();
    assert_eq!(cases.len(), 2, "the control cases are missing");
    let out = run_suite(&driver, &target(&server), &cases, &scratch("broken"));
    for o in &out {
        assert_eq!(o.verdict, Verdict::Info, "{o:?}");
        assert!(o.message.contains("broken in the oracle"), "{}", o.message);
    }
}

#[test]
fn cases_run_side_by_side_come_back_in_order_with_the_same_verdicts() {
    let server = Server::start(&[]);
    let mut driver = Driver::from_workspace(&workspace());
    driver.jobs = 2;
    let cases = discover(&workspace().join("conformance/cases"), "10.*").unwrap();
    let out = run_suite(&driver, &target(&server), &cases, &scratch("jobs"));
    let ids: Vec<&str> = out.iter().map(|o| o.id.as_str()).collect();
    let expected: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert!(out.iter().all(|o| o.verdict == Verdict::Pass), "{out:?}");
}
