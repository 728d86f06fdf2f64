//! Status updates: the client's `ResponseModel` (docs/protocol.md) with NDIF's descriptions.

use localndif_wire::torchsave::{Saved, torch_save_status};
use serde::Serialize;

pub const RECEIVED: &str = "Your job has been received and is waiting to be queued.";
pub const DISPATCHED: &str = "Your job has been sent to the model deployment.";
pub const RUNNING: &str = "Your job has started running.";
pub const COMPLETED: &str = "Your job has been completed.";

pub fn queued(position: usize) -> String {
    format!("Moved to position {position} in Queue.")
}

/// Only statuses every served client's enum has (docs/protocol.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Received,
    Queued,
    Dispatched,
    Running,
    Completed,
    Error,
    Log,
    /// nnsight 0.5–0.7's hybrid execution: `data` is a function for the client to run
    /// (`tracer.local()`; docs/protocol.md). Socket only, never stored.
    Stream,
}

impl Status {
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Completed | Status::Error)
    }
}

/// `data` of an update: nothing, or (COMPLETED) the result URL — a plain string works for
/// every client ≥ 0.5.11 (docs/protocol.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Data {
    None,
    Url(String),
    /// A STREAM's pickled function (never part of JSON).
    #[serde(skip)]
    Bytes(bytes::Bytes),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Update {
    pub id: String,
    pub status: Status,
    pub description: String,
    #[serde(serialize_with = "data_or_null")]
    pub data: Data,
    /// What the run cost the server (COMPLETED only; 0.8.x keeps it on `backend.meta`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
    /// COMPLETED: the result blob itself, for transports that may send it inline (G2's
    /// binary frame); never part of the JSON.
    #[serde(skip)]
    pub inline: Option<bytes::Bytes>,
}

fn data_or_null<S: serde::Serializer>(d: &Data, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Data::None | Data::Bytes(_) => s.serialize_none(),
        Data::Url(u) => s.serialize_str(u),
    }
}

impl Update {
    pub fn new(id: &str, status: Status, description: &str) -> Update {
        Update {
            id: id.to_string(),
            status,
            description: description.to_string(),
            data: Data::None,
            meta: None,
            inline: None,
        }
    }

    /// The G2 JSON text frame / poll body (`ResponseModel.model_validate_json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

impl Update {
    /// The G1 socket frame: `torch.save` of the dict NDIF emits as `blocking_response`
    /// (nnsight 0.5–0.7 `ResponseModel.unpickle`; docs/protocol.md), `status` a plain str.
    pub fn g1_frame(&self, session_id: Option<&str>) -> Vec<u8> {
        let opt = |s: Option<&str>| s.map_or(Saved::None, |s| Saved::Str(s.into()));
        let data = match &self.data {
            Data::None => Saved::None,
            Data::Url(u) => Saved::Str(u.clone()),
            Data::Bytes(b) => Saved::Bytes(b.to_vec()),
        };
        frame(vec![
            ("id", Saved::Str(self.id.clone())),
            ("status", Saved::Str(self.status.as_str().into())),
            ("description", Saved::Str(self.description.clone())),
            ("data", data),
            ("session_id", opt(session_id)),
            ("callback", Saved::Str(String::new())),
        ])
    }

    /// The G2 binary frame of a COMPLETED update carrying its result inline: nnsight 0.8.1
    /// `ResponseModel.pickle()` with `data` the result blob (docs/protocol.md).
    pub fn g2_inline_frame(&self, blob: &[u8]) -> Vec<u8> {
        let mut items = vec![
            ("id", Saved::Str(self.id.clone())),
            ("status", Saved::Str(self.status.as_str().into())),
            ("description", Saved::Str(self.description.clone())),
            ("data", Saved::Bytes(blob.to_vec())),
        ];
        if let Some(meta) = &self.meta {
            items.push(("meta", json_value(meta)));
        }
        frame(items)
    }
}

impl Status {
    /// The status a name stands for (what [`Status::as_str`] gives).
    pub fn parse(name: &str) -> Option<Status> {
        [Status::Received, Status::Queued, Status::Dispatched, Status::Running, Status::Completed, Status::Error, Status::Log, Status::Stream]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "RECEIVED",
            Status::Queued => "QUEUED",
            Status::Dispatched => "DISPATCHED",
            Status::Running => "RUNNING",
            Status::Completed => "COMPLETED",
            Status::Error => "ERROR",
            Status::Log => "LOG",
            Status::Stream => "STREAM",
        }
    }
}

fn frame(items: Vec<(&str, Saved)>) -> Vec<u8> {
    let dict = Saved::Dict(items.into_iter().map(|(k, v)| (Saved::Str(k.into()), v)).collect());
    // Only strings, numbers, bytes and dicts: nothing the writer can refuse.
    torch_save_status(&dict).expect("a status dict always saves")
}

/// A JSON value as the Python value pydantic would give (`meta`).
fn json_value(v: &serde_json::Value) -> Saved {
    use serde_json::Value;
    match v {
        Value::Null => Saved::None,
        Value::Bool(b) => Saved::Bool(*b),
        Value::Number(n) => n.as_i64().map(Saved::Int).unwrap_or_else(|| Saved::Float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Saved::Str(s.clone()),
        Value::Array(a) => Saved::List(a.iter().map(json_value).collect()),
        Value::Object(o) => Saved::Dict(o.iter().map(|(k, v)| (Saved::Str(k.clone()), json_value(v))).collect()),
    }
}
