//! The native driver (`--client native`): protocol-level cases no real client can send —
//! malformed, truncated and random bodies (proptest-generated, deterministic seed), wrong
//! headers, unknown ids, raw socket and socket.io edge cases, clients that stall or
//! vanish — and the endpoints nnsight reads (`/ping`, `/status`, `/env`). Each case talks
//! HTTP and WebSockets directly and judges only what docs/protocol.md promises a client,
//! so it holds for any NDIF-compatible server. The submitted job is a captured nnsight
//! request (`conformance/captures/`, reading only the root module's output, so any
//! architecture runs it) re-addressed to `--repo-id`.

pub mod http;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::case::Case;
use crate::report::Outcome;
use crate::verdict::{Evidence, decide};
use http::{Response, get, multipart, request};

// A trace that reads only the root module's output (`model.output.logits.save()`), so it
// runs on a model of any architecture and size once re-addressed to `--repo-id`
// (`python/capture_native.py` records them from the real 0.8.1 and 0.7.0 clients).
const G2_BLOB: &[u8] = include_bytes!("../../captures/g2-model-output.blob");
const G2_ENVELOPE: &str = include_str!("../../captures/g2-model-output.json");
const G1_BODY: &[u8] = include_bytes!("../../captures/g1-model-output.body");
/// The repo id the captures were made with (re-addressed to `--repo-id`).
#[cfg(test)]
const CAPTURED_REPO: &str = "localndif/tiny-gpt2";

/// What the native cases run against.
#[derive(Debug, Clone)]
pub struct Options {
    pub url: String,
    pub repo_id: String,
    /// A valid API key of the server (`--api-key`): enables area 8. Without it those
    /// cases are SKIP.
    pub api_key: Option<String>,
}

/// Why a native case did not pass.
#[derive(Debug)]
pub enum NotPass {
    Fail(String),
    Missing(String),
    /// The case needs a server option it was not given (an API key): INFO.
    Needs(String),
}

impl From<String> for NotPass {
    fn from(s: String) -> NotPass {
        NotPass::Fail(s)
    }
}

impl From<&str> for NotPass {
    fn from(s: &str) -> NotPass {
        NotPass::Fail(s.to_string())
    }
}

type Checked = Result<serde_json::Value, NotPass>;

/// One native case: its id and title, the part of docs/protocol.md it checks, and the
/// check (which returns the details the report shows, e.g. a status transcript).
pub struct NativeCase {
    pub id: &'static str,
    pub title: &'static str,
    pub spec: &'static str,
    run: fn(&Options) -> Checked,
}

/// Every native case, in id order.
pub fn catalogue() -> Vec<NativeCase> {
    macro_rules! case {
        ($id:literal, $spec:literal, $title:literal, $f:expr) => {
            NativeCase { id: $id, title: $title, spec: $spec, run: $f }
        };
    }
    vec![
        case!("1.1", "protocol.md §nnsight 0.8.x", "a captured 0.8.1 request is accepted (RECEIVED with an id) and completes", accepted),
        case!("1.2", "protocol.md §nnsight 0.8.x", "a multipart body without `blob` is refused with a detail", |o| refused_fields(o, &["data"])),
        case!("1.3", "protocol.md §nnsight 0.8.x", "a multipart body without `data` is refused with a detail", |o| refused_fields(o, &["blob"])),
        case!("1.4", "protocol.md §nnsight 0.8.x", "a `data` field that is not JSON is refused with a detail", data_not_json),
        case!("1.5", "protocol.md §Payloads", "a blob that is not zstd is refused or ends in ERROR", garbage_blob),
        case!("1.6", "protocol.md §Payloads", "blobs truncated at generated lengths are refused or end in ERROR, never 5xx", truncated_blobs),
        case!("1.7", "protocol.md §Payloads", "generated random blobs are refused or end in ERROR, never 5xx", random_blobs),
        case!("1.8", "protocol.md §nnsight 0.8.x", "generated model keys that name no model are refused or end in ERROR, never 5xx", random_model_keys),
        case!("1.9", "protocol.md §nnsight 0.5.11–0.7", "a raw-body request without nnsight-model-key is refused with a detail", g1_no_model_key),
        case!("1.10", "protocol.md §nnsight 0.5.11–0.7", "a raw-body request with a garbage body is refused or ends in ERROR", g1_garbage),
        case!("1.11", "protocol.md §nnsight 0.8.x", "a model key naming a repo the server does not serve never completes", unknown_repo),
        case!("1.12", "protocol.md §nnsight 0.8.x", "the same request submitted twice gets two ids", distinct_ids),
        case!("1.13", "protocol.md §nnsight 0.8.x", "GET /request is refused with 4xx", get_request),
        case!("1.14", "protocol.md §nnsight 0.8.x", "a multipart body cut off before its end (and its Content-Length) is refused or dropped, and the server goes on", short_body),
        case!("2.20", "protocol.md §nnsight 0.8.x", "a /subscribe socket gets a blocking job's statuses in order, COMPLETED last", g2_stream),
        case!("2.21", "protocol.md §nnsight 0.5.11–0.7", "a socket.io client gets a blocking job's statuses as blocking_response events, COMPLETED last", g1_stream),
        case!("2.22", "protocol.md §nnsight 0.8.x", "two /subscribe sockets each get only their own job's statuses", two_sockets),
        case!("4.20", "protocol.md §Results", "GET /response of an unknown id is 404 with a detail", |o| unknown(o, "/response/")),
        case!("4.21", "protocol.md §Results", "GET /results of an unknown id is 404 with a detail", |o| unknown(o, "/results/")),
        case!("4.22", "protocol.md §Results", "a polled job reaches COMPLETED with a URL whose download is the zstd result with its Content-Length", polled_download),
        case!("4.23", "protocol.md §Results", "generated odd job ids are answered 4xx, never 5xx", odd_ids),
        case!("8.1", "protocol.md §nnsight 0.8.x", "with API keys, a submission without a key is refused with 401 and a detail", |o| keyed(o, None, 401)),
        case!("8.2", "protocol.md §nnsight 0.8.x", "with API keys, a submission with a wrong key is refused with 401 and a detail", |o| keyed(o, Some("not-a-key-9f2c"), 401)),
        case!("8.3", "protocol.md §nnsight 0.8.x", "with API keys, a submission with a valid key runs", valid_key),
        case!("8.4", "protocol.md §nnsight 0.8.x", "with API keys, a job's status is not shown to a request without its key", key_scoped_status),
        case!("9.1", "protocol.md §nnsight 0.8.x", "GET /ping answers pong", ping),
        case!("9.2", "protocol.md §nnsight 0.8.x", "GET /status has the shape nnsight's status() and is_model_running() parse", status_shape),
        case!("9.3", "protocol.md §nnsight 0.8.x", "GET /status lists the model under test as HOT and RUNNING", status_lists_repo),
        case!("9.4", "protocol.md §nnsight 0.8.x", "GET /env answers a JSON object", env),
        case!("9.5", "protocol.md §nnsight 0.8.x", "an unknown path is 404", unknown_path),
        case!("11.20", "protocol.md §Results", "eight clients poll five jobs each at once: every job ends, each result is the solo run's bytes", many_pollers),
        case!("11.21", "protocol.md §nnsight 0.8.x", "four /subscribe clients with a blocking job each at once: each socket gets only its own job's statuses, in order", many_sockets),
        case!("12.1", "protocol.md §nnsight 0.8.x", "ten /subscribe sockets that never read do not stop other jobs", silent_sockets),
        case!("12.2", "protocol.md §nnsight 0.8.x", "a client that closes its socket right after submitting does not wedge the server", vanishing_client),
        case!("12.3", "protocol.md §nnsight 0.8.x", "a request body that stalls half-way does not stop other jobs", stalled_body),
        case!("12.4", "protocol.md §nnsight 0.8.x", "fifty idle connections do not stop other jobs", idle_connections),
        case!("12.5", "protocol.md §nnsight 0.8.x", "garbage on a /subscribe socket does not stop other jobs", garbage_websocket),
        case!("12.6", "protocol.md §nnsight 0.5.11–0.7", "garbage socket.io packets do not stop other jobs", garbage_socketio),
    ]
}

/// The native cases matching `filter`, as [`Case`]s for listing.
pub fn cases(filter: &str) -> Vec<Case> {
    catalogue()
        .into_iter()
        .filter(|c| crate::case::matches(filter, c.id))
        .map(|c| Case { id: c.id.into(), title: c.title.into(), path: std::path::PathBuf::from(format!("native:{}", c.spec)), alone: false, needs: Default::default() })
        .collect()
}

/// Runs the native cases matching `filter`; one outcome each, in order.
pub fn run(options: &Options, filter: &str) -> Vec<Outcome> {
    run_matching(options, |id| crate::case::matches(filter, id))
}

/// Runs the native cases whose id `keep` accepts.
pub fn run_matching(options: &Options, keep: impl Fn(&str) -> bool) -> Vec<Outcome> {
    catalogue()
        .into_iter()
        .filter(|c| keep(c.id))
        .map(|c| {
            let started = Instant::now();
            let (evidence, message, details) = match (c.run)(options) {
                Ok(details) => (Evidence::ServerBehaved, String::new(), details),
                Err(NotPass::Fail(m)) => (Evidence::DriverFailed(m.clone()), m, serde_json::Value::Null),
                Err(NotPass::Missing(m)) => (Evidence::NoEndpoint(m.clone()), m, serde_json::Value::Null),
                Err(NotPass::Needs(m)) => (Evidence::Needs(m.clone()), m, serde_json::Value::Null),
            };
            let verdict = decide(&evidence);
            eprintln!("{:<8} {:<7} {} ({:.1} s)", c.id, verdict.as_str(), c.title, started.elapsed().as_secs_f64());
            Outcome {
                id: c.id.into(),
                title: c.title.into(),
                verdict,
                message,
                details: serde_json::json!({"spec": c.spec, "driver": "native", "checked": details}),
            }
        })
        .collect()
}

// ---------------------------------------------------------------- requests

fn model_key(repo: &str) -> String {
    format!(
        "nnsight.modeling.transformers.TransformersModel:{{\"repo_id\": {}, \"revision\": null, \"task\": \"text-generation\"}}",
        serde_json::Value::String(repo.into())
    )
}

fn envelope(o: &Options, session: &str) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_str(G2_ENVELOPE).expect("the captured envelope is JSON");
    v["model_key"] = model_key(&o.repo_id).into();
    v["session_id"] = session.into();
    v.to_string().into_bytes()
}

fn key_headers(o: &Options) -> Vec<(&'static str, String)> {
    let mut h = vec![("nnsight-version", "0.8.1".to_string())];
    h.extend(key_only(o));
    h
}

/// The API key header, if the run has a key.
fn key_only(o: &Options) -> Vec<(&'static str, String)> {
    o.api_key.iter().map(|k| ("ndif-api-key", k.clone())).collect()
}

/// GET with the run's API key.
fn get_keyed(o: &Options, path: &str) -> Result<Response, String> {
    let headers = key_only(o);
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    request(&o.url, "GET", path, &h, &[])
}

/// POSTs a G2 multipart body made of `envelope` and `blob`.
fn post_g2(o: &Options, envelope: &[u8], blob: &[u8], extra: &[(&str, String)]) -> Result<Response, String> {
    let (body, ctype) = multipart(&[("data", None, envelope), ("blob", Some("request"), blob)]);
    let mut headers: Vec<(&str, String)> = vec![("Content-Type", ctype)];
    headers.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    request(&o.url, "POST", "/request", &h, &body)
}

/// Submits the captured request; its job id (`session` "" = non-blocking).
fn submit(o: &Options, session: &str) -> Result<String, String> {
    let r = post_g2(o, &envelope(o, session), G2_BLOB, &key_headers(o))?;
    if r.status != 200 {
        return Err(format!("POST /request: HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)));
    }
    let v = r.json()?;
    if v["status"] != "RECEIVED" {
        return Err(format!("POST /request answered {v}, not RECEIVED"));
    }
    v["id"].as_str().filter(|s| !s.is_empty()).map(str::to_string).ok_or_else(|| format!("no job id in {v}"))
}

fn poll(o: &Options, id: &str) -> Result<Option<serde_json::Value>, String> {
    let headers: Vec<(&str, String)> = key_headers(o);
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = request(&o.url, "GET", &format!("/response/{id}"), &h, &[])?;
    match r.status {
        200 => r.json().map(Some),
        404 => Ok(None),
        s => Err(format!("GET /response/{id}: HTTP {s}")),
    }
}

/// Polls job `id` until it is COMPLETED or ERROR (at most a minute).
fn terminal(o: &Options, id: &str) -> Result<serde_json::Value, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = poll(o, id)?
            && matches!(v["status"].as_str(), Some("COMPLETED" | "ERROR"))
        {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("job {id} did not end within 60 s (last: {:?})", poll(o, id)));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A whole job runs: the server still serves (after a hostile case).
fn still_serves(o: &Options) -> Result<(), String> {
    let id = submit(o, "").map_err(|e| format!("afterwards the server no longer takes jobs: {e}"))?;
    let v = terminal(o, &id).map_err(|e| format!("afterwards: {e}"))?;
    if v["status"] != "COMPLETED" {
        return Err(format!("afterwards a valid job did not complete: {v}"));
    }
    Ok(())
}

/// A refusal: 4xx with a `detail` text. Its detail.
fn refused(r: &Response) -> Result<String, String> {
    if !(400..500).contains(&r.status) {
        return Err(format!("expected a 4xx refusal, got HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)));
    }
    r.detail()
}

/// Refused with a 4xx, or taken and ended with an ERROR (never 5xx, never COMPLETED).
fn refused_or_error(o: &Options, r: &Response) -> Result<String, String> {
    if r.status >= 500 {
        return Err(format!("HTTP {} (a server error) for a client mistake: {}", r.status, String::from_utf8_lossy(&r.body)));
    }
    if r.status != 200 {
        return refused(r);
    }
    let v = r.json()?;
    let status = v["status"].as_str().unwrap_or("");
    if status == "ERROR" {
        return Ok(v["description"].as_str().unwrap_or("").to_string());
    }
    let id = v["id"].as_str().ok_or_else(|| format!("a 200 reply without an id: {v}"))?;
    let end = terminal(o, id)?;
    match end["status"].as_str() {
        Some("ERROR") => Ok(end["description"].as_str().unwrap_or("").to_string()),
        _ => Err(format!("a bad request completed: {end}")),
    }
}

// ---------------------------------------------------------------- area 1

/// Runs a non-blocking job to COMPLETED and downloads its result from the URL COMPLETED
/// names: the download's response.
fn run_and_download(o: &Options) -> Result<Response, String> {
    let id = submit(o, "")?;
    let end = terminal(o, &id)?;
    if end["status"] != "COMPLETED" {
        return Err(format!("job {id} did not complete: {end}"));
    }
    let url = end["data"].as_str().ok_or_else(|| format!("COMPLETED's data is not a URL string: {end}"))?;
    let path = &url[url.find("/results/").ok_or_else(|| format!("an unexpected result URL {url}"))?..];
    get_keyed(o, path)
}

fn accepted(o: &Options) -> Checked {
    let r = run_and_download(o)?;
    if r.status != 200 || !r.body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(format!("the download: HTTP {}, {} bytes, not a zstd frame", r.status, r.body.len()).into());
    }
    Ok(serde_json::json!({"result_bytes": r.body.len()}))
}

fn refused_fields(o: &Options, keep: &[&str]) -> Checked {
    let env = envelope(o, "");
    let mut fields: Vec<(&str, Option<&str>, &[u8])> = Vec::new();
    if keep.contains(&"data") {
        fields.push(("data", None, &env));
    }
    if keep.contains(&"blob") {
        fields.push(("blob", Some("request"), G2_BLOB));
    }
    let (body, ctype) = multipart(&fields);
    let r = request(&o.url, "POST", "/request", &[("Content-Type", &ctype), ("nnsight-version", "0.8.1")], &body)?;
    Ok(serde_json::json!({"detail": refused(&r)?}))
}

fn data_not_json(o: &Options) -> Checked {
    let r = post_g2(o, b"{not json", G2_BLOB, &key_headers(o))?;
    Ok(serde_json::json!({"detail": refused(&r)?}))
}

fn garbage_blob(o: &Options) -> Checked {
    let r = post_g2(o, &envelope(o, ""), b"this is not a zstd frame", &key_headers(o))?;
    Ok(serde_json::json!({"detail": refused_or_error(o, &r)?}))
}

/// Runs `check` on `cases` inputs from `strategy` (a fixed seed: the same inputs every
/// run); the first failure, shrunk, is the case's message.
fn generated<S: Strategy>(cases: u32, strategy: S, check: impl Fn(S::Value) -> Result<(), String>) -> Result<(), NotPass>
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new_with_rng(
        Config { cases, failure_persistence: None, max_shrink_iters: 16, ..Config::default() },
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    runner
        .run(&strategy, |v| check(v).map_err(TestCaseError::fail))
        .map_err(|e| NotPass::Fail(format!("{e}")))
}

fn truncated_blobs(o: &Options) -> Checked {
    generated(12, 0..G2_BLOB.len(), |n| refused_or_error(o, &post_g2(o, &envelope(o, ""), &G2_BLOB[..n], &key_headers(o))?).map(|_| ()))?;
    still_serves(o)?;
    Ok(serde_json::json!({"inputs": 12}))
}

fn random_blobs(o: &Options) -> Checked {
    let zstd_like = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        proptest::collection::vec(any::<u8>(), 0..512).prop_map(|mut v| {
            v.splice(0..0, [0x28, 0xb5, 0x2f, 0xfd]);
            v
        }),
    ];
    generated(12, zstd_like, |blob| refused_or_error(o, &post_g2(o, &envelope(o, ""), &blob, &key_headers(o))?).map(|_| ()))?;
    still_serves(o)?;
    Ok(serde_json::json!({"inputs": 12}))
}

fn random_model_keys(o: &Options) -> Checked {
    let keys = prop_oneof!["[ -~]{0,40}", "[a-z]{1,8}/[a-z0-9-]{1,12}".prop_map(|r| model_key(&format!("no-such-org-{r}")))];
    generated(10, keys, |key| {
        let mut env: serde_json::Value = serde_json::from_slice(&envelope(o, "")).map_err(|e| e.to_string())?;
        env["model_key"] = key.into();
        refused_or_error(o, &post_g2(o, env.to_string().as_bytes(), G2_BLOB, &key_headers(o))?).map(|_| ())
    })?;
    still_serves(o)?;
    Ok(serde_json::json!({"inputs": 10}))
}

fn g1_headers(o: &Options, session: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Content-Type", "application/octet-stream".to_string()),
        ("nnsight-model-key", format!("nnsight.modeling.language.LanguageModel:{{\"repo_id\": {}, \"revision\": null}}", serde_json::Value::String(o.repo_id.clone()))),
        ("nnsight-compress", "True".into()),
        ("nnsight-version", "0.7.0".into()),
        ("ndif-timestamp", "1795753679.1654825".into()),
        ("ndif-callback", String::new()),
        ("ndif-session_id", session.into()),
    ];
    if let Some(k) = &o.api_key {
        h.push(("ndif-api-key", k.clone()));
    }
    h
}

fn post_g1(o: &Options, headers: &[(&str, String)], body: &[u8]) -> Result<Response, String> {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    request(&o.url, "POST", "/request", &h, body)
}

fn g1_no_model_key(o: &Options) -> Checked {
    let headers: Vec<_> = g1_headers(o, "").into_iter().filter(|(k, _)| *k != "nnsight-model-key").collect();
    let r = post_g1(o, &headers, G1_BODY)?;
    Ok(serde_json::json!({"detail": refused(&r)?}))
}

fn g1_garbage(o: &Options) -> Checked {
    let r = post_g1(o, &g1_headers(o, ""), b"\x28\xb5\x2f\xfdgarbage")?;
    Ok(serde_json::json!({"detail": refused_or_error(o, &r)?}))
}

fn unknown_repo(o: &Options) -> Checked {
    let mut env: serde_json::Value = serde_json::from_slice(&envelope(o, "")).map_err(|e| e.to_string())?;
    env["model_key"] = model_key("conformance/no-such-model").into();
    let r = post_g2(o, env.to_string().as_bytes(), G2_BLOB, &key_headers(o))?;
    Ok(serde_json::json!({"detail": refused_or_error(o, &r)?}))
}

fn distinct_ids(o: &Options) -> Checked {
    let (a, b) = (submit(o, "")?, submit(o, "")?);
    if a == b {
        return Err(format!("both submissions got the id {a}").into());
    }
    for id in [&a, &b] {
        let end = terminal(o, id)?;
        if end["status"] != "COMPLETED" {
            return Err(format!("job {id}: {end}").into());
        }
    }
    Ok(serde_json::Value::Null)
}

fn get_request(o: &Options) -> Checked {
    let r = get(&o.url, "/request")?;
    if !(400..500).contains(&r.status) {
        return Err(format!("GET /request: HTTP {}", r.status).into());
    }
    Ok(serde_json::json!({"status": r.status}))
}

fn short_body(o: &Options) -> Checked {
    use std::io::Write;
    let (body, ctype) = multipart(&[("data", None, &envelope(o, "")), ("blob", Some("request"), G2_BLOB)]);
    let mut s = http::connect(&o.url)?;
    let head = format!(
        "POST /request HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        http::authority(&o.url)?,
        body.len() + 5000
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    // Half the multipart body: the blob is cut and the closing boundary never comes.
    s.write_all(&body[..body.len() / 2]).map_err(|e| e.to_string())?;
    let _ = s.shutdown(std::net::Shutdown::Write);
    // The server may refuse it, take it and end the job with an ERROR, or just close:
    // either way within the I/O timeout.
    let answered = http::read_response(&mut s).ok();
    if let Some(r) = &answered {
        refused_or_error(o, r).map_err(|e| format!("a cut-off body: {e}"))?;
    }
    let answered = answered.map(|r| r.status);
    still_serves(o)?;
    Ok(serde_json::json!({"answered": answered}))
}

// ---------------------------------------------------------------- area 2

/// Statuses in the order a job goes through them (LOG may come anywhere).
fn rank(status: &str) -> Option<u8> {
    ["RECEIVED", "QUEUED", "DISPATCHED", "RUNNING", "COMPLETED"].iter().position(|s| *s == status).map(|p| p as u8)
}

/// Status names found in a G1 frame or a G2 binary frame (`torch.save` of the status
/// dict, whose strings are stored as they are).
fn statuses_in(bytes: &[u8]) -> Vec<&'static str> {
    ["RECEIVED", "QUEUED", "DISPATCHED", "RUNNING", "COMPLETED", "ERROR", "LOG"]
        .into_iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect()
}

/// Checks a transcript: known statuses in order, ending with COMPLETED.
fn in_order(transcript: &[String]) -> Result<(), String> {
    let mut last = 0;
    for s in transcript.iter().filter(|s| *s != "LOG") {
        let r = rank(s).ok_or_else(|| format!("an unexpected status {s} in {transcript:?}"))?;
        if r < last {
            return Err(format!("statuses out of order: {transcript:?}"));
        }
        last = r;
    }
    if transcript.last().map(String::as_str) != Some("COMPLETED") {
        return Err(format!("the last status is not COMPLETED: {transcript:?}"));
    }
    Ok(())
}

/// Reads a /subscribe socket's frames for job `id` until COMPLETED or ERROR.
fn g2_transcript(ws: &mut tungstenite::WebSocket<std::net::TcpStream>, id: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    loop {
        let msg = ws.read().map_err(|e| format!("reading the socket after {out:?}: {e}"))?;
        let status = match msg {
            tungstenite::Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).map_err(|e| format!("a frame that is not JSON ({e}): {t}"))?;
                if v["id"] != id {
                    return Err(format!("a frame of another job: {v}"));
                }
                v["status"].as_str().unwrap_or("").to_string()
            }
            tungstenite::Message::Binary(b) => {
                let found = statuses_in(&b);
                if !b.windows(id.len()).any(|w| w == id.as_bytes()) {
                    return Err("a binary frame that does not name the job".into());
                }
                found.first().map(|s| s.to_string()).unwrap_or_default()
            }
            tungstenite::Message::Close(c) => return Err(format!("the socket closed after {out:?}: {c:?}")),
            _ => continue,
        };
        let end = status == "COMPLETED" || status == "ERROR";
        out.push(status);
        if end {
            return Ok(out);
        }
    }
}

type Socket = tungstenite::WebSocket<std::net::TcpStream>;

/// Opens `/subscribe`; the socket and the session id the server's first frame names.
fn subscribe(o: &Options, timeout: Duration) -> Result<(Socket, String), String> {
    let mut ws = http::websocket(&o.url, "/subscribe", &key_only(o), timeout)?;
    let first = loop {
        match ws.read().map_err(|e| format!("/subscribe sent no first frame: {e}"))? {
            tungstenite::Message::Text(t) => break t.to_string(),
            tungstenite::Message::Close(c) => return Err(format!("/subscribe closed at once: {c:?}")),
            _ => {}
        }
    };
    let v: serde_json::Value = serde_json::from_str(&first).map_err(|e| format!("the first /subscribe frame {first:?}: {e}"))?;
    let session = v["session_id"].as_str().filter(|s| !s.is_empty()).ok_or_else(|| format!("no session_id in the first frame {first:?}"))?;
    Ok((ws, session.to_string()))
}

fn g2_stream(o: &Options) -> Checked {
    let (mut ws, session) = subscribe(o, Duration::from_secs(60))?;
    let id = submit(o, &session)?;
    let transcript = g2_transcript(&mut ws, &id)?;
    in_order(&transcript)?;
    Ok(serde_json::json!({"transcript": transcript}))
}

fn two_sockets(o: &Options) -> Checked {
    let ((mut a, sa), (mut b, sb)) = (subscribe(o, Duration::from_secs(60))?, subscribe(o, Duration::from_secs(60))?);
    if sa == sb {
        return Err(format!("two sockets got the same session id {sa}").into());
    }
    let ida = submit(o, &sa)?;
    let idb = submit(o, &sb)?;
    let (ta, tb) = (g2_transcript(&mut a, &ida)?, g2_transcript(&mut b, &idb)?);
    in_order(&ta)?;
    in_order(&tb)?;
    Ok(serde_json::json!({"a": ta, "b": tb}))
}

/// A socket.io (engine.io v4) client over a WebSocket: its sid.
fn socketio(o: &Options) -> Result<(tungstenite::WebSocket<std::net::TcpStream>, String), NotPass> {
    let mut ws = http::websocket(&o.url, "/ws/socket.io/?EIO=4&transport=websocket", &key_only(o), Duration::from_secs(60))
        .map_err(|e| {
            if e.contains("404") {
                NotPass::Missing("the server offers no socket.io endpoint at /ws/socket.io (nnsight 0.5–0.7 clients)".into())
            } else {
                NotPass::Fail(format!("socket.io at /ws/socket.io: {e}"))
            }
        })?;
    let open = read_text(&mut ws)?;
    if !open.starts_with('0') {
        return Err(format!("engine.io open packet expected, got {open:?}").into());
    }
    ws.send(tungstenite::Message::Text("40".into())).map_err(|e| e.to_string())?;
    loop {
        let t = read_text(&mut ws)?;
        if let Some(rest) = t.strip_prefix("40") {
            let v: serde_json::Value = serde_json::from_str(rest).map_err(|e| format!("socket.io CONNECT ack {t:?}: {e}"))?;
            let sid = v["sid"].as_str().ok_or_else(|| format!("no sid in {t:?}"))?.to_string();
            return Ok((ws, sid));
        }
        if t == "2" {
            ws.send(tungstenite::Message::Text("3".into())).map_err(|e| e.to_string())?;
        }
    }
}

fn read_text(ws: &mut tungstenite::WebSocket<std::net::TcpStream>) -> Result<String, String> {
    loop {
        match ws.read().map_err(|e| format!("reading socket.io: {e}"))? {
            tungstenite::Message::Text(t) => return Ok(t.to_string()),
            tungstenite::Message::Close(c) => return Err(format!("socket.io closed: {c:?}")),
            _ => {}
        }
    }
}

fn g1_stream(o: &Options) -> Checked {
    let (mut ws, sid) = socketio(o)?;
    let r = post_g1(o, &g1_headers(o, &sid), G1_BODY)?;
    if r.status != 200 {
        return Err(format!("POST /request: HTTP {}: {}", r.status, String::from_utf8_lossy(&r.body)).into());
    }
    let reply = r.json()?;
    let id = reply["id"].as_str().ok_or_else(|| format!("no id in {reply}"))?.to_string();
    let mut transcript = Vec::new();
    loop {
        match ws.read().map_err(|e| format!("reading socket.io after {transcript:?}: {e}"))? {
            tungstenite::Message::Text(t) if t.as_str() == "2" => {
                ws.send(tungstenite::Message::Text("3".into())).map_err(|e| e.to_string())?;
            }
            // `451-["blocking_response",{"_placeholder":true,"num":0}]`: the status follows
            // as a binary attachment.
            tungstenite::Message::Text(t) if !t.contains("blocking_response") => {
                return Err(format!("an unexpected socket.io packet {t:?}").into());
            }
            tungstenite::Message::Binary(b) => {
                if !b.windows(id.len()).any(|w| w == id.as_bytes()) {
                    return Err("a blocking_response of another job".into());
                }
                let s = statuses_in(&b).into_iter().find(|s| *s != "LOG").or(statuses_in(&b).first().copied()).unwrap_or("?");
                transcript.push(s.to_string());
                if s == "COMPLETED" || s == "ERROR" {
                    break;
                }
            }
            tungstenite::Message::Close(c) => return Err(format!("socket.io closed after {transcript:?}: {c:?}").into()),
            _ => {}
        }
    }
    in_order(&transcript)?;
    Ok(serde_json::json!({"transcript": transcript}))
}

// ---------------------------------------------------------------- area 4

fn unknown(o: &Options, prefix: &str) -> Checked {
    let r = get(&o.url, &format!("{prefix}00000000000000000000000000000000"))?;
    if r.status != 404 {
        return Err(format!("GET {prefix}<unknown id>: HTTP {}", r.status).into());
    }
    Ok(serde_json::json!({"detail": r.detail()?}))
}

fn polled_download(o: &Options) -> Checked {
    let r = run_and_download(o)?;
    let length: Option<usize> = r.header("content-length").and_then(|v| v.parse().ok());
    if r.status != 200 || length != Some(r.body.len()) || !r.body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(format!("the download: HTTP {}, Content-Length {length:?}, {} bytes", r.status, r.body.len()).into());
    }
    Ok(serde_json::json!({"result_bytes": r.body.len()}))
}

fn odd_ids(o: &Options) -> Checked {
    generated(16, "[A-Za-z0-9._~%-]{1,64}", |id| {
        for prefix in ["/response/", "/results/"] {
            let r = get(&o.url, &format!("{prefix}{id}"))?;
            if !(400..500).contains(&r.status) {
                return Err(format!("GET {prefix}{id}: HTTP {}", r.status));
            }
        }
        Ok(())
    })?;
    Ok(serde_json::json!({"inputs": 16}))
}

// ---------------------------------------------------------------- area 11

/// A non-blocking job's result bytes.
fn run_to_result(o: &Options) -> Result<Vec<u8>, String> {
    let r = run_and_download(o)?;
    if r.status != 200 {
        return Err(format!("the download: HTTP {}", r.status));
    }
    Ok(r.body)
}

fn many_pollers(o: &Options) -> Checked {
    let solo = run_to_result(o)?;
    let errors: Vec<String> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..8)
            .map(|c| {
                let solo = &solo;
                scope.spawn(move || -> Result<(), String> {
                    for j in 0..5 {
                        let got = run_to_result(o).map_err(|e| format!("client {c} job {j}: {e}"))?;
                        if got != *solo {
                            return Err(format!("client {c} job {j}: a result other than the solo run's ({} bytes, solo {})", got.len(), solo.len()));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        clients.into_iter().filter_map(|h| h.join().unwrap_or_else(|_| Err("a client thread panicked".into())).err()).collect()
    });
    if !errors.is_empty() {
        return Err(errors.join("; ").into());
    }
    Ok(serde_json::json!({"jobs": 40}))
}

fn many_sockets(o: &Options) -> Checked {
    let transcripts: Vec<Result<Vec<String>, String>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(move || -> Result<Vec<String>, String> {
                    let (mut ws, session) = subscribe(o, Duration::from_secs(60))?;
                    let id = submit(o, &session)?;
                    let t = g2_transcript(&mut ws, &id)?;
                    in_order(&t)?;
                    Ok(t)
                })
            })
            .collect();
        clients.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a client thread panicked".into()))).collect()
    });
    let errors: Vec<String> = transcripts.iter().filter_map(|t| t.as_ref().err().cloned()).collect();
    if !errors.is_empty() {
        return Err(errors.join("; ").into());
    }
    Ok(serde_json::json!({"sockets": 4}))
}

// ---------------------------------------------------------------- area 8

fn needs_key(o: &Options) -> Result<&str, NotPass> {
    o.api_key.as_deref().ok_or_else(|| NotPass::Needs("needs a server with API keys and one of them (--api-key)".into()))
}

fn keyed(o: &Options, key: Option<&str>, expect: u16) -> Checked {
    needs_key(o)?;
    let mut headers = vec![("nnsight-version", "0.8.1".to_string())];
    if let Some(k) = key {
        headers.push(("ndif-api-key", k.to_string()));
    }
    let r = post_g2(o, &envelope(o, ""), G2_BLOB, &headers)?;
    if r.status != expect {
        return Err(format!("expected HTTP {expect}, got {}: {}", r.status, String::from_utf8_lossy(&r.body)).into());
    }
    Ok(serde_json::json!({"detail": r.detail()?}))
}

fn valid_key(o: &Options) -> Checked {
    needs_key(o)?;
    let id = submit(o, "")?;
    let end = terminal(o, &id)?;
    if end["status"] != "COMPLETED" {
        return Err(format!("{end}").into());
    }
    Ok(serde_json::Value::Null)
}

fn key_scoped_status(o: &Options) -> Checked {
    needs_key(o)?;
    let id = submit(o, "")?;
    terminal(o, &id)?;
    let r = get(&o.url, &format!("/response/{id}"))?;
    if r.status == 200 {
        return Err("a request without the key read the job's status".into());
    }
    Ok(serde_json::json!({"status": r.status}))
}

// ---------------------------------------------------------------- area 9

fn ping(o: &Options) -> Checked {
    let r = get(&o.url, "/ping")?;
    let text = String::from_utf8_lossy(&r.body).to_string();
    if r.status != 200 || !text.contains("pong") {
        return Err(format!("GET /ping: HTTP {}: {text}", r.status).into());
    }
    Ok(serde_json::Value::Null)
}

fn status_json(o: &Options) -> Result<serde_json::Value, NotPass> {
    let r = get(&o.url, "/status")?;
    if r.status == 404 {
        return Err(NotPass::Missing("the server has no /status".into()));
    }
    if r.status != 200 {
        return Err(format!("GET /status: HTTP {}", r.status).into());
    }
    Ok(r.json()?)
}

fn status_shape(o: &Options) -> Checked {
    let v = status_json(o)?;
    let deployments = v["deployments"].as_object().ok_or_else(|| format!("no deployments object in {v}"))?;
    for (name, d) in deployments {
        let level = d["deployment_level"].as_str().ok_or_else(|| format!("{name}: no deployment_level"))?;
        if !matches!(level, "HOT" | "WARM" | "COLD") {
            return Err(format!("{name}: deployment_level {level}").into());
        }
        if level != "COLD" {
            for field in ["repo_id", "model_key", "dedicated"] {
                if d.get(field).is_none() {
                    return Err(format!("{name}: a {level} entry without {field}").into());
                }
            }
            let state = d["application_state"].as_str().unwrap_or("NOT DEPLOYED");
            if !matches!(state, "RUNNING" | "DEPLOYING" | "NOT DEPLOYED" | "DOWN") {
                return Err(format!("{name}: application_state {state} (0.5–0.7 clients raise on it)").into());
            }
        }
    }
    Ok(serde_json::json!({"deployments": deployments.len()}))
}

fn status_lists_repo(o: &Options) -> Checked {
    let v = status_json(o)?;
    let hot = v["deployments"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, d)| d["repo_id"] == o.repo_id.as_str() && d["deployment_level"] == "HOT" && d["application_state"] == "RUNNING");
    if !hot {
        return Err(format!("{} is not a HOT, RUNNING deployment in /status", o.repo_id).into());
    }
    Ok(serde_json::Value::Null)
}

fn env(o: &Options) -> Checked {
    let r = get(&o.url, "/env")?;
    if r.status == 404 {
        return Err(NotPass::Missing("the server has no /env".into()));
    }
    let v = r.json()?;
    if r.status != 200 || !v.is_object() {
        return Err(format!("GET /env: HTTP {}: {v}", r.status).into());
    }
    Ok(serde_json::Value::Null)
}

fn unknown_path(o: &Options) -> Checked {
    let r = get(&o.url, "/conformance/no/such/path")?;
    if r.status != 404 {
        return Err(format!("HTTP {}", r.status).into());
    }
    Ok(serde_json::Value::Null)
}

// ---------------------------------------------------------------- area 12

fn silent_sockets(o: &Options) -> Checked {
    let socks: Vec<_> = (0..10).map(|_| http::websocket(&o.url, "/subscribe", &key_only(o), Duration::from_secs(5))).collect::<Result<_, _>>()?;
    still_serves(o)?;
    drop(socks);
    Ok(serde_json::Value::Null)
}

fn vanishing_client(o: &Options) -> Checked {
    let (ws, session) = subscribe(o, Duration::from_secs(5))?;
    let id = submit(o, &session)?;
    drop(ws);
    // Whatever the server does with the orphan (finish it, stop it), it ends.
    let end = terminal(o, &id)?;
    still_serves(o)?;
    Ok(serde_json::json!({"orphan": end["status"]}))
}

fn stalled_body(o: &Options) -> Checked {
    use std::io::Write;
    let mut s = http::connect(&o.url)?;
    let head = format!(
        "POST /request HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n0123456789",
        http::authority(&o.url)?
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    still_serves(o)?;
    drop(s);
    Ok(serde_json::Value::Null)
}

fn idle_connections(o: &Options) -> Checked {
    let conns: Vec<_> = (0..50).map(|_| http::connect(&o.url)).collect::<Result<_, _>>()?;
    still_serves(o)?;
    drop(conns);
    Ok(serde_json::Value::Null)
}

fn garbage_websocket(o: &Options) -> Checked {
    let mut ws = http::websocket(&o.url, "/subscribe", &key_only(o), Duration::from_secs(5))?;
    let _ = ws.send(tungstenite::Message::Binary(vec![0xff; 4096].into()));
    let _ = ws.send(tungstenite::Message::Text("{\"session_id\": [1, 2".into()));
    let mut other = http::websocket(&o.url, "/subscribe", &key_only(o), Duration::from_secs(5))?;
    let _ = other.send(tungstenite::Message::Text("\u{0}\u{1}not json".into()));
    still_serves(o)?;
    Ok(serde_json::Value::Null)
}

fn garbage_socketio(o: &Options) -> Checked {
    let (mut ws, _) = socketio(o)?;
    for junk in ["4", "42[", "451-[\"blocking_response\"", "99", "6", "40/nowhere,"] {
        let _ = ws.send(tungstenite::Message::Text(junk.into()));
    }
    let _ = ws.send(tungstenite::Message::Binary(vec![0u8; 1024].into()));
    still_serves(o)?;
    Ok(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_case_names_its_spec() {
        let all = catalogue();
        let mut ids: Vec<_> = all.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert!(all.iter().all(|c| c.spec.starts_with("protocol.md §")));
    }

    #[test]
    fn transcripts_must_be_ordered_and_end_completed() {
        let t = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(in_order(&t(&["QUEUED", "DISPATCHED", "RUNNING", "LOG", "COMPLETED"])).is_ok());
        assert!(in_order(&t(&["RUNNING", "QUEUED", "COMPLETED"])).is_err());
        assert!(in_order(&t(&["QUEUED", "RUNNING"])).is_err());
        assert!(in_order(&t(&["QUEUED", "BOGUS", "COMPLETED"])).is_err());
    }

    #[test]
    fn the_captured_envelope_is_readdressed() {
        let o = Options { url: "http://x".into(), repo_id: "a/b".into(), api_key: None };
        let v: serde_json::Value = serde_json::from_slice(&envelope(&o, "s")).unwrap();
        assert!(v["model_key"].as_str().unwrap().contains("\"repo_id\": \"a/b\""));
        assert!(G2_ENVELOPE.contains(CAPTURED_REPO));
        assert_eq!(v["session_id"], "s");
    }
}
