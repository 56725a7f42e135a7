//! Verdicts: a submission whose bytes never came within the upload deadline is judged
//! Missing; decided verdicts are posted in `recordVerdicts` batches (by count, or once the
//! oldest has waited long enough, or at once when one readies an aggregation node or completes
//! the top: the chain makes the node fresh in that transaction, so it is the critical path), in
//! submission order so the first valid proof wins. A Valid verdict whose sibling is still open
//! waits longer, to ride with the sibling's readying verdict: one transaction instead of two. A
//! verdict sent but not seen on chain is sent again after a while.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, U256};
use anyhow::anyhow;

use crowdprove_bindings::ICoordinator;
use crowdprove_bindings::tx::TxError;
use crowdprove_protocol::{TreeShape, Verdict};

use super::{Shared, now_ms};
use crate::blobs::BlobKind;
use crate::chain::retry;
use crate::db::SubmissionRow;

/// A verdict sent but not yet seen on chain is sent again after this long.
const RESEND_AFTER_MS: u64 = 60_000;
/// The upload deadline is read from the chain again after this long.
const DEADLINE_TTL: Duration = Duration::from_secs(60);

/// The verdicts duty, the upload deadline it last read, and the chain time this process
/// started judging at.
#[derive(Default)]
pub(super) struct Verdicts {
    upload_deadline: Mutex<Option<(u64, Instant)>>,
    serving_since: Mutex<Option<u64>>,
}

impl Verdicts {
    /// Judges overdue uploads Missing, then posts what is ready.
    pub(super) async fn run(&self, s: &Shared) -> anyhow::Result<()> {
        self.judge_missing(s).await?;
        post(s).await
    }

    async fn upload_deadline(&self, s: &Shared) -> anyhow::Result<u64> {
        let cached = *self
            .upload_deadline
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((d, at)) = cached {
            if at.elapsed() < DEADLINE_TTL {
                return Ok(d);
            }
        }
        let params = retry("read the parameters", || async {
            s.chain.coordinator.params().call().await
        })
        .await?;
        let d: u64 = params.uploadDeadline.to();
        *self
            .upload_deadline
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some((d, Instant::now()));
        Ok(d)
    }

    async fn judge_missing(&self, s: &Shared) -> anyhow::Result<()> {
        let deadline = self.upload_deadline(s).await?;
        let now = s.chain_time.load(Ordering::Relaxed);
        if now == 0 {
            return Ok(());
        }
        // A prover cannot upload to a relayer that is down: after a restart, every submission
        // gets a whole upload window from when this process began taking uploads.
        let since = *self
            .serving_since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(now);
        for row in s.db.overdue(now, deadline, 256)? {
            if s.db.job(row.job_id)?.is_none() {
                continue;
            }
            // A submission is held to the upload deadline in force when it was made: after the
            // owner shortened it, an earlier submission still has the old one, and a Missing
            // verdict before then would only be skipped, and sent again every tick.
            let at = U256::from(row.submitted_at);
            let own: u64 = retry("read the submission's deadlines", || async {
                s.chain.coordinator.deadlinesAt(at).call().await
            })
            .await?
            .uploadDeadline
            .to();
            if row.submitted_at.max(since) + own > now {
                continue;
            }
            // Bytes stored whose row was never marked (the relayer died between storing an
            // upload and marking its row, or the upload raced the event's recording): the
            // store, not the flag, decides.
            #[cfg(feature = "fault-injection")]
            let stored = !crate::faults::hidden(&s.cfg.verdicts.lies, &row.proof_hash)
                && s.blobs.exists(BlobKind::Proof, &row.proof_hash).await?;
            #[cfg(not(feature = "fault-injection"))]
            let stored = s.blobs.exists(BlobKind::Proof, &row.proof_hash).await?;
            if stored {
                tracing::info!(
                    request = row.request_id,
                    "the bytes are stored though the row missed their upload: judging them"
                );
                s.db.uploaded(&row.proof_hash)?;
                s.wake.notify_one();
                continue;
            }
            tracing::info!(
                request = row.request_id,
                "no proof bytes within the upload deadline: Missing"
            );
            s.db.set_local_verdict(row.request_id, Some(Verdict::Missing), now_ms())?;
        }
        Ok(())
    }
}

// Whether a Valid verdict among `rows` completes the last open child of a node (or the top).
// Siblings count as complete when the chain says so or a Valid verdict here judges them.
fn readies_a_node(s: &Shared, rows: &[SubmissionRow]) -> anyhow::Result<bool> {
    for r in rows {
        if sibling_open(s, r, rows)? == Some(false) {
            return Ok(true);
        }
    }
    Ok(false)
}

// For a Valid verdict among `rows`: whether its job's sibling is still open (neither complete on
// chain nor judged Valid among `rows`); `None` for another verdict, or a job with no sibling to
// wait for (the top, a single child, a job this relayer does not know), whose Valid verdict
// readies its parent or the batch by itself.
fn sibling_open(
    s: &Shared,
    row: &SubmissionRow,
    rows: &[SubmissionRow],
) -> anyhow::Result<Option<bool>> {
    if row.local_verdict != Some(Verdict::Valid) {
        return Ok(None);
    }
    let Some(job) = s.db.job(row.job_id)? else {
        return Ok(None);
    };
    let Some(batch) = s.db.batch(job.batch_id)? else {
        return Ok(None);
    };
    let Some(shape) = TreeShape::new(batch.leaf_count as u32) else {
        return Ok(None);
    };
    if job.level >= shape.height() {
        return Ok(Some(false)); // the top
    }
    let Some(index) = shape.index_of(job.level, (job.node ^ 1) as u32) else {
        return Ok(Some(false)); // a single child
    };
    let sibling = batch.first_job + u64::from(index);
    let judged_here = rows
        .iter()
        .any(|o| o.job_id == sibling && o.local_verdict == Some(Verdict::Valid));
    if judged_here
        || s.db
            .job(sibling)?
            .is_some_and(|j| j.winning_proof.is_some())
    {
        return Ok(Some(false));
    }
    Ok(Some(true))
}

// Whether any row has waited its time since it was decided (`decided`, by row): the maximum
// age, or, for a Valid verdict whose sibling is still open, the sibling wait (at least the
// maximum age): the sibling's verdict readies their parent and goes at once, and this one
// rides with it.
fn due(
    s: &Shared,
    rows: &[SubmissionRow],
    decided: &[Option<u64>],
    now: u64,
) -> anyhow::Result<bool> {
    let v = &s.cfg.verdicts;
    for (r, decided) in rows.iter().zip(decided) {
        let age = now.saturating_sub(decided.unwrap_or(now));
        if age < v.verdict_max_age_ms {
            continue;
        }
        if age >= v.verdict_sibling_wait_ms || sibling_open(s, r, rows)? != Some(true) {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn post(s: &Shared) -> anyhow::Result<()> {
    let now = now_ms();
    let batch = s.cfg.verdicts.verdict_batch;
    let (rows, decided): (Vec<SubmissionRow>, Vec<Option<u64>>) =
        s.db.postable(batch, now.saturating_sub(RESEND_AFTER_MS))?
            .into_iter()
            .unzip();
    if rows.is_empty() {
        return Ok(());
    }
    if rows.len() < batch
        && !(s.cfg.verdicts.urgent_verdicts && readies_a_node(s, &rows)?)
        && !due(s, &rows, &decided, now)?
    {
        return Ok(());
    }
    let verdicts: Vec<ICoordinator::Verdict> = rows
        .iter()
        .map(|r| ICoordinator::Verdict {
            requestId: r.request_id,
            prover: Address::from(r.prover),
            result: r.local_verdict.map_or(0, u8::from),
            // The submission judged: after a reorg replaced it, the chain skips the verdict.
            proofHash: r.proof_hash.into(),
        })
        .collect();
    let ids: Vec<u64> = rows.iter().map(|r| r.request_id).collect();
    // Marked before sending: a crash while the transaction is out must not send the verdicts
    // again at once on restart (the chain would skip them, at a gas cost), but only after
    // RESEND_AFTER_MS, by when following the chain has seen them.
    s.db.mark_posted(&ids, Some(now))?;
    let call = s.chain.coordinator.recordVerdicts(verdicts);
    let receipt = match s.chain.tx.send("recordVerdicts", call).await {
        Ok(r) => r,
        Err(e) => {
            // Refused at the estimate, or mined and reverted: nothing of it is on chain, so
            // the next tick may send again. An RPC failure may hide a transaction still out:
            // the rows wait RESEND_AFTER_MS.
            if !matches!(e, TxError::Rpc(_)) {
                s.db.mark_posted(&ids, None)?;
            }
            return Err(anyhow!("recordVerdicts: {e}"));
        }
    };
    crate::faults::crash_point("verdicts-mined");
    let m = &s.metrics;
    m.verdicts_sent.inc_by(ids.len() as u64);
    m.verdict_txs.inc();
    m.verdict_gas.inc_by(receipt.gas_used);
    tracing::info!(
        verdicts = ids.len(),
        gas = receipt.gas_used,
        "posted verdicts"
    );
    Ok(())
}
