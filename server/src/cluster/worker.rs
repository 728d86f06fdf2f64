//! A worker (`localndif worker`): takes the jobs of the models it loaded from their Redis
//! streams, runs them on this process's executors exactly as a single server does, stores
//! each result in the object store and its statuses in Redis, and only then acknowledges
//! the job. While a job runs its lease is renewed; a worker that dies stops renewing, and
//! after the lease another worker reclaims the job and runs it again (at most
//! `max_tries` runs, then an ERROR says why).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};

use super::blobs::Blobs;
use super::bus::{Bus, GROUP, Posted, Ticket, unix_ms};
use crate::jobs::{Jobs, Status, Subscriber, Update, Work};
use crate::model::Registry;
use crate::value::ctx::Caps;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// This worker's consumer name (unique in the cluster).
    pub id: String,
    /// A job whose worker has not renewed it for this long is given to another worker.
    pub lease: Duration,
    /// Runs a job may start before it ends with an ERROR instead.
    pub max_tries: usize,
    /// How long statuses are kept in Redis.
    pub ttl: Duration,
    /// Jobs taken at once (the executors' count).
    pub slots: usize,
    /// Test only: each job waits this long before it runs (`worker --test-job-delay-ms`).
    pub delay: Duration,
}

pub struct Worker {
    bus: Arc<Bus>,
    blobs: Arc<Blobs>,
    jobs: Jobs,
    registry: Arc<Registry>,
    caps: Caps,
    config: WorkerConfig,
    /// Jobs taken and not yet ended: job id → (stream, entry id).
    inflight: Mutex<HashMap<String, (String, String)>>,
    stopping: AtomicBool,
    /// Set when [`Worker::stop`] returns: leases are no longer renewed.
    stopped: AtomicBool,
    /// `/status` entries of the models served here.
    deployments: serde_json::Map<String, serde_json::Value>,
    /// The Hub listing of each model served here (see [`hub_listing`]).
    hub: serde_json::Value,
}

/// Uploads the files of every served model that the store does not have yet (keyed by
/// their ETag) and lists them as fronts serve them on the Hub endpoint.
pub fn hub_listing(registry: &Registry, blobs: &Blobs) -> anyhow::Result<serde_json::Value> {
    use crate::model::repo::Content;
    let mut out = serde_json::Map::new();
    for m in registry.iter() {
        let mut files = Vec::new();
        for f in &m.repo.files {
            let key = Blobs::hub_key(&m.repo_id, &f.etag);
            if !blobs.exists(&key)? {
                match &f.content {
                    Content::Static(b) => blobs.put_bytes(&key, bytes::Bytes::from_static(b))?,
                    Content::Path(p) => blobs.put_file(&key, p)?,
                }
                tracing::info!(repo = %m.repo_id, file = %f.name, bytes = f.size, "uploaded a model file for the fronts' Hub endpoint");
            }
            files.push(serde_json::json!({"name": f.name, "size": f.size, "etag": f.etag}));
        }
        out.insert(
            m.repo_id.clone(),
            serde_json::json!({"commit": m.repo.commit, "config": m.config, "n_params": m.n_params(), "files": files}),
        );
    }
    Ok(serde_json::Value::Object(out))
}

impl Worker {
    /// Joins the consumer groups of the served models and starts taking jobs.
    pub fn start(
        bus: Arc<Bus>,
        blobs: Arc<Blobs>,
        jobs: Jobs,
        registry: Arc<Registry>,
        caps: Caps,
        config: WorkerConfig,
        deployments: serde_json::Map<String, serde_json::Value>,
    ) -> anyhow::Result<Arc<Worker>> {
        for repo in registry.repo_ids() {
            bus.ensure_group(repo).map_err(|e| anyhow::anyhow!("creating the consumer group of {}: {e}", bus.stream(repo)))?;
        }
        let hub = hub_listing(&registry, &blobs)?;
        let worker = Arc::new(Worker {
            hub,
            bus,
            blobs,
            jobs,
            registry,
            caps,
            config,
            inflight: Mutex::default(),
            stopping: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            deployments,
        });
        worker.register()?;
        let w = worker.clone();
        thread::Builder::new().name("heartbeat".into()).spawn(move || {
            // While stopping, the jobs still running keep their leases (the drain may
            // outlast a lease); the registration lapses.
            while !w.stopped.load(Ordering::SeqCst) {
                if !w.stopping.load(Ordering::SeqCst)
                    && let Err(e) = w.register()
                {
                    tracing::warn!("worker heartbeat: {e}");
                }
                w.renew();
                thread::sleep((w.config.lease / 3).max(Duration::from_millis(100)));
            }
        })?;
        let w = worker.clone();
        thread::Builder::new().name("intake".into()).spawn(move || w.intake())?;
        Ok(worker)
    }

    /// Stops taking jobs, waits up to `drain` for those taken to end, and leaves the
    /// registry. Jobs still unfinished are reclaimed by another worker after the lease.
    pub fn stop(&self, drain: Duration) -> usize {
        self.stopping.store(true, Ordering::SeqCst);
        // Fronts stop sending this worker's models jobs it would not take (other workers
        // of the same models still do).
        let _ = self.bus.unregister_worker(&self.config.id);
        let deadline = Instant::now() + drain;
        while !lock(&self.inflight).is_empty() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.bus.unregister_worker(&self.config.id);
        self.stopped.store(true, Ordering::SeqCst);
        let left = lock(&self.inflight).len();
        if left == 0 {
            // A consumer name per worker process: remove ours, unless it still holds
            // entries (deleting it would drop them from the pending list).
            for repo in self.registry.repo_ids() {
                let stream = self.bus.stream(repo);
                let _ = self.bus.with(|c| {
                    let pending: redis::streams::StreamPendingCountReply =
                        redis::cmd("XPENDING").arg(&stream).arg(GROUP).arg("-").arg("+").arg(1).arg(&self.config.id).query(c)?;
                    if pending.ids.is_empty() {
                        redis::cmd("XGROUP").arg("DELCONSUMER").arg(&stream).arg(GROUP).arg(&self.config.id).query::<i64>(c)?;
                    }
                    Ok(())
                });
            }
        }
        left
    }

    /// Writes this worker's record (models, `/status` entries), expiring unless renewed.
    fn register(&self) -> anyhow::Result<()> {
        let record = serde_json::json!({
            "worker": self.config.id,
            "models": self.registry.repo_ids(),
            "deployments": self.deployments,
            "hub": self.hub,
            "slots": self.config.slots,
            "running": lock(&self.inflight).len(),
        });
        self.bus.register_worker(&self.config.id, record, (self.config.lease * 3).max(Duration::from_secs(1)))?;
        Ok(())
    }

    /// Renews the lease of every job taken (resets its idle time; no new delivery).
    fn renew(&self) {
        let taken: Vec<(String, String)> = lock(&self.inflight).values().cloned().collect();
        for (stream, entry) in taken {
            let r = self.bus.with(|c| {
                redis::cmd("XCLAIM").arg(&stream).arg(GROUP).arg(&self.config.id).arg(0).arg(&entry).arg("JUSTID").query::<Vec<String>>(c)
            });
            if let Err(e) = r {
                tracing::warn!(entry, "renewing a job's lease: {e}");
            }
        }
    }

    fn free_slots(&self) -> usize {
        self.config.slots.saturating_sub(lock(&self.inflight).len())
    }

    fn intake(self: Arc<Self>) {
        let repos: Vec<String> = self.registry.repo_ids().iter().map(|r| r.to_string()).collect();
        let streams: Vec<String> = repos.iter().map(|r| self.bus.stream(r)).collect();
        // Where each stream's reclaim scan goes on (XAUTOCLAIM looks at a bounded number
        // of pending entries per call).
        let mut cursors: Vec<String> = vec!["0-0".into(); streams.len()];
        let lease_ms = self.config.lease.as_millis() as u64;
        let mut conn = None;
        let mut backoff = Duration::from_millis(100);
        while !self.stopping.load(Ordering::SeqCst) {
            if self.free_slots() == 0 {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            let c = match &mut conn {
                Some(c) => c,
                None => match self.bus.dedicated(Duration::from_secs(5)) {
                    Ok(c) => conn.insert(c),
                    Err(e) => {
                        tracing::warn!("worker: cannot reach Redis ({e}); retrying");
                        thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                },
            };
            let mut failed: Option<redis::RedisError> = None;
            // Jobs of dead workers first: they have waited longest.
            let mut took = false;
            for (i, stream) in streams.iter().enumerate() {
                if self.free_slots() == 0 {
                    break;
                }
                let claimed: redis::RedisResult<StreamAutoClaimReply> = redis::cmd("XAUTOCLAIM")
                    .arg(stream).arg(GROUP).arg(&self.config.id).arg(lease_ms).arg(&cursors[i]).arg("COUNT").arg(1)
                    .query(c);
                match claimed {
                    Ok(reply) => {
                        cursors[i] = reply.next_stream_id.clone();
                        for gone in &reply.deleted_ids {
                            let _ = self.bus.ack(stream, gone);
                        }
                        for entry in reply.claimed {
                            tracing::warn!(entry = %entry.id, "reclaimed a job whose worker stopped renewing it");
                            self.take(stream, &entry, true);
                            took = true;
                        }
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if failed.is_none() && !took {
                let mut cmd = redis::cmd("XREADGROUP");
                cmd.arg("GROUP").arg(GROUP).arg(&self.config.id).arg("COUNT").arg(1).arg("BLOCK").arg(500).arg("STREAMS");
                for s in &streams {
                    cmd.arg(s);
                }
                for _ in &streams {
                    cmd.arg(">");
                }
                match cmd.query::<Option<StreamReadReply>>(c) {
                    Ok(Some(reply)) => {
                        for key in reply.keys {
                            for entry in key.ids {
                                self.take(&key.key, &entry, false);
                            }
                        }
                    }
                    Ok(None) => {}
                    Err(e) => failed = Some(e),
                }
            }
            match failed {
                None => backoff = Duration::from_millis(100),
                Some(e) => {
                    tracing::warn!("worker: reading the job streams: {e}");
                    if e.code() == Some("NOGROUP") {
                        // Redis lost the group (restarted without persistence, flushed):
                        // make it again.
                        for repo in &repos {
                            let _ = self.bus.ensure_group(repo);
                        }
                    } else {
                        conn = None;
                    }
                    thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// How many times an entry has been handed to a worker.
    fn deliveries(&self, stream: &str, entry: &str) -> usize {
        let pending: redis::RedisResult<redis::streams::StreamPendingCountReply> =
            self.bus.with(|c| redis::cmd("XPENDING").arg(stream).arg(GROUP).arg(entry).arg(entry).arg(1).query(c));
        pending.ok().and_then(|p| p.ids.first().map(|i| i.times_delivered)).unwrap_or(1)
    }

    /// Ends a taken entry at once with an ERROR (when it cannot be run).
    fn end(&self, stream: &str, entry: &str, ticket: &Ticket, description: String) {
        let posted = Posted {
            update: Update::new(&ticket.id, Status::Error, &description),
            session: ticket.session.clone(),
            owner: ticket.owner.clone(),
            result_bytes: None,
        };
        match self.bus.post(&posted, self.config.ttl) {
            Ok(_) => {
                let _ = self.bus.ack(stream, entry);
            }
            Err(e) => tracing::warn!(job = %ticket.id, "could not store an ERROR status: {e}"),
        }
    }

    fn take(self: &Arc<Self>, stream: &str, entry: &StreamId, reclaimed: bool) {
        let ticket = match Ticket::from_entry(entry) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("dropping a queue entry no front wrote: {e}");
                let _ = self.bus.ack(stream, &entry.id);
                return;
            }
        };
        // A job that ended (its acknowledgement was lost) is not run again.
        if self.bus.ended(&ticket.id).unwrap_or(false) {
            let _ = self.bus.ack(stream, &entry.id);
            return;
        }
        if reclaimed {
            let tries = self.deliveries(stream, &entry.id);
            if tries > self.config.max_tries {
                let text = format!(
                    "The job was started {} times, and each time the worker running it stopped (died or lost Redis) before it ended; it is not tried again. Sorry for the inconvenience.",
                    tries - 1
                );
                self.end(stream, &entry.id, &ticket, text);
                return;
            }
        }
        // The front already held the request to its limits.
        let unlimited = crate::request::Limits { max_bytes: usize::MAX, budget: None };
        let req = match ticket.submission.decode(&unlimited) {
            Ok(r) => r,
            Err(e) => return self.end(stream, &entry.id, &ticket, format!("The request could not be read: {e}")),
        };
        let Some(served) = self.registry.get(&ticket.repo) else {
            return self.end(stream, &entry.id, &ticket, format!("{} (this worker does not serve '{}')", super::front::NOT_DEPLOYED, ticket.repo));
        };
        let waited = Duration::from_millis(unix_ms().saturating_sub(ticket.received_ms));
        let received = Instant::now().checked_sub(waited).unwrap_or_else(Instant::now);
        let sink = Arc::new(Sink {
            worker: self.clone(),
            stream: stream.to_string(),
            entry: entry.id.clone(),
            session: ticket.session.clone(),
            owner: ticket.owner.clone(),
        });
        lock(&self.inflight).insert(ticket.id.clone(), (stream.to_string(), entry.id.clone()));
        let (caps, delay) = (self.caps, self.config.delay);
        let work = Work {
            id: ticket.id.clone(),
            session: None,
            watcher: Some(sink),
            stream: false,
            run: Box::new(move |ctl| {
                let until = Instant::now() + delay;
                while Instant::now() < until && !ctl.cancel.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(5).min(until.saturating_duration_since(Instant::now())));
                }
                crate::job::execute(&req, &served, caps, ctl)
            }),
            result_url: ticket.result_url.clone(),
            model: ticket.repo.clone(),
            owner: ticket.owner.clone(),
            received,
        };
        if let Err(e) = self.jobs.submit(work) {
            // Left pending: another worker (or this one) takes it after the lease.
            lock(&self.inflight).remove(&ticket.id);
            tracing::warn!(job = %ticket.id, "could not take a job: {e}");
        }
    }
}

/// Where the executors' updates of one taken job go: Redis (statuses, the channel) and the
/// object store (the result); the terminal one acknowledges the job.
struct Sink {
    worker: Arc<Worker>,
    stream: String,
    entry: String,
    session: Option<String>,
    owner: Option<String>,
}

impl Subscriber for Sink {
    fn send(&self, update: &Update) -> bool {
        let w = &self.worker;
        // The front posted QUEUED with the cluster's queue position.
        if update.status == Status::Queued {
            return true;
        }
        let mut update = update.clone();
        let mut result_bytes = None;
        if update.status == Status::Completed
            && let Some(blob) = update.inline.take()
        {
            result_bytes = Some(blob.len());
            if let Err(e) = w.blobs.put(&update.id, blob) {
                tracing::error!(job = %update.id, "storing the result: {e}");
                update = Update::new(&update.id, Status::Error, &format!("The job completed but its result could not be stored: {e}"));
                result_bytes = None;
            }
        }
        // Which worker ran it (an extra key of NDIF's meta, for operators and tests).
        if let Some(serde_json::Value::Object(meta)) = &mut update.meta {
            meta.insert("worker".into(), serde_json::Value::String(w.config.id.clone()));
        }
        let terminal = update.status.is_terminal();
        let id = update.id.clone();
        let posted = Posted { update, session: self.session.clone(), owner: self.owner.clone(), result_bytes };
        match w.bus.post(&posted, w.config.ttl) {
            Ok(_) if terminal => {
                if let Err(e) = w.bus.ack(&self.stream, &self.entry) {
                    tracing::warn!(job = %id, "acknowledging a finished job: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(job = %id, status = posted.update.status.as_str(), "storing a status in Redis: {e}"),
        }
        if terminal {
            // Not acknowledged if the status could not be stored: the job is run again
            // after the lease.
            lock(&w.inflight).remove(&id);
        }
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
