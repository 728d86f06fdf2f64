//! A front (`serve --role front`): takes submissions of both client generations, queues
//! them on Redis for the workers of their model, answers polls and downloads from Redis
//! and the object store, and relays to the sockets it holds the updates workers publish.
//! It keeps nothing a client needs: any front answers for any job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use super::blobs::Blobs;
use super::bus::{Bus, Posted, Ticket};
use crate::jobs::{Jobs, Status, Subscriber, Update, status};

/// How long a socket's registration lives unless renewed (fronts renew theirs every third
/// of it; a front that dies lets its sockets' registrations lapse).
const SESSION_TTL: Duration = Duration::from_secs(60);

/// NDIF's text for a job whose model no deployment serves (its queue processor).
pub const NOT_DEPLOYED: &str = "Model is not dedicated and hotswapping is not supported for this API key. See https://nnsight.net/status/ for a list of scheduled models.";

/// NDIF's purge text for jobs whose deployment went away.
pub const EVICTED: &str = "Model deployment evicted. Please try again later. Sorry for the inconvenience.";

/// A G1 callback watcher and when its job was submitted.
type Watcher = (Arc<dyn Subscriber>, Instant);

/// What a front is told at start.
#[derive(Debug, Clone)]
pub struct FrontConfig {
    /// How long statuses and results are kept.
    pub ttl: Duration,
    /// G2 results up to this size travel inside COMPLETED.
    pub inline_max: usize,
    /// Jobs a model's queue may hold (waiting or running) before submissions get 503.
    pub max_queue: usize,
    /// Jobs of a model no live worker has served for this long end with an ERROR.
    pub orphan_grace: Duration,
    /// Test only: how long the relay waits before reconnecting after losing Redis
    /// (`serve --test-relay-pause-ms`), so a test can end a job while it is away.
    pub relay_pause: Duration,
}

pub struct Front {
    pub bus: Arc<Bus>,
    pub blobs: Arc<Blobs>,
    jobs: Jobs,
    config: FrontConfig,
    /// G1 `ndif-callback` watchers of jobs submitted here, until their terminal status
    /// (or the TTL: a terminal status this front missed).
    watchers: Mutex<HashMap<String, Watcher>>,
    /// Jobs of this front's sockets that have not ended: job → session (re-read after the
    /// relay reconnects, so a terminal status published meanwhile still arrives).
    tracked: Mutex<HashMap<String, String>>,
}

impl Front {
    /// Starts the relay (Redis → this front's sockets), the socket registrations and the
    /// sweepers (results; jobs of models no worker serves any more).
    pub fn start(bus: Arc<Bus>, blobs: Arc<Blobs>, jobs: Jobs, config: FrontConfig) -> Arc<Front> {
        let ttl = config.ttl;
        let front = Arc::new(Front { bus, blobs, jobs: jobs.clone(), config, watchers: Mutex::default(), tracked: Mutex::default() });
        {
            let bus = front.bus.clone();
            jobs.on_session(Box::new(move |sid, open| {
                // Recorded before the socket learns its id (a POST to another front may
                // follow at once), so the call blocks: off the async workers' duty.
                let record = || match open {
                    Some(owner) => bus.open_session(sid, owner, SESSION_TTL),
                    None => bus.close_session(sid),
                };
                let in_runtime = tokio::runtime::Handle::try_current()
                    .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
                let r = if in_runtime { tokio::task::block_in_place(record) } else { record() };
                if let Err(e) = r {
                    tracing::warn!(sid, "could not record a socket in Redis: {e}");
                }
            }));
        }
        let weak = Arc::downgrade(&front);
        spawn("relay", move || relay(weak));
        let weak = Arc::downgrade(&front);
        spawn("sessions", move || {
            while let Some(f) = weak.upgrade() {
                for (sid, owner) in f.jobs.sessions() {
                    let _ = f.bus.open_session(&sid, owner.as_deref(), SESSION_TTL);
                }
                drop(f);
                thread::sleep(SESSION_TTL / 3);
            }
        });
        let weak = Arc::downgrade(&front);
        let every = (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        spawn("results-sweeper", move || {
            while let Some(f) = weak.upgrade() {
                match f.blobs.sweep(f.config.ttl) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(results = n, "expired results deleted from the store"),
                    Err(e) => tracing::warn!("sweeping the result store: {e}"),
                }
                let ttl = f.config.ttl;
                lock(&f.watchers).retain(|_, (_, at)| at.elapsed() < ttl);
                drop(f);
                thread::sleep(every);
            }
        });
        let weak = Arc::downgrade(&front);
        spawn("orphan-sweeper", move || {
            let mut last_served: HashMap<String, Instant> = HashMap::new();
            let started = Instant::now();
            while let Some(f) = weak.upgrade() {
                f.end_orphans(&mut last_served, started);
                let every = (f.config.orphan_grace / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
                drop(f);
                thread::sleep(every);
            }
        });
        front
    }

    /// Ends the queued and running jobs of every model that no live worker has served for
    /// the grace time (its only worker died, or was removed): they would wait for ever.
    fn end_orphans(&self, last_served: &mut HashMap<String, Instant>, started: Instant) {
        let Ok(models) = self.bus.with(|c| redis::cmd("SMEMBERS").arg(self.bus.models_key()).query::<Vec<String>>(c)) else { return };
        let (live, _) = self.deployments();
        for repo in models {
            if live.contains(&repo) {
                last_served.insert(repo, Instant::now());
                continue;
            }
            let since = last_served.get(&repo).copied().unwrap_or(started);
            if since.elapsed() < self.config.orphan_grace {
                continue;
            }
            let stream = self.bus.stream(&repo);
            let entries: Vec<redis::streams::StreamId> = match self
                .bus
                .with(|c| redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").arg("COUNT").arg(100).query::<redis::streams::StreamRangeReply>(c))
            {
                Ok(r) => r.ids,
                Err(_) => continue,
            };
            for entry in entries {
                let Ok(ticket) = Ticket::from_entry(&entry) else {
                    let _ = self.bus.ack(&stream, &entry.id);
                    continue;
                };
                let text = format!("{EVICTED} (No worker of this cluster has served '{repo}' for {} s.)", self.config.orphan_grace.as_secs());
                let posted = Posted { update: Update::new(&ticket.id, Status::Error, &text), session: ticket.session, owner: ticket.owner, result_bytes: None };
                if self.bus.post(&posted, self.config.ttl).is_ok() {
                    let _ = self.bus.ack(&stream, &entry.id);
                    tracing::warn!(job = %ticket.id, repo, "ended a job no worker serves");
                }
            }
        }
    }

    /// The models live workers serve, and their `/status` entries.
    pub fn deployments(&self) -> (Vec<String>, serde_json::Map<String, serde_json::Value>) {
        let mut models = Vec::new();
        let mut entries = serde_json::Map::new();
        for w in self.bus.workers().unwrap_or_else(|e| {
            tracing::warn!("reading the worker registry: {e}");
            Vec::new()
        }) {
            for m in w["models"].as_array().into_iter().flatten().filter_map(|m| m.as_str()) {
                if !models.iter().any(|x| x == m) {
                    models.push(m.to_string());
                }
            }
            if let Some(d) = w["deployments"].as_object() {
                entries.extend(d.clone());
            }
        }
        models.sort();
        (models, entries)
    }

    /// The Hub listing of `repo` a live worker uploaded (`worker::hub_listing`).
    pub fn hub(&self, repo: &str) -> Option<serde_json::Value> {
        let workers = self.bus.workers().ok()?;
        workers.into_iter().find_map(|w| Some(w["hub"].get(repo)?.clone()))
    }

    /// `Err(text)` unless a live worker serves `repo`.
    pub fn serves(&self, repo: &str) -> Result<(), String> {
        let (models, _) = self.deployments();
        if models.iter().any(|m| m == repo) {
            return Ok(());
        }
        Err(format!(
            "{NOT_DEPLOYED} (No worker of this cluster serves '{repo}' now; served: {}.)",
            if models.is_empty() { "none".to_string() } else { models.join(", ") }
        ))
    }

    /// Whether socket `sid` is open on some front, for jobs of `owner`.
    pub fn session_open(&self, sid: &str, owner: Option<&str>) -> bool {
        match self.bus.session(sid) {
            Ok(Some(o)) => o.is_empty() || Some(o.as_str()) == owner,
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(sid, "reading a socket's registration: {e}");
                false
            }
        }
    }

    /// Queues a job for the workers of its model; returns its RECEIVED update.
    pub fn submit(&self, ticket: Ticket, watcher: Option<Arc<dyn Subscriber>>) -> Result<Update, String> {
        let received = Update::new(&ticket.id, Status::Received, status::RECEIVED);
        let post = |u: Update| Posted { update: u, session: ticket.session.clone(), owner: ticket.owner.clone(), result_bytes: None };
        let failed = |e: redis::RedisError| format!("Error submitting request to model deployment. Please try again later. Sorry for the inconvenience. ({e})");
        let waiting = self.bus.queue_len(&ticket.repo).map_err(failed)?;
        if waiting >= self.config.max_queue {
            return Err(format!("the queue of {} is full ({waiting} jobs waiting or running); try again later", ticket.repo));
        }
        if let Some(w) = watcher {
            lock(&self.watchers).insert(ticket.id.clone(), (w, Instant::now()));
        }
        // RECEIVED is the POST reply (a poll may see it); QUEUED goes out before the job
        // is on the queue, so it reaches sockets and callbacks before a worker's
        // DISPATCHED.
        let queued = Update::new(&ticket.id, Status::Queued, &status::queued(waiting + 1));
        let sent = self
            .bus
            .record(&post(received.clone()), self.config.ttl)
            .and_then(|()| self.bus.post(&post(queued), self.config.ttl))
            .and_then(|_| self.bus.enqueue(&ticket));
        if let Err(e) = sent {
            lock(&self.watchers).remove(&ticket.id);
            return Err(failed(e));
        }
        Ok(received)
    }

    /// Records an ERROR for a job refused before it was queued.
    pub fn refuse(&self, id: &str, description: &str, owner: Option<&str>) -> Update {
        let update = Update::new(id, Status::Error, description);
        let posted = Posted { update: update.clone(), session: None, owner: owner.map(str::to_string), result_bytes: None };
        if let Err(e) = self.bus.post(&posted, self.config.ttl) {
            tracing::warn!(job = id, "could not record a refusal in Redis: {e}");
        }
        update
    }

    /// The latest status of job `id` and the key that owns it.
    pub fn latest(&self, id: &str) -> Option<(Update, Option<String>)> {
        match self.bus.status(id) {
            Ok(p) => p.map(|p| (p.update, p.owner)),
            Err(e) => {
                tracing::warn!(job = id, "reading a status from Redis: {e}");
                None
            }
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    thread::Builder::new().name(name.into()).spawn(f).unwrap_or_else(|e| panic!("spawning the {name} thread: {e}"));
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Relays every published update to this front's socket of the job's session and to the
/// job's callback watcher; ends when the front is dropped. Reconnects after a Redis error
/// (noticed by a PING when the channel is quiet) and then re-reads the jobs of its sockets
/// that had not ended, so a terminal status published meanwhile is not lost.
fn relay(front: Weak<Front>) {
    let mut backoff = Duration::from_millis(100);
    let mut reconnected = false;
    loop {
        let Some(f) = front.upgrade() else { return };
        let (bus, channel) = (f.bus.clone(), f.bus.channel());
        drop(f);
        let mut conn = match bus.dedicated(Duration::from_secs(1)) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("relay: cannot reach Redis ({e}); retrying");
                thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
                reconnected = true;
                continue;
            }
        };
        let mut pubsub = conn.as_pubsub();
        if let Err(e) = pubsub.subscribe(&channel) {
            tracing::warn!("relay: cannot subscribe ({e}); retrying");
            thread::sleep(backoff);
            reconnected = true;
            continue;
        }
        backoff = Duration::from_millis(100);
        if reconnected && let Some(f) = front.upgrade() {
            f.resync();
        }
        let mut quiet = 0;
        loop {
            let msg = match pubsub.get_message() {
                Ok(m) => m,
                Err(e) if e.is_timeout() => {
                    if front.strong_count() == 0 {
                        return;
                    }
                    quiet += 1;
                    // A half-open connection never errors on its own: ask.
                    if quiet % 5 == 0 && pubsub.ping::<redis::Value>().is_err() {
                        tracing::warn!("relay: Redis does not answer; reconnecting");
                        break;
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!("relay: lost Redis ({e}); reconnecting");
                    break;
                }
            };
            quiet = 0;
            let Some(f) = front.upgrade() else { return };
            match Posted::from_json(msg.get_payload_bytes()) {
                Some(p) => f.relay_one(p),
                None => tracing::warn!("relay: an update that is not a localndif update was published on {channel}"),
            }
        }
        reconnected = true;
        let pause = front.upgrade().map(|f| f.config.relay_pause).unwrap_or_default();
        thread::sleep(pause);
    }
}

impl Front {
    fn relay_one(self: &Arc<Self>, p: Posted) {
        let Posted { update, session, result_bytes, .. } = p;
        let terminal = update.status.is_terminal();
        let watcher = if terminal {
            lock(&self.watchers).remove(&update.id).map(|(w, _)| w)
        } else {
            lock(&self.watchers).get(&update.id).map(|(w, _)| w.clone())
        };
        let session = session.filter(|s| self.jobs.is_subscribed(s));
        match (&session, terminal) {
            (Some(s), false) => {
                lock(&self.tracked).insert(update.id.clone(), s.clone());
            }
            (_, true) => {
                lock(&self.tracked).remove(&update.id);
            }
            _ => {}
        }
        if session.is_none() && watcher.is_none() {
            return;
        }
        if update.status == Status::Completed && session.is_some() && result_bytes.is_some_and(|n| n <= self.config.inline_max) {
            // The result is fetched off the relay thread (the other jobs' updates go on);
            // COMPLETED is the job's last update, so its order is kept.
            let front = self.clone();
            spawn("inline-result", move || {
                let mut update = update;
                match front.blobs.get(&update.id) {
                    Ok(blob) => update.inline = blob,
                    Err(e) => tracing::warn!(job = %update.id, "fetching a result to send inline: {e}"),
                }
                front.jobs.deliver(session.as_deref(), watcher, update);
            });
            return;
        }
        self.jobs.deliver(session.as_deref(), watcher, update);
    }

    /// After the relay reconnects: the terminal statuses of this front's sockets' jobs
    /// that were published while it was away.
    fn resync(self: &Arc<Self>) {
        let jobs: Vec<(String, String)> = lock(&self.tracked).iter().map(|(j, s)| (j.clone(), s.clone())).collect();
        for (job, _) in jobs {
            if let Ok(Some(p)) = self.bus.status(&job)
                && p.update.status.is_terminal()
            {
                self.relay_one(p);
            }
        }
    }
}
