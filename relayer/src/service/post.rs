//! Posting batches: take source batches from the job source while fewer than
//! `max_open_batches` of ours still have fresh round-0 jobs (so the next batch is on chain
//! before provers run out of work) and fewer than twice that many are unfinished, store their
//! witnesses and manifest, and post each batch's whole proving tree with one `postBatch`: the
//! chain makes each aggregation node fresh when its children are proven and records the top
//! proof, so nothing here drives the tree. A batch whose posting fails is
//! kept and tried again, never lost; one an earlier life of this relayer already posted is
//! recognised by its root and skipped.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Mutex as AsyncMutex;

use alloy::primitives::B256;
use alloy::primitives::aliases::{U24, U96};
use alloy::primitives::ruint::UintTryFrom;
use anyhow::anyhow;

use crowdprove_circuits::tree_statements;
use crowdprove_protocol::{
    MANIFEST_VERSION, Manifest, Statement, StatementJson, TreeShape, hex0x, keccak256,
};

use super::Shared;
use crate::blobs::BlobKind;
use crate::chain::retry;
use crate::config::SourceSpec;
use crate::source::{DemoSource, DirectorySource, JobSource, PgSource, SourceBatch};

/// A round-0 batch posted by this process counts as open until the follower has it, or for
/// this long at most (a reorg may have dropped it).
const IN_FLIGHT_FOR: Duration = Duration::from_secs(60);
/// Times in a row an operator's batch may fail to post before it goes back to its queue.
const MAX_POST_FAILURES: u32 = 5;
/// Source batches looked at per step, at most (posted ones are skipped quickly).
const PER_STEP: usize = 64;

/// The post duty: the job source and what it handed over but is not posted yet.
pub(super) struct Poster {
    source: AsyncMutex<Box<dyn JobSource>>,
    unposted: Mutex<Option<(SourceBatch, u32)>>,
    /// Our round-0 batches the follower had when we last posted, and when: until it has more,
    /// the posted batch is in flight and counts as open.
    in_flight: Mutex<Option<(usize, Instant)>>,
}

impl Poster {
    /// The duty over the configured source.
    pub(super) fn new(s: &Shared) -> anyhow::Result<Poster> {
        let jobs = &s.cfg.jobs;
        let source: Box<dyn JobSource> = match &jobs.source {
            SourceSpec::Demo => Box::new(DemoSource::new(
                jobs.params,
                jobs.seed,
                jobs.chunks,
                jobs.batches,
            )),
            SourceSpec::Directory(dir) => Box::new(DirectorySource::new(dir.clone())),
            SourceSpec::Postgres(_) => {
                let pg =
                    s.pg.clone()
                        .ok_or_else(|| anyhow!("the PostgreSQL job source is not connected"))?;
                Box::new(PgSource::new(pg, jobs.queue_circuit_id, &s.registry))
            }
        };
        Ok(Poster {
            source: AsyncMutex::new(source),
            unposted: Mutex::new(None),
            in_flight: Mutex::new(None),
        })
    }

    /// Posts the next source batch if there is room for one.
    pub(super) async fn run(&self, s: &Shared) -> anyhow::Result<()> {
        let ours = s.db.our_batches()?;
        let in_flight = *self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if in_flight.is_some_and(|(known, at)| ours.len() <= known && at.elapsed() < IN_FLIGHT_FOR)
        {
            return Ok(());
        }
        let unfinished: Vec<_> = ours
            .iter()
            .filter(|b| !b.cancelled && b.final_hash.is_none())
            .collect();
        let max_open = s.cfg.jobs.max_open_batches;
        if unfinished.len() as u64 >= 2 * max_open {
            return Ok(());
        }
        // Fewer unfinished than the limit: no batch needs reading to know there is room.
        let mut with_fresh = 0;
        let to_read = if (unfinished.len() as u64) < max_open {
            &unfinished[..0]
        } else {
            &unfinished[..]
        };
        for b in to_read {
            let id = u32::try_from(b.batch_id)?;
            let info = retry("read a batch", || async {
                s.chain.coordinator.batch(id).call().await
            })
            .await?;
            if info.leasedFresh < info.leafCount {
                with_fresh += 1;
            }
        }
        if with_fresh >= max_open {
            return Ok(());
        }
        let set = s.cfg.jobs.params;
        for _ in 0..PER_STEP {
            let held = self
                .unposted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            let (batch, failures) = match held {
                Some(b) => b,
                None => match self.source.lock().await.next_batch().await? {
                    Some(b) => (b, 0),
                    None => return Ok(()),
                },
            };
            let statements = match batch.statements(set) {
                Ok(st) => st,
                Err(e) => {
                    let error = format!("{e:#}");
                    tracing::error!(
                        batch = batch.label,
                        error,
                        "refusing a batch from the source"
                    );
                    if let (Some(pg), false) = (&s.pg, batch.rows.is_empty()) {
                        // Back to the operator's queue, with the reason, never dropped.
                        pg.refuse(&batch.rows, &error).await?;
                    }
                    continue;
                }
            };
            match post_source_batch(s, &batch, &statements).await {
                Ok(true) => {
                    tracing::info!(
                        batch = batch.label,
                        leaves = statements.len(),
                        "posted a batch's proving tree"
                    );
                    *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((ours.len(), Instant::now()));
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) => {
                    let failures = failures + 1;
                    // An operator's jobs do not wait behind a batch that keeps failing (one
                    // the chain refuses, say): back to its queue, with the reason. A built-in
                    // source's batch is tried again, however long it takes.
                    if let (Some(pg), false, true) =
                        (&s.pg, batch.rows.is_empty(), failures >= MAX_POST_FAILURES)
                    {
                        let error = format!("posting failed {failures} times: {e:#}");
                        tracing::error!(batch = batch.label, error, "handing a batch back");
                        pg.refuse(&batch.rows, &error).await?;
                        return Err(e);
                    }
                    *self.unposted.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((batch, failures));
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

// Stores a source batch's witnesses and manifest and posts its proving tree; false if it was
// posted before, by an earlier life of this relayer (recognised by its root).
async fn post_source_batch(
    s: &Shared,
    batch: &SourceBatch,
    statements: &[Statement],
) -> anyhow::Result<bool> {
    let shape = TreeShape::new(statements.len() as u32).ok_or_else(|| anyhow!("empty batch"))?;
    let tree = tree_statements(&shape, statements).ok_or_else(|| anyhow!("chunks do not join"))?;
    // The root first, from the witnesses' hashes: a batch an earlier life of this relayer
    // posted is recognised before anything is stored, so blobs it pruned since stay pruned.
    let encoded: Vec<Vec<u8>> = match &batch.foreign {
        Some(f) => vec![f.witness.clone()],
        None => batch.chunks.iter().map(|c| c.encode()).collect(),
    };
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        params: s.cfg.jobs.params,
        tree: tree
            .iter()
            .map(|l| l.iter().map(|s| StatementJson::from(*s)).collect())
            .collect(),
        witnesses: encoded.iter().map(|w| keccak256(w)).collect(),
    };
    let root = manifest.job_tree().root();
    let leaves = manifest.witnesses.len();
    if let (Some(pg), false) = (&s.pg, batch.rows.is_empty()) {
        // Before the batch can exist on chain: a crash after posting still finds where the
        // operator's jobs went, and writes their results back.
        pg.record_claims(&root, &batch.rows).await?;
    }
    let jobs = shape.job_count();
    if retry("check a root", || async {
        s.chain.coordinator.rootUsed(B256::from(root)).call().await
    })
    .await?
    {
        // Its manifest gone too (a wiped blob store): store what serving it needs again.
        if !s.blobs.exists(BlobKind::Manifest, &root).await? {
            tracing::warn!(root = %hex0x(&root), "a batch posted before lost its manifest: storing it again");
            store(s, encoded, root, manifest).await?;
        }
        tracing::info!(root = %hex0x(&root), "batch already posted");
        return Ok(false);
    }
    let circuit = match &batch.foreign {
        Some(f) => crowdprove_circuits::CircuitId(f.circuit),
        None => s.circuits.circuit_id(0)?,
    };
    store(s, encoded, root, manifest).await?;
    let reward = s.cfg.jobs.reward;
    let reward =
        U96::uint_try_from(reward).map_err(|_| anyhow!("{reward} does not fit a uint96 reward"))?;
    let call = s.chain.coordinator.postBatch(
        B256::from(root),
        U24::try_from(leaves).map_err(|_| anyhow!("{leaves} chunks do not fit one batch"))?,
        reward,
        B256::from(circuit.0),
    );
    s.chain
        .tx
        .send("postBatch", call)
        .await
        .map_err(|e| anyhow!("postBatch: {e}"))?;
    crate::faults::crash_point("batch-posted");
    s.metrics.batches_posted.inc();
    tracing::info!(leaves, jobs, root = %hex0x(&root), "posted a batch");
    Ok(true)
}

// Stores a batch's witnesses and its manifest (under the batch's root).
async fn store(
    s: &Shared,
    witnesses: Vec<Vec<u8>>,
    root: [u8; 32],
    manifest: Manifest,
) -> anyhow::Result<()> {
    for w in witnesses {
        s.blobs.put(BlobKind::Witness, w).await?;
    }
    s.blobs
        .put_at(BlobKind::Manifest, &root, manifest.encode())
        .await?;
    s.remember_manifest(root, manifest);
    Ok(())
}
