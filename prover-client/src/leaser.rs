//! The first stage: keeps enough jobs ready that the prover never waits for a lease or a
//! download. It leases (`leaseMany`, or riding on a submission with `submitAndLease`), fetches
//! each witness, checks it against the chain, and queues it for the prover. Fresh jobs are
//! leased ahead; a job another prover holds (LRP) only when this prover is idle.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::U256;
use alloy::rpc::types::TransactionReceipt;
use anyhow::{Context, anyhow};
use tokio::sync::mpsc;

use crowdprove_bindings::Coordinator;
use crowdprove_bindings::Coordinator::CoordinatorErrors;
use crowdprove_bindings::tx::TxError;
use crowdprove_circuits::AggregationWitness;
use crowdprove_protocol::{
    JobInfo, JobKind, JobStatus, JobTree, RequestId, Statement, TreeShape, hex0x, job_leaf,
    keccak256, limits,
};

use crate::api::RelayerApi;
use crate::config::Connected;
use crate::give_back::GiveBack;
use crate::runner::{Stop, stop_changed, stopped_now};
use crate::state::{Failure, Shared};

/// A leased job, fetched and checked, waiting for the prover.
pub struct Ready {
    /// Its lease.
    pub request_id: u64,
    /// The job.
    pub job_id: u64,
    /// Its tree level.
    pub level: u8,
    /// The top level of its tree.
    pub top: u8,
    /// Its batch's circuit id.
    pub circuit: [u8; 32],
    /// What its proof must state.
    pub statement: Statement,
    /// The witness bytes.
    pub witness: Vec<u8>,
}

/// A fresh lease and what its transaction cost.
#[derive(Debug)]
pub struct Leased {
    /// The lease.
    pub request_id: u64,
    /// Its job.
    pub job_id: u64,
    /// Gas of the transaction, per lease.
    pub gas: u64,
    /// Its gas price.
    pub price: u128,
}

/// Gas above the estimate for `submitAndLease`: a lease's worth, for when a job is readied
/// between the estimate (which found none) and the execution. Unused gas is not paid.
pub const CHAINED_LEASE_GAS: u64 = 120_000;

/// Settings of the leasing stage.
pub struct LeaseSettings {
    /// How often to look at the chain while waiting.
    pub poll: Duration,
    /// The round-0 circuit this client builds.
    pub round0_circuit: [u8; 32],
    /// Round-0 circuits it proves with external commands (its circuit registry).
    pub external: Vec<[u8; 32]>,
    /// The parameter set's name, for the mismatch message.
    pub params: String,
    /// Value of one token base unit in wei.
    pub eth_per_token: f64,
}

/// Why a leased job is not queued.
enum Prep {
    /// The job is no longer open (completed by another prover, or cancelled).
    Gone,
    /// The relayer served something the chain did not commit to.
    Refused(String),
    /// This client does not build the batch's circuit.
    Mismatch(String),
    /// The relayer or the RPC did not answer; tried again.
    Outage(anyhow::Error),
    /// The run stops now; the lease is left to others.
    Stopped,
}

/// The leasing stage.
pub struct Leaser {
    /// The chain.
    pub conn: Arc<Connected>,
    /// The relayer.
    pub api: RelayerApi,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Settings.
    pub cfg: LeaseSettings,
    /// Where ready jobs go.
    pub ready: mpsc::Sender<Ready>,
    /// The lanes (the Coordinator's queue per circuit) of the circuits this client proves.
    pub lanes: Lanes,
    /// Leases taken by submissions (`submitAndLease`) the prover booked them on.
    pub rides: mpsc::UnboundedReceiver<Vec<Leased>>,
    /// How the run is asked to stop.
    pub stop: Stop,
    /// Where leases it will not finish go.
    pub give_back: Arc<GiveBack>,
}

impl Leaser {
    /// Leases and fetches until stopped, done or stopped for good; dropping the queue then
    /// tells the prover no more jobs come.
    pub async fn run(mut self) {
        let mut rides = Vec::new();
        let mut capped = false;
        loop {
            // What submissions leased on our behalf is taken in hand first.
            while let Ok(r) = self.rides.try_recv() {
                rides.push(r);
            }
            let mut stopped = false;
            while !stopped && !rides.is_empty() {
                let leased = rides.remove(0);
                if leased.is_empty() {
                    self.shared.set_chain_work(false);
                }
                stopped = !self.accept_all(leased).await;
            }
            if stopped
                || *self.stop.borrow() > 0
                || self.shared.stopped_for_good()
                || self.shared.done()
            {
                break;
            }
            let want = self.shared.wanted();
            if self.shared.counts().outage.is_some() {
                self.probe_rpc().await;
                continue;
            }
            if want == 0 || !self.shared.may_lease() {
                self.wait().await;
                continue;
            }
            // The deliverer cannot upload: a job leased now could not be fetched either. Lease
            // again once the relayer answers.
            if self.shared.counts().relayer_down {
                if self.api.healthy().await {
                    self.shared.update(|c| c.relayer_down = false);
                } else {
                    self.wait().await;
                    continue;
                }
            }
            let idle = self.shared.counts().in_hand == 0;
            // Only the lanes of circuits this client proves: no bond on a job it cannot prove.
            let lane = match self.pick_lane(idle).await {
                Ok(Some(lane)) => lane,
                Ok(None) => {
                    self.shared.set_chain_work(false);
                    self.wait().await;
                    continue;
                }
                Err(e) => {
                    self.rpc_outage(e.to_string()).await;
                    continue;
                }
            };
            // Past the fresh jobs a lease takes a job another prover holds (LRP): worth it only
            // for an idle prover, and one at a time.
            let n = want.min(limits::MAX_LEASES_PER_CALL as usize);
            // Stopping now still awaits a lease sent (a while), so that what it leased goes
            // back.
            let leased = {
                let conn = self.conn.clone();
                let leasing = lease(&conn, n, lane);
                tokio::pin!(leasing);
                let mut now = self.stop.clone();
                tokio::select! {
                    l = &mut leasing => l,
                    _ = stopped_now(&mut now) => {
                        match tokio::time::timeout(Duration::from_secs(10), &mut leasing).await {
                            Ok(l) => l,
                            Err(_) => break,
                        }
                    }
                }
            };
            match leased {
                Ok(Lease::Taken(leased)) => {
                    capped = false;
                    self.shared.set_chain_work(true);
                    if !self.accept_all(leased).await {
                        break;
                    }
                }
                Ok(Lease::NoJob) => {
                    self.shared.set_chain_work(false);
                    self.wait().await;
                }
                // Work is there but the bond backs no more leases until a verdict frees one:
                // the wait counts as time with work available.
                Ok(Lease::Capped) => {
                    if !std::mem::replace(&mut capped, true) {
                        tracing::info!(
                            "the bond backs no more leases: waiting for verdicts (or stake more)"
                        );
                    }
                    self.wait().await;
                }
                Err(e) => self.rpc_outage(format!("{e:#}")).await,
            }
        }
        // Leases that submissions took on our behalf and nobody will prove go back.
        self.rides.close();
        rides.extend(std::iter::from_fn(|| self.rides.try_recv().ok()));
        for l in rides.into_iter().flatten() {
            self.give_back
                .lease(l.request_id, l.job_id, "leased while stopping");
        }
        tracing::debug!("leasing stage done");
    }

    // The lane to lease from: the first of ours with fresh jobs (the chain has work for us),
    // else, for an idle prover, the first with pending jobs (LRP); none if neither.
    async fn pick_lane(&mut self, idle: bool) -> anyhow::Result<Option<u8>> {
        if self.lanes.stale(self.cfg.poll) {
            let mut ours = vec![self.cfg.round0_circuit];
            ours.extend(self.cfg.external.iter().copied());
            let mut known = Vec::new();
            let mut all_known = true;
            for circuit in ours {
                let r = self.conn.coordinator.laneOf(circuit.into()).call().await?;
                all_known &= r.known;
                if r.known && !known.contains(&r.lane) {
                    known.push(r.lane);
                }
            }
            self.lanes.set(known, all_known);
        }
        let mut pending = None;
        for lane in self.lanes.known.clone() {
            let q = self.conn.coordinator.laneQueue(lane).call().await?;
            if q.freshJobs > U256::ZERO {
                self.shared.set_chain_work(true);
                return Ok(Some(lane));
            }
            if idle && q.pendingJobs > U256::ZERO {
                pending.get_or_insert(lane);
            }
        }
        Ok(pending)
    }

    // Takes new leases in hand one by one; stopping now gives back the one being fetched and
    // the rest (false).
    async fn accept_all(&mut self, leased: Vec<Leased>) -> bool {
        let mut now = self.stop.clone();
        let mut leased = leased.into_iter();
        while let Some(l) = leased.next() {
            let (request_id, job_id) = (l.request_id, l.job_id);
            tokio::select! {
                _ = self.accept(l) => {}
                _ = stopped_now(&mut now) => {
                    self.give_back.lease(request_id, job_id, "stopped now");
                    for rest in leased {
                        self.give_back.lease(rest.request_id, rest.job_id, "stopped now");
                    }
                    return false;
                }
            }
        }
        true
    }

    // Waits for a stage to move, the next poll, or a stop.
    async fn wait(&mut self) {
        let changed = self.shared.changed.notified();
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep(self.cfg.poll) => {}
            _ = stop_changed(&mut self.stop) => {}
        }
    }

    async fn rpc_outage(&mut self, why: String) {
        self.shared.outage(Some(format!("the RPC: {why}")));
        self.probe_rpc().await;
    }

    // Waits a little, then clears the outage if the chain answers.
    async fn probe_rpc(&mut self) {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = stop_changed(&mut self.stop) => {}
        }
        // The next chain read tells whether it is back.
        if self.conn.coordinator.paramDelay().call().await.is_ok() {
            self.shared.outage(None);
        }
    }

    // Takes a new lease in hand: fetched, checked and queued, unless LRP handed back a job
    // already in hand.
    async fn accept(&mut self, leased: Leased) {
        let Leased {
            request_id,
            job_id,
            gas,
            price,
        } = leased;
        if !self.shared.first_sight(request_id) {
            tracing::debug!(request = request_id, "already in hand");
            return;
        }
        self.shared.update(|c| c.leased += 1);
        if !self.shared.hold(job_id) {
            tracing::info!(
                job = job_id,
                "leased a job already in hand again (LRP); proving it once"
            );
            return;
        }
        self.shared.update(|c| c.in_hand += 1);
        let mut delay = Duration::from_millis(500);
        let outcome = loop {
            match self.prepare(request_id, job_id, gas, price).await {
                Err(Prep::Outage(e)) => {
                    self.shared
                        .outage(Some(format!("the relayer or the RPC: {e:#}")));
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop_changed(&mut self.stop) => {}
                    }
                    if *self.stop.borrow() >= 2 {
                        break Err(Prep::Stopped);
                    }
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                other => break other,
            }
        };
        self.shared.outage(None);
        let ready = match outcome {
            Ok(ready) => ready,
            Err(prep) => {
                let give_back = |why| self.give_back.lease(request_id, job_id, why);
                match prep {
                    Prep::Gone => self.shared.update(|c| c.dropped += 1),
                    Prep::Refused(why) => {
                        give_back("the relayer served a witness the chain did not commit to");
                        self.shared.update(|c| c.refused += 1);
                        self.shared.fail(Failure::Job(why));
                    }
                    Prep::Mismatch(why) => {
                        give_back("this client does not build the batch's circuit");
                        self.shared.update(|c| c.refused += 1);
                        self.shared.fail(Failure::Own(why));
                    }
                    Prep::Outage(_) | Prep::Stopped => give_back("stopped now"),
                }
                self.shared.release(job_id);
                self.shared.update(|c| c.in_hand -= 1);
                return;
            }
        };
        if self.ready.send(ready).await.is_err() {
            // The prover stage is gone (stopping now): the lease goes back.
            self.give_back.lease(request_id, job_id, "stopped now");
            self.shared.release(job_id);
            self.shared.update(|c| c.in_hand -= 1);
        }
    }

    // Fetches a leased job and checks it against the chain.
    async fn prepare(
        &self,
        request_id: u64,
        job_id: u64,
        gas: u64,
        price: u128,
    ) -> Result<Ready, Prep> {
        let coord = &self.conn.coordinator;
        let outage = |e: alloy::contract::Error, what: &str| Prep::Outage(anyhow!("{what}: {e}"));
        let id = job_id
            .try_into()
            .map_err(|_| Prep::Refused(format!("job id {job_id} out of range")))?;
        let job = coord
            .job(id)
            .call()
            .await
            .map_err(|e| outage(e, "reading the job"))?;
        if JobStatus::try_from(job.status) != Ok(JobStatus::Pending) {
            return Err(Prep::Gone);
        }
        let batch = coord
            .batch(job.batchId)
            .call()
            .await
            .map_err(|e| outage(e, "reading the batch"))?;
        let first: u64 = batch.firstJobId.to();
        let index = job_id - first;
        let refused = |reason: String| Prep::Refused(format!("job {job_id} refused: {reason}"));
        let shape = TreeShape::new(batch.leafCount.to())
            .ok_or_else(|| refused(format!("batch {} has no leaves", job.batchId)))?;
        let level = shape
            .locate(index as u32)
            .ok_or_else(|| refused("outside its batch's tree".into()))?
            .level;
        // The batch names its round-0 circuit; the aggregation circuits above it follow from
        // the same parameter set and version, so that one check catches a mismatched client.
        if batch.circuitId.0 != self.cfg.round0_circuit
            && !self.cfg.external.contains(&batch.circuitId.0)
        {
            return Err(Prep::Mismatch(format!(
                "job {job_id} refused: its batch {} needs round-0 circuit {}, this client builds {} with --params {}: update the client or pick the right parameter set",
                job.batchId,
                hex0x(&batch.circuitId.0),
                hex0x(&self.cfg.round0_circuit),
                self.cfg.params
            )));
        }
        self.warn_if_unpaid(batch.rewardPerJob.to(), gas, price);
        let info = self.api.job(job_id).await.map_err(Prep::Outage)?;
        let witness = self.api.witness(job_id).await.map_err(Prep::Outage)?;
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
        .map_err(refused)?;
        if level > 0 {
            let mut winners = Vec::new();
            for child in shape.children_of(index as u32) {
                let child_id = first + u64::from(child);
                let c = coord
                    .job(
                        child_id
                            .try_into()
                            .map_err(|_| refused("child id".into()))?,
                    )
                    .call()
                    .await
                    .map_err(|e| outage(e, "reading a child job"))?;
                // The winning proof's hash is in its submission's event, not in storage; a
                // child not complete has none (zero), which the check refuses.
                let hash = if c.winningRequest == 0 {
                    [0; 32]
                } else {
                    crowdprove_bindings::submitted_proof_hash(coord, c.winningRequest)
                        .await
                        .context("reading a child's winning submission")
                        .map_err(Prep::Outage)?
                        .ok_or_else(|| {
                            refused(format!(
                                "child job {child_id}: no event of its winning submission"
                            ))
                        })?
                        .0
                };
                winners.push(hash);
            }
            check_children(&witness, &winners).map_err(refused)?;
        }
        Ok(Ready {
            request_id,
            job_id,
            level,
            top: shape.height(),
            circuit: batch.circuitId.0,
            statement: info.statement.into(),
            witness,
        })
    }

    fn warn_if_unpaid(&self, reward: U256, gas: u64, price: u128) {
        // A lease plus a submission: the lease's gas as measured, the submission about as much.
        let cost = gas as f64 * 2.0 * price as f64;
        let value = reward.to_string().parse::<f64>().unwrap_or(0.0) * self.cfg.eth_per_token;
        if value < cost {
            tracing::warn!(reward = %reward, cost_wei = cost, "this job's reward does not cover the gas of its lease and submission");
        }
    }
}

/// The leases a receipt's `JobLeased` events announce, each charged its share of the gas.
pub fn leased_in(receipt: &TransactionReceipt, shares: u64) -> Vec<Leased> {
    let events: Vec<_> = receipt
        .logs()
        .iter()
        .filter_map(|l| l.log_decode::<Coordinator::JobLeased>().ok())
        .collect();
    let per = receipt.gas_used / (events.len() as u64 + shares).max(1);
    events
        .into_iter()
        .map(|ev| {
            let e = ev.inner.data;
            let job_id = RequestId(e.requestId).job();
            tracing::info!(request = e.requestId, job = job_id, gas = per, "leased");
            Leased {
                request_id: e.requestId,
                job_id,
                gas: per,
                price: receipt.effective_gas_price,
            }
        })
        .collect()
}

// What a lease call got.
enum Lease {
    Taken(Vec<Leased>),
    NoJob,
    Capped,
}

/// The lanes of the circuits a client proves, looked up again now and then (a circuit gets
/// its lane when its first batch is posted).
#[derive(Debug, Default)]
pub struct Lanes {
    known: Vec<u8>,
    all_known: bool,
    checked: Option<std::time::Instant>,
}

impl Lanes {
    // Whether to look the lanes up again: never looked, or some circuit had none and
    // twenty polls passed.
    fn stale(&self, poll: Duration) -> bool {
        self.checked
            .is_none_or(|t| !self.all_known && t.elapsed() >= poll * 20)
    }

    fn set(&mut self, known: Vec<u8>, all_known: bool) {
        self.known = known;
        self.all_known = all_known;
        self.checked = Some(std::time::Instant::now());
    }
}

// Leases up to `n` jobs from `lane` (lane 0's calls are the cheaper ones without a lane).
async fn lease(conn: &Connected, n: usize, lane: u8) -> Result<Lease, TxError> {
    let sent = if lane != 0 {
        let call = conn.coordinator.leaseFrom(lane, U256::from(n));
        conn.tx.send("leaseFrom", call).await
    } else if n > 1 {
        let call = conn.coordinator.leaseMany(U256::from(n));
        conn.tx.send("leaseMany", call).await
    } else {
        conn.tx.send("lease", conn.coordinator.lease()).await
    };
    match sent {
        // No JobLeased: the call cleared jobs of cancelled batches on its way and leased
        // nothing (the contract keeps such clearing instead of reverting).
        Ok(receipt) => match leased_in(&receipt, 0) {
            l if l.is_empty() => Ok(Lease::NoJob),
            l => Ok(Lease::Taken(l)),
        },
        Err(TxError::Refused {
            error: CoordinatorErrors::LeaseCapReached(_),
            ..
        }) => Ok(Lease::Capped),
        Err(e @ (TxError::Refused { .. } | TxError::Reverted(_))) => {
            tracing::debug!(why = %e, "no job to lease");
            Ok(Lease::NoJob)
        }
        Err(e) => Err(e),
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
