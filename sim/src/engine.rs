//! The discrete-event engine: provers lease, prove and submit through the model of the
//! contract; the relayer posts each source batch's proving tree, verifies and records
//! verdicts (a verdict that completes a node's last child makes the node fresh on-chain);
//! faults strike when the scenario says.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use rustc_hash::FxHashMap;

use crowdprove_protocol::TreeShape;

use crate::model::{
    Account, BatchId, CONTRACT_MAX_ATTEMPTS, Coordinator, JobId, JobStatus, LeaseError,
    MAX_LEASES_PER_CALL, Params, RequestId, Rules, SubmitError, Verdict, VerdictOutcome, parent_of,
};
use crate::rng::Rng;
use crate::scenario::{FaultKind, Policy, Scenario, Strike};
use crate::trace::{Coverage, Trace};

/// Simulated time in microseconds.
type Time = u64;

const US: f64 = 1e6;

fn us(secs: f64) -> Time {
    (secs * US).round() as Time
}

/// What a run measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Every batch's whole tree (or every round-0 job, without aggregation) proven.
    pub finished: bool,
    /// Seconds until the last job completed (the last top with aggregation).
    pub makespan_secs: f64,
    /// Seconds until the last round-0 job completed.
    pub round0_secs: f64,
    /// Jobs completed.
    pub jobs_completed: u64,
    /// Jobs posted (round 0 plus aggregation).
    pub jobs_posted: u64,
    /// Jobs that can no longer complete (attempts exhausted) when the run ended.
    pub jobs_failed: u64,
    /// Prover-seconds spent proving, including abandoned and duplicate work.
    pub compute_secs: f64,
    /// Prover-seconds of the proofs that completed jobs.
    pub useful_secs: f64,
    /// Valid proofs that came second (the job was complete already).
    pub duplicate_proofs: u64,
    /// Submissions of handed-on leases that the prover's bond did not back, refused.
    pub refused_late: u64,
    /// Leases of pending jobs (LRP reassignments).
    pub reassignments: u64,
    /// Paid to provers, in token units.
    pub paid: u128,
    /// Of which to provers with a fault.
    pub paid_to_faulty: u128,
    /// Slashed.
    pub slashed: u128,
    /// Jobs each honest prover completed, summed (for jobs per prover).
    pub honest_jobs: u64,
    /// Honest provers.
    pub honest_provers: u64,
    /// Events processed.
    pub events: u64,
    /// Wall-clock seconds the run took.
    pub wall_secs: f64,
}

impl Outcome {
    /// Wasted work: compute that completed no job, as a share of useful compute.
    pub fn wasted_share(&self) -> f64 {
        if self.useful_secs > 0.0 {
            (self.compute_secs - self.useful_secs).max(0.0) / self.useful_secs
        } else {
            0.0
        }
    }

    /// Simulated events per wall-clock second.
    pub fn events_per_sec(&self) -> f64 {
        self.events as f64 / self.wall_secs.max(1e-9)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Wake { p: u32, token: u32 },
    LeaseTx { p: u32, token: u32 },
    LeaseAheadTx { p: u32, token: u32 },
    Resume { p: u32, token: u32 },
    Proved { p: u32, token: u32 },
    SubmitTx { p: u32, idx: u32 },
    VerdictTx { idx: u32 },
    PostTx,
    Strike { group: u32 },
    Leave { p: u32 },
    Join { p: u32 },
    Cancel,
    Sweep,
}

/// A submission in flight: who, which lease, how much compute it took, whether it verifies.
#[derive(Clone, Copy, Debug)]
struct Submission {
    p: u32,
    rid: RequestId,
    job: JobId,
    compute: f64,
    result: Verdict,
    // Sent as `submitAndLease`: the prover wants its next job (none leased ahead).
    chained: bool,
}

#[derive(Clone, Copy, Debug)]
struct Work {
    rid: RequestId,
    job: JobId,
    start: Time,
    compute: f64,
}

#[derive(Clone, Debug)]
struct ProverState {
    group: u32,
    job_secs: f64,
    cv: f64,
    fault: Option<FaultKind>,
    struck: bool,
    alive: bool,
    token: u32,
    work: Option<Work>,
    // A job leased ahead while proving: (request, job, when its witness is fetched).
    ahead: Option<(RequestId, JobId, Time)>,
}

/// One source batch as the relayer posted it: one tree with aggregation, else one batch (a
/// tree of one job) per round-0 job. Its jobs have consecutive ids.
#[derive(Clone, Debug)]
struct Source {
    first_job: JobId,
    batches: Vec<BatchId>,
    leaves_left: u64,
    done: bool,
    cancelled: bool,
}

/// The simulator for one scenario.
pub struct Sim {
    sc: Scenario,
    model: Coordinator,
    rng: Rng,
    queue: BinaryHeap<Reverse<(Time, u64, Ev)>>,
    seq: u64,
    now: Time,
    provers: Vec<ProverState>,
    submissions: Vec<Submission>,
    workers: FxHashMap<JobId, Vec<u32>>,
    // Where each level of a source's jobs starts (a single level 0 without aggregation).
    level_starts: Vec<u64>,
    source_jobs: u64,
    sources: Vec<Source>,
    sources_done: u32,
    round0_left: u64,
    strike_pending: Vec<(u32, f64)>,
    round0_fresh_leased: u64,
    cancelled: bool,
    cancel_end: Time,
    trace: Option<Trace>,
    coverage: Coverage,
    out: Outcome,
}

impl Sim {
    /// Prepares a run of `sc` (which must pass `validate`).
    pub fn new(sc: Scenario) -> Self {
        let mut rules = sc.rules;
        let (min_age, max_attempts) = match sc.policy {
            Policy::Lrp => (0, CONTRACT_MAX_ATTEMPTS),
            Policy::LrpMinAge { secs } => (secs, CONTRACT_MAX_ATTEMPTS),
            Policy::Timeout { secs, max_attempts } => {
                // zkSync's queue, not ours: `get_next_job` orders by aggregation round
                // (descending), batch and id, so aggregation jobs go first and a timed-out job
                // goes ahead of fresh round-0 jobs of later batches; any prover may take it.
                rules = Rules {
                    stale_age: Some(secs),
                    ..Rules::OFF
                };
                (secs, max_attempts)
            }
        };
        let e = sc.economics;
        let params = Params {
            bond_per_lease: u128::from(e.bond_per_lease),
            min_bond: u128::from(e.bond_per_lease),
            slash_amount: u128::from(e.slash),
            min_reassign_age: min_age,
            upload_deadline: e.upload_deadline,
            max_attempts,
            rules,
        };
        // The tree's shape is the protocol's (and the contract's): one job per chunk, then
        // halving up to the top.
        let level_sizes: Vec<u64> = match TreeShape::new(sc.jobs) {
            Some(t) if sc.aggregation => (0..=t.height()).map(|l| t.nodes_at(l).into()).collect(),
            _ => vec![sc.jobs.into()],
        };
        let level_starts = level_sizes
            .iter()
            .scan(0, |start, &n| {
                let at = *start;
                *start += n;
                Some(at)
            })
            .collect();
        let source_jobs = level_sizes.iter().sum();
        Sim {
            rng: Rng::new(sc.seed),
            model: Coordinator::new(params),
            queue: BinaryHeap::new(),
            seq: 0,
            now: 0,
            provers: Vec::new(),
            submissions: Vec::new(),
            workers: FxHashMap::default(),
            level_starts,
            source_jobs,
            sources: Vec::new(),
            sources_done: 0,
            round0_left: u64::from(sc.jobs) * u64::from(sc.batches),
            strike_pending: Vec::new(),
            round0_fresh_leased: 0,
            cancelled: false,
            cancel_end: 0,
            trace: None,
            coverage: Coverage::default(),
            out: Outcome::default(),
            sc,
        }
    }

    /// What the run reached of the contract's rules (for the differential traces' tests).
    pub fn coverage(&self) -> Coverage {
        let t = self.model.totals();
        Coverage {
            nodes_readied: t.nodes_readied,
            nodes_dropped: t.nodes_dropped,
            spares: t.spares,
            lapsed_spares: t.lapsed_spares,
            refused_late: self.out.refused_late,
            releases: t.releases,
            released_taken: t.released_taken,
            handoffs: t.handoffs,
            lapsed_refused: t.lapsed_refused,
            lapsed_unheld: t.lapsed_unheld,
            lapsed_overdue: t.lapsed_overdue,
            ..self.coverage
        }
    }

    /// Records every call on the model, with its result, for the differential test.
    pub fn with_trace(mut self) -> Self {
        self.trace = Some(Trace::new(self.model.params()));
        self
    }

    /// The recorded trace (after `run`).
    pub fn trace(&self) -> Option<&Trace> {
        self.trace.as_ref()
    }

    /// The model's final state (after `run`).
    pub fn model(&self) -> &Coordinator {
        &self.model
    }

    fn at(&mut self, t: Time, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, ev)));
    }

    /// When a transaction sent at `t` is in a block.
    fn included(&self, t: Time) -> Time {
        let block = us(self.sc.timing.block_secs);
        if block == 0 {
            t
        } else {
            t.div_ceil(block) * block
        }
    }

    fn chain_secs(&self) -> u64 {
        self.now / 1_000_000
    }

    fn net(&self) -> Time {
        us(self.sc.timing.network_secs)
    }

    fn warp(&mut self) {
        let now = self.chain_secs();
        if let Some(t) = self.trace.as_mut() {
            t.warp(now);
        }
    }

    fn check_prover(&mut self, a: Account) {
        let p = self.model.prover(a);
        if let Some(t) = self.trace.as_mut() {
            t.check_prover(a, &p);
        }
    }

    /// Runs to the end and reports.
    pub fn run(mut self) -> (Outcome, Self) {
        let started = Instant::now();
        self.setup();
        let limit = us(self.sc.max_secs);
        while let Some(Reverse((t, _, ev))) = self.queue.pop() {
            if t > limit {
                break;
            }
            self.now = t;
            self.out.events += 1;
            self.handle(ev);
            if self.done() {
                break;
            }
        }
        self.finish();
        self.out.wall_secs = started.elapsed().as_secs_f64();
        (self.out.clone(), self)
    }

    fn done(&self) -> bool {
        self.out.finished
            || (self.cancelled
                && self.now >= self.cancel_end
                && self.sources.len() == self.sc.batches as usize
                && self.sources.iter().all(|s| s.done || s.cancelled))
    }

    // The source, level and top-ness of a job.
    fn node(&self, job: JobId) -> Option<(usize, u8, bool)> {
        let s = self
            .sources
            .partition_point(|s| s.first_job <= job)
            .checked_sub(1)?;
        let offset = job - self.sources[s].first_job;
        if offset >= self.source_jobs {
            return None;
        }
        let level = self.level_starts.partition_point(|&at| at <= offset) - 1;
        let top = self.sc.aggregation && level + 1 == self.level_starts.len();
        Some((s, level as u8, top))
    }

    fn level(&self, job: JobId) -> u8 {
        self.node(job).map_or(0, |n| n.1)
    }

    fn setup(&mut self) {
        let e = self.sc.economics;
        let groups = self.sc.provers.clone();
        for (gi, g) in groups.iter().enumerate() {
            for _ in 0..g.count {
                let account = self.provers.len() as Account + 1;
                let bond = u128::from(e.bond_per_lease) * u128::from(g.bond_leases);
                self.model.stake(account, bond);
                if let Some(t) = self.trace.as_mut() {
                    t.stake(account, bond);
                }
                let p = self.provers.len() as u32;
                self.provers.push(ProverState {
                    group: gi as u32,
                    job_secs: g.hardware.job_secs(),
                    cv: g.cv,
                    fault: g.fault.map(|f| f.kind),
                    struck: false,
                    alive: false,
                    token: 0,
                    work: None,
                    ahead: None,
                });
                self.at(us(g.join_secs), Ev::Join { p });
            }
            if let Some(f) = g.fault {
                match f.strike {
                    Strike::Start => self.at(0, Ev::Strike { group: gi as u32 }),
                    Strike::AtSecs(s) => self.at(us(s), Ev::Strike { group: gi as u32 }),
                    Strike::FreshLeased(frac) => self.strike_pending.push((gi as u32, frac)),
                }
            }
        }
        self.out.honest_provers = groups
            .iter()
            .filter(|g| g.fault.is_none())
            .map(|g| u64::from(g.count))
            .sum();
        self.post();
        for k in 1..self.sc.batches {
            let t = self.included(us(f64::from(k) * self.sc.batch_interval_secs));
            self.at(t, Ev::PostTx);
        }
        self.check_fresh_strikes();
        if let Some(c) = self.sc.cancel_at_secs {
            self.at(us(c), Ev::Cancel);
        }
    }

    // The relayer posts the next source batch: its whole tree with aggregation, else each
    // round-0 job as a tree of its own (a one-job batch, finalized by its proof).
    fn post(&mut self) {
        self.warp();
        let reward = u128::from(self.sc.economics.reward);
        let (count, leaves) = if self.sc.aggregation {
            (1, self.sc.jobs)
        } else {
            (self.sc.jobs, 1)
        };
        let mut batches = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let id = self
                .model
                .post_batch(leaves, reward)
                .expect("the simulator posts only batches with leaves");
            let b = self.model.batch(id).expect("just posted");
            self.out.jobs_posted += u64::from(b.job_count);
            if let Some(t) = self.trace.as_mut() {
                t.post(leaves, reward, id);
                t.check_batch(id, b);
            }
            batches.push(id);
        }
        let first_job = self.model.batch(batches[0]).expect("posted").first_job;
        self.sources.push(Source {
            first_job,
            batches,
            leaves_left: self.sc.jobs.into(),
            done: false,
            cancelled: false,
        });
        if let Some(t) = self.trace.as_mut() {
            t.check_queue(self.model.queue());
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Join { p } => {
                self.provers[p as usize].alive = true;
                self.wake_now(p);
            }
            Ev::Leave { p } => {
                // A prover that leaves (unlike one that crashes) gives back what it held.
                let s = &self.provers[p as usize];
                let held: Vec<RequestId> = s
                    .work
                    .map(|w| w.rid)
                    .into_iter()
                    .chain(s.ahead.map(|a| a.0))
                    .collect();
                self.abandon(p);
                for rid in held {
                    self.release(p, rid);
                }
                self.provers[p as usize].alive = false;
                let back = self.now + us(self.sc.timing.offline_secs);
                self.at(back, Ev::Join { p });
            }
            Ev::Strike { group } => self.strike(group),
            // A prover that has a job to prove by now (handed over with a verdict) asks for
            // its next one when it has proved it.
            Ev::Wake { p, token } => {
                if self.current(p, token) && self.provers[p as usize].work.is_none() {
                    let t = self.included(self.now + self.net());
                    self.at(t, Ev::LeaseTx { p, token });
                }
            }
            Ev::LeaseTx { p, token } => {
                if self.current(p, token) {
                    self.lease_tx(p, token);
                }
            }
            Ev::LeaseAheadTx { p, token } => {
                if self.current(p, token) {
                    self.lease_ahead_tx(p);
                }
            }
            Ev::Resume { p, token } => {
                if self.current(p, token) {
                    self.next_job(p);
                }
            }
            Ev::Proved { p, token } => {
                if self.current(p, token) {
                    let w = self.provers[p as usize].work.take().expect("proving");
                    self.unwork(w.job, p);
                    self.out.compute_secs += w.compute;
                    // With no job leased ahead it wants its next one: the submission asks for
                    // it (`submitAndLease`), as the client does.
                    // zkSync's provers have no such call: the timeout baseline submits and
                    // leases apart.
                    let chained = self.provers[p as usize].ahead.is_none()
                        && !matches!(self.sc.policy, Policy::Timeout { .. });
                    self.send_submission(p, w.rid, w.job, w.compute, Verdict::Valid, chained);
                    if !chained {
                        self.next_job(p);
                    }
                }
            }
            Ev::SubmitTx { p, idx } => self.submit_tx(p, idx),
            Ev::VerdictTx { idx } => self.verdict_tx(idx),
            Ev::PostTx => self.post(),
            Ev::Cancel => self.cancel(),
            Ev::Sweep => self.sweep(),
        }
    }

    fn current(&self, p: u32, token: u32) -> bool {
        let s = &self.provers[p as usize];
        s.alive && s.token == token
    }

    fn wake_now(&mut self, p: u32) {
        self.wake_at(p, self.now);
    }

    fn wake_at(&mut self, p: u32, t: Time) {
        let token = self.provers[p as usize].token;
        self.at(t, Ev::Wake { p, token });
    }

    fn acting(&self, p: u32) -> Option<FaultKind> {
        let s = &self.provers[p as usize];
        if s.struck { s.fault } else { None }
    }

    fn lease_tx(&mut self, p: u32, token: u32) {
        let account = p + 1;
        let fault = self.acting(p);
        let n = if matches!(fault, Some(FaultKind::Hoarder | FaultKind::HoardOnce)) {
            (self.model.lease_cap(account) as u32).clamp(1, MAX_LEASES_PER_CALL)
        } else {
            1
        };
        let result = self.lease(account, n);
        let seen = self.now + self.net();
        // Jitter, as real clients have: identical periods would put the same provers first in
        // every block forever.
        let poll = us(self.sc.timing.poll_secs * (0.5 + self.rng.uniform()));
        let got = match result {
            Ok(got) => got,
            Err(LeaseError::CapReached { cap: 0, .. }) if fault.is_some() => {
                // Slashed below the minimum bond: a cheater that cannot lease stops.
                return;
            }
            Err(_) => {
                self.at(seen + poll, Ev::Wake { p, token });
                return;
            }
        };
        if let Some(prev) = got.iter().find_map(|l| l.previous) {
            self.check_prover(prev);
        }
        for l in &got {
            if self.level(l.job) == 0 && l.previous.is_none() {
                self.round0_fresh_leased += 1;
            }
        }
        self.check_fresh_strikes();
        let timing = self.sc.timing;
        match fault {
            Some(FaultKind::Hoarder) => self.at(seen + poll, Ev::Wake { p, token }),
            Some(FaultKind::HoardOnce) => self.provers[p as usize].alive = false,
            Some(FaultKind::Invalid | FaultKind::Withholder) => {
                let result = if fault == Some(FaultKind::Invalid) {
                    Verdict::Invalid
                } else {
                    Verdict::Missing
                };
                for l in got {
                    let at = seen + us(timing.cheat_secs);
                    let idx = self.submissions.len() as u32;
                    self.submissions.push(Submission {
                        p,
                        rid: l.request,
                        job: l.job,
                        compute: 0.0,
                        result,
                        chained: false,
                    });
                    let t = self.included(at + self.net());
                    self.at(t, Ev::SubmitTx { p, idx });
                }
                self.at(seen + us(timing.cheat_secs), Ev::Wake { p, token });
            }
            _ => {
                let l = got[0];
                let ready = seen + us(timing.fetch_secs);
                let st = &self.provers[p as usize];
                if st.work.is_none() {
                    self.start_work(p, l.request, l.job, ready);
                } else if st.ahead.is_none() {
                    // A job leased ahead started meanwhile: this one waits its turn.
                    self.provers[p as usize].ahead = Some((l.request, l.job, ready));
                    self.workers.entry(l.job).or_default().push(p);
                }
            }
        }
    }

    // Proves `job` from `start` (its witness fetched); asks for the next job meanwhile.
    fn start_work(&mut self, p: u32, rid: RequestId, job: JobId, start: Time) {
        let timing = self.sc.timing;
        let level = self.level(job);
        let s = &self.provers[p as usize];
        let token = s.token;
        let mut secs = self.rng.lognormal(s.job_secs, s.cv);
        if level > 0 {
            secs *= timing.aggregation_factor;
        }
        if self.acting(p) == Some(FaultKind::Slow) {
            secs *= timing.slow_factor;
        }
        let compute = timing.job_overhead_secs + secs;
        let done = start + us(compute) + us(timing.upload_secs);
        self.provers[p as usize].work = Some(Work {
            rid,
            job,
            start,
            compute,
        });
        self.workers.entry(job).or_default().push(p);
        self.at(done, Ev::Proved { p, token });
        if timing.lease_ahead
            && self.model.queue().0 > 0
            && self.provers[p as usize].ahead.is_none()
        {
            // The prover expects its mean time; it cannot know this job's draw.
            let sent = match timing.prefetch_lead_secs {
                None => self.now,
                Some(lead) => {
                    let mut expected = self.provers[p as usize].job_secs;
                    if level > 0 {
                        expected *= timing.aggregation_factor;
                    }
                    let expected = timing.job_overhead_secs + expected + timing.upload_secs;
                    self.now.max(start + us((expected - lead).max(0.0)))
                }
            };
            let t = self.included(sent + self.net());
            self.at(t, Ev::LeaseAheadTx { p, token });
        }
    }

    fn lease_ahead_tx(&mut self, p: u32) {
        let account = p + 1;
        // Sent just in time, it is sent only while fresh jobs remain then (as the client
        // checks): a busy prover should not take over another prover's pending job.
        if self.sc.timing.prefetch_lead_secs.is_some()
            && (self.model.queue().0 == 0 || self.provers[p as usize].ahead.is_some())
        {
            return;
        }
        let result = self.lease(account, 1);
        // Refused (cap, nothing fresh): the prover asks again when it finishes.
        if let Ok(got) = result {
            let l = got[0];
            if let Some(prev) = l.previous {
                self.check_prover(prev);
            }
            if self.level(l.job) == 0 && l.previous.is_none() {
                self.round0_fresh_leased += 1;
            }
            self.check_fresh_strikes();
            let ready = self.now + self.net() + us(self.sc.timing.fetch_secs);
            if self.provers[p as usize].work.is_none() {
                // It finished (or dropped) its job before this lease landed.
                self.start_work(p, l.request, l.job, ready);
            } else {
                self.provers[p as usize].ahead = Some((l.request, l.job, ready));
                self.workers.entry(l.job).or_default().push(p);
            }
        }
    }

    // `leaseMany(n)` on the chain now, recorded; notes which rules it reached.
    fn lease(&mut self, account: Account, n: u32) -> Result<Vec<crate::model::Leased>, LeaseError> {
        self.warp();
        let now_s = self.chain_secs();
        let leaves_fresh = self.model.leaves_head() != 0;
        let result = self.model.lease(account, n, now_s);
        if let Some(t) = self.trace.as_mut() {
            t.lease(account, n, &result);
            t.check_queue(self.model.queue());
        }
        if let Err(LeaseError::ClearedOnly) = result {
            self.coverage.cleared_only += 1;
        }
        if let Ok(got) = &result {
            // Under the contract's rules, with fresh leaves a pending job is taken only as a
            // stale one, and a node only as one of a tree older than every tree with fresh
            // leaves.
            let first = got[0];
            if leaves_fresh && first.previous.is_some() {
                self.coverage.stale_takeovers += 1;
                if self.node(first.job).is_some_and(|n| n.2) {
                    self.coverage.stale_top_takeovers += 1;
                }
            }
            if leaves_fresh && first.previous.is_none() && self.level(first.job) > 0 {
                self.coverage.older_nodes_first += 1;
            }
        }
        result
    }

    // After a proof (or a dropped job): the job leased ahead, else a new lease.
    fn next_job(&mut self, p: u32) {
        match self.provers[p as usize].ahead.take() {
            Some((rid, job, ready)) => {
                self.unwork(job, p);
                self.start_work(p, rid, job, ready.max(self.now));
            }
            None => self.wake_now(p),
        }
    }

    fn send_submission(
        &mut self,
        p: u32,
        rid: RequestId,
        job: JobId,
        compute: f64,
        result: Verdict,
        chained: bool,
    ) {
        let idx = self.submissions.len() as u32;
        self.submissions.push(Submission {
            p,
            rid,
            job,
            compute,
            result,
            chained,
        });
        let t = self.included(self.now + self.net());
        self.at(t, Ev::SubmitTx { p, idx });
    }

    fn submit_tx(&mut self, p: u32, idx: u32) {
        let s = self.submissions[idx as usize];
        let account = p + 1;
        self.warp();
        let now_s = self.chain_secs();
        let r = if s.chained {
            let r = self.model.submit_and_lease(account, s.rid, now_s);
            if let Some(t) = self.trace.as_mut() {
                t.submit_and_lease(account, s.rid, r);
                t.check_queue(self.model.queue());
            }
            self.took_chained(p, r);
            r.map(|_| ())
        } else {
            let r = self.model.submit(account, s.rid, now_s);
            if let Some(t) = self.trace.as_mut() {
                t.submit(account, s.rid, r);
            }
            r
        };
        self.check_prover(account);
        match r {
            Ok(()) => {}
            Err(SubmitError::CapReached) => {
                self.out.refused_late += 1;
                return;
            }
            Err(_) => {
                if s.result == Verdict::Valid {
                    self.out.duplicate_proofs += 1;
                }
                return;
            }
        }
        let timing = self.sc.timing;
        let at = match s.result {
            Verdict::Missing => {
                let deadline = (now_s + self.sc.economics.upload_deadline) * 1_000_000;
                deadline.max(self.now + self.net())
            }
            _ => self.now + self.net() + us(timing.verify_secs),
        };
        let t = self.included(at);
        self.at(t, Ev::VerdictTx { idx });
    }

    // What a `submitAndLease` leased for prover `p`: a job to prove next; none, and it asks
    // `lease` at once, as the client's leaser does (an LRP job or a spare, for an idle
    // prover; if that finds nothing, the node its proof readies may come with the verdict).
    fn took_chained(&mut self, p: u32, r: Result<Option<crate::model::Leased>, SubmitError>) {
        match r {
            Ok(Some(l)) => {
                if self.level(l.job) == 0 {
                    self.round0_fresh_leased += 1;
                }
                self.check_fresh_strikes();
                self.take_in_hand(p, l.request, l.job);
            }
            _ => {
                if self.provers[p as usize].alive {
                    self.wake_at(p, self.now + self.net());
                }
            }
        }
    }

    // A lease that came with a transaction the prover did not send for it (riding on its
    // submission, or handed over with a verdict): proved next, or after the job in hand.
    fn take_in_hand(&mut self, p: u32, rid: RequestId, job: JobId) {
        let s = &self.provers[p as usize];
        if !s.alive {
            return;
        }
        let ready = self.now + self.net() + us(self.sc.timing.fetch_secs);
        if s.work.is_none() {
            self.start_work(p, rid, job, ready);
        } else if s.ahead.is_none() {
            self.provers[p as usize].ahead = Some((rid, job, ready));
            self.workers.entry(job).or_default().push(p);
        }
    }

    fn verdict_tx(&mut self, idx: u32) {
        let s = self.submissions[idx as usize];
        let account = s.p + 1;
        self.warp();
        let now_s = self.chain_secs();
        let outcome = self.model.verdict(s.rid, account, s.result, now_s);
        if let Some(t) = self.trace.as_mut() {
            t.verdict(s.rid, s.job, account, s.result);
        }
        self.check_prover(account);
        let status = self.model.job_status(s.job);
        if let Some(t) = self.trace.as_mut() {
            t.check_job(s.job, status);
        }
        if let VerdictOutcome::Judged {
            completed: true, ..
        } = outcome
        {
            self.check_tree(s.job);
        }
        match outcome {
            VerdictOutcome::Judged {
                completed: true,
                paid,
                ..
            } => {
                self.out.useful_secs += s.compute;
                if self.provers[s.p as usize].fault.is_some() {
                    self.out.paid_to_faulty += paid;
                } else {
                    self.out.honest_jobs += 1;
                }
                self.completed(s.job);
            }
            VerdictOutcome::Judged {
                completed: false, ..
            } if s.result == Verdict::Valid => {
                self.out.duplicate_proofs += 1;
            }
            _ => {}
        }
        if let VerdictOutcome::Judged {
            handed: Some(l), ..
        } = outcome
        {
            self.take_in_hand(s.p, l.request, l.job);
        }
    }

    fn completed(&mut self, job: JobId) {
        // Provers still proving it, or holding it leased ahead, learn from the chain's event
        // and drop it.
        if let Some(ws) = self.workers.remove(&job) {
            let seen = self.now + self.net();
            for p in ws {
                let s = &mut self.provers[p as usize];
                if s.ahead.is_some_and(|a| a.1 == job) {
                    s.ahead = None;
                }
                if let Some(w) = s.work.filter(|w| w.job == job) {
                    let spent = seen.saturating_sub(w.start) as f64 / US;
                    self.out.compute_secs += spent.min(w.compute);
                    s.work = None;
                    s.token += 1;
                    let token = s.token;
                    self.at(seen, Ev::Resume { p, token });
                }
            }
        }
        let Some((src, level, top)) = self.node(job) else {
            return;
        };
        let source = &mut self.sources[src];
        if level == 0 {
            source.leaves_left -= 1;
            self.round0_left -= 1;
            if self.round0_left == 0 {
                self.out.round0_secs = self.now as f64 / US;
            }
        }
        // Without aggregation a source is done with its last leaf.
        let done = top || (!self.sc.aggregation && source.leaves_left == 0);
        if done {
            source.done = true;
            self.sources_done += 1;
            if self.sources_done == self.sc.batches {
                self.out.finished = true;
                self.out.makespan_secs = self.now as f64 / US;
            }
        }
    }

    // After a verdict completed `job`: its parent (one more child done, or fresh now) and its
    // batch, recorded for the replay; notes a single-child node made fresh.
    fn check_tree(&mut self, job: JobId) {
        if self.trace.is_none() {
            return;
        }
        let batch = self.model.job_batch(job);
        let b = self.model.batch(batch).expect("a job's batch").clone();
        if let Some((parent, children)) = parent_of(job - b.first_job, b.leaf_count.into()) {
            let parent = b.first_job + parent;
            let status = self.model.job_status(parent);
            if status == JobStatus::Fresh && children == 1 {
                self.coverage.single_child_readied += 1;
            }
            if let Some(t) = self.trace.as_mut() {
                t.check_job(parent, status);
            }
        }
        if let Some(t) = self.trace.as_mut() {
            t.check_batch(batch, &b);
            t.check_queue(self.model.queue());
        }
    }

    fn unwork(&mut self, job: JobId, p: u32) {
        if let Some(ws) = self.workers.get_mut(&job) {
            ws.retain(|&x| x != p);
            if ws.is_empty() {
                self.workers.remove(&job);
            }
        }
    }

    // `releaseLease` on the chain now, recorded.
    fn release(&mut self, p: u32, rid: RequestId) {
        let account = p + 1;
        self.warp();
        let r = self.model.release(account, rid);
        if let Some(t) = self.trace.as_mut() {
            t.release(account, rid, r);
            t.check_queue(self.model.queue());
        }
        self.check_prover(account);
    }

    // The prover drops what it is proving (crash, leave, turning bad).
    fn abandon(&mut self, p: u32) {
        let now = self.now;
        let s = &mut self.provers[p as usize];
        s.token += 1;
        let ahead = s.ahead.take();
        if let Some(w) = s.work.take() {
            let spent = now.saturating_sub(w.start) as f64 / US;
            self.out.compute_secs += spent.min(w.compute);
            self.unwork(w.job, p);
        }
        if let Some((_, job, _)) = ahead {
            self.unwork(job, p);
        }
    }

    fn strike(&mut self, group: u32) {
        let members: Vec<u32> = (0..self.provers.len() as u32)
            .filter(|&p| self.provers[p as usize].group == group)
            .collect();
        for p in members {
            let kind = self.provers[p as usize].fault.expect("faulty group");
            self.provers[p as usize].struck = true;
            match kind {
                FaultKind::Crash => {
                    self.abandon(p);
                    self.provers[p as usize].alive = false;
                }
                FaultKind::Churn => self.at(self.now, Ev::Leave { p }),
                FaultKind::Hoarder
                | FaultKind::HoardOnce
                | FaultKind::Invalid
                | FaultKind::Withholder => {
                    if self.provers[p as usize].alive {
                        self.abandon(p);
                        self.wake_now(p);
                    }
                }
                FaultKind::Slow => {}
            }
        }
    }

    fn check_fresh_strikes(&mut self) {
        if self.strike_pending.is_empty() {
            return;
        }
        let leaves = f64::from(self.sc.jobs) * f64::from(self.sc.batches);
        let leased = self.round0_fresh_leased as f64 / leaves;
        let due: Vec<u32> = self
            .strike_pending
            .iter()
            .filter(|(_, f)| leased >= *f)
            .map(|(g, _)| *g)
            .collect();
        self.strike_pending.retain(|(_, f)| leased < *f);
        for g in due {
            self.at(self.now, Ev::Strike { group: g });
        }
    }

    fn cancel(&mut self) {
        if self.out.finished {
            return;
        }
        self.cancelled = true;
        self.warp();
        // Every source posted so far that is not proven yet, the latest first.
        for src in (0..self.sources.len()).rev() {
            if self.sources[src].done {
                continue;
            }
            for k in (0..self.sources[src].batches.len()).rev() {
                let id = self.sources[src].batches[k];
                let mid_tree = self
                    .model
                    .batch(id)
                    .is_some_and(|b| b.jobs_left < b.job_count && b.job_count > 1);
                if self.model.cancel_batch(id).is_ok() {
                    self.sources[src].cancelled = true;
                    if mid_tree {
                        self.coverage.cancelled_mid_tree += 1;
                    }
                    if let Some(t) = self.trace.as_mut() {
                        t.cancel(id);
                        t.check_batch(id, self.model.batch(id).expect("cancelled"));
                    }
                }
            }
        }
        if let Some(t) = self.trace.as_mut() {
            t.check_queue(self.model.queue());
        }
        // Provers keep asking for work for a while: their leases meet the cancelled jobs.
        self.cancel_end = self.now + 2 * us(self.sc.timing.poll_secs) + us(1.0);
        let t = self.included(self.cancel_end);
        self.at(t, Ev::Sweep);
    }

    // The relayer clears the cancelled jobs still pending (`clearCancelled`): a lease clears
    // at most MAX_CLEAR_PER_LEASE of them at the pending list's head, and reverts (undoing
    // them) when it finds no live job, so more of them would block every reassignment.
    fn sweep(&mut self) {
        let jobs: Vec<JobId> = self
            .sources
            .iter()
            .filter(|s| s.cancelled)
            .flat_map(|s| s.first_job..s.first_job + self.source_jobs)
            .filter(|&j| {
                self.model.job_status(j) == JobStatus::Pending
                    && self
                        .model
                        .batch(self.model.job_batch(j))
                        .is_some_and(|b| b.cancelled)
            })
            .collect();
        if jobs.is_empty() {
            return;
        }
        self.warp();
        for chunk in jobs.chunks(crate::model::MAX_CLEAR_PER_CALL) {
            self.model
                .clear_cancelled(chunk)
                .expect("at most MAX_CLEAR_PER_CALL ids");
            if let Some(t) = self.trace.as_mut() {
                t.clear_cancelled(chunk);
            }
        }
        if let Some(t) = self.trace.as_mut() {
            t.check_queue(self.model.queue());
        }
    }

    fn finish(&mut self) {
        let totals = self.model.totals();
        self.out.jobs_completed = totals.completed;
        self.out.reassignments = totals.reassignments;
        self.out.paid = totals.paid;
        self.out.slashed = totals.slashed;
        let max_attempts = self.model.params().max_attempts;
        if !self.out.finished {
            self.out.makespan_secs = self.now as f64 / US;
            if self.out.round0_secs == 0.0 {
                self.out.round0_secs = self.out.makespan_secs;
            }
            self.out.jobs_failed = (1..=self.out.jobs_posted)
                .filter(|&j| {
                    self.model.job_status(j) == JobStatus::Pending
                        && self
                            .model
                            .latest_request(j)
                            .is_some_and(|r| r.attempt() >= max_attempts)
                })
                .count() as u64;
        }
        if self.trace.is_some() {
            for a in 1..=self.provers.len() as Account {
                self.check_prover(a);
            }
            // Every batch and every job as the run left them: Waiting nodes of a cancelled
            // tree, fresh nodes dropped (Cleared) or still listed, fresh leaves.
            for id in 1..=self.model.batch_count() {
                let b = self.model.batch(id).expect("posted").clone();
                if let Some(t) = self.trace.as_mut() {
                    t.check_batch(id, &b);
                }
            }
            for job in 1..=self.out.jobs_posted {
                let status = self.model.job_status(job);
                if let Some(t) = self.trace.as_mut() {
                    t.check_job(job, status);
                }
            }
            let q = self.model.queue();
            if let Some(t) = self.trace.as_mut() {
                t.check_queue(q);
            }
        }
    }
}

/// Runs a scenario.
pub fn run(sc: Scenario) -> Outcome {
    Sim::new(sc).run().0
}
