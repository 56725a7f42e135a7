//! The relayer's work loop, one module per duty: [`follow`] the chain's events into the
//! database, [`verify`] uploaded proofs, post [`verdicts`] (the chain makes a node fresh when
//! the verdict on its last child lands, and finalizes the batch with its top), [`deliver`]
//! final proofs to the sink, [`post`] new batches (each a whole proving tree) from the job
//! source, and [`prune`] old blobs. Each duty owns its state and reads its inputs
//! from the database (a cache of the chain) and the blob store, so a restart, even with the
//! database deleted, resumes where the chain is.
//!
//! One loop steps through the duties in turn (simple, and every step is idempotent). A duty
//! that fails is logged, counted in `crowdprove_relayer_duty_failures_total` and retried on its
//! own, after a back-off that doubles up to a minute, while the others go on: a sink that
//! keeps failing does not stop verdicts, posting and pruning.

mod deliver;
mod follow;
mod post;
mod prune;
mod verdicts;
mod verify;
mod writeback;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy::primitives::U256;
use anyhow::Context;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crowdprove_circuits::Circuits;
use crowdprove_protocol::{Manifest, TreeShape, hex0x};

use crate::blobs::{BlobKind, BlobStore};
use crate::chain::{Chain, retry};
use crate::config::RelayerConfig;
use crate::db::Db;
use crate::metrics::Metrics;

pub(crate) use verify::Verifier;

/// What the HTTP API and the duties share.
pub(crate) struct Shared {
    /// The configuration.
    pub(crate) cfg: RelayerConfig,
    /// The database.
    pub(crate) db: Arc<Db>,
    /// The blob store.
    pub(crate) blobs: BlobStore,
    /// The chain.
    pub(crate) chain: Chain,
    /// The circuits of the configured parameter set.
    pub(crate) circuits: Arc<Circuits>,
    /// The circuit registry: external verifiers by circuit id (empty without `--circuits`).
    pub(crate) registry: crowdprove_circuits::registry::Registry,
    /// The operator's PostgreSQL job queue, when that is the job source.
    pub(crate) pg: Option<Arc<crate::pg_queue::PgQueue>>,
    /// Counters and gauges.
    pub(crate) metrics: Metrics,
    /// Wakes the work loop early (an upload arrived, a verification finished).
    pub(crate) wake: Notify,
    /// The chain's time at the head the follower last read.
    pub(crate) chain_time: AtomicU64,
    /// Manifests by batch root, read from the blob store once.
    manifests: Mutex<HashMap<[u8; 32], Arc<Manifest>>>,
    /// What `/v1/status` and `/metrics` serve, refreshed by the snapshot duty.
    snapshot: std::sync::RwLock<Option<Arc<crate::api::Snapshot>>>,
    /// When the snapshot duty last ran.
    snapshot_at: Every,
    /// The status page's heavier reads (see `api::refresh`): when last read, how long that
    /// took, and what they read.
    pub(crate) activity: Mutex<Option<(std::time::Instant, Duration, Arc<crate::db::Activity>)>>,
}

impl Shared {
    /// State over an opened database, blob store and chain (and the operator's job queue,
    /// when that is the job source: see [`Shared::with_queue`]).
    pub(crate) fn new(
        cfg: RelayerConfig,
        db: Arc<Db>,
        blobs: BlobStore,
        chain: Chain,
        circuits: Arc<Circuits>,
    ) -> Shared {
        Shared {
            pg: None,
            registry: Default::default(),
            cfg,
            db,
            blobs,
            chain,
            circuits,
            metrics: Metrics::default(),
            wake: Notify::new(),
            chain_time: AtomicU64::new(0),
            manifests: Mutex::default(),
            snapshot: Default::default(),
            snapshot_at: Every::default(),
            activity: Mutex::default(),
        }
    }

    /// This state with a circuit registry.
    pub(crate) fn with_registry(
        mut self,
        registry: crowdprove_circuits::registry::Registry,
    ) -> Shared {
        self.registry = registry;
        self
    }

    /// This state with the operator's job queue as its job source.
    pub(crate) fn with_queue(mut self, pg: Arc<crate::pg_queue::PgQueue>) -> Shared {
        self.pg = Some(pg);
        self
    }

    /// The latest status snapshot, if one was built.
    pub(crate) fn snapshot(&self) -> Option<Arc<crate::api::Snapshot>> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The slot the snapshot duty writes.
    pub(crate) fn snapshot_slot(
        &self,
    ) -> std::sync::RwLockWriteGuard<'_, Option<Arc<crate::api::Snapshot>>> {
        self.snapshot.write().unwrap_or_else(|e| e.into_inner())
    }

    // Rebuilds the status snapshot at most every SNAPSHOT_EVERY.
    async fn refresh_snapshot(&self) -> anyhow::Result<()> {
        if !self.snapshot_at.due(SNAPSHOT_EVERY) {
            return Ok(());
        }
        crate::api::refresh(self).await
    }

    /// The manifest of the batch with `root`, if it is ours: stored, readable, and of our
    /// parameter set. The duties and the HTTP API share this one cache.
    pub(crate) async fn manifest(&self, root: &[u8; 32]) -> anyhow::Result<Option<Arc<Manifest>>> {
        if let Some(m) = self.cached_manifests().get(root) {
            return Ok(Some(m.clone()));
        }
        let Some(bytes) = self.blobs.get(BlobKind::Manifest, root).await? else {
            return Ok(None);
        };
        let Some(m) = Manifest::decode(&bytes) else {
            tracing::warn!(root = %hex0x(root), "unreadable manifest; its batch is not ours to serve");
            return Ok(None);
        };
        if m.params != self.cfg.jobs.params {
            return Ok(None);
        }
        // Keyed by the root the chain holds, it must build that root: otherwise its statements
        // are not the ones the chain committed to, and judging against them would slash honest
        // provers.
        if m.job_tree().root() != *root {
            tracing::error!(root = %hex0x(root), "the stored manifest does not build its batch's root: the blob store was altered; the batch is not served or judged");
            return Ok(None);
        }
        let m = Arc::new(m);
        self.cached_manifests().insert(*root, m.clone());
        Ok(Some(m))
    }

    /// Remembers a manifest this process just stored.
    fn remember_manifest(&self, root: [u8; 32], manifest: Manifest) {
        self.cached_manifests().insert(root, Arc::new(manifest));
    }

    fn cached_manifests(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Arc<Manifest>>> {
        self.manifests.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The work loop's duties, in the order one step runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Duty {
    /// Follow the chain's events.
    Follow,
    /// Feed uploaded proofs to the verifiers.
    Verify,
    /// Judge missing uploads and post verdicts.
    Verdicts,
    /// Hand final proofs to the sink.
    Deliver,
    /// Post new batches from the job source.
    Post,
    /// Delete old witnesses and proofs.
    Prune,
    /// Refresh what `/v1/status` and `/metrics` serve.
    Snapshot,
    /// Check unsubmitted leases against the chain for submissions following missed.
    Reconcile,
    /// Write results back to the operator's job queue.
    Writeback,
}

impl Duty {
    /// Every duty, in step order.
    pub(crate) const ALL: [Duty; 9] = [
        Duty::Follow,
        Duty::Verify,
        Duty::Verdicts,
        Duty::Deliver,
        Duty::Writeback,
        Duty::Post,
        Duty::Prune,
        Duty::Reconcile,
        Duty::Snapshot,
    ];

    /// Its name in logs and metrics.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Duty::Follow => "follow",
            Duty::Verify => "verify",
            Duty::Verdicts => "verdicts",
            Duty::Deliver => "deliver",
            Duty::Post => "post",
            Duty::Prune => "prune",
            Duty::Reconcile => "reconcile",
            Duty::Snapshot => "snapshot",
            Duty::Writeback => "writeback",
        }
    }
}

/// When each duty may run next: after a failure a duty waits, from one poll interval doubling
/// up to a minute, while the others keep their pace.
#[derive(Default)]
struct Schedule {
    /// Duty -> (not before, current back-off).
    backoff: HashMap<Duty, (Instant, Duration)>,
}

/// When a periodic duty last ran (the prune, reconcile and snapshot duties run on a period of
/// their own, not on every step).
#[derive(Default)]
pub(super) struct Every(Mutex<Option<Instant>>);

impl Every {
    /// Whether `period` has passed since the last time this said yes (yes the first time); a
    /// yes starts the next period.
    pub(super) fn due(&self, period: Duration) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < period) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

/// How often the status snapshot is rebuilt.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(2);

/// The longest a failing duty waits between tries.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl Schedule {
    fn due(&self, duty: Duty, now: Instant) -> bool {
        self.backoff.get(&duty).is_none_or(|(at, _)| now >= *at)
    }

    fn succeeded(&mut self, duty: Duty) {
        self.backoff.remove(&duty);
    }

    fn failed(&mut self, duty: Duty, now: Instant, poll: Duration) {
        let wait = self
            .backoff
            .get(&duty)
            .map_or(poll, |(_, w)| (*w * 2).min(MAX_BACKOFF))
            .max(poll);
        self.backoff.insert(duty, (now + wait, wait));
    }
}

/// The relayer's work loop: its duties and their schedule.
pub(crate) struct Service {
    shared: Arc<Shared>,
    verifier: Verifier,
    verdicts: verdicts::Verdicts,
    deliver: deliver::Deliverer,
    post: post::Poster,
    prune: prune::Pruner,
    reconcile: follow::Reconciler,
    writeback: writeback::Writeback,
    schedule: Mutex<Schedule>,
}

impl Service {
    /// A work loop over `shared`, with its verifier threads (call inside a tokio runtime).
    pub(crate) fn new(shared: Arc<Shared>) -> anyhow::Result<Arc<Service>> {
        let cfg = &shared.cfg;
        let workers = cfg
            .verdicts
            .verify_workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        let verifier = Verifier::start(shared.clone(), workers.max(1))?;
        // The aggregation circuits are built on first use, seconds per level; the verdict on a
        // node's proof is the critical path, so build the levels our batches reach now, in the
        // background, rather than when their first proof waits for them.
        if let Some(shape) = TreeShape::new(cfg.jobs.chunks) {
            let circuits = shared.circuits.clone();
            tokio::task::spawn_blocking(move || {
                let _ = circuits.circuit_id(shape.height());
            });
        }
        Ok(Arc::new(Service {
            post: post::Poster::new(&shared)?,
            verdicts: verdicts::Verdicts::default(),
            deliver: deliver::Deliverer::new(&cfg.store.sink),
            prune: prune::Pruner::default(),
            reconcile: follow::Reconciler::default(),
            writeback: writeback::Writeback::default(),
            verifier,
            shared,
            schedule: Mutex::default(),
        }))
    }

    /// Runs until `cancel` fires.
    pub(crate) async fn run(self: Arc<Self>, cancel: CancellationToken) {
        if let Err(e) = self.ensure_allowance().await {
            tracing::error!(error = %format!("{e:#}"), "could not approve the Coordinator to take rewards; posting will retry");
        }
        let poll = Duration::from_millis(self.shared.cfg.follow.poll_ms);
        while !cancel.is_cancelled() {
            self.step().await;
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(poll) => {}
                _ = self.shared.wake.notified() => {}
            }
        }
        tracing::info!("relayer work loop stopped");
    }

    /// One pass over every duty that is due. A failing duty is logged, counted and put back
    /// for later; the rest still run.
    pub(crate) async fn step(&self) {
        let poll = Duration::from_millis(self.shared.cfg.follow.poll_ms);
        for duty in Duty::ALL {
            if !self.lock_schedule().due(duty, Instant::now()) {
                continue;
            }
            let result = self.run_duty(duty).await;
            self.record(duty, result, poll);
        }
    }

    fn record(&self, duty: Duty, result: anyhow::Result<()>, poll: Duration) {
        let mut schedule = self.lock_schedule();
        match result {
            Ok(()) => schedule.succeeded(duty),
            Err(e) => {
                schedule.failed(duty, Instant::now(), poll);
                self.shared.metrics.duty_failed(duty.name());
                tracing::warn!(duty = duty.name(), error = %format!("{e:#}"), "relayer duty failed; retrying it later");
            }
        }
    }

    fn lock_schedule(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one duty now, whatever its schedule.
    pub(crate) async fn run_duty(&self, duty: Duty) -> anyhow::Result<()> {
        match duty {
            Duty::Follow => follow::run(&self.shared).await,
            Duty::Verify => self.verifier.feed().await,
            Duty::Verdicts => self.verdicts.run(&self.shared).await,
            Duty::Deliver => self.deliver.deliver(&self.shared).await,
            Duty::Post => self.post.run(&self.shared).await,
            Duty::Prune => self.prune.run(&self.shared).await,
            Duty::Reconcile => self.reconcile.run(&self.shared).await,
            Duty::Snapshot => self.shared.refresh_snapshot().await,
            Duty::Writeback => self.writeback.run(&self.shared).await,
        }
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
            chain
                .tx
                .send(
                    "approve",
                    token.approve(*chain.coordinator.address(), U256::MAX),
                )
                .await
                .context("approving the Coordinator")?;
            tracing::info!("approved the Coordinator to escrow rewards");
        }
        Ok(())
    }
}

/// Runs `f` on every item, going on past failures; returns the first error, if any, once all
/// were tried. A duty uses it so that one bad batch does not hold up the others.
async fn each<T, F, Fut>(items: impl IntoIterator<Item = T>, mut f: F) -> anyhow::Result<()>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut first = None;
    for item in items {
        if let Err(e) = f(item).await {
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_duty_backs_off_alone_and_recovers() {
        let mut s = Schedule::default();
        let t0 = Instant::now();
        let poll = Duration::from_millis(100);
        s.failed(Duty::Deliver, t0, poll);
        assert!(!s.due(Duty::Deliver, t0), "a failed duty waits");
        assert!(s.due(Duty::Verdicts, t0), "the others go on");
        assert!(s.due(Duty::Deliver, t0 + poll));
        s.failed(Duty::Deliver, t0 + poll, poll);
        assert!(!s.due(Duty::Deliver, t0 + poll * 2), "the wait doubles");
        assert!(s.due(Duty::Deliver, t0 + poll * 3));
        for _ in 0..20 {
            s.failed(Duty::Deliver, t0, poll);
        }
        assert!(s.due(Duty::Deliver, t0 + MAX_BACKOFF), "capped at a minute");
        s.succeeded(Duty::Deliver);
        assert!(s.due(Duty::Deliver, t0), "a success resets it");
    }

    #[tokio::test]
    async fn each_tries_every_item_and_returns_the_first_error() {
        let mut tried = Vec::new();
        let r = each([1, 2, 3], |i| {
            tried.push(i);
            async move {
                if i == 2 {
                    anyhow::bail!("item {i}")
                }
                Ok(())
            }
        })
        .await;
        assert_eq!(tried, [1, 2, 3]);
        assert_eq!(r.unwrap_err().to_string(), "item 2");
    }
}
