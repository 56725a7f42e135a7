//! Scenarios: who proves, on what hardware, with which faults, under which policy, on what
//! chain. Read from TOML (`crowdprove-sim run scenario.toml`) or built in code.

use serde::{Deserialize, Serialize};

pub use crate::model::Rules;

/// The paper's Table 1: seconds per job by hardware.
pub const HARDWARE: [(Hardware, &str, f64); 4] = [
    (Hardware::Cpu8, "8-core CPU", 97.6),
    (Hardware::Cpu16, "16-core CPU", 67.7),
    (Hardware::MacBook, "MacBook", 48.5),
    (Hardware::Gpu, "GPU", 14.4),
];

/// A hardware class of the paper's Table 1, or explicit seconds per job.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hardware {
    /// 8-core, 32 GB CPU machine: 97.6 s per job.
    Cpu8,
    /// 16-core, 32 GB CPU machine: 67.7 s per job.
    Cpu16,
    /// Apple M3 Max: 48.5 s per job.
    #[serde(rename = "macbook")]
    MacBook,
    /// L4 GPU: 14.4 s per job.
    Gpu,
    /// Any other machine: mean seconds per job.
    Seconds(f64),
}

impl Hardware {
    /// Mean seconds per round-0 job.
    pub fn job_secs(self) -> f64 {
        match self {
            Hardware::Seconds(s) => s,
            h => HARDWARE.iter().find(|(k, ..)| *k == h).map_or(0.0, |x| x.2),
        }
    }

    /// The paper's name for it.
    pub fn label(self) -> String {
        match self {
            Hardware::Seconds(s) => format!("{s} s/job"),
            h => HARDWARE
                .iter()
                .find(|(k, ..)| *k == h)
                .map_or_else(String::new, |x| x.1.to_string()),
        }
    }
}

/// How jobs are handed out again: the contract's parameters that differ between policies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Policy {
    /// The paper's LRP: any pending job may go to the next prover who asks.
    Lrp,
    /// LRP, but not before `secs` since the job's latest lease.
    LrpMinAge {
        /// Minimum reassign age, seconds.
        secs: u64,
    },
    /// zkSync's baseline: reassign only after a fixed timeout, at most `max_attempts` leases
    /// per job (then the job fails).
    Timeout {
        /// The timeout, seconds (zkSync: 600).
        secs: u64,
        /// Leases per job at most.
        max_attempts: u32,
    },
}

impl Policy {
    /// The baseline the paper compares against: 10 minutes, at most 10 attempts.
    pub const ZKSYNC: Policy = Policy::Timeout {
        secs: 600,
        max_attempts: 10,
    };

    /// Short name for tables.
    pub fn label(self) -> String {
        match self {
            Policy::Lrp => "LRP".into(),
            Policy::LrpMinAge { secs } => format!("LRP, min age {secs} s"),
            Policy::Timeout { secs, max_attempts } => {
                format!("timeout {} min, {max_attempts} tries", secs / 60)
            }
        }
    }
}

/// When a fault strikes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strike {
    /// Before the first lease.
    Start,
    /// At this many seconds.
    AtSecs(f64),
    /// As the last fresh round-0 jobs go: once this fraction of them has been leased.
    FreshLeased(f64),
}

impl Strike {
    /// "As the last fresh jobs go": 95% of round-0 jobs leased.
    pub const LATE: Strike = Strike::FreshLeased(0.95);
}

/// What goes wrong with a prover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Stops for good, holding its leases.
    Crash,
    /// Leases up to its cap again and again, never submits.
    Hoarder,
    /// Leases up to its cap once, then goes silent: the cheapest attack.
    HoardOnce,
    /// Submits proofs that do not verify (slashed).
    Invalid,
    /// Submits but never uploads the bytes (Missing verdicts, no slash).
    Withholder,
    /// Proves `slow_factor` times slower.
    Slow,
    /// Leaves, giving back its leases (`releaseLease`, as the client does when stopped), and
    /// comes back `offline_secs` later.
    Churn,
}

impl FaultKind {
    /// Every kind, for comparisons.
    pub const ALL: [FaultKind; 7] = [
        FaultKind::Crash,
        FaultKind::HoardOnce,
        FaultKind::Hoarder,
        FaultKind::Invalid,
        FaultKind::Withholder,
        FaultKind::Slow,
        FaultKind::Churn,
    ];

    /// Name for tables.
    pub fn label(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Hoarder => "hoarder",
            FaultKind::HoardOnce => "hoard once",
            FaultKind::Invalid => "invalid",
            FaultKind::Withholder => "withholder",
            FaultKind::Slow => "slow",
            FaultKind::Churn => "churn",
        }
    }
}

/// A fault and when it strikes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// When.
    #[serde(default = "strike_start")]
    pub strike: Strike,
}

fn strike_start() -> Strike {
    Strike::Start
}

/// A group of identical provers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProverGroup {
    /// How many.
    pub count: u32,
    /// Their hardware.
    pub hardware: Hardware,
    /// Coefficient of variation of their job times (0 = every job takes the mean).
    #[serde(default)]
    pub cv: f64,
    /// Bond, in leases it backs (the contract's cap on active leases).
    #[serde(default = "one")]
    pub bond_leases: u32,
    /// What goes wrong, if anything.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// Joins at this time, seconds.
    #[serde(default)]
    pub join_secs: f64,
}

fn one() -> u32 {
    1
}

/// Latencies of the chain, the network and the relayer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timing {
    /// Block time, seconds (0 = transactions apply at once).
    pub block_secs: f64,
    /// One-way network latency, seconds (the paper measured about 10 ms).
    pub network_secs: f64,
    /// Witness download before proving, seconds.
    pub fetch_secs: f64,
    /// Proof upload after proving, seconds.
    pub upload_secs: f64,
    /// Fixed cost per job besides proving (loading setup data, process start), seconds.
    pub job_overhead_secs: f64,
    /// Relayer's verification of one proof, seconds.
    pub verify_secs: f64,
    /// A prover that found nothing to lease asks again after this long, seconds.
    pub poll_secs: f64,
    /// Aggregation jobs take this times a prover's round-0 job time.
    pub aggregation_factor: f64,
    /// A churning prover stays away this long, seconds.
    pub offline_secs: f64,
    /// A slow prover proves this many times slower.
    pub slow_factor: f64,
    /// An invalid or withholding prover submits this long after its lease, seconds.
    pub cheat_secs: f64,
    /// Honest provers lease and fetch their next job while proving, as long as fresh jobs
    /// remain and their bond allows (as the client does), hiding chain latency.
    pub lease_ahead: bool,
    /// When to lease ahead: `None` as soon as a proof starts (the client today), or this many
    /// seconds before the prover expects to finish, so that a job leased ahead (an aggregation
    /// node on the critical path, say) does not wait behind a whole proof.
    pub prefetch_lead_secs: Option<f64>,
}

impl Timing {
    /// No overheads at all: the paper's ideal parallelization.
    pub const IDEAL: Timing = Timing {
        block_secs: 0.0,
        network_secs: 0.0,
        fetch_secs: 0.0,
        upload_secs: 0.0,
        job_overhead_secs: 0.0,
        verify_secs: 0.0,
        poll_secs: 1.0,
        aggregation_factor: 1.0,
        offline_secs: 600.0,
        slow_factor: 4.0,
        cheat_secs: 5.0,
        lease_ahead: false,
        prefetch_lead_secs: None,
    };
}

impl Default for Timing {
    /// An L2 with 2-second blocks, 10 ms network, our relayer's verify time (6 ms) and our
    /// client's poll interval.
    fn default() -> Self {
        Timing {
            block_secs: 2.0,
            network_secs: 0.01,
            fetch_secs: 0.5,
            upload_secs: 0.2,
            job_overhead_secs: 0.0,
            verify_secs: 0.006,
            poll_secs: 5.0,
            aggregation_factor: 1.0,
            offline_secs: 600.0,
            slow_factor: 4.0,
            cheat_secs: 5.0,
            lease_ahead: true,
            prefetch_lead_secs: None,
        }
    }
}

/// Money: what a job pays, what a lease must be backed by, what a bad proof costs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Economics {
    /// Paid per proven job, in token units.
    pub reward: u64,
    /// Bond per active lease.
    pub bond_per_lease: u64,
    /// Slashed per invalid proof.
    pub slash: u64,
    /// Seconds after a submission before a Missing verdict counts.
    pub upload_deadline: u64,
}

impl Default for Economics {
    fn default() -> Self {
        Economics {
            reward: 1,
            bond_per_lease: 10,
            slash: 5,
            upload_deadline: 60,
        }
    }
}

/// A whole simulated run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name for reports.
    #[serde(default)]
    pub name: String,
    /// Makes runs repeatable.
    #[serde(default)]
    pub seed: u64,
    /// Round-0 jobs in each source batch.
    pub jobs: u32,
    /// Source batches the relayer posts.
    #[serde(default = "one")]
    pub batches: u32,
    /// Seconds between two source batches' posts (the first at the start).
    #[serde(default)]
    pub batch_interval_secs: f64,
    /// Also prove each batch's aggregation tree: the relayer posts the whole tree (the
    /// contract's `postBatch`), whose nodes become fresh on-chain as their children complete.
    /// Without it each round-0 job is posted as a tree of its own, one job that is its top.
    #[serde(default)]
    pub aggregation: bool,
    /// The reassignment policy.
    #[serde(default = "lrp")]
    pub policy: Policy,
    /// Reassignment rules on top of the policy: candidates for the contract.
    #[serde(default)]
    pub rules: Rules,
    /// Latencies.
    #[serde(default)]
    pub timing: Timing,
    /// Money.
    #[serde(default)]
    pub economics: Economics,
    /// The relayer cancels every batch posted by then and not yet proven at this time, seconds.
    #[serde(default)]
    pub cancel_at_secs: Option<f64>,
    /// Give up after this much simulated time, seconds.
    #[serde(default = "thirty_days")]
    pub max_secs: f64,
    /// The provers.
    pub provers: Vec<ProverGroup>,
}

fn lrp() -> Policy {
    Policy::Lrp
}

fn thirty_days() -> f64 {
    30.0 * 86_400.0
}

impl Scenario {
    /// `count` honest provers of one hardware class, no overheads, LRP: the paper's setting.
    pub fn ideal(jobs: u32, count: u32, hardware: Hardware) -> Self {
        Scenario {
            name: format!("{jobs} jobs, {count} x {}", hardware.label()),
            seed: 1,
            jobs,
            batches: 1,
            batch_interval_secs: 0.0,
            aggregation: false,
            policy: Policy::Lrp,
            rules: Rules::default(),
            timing: Timing::IDEAL,
            economics: Economics::default(),
            cancel_at_secs: None,
            max_secs: thirty_days(),
            provers: vec![ProverGroup {
                count,
                hardware,
                cv: 0.0,
                bond_leases: 1,
                fault: None,
                join_secs: 0.0,
            }],
        }
    }

    /// Parses a TOML scenario and checks it.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        let s: Scenario = toml::from_str(text)?;
        s.validate()?;
        Ok(s)
    }

    /// Rejects scenarios the simulator cannot run, with the reason.
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::ensure;
        ensure!(self.jobs >= 1, "jobs must be at least 1");
        ensure!(
            self.jobs <= 1 << 24,
            "jobs must be at most 16,777,216 (one batch)"
        );
        ensure!(self.batches >= 1, "batches must be at least 1");
        ensure!(
            u64::from(self.jobs) * u64::from(self.batches) <= 1 << 24,
            "jobs x batches must be at most 16,777,216"
        );
        ensure!(
            self.batch_interval_secs.is_finite() && self.batch_interval_secs >= 0.0,
            "batch_interval_secs must be >= 0"
        );
        ensure!(
            !self.provers.is_empty(),
            "at least one prover group is needed"
        );
        let total: u64 = self.provers.iter().map(|g| u64::from(g.count)).sum();
        ensure!(total >= 1, "at least one prover is needed");
        ensure!(total <= 10_000_000, "at most 10,000,000 provers");
        for (i, g) in self.provers.iter().enumerate() {
            let secs = g.hardware.job_secs();
            ensure!(
                secs.is_finite() && secs > 0.0,
                "provers[{i}]: seconds per job must be > 0"
            );
            ensure!(
                g.cv.is_finite() && (0.0..=2.0).contains(&g.cv),
                "provers[{i}]: cv must be in [0, 2]"
            );
            ensure!(
                g.bond_leases >= 1,
                "provers[{i}]: bond_leases must be at least 1"
            );
            ensure!(
                g.join_secs.is_finite() && g.join_secs >= 0.0,
                "provers[{i}]: join_secs must be >= 0"
            );
            if let Some(Fault { strike, .. }) = g.fault {
                match strike {
                    Strike::AtSecs(s) => ensure!(
                        s.is_finite() && s >= 0.0,
                        "provers[{i}]: strike time must be >= 0"
                    ),
                    Strike::FreshLeased(f) => ensure!(
                        (0.0..=1.0).contains(&f),
                        "provers[{i}]: fresh-leased fraction must be in [0, 1]"
                    ),
                    Strike::Start => {}
                }
            }
        }
        let t = &self.timing;
        for (name, v) in [
            ("block_secs", t.block_secs),
            ("network_secs", t.network_secs),
            ("fetch_secs", t.fetch_secs),
            ("upload_secs", t.upload_secs),
            ("job_overhead_secs", t.job_overhead_secs),
            ("verify_secs", t.verify_secs),
            ("offline_secs", t.offline_secs),
            ("cheat_secs", t.cheat_secs),
        ] {
            ensure!(
                v.is_finite() && (0.0..=86_400.0).contains(&v),
                "timing.{name} must be in [0, 86400]"
            );
        }
        ensure!(
            t.poll_secs.is_finite() && t.poll_secs >= 0.01 && t.poll_secs <= 86_400.0,
            "timing.poll_secs must be in [0.01, 86400]"
        );
        ensure!(
            t.aggregation_factor.is_finite() && t.aggregation_factor > 0.0,
            "timing.aggregation_factor must be > 0"
        );
        ensure!(
            t.slow_factor.is_finite() && t.slow_factor >= 1.0,
            "timing.slow_factor must be >= 1"
        );
        let e = &self.economics;
        ensure!(
            e.bond_per_lease >= 1,
            "economics.bond_per_lease must be at least 1"
        );
        ensure!(
            e.slash <= e.bond_per_lease,
            "economics.slash must not exceed bond_per_lease"
        );
        ensure!(
            e.upload_deadline >= 10,
            "economics.upload_deadline must be at least 10 s (the contract's minimum)"
        );
        if let Policy::LrpMinAge { secs } | Policy::Timeout { secs, .. } = self.policy {
            ensure!(
                secs <= 86_400,
                "policy: the reassign age is at most one day (the contract's bound)"
            );
        }
        if let Policy::Timeout { max_attempts, .. } = self.policy {
            ensure!(max_attempts >= 1, "policy.max_attempts must be at least 1");
        }
        ensure!(
            self.max_secs.is_finite() && self.max_secs > 0.0,
            "max_secs must be > 0"
        );
        Ok(())
    }

    /// Provers in all groups.
    pub fn prover_count(&self) -> u64 {
        self.provers.iter().map(|g| u64::from(g.count)).sum()
    }
}
