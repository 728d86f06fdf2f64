//! The routes in-process (`Router::oneshot`, no socket; axum's testing example): status
//! codes and `{"detail": ...}` bodies for bad input, and a real captured nnsight 0.8.1
//! payload submitted, polled and downloaded.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;
use crate::model::{ModelSource, embedded_defaults};

fn state_serving(repo: &str) -> AppState {
    let (_, source) = embedded_defaults().into_iter().next().unwrap();
    let ModelSource::Embedded(_) = source else {
        unreachable!()
    };
    let registry = Registry::load(vec![(repo.to_string(), source)], tch::Device::Cpu).unwrap();
    AppState {
        jobs: Jobs::start(crate::jobs::ExecConfig {
            max_queue: 8,
            stack: crate::job::JOB_STACK,
            ..Default::default()
        }),
        registry: Arc::new(registry),
        caps: Caps::default(),
        protocol: Default::default(),
        keys: None,
        rate: None,
        cluster: None,
    }
}

async fn send(state: &AppState, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn get(state: &AppState, uri: &str) -> (StatusCode, Vec<u8>) {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn detail(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("a JSON error body");
    v["detail"].as_str().expect("a detail string").to_string()
}

const BOUNDARY: &str = "localndif-test-boundary";

fn multipart(data: &str, blob: &[u8]) -> Request<Body> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"request\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(blob);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    Request::post("/request")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap()
}

const G2_KEY: &str = r#"nnsight.modeling.transformers.TransformersModel:{\"repo_id\": \"openai-community/gpt2\", \"revision\": null, \"task\": \"text-generation\"}"#;

/// The `data` part for a blocking job on `session`, or a non-blocking one for `""`.
fn envelope_for(session: &str) -> String {
    format!(
        r#"{{"model_key":"{G2_KEY}","session_id":"{session}","compress":true,"env":{{"attn_implementation":"sdpa"}}}}"#
    )
}

fn envelope() -> String {
    envelope_for("")
}

/// The job id of a RECEIVED reply.
fn job_id(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    v["id"].as_str().expect("a job id").to_string()
}

/// A real 0.8.1 request payload from `fixtures/captures` (missing fixtures fail).
fn capture(case: &str) -> Vec<u8> {
    let p = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join("../fixtures/captures/v0.8.1")
        .join(case)
        .join("request.blob");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test]
async fn auxiliary_endpoints_have_ndif_shapes() {
    let s = state_serving("localndif/tiny-gpt2");
    assert_eq!(
        get(&s, "/ping").await,
        (StatusCode::OK, b"\"pong\"".to_vec())
    );
    let (code, body) = get(&s, "/status").await;
    assert_eq!(code, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (_, entry) = v["deployments"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(entry["deployment_level"], "HOT");
    assert_eq!(entry["application_state"], "RUNNING");
    assert_eq!(entry["repo_id"], "localndif/tiny-gpt2");
    assert!(entry["revision"].is_null() && entry["dedicated"] == true);
    let key = entry["model_key"].as_str().unwrap();
    let suffix: serde_json::Value = serde_json::from_str(key.split_once(':').unwrap().1).unwrap();
    assert!(suffix.get("revision").is_some());
    let (_, body) = get(&s, "/whoami").await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"email": null, "tags": []})
    );
    let (_, body) = get(&s, "/env").await;
    let env: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(env["python_version"].is_string() && env["packages"]["nnsight"].is_string());
    // What a local run must match to reproduce results bit for bit, per model.
    let threads = s.registry.get("localndif/tiny-gpt2").unwrap().intra_op_threads;
    assert_eq!(env["intra_op_threads"]["localndif/tiny-gpt2"], threads);
    assert_eq!(env["attn_implementation"]["localndif/tiny-gpt2"], "sdpa");
    assert_eq!(entry["intra_op_threads"], threads);
    // The limits and options jobs run under are the ones the server was given.
    assert_eq!(env["limits"]["timeout_s"], s.caps.wall.as_secs_f64());
    assert_eq!(env["limits"]["max_steps"], s.caps.max_steps);
    assert_eq!(env["limits"]["tensor_budget"], s.caps.tensor_budget);
    assert_eq!(env["features"]["stream_local"], s.protocol.stream_local);
    assert_eq!(env["features"]["api_keys"], false);
}

#[tokio::test]
async fn env_advertises_the_limits_the_server_was_given() {
    let mut s = state_serving("localndif/tiny-gpt2");
    s.caps = Caps { wall: Duration::from_secs(7), max_steps: 1234, ..Default::default() };
    s.protocol.stream_local = true;
    let (_, body) = get(&s, "/env").await;
    let env: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(env["limits"]["timeout_s"], 7.0);
    assert_eq!(env["limits"]["max_steps"], 1234);
    assert_eq!(env["features"]["stream_local"], true);
}

#[tokio::test]
async fn bad_requests_get_a_detail() {
    let s = state_serving("localndif/tiny-gpt2");
    let (code, body) = get(&s, "/response/nope").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(detail(&body).contains("nope"));
    let (code, body) = get(&s, "/results/nope").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(detail(&body).contains("nope"));

    // A raw body is a G1 (nnsight 0.5-0.7) submission: it must name its model.
    let octet = Request::post("/request")
        .header("content-type", "application/octet-stream")
        .body(Body::from("x"))
        .unwrap();
    let (code, body) = send(&s, octet).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).contains("nnsight-model-key"), "{}", detail(&body));

    let (code, body) = send(&s, multipart("{not json", b"")).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(detail(&body).starts_with("Invalid JSON"));

    let (code, body) = send(&s, multipart(&envelope(), b"\x28\xb5\x2f\xfdgarbage")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).contains("decompress"), "{}", detail(&body));

    let (code, body) = send(&s, multipart(&envelope(), b"\x80\x04not a pickle")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).contains("decode"), "{}", detail(&body));

    // A blocking submission whose session has no open /subscribe socket would never hear back.
    let blob = capture("c01_save_output");
    let s = state_serving("openai-community/gpt2");
    let (code, body) = send(&s, multipart(&envelope_for("not-open"), &blob)).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let d = detail(&body);
    assert!(
        d.contains("No /subscribe WebSocket is open for session 'not-open'"),
        "{d}"
    );
}

#[tokio::test]
async fn an_unserved_model_is_refused_naming_what_is_served() {
    let blob = capture("c01_save_output");
    let s = state_serving("localndif/tiny-gpt2");
    let (code, body) = send(&s, multipart(&envelope(), &blob)).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let d = detail(&body);
    assert!(
        d.contains("'openai-community/gpt2' is not served") && d.contains("localndif/tiny-gpt2"),
        "{d}"
    );
}

/// Polls `/response/{id}` until a terminal status (bounded; no timing is asserted).
async fn wait_terminal(s: &AppState, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, body) = get(s, &format!("/response/{id}")).await;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if v["status"] == "COMPLETED" || v["status"] == "ERROR" {
            return v;
        }
        assert!(Instant::now() < deadline, "job {id} did not finish: {v}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_captured_trace_runs_and_its_result_downloads() {
    let blob = capture("c01_save_output");
    let s = state_serving("openai-community/gpt2");
    let (code, body) = send(&s, multipart(&envelope(), &blob)).await;
    assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let received: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(received["status"], "RECEIVED");
    assert!(received["description"].is_string());
    assert_completed_with(&s, received["id"].as_str().unwrap(), &["hidden", "logits"]).await;
}

/// COMPLETED `meta.max_memory_usage` is the job's measured peak of tensor memory: a job
/// that saves two scalar norms still held the activations the forward computed for it —
/// the logits at every position at least — not just its result's bytes.
#[tokio::test]
async fn max_memory_usage_counts_the_activations_a_job_held() {
    let s = state_serving("openai-community/gpt2");
    let config: serde_json::Value = serde_json::from_slice(&fixture_file("config.json")).unwrap();
    let vocab = config["vocab_size"].as_u64().unwrap();
    let (_, body) = send(&s, multipart(&envelope(), &capture("c19_list_comprehension"))).await;
    let done = wait_terminal(&s, &job_id(&body)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let peak = done["meta"]["max_memory_usage"].as_u64().expect("meta.max_memory_usage");
    // The prompt is eight tokens; the logits alone are [1, 8, vocab] float32.
    assert!(peak >= 8 * vocab * 4, "max_memory_usage {peak} is less than the logits' {} bytes", 8 * vocab * 4);
}

/// Waits for job `id`, downloads its result and checks it saved `names`.
async fn assert_completed_with(s: &AppState, id: &str, names: &[&str]) {
    let done = wait_terminal(s, id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let url = done["data"].as_str().unwrap();
    let (code, blob) = get(s, &url[url.find("/results/").unwrap()..]).await;
    assert_eq!(code, StatusCode::OK);
    let raw = crate::wire::zstdio::decompress(&blob, 1 << 30).unwrap();
    let (graph, _) = crate::wire::torch::torch_load(&raw).unwrap();
    let text = graph.canon(graph.root);
    assert!(names.iter().all(|n| text.contains(n)), "{text}");
}

#[tokio::test]
async fn user_errors_come_back_as_error_statuses_naming_the_line() {
    let blob = capture("c01_save_output");
    let s = state_serving("openai-community/gpt2");
    // c01's body reads h[0] and lm_head; serve a model whose tree lacks nothing, but make the
    // request ask for a block that does not exist by patching the source text in place
    // (same length keeps the pickle valid).
    let raw = crate::wire::zstdio::decompress(&blob, 1 << 30).unwrap();
    let needle = b"h[0].output";
    let at = raw
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("c01 source");
    let mut patched = raw.clone();
    patched[at..at + needle.len()].copy_from_slice(b"h[7].output");
    let (code, body) = send(&s, multipart(&envelope(), &patched)).await;
    assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let done = wait_terminal(&s, &job_id(&body)).await;
    assert_eq!(done["status"], "ERROR");
    let d = done["description"].as_str().unwrap();
    assert!(
        d.contains("AttributeError") && d.contains("h[7].output") && d.contains("line "),
        "{d}"
    );
}

/// The G2 blocking exchange over a real socket: `/subscribe` speaks first with the session
/// id; after the POST (RECEIVED in its reply) the socket carries QUEUED, DISPATCHED, RUNNING
/// and COMPLETED as JSON text frames with NDIF's texts, all for the POSTed job.
/// What a `/subscribe` client saw of one job: (status, description, data) per frame,
/// `data` being the URL of a JSON frame or the bytes of a binary (inline) one.
async fn subscribed_transcript(s: &AppState) -> (String, Vec<(String, String, Result<Vec<u8>, String>)>) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let blob = capture("c01_save_output");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(s.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/subscribe"))
        .await
        .unwrap();
    let hello = match ws.next().await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<serde_json::Value>(&t).unwrap(),
        other => panic!("expected the session frame, got {other:?}"),
    };
    let session = hello["session_id"]
        .as_str()
        .expect("first frame names the session")
        .to_string();

    let (code, body) = send(s, multipart(&envelope_for(&session), &blob)).await;
    assert_eq!(code, StatusCode::OK);
    let id = job_id(&body);

    let mut seen = Vec::new();
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(120), ws.next())
            .await
            .expect("a status frame");
        let (frame_id, status, description, data) = match frame {
            Some(Ok(Message::Text(t))) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                let data = Err(v["data"].as_str().unwrap_or("").to_string());
                (v["id"].as_str().unwrap().to_string(), v["status"].as_str().unwrap().to_string(), v["description"].as_str().unwrap().to_string(), data)
            }
            // nnsight 0.8.1 `ResponseModel.pickle()`: torch.save of the dict.
            Some(Ok(Message::Binary(b))) => {
                let (g, _) = crate::wire::torch::torch_load(&b).unwrap();
                let text = |k: &str| g.dict_get(g.root, k).and_then(|n| g.as_str(n)).unwrap_or("").to_string();
                let data = g.dict_get(g.root, "data").and_then(|n| g.as_bytes(n)).expect("inline result bytes").to_vec();
                let meta = g.dict_get(g.root, "meta").expect("the inline COMPLETED carries meta");
                let threads = g.dict_get(meta, "intra_op_threads").and_then(|n| g.as_int(n));
                assert_eq!(threads, Some(1), "COMPLETED meta names the intra-op threads the job ran at");
                (text("id"), text("status"), text("description"), Ok(data))
            }
            other => panic!("expected a status frame, got {other:?}"),
        };
        assert_eq!(frame_id, id);
        let done = status == "COMPLETED" || status == "ERROR";
        seen.push((status, description, data));
        if done {
            break;
        }
    }
    server.abort();
    (id, seen)
}

#[tokio::test]
async fn subscribe_streams_statuses_and_a_small_result_inline() {
    use crate::jobs::status;
    let s = state_serving("openai-community/gpt2");
    let (id, seen) = subscribed_transcript(&s).await;
    let transcript: Vec<(&str, &str)> = seen.iter().map(|(a, b, _)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        transcript,
        [
            ("QUEUED", "Moved to position 1 in Queue."),
            ("DISPATCHED", status::DISPATCHED),
            ("RUNNING", status::RUNNING),
            ("COMPLETED", status::COMPLETED),
        ]
    );
    // The COMPLETED frame carries the very blob /results/{id} serves.
    let inline = seen.last().unwrap().2.clone().expect("an inline result");
    let (code, stored) = get(&s, &format!("/results/{id}")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(inline, stored);
}

#[tokio::test]
async fn results_past_the_inline_limit_travel_by_url() {
    let mut s = state_serving("openai-community/gpt2");
    s.protocol.inline_max = 16;
    let (id, seen) = subscribed_transcript(&s).await;
    let (status, _, data) = seen.last().unwrap();
    assert_eq!(status, "COMPLETED");
    let url = data.clone().expect_err("a URL, not inline bytes");
    assert!(url.ends_with(&format!("/results/{id}")), "{url}");
}

/// A G1 (nnsight 0.5-0.7) POST: raw body plus NDIF's headers.
fn g1_request(case: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let p = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join("../fixtures/captures/v0.7.0")
        .join(case)
        .join("request.blob");
    let blob = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let defaults = [
        ("content-type", "application/octet-stream"),
        (
            "nnsight-model-key",
            r#"nnsight.modeling.language.LanguageModel:{"repo_id": "openai-community/gpt2", "revision": null}"#,
        ),
        ("nnsight-compress", "True"),
        ("nnsight-version", "0.7.0"),
        ("ndif-timestamp", "1715000000.25"),
    ];
    let mut r = Request::post("/request");
    for (k, v) in defaults.iter().filter(|(k, _)| !headers.iter().any(|(h, _)| h == k)).chain(headers) {
        r = r.header(*k, *v);
    }
    r.body(Body::from(blob)).unwrap()
}

#[tokio::test]
async fn a_g1_submission_answers_ndifs_received_and_runs() {
    let s = state_serving("openai-community/gpt2");
    let (code, body) = send(&s, g1_request("c01_save_output", &[("ndif-callback", "")])).await;
    assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    // NDIF's BackendResponseModel, every field present.
    assert_eq!(v["status"], "RECEIVED");
    assert_eq!(v["description"], crate::jobs::status::RECEIVED);
    assert!(v["data"].is_null() && v["session_id"].is_null() && v["callback"] == "");
    assert_completed_with(&s, v["id"].as_str().unwrap(), &["hidden", "logits"]).await;
}

#[tokio::test]
async fn g1_refusals_use_ndifs_channels() {
    let s = state_serving("openai-community/gpt2");
    // A blocking job must name a connected socket.io sid.
    let (code, body) = send(&s, g1_request("c01_save_output", &[("ndif-session_id", "nobody")])).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).contains("'nobody'"), "{}", detail(&body));
    // NDIF parses ndif-timestamp as a float.
    let (code, body) = send(&s, g1_request("c01_save_output", &[("ndif-timestamp", "yesterday")])).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).contains("ndif-timestamp"));
    // Past the headers, a failure is an ERROR status in a 200 (the client raises it),
    // and a poll shows it too.
    let s = state_serving("localndif/tiny-gpt2");
    let (code, body) = send(&s, g1_request("c01_save_output", &[])).await;
    assert_eq!(code, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "ERROR");
    assert!(v["description"].as_str().unwrap().contains("'openai-community/gpt2' is not served"), "{v}");
    let (_, polled) = get(&s, &format!("/response/{}", v["id"].as_str().unwrap())).await;
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&polled).unwrap()["status"], "ERROR");
    // nnsight before 0.5 sent intervention graphs: NDIF's incompatible-version text.
    let (_, body) = send(&s, g1_request("c01_save_output", &[("nnsight-version", "0.4.7")])).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "ERROR");
    let text = v["description"].as_str().unwrap();
    assert!(text.contains("0.4.7 is incompatible") && text.contains("minimum supported version is 0.5.0"), "{v}");
}

/// A real nnsight 0.5.x request (`fixtures/captures/v0.5.*`, zlib as 0.5 sends it).
fn g05_request(version: &str, case: &str) -> Request<Body> {
    let p = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test"))
        .join(format!("../fixtures/captures/v{version}"))
        .join(case)
        .join("request.blob");
    let blob = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Request::post("/request")
        .header("content-type", "application/octet-stream")
        .header("nnsight-model-key", r#"nnsight.modeling.language.LanguageModel:{"repo_id": "localndif/tiny-gpt2", "revision": null}"#)
        .header("nnsight-zlib", "True")
        .header("nnsight-version", version)
        .header("ndif-timestamp", "1715000000.25")
        .body(Body::from(blob))
        .unwrap()
}

/// nnsight 0.5.11+ read COMPLETED's `data` as the result URL; 0.5.0–0.5.10 take any data
/// as the result itself, so theirs has none and they download `GET /result/{id}`. Both
/// get the plain `torch.save` bytes (0.5 decompresses nothing).
#[tokio::test]
async fn nnsight_05_jobs_run_and_older_05_clients_download_from_the_legacy_result_path() {
    let s = state_serving("localndif/tiny-gpt2");
    for (version, legacy) in [("0.5.13", false), ("0.5.10", true), ("0.5.0", true)] {
        let capture = if version == "0.5.10" { "0.5.13" } else { version };
        let mut req = g05_request(capture, "c01_save_output");
        req.headers_mut().insert("nnsight-version", version.parse().unwrap());
        let (code, body) = send(&s, req).await;
        assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let id = v["id"].as_str().unwrap();
        let done = wait_terminal(&s, id).await;
        assert_eq!(done["status"], "COMPLETED", "{version}: {done}");
        let path = if legacy {
            assert!(done["data"].is_null(), "{version}: {done}");
            format!("/result/{id}")
        } else {
            let url = done["data"].as_str().unwrap();
            url[url.find("/results/").unwrap()..].to_string()
        };
        let (code, blob) = get(&s, &path).await;
        assert_eq!(code, StatusCode::OK, "{version}");
        let (graph, _) = crate::wire::torch::torch_load(&blob).unwrap_or_else(|e| panic!("{version}: not a plain torch.save: {e}"));
        let text = graph.canon(graph.root);
        assert!(text.contains("hidden") && text.contains("logits"), "{version}: {text}");
    }
}

#[tokio::test]
async fn the_version_gate_is_off_by_default_and_uses_ndifs_texts() {
    let mut s = state_serving("openai-community/gpt2");
    let (code, _) = send(&s, g1_request("c01_save_output", &[("nnsight-version", "0.6.0")])).await;
    assert_eq!(code, StatusCode::OK);
    s.protocol.min_nnsight_version = Some("0.7".into());
    let (code, body) = send(&s, g1_request("c01_save_output", &[("nnsight-version", "0.6.0")])).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).contains("The minimum supported version is 0.7."), "{}", detail(&body));
    // The same gate for a G2 request without the header.
    let (code, body) = send(&s, multipart(&envelope(), &capture("c01_save_output"))).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(detail(&body).starts_with("Client nnsight version was not provided"), "{}", detail(&body));
}

/// A response's status, headers and body.
async fn exchange(state: &AppState, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

fn fixture_file(name: &str) -> Vec<u8> {
    let p = PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/models/tiny-gpt2").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The Hub endpoint: model info, file downloads with huggingface_hub's headers, trees,
/// and the Hub's 404 error codes.
#[tokio::test]
async fn the_hub_endpoint_serves_the_models_files() {
    let s = state_serving("localndif/tiny-gpt2");
    let (code, body) = get(&s, "/api/models/localndif/tiny-gpt2").await;
    assert_eq!(code, StatusCode::OK);
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["id"], "localndif/tiny-gpt2");
    let sha = info["sha"].as_str().unwrap().to_string();
    assert!(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()), "{sha}");
    let files: Vec<&str> = info["siblings"].as_array().unwrap().iter().map(|f| f["rfilename"].as_str().unwrap()).collect();
    for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
        assert!(files.contains(&f), "{f} not in {files:?}");
    }
    assert!(info["safetensors"]["parameters"]["F32"].as_i64().unwrap() > 0);

    let (code, body) = get(&s, &format!("/api/models/localndif/tiny-gpt2/revision/{sha}")).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["sha"], sha.as_str());

    // The file, with the commit, ETag and size the client reads from a HEAD.
    for method in ["GET", "HEAD"] {
        let req = Request::builder()
            .method(method)
            .uri("/localndif/tiny-gpt2/resolve/main/config.json")
            .body(Body::empty())
            .unwrap();
        let (code, headers, body) = exchange(&s, req).await;
        assert_eq!(code, StatusCode::OK, "{method}");
        assert_eq!(headers["x-repo-commit"], sha.as_str());
        let etag = headers["etag"].to_str().unwrap();
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2, "{etag}");
        let want = fixture_file("config.json");
        assert_eq!(headers["content-length"], want.len().to_string().as_str());
        if method == "GET" {
            assert_eq!(body, want);
        } else {
            assert!(body.is_empty());
        }
    }
    let (code, _, body) = exchange(&s, Request::get("/localndif/tiny-gpt2/resolve/main/model.safetensors").body(Body::empty()).unwrap()).await;
    assert_eq!((code, body), (StatusCode::OK, fixture_file("model.safetensors")));

    // The tree of the repo's root.
    let (code, body) = get(&s, "/api/models/localndif/tiny-gpt2/tree/main").await;
    assert_eq!(code, StatusCode::OK);
    let tree: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(tree.as_array().unwrap().iter().any(|e| e["path"] == "tokenizer.json" && e["type"] == "file"));

    // The Hub's 404s, by error code.
    for (uri, code_name) in [
        ("/localndif/tiny-gpt2/resolve/main/special_tokens_map.json", "EntryNotFound"),
        ("/api/models/localndif/tiny-gpt2/tree/main/additional_chat_templates", "EntryNotFound"),
        ("/localndif/tiny-gpt2/resolve/v9.9/config.json", "RevisionNotFound"),
        ("/nobody/nothing/resolve/main/config.json", "RepoNotFound"),
        ("/api/models/nobody/nothing", "RepoNotFound"),
    ] {
        let (code, headers, _) = exchange(&s, Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(headers["x-error-code"], code_name, "{uri}");
    }
}

/// Prometheus metrics move by the right amounts after known jobs, and an expired result
/// answers 404 saying so (and counts as expired).
#[tokio::test]
async fn metrics_count_jobs_and_results_expire() {
    let blob = capture("c01_save_output");
    let s = state_serving("openai-community/gpt2");
    let (_, body) = send(&s, multipart(&envelope(), &blob)).await;
    let ok = job_id(&body);
    assert_eq!(wait_terminal(&s, &ok).await["status"], "COMPLETED");
    let raw = crate::wire::zstdio::decompress(&blob, 1 << 30).unwrap();
    let needle = b"h[0].output";
    let at = raw.windows(needle.len()).position(|w| w == needle).expect("c01 source");
    let mut patched = raw.clone();
    patched[at..at + needle.len()].copy_from_slice(b"h[7].output");
    let (_, body) = send(&s, multipart(&envelope(), &patched)).await;
    assert_eq!(wait_terminal(&s, &job_id(&body)).await["status"], "ERROR");

    let scrape = |s: &AppState| {
        let s = s.clone();
        async move {
            let (code, text) = get(&s, "/metrics").await;
            assert_eq!(code, StatusCode::OK);
            let text = String::from_utf8(text).unwrap();
            let lines = text.lines().map(|l| Ok(l.to_string()));
            prometheus_parse::Scrape::parse(lines).expect("Prometheus text format")
        }
    };
    let value = |scrape: &prometheus_parse::Scrape, name: &str, label: Option<(&str, &str)>| -> f64 {
        scrape
            .samples
            .iter()
            .find(|x| x.metric == name && label.is_none_or(|(k, v)| x.labels.get(k) == Some(v)))
            .map(|x| match x.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no sample {name} {label:?}"))
    };
    let m = scrape(&s).await;
    assert_eq!(value(&m, "localndif_jobs_total", Some(("status", "COMPLETED"))), 1.0);
    assert_eq!(value(&m, "localndif_jobs_total", Some(("status", "ERROR"))), 1.0);
    assert_eq!(value(&m, "localndif_running_jobs", None), 0.0);
    assert_eq!(value(&m, "localndif_queued_jobs", None), 0.0);
    assert_eq!(value(&m, "localndif_connected_sockets", Some(("generation", "g1"))), 0.0);
    assert_eq!(value(&m, "localndif_results_kept", None), 1.0);
    assert!(value(&m, "localndif_result_bytes_total", None) > 0.0);
    assert!(value(&m, "localndif_request_bytes_total", None) >= 2.0 * blob.len() as f64);
    assert_eq!(value(&m, "localndif_results_expired_total", None), 0.0);

    // An hour and a bit later (the default TTL), the result is gone and says why.
    s.jobs.sweep(Instant::now() + Duration::from_secs(3700));
    let (code, body) = get(&s, &format!("/results/{ok}")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let detail = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("expired") && detail.contains("--result-ttl"), "{detail}");
    let (code, _) = get(&s, &format!("/response/{ok}")).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "the final status expires with the result");
    let m = scrape(&s).await;
    assert_eq!(value(&m, "localndif_results_expired_total", None), 1.0);
    assert_eq!(value(&m, "localndif_results_kept", None), 0.0);

    let (code, body) = get(&s, "/health").await;
    assert_eq!((code, serde_json::from_slice::<serde_json::Value>(&body).unwrap()["status"].clone()), (StatusCode::OK, "ok".into()));
    let (code, body) = get(&s, "/ready").await;
    let ready: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((code, ready["ready"].clone(), ready["models"][0].clone()), (StatusCode::OK, true.into(), "openai-community/gpt2".into()));
    // From the first moment of a drain the server is not ready; it stays alive.
    let jobs = s.jobs.clone();
    tokio::task::spawn_blocking(move || jobs.shutdown(Duration::ZERO)).await.unwrap();
    let (code, body) = get(&s, "/ready").await;
    assert_eq!((code, serde_json::from_slice::<serde_json::Value>(&body).unwrap()["ready"].clone()), (StatusCode::SERVICE_UNAVAILABLE, false.into()));
    let (code, _) = get(&s, "/health").await;
    assert_eq!(code, StatusCode::OK);
}

/// `serve --api-keys`: a submission needs a known key (NDIF's 401 text); a job's status and
/// result are its key's alone (others get 404, never data); a keyed socket takes only its
/// key's jobs; the open endpoints stay open.
#[tokio::test]
async fn api_keys_guard_submissions_and_keep_jobs_to_their_key() {
    let mut s = state_serving("openai-community/gpt2");
    s.keys = Some(Arc::new(crate::api::auth::Keys::parse("alice:key-a\nbob:key-b").unwrap()));
    let blob = capture("c01_save_output");
    let with_key = |mut r: Request<Body>, key: &str| {
        r.headers_mut().insert("ndif-api-key", key.parse().unwrap());
        r
    };
    for req in [multipart(&envelope(), &blob), with_key(multipart(&envelope(), &blob), "nope")] {
        let (code, body) = send(&s, req).await;
        assert_eq!((code, detail(&body)), (StatusCode::UNAUTHORIZED, crate::api::auth::INVALID_KEY.to_string()));
    }
    let (code, body) = send(&s, with_key(g1_request("c01_save_output", &[]), "nope")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "G1 too: {}", String::from_utf8_lossy(&body));

    let (code, body) = send(&s, with_key(multipart(&envelope(), &blob), "key-a")).await;
    assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let id = job_id(&body);
    let get_as = |uri: String, key: Option<&'static str>| {
        let s = s.clone();
        async move {
            let mut r = Request::get(uri).body(Body::empty()).unwrap();
            if let Some(k) = key {
                r.headers_mut().insert("ndif-api-key", k.parse().unwrap());
            }
            send(&s, r).await
        }
    };
    let done = loop {
        let (code, body) = get_as(format!("/response/{id}"), Some("key-a")).await;
        assert_eq!(code, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if v["status"] == "COMPLETED" || v["status"] == "ERROR" {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(done["status"], "COMPLETED", "{done}");
    for key in [None, Some("key-b")] {
        let (code, body) = get_as(format!("/response/{id}"), key).await;
        assert_eq!(code, StatusCode::NOT_FOUND, "{key:?}");
        assert!(!String::from_utf8_lossy(&body).contains("COMPLETED"));
        let (code, body) = get_as(format!("/results/{id}"), key).await;
        assert_eq!((code, body.len() < 200), (StatusCode::NOT_FOUND, true), "{key:?}");
    }
    let (code, result) = get_as(format!("/results/{id}"), Some("key-a")).await;
    assert_eq!(code, StatusCode::OK);
    assert!(result.len() > 200);

    // A socket opened with alice's key does not take bob's jobs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(s.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut hs = format!("ws://{addr}/subscribe").into_client_request().unwrap();
    let refused = tokio_tungstenite::connect_async(hs.clone()).await;
    assert!(refused.is_err(), "a keyless socket is refused");
    hs.headers_mut().insert("ndif-api-key", "key-a".parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(hs).await.unwrap();
    use futures_util::StreamExt;
    let session = match ws.next().await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => serde_json::from_str::<serde_json::Value>(&t).unwrap()["session_id"].as_str().unwrap().to_string(),
        other => panic!("{other:?}"),
    };
    let (code, _) = send(&s, with_key(multipart(&envelope_for(&session), &blob), "key-b")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "bob cannot send to alice's socket");
    let (code, _) = send(&s, with_key(multipart(&envelope_for(&session), &blob), "key-a")).await;
    assert_eq!(code, StatusCode::OK);
    server.abort();

    for open in ["/ping", "/status", "/health", "/ready", "/metrics"] {
        assert_eq!(get(&s, open).await.0, StatusCode::OK, "{open}");
    }
}

/// A socket whose updates pile up past `--socket-backlog` is closed with a reason; its
/// job, orphaned, is stopped with an ERROR a poll shows; other clients are unaffected.
#[tokio::test]
async fn a_socket_past_its_backlog_is_closed_with_a_reason_and_the_job_goes_on() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut s = state_serving("openai-community/gpt2");
    // Smaller than one status frame: the first update overflows it.
    s.protocol.socket_backlog = 64;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(s.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/subscribe")).await.unwrap();
    let session = match ws.next().await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<serde_json::Value>(&t).unwrap()["session_id"].as_str().unwrap().to_string(),
        other => panic!("{other:?}"),
    };
    let blob = capture("c01_save_output");
    let (code, body) = send(&s, multipart(&envelope_for(&session), &blob)).await;
    assert_eq!(code, StatusCode::OK);
    let id = job_id(&body);
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(60), ws.next()).await.expect("the socket is closed") {
            Some(Ok(Message::Close(frame))) => break frame.expect("a close reason"),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(closed.code), 1008);
    assert!(closed.reason.contains("did not read"), "{}", closed.reason);
    let done = wait_terminal(&s, &id).await;
    assert_eq!((done["status"].as_str(), done["description"].as_str()), (Some("ERROR"), Some(crate::jobs::DISCONNECTED)));
    // Another client, polling, is served as usual.
    let (_, body) = send(&s, multipart(&envelope(), &blob)).await;
    assert_completed_with(&s, &job_id(&body), &["hidden", "logits"]).await;
    server.abort();
}

/// `--rate-limit 2`: two submissions pass, the third gets 429 with Retry-After.
#[tokio::test]
async fn submissions_past_the_rate_limit_get_429_with_retry_after() {
    let mut s = state_serving("openai-community/gpt2");
    s.rate = Some(Arc::new(crate::api::limit::RateLimiter::new(2)));
    let blob = capture("c01_save_output");
    for _ in 0..2 {
        assert_eq!(send(&s, multipart(&envelope(), &blob)).await.0, StatusCode::OK);
    }
    let (code, headers, body) = exchange(&s, multipart(&envelope(), &blob)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).expect("Retry-After");
    assert!((1..=31).contains(&retry), "{retry}");
    assert!(detail(&body).contains("at most 2 per minute"), "{}", detail(&body));
}

/// `--result-budget`: a result larger than the whole budget is not kept — its download
/// answers 404 saying why, and `/metrics` counts the eviction.
#[tokio::test]
async fn results_past_the_budget_are_evicted_and_counted() {
    let mut s = state_serving("openai-community/gpt2");
    s.jobs = Jobs::start(crate::jobs::ExecConfig {
        max_queue: 8,
        stack: crate::job::JOB_STACK,
        store: crate::jobs::StoreConfig { budget: 100, ..Default::default() },
        ..Default::default()
    });
    let blob = capture("c01_save_output");
    let (_, body) = send(&s, multipart(&envelope(), &blob)).await;
    let id = job_id(&body);
    assert_eq!(wait_terminal(&s, &id).await["status"], "COMPLETED");
    let (code, body) = get(&s, &format!("/results/{id}")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(detail(&body).contains("--result-budget"), "{}", detail(&body));
    let (_, text) = get(&s, "/metrics").await;
    let text = String::from_utf8(text).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let evicted = scrape.samples.iter().find(|x| x.metric == "localndif_results_evicted_total").map(|x| match x.value {
        prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
        _ => f64::NAN,
    });
    assert_eq!(evicted, Some(1.0));
}

/// A small body cannot buy a large decode: a zstd frame declaring more than
/// `--max-request-bytes` is refused (413) before it is inflated, one that does not declare
/// its size is cut at the cap, and while `--decode-budget` is spent a decode gets 503 with
/// Retry-After — for both client generations.
#[tokio::test]
async fn decompression_bombs_are_refused_with_the_limit() {
    let mut s = state_serving("localndif/tiny-gpt2");
    s.protocol.decode = crate::request::Limits {
        max_bytes: 1 << 20,
        budget: Some(Arc::new(crate::request::DecodeBudget::new(4 << 20))),
    };
    let zeros = vec![0u8; 16 << 20];
    let declared = crate::wire::zstdio::compress(&zeros, 3);
    let undeclared = crate::wire::zstdio::compress_stream(&zeros, 3);
    assert!(declared.len() < 8 << 10 && undeclared.len() < 8 << 10);
    let g1 = |blob: &[u8]| {
        Request::post("/request")
            .header("content-type", "application/octet-stream")
            .header("nnsight-model-key", r#"nnsight.modeling.language.LanguageModel:{"repo_id": "localndif/tiny-gpt2", "revision": null}"#)
            .header("nnsight-version", "0.7.0")
            .body(Body::from(blob.to_vec()))
            .unwrap()
    };
    for blob in [&declared, &undeclared] {
        for req in [multipart(&envelope(), blob), g1(blob)] {
            let (code, body) = send(&s, req).await;
            assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{}", String::from_utf8_lossy(&body));
            assert!(detail(&body).contains("at most 1048576") || detail(&body).contains("more than 1048576"), "{}", detail(&body));
        }
    }
    // Nothing stays reserved after a refusal.
    assert_eq!(s.protocol.decode.budget.as_ref().unwrap().used(), 0);
    // A spent budget: 503 and when to try again.
    s.protocol.decode.budget = Some(Arc::new(crate::request::DecodeBudget::new(1 << 10)));
    let (code, headers, body) = exchange(&s, multipart(&envelope(), &capture("c01_save_output"))).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{}", String::from_utf8_lossy(&body));
    assert!(detail(&body).contains("--decode-budget"), "{}", detail(&body));
    assert_eq!(headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
}

/// Every recorded 0.5 request runs to COMPLETED: invokes, generation, a session, an edit
/// and a helper function the script defined (shipped as CPython 3.11 bytecode).
#[tokio::test]
async fn every_recorded_05_request_completes() {
    let s = state_serving("localndif/tiny-gpt2");
    for version in ["0.5.13", "0.5.0"] {
        for case in ["c02_multi_invoke", "c03_generate", "c04_session", "c05_helper_function", "c06_edit"] {
            let mut req = g05_request(version, case);
            req.headers_mut().insert("python-version", "3.11.7 (main, May  9 2026, 07:35:25) [GCC 12.2.0]".parse().unwrap());
            let (code, body) = send(&s, req).await;
            assert_eq!(code, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let done = wait_terminal(&s, v["id"].as_str().unwrap()).await;
            assert_eq!(done["status"], "COMPLETED", "{version}/{case}: {done}");
        }
    }
}

/// A submission whose body stops arriving gets 408 after `--body-timeout`, not a request
/// held open for as long as the client likes.
#[tokio::test]
async fn a_body_that_stops_arriving_is_a_408() {
    let mut s = state_serving("localndif/tiny-gpt2");
    s.protocol.body_timeout = Duration::from_millis(200);
    let first: Result<bytes::Bytes, std::io::Error> = Ok(bytes::Bytes::from_static(b"\x28\xb5\x2f\xfd"));
    let stalled = futures_util::StreamExt::chain(futures_util::stream::iter([first]), futures_util::stream::pending());
    let req = Request::post("/request")
        .header("content-type", "application/octet-stream")
        .header("nnsight-model-key", r#"nnsight.modeling.language.LanguageModel:{"repo_id": "localndif/tiny-gpt2", "revision": null}"#)
        .body(Body::from_stream(stalled))
        .unwrap();
    let (code, body) = send(&s, req).await;
    assert_eq!(code, StatusCode::REQUEST_TIMEOUT, "{}", String::from_utf8_lossy(&body));
    assert!(detail(&body).contains("--body-timeout"), "{}", detail(&body));
}
