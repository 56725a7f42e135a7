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

/// Test-only lies, for checking that `crowdprove-prover audit` catches a relayer that lies:
/// each applies once, counted over the proofs that verify (or, for the last, that do not), then
/// is spent.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Default)]
pub struct Lies {
    /// Judge the n-th proof that verifies Invalid (a valid proof slashed).
    pub invalid_nth_valid: Option<u32>,
    /// Judge the n-th proof that verifies Missing once its upload deadline passed, though its
    /// bytes arrived in time (and stay served).
    pub missing_nth_valid: Option<u32>,
    /// Judge the first proof that does not verify Valid.
    pub valid_first_invalid: bool,
    /// The requests lied about, in order.
    pub lied: Vec<u64>,
    /// Proofs that verified so far.
    valid_seen: u32,
    /// Proof hashes whose upload the relayer pretends it never got.
    hidden: std::collections::HashSet<[u8; 32]>,
}

/// What to record for a verified submission: the verifier's `verdict`, or a lie. `None`: record
/// nothing (the upload is hidden, to be judged Missing).
#[cfg(feature = "fault-injection")]
pub(crate) fn lie(
    lies: &std::sync::Mutex<Lies>,
    request_id: u64,
    hash: [u8; 32],
    verdict: crowdprove_protocol::Verdict,
) -> Option<crowdprove_protocol::Verdict> {
    use crowdprove_protocol::Verdict;
    let mut l = lies.lock().unwrap_or_else(|e| e.into_inner());
    if verdict == Verdict::Invalid {
        if l.valid_first_invalid {
            l.valid_first_invalid = false;
            l.lied.push(request_id);
            tracing::warn!("fault injection: a lie, judging an invalid proof Valid");
            return Some(Verdict::Valid);
        }
        return Some(verdict);
    }
    l.valid_seen += 1;
    let n = Some(l.valid_seen);
    if l.invalid_nth_valid == n {
        l.lied.push(request_id);
        tracing::warn!("fault injection: a lie, judging a valid proof Invalid");
        return Some(Verdict::Invalid);
    }
    if l.missing_nth_valid == n {
        l.hidden.insert(hash);
        l.lied.push(request_id);
        tracing::warn!("fault injection: a lie, hiding this upload to judge it Missing");
        return None;
    }
    Some(verdict)
}

/// Whether the relayer pretends it never got the upload of `hash` (see [`lie`]).
#[cfg(feature = "fault-injection")]
pub(crate) fn hidden(lies: &std::sync::Mutex<Lies>, hash: &[u8; 32]) -> bool {
    lies.lock()
        .unwrap_or_else(|e| e.into_inner())
        .hidden
        .contains(hash)
}
