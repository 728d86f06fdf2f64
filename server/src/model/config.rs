//! Reading a checkpoint's `config.json` as a family declaration needs it: typed getters
//! that name the missing or mistyped key, and the refusal of options an implementation
//! does not handle, naming the option and what is supported (never served approximately).

use serde_json::Value as Json;

/// A `config.json`, read key by key.
pub struct Config<'a> {
    pub json: &'a Json,
}

impl<'a> Config<'a> {
    pub fn new(json: &'a Json) -> Config<'a> {
        Config { json }
    }

    /// The value under `key`, `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&'a Json> {
        self.json.get(key).filter(|v| !v.is_null())
    }

    /// A required integer.
    pub fn int(&self, key: &str) -> anyhow::Result<i64> {
        self.opt_int(key)?.ok_or_else(|| anyhow::anyhow!("config.json has no integer '{key}'"))
    }

    /// An optional integer (absent or null: `None`; another type: an error).
    pub fn opt_int(&self, key: &str) -> anyhow::Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| anyhow::anyhow!("config.json: '{key}' must be an integer, got {v}")),
        }
    }

    pub fn int_or(&self, key: &str, default: i64) -> anyhow::Result<i64> {
        Ok(self.opt_int(key)?.unwrap_or(default))
    }

    pub fn opt_float(&self, key: &str) -> anyhow::Result<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| anyhow::anyhow!("config.json: '{key}' must be a number, got {v}")),
        }
    }

    pub fn float_or(&self, key: &str, default: f64) -> anyhow::Result<f64> {
        Ok(self.opt_float(key)?.unwrap_or(default))
    }

    pub fn bool_or(&self, key: &str, default: bool) -> anyhow::Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| anyhow::anyhow!("config.json: '{key}' must be true or false, got {v}")),
        }
    }

    pub fn str_or(&self, key: &str, default: &'a str) -> anyhow::Result<&'a str> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_str().ok_or_else(|| anyhow::anyhow!("config.json: '{key}' must be a string, got {v}")),
        }
    }

    /// Refuses `key` unless it is absent or one of `handled` (compared as JSON values).
    pub fn only(&self, key: &str, handled: &[Json], what: &str) -> anyhow::Result<()> {
        match self.get(key) {
            Some(v) if !handled.contains(v) => {
                let list: Vec<String> = handled.iter().map(Json::to_string).collect();
                anyhow::bail!("config.json sets {key}={v}, which localndif's {what} does not implement (it handles {})", list.join(", "))
            }
            _ => Ok(()),
        }
    }

    /// `layer_types` (`full_attention` / `sliding_attention` per layer), or `n` full layers.
    pub fn layer_types(&self, n: usize) -> anyhow::Result<Vec<String>> {
        let Some(v) = self.get("layer_types") else { return Ok(vec!["full_attention".into(); n]) };
        let types: Vec<String> = v
            .as_array()
            .and_then(|a| a.iter().map(|t| t.as_str().map(str::to_string)).collect())
            .ok_or_else(|| anyhow::anyhow!("config.json: 'layer_types' must be a list of strings"))?;
        anyhow::ensure!(types.len() >= n, "config.json: 'layer_types' names {} layers, num_hidden_layers is {n}", types.len());
        Ok(types)
    }
}
