//! `cargo bench -p crowdprove-relayer --bench throughput [-- --proofs N] [--out FILE]`:
//! verified proofs per second through the relayer's own pipeline (blob read, decode, verify,
//! database write, on its worker pool), the bare verifier's rate on the same cores for
//! comparison, and verdicts posted per second with the gas per verdict on a real anvil.

#[path = "../../tools/bench_results.rs"]
mod results;

use std::time::Instant;

use alloy::primitives::aliases::U24;
use alloy::primitives::{U256, keccak256};

use crowdprove_bindings::Coordinator;
use crowdprove_bindings::test_utils::confirm;
use crowdprove_circuits::{Circuits, ProverAddress, PublicInputs, Sequencer};
use crowdprove_protocol::ParamSet;
use crowdprove_relayer::bench::{Sample, VerdictRun, verdict_posting, verification_rate};
use crowdprove_relayer::test_utils::{NetSpec, test_net};

const SET: ParamSet = ParamSet::Small;

struct VerifyResult {
    proofs: usize,
    pipeline_per_sec: f64,
    bare_per_sec: f64,
    bare_ms: f64,
}

async fn verification(n: usize) -> VerifyResult {
    let circuits = Circuits::shared(SET);
    let prover = ProverAddress([0x11; 20]);
    let batch = Sequencer::new(SET, 9).next_batch(8);
    eprintln!("proving 8 distinct chunk proofs...");
    let samples: Vec<Sample> = batch
        .chunks
        .iter()
        .enumerate()
        .map(|(i, w)| Sample {
            job_id: i as u64 + 1,
            statement: w.statement(SET).unwrap(),
            proof: circuits.prove_chunk(w, i as u64 + 1, prover).unwrap(),
        })
        .collect();
    let inputs = |s: &Sample| PublicInputs {
        statement: s.statement,
        job_id: s.job_id,
        prover,
    };

    // The bare verifier on every core, for the ceiling.
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    let per_thread = n / cores;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..cores {
            let (circuits, samples) = (&circuits, &samples);
            scope.spawn(move || {
                for k in 0..per_thread {
                    let s = &samples[(t + k) % samples.len()];
                    circuits.verify(s.proof.as_bytes(), 0, &inputs(s)).unwrap();
                }
            });
        }
    });
    let bare_per_sec = (per_thread * cores) as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for s in samples.iter().take(4) {
        circuits.verify(s.proof.as_bytes(), 0, &inputs(s)).unwrap();
    }
    let bare_ms = started.elapsed().as_secs_f64() * 1000.0 / 4.0;

    // The relayer's pipeline: n uploaded submissions of those proofs in its database.
    let dir = tempfile::tempdir().unwrap();
    let pipeline_per_sec = verification_rate(SET, &samples, prover, n, None, dir.path())
        .await
        .unwrap();
    VerifyResult {
        proofs: n,
        pipeline_per_sec,
        bare_per_sec,
        bare_ms,
    }
}

async fn verdicts(n: usize, batch_size: usize) -> (VerdictRun, usize) {
    let provers = 10;
    let dir = tempfile::tempdir().unwrap();
    let spec = NetSpec {
        accounts: provers + 2,
        bond: U256::from(1),
        slash: U256::from(1),
        reward: U256::from(1),
        upload_deadline: 3600,
        operator_tokens: U256::from(n),
        ..NetSpec::new(SET, 1)
    };
    let (chain, mut cfg) = test_net(&spec, dir.path()).await.unwrap();
    let c = chain.coord();
    confirm(
        crowdprove_bindings::TestToken::new(chain.token, chain.provider.clone())
            .approve(chain.coordinator, U256::MAX),
    )
    .await
    .unwrap();
    confirm(c.postBatch(
        keccak256("bench"),
        U24::from(n),
        U256::from(1).to(),
        keccak256("c"),
    ))
    .await
    .unwrap();

    eprintln!("leasing and submitting {n} jobs on anvil...");
    for p in 1..=provers {
        let share = n / provers;
        chain.stake(p, U256::from(share)).await.unwrap();
        let cp = chain.coord_as(p);
        let mut leased = 0;
        while leased < share {
            let k = (share - leased).min(16);
            let r = confirm(cp.leaseMany(U256::from(k))).await.unwrap();
            let ids: Vec<u64> = r
                .logs()
                .iter()
                .filter_map(|l| l.log_decode::<Coordinator::JobLeased>().ok())
                .map(|l| l.inner.data.requestId)
                .collect();
            for id in &ids {
                confirm(cp.submitProof(*id, keccak256(id.to_be_bytes())))
                    .await
                    .unwrap();
            }
            leased += ids.len();
        }
    }
    cfg.jobs.max_open_batches = 0;
    cfg.verdicts.verdict_batch = batch_size;
    cfg.verdicts.verdict_max_age_ms = 0;
    (verdict_posting(cfg, n).await.unwrap(), batch_size)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut proofs = 1000;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--proofs" => proofs = it.next().and_then(|v| v.parse().ok()).expect("--proofs N"),
            "--out" => out = it.next().cloned(),
            other => panic!("unknown argument {other}"),
        }
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let v = rt.block_on(verification(proofs));
    let (d, batch) = rt.block_on(verdicts(1000, 32));
    let cores = std::thread::available_parallelism().map_or(0, |c| c.get());
    let table = format!(
        "| measure | value |\n|---|---|\n\
         | proofs verified through the relayer's pipeline | {} |\n\
         | verified proofs per second (pipeline, {cores} cores) | {:.0} |\n\
         | verified proofs per second (bare verifier, {cores} threads) | {:.0} |\n\
         | one verification, one core (ms) | {:.1} |\n\
         | the paper's network needs (3,000 provers, 17,188 jobs in 9.3 min) | 31 |\n\
         | headroom over the paper's need | {:.1}x |\n\
         | verdicts posted | {} |\n\
         | verdicts per transaction | {} |\n\
         | verdicts posted per second (anvil, automine) | {:.0} |\n\
         | gas per verdict | {:.0} |\n\
         | gas per recordVerdicts transaction | {:.0} |\n",
        v.proofs,
        v.pipeline_per_sec,
        v.bare_per_sec,
        v.bare_ms,
        v.pipeline_per_sec / 31.0,
        d.verdicts,
        batch,
        d.verdicts as f64 / d.secs,
        d.gas as f64 / d.verdicts as f64,
        d.gas as f64 / d.transactions as f64,
    );
    print!("{table}");
    if let Some(path) = out {
        results::write(
            &path,
            "Relayer throughput",
            &format!(
                "cargo bench -p crowdprove-relayer --bench throughput -- --proofs {proofs} --out {path}"
            ),
            "Proofs are small-parameter chunk proofs; the pipeline reads each from the blob store, decodes it, verifies it against the statement, job id and prover the database holds for it, and records the verdict, on the relayer's worker pool.",
            &table,
        );
    }
}
