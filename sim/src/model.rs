//! The Coordinator contract's queue semantics in Rust: fresh queues (aggregation first), the
//! pending list with LRP, active leases capped by bond, verdicts with first-valid-wins,
//! slashing and cancellation. Every rule mirrors `contracts/Coordinator.sol` line for line
//! (the differential forge test replays traces of this model on the contract); the only
//! addition is `max_attempts` as a parameter, which the contract fixes at 2^24 - 1 and the
//! timeout baseline of the paper (zkSync's retry limit) lowers.

use rustc_hash::FxHashMap;

use crowdprove_protocol::TreeShape;

/// A job id (1-based, global, as the contract numbers them).
pub type JobId = u64;
/// A batch id (1-based).
pub type BatchId = u32;
/// A prover account (1-based: the id the contract gives it at its first stake).
pub type Account = u32;
pub use crowdprove_protocol::limits::{
    MAX_ACTIVE_LEASES, MAX_CLEAR_PER_LEASE, MAX_LEASES_PER_CALL,
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
    /// A pending job goes only to a prover that holds no other lease: a busy prover taking it
    /// would only queue it behind its own work (the contract).
    pub idle_only: bool,
    /// Fresh round-0 jobs go before fresh aggregation nodes of their own or later trees: the
    /// longest remaining path first (Hu's highest-level-first rule, optimal for in-trees of
    /// unit jobs). Nodes of an older tree still go before a later tree's leaves (the contract).
    pub leaves_first: bool,
}

impl Rules {
    /// None of them: the contract before the study (aggregation first, any prover may take a
    /// pending job over).
    pub const OFF: Rules = Rules {
        stale_age: None,
        adaptive_pct: None,
        idle_only: false,
        leaves_first: false,
    };

    /// The contract's rules (with its stale age off).
    pub const CONTRACT: Rules = Rules {
        stale_age: None,
        adaptive_pct: None,
        idle_only: true,
        leaves_first: true,
    };

    /// Whether the contract can run these rules (any stale age, nothing else of its own).
    pub fn on_chain(&self) -> bool {
        *self
            == Rules {
                stale_age: self.stale_age,
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
}

/// Why a verdict was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// No such lease.
    UnknownRequest,
    /// The verdict names another job or prover.
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
    },
}

/// Why `post_batch` or `cancel_batch` reverted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// Kind, level, parent or size do not fit the tree.
    BadShape,
    /// No such batch.
    Unknown,
    /// The batch (or the parent) was cancelled.
    Cancelled,
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
}

#[derive(Clone, Copy, Debug)]
struct OldLease {
    prover: Account,
    submitted_at: u64,
    state: LeaseState,
}

/// A batch as the model keeps it.
#[derive(Clone, Debug)]
pub struct Batch {
    /// First job id.
    pub first_job: JobId,
    /// Jobs in the batch.
    pub job_count: u32,
    /// Jobs not yet complete.
    pub jobs_left: u32,
    /// Jobs taken from the fresh queue.
    pub leased_fresh: u32,
    /// Paid per completed job.
    pub reward: u128,
    /// An aggregation batch.
    pub aggregation: bool,
    /// Tree level (0 for round 0).
    pub level: u8,
    /// The round-0 batch an aggregation batch belongs to.
    pub parent: BatchId,
    /// Its jobs are the tree's top.
    pub is_top: bool,
    /// Cancelled.
    pub cancelled: bool,
    /// The top job's winning request (round-0 batches).
    pub top_request: Option<RequestId>,
    queue_prev: BatchId,
    queue_next: BatchId,
}

/// A prover's account as the model keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prover {
    /// Bond.
    pub bond: u128,
    /// Active leases (see ARCHITECTURE.md).
    pub active: u64,
    /// Paid so far.
    pub earnings: u128,
    /// Jobs it completed.
    pub jobs_proven: u64,
    /// Times it was slashed.
    pub slashes: u64,
    /// Staked at least once.
    pub registered: bool,
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
}

/// The coordinator's state.
#[derive(Clone, Debug)]
pub struct Coordinator {
    params: Params,
    jobs: Vec<Job>,
    batches: Vec<Batch>,
    old_leases: FxHashMap<RequestId, OldLease>,
    provers: Vec<Prover>,
    agg_head: BatchId,
    agg_tail: BatchId,
    round0_head: BatchId,
    round0_tail: BatchId,
    fresh_count: u64,
    pending_head: JobId,
    pending_tail: JobId,
    pending_count: u64,
    totals: Totals,
    // Per tree (its round-0 batch): sum and count of observed proof times, for `adaptive_pct`.
    observed: FxHashMap<BatchId, (u64, u64)>,
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
};

impl Coordinator {
    /// An empty coordinator with `params`.
    pub fn new(params: Params) -> Self {
        let empty_batch = Batch {
            first_job: 0,
            job_count: 0,
            jobs_left: 0,
            leased_fresh: 0,
            reward: 0,
            aggregation: false,
            level: 0,
            parent: 0,
            is_top: false,
            cancelled: false,
            top_request: None,
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

    /// Posts a batch of `job_count` jobs; aggregation batches name their round-0 `parent`.
    pub fn post_batch(
        &mut self,
        job_count: u32,
        reward: u128,
        aggregation: bool,
        level: u8,
        parent: BatchId,
    ) -> Result<BatchId, BatchError> {
        if job_count == 0 {
            return Err(BatchError::BadShape);
        }
        let is_top = if !aggregation {
            if level != 0 || parent != 0 {
                return Err(BatchError::BadShape);
            }
            job_count == 1
        } else {
            let pb = self.batch(parent).ok_or(BatchError::BadShape)?;
            if pb.aggregation {
                return Err(BatchError::BadShape);
            }
            if pb.cancelled {
                return Err(BatchError::Cancelled);
            }
            let top = TreeShape::new(pb.job_count).map_or(0, |t| u32::from(t.height()));
            if level == 0
                || u32::from(level) > top
                || u64::from(job_count) > 1u64 << (top - u32::from(level))
            {
                return Err(BatchError::BadShape);
            }
            u32::from(level) == top
        };
        let id = self.batches.len() as BatchId;
        let first_job = self.jobs.len() as JobId;
        self.jobs.extend(std::iter::repeat_n(
            Job {
                batch: id,
                ..NO_JOB
            },
            job_count as usize,
        ));
        self.batches.push(Batch {
            first_job,
            job_count,
            jobs_left: job_count,
            leased_fresh: 0,
            reward,
            aggregation,
            level,
            parent,
            is_top,
            cancelled: false,
            top_request: None,
            queue_prev: 0,
            queue_next: 0,
        });
        self.fresh_count += u64::from(job_count);
        self.append_fresh(id, aggregation);
        self.totals.escrowed += u128::from(job_count) * reward;
        Ok(id)
    }

    /// Cancels a batch: its fresh jobs are never leased, its pending jobs are cleared when a
    /// lease meets them, unspent escrow is refunded.
    pub fn cancel_batch(&mut self, id: BatchId) -> Result<u128, BatchError> {
        let b = self.batch(id).ok_or(BatchError::Unknown)?;
        if b.cancelled {
            return Err(BatchError::Cancelled);
        }
        let fresh_left = u64::from(b.job_count - b.leased_fresh);
        let agg = b.aggregation;
        if fresh_left != 0 {
            self.unlink_fresh(id, agg);
            self.fresh_count -= fresh_left;
        }
        let b = &mut self.batches[id as usize];
        b.cancelled = true;
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
        let mut undo = Vec::new();
        while (got.len() as u64) < n {
            let busy = p.active + got.len() as u64 > 0;
            match self.take_job(account, busy, now, &mut undo) {
                Some(l) => got.push(l),
                None => break,
            }
        }
        if got.is_empty() {
            // The contract reverts: the clears made on the way are undone.
            for job in undo.into_iter().rev() {
                self.unclear(job);
            }
            return Err(LeaseError::NoJobAvailable);
        }
        self.provers[account as usize].active += got.len() as u64;
        Ok(got)
    }

    fn take_job(
        &mut self,
        me: Account,
        busy: bool,
        now: u64,
        undo: &mut Vec<JobId>,
    ) -> Option<Leased> {
        let rules = self.params.rules;
        let mut batch = self.agg_head;
        let leaves = self.round0_head;
        // Leaves first within a tree, but a tree older than every tree with fresh leaves has
        // its nodes go first: otherwise a stream of source batches starves every tree.
        if leaves != 0
            && (batch == 0 || (rules.leaves_first && self.batches[batch as usize].parent >= leaves))
        {
            if let Some(stale) = rules.stale_age.filter(|&s| s > 0) {
                if let Some(l) = self.take_from_pending_head(me, busy, now, stale, undo) {
                    return Some(l);
                }
            }
            batch = leaves;
        }
        if batch == 0 {
            return self.take_from_pending_head(me, busy, now, 0, undo);
        }
        let job = self.take_fresh(batch);
        let tail = self.pending_tail;
        self.jobs[job as usize] = Job {
            status: JobStatus::Pending,
            batch,
            prev: tail,
            next: 0,
            leased_at: now,
            attempt: 1,
            holder: me,
            submitted_at: 0,
            state: LeaseState::Leased,
        };
        self.link_at_tail(job);
        Some(Leased {
            request: RequestId::new(job, 1),
            job,
            previous: None,
        })
    }

    fn take_fresh(&mut self, id: BatchId) -> JobId {
        let b = &mut self.batches[id as usize];
        let taken = b.leased_fresh;
        let job = b.first_job + u64::from(taken);
        b.leased_fresh = taken + 1;
        let last = taken + 1 == b.job_count;
        let agg = b.aggregation;
        self.fresh_count -= 1;
        if last {
            self.unlink_fresh(id, agg);
        }
        job
    }

    // LRP from the pending list's head; `at_least` raises the minimum age (the stale age).
    fn take_from_pending_head(
        &mut self,
        me: Account,
        busy: bool,
        now: u64,
        at_least: u64,
        undo: &mut Vec<JobId>,
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
            undo.push(job);
            job = self.pending_head;
            k += 1;
        }
        if job == 0 {
            return None;
        }
        let mut j = self.jobs[job as usize];
        if j.holder == me {
            job = j.next;
            if job == 0 {
                return None;
            }
            j = self.jobs[job as usize];
            if j.holder == me {
                return None;
            }
        }
        if self.batches[j.batch as usize].cancelled || j.attempt >= self.params.max_attempts {
            return None;
        }
        if now < j.leased_at + self.min_age(j.batch).max(at_least) {
            return None;
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
            self.provers[previous as usize].active -= 1;
        }
        self.unlink_pending(j.prev, j.next);
        let tail = self.pending_tail;
        let j = &mut self.jobs[job as usize];
        j.prev = tail;
        j.next = 0;
        j.leased_at = now;
        j.attempt += 1;
        j.holder = me;
        j.submitted_at = 0;
        j.state = LeaseState::Leased;
        let attempt = j.attempt;
        self.link_at_tail(job);
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
        match self.observed.get(&self.tree_of(batch)) {
            Some(&(sum, n)) if n > 0 => fixed.max(sum * u64::from(pct) / (100 * n)),
            _ => fixed,
        }
    }

    // The round-0 batch a batch's tree belongs to.
    fn tree_of(&self, batch: BatchId) -> BatchId {
        let b = &self.batches[batch as usize];
        if b.aggregation { b.parent } else { batch }
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

    fn unlink_pending(&mut self, prev: JobId, next: JobId) {
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
        self.unlink_pending(j.prev, j.next);
        if j.state == LeaseState::Leased {
            self.provers[j.holder as usize].active -= 1;
        }
        let j = &mut self.jobs[job as usize];
        j.status = JobStatus::Cleared;
        // prev/next are zeroed by the contract; `unclear` needs neither (a cleared job always
        // left from the head).
        j.prev = 0;
        j.next = 0;
    }

    // Undoes `clear` of the job that was the head: it becomes the head again.
    fn unclear(&mut self, job: JobId) {
        let head = self.pending_head;
        {
            let j = &mut self.jobs[job as usize];
            j.status = JobStatus::Pending;
            j.prev = 0;
            j.next = head;
        }
        if head == 0 {
            self.pending_tail = job;
        } else {
            self.jobs[head as usize].prev = job;
        }
        self.pending_head = job;
        self.pending_count += 1;
        let j = self.jobs[job as usize];
        if j.state == LeaseState::Leased {
            self.provers[j.holder as usize].active += 1;
        }
    }

    // The head and tail of one fresh queue.
    fn fresh_ends(&mut self, agg: bool) -> (&mut BatchId, &mut BatchId) {
        if agg {
            (&mut self.agg_head, &mut self.agg_tail)
        } else {
            (&mut self.round0_head, &mut self.round0_tail)
        }
    }

    fn append_fresh(&mut self, id: BatchId, agg: bool) {
        let tail = *self.fresh_ends(agg).1;
        if tail == 0 {
            *self.fresh_ends(agg).0 = id;
        } else {
            self.batches[tail as usize].queue_next = id;
            self.batches[id as usize].queue_prev = tail;
        }
        *self.fresh_ends(agg).1 = id;
    }

    fn unlink_fresh(&mut self, id: BatchId, agg: bool) {
        let (prev, next) = {
            let b = &self.batches[id as usize];
            (b.queue_prev, b.queue_next)
        };
        if prev == 0 {
            *self.fresh_ends(agg).0 = next;
        } else {
            self.batches[prev as usize].queue_next = next;
        }
        if next == 0 {
            *self.fresh_ends(agg).1 = prev;
        } else {
            self.batches[next as usize].queue_prev = prev;
        }
        let b = &mut self.batches[id as usize];
        b.queue_prev = 0;
        b.queue_next = 0;
    }

    /// `submitProof(requestId, ...)` by `account` at `now`.
    pub fn submit(
        &mut self,
        account: Account,
        rid: RequestId,
        now: u64,
    ) -> Result<(), SubmitError> {
        let (job, attempt) = (rid.job(), rid.attempt());
        let Some(&j) = self.jobs.get(job as usize) else {
            return Err(SubmitError::UnknownRequest);
        };
        if attempt == 0 || attempt > j.attempt {
            return Err(SubmitError::UnknownRequest);
        }
        let latest = attempt == j.attempt;
        if latest {
            if j.holder != account || !self.prover(account).registered {
                return Err(SubmitError::NotLeaseHolder);
            }
            if j.state != LeaseState::Leased {
                return Err(SubmitError::AlreadySubmitted);
            }
        } else {
            let l = self.old_leases[&rid];
            if l.prover != account {
                return Err(SubmitError::NotLeaseHolder);
            }
            if l.state != LeaseState::Leased {
                return Err(SubmitError::AlreadySubmitted);
            }
        }
        if j.status != JobStatus::Pending || self.batches[j.batch as usize].cancelled {
            return Err(SubmitError::JobNotPending);
        }
        if latest {
            let j = &mut self.jobs[job as usize];
            j.state = LeaseState::Submitted;
            j.submitted_at = now;
        } else {
            let l = self.old_leases.get_mut(&rid).expect("checked above");
            l.state = LeaseState::Submitted;
            l.submitted_at = now;
            self.provers[account as usize].active += 1;
        }
        Ok(())
    }

    /// One entry of `recordVerdicts` at `now`.
    pub fn verdict(
        &mut self,
        rid: RequestId,
        job: JobId,
        account: Account,
        result: Verdict,
        now: u64,
    ) -> VerdictOutcome {
        let (rjob, attempt) = (rid.job(), rid.attempt());
        let j = self.jobs.get(rjob as usize).copied().unwrap_or(NO_JOB);
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
        if rjob != job || holder != account || account == 0 {
            return VerdictOutcome::Skipped(SkipReason::WrongJobOrProver);
        }
        match state {
            LeaseState::Leased => return VerdictOutcome::Skipped(SkipReason::NotSubmitted),
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
                if let Some(reward) = self.complete(rid, job, account, latest) {
                    completed = true;
                    paid = reward;
                }
            }
            Verdict::Invalid => slashed = self.slash(account),
            Verdict::Missing => {}
        }
        VerdictOutcome::Judged {
            completed,
            paid,
            slashed,
        }
    }

    fn complete(
        &mut self,
        rid: RequestId,
        job: JobId,
        account: Account,
        latest: bool,
    ) -> Option<u128> {
        let j = self.jobs[job as usize];
        let b = &self.batches[j.batch as usize];
        if j.status != JobStatus::Pending || b.cancelled {
            return None;
        }
        self.unlink_pending(j.prev, j.next);
        if !latest && j.state == LeaseState::Leased {
            self.provers[j.holder as usize].active -= 1;
        }
        if latest && self.params.rules.adaptive_pct.is_some() {
            let tree = self.tree_of(j.batch);
            let o = self.observed.entry(tree).or_default();
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
        let (is_top, agg, parent) = (b.is_top, b.aggregation, b.parent);
        if is_top {
            let root = if agg { parent } else { j.batch };
            let root = &mut self.batches[root as usize];
            if root.top_request.is_none() {
                root.top_request = Some(rid);
            }
        }
        let p = &mut self.provers[account as usize];
        p.earnings += reward;
        p.jobs_proven += 1;
        self.totals.paid += reward;
        self.totals.completed += 1;
        Some(reward)
    }

    fn slash(&mut self, account: Account) -> u128 {
        let p = &mut self.provers[account as usize];
        let amount = self.params.slash_amount.min(p.bond);
        p.bond -= amount;
        p.slashes += 1;
        self.totals.slashed += amount;
        amount
    }

    /// Checks the model's own invariants (pending list links and counts, active leases per
    /// prover recomputed from scratch, money conservation); O(jobs + leases), for tests.
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
        let mut active = vec![0u64; self.provers.len()];
        for j in self.jobs.iter().skip(1) {
            let counts = j.state == LeaseState::Submitted
                || (j.status == JobStatus::Pending && j.state == LeaseState::Leased);
            if j.status != JobStatus::Fresh && counts {
                active[j.holder as usize] += 1;
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
