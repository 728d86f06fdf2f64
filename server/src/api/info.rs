//! Auxiliary endpoints: `/ping`, `/status` (the shape both nnsight `status()` parsers and
//! `is_model_running()` accept, docs/protocol.md), `/env`, `/whoami`, `/models`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AppState, json as json_response};

pub async fn ping() -> Response {
    json_response("\"pong\"".into())
}

/// `GET /health`: the process answers (liveness).
pub async fn health() -> Response {
    json_response(r#"{"status": "ok"}"#.into())
}

/// `GET /ready`: the models are loaded and jobs are taken (readiness). Models load before
/// the server listens, so a listening server is ready until it starts shutting down.
/// `GET /ready`: 200 while jobs are taken; 503 `{"ready": false}` from the first moment of
/// a drain (SIGTERM), so a load balancer stops sending work before the port closes.
pub async fn ready(State(s): State<AppState>) -> Response {
    if s.jobs.closing() {
        let body = serde_json::json!({"ready": false, "reason": "draining: the server is shutting down and takes no new jobs"});
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, json_response(body.to_string())).into_response();
    }
    json_response(serde_json::json!({"ready": true, "models": served(&s).await}).to_string())
}

/// The repo ids jobs can run on: this process's models, or a cluster's live workers'.
async fn served(s: &AppState) -> Vec<String> {
    match &s.cluster {
        None => s.registry.repo_ids().into_iter().map(str::to_string).collect(),
        Some(front) => {
            let front = front.clone();
            tokio::task::spawn_blocking(move || front.deployments().0).await.unwrap_or_default()
        }
    }
}

/// One HOT entry per served model. Every entry carries `deployment_level`, `repo_id`,
/// `revision`, `model_key` (with `revision` in its JSON), `dedicated` and a RUNNING
/// `application_state`, which is what the strict 0.5.14–0.7 parser needs.
pub async fn status(State(s): State<AppState>) -> Response {
    let deployments = match &s.cluster {
        None => deployments(&s.registry),
        Some(front) => {
            let front = front.clone();
            tokio::task::spawn_blocking(move || front.deployments().1).await.unwrap_or_default()
        }
    };
    json_response(json!({"deployments": deployments, "cluster": {"nodes": {}}}).to_string())
}

/// The `/status` entries of the models in `registry` (a cluster worker registers its own).
pub fn deployments(registry: &crate::model::Registry) -> serde_json::Map<String, Value> {
    let mut deployments = serde_json::Map::new();
    for m in registry.iter() {
        // Spelled like the 0.8.1 client's key (Python's json.dumps separators).
        let model_key = format!(
            "nnsight.modeling.transformers.TransformersModel:{{\"repo_id\": {}, \"revision\": null, \"task\": \"text-generation\"}}",
            Value::String(m.repo_id.clone())
        );
        deployments.insert(
            format!("ModelActor:{model_key}"),
            json!({
                "application_state": "RUNNING",
                "deployment_level": "HOT",
                "dedicated": true,
                "model_key": model_key,
                "repo_id": m.repo_id,
                "revision": Value::Null,
                "task": "text-generation",
                "config": m.config_json(),
                "n_params": m.n_params(),
                // What a local run must match to reproduce results bit for bit.
                "intra_op_threads": m.intra_op_threads,
                "attn_implementation": m.structure.attn_implementation(),
                // A structure-faithful replica (`--model REPO=replica:DIR`): what it replicates.
                "replica": m.config.get("localndif_replica").cloned().unwrap_or(Value::Null),
            }),
        );
    }
    deployments
}

/// What the server emulates: the package versions its behaviour follows. There is no
/// Python on the server; `python_version` says so.
pub async fn env(State(s): State<AppState>) -> Response {
    let threads: serde_json::Map<String, Value> = s.registry.iter().map(|m| (m.repo_id.clone(), json!(m.intra_op_threads))).collect();
    let attn: serde_json::Map<String, Value> = s.registry.iter().map(|m| (m.repo_id.clone(), json!(m.structure.attn_implementation()))).collect();
    json_response(
        json!({
            // Per model: the intra-op threads its jobs run at, and the attention kernel.
            "intra_op_threads": threads,
            "attn_implementation": attn,
            // The bounds every job runs under and the options a client may need to know
            // of, so a conformance suite judges a case against this server's settings
            // instead of assuming them (docs/conformance.md, "Server settings").
            "limits": {
                "timeout_s": s.caps.wall.as_secs_f64(),
                "max_steps": s.caps.max_steps,
                "max_str": s.caps.max_str,
                "max_container": s.caps.max_container,
                "max_int_bits": s.caps.max_int_bits,
                "max_tensor_numel": s.caps.max_tensor_numel,
                "tensor_budget": s.caps.tensor_budget,
                "max_depth": s.caps.max_depth,
                "max_request_bytes": s.protocol.decode.max_bytes,
                "inline_max": s.protocol.inline_max,
            },
            "features": {
                "stream_local": s.protocol.stream_local,
                "api_keys": s.keys.is_some(),
                "min_nnsight_version": s.protocol.min_nnsight_version,
            },
            "python_version": concat!("3.11 (emulated; localndif ", env!("CARGO_PKG_VERSION"), " runs no Python)"),
            "packages": {
                "localndif": env!("CARGO_PKG_VERSION"),
                "nnsight": "0.8.1",
                "torch": "2.13.0",
                "transformers": "5.24.0",
            }
        })
        .to_string(),
    )
}

pub async fn whoami() -> Response {
    json_response(json!({"email": Value::Null, "tags": []}).to_string())
}

pub async fn models(State(s): State<AppState>) -> Response {
    json_response(json!({"models": served(&s).await}).to_string())
}
