//! The job lifecycle seen by a subscriber: statuses in NDIF's order with its texts, exactly
//! one terminal update, LOG lines in order, and ERROR (never silence) when a job panics.

use std::sync::mpsc;
use std::time::Duration;

use super::*;

struct Recorder(Mutex<mpsc::Sender<Update>>);

impl Subscriber for Recorder {
    fn send(&self, update: &Update) -> bool {
        lock(&self.0).send(update.clone()).is_ok()
    }
}

/// A job `id` with body `run`, blocking on `session` (or polled).
fn work(id: &str, session: Option<&str>, run: JobFn) -> Work {
    Work {
        id: id.to_string(),
        session: session.map(str::to_string),
        watcher: None,
        stream: false,
        run,
        result_url: format!("http://x/results/{id}"),
        model: String::new(),
        owner: None,
        received: std::time::Instant::now(),
    }
}

/// Collects a session's updates until its job's terminal one (bounded wait, no sleeps).
fn transcript(jobs: &Jobs, session: &str, run: JobFn) -> (Update, Vec<Update>) {
    let (tx, rx) = mpsc::channel();
    jobs.subscribe(session, Arc::new(Recorder(Mutex::new(tx))));
    let id = Jobs::new_id();
    let received = jobs
        .submit(work(&id, Some(session), run))
        .unwrap();
    let mut seen = Vec::new();
    loop {
        let u = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the job must end");
        assert_eq!(u.id, id);
        let done = u.status.is_terminal();
        seen.push(u);
        if done {
            break;
        }
    }
    (received, seen)
}

fn config(max_queue: usize) -> ExecConfig {
    ExecConfig { max_queue, ..ExecConfig::default() }
}

fn statuses(updates: &[Update]) -> Vec<(Status, String)> {
    updates
        .iter()
        .map(|u| (u.status, u.description.clone()))
        .collect()
}

#[test]
fn a_completed_job_reports_ndif_statuses_in_order() {
    let jobs = Jobs::start(config(10));
    let (received, seen) = transcript(
        &jobs,
        "s1",
        Box::new(|ctl| {
            (ctl.log)("first".into());
            (ctl.log)("second".into());
            Ok(vec![1, 2, 3])
        }),
    );
    assert_eq!(
        (received.status, received.description.as_str()),
        (Status::Received, status::RECEIVED)
    );
    assert_eq!(
        statuses(&seen),
        [
            (Status::Queued, "Moved to position 1 in Queue.".to_string()),
            (Status::Dispatched, status::DISPATCHED.to_string()),
            (Status::Running, status::RUNNING.to_string()),
            (Status::Log, "first".to_string()),
            (Status::Log, "second".to_string()),
            (Status::Completed, status::COMPLETED.to_string()),
        ]
    );
    let done = seen.last().unwrap();
    assert_eq!(
        done.data,
        Data::Url(format!("http://x/results/{}", done.id))
    );
    assert_eq!(
        jobs.results().get(&done.id, std::time::Instant::now()).ok().as_deref(),
        Some(&[1u8, 2, 3][..])
    );
    assert_eq!(jobs.latest(&done.id).unwrap().status, Status::Completed);
}

#[test]
fn a_failing_or_panicking_job_ends_in_one_error() {
    let jobs = Jobs::start(config(10));
    let (_, seen) = transcript(&jobs, "s2", Box::new(|_| Err("ValueError: boom".into())));
    assert_eq!(seen.iter().filter(|u| u.status.is_terminal()).count(), 1);
    assert_eq!(
        statuses(&seen).last().unwrap(),
        &(Status::Error, "ValueError: boom".to_string())
    );
    let (_, seen) = transcript(&jobs, "s3", Box::new(|_| panic!("worker bug")));
    let last = seen.last().unwrap();
    assert_eq!(last.status, Status::Error);
    assert!(
        last.description.contains("panicked"),
        "{}",
        last.description
    );
    // /metrics counts the localndif bugs (the panic, and an InternalError a job reported),
    // not a user's error that merely quotes the words.
    transcript(&jobs, "s4", Box::new(|_| Err(format!("Traceback ...\n{INTERNAL_ERROR}: a torch operation panicked"))));
    transcript(&jobs, "s5", Box::new(|_| Err(format!("ValueError: {INTERNAL_ERROR}"))));
    let line = jobs.metrics_text().lines().find(|l| l.starts_with("localndif_internal_errors_total")).map(str::to_string);
    assert_eq!(line.as_deref(), Some("localndif_internal_errors_total 2"));
}

#[test]
fn json_frames_have_the_client_schema() {
    let mut u = Update::new("abc", Status::Completed, status::COMPLETED);
    u.data = Data::Url("http://h/results/abc".into());
    let v: serde_json::Value = serde_json::from_str(&u.to_json()).unwrap();
    assert_eq!(v["status"], "COMPLETED");
    assert_eq!(v["data"], "http://h/results/abc");
    let v: serde_json::Value =
        serde_json::from_str(&Update::new("abc", Status::Running, status::RUNNING).to_json())
            .unwrap();
    assert!(v["data"].is_null());
    assert_eq!(v["description"], status::RUNNING);
}

#[test]
fn a_full_queue_refuses_new_jobs() {
    let jobs = Jobs::start(config(1));
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let block = |rx: mpsc::Receiver<()>| -> JobFn {
        Box::new(move |_| {
            let _ = rx.recv();
            Ok(vec![])
        })
    };
    let polled = |run| work(&Jobs::new_id(), None, run);
    // One job occupies the executor, one waits; the next is refused.
    let (started_tx, started_rx) = mpsc::channel();
    jobs.submit(polled(Box::new(move |_| {
        started_tx.send(()).unwrap();
        let _ = gate_rx.recv();
        Ok(vec![])
    })))
    .unwrap();
    started_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let (_keep, rx2) = mpsc::channel();
    jobs.submit(polled(block(rx2))).unwrap();
    let (_keep3, rx3) = mpsc::channel();
    let err = jobs.submit(polled(block(rx3))).unwrap_err();
    assert!(err.to_string().contains("queue is full"), "{err}");
    gate_tx.send(()).unwrap();
}

/// The G1 socket frame is `torch.save` of NDIF's status dict, every field present and
/// `status` a plain string (so the client's unpickler needs only builtins).
#[test]
fn g1_frames_are_ndifs_status_dicts() {
    let mut done = Update::new("J", Status::Completed, status::COMPLETED);
    done.data = Data::Url("http://h/results/J".into());
    let frame = done.g1_frame(Some("S"));
    let (g, _) = localndif_wire::torch::torch_load(&frame).unwrap();
    let Some(localndif_wire::pickle::Node::Dict(items)) = g.node(g.root) else { panic!("not a dict") };
    let keys: Vec<&str> = items.iter().map(|(k, _)| g.as_str(*k).unwrap()).collect();
    assert_eq!(keys, ["id", "status", "description", "data", "session_id", "callback"]);
    let text = |k: &str| g.dict_get(g.root, k).and_then(|n| g.as_str(n)).map(str::to_string);
    assert_eq!(text("status").as_deref(), Some("COMPLETED"));
    assert_eq!(text("data").as_deref(), Some("http://h/results/J"));
    assert_eq!(text("session_id").as_deref(), Some("S"));
    assert_eq!(text("callback").as_deref(), Some(""));
}

/// A job submitted under `session` whose body waits for `go` (then finishes with `[7]`,
/// or stops when cancelled), telling `started` when it runs.
fn held_job(jobs: &Jobs, session: &str, started: mpsc::Sender<()>, go: mpsc::Receiver<()>) -> String {
    held_job_ending(jobs, session, started, go, mpsc::channel().0)
}

/// [`held_job`] that also tells `ended` when its body returns.
fn held_job_ending(jobs: &Jobs, session: &str, started: mpsc::Sender<()>, go: mpsc::Receiver<()>, ended: mpsc::Sender<()>) -> String {
    let id = Jobs::new_id();
    let run: JobFn = Box::new(move |ctl| {
            let _ = started.send(());
            let out = loop {
                if go.recv_timeout(Duration::from_millis(10)).is_ok() {
                    break Ok(vec![7]);
                }
                if ctl.cancel.load(Ordering::SeqCst) {
                    break Err("cancelled".into());
                }
            };
            let _ = ended.send(());
            out
        });
    jobs.submit(work(&id, Some(session), run)).unwrap();
    id
}

fn terminal(rx: &mpsc::Receiver<Update>, id: &str) -> Update {
    loop {
        let u = rx.recv_timeout(Duration::from_secs(30)).expect("a terminal status must come");
        if u.id == id && u.status.is_terminal() {
            return u;
        }
    }
}

#[test]
fn a_shutdown_ends_queued_jobs_lets_running_ones_finish_and_refuses_new_ones() {
    let jobs = Jobs::start(ExecConfig { workers: 1, ..config(10) });
    let (tx, rx) = mpsc::channel();
    jobs.subscribe("s", Arc::new(Recorder(Mutex::new(tx))));
    let (started_tx, started) = mpsc::channel();
    let (go_tx, go) = mpsc::channel();
    let running = held_job(&jobs, "s", started_tx.clone(), go);
    started.recv_timeout(Duration::from_secs(30)).expect("the first job starts");
    let (_, never) = mpsc::channel();
    let queued = held_job(&jobs, "s", started_tx, never);
    // The running job finishes while the shutdown waits for it: only once the drain has
    // begun (no job is taken any more), or the worker could take the queued job first.
    let closing = jobs.clone();
    let finisher = std::thread::spawn(move || {
        while !closing.closing() {
            std::thread::yield_now();
        }
        let _ = go_tx.send(());
    });
    let drained = jobs.shutdown(Duration::from_secs(30));
    finisher.join().unwrap();
    assert_eq!(drained, Drained { queued: 1, finished: 1, cut: 0 });
    let q = terminal(&rx, &queued);
    assert_eq!((q.status, q.description.as_str()), (Status::Error, SHUTTING_DOWN));
    assert_eq!(terminal(&rx, &running).status, Status::Completed);
    let refused = jobs.submit(work(&Jobs::new_id(), None, Box::new(|_| Ok(vec![]))));
    assert!(matches!(refused, Err(SubmitError::ShuttingDown)));
}

#[test]
fn a_job_still_running_after_the_drain_time_ends_with_one_error() {
    let jobs = Jobs::start(ExecConfig { workers: 1, ..config(10) });
    let (tx, rx) = mpsc::channel();
    jobs.subscribe("s", Arc::new(Recorder(Mutex::new(tx))));
    let (started_tx, started) = mpsc::channel();
    let (_go_tx, go) = mpsc::channel();
    let (ended_tx, ended) = mpsc::channel();
    let id = held_job_ending(&jobs, "s", started_tx, go, ended_tx);
    started.recv_timeout(Duration::from_secs(30)).expect("the job starts");
    let drained = jobs.shutdown(Duration::ZERO);
    assert_eq!(drained, Drained { queued: 0, finished: 0, cut: 1 });
    let t = terminal(&rx, &id);
    assert_eq!((t.status, t.description.as_str()), (Status::Error, SHUTTING_DOWN));
    // The job saw the cancel and ended; its own outcome is not published a second time.
    ended.recv_timeout(Duration::from_secs(30)).expect("the cancelled job ends");
    assert_eq!(jobs.latest(&id).map(|u| u.description), Some(SHUTTING_DOWN.to_string()));
    assert!(rx.try_iter().all(|u| !(u.id == id && u.status.is_terminal())), "a second terminal status");
}

#[test]
fn final_statuses_expire_with_the_results() {
    let jobs = Jobs::start(ExecConfig {
        store: StoreConfig { ttl: Duration::from_secs(60), budget: 1 << 20, disk: None },
        ..config(10)
    });
    let (_, seen) = transcript(&jobs, "s", Box::new(|_| Ok(vec![1])));
    let id = seen.last().unwrap().id.clone();
    let now = std::time::Instant::now();
    jobs.sweep(now);
    assert!(jobs.latest(&id).is_some() && jobs.results().get(&id, now).is_ok());
    jobs.sweep(now + Duration::from_secs(61));
    assert!(jobs.latest(&id).is_none(), "the final status is dropped after the TTL");
    assert_eq!(jobs.results().get(&id, now + Duration::from_secs(61)), Err(Gone::Expired));
}

#[test]
fn a_client_that_goes_away_stops_its_blocking_jobs() {
    let jobs = Jobs::start(ExecConfig { workers: 1, ..config(10) });
    let (tx, _rx) = mpsc::channel();
    jobs.subscribe("gone", Arc::new(Recorder(Mutex::new(tx))));
    let (started_tx, started) = mpsc::channel();
    let (_go_tx, go) = mpsc::channel();
    let (ended_tx, ended) = mpsc::channel();
    let running = held_job_ending(&jobs, "gone", started_tx.clone(), go, ended_tx);
    started.recv_timeout(Duration::from_secs(30)).expect("the job starts");
    let (_, never) = mpsc::channel();
    let queued = held_job(&jobs, "gone", started_tx, never);
    jobs.unsubscribe("gone");
    for id in [&running, &queued] {
        let u = jobs.latest(id).expect("a status");
        assert_eq!((u.status, u.description.as_str()), (Status::Error, DISCONNECTED), "{id}");
    }
    ended.recv_timeout(Duration::from_secs(30)).expect("the running job was told to stop");
    assert_eq!(jobs.queued(), 0);
    assert_eq!(jobs.latest(&running).map(|u| u.description), Some(DISCONNECTED.to_string()), "no second terminal status");
}

/// Notes, when QUEUED arrives, whether an executor already holds the job (whose
/// DISPATCHED would then have been sent first): it watches the running set for a while.
struct QueuedWatcher {
    jobs: std::sync::OnceLock<Jobs>,
    taken_before_queued: AtomicBool,
    tx: Mutex<mpsc::Sender<Update>>,
}

impl Subscriber for QueuedWatcher {
    fn send(&self, update: &Update) -> bool {
        if update.status == Status::Queued
            && let Some(jobs) = self.jobs.get()
        {
            let until = std::time::Instant::now() + Duration::from_millis(300);
            while std::time::Instant::now() < until && !self.taken_before_queued.load(Ordering::SeqCst) {
                self.taken_before_queued.store(jobs.running() > 0, Ordering::SeqCst);
                std::thread::yield_now();
            }
        }
        lock(&self.tx).send(update.clone()).is_ok()
    }
}

#[test]
fn queued_is_sent_before_an_idle_executor_can_take_the_job() {
    let jobs = Jobs::start(config(10));
    let (tx, rx) = mpsc::channel();
    let watcher = Arc::new(QueuedWatcher { jobs: std::sync::OnceLock::new(), taken_before_queued: AtomicBool::new(false), tx: Mutex::new(tx) });
    let _ = watcher.jobs.set(jobs.clone());
    jobs.subscribe("s", watcher.clone());
    let id = Jobs::new_id();
    jobs.submit(work(&id, Some("s"), Box::new(|_| Ok(vec![1])))).unwrap();
    let order: Vec<Status> = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(30)).ok())
        .map(|u| u.status)
        .take_while(|s| !s.is_terminal())
        .collect();
    assert!(!watcher.taken_before_queued.load(Ordering::SeqCst), "an executor took the job before QUEUED was sent");
    assert_eq!(order, [Status::Queued, Status::Dispatched, Status::Running]);
}

/// A job ended early (its client went away, a shutdown) stays ended for polls, whatever
/// its executor still publishes on its way out.
#[test]
fn a_polled_status_never_goes_back_from_an_end() {
    let jobs = Jobs::start(config(10));
    jobs.refuse("j", DISCONNECTED, None);
    let route = Route { session: None, watcher: None };
    jobs.publish(&route, Update::new("j", Status::Running, status::RUNNING));
    assert_eq!(jobs.latest("j").map(|u| u.status), Some(Status::Error));
    jobs.publish(&route, Update::new("k", Status::Running, status::RUNNING));
    jobs.publish(&route, Update::new("k", Status::Completed, status::COMPLETED));
    assert_eq!(jobs.latest("k").map(|u| u.status), Some(Status::Completed));
}
