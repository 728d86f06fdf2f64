//! The families localndif serves, one declaration each: the `model_type`s it reads, the
//! config options it handles (anything else is refused at start, naming it), the module
//! tree with HF names, classes and checked parameter shapes (`model::declare`), and the
//! forwards of its composite modules with their typed `.source` operations, composed from
//! `model::blocks` and `model::layers`. docs/architectures.md says what each verifies and
//! how to add one.

mod gemma;
mod gemma2;
mod gemma3;
mod gpt2;
mod gpt_neox;
mod gptj;
mod llama;
mod mistral;
mod olmo2;
mod phi3;
mod qwen2;
mod qwen3;

use std::collections::HashMap;
use std::rc::Rc;

use tch::Tensor;

use super::cache::DynamicCache;
use super::config::Config;
use super::declare::{Builder, ParamSpec};
use super::forward::{CallArgs, Fwd};
use super::layers::attention::Kernel;
use super::tree::{Block, ModuleId, Tree, Weights};
use crate::value::{PyResult, Value};

/// A served model's family: what its composite modules compute.
pub trait Family: Send + Sync {
    /// The forward of composite module `id` in role `block`.
    fn run(&self, f: &mut Fwd<'_>, id: ModuleId, block: Block, c: &CallArgs) -> PyResult<Value>;
    /// Each decoder layer's sliding window (`None`: full attention), as `DynamicCache(config=…)`
    /// builds its layers.
    fn windows(&self) -> Vec<Option<i64>>;
    /// The attention kernel transformers picks for the class by default.
    fn kernel(&self) -> Kernel {
        Kernel::Sdpa
    }
    /// A fresh KV cache for a generation.
    fn new_cache(&self) -> Rc<DynamicCache> {
        DynamicCache::with_windows(&self.windows())
    }
}

/// A family's entry in the table of supported families.
pub struct Declaration {
    /// The `model_type`s it serves (`llama`, `mistral`, `qwen2`), each with its config
    /// class (`LlamaConfig`).
    pub model_types: &'static [(&'static str, &'static str)],
    /// Declares the module tree into `b` from the config; returns the forwards' settings.
    pub declare: fn(&Config, &mut Builder) -> anyhow::Result<Box<dyn Family>>,
    /// Where the family's checkpoints may store a parameter (`model::declare::Aliases`).
    pub aliases: super::declare::Aliases,
    /// A replica's config: the real one with small widths (`model::replica`).
    pub replica: fn(&serde_json::Value, &mut serde_json::Map<String, serde_json::Value>, super::replica::Widths) -> anyhow::Result<()>,
}

/// Every family, in the order docs/architectures.md lists them.
pub const FAMILIES: &[&Declaration] = &[&gpt2::DECLARATION, &llama::DECLARATION, &mistral::DECLARATION, &qwen2::DECLARATION, &gpt_neox::DECLARATION, &qwen3::DECLARATION, &gemma2::DECLARATION, &olmo2::DECLARATION, &gemma::DECLARATION, &phi3::DECLARATION, &gemma3::DECLARATION, &gptj::DECLARATION];

/// Every `model_type` served.
pub fn model_types() -> Vec<&'static str> {
    FAMILIES.iter().flat_map(|d| d.model_types.iter().map(|&(t, _)| t)).collect()
}

/// The declaration serving `model_type`, or an error in plain words listing what is served.
pub fn find(model_type: Option<&str>) -> anyhow::Result<&'static Declaration> {
    let supported = model_types().join(", ");
    let Some(mt) = model_type else {
        anyhow::bail!("config.json names no model_type; localndif serves these families: {supported}");
    };
    FAMILIES
        .iter()
        .copied()
        .find(|d| d.model_types.iter().any(|&(t, _)| t == mt))
        .ok_or_else(|| anyhow::anyhow!("model_type '{mt}' is not supported; localndif serves these families: {supported}"))
}

/// The config class of a served `model_type` (`GPTNeoXConfig`), for messages.
pub fn config_class(model_type: &str) -> Option<&'static str> {
    FAMILIES.iter().flat_map(|d| d.model_types.iter()).find(|&&(t, _)| t == model_type).map(|&(_, c)| c)
}

/// A loaded model's structure: its family's forwards, tree and weights.
pub fn load(config: &serde_json::Value, tensors: &HashMap<String, Tensor>) -> anyhow::Result<(Box<dyn Family>, Tree, Weights)> {
    let decl = find(config["model_type"].as_str())?;
    let mut b = Builder::checkpoint(tensors, decl.aliases);
    let family = (decl.declare)(&Config::new(config), &mut b)?;
    let (tree, weights) = b.finish();
    Ok((family, tree, weights))
}

/// Every parameter a checkpoint of this config has, as a replica writes it.
pub fn param_specs(config: &serde_json::Value) -> anyhow::Result<Vec<ParamSpec>> {
    let decl = find(config["model_type"].as_str())?;
    let mut b = Builder::shapes();
    (decl.declare)(&Config::new(config), &mut b)?;
    Ok(b.specs())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::forward::{Fwd, Hooks, tv};
    use super::super::{ModelSource, Registry};
    use crate::value::{PyResult, Value};

    /// Counts the operations each module performs.
    #[derive(Default)]
    struct Ops(BTreeMap<usize, Vec<usize>>);

    impl Hooks for Ops {
        fn input(&mut self, _: usize, inputs: Value) -> PyResult<Value> {
            Ok(inputs)
        }
        fn skip(&mut self, _: usize) -> PyResult<Option<Value>> {
            Ok(None)
        }
        fn output(&mut self, _: usize, out: Value) -> PyResult<Value> {
            Ok(out)
        }
        fn op_pass(&mut self, id: usize, op: usize) {
            self.0.entry(id).or_default().push(op);
        }
    }

    /// The logits of a model directory for a fixed 7-token prompt.
    fn logits(dir: std::path::PathBuf) -> tch::Tensor {
        let registry = Registry::load(vec![("m".into(), ModelSource::Dir(dir))], tch::Device::Cpu).unwrap();
        let m = registry.get("m").unwrap().instance();
        let mut hooks = Ops::default();
        let mut f = Fwd { m: &m, hooks: &mut hooks };
        let ids = tch::Tensor::from_slice(&[5i64, 6, 7, 8, 9, 10, 11]).view([1, 7]);
        let out = f.call(m.tree().root(), vec![], vec![("input_ids", tv(ids))]).unwrap_or_else(|e| panic!("{}", e.message()));
        let Value::Record(r) = out else { panic!("no output record") };
        let Some(Value::Tensor(logits)) = r.get("logits") else { panic!("no logits") };
        logits.t.shallow_clone()
    }

    /// A Gemma 3 config in the Hub's legacy form (`rope_theta` and `rope_scaling` for full
    /// layers, `rope_local_base_freq` for sliding ones, `sliding_window_pattern` instead of
    /// `layer_types`) is the model its converted form is, as `Gemma3TextConfig` converts it.
    #[test]
    fn a_legacy_gemma3_config_is_read_as_transformers_converts_it() {
        let src = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models/tiny-gemma3");
        let dst = std::env::temp_dir().join(format!("localndif-gemma3-legacy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dst);
        std::fs::create_dir_all(&dst).unwrap();
        for e in std::fs::read_dir(&src).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
        let mut cfg: serde_json::Value = serde_json::from_slice(&std::fs::read(src.join("config.json")).unwrap()).unwrap();
        let o = cfg.as_object_mut().unwrap();
        for k in ["rope_parameters", "layer_types", "_sliding_window_pattern"] {
            o.remove(k);
        }
        o.insert("rope_theta".into(), 100000.0.into());
        o.insert("rope_scaling".into(), serde_json::json!({"rope_type": "linear", "factor": 2.0}));
        o.insert("rope_local_base_freq".into(), 10000.0.into());
        o.insert("sliding_window_pattern".into(), 2.into());
        std::fs::write(dst.join("config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
        let (a, b) = (logits(src), logits(dst.clone()));
        assert!(a.equal(&b), "the legacy config gives other logits");
        // Another local base changes them (the legacy key is read at all).
        cfg["rope_local_base_freq"] = 500.0.into();
        std::fs::write(dst.join("config.json"), serde_json::to_vec(&cfg).unwrap()).unwrap();
        assert!(!a.equal(&logits(dst.clone())));
        let _ = std::fs::remove_dir_all(&dst);
    }

    /// Every fixture model runs a forward whose every module with a `.source` listing
    /// performs operations of it, in listing order (a misnamed operation is an error).
    #[test]
    fn every_fixture_family_runs_its_listed_operations_in_order() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/models");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.join("config.json").exists() {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let registry = Registry::load(vec![(name.clone(), ModelSource::Dir(path))], tch::Device::Cpu).unwrap();
            let served = registry.get(&name).unwrap();
            let m = served.instance();
            let mut hooks = Ops::default();
            let mut f = Fwd { m: &m, hooks: &mut hooks };
            let ids = tch::Tensor::from_slice(&[5i64, 6, 7, 8, 9, 10, 11]).view([1, 7]);
            let out = f.call(m.tree().root(), vec![], vec![("input_ids", tv(ids))]).unwrap_or_else(|e| panic!("{name}: {}", e.message()));
            let Value::Record(r) = out else { panic!("{name}: no output record") };
            let Some(Value::Tensor(logits)) = r.get("logits") else { panic!("{name}: no logits") };
            assert_eq!(logits.t.size(), [1, 7, served.config["vocab_size"].as_i64().unwrap()], "{name}");
            for id in m.tree().ids() {
                let class = m.tree().node(id).class;
                let Some(table) = super::super::source::table(class) else { continue };
                let ops = hooks.0.get(&id).unwrap_or_else(|| panic!("{name}: {} performed no operation", m.tree().node(id).envoy));
                // Listing order, except that a call among a multi-line call's arguments
                // (listed on its later line, just after the call) runs just before it.
                let argument_first = |a: usize, b: usize| a == b + 1 && table.line(a) > table.line(b);
                assert!(ops.windows(2).all(|w| w[0] < w[1] || argument_first(w[0], w[1])), "{name}: {class} operations out of listing order: {ops:?}");
            }
            seen += 1;
        }
        assert!(seen >= 4, "fixtures found: {seen}");
    }
}
