//! The files of a served model as a Hugging Face repo: what `localndif` serves on its Hub
//! endpoint (`api::hub`) so that clients load the model's config, tokenizer and weights
//! from the server they run against. Each file has a stable ETag (its SHA-256 for files
//! in memory; name, size and mtime for files on disk, which may be gigabytes), and the
//! repo has a commit hash derived from them all.

use std::path::PathBuf;

use anyhow::Context;
use sha2::{Digest, Sha256};

/// Where a file's bytes are.
#[derive(Clone)]
pub enum Content {
    Static(&'static [u8]),
    Path(PathBuf),
}

#[derive(Clone)]
pub struct RepoFile {
    /// Relative path in the repo (`config.json`, `model.safetensors`).
    pub name: String,
    pub content: Content,
    pub size: u64,
    pub etag: String,
}

/// A served model's repo: its files and commit.
#[derive(Clone)]
pub struct Repo {
    pub files: Vec<RepoFile>,
    /// 40 hex digits, as a git commit id (huggingface_hub names cache folders by it).
    pub commit: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Repo {
    /// Files compiled into the binary.
    pub fn embedded(files: &[(&'static str, &'static [u8])]) -> Repo {
        let files = files
            .iter()
            .map(|&(name, bytes)| RepoFile {
                name: name.to_string(),
                content: Content::Static(bytes),
                size: bytes.len() as u64,
                etag: hex(&Sha256::digest(bytes)),
            })
            .collect();
        Repo::with_files(files)
    }

    /// Every regular file of a model directory (not descending into sub-directories
    /// other than plain ones, not following hidden files).
    pub fn dir(root: &std::path::Path) -> anyhow::Result<Repo> {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
                let entry = entry?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().to_string();
                if name.starts_with('.') {
                    continue;
                }
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !meta.is_file() {
                    continue;
                }
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                let etag = hex(&Sha256::digest(format!("{rel}\0{}\0{mtime}", meta.len()).as_bytes()));
                files.push(RepoFile { name: rel, content: Content::Path(path), size: meta.len(), etag });
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Repo::with_files(files))
    }

    fn with_files(files: Vec<RepoFile>) -> Repo {
        let mut h = Sha256::new();
        for f in &files {
            h.update(f.name.as_bytes());
            h.update([0]);
            h.update(f.etag.as_bytes());
            h.update([0]);
        }
        let commit = hex(&h.finalize())[..40].to_string();
        Repo { files, commit }
    }

    pub fn file(&self, name: &str) -> Option<&RepoFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// A file's bytes, read now (for small files and in-memory ones).
    pub fn read(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        let f = self.file(name).with_context(|| format!("the model has no {name}"))?;
        match &f.content {
            Content::Static(b) => Ok(b.to_vec()),
            Content::Path(p) => std::fs::read(p).with_context(|| format!("reading {}", p.display())),
        }
    }
}
