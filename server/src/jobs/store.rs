//! Result blobs by job id, kept in memory for download (`GET /results/{id}`).

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

#[derive(Default)]
pub struct ResultStore {
    blobs: Mutex<HashMap<String, Bytes>>,
}

impl ResultStore {
    pub fn put(&self, id: &str, blob: Bytes) {
        super::lock(&self.blobs).insert(id.to_string(), blob);
    }

    pub fn get(&self, id: &str) -> Option<Bytes> {
        super::lock(&self.blobs).get(id).cloned()
    }
}
