//! Verdicts and the report: `results.jsonl` (one JSON object per case), `index.json`
//! (counts and the case list) and `index.html` (implementation × case matrix).

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::case::Case;

/// PASS, WRONG (ran but numbers differ — the dangerous one), FAIL (error), MISSING
/// (unsupported by the server), INFO (the case itself is broken: the oracle failed), SKIP
/// (the case does not apply to this client version; its `NOT_FOR` says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

    pub fn parse(s: &str) -> Option<Verdict> {
        [
            Verdict::Pass,
            Verdict::Wrong,
            Verdict::Fail,
            Verdict::Missing,
            Verdict::Info,
            Verdict::Skip,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
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

pub fn write_report(out: &Path, implementation: &str, outcomes: &[Outcome]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut jsonl = std::fs::File::create(out.join("results.jsonl"))?;
    for o in outcomes {
        writeln!(jsonl, "{}", serde_json::to_string(o)?)?;
    }
    let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
    let index = serde_json::json!({
        "implementation": implementation,
        "counts": {
            "PASS": count(Verdict::Pass), "WRONG": count(Verdict::Wrong), "FAIL": count(Verdict::Fail),
            "MISSING": count(Verdict::Missing), "INFO": count(Verdict::Info), "SKIP": count(Verdict::Skip),
        },
        "cases": outcomes.iter().map(|o| serde_json::json!({"id": o.id, "title": o.title, "verdict": o.verdict})).collect::<Vec<_>>(),
    });
    std::fs::write(
        out.join("index.json"),
        serde_json::to_string_pretty(&index)?,
    )?;
    let rows: String = outcomes
        .iter()
        .map(|o| {
            format!(
                "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
                escape(&o.id),
                escape(&o.title),
                o.verdict.as_str(),
                o.verdict.as_str()
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><meta charset=utf-8><title>localndif conformance</title>\n<style>td{{padding:2px 8px}}.PASS{{background:#9f9}}.WRONG{{background:#f66}}.FAIL{{background:#fb6}}.MISSING{{background:#ddd}}.INFO{{background:#9cf}}.SKIP{{background:#eee}}</style>\n<table><tr><th>case</th><th>title</th><th>{}</th></tr>\n{rows}</table>\n",
        escape(implementation)
    );
    std::fs::write(out.join("index.html"), html)?;
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
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
