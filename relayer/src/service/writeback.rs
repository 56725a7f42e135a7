//! Writing results back to the operator's PostgreSQL job queue, as one of its provers would:
//! a job whose leaf the crowd proved (its winning proof recorded on chain) becomes
//! `successful`, with where the proof is in the blob store and how long the crowd took; the
//! jobs of a cancelled batch go back to the queue (`failed` once out of attempts), never lost.
//! The claims themselves are kept alive for a housekeeper that requeues stale jobs. Everything
//! is read again each time (the claims from PostgreSQL, the verdicts from the database), so a
//! restart, even with the database deleted, resumes the write-back.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Every, Shared};
use crate::blobs::BlobKind;
use crate::pg_queue::Claim;

/// How often results are written back.
const EVERY: Duration = Duration::from_secs(2);
/// How often the relayer's claims are marked alive: well within zkSync's 600 s timeout.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// The write-back duty and when it last ran.
#[derive(Default)]
pub(super) struct Writeback {
    last: Every,
    heartbeat: Every,
}

impl Writeback {
    /// Writes back what the chain decided about the operator's jobs since the last time.
    pub(super) async fn run(&self, s: &Shared) -> anyhow::Result<()> {
        let Some(pg) = &s.pg else {
            return Ok(());
        };
        if !self.last.due(EVERY) {
            return Ok(());
        }
        if self.heartbeat.due(HEARTBEAT) {
            pg.heartbeat().await?;
        }
        let claims = pg.open_claims().await?;
        if claims.is_empty() {
            return Ok(());
        }
        let mut by_root: BTreeMap<[u8; 32], Vec<Claim>> = BTreeMap::new();
        for c in claims {
            by_root.entry(c.root).or_default().push(c);
        }
        let batches = s.db.our_batches()?;
        for (root, claims) in by_root {
            // Not followed yet (or never posted: the source posts it again after a restart).
            let Some(b) = batches.iter().find(|b| b.root == root) else {
                continue;
            };
            let jobs = s.db.tree_jobs(b.batch_id)?;
            for c in &claims {
                let proof = jobs
                    .iter()
                    .find(|j| j.level == 0 && j.node == c.leaf as u64)
                    .and_then(|j| j.winning_proof);
                // A leaf proven before its batch was cancelled is as proven as any.
                let Some(proof) = proof else {
                    if b.cancelled {
                        let error = format!("the crowd's batch {} was cancelled", b.batch_id);
                        let back = pg.fail(c.id, &error).await?;
                        tracing::warn!(
                            job = c.id,
                            batch = b.batch_id,
                            ?back,
                            "handed an operator's job back: its batch was cancelled"
                        );
                    }
                    continue;
                };
                let url = s.blobs.url(BlobKind::Proof, &proof);
                if pg.succeed_claimed(c.id, &url).await? {
                    tracing::info!(
                        job = c.id,
                        batch = b.batch_id,
                        leaf = c.leaf,
                        "wrote a proven job back to the operator's queue"
                    );
                } else {
                    tracing::warn!(
                        job = c.id,
                        "an operator's job the crowd proved is no longer the relayer's (requeued by a housekeeper?): not written back"
                    );
                }
            }
        }
        Ok(())
    }
}
