//! Model keys of both client generations (docs/protocol.md): `<wrapper class>:<JSON>` with
//! `repo_id` and `revision` (`"main"` ≙ null, as NDIF rewrites it).

use super::RequestError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelKey {
    pub raw: String,
    pub class: String,
    pub repo_id: String,
    pub revision: Option<String>,
}

impl ModelKey {
    pub fn parse(raw: &str) -> Result<ModelKey, RequestError> {
        let err = |why: &str| RequestError::ModelKey {
            key: raw.to_string(),
            why: why.to_string(),
        };
        let (class, json) = raw
            .split_once(':')
            .ok_or_else(|| err("expected '<class>:<json>'"))?;
        let v: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| err(&format!("the part after ':' is not JSON ({e})")))?;
        let repo_id = v["repo_id"]
            .as_str()
            .ok_or_else(|| err("no \"repo_id\" string"))?
            .to_string();
        let revision = v["revision"]
            .as_str()
            .filter(|r| *r != "main")
            .map(str::to_string);
        Ok(ModelKey {
            raw: raw.to_string(),
            class: class.to_string(),
            repo_id,
            revision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_g2_and_g1_keys() {
        let g2 = ModelKey::parse(
            r#"nnsight.modeling.transformers.TransformersModel:{"repo_id": "openai-community/gpt2", "revision": null, "task": "text-generation"}"#,
        )
        .unwrap();
        assert_eq!(g2.repo_id, "openai-community/gpt2");
        assert_eq!(g2.class, "nnsight.modeling.transformers.TransformersModel");
        assert_eq!(g2.revision, None);
        let g1 = ModelKey::parse(
            r#"nnsight.modeling.language.LanguageModel:{"repo_id": "x/y", "revision": "main"}"#,
        )
        .unwrap();
        assert_eq!((g1.repo_id.as_str(), g1.revision), ("x/y", None));
        let pinned = ModelKey::parse(r#"a.B:{"repo_id": "x/y", "revision": "v2"}"#).unwrap();
        assert_eq!(pinned.revision.as_deref(), Some("v2"));
    }

    #[test]
    fn rejects_malformed_keys_with_the_reason() {
        let e = ModelKey::parse("no-colon").unwrap_err().to_string();
        assert!(e.contains("expected '<class>:<json>'"), "{e}");
        let e = ModelKey::parse("a.B:{\"revision\": null}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("repo_id"), "{e}");
    }
}
