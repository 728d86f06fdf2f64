//! Result blobs by job id, kept for download (`GET /results/{id}`) for a bounded time
//! (`--result-ttl`) and within a byte budget (`--result-budget`): when a new result would
//! exceed the budget, the oldest results are evicted first. Results of at least
//! `--results-disk-min` bytes go to files in `--results-dir` instead of memory (same TTL,
//! same budget, files deleted when the result goes). A result that is gone leaves a
//! tombstone saying why, so a late download gets a clear answer.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How long results stay and how many bytes they may take together.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub ttl: Duration,
    pub budget: usize,
    /// Results of at least `.1` bytes are written to files in `.0`.
    pub disk: Option<(PathBuf, usize)>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig { ttl: Duration::from_secs(3600), budget: 1 << 30, disk: None }
    }
}

/// Where a kept result is.
enum Held {
    Ram(Bytes),
    Disk { path: PathBuf, len: usize },
}

impl Held {
    fn len(&self) -> usize {
        match self {
            Held::Ram(b) => b.len(),
            Held::Disk { len, .. } => *len,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Held::Disk { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Why a result is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// It was never stored (no such job, or no result yet).
    Unknown,
    /// Older than the TTL.
    Expired,
    /// Evicted to make room within the budget (or larger than the whole budget).
    Evicted,
}

/// Tombstones kept at most (the oldest go first).
const TOMBSTONES: usize = 100_000;

#[derive(Default)]
struct Inner {
    blobs: HashMap<String, (Held, Instant)>,
    /// Ids in the order they were stored (oldest first).
    order: VecDeque<String>,
    bytes: usize,
    gone: HashMap<String, Gone>,
    gone_order: VecDeque<String>,
    evicted: u64,
    expired: u64,
}

impl Inner {
    fn bury(&mut self, id: String, why: Gone) {
        if let Some((held, _)) = self.blobs.remove(&id) {
            self.bytes -= held.len();
        }
        match why {
            Gone::Expired => self.expired += 1,
            Gone::Evicted => self.evicted += 1,
            Gone::Unknown => {}
        }
        if self.gone.insert(id.clone(), why).is_none() {
            self.gone_order.push_back(id);
        }
        while self.gone_order.len() > TOMBSTONES {
            if let Some(old) = self.gone_order.pop_front() {
                self.gone.remove(&old);
            }
        }
    }
}

#[derive(Default)]
pub struct ResultStore {
    config: StoreConfig,
    inner: Mutex<Inner>,
}

/// What the store holds now (for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    pub results: usize,
    pub bytes: usize,
    pub evicted: u64,
    pub expired: u64,
}

impl ResultStore {
    pub fn new(config: StoreConfig) -> ResultStore {
        ResultStore { config, inner: Mutex::default() }
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Keeps `blob` for job `id` (stored at `now`), evicting the oldest results while the
    /// budget would be exceeded. A blob larger than the whole budget is not kept.
    pub fn put(&self, id: &str, blob: Bytes, now: Instant) {
        if blob.len() > self.config.budget {
            super::lock(&self.inner).bury(id.to_string(), Gone::Evicted);
            return;
        }
        let len = blob.len();
        let held = match &self.config.disk {
            Some((dir, min)) if len >= *min && !id.contains(['/', '.']) => {
                let path = dir.join(format!("{id}.result"));
                match std::fs::write(&path, &blob) {
                    Ok(()) => Held::Disk { path, len },
                    Err(e) => {
                        tracing::warn!(job = id, "could not write the result to {}: {e}; keeping it in memory", path.display());
                        Held::Ram(blob)
                    }
                }
            }
            _ => Held::Ram(blob),
        };
        let blob = held;
        let mut s = super::lock(&self.inner);
        while s.bytes + blob.len() > self.config.budget {
            let Some(old) = s.order.pop_front() else { break };
            if s.blobs.contains_key(&old) {
                s.bury(old, Gone::Evicted);
            }
        }
        s.bytes += blob.len();
        if let Some((prev, _)) = s.blobs.insert(id.to_string(), (blob, now)) {
            s.bytes -= prev.len();
        }
        s.order.push_back(id.to_string());
        s.gone.remove(id);
    }

    /// The blob of job `id` as of `now`, or why there is none (reads the file of a result
    /// kept on disk).
    pub fn get(&self, id: &str, now: Instant) -> Result<Bytes, Gone> {
        let mut s = super::lock(&self.inner);
        let path = match s.blobs.get(id) {
            Some((_, at)) if now.saturating_duration_since(*at) > self.config.ttl => {
                s.bury(id.to_string(), Gone::Expired);
                return Err(Gone::Expired);
            }
            Some((Held::Ram(blob), _)) => return Ok(blob.clone()),
            Some((Held::Disk { path, .. }, _)) => path.clone(),
            None => return Err(s.gone.get(id).copied().unwrap_or(Gone::Unknown)),
        };
        drop(s);
        std::fs::read(&path).map(Bytes::from).map_err(|_| Gone::Evicted)
    }

    /// Drops every result older than the TTL as of `now`.
    pub fn sweep(&self, now: Instant) {
        let mut s = super::lock(&self.inner);
        while let Some(id) = s.order.front().cloned() {
            match s.blobs.get(&id) {
                Some((_, at)) if now.saturating_duration_since(*at) > self.config.ttl => {
                    s.order.pop_front();
                    s.bury(id, Gone::Expired);
                }
                Some(_) => break,
                None => {
                    s.order.pop_front();
                }
            }
        }
    }

    pub fn stats(&self) -> StoreStats {
        let s = super::lock(&self.inner);
        StoreStats { results: s.blobs.len(), bytes: s.bytes, evicted: s.evicted, expired: s.expired }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(ttl: u64, budget: usize) -> ResultStore {
        ResultStore::new(StoreConfig { ttl: Duration::from_secs(ttl), budget, disk: None })
    }

    #[test]
    fn results_expire_after_the_ttl() {
        let s = store(60, 1000);
        let t0 = Instant::now();
        s.put("a", Bytes::from_static(b"abc"), t0);
        assert_eq!(s.get("a", t0 + Duration::from_secs(60)), Ok(Bytes::from_static(b"abc")));
        assert_eq!(s.get("a", t0 + Duration::from_secs(61)), Err(Gone::Expired));
        assert_eq!(s.get("a", t0), Err(Gone::Expired), "an expired result stays gone");
        assert_eq!(s.get("never", t0), Err(Gone::Unknown));
        assert_eq!(s.stats(), StoreStats { results: 0, bytes: 0, evicted: 0, expired: 1 });
    }

    #[test]
    fn the_oldest_results_are_evicted_to_stay_within_the_budget() {
        let s = store(3600, 10);
        let t = Instant::now();
        s.put("a", Bytes::from(vec![0u8; 4]), t);
        s.put("b", Bytes::from(vec![1u8; 4]), t);
        s.put("c", Bytes::from(vec![2u8; 4]), t);
        assert_eq!(s.get("a", t), Err(Gone::Evicted));
        assert_eq!(s.get("b", t).map(|b| b.len()), Ok(4));
        assert_eq!(s.get("c", t).map(|b| b.len()), Ok(4));
        s.put("huge", Bytes::from(vec![3u8; 11]), t);
        assert_eq!(s.get("huge", t), Err(Gone::Evicted), "larger than the whole budget: not kept");
        assert_eq!(s.stats(), StoreStats { results: 2, bytes: 8, evicted: 2, expired: 0 });
    }

    #[test]
    fn large_results_live_in_files_that_go_with_them() {
        let dir = std::env::temp_dir().join(format!("localndif-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = ResultStore::new(StoreConfig { ttl: Duration::from_secs(10), budget: 1000, disk: Some((dir.clone(), 100)) });
        let t = Instant::now();
        s.put("small", Bytes::from(vec![1u8; 10]), t);
        s.put("large", Bytes::from(vec![2u8; 200]), t);
        let file = dir.join("large.result");
        assert_eq!(std::fs::read(&file).unwrap(), vec![2u8; 200]);
        assert!(!dir.join("small.result").exists());
        assert_eq!(s.get("large", t).unwrap(), Bytes::from(vec![2u8; 200]));
        s.sweep(t + Duration::from_secs(11));
        assert!(!file.exists(), "the file goes with the result");
        assert_eq!(s.get("large", t), Err(Gone::Expired));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_sweep_drops_what_expired_and_keeps_the_rest() {
        let s = store(10, 100);
        let t0 = Instant::now();
        s.put("old", Bytes::from_static(b"x"), t0);
        s.put("new", Bytes::from_static(b"y"), t0 + Duration::from_secs(8));
        s.sweep(t0 + Duration::from_secs(11));
        assert_eq!(s.stats().results, 1);
        assert_eq!(s.get("old", t0), Err(Gone::Expired));
        assert!(s.get("new", t0 + Duration::from_secs(11)).is_ok());
    }
}
