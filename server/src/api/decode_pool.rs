//! The threads request payloads are inflated and decoded on: as many as the machine has
//! cores (at most 4), each at a lower scheduling priority (nice +10), so that however
//! much decoding clients send, the async runtime — `/ping`, status polls, sockets — keeps
//! its CPU. Decodes wait their turn in one queue.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};

type Task = Box<dyn FnOnce() + Send>;

static POOL: OnceLock<Mutex<Sender<Task>>> = OnceLock::new();

/// Queues `task` on the decode threads (started on first use).
pub fn run(task: Task) {
    let pool = POOL.get_or_init(|| {
        let (tx, rx) = channel::<Task>();
        let rx = std::sync::Arc::new(Mutex::new(rx));
        let n = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
        for i in 0..n {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("decode-{i}"))
                .spawn(move || {
                    // On Linux `setpriority(PRIO_PROCESS, 0, …)` applies to the calling
                    // thread only. Failing to lower it costs responsiveness, not
                    // correctness.
                    // SAFETY: a plain syscall on this thread, no pointers involved.
                    unsafe {
                        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
                    }
                    loop {
                        let next = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                        let Ok(task) = next else { return };
                        // A panicking decode must not take the thread with it: its
                        // caller sees the dropped reply as an internal error.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(task));
                    }
                })
                .expect("spawning a decode thread");
        }
        Mutex::new(tx)
    });
    let sent = pool.lock().unwrap_or_else(std::sync::PoisonError::into_inner).send(task);
    if let Err(e) = sent {
        // The threads are gone (never, short of a bug): run it here rather than lose it.
        (e.0)();
    }
}
