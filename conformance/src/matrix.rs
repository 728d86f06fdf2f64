//! The report people read: runs (a server × a client generation) side by side, as
//! `matrix.json` (every outcome, what `--compare` merges), `index.json` (per run counts,
//! per case verdicts) and `index.html` — one self-contained page, viewable offline: the
//! case × run matrix with filters by area and verdict, per-run counts, and each case's
//! detail (the message, the values that differ from the oracle, the status transcript).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::{Outcome, Verdict};

/// One run of the suite: which server, which driver, what came out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub implementation: String,
    pub client: String,
    pub outcomes: Vec<Outcome>,
}

impl Run {
    pub fn label(&self) -> String {
        format!("{} · {}", self.implementation, self.client)
    }

    pub fn counts(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for v in Verdict::ALL {
            m.insert(v.as_str().into(), self.outcomes.iter().filter(|o| o.verdict == v).count().into());
        }
        serde_json::Value::Object(m)
    }
}

/// The area of a case id (`10.3` → `10`).
pub fn area(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

/// Writes `matrix.json`, `index.json` and `index.html` for `runs` into `out`.
pub fn write_matrix(out: &Path, runs: &[Run]) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("matrix.json"), serde_json::to_string(&serde_json::json!({ "runs": runs }))?)?;
    let index = index(runs);
    std::fs::write(out.join("index.json"), serde_json::to_string_pretty(&index)?)?;
    std::fs::write(out.join("index.html"), html(runs))?;
    Ok(())
}

/// The runs of earlier reports (`--compare DIR…`): each DIR's `matrix.json`.
pub fn load_runs(dir: &Path) -> anyhow::Result<Vec<Run>> {
    let path = dir.join("matrix.json");
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e} (a report folder of `conformance --out`)", path.display()))?;
    #[derive(Deserialize)]
    struct File {
        runs: Vec<Run>,
    }
    Ok(serde_json::from_str::<File>(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?.runs)
}

/// Case ids of all runs, in catalogue order.
fn case_ids(runs: &[Run]) -> Vec<(String, String)> {
    let mut ids: Vec<(String, String)> = Vec::new();
    for r in runs {
        for o in &r.outcomes {
            if !ids.iter().any(|(id, _)| *id == o.id) {
                ids.push((o.id.clone(), o.title.clone()));
            }
        }
    }
    let key = |id: &str| id.split('.').map(|p| p.parse::<u64>().unwrap_or(u64::MAX)).collect::<Vec<_>>();
    ids.sort_by_key(|(id, _)| key(id));
    ids
}

fn index(runs: &[Run]) -> serde_json::Value {
    let cases: Vec<serde_json::Value> = case_ids(runs)
        .into_iter()
        .map(|(id, title)| {
            let verdicts: Vec<serde_json::Value> = runs
                .iter()
                .map(|r| r.outcomes.iter().find(|o| o.id == id).map_or(serde_json::Value::Null, |o| o.verdict.as_str().into()))
                .collect();
            serde_json::json!({"id": id, "area": area(&id), "title": title, "verdicts": verdicts})
        })
        .collect();
    serde_json::json!({
        "runs": runs.iter().map(|r| serde_json::json!({"implementation": r.implementation, "client": r.client, "counts": r.counts()})).collect::<Vec<_>>(),
        "cases": cases,
    })
}

/// The page: data as JSON inside it, rendered by a small script (no network, no files).
fn html(runs: &[Run]) -> String {
    let data = serde_json::json!({
        "runs": runs.iter().map(|r| serde_json::json!({"label": r.label(), "counts": r.counts()})).collect::<Vec<_>>(),
        "cases": case_ids(runs).into_iter().map(|(id, title)| {
            let cells: Vec<serde_json::Value> = runs.iter().map(|r| match r.outcomes.iter().find(|o| o.id == id) {
                Some(o) => serde_json::json!({"v": o.verdict.as_str(), "m": o.message, "d": o.details}),
                None => serde_json::Value::Null,
            }).collect();
            serde_json::json!({"id": id, "area": area(&id), "title": title, "cells": cells})
        }).collect::<Vec<_>>(),
    });
    // `</` inside a script element would end it.
    let data = data.to_string().replace("</", "<\\/");
    PAGE.replace("__DATA__", &data)
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>nnsight conformance</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em}
table{border-collapse:collapse}td,th{padding:3px 8px;border:1px solid #ddd;vertical-align:top}
th{background:#f6f6f6;position:sticky;top:0}
.PASS{background:#b7ebb7}.WRONG{background:#f58b8b}.FAIL{background:#fbc07a}.MISSING{background:#ddd}.INFO{background:#a9cdf5}.SKIP{background:#f1f1f1;color:#777}
td.cell{cursor:pointer;text-align:center;font-weight:600}
#detail{white-space:pre-wrap;font:12px ui-monospace,monospace;background:#fafafa;border:1px solid #ccc;padding:1em;margin-top:1em}
.counts span{display:inline-block;margin-right:6px;padding:0 4px}
</style></head><body>
<h1>nnsight conformance</h1>
<p>Area <select id="area"><option value="">all</option></select>
Verdict <select id="verdict"><option value="">all</option><option>PASS</option><option>WRONG</option><option>FAIL</option><option>MISSING</option><option>INFO</option><option>SKIP</option></select>
<span id="shown"></span></p>
<table id="matrix"><thead></thead><tbody></tbody></table>
<div id="detail">Click a cell for the case's detail.</div>
<script type="application/json" id="data">__DATA__</script>
<script>
const data = JSON.parse(document.getElementById('data').textContent);
const VERDICTS = ['PASS','WRONG','FAIL','MISSING','INFO','SKIP'];
const el = (tag, attrs = {}, text) => { const e = document.createElement(tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
const head = document.querySelector('#matrix thead');
const hr = el('tr'); hr.append(el('th', {}, 'case'), el('th', {}, 'title'));
data.runs.forEach((r, i) => {
  const th = el('th', {}, r.label);
  const counts = el('div', {class: 'counts'});
  for (const v of VERDICTS) counts.append(el('span', {class: 'count ' + v, 'data-run': i, 'data-verdict': v}, v + ' ' + r.counts[v]));
  th.append(counts); hr.append(th);
});
head.append(hr);
const areas = [...new Set(data.cases.map(c => c.area))];
const areaSel = document.getElementById('area');
for (const a of areas) areaSel.append(el('option', {value: a}, a));
const body = document.querySelector('#matrix tbody');
function render() {
  const area = areaSel.value, verdict = document.getElementById('verdict').value;
  body.textContent = '';
  let shown = 0;
  for (const c of data.cases) {
    if (area && c.area !== area) continue;
    if (verdict && !c.cells.some(x => x && x.v === verdict)) continue;
    shown++;
    const tr = el('tr', {'data-case': c.id});
    tr.append(el('td', {}, c.id), el('td', {}, c.title));
    c.cells.forEach((x, i) => {
      const td = el('td', {class: 'cell ' + (x ? x.v : ''), 'data-run': i}, x ? x.v : '—');
      if (x) td.onclick = () => {
        // How close "close" was: each value's largest difference and its distance in ULPs.
        const vals = (x.d && Array.isArray(x.d.values)) ? x.d.values.filter(v => v && v.name) : [];
        const diffs = vals.map(v => '  ' + (v.ok ? 'ok   ' : 'DIFF ') + v.name + ': max abs diff ' + (v.max_abs_diff ?? '-') + ', ' + (v.max_ulp ?? '-') + ' ULP' + (v.ok ? '' : ' — ' + v.why)).join('\n');
        const again = x.d && x.d.reproduce ? '\nreproduce: ' + x.d.reproduce + '\n' : '';
        document.getElementById('detail').textContent = c.id + '  ' + c.title + '\n' + data.runs[i].label + ': ' + x.v + '\n\n' + (x.m || '') + '\n' + again + (diffs ? '\nvalues:\n' + diffs + '\n' : '') + '\n' + JSON.stringify(x.d, null, 2);
      };
      tr.append(td);
    });
    body.append(tr);
  }
  document.getElementById('shown').textContent = shown + ' of ' + data.cases.length + ' cases';
}
areaSel.onchange = render; document.getElementById('verdict').onchange = render;
render();
</script></body></html>
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, v: Verdict) -> Outcome {
        Outcome { id: id.into(), title: format!("case {id} </script>"), verdict: v, message: String::new(), details: serde_json::Value::Null }
    }

    #[test]
    fn runs_merge_into_one_matrix_with_counts() {
        let a = Run { implementation: "a".into(), client: "0.8".into(), outcomes: vec![outcome("10.2", Verdict::Pass), outcome("2.1", Verdict::Wrong)] };
        let b = Run { implementation: "b".into(), client: "0.8".into(), outcomes: vec![outcome("2.1", Verdict::Pass), outcome("3.1", Verdict::Fail)] };
        let index = index(&[a.clone(), b.clone()]);
        let ids: Vec<&str> = index["cases"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["2.1", "3.1", "10.2"]);
        assert_eq!(index["cases"][1]["verdicts"], serde_json::json!([null, "FAIL"]));
        assert_eq!(index["runs"][0]["counts"]["WRONG"], 1);
        let page = html(&[a, b]);
        assert!(!page.contains("</script>\"") && page.contains("<\\/script>"), "a title cannot end the data script");
    }
}
