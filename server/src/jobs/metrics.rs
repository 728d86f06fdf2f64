//! The job system's Prometheus metrics (`GET /metrics`, OpenMetrics text through the
//! `prometheus-client` crate): jobs by final status and model, how long they waited and
//! ran, result bytes, and — read at scrape time — queue depth, running jobs, subscribed
//! sockets, abandoned job threads and the result store's size, evictions and expiries.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// `COMPLETED` or `ERROR`.
    pub status: String,
    /// The repo id the job ran on (empty when it never reached a model).
    pub model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GenerationLabels {
    /// `g1` (nnsight 0.5–0.7, socket.io) or `g2` (0.8, `/subscribe`).
    pub generation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    /// `wait` (request received → job started) or `run` (started → finished).
    pub phase: String,
}

pub struct Metrics {
    registry: Registry,
    pub jobs: Family<JobLabels, Counter>,
    pub duration: Family<PhaseLabels, Histogram>,
    pub result_bytes: Counter,
    pub request_bytes: Counter,
    pub queued: Gauge,
    pub running: Gauge,
    pub sockets: Family<GenerationLabels, Gauge>,
    pub abandoned: Gauge,
    pub results_kept: Gauge,
    pub results_bytes: Gauge,
    pub results_evicted: Counter,
    pub results_expired: Counter,
    pub internal_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("localndif");
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register("jobs", "Jobs that ended, by final status and model", jobs.clone());
        let duration = Family::<PhaseLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 20)));
        registry.register("job_duration_seconds", "Seconds a job waited (received to started) and ran", duration.clone());
        let result_bytes = Counter::default();
        registry.register("result_bytes", "Bytes of results produced", result_bytes.clone());
        let request_bytes = Counter::default();
        registry.register("request_bytes", "Bytes of request bodies received", request_bytes.clone());
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let queued = gauge(&mut registry, "queued_jobs", "Jobs waiting in the queue");
        let running = gauge(&mut registry, "running_jobs", "Jobs running now");
        let sockets = Family::<GenerationLabels, Gauge>::default();
        registry.register("connected_sockets", "Client sockets subscribed for updates, by client generation", sockets.clone());
        let abandoned = gauge(&mut registry, "abandoned_job_threads", "Job threads past their deadline that have not stopped yet");
        let results_kept = gauge(&mut registry, "results_kept", "Results kept for download");
        let results_bytes = gauge(&mut registry, "results_kept_bytes", "Bytes of results kept for download");
        let results_evicted = Counter::default();
        registry.register("results_evicted", "Results evicted to stay within the byte budget", results_evicted.clone());
        let results_expired = Counter::default();
        registry.register("results_expired", "Results dropped after the TTL", results_expired.clone());
        let internal_errors = Counter::default();
        registry.register("internal_errors", "Jobs ended by a localndif bug (InternalError), not by their code", internal_errors.clone());
        Metrics {
            registry,
            jobs,
            duration,
            result_bytes,
            request_bytes,
            queued,
            running,
            sockets,
            abandoned,
            results_kept,
            results_bytes,
            results_evicted,
            results_expired,
            internal_errors,
        }
    }
}

impl Metrics {
    /// One job reached its terminal status.
    pub fn ended(&self, status: &str, model: &str) {
        self.jobs.get_or_create(&JobLabels { status: status.into(), model: model.into() }).inc();
    }

    pub fn socket(&self, generation: &str, n: i64) {
        self.sockets.get_or_create(&GenerationLabels { generation: generation.into() }).set(n);
    }

    pub fn phase(&self, phase: &str, seconds: f64) {
        self.duration.get_or_create(&PhaseLabels { phase: phase.into() }).observe(seconds);
    }

    /// Sets a counter that mirrors a running total kept elsewhere.
    pub fn catch_up(counter: &Counter, total: u64) {
        let now = counter.get();
        if total > now {
            counter.inc_by(total - now);
        }
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
