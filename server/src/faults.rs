//! Fault injection (`serve --fault NAME --allow-faults`): deliberate, documented ways of
//! being wrong, so the conformance suite can prove it notices each one (every fault is
//! "killed" by at least one case; `conformance/tests/e2e.rs`). Off unless asked for; never
//! for real use.

use std::sync::atomic::{AtomicU32, Ordering};

/// The faults, each a way a server could go wrong that a client would notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every saved float tensor is off by 1e-3.
    Offset,
    /// Saved float tensors come back as float64.
    Dtype,
    /// The last saved name is missing from the result.
    DropSave,
    /// The first two saved names swap values.
    SwapSaves,
    /// `print` output (LOG statuses) is dropped.
    DropLog,
    /// COMPLETED carries no `meta`.
    DropMeta,
    /// ERROR descriptions lose the user's traceback (just "error").
    ErrorText,
    /// Result blobs lose their last 16 bytes.
    TruncateResult,
    /// Every submission is refused with 503.
    Submit503,
    /// A job gets the previous job's result.
    WrongResult,
    /// A G2 socket is closed after its second update (mid-job).
    DropSocket,
    /// A job that failed is reported COMPLETED (with an empty result).
    ErrorAsCompleted,
    /// RUNNING is sent before DISPATCHED.
    StatusOrder,
    /// Every update is also sent to every other subscribed socket.
    LeakUpdates,
    /// Every job ends with an ERROR saying the server does not implement what it ran, in
    /// nnsight's form for an absent feature (`NotImplementedError`): a conformance suite
    /// must call that MISSING, never SKIP.
    NotImplemented,
    /// Every job ends with an interpreter bug's ERROR, a `TypeError: unsupported operand
    /// type(s)`: a real failure a suite must not mistake for a missing feature.
    UnsupportedOperand,
}

const ALL: &[(&str, Fault)] = &[
    ("offset", Fault::Offset),
    ("dtype", Fault::Dtype),
    ("drop-save", Fault::DropSave),
    ("swap-saves", Fault::SwapSaves),
    ("drop-log", Fault::DropLog),
    ("drop-meta", Fault::DropMeta),
    ("error-text", Fault::ErrorText),
    ("truncate-result", Fault::TruncateResult),
    ("submit-503", Fault::Submit503),
    ("wrong-result", Fault::WrongResult),
    ("drop-socket", Fault::DropSocket),
    ("error-as-completed", Fault::ErrorAsCompleted),
    ("status-order", Fault::StatusOrder),
    ("leak-updates", Fault::LeakUpdates),
    ("not-implemented", Fault::NotImplemented),
    ("unsupported-operand", Fault::UnsupportedOperand),
];

static ON: AtomicU32 = AtomicU32::new(0);

fn bit(f: Fault) -> u32 {
    1 << f as u32
}

/// Every fault's name.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|(n, _)| *n).collect()
}

/// Turns on the fault named `name`.
pub fn enable(name: &str) -> Result<(), String> {
    let f = ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f).ok_or_else(|| format!("unknown fault '{name}' (known: {})", names().join(", ")))?;
    ON.fetch_or(bit(f), Ordering::SeqCst);
    Ok(())
}

/// Whether `f` is on.
pub fn on(f: Fault) -> bool {
    ON.load(Ordering::Relaxed) & bit(f) != 0
}
