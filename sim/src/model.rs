//! The Coordinator contract's queue semantics in Rust: a batch is one source batch's whole
//! proving tree (leaves fresh at once, an aggregation node fresh in the verdict that completes
//! its last child, the top's verdict finalizing the batch), fresh leaves batch by batch and a
//! FIFO list of fresh nodes, the pending list with LRP, active leases capped by bond, verdicts
//! with first-valid-wins, slashing and cancellation. Every rule mirrors
//! `contracts/Coordinator.sol` line for line (the differential forge test replays traces of
//! this model on the contract); the only additions are `max_attempts` as a parameter, which
//! the contract fixes at 2^24 - 1 and the timeout baseline of the paper (zkSync's retry limit)
//! lowers, and no bound on a batch's size (the contract's is 2^20 jobs), so that the scale
//! runs can post a tree over a million leaves.

use rustc_hash::FxHashMap;

/// A job id (1-based, global, as the contract numbers them).
pub type JobId = u64;
/// A batch id (1-based).
pub type BatchId = u32;
/// A prover account (1-based: the id the contract gives it at its first stake).
pub type Account = u32;
pub use crowdprove_protocol::limits::{
    DEFAULT_SPARE_ATTEMPTS, MAX_ACTIVE_LEASES, MAX_CLEAR_PER_CALL, MAX_CLEAR_PER_LEASE,
    MAX_LEASES_PER_CALL, MAX_SPARE_ATTEMPTS,
};
pub use crowdprove_protocol::{JobStatus, LeaseState, RequestId, Verdict};

/// The contract's attempt limit (a 24-bit counter).
pub const CONTRACT_MAX_ATTEMPTS: u32 = crowdprove_protocol::limits::MAX_ATTEMPTS as u32;

/// The coordinator's owner-set parameters (amounts in the token's base unit, times in
/// seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// Bond that backs one active lease.
    pub bond_per_lease: u128,
    /// Bond below which a prover can lease nothing.
    pub min_bond: u128,
    /// Taken per Invalid verdict.
    pub slash_amount: u128,
    /// A pending job is not re-leased before this many seconds since its latest lease.
    pub min_reassign_age: u64,
    /// A Missing verdict is accepted this many seconds after the submission.
    pub upload_deadline: u64,
    /// Leases per job at most (the contract: 2^24 - 1).
    pub max_attempts: u32,
    /// Reassignment rules studied here before they go on-chain (the contract: none).
    pub rules: Rules,
}

/// Reassignment rules. [`Rules::CONTRACT`] is what the contract does (the differential replay
/// checks it); the others were measured in the simulator as candidates (docs/results/
/// sim-rules.md), [`Rules::OFF`] being the contract before they were chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rules {
    /// A pending job whose latest lease is at least this old (seconds) goes before fresh
    /// round-0 jobs, so that a hoarder on a tree's top node cannot hold the batch while fresh
    /// work of later batches remains (the contract's `staleAge`, 0 there = None here). zkSync's
    /// queue does the same for its timeout.
    pub stale_age: Option<u64>,
    /// A job is not reassigned before this percentage of its tree's mean observed proof time
    /// (lease to submission of the leases that completed jobs), when that is above the fixed
    /// minimum age: the wait adapts to the hardware that is actually proving.
    pub adaptive_pct: Option<u32>,
    /// A pending job, or a fresh aggregation node, goes only to a prover that holds no other
    /// lease: a busy prover taking it would only queue it behind its own work, and both are on
    /// the critical path (the contract; a busy prover gets fresh leaves only).
    pub idle_only: bool,
    /// Fresh round-0 jobs go before fresh aggregation nodes of their own or later trees: the
    /// longest remaining path first (Hu's highest-level-first rule, optimal for in-trees of
    /// unit jobs). Nodes of an older tree still go before a later tree's leaves (the contract).
    pub leaves_first: bool,
    /// A pending job leased at most this many times goes at once, whatever the minimum age, to
    /// an idle prover (a spare lease: a second opinion on a job whose holder may be a hoarder);
    /// later leases wait for the minimum age, so honest work is not duplicated over and over
    /// (the contract's `spareAttempts`).
    pub spare_attempts: u32,
    /// A prover whose lease was handed on before it submitted, or judged Invalid or Missing, and
    /// that has completed no job since, has lapsed: it takes no spare, and its own young leases go as spares whatever
    /// their attempt (the contract).
    pub lapse: bool,
    /// A stale pending job (see `stale_age`) goes before fresh aggregation nodes too, not only
    /// before fresh leaves: a hoarded job's parent and everything above it wait for it, while
    /// a fresh node can wait a moment (Hu's rule again: the job farthest from the top first;
    /// the contract).
    pub stale_first: bool,
    /// A prover that has lapsed takes no stale job and no fresh node, and from the pending list
    /// only a job that nobody holds (its latest lease given back, judged Invalid or Missing, or
    /// expired) or one held for twice the stale age (the minimum age without one), which nobody
    /// in good standing took: a hoarder whose lease was handed on cannot take the critical path
    /// again until it completes a job, and lapsed provers alone still finish (the contract).
    pub lapsed_off_critical: bool,
}

impl Rules {
    /// None of them: the contract before the study (aggregation first, any prover may take a
    /// pending job over).
    pub const OFF: Rules = Rules {
        stale_age: None,
        adaptive_pct: None,
        idle_only: false,
        leaves_first: false,
        spare_attempts: 0,
        lapse: false,
        stale_first: false,
        lapsed_off_critical: false,
    };

    /// The contract's rules (with its stale age off).
    pub const CONTRACT: Rules = Rules {
        stale_age: None,
        adaptive_pct: None,
        idle_only: true,
        leaves_first: true,
        spare_attempts: DEFAULT_SPARE_ATTEMPTS,
        lapse: true,
        stale_first: true,
        lapsed_off_critical: true,
    };

    /// Whether the contract can run these rules (any stale age and spare attempts within
    /// bounds, nothing else of its own).
    pub fn on_chain(&self) -> bool {
        self.spare_attempts <= MAX_SPARE_ATTEMPTS
            && *self
                == Rules {
                    stale_age: self.stale_age,
                    spare_attempts: self.spare_attempts,
                    ..Rules::CONTRACT
                }
    }
}

impl Default for Rules {
    fn default() -> Self {
        Rules::CONTRACT
    }
}

/// Why `lease` reverted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseError {
    /// n was 0 or above the per-call cap.
    BadLeaseCount,
    /// The prover's active leases already reach what its bond backs.
    CapReached {
        /// Active leases.
        active: u64,
        /// The cap.
        cap: u64,
    },
    /// Nothing can be leased now.
    NoJobAvailable,
    /// Nothing leased, but cancelled jobs were cleared on the way: the contract does not
    /// revert then, it keeps the clearing.
    ClearedOnly,
}

/// Why `submit` reverted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// No such lease.
    UnknownRequest,
    /// The caller does not hold the lease.
    NotLeaseHolder,
    /// The lease was already submitted.
    AlreadySubmitted,
    /// The job is complete, cleared or cancelled.
    JobNotPending,
    /// A handed-on lease, whose submission the bond does not back.
    CapReached,
    /// The lease was given back (`releaseLease`).
    Released,
    /// `releaseLease` of a job's last possible lease, which nobody could take over.
    LastAttempt,
}

/// Why a verdict was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// No such lease.
    UnknownRequest,
    /// The verdict names another prover than the lease's holder.
    WrongJobOrProver,
    /// The lease was never submitted.
    NotSubmitted,
    /// The lease was already judged.
    AlreadyJudged,
    /// Missing before the upload deadline.
    UploadDeadlineNotPassed,
}

/// What a verdict did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerdictOutcome {
    /// Skipped, state unchanged.
    Skipped(SkipReason),
    /// Applied.
    Judged {
        /// The job became complete (first valid proof).
        completed: bool,
        /// Paid to the prover.
        paid: u128,
        /// Taken from the prover.
        slashed: u128,
        /// The node this verdict readied, leased at once to its waiting completer (a handoff;
        /// see [`Model::submit_and_lease`]).
        handed: Option<Leased>,
    },
}

/// Why `post_batch` or `cancel_batch` reverted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// No leaves.
    BadJobCount,
    /// No such batch.
    Unknown,
    /// The batch was cancelled.
    Cancelled,
    /// The batch's top job is complete.
    Finalized,
}

/// One lease handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leased {
    /// The new lease.
    pub request: RequestId,
    /// Its job.
    pub job: JobId,
    /// The job's previous latest holder (LRP), if any.
    pub previous: Option<Account>,
}

#[derive(Clone, Copy, Debug)]
struct Job {
    status: JobStatus,
    batch: BatchId,
    prev: JobId,
    next: JobId,
    leased_at: u64,
    attempt: u32,
    holder: Account,
    submitted_at: u64,
    state: LeaseState,
    // A Waiting node's completed children (the contract counts them in `attempt`).
    children_done: u8,
}

#[derive(Clone, Copy, Debug)]
struct OldLease {
    prover: Account,
    submitted_at: u64,
    state: LeaseState,
}

/// A batch, one source batch's proving tree, as the model keeps it: jobs `first_job..` are
/// the `leaf_count` leaves, then each aggregation level bottom up (see [`parent_of`]).
#[derive(Clone, Debug)]
pub struct Batch {
    /// First job id.
    pub first_job: JobId,
    /// Round-0 jobs (leaves).
    pub leaf_count: u32,
    /// Jobs in the tree.
    pub job_count: u32,
    /// Jobs not yet complete.
    pub jobs_left: u32,
    /// Leaves taken from the fresh queue (all of them once cancelled).
    pub leased_fresh: u32,
    /// Aggregation nodes in the fresh-node list (as of the cancellation, for a cancelled
    /// batch).
    pub fresh_nodes: u32,
    /// Paid per completed job.
    pub reward: u128,
    /// Cancelled.
    pub cancelled: bool,
    /// The top job's winning request, whose proof is the batch's final proof.
    pub final_request: Option<RequestId>,
    queue_prev: BatchId,
    queue_next: BatchId,
}

impl Batch {
    /// The top job.
    pub fn top(&self) -> JobId {
        self.first_job + u64::from(self.job_count) - 1
    }
}

// A lease may be submitted or released only while it is leased (the contract's revert for a
// released one differs from that for a submitted or judged one).
fn unsubmitted(state: LeaseState) -> Result<(), SubmitError> {
    match state {
        LeaseState::Leased => Ok(()),
        LeaseState::Released => Err(SubmitError::Released),
        _ => Err(SubmitError::AlreadySubmitted),
    }
}

/// Jobs of the proving tree over `leaves` leaves: each level halves the one below, rounding
/// up (an odd node out gets a single-child parent), until one node is left (the contract's
/// `_treeSize`; `crowdprove_protocol::TreeShape::job_count`).
pub fn tree_size(leaves: u64) -> u64 {
    let (mut size, mut c) = (0, leaves);
    while c != 0 {
        size += c;
        if c == 1 {
            break;
        }
        c = c.div_ceil(2);
    }
    size
}

/// The parent of the job at `index` (from 0, within its batch) of the tree over `leaves`
/// leaves, and how many children that parent has (1 or 2); `None` for the top (the
/// contract's `_parentOf`).
pub fn parent_of(index: u64, leaves: u64) -> Option<(u64, u32)> {
    let (mut offset, mut c) = (0, leaves);
    while c > 1 && index >= offset + c {
        offset += c;
        c = c.div_ceil(2);
    }
    if c <= 1 {
        return None;
    }
    let pos = (index - offset) / 2;
    Some((offset + c + pos, if 2 * pos + 1 < c { 2 } else { 1 }))
}

/// A prover's account as the model keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prover {
    /// Bond.
    pub bond: u128,
    /// Active leases (see ARCHITECTURE.md).
    pub active: u64,
    /// Leases held and not yet submitted: a prover with any is busy.
    pub unsubmitted: u64,
    /// Paid so far.
    pub earnings: u128,
    /// Jobs it completed.
    pub jobs_proven: u64,
    /// Times it was slashed.
    pub slashes: u64,
    /// Staked at least once.
    pub registered: bool,
    /// A lease of its was handed on before it submitted or judged Invalid or Missing, and it
    /// has completed no job since.
    pub lapsed: bool,
    /// Its last `submitAndLease` found no job: the node its proof readies is handed to it.
    pub waiting: bool,
}

/// Counters over the whole run, for invariants and reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Rewards escrowed by posted batches.
    pub escrowed: u128,
    /// Paid to provers.
    pub paid: u128,
    /// Refunded by cancellations.
    pub refunded: u128,
    /// Slashed from provers.
    pub slashed: u128,
    /// Leases of pending jobs (LRP reassignments).
    pub reassignments: u64,
    /// Jobs completed.
    pub completed: u64,
    /// Aggregation nodes that became ready (fresh, or handed to their completer).
    pub nodes_readied: u64,
    /// Of which leased at once to their waiting completer.
    pub handoffs: u64,
    /// Fresh nodes of cancelled batches dropped from the fresh-node list.
    pub nodes_dropped: u64,
    /// Pending jobs leased as spares (younger than the minimum age).
    pub spares: u64,
    /// Of which jobs past `spare_attempts` whose latest holder had lapsed.
    pub lapsed_spares: u64,
    /// Leases given back (`releaseLease`).
    pub releases: u64,
    /// Released jobs leased again.
    pub released_taken: u64,
    /// Pending jobs someone holds refused to a lapsed prover.
    pub lapsed_refused: u64,
    /// Pending jobs nobody holds leased by a lapsed prover.
    pub lapsed_unheld: u64,
    /// Held pending jobs leased by a lapsed prover once overdue (twice the stale age).
    pub lapsed_overdue: u64,
}

/// The coordinator's state.
#[derive(Clone, Debug)]
pub struct Coordinator {
    params: Params,
    jobs: Vec<Job>,
    batches: Vec<Batch>,
    old_leases: FxHashMap<RequestId, OldLease>,
    provers: Vec<Prover>,
    // The fresh-node list, linked through the jobs' `next`, in the order nodes became fresh.
    agg_head: JobId,
    agg_tail: JobId,
    round0_head: BatchId,
    round0_tail: BatchId,
    fresh_count: u64,
    pending_head: JobId,
    pending_tail: JobId,
    pending_count: u64,
    totals: Totals,
    // Per tree (batch): sum and count of observed proof times, for `adaptive_pct`.
    observed: FxHashMap<BatchId, (u64, u64)>,
    // The lease the verdict being applied handed over, if any (returned with its outcome).
    handed: Option<Leased>,
}

const NO_JOB: Job = Job {
    status: JobStatus::Fresh,
    batch: 0,
    prev: 0,
    next: 0,
    leased_at: 0,
    attempt: 0,
    holder: 0,
    submitted_at: 0,
    state: LeaseState::Leased,
    children_done: 0,
};

impl Coordinator {
    /// An empty coordinator with `params`.
    pub fn new(params: Params) -> Self {
        let empty_batch = Batch {
            first_job: 0,
            leaf_count: 0,
            job_count: 0,
            jobs_left: 0,
            leased_fresh: 0,
            fresh_nodes: 0,
            reward: 0,
            cancelled: false,
            final_request: None,
            queue_prev: 0,
            queue_next: 0,
        };
        Self {
            params,
            jobs: vec![NO_JOB],
            batches: vec![empty_batch],
            old_leases: FxHashMap::default(),
            provers: vec![Prover::default()],
            agg_head: 0,
            agg_tail: 0,
            round0_head: 0,
            round0_tail: 0,
            fresh_count: 0,
            pending_head: 0,
            pending_tail: 0,
            pending_count: 0,
            totals: Totals::default(),
            observed: FxHashMap::default(),
            handed: None,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Run totals.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// A prover's account (default if it never staked).
    pub fn prover(&self, account: Account) -> Prover {
        self.provers
            .get(account as usize)
            .copied()
            .unwrap_or_default()
    }

    /// A batch.
    pub fn batch(&self, id: BatchId) -> Option<&Batch> {
        (id != 0).then(|| self.batches.get(id as usize)).flatten()
    }

    /// Batches posted so far.
    pub fn batch_count(&self) -> u32 {
        (self.batches.len() - 1) as u32
    }

    /// A job's status (Fresh for unknown ids, as the contract answers).
    pub fn job_status(&self, job: JobId) -> JobStatus {
        self.jobs
            .get(job as usize)
            .map_or(JobStatus::Fresh, |j| j.status)
    }

    /// The batch of a job.
    pub fn job_batch(&self, job: JobId) -> BatchId {
        self.jobs.get(job as usize).map_or(0, |j| j.batch)
    }

    /// The latest request of a pending job, if any.
    pub fn latest_request(&self, job: JobId) -> Option<RequestId> {
        let j = self.jobs.get(job as usize)?;
        (j.attempt > 0).then(|| RequestId::new(job, j.attempt))
    }

    /// (fresh jobs, pending jobs, pending head, pending tail), as `queue()` returns them.
    pub fn queue(&self) -> (u64, u64, JobId, JobId) {
        (
            self.fresh_count,
            self.pending_count,
            self.pending_head,
            self.pending_tail,
        )
    }

    /// The batch at the head of the fresh leaves' queue (0 if no leaf is fresh).
    pub fn leaves_head(&self) -> BatchId {
        self.round0_head
    }

    /// The parent node of a job in its batch's tree (`None` for a top or an unknown job).
    pub fn parent(&self, job: JobId) -> Option<JobId> {
        let j = self.jobs.get(job as usize).filter(|_| job != 0)?;
        let b = &self.batches[j.batch as usize];
        parent_of(job - b.first_job, u64::from(b.leaf_count)).map(|(p, _)| b.first_job + p)
    }

    /// The job after `job` in the pending list (0 at the tail).
    pub fn pending_next(&self, job: JobId) -> JobId {
        self.jobs.get(job as usize).map_or(0, |j| j.next)
    }

    /// The latest holder of a job and the state of its latest lease.
    pub fn latest_holder(&self, job: JobId) -> Option<(Account, LeaseState)> {
        let j = self.jobs.get(job as usize)?;
        (j.attempt > 0).then_some((j.holder, j.state))
    }

    /// How many leases `account`'s bond backs.
    pub fn lease_cap(&self, account: Account) -> u64 {
        self.cap(self.prover(account).bond)
    }

    fn cap(&self, bond: u128) -> u64 {
        if bond < self.params.min_bond {
            return 0;
        }
        let cap = bond / self.params.bond_per_lease;
        cap.min(u128::from(MAX_ACTIVE_LEASES)) as u64
    }

    /// Adds bond; the first stake registers the account. Accounts must be staked in id order
    /// (1, 2, ...), as the contract numbers them.
    pub fn stake(&mut self, account: Account, amount: u128) {
        let idx = account as usize;
        if self.provers.len() <= idx {
            self.provers.resize(idx + 1, Prover::default());
        }
        let p = &mut self.provers[idx];
        p.bond += amount;
        p.registered = true;
    }

    /// `postBatch`: posts the proving tree over `leaf_count` round-0 jobs: the leaves are
    /// fresh at once, every aggregation node Waiting until its last child completes.
    pub fn post_batch(&mut self, leaf_count: u32, reward: u128) -> Result<BatchId, BatchError> {
        if leaf_count == 0 {
            return Err(BatchError::BadJobCount);
        }
        let job_count = tree_size(u64::from(leaf_count)) as u32;
        let id = self.batches.len() as BatchId;
        let first_job = self.jobs.len() as JobId;
        self.jobs.extend(std::iter::repeat_n(
            Job {
                batch: id,
                ..NO_JOB
            },
            leaf_count as usize,
        ));
        self.jobs.extend(std::iter::repeat_n(
            Job {
                status: JobStatus::Waiting,
                batch: id,
                ..NO_JOB
            },
            (job_count - leaf_count) as usize,
        ));
        self.batches.push(Batch {
            first_job,
            leaf_count,
            job_count,
            jobs_left: job_count,
            leased_fresh: 0,
            fresh_nodes: 0,
            reward,
            cancelled: false,
            final_request: None,
            queue_prev: 0,
            queue_next: 0,
        });
        self.fresh_count += u64::from(leaf_count);
        self.append_fresh(id);
        self.totals.escrowed += u128::from(job_count) * reward;
        Ok(id)
    }

    /// Cancels a batch: its fresh leaves are never leased, its Waiting nodes never become
    /// fresh, its fresh nodes are dropped when a lease meets them at the head of the fresh-node
    /// list, its pending jobs are cleared when a lease meets them, and the escrow of every job
    /// not complete is refunded.
    pub fn cancel_batch(&mut self, id: BatchId) -> Result<u128, BatchError> {
        let b = self.batch(id).ok_or(BatchError::Unknown)?;
        if b.cancelled {
            return Err(BatchError::Cancelled);
        }
        if b.final_request.is_some() {
            return Err(BatchError::Finalized);
        }
        let fresh_leaves = u64::from(b.leaf_count - b.leased_fresh);
        let fresh_nodes = u64::from(b.fresh_nodes);
        if fresh_leaves != 0 {
            self.unlink_fresh(id);
        }
        self.fresh_count -= fresh_leaves + fresh_nodes;
        let b = &mut self.batches[id as usize];
        b.cancelled = true;
        // None of its leaves is fresh any more (the contract derives the count from the leaves'
        // queue, which the batch has left).
        b.leased_fresh = b.leaf_count;
        let refund = u128::from(b.jobs_left) * b.reward;
        self.totals.refunded += refund;
        Ok(refund)
    }

    /// `leaseMany(n)` by `account` at time `now`.
    pub fn lease(&mut self, account: Account, n: u32, now: u64) -> Result<Vec<Leased>, LeaseError> {
        if n == 0 || n > MAX_LEASES_PER_CALL {
            return Err(LeaseError::BadLeaseCount);
        }
        let p = self.prover(account);
        let cap = self.cap(p.bond);
        if p.active >= cap {
            return Err(LeaseError::CapReached {
                active: p.active,
                cap,
            });
        }
        let n = u64::from(n).min(cap - p.active);
        let mut got = Vec::new();
        let mut cleared = 0;
        while (got.len() as u64) < n {
            // Busy: holding a lease not yet submitted (one whose leases all await verdicts is idle).
            let busy = p.unsubmitted + got.len() as u64 > 0;
            match self.take_job(account, busy, false, now, &mut cleared) {
                Some(l) => got.push(l),
                None => break,
            }
        }
        if got.is_empty() {
            // The contract reverts unless it cleared cancelled jobs on its way: then it keeps
            // them and leases nothing.
            return Err(if cleared == 0 {
                LeaseError::NoJobAvailable
            } else {
                LeaseError::ClearedOnly
            });
        }
        let p = &mut self.provers[account as usize];
        p.active += got.len() as u64;
        p.unsubmitted += got.len() as u64;
        Ok(got)
    }

    /// `submitAndLease(requestId, ...)` by `account` at `now`: the submission, then one fresh
    /// job if one is there and the bond backs it (leaves only for a prover still holding a
    /// lease to prove; never a pending job; never a revert for want of one). With none the
    /// prover waits: the node its proof readies is handed to it by the verdict. A lease handed
    /// on since (not its job's latest) chains none: the stale job it would take could be its own.
    pub fn submit_and_lease(
        &mut self,
        account: Account,
        rid: RequestId,
        now: u64,
    ) -> Result<Option<Leased>, SubmitError> {
        let latest = self
            .jobs
            .get(rid.job() as usize)
            .is_some_and(|j| j.attempt == rid.attempt());
        self.submit(account, rid, now)?;
        let p = self.prover(account);
        if latest && self.fresh_count != 0 && p.active < self.cap(p.bond) {
            let busy = p.unsubmitted > 0;
            if let Some(l) = self.take_job(account, busy, true, now, &mut 0) {
                let p = &mut self.provers[account as usize];
                p.active += 1;
                p.unsubmitted += 1;
                return Ok(Some(l));
            }
        }
        self.provers[account as usize].waiting = true;
        Ok(None)
    }

    // Whether `me` has lapsed and is kept off the critical path: only with a minimum age, as
    // without one every lease handed on lapses its holder, honest ones included (the
    // contract's `_takeJob`).
    fn off_critical(&self, me: Account) -> bool {
        self.params.rules.lapsed_off_critical
            && self.params.min_reassign_age != 0
            && self.provers[me as usize].lapsed
    }

    // `fresh_only`: no pending job but a stale one (a lease riding on a submission).
    fn take_job(
        &mut self,
        me: Account,
        busy: bool,
        fresh_only: bool,
        now: u64,
        cleared: &mut u32,
    ) -> Option<Leased> {
        let rules = self.params.rules;
        let critical = !self.off_critical(me);
        if rules.stale_first && critical {
            if let Some(stale) = rules.stale_age.filter(|&s| s > 0) {
                if let Some(l) = self.take_from_pending_head(me, busy, now, stale, cleared) {
                    return Some(l);
                }
            }
        }
        let node = if (busy && rules.idle_only) || !critical {
            0
        } else {
            self.fresh_node(MAX_CLEAR_PER_LEASE, cleared)
        };
        let node_batch = if node != 0 {
            self.jobs[node as usize].batch
        } else {
            0
        };
        let leaves = self.round0_head;
        // Leaves first within a tree, but a tree older than every tree with fresh leaves has
        // its nodes go first: otherwise a stream of source batches starves every tree.
        let (job, batch) =
            if leaves != 0 && (node == 0 || (rules.leaves_first && node_batch >= leaves)) {
                if let Some(stale) = rules.stale_age.filter(|&s| s > 0 && !rules.stale_first) {
                    if let Some(l) = self.take_from_pending_head(me, busy, now, stale, cleared) {
                        return Some(l);
                    }
                }
                (self.take_fresh_leaf(leaves), leaves)
            } else if node != 0 {
                self.take_fresh_node(node, node_batch);
                (node, node_batch)
            } else if fresh_only {
                return None;
            } else {
                return self.take_from_pending_head(me, busy, now, 0, cleared);
            };
        Some(self.lease_first(job, batch, me, now))
    }

    // Makes `holder` the first holder of `job` at the pending list's tail (the contract's
    // `_leaseFirst`).
    fn lease_first(&mut self, job: JobId, batch: BatchId, holder: Account, now: u64) -> Leased {
        let tail = self.pending_tail;
        let children_done = self.jobs[job as usize].children_done;
        self.jobs[job as usize] = Job {
            status: JobStatus::Pending,
            batch,
            prev: tail,
            next: 0,
            leased_at: now,
            attempt: 1,
            holder,
            submitted_at: 0,
            state: LeaseState::Leased,
            children_done,
        };
        self.link_at_tail(job);
        Leased {
            request: RequestId::new(job, 1),
            job,
            previous: None,
        }
    }

    // The next fresh leaf of the batch at the head of the leaves' queue; the batch leaves the
    // queue with its last fresh leaf.
    fn take_fresh_leaf(&mut self, id: BatchId) -> JobId {
        let b = &mut self.batches[id as usize];
        let taken = b.leased_fresh;
        let job = b.first_job + u64::from(taken);
        b.leased_fresh = taken + 1;
        let last = taken + 1 == b.leaf_count;
        self.fresh_count -= 1;
        if last {
            self.unlink_fresh(id);
        }
        job
    }

    // The head of the fresh-node list, after dropping (at most `limit`) nodes of cancelled
    // batches met there; 0 if none is left in reach (the contract's `_freshNode`).
    fn fresh_node(&mut self, limit: usize, cleared: &mut u32) -> JobId {
        let mut job = self.agg_head;
        let mut k = 0;
        while job != 0 && k < limit {
            let j = self.jobs[job as usize];
            if !self.batches[j.batch as usize].cancelled {
                return job;
            }
            let jm = &mut self.jobs[job as usize];
            jm.status = JobStatus::Cleared;
            jm.next = 0;
            *cleared += 1;
            self.totals.nodes_dropped += 1;
            job = j.next;
            self.agg_head = job;
            if job == 0 {
                self.agg_tail = 0;
            }
            k += 1;
        }
        if job != 0 && !self.batches[self.jobs[job as usize].batch as usize].cancelled {
            job
        } else {
            0
        }
    }

    // Removes `job`, the head of the fresh-node list, from the list.
    fn take_fresh_node(&mut self, job: JobId, batch: BatchId) {
        let next = self.jobs[job as usize].next;
        self.agg_head = next;
        if next == 0 {
            self.agg_tail = 0;
        }
        self.fresh_count -= 1;
        self.batches[batch as usize].fresh_nodes -= 1;
    }

    // LRP from the pending list's head; `at_least` raises the minimum age (the stale age).
    fn take_from_pending_head(
        &mut self,
        me: Account,
        busy: bool,
        now: u64,
        at_least: u64,
        cleared: &mut u32,
    ) -> Option<Leased> {
        if busy && self.params.rules.idle_only {
            return None;
        }
        let mut job = self.pending_head;
        let mut k = 0;
        while job != 0 && k < MAX_CLEAR_PER_LEASE {
            if !self.batches[self.jobs[job as usize].batch as usize].cancelled {
                break;
            }
            self.clear(job);
            *cleared += 1;
            job = self.pending_head;
            k += 1;
        }
        if job == 0 {
            return None;
        }
        // The caller's own lease is passed over, unless it gave the job back.
        let own = |j: &Job| j.holder == me && j.state != LeaseState::Released;
        let mut j = self.jobs[job as usize];
        if own(&j) {
            job = j.next;
            if job == 0 {
                return None;
            }
            j = self.jobs[job as usize];
            if own(&j) {
                return None;
            }
        }
        if self.batches[j.batch as usize].cancelled {
            return None;
        }
        // A spare: on the LRP path only (not the stale one), never to a prover that has lapsed.
        let rules = self.params.rules;
        let lapsed = |p: Account| rules.lapse && self.provers[p as usize].lapsed;
        if at_least == 0 && self.off_critical(me) {
            // A held job only once it is overdue: held for twice the stale age (the minimum
            // age if none is set), which no prover in good standing took.
            let overdue = 2 * rules
                .stale_age
                .filter(|&s| s > 0)
                .unwrap_or(self.params.min_reassign_age);
            if matches!(j.state, LeaseState::Leased | LeaseState::Submitted) {
                if now < j.leased_at + overdue {
                    self.totals.lapsed_refused += 1;
                    return None;
                }
                self.totals.lapsed_overdue += 1;
            } else {
                self.totals.lapsed_unheld += 1;
            }
        }
        let spare =
            at_least == 0 && !lapsed(me) && (j.attempt <= rules.spare_attempts || lapsed(j.holder));
        let young = now < j.leased_at + self.min_age(j.batch).max(at_least)
            && j.state != LeaseState::Released;
        if young && !spare {
            return None;
        }
        if young {
            self.totals.spares += 1;
            if j.attempt > rules.spare_attempts {
                self.totals.lapsed_spares += 1;
            }
        }
        if j.state == LeaseState::Released {
            self.totals.released_taken += 1;
        }
        let previous = j.holder;
        self.old_leases.insert(
            RequestId::new(job, j.attempt),
            OldLease {
                prover: previous,
                submitted_at: j.submitted_at,
                state: j.state,
            },
        );
        if j.state == LeaseState::Leased {
            let p = &mut self.provers[previous as usize];
            p.active -= 1;
            p.unsubmitted -= 1;
            p.lapsed = true;
        }
        self.unlink_pending(job, j.prev, j.next);
        let tail = self.pending_tail;
        let max_attempts = self.params.max_attempts;
        let j = &mut self.jobs[job as usize];
        j.prev = 0;
        j.next = 0;
        j.leased_at = now;
        j.attempt += 1;
        j.holder = me;
        j.submitted_at = 0;
        j.state = LeaseState::Leased;
        let attempt = j.attempt;
        // Its last possible lease leaves the job out of the list (the contract): nobody can
        // take it over again, and at the head it would block every job behind it.
        if attempt < max_attempts {
            j.prev = tail;
            self.link_at_tail(job);
        }
        self.totals.reassignments += 1;
        Some(Leased {
            request: RequestId::new(job, attempt),
            job,
            previous: Some(previous),
        })
    }

    // The minimum reassign age of a job of `batch`: the fixed one, or the adaptive one.
    fn min_age(&self, batch: BatchId) -> u64 {
        let fixed = self.params.min_reassign_age;
        let Some(pct) = self.params.rules.adaptive_pct else {
            return fixed;
        };
        match self.observed.get(&batch) {
            Some(&(sum, n)) if n > 0 => fixed.max(sum * u64::from(pct) / (100 * n)),
            _ => fixed,
        }
    }

    fn link_at_tail(&mut self, job: JobId) {
        let tail = self.pending_tail;
        if tail == 0 {
            self.pending_head = job;
        } else {
            self.jobs[tail as usize].next = job;
        }
        self.pending_tail = job;
        self.pending_count += 1;
    }

    // A pending job with no `prev` that is not the head was never linked (its last possible
    // lease): nothing to do.
    fn unlink_pending(&mut self, job: JobId, prev: JobId, next: JobId) {
        if prev == 0 && self.pending_head != job {
            return;
        }
        if prev == 0 {
            self.pending_head = next;
        } else {
            self.jobs[prev as usize].next = next;
        }
        if next == 0 {
            self.pending_tail = prev;
        } else {
            self.jobs[next as usize].prev = prev;
        }
        self.pending_count -= 1;
    }

    fn clear(&mut self, job: JobId) {
        let j = self.jobs[job as usize];
        self.unlink_pending(job, j.prev, j.next);
        if j.state == LeaseState::Leased {
            let p = &mut self.provers[j.holder as usize];
            p.active -= 1;
            p.unsubmitted -= 1;
        }
        let j = &mut self.jobs[job as usize];
        j.status = JobStatus::Cleared;
        // prev/next are zeroed, as the contract does.
        j.prev = 0;
        j.next = 0;
    }

    fn append_fresh(&mut self, id: BatchId) {
        let tail = self.round0_tail;
        if tail == 0 {
            self.round0_head = id;
        } else {
            self.batches[tail as usize].queue_next = id;
            self.batches[id as usize].queue_prev = tail;
        }
        self.round0_tail = id;
    }

    fn unlink_fresh(&mut self, id: BatchId) {
        let (prev, next) = {
            let b = &self.batches[id as usize];
            (b.queue_prev, b.queue_next)
        };
        if prev == 0 {
            self.round0_head = next;
        } else {
            self.batches[prev as usize].queue_next = next;
        }
        if next == 0 {
            self.round0_tail = prev;
        } else {
            self.batches[next as usize].queue_prev = prev;
        }
        let b = &mut self.batches[id as usize];
        b.queue_prev = 0;
        b.queue_next = 0;
    }

    /// `clearCancelled(jobIds)`: takes each listed job that is pending in a cancelled batch off
    /// the pending list; how many it cleared, or `None` where the contract reverts (no ids, or
    /// more than `MAX_CLEAR_PER_CALL`).
    pub fn clear_cancelled(&mut self, jobs: &[JobId]) -> Option<usize> {
        if jobs.is_empty() || jobs.len() > MAX_CLEAR_PER_CALL {
            return None;
        }
        let mut cleared = 0;
        for &job in jobs {
            let Some(j) = self.jobs.get(job as usize).filter(|_| job != 0) else {
                continue;
            };
            if j.status == JobStatus::Pending && self.batches[j.batch as usize].cancelled {
                self.clear(job);
                cleared += 1;
            }
        }
        // As the contract: a live node behind more cancelled ones than a lease drops is
        // reached through here.
        self.fresh_node(MAX_CLEAR_PER_CALL, &mut 0);
        Some(cleared)
    }

    /// `submitProof(requestId, ...)` by `account` at `now`.
    pub fn submit(
        &mut self,
        account: Account,
        rid: RequestId,
        now: u64,
    ) -> Result<(), SubmitError> {
        let (j, latest) = self.held(account, rid)?;
        let job = rid.job();
        if j.status != JobStatus::Pending || self.batches[j.batch as usize].cancelled {
            return Err(SubmitError::JobNotPending);
        }
        if latest {
            let j = &mut self.jobs[job as usize];
            j.state = LeaseState::Submitted;
            j.submitted_at = now;
            self.provers[account as usize].unsubmitted -= 1;
        } else {
            // Counted again, so the bond must back it (nothing to slash otherwise).
            let p = self.prover(account);
            if p.active >= self.cap(p.bond) {
                return Err(SubmitError::CapReached);
            }
            let l = self.old_leases.get_mut(&rid).expect("checked above");
            l.state = LeaseState::Submitted;
            l.submitted_at = now;
            self.provers[account as usize].active += 1;
        }
        // A submission ends a wait (a `submitAndLease` starts it again after this).
        self.provers[account as usize].waiting = false;
        Ok(())
    }

    // The contract's `_heldLease`: `rid` is `account`'s and neither submitted nor released; its
    // job's word, and whether it is the job's latest lease.
    fn held(&self, account: Account, rid: RequestId) -> Result<(Job, bool), SubmitError> {
        let (job, attempt) = (rid.job(), rid.attempt());
        let Some(&j) = self.jobs.get(job as usize) else {
            return Err(SubmitError::UnknownRequest);
        };
        if attempt == 0 || attempt > j.attempt {
            return Err(SubmitError::UnknownRequest);
        }
        let latest = attempt == j.attempt;
        let state = if latest {
            if j.holder != account || !self.prover(account).registered {
                return Err(SubmitError::NotLeaseHolder);
            }
            j.state
        } else {
            let l = self.old_leases[&rid];
            if l.prover != account {
                return Err(SubmitError::NotLeaseHolder);
            }
            l.state
        };
        unsubmitted(state)?;
        Ok((j, latest))
    }

    /// `releaseLease(rid)` by `account`: its latest lease, unsubmitted, on a pending job goes
    /// back, the job to the pending list's head (taken next whatever its age, the holder's own
    /// leases too); one of a cancelled batch is cleared instead.
    pub fn release(&mut self, account: Account, rid: RequestId) -> Result<(), SubmitError> {
        let (j, latest) = self.held(account, rid)?;
        let (job, attempt) = (rid.job(), rid.attempt());
        // An earlier lease was handed on: the job is someone else's.
        if !latest {
            return Err(SubmitError::NotLeaseHolder);
        }
        if j.status != JobStatus::Pending {
            return Err(SubmitError::JobNotPending);
        }
        if self.batches[j.batch as usize].cancelled {
            self.clear(job);
            return Ok(());
        }
        if attempt == self.params.max_attempts {
            return Err(SubmitError::LastAttempt);
        }
        let p = &mut self.provers[account as usize];
        p.active -= 1;
        p.unsubmitted -= 1;
        p.waiting = false;
        self.unlink_pending(job, j.prev, j.next);
        let head = self.pending_head;
        if head == 0 {
            self.pending_tail = job;
        } else {
            self.jobs[head as usize].prev = job;
        }
        self.pending_head = job;
        self.pending_count += 1;
        let j = &mut self.jobs[job as usize];
        j.prev = 0;
        j.next = head;
        j.state = LeaseState::Released;
        self.totals.releases += 1;
        Ok(())
    }

    /// One entry of `recordVerdicts` at `now`.
    pub fn verdict(
        &mut self,
        rid: RequestId,
        account: Account,
        result: Verdict,
        now: u64,
    ) -> VerdictOutcome {
        let (job, attempt) = (rid.job(), rid.attempt());
        let j = self.jobs.get(job as usize).copied().unwrap_or(NO_JOB);
        if attempt == 0 || attempt > j.attempt {
            return VerdictOutcome::Skipped(SkipReason::UnknownRequest);
        }
        let latest = attempt == j.attempt;
        let (holder, state, submitted_at) = if latest {
            let registered = self.prover(account).registered;
            (
                if registered { j.holder } else { u32::MAX },
                j.state,
                j.submitted_at,
            )
        } else {
            let l = self.old_leases[&rid];
            (l.prover, l.state, l.submitted_at)
        };
        if holder != account || account == 0 {
            return VerdictOutcome::Skipped(SkipReason::WrongJobOrProver);
        }
        match state {
            LeaseState::Leased | LeaseState::Released => {
                return VerdictOutcome::Skipped(SkipReason::NotSubmitted);
            }
            LeaseState::Submitted => {}
            _ => return VerdictOutcome::Skipped(SkipReason::AlreadyJudged),
        }
        if result == Verdict::Missing && now < submitted_at + self.params.upload_deadline {
            return VerdictOutcome::Skipped(SkipReason::UploadDeadlineNotPassed);
        }
        let judged = match result {
            Verdict::Valid => LeaseState::Valid,
            Verdict::Invalid => LeaseState::Invalid,
            Verdict::Missing => LeaseState::Missing,
        };
        if latest {
            self.jobs[job as usize].state = judged;
        } else {
            self.old_leases.get_mut(&rid).expect("checked above").state = judged;
        }
        self.provers[account as usize].active -= 1;
        let (mut completed, mut paid, mut slashed) = (false, 0, 0);
        match result {
            Verdict::Valid => {
                if let Some(reward) = self.complete(rid, job, account, latest, now) {
                    completed = true;
                    paid = reward;
                }
            }
            Verdict::Invalid => slashed = self.slash(account),
            Verdict::Missing => {}
        }
        // Judged Invalid or Missing: it did not deliver, as a handed-on lease did not.
        if result != Verdict::Valid {
            self.provers[account as usize].lapsed = true;
        }
        VerdictOutcome::Judged {
            completed,
            paid,
            slashed,
            handed: self.handed.take(),
        }
    }

    fn complete(
        &mut self,
        rid: RequestId,
        job: JobId,
        account: Account,
        latest: bool,
        now: u64,
    ) -> Option<u128> {
        let j = self.jobs[job as usize];
        let b = &self.batches[j.batch as usize];
        if j.status != JobStatus::Pending || b.cancelled {
            return None;
        }
        self.unlink_pending(job, j.prev, j.next);
        if !latest && j.state == LeaseState::Leased {
            let p = &mut self.provers[j.holder as usize];
            p.active -= 1;
            p.unsubmitted -= 1;
        }
        if latest && self.params.rules.adaptive_pct.is_some() {
            let o = self.observed.entry(j.batch).or_default();
            o.0 += j.submitted_at.saturating_sub(j.leased_at);
            o.1 += 1;
        }
        let jm = &mut self.jobs[job as usize];
        jm.status = JobStatus::Complete;
        jm.prev = 0;
        jm.next = 0;
        let b = &mut self.batches[j.batch as usize];
        let reward = b.reward;
        b.jobs_left -= 1;
        let first = b.first_job;
        match parent_of(job - first, u64::from(b.leaf_count)) {
            None => b.final_request = Some(rid),
            Some((parent, children)) => {
                self.child_done(j.batch, first + parent, children, account, now)
            }
        }
        let p = &mut self.provers[account as usize];
        p.earnings += reward;
        p.jobs_proven += 1;
        p.lapsed = false;
        self.totals.paid += reward;
        self.totals.completed += 1;
        Some(reward)
    }

    // One more child of node `job` (which has `children` of them) is complete, by `completer`'s
    // proof; with the last one the node is ready: handed to `completer` if it waits for it
    // (the contract's `_nodeReady`), else fresh, at the tail of the fresh-node list.
    fn child_done(
        &mut self,
        batch: BatchId,
        job: JobId,
        children: u32,
        completer: Account,
        now: u64,
    ) {
        let p = &mut self.jobs[job as usize];
        p.children_done += 1;
        if u32::from(p.children_done) < children {
            return;
        }
        self.totals.nodes_readied += 1;
        let c = self.prover(completer);
        if c.waiting && c.unsubmitted == 0 && c.active < self.cap(c.bond) {
            let handed = self.lease_first(job, batch, completer, now);
            let c = &mut self.provers[completer as usize];
            c.active += 1;
            c.unsubmitted = 1;
            c.waiting = false;
            self.totals.handoffs += 1;
            self.handed = Some(handed);
            return;
        }
        let p = &mut self.jobs[job as usize];
        p.status = JobStatus::Fresh;
        p.next = 0;
        let tail = self.agg_tail;
        if tail == 0 {
            self.agg_head = job;
        } else {
            self.jobs[tail as usize].next = job;
        }
        self.agg_tail = job;
        self.fresh_count += 1;
        self.batches[batch as usize].fresh_nodes += 1;
    }

    fn slash(&mut self, account: Account) -> u128 {
        let p = &mut self.provers[account as usize];
        let amount = self.params.slash_amount.min(p.bond);
        p.bond -= amount;
        p.slashes += 1;
        self.totals.slashed += amount;
        amount
    }

    /// Checks the model's own invariants (pending list links and counts, the fresh-node list
    /// and the fresh count, jobs left per batch, active leases per prover recomputed from
    /// scratch, money conservation); O(jobs + leases), for tests.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut n = 0u64;
        let mut prev = 0;
        let mut cur = self.pending_head;
        while cur != 0 {
            let j = &self.jobs[cur as usize];
            if j.prev != prev {
                return Err(format!("job {cur}: prev {} != {prev}", j.prev));
            }
            if j.status != JobStatus::Pending {
                return Err(format!("job {cur} in the pending list is {:?}", j.status));
            }
            n += 1;
            prev = cur;
            cur = j.next;
        }
        if prev != self.pending_tail || n != self.pending_count {
            return Err(format!(
                "pending list: {n} jobs, tail {prev}; recorded {} / {}",
                self.pending_count, self.pending_tail
            ));
        }
        // The fresh-node list: fresh nodes only, each batch's count, the tail.
        let mut listed = vec![0u32; self.batches.len()];
        let (mut prev, mut cur) = (0, self.agg_head);
        while cur != 0 {
            let j = &self.jobs[cur as usize];
            if j.status != JobStatus::Fresh {
                return Err(format!(
                    "job {cur} in the fresh-node list is {:?}",
                    j.status
                ));
            }
            listed[j.batch as usize] += 1;
            prev = cur;
            cur = j.next;
        }
        if prev != self.agg_tail {
            return Err(format!(
                "fresh-node list: tail {prev}, recorded {}",
                self.agg_tail
            ));
        }
        let mut fresh = 0u64;
        for (id, b) in self.batches.iter().enumerate().skip(1) {
            let jobs = b.first_job as usize..(b.first_job + u64::from(b.job_count)) as usize;
            let left = self.jobs[jobs]
                .iter()
                .filter(|j| j.status != JobStatus::Complete)
                .count();
            if left != b.jobs_left as usize {
                return Err(format!(
                    "batch {id}: {left} jobs left, recorded {}",
                    b.jobs_left
                ));
            }
            if b.cancelled {
                continue;
            }
            if listed[id] != b.fresh_nodes {
                return Err(format!(
                    "batch {id}: {} fresh nodes listed, recorded {}",
                    listed[id], b.fresh_nodes
                ));
            }
            fresh += u64::from(b.leaf_count - b.leased_fresh + b.fresh_nodes);
        }
        if fresh != self.fresh_count {
            return Err(format!("{fresh} fresh jobs, recorded {}", self.fresh_count));
        }
        let mut active = vec![0u64; self.provers.len()];
        let mut unsubmitted = vec![0u64; self.provers.len()];
        for j in self.jobs.iter().skip(1) {
            let held = j.status == JobStatus::Pending && j.state == LeaseState::Leased;
            let counts = j.state == LeaseState::Submitted || held;
            if j.status != JobStatus::Fresh && counts {
                active[j.holder as usize] += 1;
            }
            if j.status != JobStatus::Fresh && held {
                unsubmitted[j.holder as usize] += 1;
            }
        }
        for l in self.old_leases.values() {
            if l.state == LeaseState::Submitted {
                active[l.prover as usize] += 1;
            }
        }
        for (i, p) in self.provers.iter().enumerate().skip(1) {
            if p.active != active[i] {
                return Err(format!(
                    "prover {i}: active {} != recomputed {}",
                    p.active, active[i]
                ));
            }
            if p.unsubmitted != unsubmitted[i] {
                return Err(format!(
                    "prover {i}: unsubmitted {} != recomputed {}",
                    p.unsubmitted, unsubmitted[i]
                ));
            }
        }
        let t = self.totals;
        let left: u128 = self
            .batches
            .iter()
            .skip(1)
            .filter(|b| !b.cancelled)
            .map(|b| u128::from(b.jobs_left) * b.reward)
            .sum();
        if t.escrowed != t.paid + t.refunded + left {
            return Err(format!(
                "escrow {} != paid {} + refunded {} + left {left}",
                t.escrowed, t.paid, t.refunded
            ));
        }
        Ok(())
    }
}
