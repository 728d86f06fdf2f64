//! Jobs: ids, the queue and its single executor thread, statuses with NDIF's texts
//! (protocol.md §4.2), fan-out of updates to whoever subscribed (a G2 WebSocket today, a G1
//! socket.io sid next), the latest status per job for polling, and the result store.
//! Knows nothing of HTTP: transports register a [`Subscriber`] under a session id.

pub mod status;
mod store;

pub use status::{Data, Status, Update};
pub use store::ResultStore;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

/// Receives the updates of the jobs submitted under one session (a subscribed socket).
pub trait Subscriber: Send + Sync {
    /// Delivers one update; `false` if the subscriber is gone.
    fn send(&self, update: &Update) -> bool;
}

/// A job's body: runs it, reporting LOG lines through the callback; returns the result
/// blob (already encoded for the client) or the ERROR description.
pub type JobFn = Box<dyn FnOnce(&mut dyn FnMut(String)) -> Result<Vec<u8>, String> + Send>;

/// What the executor needs to run one job; produced by the transport layer.
pub struct Work {
    pub id: String,
    pub session: Option<String>,
    pub run: JobFn,
    /// Where the client downloads the result (`{base}/results/{id}`).
    pub result_url: String,
}

/// The job system's handle: cheap to clone, shared by all routes.
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

struct Inner {
    subscribers: Mutex<HashMap<String, Arc<dyn Subscriber>>>,
    latest: Mutex<HashMap<String, Update>>,
    queue: Mutex<VecDeque<Work>>,
    wake: Condvar,
    max_queue: usize,
    results: ResultStore,
}

/// Why a job could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the queue is full ({0} jobs waiting); try again later")]
    QueueFull(usize),
}

impl Jobs {
    /// Starts the executor thread; jobs run one at a time, in submission order.
    pub fn start(max_queue: usize) -> Jobs {
        let jobs = Jobs {
            inner: Arc::new(Inner {
                subscribers: Mutex::default(),
                latest: Mutex::default(),
                queue: Mutex::default(),
                wake: Condvar::new(),
                max_queue,
                results: ResultStore::default(),
            }),
        };
        let worker = jobs.clone();
        thread::Builder::new()
            .name("executor".into())
            // The executor parses user source (exec.rs).
            .stack_size(crate::interp::STACK_SIZE)
            .spawn(move || worker.execute_forever())
            .expect("spawning the executor thread");
        jobs
    }

    pub fn new_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    pub fn subscribe(&self, session: &str, subscriber: Arc<dyn Subscriber>) {
        lock(&self.inner.subscribers).insert(session.to_string(), subscriber);
    }

    pub fn is_subscribed(&self, session: &str) -> bool {
        lock(&self.inner.subscribers).contains_key(session)
    }

    pub fn unsubscribe(&self, session: &str) {
        lock(&self.inner.subscribers).remove(session);
    }

    pub fn results(&self) -> &ResultStore {
        &self.inner.results
    }

    /// The latest non-LOG update of a job (for `GET /response/{id}`).
    pub fn latest(&self, id: &str) -> Option<Update> {
        lock(&self.inner.latest).get(id).cloned()
    }

    /// Queues a job and returns its RECEIVED update (the POST reply). QUEUED follows on the
    /// subscriber once the reply is on its way.
    pub fn submit(&self, work: Work) -> Result<Update, SubmitError> {
        let received = Update::new(&work.id, Status::Received, status::RECEIVED);
        let mut queue = lock(&self.inner.queue);
        if queue.len() >= self.inner.max_queue {
            return Err(SubmitError::QueueFull(queue.len()));
        }
        lock(&self.inner.latest).insert(work.id.clone(), received.clone());
        let (id, session) = (work.id.clone(), work.session.clone());
        queue.push_back(work);
        let position = queue.len();
        drop(queue);
        self.publish(
            session.as_deref(),
            Update::new(&id, Status::Queued, &status::queued(position)),
        );
        self.inner.wake.notify_one();
        Ok(received)
    }

    /// Records and delivers one update.
    fn publish(&self, session: Option<&str>, update: Update) {
        if update.status != Status::Log {
            lock(&self.inner.latest).insert(update.id.clone(), update.clone());
        }
        if let Some(s) = session {
            let sub = lock(&self.inner.subscribers).get(s).cloned();
            if let Some(sub) = sub
                && !sub.send(&update)
            {
                self.unsubscribe(s);
            }
        }
    }

    fn execute_forever(&self) {
        loop {
            let work = {
                let mut queue = lock(&self.inner.queue);
                loop {
                    if let Some(w) = queue.pop_front() {
                        break w;
                    }
                    queue = self
                        .inner
                        .wake
                        .wait(queue)
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                }
            };
            self.execute(work);
        }
    }

    /// Runs one job to exactly one terminal status, even if the job panics.
    fn execute(&self, work: Work) {
        let Work {
            id,
            session,
            run,
            result_url,
        } = work;
        let session = session.as_deref();
        self.publish(
            session,
            Update::new(&id, Status::Dispatched, status::DISPATCHED),
        );
        self.publish(session, Update::new(&id, Status::Running, status::RUNNING));
        let mut log = |text: String| {
            // G2 LOGs are whole printed lines (protocol.md §4.2).
            let line = text.strip_suffix('\n').unwrap_or(&text).to_string();
            self.publish(session, Update::new(&id, Status::Log, &line));
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut log)))
            .unwrap_or_else(|_| {
                Err("InternalError (a localndif bug): the job's executor panicked".to_string())
            });
        match outcome {
            Ok(blob) => {
                self.inner.results.put(&id, blob);
                let mut done = Update::new(&id, Status::Completed, status::COMPLETED);
                done.data = Data::Url(result_url);
                self.publish(session, done);
            }
            Err(description) => {
                self.publish(session, Update::new(&id, Status::Error, &description))
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
