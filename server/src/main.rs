//! The `localndif` binary: `localndif serve [--host] [--port] [--model REPO_ID=DIR ...]
//! [--device cpu|cuda]`. With no `--model` it serves the tiny fixture models it embeds.

use std::future::IntoFuture;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use localndif::api::{AppState, Protocol, app};
use localndif::jobs::{ExecConfig, Jobs, StoreConfig};
use localndif::value::ctx::Caps;
use localndif::model::{ModelSource, ModelSpec, Registry, read_models_config};

#[derive(Parser)]
#[command(
    name = "localndif",
    version,
    about = "A local NDIF-compatible server for nnsight clients"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the replica `serve --model REPO=replica:DIR` serves as a model directory
    /// (config, tokenizer, seeded weights) — for a local nnsight run on the same numbers.
    Replica {
        /// The real model's directory (its config.json and tokenizer files).
        #[arg(long = "from", value_name = "DIR")]
        from: PathBuf,
        /// The repo id the replica is served under (its weights are seeded from it).
        #[arg(long)]
        repo_id: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        widths: ReplicaWidths,
    },
    /// Serve models to nnsight clients (`remote=True`); with `--role front`, a cluster's
    /// stateless front (docs/cluster.md).
    Serve(ServeArgs),
    /// Run a cluster's jobs for the models given (`--model`), taken from Redis
    /// (`--redis`), results to the object store (`--store`); answers /health, /ready and
    /// /metrics on --port (docs/cluster.md).
    Worker(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// A TOML file of these flags (`port = 8001`, `model = ["repo=DIR"]`); flags on
    /// the command line win over it, and it over environment variables.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[arg(long, env = "LOCALNDIF_HOST", default_value = "127.0.0.1")]
    host: String,
    #[arg(long, env = "LOCALNDIF_PORT", default_value_t = 8001)]
    port: u16,
    /// Serve an HF model directory (config.json, model.safetensors, tokenizer.json)
    /// under the repo id clients name it by. Repeatable. Default: the tiny fixtures.
    #[arg(long = "model", value_name = "REPO_ID=DIR", value_parser = parse_model)]
    models: Vec<(String, PathBuf)>,
    /// Inject a fault (repeatable; see `localndif::faults`) — for proving a
    /// conformance suite, never for real use. Refused without --allow-faults.
    #[arg(long = "fault", value_name = "NAME")]
    faults: Vec<String>,
    #[arg(long)]
    allow_faults: bool,
    #[command(flatten)]
    replica: ReplicaWidths,
    /// A TOML file of models to serve (`[[model]] repo_id = "...", path = "...",
    /// dtype = "bfloat16"`), beside any --model.
    #[arg(long, env = "LOCALNDIF_MODELS_CONFIG", value_name = "FILE")]
    models_config: Option<PathBuf>,
    /// Convert floating weights to this dtype (float32, float16, bfloat16); default:
    /// the dtype config.json names, else the checkpoint's.
    #[arg(long)]
    dtype: Option<String>,
    /// libtorch intra-op threads for every model's jobs (a models-file entry's
    /// `intra_op_threads` wins). Default: 1 for models under 16M parameters, else
    /// libtorch's default. Numbers are bit-identical to local nnsight only at the same
    /// count (`torch.set_num_threads(N)`); each model's is advertised in /status,
    /// /env and COMPLETED meta.
    #[arg(long, env = "LOCALNDIF_INTRA_OP_THREADS", value_name = "N", value_parser = clap::value_parser!(i32).range(1..=1024))]
    intra_op_threads: Option<i32>,
    /// `cpu`, `cuda` or `cuda:N`.
    #[arg(long, env = "LOCALNDIF_DEVICE", default_value = "cpu")]
    device: String,
    /// Jobs allowed to wait in the queue before new ones get 503.
    #[arg(long, default_value_t = 1000)]
    max_queue: usize,
    /// Jobs that run at once (each on its own thread, sharing the weights).
    #[arg(long, env = "LOCALNDIF_WORKERS", default_value_t = 1)]
    workers: usize,
    /// Refuse nnsight clients older than this version (NDIF's MIN_NNSIGHT_VERSION).
    /// Off by default: the server runs no Python, so versions need not match.
    #[arg(long, value_name = "VERSION")]
    min_nnsight_version: Option<String>,
    /// nnsight 0.8 results up to this many bytes travel inside the COMPLETED message;
    /// larger ones are downloaded from /results/{id}.
    #[arg(long, default_value_t = 8 << 20, value_name = "BYTES")]
    inline_result_max: usize,
    /// Run nnsight 0.6-0.7 `session.local()` blocks on the client (STREAM). The
    /// released clients crash on a STREAM; see README.
    #[arg(long)]
    stream_local: bool,
    /// Seconds results and final statuses are kept for download and polling.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    result_ttl: u64,
    /// Keep results of at least --results-disk-min bytes in files here instead of
    /// memory (created if missing).
    #[arg(long, env = "LOCALNDIF_RESULTS_DIR", value_name = "DIR")]
    results_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 16 << 20, value_name = "BYTES")]
    results_disk_min: usize,
    /// Bytes all kept results may take; the oldest are evicted to make room.
    #[arg(long, default_value_t = 1 << 30, value_name = "BYTES")]
    result_budget: usize,
    /// API keys, one `name:key` per line (`#` comments): submissions need one, and a
    /// job's statuses, result and socket belong to its key. Default: an open server.
    #[arg(long, env = "LOCALNDIF_API_KEYS", value_name = "FILE")]
    api_keys: Option<PathBuf>,
    /// Log lines (stderr) for people or, one JSON object each, for log collectors.
    #[arg(long, env = "LOCALNDIF_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// At most this many submissions per minute per API key (all clients together
    /// without --api-keys); past it, 429 with Retry-After.
    #[arg(long, env = "LOCALNDIF_RATE_LIMIT", value_name = "PER_MINUTE")]
    rate_limit: Option<u32>,
    /// Let a blocking job whose client disconnected run on (its result stays
    /// pollable by id) instead of stopping it.
    #[arg(long)]
    keep_orphans: bool,
    /// Bytes of updates a client socket may leave unread before it is cut off.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    socket_backlog: usize,
    /// The most a request payload may decompress to; past it, 413 (a zstd frame that
    /// declares more is refused before it is inflated).
    #[arg(long, default_value_t = localndif::request::inflate::DEFAULT_MAX_REQUEST_BYTES, value_name = "BYTES")]
    max_request_bytes: usize,
    /// Decompressed request bytes all decodes in flight may hold together; past it, 503
    /// with Retry-After.
    #[arg(long, default_value_t = localndif::request::inflate::DEFAULT_DECODE_BUDGET, value_name = "BYTES")]
    decode_budget: usize,
    /// On SIGTERM/SIGINT: seconds running jobs may take to finish before they are
    /// ended with an ERROR (queued jobs get one at once; no new jobs are taken).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    drain_timeout: u64,
    #[command(flatten)]
    limits: Limits,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// What this process is in a cluster (docs/cluster.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Role {
    /// The whole server in one process (no Redis, no object store).
    All,
    /// HTTP and both WebSocket generations, no models: jobs go to workers through Redis.
    Front,
    /// `localndif worker` (not a `--role` value).
    #[value(skip)]
    Worker,
}

#[derive(clap::Args)]
struct ClusterArgs {
    #[arg(long, env = "LOCALNDIF_ROLE", value_enum, default_value_t = Role::All)]
    role: Role,
    /// The cluster's Redis (`redis://host:6379`): job queue, statuses, update channel,
    /// worker registry. Fronts and workers only.
    #[arg(long, env = "LOCALNDIF_REDIS", value_name = "URL")]
    redis: Option<String>,
    /// Where results go: `file:///dir` (a directory every process sees) or
    /// `s3://bucket?endpoint=http://host:9000&region=us-east-1` (credentials from AWS_*).
    #[arg(long, env = "LOCALNDIF_STORE", value_name = "URL")]
    store: Option<String>,
    /// Prefix of every Redis key and channel (several clusters on one Redis).
    #[arg(long, env = "LOCALNDIF_REDIS_PREFIX", default_value = "localndif:")]
    redis_prefix: String,
    /// A job whose worker has not renewed its lease for this long runs on another worker.
    #[arg(long, default_value_t = 30_000, value_name = "MS")]
    lease_ms: u64,
    /// A front ends the jobs of a model no live worker has served for this long (its
    /// only worker died or was removed) instead of letting them wait for ever.
    #[arg(long, default_value_t = 60_000, value_name = "MS")]
    orphan_grace_ms: u64,
    /// Runs a job may start (a worker dying each time) before it ends with an ERROR.
    #[arg(long, default_value_t = 3)]
    max_tries: usize,
    /// This worker's name in the cluster (default: host name and process id).
    #[arg(long, env = "LOCALNDIF_WORKER_ID")]
    worker_id: Option<String>,
    /// Test only: every job waits this long before it runs (spreading tests).
    #[arg(long, default_value_t = 0, hide = true)]
    test_job_delay_ms: u64,
    /// Test only: a front's relay waits this long before reconnecting to Redis.
    #[arg(long, default_value_t = 0, hide = true)]
    test_relay_pause_ms: u64,
}


/// Widths of replicas (`--model REPO=replica:DIR`): hidden size, attention heads,
/// key/value heads (grouped-query models) and MLP width.
#[derive(clap::Args)]
struct ReplicaWidths {
    #[arg(long, default_value_t = 64)]
    replica_hidden: i64,
    #[arg(long, default_value_t = 4)]
    replica_heads: i64,
    #[arg(long, default_value_t = 2)]
    replica_kv_heads: i64,
    #[arg(long, default_value_t = 128)]
    replica_intermediate: i64,
}

impl ReplicaWidths {
    fn widths(&self) -> localndif::model::replica::Widths {
        localndif::model::replica::Widths {
            hidden: self.replica_hidden,
            heads: self.replica_heads,
            kv_heads: self.replica_kv_heads,
            intermediate: self.replica_intermediate,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

/// The bounds every job runs under (docs/architecture.md); a job past one ends with an error
/// naming it, and the server goes on.
#[derive(clap::Args)]
struct Limits {
    /// Seconds a job may run.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Interpreter steps a job may take.
    #[arg(long, default_value_t = 50_000_000)]
    max_steps: u64,
    /// Characters of a str (bytes of a bytes) user code may build.
    #[arg(long, default_value_t = 64 << 20)]
    max_str: usize,
    /// Items of a list, tuple, dict or set user code may build.
    #[arg(long, default_value_t = 16 << 20)]
    max_container: usize,
    /// Bits of an int user code may build.
    #[arg(long, default_value_t = 1 << 20)]
    max_int_bits: u64,
    /// Elements of a tensor user code may create.
    #[arg(long, default_value_t = 1 << 31)]
    max_tensor_numel: i64,
    /// Bytes of tensors a job's code may hold at once (default: a quarter of RAM).
    #[arg(long)]
    tensor_budget: Option<u64>,
    /// Python call depth (CPython's recursion limit).
    #[arg(long, default_value_t = 1000)]
    max_depth: usize,
}

impl Limits {
    fn caps(&self) -> Caps {
        let d = Caps::default();
        Caps {
            max_str: self.max_str,
            max_container: self.max_container,
            max_int_bits: self.max_int_bits,
            max_tensor_numel: self.max_tensor_numel,
            tensor_budget: self.tensor_budget.unwrap_or(d.tensor_budget),
            max_steps: self.max_steps,
            max_depth: self.max_depth,
            wall: std::time::Duration::from_secs(self.timeout),
        }
    }
}

/// `serve --config FILE`: a TOML table of flags (`port = 8001`, `workers = 2`,
/// `model = ["repo=DIR"]`, `stream-local = true`) added to the command line; a flag given
/// on the command line wins over the file, and the file over environment variables.
fn with_config(argv: Vec<String>) -> anyhow::Result<Vec<String>> {
    let Some(at) = argv.iter().position(|a| a == "--config" || a.starts_with("--config=")) else {
        return Ok(argv);
    };
    let (path, rest): (String, Vec<String>) = match argv[at].strip_prefix("--config=") {
        Some(p) => (p.to_string(), argv[..at].iter().chain(&argv[at + 1..]).cloned().collect()),
        None => {
            let p = argv.get(at + 1).cloned().ok_or_else(|| anyhow::anyhow!("--config needs a file"))?;
            (p, argv[..at].iter().chain(argv.get(at + 2..).unwrap_or(&[])).cloned().collect())
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("--config {path}"))?;
    let table: toml::Table = toml::from_str(&text).with_context(|| format!("--config {path}"))?;
    let scalar = |v: &toml::Value| -> anyhow::Result<String> {
        Ok(match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => anyhow::bail!("--config {path}: a value cannot be {other}"),
        })
    };
    let mut extra = Vec::new();
    for (key, value) in &table {
        let flag = format!("--{}", key.replace('_', "-"));
        if rest.iter().any(|a| *a == flag || a.starts_with(&format!("{flag}="))) {
            continue;
        }
        match value {
            toml::Value::Boolean(true) => extra.push(flag),
            toml::Value::Boolean(false) => {}
            toml::Value::Array(items) => {
                for item in items {
                    extra.push(flag.clone());
                    extra.push(scalar(item)?);
                }
            }
            v => {
                extra.push(flag);
                extra.push(scalar(v)?);
            }
        }
    }
    let serve = rest.iter().position(|a| a == "serve" || a == "worker").map_or(rest.len(), |i| i + 1);
    let mut out = rest;
    out.splice(serve..serve, extra);
    Ok(out)
}

/// The first SIGTERM or SIGINT.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

/// What to type to use the server: the environment line, then a snippet that works
/// (README.md's quick start, which a test runs verbatim).
fn quick_start(url: &str, repo: &str) -> String {
    let arch_hint = if repo.contains("gpt2") { "model.transformer.h[0]" } else { "model.model.layers[0]" };
    format!(
        "\nPoint nnsight at it (this server is also the Hub for the models it serves):\n\n    \
         export NDIF_HOST={url} HF_ENDPOINT={url}\n\nthen, in Python:\n\n    \
         from nnsight import LanguageModel\n\n    \
         model = LanguageModel(\"{repo}\", tokenizer=\"{repo}\")\n    \
         with model.trace(\"The Eiffel Tower is in the city of\", remote=True):\n    \
         \x20   hidden = {arch_hint}.output.save()\n    \
         print(hidden.shape)\n"
    )
}

fn parse_model(s: &str) -> Result<(String, PathBuf), String> {
    let (repo, dir) = s.split_once('=').ok_or("expected REPO_ID=DIR")?;
    if repo.is_empty() || dir.is_empty() {
        return Err("expected REPO_ID=DIR".into());
    }
    Ok((repo.to_string(), PathBuf::from(dir)))
}

fn main() -> anyhow::Result<()> {
    let command = Cli::parse_from(with_config(std::env::args().collect())?).command;
    if let Command::Replica { from, repo_id, out, widths } = &command {
        localndif::model::replica::materialize(from, repo_id, widths.widths(), out)?;
        println!("{}", out.display());
        return Ok(());
    }
    let (args, worker_command) = match command {
        Command::Serve(a) => (a, false),
        Command::Worker(a) => (a, true),
        Command::Replica { .. } => unreachable!("replica handled above"),
    };
    let ServeArgs {
        config: _,
        host,
        port,
        models,
        models_config,
        dtype,
        intra_op_threads,
        device,
        max_queue,
        workers,
        min_nnsight_version,
        inline_result_max,
        stream_local,
        result_ttl,
        result_budget,
        drain_timeout,
        api_keys,
        log_format,
        socket_backlog,
        max_request_bytes,
        decode_budget,
        keep_orphans,
        rate_limit,
        results_dir,
        results_disk_min,
        replica,
        faults,
        allow_faults,
        limits,
        cluster,
    } = args;
    anyhow::ensure!(faults.is_empty() || allow_faults, "--fault needs --allow-faults (faults make the server wrong on purpose)");
    for f in &faults {
        localndif::faults::enable(f).map_err(anyhow::Error::msg)?;
        tracing::warn!(fault = %f, "FAULT INJECTED: this server is wrong on purpose");
    }
    let widths = replica.widths();
    if let Some(d) = &results_dir {
        std::fs::create_dir_all(d).with_context(|| format!("--results-dir {}", d.display()))?;
    }
    anyhow::ensure!(
        socket_backlog > inline_result_max,
        "--socket-backlog ({socket_backlog}) must exceed --inline-result-max ({inline_result_max}): an inline result is one update"
    );
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    match log_format {
        LogFormat::Human => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let keys = match &api_keys {
        Some(path) => {
            let keys = localndif::api::auth::Keys::load(path)?;
            tracing::info!(keys = keys.len(), file = %path.display(), "API keys required");
            Some(Arc::new(keys))
        }
        None => {
            tracing::info!("no --api-keys: the server is open to anyone who can reach it");
            None
        }
    };
    if let Some(v) = &min_nnsight_version {
        anyhow::ensure!(
            localndif::api::Version::parse(v).is_some(),
            "--min-nnsight-version: '{v}' is not a version"
        );
    }
    let caps = limits.caps();
    let device = localndif::model::device::parse(&device)?;
    let mut specs: Vec<ModelSpec> = models
        .into_iter()
        .map(|(repo_id, dir)| {
            let source = match dir.to_str().and_then(|d| d.strip_prefix("replica:")) {
                Some(real) => ModelSource::Replica(PathBuf::from(real), widths),
                None => ModelSource::Dir(dir),
            };
            ModelSpec { repo_id, source, dtype: None, intra_op_threads: None }
        })
        .collect();
    if let Some(path) = &models_config {
        specs.extend(read_models_config(path)?);
    }
    let no_models = specs.is_empty();
    if specs.is_empty() {
        specs = localndif::model::embedded_defaults()
            .into_iter()
            .map(|(repo_id, source)| ModelSpec { repo_id, source, dtype: None, intra_op_threads: None })
            .collect();
    }
    for s in &mut specs {
        if s.intra_op_threads.is_none() {
            s.intra_op_threads = intra_op_threads;
        }
        if s.dtype.is_none() {
            s.dtype = dtype.clone();
        }
    }
    let role = if worker_command { Role::Worker } else { cluster.role };
    let store_config = StoreConfig {
        ttl: std::time::Duration::from_secs(result_ttl),
        // A worker keeps no result itself: they go to the object store.
        budget: if role == Role::Worker { 0 } else { result_budget },
        disk: results_dir.map(|d| (d, results_disk_min)),
    };
    let jobs = Jobs::start(ExecConfig {
        max_queue,
        workers,
        wall: caps.wall,
        stack: localndif::job::JOB_STACK,
        store: store_config,
        cancel_orphans: !keep_orphans,
    });
    let shared = match role {
        Role::All => {
            anyhow::ensure!(
                cluster.redis.is_none() && cluster.store.is_none(),
                "--redis and --store are for a cluster: `serve --role front` or `localndif worker` (docs/cluster.md)"
            );
            None
        }
        _ => {
            let url = cluster.redis.as_deref().ok_or_else(|| anyhow::anyhow!("a cluster {role:?} needs --redis URL"))?;
            let bus = Arc::new(localndif::cluster::Bus::open(url, &cluster.redis_prefix)?);
            let default_store = format!("file://{}", std::env::temp_dir().join("localndif-store").display());
            let blobs = Arc::new(localndif::cluster::Blobs::open(cluster.store.as_deref().unwrap_or(&default_store))?);
            tracing::info!(?role, redis = %bus.url, store = %blobs.url, "cluster");
            Some((bus, blobs))
        }
    };
    // A front loads no model: the workers do.
    let registry = Arc::new(if role == Role::Front {
        anyhow::ensure!(no_models, "a front serves no model: give --model to `localndif worker` instead");
        Registry::load_specs(Vec::new(), device)?
    } else {
        Registry::load_specs(specs, device)?
    });
    let first_repo = registry.repo_ids().first().map(|r| r.to_string()).unwrap_or_default();
    let decode = localndif::request::Limits {
        max_bytes: max_request_bytes,
        budget: Some(Arc::new(localndif::request::DecodeBudget::new(decode_budget))),
    };
    let protocol = Protocol { min_nnsight_version, inline_max: inline_result_max, stream_local, socket_backlog, decode };
    let ttl = std::time::Duration::from_secs(result_ttl);
    let (front, worker) = match (role, shared) {
        (Role::Front, Some((bus, blobs))) => {
            let config = localndif::cluster::front::FrontConfig {
                ttl,
                inline_max: inline_result_max,
                max_queue,
                orphan_grace: std::time::Duration::from_millis(cluster.orphan_grace_ms),
                relay_pause: std::time::Duration::from_millis(cluster.test_relay_pause_ms),
            };
            (Some(localndif::cluster::Front::start(bus, blobs, jobs.clone(), config)), None)
        }
        (Role::Worker, Some((bus, blobs))) => {
            let id = cluster.worker_id.clone().unwrap_or_else(|| {
                let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
                format!("{host}-{}", std::process::id())
            });
            let config = localndif::cluster::WorkerConfig {
                id,
                lease: std::time::Duration::from_millis(cluster.lease_ms.max(100)),
                max_tries: cluster.max_tries.max(1),
                ttl,
                slots: workers.max(1),
                delay: std::time::Duration::from_millis(cluster.test_job_delay_ms),
            };
            let deployments = localndif::api::info::deployments(&registry);
            (None, Some(localndif::cluster::Worker::start(bus, blobs, jobs.clone(), registry.clone(), caps, config, deployments)?))
        }
        _ => (None, None),
    };
    let state = AppState {
        jobs,
        registry,
        caps,
        protocol,
        keys,
        rate: rate_limit.map(|n| Arc::new(localndif::api::limit::RateLimiter::new(n))),
        cluster: front,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        // Whoever started us may stop reading stdout after the first line: never let a
        // closed pipe stop the server.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "localndif listening on http://{addr}");
        match role {
            Role::Worker => {}
            Role::Front => {
                let _ = writeln!(
                    out,
                    "\nPoint nnsight at it: export NDIF_HOST=http://{addr} HF_ENDPOINT=http://{addr}\nThe models are the workers': GET http://{addr}/models"
                );
            }
            Role::All => {
                let _ = writeln!(out, "{}", quick_start(&format!("http://{addr}"), &first_repo));
            }
        }
        let _ = out.flush();
        let drain = std::time::Duration::from_secs(drain_timeout);
        if let Some(worker) = worker {
            // A worker answers only its probes; on SIGTERM it takes no more jobs, lets
            // those it has finish for the drain time, and leaves the rest to be
            // reclaimed by other workers.
            let router = localndif::api::probes(state);
            let server = tokio::spawn(axum::serve(listener, router).into_future());
            stop_signal().await;
            tracing::info!(drain_timeout, "worker stopping: no new jobs; taken jobs may finish");
            let left = tokio::task::spawn_blocking(move || worker.stop(drain)).await?;
            tracing::info!(left, "worker stopped (unfinished jobs go to other workers after the lease)");
            server.abort();
            return anyhow::Ok(());
        }
        // SIGTERM/SIGINT: refuse new jobs, end queued ones, let running ones finish for
        // the drain time (then end them), give the sockets a moment to carry the final
        // statuses out, and exit 0 — no client is left waiting on a job that never ends.
        let jobs = state.jobs.clone();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            axum::serve(listener, app(state))
                .with_graceful_shutdown(async {
                    let _ = stopped_rx.await;
                })
                .into_future(),
        );
        stop_signal().await;
        tracing::info!(drain_timeout, "shutting down: no new jobs; queued jobs end now, running jobs may finish");
        let drained = tokio::task::spawn_blocking(move || jobs.shutdown(drain)).await?;
        tracing::info!(queued = drained.queued, finished = drained.finished, cut = drained.cut, "jobs drained");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let _ = stopped_tx.send(());
        // Open WebSockets would hold a graceful shutdown forever: wait a little, then go.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), server).await;
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_adds_flags_the_command_line_does_not_give() {
        let path = std::env::temp_dir().join(format!("localndif-config-{}.toml", std::process::id()));
        std::fs::write(&path, "port = 9000\nworkers = 3\nstream-local = true\nkeep_orphans = false\nmodel = [\"a/b=/x\", \"c/d=/y\"]\n").unwrap();
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let out = with_config(argv(&["localndif", "serve", "--config", path.to_str().unwrap(), "--port", "8002"])).unwrap();
        let cli = Cli::try_parse_from(&out).unwrap();
        let Command::Serve(ServeArgs { port, workers, stream_local, keep_orphans, models, config, .. }) = cli.command else { panic!("serve") };
        assert_eq!((port, workers, stream_local, keep_orphans, config), (8002, 3, true, false, None));
        assert_eq!(models.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(), ["a/b", "c/d"]);
        assert!(with_config(argv(&["localndif", "serve", "--config"])).is_err());
        let _ = std::fs::remove_file(&path);
    }
}
