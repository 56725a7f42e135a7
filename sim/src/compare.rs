//! Policies side by side: LRP, LRP with a minimum reassign age, and zkSync's 10-minute
//! timeout with a retry limit, under each kind of fault at 0-40% of the provers, striking at
//! the start or as the last fresh jobs go, and on mixed hardware.

use std::fmt::Write as _;

use rayon::prelude::*;

use crate::engine::{Outcome, run};
use crate::scenario::{
    Economics, Fault, FaultKind, HARDWARE, Hardware, Policy, ProverGroup, Rules, Scenario, Strike,
    Timing,
};

/// The policies compared.
pub const POLICIES: [Policy; 3] = [Policy::Lrp, Policy::LrpMinAge { secs: 150 }, Policy::ZKSYNC];

/// Shares of faulty provers compared.
pub const FRACTIONS: [f64; 4] = [0.0, 0.1, 0.2, 0.4];

/// When faults strike, with a name for tables.
pub const STRIKES: [(&str, Strike); 2] = [("start", Strike::Start), ("late", Strike::LATE)];

/// Size of the compared network.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// Round-0 jobs (plus their aggregation tree).
    pub jobs: u32,
    /// Provers.
    pub provers: u32,
    /// Seeds averaged per cell.
    pub seeds: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            jobs: 1_024,
            provers: 128,
            seeds: 3,
        }
    }
}

/// One compared cell, averaged over seeds.
#[derive(Clone, Debug)]
pub struct Row {
    /// Policy.
    pub policy: Policy,
    /// Fault, if any.
    pub fault: Option<FaultKind>,
    /// Share of faulty provers.
    pub fraction: f64,
    /// "start", "late" or "-".
    pub strike: &'static str,
    /// Mixed hardware (a quarter of each class) rather than 8-core CPUs.
    pub mixed: bool,
    /// Mean makespan, minutes.
    pub makespan_min: f64,
    /// Makespan relative to the same policy without faults.
    pub slowdown: f64,
    /// Wasted compute, share of useful compute.
    pub wasted: f64,
    /// Tokens paid in all.
    pub paid: f64,
    /// Tokens paid to faulty provers.
    pub paid_faulty: f64,
    /// Tokens slashed.
    pub slashed: f64,
    /// LRP reassignments.
    pub reassignments: f64,
    /// Jobs that ran out of attempts.
    pub failed_jobs: f64,
    /// Runs that proved the whole tree.
    pub finished: u64,
    /// Runs.
    pub runs: u64,
}

/// The compared scenario.
pub fn scenario(
    setup: Setup,
    policy: Policy,
    fault: Option<(FaultKind, Strike)>,
    fraction: f64,
    mixed: bool,
    seed: u64,
) -> Scenario {
    let faulty = (f64::from(setup.provers) * fraction).round() as u32;
    let honest = setup.provers - faulty;
    let group = |count, hardware| ProverGroup {
        count,
        hardware,
        cv: 0.1,
        bond_leases: 4,
        fault: None,
        join_secs: 0.0,
    };
    let mut provers = Vec::new();
    if mixed {
        let per = honest / 4;
        for (i, (hw, ..)) in HARDWARE.iter().enumerate() {
            let n = if i == 0 { honest - 3 * per } else { per };
            provers.push(group(n, *hw));
        }
    } else {
        provers.push(group(honest, Hardware::Cpu8));
    }
    if let Some((kind, strike)) = fault.filter(|_| faulty > 0) {
        let mut g = group(faulty, Hardware::Cpu8);
        g.fault = Some(Fault { kind, strike });
        provers.push(g);
    }
    Scenario {
        name: String::new(),
        seed,
        jobs: setup.jobs,
        batches: 1,
        batch_interval_secs: 0.0,
        aggregation: true,
        policy,
        rules: Rules::default(),
        timing: Timing::default(),
        economics: Economics::default(),
        cancel_at_secs: None,
        max_secs: 8.0 * 3_600.0,
        provers: provers.into_iter().filter(|g| g.count > 0).collect(),
    }
}

fn cell(
    setup: Setup,
    policy: Policy,
    fault: Option<(FaultKind, &'static str, Strike)>,
    fraction: f64,
    mixed: bool,
) -> Row {
    let outs: Vec<Outcome> = (1..=setup.seeds)
        .into_par_iter()
        .map(|seed| {
            run(scenario(
                setup,
                policy,
                fault.map(|(k, _, s)| (k, s)),
                fraction,
                mixed,
                seed,
            ))
        })
        .collect();
    let n = outs.len() as f64;
    let mean = |f: &dyn Fn(&Outcome) -> f64| outs.iter().map(f).sum::<f64>() / n;
    Row {
        policy,
        fault: fault.map(|f| f.0),
        fraction,
        strike: fault.map_or("-", |f| f.1),
        mixed,
        makespan_min: mean(&|o| o.makespan_secs / 60.0),
        slowdown: 1.0,
        wasted: mean(&|o| o.wasted_share()),
        paid: mean(&|o| o.paid as f64),
        paid_faulty: mean(&|o| o.paid_to_faulty as f64),
        slashed: mean(&|o| o.slashed as f64),
        reassignments: mean(&|o| o.reassignments as f64),
        failed_jobs: mean(&|o| o.jobs_failed as f64),
        finished: outs.iter().filter(|o| o.finished).count() as u64,
        runs: outs.len() as u64,
    }
}

/// Runs the whole comparison. Every (setup, seed) run is independent and seeded, so they run
/// in parallel on rayon's pool and the rows come out the same, in the same order, as one by one.
pub fn compare(setup: Setup) -> Vec<Row> {
    type Fault = Option<(FaultKind, &'static str, Strike)>;
    let mut cells: Vec<(Policy, Fault, f64, bool)> = Vec::new();
    for mixed in [false, true] {
        for policy in POLICIES {
            cells.push((policy, None, 0.0, mixed));
            let kinds: &[FaultKind] = if mixed {
                &[FaultKind::Crash]
            } else {
                &FaultKind::ALL
            };
            for &kind in kinds {
                for (name, strike) in STRIKES {
                    for &fraction in &FRACTIONS[1..] {
                        cells.push((policy, Some((kind, name, strike)), fraction, mixed));
                    }
                }
            }
        }
    }
    let mut rows: Vec<Row> = cells
        .into_par_iter()
        .map(|(policy, fault, fraction, mixed)| cell(setup, policy, fault, fraction, mixed))
        .collect();
    // Each faulty row's slowdown is against the fault-free row of its policy and hardware.
    let mut base = 0.0;
    for r in &mut rows {
        if r.fault.is_none() {
            base = r.makespan_min;
        } else {
            r.slowdown = r.makespan_min / base;
        }
    }
    rows
}

/// The comparison as Markdown tables, one per fault kind.
pub fn markdown(setup: Setup, rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} round-0 jobs and their aggregation tree ({} jobs in all) on {} provers (8-core CPUs, \
         97.6 s/job, cv 0.1; bond for 4 leases each), 2 s blocks, 10 ms network; mean of {} \
         seeds. Faulty provers are taken out of the {} (not added). `slowdown` is the makespan \
         over the same policy's fault-free makespan; `wasted` is compute that completed no job, \
         over the compute that did. The LRP policies run the contract's rules (leaves first, \
         idle only, spares with lapses, spareAttempts = {}: a job younger than the minimum age \
         still goes to an idle prover in good standing while it was leased at most that many \
         times or its holder has lapsed; with no minimum age every job is old enough anyway).\n",
        setup.jobs,
        crate::model::tree_size(setup.jobs.into()),
        setup.provers,
        setup.seeds,
        setup.provers,
        crate::model::DEFAULT_SPARE_ATTEMPTS
    );
    let header = "| policy | faulty | strike | makespan (min) | slowdown | wasted | paid | to faulty | slashed | reassignments | failed jobs | finished |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|";
    let line = |s: &mut String, r: &Row| {
        let _ = writeln!(
            s,
            "| {} | {:.0}% | {} | {:.1} | {:.2}x | {:.1}% | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {}/{} |",
            r.policy.label(),
            r.fraction * 100.0,
            r.strike,
            r.makespan_min,
            r.slowdown,
            r.wasted * 100.0,
            r.paid,
            r.paid_faulty,
            r.slashed,
            r.reassignments,
            r.failed_jobs,
            r.finished,
            r.runs
        );
    };
    let t = crate::scenario::Hardware::Cpu8.job_secs();
    let _ = writeln!(
        s,
        "### No faults\n\nLower bound max(work / N, leaf rounds + depth): {:.1} min; the best schedule \
         of jobs that all take exactly {t} s (Hu's, see sim-rules.md): {:.1} min.\n\n{header}",
        crate::rules::lower_bound_secs(setup.jobs, setup.provers, t, 1.0) / 60.0,
        f64::from(crate::rules::optimal_unit_rounds(setup.jobs, setup.provers)) * t / 60.0
    );
    for r in rows.iter().filter(|r| r.fault.is_none() && !r.mixed) {
        line(&mut s, r);
    }
    for kind in FaultKind::ALL {
        let _ = writeln!(s, "\n### {}\n\n{header}", kind.label());
        for r in rows.iter().filter(|r| r.fault == Some(kind) && !r.mixed) {
            line(&mut s, r);
        }
    }
    let _ = writeln!(
        s,
        "\n### Mixed hardware (a quarter each of 8-core, 16-core, MacBook, GPU), crashes\n\n{header}"
    );
    for r in rows.iter().filter(|r| r.mixed) {
        line(&mut s, r);
    }
    s
}
