//! HTTP and WebSocket routes (docs/architecture.md): one [`ApiError`] → `{"detail": ...}` body for
//! every refusal (axum's error-handling example), submission for both client generations
//! (G1: raw body + socket.io; G2: multipart + `/subscribe`), polling, result download and
//! the auxiliary endpoints.
//! Knows nothing of pickles or tensors: it hands bytes to `request` and work to `jobs`.

pub mod auth;
mod backlog;
mod g1;
mod g2;
mod hub;
pub mod info;
pub mod limit;
mod version;

pub use version::Version;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::value::ctx::Caps;
use crate::jobs::{Gone, Jobs};
use crate::model::Registry;

/// Request bodies larger than this are refused with 413 (docs/architecture.md).
pub const MAX_BODY: usize = 256 << 20;

#[derive(Clone)]
pub struct AppState {
    pub jobs: Jobs,
    pub registry: Arc<Registry>,
    /// The bounds every job runs under.
    pub caps: Caps,
    pub protocol: Protocol,
    /// `serve --api-keys`: `None` leaves the server open.
    pub keys: Option<Arc<auth::Keys>>,
    /// `serve --rate-limit`: submissions per minute per key.
    pub rate: Option<Arc<limit::RateLimiter>>,
    /// `serve --role front`: jobs go to a cluster's workers through Redis; statuses and
    /// results come from Redis and the object store (`registry` is empty then).
    pub cluster: Option<Arc<crate::cluster::Front>>,
}

/// Where a job for a model runs.
enum RunsOn {
    /// On this process's copy of the model.
    Here(Arc<crate::model::ServedModel>),
    /// On a cluster's workers, queued by this front.
    Cluster(Arc<crate::cluster::Front>),
}

impl AppState {
    /// Where a job for `repo` runs; a 404 whose detail says no model here (or no live
    /// worker of the cluster) serves it.
    async fn runs_on(&self, repo: &str) -> Result<RunsOn, ApiError> {
        let Some(front) = &self.cluster else {
            return self.registry.get(repo).map(RunsOn::Here).ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, not_served(self, repo)));
        };
        let (f, r) = (front.clone(), repo.to_string());
        tokio::task::spawn_blocking(move || f.serves(&r))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal server error: {e}")))?
            .map_err(|text| ApiError::new(StatusCode::NOT_FOUND, text))?;
        Ok(RunsOn::Cluster(front.clone()))
    }

    /// Whether a job submitted by `owner` may name socket `sid` for its updates: open on
    /// this process, or (a cluster front) on any front.
    async fn session_ok(&self, sid: &str, owner: Option<&str>) -> bool {
        if self.jobs.is_subscribed_for(sid, owner) {
            return true;
        }
        let Some(front) = self.cluster.clone() else { return false };
        let (sid, owner) = (sid.to_string(), owner.map(str::to_string));
        tokio::task::spawn_blocking(move || front.session_open(&sid, owner.as_deref())).await.unwrap_or(false)
    }

    /// Records an ERROR for a job refused before it was queued, so polls show it too.
    async fn refuse(&self, id: &str, description: &str, owner: Option<&str>) -> crate::jobs::Update {
        let Some(front) = self.cluster.clone() else { return self.jobs.refuse(id, description, owner) };
        let (id, description, owner) = (id.to_string(), description.to_string(), owner.map(str::to_string));
        tokio::task::spawn_blocking(move || front.refuse(&id, &description, owner.as_deref()))
            .await
            .unwrap_or_else(|e| crate::jobs::Update::new("", crate::jobs::Status::Error, &e.to_string()))
    }

    /// Queues a job on a cluster front (`front.submit` talks to Redis off the runtime).
    async fn submit_to_cluster(
        front: Arc<crate::cluster::Front>,
        ticket: crate::cluster::bus::Ticket,
        watcher: Option<Arc<dyn crate::jobs::Subscriber>>,
    ) -> Result<crate::jobs::Update, ApiError> {
        tokio::task::spawn_blocking(move || front.submit(ticket, watcher))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal server error: {e}")))?
            .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))
    }
}

/// The time `received` stands for, as Unix milliseconds (a cluster ticket's).
fn received_unix_ms(received: std::time::Instant) -> u64 {
    crate::cluster::bus::unix_ms().saturating_sub(received.elapsed().as_millis() as u64)
}

/// Wire-level choices an operator can make (`serve --help`).
#[derive(Debug, Clone)]
pub struct Protocol {
    /// Refuse clients older than this nnsight version (NDIF's `MIN_NNSIGHT_VERSION`).
    pub min_nnsight_version: Option<String>,
    /// G2 results up to this many bytes travel inside the COMPLETED frame; larger ones
    /// are downloaded from `/results/{id}`.
    pub inline_max: usize,
    /// Run G1 `session.local()` blocks on the client by STREAM. Off by default: the
    /// released nnsight 0.6–0.7 clients crash on a STREAM (README, "nnsight 0.5–0.7").
    pub stream_local: bool,
    /// Bytes of updates a socket may have pending before its client is cut off.
    pub socket_backlog: usize,
    /// What decoding a request may cost (`--max-request-bytes`, `--decode-budget`).
    pub decode: crate::request::Limits,
}

impl Default for Protocol {
    fn default() -> Self {
        Protocol {
            min_nnsight_version: None,
            inline_max: 8 << 20,
            stream_local: false,
            socket_backlog: 64 << 20,
            decode: crate::request::Limits {
                max_bytes: crate::request::inflate::DEFAULT_MAX_REQUEST_BYTES,
                budget: Some(std::sync::Arc::new(crate::request::DecodeBudget::new(crate::request::inflate::DEFAULT_DECODE_BUDGET))),
            },
        }
    }
}

/// The whole application; `main` serves it, tests drive it with `oneshot`.
pub fn app(state: AppState) -> Router {
    let socket_io = g1::socket_layer(state.jobs.clone(), state.protocol.socket_backlog);
    Router::new()
        .route(
            "/request",
            post(submit).layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .route("/subscribe", get(g2::subscribe))
        .route("/response/{id}", get(response))
        .route("/results/{id}", get(result))
        // Where nnsight 0.5.0–0.5.10 download results from.
        .route("/result/{id}", get(result))
        .route("/ping", get(info::ping))
        .route("/health", get(info::health))
        .route("/ready", get(info::ready))
        .route("/metrics", get(metrics))
        .route("/status", get(info::status))
        .route("/env", get(info::env))
        .route("/whoami", get(info::whoami))
        .route("/models", get(info::models))
        .route("/api/models/{*path}", get(hub::model_info))
        .route("/{*path}", get(hub::resolve))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "Not Found") })
        .with_state(state)
        .layer(socket_io)
}

/// A cluster worker's HTTP: its liveness, readiness and metrics only.
pub fn probes(state: AppState) -> Router {
    Router::new()
        .route("/health", get(info::health))
        .route("/ready", get(info::ready))
        .route("/metrics", get(metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "Not Found: this is a cluster worker; clients talk to a front") })
        .with_state(state)
}

/// `POST /request`: multipart bodies come from G2 clients (nnsight 0.8.x), anything else
/// from G1 (0.5–0.7); both pass the same version gate first.
async fn submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Result<Response, ApiError> {
    let received = std::time::Instant::now();
    if crate::faults::on(crate::faults::Fault::Submit503) {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "fault injected: submit-503"));
    }
    // NDIF's order: the API key (401), then the version gate (400).
    let owner = auth::submitter(s.keys.as_deref(), &headers)?;
    if let Some(rate) = &s.rate
        && let Err(wait) = rate.take(owner.as_deref().unwrap_or(""), std::time::Instant::now())
    {
        let secs = wait.as_secs() + 1;
        let detail = format!(
            "Too many requests: at most {} per minute{}; retry in {secs} s.",
            rate.per_minute(),
            if owner.is_some() { " for this API key" } else { "" }
        );
        return Ok((StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, secs.to_string())], ApiError::new(StatusCode::TOO_MANY_REQUESTS, detail)).into_response());
    }
    let client = headers.get("nnsight-version").and_then(|v| v.to_str().ok());
    version::check(client, s.protocol.min_nnsight_version.as_deref()).map_err(ApiError::bad_request)?;
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let reply = if multipart {
        g2::submit(s, headers.clone(), req, received, owner).await
    } else {
        g1::submit(s, headers.clone(), req, received, owner).await
    };
    let outcome = match &reply {
        Ok(r) => r.status().as_u16(),
        Err(e) => e.status.as_u16(),
    };
    tracing::info!(
        generation = if multipart { "g2" } else { "g1" },
        nnsight = client.unwrap_or("-"),
        http = outcome,
        decode_ms = received.elapsed().as_millis() as u64,
        "request"
    );
    reply
}

/// Decodes on the blocking pool, never on the async runtime: inflating and decoding a
/// payload is CPU work whose cost the client chooses.
async fn decode_off_task<T: Send + 'static>(decode: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(decode)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal server error: {e}")))
}

/// Why a job for `repo` cannot run here.
fn not_served(s: &AppState, repo: &str) -> String {
    format!(
        "Model '{repo}' is not served here. Served models: {}. Start localndif with --model {repo}=DIR to serve it.",
        s.registry.repo_ids().join(", ")
    )
}

/// A refusal: status code + the `detail` text clients show (docs/protocol.md).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    /// Seconds to wait before trying again (`Retry-After`), for refusals that pass.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            retry_after: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// A request that could not be decoded: 400, 413 past `--max-request-bytes`, 503 with
    /// `Retry-After` while `--decode-budget` is spent.
    pub fn from_request(e: &crate::request::RequestError) -> ApiError {
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut err = ApiError::new(status, e.to_string());
        if status == StatusCode::SERVICE_UNAVAILABLE {
            err.retry_after = Some(1);
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "detail": self.detail });
        let mut resp = (self.status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /response/{id}`: the latest non-LOG status, 404 while there is none (0.8.1 reads
/// 404 as "no status yet", docs/protocol.md).
async fn response(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ApiError> {
    let reader = auth::reader(s.keys.as_deref(), &headers);
    if let Some(front) = s.cluster.clone() {
        let found = {
            let id = id.clone();
            tokio::task::spawn_blocking(move || front.latest(&id)).await.ok().flatten()
        };
        return found
            .filter(|(_, owner)| s.keys.is_none() || owner.is_some() && owner.as_deref() == reader.as_deref())
            .map(|(u, _)| json(u.to_json()))
            .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("No job with id '{id}'.")));
    }
    let update = s
        .jobs
        .latest(&id)
        .filter(|_| s.jobs.visible(&id, reader.as_deref(), s.keys.is_some()))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("No job with id '{id}'.")))?;
    Ok(json(update.to_json()))
}

/// `GET /metrics`: Prometheus metrics (OpenMetrics text).
async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        s.jobs.metrics_text(),
    )
        .into_response()
}

/// `GET /results/{id}`: the result blob, with `Content-Length` (docs/protocol.md).
async fn result(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Result<Response, ApiError> {
    if let Some(front) = s.cluster.clone() {
        return cluster_result(&s, front, &headers, id).await;
    }
    if !s.jobs.visible(&id, auth::reader(s.keys.as_deref(), &headers).as_deref(), s.keys.is_some()) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("No result for job '{id}'.")));
    }
    let found = {
        // A result kept on disk is read off the async runtime.
        let (jobs, id) = (s.jobs.clone(), id.clone());
        tokio::task::spawn_blocking(move || jobs.results().get(&id, std::time::Instant::now()))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal server error: {e}")))?
    };
    let store = s.jobs.results();
    let blob = found.map_err(|why| {
        let c = store.config();
        let detail = match why {
            Gone::Unknown => format!("No result for job '{id}'."),
            Gone::Expired => format!(
                "The result of job '{id}' has expired: results are kept for {}s (`serve --result-ttl`).",
                c.ttl.as_secs()
            ),
            Gone::Evicted => format!(
                "The result of job '{id}' is no longer kept: results may take {} bytes together, and newer ones needed the room (`serve --result-budget`).",
                c.budget
            ),
        };
        ApiError::new(StatusCode::NOT_FOUND, detail)
    })?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], blob).into_response())
}

/// `GET /results/{id}` on a cluster front: the blob streamed from the object store, with
/// its Content-Length.
async fn cluster_result(s: &AppState, front: Arc<crate::cluster::Front>, headers: &HeaderMap, id: String) -> Result<Response, ApiError> {
    let reader = auth::reader(s.keys.as_deref(), headers);
    let keyed = s.keys.is_some();
    let found = {
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            let latest = front.latest(&id);
            let visible = !keyed || latest.as_ref().is_some_and(|(_, o)| o.is_some() && *o == reader);
            if !visible {
                return Ok((None, false));
            }
            front.blobs.stream(&crate::cluster::Blobs::result_key(&id)).map(|b| (b, latest.is_some()))
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("Internal server error: {e}")))?
    };
    match found {
        Ok((Some((size, stream)), _)) => Ok((
            [(header::CONTENT_TYPE, "application/octet-stream".to_string()), (header::CONTENT_LENGTH, size.to_string())],
            axum::body::Body::from_stream(stream),
        )
            .into_response()),
        Ok((None, known)) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            if known {
                format!("No result for job '{id}' (it has not completed, or its result has expired).")
            } else {
                format!("No result for job '{id}'.")
            },
        )),
        Err(e) => Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("The result store could not be read: {e}"))),
    }
}

/// `http://<Host>` as the client reached us, for URLs we hand back.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

#[cfg(test)]
mod tests;
