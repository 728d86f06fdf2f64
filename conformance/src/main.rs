//! `conformance --server URL [--client 0.8|0.7|0.5|0.5.<n>|native|all] [--filter 10.*] [--out DIR]
//! [--junit FILE] [--model REPO=DIR] [--timeout S] [--list] [--compare DIR…]`: runs the
//! suite against any NDIF-compatible server with the real nnsight clients and the native
//! driver and writes the report (one folder per driver, one matrix page for all, earlier
//! reports beside it); exits non-zero when a case is FAIL or WRONG (`--strict`: or
//! MISSING; the rules: `verdict`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use localndif_conformance::{Driver, Numerics, Target, Verdict, discover, junit, run_suite, write_report};

#[derive(Parser)]
#[command(
    name = "conformance",
    about = "Run nnsight conformance cases against an NDIF-compatible server"
)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8001 (not needed with --list, nor to only merge
    /// reports with --compare).
    #[arg(long, required_unless_present_any = ["list", "compare"])]
    server: Option<String>,
    /// Earlier report folders (`--out` of other runs, e.g. against another server) to show
    /// beside this run in one matrix.
    #[arg(long, value_name = "DIR", num_args = 1..)]
    compare: Vec<PathBuf>,
    /// Case ids to run: `*`, `10.*`, `10.1`, or several separated by commas.
    #[arg(long, default_value = "*")]
    filter: String,
    /// Where the report goes (one folder per client with `--client all`).
    #[arg(long, default_value = "out/conformance")]
    out: PathBuf,
    /// Also write the outcomes as JUnit XML here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// The repo id the server serves the model under.
    #[arg(long, default_value = "localndif/tiny-gpt2")]
    repo_id: String,
    /// The same model's directory, for the local oracle.
    #[arg(long, default_value = "fixtures/models/tiny-gpt2")]
    model_dir: PathBuf,
    /// `REPO=DIR`: --repo-id and --model-dir in one.
    #[arg(long, value_name = "REPO=DIR")]
    model: Option<String>,
    /// How the clients find the model: `hub` (the server is also the Hugging Face Hub for
    /// its models, as localndif is) or `dir` (the repo id resolves to --model-dir locally).
    #[arg(long, default_value = "hub", value_parser = ["hub", "dir"])]
    via: String,
    /// The driver: 0.8 or g2 (the .venv's nnsight 0.8.1), 0.7 or g1 (nnsight 0.7.0,
    /// socket.io protocol), 0.5 (nnsight 0.5.15; 0.5.0, 0.5.10, 0.5.13 and 0.5.15 by
    /// their exact version), native (protocol-level cases sent directly), or all (0.8,
    /// 0.7, 0.5 and native in turn).
    #[arg(long, default_value = "0.8", value_parser = ["0.7", "0.8", "g1", "g2", "0.5", "0.5.0", "0.5.10", "0.5.13", "0.5.15", "native", "all"])]
    client: String,
    /// A valid API key of the server: the native driver's auth cases (area 8) run only
    /// with one.
    #[arg(long)]
    api_key: Option<String>,
    /// Seconds one case may take before it counts as FAIL.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// Leave out cases whose id starts with this (`--exclude 40.`); repeatable.
    #[arg(long, value_name = "PREFIX")]
    exclude: Vec<String>,
    /// Client sessions running cases side by side (cases that measure the server itself
    /// still run alone, after the others).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Where oracle results are cached, by case, client version and weights (`none` to
    /// run every oracle).
    #[arg(long, value_name = "DIR", default_value = "out/oracle-cache")]
    oracle_cache: PathBuf,
    /// torch's intra-op threads for the local oracle: `auto` (the count the server
    /// advertises for the model in /status as `intra_op_threads`; torch's default if it
    /// advertises none), `default`, or a number. Floats are reproducible bit for bit
    /// only at the server's count.
    #[arg(long, value_name = "auto|default|N", default_value = "auto")]
    oracle_threads: String,
    /// How floats are compared with the oracle's: `exact` (bit-identical; the oracle
    /// adopts the server's advertised threads and attention implementation), `fp32`
    /// (rtol 1e-5, atol 1e-6), `bf16` (2e-2, 2e-2) or `gpu` (1e-4, 1e-4). Integers,
    /// strings, dtypes and shapes are exact under every policy; a case's TOLERANCE wins.
    #[arg(long, value_enum, default_value_t = Numerics::Fp32)]
    numerics: Numerics,
    /// The same as `--numerics exact`.
    #[arg(long, hide = true, conflicts_with = "numerics")]
    exact: bool,
    /// Exit non-zero on MISSING too (not only on FAIL and WRONG).
    #[arg(long)]
    strict: bool,
    /// List the matching cases and exit: id, area (1–12), drivers, architectures, title.
    #[arg(long)]
    list: bool,
    /// With --list: the whole catalogue entry of each case as JSON (spec section,
    /// expected outcome too).
    #[arg(long, requires = "list")]
    json: bool,
    /// The checkout holding `conformance/cases`, `conformance/drivers` and `.venv`.
    #[arg(long, default_value = ".")]
    workspace: PathBuf,
}

/// Fails fast, saying so, when nothing answers at `url`.
fn reachable(url: &str) -> anyhow::Result<()> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    let addr = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    let addrs: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .map_err(|e| anyhow::anyhow!("{url}: cannot resolve {addr}: {e}"))?
        .collect();
    anyhow::ensure!(
        addrs.iter().any(|a| std::net::TcpStream::connect_timeout(a, Duration::from_secs(5)).is_ok()),
        "nothing listens at {url}: start the server first (e.g. `make serve`)"
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut earlier = Vec::new();
    for dir in &cli.compare {
        earlier.extend(localndif_conformance::matrix::load_runs(dir)?);
    }
    if cli.server.is_none() && !cli.list {
        localndif_conformance::matrix::write_matrix(&cli.out, &earlier)?;
        println!("merged {} runs into {}", earlier.len(), cli.out.join("index.html").display());
        return Ok(());
    }
    let clients: Vec<&str> = match cli.client.as_str() {
        "all" => vec!["0.8", "0.7", "0.5", "native"],
        "g2" => vec!["0.8"],
        "g1" => vec!["0.7"],
        c => vec![c],
    };
    let only_native = clients == ["native"];
    let kept = |c: &localndif_conformance::Case| !cli.exclude.iter().any(|p| c.id.starts_with(p.as_str()));
    let mut cases = if only_native { Vec::new() } else { discover(&cli.workspace.join("conformance/cases"), &cli.filter)? };
    cases.retain(kept);
    let mut native_cases = if clients.contains(&"native") { localndif_conformance::native::cases(&cli.filter) } else { Vec::new() };
    native_cases.retain(kept);
    anyhow::ensure!(!cases.is_empty() || !native_cases.is_empty(), "no case matches '{}'", cli.filter);
    if cli.list {
        let entries: Vec<_> = cases.iter().chain(&native_cases).map(localndif_conformance::catalogue::entry).collect();
        if cli.json {
            println!("{}", serde_json::to_string_pretty(&entries)?);
        } else {
            for e in &entries {
                println!("{:8} {:>2} {:14} {:10} {}", e.id, e.area, e.drivers.join(","), e.architectures.join(","), e.title);
            }
        }
        return Ok(());
    }
    let server = cli.server.clone().expect("given unless --list or --compare alone");
    reachable(&server)?;
    let (repo_id, model_dir) = match &cli.model {
        Some(m) => {
            let (r, d) = m.split_once('=').ok_or_else(|| anyhow::anyhow!("--model expects REPO=DIR"))?;
            (r.to_string(), PathBuf::from(d))
        }
        None => (cli.repo_id.clone(), cli.model_dir.clone()),
    };
    let target = Target { url: server.clone(), repo_id, model_dir: std::fs::canonicalize(&model_dir)? };
    let started = std::time::Instant::now();
    let mut all = Vec::new();
    let mut runs = Vec::new();
    for client in &clients {
        let driver_started = std::time::Instant::now();
        let out = cli.out.join(format!("client-{client}"));
        let outcomes = if *client == "native" {
            let options = localndif_conformance::native::Options {
                url: server.clone(),
                repo_id: target.repo_id.clone(),
                api_key: cli.api_key.clone(),
            };
            let ids: Vec<&str> = native_cases.iter().map(|c| c.id.as_str()).collect();
            localndif_conformance::native::run_matching(&options, |id| ids.contains(&id))
        } else {
            let mut driver = Driver::from_workspace(&cli.workspace);
            driver.via = cli.via.clone();
            driver.case_timeout = Duration::from_secs(cli.timeout);
            driver.jobs = cli.jobs;
            driver.oracle_threads = cli.oracle_threads.clone();
            driver.numerics = if cli.exact { Numerics::Exact } else { cli.numerics };
            driver.oracle_cache = (cli.oracle_cache.as_os_str() != "none").then(|| std::path::absolute(&cli.oracle_cache)).transpose()?;
            driver.client(client).map_err(anyhow::Error::msg)?;
            run_suite(&driver, &target, &cases, &out.join("runs"))
        };
        // The command that runs one case again, alone (the report shows it per case).
        let outcomes: Vec<_> = outcomes
            .into_iter()
            .map(|mut o| {
                let command = format!(
                    "conformance --server {server} --client {client} --filter {} --jobs 1 --numerics {} --model {}={} --via {}",
                    o.id,
                    if cli.exact { "exact" } else { cli.numerics.as_str() },
                    target.repo_id,
                    target.model_dir.display(),
                    cli.via
                );
                if !o.details.is_object() {
                    o.details = serde_json::json!({"checked": o.details});
                }
                o.details["reproduce"] = command.into();
                o
            })
            .collect();
        write_report(&out, &server, client, &outcomes)?;
        if !outcomes.is_empty() {
            runs.push(localndif_conformance::matrix::Run { implementation: server.clone(), client: client.to_string(), outcomes: outcomes.clone() });
        }
        let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
        println!(
            "client {client}: {} passed, {} wrong, {} failed, {} missing, {} info, {} skipped (not for this client or architecture) in {:.1} s",
            count(Verdict::Pass),
            count(Verdict::Wrong),
            count(Verdict::Fail),
            count(Verdict::Missing),
            count(Verdict::Info),
            count(Verdict::Skip),
            driver_started.elapsed().as_secs_f64()
        );
        all.extend(outcomes.into_iter().map(|mut o| {
            if clients.len() > 1 {
                o.id = format!("{} [{client}]", o.id);
            }
            o
        }));
    }
    println!("ran {} cases in {:.1} s", all.len(), started.elapsed().as_secs_f64());
    runs.extend(earlier);
    localndif_conformance::matrix::write_matrix(&cli.out, &runs)?;
    println!("report: {}", cli.out.join("index.html").display());
    if let Some(path) = &cli.junit {
        std::fs::write(path, junit("nnsight conformance", &all))?;
    }
    if localndif_conformance::verdict::exit_code(all.iter().map(|o| o.verdict), cli.strict) != 0 {
        let bad = all.iter().filter(|o| matches!(o.verdict, Verdict::Fail | Verdict::Wrong) || (cli.strict && o.verdict == Verdict::Missing)).count();
        let what = if cli.strict { "FAIL, WRONG or MISSING (--strict)" } else { "FAIL or WRONG" };
        anyhow::bail!("{bad} case(s) {what} (report: {})", cli.out.display());
    }
    Ok(())
}
