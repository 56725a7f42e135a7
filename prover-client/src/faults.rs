//! Fault injection for the crash tests, compiled in only with the `fault-injection` feature
//! (the crate's own tests turn it on; `make install` and releases never do). Without the
//! feature every hook is an empty inline function.

/// Called once a proof is in the spool and before it is submitted: with the feature and
/// `CROWDPROVE_FAULT=exit-after-spool` set, the process exits there as a crash would.
#[inline]
pub(crate) fn after_spool() {
    #[cfg(feature = "fault-injection")]
    if std::env::var("CROWDPROVE_FAULT").as_deref() == Ok("exit-after-spool") {
        tracing::warn!("fault injection: exiting after spooling, as a crash would");
        std::process::exit(3);
    }
}
