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

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::model::ServedModel;
use crate::model::repo::Content;

/// A 404 as the Hub sends it.
fn not_found(code: &'static str, message: String) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    let mut r = (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    r.headers_mut().insert("X-Error-Code", HeaderValue::from_static(code));
    r.headers_mut().insert("X-Error-Message", HeaderValue::from_str(&message).unwrap_or(HeaderValue::from_static("not found")));
    r
}

fn served(s: &AppState, repo: &str) -> Result<std::sync::Arc<ServedModel>, Response> {
    s.registry.get(repo).ok_or_else(|| {
        not_found(
            "RepoNotFound",
            format!("Repository {repo} is not served here (served: {}).", s.registry.repo_ids().join(", ")),
        )
    })
}

fn check_revision(m: &ServedModel, rev: &str) -> Result<(), Response> {
    if rev == "main" || rev == m.repo.commit {
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
        return tree(&s, repo, rest, recursive);
    }
    let (repo, rev) = match path.split_once("/revision/") {
        Some((repo, rev)) => (repo, rev),
        None => (path.as_str(), "main"),
    };
    let m = match served(&s, repo).and_then(|m| check_revision(&m, rev).map(|()| m)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let siblings: Vec<_> = m.repo.files.iter().map(|f| serde_json::json!({ "rfilename": f.name })).collect();
    let body = serde_json::json!({
        "_id": m.repo.commit,
        "id": m.repo_id,
        "modelId": m.repo_id,
        "author": m.repo_id.split_once('/').map(|(a, _)| a),
        "sha": m.repo.commit,
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
        "safetensors": { "parameters": { safetensors_dtype(&m.config): m.n_params() }, "total": m.n_params() },
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
fn tree(s: &AppState, repo: &str, rest: &str, recursive: bool) -> Response {
    let (rev, dir) = rest.split_once('/').unwrap_or((rest, ""));
    let m = match served(s, repo).and_then(|m| check_revision(&m, rev).map(|()| m)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let dir = dir.trim_end_matches('/');
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let mut entries = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for f in m.repo.files.iter().filter(|f| f.name.starts_with(&prefix)) {
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
    let mut out: Vec<_> = dirs.into_iter().map(|d| serde_json::json!({ "type": "directory", "oid": m.repo.commit, "size": 0, "path": d })).collect();
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
    let m = match served(&s, repo).and_then(|m| check_revision(&m, rev).map(|()| m)) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(f) = m.repo.file(file) else {
        return not_found("EntryNotFound", format!("{file} does not exist in {repo}"));
    };
    let mut headers = HeaderMap::new();
    let commit = HeaderValue::from_str(&m.repo.commit).unwrap_or(HeaderValue::from_static("0"));
    headers.insert("X-Repo-Commit", commit);
    headers.insert(header::ETAG, HeaderValue::from_str(&format!("\"{}\"", f.etag)).unwrap_or(HeaderValue::from_static("\"0\"")));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(f.size));
    let body = match &f.content {
        Content::Static(bytes) => Body::from(*bytes),
        Content::Path(p) => match tokio::fs::File::open(p).await {
            Ok(file) => Body::from_stream(tokio_util::io::ReaderStream::new(file)),
            Err(e) => {
                return super::ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("reading {file}: {e}")).into_response();
            }
        },
    };
    (headers, body).into_response()
}
