//! The verdict rules, all of them, for every driver and every server (docs/conformance.md,
//! "Verdicts"). A driver reports what it observed ([`Evidence`]: the client session's
//! `basis`, a native case's result, a precondition the server does not meet); only
//! [`decide`] turns that into a [`Verdict`], and only [`exit_code`] turns a run's verdicts
//! into the CLI's exit status. Nothing else in the crate chooses a verdict.
//!
//! - SKIP: the case declares (`NOT_FOR`, or its module paths) that *nnsight's own
//!   behaviour* for this client version or architecture differs — never a server's gap.
//! - MISSING: the server refused in nnsight's/NDIF's form for an absent feature
//!   ([`is_missing_feature`]), or lacks an endpoint a native case needs (404).
//! - INFO: the case cannot judge: its oracle is broken or not deterministic, or it needs a
//!   server setting the server does not advertise (`NEEDS`, [`crate::server`]).
//! - FAIL / WRONG: everything else that is not PASS.

use crate::report::Verdict;

/// What a driver observed for one case, before any rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// The case's `NOT_FOR` names this client version (or its paths another
    /// architecture): nnsight itself behaves otherwise there.
    NotFor(String),
    /// The case does not load, or its oracle raised what it does not declare
    /// (`EXPECT_ERROR`), or returned values where it declares an error.
    CaseBroken(String),
    /// The oracle gave different values when run twice.
    Nondeterministic(String),
    /// The case needs a server setting (a limit, an option) the server does not
    /// advertise, or advertises otherwise (`NEEDS`).
    Needs(String),
    /// Both sides returned values; `equal` when every value matched under the numerics
    /// policy.
    Values { equal: bool },
    /// The oracle raised the error the case declares; `same` when the server's run
    /// raised the same.
    Error { same: bool },
    /// The server's run raised (or left nothing readable) where the oracle returned
    /// values; the client's error text.
    RunFailed(String),
    /// A server-only case (`SERVER_ONLY`) returned: the server behaved.
    ServerBehaved,
    /// A server-only case raised: an assertion about the server, or the server's own
    /// error passed through; its text.
    ServerMisbehaved(String),
    /// A native case needs an endpoint the server does not have (it answered 404).
    NoEndpoint(String),
    /// The driver could not run the case (no answer in time, a session that could not
    /// start because of the server).
    DriverFailed(String),
    /// Not run because an earlier case already reported why the driver cannot run any
    /// (a client session that does not start): one FAIL, not one per case.
    NotRun(String),
}

impl Evidence {
    /// The evidence a client session reported (`basis` of its reply, see
    /// `drivers/session.py`), with the client's error text for the bases that carry one.
    pub fn from_basis(basis: &str, equal: bool, message: &str) -> Result<Evidence, String> {
        Ok(match basis {
            "not_for" => Evidence::NotFor(message.into()),
            "case_broken" => Evidence::CaseBroken(message.into()),
            "nondeterministic" => Evidence::Nondeterministic(message.into()),
            "needs" => Evidence::Needs(message.into()),
            "values" => Evidence::Values { equal },
            "error" => Evidence::Error { same: equal },
            "run_failed" => Evidence::RunFailed(message.into()),
            "server_behaved" => Evidence::ServerBehaved,
            "server_misbehaved" => Evidence::ServerMisbehaved(message.into()),
            other => return Err(format!("the driver reported an unknown basis {other:?}")),
        })
    }
}

/// The verdict for `evidence`: the one place the rules live.
pub fn decide(evidence: &Evidence) -> Verdict {
    match evidence {
        Evidence::NotFor(_) => Verdict::Skip,
        Evidence::CaseBroken(_) | Evidence::Nondeterministic(_) | Evidence::Needs(_) | Evidence::NotRun(_) => Verdict::Info,
        Evidence::Values { equal: true } | Evidence::Error { same: true } | Evidence::ServerBehaved => Verdict::Pass,
        Evidence::Values { equal: false } | Evidence::Error { same: false } => Verdict::Wrong,
        Evidence::RunFailed(text) | Evidence::ServerMisbehaved(text) if is_missing_feature(text) => Verdict::Missing,
        Evidence::NoEndpoint(_) => Verdict::Missing,
        Evidence::RunFailed(_) | Evidence::ServerMisbehaved(_) | Evidence::DriverFailed(_) => Verdict::Fail,
    }
}

/// The accepted forms of "this server does not implement that", the same for every
/// server: the error the client raised *ends* with a `NotImplementedError` — bare or
/// qualified (`builtins.NotImplementedError`), as a remote traceback's last line or
/// inside nnsight 0.8's `RemoteError: NotImplementedError: …` (the line nnsight 0.5's
/// `RemoteException` appends, "Remote exception.", set aside). Words in other errors
/// decide nothing: `TypeError: unsupported operand type(s)` is a real failure.
pub fn is_missing_feature(message: &str) -> bool {
    let message = message.trim_end().strip_suffix("\nRemote exception.").unwrap_or(message);
    let Some(last) = message.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return false;
    };
    let last = last.strip_prefix("RemoteError: ").unwrap_or(last);
    let ty = last.split(':').next().unwrap_or("");
    ty.rsplit('.').next() == Some("NotImplementedError") && !ty.contains(' ')
}

/// The CLI's exit status for a run: 1 when a case is FAIL or WRONG, and with `strict`
/// also when one is MISSING; 0 otherwise (PASS, INFO and SKIP never fail a run).
pub fn exit_code(verdicts: impl IntoIterator<Item = Verdict>, strict: bool) -> i32 {
    let bad = verdicts
        .into_iter()
        .any(|v| matches!(v, Verdict::Fail | Verdict::Wrong) || (strict && v == Verdict::Missing));
    i32::from(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_evidence_has_one_verdict() {
        let cases = [
            (Evidence::NotFor("nnsight 0.8 has no callbacks".into()), Verdict::Skip),
            (Evidence::CaseBroken("the oracle raised KeyError".into()), Verdict::Info),
            (Evidence::Nondeterministic("".into()), Verdict::Info),
            (Evidence::Needs("limits.timeout_s".into()), Verdict::Info),
            (Evidence::Values { equal: true }, Verdict::Pass),
            (Evidence::Values { equal: false }, Verdict::Wrong),
            (Evidence::Error { same: true }, Verdict::Pass),
            (Evidence::Error { same: false }, Verdict::Wrong),
            (Evidence::RunFailed("RemoteError: NotImplementedError: torch.fft".into()), Verdict::Missing),
            (Evidence::RunFailed("TypeError: unsupported operand type(s) for +: 'int' and 'str'".into()), Verdict::Fail),
            (Evidence::ServerBehaved, Verdict::Pass),
            (Evidence::ServerMisbehaved("AssertionError: the job completed".into()), Verdict::Fail),
            (Evidence::ServerMisbehaved("Traceback ...\nNotImplementedError: torch.fft".into()), Verdict::Missing),
            (Evidence::NoEndpoint("no /env".into()), Verdict::Missing),
            (Evidence::DriverFailed("no answer within 180s".into()), Verdict::Fail),
            (Evidence::NotRun("the session did not start (see 2.1)".into()), Verdict::Info),
        ];
        for (evidence, verdict) in cases {
            assert_eq!(decide(&evidence), verdict, "{evidence:?}");
        }
    }

    #[test]
    fn a_session_basis_maps_to_its_evidence_and_nothing_else_does() {
        assert_eq!(Evidence::from_basis("values", true, ""), Ok(Evidence::Values { equal: true }));
        assert_eq!(Evidence::from_basis("error", false, ""), Ok(Evidence::Error { same: false }));
        assert_eq!(Evidence::from_basis("not_for", false, "why"), Ok(Evidence::NotFor("why".into())));
        assert!(Evidence::from_basis("PASS", true, "").is_err());
    }

    #[test]
    fn missing_is_a_not_implemented_error_and_nothing_else() {
        assert!(is_missing_feature("RemoteError: NotImplementedError: localndif does not support torch.fft yet"));
        assert!(is_missing_feature("Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    f()\nNotImplementedError: localndif does not support the builtin `__import__()` yet\n"));
        assert!(is_missing_feature("builtins.NotImplementedError: fft"));
        assert!(is_missing_feature("Traceback (most recent call last):\nNotImplementedError: localndif does not support `numpy.fft` yet\nRemote exception."));
        // The words of other errors do not make a failure MISSING.
        assert!(!is_missing_feature("TypeError: unsupported operand type(s) for +: 'int' and 'str'"));
        assert!(!is_missing_feature("ValueError: gradients on CUDA are not supported by this server"));
        assert!(!is_missing_feature("RuntimeError: not implemented for 'Half'"));
        assert!(!is_missing_feature("AttributeError: 'Envoy' object has no attribute 'x'"));
        // The last exception decides, not an earlier one in the chain.
        assert!(!is_missing_feature("NotImplementedError: a\n\nDuring handling of the above exception, another exception occurred:\n\nKeyError: 'b'"));
        assert!(!is_missing_feature(""));
    }

    #[test]
    fn a_run_fails_on_fail_and_wrong_and_with_strict_on_missing() {
        use Verdict::*;
        assert_eq!(exit_code([Pass, Info, Skip, Missing], false), 0);
        assert_eq!(exit_code([Pass, Missing], true), 1);
        assert_eq!(exit_code([Pass, Wrong], false), 1);
        assert_eq!(exit_code([Fail], false), 1);
        assert_eq!(exit_code([], true), 0);
    }
}
