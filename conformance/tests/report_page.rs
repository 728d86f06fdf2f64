//! The report page in a real browser: two report folders merged with `--compare` are
//! rendered by headless Chromium (Debian's, which `make test` installs), and the counts
//! and the cells the page shows equal `index.json`.

use std::path::PathBuf;
use std::process::Command;

use localndif_conformance::{Outcome, Verdict, write_report};

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-page-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn outcome(id: &str, v: Verdict) -> Outcome {
    Outcome {
        id: id.into(),
        title: format!("case {id} <b>&</b>"),
        verdict: v,
        message: format!("message of {id}"),
        details: serde_json::json!([{"name": "logits", "ok": v == Verdict::Pass, "max_abs_diff": 0.001}]),
    }
}

fn chromium() -> Option<PathBuf> {
    if let Ok(why) = std::env::var("LOCALNDIF_BROWSER_SKIP")
        && !why.is_empty()
    {
        eprintln!("SKIPPED: the report page test needs chromium: {why}");
        return None;
    }
    let path = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].into_iter().map(PathBuf::from).find(|p| p.exists());
    Some(path.expect("chromium is not installed: `make test` installs Debian's chromium (apt-get install chromium)"))
}

/// The DOM after the page's script ran.
fn rendered(browser: &PathBuf, page: &std::path::Path) -> String {
    let profile = scratch("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_merged_matrix_page_shows_what_index_json_says() {
    let Some(browser) = chromium() else { return };
    let (a, b, merged) = (scratch("a"), scratch("b"), scratch("merged"));
    write_report(&a, "http://server-a", "0.8", &[outcome("2.1", Verdict::Pass), outcome("10.1", Verdict::Wrong), outcome("10.2", Verdict::Pass)]).unwrap();
    write_report(&b, "http://server-b", "0.7", &[outcome("2.1", Verdict::Fail), outcome("10.1", Verdict::Pass), outcome("12.1", Verdict::Missing)]).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .arg("--compare")
        .args([&a, &b])
        .arg("--out")
        .arg(&merged)
        .status()
        .unwrap();
    assert!(status.success());
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(merged.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["runs"].as_array().unwrap().len(), 2);
    assert_eq!(index["cases"].as_array().unwrap().len(), 4);
    let dom = rendered(&browser, &merged.join("index.html"));
    for (run, r) in index["runs"].as_array().unwrap().iter().enumerate() {
        for v in Verdict::ALL {
            let n = r["counts"][v.as_str()].as_u64().unwrap();
            let header = format!("data-run=\"{run}\" data-verdict=\"{}\">{} {n}<", v.as_str(), v.as_str());
            assert!(dom.contains(&header), "run {run}: the page does not show {} {n}", v.as_str());
            let cells = dom.matches(&format!("<td class=\"cell {}\" data-run=\"{run}\"", v.as_str())).count() as u64;
            assert_eq!(cells, n, "run {run}: {} cells shown for {}", cells, v.as_str());
        }
    }
    assert!(dom.contains("4 of 4 cases"), "every case is listed");
    assert!(dom.contains("case 10.1 &lt;b&gt;&amp;&lt;/b&gt;"), "titles are text, not markup");
}
