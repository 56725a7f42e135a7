//! `crowdprove-sim`: the paper's tables, policy comparisons, any scenario from TOML, scale
//! runs, and the traces of the differential test.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use crowdprove_sim::{Scenario, compare, paper, plot, rules, trace};

#[derive(Parser)]
#[command(
    name = "crowdprove-sim",
    version,
    about = "Discrete-event simulator of the CrowdProve protocol"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The paper's Table 2, breakeven, Table 3 and costs, beside the paper's numbers.
    Paper {
        /// Where to write sim-paper.md and the Table 2 plot.
        #[arg(long, default_value = "docs/results")]
        out: PathBuf,
    },
    /// Policies under faults: Markdown tables and plots (sim-compare.md).
    Compare(Network),
    /// Candidate reassignment rules with the tree ready on-chain: makespan next to its lower
    /// bound and the optimum, wasted compute, slowdown under hoarders (sim-rules.md).
    Study(Network),
    /// One scenario from a TOML file (see sim/scenarios/).
    Run {
        /// The scenario.
        scenario: PathBuf,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// A large run, to measure the simulator's speed.
    Scale {
        /// Round-0 jobs.
        #[arg(long, default_value_t = 1_000_000)]
        jobs: u32,
        /// Provers.
        #[arg(long, default_value_t = 100_000)]
        provers: u32,
        /// Also prove the aggregation tree.
        #[arg(long)]
        aggregation: bool,
    },
    /// Writes the traces that the differential forge test replays on the contract.
    Traces {
        /// Where to write them.
        #[arg(long, default_value = "contracts/test/traces")]
        out: PathBuf,
    },
}

/// The compared network and where its report goes.
#[derive(clap::Args)]
struct Network {
    /// Round-0 jobs (plus their aggregation tree).
    #[arg(long, default_value_t = 1_024)]
    jobs: u32,
    /// Provers.
    #[arg(long, default_value_t = 128)]
    provers: u32,
    /// Seeds averaged per cell.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Where to write the report and its plots.
    #[arg(long, default_value = "docs/results")]
    out: PathBuf,
}

impl Network {
    // Faults strike 10% of the provers at least, so there must be ten.
    fn setup(&self) -> anyhow::Result<compare::Setup> {
        anyhow::ensure!(
            self.jobs >= 2 && self.provers >= 10 && self.seeds >= 1,
            "need jobs >= 2, provers >= 10, seeds >= 1"
        );
        Ok(compare::Setup {
            jobs: self.jobs,
            provers: self.provers,
            seeds: self.seeds,
        })
    }

    // The command line that makes the report, for its header.
    fn command(&self, name: &str) -> String {
        format!(
            "crowdprove-sim {name} --jobs {} --provers {} --seeds {}",
            self.jobs, self.provers, self.seeds
        )
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Paper { out } => {
            let report = paper::reproduce();
            let md = report.markdown();
            println!("{md}");
            let doc = format!(
                "# Simulator: the paper's evaluation\n\nProduced by `make sim` \
                 (`crowdprove-sim paper`); deterministic (seed 1).\n\n{md}\n![Table 2](sim-table2.svg)\n"
            );
            write(&out.join("sim-paper.md"), &doc)?;
            plot::table2(&out, &report)?;
            println!("wrote {}", out.join("sim-paper.md").display());
        }
        Cmd::Study(net) => {
            let setup = net.setup()?;
            let out = &net.out;
            let rows = rules::study(setup);
            let md = rules::markdown(setup, &rows);
            println!("{md}");
            let doc = format!(
                "# Simulator: reassignment rules with the tree ready on-chain\n\nProduced by `make sim` \
                 (`{}`).\n\n{md}",
                net.command("study")
            );
            write(&out.join("sim-rules.md"), &doc)?;
            println!("wrote {}", out.join("sim-rules.md").display());
        }
        Cmd::Compare(net) => {
            let setup = net.setup()?;
            let out = &net.out;
            let started = std::time::Instant::now();
            let rows = compare::compare(setup);
            let md = compare::markdown(setup, &rows);
            println!("{md}");
            println!(
                "{} runs in {:.1} s",
                rows.len() as u64 * net.seeds,
                started.elapsed().as_secs_f64()
            );
            let doc = format!(
                "# Simulator: reassignment policies under faults\n\nProduced by `make sim` \
                 (`{}`).\n\n\
                 ![faults at the start](sim-compare-start.svg)\n![faults late](sim-compare-late.svg)\n\n{md}",
                net.command("compare")
            );
            write(&out.join("sim-compare.md"), &doc)?;
            plot::compare(out, &rows, "start")?;
            plot::compare(out, &rows, "late")?;
            println!("wrote {}", out.join("sim-compare.md").display());
        }
        Cmd::Run { scenario, seed } => {
            let text = std::fs::read_to_string(&scenario)
                .with_context(|| format!("reading {}", scenario.display()))?;
            let mut sc =
                Scenario::from_toml(&text).with_context(|| format!("in {}", scenario.display()))?;
            if let Some(seed) = seed {
                sc.seed = seed;
            }
            let o = crowdprove_sim::run(sc);
            println!("{o:#?}");
            println!(
                "makespan {:.2} min, wasted {:.1}%, {:.2} M events/s",
                o.makespan_secs / 60.0,
                o.wasted_share() * 100.0,
                o.events_per_sec() / 1e6
            );
        }
        Cmd::Scale {
            jobs,
            provers,
            aggregation,
        } => {
            let mut sc = Scenario::ideal(jobs, provers, crowdprove_sim::Hardware::Cpu8);
            sc.aggregation = aggregation;
            sc.provers[0].cv = 0.1;
            sc.validate()?;
            let o = crowdprove_sim::run(sc);
            println!(
                "{jobs} jobs{} on {provers} provers: makespan {:.1} min, {} events in {:.2} s ({:.2} M events/s)",
                if aggregation { " + tree" } else { "" },
                o.makespan_secs / 60.0,
                o.events,
                o.wall_secs,
                o.events_per_sec() / 1e6
            );
        }
        Cmd::Traces { out } => {
            for sc in trace::differential_scenarios() {
                let name = sc.name.clone();
                let (_, sim) = crowdprove_sim::Sim::new(sc).with_trace().run();
                let t = sim.trace().expect("recorded");
                write(&out.join(format!("{name}.hex")), &t.to_hex())?;
                println!("{name}: {} operations", t.len());
            }
        }
    }
    Ok(())
}
