//! The relayer's work loop: follow the chain's events, verify uploaded proofs, post verdicts,
//! drive each batch's aggregation tree, finalize, deliver, post new batches and prune. Each
//! step reads its inputs from the database (a cache of the chain) and the blob store, so a
//! restart, even with the database deleted, resumes where the chain is.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::aliases::{U24, U40, U96};
use alloy::primitives::ruint::UintTryFrom;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEventInterface;
use anyhow::{Context, anyhow};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crowdprove_bindings::{Coordinator, ICoordinator, verdict};
use crowdprove_circuits::{
    AggregationWitness, Circuits, Proof, ProverAddress, PublicInputs, Statement, TreeShape,
};

use crate::blobs::{BlobKind, BlobStore};
use crate::chain::{Chain, describe, retry};
use crate::config::{RelayerConfig, SourceSpec};
use crate::db::{BatchRow, Db, JobRow};
use crate::manifest::{
    Manifest, ManifestJob, StatementJson, decode_statement, encode_statement, hex0x,
};
use crate::sink::Sink;
use crate::source::{DemoSource, DirectorySource, JobSource, SourceBatch};

/// Most blocks read per `eth_getLogs` call.
const LOG_RANGE: u64 = 2_000;
/// A verdict sent but not yet seen on chain is sent again after this long.
const RESEND_AFTER_MS: u64 = 60_000;

/// Counters the relayer exports at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    /// Proofs verified valid.
    pub verified_valid: AtomicU64,
    /// Proofs verified invalid.
    pub verified_invalid: AtomicU64,
    /// Microseconds spent verifying.
    pub verify_micros: AtomicU64,
    /// Verdicts sent in `recordVerdicts` transactions.
    pub verdicts_sent: AtomicU64,
    /// `recordVerdicts` transactions.
    pub verdict_txs: AtomicU64,
    /// Gas used by `recordVerdicts` transactions.
    pub verdict_gas: AtomicU64,
    /// Batches posted (both kinds).
    pub batches_posted: AtomicU64,
    /// Proof uploads accepted.
    pub uploads_accepted: AtomicU64,
    /// Proof uploads refused.
    pub uploads_refused: AtomicU64,
    /// Reorgs detected.
    pub reorgs: AtomicU64,
}

/// What the HTTP API and the work loop share.
pub struct Shared {
    /// The configuration.
    pub cfg: RelayerConfig,
    /// The database.
    pub db: Arc<Db>,
    /// The blob store.
    pub blobs: BlobStore,
    /// The chain.
    pub chain: Chain,
    /// The circuits of the configured parameter set.
    pub circuits: Arc<Circuits>,
    /// Counters.
    pub metrics: Metrics,
    /// Wakes the work loop early (an upload arrived, a verification finished).
    pub wake: Notify,
}

#[derive(Default)]
struct Live {
    chain_time: u64,
    upload_deadline: Option<(u64, Instant)>,
    verifying: HashSet<u64>,
    pending_nodes: HashMap<(u64, u8, u64), Instant>,
    round0_in_flight: Option<Instant>,
    finalize_sent: HashMap<u64, Instant>,
    manifests: HashMap<[u8; 32], Arc<Manifest>>,
    last_prune: Option<Instant>,
}

/// The relayer's work loop.
pub struct Service {
    shared: Arc<Shared>,
    source: Mutex<Box<dyn JobSource>>,
    unposted: Mutex<Option<SourceBatch>>,
    sink: Sink,
    live: Mutex<Live>,
    verifier: VerifierPool,
}

/// A proof to verify, with the public inputs its leaf, job and lease holder require.
struct VerifyTask {
    request_id: u64,
    level: u8,
    expected: PublicInputs,
    bytes: Vec<u8>,
}

/// A verifier thread's verdict.
struct VerifyResult {
    request_id: u64,
    verdict: u8,
    micros: u64,
}

/// Long-lived threads that only verify, fed through a bounded queue, so that the async runtime,
/// the database and the blob reads stay off the verifiers' cores.
struct VerifierPool {
    tasks: std::sync::mpsc::SyncSender<VerifyTask>,
    capacity: usize,
}

impl VerifierPool {
    fn start(
        circuits: Arc<Circuits>,
        workers: usize,
        results: tokio::sync::mpsc::UnboundedSender<VerifyResult>,
    ) -> VerifierPool {
        let capacity = 4 * workers;
        let (tasks, queue) = std::sync::mpsc::sync_channel::<VerifyTask>(capacity);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..workers {
            let (queue, circuits, results) = (queue.clone(), circuits.clone(), results.clone());
            std::thread::Builder::new()
                .name(format!("verifier-{i}"))
                .spawn(move || {
                    loop {
                        let task = match queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                            Ok(t) => t,
                            Err(_) => return, // the service is gone
                        };
                        let started = Instant::now();
                        let verdict = match circuits.verify(&task.bytes, task.level, &task.expected) {
                            Ok(()) => verdict::VALID,
                            Err(e) => {
                                tracing::info!(request = task.request_id, job = task.expected.job_id, error = %e, "proof is invalid");
                                verdict::INVALID
                            }
                        };
                        let micros = started.elapsed().as_micros() as u64;
                        if results.send(VerifyResult { request_id: task.request_id, verdict, micros }).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawn a verifier thread");
        }
        VerifierPool { tasks, capacity }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn u96(v: U256) -> anyhow::Result<U96> {
    U96::uint_try_from(v).map_err(|_| anyhow!("{v} does not fit a uint96 reward"))
}

impl Service {
    /// A work loop over `shared`, with its verifier threads (call inside a tokio runtime).
    pub fn new(shared: Arc<Shared>) -> anyhow::Result<Arc<Service>> {
        let cfg = &shared.cfg;
        let source: Box<dyn JobSource> = match &cfg.source {
            SourceSpec::Demo => Box::new(DemoSource::new(
                cfg.params,
                cfg.seed,
                cfg.chunks,
                cfg.batches,
            )),
            SourceSpec::Directory(dir) => Box::new(DirectorySource::new(dir.clone())),
        };
        let workers = cfg
            .verify_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let (results_tx, results) = tokio::sync::mpsc::unbounded_channel();
        let verifier = VerifierPool::start(shared.circuits.clone(), workers.max(1), results_tx);
        let service = Arc::new(Service {
            sink: Sink::new(&cfg.sink),
            shared,
            source: Mutex::new(source),
            unposted: Mutex::new(None),
            live: Mutex::new(Live::default()),
            verifier,
        });
        tokio::spawn(service.clone().collect_verdicts(results));
        Ok(service)
    }

    fn live(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs until `cancel` fires.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        if let Err(e) = self.ensure_allowance().await {
            tracing::error!(error = %e, "could not approve the Coordinator to take rewards; retrying in the loop");
        }
        let poll = Duration::from_millis(self.shared.cfg.poll_ms);
        while !cancel.is_cancelled() {
            if let Err(e) = self.step().await {
                tracing::warn!(error = %format!("{e:#}"), "relayer step failed; retrying");
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(poll) => {}
                _ = self.shared.wake.notified() => {}
            }
        }
        tracing::info!("relayer work loop stopped");
    }

    /// One pass over every duty.
    pub async fn step(self: &Arc<Self>) -> anyhow::Result<()> {
        self.sync_events().await.context("following the chain")?;
        self.verify_pending().await.context("verifying proofs")?;
        self.judge_missing()
            .await
            .context("judging missing uploads")?;
        self.post_verdicts().await.context("posting verdicts")?;
        self.post_aggregations()
            .await
            .context("posting aggregation jobs")?;
        self.finalize().await.context("finalizing batches")?;
        self.deliver().await.context("delivering final proofs")?;
        self.post_round0().await.context("posting a new batch")?;
        self.prune().await.context("pruning blobs")?;
        Ok(())
    }

    async fn ensure_allowance(&self) -> anyhow::Result<()> {
        let chain = &self.shared.chain;
        let token = chain.token().await?;
        let allowance = retry("read the allowance", || async {
            token
                .allowance(chain.relayer, *chain.coordinator.address())
                .call()
                .await
        })
        .await?;
        if allowance < U256::MAX >> 1 {
            let receipt = token
                .approve(*chain.coordinator.address(), U256::MAX)
                .send()
                .await
                .context("approving the Coordinator")?
                .get_receipt()
                .await?;
            anyhow::ensure!(receipt.status(), "approve reverted");
            tracing::info!("approved the Coordinator to escrow rewards");
        }
        Ok(())
    }

    // ------------------------------------------------------------------ chain events

    async fn sync_events(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        let provider = &s.chain.provider;
        let head = retry("read the head", || provider.get_block_number()).await?;
        if let Some(b) = retry("read the head block", || {
            provider.get_block_by_number(BlockNumberOrTag::Number(head))
        })
        .await?
        {
            self.live().chain_time = b.header.timestamp;
        }
        let safe = head.saturating_sub(s.cfg.confirmations);
        let mut cursor = s.db.cursor()?;
        if let Some(c) = cursor {
            if !self.block_matches(c).await? {
                let fork = self.find_fork().await?;
                tracing::warn!(at = c, back_to = ?fork, "chain reorganized under the cursor; rolling back");
                s.metrics.reorgs.fetch_add(1, Ordering::Relaxed);
                let to = fork.unwrap_or(s.cfg.from_block.saturating_sub(1));
                s.db.transaction(|tx| tx.rollback_after(to))?;
                self.live().pending_nodes.clear();
                cursor = fork;
            }
        }
        let start = cursor.map_or(s.cfg.from_block, |c| c + 1);
        if start > safe {
            return Ok(());
        }
        let end = safe.min(start + LOG_RANGE - 1);
        let filter = Filter::new()
            .address(*s.chain.coordinator.address())
            .from_block(start)
            .to_block(end);
        let logs = retry("read events", || provider.get_logs(&filter)).await?;
        let end_hash = retry("read a block", || {
            provider.get_block_by_number(BlockNumberOrTag::Number(end))
        })
        .await?
        .ok_or_else(|| anyhow!("block {end} not found"))?
        .header
        .hash;
        let events = self.decode(logs).await?;
        s.db.transaction(|tx| {
            for e in &events {
                e.apply(tx)?;
            }
            tx.record_block(end, &end_hash.0)
        })?;
        if !events.is_empty() {
            tracing::debug!(
                from = start,
                to = end,
                events = events.len(),
                "followed the chain"
            );
        }
        Ok(())
    }

    async fn block_matches(&self, number: u64) -> anyhow::Result<bool> {
        let stored = self.shared.db.block_hash(number)?;
        let chain = retry("read a block", || {
            self.shared
                .chain
                .provider
                .get_block_by_number(BlockNumberOrTag::Number(number))
        })
        .await?;
        Ok(match (stored, chain) {
            (Some(a), Some(b)) => a == b.header.hash.0,
            (None, _) => true,
            (Some(_), None) => false,
        })
    }

    async fn find_fork(&self) -> anyhow::Result<Option<u64>> {
        for number in self.shared.db.recorded_blocks()? {
            if self.block_matches(number).await? {
                return Ok(Some(number));
            }
        }
        Ok(None)
    }

    // Decodes logs and fetches what applying them needs from the blob store and the chain.
    async fn decode(&self, logs: Vec<Log>) -> anyhow::Result<Vec<Event>> {
        let mut out = Vec::with_capacity(logs.len());
        let mut times: HashMap<u64, u64> = HashMap::new();
        for log in logs {
            let (Some(block), Some(log_index)) = (log.block_number, log.log_index) else {
                continue;
            };
            let Ok(event) = Coordinator::CoordinatorEvents::decode_log(&log.inner) else {
                continue;
            };
            let kind = match event.data {
                Coordinator::CoordinatorEvents::BatchPosted(e) => {
                    let manifest = self.manifest(&e.witnessRoot.0).await?;
                    EventKind::Posted(e, manifest)
                }
                Coordinator::CoordinatorEvents::BatchCancelled(e) => {
                    EventKind::Cancelled(e.batchId.into())
                }
                Coordinator::CoordinatorEvents::BatchFinalized(e) => {
                    EventKind::Finalized(e.batchId.into(), e.finalProofHash.0)
                }
                Coordinator::CoordinatorEvents::JobLeased(e) => EventKind::Leased {
                    request_id: e.requestId,
                    job_id: e.jobId.to(),
                    prover: e.prover.0.0,
                },
                Coordinator::CoordinatorEvents::ProofSubmitted(e) => {
                    let at = match log.block_timestamp.or_else(|| times.get(&block).copied()) {
                        Some(t) => t,
                        None => {
                            let b = retry("read a block", || {
                                self.shared
                                    .chain
                                    .provider
                                    .get_block_by_number(BlockNumberOrTag::Number(block))
                            })
                            .await?
                            .ok_or_else(|| anyhow!("block {block} not found"))?;
                            b.header.timestamp
                        }
                    };
                    times.insert(block, at);
                    let uploaded = self
                        .shared
                        .blobs
                        .exists(BlobKind::Proof, &e.proofHash.0)
                        .await?;
                    EventKind::Submitted {
                        request_id: e.requestId,
                        job_id: e.jobId.to(),
                        prover: e.prover.0.0,
                        hash: e.proofHash.0,
                        at,
                        uploaded,
                    }
                }
                Coordinator::CoordinatorEvents::VerdictRecorded(e) => EventKind::Verdict {
                    request_id: e.requestId,
                    result: e.result,
                    completed: e.completed,
                },
                Coordinator::CoordinatorEvents::VerdictSkipped(e) => {
                    EventKind::Skipped(e.requestId)
                }
                _ => continue,
            };
            out.push(Event {
                block,
                log_index,
                kind,
            });
        }
        Ok(out)
    }

    async fn manifest(&self, root: &[u8; 32]) -> anyhow::Result<Option<Arc<Manifest>>> {
        if let Some(m) = self.live().manifests.get(root) {
            return Ok(Some(m.clone()));
        }
        let Some(bytes) = self.shared.blobs.get(BlobKind::Manifest, root).await? else {
            return Ok(None);
        };
        let Some(m) = Manifest::decode(&bytes) else {
            tracing::warn!(root = %hex0x(root), "unreadable manifest; its batch is not ours to serve");
            return Ok(None);
        };
        if m.params != self.shared.cfg.params {
            return Ok(None);
        }
        let m = Arc::new(m);
        self.live().manifests.insert(*root, m.clone());
        Ok(Some(m))
    }

    // ------------------------------------------------------------------ verification

    /// Feeds uploaded proofs not judged yet to the verifier threads, keeping their queue full.
    pub async fn verify_pending(self: &Arc<Self>) -> anyhow::Result<()> {
        let s = &self.shared;
        let room = self
            .verifier
            .capacity
            .saturating_sub(self.live().verifying.len());
        if room == 0 {
            return Ok(());
        }
        let rows = s.db.to_verify(room + self.live().verifying.len())?;
        for row in rows {
            if self.live().verifying.contains(&row.request_id) {
                continue;
            }
            let Some(job) = s.db.job(row.job_id)? else {
                continue;
            };
            let Some(bytes) = s.blobs.get(BlobKind::Proof, &row.proof_hash).await? else {
                tracing::warn!(
                    request = row.request_id,
                    "proof blob gone; verification postponed"
                );
                continue;
            };
            let Some(statement) = decode_statement(&job.statement) else {
                tracing::warn!(job = job.job_id, "job has a bad statement; not judging it");
                continue;
            };
            let task = VerifyTask {
                request_id: row.request_id,
                level: job.level,
                expected: PublicInputs {
                    statement,
                    job_id: job.job_id,
                    prover: ProverAddress(row.prover),
                },
                bytes,
            };
            match self.verifier.tasks.try_send(task) {
                Ok(()) => {
                    self.live().verifying.insert(row.request_id);
                }
                Err(_) => break,
            }
        }
        Ok(())
    }

    // Records the verifier threads' results, as many as are ready in one transaction.
    async fn collect_verdicts(
        self: Arc<Self>,
        mut results: tokio::sync::mpsc::UnboundedReceiver<VerifyResult>,
    ) {
        while let Some(first) = results.recv().await {
            let mut batch = vec![first];
            while let Ok(r) = results.try_recv() {
                batch.push(r);
            }
            let now = now_ms();
            let m = &self.shared.metrics;
            for r in &batch {
                m.verify_micros.fetch_add(r.micros, Ordering::Relaxed);
                let counter = if r.verdict == verdict::VALID {
                    &m.verified_valid
                } else {
                    &m.verified_invalid
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            let written = self.shared.db.transaction(|tx| {
                for r in &batch {
                    tx.set_local_verdict(r.request_id, r.verdict, now)?;
                }
                Ok(())
            });
            if let Err(e) = written {
                tracing::warn!(error = %e, "could not record verdicts; they will be verified again");
            }
            let mut live = self.live();
            for r in &batch {
                live.verifying.remove(&r.request_id);
            }
            drop(live);
            self.shared.wake.notify_one();
        }
    }

    async fn upload_deadline(&self) -> anyhow::Result<u64> {
        if let Some((d, at)) = self.live().upload_deadline {
            if at.elapsed() < Duration::from_secs(60) {
                return Ok(d);
            }
        }
        let params = retry("read the parameters", || async {
            self.shared.chain.coordinator.params().call().await
        })
        .await?;
        let d: u64 = params.uploadDeadline.to();
        self.live().upload_deadline = Some((d, Instant::now()));
        Ok(d)
    }

    async fn judge_missing(&self) -> anyhow::Result<()> {
        let deadline = self.upload_deadline().await?;
        let now = self.live().chain_time;
        for row in self.shared.db.overdue(now, deadline, 256)? {
            if self.shared.db.job(row.job_id)?.is_none() {
                continue;
            }
            tracing::info!(
                request = row.request_id,
                "no proof bytes within the upload deadline: Missing"
            );
            self.shared
                .db
                .set_local_verdict(row.request_id, Some(verdict::MISSING), now_ms())?;
        }
        Ok(())
    }

    async fn post_verdicts(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        let now = now_ms();
        let (rows, oldest) =
            s.db.postable(s.cfg.verdict_batch, now.saturating_sub(RESEND_AFTER_MS))?;
        if rows.is_empty() {
            return Ok(());
        }
        let age = now.saturating_sub(oldest.unwrap_or(now));
        if rows.len() < s.cfg.verdict_batch && age < s.cfg.verdict_max_age_ms {
            return Ok(());
        }
        let verdicts: Vec<ICoordinator::Verdict> = rows
            .iter()
            .map(|r| ICoordinator::Verdict {
                requestId: r.request_id,
                jobId: U40::from(r.job_id),
                prover: Address::from(r.prover),
                result: r.local_verdict.unwrap_or(0),
            })
            .collect();
        let ids: Vec<u64> = rows.iter().map(|r| r.request_id).collect();
        let pending = match s.chain.coordinator.recordVerdicts(verdicts).send().await {
            Ok(p) => p,
            Err(e) => return Err(anyhow!("recordVerdicts: {}", describe(&e))),
        };
        s.db.mark_posted(&ids, now)?;
        let receipt = pending.get_receipt().await?;
        anyhow::ensure!(receipt.status(), "recordVerdicts reverted");
        s.metrics
            .verdicts_sent
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        s.metrics.verdict_txs.fetch_add(1, Ordering::Relaxed);
        s.metrics
            .verdict_gas
            .fetch_add(receipt.gas_used, Ordering::Relaxed);
        tracing::info!(
            verdicts = ids.len(),
            gas = receipt.gas_used,
            "posted verdicts"
        );
        Ok(())
    }

    // ------------------------------------------------------------------ the tree

    fn tree_of(&self, manifest: &Manifest) -> Option<(TreeShape, Vec<Vec<Statement>>)> {
        let shape = TreeShape::new(manifest.jobs.len() as u32)?;
        let tree: Vec<Vec<Statement>> = manifest
            .tree
            .iter()
            .map(|l| l.iter().map(|s| (*s).into()).collect())
            .collect();
        (tree.len() == shape.height() as usize + 1).then_some((shape, tree))
    }

    async fn post_aggregations(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        self.live()
            .pending_nodes
            .retain(|_, at| at.elapsed() < Duration::from_secs(120));
        for batch in s.db.our_round0()? {
            if batch.cancelled || batch.final_hash.is_some() {
                continue;
            }
            let Some(manifest) = self.manifest(&batch.root).await? else {
                continue;
            };
            let Some((shape, tree)) = self.tree_of(&manifest) else {
                continue;
            };
            let jobs: HashMap<(u8, u64), JobRow> =
                s.db.tree_jobs(batch.batch_id)?
                    .into_iter()
                    .map(|j| ((j.level, j.node), j))
                    .collect();
            for level in 1..=shape.height() {
                let mut ready = Vec::new();
                for node in 0..shape.nodes_at(level) as u64 {
                    let key = (batch.batch_id, level, node);
                    if jobs.contains_key(&(level, node))
                        || self.live().pending_nodes.contains_key(&key)
                    {
                        continue;
                    }
                    let Some((l, r)) = shape.node(level, node as u32).and_then(|n| n.children)
                    else {
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
                    self.post_aggregation_batch(&batch, level, &tree[level as usize], ready)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn post_aggregation_batch(
        &self,
        batch: &BatchRow,
        level: u8,
        statements: &[Statement],
        ready: Vec<(u64, [u8; 32], Option<[u8; 32]>)>,
    ) -> anyhow::Result<()> {
        let s = &self.shared;
        let mut jobs = Vec::with_capacity(ready.len());
        for (node, left, right) in &ready {
            let proof = |h: [u8; 32]| async move {
                let bytes = s
                    .blobs
                    .get(BlobKind::Proof, &h)
                    .await?
                    .ok_or_else(|| anyhow!("child proof {} is gone", hex0x(&h)))?;
                Proof::from_bytes(bytes).map_err(|e| anyhow!("child proof {}: {e}", hex0x(&h)))
            };
            let witness = AggregationWitness {
                level,
                left: proof(*left).await?,
                right: match right {
                    Some(h) => Some(proof(*h).await?),
                    None => None,
                },
            };
            let witness_hash = s.blobs.put(BlobKind::Witness, witness.encode()).await?;
            jobs.push(ManifestJob {
                node: *node,
                statement: StatementJson::from(statements[*node as usize]),
                witness_hash: hex0x(&witness_hash),
            });
        }
        let manifest = Manifest {
            version: crate::manifest::MANIFEST_VERSION,
            params: s.cfg.params,
            kind: 1,
            level,
            tree: vec![],
            jobs,
        };
        let nodes: Vec<u64> = ready.iter().map(|r| r.0).collect();
        self.post_batch(manifest, level, batch.batch_id, s.cfg.aggregation_reward)
            .await?;
        let mut live = self.live();
        for n in nodes {
            live.pending_nodes
                .insert((batch.batch_id, level, n), Instant::now());
        }
        Ok(())
    }

    // Stores a manifest under its root and posts the batch unless the root was posted before
    // (by an earlier life of this relayer). True if a transaction was sent.
    async fn post_batch(
        &self,
        manifest: Manifest,
        level: u8,
        parent: u64,
        reward: U256,
    ) -> anyhow::Result<bool> {
        let s = &self.shared;
        let root = manifest.job_tree().root();
        let count = manifest.jobs.len();
        let kind = manifest.kind;
        let circuit = s.circuits.circuit_id(level)?;
        s.blobs
            .put_at(BlobKind::Manifest, &root, manifest.encode())
            .await?;
        self.live().manifests.insert(root, Arc::new(manifest));
        if retry("check a root", || async {
            s.chain.coordinator.rootUsed(B256::from(root)).call().await
        })
        .await?
        {
            tracing::info!(root = %hex0x(&root), "batch already posted");
            return Ok(false);
        }
        let call = s.chain.coordinator.postBatch(
            B256::from(root),
            U24::try_from(count).map_err(|_| anyhow!("{count} jobs do not fit one batch"))?,
            u96(reward)?,
            kind,
            level,
            u32::try_from(parent)?,
            B256::from(circuit.0),
        );
        let receipt = match call.send().await {
            Ok(p) => p.get_receipt().await?,
            Err(e) => return Err(anyhow!("postBatch: {}", describe(&e))),
        };
        anyhow::ensure!(receipt.status(), "postBatch reverted");
        s.metrics.batches_posted.fetch_add(1, Ordering::Relaxed);
        tracing::info!(kind, level, jobs = count, parent, root = %hex0x(&root), "posted a batch");
        Ok(true)
    }

    async fn finalize(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        for batch in s.db.our_round0()? {
            if batch.cancelled || batch.final_hash.is_some() {
                continue;
            }
            let Some(shape) = TreeShape::new(batch.job_count as u32) else {
                continue;
            };
            let top =
                s.db.tree_jobs(batch.batch_id)?
                    .into_iter()
                    .find(|j| j.level == shape.height() && j.node == 0);
            let Some(hash) = top.and_then(|j| j.winning_proof) else {
                continue;
            };
            if self
                .live()
                .finalize_sent
                .get(&batch.batch_id)
                .is_some_and(|t| t.elapsed() < Duration::from_secs(60))
            {
                continue;
            }
            let receipt = match s
                .chain
                .coordinator
                .finalizeBatch(batch.batch_id as u32, B256::from(hash))
                .send()
                .await
            {
                Ok(p) => p.get_receipt().await?,
                Err(e) => {
                    return Err(anyhow!(
                        "finalizeBatch({}): {}",
                        batch.batch_id,
                        describe(&e)
                    ));
                }
            };
            anyhow::ensure!(receipt.status(), "finalizeBatch reverted");
            self.live()
                .finalize_sent
                .insert(batch.batch_id, Instant::now());
            tracing::info!(batch = batch.batch_id, proof = %hex0x(&hash), "finalized a batch");
        }
        Ok(())
    }

    async fn deliver(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        for batch in s.db.our_round0()? {
            let Some(hash) = batch.final_hash else {
                continue;
            };
            if s.db.delivered(batch.batch_id)? {
                continue;
            }
            let Some(bytes) = s.blobs.get(BlobKind::Proof, &hash).await? else {
                tracing::warn!(
                    batch = batch.batch_id,
                    "final proof bytes are not here; cannot deliver"
                );
                continue;
            };
            let Some(manifest) = self.manifest(&batch.root).await? else {
                continue;
            };
            let Some(top) = manifest.tree.last().and_then(|l| l.first()).copied() else {
                continue;
            };
            self.sink
                .deliver(batch.batch_id, &hash, &top.into(), &bytes)
                .await?;
            s.db.set_delivered(batch.batch_id, now_ms())?;
            tracing::info!(batch = batch.batch_id, "final proof delivered");
        }
        Ok(())
    }

    async fn post_round0(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        if self
            .live()
            .round0_in_flight
            .is_some_and(|t| t.elapsed() < Duration::from_secs(60))
        {
            return Ok(());
        }
        let open =
            s.db.our_round0()?
                .iter()
                .filter(|b| !b.cancelled && b.final_hash.is_none())
                .count() as u64;
        if open >= s.cfg.max_open_batches {
            return Ok(());
        }
        let set = s.cfg.params;
        // Batches already posted by an earlier life are found by their roots and skipped; a
        // bounded number per step keeps the loop responsive. A batch whose posting fails is
        // kept and tried again, never lost.
        for _ in 0..64 {
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
            match self.post_source_batch(&batch, &statements).await {
                Ok(true) => {
                    tracing::info!(
                        batch = batch.label,
                        chunks = batch.chunks.len(),
                        "posted round-0 jobs"
                    );
                    self.live().round0_in_flight = Some(Instant::now());
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

    // Stores a source batch's witnesses and manifest and posts it; false if it was posted before.
    async fn post_source_batch(
        &self,
        batch: &SourceBatch,
        statements: &[Statement],
    ) -> anyhow::Result<bool> {
        let s = &self.shared;
        let set = s.cfg.params;
        let shape =
            TreeShape::new(statements.len() as u32).ok_or_else(|| anyhow!("empty batch"))?;
        let tree = shape
            .statements(statements)
            .ok_or_else(|| anyhow!("chunks do not join"))?;
        let mut jobs = Vec::with_capacity(batch.chunks.len());
        for (i, chunk) in batch.chunks.iter().enumerate() {
            let hash = s.blobs.put(BlobKind::Witness, chunk.encode()).await?;
            jobs.push(ManifestJob {
                node: i as u64,
                statement: statements[i].into(),
                witness_hash: hex0x(&hash),
            });
        }
        let manifest = Manifest {
            version: crate::manifest::MANIFEST_VERSION,
            params: set,
            kind: 0,
            level: 0,
            tree: tree
                .iter()
                .map(|l| l.iter().map(|s| StatementJson::from(*s)).collect())
                .collect(),
            jobs,
        };
        self.post_batch(manifest, 0, 0, s.cfg.reward).await
    }

    async fn prune(&self) -> anyhow::Result<()> {
        let s = &self.shared;
        {
            let mut live = self.live();
            // Every 30 s, or sooner when the retention itself is short.
            let every = Duration::from_secs((s.cfg.retention_secs / 10).clamp(1, 30));
            if live.last_prune.is_some_and(|t| t.elapsed() < every) {
                return Ok(());
            }
            live.last_prune = Some(Instant::now());
        }
        let before = now_ms().saturating_sub(s.cfg.retention_secs * 1000);
        for batch_id in s.db.prunable(before)? {
            let Some(batch) = s.db.batch(batch_id)? else {
                continue;
            };
            let keep = batch.final_hash.unwrap_or_default();
            for job in s.db.tree_jobs(batch_id)? {
                s.blobs.delete(BlobKind::Witness, &job.witness_hash).await?;
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

struct Event {
    block: u64,
    log_index: u64,
    kind: EventKind,
}

enum EventKind {
    Posted(Coordinator::BatchPosted, Option<Arc<Manifest>>),
    Cancelled(u64),
    Finalized(u64, [u8; 32]),
    Leased {
        request_id: u64,
        job_id: u64,
        prover: [u8; 20],
    },
    Submitted {
        request_id: u64,
        job_id: u64,
        prover: [u8; 20],
        hash: [u8; 32],
        at: u64,
        uploaded: bool,
    },
    Verdict {
        request_id: u64,
        result: u8,
        completed: bool,
    },
    Skipped(u64),
}

impl Event {
    fn apply(&self, tx: &crate::db::Tx<'_>) -> Result<(), crate::db::DbError> {
        match &self.kind {
            EventKind::Posted(e, manifest) => {
                let batch_id = u64::from(e.batchId);
                let first_job: u64 = e.firstJobId.to();
                let job_count: u64 = e.jobCount.to();
                tx.insert_batch(&BatchRow {
                    batch_id,
                    root: e.witnessRoot.0,
                    first_job,
                    job_count,
                    reward: e.rewardPerJob.to_string(),
                    kind: e.kind,
                    level: e.level,
                    parent: e.parent.into(),
                    circuit: e.circuitId.0,
                    cancelled: false,
                    final_hash: None,
                    block: self.block,
                })?;
                let Some(m) = manifest else { return Ok(()) };
                if m.jobs.len() as u64 != job_count || m.level != e.level || m.kind != e.kind {
                    return Ok(());
                }
                let root_batch = if e.kind == 0 {
                    batch_id
                } else {
                    u64::from(e.parent)
                };
                for (i, j) in m.jobs.iter().enumerate() {
                    tx.insert_job(&JobRow {
                        job_id: first_job + i as u64,
                        batch_id,
                        idx: i as u64,
                        root_batch,
                        level: e.level,
                        node: j.node,
                        statement: encode_statement(&j.statement.into()),
                        witness_hash: crate::manifest::parse_hash(&j.witness_hash)
                            .unwrap_or_default(),
                        winning_proof: None,
                    })?;
                }
                Ok(())
            }
            EventKind::Cancelled(id) => tx.set_cancelled(*id, self.block),
            EventKind::Finalized(id, hash) => tx.set_finalized(*id, hash, self.block),
            EventKind::Leased {
                request_id,
                job_id,
                prover,
            } => tx.insert_lease(*request_id, *job_id, prover, self.block),
            EventKind::Submitted {
                request_id,
                job_id,
                prover,
                hash,
                at,
                uploaded,
            } => tx.insert_submission(
                *request_id,
                *job_id,
                prover,
                hash,
                *at,
                self.block,
                self.log_index,
                *uploaded,
            ),
            EventKind::Verdict {
                request_id,
                result,
                completed,
            } => tx.set_onchain_verdict(*request_id, *result, *completed, self.block),
            EventKind::Skipped(request_id) => tx.clear_local_verdict(*request_id),
        }
    }
}
