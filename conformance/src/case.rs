//! Case discovery: every `cases/<area>/<id>_<name>.py` is a case; its id is the file-name
//! prefix (`10.1`), its title the first line of its docstring. Adding a case is adding a file.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub path: PathBuf,
    /// `SERVER_ONLY = True`: the case measures the server itself (limits, load), so it
    /// runs alone, after the cases that may run side by side (`--jobs`).
    pub alone: bool,
    /// `NEEDS = {...}`: the server settings the case can judge (`crate::server`).
    pub needs: crate::server::Needs,
}

/// All cases under `root` whose id matches `filter` (`10.*`, `10.1`, or `*`), sorted by id.
pub fn discover(root: &Path, filter: &str) -> anyhow::Result<Vec<Case>> {
    let mut cases = Vec::new();
    for area in std::fs::read_dir(root)? {
        let area = area?.path();
        if !area.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&area)? {
            let path = file?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("py") {
                continue;
            }
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let Some((id, _)) = stem.split_once('_') else {
                continue;
            };
            if !matches(filter, id) {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            cases.push(Case {
                id: id.to_string(),
                title: title(&text).unwrap_or_else(|| stem.to_string()),
                alone: text.lines().any(|l| l.trim() == "SERVER_ONLY = True"),
                needs: crate::server::parse_needs(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                path,
            });
        }
    }
    cases.sort_by_key(|a| version_key(&a.id));
    Ok(cases)
}

/// `10.*`, `10.1`, `*`, or several of them separated by commas (`10.*,45.*,34.15`).
pub(crate) fn matches(filter: &str, id: &str) -> bool {
    filter.split(',').map(str::trim).any(|one| match one.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => id.starts_with(prefix),
        None => one == id,
    })
}

fn version_key(id: &str) -> Vec<u64> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}

/// First line of the module docstring, without its id prefix.
fn title(text: &str) -> Option<String> {
    let body = text.trim_start().strip_prefix("\"\"\"")?;
    let line = body
        .lines()
        .next()?
        .trim()
        .trim_end_matches("\"\"\"")
        .trim();
    Some(
        line.split_once(' ')
            .map_or(line, |(_, rest)| rest)
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_id_prefix_and_orders_numerically() {
        assert!(matches("10.*", "10.2"));
        assert!(!matches("10.*", "1.2"));
        assert!(matches("*", "3.1"));
        assert!(matches("10.1", "10.1") && !matches("10.1", "10.11"));
        let mut ids = vec!["10.10", "10.2", "2.1"];
        ids.sort_by_key(|i| version_key(i));
        assert_eq!(ids, ["2.1", "10.2", "10.10"]);
        assert_eq!(
            title("\"\"\"10.1 save things\n\"\"\"").as_deref(),
            Some("save things")
        );
    }
}
