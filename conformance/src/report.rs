//! Verdicts and one run's report: `results.jsonl` (one JSON object per case) beside the
//! matrix files (`crate::matrix`); JUnit XML for CI systems.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::case::Case;

/// PASS, WRONG (ran but numbers differ — the dangerous one), FAIL (error), MISSING
/// (unsupported by the server), INFO (the case itself is broken: the oracle failed), SKIP
/// (the case does not apply to this client version; its `NOT_FOR` says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Wrong,
    Fail,
    Missing,
    Info,
    Skip,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Wrong => "WRONG",
            Verdict::Fail => "FAIL",
            Verdict::Missing => "MISSING",
            Verdict::Info => "INFO",
            Verdict::Skip => "SKIP",
        }
    }

    pub const ALL: [Verdict; 6] = [Verdict::Pass, Verdict::Wrong, Verdict::Fail, Verdict::Missing, Verdict::Info, Verdict::Skip];

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Outcome {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    pub message: String,
    pub details: serde_json::Value,
}

impl Outcome {
    pub fn new(case: &Case, verdict: Verdict, message: String) -> Outcome {
        Outcome {
            id: case.id.clone(),
            title: case.title.clone(),
            verdict,
            message,
            details: serde_json::Value::Null,
        }
    }
}

/// Writes one run's report into `out`: `results.jsonl` (one JSON object per case) and the
/// matrix files of [`crate::matrix::write_matrix`] for that run alone.
pub fn write_report(out: &Path, implementation: &str, client: &str, outcomes: &[Outcome]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut jsonl = std::fs::File::create(out.join("results.jsonl"))?;
    for o in outcomes {
        writeln!(jsonl, "{}", serde_json::to_string(o)?)?;
    }
    let run = crate::matrix::Run { implementation: implementation.into(), client: client.into(), outcomes: outcomes.to_vec() };
    crate::matrix::write_matrix(out, &[run])
}

/// The outcomes as JUnit XML (one `<testcase>` per case; WRONG and FAIL are failures,
/// MISSING an error, SKIP skipped), for CI systems that render it.
pub fn junit(suite: &str, outcomes: &[Outcome]) -> String {
    fn esc(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '&' => "&amp;".to_string(),
                '<' => "&lt;".to_string(),
                '>' => "&gt;".to_string(),
                '"' => "&quot;".to_string(),
                c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => format!("&#{};", c as u32),
                c => c.to_string(),
            })
            .collect()
    }
    let count = |f: &dyn Fn(Verdict) -> bool| outcomes.iter().filter(|o| f(o.verdict)).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
        esc(suite),
        outcomes.len(),
        count(&|v| matches!(v, Verdict::Wrong | Verdict::Fail)),
        count(&|v| v == Verdict::Missing),
        count(&|v| v == Verdict::Skip),
    );
    for o in outcomes {
        out.push_str(&format!("  <testcase classname=\"{}\" name=\"{} {}\"", esc(suite), esc(&o.id), esc(&o.title)));
        let body = match o.verdict {
            Verdict::Pass | Verdict::Info => None,
            Verdict::Wrong | Verdict::Fail => Some(format!("<failure type=\"{}\" message=\"{}\"/>", o.verdict.as_str(), esc(&o.message))),
            Verdict::Missing => Some(format!("<error type=\"MISSING\" message=\"{}\"/>", esc(&o.message))),
            Verdict::Skip => Some(format!("<skipped message=\"{}\"/>", esc(&o.message))),
        };
        match body {
            Some(b) => out.push_str(&format!(">{b}</testcase>\n")),
            None => out.push_str("/>\n"),
        }
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod junit_tests {
    use super::*;

    #[test]
    fn junit_counts_and_escapes() {
        let o = |id: &str, v: Verdict, m: &str| Outcome { id: id.into(), title: "t <x>".into(), verdict: v, message: m.into(), details: serde_json::Value::Null };
        let xml = junit("s", &[o("1.1", Verdict::Pass, ""), o("1.2", Verdict::Wrong, "a \"b\" & c"), o("1.3", Verdict::Skip, "why")]);
        assert!(xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), "{xml}");
        assert!(xml.contains("message=\"a &quot;b&quot; &amp; c\""), "{xml}");
        assert!(xml.contains("name=\"1.1 t &lt;x&gt;\"/>"), "{xml}");
    }
}
