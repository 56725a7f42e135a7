//! Crash points for the crash soak, compiled in only with the `fault-injection` feature (the
//! devnet's end-to-end tests turn it on; `make install` and releases never do). Without the
//! feature every hook is an empty inline function.

/// The process kills itself with SIGKILL at crash point `point` when the feature is on and
/// `CROWDPROVE_RELAYER_CRASH` names it: nothing after it runs, no buffer is flushed, no
/// destructor runs, as when the machine dies there.
#[inline]
pub(crate) fn crash_point(point: &str) {
    #[cfg(feature = "fault-injection")]
    if std::env::var("CROWDPROVE_RELAYER_CRASH").as_deref() == Ok(point) {
        tracing::warn!(point, "fault injection: killing this process (SIGKILL)");
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
        // `kill` missing: die as abruptly anyway.
        std::process::abort();
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = point;
}

/// Panics once, in a verifier thread, while verifying request `request_id` if the test armed
/// it (`VerdictOpts::panic_verifying`), then disarms.
#[cfg(feature = "fault-injection")]
pub(crate) fn panic_if_armed(armed: &std::sync::atomic::AtomicU64, request_id: u64) {
    use std::sync::atomic::Ordering;
    if request_id != 0
        && armed
            .compare_exchange(request_id, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        panic!("fault injection: a verifier panics on request {request_id}");
    }
}
