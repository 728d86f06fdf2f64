//! Jobs: ids, the queue and the executors that drain it (`--workers N` at once), statuses
//! with NDIF's texts (docs/protocol.md), fan-out of updates to whoever subscribed (a G2
//! WebSocket, a G1 socket.io sid, a G1 callback), the latest status per job for polling,
//! the result store, and the STREAM round trips of `session.local()` (a client's upload
//! goes to the job waiting for it). Each job runs on a thread of its own; its executor
//! waits for it with a deadline and, should the job not stop when told to (a libtorch
//! kernel cannot be interrupted), reports the timeout and moves on. Knows nothing of HTTP:
//! transports register a [`Subscriber`] under a session id.

mod metrics;
pub mod status;
mod store;

pub use status::{Data, Status, Update};
pub use store::{Gone, ResultStore, StoreConfig, StoreStats};

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

/// Receives the updates of the jobs submitted under one session (a subscribed socket).
pub trait Subscriber: Send + Sync {
    /// Delivers one update; `false` if the subscriber is gone.
    fn send(&self, update: &Update) -> bool;
    /// The client generation on the other end (`g1`: socket.io, `g2`: `/subscribe`).
    fn generation(&self) -> &'static str {
        "g2"
    }
}

/// What a running job gets from its executor.
pub struct JobCtl {
    /// Publishes one LOG update (a printed line).
    pub log: Arc<dyn Fn(String) + Send + Sync>,
    /// Set when the job must stop (its deadline passed); the job polls it.
    pub cancel: Arc<AtomicBool>,
    /// The most memory (bytes) the job's own values held at once; the job reports it.
    pub peak_bytes: Arc<std::sync::atomic::AtomicU64>,
    /// The intra-op thread count the job ran at (its model's); 0 if it never started.
    pub threads: Arc<std::sync::atomic::AtomicU32>,
    /// The attention kernel the job's model runs (its COMPLETED meta says it).
    pub attn: Arc<std::sync::OnceLock<&'static str>>,
    /// Sends a STREAM (a pickled function) to the job's socket and waits for what the
    /// client uploads back (`stream_upload`); `Err` is the reason there is none. `None`
    /// unless the job was submitted with STREAM enabled (`serve --stream-local`).
    pub stream: Option<StreamFn>,
}

/// See [`Jobs::on_session`]: a socket's id, and `Some(its key's name, if any)` when it
/// opens or `None` when it closes.
pub type SessionHook = Box<dyn Fn(&str, Option<Option<&str>>) + Send + Sync>;

/// See [`JobCtl::stream`].
pub type StreamFn = Arc<dyn Fn(Vec<u8>) -> Result<Vec<u8>, String> + Send + Sync>;

/// How a job's error says it is a localndif bug, not the user's (`value::error`).
pub const INTERNAL_ERROR: &str = "InternalError (a localndif bug)";

/// How long a job waits for a client's `stream_upload` (NDIF waits 5 s; a client runs
/// the streamed block first, which may take longer on a laptop).
pub const STREAM_WAIT: Duration = Duration::from_secs(120);

/// A job's body: runs it, reporting LOG lines through its [`JobCtl`]; returns the result
/// blob (already encoded for the client) or the ERROR description.
pub type JobFn = Box<dyn FnOnce(JobCtl) -> Result<Vec<u8>, String> + Send>;

/// How the executors run jobs.
#[derive(Debug, Clone)]
pub struct ExecConfig {
    /// Jobs allowed to wait in the queue before new ones are refused.
    pub max_queue: usize,
    /// Jobs that run at once.
    pub workers: usize,
    /// The job's own deadline (it stops itself then); the executor waits this long plus
    /// [`GRACE`] before giving up on it.
    pub wall: Duration,
    /// Stack of each job thread.
    pub stack: usize,
    /// How long results and final statuses are kept, and the results' byte budget.
    pub store: StoreConfig,
    /// Stop a blocking job whose client socket went away (queued or running).
    pub cancel_orphans: bool,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            max_queue: 1000,
            workers: 1,
            wall: Duration::from_secs(600),
            stack: 8 << 20,
            store: StoreConfig::default(),
            cancel_orphans: true,
        }
    }
}

/// A job body as its runner thread receives it.
type Task = Box<dyn FnOnce() + Send>;

/// A thread that runs an executor's jobs one after another.
struct Runner {
    tx: mpsc::Sender<Task>,
}

impl Runner {
    fn spawn(stack: usize) -> std::io::Result<Runner> {
        let (tx, rx) = mpsc::channel::<Task>();
        thread::Builder::new()
            .name("job-runner".into())
            .stack_size(stack)
            .spawn(move || {
                while let Ok(task) = rx.recv() {
                    task();
                }
            })?;
        Ok(Runner { tx })
    }
}

const RUNNING: u8 = 0;
const DONE: u8 = 1;
const ABANDONED: u8 = 2;

/// How long past its deadline a job may take to notice it before its executor moves on.
pub const GRACE: Duration = Duration::from_secs(30);

/// What the executor needs to run one job; produced by the transport layer.
pub struct Work {
    pub id: String,
    /// The subscribed socket that gets this job's updates (a blocking job).
    pub session: Option<String>,
    /// Also told of every update of this job after RECEIVED (a G1 `ndif-callback`).
    pub watcher: Option<Arc<dyn Subscriber>>,
    /// The job may STREAM blocks to its client (`session.local()`).
    pub stream: bool,
    pub run: JobFn,
    /// Where the client downloads the result (`{base}/results/{id}`).
    pub result_url: String,
    /// The repo id the job runs on (for metrics and logs).
    pub model: String,
    /// The name of the API key that submitted the job (`serve --api-keys`), if any.
    pub owner: Option<String>,
    /// When the request reached the server (for COMPLETED `meta.server_time`).
    pub received: std::time::Instant,
}

/// A running job: who hears of it, and the flag that tells it to stop.
type RunningJob = (Arc<Route>, Arc<AtomicBool>);

/// Who hears of a job's updates.
struct Route {
    session: Option<String>,
    watcher: Option<Arc<dyn Subscriber>>,
}

/// The job system's handle: cheap to clone, shared by all routes.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    subscribers: Mutex<HashMap<String, Arc<dyn Subscriber>>>,
    /// The key name each job, and each keyed socket, belongs to (`serve --api-keys`).
    owners: Mutex<HashMap<String, String>>,
    socket_owners: Mutex<HashMap<String, String>>,
    /// Jobs waiting for a `stream_upload`: job id → (its session, where the upload goes).
    uploads: Mutex<HashMap<String, (String, mpsc::SyncSender<Vec<u8>>)>>,
    /// The latest non-LOG update of each job, and when it was recorded.
    latest: Mutex<HashMap<String, (Update, std::time::Instant)>>,
    queue: Mutex<VecDeque<Work>>,
    /// Jobs running now: who hears of them and how to stop them. The side that removes
    /// a job's entry publishes its terminal status (the executor, or a shutdown).
    running: Mutex<HashMap<String, RunningJob>>,
    /// Set by [`Jobs::shutdown`]: new jobs are refused.
    closing: AtomicBool,
    metrics: metrics::Metrics,
    /// `serve --fault wrong-result`: the previous job's result.
    last_result: Mutex<Option<Vec<u8>>>,
    wake: Condvar,
    config: ExecConfig,
    results: ResultStore,
    /// Job threads given up on that are still running.
    abandoned: AtomicUsize,
    on_session: std::sync::OnceLock<SessionHook>,
}

/// Why a job could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the queue is full ({0} jobs waiting); try again later")]
    QueueFull(usize),
    #[error("the server is shutting down and takes no new jobs")]
    ShuttingDown,
}

/// The ERROR a job gets when the server stops before it could finish.
pub const DISCONNECTED: &str = "The client disconnected before its job ended, so the job was stopped (`serve --keep-orphans` lets such jobs finish for polling).";

/// The ERROR a job gets when the server stops before it could finish.
pub const SHUTTING_DOWN: &str = "The server is shutting down: this job was not run to completion. Submit it again once the server is back.";

/// What a shutdown did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Queued jobs ended with an ERROR.
    pub queued: usize,
    /// Running jobs that finished within the drain time.
    pub finished: usize,
    /// Running jobs still going at the end, ended with an ERROR (and told to stop).
    pub cut: usize,
}

impl Jobs {
    /// Starts `config.workers` executors; jobs start in submission order.
    pub fn start(config: ExecConfig) -> Jobs {
        let jobs = Jobs {
            inner: Arc::new(Inner {
                subscribers: Mutex::default(),
                owners: Mutex::default(),
                socket_owners: Mutex::default(),
                uploads: Mutex::default(),
                latest: Mutex::default(),
                queue: Mutex::default(),
                running: Mutex::default(),
                closing: AtomicBool::new(false),
                metrics: metrics::Metrics::default(),
                last_result: Mutex::default(),
                wake: Condvar::new(),
                results: ResultStore::new(config.store.clone()),
                config: config.clone(),
                abandoned: AtomicUsize::new(0),
                on_session: std::sync::OnceLock::new(),
            }),
        };
        for i in 0..config.workers.max(1) {
            let worker = jobs.clone();
            thread::Builder::new()
                .name(format!("executor-{i}"))
                .spawn(move || worker.execute_forever())
                .expect("spawning an executor thread");
        }
        // Expired results and final statuses go, a quarter of the TTL after expiring at
        // most (a download in between is refused by the store's own TTL check).
        let sweeper = Arc::downgrade(&jobs.inner);
        let every = (config.store.ttl / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        thread::Builder::new()
            .name("sweeper".into())
            .spawn(move || {
                while let Some(inner) = sweeper.upgrade() {
                    Jobs { inner }.sweep(std::time::Instant::now());
                    thread::sleep(every);
                }
            })
            .expect("spawning the sweeper thread");
        jobs
    }

    /// The blocking jobs of a socket that went away: queued ones leave the queue, running
    /// ones are told to stop; each gets an ERROR (pollable by id).
    fn orphaned(&self, session: &str) {
        let mine = |s: &Option<String>| s.as_deref() == Some(session);
        let queued: Vec<Work> = {
            let mut q = lock(&self.inner.queue);
            let (gone, keep): (Vec<Work>, Vec<Work>) = q.drain(..).partition(|w| mine(&w.session));
            q.extend(keep);
            gone
        };
        let running: Vec<(String, RunningJob)> = {
            let mut r = lock(&self.inner.running);
            let ids: Vec<String> = r.iter().filter(|(_, (route, _))| mine(&route.session)).map(|(id, _)| id.clone()).collect();
            ids.into_iter().filter_map(|id| r.remove(&id).map(|v| (id, v))).collect()
        };
        // The socket is gone: the ERROR is for polls and callbacks.
        self.end_early(&queued, &running, DISCONNECTED, false);
        if !queued.is_empty() || !running.is_empty() {
            tracing::info!(session, queued = queued.len(), running = running.len(), "a client went away: its jobs were stopped");
        }
    }

    /// Ends jobs taken out of the queue and the running set (whoever removes a job publishes
    /// its terminal status) with an ERROR saying why; running ones are told to stop. The
    /// ERROR goes to the jobs' sockets only when `to_socket`.
    fn end_early(&self, queued: &[Work], running: &[(String, RunningJob)], description: &str, to_socket: bool) {
        let route = |session: &Option<String>, watcher: &Option<Arc<dyn Subscriber>>| Route {
            session: session.clone().filter(|_| to_socket),
            watcher: watcher.clone(),
        };
        for w in queued {
            self.publish(&route(&w.session, &w.watcher), Update::new(&w.id, Status::Error, description));
            self.inner.metrics.ended("ERROR", &w.model);
        }
        for (id, (r, cancel)) in running {
            cancel.store(true, Ordering::SeqCst);
            self.publish(&route(&r.session, &r.watcher), Update::new(id, Status::Error, description));
            self.inner.metrics.ended("ERROR", "");
        }
    }

    /// Drops results and final statuses older than the TTL as of `now`.
    pub fn sweep(&self, now: std::time::Instant) {
        self.inner.results.sweep(now);
        let ttl = self.inner.config.store.ttl;
        let mut latest = lock(&self.inner.latest);
        latest.retain(|_, (u, at)| !u.status.is_terminal() || now.saturating_duration_since(*at) <= ttl);
        lock(&self.inner.owners).retain(|id, _| latest.contains_key(id));
    }

    /// Stops taking jobs; ends the queued ones with an ERROR; lets the running ones finish
    /// for `drain`, then ends those still running with an ERROR and tells them to stop.
    /// Every client waiting on a job gets a terminal status.
    pub fn shutdown(&self, drain: Duration) -> Drained {
        self.inner.closing.store(true, Ordering::SeqCst);
        let queued: Vec<Work> = lock(&self.inner.queue).drain(..).collect();
        self.end_early(&queued, &[], SHUTTING_DOWN, true);
        let running_at_start = lock(&self.inner.running).len();
        let deadline = std::time::Instant::now() + drain;
        while !lock(&self.inner.running).is_empty() && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let cut: Vec<(String, RunningJob)> = lock(&self.inner.running).drain().collect();
        self.end_early(&[], &cut, SHUTTING_DOWN, true);
        Drained { queued: queued.len(), finished: running_at_start - cut.len(), cut: cut.len() }
    }

    /// Whether a drain has begun (`shutdown`): no job is taken any more.
    pub fn closing(&self) -> bool {
        self.inner.closing.load(Ordering::SeqCst)
    }

    /// A connection was refused at a cap (for `/metrics`).
    pub fn connection_refused(&self) {
        self.inner.metrics.connections_refused.inc();
    }

    /// A request body of `n` bytes arrived (for `/metrics`).
    pub fn received_bytes(&self, n: u64) {
        self.inner.metrics.request_bytes.inc_by(n);
    }

    /// Every metric, current (`GET /metrics`).
    pub fn metrics_text(&self) -> String {
        let m = &self.inner.metrics;
        m.queued.set(self.queued() as i64);
        m.running.set(self.running() as i64);
        let (mut g1, mut g2) = (0, 0);
        for s in lock(&self.inner.subscribers).values() {
            if s.generation() == "g1" { g1 += 1 } else { g2 += 1 }
        }
        m.socket("g1", g1);
        m.socket("g2", g2);
        m.abandoned.set(self.abandoned() as i64);
        let s = self.inner.results.stats();
        m.results_kept.set(s.results as i64);
        m.results_bytes.set(s.bytes as i64);
        metrics::Metrics::catch_up(&m.results_evicted, s.evicted);
        metrics::Metrics::catch_up(&m.results_expired, s.expired);
        m.encode()
    }

    /// Jobs waiting in the queue.
    pub fn queued(&self) -> usize {
        lock(&self.inner.queue).len()
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        lock(&self.inner.running).len()
    }

    pub fn new_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    pub fn subscribe(&self, session: &str, subscriber: Arc<dyn Subscriber>) {
        lock(&self.inner.subscribers).insert(session.to_string(), subscriber);
        if let Some(hook) = self.inner.on_session.get() {
            let owner = lock(&self.inner.socket_owners).get(session).cloned();
            hook(session, Some(owner.as_deref()));
        }
    }

    /// Tells `hook` of every socket that opens (`Some(owner)`) and closes (`None`) — a
    /// cluster front makes its sockets known to the other fronts.
    pub fn on_session(&self, hook: SessionHook) {
        let _ = self.inner.on_session.set(hook);
    }

    /// Delivers an update that did not come from this process's executors (a cluster
    /// worker's, relayed by a front) to `session`'s socket and to `watcher`.
    /// Nothing is recorded: the cluster keeps statuses itself.
    pub fn deliver(&self, session: Option<&str>, watcher: Option<Arc<dyn Subscriber>>, update: Update) {
        if let Some(gone) = self.send(&Route { session: session.map(str::to_string), watcher }, update, false) {
            self.unsubscribe(&gone);
        }
    }

    /// The sockets subscribed now, with the key each was opened with.
    pub fn sessions(&self) -> Vec<(String, Option<String>)> {
        let ids: Vec<String> = lock(&self.inner.subscribers).keys().cloned().collect();
        let owners = lock(&self.inner.socket_owners);
        ids.into_iter()
            .map(|id| {
                let owner = owners.get(&id).cloned();
                (id, owner)
            })
            .collect()
    }

    pub fn is_subscribed(&self, session: &str) -> bool {
        lock(&self.inner.subscribers).contains_key(session)
    }

    /// [`Jobs::subscribe`] for a socket opened with an API key: only that key's jobs
    /// may name it.
    pub fn subscribe_as(&self, session: &str, subscriber: Arc<dyn Subscriber>, owner: Option<String>) {
        if let Some(o) = owner {
            lock(&self.inner.socket_owners).insert(session.to_string(), o);
        }
        self.subscribe(session, subscriber);
    }

    /// Whether a job submitted by `owner` may send its updates to `session`: it is
    /// subscribed, and opened with the same key or with none (socket.io sids are bearer
    /// capabilities).
    pub fn is_subscribed_for(&self, session: &str, owner: Option<&str>) -> bool {
        self.is_subscribed(session)
            && lock(&self.inner.socket_owners).get(session).is_none_or(|o| Some(o.as_str()) == owner)
    }

    /// Whether `reader` may see job `id`: always on an open server (`keyed` false),
    /// else only the key that submitted it.
    pub fn visible(&self, id: &str, reader: Option<&str>, keyed: bool) -> bool {
        !keyed || lock(&self.inner.owners).get(id).is_some_and(|o| Some(o.as_str()) == reader)
    }

    pub fn unsubscribe(&self, session: &str) {
        let was = lock(&self.inner.subscribers).remove(session).is_some();
        lock(&self.inner.socket_owners).remove(session);
        if was && let Some(hook) = self.inner.on_session.get() {
            hook(session, None);
        }
        if was && self.inner.config.cancel_orphans {
            self.orphaned(session);
        }
        // A job waiting for this client's upload will not get one.
        lock(&self.inner.uploads).retain(|_, (s, _)| s != session);
    }

    pub fn results(&self) -> &ResultStore {
        &self.inner.results
    }

    /// The latest non-LOG update of a job (for `GET /response/{id}`).
    pub fn latest(&self, id: &str) -> Option<Update> {
        lock(&self.inner.latest).get(id).map(|(u, _)| u.clone())
    }

    /// Queues a job and returns its RECEIVED update (the POST reply). QUEUED follows on the
    /// subscriber once the reply is on its way.
    pub fn submit(&self, work: Work) -> Result<Update, SubmitError> {
        let received = Update::new(&work.id, Status::Received, status::RECEIVED);
        let mut queue = lock(&self.inner.queue);
        if self.inner.closing.load(Ordering::SeqCst) {
            return Err(SubmitError::ShuttingDown);
        }
        if queue.len() >= self.inner.config.max_queue {
            return Err(SubmitError::QueueFull(queue.len()));
        }
        lock(&self.inner.latest).insert(work.id.clone(), (received.clone(), std::time::Instant::now()));
        if let Some(o) = &work.owner {
            lock(&self.inner.owners).insert(work.id.clone(), o.clone());
        }
        let route = Route { session: work.session.clone(), watcher: work.watcher.clone() };
        // QUEUED goes out before an executor can take the job (and publish DISPATCHED),
        // so statuses arrive in order.
        if let Some(session) = self.send(&route, Update::new(&work.id, Status::Queued, &status::queued(queue.len() + 1)), true) {
            // The socket is gone: let it go (that takes the queue's lock, and ends the
            // session's other jobs); this job ends too, unless orphans are kept.
            drop(queue);
            self.unsubscribe(&session);
            queue = lock(&self.inner.queue);
            if self.inner.config.cancel_orphans || self.inner.closing.load(Ordering::SeqCst) {
                drop(queue);
                let why = if self.inner.config.cancel_orphans { DISCONNECTED } else { SHUTTING_DOWN };
                self.end_early(std::slice::from_ref(&work), &[], why, false);
                return Ok(received);
            }
        }
        queue.push_back(work);
        drop(queue);
        self.inner.wake.notify_one();
        Ok(received)
    }

    /// Records an ERROR for a job refused before it was queued (the G1 POST reply), so a
    /// poll shows it too.
    pub fn refuse(&self, id: &str, description: &str, owner: Option<&str>) -> Update {
        let update = Update::new(id, Status::Error, description);
        if let Some(o) = owner {
            lock(&self.inner.owners).insert(id.to_string(), o.to_string());
        }
        lock(&self.inner.latest).insert(id.to_string(), (update.clone(), std::time::Instant::now()));
        update
    }

    /// Hands a client's `stream_upload` to its job; `false` if no job of that session
    /// is waiting for one.
    pub fn upload(&self, job: &str, session: &str, data: Vec<u8>) -> bool {
        let slot = lock(&self.inner.uploads).get(job).filter(|(s, _)| s == session).map(|(_, tx)| tx.clone());
        slot.is_some_and(|tx| tx.try_send(data).is_ok())
    }

    /// A STREAM round trip for job `id` (see [`JobCtl::stream`]).
    fn stream(&self, id: &str, route: &Route, cancel: &AtomicBool, data: Vec<u8>) -> Result<Vec<u8>, String> {
        let Some(session) = route.session.clone() else {
            return Err("this job was submitted with blocking=False: there is no client socket to stream to".into());
        };
        let (tx, rx) = mpsc::sync_channel(1);
        lock(&self.inner.uploads).insert(id.to_string(), (session, tx));
        let mut update = Update::new(id, Status::Stream, "");
        update.data = Data::Bytes(bytes::Bytes::from(data));
        self.publish(route, update);
        let deadline = std::time::Instant::now() + STREAM_WAIT;
        let out = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(upload) => break Ok(upload),
                Err(mpsc::RecvTimeoutError::Disconnected) => break Err("the client disconnected before uploading".to_string()),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.load(Ordering::SeqCst) {
                        break Err("the job was cancelled".to_string());
                    }
                    if std::time::Instant::now() >= deadline {
                        break Err(format!("the client uploaded nothing within {}s", STREAM_WAIT.as_secs()));
                    }
                }
            }
        };
        lock(&self.inner.uploads).remove(id);
        out
    }

    /// Records and delivers one update.
    fn publish(&self, route: &Route, update: Update) {
        if let Some(gone) = self.send(route, update, true) {
            self.unsubscribe(&gone);
        }
    }

    /// Delivers one update, recording it as the job's latest status when `record`; the
    /// session whose socket turned out to be gone, for the caller to let go (not here:
    /// letting go takes the queue's lock, which `submit` holds while it calls this).
    fn send(&self, route: &Route, update: Update, record: bool) -> Option<String> {
        if update.status == Status::Log && crate::faults::on(crate::faults::Fault::DropLog) {
            return None;
        }
        if record && !matches!(update.status, Status::Log | Status::Stream) {
            let mut stored = update.clone();
            // Polls get the URL; the blob stays in the result store.
            stored.inline = None;
            let mut latest = lock(&self.inner.latest);
            // A job ended early (its client went away, a shutdown) stays ended for polls,
            // whatever its executor still says on its way out.
            let ended = latest.get(&update.id).is_some_and(|(u, _)| u.status.is_terminal());
            if !ended || update.status.is_terminal() {
                latest.insert(update.id.clone(), (stored, std::time::Instant::now()));
            }
        }
        if let Some(w) = &route.watcher {
            w.send(&update);
        }
        if crate::faults::on(crate::faults::Fault::LeakUpdates) {
            let others: Vec<Arc<dyn Subscriber>> =
                lock(&self.inner.subscribers).iter().filter(|(k, _)| Some(k.as_str()) != route.session.as_deref()).map(|(_, v)| v.clone()).collect();
            for o in others {
                o.send(&update);
            }
        }
        let s = route.session.as_deref()?;
        let sub = lock(&self.inner.subscribers).get(s).cloned();
        match sub {
            Some(sub) if !sub.send(&update) => Some(s.to_string()),
            Some(_) => None,
            None => {
                tracing::debug!(session = s, job = %update.id, status = update.status.as_str(), "no subscriber for an update");
                None
            }
        }
    }

    fn execute_forever(&self) {
        // Jobs run on a long-lived runner thread of this executor (its libtorch/OpenMP
        // thread team and per-thread caches stay warm); a runner stuck in a job past its
        // deadline is given up on and a fresh one started.
        let mut runner: Option<Runner> = None;
        loop {
            // Abandoned job threads still hold memory: past a bound, wait for them to end
            // before starting more.
            while self.abandoned() >= 4 * self.inner.config.workers.max(1) {
                thread::park_timeout(Duration::from_secs(1));
            }
            let work = {
                let mut queue = lock(&self.inner.queue);
                loop {
                    // A drain has begun: no job is taken any more (shutdown ends the queued).
                    if !self.inner.closing.load(Ordering::SeqCst)
                        && let Some(w) = queue.pop_front()
                    {
                        break w;
                    }
                    queue = self
                        .inner
                        .wake
                        .wait(queue)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            self.execute(work, &mut runner);
        }
    }

    /// Runs one job to exactly one terminal status, even if the job panics or hangs.
    fn execute(&self, work: Work, runner: &mut Option<Runner>) {
        let Work {
            id,
            session,
            watcher,
            stream,
            run,
            result_url,
            model,
            received,
            owner,
        } = work;
        let span = tracing::info_span!("job", id = %id, model = %model, key = owner.as_deref().unwrap_or("-"));
        let _entered = span.enter();
        let route = Arc::new(Route { session, watcher });
        let cancel = Arc::new(AtomicBool::new(false));
        lock(&self.inner.running).insert(id.clone(), (route.clone(), cancel.clone()));
        let (dispatched, running) =
            (Update::new(&id, Status::Dispatched, status::DISPATCHED), Update::new(&id, Status::Running, status::RUNNING));
        if crate::faults::on(crate::faults::Fault::StatusOrder) {
            self.publish(&route, running);
            self.publish(&route, dispatched);
        } else {
            self.publish(&route, dispatched);
            self.publish(&route, running);
        }
        let log = {
            let (jobs, id, route) = (self.clone(), id.clone(), route.clone());
            Arc::new(move |line: String| {
                jobs.publish(&route, Update::new(&id, Status::Log, &line));
            })
        };
        let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stream = stream.then(|| -> StreamFn {
            let (jobs, id, route, cancel) = (self.clone(), id.clone(), route.clone(), cancel.clone());
            Arc::new(move |data| jobs.stream(&id, &route, &cancel, data))
        });
        let threads = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let attn: Arc<std::sync::OnceLock<&'static str>> = Arc::default();
        let ctl = JobCtl { log, cancel: cancel.clone(), peak_bytes: peak.clone(), threads: threads.clone(), attn: attn.clone(), stream };
        let started = std::time::Instant::now();
        let (tx, rx) = mpsc::channel();
        let inner = self.inner.clone();
        // RUNNING → DONE (the thread finished first) or → ABANDONED (the executor gave up
        // first): exactly one side wins, so the abandoned count stays exact.
        let state = Arc::new(std::sync::atomic::AtomicU8::new(RUNNING));
        let thread_state = state.clone();
        let task: Task = Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(ctl)))
                .unwrap_or_else(|_| {
                    Err(format!("{INTERNAL_ERROR}: the job panicked"))
                });
            if thread_state.compare_exchange(RUNNING, DONE, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                let _ = tx.send(outcome);
            } else {
                // The executor gave up on us and reported the timeout.
                inner.abandoned.fetch_sub(1, Ordering::SeqCst);
            }
        });
        let spawned = match runner.take() {
            Some(r) => Ok(r),
            None => Runner::spawn(self.inner.config.stack),
        }
        .and_then(|r| match r.tx.send(task) {
            Ok(()) => Ok(r),
            Err(_) => Err(std::io::Error::other("the job runner thread is gone")),
        });
        let spawned = spawned.map(|r| *runner = Some(r));
        let outcome = match spawned {
            Err(e) => Err(format!("MemoryError: the server could not start a thread for this job: {e}")),
            Ok(_) => {
                let wall = self.inner.config.wall;
                match rx.recv_timeout(wall + GRACE) {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        cancel.store(true, Ordering::SeqCst);
                        match rx.recv_timeout(GRACE) {
                            Ok(outcome) => outcome,
                            Err(_) if state.compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst).is_err() => {
                                // It finished just now: its outcome is on its way.
                                rx.recv().unwrap_or_else(|_| Err(format!("{INTERNAL_ERROR}: the job's outcome was lost")))
                            }
                            Err(_) => {
                                // Still inside one uninterruptible operation: report and
                                // move on; the thread ends on its own and is counted
                                // until then.
                                self.inner.abandoned.fetch_add(1, Ordering::SeqCst);
                                // The runner is stuck in this job: the next job gets a new one.
                                *runner = None;
                                tracing::warn!(job = %id, "a job did not stop at its deadline; abandoned its thread");
                                Err(format!(
                                    "Your job exceeded the execution timeout of {}s.",
                                    wall.as_secs()
                                ))
                            }
                        }
                    }
                }
            }
        };
        if lock(&self.inner.running).remove(&id).is_none() {
            // A shutdown already ended this job with an ERROR.
            return;
        }
        let m = &self.inner.metrics;
        let outcome = match outcome {
            _ if crate::faults::on(crate::faults::Fault::NotImplemented) => {
                Err("Traceback (most recent call last):\n  File \"<nnsight>\", line 1, in <module>\nNotImplementedError: this server does not implement what the job ran (injected fault)".to_string())
            }
            _ if crate::faults::on(crate::faults::Fault::UnsupportedOperand) => {
                Err("Traceback (most recent call last):\n  File \"<nnsight>\", line 1, in <module>\nTypeError: unsupported operand type(s) for +: 'Tensor' and 'NoneType'".to_string())
            }
            Err(_) if crate::faults::on(crate::faults::Fault::ErrorAsCompleted) => Ok(Vec::new()),
            Err(_) if crate::faults::on(crate::faults::Fault::ErrorText) => Err("error".to_string()),
            Ok(blob) if crate::faults::on(crate::faults::Fault::WrongResult) => {
                let mut last = lock(&self.inner.last_result);
                Ok(std::mem::replace(&mut *last, Some(blob.clone())).unwrap_or(blob))
            }
            other => other,
        };
        let (wait, run_time) = (started.saturating_duration_since(received), started.elapsed());
        m.phase("wait", wait.as_secs_f64());
        m.phase("run", run_time.as_secs_f64());
        let status = if outcome.is_ok() { "COMPLETED" } else { "ERROR" };
        m.ended(status, &model);
        if outcome.as_ref().err().is_some_and(|e| e.lines().last().is_some_and(|l| l.starts_with(INTERNAL_ERROR))) {
            m.internal_errors.inc();
        }
        let result_bytes = outcome.as_ref().map_or(0, Vec::len);
        m.result_bytes.inc_by(result_bytes as u64);
        tracing::info!(
            status,
            wait_ms = wait.as_millis() as u64,
            run_ms = run_time.as_millis() as u64,
            result_bytes,
            error = outcome.as_ref().err().map(|e| e.lines().last().unwrap_or("").to_string()),
            "job ended"
        );
        match outcome {
            Ok(blob) => {
                let blob = bytes::Bytes::from(blob);
                self.inner.results.put(&id, blob.clone(), std::time::Instant::now());
                let mut done = Update::new(&id, Status::Completed, status::COMPLETED);
                // No URL: the client fetches `/result/{id}` itself (nnsight ≤ 0.5.10).
                done.data = if result_url.is_empty() { Data::None } else { Data::Url(result_url) };
                done.inline = Some(blob);
                // NDIF's fields (the GPU ones are empty on a CPU server), and the whole
                // time since the request arrived (decoding, queue and run) for latency
                // breakdowns (python/bench.py).
                done.meta = (!crate::faults::on(crate::faults::Fault::DropMeta)).then(|| serde_json::json!({
                    "runtime": started.elapsed().as_secs_f64(),
                    "server_time": received.elapsed().as_secs_f64(),
                    "max_memory_usage": peak.load(Ordering::SeqCst),
                    "max_mem_by_gpu": {},
                    "max_mem_pct_by_gpu": {},
                    // What a local run must match to get these numbers bit for bit
                    // (`torch.set_num_threads`; README, "Reproducing a result exactly").
                    "intra_op_threads": threads.load(Ordering::SeqCst),
                    "attn_implementation": attn.get().copied().unwrap_or(crate::model::ATTN_IMPLEMENTATION),
                }));
                self.publish(&route, done);
            }
            Err(description) => self.publish(&route, Update::new(&id, Status::Error, &description)),
        }
    }

    /// Job threads given up on that are still running.
    pub fn abandoned(&self) -> usize {
        self.inner.abandoned.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
