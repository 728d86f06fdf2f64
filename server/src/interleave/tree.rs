//! The model's module tree as envoy paths (`model`, `model.transformer.h.0`, ...), which is
//! what user code names; the model itself uses HF names without the `model.` root.

use std::collections::{HashMap, HashSet};

pub struct ModuleTree {
    paths: HashSet<String>,
    list_lens: HashMap<String, usize>,
}

impl ModuleTree {
    pub fn new(hf_paths: &[String]) -> ModuleTree {
        let paths: HashSet<String> = hf_paths.iter().map(|p| envoy(p)).collect();
        let mut list_lens: HashMap<String, usize> = HashMap::new();
        for p in &paths {
            if let Some((parent, last)) = p.rsplit_once('.')
                && let Ok(i) = last.parse::<usize>()
            {
                let len = list_lens.entry(parent.to_string()).or_default();
                *len = (*len).max(i + 1);
            }
        }
        ModuleTree { paths, list_lens }
    }

    pub fn contains(&self, envoy_path: &str) -> bool {
        self.paths.contains(envoy_path)
    }

    pub fn list_len(&self, envoy_path: &str) -> Option<usize> {
        self.list_lens.get(envoy_path).copied()
    }

    /// `transformer.h.0` → `model.transformer.h.0`; the root `""` → `model`.
    pub fn envoy_path(&self, hf_path: &str) -> String {
        envoy(hf_path)
    }
}

fn envoy(hf: &str) -> String {
    if hf.is_empty() {
        "model".to_string()
    } else {
        format!("model.{hf}")
    }
}
