//! Posting batches: take round-0 batches from the job source while fewer than
//! `max_open_batches` of ours still have fresh round-0 jobs (so the next batch is on chain
//! before provers run out of work) and fewer than twice that many are unfinished, store their
//! witnesses and manifest, and post each with one `postBatch`. A batch whose posting fails is
//! kept and tried again, never lost; one an earlier life of this relayer already posted is
//! recognised by its root and skipped.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy::primitives::aliases::{U24, U96};
use alloy::primitives::ruint::UintTryFrom;
use alloy::primitives::{B256, U256};
use anyhow::anyhow;

use crowdprove_bindings::describe;
use crowdprove_circuits::tree_statements;
use crowdprove_protocol::{
    JobKind, MANIFEST_VERSION, Manifest, ManifestJob, Statement, StatementJson, TreeShape, hex0x,
};

use super::Shared;
use crate::blobs::BlobKind;
use crate::chain::retry;
use crate::config::{RelayerConfig, SourceSpec};
use crate::source::{DemoSource, DirectorySource, JobSource, SourceBatch};

/// A round-0 batch posted by this process counts as open until the follower has it, or for
/// this long at most (a reorg may have dropped it).
const IN_FLIGHT_FOR: Duration = Duration::from_secs(60);
/// Source batches looked at per step, at most (posted ones are skipped quickly).
const PER_STEP: usize = 64;

/// The post duty: the job source and what it handed over but is not posted yet.
pub(super) struct Poster {
    source: Mutex<Box<dyn JobSource>>,
    unposted: Mutex<Option<SourceBatch>>,
    /// Our round-0 batches the follower had when we last posted, and when: until it has more,
    /// the posted batch is in flight and counts as open.
    in_flight: Mutex<Option<(usize, Instant)>>,
}

impl Poster {
    /// The duty over the configured source.
    pub(super) fn new(cfg: &RelayerConfig) -> Poster {
        let jobs = &cfg.jobs;
        let source: Box<dyn JobSource> = match &jobs.source {
            SourceSpec::Demo => Box::new(DemoSource::new(
                jobs.params,
                jobs.seed,
                jobs.chunks,
                jobs.batches,
            )),
            SourceSpec::Directory(dir) => Box::new(DirectorySource::new(dir.clone())),
        };
        Poster {
            source: Mutex::new(source),
            unposted: Mutex::new(None),
            in_flight: Mutex::new(None),
        }
    }

    /// Posts the next source batch if there is room for one.
    pub(super) async fn run(&self, s: &Shared) -> anyhow::Result<()> {
        let ours = s.db.our_round0()?;
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
        let mut with_fresh = 0;
        for b in &unfinished {
            let id = u32::try_from(b.batch_id)?;
            let info = retry("read a batch", || async {
                s.chain.coordinator.batch(id).call().await
            })
            .await?;
            if info.leasedFresh < info.jobCount {
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
            let batch = match held {
                Some(b) => b,
                None => {
                    let next = self
                        .source
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .next_batch();
                    match next? {
                        Some(b) => b,
                        None => return Ok(()),
                    }
                }
            };
            let statements = match batch.statements(set) {
                Ok(st) => st,
                Err(e) => {
                    tracing::error!(batch = batch.label, error = %format!("{e:#}"), "refusing a batch from the source");
                    continue;
                }
            };
            match post_source_batch(s, &batch, &statements).await {
                Ok(true) => {
                    tracing::info!(
                        batch = batch.label,
                        chunks = batch.chunks.len(),
                        "posted round-0 jobs"
                    );
                    *self.in_flight.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some((ours.len(), Instant::now()));
                    return Ok(());
                }
                Ok(false) => {}
                Err(e) => {
                    *self.unposted.lock().unwrap_or_else(|e| e.into_inner()) = Some(batch);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

// Stores a source batch's witnesses and manifest and posts it; false if it was posted before.
async fn post_source_batch(
    s: &Shared,
    batch: &SourceBatch,
    statements: &[Statement],
) -> anyhow::Result<bool> {
    let shape = TreeShape::new(statements.len() as u32).ok_or_else(|| anyhow!("empty batch"))?;
    let tree = tree_statements(&shape, statements).ok_or_else(|| anyhow!("chunks do not join"))?;
    let mut jobs = Vec::with_capacity(batch.chunks.len());
    for (i, chunk) in batch.chunks.iter().enumerate() {
        let hash = s.blobs.put(BlobKind::Witness, chunk.encode()).await?;
        jobs.push(ManifestJob {
            node: i as u64,
            statement: statements[i].into(),
            witness_hash: hash,
        });
    }
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        params: s.cfg.jobs.params,
        kind: JobKind::Round0,
        level: 0,
        tree: tree
            .iter()
            .map(|l| l.iter().map(|s| StatementJson::from(*s)).collect())
            .collect(),
        jobs,
    };
    post_batch(s, manifest, 0, s.cfg.jobs.reward).await
}

/// Stores a manifest under its root and posts its batch (aggregation batches name their
/// round-0 `parent`), unless the root was posted before, by an earlier life of this relayer.
/// True if a transaction was sent.
pub(super) async fn post_batch(
    s: &Shared,
    manifest: Manifest,
    parent: u64,
    reward: U256,
) -> anyhow::Result<bool> {
    let root = manifest.job_tree().root();
    let count = manifest.jobs.len();
    let (kind, level) = (manifest.kind, manifest.level);
    let circuit = s.circuits.circuit_id(level)?;
    s.blobs
        .put_at(BlobKind::Manifest, &root, manifest.encode())
        .await?;
    s.remember_manifest(root, manifest);
    if retry("check a root", || async {
        s.chain.coordinator.rootUsed(B256::from(root)).call().await
    })
    .await?
    {
        tracing::info!(root = %hex0x(&root), "batch already posted");
        return Ok(false);
    }
    let reward =
        U96::uint_try_from(reward).map_err(|_| anyhow!("{reward} does not fit a uint96 reward"))?;
    let call = s.chain.coordinator.postBatch(
        B256::from(root),
        U24::try_from(count).map_err(|_| anyhow!("{count} jobs do not fit one batch"))?,
        reward,
        u8::from(kind),
        level,
        u32::try_from(parent)?,
        B256::from(circuit.0),
    );
    let pending = call
        .send()
        .await
        .map_err(|e| anyhow!("postBatch: {}", describe(&e)))?;
    let receipt = pending.get_receipt().await?;
    anyhow::ensure!(receipt.status(), "postBatch reverted");
    s.metrics.batches_posted.inc();
    tracing::info!(%kind, level, jobs = count, parent, root = %hex0x(&root), "posted a batch");
    Ok(true)
}
