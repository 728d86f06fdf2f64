//! Inflating a request body into its pickle without letting a small body buy a large
//! decode: a per-request cap (`serve --max-request-bytes`) checked against a zstd frame's
//! declared content size before one byte is inflated, and otherwise while inflating, and
//! a budget of decoded bytes shared by every decode in flight (`serve --decode-budget`).
//! The codec is sniffed, never taken from the headers (docs/protocol.md): zstd (nnsight
//! 0.6+), zlib (0.5.x) or a raw pickle.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use localndif_wire::zstdio;

use super::RequestError;

/// The default of `serve --max-request-bytes`: the most a request may inflate to.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 512 << 20;

/// The default of `serve --decode-budget`: decoded bytes all requests may hold at once.
pub const DEFAULT_DECODE_BUDGET: usize = 1 << 30;

/// Bytes inflated between two checks of the cap and the budget.
const CHUNK: usize = 1 << 20;

/// What a decode may cost.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The most one request's payload may inflate to.
    pub max_bytes: usize,
    /// Shared by every decode in flight; `None`: unlimited (tests, tools).
    pub budget: Option<Arc<DecodeBudget>>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: DEFAULT_MAX_REQUEST_BYTES, budget: None }
    }
}

/// Decoded bytes held by the decodes in flight, against a cap.
#[derive(Debug)]
pub struct DecodeBudget {
    cap: usize,
    used: AtomicUsize,
}

impl DecodeBudget {
    pub fn new(cap: usize) -> DecodeBudget {
        DecodeBudget { cap, used: AtomicUsize::new(0) }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::SeqCst)
    }

    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |u| u.checked_add(n).filter(|&t| t <= self.cap))
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::SeqCst);
    }
}

/// Bytes reserved from a [`DecodeBudget`] until dropped.
#[derive(Debug, Default)]
pub struct Reservation {
    budget: Option<Arc<DecodeBudget>>,
    bytes: usize,
}

impl Reservation {
    fn grow(&mut self, n: usize) -> Result<(), RequestError> {
        if let Some(b) = &self.budget {
            if !b.take(n) {
                return Err(RequestError::Busy { budget: b.cap });
            }
            self.bytes += n;
        }
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            b.give(self.bytes);
        }
    }
}

/// The pickle inside `body`, and the budget it holds while the caller decodes it.
pub fn inflate(body: &[u8], limits: &Limits) -> Result<(Vec<u8>, Reservation), RequestError> {
    let mut held = Reservation { budget: limits.budget.clone(), bytes: 0 };
    let too_large = |declared| RequestError::TooLarge { limit: limits.max_bytes, declared };
    match body {
        [0x28, 0xB5, 0x2F, 0xFD, ..] => {
            // A frame that says how large it is is judged before it is inflated.
            if let Some(declared) = zstdio::declared_size(body)
                && declared > limits.max_bytes as u64
            {
                return Err(too_large(Some(declared)));
            }
            let decoder = zstdio::reader(body).map_err(|e| RequestError::Decompress(e.to_string()))?;
            let out = bounded(decoder, limits, &mut held, "zstd")?;
            Ok((out, held))
        }
        [0x78, b, ..] if (0x78u16 * 256 + u16::from(*b)).is_multiple_of(31) => {
            let out = bounded(flate2::read::ZlibDecoder::new(body), limits, &mut held, "zlib")?;
            Ok((out, held))
        }
        _ => {
            if body.len() > limits.max_bytes {
                return Err(too_large(Some(body.len() as u64)));
            }
            held.grow(body.len())?;
            Ok((body.to_vec(), held))
        }
    }
}

/// Reads `r` to the end in chunks, reserving each from the budget first and stopping at
/// the cap.
fn bounded(mut r: impl Read, limits: &Limits, held: &mut Reservation, codec: &str) -> Result<Vec<u8>, RequestError> {
    let mut out = Vec::new();
    loop {
        let room = limits.max_bytes.saturating_add(1).saturating_sub(out.len()).min(CHUNK);
        if room == 0 {
            return Err(RequestError::TooLarge { limit: limits.max_bytes, declared: None });
        }
        held.grow(room)?;
        let start = out.len();
        out.resize(start + room, 0);
        let n = read_full(&mut r, &mut out[start..]).map_err(|e| RequestError::Decompress(format!("{codec}: {e}")))?;
        out.truncate(start + n);
        if n < room {
            if out.len() > limits.max_bytes {
                return Err(RequestError::TooLarge { limit: limits.max_bytes, declared: None });
            }
            return Ok(out);
        }
    }
}

/// Fills `buf` unless the stream ends first; the count read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zstd_frame(data: &[u8]) -> Vec<u8> {
        zstdio::compress(data, 3)
    }

    /// A frame that does not declare its size (its header's size field dropped).
    fn zstd_stream(data: &[u8]) -> Vec<u8> {
        zstdio::compress_stream(data, 3)
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut e, data).unwrap();
        e.finish().unwrap()
    }

    fn limits(max: usize, budget: Option<usize>) -> Limits {
        Limits { max_bytes: max, budget: budget.map(|b| Arc::new(DecodeBudget::new(b))) }
    }

    #[test]
    fn every_codec_inflates_what_fits() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        for body in [zstd_frame(&data), zstd_stream(&data), zlib(&data), data.clone()] {
            let (out, _) = inflate(&body, &limits(data.len(), None)).unwrap();
            assert_eq!(out, data);
            // No cap at all (a cluster worker re-decoding what its front admitted).
            let (out, _) = inflate(&body, &limits(usize::MAX, None)).unwrap();
            assert_eq!(out, data);
        }
    }

    #[test]
    fn a_declared_size_past_the_cap_is_refused_before_inflating() {
        let zeros = vec![0u8; 64 << 20];
        let bomb = zstd_frame(&zeros);
        assert!(bomb.len() < 64 << 10, "{}", bomb.len());
        // The budget is far smaller than the frame: a refusal that inflated anything
        // would say Busy, not TooLarge.
        let l = limits(1 << 20, Some(1 << 10));
        match inflate(&bomb, &l) {
            Err(RequestError::TooLarge { limit, declared }) => assert_eq!((limit, declared), (1 << 20, Some(64 << 20))),
            other => panic!("{other:?}"),
        }
        assert_eq!(l.budget.unwrap().used(), 0);
    }

    #[test]
    fn undeclared_streams_stop_at_the_cap() {
        let zeros = vec![0u8; 8 << 20];
        for body in [zstd_stream(&zeros), zlib(&zeros)] {
            let l = limits(3 << 20, Some(64 << 20));
            assert!(matches!(inflate(&body, &l), Err(RequestError::TooLarge { declared: None, .. })));
            // Nothing stays reserved after a refusal.
            assert_eq!(l.budget.unwrap().used(), 0);
        }
    }

    #[test]
    fn the_budget_is_shared_and_returned() {
        let data = vec![7u8; 3 << 20];
        let body = zstd_frame(&data);
        let l = limits(8 << 20, Some(5 << 20));
        let (_, held) = inflate(&body, &l).unwrap();
        let budget = l.budget.clone().unwrap();
        assert!(budget.used() >= data.len());
        // A second decode does not fit beside the first...
        assert!(matches!(inflate(&body, &l), Err(RequestError::Busy { .. })));
        // ...and does once the first is done.
        drop(held);
        assert_eq!(budget.used(), 0);
        assert!(inflate(&body, &l).is_ok());
        assert_eq!(budget.used(), 0);
    }
}
