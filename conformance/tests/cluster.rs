//! Scale-out with the real components on loopback ports: `redis-server` (Debian's package)
//! and an S3-compatible server (moto's, from PyPI; `make test` installs both), fronts
//! (`serve --role front`) and workers (`localndif worker`) of the binary under test.
//!
//! Without those components these tests fail, saying how to install them; they are
//! skipped (with the reason printed) only when `LOCALNDIF_CLUSTER_SKIP` says why the
//! Makefile could not install them on this machine.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Server, Suite, check, workspace};

/// The repo id the v0.8.1 captures name; workers serve the tiny GPT-2 under it.
const CAPTURED_REPO: &str = "openai-community/gpt2";

/// `None` (after saying why) when the Makefile could not install the components here.
fn skipped() -> bool {
    match std::env::var("LOCALNDIF_CLUSTER_SKIP") {
        Ok(why) if !why.is_empty() => {
            eprintln!("SKIPPED: the cluster tests need redis-server and an S3 server: {why}");
            true
        }
        _ => false,
    }
}

/// A helper process (Redis, the S3 server), killed when dropped.
struct Service {
    child: Child,
    port: u16,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something accepts connections on `port`.
fn wait_listening(port: u16, what: &str, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "{what} exited at start");
        assert!(Instant::now() < deadline, "{what} did not listen on port {port} within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn redis() -> Service {
    let port = free_port();
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting redis-server ({e}): `make test` installs it (apt-get install redis-server)"));
    wait_listening(port, "redis-server", &mut child);
    Service { child, port }
}

/// moto's S3 server with one bucket, `results`.
fn s3() -> Service {
    let server = workspace().join(".s3venv/bin/moto_server");
    assert!(server.exists(), "{} is missing: `make test` installs it (python/requirements-s3.txt)", server.display());
    let port = free_port();
    let mut child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_listening(port, "moto_server", &mut child);
    let (status, body) = http(&format!("http://127.0.0.1:{port}"), "PUT", "/results", &[], &[]);
    assert_eq!(status, 200, "creating the bucket: {}", String::from_utf8_lossy(&body));
    Service { child, port }
}

/// One HTTP/1.1 exchange (the native driver's client): the status and the body.
fn http(base: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let r = localndif_conformance::native::http::request(base, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path} at {base}: {e}"));
    (r.status, r.body)
}

/// Submits the captured nnsight 0.8.1 request `case` as a non-blocking job; its id.
fn submit(base: &str, case: &str) -> String {
    let (status, reply) = post_capture(base, case);
    assert_eq!(status, 200, "POST /request: {}", String::from_utf8_lossy(&reply));
    let v: serde_json::Value = serde_json::from_slice(&reply).unwrap();
    v["id"].as_str().unwrap().to_string()
}

fn post_capture(base: &str, case: &str) -> (u16, Vec<u8>) {
    post_capture_for(base, case, "")
}

/// Submits the captured request `case` for the socket `session` ("" = non-blocking).
fn post_capture_for(base: &str, case: &str, session: &str) -> (u16, Vec<u8>) {
    let dir = workspace().join("fixtures/captures/v0.8.1").join(case);
    let blob = std::fs::read(dir.join("request.blob")).unwrap();
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("request_meta.json")).unwrap()).unwrap();
    let mut data = meta["data_field"].clone();
    data["session_id"] = session.into();
    let boundary = "localndifclustertest";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"request\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&blob);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ctype = format!("multipart/form-data; boundary={boundary}");
    http(base, "POST", "/request", &[("Content-Type", &ctype), ("nnsight-version", "0.8.1")], &body)
}

/// The latest status of job `id` as `base` answers it (`None` while there is none).
fn poll(base: &str, id: &str) -> Option<serde_json::Value> {
    let (status, body) = http(base, "GET", &format!("/response/{id}"), &[], &[]);
    (status == 200).then(|| serde_json::from_slice(&body).unwrap())
}

/// Polls until job `id` reaches one of `statuses`; that status.
fn wait_for(base: &str, id: &str, statuses: &[&str], within: Duration) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = poll(base, id)
            && statuses.contains(&v["status"].as_str().unwrap_or(""))
        {
            return v;
        }
        assert!(Instant::now() < deadline, "job {id} did not reach {statuses:?} within {within:?}: {:?}", poll(base, id));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The result of a COMPLETED job, downloaded from `base`.
fn download(base: &str, id: &str) -> Vec<u8> {
    let (status, body) = http(base, "GET", &format!("/results/{id}"), &[], &[]);
    assert_eq!(status, 200, "GET /results/{id}: {}", String::from_utf8_lossy(&body));
    body
}

/// What a single `serve` process answers for the captured request `case` (the result a
/// cluster must give byte for byte).
fn single_server_result(case: &str) -> Vec<u8> {
    let dir = workspace().join("fixtures/models/tiny-gpt2");
    let server = Server::start(&["--model", &format!("{CAPTURED_REPO}={}", dir.display())]);
    let id = submit(&server.url, case);
    let done = wait_for(&server.url, &id, &["COMPLETED", "ERROR"], Duration::from_secs(60));
    assert_eq!(done["status"], "COMPLETED", "{done}");
    download(&server.url, &id)
}

/// `--model` serving the tiny GPT-2 under the repo id the captures name.
fn captured_model() -> String {
    format!("{CAPTURED_REPO}={}", workspace().join("fixtures/models/tiny-gpt2").display())
}

/// A value of `/metrics` (Prometheus text) of the process at `base`.
fn metric(base: &str, name: &str) -> f64 {
    let (_, body) = http(base, "GET", "/metrics", &[], &[]);
    let text = String::from_utf8(body).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no {name} in /metrics of {base}:\n{text}"))
}

/// A cluster: its Redis, the store URL, fronts and workers.
struct Cluster {
    redis: Service,
    store: String,
    _s3: Option<Service>,
    _dir: PathBuf,
}

impl Cluster {
    /// Redis and a store: S3 (moto) when `s3`, else a `file://` directory.
    fn new(label: &str, s3_store: bool) -> Cluster {
        let dir = workspace().join("target/conformance/cluster").join(format!("{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let redis = redis();
        let (store, s3) = if s3_store {
            let s3 = s3();
            (format!("s3://results?endpoint=http://127.0.0.1:{}&region=us-east-1", s3.port), Some(s3))
        } else {
            (format!("file://{}", dir.join("store").display()), None)
        };
        Cluster { redis, store, _s3: s3, _dir: dir }
    }

    fn common(&self) -> Vec<String> {
        vec!["--redis".into(), format!("redis://127.0.0.1:{}", self.redis.port), "--store".into(), self.store.clone()]
    }

    fn front(&self) -> Server {
        self.front_with(&[])
    }

    fn front_with(&self, extra: &[&str]) -> Server {
        let mut args = self.common();
        args.extend(["--role".into(), "front".into()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        Server::launch_with("serve", &args.iter().map(String::as_str).collect::<Vec<_>>(), &S3_CREDENTIALS)
    }

    fn worker(&self, name: &str, extra: &[&str]) -> Server {
        let mut args = self.common();
        args.extend(["--worker-id".into(), name.into()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        Server::launch_with("worker", &args.iter().map(String::as_str).collect::<Vec<_>>(), &S3_CREDENTIALS)
    }
}

/// moto takes any credentials; the processes read them from the environment as they
/// would for a real S3.
const S3_CREDENTIALS: [(&str, &str); 2] = [("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")];

/// "Two fronts behind one port": a TCP proxy handing each new connection to the next
/// front in turn, as a load balancer without sticky sessions does.
fn round_robin(fronts: &[&Server]) -> String {
    let backends: Vec<SocketAddr> =
        fronts.iter().map(|f| f.url.strip_prefix("http://").unwrap().parse().unwrap()).collect();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let next = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let backend = backends[next.fetch_add(1, Ordering::SeqCst) % backends.len()];
            let Ok(upstream) = TcpStream::connect(backend) else { continue };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            };
            pipe(client.try_clone().unwrap(), upstream.try_clone().unwrap());
            pipe(upstream, client);
        }
    });
    url
}

/// Both client generations, end to end, through two fronts behind one port and two
/// workers, results in an S3-compatible store: every case of the areas a cluster changes
/// (status stream, results, polling and callbacks, numerics, sessions, generation) passes
/// against local nnsight.
#[test]
fn both_client_generations_run_through_two_fronts_and_two_workers() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("e2e", true);
    let (a, b) = (cluster.front(), cluster.front());
    let _w = (cluster.worker("w1", &[]), cluster.worker("w2", &[]));
    let url = round_robin(&[&a, &b]);
    let mut bad = Vec::new();
    for client in ["0.8", "0.7"] {
        for area in ["2.*", "3.*", "4.*", "10.*", "33.*", "34.*"] {
            let label = format!("cluster-{client}-{}", area.trim_end_matches(".*"));
            bad.extend(Suite { client, ..Suite::new("localndif/tiny-gpt2", area, &label) }.failures_at(&url));
        }
    }
    check(bad);
}

/// A worker killed in the middle of a job: the other worker reclaims it after the lease
/// and completes it; the client polling any front gets the result a single server gives.
#[test]
fn a_job_whose_worker_dies_completes_on_the_other_worker() {
    if skipped() {
        return;
    }
    let expected = single_server_result("c01_save_output");
    let cluster = Cluster::new("kill", false);
    let front = cluster.front();
    let model = captured_model();
    let flags = ["--model", &model, "--lease-ms", "1000", "--test-job-delay-ms", "1500"];
    let mut workers = vec![cluster.worker("w1", &flags), cluster.worker("w2", &flags)];
    let id = submit(&front.url, "c01_save_output");
    wait_for(&front.url, &id, &["RUNNING"], Duration::from_secs(30));
    let busy = workers
        .iter()
        .position(|w| metric(&w.url, "localndif_running_jobs") == 1.0)
        .expect("a worker runs the job");
    let mut dead = workers.remove(busy);
    dead.child.kill().unwrap();
    dead.child.wait().unwrap();
    let done = wait_for(&front.url, &id, &["COMPLETED", "ERROR"], Duration::from_secs(60));
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let survivor = if busy == 0 { "w2" } else { "w1" };
    assert_eq!(done["meta"]["worker"], survivor, "{done}");
    assert_eq!(download(&front.url, &id), expected, "the reclaimed job's result differs from a single server's");
}

/// A job that kills every worker it runs on ends after `--max-tries` runs with an ERROR
/// saying so, instead of going round for ever.
#[test]
fn a_job_retried_past_max_tries_ends_with_an_error() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("tries", false);
    let front = cluster.front();
    let model = captured_model();
    let flags = ["--model", &model, "--lease-ms", "500", "--max-tries", "1", "--test-job-delay-ms", "60000"];
    let mut first = cluster.worker("w1", &flags);
    let id = submit(&front.url, "c01_save_output");
    wait_for(&front.url, &id, &["RUNNING"], Duration::from_secs(30));
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let _second = cluster.worker("w2", &flags);
    let done = wait_for(&front.url, &id, &["COMPLETED", "ERROR"], Duration::from_secs(60));
    assert_eq!(done["status"], "ERROR", "{done}");
    let text = done["description"].as_str().unwrap();
    assert!(text.contains("started 1 times") && text.contains("not tried again"), "{text}");
}

/// The front that took a non-blocking job goes away; a new front answers the poll and
/// serves the result.
#[test]
fn a_non_blocking_job_survives_its_front_restarting() {
    if skipped() {
        return;
    }
    let expected = single_server_result("c03_set_output_zero");
    let cluster = Cluster::new("front", false);
    let model = captured_model();
    let _w = cluster.worker("w1", &["--model", &model, "--test-job-delay-ms", "1000"]);
    let mut first = cluster.front();
    let id = submit(&first.url, "c03_set_output_zero");
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let second = cluster.front();
    let done = wait_for(&second.url, &id, &["COMPLETED", "ERROR"], Duration::from_secs(60));
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert!(done["data"].as_str().unwrap().ends_with(&format!("/results/{id}")), "{done}");
    assert_eq!(download(&second.url, &id), expected);
}

/// Twenty jobs of at least 100 ms on two workers of one slot each: both workers take
/// jobs, and the whole batch takes clearly less than the jobs' run times added up.
#[test]
fn jobs_spread_across_workers() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("spread", false);
    let front = cluster.front();
    let model = captured_model();
    let flags = ["--model", &model, "--workers", "1", "--test-job-delay-ms", "100"];
    let _w = (cluster.worker("w1", &flags), cluster.worker("w2", &flags));
    let started = Instant::now();
    let ids: Vec<String> = (0..20).map(|_| submit(&front.url, "c01_save_output")).collect();
    let done: Vec<serde_json::Value> =
        ids.iter().map(|id| wait_for(&front.url, id, &["COMPLETED", "ERROR"], Duration::from_secs(120))).collect();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(done.iter().all(|d| d["status"] == "COMPLETED"), "{done:?}");
    let on = |w: &str| done.iter().filter(|d| d["meta"]["worker"] == w).count();
    assert!(on("w1") > 0 && on("w2") > 0, "jobs ran on w1: {}, w2: {}", on("w1"), on("w2"));
    let serial: f64 = done.iter().map(|d| d["meta"]["runtime"].as_f64().unwrap()).sum();
    assert!(serial >= 20.0 * 0.1, "each job waited its 100 ms: {serial}");
    assert!(elapsed < 0.8 * serial, "the batch took {elapsed:.2} s; run one after another it takes {serial:.2} s");
}

/// A job for a model no live worker serves gets NDIF's "not deployed" text; `/models`
/// and `/status` of a front list what the workers serve.
#[test]
fn fronts_know_what_the_workers_serve() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("models", false);
    let front = cluster.front();
    let (status, body) = post_capture(&front.url, "c01_save_output");
    assert_eq!(status, 404);
    let detail = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["detail"].as_str().unwrap().to_string();
    assert!(detail.starts_with("Model is not dedicated and hotswapping is not supported"), "{detail}");
    assert!(detail.contains("served: none"), "{detail}");
    let _w = cluster.worker("w1", &[]);
    let (_, models) = http(&front.url, "GET", "/models", &[], &[]);
    let models: serde_json::Value = serde_json::from_slice(&models).unwrap();
    assert_eq!(models["models"], serde_json::json!(["localndif/tiny-gpt2", "localndif/tiny-llama"]));
    let (_, status) = http(&front.url, "GET", "/status", &[], &[]);
    let status: serde_json::Value = serde_json::from_slice(&status).unwrap();
    assert_eq!(status["deployments"].as_object().unwrap().len(), 2, "{status}");
}

/// SIGTERM to a worker: it takes no new job, finishes the one it runs (keeping its lease
/// through the drain), and exits 0.
#[test]
fn a_stopping_worker_finishes_its_job_and_exits() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("drain", false);
    let front = cluster.front();
    let model = captured_model();
    // The drain outlasts the lease: the job must not be reclaimed meanwhile.
    let mut worker = cluster.worker("w1", &["--model", &model, "--lease-ms", "300", "--test-job-delay-ms", "1500"]);
    let id = submit(&front.url, "c01_save_output");
    wait_for(&front.url, &id, &["RUNNING"], Duration::from_secs(30));
    let status = Command::new("kill").args(["-TERM", &worker.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let done = wait_for(&front.url, &id, &["COMPLETED", "ERROR"], Duration::from_secs(60));
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["meta"]["worker"], "w1");
    let exit = worker.child.wait().unwrap();
    assert!(exit.success(), "the worker exited with {exit}");
}

/// The only worker of a model dies: after the grace time the fronts end its running and
/// queued jobs with NDIF's eviction text instead of letting clients wait for ever.
#[test]
fn jobs_of_a_model_no_worker_serves_any_more_end_with_an_error() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("orphans", false);
    let front = cluster.front_with(&["--orphan-grace-ms", "1000"]);
    let model = captured_model();
    let mut worker = cluster.worker("w1", &["--model", &model, "--workers", "1", "--lease-ms", "500", "--test-job-delay-ms", "60000"]);
    let running = submit(&front.url, "c01_save_output");
    let queued = submit(&front.url, "c01_save_output");
    wait_for(&front.url, &running, &["RUNNING"], Duration::from_secs(30));
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    for id in [&running, &queued] {
        let done = wait_for(&front.url, id, &["COMPLETED", "ERROR"], Duration::from_secs(30));
        assert_eq!(done["status"], "ERROR", "{done}");
        assert!(done["description"].as_str().unwrap().starts_with("Model deployment evicted."), "{done}");
    }
}

/// A front bounds each model's queue (`--max-queue`): past it, submissions get 503.
#[test]
fn a_full_queue_refuses_submissions() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("full", false);
    let front = cluster.front_with(&["--max-queue", "1"]);
    let model = captured_model();
    let _worker = cluster.worker("w1", &["--model", &model, "--test-job-delay-ms", "3000"]);
    let first = submit(&front.url, "c01_save_output");
    let (status, body) = post_capture(&front.url, "c01_save_output");
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let detail = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains("queue") && detail.contains("full"), "{detail}");
    let done = wait_for(&front.url, &first, &["COMPLETED", "ERROR"], Duration::from_secs(60));
    assert_eq!(done["status"], "COMPLETED", "{done}");
}

/// A front whose update channel drops while a blocking job ends: after reconnecting it
/// re-reads the job's status, and the client's socket still gets COMPLETED.
#[test]
fn a_relay_that_lost_redis_still_delivers_the_end_of_a_job() {
    if skipped() {
        return;
    }
    let cluster = Cluster::new("relay", false);
    let front = cluster.front_with(&["--test-relay-pause-ms", "3000"]);
    let model = captured_model();
    let _w = cluster.worker("w1", &["--model", &model, "--test-job-delay-ms", "1000"]);
    let host = front.url.strip_prefix("http://").unwrap().to_string();
    let stream = TcpStream::connect(&host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://{host}/subscribe").as_str(), stream).unwrap();
    let first = ws.read().unwrap().into_text().unwrap().to_string();
    let session: serde_json::Value = serde_json::from_str(&first).unwrap();
    let session = session["session_id"].as_str().unwrap().to_string();
    let (status, reply) = post_capture_for(&front.url, "c01_save_output", &session);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
    let id = serde_json::from_slice::<serde_json::Value>(&reply).unwrap()["id"].as_str().unwrap().to_string();
    wait_for(&front.url, &id, &["RUNNING"], Duration::from_secs(30));
    // Drop the front's pub/sub connection: the job ends (in about a second) while the
    // relay waits three before reconnecting.
    let killed = Command::new("redis-cli")
        .args(["-p", &cluster.redis.port.to_string(), "CLIENT", "KILL", "TYPE", "pubsub"])
        .output()
        .unwrap();
    assert!(killed.status.success(), "{}", String::from_utf8_lossy(&killed.stderr));
    assert!(String::from_utf8_lossy(&killed.stdout).trim() != "0", "no pub/sub connection was dropped");
    let ended = loop {
        match ws.read().expect("the socket got no COMPLETED") {
            tungstenite::Message::Binary(b) => break b.windows(9).any(|w| w == b"COMPLETED"),
            tungstenite::Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if matches!(v["status"].as_str(), Some("COMPLETED" | "ERROR")) {
                    break v["status"] == "COMPLETED";
                }
            }
            _ => {}
        }
    };
    assert!(ended, "the job did not complete");
}
