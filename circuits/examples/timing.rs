//! `cargo run -p crowdprove-circuits --features timing --example timing -- [small default paper]
//! [--out FILE]`: where a proof's time goes. Proves one chunk and one level-1 aggregation of each
//! parameter set (after one untimed warm-up proof of each) with plonky2's timing tree on, and
//! prints each step's own time (its scope's time less its sub-steps'), summed over the tree, as a
//! share of the whole proof: the work a GPU backend (issue 17) must take over to pay off.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crowdprove_circuits::{Circuits, ProverAddress, Sequencer};
use crowdprove_protocol::ParamSet;

/// Collects what plonky2 logs: its timing tree, one line a scope.
struct Collect(Mutex<Vec<String>>);

impl log::Log for Collect {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }

    fn log(&self, record: &log::Record) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record.args().to_string());
    }

    fn flush(&self) {}
}

static LOG: Collect = Collect(Mutex::new(Vec::new()));

/// One scope of the tree as printed: depth, seconds, name.
struct Scope {
    depth: usize,
    secs: f64,
    name: String,
}

// The lines logged since the last call, as scopes ("| | 0.1234s to name").
fn take_scopes() -> Vec<Scope> {
    let lines = std::mem::take(&mut *LOG.0.lock().unwrap_or_else(|e| e.into_inner()));
    lines
        .iter()
        .filter_map(|l| {
            let depth = l.matches("| ").count();
            let rest = l.trim_start_matches("| ");
            let (secs, name) = rest.split_once("s to ")?;
            Some(Scope {
                depth,
                secs: secs.parse().ok()?,
                // Counts in names ("run 1234 generators") would split one step into many.
                name: name
                    .split(' ')
                    .map(|w| if w.parse::<u64>().is_ok() { "N" } else { w })
                    .collect::<Vec<_>>()
                    .join(" "),
            })
        })
        .collect()
}

// Each step's own time summed by name, and the whole proof's time.
fn own_times(scopes: &[Scope]) -> (BTreeMap<String, f64>, f64) {
    let mut own: BTreeMap<String, f64> = BTreeMap::new();
    let total = scopes.first().map_or(0.0, |s| s.secs);
    for (i, s) in scopes.iter().enumerate() {
        let children: f64 = scopes[i + 1..]
            .iter()
            .take_while(|c| c.depth > s.depth)
            .filter(|c| c.depth == s.depth + 1)
            .map(|c| c.secs)
            .sum();
        *own.entry(s.name.clone()).or_default() += (s.secs - children).max(0.0);
    }
    (own, total)
}

/// plonky2's steps by kind of work.
const GROUPS: &[(&str, &[&str])] = &[
    ("Merkle hashing (Poseidon)", &["build Merkle tree"]),
    (
        "LDE (FFTs, transposes)",
        &[
            "FFT + blinding",
            "IFFT",
            "transpose LDEs",
            "perform final FFT N",
        ],
    ),
    (
        "quotient polynomial",
        &["compute quotient polys", "split up quotient polys"],
    ),
    (
        "witness generation",
        &[
            "run N generators",
            "compute full witness",
            "compute wire polynomials",
        ],
    ),
    (
        "FRI (folding, its trees, proof of work)",
        &[
            "fold codewords in the commitment phase",
            "reduce batch of N polynomials",
            "find proof-of-work witness",
            "compute opening proofs",
        ],
    ),
];

fn table(set: ParamSet, what: &str, scopes: &[Scope]) -> String {
    let (own, total) = own_times(scopes);
    let mut rows: Vec<_> = own.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let share = |names: &[&str]| {
        let secs: f64 = rows
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .map(|r| r.1)
            .sum();
        100.0 * secs / total.max(f64::MIN_POSITIVE)
    };
    let groups = GROUPS
        .iter()
        .map(|(g, names)| format!("{g} {:.0}%", share(names)))
        .collect::<Vec<_>>()
        .join(", ");
    let grouped: f64 = GROUPS.iter().map(|(_, names)| share(names)).sum();
    let mut out = format!(
        "\n### {set}: {what} ({total:.2} s)\n\n{groups}, the rest {:.0}%.\n\n| step (plonky2's scope) | own time (s) | share |\n|---|---:|---:|\n",
        100.0 - grouped
    );
    for (name, secs) in rows.iter().filter(|r| r.1 >= 0.0005) {
        out.push_str(&format!(
            "| {name} | {secs:.3} | {:.1}% |\n",
            100.0 * secs / total.max(f64::MIN_POSITIVE)
        ));
    }
    out
}

fn main() -> anyhow::Result<()> {
    log::set_logger(&LOG).map_err(|e| anyhow::anyhow!("{e}"))?;
    log::set_max_level(log::LevelFilter::Trace);
    let mut sets = Vec::new();
    let mut out_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out_file = args.next(),
            s => sets.push(s.parse::<ParamSet>()?),
        }
    }
    if sets.is_empty() {
        sets = vec![ParamSet::Small, ParamSet::Default];
    }
    let prover = ProverAddress([0x5a; 20]);
    let mut report = format!(
        "# Where a proof's time goes\n\nCommand: `make timing` (`cargo run -p crowdprove-circuits --features timing --example timing -- {}`).\nMachine: {}, {} cores. One chunk and one level-1 aggregation per set, each after an untimed warm-up proof; plonky2 1.1's own timing tree (its `timing` feature), each step's own time (less its sub-steps) summed over the tree.\n",
        sets.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" "),
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for set in sets {
        let circuits = Circuits::build(set);
        let batch = Sequencer::new(set, 1).next_batch(2);
        let chunk = |job: u64| circuits.prove_chunk(&batch.chunks[0], job, prover);
        chunk(1)?;
        take_scopes();
        let left = chunk(2)?;
        let scopes = take_scopes();
        report.push_str(&table(set, "chunk", &scopes));
        circuits.prove_aggregation(1, &left, None, 3, prover)?;
        take_scopes();
        circuits.prove_aggregation(1, &left, None, 4, prover)?;
        report.push_str(&table(set, "aggregation", &take_scopes()));
    }
    print!("{report}");
    if let Some(path) = out_file {
        std::fs::write(&path, &report)?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
