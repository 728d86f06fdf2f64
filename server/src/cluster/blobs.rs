//! Result blobs in an object store shared by every process of a cluster (`--store URL`):
//! `file:///dir` (a directory all processes see; the embedded default) or
//! `s3://bucket?endpoint=http://host:port&region=…` for any S3-compatible store (MinIO,
//! AWS, …; credentials from the `AWS_*` environment). Also the files of the workers'
//! models, which fronts serve on the Hub endpoint (`hub/{repo}/{etag}`, uploaded once,
//! streamed both ways). Built on the `object_store` crate;
//! its async calls run on a small runtime of this store's own, so executor threads, the
//! relay thread and blocking-pool tasks all call it the same way.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Every call to the store gives up after this long (a store that never answers must not
/// hold an executor or a download for ever).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// Where results go under the store's root.
    prefix: String,
    runtime: tokio::runtime::Runtime,
    /// The URL as given (for logs and errors).
    pub url: String,
}

impl Blobs {
    /// Opens the store `url` names (no request is made yet).
    pub fn open(url: &str) -> anyhow::Result<Blobs> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("object-store")
            .enable_all()
            .build()?;
        let (store, prefix): (Arc<dyn ObjectStore>, String) = if let Some(dir) = url.strip_prefix("file://") {
            anyhow::ensure!(dir.starts_with('/'), "--store {url}: a file store needs an absolute path (file:///dir)");
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("--store {url}: {e}"))?;
            (Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?), String::new())
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
            anyhow::ensure!(!bucket.is_empty(), "--store {url}: no bucket (s3://bucket?endpoint=…)");
            let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let v = percent_decode(v);
                b = match k {
                    "endpoint" => b.with_allow_http(v.starts_with("http://")).with_endpoint(v),
                    "region" => b.with_region(v),
                    other => anyhow::bail!("--store {url}: unknown option '{other}' (endpoint, region)"),
                };
            }
            let _guard = runtime.enter();
            (Arc::new(b.build()?), prefix.trim_matches('/').to_string())
        } else {
            anyhow::bail!("--store {url}: expected file:///dir or s3://bucket?endpoint=…");
        };
        Ok(Blobs { store, prefix, runtime, url: url.to_string() })
    }

    fn path(&self, id: &str) -> Path {
        self.key(&format!("results/{id}"))
    }

    fn key(&self, key: &str) -> Path {
        if self.prefix.is_empty() { Path::from(key) } else { Path::from(format!("{}/{key}", self.prefix)) }
    }

    /// The key of a model file a front serves on the Hub endpoint.
    pub fn hub_key(repo: &str, etag: &str) -> String {
        format!("hub/{repo}/{etag}")
    }

    /// Whether the store has `key`.
    pub fn exists(&self, key: &str) -> anyhow::Result<bool> {
        let path = self.key(key);
        self.runtime.block_on(async {
            match tokio::time::timeout(CALL_TIMEOUT, self.store.head(&path)).await {
                Ok(Ok(_)) => Ok(true),
                Ok(Err(object_store::Error::NotFound { .. })) => Ok(false),
                Ok(Err(e)) => Err(anyhow::anyhow!("looking up a stored file: {e}")),
                Err(_) => Err(anyhow::anyhow!("looking up a stored file: the store did not answer within {}s", CALL_TIMEOUT.as_secs())),
            }
        })
    }

    /// Uploads a file under `key`, streamed (model weights may be gigabytes).
    pub fn put_file(&self, key: &str, file: &std::path::Path) -> anyhow::Result<()> {
        let path = self.key(key);
        self.runtime.block_on(async {
            let mut src = tokio::fs::File::open(file).await?;
            let mut dst = object_store::buffered::BufWriter::new(self.store.clone(), path);
            tokio::io::copy(&mut src, &mut dst).await?;
            tokio::io::AsyncWriteExt::shutdown(&mut dst).await?;
            anyhow::Ok(())
        })
        .map_err(|e| anyhow::anyhow!("uploading {}: {e}", file.display()))
    }

    /// Stores `bytes` under `key`.
    pub fn put_bytes(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        let path = self.key(key);
        self.call("storing a file", self.store.put(&path, PutPayload::from_bytes(bytes))).map(|_| ())
    }

    /// The bytes under `key` as a stream (polled from any runtime) and their size, `None`
    /// if absent. Only the start of the download is bounded by the call timeout.
    pub fn stream(&self, key: &str) -> anyhow::Result<Option<(u64, BoxStream<'static, object_store::Result<Bytes>>)>> {
        let path = self.key(key);
        self.runtime.block_on(async {
            match tokio::time::timeout(CALL_TIMEOUT, self.store.get(&path)).await {
                Ok(Ok(r)) => Ok(Some((r.meta.size, r.into_stream()))),
                Ok(Err(object_store::Error::NotFound { .. })) => Ok(None),
                Ok(Err(e)) => Err(anyhow::anyhow!("reading a stored file: {e}")),
                Err(_) => Err(anyhow::anyhow!("reading a stored file: the store did not answer within {}s", CALL_TIMEOUT.as_secs())),
            }
        })
    }

    fn call<T>(&self, what: &str, fut: impl Future<Output = object_store::Result<T>>) -> anyhow::Result<T> {
        self.runtime.block_on(async {
            match tokio::time::timeout(CALL_TIMEOUT, fut).await {
                Ok(r) => r.map_err(|e| anyhow::anyhow!("{what}: {e}")),
                Err(_) => Err(anyhow::anyhow!("{what}: the store did not answer within {}s", CALL_TIMEOUT.as_secs())),
            }
        })
    }

    /// Stores the result of job `id` (a multipart upload when it is large; the time
    /// allowed grows with its size).
    pub fn put(&self, id: &str, blob: Bytes) -> anyhow::Result<()> {
        let path = self.path(id);
        let allowed = CALL_TIMEOUT + Duration::from_secs((blob.len() >> 20) as u64);
        self.runtime.block_on(async {
            let upload = async {
                let mut w = object_store::buffered::BufWriter::new(self.store.clone(), path);
                tokio::io::AsyncWriteExt::write_all(&mut w, &blob).await?;
                tokio::io::AsyncWriteExt::shutdown(&mut w).await
            };
            match tokio::time::timeout(allowed, upload).await {
                Ok(r) => r.map_err(|e| anyhow::anyhow!("storing a result: {e}")),
                Err(_) => Err(anyhow::anyhow!("storing a result: the store did not take it within {}s", allowed.as_secs())),
            }
        })
    }

    /// The key of job `id`'s result (for [`Blobs::stream`]).
    pub fn result_key(id: &str) -> String {
        format!("results/{id}")
    }

    /// The result of job `id`, `None` if the store has none.
    pub fn get(&self, id: &str) -> anyhow::Result<Option<Bytes>> {
        let path = self.path(id);
        self.runtime.block_on(async {
            let read = async {
                match self.store.get(&path).await {
                    Ok(r) => r.bytes().await.map(Some),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            };
            match tokio::time::timeout(CALL_TIMEOUT, read).await {
                Ok(r) => r.map_err(|e| anyhow::anyhow!("reading a result: {e}")),
                Err(_) => Err(anyhow::anyhow!("reading a result: the store did not answer within {}s", CALL_TIMEOUT.as_secs())),
            }
        })
    }

    /// Deletes results stored longer than `ttl` ago; returns how many went.
    pub fn sweep(&self, ttl: Duration) -> anyhow::Result<usize> {
        let prefix = self.key("results");
        let cutoff = SystemTime::now() - ttl;
        let old: Vec<Path> = self.call("listing results", async {
            let mut listing = self.store.list(Some(&prefix));
            let mut old = Vec::new();
            while let Some(meta) = listing.next().await {
                let meta = meta?;
                if SystemTime::from(meta.last_modified) <= cutoff {
                    old.push(meta.location);
                }
            }
            Ok(old)
        })?;
        for p in &old {
            let _ = self.call("deleting a result", self.store.delete(p));
        }
        Ok(old.len())
    }
}

/// `%XX` escapes in a query value (an endpoint URL given as `endpoint=http%3A%2F%2F…`).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_store_keeps_results_until_they_are_swept() {
        let dir = std::env::temp_dir().join(format!("localndif-blobs-{}", std::process::id()));
        let blobs = Blobs::open(&format!("file://{}", dir.display())).unwrap();
        assert_eq!(blobs.get("a").unwrap(), None);
        blobs.put("a", Bytes::from_static(b"result")).unwrap();
        assert_eq!(blobs.get("a").unwrap(), Some(Bytes::from_static(b"result")));
        assert_eq!(blobs.sweep(Duration::from_secs(3600)).unwrap(), 0);
        // A file's time is the kernel's coarse clock, never ahead of ours: with no TTL
        // left, what was stored is old enough to go.
        assert_eq!(blobs.sweep(Duration::ZERO).unwrap(), 1);
        assert_eq!(blobs.get("a").unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn store_urls_are_checked() {
        assert!(Blobs::open("file://relative").is_err());
        assert!(Blobs::open("s3://").is_err());
        assert!(Blobs::open("s3://b?colour=red").is_err());
        assert!(Blobs::open("ftp://x").is_err());
        assert_eq!(percent_decode("http%3A%2F%2Fh%3A9000"), "http://h:9000");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
