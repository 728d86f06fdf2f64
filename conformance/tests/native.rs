//! The native driver against the `localndif` binary: every protocol-level case passes
//! (area 8 against a server with API keys), and what a client reads — the G2 status
//! transcript and the texts of refusals — is pinned by insta snapshots.

mod common;

use common::{Server, workspace};
use localndif_conformance::Verdict;
use localndif_conformance::native::{Options, run};

fn options(server: &Server, api_key: Option<&str>) -> Options {
    Options { url: server.url.clone(), repo_id: "localndif/tiny-gpt2".into(), api_key: api_key.map(str::to_string) }
}

#[test]
fn native_cases_pass_and_what_clients_read_is_stable() {
    let server = Server::start(&[]);
    let outcomes = run(&options(&server, None), "*");
    let bad: Vec<String> = outcomes
        .iter()
        .filter(|o| !(o.verdict == Verdict::Pass || o.verdict == Verdict::Info && o.id.starts_with("8.")))
        .map(|o| format!("{} {}: {}", o.id, o.verdict.as_str(), o.message))
        .collect();
    assert!(bad.is_empty(), "native cases not passing:\n{}", bad.join("\n"));
    assert!(outcomes.len() >= 30, "{} native cases", outcomes.len());
    let checked = |id: &str| outcomes.iter().find(|o| o.id == id).map(|o| o.details["checked"].clone()).unwrap();
    insta::assert_json_snapshot!("g2_status_transcript", checked("2.20"));
    insta::assert_json_snapshot!(
        "refusal_texts",
        serde_json::json!({
            "1.2 no blob": checked("1.2"),
            "1.3 no data": checked("1.3"),
            "1.4 data not JSON": checked("1.4"),
            "1.9 no model key": checked("1.9"),
            "4.20 unknown job": checked("4.20"),
            "4.21 unknown result": checked("4.21"),
        })
    );
}

/// The submitted request reads only the root module's output: the native cases judge a
/// server serving any architecture, at any depth, not only the GPT-2 fixture.
#[test]
fn native_cases_pass_against_a_server_of_another_architecture() {
    let ws = workspace();
    let server = Server::start(&["--model", &format!("localndif/deep-llama={}", ws.join("fixtures/models/deep-llama").display())]);
    let o = Options { url: server.url.clone(), repo_id: "localndif/deep-llama".into(), api_key: None };
    let bad: Vec<String> = run(&o, "*")
        .iter()
        .filter(|o| !(o.verdict == Verdict::Pass || o.verdict == Verdict::Info && o.id.starts_with("8.")))
        .map(|o| format!("{} {}: {}", o.id, o.verdict.as_str(), o.message))
        .collect();
    assert!(bad.is_empty(), "native cases not passing on deep-llama:\n{}", bad.join("\n"));
}

#[test]
fn auth_cases_pass_against_a_server_with_api_keys() {
    let dir = workspace().join("target/conformance/native-keys");
    std::fs::create_dir_all(&dir).unwrap();
    let keys = dir.join(format!("keys-{}.txt", std::process::id()));
    std::fs::write(&keys, "conformance:key-conformance-4d1e\n").unwrap();
    let server = Server::start(&["--api-keys", keys.to_str().unwrap()]);
    let outcomes = run(&options(&server, Some("key-conformance-4d1e")), "*");
    let bad: Vec<String> =
        outcomes.iter().filter(|o| o.verdict != Verdict::Pass).map(|o| format!("{} {}: {}", o.id, o.verdict.as_str(), o.message)).collect();
    assert!(bad.is_empty(), "native cases not passing with API keys:\n{}", bad.join("\n"));
    let _ = std::fs::remove_file(&keys);
}
