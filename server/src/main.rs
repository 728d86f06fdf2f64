//! The `localndif` binary: `localndif serve [--host] [--port] [--model REPO_ID=DIR ...]
//! [--device cpu|cuda]`. With no `--model` it serves the tiny fixture models it embeds.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use localndif::api::{AppState, app};
use localndif::exec::ExecLimits;
use localndif::jobs::Jobs;
use localndif::model::{ModelSource, Registry};

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
    /// Serve models to nnsight clients (`remote=True`).
    Serve {
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        #[arg(long, default_value_t = 8001)]
        port: u16,
        /// Serve an HF model directory (config.json, model.safetensors, tokenizer.json)
        /// under the repo id clients name it by. Repeatable. Default: the tiny fixtures.
        #[arg(long = "model", value_name = "REPO_ID=DIR", value_parser = parse_model)]
        models: Vec<(String, PathBuf)>,
        #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
        device: String,
        /// Jobs allowed to wait in the queue before new ones get 503.
        #[arg(long, default_value_t = 1000)]
        max_queue: usize,
    },
}

fn parse_model(s: &str) -> Result<(String, PathBuf), String> {
    let (repo, dir) = s.split_once('=').ok_or("expected REPO_ID=DIR")?;
    if repo.is_empty() || dir.is_empty() {
        return Err("expected REPO_ID=DIR".into());
    }
    Ok((repo.to_string(), PathBuf::from(dir)))
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve {
        host,
        port,
        models,
        device,
        max_queue,
    } = Cli::parse().command;
    let device = match device.as_str() {
        "cuda" => {
            anyhow::ensure!(
                tch::Cuda::is_available(),
                "--device cuda: no CUDA device is available"
            );
            tch::Device::Cuda(0)
        }
        _ => tch::Device::Cpu,
    };
    let entries = if models.is_empty() {
        localndif::model::embedded_defaults()
    } else {
        models
            .into_iter()
            .map(|(repo, dir)| (repo, ModelSource::Dir(dir)))
            .collect()
    };
    let registry = Arc::new(Registry::load(entries, device)?);
    let state = AppState {
        jobs: Jobs::start(max_queue),
        registry,
        limits: ExecLimits::default(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port))
            .await
            .with_context(|| format!("binding {host}:{port}"))?;
        let addr = listener.local_addr()?;
        println!("localndif listening on http://{addr}");
        std::io::stdout().flush()?;
        axum::serve(listener, app(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        anyhow::Ok(())
    })
}
