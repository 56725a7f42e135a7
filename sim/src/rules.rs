//! The reassignment study: candidate rules for the contract, which holds each batch's whole
//! tree (a node fresh in the verdict that completes its last child), measured against the makespan's lower bound, the compute they waste, and their slowdown
//! under hoarders striking at the start and as the last fresh jobs go.

use std::collections::VecDeque;
use std::fmt::Write as _;

use rayon::prelude::*;

use crowdprove_protocol::TreeShape;

use crate::compare::{FRACTIONS, STRIKES, Setup, scenario};
use crate::engine::{Outcome, run};
use crate::scenario::{FaultKind, Hardware, Policy, Rules, Scenario};

/// One candidate: a policy, rules on top, and when provers lease ahead.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    /// Name for tables.
    pub name: &'static str,
    /// The policy (fixed minimum age or none).
    pub policy: Policy,
    /// Rules on top.
    pub rules: Rules,
    /// Provers lease ahead this long before they expect to finish (None: as a proof starts).
    pub prefetch_lead: Option<f64>,
}

const fn rules(stale_age: Option<u64>, adaptive_pct: Option<u32>, idle_only: bool) -> Rules {
    Rules {
        stale_age,
        adaptive_pct,
        idle_only,
        leaves_first: false,
        spare_attempts: 0,
        lapse: false,
        stale_first: false,
        lapsed_off_critical: false,
    }
}

const fn leaves_first(r: Rules) -> Rules {
    Rules {
        leaves_first: true,
        ..r
    }
}

/// Spare leases up to `attempts`, with or without lapses.
const fn spares(r: Rules, attempts: u32, lapse: bool) -> Rules {
    Rules {
        spare_attempts: attempts,
        lapse,
        ..r
    }
}

/// Seconds before the expected end of a proof at which a prover leases ahead, just in time:
/// two blocks for the lease and the witness fetch.
pub const JIT: f64 = 5.0;

/// The minimum reassign age the spare candidates run with: about 1.5 proof times, so that an
/// honest prover's lease is not handed on a third time before it delivers.
pub const SPARE_MIN_AGE: u64 = 150;

/// The contract's rules before stale jobs went ahead of fresh nodes too, with the stale age
/// the spare study used.
const CONTRACT_300: Rules = Rules {
    stale_age: Some(300),
    stale_first: false,
    lapsed_off_critical: false,
    ..Rules::CONTRACT
};

/// The stale age the contract's row runs with: the minimum reassign age (a lower one would be
/// raised to it), about 1.5 proof times.
pub const STALE_AGE: u64 = SPARE_MIN_AGE;

/// The candidates: the contract before the study first (aggregation first, LRP), the contract
/// before spares (leaves first, idle only, stale 300 s), then the spare candidates, then the
/// contract now: `Rules::CONTRACT` (a stale job before fresh nodes too) with `STALE_AGE` and
/// `SPARE_MIN_AGE`.
pub const CANDIDATES: [Candidate; 13] = [
    Candidate {
        name: "tree on-chain, LRP",
        policy: Policy::Lrp,
        rules: Rules::OFF,
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "leaves first, LRP",
        policy: Policy::Lrp,
        rules: leaves_first(Rules::OFF),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "leaves first, idle only, stale 300 s (the contract before spares)",
        policy: Policy::Lrp,
        rules: leaves_first(rules(Some(300), None, true)),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ adaptive 50%",
        policy: Policy::Lrp,
        rules: leaves_first(rules(Some(300), Some(50), true)),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ adaptive 100%, lapses",
        policy: Policy::Lrp,
        rules: spares(leaves_first(rules(Some(300), Some(100), true)), 0, true),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ min age 150 s, 2 spares, no lapses",
        policy: Policy::LrpMinAge {
            secs: SPARE_MIN_AGE,
        },
        rules: spares(leaves_first(rules(Some(300), None, true)), 2, false),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ min age 150 s, 1 spare, lapses",
        policy: Policy::LrpMinAge {
            secs: SPARE_MIN_AGE,
        },
        rules: spares(CONTRACT_300, 1, true),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ min age 150 s, 2 spares, lapses (the contract before stale jobs went first)",
        policy: Policy::LrpMinAge {
            secs: SPARE_MIN_AGE,
        },
        rules: CONTRACT_300,
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ min age 100 s, 2 spares, lapses",
        policy: Policy::LrpMinAge { secs: 100 },
        rules: CONTRACT_300,
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ adaptive 100%, 2 spares, lapses",
        policy: Policy::Lrp,
        rules: Rules {
            adaptive_pct: Some(100),
            ..CONTRACT_300
        },
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ min age 150 s, 3 spares, lapses",
        policy: Policy::LrpMinAge {
            secs: SPARE_MIN_AGE,
        },
        rules: spares(CONTRACT_300, 3, true),
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ stale 150 s before fresh nodes too (the contract before lapsed provers left the critical path)",
        policy: Policy::LrpMinAge {
            secs: SPARE_MIN_AGE,
        },
        rules: Rules {
            stale_age: Some(STALE_AGE),
            lapsed_off_critical: false,
            ..Rules::CONTRACT
        },
        prefetch_lead: Some(JIT),
    },
    Candidate {
        name: "+ a lapsed prover takes no stale job, no fresh node, no held job until held twice the stale age (the contract)",
        policy: Policy::LrpMinAge {
            secs: SPARE_MIN_AGE,
        },
        rules: Rules {
            stale_age: Some(STALE_AGE),
            ..Rules::CONTRACT
        },
        prefetch_lead: Some(JIT),
    },
];

/// The faults each candidate meets.
pub const FAULTS: [FaultKind; 2] = [FaultKind::HoardOnce, FaultKind::Hoarder];

/// A candidate's figures, means over seeds.
#[derive(Clone, Debug)]
pub struct StudyRow {
    /// The candidate.
    pub candidate: Candidate,
    /// Fault-free makespan, minutes.
    pub makespan_min: f64,
    /// The lower bound, minutes: max(work / N, leaf rounds + depth).
    pub bound_min: f64,
    /// The best schedule's makespan with every job taking exactly the mean time, minutes.
    pub optimum_min: f64,
    /// Fault-free wasted compute over useful compute.
    pub wasted: f64,
    /// Per (fault, strike name, fraction): the makespan over the fault-free one, and over the
    /// optimum of the honest provers alone (faulty provers are taken out of the network, so
    /// part of any slowdown is lost capacity that no rule can win back).
    pub slowdowns: Vec<(FaultKind, &'static str, f64, f64, f64)>,
    /// Runs that did not prove the whole tree.
    pub unfinished: u64,
}

impl StudyRow {
    /// The worst slowdown over every fault, strike and fraction.
    pub fn worst_slowdown(&self) -> f64 {
        self.slowdowns.iter().map(|s| s.3).fold(1.0, f64::max)
    }

    /// Slowdown under one fault, strike and fraction.
    pub fn slowdown(&self, kind: FaultKind, strike: &str, fraction: f64) -> Option<(f64, f64)> {
        self.slowdowns
            .iter()
            .find(|s| s.0 == kind && s.1 == strike && (s.2 - fraction).abs() < 1e-9)
            .map(|s| (s.3, s.4))
    }
}

/// The makespan's lower bound for `jobs` leaves and their tree on `provers` identical provers
/// of `job_secs` per job: the total work spread evenly, or the leaves' rounds followed by one
/// job per level, whichever is longer.
pub fn lower_bound_secs(jobs: u32, provers: u32, job_secs: f64, agg_factor: f64) -> f64 {
    let (aggs, depth) = TreeShape::new(jobs).map_or((0, 0), |t| {
        let aggs: u32 = (1..=t.height()).map(|l| t.nodes_at(l)).sum();
        (aggs, u32::from(t.height()))
    });
    let work = (f64::from(jobs) + f64::from(aggs) * agg_factor) * job_secs / f64::from(provers);
    let path =
        f64::from(jobs.div_ceil(provers)) * job_secs + f64::from(depth) * job_secs * agg_factor;
    work.max(path)
}

/// Rounds of the best schedule of the tree's jobs on `provers` identical provers when every
/// job takes one round: Hu's highest-level-first list schedule, which is optimal for in-trees
/// of unit jobs (T. C. Hu, "Parallel sequencing and assembly line problems", 1961). A leaf is
/// farthest from the root, so leaves go first, then level 1, and so on.
pub fn optimal_unit_rounds(jobs: u32, provers: u32) -> u32 {
    let Some(t) = TreeShape::new(jobs) else {
        return 0;
    };
    let height = usize::from(t.height());
    let sizes: Vec<u32> = (0..=t.height()).map(|l| t.nodes_at(l)).collect();
    // Per level: nodes ready to run (indices) and how many children each parent has done.
    let mut ready: Vec<VecDeque<u32>> = vec![VecDeque::new(); height + 1];
    ready[0] = (0..sizes[0]).collect();
    let mut children_done: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0; n as usize]).collect();
    let mut rounds = 0;
    loop {
        let mut done = Vec::new();
        for (level, queue) in ready.iter_mut().enumerate() {
            while done.len() < provers as usize {
                match queue.pop_front() {
                    Some(i) => done.push((level, i)),
                    None => break,
                }
            }
        }
        if done.is_empty() {
            return rounds;
        }
        rounds += 1;
        for (level, i) in done {
            if level == height {
                continue;
            }
            let parent = i / 2;
            let needed = if 2 * parent + 1 < sizes[level] { 2 } else { 1 };
            let c = &mut children_done[level + 1][parent as usize];
            *c += 1;
            if *c == needed {
                ready[level + 1].push_back(parent);
            }
        }
    }
}

fn with(mut sc: Scenario, c: Candidate) -> Scenario {
    sc.policy = c.policy;
    sc.rules = c.rules;
    sc.timing.prefetch_lead_secs = c.prefetch_lead;
    sc
}

fn mean_over_seeds(setup: Setup, make: impl Fn(u64) -> Scenario + Sync) -> Vec<Outcome> {
    (1..=setup.seeds)
        .into_par_iter()
        .map(|seed| run(make(seed)))
        .collect()
}

fn mean(outs: &[Outcome], f: impl Fn(&Outcome) -> f64) -> f64 {
    outs.iter().map(f).sum::<f64>() / outs.len() as f64
}

/// Runs every candidate, fault-free and under each fault.
pub fn study(setup: Setup) -> Vec<StudyRow> {
    CANDIDATES
        .par_iter()
        .map(|&c| {
            let base = mean_over_seeds(setup, |seed| {
                with(scenario(setup, c.policy, None, 0.0, false, seed), c)
            });
            let makespan = mean(&base, |o| o.makespan_secs);
            let mut unfinished = base.iter().filter(|o| !o.finished).count() as u64;
            let mut slowdowns = Vec::new();
            for kind in FAULTS {
                for (name, strike) in STRIKES {
                    for &fraction in &FRACTIONS[1..] {
                        let outs = mean_over_seeds(setup, |seed| {
                            let f = Some((kind, strike));
                            with(scenario(setup, c.policy, f, fraction, false, seed), c)
                        });
                        unfinished += outs.iter().filter(|o| !o.finished).count() as u64;
                        let m = mean(&outs, |o| o.makespan_secs);
                        let faulty = (f64::from(setup.provers) * fraction).round() as u32;
                        let honest = optimal_unit_rounds(setup.jobs, setup.provers - faulty);
                        let honest = f64::from(honest) * Hardware::Cpu8.job_secs();
                        slowdowns.push((kind, name, fraction, m / makespan, m / honest));
                    }
                }
            }
            StudyRow {
                candidate: c,
                makespan_min: makespan / 60.0,
                bound_min: lower_bound_secs(
                    setup.jobs,
                    setup.provers,
                    Hardware::Cpu8.job_secs(),
                    1.0,
                ) / 60.0,
                optimum_min: f64::from(optimal_unit_rounds(setup.jobs, setup.provers))
                    * Hardware::Cpu8.job_secs()
                    / 60.0,
                wasted: mean(&base, Outcome::wasted_share),
                slowdowns,
                unfinished,
            }
        })
        .collect()
}

/// The study as Markdown.
pub fn markdown(setup: Setup, rows: &[StudyRow]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} round-0 jobs and their tree ({} jobs) on {} provers (8-core CPUs, 97.6 s/job, cv \
         0.1, bond for 4 leases), 2 s blocks; mean of {} seeds. `bound` is max(total work / N, \
         ceil(J / N) x t + depth x t); `optimum` is the best schedule when every job takes exactly \
         t (Hu's highest-level-first schedule, optimal for in-trees of unit jobs), which no \
         policy can beat without faster provers. `stale` sends a pending job leased that long ago ahead of \
         fresh round-0 jobs (`before nodes too`: ahead of fresh aggregation nodes as well); \
         `adaptive p%` holds a job back for p% of its tree's mean observed \
         proof time; `idle only` gives pending jobs only to provers holding no other lease; \
         `n spares` lets a job younger than the minimum age go at once to an idle prover while \
         it was leased at most n times; with `lapses`, also when its holder has lapsed (a lease \
         of its handed on unsubmitted, no job completed since), and never to a lapsed prover; the \
         last row keeps a lapsed prover off the critical path: no stale job, no fresh node, and \
         from the pending list only a job that nobody holds (given back, judged Invalid or \
         Missing, or expired) or one held for twice the stale age, which nobody in good \
         standing took. \
         Slowdowns are makespans over the same candidate's fault-free one; in brackets, over \
         the optimum of the honest provers alone (faulty provers are taken out of the {}, so \
         part of any slowdown is capacity lost, which no rule wins back).\n",
        setup.jobs,
        crate::model::tree_size(setup.jobs.into()),
        setup.provers,
        setup.seeds,
        setup.provers
    );
    let _ = writeln!(
        s,
        "| candidate | makespan (min) | bound (min) | over bound | optimum (min) | over optimum | wasted | worst slowdown | unfinished runs |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.2}x | {:.1} | {:.2}x | {:.1}% | {:.2}x | {} |",
            r.candidate.name,
            r.makespan_min,
            r.bound_min,
            r.makespan_min / r.bound_min,
            r.optimum_min,
            r.makespan_min / r.optimum_min,
            r.wasted * 100.0,
            r.worst_slowdown(),
            r.unfinished
        );
    }
    for kind in FAULTS {
        let _ = writeln!(
            s,
            "\n### Slowdown under {} provers\n\n| candidate | 10% start | 20% start | 40% start | 10% late | 20% late | 40% late |\n|---|---:|---:|---:|---:|---:|---:|",
            kind.label()
        );
        for r in rows {
            let _ = write!(s, "| {} |", r.candidate.name);
            for (name, _) in STRIKES {
                for &f in &FRACTIONS[1..] {
                    let (v, h) = r.slowdown(kind, name, f).unwrap_or((f64::NAN, f64::NAN));
                    let _ = write!(s, " {v:.2}x ({h:.2}x) |");
                }
            }
            let _ = writeln!(s);
        }
    }
    s
}
