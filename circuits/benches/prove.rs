//! `cargo bench -p crowdprove-circuits --bench prove [-- small default paper] [--jobs N] [--out FILE]`:
//! for each parameter set, prove time per chunk job and per aggregation job, verify time,
//! proof and witness sizes, and peak memory. Each set runs in its own child process, so its
//! peak memory is its own.

#[path = "../../tools/bench_results.rs"]
mod results;

use std::process::Command;
use std::time::Instant;

use crowdprove_circuits::{Circuits, ProverAddress, PublicInputs, Sequencer};
use crowdprove_protocol::{ParamSet, Statement};

const CHILD_ENV: &str = "CROWDPROVE_BENCH_SET";

struct Row {
    set: ParamSet,
    chunk_rows: usize,
    agg_rows: usize,
    build_chunk: f64,
    build_agg: f64,
    prove_chunk: f64,
    prove_agg: f64,
    verify_ms: f64,
    proof_kb: f64,
    agg_proof_kb: f64,
    witness_kb: f64,
    peak_mib: f64,
}

impl Row {
    fn to_line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {} {} {} {} {}",
            self.set,
            self.chunk_rows,
            self.agg_rows,
            self.build_chunk,
            self.build_agg,
            self.prove_chunk,
            self.prove_agg,
            self.verify_ms,
            self.proof_kb,
            self.agg_proof_kb,
            self.witness_kb,
            self.peak_mib
        )
    }

    fn from_line(line: &str) -> Option<Row> {
        let f: Vec<&str> = line.split_whitespace().collect();
        let n = |i: usize| f.get(i)?.parse::<f64>().ok();
        Some(Row {
            set: f.first()?.parse().ok()?,
            chunk_rows: f.get(1)?.parse().ok()?,
            agg_rows: f.get(2)?.parse().ok()?,
            build_chunk: n(3)?,
            build_agg: n(4)?,
            prove_chunk: n(5)?,
            prove_agg: n(6)?,
            verify_ms: n(7)?,
            proof_kb: n(8)?,
            agg_proof_kb: n(9)?,
            witness_kb: n(10)?,
            peak_mib: n(11)?,
        })
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn measure(set: ParamSet, jobs: u32) -> Row {
    let prover = ProverAddress([0x5a; 20]);
    let t = Instant::now();
    let circuits = Circuits::build(set);
    let build_chunk = t.elapsed().as_secs_f64();
    let batch = Sequencer::new(set, 1).next_batch(jobs.max(2));
    let witness_kb = batch.chunks[0].encode().len() as f64 / 1000.0;

    let t = Instant::now();
    let proofs: Vec<_> = batch
        .chunks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            circuits
                .prove_chunk(w, i as u64 + 1, prover)
                .expect("chunk proves")
        })
        .collect();
    let prove_chunk = t.elapsed().as_secs_f64() / proofs.len() as f64;

    let t = Instant::now();
    let agg_rows = 1 << circuits.degree_bits(1).expect("level 1");
    let build_agg = t.elapsed().as_secs_f64();
    let pairs = (proofs.len() / 2).max(1);
    let t = Instant::now();
    let mut agg_proof_kb = 0.0;
    for k in 0..pairs {
        let a = circuits
            .prove_aggregation(
                1,
                &proofs[2 * k],
                proofs.get(2 * k + 1),
                1000 + k as u64,
                prover,
            )
            .expect("aggregation proves");
        agg_proof_kb = a.as_bytes().len() as f64 / 1000.0;
    }
    let prove_agg = t.elapsed().as_secs_f64() / pairs as f64;

    let statement: Statement = batch.chunks[0].statement(set).expect("statement");
    let expected = PublicInputs {
        statement,
        job_id: 1,
        prover,
    };
    let rounds = 100;
    let t = Instant::now();
    for _ in 0..rounds {
        circuits
            .verify(proofs[0].as_bytes(), 0, &expected)
            .expect("verifies");
    }
    let verify_ms = t.elapsed().as_secs_f64() * 1000.0 / rounds as f64;

    Row {
        set,
        chunk_rows: 1 << circuits.degree_bits(0).expect("level 0"),
        agg_rows,
        build_chunk,
        build_agg,
        prove_chunk,
        prove_agg,
        verify_ms,
        proof_kb: proofs[0].as_bytes().len() as f64 / 1000.0,
        agg_proof_kb,
        witness_kb,
        peak_mib: peak_rss_mib(),
    }
}

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| set | chunk rows | transfers/chunk | prove chunk (s) | aggregation rows | prove aggregation (s) | verify (ms) | proof (KB) | witness (KB) | peak memory (MiB) | circuit build chunk / level 1 (s) |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out += &format!(
            "| {} | 2^{} | {} | {:.2} | 2^{} | {:.2} | {:.1} | {:.0} / {:.0} | {:.0} | {:.0} | {:.1} / {:.1} |\n",
            r.set,
            r.chunk_rows.trailing_zeros(),
            r.set.params().transfers_per_chunk,
            r.prove_chunk,
            r.agg_rows.trailing_zeros(),
            r.prove_agg,
            r.verify_ms,
            r.proof_kb,
            r.agg_proof_kb,
            r.witness_kb,
            r.peak_mib,
            r.build_chunk,
            r.build_agg,
        );
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut jobs = 2u32;
    let mut out_file = None;
    let mut sets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--jobs" => jobs = it.next().and_then(|v| v.parse().ok()).expect("--jobs N"),
            "--out" => out_file = it.next().cloned(),
            s => sets.push(s.parse::<ParamSet>().unwrap_or_else(|e| panic!("{e}"))),
        }
    }

    if let Ok(set) = std::env::var(CHILD_ENV) {
        let set: ParamSet = set.parse().expect("parameter set");
        println!("{}", measure(set, jobs).to_line());
        return;
    }

    if sets.is_empty() {
        sets = ParamSet::ALL.to_vec();
    }
    let exe = std::env::current_exe().expect("own path");
    let mut rows = Vec::new();
    for set in sets {
        eprintln!("benchmarking the {set} parameter set ({jobs} chunk jobs)...");
        let out = Command::new(&exe)
            .env(CHILD_ENV, set.name())
            .args(["--jobs", &jobs.to_string()])
            .output()
            .expect("run the benchmark child");
        assert!(
            out.status.success(),
            "{set}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8_lossy(&out.stdout);
        rows.push(Row::from_line(line.trim()).expect("child's result line"));
    }
    let table = table(&rows);
    print!("{table}");
    if let Some(path) = out_file {
        results::write(
            &path,
            "Circuit benchmarks",
            &format!(
                "cargo bench -p crowdprove-circuits --bench prove -- small default paper --jobs {jobs} --out {path}"
            ),
            &format!(
                "Prove times are per job, averaged over {jobs} chunk jobs and their aggregations; verify is one chunk proof, averaged over 100 runs."
            ),
            &table,
        );
    }
}
