//! Each round-0 batch's proving tree: post an aggregation job as soon as its children are
//! proven (the nodes of a level that became ready together go in one batch), record the top
//! proof on chain as the batch's final proof, and hand it to the sink.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use anyhow::anyhow;

use crowdprove_bindings::describe;
use crowdprove_circuits::{AggregationWitness, Proof};
use crowdprove_protocol::{
    JobKind, MANIFEST_VERSION, Manifest, ManifestJob, Statement, TreeShape, hex0x,
};

use super::post::post_batch;
use super::{Seen, Shared, each, now_ms, reorgs};
use crate::blobs::BlobKind;
use crate::config::SinkSpec;
use crate::db::{BatchRow, JobRow};
use crate::sink::Sink;

/// An aggregation node posted by this process is not posted again for this long (its batch
/// should be followed by then).
const POSTED_NODE_TTL: Duration = Duration::from_secs(120);
/// A `finalizeBatch` sent is not sent again for this long.
const FINALIZE_RETRY: Duration = Duration::from_secs(60);

/// The tree duties (aggregate, finalize, deliver) and what they have in flight.
pub(super) struct Tree {
    /// (round-0 batch, level, node) -> when its aggregation job was posted.
    posted_nodes: Mutex<HashMap<(u64, u8, u64), Instant>>,
    /// Batch -> when its `finalizeBatch` was sent.
    finalize_sent: Mutex<HashMap<u64, Instant>>,
    /// Reorgs seen: a reorg may have undone posts, so in-flight marks are dropped.
    reorgs: Seen,
    sink: Sink,
}

impl Tree {
    /// The tree duties, delivering to `sink`.
    pub(super) fn new(sink: &SinkSpec) -> Tree {
        Tree {
            posted_nodes: Mutex::default(),
            finalize_sent: Mutex::default(),
            reorgs: Seen::default(),
            sink: Sink::new(sink),
        }
    }

    fn posted_nodes(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, u8, u64), Instant>> {
        self.posted_nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn finalize_sent(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Instant>> {
        self.finalize_sent.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Posts the aggregation jobs whose children are all proven.
    pub(super) async fn aggregate(&self, s: &Shared) -> anyhow::Result<()> {
        if self.reorgs.changed(reorgs(s)) {
            self.posted_nodes().clear();
        }
        self.posted_nodes()
            .retain(|_, at| at.elapsed() < POSTED_NODE_TTL);
        let open =
            s.db.our_round0()?
                .into_iter()
                .filter(|b| !b.cancelled && b.final_hash.is_none());
        each(open, |batch| async move {
            self.aggregate_batch(s, &batch).await
        })
        .await
    }

    async fn aggregate_batch(&self, s: &Shared, batch: &BatchRow) -> anyhow::Result<()> {
        let Some(manifest) = s.manifest(&batch.root).await? else {
            return Ok(());
        };
        let Some((shape, tree)) = tree_of(&manifest) else {
            return Ok(());
        };
        let jobs: HashMap<(u8, u64), JobRow> =
            s.db.tree_jobs(batch.batch_id)?
                .into_iter()
                .map(|j| ((j.level, j.node), j))
                .collect();
        for level in 1..=shape.height() {
            let mut ready = Vec::new();
            for node in 0..u64::from(shape.nodes_at(level)) {
                let key = (batch.batch_id, level, node);
                if jobs.contains_key(&(level, node)) || self.posted_nodes().contains_key(&key) {
                    continue;
                }
                let Some((l, r)) = shape.node(level, node as u32).and_then(|n| n.children) else {
                    continue;
                };
                let proven = |i: u32| {
                    jobs.get(&(level - 1, u64::from(i)))
                        .and_then(|j| j.winning_proof)
                };
                let Some(left) = proven(l) else { continue };
                let right = match r {
                    Some(r) => match proven(r) {
                        Some(h) => Some(h),
                        None => continue,
                    },
                    None => None,
                };
                ready.push((node, left, right));
            }
            if !ready.is_empty() {
                self.post_level(s, batch, level, &tree[level as usize], ready)
                    .await?;
            }
        }
        Ok(())
    }

    async fn post_level(
        &self,
        s: &Shared,
        batch: &BatchRow,
        level: u8,
        statements: &[Statement],
        ready: Vec<(u64, [u8; 32], Option<[u8; 32]>)>,
    ) -> anyhow::Result<()> {
        let mut jobs = Vec::with_capacity(ready.len());
        for (node, left, right) in &ready {
            let witness = AggregationWitness {
                level,
                left: child_proof(s, *left).await?,
                right: match right {
                    Some(h) => Some(child_proof(s, *h).await?),
                    None => None,
                },
            };
            let witness_hash = s.blobs.put(BlobKind::Witness, witness.encode()).await?;
            jobs.push(ManifestJob {
                node: *node,
                statement: statements[*node as usize].into(),
                witness_hash,
            });
        }
        let manifest = Manifest {
            version: MANIFEST_VERSION,
            params: s.cfg.jobs.params,
            kind: JobKind::Aggregation,
            level,
            tree: vec![],
            jobs,
        };
        post_batch(s, manifest, batch.batch_id, s.cfg.jobs.aggregation_reward).await?;
        let mut posted = self.posted_nodes();
        for (node, _, _) in ready {
            posted.insert((batch.batch_id, level, node), Instant::now());
        }
        Ok(())
    }

    /// Records the top proof of every batch whose tree is proven as its final proof.
    pub(super) async fn finalize(&self, s: &Shared) -> anyhow::Result<()> {
        if self.reorgs.changed(reorgs(s)) {
            self.finalize_sent().clear();
        }
        let open =
            s.db.our_round0()?
                .into_iter()
                .filter(|b| !b.cancelled && b.final_hash.is_none());
        each(
            open,
            |batch| async move { self.finalize_batch(s, &batch).await },
        )
        .await
    }

    async fn finalize_batch(&self, s: &Shared, batch: &BatchRow) -> anyhow::Result<()> {
        let Some(shape) = TreeShape::new(batch.job_count as u32) else {
            return Ok(());
        };
        let top =
            s.db.tree_jobs(batch.batch_id)?
                .into_iter()
                .find(|j| j.level == shape.height() && j.node == 0);
        let Some(hash) = top.and_then(|j| j.winning_proof) else {
            return Ok(());
        };
        let sent = self.finalize_sent().get(&batch.batch_id).copied();
        if sent.is_some_and(|t| t.elapsed() < FINALIZE_RETRY) {
            return Ok(());
        }
        let id = batch.batch_id;
        let pending = s
            .chain
            .coordinator
            .finalizeBatch(id as u32, B256::from(hash))
            .send()
            .await
            .map_err(|e| anyhow!("finalizeBatch({id}): {}", describe(&e)))?;
        let receipt = pending.get_receipt().await?;
        anyhow::ensure!(receipt.status(), "finalizeBatch({id}) reverted");
        self.finalize_sent().insert(id, Instant::now());
        tracing::info!(batch = id, proof = %hex0x(&hash), "finalized a batch");
        Ok(())
    }

    /// Hands every finalized batch's proof, not yet delivered, to the sink.
    pub(super) async fn deliver(&self, s: &Shared) -> anyhow::Result<()> {
        let done = s.db.our_round0()?.into_iter().filter_map(|b| {
            let hash = b.final_hash?;
            Some((b, hash))
        });
        each(done, |(batch, hash)| async move {
            if s.db.delivered(batch.batch_id)? {
                return Ok(());
            }
            let Some(bytes) = s.blobs.get(BlobKind::Proof, &hash).await? else {
                tracing::warn!(
                    batch = batch.batch_id,
                    "final proof bytes are not here; cannot deliver"
                );
                return Ok(());
            };
            let Some(manifest) = s.manifest(&batch.root).await? else {
                return Ok(());
            };
            let Some(top) = manifest.tree.last().and_then(|l| l.first()).copied() else {
                return Ok(());
            };
            self.sink
                .deliver(batch.batch_id, &hash, &top.into(), &bytes)
                .await?;
            s.db.set_delivered(batch.batch_id, now_ms())?;
            tracing::info!(batch = batch.batch_id, "final proof delivered");
            Ok(())
        })
        .await
    }
}

/// A round-0 manifest's tree shape and the statements of every level; `None` if the manifest
/// does not carry a whole tree.
fn tree_of(manifest: &Manifest) -> Option<(TreeShape, Vec<Vec<Statement>>)> {
    let shape = TreeShape::new(manifest.jobs.len() as u32)?;
    let tree: Vec<Vec<Statement>> = manifest
        .tree
        .iter()
        .map(|l| l.iter().map(|s| (*s).into()).collect())
        .collect();
    (tree.len() == shape.height() as usize + 1).then_some((shape, tree))
}

async fn child_proof(s: &Shared, hash: [u8; 32]) -> anyhow::Result<Proof> {
    let bytes = s
        .blobs
        .get(BlobKind::Proof, &hash)
        .await?
        .ok_or_else(|| anyhow!("child proof {} is gone", hex0x(&hash)))?;
    Proof::from_bytes(bytes).map_err(|e| anyhow!("child proof {}: {e}", hex0x(&hash)))
}
