//! A socket's updates not yet written to the client, bounded in bytes (`serve
//! --socket-backlog`): a client that stops reading is cut off — its socket closed, with a
//! reason where the transport has one — instead of letting its updates pile up in memory.
//! Its jobs are then orphans (`Jobs::unsubscribe`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[derive(Debug)]
pub struct Backlog {
    bytes: AtomicUsize,
    max: usize,
    overflowed: AtomicBool,
}

impl Backlog {
    pub fn new(max: usize) -> Backlog {
        Backlog { bytes: AtomicUsize::new(0), max, overflowed: AtomicBool::new(false) }
    }

    /// Accounts `n` more pending bytes; `false` (and the socket is marked overflowed)
    /// when that would pass the bound.
    pub fn add(&self, n: usize) -> bool {
        if self.overflowed.load(Ordering::SeqCst) {
            return false;
        }
        let now = self.bytes.fetch_add(n, Ordering::SeqCst) + n;
        if now > self.max {
            self.overflowed.store(true, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// `n` bytes were written to the client.
    pub fn sent(&self, n: usize) {
        self.bytes.fetch_sub(n.min(self.bytes.load(Ordering::SeqCst)), Ordering::SeqCst);
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::SeqCst)
    }

    /// Why the socket is being closed (for the close frame and the log).
    pub fn reason(&self) -> String {
        format!("localndif: the client did not read its updates (over {} bytes pending); closing", self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_that_keeps_up_is_never_cut_off_and_one_that_does_not_is() {
        let b = Backlog::new(100);
        for _ in 0..1000 {
            assert!(b.add(60));
            b.sent(60);
        }
        assert!(b.add(60) && b.add(40), "exactly at the bound");
        assert!(!b.add(1), "past the bound");
        assert!(b.overflowed());
        b.sent(100);
        assert!(!b.add(1), "an overflowed socket stays cut off");
    }
}
