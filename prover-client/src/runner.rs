//! The proving loop: lease → fetch → check the leaf and the circuit id → prove in the worker →
//! spool → submit → upload → unspool. The next job is leased and fetched while the current one
//! proves; the oldest lease is proven first; a job another prover completes is dropped at once;
//! consecutive failures trip a breaker that stops leasing.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionReceipt;
use anyhow::{Context, anyhow};
use rand::Rng;
use tokio::sync::{oneshot, watch};

use crowdprove_bindings::Coordinator;
use crowdprove_bindings::Coordinator::CoordinatorErrors;
use crowdprove_circuits::AggregationWitness;
use crowdprove_protocol::{
    JobInfo, JobKind, JobStatus, JobTree, LeaseState, ParamSet, RequestId, Statement, TreeShape,
    hex0x, job_leaf, keccak256, limits, parse_hash,
};

use crate::api::{RelayerApi, Upload};
use crate::config::Connected;
use crate::spool::{Spool, SpoolEntry};
use crate::worker::{Request, Response, Worker};
use crowdprove_bindings::tx::TxError;

/// Settings of `crowdprove-prover run`.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The circuits this client builds.
    pub params: ParamSet,
    /// Threads the worker proves with.
    pub threads: usize,
    /// Where the spool lives.
    pub data_dir: PathBuf,
    /// The relayer's API.
    pub relayer_url: String,
    /// Stop after this many proofs are delivered (0: never).
    pub max_jobs: u64,
    /// Jobs leased ahead of the one being proven.
    pub prefetch: usize,
    /// Consecutive failures that stop leasing.
    pub max_failures: u32,
    /// Aggregation levels whose circuits are built before the first lease.
    pub warm_levels: u8,
    /// How often to look at the chain.
    pub poll: Duration,
    /// Value of one token base unit in wei, to compare rewards with gas costs.
    pub eth_per_token: f64,
    /// Warn below this ETH balance (wei).
    pub min_eth: U256,
}

/// How the loop is asked to stop: 1 = finish the job in hand and lease nothing new, 2 = stop now
/// (keeping the spool).
pub type Stop = watch::Receiver<u8>;

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Leases taken.
    pub leased: u64,
    /// Proofs submitted and uploaded.
    pub delivered: u64,
    /// Jobs dropped because another prover completed them first.
    pub dropped: u64,
    /// Jobs refused (bad witness, leaf or circuit id).
    pub refused: u64,
    /// Proofs judged valid so far.
    pub valid: u64,
    /// Seconds the worker spent proving.
    pub proving_secs: f64,
    /// Seconds the loop ran.
    pub wall_secs: f64,
    /// Why leasing stopped early, if it did.
    pub breaker: Option<String>,
}

impl Summary {
    /// Time proving over wall time.
    pub fn duty_cycle(&self) -> f64 {
        if self.wall_secs > 0.0 {
            self.proving_secs / self.wall_secs
        } else {
            0.0
        }
    }
}

/// A leased job, fetched and checked, waiting for the worker.
struct Ready {
    request_id: u64,
    job_id: u64,
    level: u8,
    /// The top level of its tree.
    top: u8,
    statement: Statement,
    witness: Vec<u8>,
}

enum WorkerCmd {
    CircuitId(u8, oneshot::Sender<anyhow::Result<[u8; 32]>>),
    Prove(Box<Request>, oneshot::Sender<Result<Response, ProveError>>),
}

/// The job in the worker: what it is, where its answer comes, and since when.
type Proving = (
    Ready,
    oneshot::Receiver<Result<Response, ProveError>>,
    Instant,
);

/// Why a job sent to the worker came back without an answer.
#[derive(Debug, thiserror::Error)]
enum ProveError {
    /// The job was dropped mid-proof (another prover completed it, or the client stops now).
    #[error("dropped")]
    Dropped,
    /// The worker process failed.
    #[error("{0:#}")]
    Worker(anyhow::Error),
}

/// The worker, owned by one task: jobs go in, answers come out, and a cancel kills and restarts
/// it mid-proof.
#[derive(Clone)]
struct WorkerHandle {
    cmds: tokio::sync::mpsc::Sender<WorkerCmd>,
    cancel: Arc<watch::Sender<u64>>,
    busy: Arc<std::sync::Mutex<Duration>>,
}

impl WorkerHandle {
    fn start(set: ParamSet, threads: usize) -> anyhow::Result<WorkerHandle> {
        let mut worker = Worker::spawn(set, threads)?;
        let (cmds, mut rx) = tokio::sync::mpsc::channel::<WorkerCmd>(4);
        let (cancel, mut cancelled) = watch::channel(0u64);
        let busy = Arc::new(std::sync::Mutex::new(Duration::ZERO));
        let busy_out = busy.clone();
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    WorkerCmd::CircuitId(level, reply) => {
                        let _ = reply.send(worker.circuit_id(level).await);
                    }
                    WorkerCmd::Prove(req, reply) => {
                        cancelled.borrow_and_update();
                        let outcome = tokio::select! {
                            r = worker.prove(&req) => Some(r),
                            _ = cancelled.changed() => None,
                        };
                        *busy_out.lock().unwrap_or_else(|e| e.into_inner()) = worker.busy;
                        match outcome {
                            Some(r) => {
                                if r.is_err() {
                                    let _ = worker.restart().await;
                                }
                                let _ = reply.send(r.map_err(ProveError::Worker));
                            }
                            None => {
                                if let Err(e) = worker.restart().await {
                                    tracing::error!(error = %e, "could not restart the proving worker");
                                }
                                let _ = reply.send(Err(ProveError::Dropped));
                            }
                        }
                    }
                }
            }
        });
        Ok(WorkerHandle {
            cmds,
            cancel: Arc::new(cancel),
            busy,
        })
    }

    async fn circuit_id(&self, level: u8) -> anyhow::Result<[u8; 32]> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(WorkerCmd::CircuitId(level, tx))
            .await
            .map_err(|_| anyhow!("worker gone"))?;
        rx.await.map_err(|_| anyhow!("worker gone"))?
    }

    async fn prove(&self, req: Request) -> oneshot::Receiver<Result<Response, ProveError>> {
        let (tx, rx) = oneshot::channel();
        let _ = self.cmds.send(WorkerCmd::Prove(Box::new(req), tx)).await;
        rx
    }

    fn cancel(&self) {
        self.cancel.send_modify(|g| *g += 1);
    }

    fn busy(&self) -> Duration {
        *self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Refusing to prove a job: the relayer or the batch is not what the chain says.
#[derive(Debug, thiserror::Error)]
#[error("job {job_id} refused: {reason}")]
struct Refusal {
    job_id: u64,
    reason: String,
}

/// The proving loop.
pub struct Runner {
    cfg: RunConfig,
    conn: Arc<Connected>,
    api: RelayerApi,
    spool: Spool,
    worker: WorkerHandle,
    round0_circuit: Option<[u8; 32]>,
    summary: Summary,
    failures: Vec<String>,
    /// Delivered proofs (request id, proof hash) whose verdict is not yet on-chain.
    awaiting_verdict: Vec<(u64, [u8; 32])>,
    // Spooled proofs whose submission must wait (a handed-on lease the bond cannot back yet, a
    // revert while the lease is still ours): retried each tick.
    awaiting_room: Vec<u64>,
    lease_gas: Option<(u64, u128)>,
}

impl Runner {
    /// Starts the worker and opens the spool.
    pub fn new(cfg: RunConfig, conn: Connected) -> anyhow::Result<Runner> {
        let spool = Spool::open(&cfg.data_dir)?;
        let worker = WorkerHandle::start(cfg.params, cfg.threads)?;
        let api = RelayerApi::new(&cfg.relayer_url, Duration::from_secs(120));
        Ok(Runner {
            cfg,
            conn: Arc::new(conn),
            api,
            spool,
            worker,
            round0_circuit: None,
            summary: Summary::default(),
            failures: Vec::new(),
            awaiting_verdict: Vec::new(),
            awaiting_room: Vec::new(),
            lease_gas: None,
        })
    }

    fn coord(&self) -> &Coordinator::CoordinatorInstance<alloy::providers::DynProvider> {
        &self.conn.coordinator
    }

    fn fail(&mut self, why: String) {
        tracing::warn!(failure = %why, "failure");
        self.failures.push(why);
        if self.failures.len() as u32 >= self.cfg.max_failures && self.summary.breaker.is_none() {
            let reason = format!(
                "{} consecutive failures; the last: {}. Leasing stopped so no more jobs are taken that cannot be finished.",
                self.failures.len(),
                self.failures.last().map_or("", String::as_str)
            );
            tracing::error!("{reason}");
            self.summary.breaker = Some(reason);
        }
    }

    fn succeed(&mut self) {
        self.failures.clear();
    }

    /// Runs until stopped, `max_jobs` are delivered, or the breaker trips.
    pub async fn run(mut self, mut stop: Stop) -> anyhow::Result<Summary> {
        let started = Instant::now();
        self.recover().await?;
        if self.cfg.warm_levels > 0 {
            let level = self.cfg.warm_levels;
            self.worker.circuit_id(level).await?;
            tracing::info!(level, "circuits built; ready to lease");
        }
        let progress = std::io::stderr().is_terminal();
        let mut queue: VecDeque<Ready> = VecDeque::new();
        let mut proving: Option<Proving> = None;
        let mut fetching: Option<tokio::task::JoinHandle<anyhow::Result<Option<Leased>>>> = None;
        let mut backoff = Duration::ZERO;
        let mut retry_at = Instant::now();
        let mut last_eth_check = None::<Instant>;
        let mut spinner: Option<indicatif::ProgressBar> = None;
        loop {
            let stopping = *stop.borrow();
            if stopping >= 2 {
                self.worker.cancel();
                tracing::warn!("stopped now; spooled proofs are finished on the next start");
                break;
            }
            if proving.is_none() {
                if let Some(job) = queue.pop_front() {
                    tracing::info!(
                        job = job.job_id,
                        request = job.request_id,
                        level = job.level,
                        "proving"
                    );
                    if progress {
                        let bar = indicatif::ProgressBar::new_spinner();
                        bar.set_message(format!(
                            "proving job {} (level {})",
                            job.job_id, job.level
                        ));
                        bar.enable_steady_tick(Duration::from_millis(200));
                        spinner = Some(bar);
                    }
                    let req = Request::Prove {
                        job_id: job.job_id,
                        prover: self.conn.address.0.0,
                        level: job.level,
                        top: job.top,
                        statement: job.statement.into(),
                        witness: job.witness.clone(),
                    };
                    let rx = self.worker.prove(req).await;
                    proving = Some((job, rx, Instant::now()));
                }
            }
            let in_hand = queue.len() + usize::from(proving.is_some());
            let enough = self.cfg.max_jobs != 0
                && self.summary.delivered + in_hand as u64 >= self.cfg.max_jobs;
            let may_lease = stopping == 0 && self.summary.breaker.is_none() && !enough;
            if may_lease
                && fetching.is_none()
                && in_hand <= self.cfg.prefetch
                && Instant::now() >= retry_at
            {
                // Lease ahead only while fresh jobs remain: past them, a lease takes a job
                // another prover is working on (LRP), which is worth it only for an idle prover.
                let conn = self.conn.clone();
                let idle = in_hand == 0;
                fetching = Some(tokio::spawn(async move {
                    if !idle && !fresh_jobs(&conn).await {
                        return Ok(None);
                    }
                    lease(&conn).await
                }));
            }
            if proving.is_none() && fetching.is_none() && queue.is_empty() && !may_lease {
                break;
            }
            tokio::select! {
                outcome = async { (&mut proving.as_mut().expect("guarded").1).await }, if proving.is_some() => {
                    let (job, _, _) = proving.take().expect("guarded");
                    if let Some(bar) = spinner.take() { bar.finish_and_clear(); }
                    match outcome {
                        Ok(Ok(Response::Proof(bytes))) => {
                            // Wanting another job now, the submission leases it in the same
                            // transaction (`submitAndLease`): one transaction per job, not two.
                            let chain = may_lease && fetching.is_none() && queue.len() <= self.cfg.prefetch;
                            if let Some(next) = self.deliver(job.request_id, job.job_id, bytes, chain).await {
                                backoff = Duration::ZERO;
                                self.accept(next, &mut queue, None).await;
                            }
                        }
                        Ok(Ok(Response::Refused(why))) => {
                            self.summary.refused += 1;
                            self.fail(format!("job {}: the relayer's witness is refused: {why}", job.job_id));
                        }
                        Ok(Ok(other)) => self.fail(format!("job {}: proving failed: {other:?}", job.job_id)),
                        Ok(Err(ProveError::Dropped)) => {}
                        Ok(Err(e)) => self.fail(format!("job {}: the worker failed: {e}", job.job_id)),
                        Err(_) => self.fail("the worker went away".into()),
                    }
                }
                leased = async { fetching.as_mut().expect("guarded").await }, if fetching.is_some() => {
                    fetching = None;
                    match leased {
                        Ok(Ok(Some(leased))) => {
                            backoff = Duration::ZERO;
                            self.accept(leased, &mut queue, proving.as_ref().map(|p| &p.0)).await;
                        }
                        Ok(Ok(None)) => {
                            backoff = (backoff * 2).clamp(Duration::from_millis(500), Duration::from_secs(30));
                            let jitter = rand::rng().random_range(0.75..1.25);
                            retry_at = Instant::now() + backoff.mul_f64(jitter);
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(error = %format!("{e:#}"), "leasing failed; backing off");
                            retry_at = Instant::now() + Duration::from_secs(2);
                        }
                        Err(e) => tracing::warn!(error = %e, "leasing task failed"),
                    }
                }
                _ = tokio::time::sleep(self.cfg.poll) => {
                    if let Some((job, _, _)) = &proving {
                        if self.job_taken(job.job_id).await {
                            tracing::info!(job = job.job_id, "another prover completed this job first; dropping it mid-proof");
                            self.worker.cancel();
                            self.summary.dropped += 1;
                        }
                    }
                    let mut kept = VecDeque::new();
                    while let Some(j) = queue.pop_front() {
                        if self.job_taken(j.job_id).await {
                            tracing::info!(job = j.job_id, "another prover completed a queued job; dropping it");
                            self.summary.dropped += 1;
                        } else {
                            kept.push_back(j);
                        }
                    }
                    queue = kept;
                    if Instant::now() < retry_at && fresh_jobs(&self.conn).await {
                        retry_at = Instant::now();
                    }
                    self.check_verdicts().await;
                    self.retry_awaiting_room().await;
                    if last_eth_check.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                        last_eth_check = Some(Instant::now());
                        self.check_eth().await;
                    }
                }
                _ = stop.changed() => {
                    if *stop.borrow() == 1 {
                        tracing::info!("finishing the job in hand, then stopping (Ctrl-C again to stop now)");
                    }
                }
            }
        }
        if let Some(f) = fetching.take() {
            if let Ok(Ok(Some(Leased {
                request_id, job_id, ..
            }))) = f.await
            {
                tracing::info!(
                    job = job_id,
                    request = request_id,
                    "leased while stopping; left to others"
                );
            }
        }
        self.check_verdicts().await;
        self.summary.proving_secs = self.worker.busy().as_secs_f64();
        self.summary.wall_secs = started.elapsed().as_secs_f64();
        Ok(self.summary)
    }

    // Takes a new lease in hand: fetched, checked and queued, unless it is a job already in
    // hand (`queue` or `proving`), which LRP can hand back.
    async fn accept(
        &mut self,
        leased: Leased,
        queue: &mut VecDeque<Ready>,
        proving: Option<&Ready>,
    ) {
        let Leased {
            request_id,
            job_id,
            gas,
            price,
        } = leased;
        self.summary.leased += 1;
        self.lease_gas = Some((gas, price));
        let held = queue.iter().chain(proving).any(|j| j.job_id == job_id);
        match self.prepare(request_id, job_id).await {
            Ok(Some(_)) if held => {
                tracing::info!(
                    job = job_id,
                    "leased a job already in hand again (LRP); proving it once"
                );
            }
            Ok(Some(ready)) => queue.push_back(ready),
            Ok(None) => {}
            Err(e) => {
                self.summary.refused += 1;
                self.fail(format!("{e:#}"));
            }
        }
    }

    async fn job_taken(&self, job_id: u64) -> bool {
        let Ok(id) = job_id.try_into() else {
            return false;
        };
        match self.coord().job(id).call().await {
            Ok(j) => JobStatus::try_from(j.status) != Ok(JobStatus::Pending),
            Err(_) => false,
        }
    }

    // Fetches a leased job and checks it against the chain; None if it should not be proven.
    async fn prepare(&mut self, request_id: u64, job_id: u64) -> anyhow::Result<Option<Ready>> {
        let job = self
            .coord()
            .job(job_id.try_into()?)
            .call()
            .await
            .context("reading the job")?;
        if JobStatus::try_from(job.status)? != JobStatus::Pending {
            return Ok(None);
        }
        let batch = self
            .coord()
            .batch(job.batchId)
            .call()
            .await
            .context("reading the batch")?;
        let first: u64 = batch.firstJobId.to();
        let index = job_id - first;
        let shape = TreeShape::new(batch.leafCount.to())
            .ok_or_else(|| anyhow!("batch {} has no leaves", job.batchId))?;
        let level = shape
            .locate(index as u32)
            .ok_or_else(|| anyhow!("job {job_id} is outside its batch's tree"))?
            .level;
        // The batch names its round-0 circuit; the aggregation circuits above it follow from
        // the same parameter set and version, so that one check catches a mismatched client.
        let ours = match self.round0_circuit {
            Some(id) => id,
            None => *self.round0_circuit.insert(self.worker.circuit_id(0).await?),
        };
        if batch.circuitId.0 != ours {
            return Err(Refusal {
                job_id,
                reason: format!(
                    "its batch {} needs round-0 circuit {}, this client builds {} with --params {}: update the client or pick the right parameter set",
                    job.batchId,
                    hex0x(&batch.circuitId.0),
                    hex0x(&ours),
                    self.cfg.params
                ),
            }
            .into());
        }
        self.warn_if_unpaid(batch.rewardPerJob.to());
        let info = self.api.job(job_id).await?;
        let witness = self.api.witness(job_id).await?;
        let kind = JobKind::at_level(level);
        check_leaf(
            &info,
            &witness,
            job_id,
            index,
            kind,
            level,
            batch.witnessRoot.0,
        )
        .map_err(|reason| Refusal { job_id, reason })?;
        if level > 0 {
            let mut winners = Vec::new();
            for child in shape.children_of(index as u32) {
                let child_id = first + u64::from(child);
                let c = self
                    .coord()
                    .job(child_id.try_into()?)
                    .call()
                    .await
                    .context("reading a child job")?;
                // The winning proof's hash is in its submission's event, not in storage; a
                // child not complete has none (zero), which the check refuses.
                let hash = if c.winningRequest == 0 {
                    [0; 32]
                } else {
                    crowdprove_bindings::submitted_proof_hash(self.coord(), c.winningRequest)
                        .await
                        .context("reading a child's winning submission")?
                        .ok_or_else(|| {
                            anyhow!("child job {child_id}: no event of its winning submission")
                        })?
                        .0
                };
                winners.push(hash);
            }
            check_children(&witness, &winners).map_err(|reason| Refusal { job_id, reason })?;
        }
        Ok(Some(Ready {
            request_id,
            job_id,
            level,
            top: shape.height(),
            statement: info.statement.into(),
            witness,
        }))
    }

    fn warn_if_unpaid(&self, reward: U256) {
        let Some((gas, price)) = self.lease_gas else {
            return;
        };
        // A lease plus a submission: the lease's gas as measured, the submission about as much.
        let cost = f64::from(gas as u32) * 2.0 * price as f64;
        let value = reward.to_string().parse::<f64>().unwrap_or(0.0) * self.cfg.eth_per_token;
        if value < cost {
            tracing::warn!(reward = %reward, cost_wei = cost, "this job's reward does not cover the gas of its lease and submission");
        }
    }

    // Spools, submits and uploads a proof; with `chain`, the submission leases the next job too,
    // which is returned.
    async fn deliver(
        &mut self,
        request_id: u64,
        job_id: u64,
        proof: Vec<u8>,
        chain: bool,
    ) -> Option<Leased> {
        let hash = keccak256(&proof);
        let entry = SpoolEntry {
            request_id,
            job_id,
            proof_hash: hex0x(&hash),
        };
        if let Err(e) = self.spool.put(&entry, &proof) {
            self.fail(format!("cannot write the spool: {e:#}"));
            return None;
        }
        crate::faults::after_spool();
        self.finish_spooled(entry, proof, chain).await
    }

    // Submits (if not yet) and uploads a spooled proof, then unspools it. With `chain` the
    // submission is a `submitAndLease`, and the lease it took (if any) is returned.
    async fn finish_spooled(
        &mut self,
        entry: SpoolEntry,
        proof: Vec<u8>,
        chain: bool,
    ) -> Option<Leased> {
        let rid = entry.request_id;
        let Some(hash) = parse_hash(&entry.proof_hash) else {
            let _ = self.spool.remove(rid);
            return None;
        };
        let mut next = None;
        let lease = match self.coord().leaseInfo(rid).call().await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(request = rid, error = %e, "cannot read the lease; the proof stays spooled");
                return None;
            }
        };
        match LeaseState::try_from(lease.state) {
            Ok(LeaseState::Leased) => {
                let sent = if chain {
                    let call = self.conn.coordinator.submitAndLease(rid, B256::from(hash));
                    self.conn
                        .tx
                        .send_padded("submitAndLease", call, CHAINED_LEASE_GAS)
                        .await
                } else {
                    let call = self.conn.coordinator.submitProof(rid, B256::from(hash));
                    self.conn.tx.send("submitProof", call).await
                };
                match sent {
                    Ok(receipt) => {
                        tracing::info!(request = rid, job = entry.job_id, "proof hash submitted");
                        if chain {
                            next = leased_in(&receipt);
                            // The receipt's gas pays for a submission and a lease: half of it
                            // stands for the lease in the reward check.
                            if let Some(l) = &mut next {
                                l.gas /= 2;
                            }
                        }
                    }
                    // The lease was handed on and submitting it would count it against a bond
                    // that backs no more leases: a verdict on another lease frees room, and the
                    // job may still be open then.
                    Err(TxError::Refused {
                        error: CoordinatorErrors::LeaseCapReached(_),
                        ..
                    }) => {
                        tracing::info!(
                            request = rid,
                            "the bond backs no more leases now; the proof stays spooled until a verdict frees room"
                        );
                        self.awaiting_room.push(rid);
                        return None;
                    }
                    Err(e @ (TxError::Refused { .. } | TxError::Reverted(_))) => {
                        // A revert without the contract's reason may come from a lagging RPC or
                        // a mined transaction that ran short: while the lease is still ours and
                        // unsubmitted, the proof stays spooled and is tried again each tick.
                        if matches!(e, TxError::Reverted(_)) && self.still_to_submit(rid).await {
                            tracing::warn!(request = rid, why = %e, "submission reverted but the lease is still ours; trying again");
                            self.awaiting_room.push(rid);
                            return None;
                        }
                        // Completed by someone else meanwhile: nothing to deliver.
                        tracing::info!(
                            request = rid,
                            why = %e,
                            "submission refused; dropping the proof"
                        );
                        self.summary.dropped += 1;
                        let _ = self.spool.remove(rid);
                        return None;
                    }
                    Err(e) => {
                        tracing::warn!(request = rid, error = %e, "submission failed; the proof stays spooled");
                        return None;
                    }
                }
            }
            // The contract keeps the hash's first 4 bytes: enough to tell that a reorg put
            // another submission in place of ours.
            Ok(LeaseState::Submitted) if lease.proofPrefix.0 == hash[..4] => {}
            _ => {
                let _ = self.spool.remove(rid);
                return None;
            }
        }
        match self.api.upload(rid, &proof).await {
            Ok(Upload::Accepted) => {
                let _ = self.spool.remove(rid);
                self.summary.delivered += 1;
                self.awaiting_verdict.push((rid, hash));
                tracing::info!(request = rid, job = entry.job_id, "proof delivered");
            }
            Ok(Upload::Gone) => {
                let _ = self.spool.remove(rid);
                self.fail(format!(
                    "request {rid}: judged Missing before the upload arrived"
                ));
            }
            Ok(Upload::Refused(why)) => self.fail(format!("request {rid}: upload refused: {why}")),
            Err(e) => {
                tracing::warn!(request = rid, error = %format!("{e:#}"), "upload failed; the proof stays spooled")
            }
        }
        next
    }

    // Whether lease `rid` is, as the chain now says, still this prover's and unsubmitted.
    async fn still_to_submit(&self, rid: u64) -> bool {
        self.coord().leaseInfo(rid).call().await.is_ok_and(|l| {
            LeaseState::try_from(l.state) == Ok(LeaseState::Leased) && l.holder == self.conn.address
        })
    }

    // Tries again the spooled proofs whose submission had to wait: a verdict may have freed
    // bond room, the RPC caught up, and a job completed meanwhile unspools them.
    async fn retry_awaiting_room(&mut self) {
        if self.awaiting_room.is_empty() {
            return;
        }
        let waiting = std::mem::take(&mut self.awaiting_room);
        let spooled = match self.spool.list() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the spool");
                self.awaiting_room = waiting;
                return;
            }
        };
        for (entry, proof) in spooled {
            if waiting.contains(&entry.request_id) {
                self.finish_spooled(entry, proof, false).await;
            }
        }
    }

    // Finishes proofs a previous run spooled but did not deliver.
    async fn recover(&mut self) -> anyhow::Result<()> {
        let spooled = self.spool.list()?;
        if !spooled.is_empty() {
            tracing::info!(
                proofs = spooled.len(),
                "finishing spooled proofs from an earlier run"
            );
        }
        for (entry, proof) in spooled {
            self.finish_spooled(entry, proof, false).await;
        }
        Ok(())
    }

    async fn check_verdicts(&mut self) {
        let mut still = Vec::new();
        // Chain time, read once per check and only if a submission awaits its verdict.
        let mut now = None;
        for (rid, hash) in std::mem::take(&mut self.awaiting_verdict) {
            let Ok(lease) = self.coord().leaseInfo(rid).call().await else {
                still.push((rid, hash));
                continue;
            };
            match LeaseState::try_from(lease.state) {
                Ok(LeaseState::Valid) => {
                    self.summary.valid += 1;
                    self.succeed();
                }
                Ok(LeaseState::Invalid) => self.fail(format!(
                    "request {rid}: the relayer judged the proof invalid"
                )),
                Ok(LeaseState::Missing) => self.fail(format!("request {rid}: judged Missing")),
                Ok(LeaseState::Expired) => self.fail(format!(
                    "request {rid}: never judged; expired past its verdict deadline (bond freed, unpaid)"
                )),
                // Unjudged past its deadlines, the relayer is down or hostile: expiring it frees
                // the bond (unpaid), so it can back leases elsewhere or leave.
                Ok(LeaseState::Submitted)
                    if self.expire_if_overdue(rid, lease.submittedAt, &mut now).await =>
                {
                    self.fail(format!(
                        "request {rid}: the relayer never judged it; expired past its verdict deadline (bond freed, unpaid)"
                    ));
                }
                Ok(LeaseState::Submitted) => still.push((rid, hash)),
                // The submission is gone but the lease is still ours: a reorg dropped the
                // transaction. The relayer keeps the bytes by hash, so submitting the hash
                // again is all it takes; without it the lease would stay held for nothing.
                Ok(LeaseState::Leased) if lease.holder == self.conn.address => {
                    tracing::warn!(
                        request = rid,
                        "the submission vanished from the chain (a reorg?); submitting it again"
                    );
                    self.conn.tx.resync().await;
                    let call = self.conn.coordinator.submitProof(rid, B256::from(hash));
                    match self.conn.tx.send("submitProof", call).await {
                        Ok(_) => still.push((rid, hash)),
                        Err(e @ (TxError::Refused { .. } | TxError::Reverted(_))) => {
                            tracing::info!(request = rid, why = %e, "resubmission refused; dropping it");
                            self.summary.dropped += 1;
                        }
                        Err(e) => {
                            tracing::warn!(request = rid, error = %e, "resubmission failed; trying again later");
                            still.push((rid, hash));
                        }
                    }
                }
                // The lease itself is gone (reorged out) or the job was settled without it.
                _ => {
                    tracing::info!(request = rid, "the lease is no longer ours; forgetting it");
                    self.summary.dropped += 1;
                }
            }
        }
        self.awaiting_verdict = still;
    }

    // Expires submission `rid` (made at chain time `submitted_at`) if it is past the upload and
    // verdict deadlines it is held to; true once expired. `now` caches the chain time.
    async fn expire_if_overdue(
        &mut self,
        rid: u64,
        submitted_at: u32,
        now: &mut Option<u64>,
    ) -> bool {
        let at = u64::from(submitted_at);
        let now = match *now {
            Some(t) => t,
            None => match self
                .conn
                .provider
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
                .await
            {
                Ok(Some(block)) => *now.insert(block.header.timestamp),
                _ => return false,
            },
        };
        // No deadline pair is shorter than the least of each: skip the reads until then.
        let earliest = at + limits::MIN_UPLOAD_DEADLINE + limits::MIN_VERDICT_DEADLINE;
        if now < earliest {
            return false;
        }
        let Ok(d) = self.coord().deadlinesAt(U256::from(at)).call().await else {
            return false;
        };
        let due = at + d.uploadDeadline.to::<u64>() + d.verdictDeadline.to::<u64>();
        if now < due {
            return false;
        }
        let call = self.conn.coordinator.expireSubmission(rid);
        match self.conn.tx.send("expireSubmission", call).await {
            Ok(_) => {
                tracing::warn!(
                    request = rid,
                    "no verdict past the deadlines: expired the submission"
                );
                true
            }
            Err(e) => {
                tracing::warn!(request = rid, error = %e, "could not expire the overdue submission; trying again later");
                false
            }
        }
    }

    async fn check_eth(&self) {
        if let Ok(balance) = self.conn.provider.get_balance(self.conn.address).await {
            if balance < self.cfg.min_eth {
                tracing::warn!(balance = %balance, "the prover's ETH balance is low: fund it to keep leasing and submitting");
            }
        }
    }
}

/// Whether the chain has jobs nobody has leased yet.
async fn fresh_jobs(conn: &Connected) -> bool {
    conn.coordinator
        .queue()
        .call()
        .await
        .is_ok_and(|q| q.freshJobs > U256::ZERO)
}

/// A fresh lease and what its transaction cost.
struct Leased {
    request_id: u64,
    job_id: u64,
    gas: u64,
    price: u128,
}

/// Gas above the estimate for `submitAndLease`: a lease's worth, for when a job is readied
/// between the estimate (which found none) and the execution. Unused gas is not paid.
const CHAINED_LEASE_GAS: u64 = 120_000;

// The lease a receipt's `JobLeased` event announces, if any.
fn leased_in(receipt: &TransactionReceipt) -> Option<Leased> {
    let ev = receipt
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<Coordinator::JobLeased>().ok())?;
    let e = ev.inner.data;
    let job_id = RequestId(e.requestId).job();
    tracing::info!(
        request = e.requestId,
        job = job_id,
        gas = receipt.gas_used,
        "leased"
    );
    Some(Leased {
        request_id: e.requestId,
        job_id,
        gas: receipt.gas_used,
        price: receipt.effective_gas_price,
    })
}

// Leases one job; None when there is none (or the bond backs no more leases).
async fn lease(conn: &Connected) -> anyhow::Result<Option<Leased>> {
    match conn.tx.send("lease", conn.coordinator.lease()).await {
        Ok(receipt) => {
            // No JobLeased: the call cleared jobs of cancelled batches on its way and leased
            // nothing (the contract keeps such clearing instead of reverting).
            let leased = leased_in(&receipt);
            if leased.is_none() {
                tracing::debug!(
                    gas = receipt.gas_used,
                    "the lease cleared cancelled jobs, nothing leased"
                );
            }
            Ok(leased)
        }
        Err(TxError::Refused {
            error: CoordinatorErrors::LeaseCapReached(_),
            ..
        }) => {
            tracing::warn!("the bond backs no more leases: wait for verdicts or stake more");
            Ok(None)
        }
        Err(e @ (TxError::Refused { .. } | TxError::Reverted(_))) => {
            tracing::debug!(why = %e, "no job to lease");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks what the relayer served against the chain: the statement to its statement hash,
/// the leaf encodes this job's index, kind and level, the witness hashes to the leaf's witness
/// hash (zero for an aggregation node, whose witness [`check_children`] checks), and its Merkle
/// path leads to the batch's on-chain root.
pub fn check_leaf(
    info: &JobInfo,
    witness: &[u8],
    job_id: u64,
    index: u64,
    kind: JobKind,
    level: u8,
    root: [u8; 32],
) -> Result<(), String> {
    if info.job_id != job_id || info.index != index || info.kind != kind || info.level != level {
        return Err(format!(
            "the relayer describes job {} (index {}, kind {}, level {}), the chain says job {job_id} (index {index}, kind {kind}, level {level})",
            info.job_id, info.index, info.kind, info.level
        ));
    }
    let witness_hash = if kind == JobKind::Round0 {
        keccak256(witness)
    } else {
        [0; 32]
    };
    if witness_hash != info.witness_hash {
        return Err("the witness bytes do not hash to the leaf's witness hash".into());
    }
    let statement: Statement = info.statement.into();
    let leaf = job_leaf(index as u32, kind, level, statement.hash(), witness_hash);
    if !JobTree::verify(leaf, index, &info.path, root) {
        return Err(format!(
            "the witness and statement do not lead to the batch's on-chain root {}: the relayer served a witness the chain did not commit to",
            hex0x(&root)
        ));
    }
    Ok(())
}

/// Checks an aggregation node's witness against the chain: its child proofs are, in order,
/// exactly the winning proofs the chain recorded for the node's children (`winners`, zero for
/// a child not complete).
pub fn check_children(witness: &[u8], winners: &[[u8; 32]]) -> Result<(), String> {
    let w = AggregationWitness::decode(witness)
        .map_err(|e| format!("the aggregation witness does not decode: {e}"))?;
    let served: Vec<[u8; 32]> = std::iter::once(&w.left)
        .chain(&w.right)
        .map(|p| p.hash())
        .collect();
    if served != winners {
        return Err(format!(
            "the witness holds {} child proofs that are not the {} winning proofs the chain recorded for this node's children",
            served.len(),
            winners.len()
        ));
    }
    Ok(())
}
