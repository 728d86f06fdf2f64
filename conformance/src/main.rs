//! `conformance --server URL [--filter 10.*] [--out DIR]`: runs the suite against any
//! NDIF-compatible server with the real nnsight client and writes the report.

use std::path::PathBuf;

use clap::Parser;
use localndif_conformance::{Driver, Target, Verdict, discover, run_suite, write_report};

#[derive(Parser)]
#[command(
    name = "conformance",
    about = "Run nnsight conformance cases against an NDIF-compatible server"
)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8001
    #[arg(long)]
    server: String,
    /// Case ids to run: `*`, `10.*`, `10.1`.
    #[arg(long, default_value = "*")]
    filter: String,
    /// Where the report goes.
    #[arg(long, default_value = "out/conformance")]
    out: PathBuf,
    /// The repo id the server serves the model under.
    #[arg(long, default_value = "localndif/tiny-gpt2")]
    repo_id: String,
    /// The same model's directory, for the local oracle.
    #[arg(long, default_value = "fixtures/models/tiny-gpt2")]
    model_dir: PathBuf,
    /// How the clients find the model: `hub` (the server is also the Hugging Face Hub for
    /// its models, as localndif is) or `dir` (the repo id resolves to --model-dir locally).
    #[arg(long, default_value = "hub", value_parser = ["hub", "dir"])]
    via: String,
    /// The nnsight client: 0.8 (the .venv's 0.8.1) or 0.7 (0.7.0, socket.io protocol).
    #[arg(long, default_value = "0.8", value_parser = ["0.7", "0.8"])]
    client: String,
    /// The checkout holding `conformance/cases`, `conformance/drivers` and `.venv`.
    #[arg(long, default_value = ".")]
    workspace: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let cases = discover(&cli.workspace.join("conformance/cases"), &cli.filter)?;
    anyhow::ensure!(!cases.is_empty(), "no case matches '{}'", cli.filter);
    let mut driver = Driver::from_workspace(&cli.workspace);
    driver.via = cli.via.clone();
    driver.client(&cli.client).map_err(anyhow::Error::msg)?;
    let target = Target {
        url: cli.server.clone(),
        repo_id: cli.repo_id,
        model_dir: std::fs::canonicalize(&cli.model_dir)?,
    };
    let outcomes = run_suite(&driver, &target, &cases, &cli.out.join("runs"));
    write_report(&cli.out, &cli.server, &outcomes)?;
    let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
    let (passed, skipped) = (count(Verdict::Pass), count(Verdict::Skip));
    println!(
        "{passed} passed, {} failed, {skipped} not for this client",
        outcomes.len() - passed - skipped
    );
    Ok(())
}
