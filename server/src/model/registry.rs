//! The models this server serves: HF model directories (`--model REPO_ID=DIR`) or the tiny
//! fixture models embedded in the binary (the default), loaded once at start-up.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tch::Device;

use std::sync::Mutex;

use super::repo::Repo;
use super::tokenize::TextTokenizer;
use super::weights::{self, config_float_kind};
use super::{Model, Structure, Weights};

/// Where a model's files come from.
pub enum ModelSource {
    /// An HF model directory: `config.json`, `model.safetensors`, `tokenizer.json`, and
    /// whatever else `save_pretrained` wrote (all of it is served on the Hub endpoint).
    Dir(PathBuf),
    /// Such a directory's files compiled into the binary.
    Embedded(&'static [(&'static str, &'static [u8])]),
    /// A structure-faithful replica of the model whose config and tokenizer are here
    /// (`model::replica`).
    Replica(PathBuf, super::replica::Widths),
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
    /// libtorch's intra-op threads for this model's jobs. Reductions (matrix products,
    /// attention, softmax) split by thread count, so a local run matches a remote one
    /// bit for bit only at the same count: it is advertised in `/status`, `/env` and
    /// every COMPLETED `meta` (README, "Reproducing a result exactly").
    pub intra_op_threads: i32,
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

/// One model to serve: its repo id, its files and (optionally) the dtype to convert to.
pub struct ModelSpec {
    pub repo_id: String,
    pub source: ModelSource,
    pub dtype: Option<String>,
    /// libtorch's intra-op threads for this model's jobs (`None`: [`default_threads`]).
    pub intra_op_threads: Option<i32>,
}

/// Models below this many parameters run their jobs on one intra-op thread by default:
/// their matrix products are below libtorch's grain size or too short to amortize
/// waking a thread team, whose spinning threads then compete with everything else on
/// the machine (the client included, on a small box).
const SMALL_MODEL: i64 = 1 << 24;

/// The intra-op thread count a model gets when neither `--intra-op-threads` nor its
/// models-file entry names one: 1 for a small model, else libtorch's default (the
/// machine's physical cores).
pub fn default_threads(n_params: i64) -> i32 {
    static DEFAULT: std::sync::OnceLock<i32> = std::sync::OnceLock::new();
    if n_params < SMALL_MODEL { 1 } else { *DEFAULT.get_or_init(tch::get_num_threads) }
}

/// A models file (`--models-config models.toml`):
///
/// ```toml
/// [[model]]
/// repo_id = "meta-llama/Llama-3.2-1B"
/// path = "/models/llama-3.2-1b"
/// dtype = "bfloat16"        # optional
/// ```
pub fn read_models_config(path: &std::path::Path) -> anyhow::Result<Vec<ModelSpec>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        model: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Entry {
        repo_id: String,
        path: PathBuf,
        #[serde(default)]
        dtype: Option<String>,
        #[serde(default)]
        intra_op_threads: Option<i32>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: File = toml::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let base = path.parent().unwrap_or(std::path::Path::new("."));
    Ok(file
        .model
        .into_iter()
        .map(|e| {
            let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
            let source = match e.path.to_str().and_then(|p| p.strip_prefix("replica:")) {
                Some(real) => ModelSource::Replica(resolve(PathBuf::from(real)), super::replica::Widths::default()),
                None => ModelSource::Dir(resolve(e.path)),
            };
            ModelSpec { repo_id: e.repo_id, source, dtype: e.dtype, intra_op_threads: e.intra_op_threads }
        })
        .collect())
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
    /// Loads every model; `dtype` (`--dtype`) applies to those that name none.
    pub fn load(entries: Vec<(String, ModelSource)>, device: Device) -> anyhow::Result<Registry> {
        Registry::load_specs(entries.into_iter().map(|(repo_id, source)| ModelSpec { repo_id, source, dtype: None, intra_op_threads: None }).collect(), device)
    }

    pub fn load_specs(entries: Vec<ModelSpec>, device: Device) -> anyhow::Result<Registry> {
        let models = entries
            .into_iter()
            .map(|ModelSpec { repo_id, source, dtype, intra_op_threads }| {
                anyhow::ensure!(
                    intra_op_threads.is_none_or(|n| (1..=1024).contains(&n)),
                    "intra_op_threads of '{repo_id}' must be between 1 and 1024"
                );
                load_one(&repo_id, source, dtype.as_deref(), device)
                    .map(|mut m| {
                        m.intra_op_threads = intra_op_threads.unwrap_or_else(|| default_threads(m.n_params()));
                        m
                    })
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



fn load_one(repo_id: &str, source: ModelSource, dtype: Option<&str>, device: Device) -> anyhow::Result<ServedModel> {
    let repo = match source {
        ModelSource::Dir(dir) => Repo::dir(&dir)?,
        ModelSource::Embedded(files) => Repo::embedded(files),
        ModelSource::Replica(real, widths) => {
            let out = super::replica::cache_dir(repo_id, &real, widths);
            // Written beside, then renamed into place: two servers starting at once never
            // read each other's half-written files (the contents are the same anyway).
            let fresh = out.with_extension(format!("tmp-{}", std::process::id()));
            super::replica::materialize(&real, repo_id, widths, &fresh)?;
            let _ = std::fs::remove_dir_all(&out);
            if std::fs::rename(&fresh, &out).is_err() {
                let _ = std::fs::remove_dir_all(&fresh);
                anyhow::ensure!(out.join("model.safetensors").exists(), "could not place the replica at {}", out.display());
            }
            tracing::info!(repo_id, from = %real.display(), dir = %out.display(), ?widths, "serving a replica (real module tree, vocabulary and tokenizer; small widths, seeded weights)");
            Repo::dir(&out)?
        }
    };
    let (config, tokenizer) = (repo.read("config.json")?, repo.read("tokenizer.json")?);
    let generation_config = match repo.file("generation_config.json") {
        Some(_) => serde_json::from_slice(&repo.read("generation_config.json")?).context("generation_config.json")?,
        None => serde_json::json!({}),
    };
    let config = String::from_utf8(config).context("config.json is not UTF-8")?;
    let meta: serde_json::Value = serde_json::from_str(&config).context("config.json")?;
    // Refused before any weight is read.
    super::families::find(meta["model_type"].as_str())?;
    let kind = match dtype {
        Some(name) => Some(weights::float_kind(name).with_context(|| format!("unknown dtype '{name}' (float32, float16, bfloat16)"))?),
        None => config_float_kind(&meta),
    };
    let tensors = weights::load(&repo, kind, device)?;
    let n_params = tensors.values().map(tch::Tensor::numel).sum::<usize>() as i64;
    let (family, tree, weights) = super::families::load(&meta, &tensors)?;
    drop(tensors);
    let mut tokenizer = TextTokenizer::from_bytes(&tokenizer, 0)?;
    let tok_config: serde_json::Value = match repo.file("tokenizer_config.json") {
        Some(_) => serde_json::from_slice(&repo.read("tokenizer_config.json")?).context("tokenizer_config.json")?,
        None => serde_json::json!({}),
    };
    // The tokenizer's own special tokens (tokenizer_config.json), then the model's ids.
    let special = |key: &str| -> Option<i64> {
        let tok = &tok_config[key];
        let text = tok.as_str().or_else(|| tok["content"].as_str())?;
        tokenizer.token_id(text)
    };
    let first_id = |v: &serde_json::Value| v.as_i64().or_else(|| v.as_array().and_then(|a| a.first()).and_then(serde_json::Value::as_i64));
    let eos = special("eos_token").or_else(|| first_id(&meta["eos_token_id"])).or_else(|| tokenizer.token_id("<|endoftext|>"));
    // nnsight pads with EOS when the tokenizer has no pad token (_configure_tokenizer).
    let pad = special("pad_token")
        .or(eos)
        .context("neither tokenizer_config.json nor config.json names a pad or eos token")?;
    let bos = special("bos_token").or_else(|| first_id(&meta["bos_token_id"]));
    tokenizer.set_pad_id(pad);
    tokenizer.set_special(eos, bos);
    Ok(ServedModel {
        repo_id: repo_id.to_string(),
        structure: Arc::new(Structure {
            tree,
            family,
            config_json: config,
            n_params,
        }),
        weights: Mutex::new(weights),
        tokenizer: Arc::new(tokenizer),
        device,
        config: meta,
        generation_config,
        repo,
        intra_op_threads: default_threads(n_params),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test")).join("../fixtures/models").join(name)
    }

    /// A copy of a fixture directory in a fresh temp dir.
    fn copy_fixture(name: &str) -> PathBuf {
        let dst = std::env::temp_dir().join(format!("localndif-registry-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dst);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(fixture(name)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
        dst
    }

    fn load_err(dir: PathBuf) -> String {
        let spec = ModelSpec { repo_id: "t/m".into(), source: ModelSource::Dir(dir), dtype: None, intra_op_threads: None };
        match Registry::load_specs(vec![spec], Device::Cpu) {
            Ok(_) => panic!("the model loaded"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn a_checkpoint_missing_a_tensor_is_refused_naming_it() {
        let dir = copy_fixture("tiny-llama");
        let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let kept: Vec<(String, safetensors::tensor::TensorView<'_>)> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| n != "model.layers.1.mlp.up_proj.weight")
            .collect();
        safetensors::serialize_to_file(kept, None, &dir.join("model.safetensors")).unwrap();
        let e = load_err(dir);
        assert!(e.contains("model.layers.1.mlp.up_proj.weight") && e.contains("t/m"), "{e}");
    }

    #[test]
    fn intra_op_threads_come_from_the_models_file_else_the_size_rule() {
        let dir = std::env::temp_dir().join(format!("localndif-registry-threads-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("models.toml");
        std::fs::write(
            &file,
            format!(
                "[[model]]\nrepo_id = \"a/threads\"\npath = \"{}\"\nintra_op_threads = 3\n[[model]]\nrepo_id = \"b/default\"\npath = \"{}\"\n",
                fixture("tiny-gpt2").display(),
                fixture("tiny-llama").display()
            ),
        )
        .unwrap();
        let specs = read_models_config(&file).unwrap();
        assert_eq!(specs[0].intra_op_threads, Some(3));
        let registry = Registry::load_specs(specs, Device::Cpu).unwrap();
        assert_eq!(registry.get("a/threads").unwrap().intra_op_threads, 3);
        // A small model runs on one thread unless told otherwise.
        assert_eq!(registry.get("b/default").unwrap().intra_op_threads, 1);
        let bad = vec![ModelSpec { repo_id: "c/zero".into(), source: ModelSource::Dir(fixture("tiny-gpt2")), dtype: None, intra_op_threads: Some(0) }];
        let e = Registry::load_specs(bad, Device::Cpu).err().unwrap().to_string();
        assert!(e.contains("intra_op_threads"), "{e}");
    }

    #[test]
    fn unsupported_architectures_and_bad_configs_are_refused_clearly() {
        let dir = copy_fixture("tiny-gpt2");
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap().replace("\"gpt2\"", "\"bert\"");
        std::fs::write(dir.join("config.json"), cfg).unwrap();
        let e = load_err(dir);
        assert!(e.contains("model_type 'bert' is not supported; localndif serves these families: gpt2, llama"), "{e}");
        let dir = copy_fixture("tiny-llama");
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap().replace("\"rope_type\": \"default\"", "\"rope_type\": \"yarn\"");
        std::fs::write(dir.join("config.json"), cfg).unwrap();
        let e = load_err(dir);
        assert!(e.contains("rope_type 'yarn'") && e.contains("default, linear, llama3"), "{e}");
        // Phi-3's longrope (its 128k checkpoints) is named, not served approximately.
        let dir = copy_fixture("tiny-phi3");
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap().replace("\"rope_type\": \"default\"", "\"rope_type\": \"longrope\"");
        std::fs::write(dir.join("config.json"), cfg).unwrap();
        let e = load_err(dir);
        assert!(e.contains("rope_type 'longrope'") && e.contains("Phi-3"), "{e}");
        let dir = copy_fixture("tiny-gemma");
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap().replace("\"use_bidirectional_attention\": null", "\"use_bidirectional_attention\": true");
        std::fs::write(dir.join("config.json"), cfg).unwrap();
        let e = load_err(dir);
        assert!(e.contains("use_bidirectional_attention=true"), "{e}");
        let dir = copy_fixture("tiny-gpt2");
        let cfg = std::fs::read_to_string(dir.join("config.json")).unwrap().replace("\"gelu_new\"", "\"gelu_accurate\"");
        std::fs::write(dir.join("config.json"), cfg).unwrap();
        let e = load_err(dir);
        assert!(e.contains("activation_function=\"gelu_accurate\""), "{e}");
        let dir = copy_fixture("tiny-llama");
        std::fs::remove_file(dir.join("tokenizer.json")).unwrap();
        let e = load_err(dir);
        assert!(e.contains("tokenizer.json"), "{e}");
    }

    #[test]
    fn replicas_of_every_architecture_load_with_their_real_depth_and_vocabulary() {
        for (name, layers_key, hidden_key) in [("tiny-gpt2", "n_layer", "n_embd"), ("tiny-llama", "num_hidden_layers", "hidden_size"), ("tiny-neox", "num_hidden_layers", "hidden_size"), ("tiny-qwen3", "num_hidden_layers", "hidden_size"), ("tiny-gemma2", "num_hidden_layers", "hidden_size"), ("tiny-olmo2", "num_hidden_layers", "hidden_size"), ("tiny-gemma", "num_hidden_layers", "hidden_size"), ("tiny-phi3", "num_hidden_layers", "hidden_size"), ("tiny-gemma3", "num_hidden_layers", "hidden_size"), ("tiny-gptj", "n_layer", "n_embd"), ("tiny-mistral", "num_hidden_layers", "hidden_size"), ("tiny-qwen2", "num_hidden_layers", "hidden_size")] {
            let real = fixture(name);
            let spec = ModelSpec {
                repo_id: format!("test/{name}"),
                source: ModelSource::Replica(real.clone(), super::super::replica::Widths::default()),
                dtype: None,
                intra_op_threads: None,
            };
            let registry = Registry::load_specs(vec![spec], Device::Cpu).unwrap();
            let m = registry.get(&format!("test/{name}")).unwrap();
            let real_cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(real.join("config.json")).unwrap()).unwrap();
            assert_eq!(m.config[layers_key], real_cfg[layers_key], "{name}: same depth");
            assert_eq!(m.config["vocab_size"], real_cfg["vocab_size"], "{name}: same vocabulary");
            assert_eq!(m.config[hidden_key], 64, "{name}: replica width");
            assert!(m.config["localndif_replica"].is_object());
        }
    }

    #[test]
    fn a_models_file_names_directories_relative_to_itself() {
        let dir = std::env::temp_dir().join(format!("localndif-models-toml-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("models.toml");
        std::fs::write(&file, "[[model]]\nrepo_id = \"a/b\"\npath = \"sub/m\"\ndtype = \"bfloat16\"\n").unwrap();
        let specs = read_models_config(&file).unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].repo_id, "a/b");
        assert_eq!(specs[0].dtype.as_deref(), Some("bfloat16"));
        assert!(matches!(&specs[0].source, ModelSource::Dir(p) if *p == dir.join("sub/m")));
        std::fs::write(&file, "[[model]]\nrepo = \"a/b\"\n").unwrap();
        assert!(read_models_config(&file).is_err());
    }
}
