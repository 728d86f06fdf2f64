//! Status updates: the client's `ResponseModel` (docs/protocol.md) with NDIF's descriptions.

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
}

fn data_or_null<S: serde::Serializer>(d: &Data, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Data::None => s.serialize_none(),
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
        }
    }

    /// The G2 JSON text frame / poll body (`ResponseModel.model_validate_json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}
