//! The Hub endpoint: the part of the Hugging Face Hub HTTP API that `huggingface_hub`
//! calls to describe a model and download its files, serving every file of each model
//! this server serves. With `HF_ENDPOINT` pointing here, `LanguageModel("localndif/tiny-gpt2")`
//! resolves the repo id, reads the config and tokenizer, and — for a local run — loads the
//! very weights the server computes with, without the real Hub.
//!
//! * `GET /api/models/{repo}` and `/api/models/{repo}/revision/{rev}`: model info (`id`,
//!   `sha`, `siblings`, ...).
//! * `GET`/`HEAD /{repo}/resolve/{rev}/{file}`: the file, with the headers the client reads
//!   (`X-Repo-Commit`, `ETag`, `Content-Length`).
//! * Unknown repos, revisions and files: 404 with the Hub's `X-Error-Code`
//!   (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`), which the client turns into
//!   the exceptions transformers expects for optional files.
//!
//! A cluster front serves the files its workers uploaded to the object store
//! (`cluster::worker` lists them in its registry record).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use super::AppState;
use crate::cluster::{Blobs, Front};
use crate::model::ServedModel;
use crate::model::repo::Content;

/// A repo as the Hub endpoint describes it.
struct HubRepo {
    repo_id: String,
    commit: String,
    config: serde_json::Value,
    n_params: i64,
    files: Vec<HubFile>,
}

struct HubFile {
    name: String,
    size: u64,
    etag: String,
    at: At,
}

/// Where a file's bytes are.
enum At {
    /// This process's model (in the binary, or a file).
    Here(Content),
    /// The cluster's object store (uploaded by a worker).
    Store(Arc<Front>),
}

impl HubRepo {
    fn local(m: &ServedModel) -> HubRepo {
        HubRepo {
            repo_id: m.repo_id.clone(),
            commit: m.repo.commit.clone(),
            config: m.config.clone(),
            n_params: m.n_params(),
            files: m
                .repo
                .files
                .iter()
                .map(|f| HubFile { name: f.name.clone(), size: f.size, etag: f.etag.clone(), at: At::Here(f.content.clone()) })
                .collect(),
        }
    }

    /// From a worker's record (`cluster::worker::hub_listing`).
    fn cluster(repo: &str, v: &serde_json::Value, front: &Arc<Front>) -> Option<HubRepo> {
        let files = v["files"]
            .as_array()?
            .iter()
            .map(|f| {
                Some(HubFile {
                    name: f["name"].as_str()?.to_string(),
                    size: f["size"].as_u64()?,
                    etag: f["etag"].as_str()?.to_string(),
                    at: At::Store(front.clone()),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(HubRepo {
            repo_id: repo.to_string(),
            commit: v["commit"].as_str()?.to_string(),
            config: v["config"].clone(),
            n_params: v["n_params"].as_i64().unwrap_or(0),
            files,
        })
    }

    fn file(&self, name: &str) -> Option<&HubFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// A 404 as the Hub sends it.
fn not_found(code: &'static str, message: String) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    let mut r = (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    r.headers_mut().insert("X-Error-Code", HeaderValue::from_static(code));
    r.headers_mut().insert("X-Error-Message", HeaderValue::from_str(&message).unwrap_or(HeaderValue::from_static("not found")));
    r
}

async fn served(s: &AppState, repo: &str) -> Result<HubRepo, Response> {
    let found = match &s.cluster {
        None => s.registry.get(repo).map(|m| HubRepo::local(&m)),
        Some(front) => {
            let (f, r) = (front.clone(), repo.to_string());
            let listing = tokio::task::spawn_blocking(move || f.hub(&r)).await.ok().flatten();
            listing.and_then(|v| HubRepo::cluster(repo, &v, front))
        }
    };
    found.ok_or_else(|| {
        let served = match &s.cluster {
            None => s.registry.repo_ids().join(", "),
            Some(_) => "those of the cluster's live workers".to_string(),
        };
        not_found("RepoNotFound", format!("Repository {repo} is not served here (served: {served})."))
    })
}

fn check_revision(m: &HubRepo, rev: &str) -> Result<(), Response> {
    if rev == "main" || rev == m.commit {
        return Ok(());
    }
    Err(not_found("RevisionNotFound", format!("Invalid rev id: {rev}")))
}

/// `GET /api/models/{repo}[/revision/{rev}]`, and `/api/models/{repo}/tree/{rev}[/{dir}]`.
pub async fn model_info(
    State(s): State<AppState>,
    Path(path): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some((repo, rest)) = path.split_once("/tree/") {
        let recursive = q.get("recursive").is_some_and(|v| v == "true" || v == "1");
        return tree(&s, repo, rest, recursive).await;
    }
    let (repo, rev) = match path.split_once("/revision/") {
        Some((repo, rev)) => (repo, rev),
        None => (path.as_str(), "main"),
    };
    let m = match served(&s, repo).await.and_then(|m| check_revision(&m, rev).map(|()| m)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let siblings: Vec<_> = m.files.iter().map(|f| serde_json::json!({ "rfilename": f.name })).collect();
    let body = serde_json::json!({
        "_id": m.commit,
        "id": m.repo_id,
        "modelId": m.repo_id,
        "author": m.repo_id.split_once('/').map(|(a, _)| a),
        "sha": m.commit,
        "private": false,
        "disabled": false,
        "gated": false,
        "downloads": 0,
        "likes": 0,
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
        "tags": ["transformers", "safetensors", m.config["model_type"].as_str().unwrap_or("")],
        "config": {
            "architectures": m.config["architectures"],
            "model_type": m.config["model_type"],
        },
        "siblings": siblings,
        "safetensors": { "parameters": { safetensors_dtype(&m.config): m.n_params }, "total": m.n_params },
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// The Hub's name for the weights' dtype (`F32`, `BF16`, ...).
fn safetensors_dtype(config: &serde_json::Value) -> &'static str {
    let d = config["dtype"].as_str().or_else(|| config["torch_dtype"].as_str()).unwrap_or("float32");
    match d {
        "bfloat16" => "BF16",
        "float16" => "F16",
        "float64" => "F64",
        _ => "F32",
    }
}

/// The entries under `dir` of a repo (`list_repo_tree`): files and sub-directories.
async fn tree(s: &AppState, repo: &str, rest: &str, recursive: bool) -> Response {
    let (rev, dir) = rest.split_once('/').unwrap_or((rest, ""));
    let m = match served(s, repo).await.and_then(|m| check_revision(&m, rev).map(|()| m)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let dir = dir.trim_end_matches('/');
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut entries = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for f in m.files.iter().filter(|f| f.name.starts_with(&prefix)) {
        let rel = &f.name[prefix.len()..];
        match rel.split_once('/') {
            Some((sub, _)) if !recursive => {
                dirs.insert(format!("{prefix}{sub}"));
            }
            _ => entries.push(serde_json::json!({ "type": "file", "oid": f.etag, "size": f.size, "path": f.name })),
        }
    }
    if entries.is_empty() && dirs.is_empty() && !dir.is_empty() {
        return not_found("EntryNotFound", format!("{dir} does not exist in {repo}"));
    }
    let mut out: Vec<_> = dirs.into_iter().map(|d| serde_json::json!({ "type": "directory", "oid": m.commit, "size": 0, "path": d })).collect();
    out.extend(entries);
    ([(header::CONTENT_TYPE, "application/json")], serde_json::Value::Array(out).to_string()).into_response()
}

/// `GET`/`HEAD /{repo}/resolve/{rev}/{file}` (any other path: 404).
pub async fn resolve(State(s): State<AppState>, Path(path): Path<String>) -> Response {
    let Some((repo, rest)) = path.split_once("/resolve/") else {
        return super::ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response();
    };
    let Some((rev, file)) = rest.split_once('/') else {
        return not_found("EntryNotFound", format!("{path} does not name a file"));
    };
    let m = match served(&s, repo).await.and_then(|m| check_revision(&m, rev).map(|()| m)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(f) = m.file(file) else {
        return not_found("EntryNotFound", format!("{file} does not exist in {repo}"));
    };
    let mut headers = HeaderMap::new();
    let commit = HeaderValue::from_str(&m.commit).unwrap_or(HeaderValue::from_static("0"));
    headers.insert("X-Repo-Commit", commit);
    headers.insert(header::ETAG, HeaderValue::from_str(&format!("\"{}\"", f.etag)).unwrap_or(HeaderValue::from_static("\"0\"")));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(f.size));
    let body = match &f.at {
        At::Here(Content::Static(bytes)) => Body::from(*bytes),
        At::Here(Content::Path(p)) => match tokio::fs::File::open(p).await {
            Ok(file) => Body::from_stream(tokio_util::io::ReaderStream::new(file)),
            Err(e) => {
                return super::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("reading {file}: {e}")).into_response();
            }
        },
        At::Store(front) => {
            let (front, key) = (front.clone(), Blobs::hub_key(repo, &f.etag));
            match tokio::task::spawn_blocking(move || front.blobs.stream(&key)).await {
                Ok(Ok(Some((_, stream)))) => Body::from_stream(stream),
                Ok(Ok(None)) => return not_found("EntryNotFound", format!("{file} of {repo} is not in the cluster's store")),
                Ok(Err(e)) => return super::ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("reading {file}: {e}")).into_response(),
                Err(e) => return super::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("reading {file}: {e}")).into_response(),
            }
        }
    };
    (headers, body).into_response()
}
