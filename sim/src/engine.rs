//! The discrete-event engine: provers lease, prove and submit through the model of the
//! contract; the relayer verifies, records verdicts and posts the aggregation tree level by
//! level as children complete; faults strike when the scenario says.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use rustc_hash::FxHashMap;

use crowdprove_protocol::TreeShape;

use crate::model::{
    Account, BatchId, CONTRACT_MAX_ATTEMPTS, Coordinator, JobId, LeaseError, MAX_LEASES_PER_CALL,
    Params, RequestId, Rules, Verdict, VerdictOutcome,
};
use crate::rng::Rng;
use crate::scenario::{FaultKind, Policy, Scenario, Strike};
use crate::trace::Trace;

/// Simulated time in microseconds.
type Time = u64;

const US: f64 = 1e6;

fn us(secs: f64) -> Time {
    (secs * US).round() as Time
}

/// What a run measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The whole tree (or every round-0 job, without aggregation) proven.
    pub finished: bool,
    /// Seconds until the last job completed (the top of the tree with aggregation).
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
    RelayerTick,
    PostTx { idx: u32 },
    Strike { group: u32 },
    Leave { p: u32 },
    Join { p: u32 },
    Cancel,
}

/// A submission in flight: who, which lease, how much compute it took, whether it verifies.
#[derive(Clone, Copy, Debug)]
struct Submission {
    p: u32,
    rid: RequestId,
    job: JobId,
    compute: f64,
    result: Verdict,
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

/// Where a job sits in the tree.
#[derive(Clone, Copy, Debug)]
struct Node {
    level: u8,
    index: u32,
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
    posts: Vec<(u8, Vec<u32>)>,
    nodes: FxHashMap<JobId, Node>,
    workers: FxHashMap<JobId, Vec<u32>>,
    level_sizes: Vec<u32>,
    proven: Vec<Vec<bool>>,
    ready: Vec<Vec<u32>>,
    tick_scheduled: bool,
    round0_batch: BatchId,
    batches: Vec<BatchId>,
    round0_left: u64,
    strike_pending: Vec<(u32, f64)>,
    round0_fresh_leased: u64,
    cancelled: bool,
    cancel_end: Time,
    trace: Option<Trace>,
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
        // The tree's shape is the protocol's: one job per chunk, then halving up to the top.
        let level_sizes: Vec<u32> = match TreeShape::new(sc.jobs) {
            Some(t) if sc.aggregation => (0..=t.height()).map(|l| t.nodes_at(l)).collect(),
            _ => vec![sc.jobs],
        };
        let proven = level_sizes
            .iter()
            .map(|&n| vec![false; n as usize])
            .collect();
        let ready = vec![Vec::new(); level_sizes.len()];
        Sim {
            rng: Rng::new(sc.seed),
            model: Coordinator::new(params),
            queue: BinaryHeap::new(),
            seq: 0,
            now: 0,
            provers: Vec::new(),
            submissions: Vec::new(),
            posts: Vec::new(),
            nodes: FxHashMap::default(),
            workers: FxHashMap::default(),
            level_sizes,
            proven,
            ready,
            tick_scheduled: false,
            round0_batch: 0,
            batches: Vec::new(),
            round0_left: u64::from(sc.jobs),
            strike_pending: Vec::new(),
            round0_fresh_leased: 0,
            cancelled: false,
            cancel_end: 0,
            trace: None,
            out: Outcome::default(),
            sc,
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
        self.out.finished || (self.cancelled && self.now >= self.cancel_end)
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
        let jobs = self.sc.jobs;
        self.warp();
        let id = self.post(jobs, 0, (0..jobs).collect());
        self.round0_batch = id;
        self.check_fresh_strikes();
        if let Some(c) = self.sc.cancel_at_secs {
            self.at(us(c), Ev::Cancel);
        }
    }

    fn post(&mut self, count: u32, level: u8, indices: Vec<u32>) -> BatchId {
        let reward = u128::from(self.sc.economics.reward);
        let parent = if level == 0 { 0 } else { self.round0_batch };
        let id = self
            .model
            .post_batch(count, reward, level > 0, level, parent)
            .expect("the simulator posts only well-shaped batches");
        if let Some(t) = self.trace.as_mut() {
            t.post(count, reward, level > 0, level, parent, id);
        }
        let first = self.model.batch(id).expect("just posted").first_job;
        for (k, index) in indices.into_iter().enumerate() {
            self.nodes.insert(first + k as u64, Node { level, index });
        }
        self.batches.push(id);
        self.out.jobs_posted += u64::from(count);
        id
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Join { p } => {
                self.provers[p as usize].alive = true;
                self.wake_now(p);
            }
            Ev::Leave { p } => {
                self.abandon(p);
                self.provers[p as usize].alive = false;
                let back = self.now + us(self.sc.timing.offline_secs);
                self.at(back, Ev::Join { p });
            }
            Ev::Strike { group } => self.strike(group),
            Ev::Wake { p, token } => {
                if self.current(p, token) {
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
                    self.send_submission(p, w.rid, w.job, w.compute, Verdict::Valid);
                    self.next_job(p);
                }
            }
            Ev::SubmitTx { p, idx } => self.submit_tx(p, idx),
            Ev::VerdictTx { idx } => self.verdict_tx(idx),
            Ev::RelayerTick => self.relayer_tick(),
            Ev::PostTx { idx } => {
                let (level, indices) = std::mem::take(&mut self.posts[idx as usize]);
                if !self.cancelled {
                    self.warp();
                    self.post(indices.len() as u32, level, indices);
                }
            }
            Ev::Cancel => self.cancel(),
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
        self.warp();
        let now_s = self.chain_secs();
        let result = self.model.lease(account, n, now_s);
        if let Some(t) = self.trace.as_mut() {
            t.lease(account, n, &result);
            let q = self.model.queue();
            t.check_queue(q);
        }
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
            if self.nodes.get(&l.job).is_some_and(|n| n.level == 0) && l.previous.is_none() {
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
        let level = self.nodes.get(&job).map_or(0, |n| n.level);
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
        self.warp();
        let now_s = self.chain_secs();
        let result = self.model.lease(account, 1, now_s);
        if let Some(t) = self.trace.as_mut() {
            t.lease(account, 1, &result);
            let q = self.model.queue();
            t.check_queue(q);
        }
        // Refused (cap, nothing fresh): the prover asks again when it finishes.
        if let Ok(got) = result {
            let l = got[0];
            if let Some(prev) = l.previous {
                self.check_prover(prev);
            }
            if self.nodes.get(&l.job).is_some_and(|n| n.level == 0) && l.previous.is_none() {
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
    ) {
        let idx = self.submissions.len() as u32;
        self.submissions.push(Submission {
            p,
            rid,
            job,
            compute,
            result,
        });
        let t = self.included(self.now + self.net());
        self.at(t, Ev::SubmitTx { p, idx });
    }

    fn submit_tx(&mut self, p: u32, idx: u32) {
        let s = self.submissions[idx as usize];
        let account = p + 1;
        self.warp();
        let now_s = self.chain_secs();
        let r = self.model.submit(account, s.rid, now_s);
        if let Some(t) = self.trace.as_mut() {
            t.submit(account, s.rid, r);
        }
        self.check_prover(account);
        if r.is_err() {
            if s.result == Verdict::Valid {
                self.out.duplicate_proofs += 1;
            }
            return;
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

    fn verdict_tx(&mut self, idx: u32) {
        let s = self.submissions[idx as usize];
        let account = s.p + 1;
        self.warp();
        let now_s = self.chain_secs();
        let outcome = self.model.verdict(s.rid, s.job, account, s.result, now_s);
        if let Some(t) = self.trace.as_mut() {
            t.verdict(s.rid, s.job, account, s.result);
        }
        self.check_prover(account);
        let status = self.model.job_status(s.job);
        if let Some(t) = self.trace.as_mut() {
            t.check_job(s.job, status);
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
        let Some(&Node { level, index }) = self.nodes.get(&job) else {
            return;
        };
        let top = self.level_sizes.len() as u8 - 1;
        if level == 0 {
            self.round0_left -= 1;
            if self.round0_left == 0 {
                self.out.round0_secs = self.now as f64 / US;
                if top == 0 {
                    self.out.finished = true;
                    self.out.makespan_secs = self.out.round0_secs;
                    return;
                }
            }
        }
        if top == 0 {
            return;
        }
        if level == top {
            self.out.finished = true;
            self.out.makespan_secs = self.now as f64 / US;
            return;
        }
        let l = level as usize;
        self.proven[l][index as usize] = true;
        let parent = index / 2;
        let left = parent * 2;
        let right = left + 1;
        let has_right = right < self.level_sizes[l];
        if self.proven[l][left as usize] && (!has_right || self.proven[l][right as usize]) {
            if self.sc.ready_on_chain {
                // Fresh in the verdict's own transaction: the contract holds the whole tree.
                self.post(1, level + 1, vec![parent]);
                return;
            }
            self.ready[l + 1].push(parent);
            if !self.tick_scheduled {
                self.tick_scheduled = true;
                let poll = us(self.sc.timing.relayer_poll_secs);
                let t = self.now + self.net() + poll;
                self.at(t, Ev::RelayerTick);
            }
        }
    }

    fn relayer_tick(&mut self) {
        self.tick_scheduled = false;
        for level in 1..self.ready.len() {
            if self.ready[level].is_empty() {
                continue;
            }
            let mut nodes = std::mem::take(&mut self.ready[level]);
            nodes.sort_unstable();
            let idx = self.posts.len() as u32;
            self.posts.push((level as u8, nodes));
            let t = self.included(self.now + self.net());
            self.at(t, Ev::PostTx { idx });
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
        let leased = self.round0_fresh_leased as f64 / f64::from(self.sc.jobs);
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
        for id in self.batches.clone().into_iter().rev() {
            if self.model.cancel_batch(id).is_ok() {
                if let Some(t) = self.trace.as_mut() {
                    t.cancel(id);
                }
            }
        }
        // Provers keep asking for work for a while: their leases meet the cancelled jobs.
        self.cancel_end = self.now + 2 * us(self.sc.timing.poll_secs) + us(1.0);
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
            self.out.jobs_failed = self
                .nodes
                .keys()
                .filter(|&&j| {
                    self.model.job_status(j) == crate::model::JobStatus::Pending
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
