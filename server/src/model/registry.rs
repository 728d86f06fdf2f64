//! The models this server serves: HF model directories (`--model REPO_ID=DIR`) or the tiny
//! fixture models embedded in the binary (the default), loaded once at start-up.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tch::Device;

use std::sync::Mutex;

use super::repo::Repo;
use super::tokenize::TextTokenizer;
use super::weights::{config_float_kind, load_safetensors};
use super::{Arch, Model, Structure, Weights, gpt2, llama};

/// Where a model's files come from.
pub enum ModelSource {
    /// An HF model directory: `config.json`, `model.safetensors`, `tokenizer.json`, and
    /// whatever else `save_pretrained` wrote (all of it is served on the Hub endpoint).
    Dir(PathBuf),
    /// Such a directory's files compiled into the binary.
    Embedded(&'static [(&'static str, &'static [u8])]),
}

/// A loaded model under the repo id clients name it by. Jobs get their own handles to the
/// weights ([`ServedModel::instance`]); the structure and tokenizer are shared.
pub struct ServedModel {
    pub repo_id: String,
    pub structure: Arc<Structure>,
    /// The master handles; each job shallow-clones them under the lock, so no tensor
    /// handle is ever used from two threads.
    weights: Mutex<Weights>,
    pub tokenizer: Arc<TextTokenizer>,
    pub device: Device,
    pub config: serde_json::Value,
    /// The model's files, as the Hub endpoint serves them.
    pub repo: Repo,
    /// `generation_config.json` (empty when the checkpoint has none).
    pub generation_config: serde_json::Value,
}

impl ServedModel {
    /// This job's model: the shared structure and fresh handles to the same weights.
    pub fn instance(&self) -> Model {
        let weights = self
            .weights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .handles();
        Model {
            structure: self.structure.clone(),
            weights,
            device: self.device,
        }
    }

    pub fn config_json(&self) -> &str {
        &self.structure.config_json
    }

    pub fn n_params(&self) -> i64 {
        self.structure.n_params
    }
}

pub struct Registry {
    models: Vec<Arc<ServedModel>>,
}

/// The tiny fixture models (fixtures/models/README.md), served when no `--model` is given.
pub fn embedded_defaults() -> Vec<(String, ModelSource)> {
    macro_rules! files {
        ($dir:literal) => {
            &[
                ("config.json", include_bytes!(concat!("../../../fixtures/models/", $dir, "/config.json")).as_slice()),
                ("generation_config.json", include_bytes!(concat!("../../../fixtures/models/", $dir, "/generation_config.json")).as_slice()),
                ("model.safetensors", include_bytes!(concat!("../../../fixtures/models/", $dir, "/model.safetensors")).as_slice()),
                ("tokenizer.json", include_bytes!(concat!("../../../fixtures/models/", $dir, "/tokenizer.json")).as_slice()),
                ("tokenizer_config.json", include_bytes!(concat!("../../../fixtures/models/", $dir, "/tokenizer_config.json")).as_slice()),
            ]
        };
    }
    static TINY_GPT2: &[(&str, &[u8])] = files!("tiny-gpt2");
    static TINY_LLAMA: &[(&str, &[u8])] = files!("tiny-llama");
    vec![
        ("localndif/tiny-gpt2".to_string(), ModelSource::Embedded(TINY_GPT2)),
        ("localndif/tiny-llama".to_string(), ModelSource::Embedded(TINY_LLAMA)),
    ]
}

impl Registry {
    pub fn load(entries: Vec<(String, ModelSource)>, device: Device) -> anyhow::Result<Registry> {
        let models = entries
            .into_iter()
            .map(|(repo_id, source)| {
                load_one(&repo_id, source, device)
                    .with_context(|| format!("loading model '{repo_id}'"))
                    .map(Arc::new)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Registry { models })
    }

    pub fn get(&self, repo_id: &str) -> Option<Arc<ServedModel>> {
        self.models.iter().find(|m| m.repo_id == repo_id).cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<ServedModel>> {
        self.models.iter()
    }

    pub fn repo_ids(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.repo_id.as_str()).collect()
    }
}



fn load_one(repo_id: &str, source: ModelSource, device: Device) -> anyhow::Result<ServedModel> {
    let repo = match source {
        ModelSource::Dir(dir) => Repo::dir(&dir)?,
        ModelSource::Embedded(files) => Repo::embedded(files),
    };
    let (config, weights, tokenizer) = (
        repo.read("config.json")?,
        repo.read("model.safetensors")?,
        repo.read("tokenizer.json")?,
    );
    let generation_config = match repo.file("generation_config.json") {
        Some(_) => serde_json::from_slice(&repo.read("generation_config.json")?).context("generation_config.json")?,
        None => serde_json::json!({}),
    };
    let config = String::from_utf8(config).context("config.json is not UTF-8")?;
    let meta: serde_json::Value = serde_json::from_str(&config).context("config.json")?;
    let tensors = load_safetensors(&weights, config_float_kind(&meta), device)
        .context("model.safetensors")?;
    let n_params = tensors.values().map(tch::Tensor::numel).sum::<usize>() as i64;
    let (arch, tree, weights) = match meta["model_type"].as_str() {
        Some("gpt2") => {
            let (cfg, tree, w) = gpt2::build(&config, &tensors)?;
            (Arch::Gpt2(cfg), tree, w)
        }
        Some("llama" | "mistral" | "qwen2") => {
            let (cfg, tree, w) = llama::build(&config, &tensors)?;
            (Arch::Llama(cfg), tree, w)
        }
        other => anyhow::bail!("model_type {other:?} is not supported yet (supported: gpt2, llama, mistral, qwen2)"),
    };
    drop(tensors);
    let mut tokenizer = TextTokenizer::from_bytes(&tokenizer, 0)?;
    // nnsight pads with EOS when the tokenizer has no pad token (_configure_tokenizer).
    let pad = meta["pad_token_id"]
        .as_i64()
        .or_else(|| meta["eos_token_id"].as_i64())
        .or_else(|| tokenizer.token_id("<|endoftext|>"))
        .context("no pad or eos token id in config.json")?;
    tokenizer.set_pad_id(pad);
    tokenizer.set_special(
        meta["eos_token_id"].as_i64().or_else(|| tokenizer.token_id("<|endoftext|>")),
        meta["bos_token_id"].as_i64(),
    );
    Ok(ServedModel {
        repo_id: repo_id.to_string(),
        structure: Arc::new(Structure {
            tree,
            arch,
            config_json: config,
            n_params,
        }),
        weights: Mutex::new(weights),
        tokenizer: Arc::new(tokenizer),
        device,
        config: meta,
        generation_config,
        repo,
    })
}
