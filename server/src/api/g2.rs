//! G2 (nnsight 0.8.x): multipart `POST /request` (`data` envelope + `blob` payload,
//! docs/protocol.md) and the plain WebSocket `/subscribe` whose first frame names the
//! session and whose later frames are JSON status updates (docs/protocol.md).

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::backlog::Backlog;
use super::{ApiError, AppState, MAX_BODY, RunsOn, base_url, json};
use crate::job;
use crate::jobs::{Jobs, Subscriber, Update, Work};
use crate::request::{self, Envelope};

/// `POST /request` with a multipart body.
pub async fn submit(s: AppState, headers: HeaderMap, req: Request, received: std::time::Instant, owner: Option<String>) -> Result<Response, ApiError> {
    let mut multipart = Multipart::from_request(req, &s)
        .await
        .map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?;
    let (mut data, mut blob) = (None, None);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request(format!("Invalid multipart body: {e}")))?
    {
        let name = field.name().unwrap_or("").to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("Invalid multipart field '{name}': {e}")))?;
        match name.as_str() {
            "data" => data = Some(bytes),
            "blob" => blob = Some(bytes),
            _ => {}
        }
    }
    s.jobs.received_bytes((data.as_ref().map_or(0, |d| d.len()) + blob.as_ref().map_or(0, |b| b.len())) as u64);
    let data =
        data.ok_or_else(|| ApiError::bad_request("The multipart body has no 'data' field."))?;
    let blob =
        blob.ok_or_else(|| ApiError::bad_request("The multipart body has no 'blob' field."))?;
    let envelope: Envelope = serde_json::from_slice(&data).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Invalid JSON: {e}"),
        )
    })?;
    let submission = request::Submission::G2 { envelope: data.clone(), blob: blob.clone() };
    let decoded = {
        let envelope = envelope.clone();
        let limits = s.protocol.decode.clone();
        super::decode_off_task(move || request::decode_g2(&envelope, &blob, &limits)).await?
    };
    let req = decoded.map_err(|e| ApiError::from_request(&e))?;
    let runs_on = s.runs_on(&req.model_key.repo_id).await?;
    // A blocking job's updates go only to its session's socket: without one the client
    // would wait forever, so refuse instead.
    let session = Some(envelope.session_id).filter(|id| !id.is_empty());
    if let Some(session) = session.as_deref()
        && !s.session_ok(session, owner.as_deref()).await
    {
        return Err(ApiError::bad_request(format!(
            "No /subscribe WebSocket is open for session '{session}': open one first, or submit with an empty session_id to poll instead."
        )));
    }
    let id = Jobs::new_id();
    let result_url = format!("{}/results/{id}", base_url(&headers));
    let served = match runs_on {
        RunsOn::Here(served) => served,
        RunsOn::Cluster(front) => {
            let ticket = crate::cluster::bus::Ticket {
                result_url,
                repo: req.model_key.repo_id.clone(),
                received_ms: super::received_unix_ms(received),
                id,
                session,
                owner,
                submission,
            };
            return Ok(json(AppState::submit_to_cluster(front, ticket, None).await?.to_json()));
        }
    };
    let caps = s.caps;
    let work = Work {
        result_url,
        model: served.repo_id.clone(),
        owner,
        received,
        id,
        session,
        watcher: None,
        stream: false,
        run: Box::new(move |ctl| job::execute(&req, &served, caps, ctl)),
    };
    let received = s
        .jobs
        .submit(work)
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    Ok(json(received.to_json()))
}

/// Forwards a session's updates to its WebSocket task as frames: JSON text, or for a
/// COMPLETED result of at most `inline_max` bytes the binary frame that carries it (so
/// the client needs no second request).
struct WsSubscriber {
    tx: mpsc::UnboundedSender<Message>,
    inline_max: usize,
    backlog: Arc<Backlog>,
}

fn frame_len(m: &Message) -> usize {
    match m {
        Message::Binary(b) => b.len(),
        Message::Text(t) => t.len(),
        _ => 0,
    }
}

impl Subscriber for WsSubscriber {
    fn send(&self, update: &Update) -> bool {
        let frame = match &update.inline {
            Some(blob) if blob.len() <= self.inline_max => {
                Message::Binary(update.g2_inline_frame(blob).into())
            }
            _ => Message::Text(update.to_json().into()),
        };
        self.backlog.add(frame_len(&frame)) && self.tx.send(frame).is_ok()
    }
}

/// `GET /subscribe`: first frame `{"session_id": ...}`, registered before it is sent so no
/// update is lost; then one JSON text frame per update. The client never sends data.
pub async fn subscribe(State(s): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Result<Response, ApiError> {
    // nnsight 0.8 sends its key on the handshake; with keys, the socket is that key's.
    let owner = super::auth::submitter(s.keys.as_deref(), &headers)?;
    Ok(ws
        .max_message_size(MAX_BODY)
        .max_frame_size(MAX_BODY)
        .on_upgrade(move |socket| session(s.jobs, s.protocol, socket, owner)))
}

/// How long a write to a client may wait for the client to read.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

async fn session(jobs: Jobs, protocol: super::Protocol, socket: WebSocket, owner: Option<String>) {
    let session_id = Jobs::new_id();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog::new(protocol.socket_backlog));
    jobs.subscribe_as(&session_id, Arc::new(WsSubscriber { tx, inline_max: protocol.inline_max, backlog: backlog.clone() }), owner);
    let (mut sink, mut stream) = socket.split();
    let hello = serde_json::json!({ "session_id": session_id }).to_string();
    let mut sent = 0usize;
    if sink.send(Message::Text(hello.into())).await.is_ok() {
        loop {
            if sent >= 2 && crate::faults::on(crate::faults::Fault::DropSocket) {
                break;
            }
            tokio::select! {
                update = rx.recv() => match update {
                    Some(frame) => {
                        let n = frame_len(&frame);
                        match tokio::time::timeout(WRITE_TIMEOUT, sink.send(frame)).await {
                            Ok(Ok(())) => {
                                backlog.sent(n);
                                sent += 1;
                            }
                            Ok(Err(_)) => break,
                            Err(_) => {
                                tracing::warn!(session = %session_id, "a client read nothing for {}s; closing its socket", WRITE_TIMEOUT.as_secs());
                                break;
                            }
                        }
                    }
                    None => {
                        if backlog.overflowed() {
                            // The subscriber was dropped because the client fell behind.
                            tracing::warn!(session = %session_id, "{}", backlog.reason());
                            let close = axum::extract::ws::CloseFrame { code: 1008, reason: backlog.reason().into() };
                            let _ = sink.send(Message::Close(Some(close))).await;
                        }
                        break;
                    }
                },
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }
    jobs.unsubscribe(&session_id);
}
