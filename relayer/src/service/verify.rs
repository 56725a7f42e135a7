//! Verifying uploaded proofs: submissions whose bytes arrived and are not judged yet go, with
//! the public inputs their leaf, job and lease holder require, to a rayon pool of verifier
//! threads of their own, so the async runtime, the database and the blob reads stay off the
//! verifiers' cores. Their verdicts are recorded in the database in batches.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crowdprove_circuits::registry::{Checked, ExternalInputs};
use crowdprove_circuits::{CircuitId, ProverAddress, PublicInputs};
use crowdprove_protocol::{Statement, Verdict};

use super::{Shared, now_ms};
use crate::blobs::{BlobError, BlobKind};

/// A verifier thread's verdict on one submission; none if verifying it panicked or an
/// external verifier failed (`why`), which is never the prover's fault.
struct Judged {
    request_id: u64,
    verdict: Option<Verdict>,
    why: String,
    secs: f64,
}

/// A submission whose verification panicked waits this long before it is tried again.
const RETRY_PANICKED_AFTER: Duration = Duration::from_secs(10);

/// The verify duty: the pool, and the submissions in it.
pub(crate) struct Verifier {
    shared: Arc<Shared>,
    pool: rayon::ThreadPool,
    /// Submissions handed to the pool and not recorded yet.
    in_flight: Arc<Mutex<HashSet<u64>>>,
    /// Submissions whose verification panicked, and when they may be tried again.
    retry_at: Arc<Mutex<HashMap<u64, Instant>>>,
    /// How many may be in the pool at once: enough to keep every thread busy.
    capacity: usize,
    results: mpsc::UnboundedSender<Judged>,
}

impl Verifier {
    /// A pool of `workers` verifier threads, and the task that records their verdicts (call
    /// inside a tokio runtime).
    pub(crate) fn start(shared: Arc<Shared>, workers: usize) -> anyhow::Result<Verifier> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .thread_name(|i| format!("verifier-{i}"))
            .build()?;
        let (results, rx) = mpsc::unbounded_channel();
        let in_flight: Arc<Mutex<HashSet<u64>>> = Arc::default();
        let retry_at: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
        tokio::spawn(record(
            shared.clone(),
            in_flight.clone(),
            retry_at.clone(),
            rx,
        ));
        Ok(Verifier {
            shared,
            pool,
            in_flight,
            retry_at,
            capacity: 4 * workers,
            results,
        })
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands uploaded, unjudged proofs to the pool until it holds `capacity`.
    pub(crate) async fn feed(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        let busy = self.in_flight().len();
        let room = self.capacity.saturating_sub(busy);
        if room == 0 {
            return Ok(());
        }
        let mut sent = 0;
        for row in s.db.to_verify(room + busy)? {
            if sent == room {
                break;
            }
            if self.in_flight().contains(&row.request_id) {
                continue;
            }
            {
                let mut retry_at = self.retry_at.lock().unwrap_or_else(|e| e.into_inner());
                match retry_at.get(&row.request_id) {
                    Some(at) if Instant::now() < *at => continue,
                    Some(_) => {
                        retry_at.remove(&row.request_id);
                    }
                    None => {}
                }
            }
            let Some(job) = s.db.job(row.job_id)? else {
                continue;
            };
            let bytes = match s.blobs.get(BlobKind::Proof, &row.proof_hash).await {
                Ok(Some(bytes)) => bytes,
                Ok(None) => {
                    tracing::warn!(
                        request = row.request_id,
                        "proof blob gone; verification postponed"
                    );
                    continue;
                }
                // Not the bytes the prover committed to: no verdict on them. The bad blob goes
                // and the submission waits for its bytes again (an upload, or Missing without
                // a slash at the deadline).
                Err(e @ BlobError::Corrupt(..)) => {
                    tracing::error!(request = row.request_id, error = %e, "not judging altered bytes");
                    s.blobs.delete(BlobKind::Proof, &row.proof_hash).await?;
                    s.db.not_uploaded(&row.proof_hash)?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(statement) = Statement::from_json(&job.statement) else {
                tracing::warn!(job = job.job_id, "job has a bad statement; not judging it");
                continue;
            };
            let expected = PublicInputs {
                statement,
                job_id: job.job_id,
                prover: ProverAddress(row.prover),
            };
            // A round-0 job of a circuit the registry gives an external verifier is judged by
            // it; the built-in circuits judge their own batches' jobs; any other proof is not
            // judged at all: taking an unknown circuit's proof for an invalid one would slash
            // an honest prover (a relayer restarted without its registry, say).
            let Some(circuit) = s.db.batch(job.batch_id)?.map(|b| b.circuit) else {
                continue;
            };
            let external = match job.level {
                0 => s
                    .registry
                    .external(&CircuitId(circuit))
                    .cloned()
                    .map(|x| (x, circuit)),
                _ => None,
            };
            if external.is_none() && circuit != s.circuits.circuit_id(0)?.0 {
                tracing::error!(
                    request = row.request_id,
                    circuit = %crowdprove_protocol::hex0x(&circuit),
                    level = job.level,
                    "no verifier for this batch's circuit (add it to --circuits): not judged; trying again later"
                );
                self.retry_at
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(row.request_id, Instant::now() + RETRY_PANICKED_AFTER * 6);
                continue;
            }
            self.in_flight().insert(row.request_id);
            sent += 1;
            let (circuits, results, request_id, level) = (
                s.circuits.clone(),
                self.results.clone(),
                row.request_id,
                job.level,
            );
            #[cfg(feature = "fault-injection")]
            let armed = s.cfg.verdicts.panic_verifying.clone();
            self.pool.spawn(move || {
                let started = Instant::now();
                // A panic here is the relayer's bug, not the proof's fault: it must neither
                // abort the relayer (rayon's default for a panicking job) nor leave the
                // submission in flight for good. It comes back as no verdict, tried again later.
                let mut why = "panicked (a relayer bug)".to_string();
                let verdict = catch_unwind(AssertUnwindSafe(|| {
                    #[cfg(feature = "fault-injection")]
                    crate::faults::panic_if_armed(&armed, request_id);
                    if let Some((x, circuit)) = &external {
                        let inputs = ExternalInputs::new(
                            CircuitId(*circuit),
                            expected.job_id,
                            expected.prover.0,
                            expected.statement,
                        );
                        return match x.verify(&bytes, &inputs) {
                            Ok(Checked::Valid) => Some(Verdict::Valid),
                            Ok(Checked::Invalid(reason)) => {
                                tracing::info!(request = request_id, job = expected.job_id, reason, "proof is invalid (external verifier)");
                                Some(Verdict::Invalid)
                            }
                            Err(e) => {
                                why = format!("failed: {e}");
                                None
                            }
                        };
                    }
                    match circuits.verify(&bytes, level, &expected) {
                        Ok(()) => Some(Verdict::Valid),
                        Err(e) => {
                            tracing::info!(request = request_id, job = expected.job_id, error = %e, "proof is invalid");
                            Some(Verdict::Invalid)
                        }
                    }
                }))
                .ok()
                .flatten();
                let secs = started.elapsed().as_secs_f64();
                // The receiver lives as long as the runtime; if it is gone, so is the relayer.
                let _ = results.send(Judged {
                    request_id,
                    verdict,
                    why,
                    secs,
                });
            });
        }
        Ok(())
    }
}

// Records the verifiers' verdicts, as many as are ready in one transaction, and wakes the
// loop to post them.
async fn record(
    shared: Arc<Shared>,
    in_flight: Arc<Mutex<HashSet<u64>>>,
    retry_at: Arc<Mutex<HashMap<u64, Instant>>>,
    mut results: mpsc::UnboundedReceiver<Judged>,
) {
    while let Some(first) = results.recv().await {
        let mut batch = vec![first];
        while let Ok(r) = results.try_recv() {
            batch.push(r);
        }
        let now = now_ms();
        let m = &shared.metrics;
        for r in &batch {
            m.verify_seconds.inc_by(r.secs);
            match r.verdict {
                Some(Verdict::Valid) => {
                    m.proofs_valid.inc();
                }
                Some(_) => {
                    m.proofs_invalid.inc();
                }
                None => {
                    tracing::error!(
                        request = r.request_id,
                        "verifying this proof {}: no verdict; trying again in {}s",
                        r.why,
                        RETRY_PANICKED_AFTER.as_secs()
                    );
                    retry_at
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(r.request_id, Instant::now() + RETRY_PANICKED_AFTER);
                    m.verifier_panics.inc();
                }
            }
        }
        #[cfg(feature = "fault-injection")]
        for r in &mut batch {
            if let (Some(v), Ok(Some(sub))) = (r.verdict, shared.db.submission(r.request_id)) {
                r.verdict =
                    crate::faults::lie(&shared.cfg.verdicts.lies, r.request_id, sub.proof_hash, v);
                if r.verdict.is_none() {
                    let _ = shared.db.not_uploaded(&sub.proof_hash);
                }
            }
        }
        let written = shared.db.transaction(|tx| {
            for r in &batch {
                if let Some(v) = r.verdict {
                    tx.set_local_verdict(r.request_id, v, now)?;
                }
            }
            Ok(())
        });
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not record verdicts; they will be verified again");
        }
        let mut set = in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for r in &batch {
            set.remove(&r.request_id);
        }
        drop(set);
        shared.wake.notify_one();
    }
}
