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

/// Called by the worker process as it starts a proof: with the feature and
/// `CROWDPROVE_FAULT=worker-dies-once:<file>` set, the first worker to get here creates the file
/// and exits mid-proof, as a worker killed by the system would; later ones prove.
///
/// With `CROWDPROVE_FAULT=worker-hangs`, every proof hangs, as on a machine far too slow for
/// the job: the client holds its leases until stopped.
#[inline]
pub(crate) fn worker_proving() {
    #[cfg(feature = "fault-injection")]
    if std::env::var("CROWDPROVE_FAULT").as_deref() == Ok("worker-hangs") {
        eprintln!("fault injection: the worker hangs");
        loop {
            std::thread::park();
        }
    }
    #[cfg(feature = "fault-injection")]
    if let Some(mark) = std::env::var("CROWDPROVE_FAULT")
        .ok()
        .and_then(|f| f.strip_prefix("worker-dies-once:").map(str::to_owned))
    {
        if std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&mark)
            .is_ok()
        {
            eprintln!("fault injection: the worker dies mid-proof");
            std::process::exit(9);
        }
    }
}
