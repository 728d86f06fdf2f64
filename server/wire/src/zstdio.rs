//! zstd framing (docs/protocol.md, docs/protocol.md): requests are decoded with the
//! streaming decoder (multi-frame safe, size-capped while reading); responses are one
//! frame that declares its content size, because nnsight 0.8 decompresses results with
//! the one-shot `ZstdDecompressor().decompress()`.

use std::io::Read;

use crate::WireError;

const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether `bytes` starts with the zstd frame magic `28 b5 2f fd`.
pub fn is_zstd(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Decompresses every frame in `bytes`; fails as soon as the output would exceed
/// `max_out` bytes.
pub fn decompress(bytes: &[u8], max_out: usize) -> Result<Vec<u8>, WireError> {
    let decoder = zstd::stream::read::Decoder::with_buffer(bytes).map_err(WireError::Zstd)?;
    let cap = u64::try_from(max_out).unwrap_or(u64::MAX).saturating_add(1);
    let mut out = Vec::new();
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(WireError::Zstd)?;
    if out.len() > max_out {
        return Err(WireError::TooLarge { limit: max_out });
    }
    Ok(out)
}

/// The content size the first frame of `bytes` declares in its header, if it does.
pub fn declared_size(bytes: &[u8]) -> Option<u64> {
    zstd::zstd_safe::get_frame_content_size(bytes).ok().flatten()
}

/// A streaming reader of every frame in `bytes` (the caller bounds what it reads).
pub fn reader(bytes: &[u8]) -> Result<impl Read + '_, WireError> {
    zstd::stream::read::Decoder::with_buffer(bytes).map_err(WireError::Zstd)
}

/// What a streaming compressor writes (python-zstandard's `stream_writer`): frames that
/// do not declare their content size.
pub fn compress_stream(bytes: &[u8], level: i32) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), level).expect("in-memory zstd compression cannot fail");
    std::io::Write::write_all(&mut e, bytes).expect("in-memory zstd compression cannot fail");
    e.finish().expect("in-memory zstd compression cannot fail")
}

/// One zstd frame with the content size in its header (`zstd::bulk::compress`).
///
/// # Panics
/// Only if zstd cannot allocate its context (the level is clamped by zstd).
pub fn compress(bytes: &[u8], level: i32) -> Vec<u8> {
    zstd::bulk::compress(bytes, level).expect("in-memory zstd compression cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn round_trip_declares_content_size() {
        let data = sample();
        let frame = compress(&data, 6);
        assert!(is_zstd(&frame));
        let size = zstd::zstd_safe::get_frame_content_size(&frame).expect("valid frame");
        assert_eq!(size, Some(data.len() as u64));
        assert_eq!(decompress(&frame, data.len()).unwrap(), data);
    }

    #[test]
    fn concatenated_frames_decode_fully() {
        let mut stream = compress(b"first ", 3);
        stream.extend(compress(b"second", 3));
        assert_eq!(decompress(&stream, 64).unwrap(), b"first second");
    }

    #[test]
    fn output_cap_is_enforced() {
        let data = sample();
        let frame = compress(&data, 6);
        let err = decompress(&frame, data.len() - 1).unwrap_err();
        assert!(
            matches!(err, WireError::TooLarge { limit } if limit == data.len() - 1),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_an_error_and_not_zstd() {
        assert!(!is_zstd(b"\x80\x04\x95"));
        assert!(decompress(b"\x28\xb5\x2f\xfdgarbage", 1024).is_err());
    }
}
