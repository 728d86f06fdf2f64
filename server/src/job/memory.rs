//! A job's peak of live tensor memory, measured where libtorch allocates CPU tensor
//! storage (`csrc/mem_track.cpp`): everything the job's thread allocated and had not yet
//! freed at its worst moment — the activations the model computed while hooks waited, the
//! intermediates and values of the user's code, the saved results — for COMPLETED
//! `meta.max_memory_usage`. Allocations are delegated unchanged (same addresses and
//! alignment), so counting never changes a number. Memory mapped weights are the model's,
//! not the job's, and are not counted; nor are CUDA allocations (docs/protocol.md).

use std::ffi::c_void;
use std::sync::Once;

unsafe extern "C" {
    fn lndif_mem_install();
    fn lndif_mem_begin() -> *mut c_void;
    fn lndif_mem_live(handle: *mut c_void) -> i64;
    fn lndif_mem_end(handle: *mut c_void) -> i64;
}

/// Counts the calling thread's CPU tensor allocations from [`Meter::start`] until
/// [`Meter::finish`] (or drop).
pub struct Meter {
    handle: *mut c_void,
}

impl Meter {
    pub fn start() -> Meter {
        static INSTALL: Once = Once::new();
        static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        // `LOCALNDIF_MEMORY_METER=0` leaves libtorch's allocator alone (the figure is then
        // the interpreter's own count).
        if *OFF.get_or_init(|| std::env::var("LOCALNDIF_MEMORY_METER").is_ok_and(|v| v == "0")) {
            return Meter { handle: std::ptr::null_mut() };
        }
        // SAFETY: wraps libtorch's CPU allocator once per process; the wrapper delegates
        // every call to the allocator it replaces, which stays alive for the process.
        INSTALL.call_once(|| unsafe { lndif_mem_install() });
        // SAFETY: returns a fresh handle owned by this Meter, released exactly once in
        // `end`.
        Meter { handle: unsafe { lndif_mem_begin() } }
    }

    /// Bytes of tensor storage the job's allocations hold now.
    pub fn live(&self) -> u64 {
        if self.handle.is_null() {
            return 0;
        }
        // SAFETY: `handle` is live until `end`.
        unsafe { lndif_mem_live(self.handle) }.max(0) as u64
    }

    /// The peak of live bytes since [`Meter::start`].
    pub fn finish(mut self) -> u64 {
        self.end()
    }

    fn end(&mut self) -> u64 {
        if self.handle.is_null() {
            return 0;
        }
        // SAFETY: the handle came from `lndif_mem_begin` and is ended once (nulled below).
        let peak = unsafe { lndif_mem_end(self.handle) };
        self.handle = std::ptr::null_mut();
        peak.max(0) as u64
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::Meter;

    #[test]
    fn the_peak_is_what_was_held_at_once_not_what_was_allocated() {
        let meter = Meter::start();
        let a = tch::Tensor::ones([1000, 1000], (tch::Kind::Float, tch::Device::Cpu));
        assert!(meter.live() >= 4_000_000, "{}", meter.live());
        drop(a);
        // Two smaller tensors after the first is gone: the peak stays the larger moment.
        let b = tch::Tensor::ones([500, 1000], (tch::Kind::Float, tch::Device::Cpu));
        let c = tch::Tensor::ones([500, 1000], (tch::Kind::Float, tch::Device::Cpu));
        let peak = meter.finish();
        assert!((4_000_000..6_000_000).contains(&peak), "{peak}");
        drop((b, c));
        // Another thread's allocations are its own.
        let meter = Meter::start();
        let _ = std::thread::spawn(|| tch::Tensor::ones([1000, 1000], (tch::Kind::Float, tch::Device::Cpu)).sum(tch::Kind::Float)).join().unwrap();
        assert!(meter.finish() < 1_000_000);
    }
}
