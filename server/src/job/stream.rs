//! The job's side of `session.local()` (nnsight 0.5–0.7 hybrid execution,
//! `interleave::local`): the block goes to the client as a STREAM (`save::stream_function`),
//! the job waits for the client's `stream_upload`, and the uploaded `{name: value}` dict is
//! loaded like a request's captured values.

use std::rc::Rc;

use localndif_wire::pickle;

use super::{load, save};
use crate::interleave::local::{ClientBlock, ClientRunner};
use crate::jobs::StreamFn;
use crate::value::{PyErr, Value};

/// Runs blocks on the client through `stream`.
pub fn runner(stream: StreamFn, nnsight_05: bool) -> ClientRunner {
    Rc::new(move |ctx, block: ClientBlock| {
        let data = save::stream_function(&block.source, &block.name, &block.captured, nnsight_05)?;
        let upload = stream(data).map_err(|why| PyErr::runtime_error(format!("session.local(): {why}")))?;
        let g = pickle::decode(&upload)
            .map_err(|e| PyErr::value_error(format!("session.local(): the client's upload could not be decoded: {e}")))?;
        let mut loader = load::Loader::new(&g, ctx.clone(), None);
        let Value::Dict(d) = loader.value(g.root)? else {
            return Err(PyErr::value_error("session.local(): the client's upload is not a dict of values"));
        };
        d.items()
            .into_iter()
            .map(|(k, v)| {
                k.as_str()
                    .map(|k| (Rc::from(k), v))
                    .ok_or_else(|| PyErr::value_error("session.local(): an uploaded name is not a str"))
            })
            .collect()
    })
}
