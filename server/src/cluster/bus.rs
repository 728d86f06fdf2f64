//! Everything a cluster shares through Redis (`--redis URL`), under one key prefix:
//!
//! * `{p}jobs:{repo}` — a Redis Stream per model, consumer group `workers`: fronts `XADD` a
//!   [`Ticket`]; a worker `XREADGROUP`s it, keeps its lease fresh (`XCLAIM … JUSTID`) while it
//!   runs, and `XACK`s + `XDEL`s it only after the job's terminal status is stored. An entry
//!   idle past the lease (its worker died) is `XAUTOCLAIM`ed by another worker.
//! * `{p}status:{id}` — the job's latest non-LOG status (JSON, with its owner), what any
//!   front answers `GET /response/{id}` from; `{p}done:{id}` — set once (`NX`) by whoever
//!   stores the terminal status, so a job reclaimed from a slow worker ends only once.
//! * `{p}updates` — a pub/sub channel of every update; each front relays those of the
//!   sockets it holds.
//! * `{p}workers` — a hash of each worker's models, `/status` entries and model files;
//!   `{p}alive:{id}` — present while the worker's heartbeat renews it; `{p}models` — the
//!   repo ids jobs were queued for; `{p}session:{sid}` — a socket some front holds (its
//!   key's owner).

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use redis::{Connection, RedisResult, Value};
use serde_json::json;

use crate::jobs::{Data, Status, Update};
use crate::request::Submission;

/// The consumer group every worker joins.
pub const GROUP: &str = "workers";

/// Commands that do not block give up after this long (Redis unreachable mid-call).
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the cluster's Redis, re-opened after an error.
pub struct Bus {
    client: redis::Client,
    conn: Mutex<Option<Connection>>,
    /// When the last connect failed: calls fail at once for [`RETRY_AFTER`] rather than
    /// each waiting out a connect timeout while holding the connection's lock.
    failed_at: Mutex<Option<std::time::Instant>>,
    prefix: String,
    pub url: String,
}

/// How long after a failed connect calls fail without trying again.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Records an update atomically (a check and two writes cannot be split by a dropped
/// connection or interleaved with another worker's): a terminal status only if the job has
/// not ended (`SET NX` of the `done` key), anything else only while it has not; LOGs are
/// published, not kept. KEYS: done, status. ARGV: text, ttl seconds, kind
/// (`terminal`/`status`/`log`), channel. Returns 1 if recorded.
const POST: &str = r#"
if ARGV[3] == 'terminal' then
  if not redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[2]) then return 0 end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if ARGV[3] ~= 'log' then redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2]) end
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
"#;

/// Drops a worker's record only if it is still not alive (its heartbeat may have just
/// renewed it). KEYS: the workers hash, the worker's alive key. ARGV: the worker id.
const PRUNE: &str = r#"
if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"#;

/// One queued job as it travels from a front to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub id: String,
    pub repo: String,
    /// The socket (either generation) that gets the job's updates, for a blocking job.
    pub session: Option<String>,
    pub owner: Option<String>,
    pub result_url: String,
    /// When the front received the request (Unix ms), for `meta.server_time`.
    pub received_ms: u64,
    pub submission: Submission,
}

/// An update as it travels on the channel and is kept as `{p}status:{id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    pub update: Update,
    pub session: Option<String>,
    pub owner: Option<String>,
    /// COMPLETED: the result's size (the front fetches it to send it inline).
    pub result_bytes: Option<usize>,
}

impl Posted {
    pub fn to_json(&self) -> String {
        let u = &self.update;
        json!({
            "id": u.id,
            "status": u.status.as_str(),
            "description": u.description,
            "data": match &u.data { Data::Url(s) => json!(s), _ => json!(null) },
            "meta": u.meta,
            "session": self.session,
            "owner": self.owner,
            "result_bytes": self.result_bytes,
        })
        .to_string()
    }

    pub fn from_json(text: &[u8]) -> Option<Posted> {
        let v: serde_json::Value = serde_json::from_slice(text).ok()?;
        let status = Status::parse(v["status"].as_str()?)?;
        let mut update = Update::new(v["id"].as_str()?, status, v["description"].as_str().unwrap_or(""));
        if let Some(url) = v["data"].as_str() {
            update.data = Data::Url(url.to_string());
        }
        update.meta = Some(v["meta"].clone()).filter(|m| !m.is_null());
        let s = |k: &str| v[k].as_str().map(str::to_string);
        Some(Posted { update, session: s("session"), owner: s("owner"), result_bytes: v["result_bytes"].as_u64().map(|n| n as usize) })
    }
}

fn field(id: &redis::streams::StreamId, k: &str) -> Option<Vec<u8>> {
    match id.map.get(k)? {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        _ => None,
    }
}

impl Ticket {
    fn fields(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut f = vec![
            ("id", self.id.clone().into_bytes()),
            ("repo", self.repo.clone().into_bytes()),
            ("result_url", self.result_url.clone().into_bytes()),
            ("received_ms", self.received_ms.to_string().into_bytes()),
        ];
        if let Some(s) = &self.session {
            f.push(("session", s.clone().into_bytes()));
        }
        if let Some(o) = &self.owner {
            f.push(("owner", o.clone().into_bytes()));
        }
        match &self.submission {
            Submission::G1 { model_key, body, compress, python } => {
                f.push(("kind", b"g1".to_vec()));
                f.push(("model_key", model_key.clone().into_bytes()));
                f.push(("python", python.clone().into_bytes()));
                f.push(("compress", if *compress { b"1".to_vec() } else { b"0".to_vec() }));
                f.push(("body", body.to_vec()));
            }
            Submission::G2 { envelope, blob } => {
                f.push(("kind", b"g2".to_vec()));
                f.push(("envelope", envelope.to_vec()));
                f.push(("blob", blob.to_vec()));
            }
        }
        f
    }

    /// The ticket a stream entry carries; `Err` names what is missing (the entry was not
    /// written by a localndif front).
    pub fn from_entry(e: &redis::streams::StreamId) -> Result<Ticket, String> {
        let text = |k: &str| -> Result<String, String> {
            field(e, k).and_then(|b| String::from_utf8(b).ok()).ok_or_else(|| format!("the queue entry {} has no '{k}'", e.id))
        };
        let opt = |k: &str| field(e, k).and_then(|b| String::from_utf8(b).ok());
        let bytes = |k: &str| field(e, k).map(Bytes::from).ok_or_else(|| format!("the queue entry {} has no '{k}'", e.id));
        let submission = match text("kind")?.as_str() {
            "g1" => Submission::G1 {
                model_key: text("model_key")?,
                compress: text("compress")? == "1",
                body: bytes("body")?,
                python: opt("python").unwrap_or_default(),
            },
            "g2" => Submission::G2 { envelope: bytes("envelope")?, blob: bytes("blob")? },
            other => return Err(format!("the queue entry {} is of unknown kind '{other}'", e.id)),
        };
        Ok(Ticket {
            id: text("id")?,
            repo: text("repo")?,
            session: opt("session"),
            owner: opt("owner"),
            result_url: text("result_url")?,
            received_ms: text("received_ms")?.parse().map_err(|_| format!("the queue entry {} has a bad 'received_ms'", e.id))?,
            submission,
        })
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Bus {
    /// Connects to `url` (`redis://host:port[/db]`) and checks that Redis answers.
    pub fn open(url: &str, prefix: &str) -> anyhow::Result<Bus> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("--redis {url}: {e}"))?;
        let bus = Bus { client, conn: Mutex::new(None), failed_at: Mutex::new(None), prefix: prefix.to_string(), url: url.to_string() };
        bus.with(|c| redis::cmd("PING").query::<String>(c)).map_err(|e| anyhow::anyhow!("--redis {url}: {e}"))?;
        Ok(bus)
    }

    /// A connection of its own, for blocking reads and pub/sub.
    pub fn dedicated(&self, read_timeout: Duration) -> RedisResult<Connection> {
        let c = self.client.get_connection_with_timeout(IO_TIMEOUT)?;
        c.set_read_timeout(Some(read_timeout))?;
        c.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(c)
    }

    /// Runs `f` on the shared connection, opening it (again) if needed; an I/O error drops
    /// the connection so the next call opens a fresh one.
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> RedisResult<T>) -> RedisResult<T> {
        let mut slot = self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.is_none() {
            let mut failed = self.failed_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if failed.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
                return Err(redis::RedisError::from(std::io::Error::new(
                    std::io::ErrorKind::NotConnected,
                    format!("Redis at {} is unreachable (retrying shortly)", self.url),
                )));
            }
            match self.dedicated(IO_TIMEOUT) {
                Ok(c) => {
                    *failed = None;
                    *slot = Some(c);
                }
                Err(e) => {
                    *failed = Some(std::time::Instant::now());
                    return Err(e);
                }
            }
        }
        let out = f(slot.as_mut().expect("opened above"));
        if let Err(e) = &out
            && (e.is_io_error() || e.is_connection_dropped() || e.is_timeout())
        {
            *slot = None;
        }
        out
    }

    pub fn stream(&self, repo: &str) -> String {
        format!("{}jobs:{repo}", self.prefix)
    }
    pub fn status_key(&self, id: &str) -> String {
        format!("{}status:{id}", self.prefix)
    }
    fn done_key(&self, id: &str) -> String {
        format!("{}done:{id}", self.prefix)
    }
    pub fn channel(&self) -> String {
        format!("{}updates", self.prefix)
    }
    fn workers_key(&self) -> String {
        format!("{}workers", self.prefix)
    }
    fn alive_key(&self, worker: &str) -> String {
        format!("{}alive:{worker}", self.prefix)
    }
    /// The set of repo ids jobs were ever queued for (the fronts' sweeper walks it).
    pub fn models_key(&self) -> String {
        format!("{}models", self.prefix)
    }
    fn session_key(&self, sid: &str) -> String {
        format!("{}session:{sid}", self.prefix)
    }

    /// Queues `ticket` for the workers of its model.
    pub fn enqueue(&self, ticket: &Ticket) -> RedisResult<()> {
        let stream = self.stream(&ticket.repo);
        let fields = ticket.fields();
        self.with(|c| {
            let mut cmd = redis::cmd("XADD");
            cmd.arg(&stream).arg("*");
            for (k, v) in &fields {
                cmd.arg(*k).arg(v.as_slice());
            }
            redis::pipe().add_command(cmd).ignore().cmd("SADD").arg(self.models_key()).arg(&ticket.repo).ignore().query(c)
        })
    }

    /// Jobs of `repo` waiting or running (finished ones leave the stream).
    pub fn queue_len(&self, repo: &str) -> RedisResult<usize> {
        let stream = self.stream(repo);
        self.with(|c| redis::cmd("XLEN").arg(&stream).query(c))
    }

    /// Records `posted` as the job's latest status without publishing it.
    pub fn record(&self, posted: &Posted, ttl: Duration) -> RedisResult<()> {
        let (key, text) = (self.status_key(&posted.update.id), posted.to_json());
        self.with(|c| redis::cmd("SET").arg(&key).arg(&text).arg("EX").arg(ttl.as_secs().max(1)).query(c))
    }

    /// Records `posted` as the job's latest status (unless it is a LOG) and publishes it,
    /// atomically ([`POST`]). `Ok(false)` if the job had already ended (nothing recorded).
    pub fn post(&self, posted: &Posted, ttl: Duration) -> RedisResult<bool> {
        let text = posted.to_json();
        let kind = match posted.update.status {
            s if s.is_terminal() => "terminal",
            Status::Log => "log",
            _ => "status",
        };
        let (status, done, channel) = (self.status_key(&posted.update.id), self.done_key(&posted.update.id), self.channel());
        let ttl_s = ttl.as_secs().max(1);
        self.with(|c| {
            let n: i64 = redis::cmd("EVAL").arg(POST).arg(2).arg(&done).arg(&status).arg(&text).arg(ttl_s).arg(kind).arg(&channel).query(c)?;
            Ok(n == 1)
        })
    }

    /// Whether job `id` has a terminal status already.
    pub fn ended(&self, id: &str) -> RedisResult<bool> {
        let done = self.done_key(id);
        self.with(|c| redis::cmd("EXISTS").arg(&done).query(c))
    }

    /// Creates the consumer group of `repo`'s stream (and the stream) unless it exists.
    pub fn ensure_group(&self, repo: &str) -> RedisResult<()> {
        let stream = self.stream(repo);
        match self.with(|c| redis::cmd("XGROUP").arg("CREATE").arg(&stream).arg(GROUP).arg("0").arg("MKSTREAM").query::<()>(c)) {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(e),
            _ => Ok(()),
        }
    }

    /// The job's latest status, if Redis still has it.
    pub fn status(&self, id: &str) -> RedisResult<Option<Posted>> {
        let key = self.status_key(id);
        let text: Option<Vec<u8>> = self.with(|c| redis::cmd("GET").arg(&key).query(c))?;
        Ok(text.and_then(|t| Posted::from_json(&t)))
    }

    /// Removes a finished entry from its stream.
    pub fn ack(&self, stream: &str, entry: &str) -> RedisResult<()> {
        self.with(|c| {
            redis::pipe()
                .cmd("XACK").arg(stream).arg(GROUP).arg(entry).ignore()
                .cmd("XDEL").arg(stream).arg(entry).ignore()
                .query(c)
        })
    }

    /// A socket held by some front (and the key that opened it, `""` for none).
    pub fn open_session(&self, sid: &str, owner: Option<&str>, ttl: Duration) -> RedisResult<()> {
        let key = self.session_key(sid);
        self.with(|c| redis::cmd("SET").arg(&key).arg(owner.unwrap_or("")).arg("EX").arg(ttl.as_secs().max(1)).query(c))
    }

    pub fn close_session(&self, sid: &str) -> RedisResult<()> {
        let key = self.session_key(sid);
        self.with(|c| redis::cmd("DEL").arg(&key).query(c))
    }

    /// The owner of an open socket (`Some("")` for one opened without a key).
    pub fn session(&self, sid: &str) -> RedisResult<Option<String>> {
        let key = self.session_key(sid);
        self.with(|c| redis::cmd("GET").arg(&key).query(c))
    }

    /// Writes a worker's record and marks it alive for `live_for` (Redis's own clock:
    /// no clock of ours is compared with another's).
    pub fn register_worker(&self, worker: &str, record: serde_json::Value, live_for: Duration) -> RedisResult<()> {
        let (hash, alive) = (self.workers_key(), self.alive_key(worker));
        let ms = live_for.as_millis().max(1) as u64;
        self.with(|c| {
            redis::pipe()
                .cmd("HSET").arg(&hash).arg(worker).arg(record.to_string()).ignore()
                .cmd("SET").arg(&alive).arg(1).arg("PX").arg(ms).ignore()
                .query(c)
        })
    }

    pub fn unregister_worker(&self, worker: &str) -> RedisResult<()> {
        let (hash, alive) = (self.workers_key(), self.alive_key(worker));
        self.with(|c| redis::pipe().cmd("HDEL").arg(&hash).arg(worker).ignore().cmd("DEL").arg(&alive).ignore().query(c))
    }

    /// The records of every live worker (records of workers no longer alive are pruned).
    pub fn workers(&self) -> RedisResult<Vec<serde_json::Value>> {
        let hash = self.workers_key();
        let all: Vec<(String, Vec<u8>)> = self.with(|c| redis::cmd("HGETALL").arg(&hash).query(c))?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let alive_keys: Vec<String> = all.iter().map(|(w, _)| self.alive_key(w)).collect();
        let alive: Vec<Option<String>> = self.with(|c| redis::cmd("MGET").arg(&alive_keys).query(c))?;
        let mut live = Vec::new();
        for ((worker, text), alive) in all.into_iter().zip(alive) {
            match (alive, serde_json::from_slice::<serde_json::Value>(&text)) {
                (Some(_), Ok(v)) => live.push(v),
                _ => {
                    let key = self.alive_key(&worker);
                    let _ = self.with(|c| redis::cmd("EVAL").arg(PRUNE).arg(2).arg(&hash).arg(&key).arg(&worker).query::<i64>(c));
                }
            }
        }
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_survives_its_stream_entry() {
        let t = Ticket {
            id: "j1".into(),
            repo: "org/model".into(),
            session: Some("s".into()),
            owner: None,
            result_url: "http://h/results/j1".into(),
            received_ms: 123,
            submission: Submission::G1 { model_key: "k".into(), body: Bytes::from_static(b"\x00\xff"), compress: true, python: "3.11.7".into() },
        };
        let entry = redis::streams::StreamId {
            id: "1-0".into(),
            map: t.fields().into_iter().map(|(k, v)| (k.to_string(), Value::BulkString(v))).collect(),
            ..Default::default()
        };
        assert_eq!(Ticket::from_entry(&entry), Ok(t));
        let mut broken = entry.clone();
        broken.map.remove("repo");
        assert_eq!(Ticket::from_entry(&broken).unwrap_err(), "the queue entry 1-0 has no 'repo'");
    }

    #[test]
    fn a_posted_update_survives_json() {
        let mut u = Update::new("j", Status::Completed, "done");
        u.data = Data::Url("http://h/results/j".into());
        u.meta = Some(json!({"runtime": 0.5}));
        let p = Posted { update: u, session: None, owner: Some("alice".into()), result_bytes: Some(10) };
        assert_eq!(Posted::from_json(p.to_json().as_bytes()), Some(p));
        assert_eq!(Posted::from_json(b"{}"), None);
    }
}
