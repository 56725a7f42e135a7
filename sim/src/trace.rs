//! Traces of the model's operations and their results, for the differential forge test
//! (`contracts/test/CoordinatorDifferential.t.sol`): the test deploys a coordinator with the
//! trace's parameters, replays each operation on it and compares every result and state
//! check with what the model produced.
//!
//! Encoding: `abi.encode(uint256[])` as hex, a flat list of words. Each operation is an op
//! code followed by its fixed arguments (see [`Op`]); a lease's result is `k` then `k`
//! pairs (request id, job id), or `0` then the revert (1 = NoJobAvailable, 2 =
//! LeaseCapReached with active and cap), or 4 when it leased nothing but kept the cancelled
//! jobs it cleared.

use crate::model::{
    Account, Batch, BatchId, JobId, JobStatus, LeaseError, Leased, Params, Prover, RequestId,
    SubmitError, Verdict,
};

/// Op codes, as the forge test reads them.
#[derive(Clone, Copy, Debug)]
#[repr(u8)]
pub enum Op {
    /// bondPerLease, minBond, slash, minReassignAge, uploadDeadline, staleAge, spareAttempts.
    Config = 0,
    /// seconds since the start.
    Warp = 1,
    /// account, amount.
    Stake = 2,
    /// leafCount, reward, expected batch id.
    Post = 3,
    /// account, n, then the result (see the module docs).
    Lease = 4,
    /// account, request id, expected code (0 = ok, 1 = UnknownRequest, 2 = NotLeaseHolder,
    /// 3 = AlreadySubmitted, 4 = JobNotPending, 5 = LeaseCapReached, 6 = LeaseIsReleased).
    Submit = 5,
    /// request id, job id, account, result.
    Verdict = 6,
    /// batch id.
    Cancel = 7,
    /// account, bond, active leases, earnings, jobs proven, slashes, lapsed (0/1).
    CheckProver = 8,
    /// fresh jobs, pending jobs, pending head, pending tail.
    CheckQueue = 9,
    /// job id, status (0 fresh, 1 pending, 2 complete, 3 cleared, 4 waiting).
    CheckJob = 10,
    /// batch id, first job id, job count, leaf count, jobs left, leased fresh (leaves), fresh
    /// nodes, cancelled (0/1), the top's winning request id (0 = not final; the replay's
    /// proof hashes are keccak256(abi.encode(requestId))).
    CheckBatch = 11,
    /// n, then n job ids (by the relayer).
    ClearCancelled = 12,
    /// account, request id, expected code (`Submit`'s, and 7 = LastAttempt).
    Release = 13,
    /// account, request id, expected code (`Submit`'s), then 1, request id and job id of the
    /// lease it took, or 0 (none: the prover waits for the node its proof readies).
    SubmitAndLease = 14,
}

/// What a recorded run reached of the tree's rules, so that a test can require the traces
/// to reach each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Aggregation nodes made fresh by the verdict on their last child.
    pub nodes_readied: u64,
    /// Of which nodes with a single child (an odd level's last node).
    pub single_child_readied: u64,
    /// Fresh nodes of cancelled batches dropped by a lease that met them.
    pub nodes_dropped: u64,
    /// Batches cancelled with part of their tree complete.
    pub cancelled_mid_tree: u64,
    /// Pending jobs taken over while fresh leaves remained (the stale age).
    pub stale_takeovers: u64,
    /// Of which a tree's top.
    pub stale_top_takeovers: u64,
    /// Fresh nodes leased while fresh leaves remained (an older tree's nodes first).
    pub older_nodes_first: u64,
    /// Pending jobs leased as spares, younger than the minimum age.
    pub spares: u64,
    /// Of which past `spareAttempts`, their latest holder having lapsed.
    pub lapsed_spares: u64,
    /// Submissions of handed-on leases refused because the bond did not back them.
    pub refused_late: u64,
    /// Leases given back by provers that left.
    pub releases: u64,
    /// Released jobs leased again (whatever their age).
    pub released_taken: u64,
    /// Nodes handed to their waiting completer with the verdict that readied them.
    pub handoffs: u64,
    /// Leases that only cleared cancelled jobs (and kept the clearing).
    pub cleared_only: u64,
    /// Pending jobs someone holds refused to a lapsed prover.
    pub lapsed_refused: u64,
    /// Pending jobs nobody holds leased by a lapsed prover.
    pub lapsed_unheld: u64,
    /// Held pending jobs leased by a lapsed prover once overdue (twice the stale age).
    pub lapsed_overdue: u64,
}

/// A recorded trace.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    words: Vec<u128>,
    last_warp: Option<u64>,
    ops: usize,
}

impl Trace {
    /// A trace for a coordinator with `params`, whose rules must be the contract's.
    pub fn new(params: &Params) -> Self {
        assert!(
            params.rules.on_chain(),
            "a trace replays on the contract: its rules must be the contract's, not {:?}",
            params.rules
        );
        let mut t = Trace::default();
        t.push(
            Op::Config,
            &[
                params.bond_per_lease,
                params.min_bond,
                params.slash_amount,
                u128::from(params.min_reassign_age),
                u128::from(params.upload_deadline),
                u128::from(params.rules.stale_age.unwrap_or(0)),
                u128::from(params.rules.spare_attempts),
            ],
        );
        t
    }

    fn push(&mut self, op: Op, args: &[u128]) {
        self.words.push(op as u128);
        self.words.extend_from_slice(args);
        self.ops += 1;
    }

    /// Operations recorded.
    pub fn len(&self) -> usize {
        self.ops
    }

    /// Nothing recorded but the config.
    pub fn is_empty(&self) -> bool {
        self.ops <= 1
    }

    /// Moves the chain's clock to `now` (seconds) if it is not there.
    pub fn warp(&mut self, now: u64) {
        if self.last_warp != Some(now) {
            self.last_warp = Some(now);
            self.push(Op::Warp, &[u128::from(now)]);
        }
    }

    /// A stake.
    pub fn stake(&mut self, account: Account, amount: u128) {
        self.push(Op::Stake, &[u128::from(account), amount]);
    }

    /// A batch (a tree over `leaves` round-0 jobs) posted.
    pub fn post(&mut self, leaves: u32, reward: u128, id: BatchId) {
        self.push(Op::Post, &[u128::from(leaves), reward, u128::from(id)]);
    }

    /// A lease call and its result.
    pub fn lease(&mut self, account: Account, n: u32, result: &Result<Vec<Leased>, LeaseError>) {
        self.words.push(Op::Lease as u128);
        self.words.push(u128::from(account));
        self.words.push(u128::from(n));
        match result {
            Ok(got) => {
                self.words.push(got.len() as u128);
                for l in got {
                    self.words.push(u128::from(l.request.0));
                    self.words.push(u128::from(l.job));
                }
            }
            Err(e) => {
                self.words.push(0);
                let (code, active, cap) = match *e {
                    LeaseError::NoJobAvailable => (1, 0, 0),
                    LeaseError::CapReached { active, cap } => (2, active, cap),
                    LeaseError::BadLeaseCount => (3, 0, 0),
                    LeaseError::ClearedOnly => (4, 0, 0),
                };
                self.words
                    .extend([code, u128::from(active), u128::from(cap)]);
            }
        }
        self.ops += 1;
    }

    /// A submission and its result.
    pub fn submit(&mut self, account: Account, rid: RequestId, result: Result<(), SubmitError>) {
        self.push(
            Op::Submit,
            &[u128::from(account), u128::from(rid.0), code(result)],
        );
    }

    /// A `submitAndLease` and its result.
    pub fn submit_and_lease(
        &mut self,
        account: Account,
        rid: RequestId,
        result: Result<Option<Leased>, SubmitError>,
    ) {
        let mut args = vec![
            u128::from(account),
            u128::from(rid.0),
            code(result.map(|_| ())),
        ];
        match result {
            Ok(Some(l)) => args.extend([1, u128::from(l.request.0), u128::from(l.job)]),
            _ => args.push(0),
        }
        self.push(Op::SubmitAndLease, &args);
    }

    /// A `releaseLease` and its result.
    pub fn release(&mut self, account: Account, rid: RequestId, result: Result<(), SubmitError>) {
        self.push(
            Op::Release,
            &[u128::from(account), u128::from(rid.0), code(result)],
        );
    }

    /// A verdict (its effect is checked by the checks that follow).
    pub fn verdict(&mut self, rid: RequestId, job: JobId, account: Account, result: Verdict) {
        self.push(
            Op::Verdict,
            &[
                u128::from(rid.0),
                u128::from(job),
                u128::from(account),
                u128::from(u8::from(result)),
            ],
        );
    }

    /// A cancellation.
    pub fn cancel(&mut self, batch: BatchId) {
        self.push(Op::Cancel, &[u128::from(batch)]);
    }

    /// A `clearCancelled` call.
    pub fn clear_cancelled(&mut self, jobs: &[JobId]) {
        self.words.push(Op::ClearCancelled as u128);
        self.words.push(jobs.len() as u128);
        self.words.extend(jobs.iter().map(|&j| u128::from(j)));
        self.ops += 1;
    }

    /// The model's view of a prover, to compare.
    pub fn check_prover(&mut self, account: Account, p: &Prover) {
        self.push(
            Op::CheckProver,
            &[
                u128::from(account),
                p.bond,
                u128::from(p.active),
                p.earnings,
                u128::from(p.unsubmitted),
                u128::from(p.slashes),
                u128::from(p.lapsed),
            ],
        );
    }

    /// The model's queue, to compare.
    pub fn check_queue(&mut self, q: (u64, u64, JobId, JobId)) {
        self.push(
            Op::CheckQueue,
            &[
                u128::from(q.0),
                u128::from(q.1),
                u128::from(q.2),
                u128::from(q.3),
            ],
        );
    }

    /// A job's status, to compare.
    pub fn check_job(&mut self, job: JobId, status: JobStatus) {
        self.push(
            Op::CheckJob,
            &[u128::from(job), u128::from(u8::from(status))],
        );
    }

    /// The model's view of a batch, to compare.
    pub fn check_batch(&mut self, id: BatchId, b: &Batch) {
        self.push(
            Op::CheckBatch,
            &[
                u128::from(id),
                u128::from(b.first_job),
                u128::from(b.job_count),
                u128::from(b.leaf_count),
                u128::from(b.jobs_left),
                u128::from(b.leased_fresh),
                // The contract counts listed nodes of live batches only: a cancelled batch's
                // stay listed until a lease drops them, none of them fresh.
                u128::from(if b.cancelled { 0 } else { b.fresh_nodes }),
                u128::from(b.cancelled),
                b.final_request.map_or(0, |r| u128::from(r.0)),
            ],
        );
    }

    /// `abi.encode(uint256[])` as 0x-prefixed hex.
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(2 + 64 * (self.words.len() + 2));
        out.push_str("0x");
        let word = |out: &mut String, v: u128| {
            out.push_str(&"0".repeat(32));
            out.push_str(&format!("{v:032x}"));
        };
        word(&mut out, 32);
        word(&mut out, self.words.len() as u128);
        for &w in &self.words {
            word(&mut out, w);
        }
        out
    }
}

// A submission's or release's result as the forge test reads it (see `Op::Submit`).
fn code(result: Result<(), SubmitError>) -> u128 {
    match result {
        Ok(()) => 0,
        Err(SubmitError::UnknownRequest) => 1,
        Err(SubmitError::NotLeaseHolder) => 2,
        Err(SubmitError::AlreadySubmitted) => 3,
        Err(SubmitError::JobNotPending) => 4,
        Err(SubmitError::CapReached) => 5,
        Err(SubmitError::Released) => 6,
        Err(SubmitError::LastAttempt) => 7,
    }
}

/// The scenarios whose traces the differential forge test replays: small enough for a forge
/// test, and hostile enough to reach every rule (fresh leaves batch by batch, nodes made fresh
/// by their last child's verdict, single-child nodes, an older tree's nodes before later
/// leaves, LRP past the caller's own jobs, minimum age, the stale age (on a tree's top too),
/// caps, hoarders, invalid and missing proofs, slashing to below the minimum bond, stale
/// submissions, cancellation mid-tree with clearing and dropped fresh nodes); each posts
/// several source batches, with odd leaf counts.
pub fn differential_scenarios() -> Vec<crate::Scenario> {
    use crate::scenario::*;
    let group =
        |count, secs: f64, cv, bond_leases, fault: Option<(FaultKind, Strike)>| ProverGroup {
            count,
            hardware: Hardware::Seconds(secs),
            cv,
            bond_leases,
            fault: fault.map(|(kind, strike)| Fault { kind, strike }),
            join_secs: 0.0,
        };
    let timing = Timing {
        block_secs: 1.0,
        network_secs: 0.01,
        fetch_secs: 0.5,
        upload_secs: 0.2,
        job_overhead_secs: 0.0,
        verify_secs: 0.006,
        poll_secs: 7.0,
        aggregation_factor: 0.8,
        offline_secs: 60.0,
        slow_factor: 3.0,
        cheat_secs: 3.0,
        lease_ahead: true,
        prefetch_lead_secs: None,
    };
    let economics = Economics {
        reward: 3,
        bond_per_lease: 10,
        slash: 6,
        upload_deadline: 10,
    };
    let base = |name: &str, policy, jobs, batches, interval, provers| Scenario {
        name: name.into(),
        seed: 42,
        jobs,
        batches,
        batch_interval_secs: interval,
        aggregation: true,
        policy,
        rules: Rules::default(),
        timing,
        economics,
        cancel_at_secs: None,
        max_secs: 3_600.0,
        provers,
    };
    let hostile = vec![
        group(4, 20.0, 0.4, 2, None),
        group(1, 20.0, 0.0, 3, Some((FaultKind::Hoarder, Strike::Start))),
        group(1, 20.0, 0.0, 2, Some((FaultKind::Invalid, Strike::Start))),
        group(
            1,
            20.0,
            0.0,
            1,
            Some((FaultKind::Withholder, Strike::AtSecs(15.0))),
        ),
        group(
            1,
            20.0,
            0.3,
            1,
            Some((FaultKind::Crash, Strike::FreshLeased(0.8))),
        ),
        group(
            1,
            20.0,
            0.3,
            1,
            Some((FaultKind::Churn, Strike::AtSecs(30.0))),
        ),
    ];
    // Two trees cancelled at 50 s, part-proven, a third posted after: leases for it drop the
    // cancelled trees' fresh nodes, and the relayer's sweep clears their pending jobs.
    let mut cancel = base("cancel", Policy::Lrp, 13, 3, 30.0, hostile.clone());
    cancel.cancel_at_secs = Some(50.0);
    // A seed where a cancelled tree still has a fresh node for a lease to drop and a lease
    // only clears: provers whose leases all await verdicts take nodes at once, and waiting
    // provers are handed them with the verdict, so many seeds leave none.
    cancel.seed = 201;
    vec![
        base("lrp", Policy::Lrp, 13, 2, 60.0, hostile.clone()),
        {
            // Four trees 80 s apart: a top of one goes stale while the next one's leaves are
            // fresh. A hoarder holds leases, so it gets a node only when LRP has taken all of
            // them, and by then it has lapsed and takes no node at all: the seed is one of the
            // few (4 of the first 4,000) where a top goes stale, with three stale takeovers
            // and older trees' nodes leased before later leaves. Spares off, so that the stale path is what takes
            // hoarded jobs.
            let mut s = base(
                "min-age",
                Policy::LrpMinAge { secs: 30 },
                11,
                4,
                80.0,
                hostile.clone(),
            );
            s.rules.stale_age = Some(30);
            s.rules.spare_attempts = 0;
            s.seed = 3775;
            s
        },
        cancel,
        {
            // Spares under a minimum age: hoarded and slow jobs go at once to idle provers
            // that have not lapsed, up to spareAttempts, and so does a lapsed holder's job.
            // Two slow provers with a bond for one lease: a spare takes their job over, they
            // lease ahead just in time, and the bond no longer backs their late submission.
            let mut provers = hostile;
            provers.push(group(2, 45.0, 0.3, 1, None));
            let mut s = base(
                "spares",
                Policy::LrpMinAge { secs: 40 },
                9,
                3,
                50.0,
                provers,
            );
            s.rules.stale_age = Some(60);
            s.timing.prefetch_lead_secs = Some(5.0);
            // The one seed of the first 300 with a refused late submission and a lapsed
            // holder's job taken as a spare.
            s.seed = 152;
            s
        },
        {
            // Lapsed provers finish what a crashed one holds: two fast provers whose proofs
            // are judged Invalid (lapsed for good) and one that crashes holding a leaf, while
            // the two honest provers are slow and busy when it goes stale: a lapsed prover
            // takes it once it is held for twice the stale age. And one that leaves, giving
            // its leases back, as in every trace.
            let provers = vec![
                group(2, 100.0, 0.1, 2, None),
                group(2, 5.0, 0.0, 20, Some((FaultKind::Invalid, Strike::Start))),
                group(
                    1,
                    20.0,
                    0.0,
                    1,
                    Some((FaultKind::Crash, Strike::FreshLeased(0.5))),
                ),
                group(
                    1,
                    20.0,
                    0.3,
                    1,
                    Some((FaultKind::Churn, Strike::AtSecs(30.0))),
                ),
            ];
            let mut s = base(
                "overdue",
                Policy::LrpMinAge { secs: 30 },
                8,
                1,
                60.0,
                provers,
            );
            s.rules.stale_age = Some(30);
            s
        },
    ]
}
