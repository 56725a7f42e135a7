//! Pruning: once a batch's final proof was delivered more than the retention period ago, its
//! witnesses and its tree's proofs are deleted from the blob store; the final proof and the
//! manifest stay.

use std::time::Duration;

use super::{Every, Shared, now_ms};
use crate::blobs::BlobKind;

/// The prune duty and when it last ran.
#[derive(Default)]
pub(super) struct Pruner {
    last: Every,
}

impl Pruner {
    /// Prunes every batch past its retention, every 30 s (sooner when the retention itself is
    /// short).
    pub(super) async fn run(&self, s: &Shared) -> anyhow::Result<()> {
        let retention = s.cfg.store.retention_secs;
        if !self
            .last
            .due(Duration::from_secs((retention / 10).clamp(1, 30)))
        {
            return Ok(());
        }
        let before = now_ms().saturating_sub(retention * 1000);
        for batch_id in s.db.prunable(before)? {
            let Some(batch) = s.db.batch(batch_id)? else {
                continue;
            };
            let keep = batch.final_hash.unwrap_or_default();
            // Aggregation nodes have no stored witness (zero hash): theirs are child proofs.
            for job in s.db.tree_jobs(batch_id)? {
                if job.witness_hash != [0; 32] {
                    s.blobs.delete(BlobKind::Witness, &job.witness_hash).await?;
                }
            }
            for hash in s.db.tree_proof_hashes(batch_id)? {
                if hash != keep {
                    s.blobs.delete(BlobKind::Proof, &hash).await?;
                }
            }
            s.db.set_pruned(batch_id)?;
            tracing::info!(
                batch = batch_id,
                "pruned the witnesses and proofs of a finalized batch"
            );
        }
        Ok(())
    }
}
