//! What the pipeline's three stages share: the counts a run reports, the circuit breaker, the
//! clock behind the duty cycle, and the signals that wake a stage when another one moved.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Why something went wrong, which decides what the client does about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// This client cannot produce what the chain accepts (its own proof does not verify, a
    /// proof it submitted was judged invalid, its circuits are not the batch's): a bug or a
    /// misconfiguration that waiting does not cure. Leasing stops for good.
    Own(String),
    /// A job could not be finished for a reason outside the client (the relayer served a witness
    /// the chain did not commit to, a proof was judged Missing): counted, and enough of them in a
    /// row pause leasing for the cool-down.
    Job(String),
}

/// The circuit breaker: consecutive job failures pause leasing for a cool-down; an own failure
/// stops it for good.
#[derive(Debug, Default)]
pub struct Breaker {
    consecutive: Vec<String>,
    tripped_at: Option<Instant>,
    reason: Option<String>,
    permanent: bool,
}

/// The counts of a run.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// Leases taken.
    pub leased: u64,
    /// Proofs submitted and uploaded.
    pub delivered: u64,
    /// Jobs dropped because another prover completed them first (or the lease was lost).
    pub dropped: u64,
    /// Jobs refused (bad witness, leaf or circuit id).
    pub refused: u64,
    /// Proofs judged valid so far.
    pub valid: u64,
    /// Leased jobs not yet proven: being fetched, ready, or in the worker.
    pub in_hand: usize,
    /// Proofs with the deliverer, not yet delivered or given up.
    pub delivering: usize,
    /// Leases riding on a submission on its way (`submitAndLease`), not yet in hand.
    pub riding: usize,
    /// Proofs delivered whose verdict is not yet on-chain.
    pub awaiting_verdict: usize,
    /// The job in the worker and since when.
    pub proving: Option<(u64, u8, Instant)>,
    /// Earnings on the chain, in token base units, as last read.
    pub earnings: u128,
    /// Seconds the worker spent proving.
    pub proving_secs: f64,
    /// What is unreachable now (the relayer, the RPC), if anything.
    pub outage: Option<String>,
    /// The relayer does not take uploads (down or failing).
    pub relayer_down: bool,
}

// Time with work available: jobs in hand, or jobs on the chain this client could lease.
#[derive(Debug)]
struct Clock {
    chain_work: bool,
    since: Option<Instant>,
    total: Duration,
}

/// The state the stages share.
pub struct Shared {
    counts: Mutex<Counts>,
    breaker: Mutex<Breaker>,
    clock: Mutex<Clock>,
    held: Mutex<HashSet<u64>>,
    seen: Mutex<Seen>,
    max_failures: u32,
    cooldown: Duration,
    prefetch: usize,
    max_jobs: u64,
    /// Woken when a job leaves the prover's hands, a delivery settles, or a verdict lands.
    pub changed: Notify,
}

/// The request ids of the latest leases taken in hand, at most `Seen::CAP` of them: a
/// duplicate comes within a few verdicts of the original.
#[derive(Default)]
struct Seen {
    set: HashSet<u64>,
    order: std::collections::VecDeque<u64>,
}

impl Seen {
    const CAP: usize = 4096;

    fn insert(&mut self, id: u64) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > Self::CAP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

impl Shared {
    /// Fresh state: `max_failures` job failures in a row pause leasing for `cooldown`; leases
    /// are wanted to keep `prefetch` jobs ready beside the one proving, within `max_jobs`
    /// (0: no limit).
    pub fn new(max_failures: u32, cooldown: Duration, prefetch: usize, max_jobs: u64) -> Shared {
        Shared {
            counts: Mutex::new(Counts::default()),
            breaker: Mutex::new(Breaker::default()),
            clock: Mutex::new(Clock {
                chain_work: false,
                since: None,
                total: Duration::ZERO,
            }),
            held: Mutex::new(HashSet::new()),
            seen: Mutex::default(),
            max_failures: max_failures.max(1),
            cooldown,
            prefetch,
            max_jobs,
            changed: Notify::new(),
        }
    }

    /// Leases wanted now: enough to keep `prefetch` ready beside the one proving, within
    /// `max_jobs` counting what is delivered, on its way, in hand and riding.
    pub fn wanted(&self) -> usize {
        self.wanted_in(&lock(&self.counts))
    }

    fn wanted_in(&self, c: &Counts) -> usize {
        let held = c.in_hand + c.riding;
        let mut want = (self.prefetch + 1).saturating_sub(held);
        if self.max_jobs != 0 {
            let committed = c.delivered + (c.delivering + held) as u64;
            want = want.min(self.max_jobs.saturating_sub(committed) as usize);
        }
        want
    }

    /// Whether `max_jobs` proofs are delivered.
    pub fn done(&self) -> bool {
        self.max_jobs != 0 && lock(&self.counts).delivered >= self.max_jobs
    }

    /// Moves a proven job from the prover's hands to the deliverer's. In the same step, so no
    /// other lease can slip in between, a lease wanted now is booked to ride on its submission
    /// (`may_ride`: the run is not stopping); true if it was.
    pub fn hand_on(&self, may_ride: bool) -> bool {
        let (ride, in_hand) = {
            let mut c = lock(&self.counts);
            c.in_hand -= 1;
            c.delivering += 1;
            let ride = may_ride
                && c.outage.is_none()
                && !c.relayer_down
                && self.wanted_in(&c) > 0
                && self.may_lease();
            if ride {
                c.riding += 1;
            }
            (ride, c.in_hand)
        };
        self.tick_clock(Some(in_hand), None);
        self.changed.notify_waiters();
        ride
    }

    /// The counts now.
    pub fn counts(&self) -> Counts {
        lock(&self.counts).clone()
    }

    /// Changes the counts; the clock follows `in_hand`, and waiting stages are woken.
    pub fn update(&self, f: impl FnOnce(&mut Counts)) {
        let in_hand = {
            let mut c = lock(&self.counts);
            f(&mut c);
            c.in_hand
        };
        self.tick_clock(Some(in_hand), None);
        self.changed.notify_waiters();
    }

    /// Records what the chain offers this client now: jobs it could lease, or none.
    pub fn set_chain_work(&self, work: bool) {
        let in_hand = lock(&self.counts).in_hand;
        self.tick_clock(Some(in_hand), Some(work));
    }

    fn tick_clock(&self, in_hand: Option<usize>, work: Option<bool>) {
        let mut c = lock(&self.clock);
        if let Some(w) = work {
            c.chain_work = w;
        }
        let available = c.chain_work || in_hand.is_some_and(|n| n > 0);
        match (available, c.since) {
            (true, None) => c.since = Some(Instant::now()),
            (false, Some(t)) => {
                c.total += t.elapsed();
                c.since = None;
            }
            _ => {}
        }
    }

    /// Seconds so far with work available.
    pub fn available_secs(&self) -> f64 {
        let c = lock(&self.clock);
        (c.total + c.since.map_or(Duration::ZERO, |t| t.elapsed())).as_secs_f64()
    }

    /// Marks a job as in hand; false if it already is (LRP handed it back).
    pub fn hold(&self, job_id: u64) -> bool {
        lock(&self.held).insert(job_id)
    }

    /// Records lease `request_id` as taken in hand; false if it was already (a node handed
    /// over with a verdict looks like a lease of our own transaction, and two children may
    /// both be ours).
    pub fn first_sight(&self, request_id: u64) -> bool {
        lock(&self.seen).insert(request_id)
    }

    /// Whether lease `request_id` was taken in hand already.
    pub fn seen(&self, request_id: u64) -> bool {
        lock(&self.seen).set.contains(&request_id)
    }

    /// Marks a job as no longer in hand.
    pub fn release(&self, job_id: u64) {
        lock(&self.held).remove(&job_id);
    }

    /// Records an outage (`Some`) or its end (`None`).
    pub fn outage(&self, what: Option<String>) {
        let mut c = lock(&self.counts);
        match (&c.outage, &what) {
            (None, Some(w)) => {
                tracing::warn!(outage = %w, "waiting; nothing new is leased until it is back")
            }
            (Some(_), None) => tracing::info!("reachable again; leasing resumes"),
            _ => {}
        }
        c.outage = what;
    }

    /// Records a failure, tripping the breaker when due.
    pub fn fail(&self, failure: Failure) {
        let mut b = lock(&self.breaker);
        let (why, own) = match failure {
            Failure::Own(w) => (w, true),
            Failure::Job(w) => (w, false),
        };
        tracing::warn!(failure = %why, "failure");
        b.consecutive.push(why.clone());
        if own && !b.permanent {
            b.permanent = true;
            let reason = format!(
                "{why}. This client cannot produce what the chain accepts: leasing stopped for good (fix the client or its configuration, then start it again)."
            );
            tracing::error!("{reason}");
            b.reason = Some(reason);
        } else if !own && b.tripped_at.is_none() && b.consecutive.len() as u32 >= self.max_failures
        {
            let reason = format!(
                "{} consecutive failures; the last: {why}. Leasing paused for {} s so no more jobs are taken that cannot be finished.",
                b.consecutive.len(),
                self.cooldown.as_secs()
            );
            tracing::error!("{reason}");
            b.tripped_at = Some(Instant::now());
            if b.reason.is_none() {
                b.reason = Some(reason);
            }
        }
    }

    /// Records a success: the failures in a row start again from zero.
    pub fn succeed(&self) {
        lock(&self.breaker).consecutive.clear();
    }

    /// Whether leasing is allowed now; a pause past its cool-down is lifted here.
    pub fn may_lease(&self) -> bool {
        let mut b = lock(&self.breaker);
        if b.permanent {
            return false;
        }
        match b.tripped_at {
            Some(t) if t.elapsed() >= self.cooldown => {
                tracing::info!("the breaker's cool-down is over; leasing resumes");
                b.tripped_at = None;
                b.consecutive.clear();
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    /// Whether leasing stopped for good.
    pub fn stopped_for_good(&self) -> bool {
        lock(&self.breaker).permanent
    }

    /// Why leasing stopped or paused, if it did during the run.
    pub fn breaker_reason(&self) -> Option<String> {
        lock(&self.breaker).reason.clone()
    }
}

// A poisoned lock only means a stage panicked mid-update; the counts are still worth reading.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_failures_pause_leasing_until_the_cool_down_and_own_ones_stop_it() {
        let s = Shared::new(2, Duration::from_millis(50), 1, 0);
        s.fail(Failure::Job("a".into()));
        s.succeed();
        s.fail(Failure::Job("b".into()));
        assert!(s.may_lease(), "a success in between restarts the count");
        s.fail(Failure::Job("c".into()));
        assert!(!s.may_lease(), "two in a row trip it");
        std::thread::sleep(Duration::from_millis(60));
        assert!(s.may_lease(), "lifted after the cool-down");
        assert!(s.breaker_reason().unwrap().contains("the last: c"));
        s.fail(Failure::Own("bad proof".into()));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!s.may_lease() && s.stopped_for_good(), "for good");
        assert!(
            s.breaker_reason().unwrap().contains("bad proof"),
            "the reason to stop for good is the one reported"
        );
    }

    #[test]
    fn the_clock_counts_only_time_with_work_available() {
        let s = Shared::new(3, Duration::ZERO, 1, 0);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(
            s.available_secs(),
            0.0,
            "nothing in hand, nothing on the chain"
        );
        s.update(|c| c.in_hand = 1);
        std::thread::sleep(Duration::from_millis(30));
        s.update(|c| c.in_hand = 0);
        let held = s.available_secs();
        assert!(held >= 0.03, "{held}");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(s.available_secs(), held, "idle without work is not counted");
        s.set_chain_work(true);
        std::thread::sleep(Duration::from_millis(30));
        assert!(
            s.available_secs() >= held + 0.03,
            "work on the chain is counted"
        );
    }
}

#[cfg(test)]
mod wanted {
    use super::*;

    #[test]
    fn a_lease_is_taken_in_hand_once_and_the_oldest_are_forgotten() {
        let s = Shared::new(3, Duration::from_secs(1), 1, 0);
        assert!(s.first_sight(7) && !s.first_sight(7), "once");
        assert!(s.seen(7) && !s.seen(8));
        for id in 100..100 + Seen::CAP as u64 {
            assert!(s.first_sight(id));
        }
        assert!(!s.seen(7), "forgotten past the cap");
        assert!(s.seen(100) && !s.first_sight(100), "the rest kept");
    }

    #[test]
    fn a_lease_rides_on_a_submission_only_when_one_is_wanted() {
        // One ready beside the one proving, three jobs in all.
        let s = Shared::new(3, Duration::ZERO, 1, 3);
        assert_eq!(s.wanted(), 2);
        s.update(|c| c.in_hand = 2);
        assert_eq!(s.wanted(), 0);
        assert!(s.hand_on(true), "a slot opened: the next lease rides");
        assert_eq!(s.wanted(), 0, "the riding lease fills it");
        assert!(
            !s.hand_on(true),
            "two with the deliverer and one riding make the three"
        );
        let c = s.counts();
        assert_eq!((c.in_hand, c.delivering, c.riding), (0, 2, 1));
    }

    #[test]
    fn no_lease_rides_while_the_breaker_is_open_or_the_run_stops() {
        let s = Shared::new(1, Duration::from_secs(60), 0, 0);
        s.update(|c| c.in_hand = 2);
        assert!(!s.hand_on(false), "stopping");
        s.fail(Failure::Job("x".into()));
        assert!(!s.hand_on(true), "breaker open");
    }
}
