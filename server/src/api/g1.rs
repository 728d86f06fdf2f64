//! G1 (nnsight 0.5–0.7, docs/protocol.md): the raw-body `POST /request` with NDIF's
//! headers, the socket.io endpoint at `/ws/socket.io` whose sockets get every update of
//! their blocking jobs as `blocking_response` events (one binary attachment: the
//! `torch.save` of the status dict), and `ndif-callback` notifications for non-blocking
//! jobs. Statuses, texts and reply shapes are NDIF's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use socketioxide::SocketIo;
use socketioxide::handler::ConnectHandler;
use socketioxide::extract::{Data, SocketRef};
use socketioxide::layer::SocketIoLayer;
use tokio::sync::mpsc;

use super::backlog::Backlog;
use super::{ApiError, AppState, MAX_BODY, RunsOn, base_url, json, version};
use crate::job;
use crate::jobs::{Jobs, Status, Subscriber, Update, Work};
use crate::request;

/// socket.io's mount point (NDIF's `SocketManager(mount_location="/ws")`).
pub const SOCKET_PATH: &str = "/ws/socket.io";

/// The socket.io layer: one socket per connected G1 client, registered with the job
/// system under its socket.io sid (what the client sends as `ndif-session_id`).
pub fn socket_layer(jobs: Jobs, backlog_max: usize) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder()
        .req_path(SOCKET_PATH)
        // NDIF's settings: python-engineio's 25 s ping interval, 60 s ping timeout,
        // 100 MB messages (docs/protocol.md).
        .ping_interval(std::time::Duration::from_secs(25))
        .ping_timeout(std::time::Duration::from_secs(60))
        .max_payload(100_000_000)
        .max_buffer_size(1024)
        .build_layer();
    // The subscription is made before the CONNECT ack reaches the client (a connect
    // middleware is awaited first), so its POST can name the sid at once; updates wait in
    // the channel until the socket's sending task starts.
    let pending: Pending = Arc::default();
    let register = {
        let (jobs, pending) = (jobs.clone(), pending.clone());
        async move |socket: SocketRef| -> Result<(), std::convert::Infallible> {
            let sid = socket.id.to_string();
            let (tx, rx) = mpsc::unbounded_channel();
            let backlog = Arc::new(Backlog::new(backlog_max));
            lock(&pending).insert(sid.clone(), (rx, backlog.clone()));
            jobs.subscribe(&sid, Arc::new(SioSubscriber { sid: sid.clone(), tx, backlog }));
            tracing::debug!(%sid, "socket.io subscribed");
            Ok(())
        }
    };
    io.ns("/", { async move |socket: SocketRef| connected(socket, jobs, pending).await }.with(register));
    layer
}

type Pending = Arc<Mutex<HashMap<String, (mpsc::UnboundedReceiver<pace::Frame>, Arc<Backlog>)>>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Hands a socket's updates to its sending task (the executor must never wait on a
/// slow client).
struct SioSubscriber {
    sid: String,
    tx: mpsc::UnboundedSender<pace::Frame>,
    backlog: Arc<Backlog>,
}

impl Subscriber for SioSubscriber {
    fn send(&self, update: &Update) -> bool {
        let frame = pace::Frame {
            job: update.id.clone(),
            passing: !update.status.is_terminal() && !matches!(update.status, Status::Log | Status::Stream),
            bytes: Bytes::from(update.g1_frame(Some(&self.sid))),
        };
        self.backlog.add(frame.bytes.len()) && self.tx.send(frame).is_ok()
    }

    fn generation(&self) -> &'static str {
        "g1"
    }
}

async fn connected(socket: SocketRef, jobs: Jobs, pending: Pending) {
    let sid = socket.id.to_string();
    let Some((mut rx, backlog)) = lock(&pending).remove(&sid) else {
        tracing::warn!(%sid, "a socket.io connection without its subscription");
        return;
    };
    tracing::debug!(%sid, "socket.io connected");
    {
        let (jobs, sid) = (jobs.clone(), sid.clone());
        socket.on_disconnect(async move || {
            tracing::debug!(%sid, "socket.io disconnected");
            jobs.unsubscribe(&sid)
        });
    }
    {
        // `session.local()`: what the client's block sends back, `(data, job_id)`; only
        // the job's own client can answer it.
        let (jobs, sid) = (jobs.clone(), sid.clone());
        socket.on("stream_upload", async move |Data((data, job)): Data<(Bytes, String)>| {
            if !jobs.upload(&job, &sid, data.to_vec()) {
                tracing::debug!(%sid, %job, "a stream_upload no job of this socket waits for");
            }
        });
    }
    tokio::spawn(async move {
        let emit = |bytes: &Bytes| match socket.emit("blocking_response", bytes) {
            Ok(()) => {
                backlog.sent(bytes.len());
                pace::Sent::Yes
            }
            // A client that stopped reading: cut off rather than wait for ever.
            Err(_) if backlog.overflowed() => pace::Sent::Closed,
            // socket.io's own buffer is bounded: wait for room rather than drop a status.
            Err(socketioxide::SendError::Socket(socketioxide::SocketError::InternalChannelFull)) => pace::Sent::Full,
            Err(e) => {
                tracing::warn!(%sid, "socket.io emit failed, dropping the socket's updates: {e}");
                pace::Sent::Closed
            }
        };
        pace::forward(&mut rx, emit).await;
        jobs.unsubscribe(&sid);
        if backlog.overflowed() {
            tracing::warn!(%sid, "{}", backlog.reason());
            let _ = socket.disconnect();
        }
    });
}
/// `POST /request` from a G1 client.
pub async fn submit(s: AppState, headers: HeaderMap, req: Request, received: std::time::Instant, owner: Option<String>) -> Result<Response, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let model_key = header("nnsight-model-key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::bad_request("The request has no nnsight-model-key header."))?
        .to_string();
    if let Some(ts) = header("ndif-timestamp").filter(|t| !t.is_empty())
        && ts.parse::<f64>().is_err()
    {
        return Err(ApiError::bad_request(format!(
            "The ndif-timestamp header must be seconds since the epoch, got '{ts}'."
        )));
    }
    let session = header("ndif-session_id").filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(session) = session.as_deref()
        && !s.session_ok(session, owner.as_deref()).await
    {
        return Err(ApiError::bad_request(format!(
            "No socket.io connection with sid '{session}' is open: connect to {SOCKET_PATH} first, or submit without ndif-session_id to poll instead."
        )));
    }
    let callback = header("ndif-callback").unwrap_or("").to_string();
    // 0.6+ say whether they want a zstd result; 0.5.x (`nnsight-zlib`) never get one.
    let compress = match (header("nnsight-compress"), header("nnsight-zlib")) {
        (Some(c), _) => !matches!(c.to_ascii_lowercase().as_str(), "false" | "0" | "no" | "off"),
        (None, Some(_)) => false,
        (None, None) => true,
    };
    let body = axum::body::to_bytes(req.into_body(), MAX_BODY).await.map_err(|e| {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("The request body could not be read (at most {MAX_BODY} bytes): {e}"))
    })?;
    s.jobs.received_bytes(body.len() as u64);
    let id = Jobs::new_id();
    let reply = Reply { id: &id, session: session.as_deref(), callback: &callback, owner: owner.as_deref() };
    // Past the headers NDIF answers every failure with HTTP 200 and an ERROR status,
    // which the client raises with its text (docs/protocol.md).
    let client = header("nnsight-version").unwrap_or("");
    let client_version = version::Version::parse(client);
    // nnsight before 0.5 sent an intervention graph, not code: NDIF's refusal text.
    if let Some(v) = &client_version
        && *v < version::Version::parse("0.5").expect("a version")
    {
        let why = version::check(Some(client), Some("0.5.0")).err().unwrap_or_default();
        return Ok(reply.error(&s, why).await);
    }
    // nnsight 0.5.0–0.5.10 download a result from `GET /result/{id}` when COMPLETED
    // carries no data (and take any data it carries as the result itself).
    let legacy_result = client_version.as_ref().is_some_and(|v| *v < version::Version::parse("0.5.11").expect("a version"));
    let python = header("python-version").unwrap_or("").to_string();
    let submission = request::Submission::G1 { model_key: model_key.clone(), body: body.clone(), compress, python: python.clone() };
    let limits = s.protocol.decode.clone();
    let decoded = super::decode_off_task(move || {
        request::decode_g1(&model_key, &body, compress, &limits).map(|mut r| {
            r.python = Some(python).filter(|p| !p.is_empty());
            r
        })
    })
    .await?;
    let req = match decoded {
        Ok(r) => r,
        // Refusals of size and load are HTTP errors, as for G2 (the client raises them).
        Err(e @ (request::RequestError::TooLarge { .. } | request::RequestError::Busy { .. })) => return Err(ApiError::from_request(&e)),
        Err(e) => return Ok(reply.error(&s, format!("The request from nnsight {client} could not be read: {e}")).await),
    };
    let watcher = (!callback.is_empty() && session.is_none())
        .then(|| callbacks::watcher(&callback))
        .flatten();
    let result_url = if legacy_result { String::new() } else { format!("{}/results/{id}", base_url(&headers)) };
    let served = match s.runs_on(&req.model_key.repo_id).await {
        Ok(RunsOn::Here(served)) => served,
        Ok(RunsOn::Cluster(front)) => {
            let ticket = crate::cluster::bus::Ticket {
                result_url,
                repo: req.model_key.repo_id.clone(),
                received_ms: super::received_unix_ms(received),
                id: id.clone(),
                session: session.clone(),
                owner: owner.clone(),
                submission,
            };
            return Ok(reply.json(&AppState::submit_to_cluster(front, ticket, watcher).await?));
        }
        // Past the headers, NDIF answers with an ERROR status (see above).
        Err(e) => return Ok(reply.error(&s, e.detail).await),
    };
    let caps = s.caps;
    let work = Work {
        result_url,
        model: served.repo_id.clone(),
        owner: owner.clone(),
        received,
        id: id.clone(),
        session: session.clone(),
        watcher,
        // nnsight 0.5.x run a STREAM's block (0.6–0.7 crash on one: `--stream-local`).
        stream: s.protocol.stream_local || client_version.as_ref().is_some_and(|v| *v < version::Version::parse("0.6").expect("a version")),
        run: Box::new(move |ctl| job::execute(&req, &served, caps, ctl)),
    };
    let received = s
        .jobs
        .submit(work)
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    Ok(reply.json(&received))
}

/// NDIF's `BackendResponseModel` as the POST reply: the status plus `session_id` and
/// `callback`.
struct Reply<'a> {
    id: &'a str,
    session: Option<&'a str>,
    callback: &'a str,
    owner: Option<&'a str>,
}

impl Reply<'_> {
    fn json(&self, update: &Update) -> Response {
        json(
            serde_json::json!({
                "id": update.id,
                "status": update.status.as_str(),
                "description": update.description,
                "data": null,
                "session_id": self.session,
                "callback": self.callback,
            })
            .to_string(),
        )
    }

    /// An ERROR reply, kept for `GET /response/{id}` too.
    async fn error(&self, s: &AppState, description: String) -> Response {
        self.json(&s.refuse(self.id, &description, self.owner).await)
    }
}

/// `ndif-callback`: `GET {callback}?status=…&id=…` on every update of a non-blocking job,
/// in order (NDIF's behaviour; docs/protocol.md). A callback that cannot be reached is
/// logged and never fails the job.
mod callbacks {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::mpsc;

    use crate::jobs::{Subscriber, Update};

    const TIMEOUT: Duration = Duration::from_secs(10);

    struct Callback(mpsc::UnboundedSender<String>);

    impl Subscriber for Callback {
        fn send(&self, update: &Update) -> bool {
            self.0.send(format!("status={}&id={}", update.status.as_str(), update.id)).is_ok()
        }
    }

    /// A watcher calling `url`, or `None` (logged) for what cannot be called: e-mail
    /// addresses (NDIF mails those) and non-`http://` URLs.
    pub fn watcher(url: &str) -> Option<Arc<dyn Subscriber>> {
        let Some((host, port, path)) = parse(url) else {
            tracing::warn!(callback = %url, "ndif-callback ignored: only http://host[:port]/path URLs are called");
            return None;
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let url = url.to_string();
        tokio::spawn(async move {
            while let Some(query) = rx.recv().await {
                let sep = if path.contains('?') { '&' } else { '?' };
                let target = format!("{path}{sep}{query}");
                match tokio::time::timeout(TIMEOUT, get(&host, port, &target)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(callback = %url, "callback failed: {e}"),
                    Err(_) => tracing::warn!(callback = %url, "callback timed out"),
                }
            }
        });
        Some(Arc::new(Callback(tx)))
    }

    /// `http://host[:port][/path]` → (host, port, path).
    fn parse(url: &str) -> Option<(String, u16, String)> {
        let rest = url.strip_prefix("http://")?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let path = if path.starts_with('?') { format!("/{path}") } else { path };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || p.is_empty() => (h, p.parse().ok()?),
            _ => (authority, 80),
        };
        (!host.is_empty() && !authority.contains('@')).then(|| (host.trim_matches(['[', ']']).to_string(), port, path))
    }

    async fn get(host: &str, port: u16, target: &str) -> std::io::Result<()> {
        let mut stream = tokio::net::TcpStream::connect((host, port)).await?;
        let request = format!("GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: localndif\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        // The answer is ignored (as NDIF does); read its status line so the exchange ends
        // cleanly.
        let mut head = [0u8; 64];
        let _ = stream.read(&mut head).await?;
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn callback_urls() {
            assert_eq!(super::parse("http://127.0.0.1:9000/hook"), Some(("127.0.0.1".into(), 9000, "/hook".into())));
            assert_eq!(super::parse("http://example.org"), Some(("example.org".into(), 80, "/".into())));
            assert_eq!(super::parse("http://h:1/x?a=b"), Some(("h".into(), 1, "/x?a=b".into())));
            assert_eq!(super::parse("https://h/x"), None);
            assert_eq!(super::parse("me@example.org"), None);
            assert_eq!(super::parse("http://u@h/x"), None);
        }
    }
}

/// How updates reach a G1 socket. python-socketio's client (every 0.5–0.7 nnsight) handles
/// each websocket message on a thread of its own (python-engineio's `run_async=True`), so
/// the header and the attachment of one binary event, or two events sent back to back, can
/// be handled out of order: the event is then lost (the client waits forever) or delivered
/// with the next header as its payload (`TypeError: a bytes-like object is required`).
/// Upstream: python-socketio #403 and #436; NDIF's own server has the same exposure. A
/// server cannot make that client safe, only make the race rare: a socket gets at most one
/// event per [`GAP`], and a QUEUED/RUNNING that a newer status of the same job overtakes
/// within the gap is never sent, so a short job is one event — its terminal status.
mod pace {
    use std::time::Duration;

    use axum::body::Bytes;
    use tokio::sync::mpsc::UnboundedReceiver;
    use tokio::time::{Instant, sleep, sleep_until, timeout};

    /// The least time between two events to one socket.
    pub const GAP: Duration = Duration::from_millis(25);

    /// One `blocking_response` on its way.
    #[derive(Debug)]
    pub struct Frame {
        pub job: String,
        /// QUEUED, RUNNING…: of no use to the client once a newer status of its job exists.
        pub passing: bool,
        pub bytes: Bytes,
    }

    pub enum Sent {
        Yes,
        /// The socket's buffer is full: try again shortly.
        Full,
        /// The socket is gone.
        Closed,
    }

    /// Sends the frames of `rx` through `emit` until the channel or the socket closes.
    pub async fn forward(rx: &mut UnboundedReceiver<Frame>, mut emit: impl FnMut(&Bytes) -> Sent) {
        let mut last: Option<Instant> = None;
        let mut next: Option<Frame> = None;
        loop {
            let frame = match next.take() {
                Some(f) => f,
                None => match rx.recv().await {
                    Some(f) => f,
                    None => return,
                },
            };
            if frame.passing {
                match timeout(GAP, rx.recv()).await {
                    Ok(Some(newer)) if newer.job == frame.job => {
                        next = Some(newer);
                        continue;
                    }
                    Ok(newer) => next = newer,
                    Err(_) => {}
                }
            }
            if let Some(t) = last {
                sleep_until(t + GAP).await;
            }
            loop {
                match emit(&frame.bytes) {
                    Sent::Yes => break,
                    Sent::Full => sleep(Duration::from_millis(5)).await,
                    Sent::Closed => return,
                }
            }
            last = Some(Instant::now());
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use tokio::sync::mpsc::unbounded_channel;

        fn frame(job: &str, status: &str, passing: bool) -> Frame {
            Frame { job: job.into(), passing, bytes: Bytes::from(format!("{job}:{status}")) }
        }

        /// Runs `forward` over `frames` (all queued at once) on paused time; returns what
        /// was emitted, with the virtual instant of each.
        async fn run(frames: Vec<Frame>) -> Vec<(String, Duration)> {
            let (tx, mut rx) = unbounded_channel();
            for f in frames {
                tx.send(f).unwrap();
            }
            drop(tx);
            let start = Instant::now();
            let mut out = vec![];
            forward(&mut rx, |b| {
                out.push((String::from_utf8(b.to_vec()).unwrap(), start.elapsed()));
                Sent::Yes
            })
            .await;
            out
        }

        #[tokio::test(start_paused = true)]
        async fn a_short_job_is_one_event() {
            let out = run(vec![frame("a", "QUEUED", true), frame("a", "RUNNING", true), frame("a", "COMPLETED", false)]).await;
            assert_eq!(out, [("a:COMPLETED".to_string(), Duration::ZERO)]);
        }

        #[tokio::test(start_paused = true)]
        async fn logs_and_other_jobs_are_never_dropped_and_events_keep_the_gap() {
            let out = run(vec![
                frame("a", "RUNNING", true),
                frame("b", "QUEUED", true),
                frame("a", "LOG 1", false),
                frame("a", "LOG 2", false),
                frame("a", "COMPLETED", false),
            ])
            .await;
            let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
            // a's RUNNING is followed by b's QUEUED (another job): both are sent.
            assert_eq!(names, ["a:RUNNING", "b:QUEUED", "a:LOG 1", "a:LOG 2", "a:COMPLETED"]);
            for pair in out.windows(2) {
                assert!(pair[1].1 - pair[0].1 >= GAP, "{out:?}");
            }
        }

        #[tokio::test(start_paused = true)]
        async fn a_status_nothing_overtakes_is_sent_after_the_gap() {
            let (tx, mut rx) = unbounded_channel();
            tx.send(frame("a", "RUNNING", true)).unwrap();
            let sent = std::cell::RefCell::new(vec![]);
            let mut forwarding = Box::pin(forward(&mut rx, |b| {
                sent.borrow_mut().push(b.clone());
                Sent::Yes
            }));
            // Nothing newer arrives: RUNNING goes out once the gap has passed, while the
            // channel is still open.
            assert!(timeout(GAP * 2, &mut forwarding).await.is_err());
            assert_eq!(*sent.borrow(), [Bytes::from("a:RUNNING")]);
            drop(tx);
            forwarding.await;
        }

        #[tokio::test(start_paused = true)]
        async fn a_full_socket_is_retried_and_a_closed_one_ends_the_forwarding() {
            let (tx, mut rx) = unbounded_channel();
            tx.send(frame("a", "LOG", false)).unwrap();
            tx.send(frame("a", "COMPLETED", false)).unwrap();
            let mut calls = 0;
            forward(&mut rx, |_| {
                calls += 1;
                match calls {
                    1 | 2 => Sent::Full,
                    3 => Sent::Yes,
                    _ => Sent::Closed,
                }
            })
            .await;
            assert_eq!(calls, 4);
        }
    }
}
