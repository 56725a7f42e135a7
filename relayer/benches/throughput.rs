//! `cargo bench -p crowdprove-relayer --bench throughput [-- --proofs N] [--out FILE]`:
//! verified proofs per second through the relayer's own pipeline (blob read, decode, verify,
//! database write, on its worker pool), the bare verifier's rate on the same cores for
//! comparison, and verdicts posted per second with the gas per verdict on a real anvil.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use alloy::node_bindings::Anvil;
use alloy::primitives::aliases::U24;
use alloy::primitives::{B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;

use crowdprove_bindings::{
    Coordinator, DeployParams, TestToken, anvil_binary, deploy_devnet, signing_provider,
};
use crowdprove_circuits::{Circuits, ParamSet, ProverAddress, PublicInputs, Sequencer};
use crowdprove_relayer::blobs::{BlobKind, BlobStore};
use crowdprove_relayer::chain::Chain;
use crowdprove_relayer::config::RelayerConfig;
use crowdprove_relayer::db::{Db, JobRow};
use crowdprove_relayer::manifest::encode_statement;
use crowdprove_relayer::{Service, Shared};

const SET: ParamSet = ParamSet::Small;

fn config(
    dir: &std::path::Path,
    rpc: String,
    key: PrivateKeySigner,
    coordinator: alloy::primitives::Address,
) -> RelayerConfig {
    RelayerConfig {
        params: SET,
        chunks: 1,
        max_open_batches: 0,
        reward: U256::from(1),
        aggregation_reward: U256::from(1),
        verdict_max_age_ms: 0,
        upload_limit: 1 << 20,
        ..RelayerConfig::local(rpc, key, coordinator, dir)
    }
}

fn shared(cfg: RelayerConfig, db: Arc<Db>) -> Arc<Shared> {
    let chain = Chain::new(&cfg.rpc_url, cfg.relayer_key.0.clone(), cfg.coordinator).unwrap();
    Arc::new(Shared {
        blobs: BlobStore::open(&cfg.blobs).unwrap(),
        cfg,
        db,
        chain,
        circuits: Circuits::shared(SET),
        metrics: Default::default(),
        wake: Default::default(),
    })
}

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
    let proofs: Vec<_> = batch
        .chunks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            (
                i as u64 + 1,
                w.statement(SET).unwrap(),
                circuits.prove_chunk(w, i as u64 + 1, prover).unwrap(),
            )
        })
        .collect();

    // The bare verifier on every core, for the ceiling.
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    let per_thread = n / cores;
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..cores {
            let (circuits, proofs) = (&circuits, &proofs);
            s.spawn(move || {
                for k in 0..per_thread {
                    let (job_id, statement, proof) = &proofs[(t + k) % proofs.len()];
                    let pi = PublicInputs {
                        statement: *statement,
                        job_id: *job_id,
                        prover,
                    };
                    circuits.verify(proof.as_bytes(), 0, &pi).unwrap();
                }
            });
        }
    });
    let bare_elapsed = started.elapsed().as_secs_f64();
    let bare_per_sec = (per_thread * cores) as f64 / bare_elapsed;
    let started = Instant::now();
    for (job_id, statement, proof) in proofs.iter().take(4) {
        circuits
            .verify(
                proof.as_bytes(),
                0,
                &PublicInputs {
                    statement: *statement,
                    job_id: *job_id,
                    prover,
                },
            )
            .unwrap();
    }
    let bare_ms = started.elapsed().as_secs_f64() * 1000.0 / 4.0;

    // The relayer's pipeline: n uploaded submissions of those proofs in its database.
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKeySigner::random();
    let cfg = config(
        dir.path(),
        "http://127.0.0.1:9".into(),
        key,
        Default::default(),
    );
    let db = Arc::new(Db::open(&cfg.db).unwrap());
    let shared = shared(cfg, db.clone());
    for (job_id, statement, proof) in &proofs {
        shared
            .blobs
            .put(BlobKind::Proof, proof.as_bytes().to_vec())
            .await
            .unwrap();
        db.transaction(|tx| {
            tx.insert_job(&JobRow {
                job_id: *job_id,
                batch_id: 1,
                idx: job_id - 1,
                root_batch: 1,
                level: 0,
                node: job_id - 1,
                statement: encode_statement(statement),
                witness_hash: [0; 32],
                winning_proof: None,
            })
        })
        .unwrap();
    }
    db.transaction(|tx| {
        for i in 0..n {
            let (job_id, _, proof) = &proofs[i % proofs.len()];
            tx.insert_submission(
                ((i as u64 + 1) << 24) | 1,
                *job_id,
                &prover.0,
                &proof.hash(),
                0,
                i as u64,
                0,
                true,
            )?;
        }
        Ok(())
    })
    .unwrap();
    let service = Service::new(shared.clone()).unwrap();
    let started = Instant::now();
    loop {
        let done = shared.metrics.verified_valid.load(Ordering::Relaxed)
            + shared.metrics.verified_invalid.load(Ordering::Relaxed);
        if done as usize >= n {
            break;
        }
        service.verify_pending().await.unwrap();
        let _ = tokio::time::timeout(Duration::from_millis(50), shared.wake.notified()).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(shared.metrics.verified_invalid.load(Ordering::Relaxed), 0);
    VerifyResult {
        proofs: n,
        pipeline_per_sec: n as f64 / elapsed,
        bare_per_sec,
        bare_ms,
    }
}

struct VerdictResult {
    verdicts: usize,
    batch: usize,
    per_sec: f64,
    gas_per_verdict: f64,
    gas_per_tx: f64,
}

async fn verdict_posting(n: usize, batch_size: usize) -> VerdictResult {
    let anvil = Anvil::at(anvil_binary()).args(["--accounts", "11"]).spawn();
    let op: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = signing_provider(op.clone(), &anvil.endpoint()).unwrap();
    let params = DeployParams {
        owner: op.address(),
        relayer: op.address(),
        treasury: op.address(),
        param_delay: 3600,
        bond_per_lease: U256::from(1),
        min_bond: U256::from(1),
        slash_amount: U256::from(1),
        min_reassign_age: 0,
        upload_deadline: 3600,
        unbonding_delay: 60,
    };
    let (token, coordinator) = deploy_devnet(provider.clone(), &params).await.unwrap();
    let t = TestToken::new(token, provider.clone());
    t.mint(op.address(), U256::from(n))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    t.approve(coordinator, U256::MAX)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let c = Coordinator::new(coordinator, provider.clone());
    c.postBatch(
        keccak256("bench"),
        U24::from(n),
        U256::from(1).to(),
        0,
        0,
        0,
        keccak256("c"),
    )
    .send()
    .await
    .unwrap()
    .get_receipt()
    .await
    .unwrap();

    eprintln!("leasing and submitting {n} jobs on anvil...");
    let provers = 10;
    for p in 1..=provers {
        let key: PrivateKeySigner = anvil.keys()[p].clone().into();
        let pp = signing_provider(key.clone(), &anvil.endpoint()).unwrap();
        let tok = TestToken::new(token, pp.clone());
        let share = n / provers;
        tok.mint(key.address(), U256::from(share))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        tok.approve(coordinator, U256::MAX)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        let cp = Coordinator::new(coordinator, pp.clone());
        cp.stake(U256::from(share))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        let mut leased = 0;
        while leased < share {
            let k = (share - leased).min(16);
            let r = cp
                .leaseMany(U256::from(k))
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            let ids: Vec<u64> = r
                .logs()
                .iter()
                .filter_map(|l| l.log_decode::<Coordinator::JobLeased>().ok())
                .map(|l| l.inner.data.requestId)
                .collect();
            let hashes: Vec<B256> = ids.iter().map(|id| keccak256(id.to_be_bytes())).collect();
            cp.submitProofs(ids.clone(), hashes)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            leased += ids.len();
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), anvil.endpoint(), op, coordinator);
    cfg.verdict_batch = batch_size;
    let db = Arc::new(Db::open(&cfg.db).unwrap());
    let shared = shared(cfg, db.clone());
    let service = Service::new(shared.clone()).unwrap();
    service.step().await.unwrap();
    let pending = db.counts().unwrap().awaiting_verdict as usize;
    assert_eq!(pending, n, "the relayer followed every submission");
    // Decide every verdict (Valid) as the verifier would, then time their posting.
    let rows = db.undecided(n).unwrap();
    for r in &rows {
        db.set_local_verdict(r.request_id, Some(1), 0).unwrap();
    }
    let started = Instant::now();
    while shared.metrics.verdicts_sent.load(Ordering::Relaxed) < n as u64 {
        service.step().await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let txs = shared.metrics.verdict_txs.load(Ordering::Relaxed) as f64;
    let gas = shared.metrics.verdict_gas.load(Ordering::Relaxed) as f64;
    VerdictResult {
        verdicts: n,
        batch: batch_size,
        per_sec: n as f64 / elapsed,
        gas_per_verdict: gas / n as f64,
        gas_per_tx: gas / txs,
    }
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
    let d = rt.block_on(verdict_posting(1000, 32));
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
        d.batch,
        d.per_sec,
        d.gas_per_verdict,
        d.gas_per_tx,
    );
    print!("{table}");
    if let Some(path) = out {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find_map(|l| l.strip_prefix("model name\t: ").map(str::to_string))
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let doc = format!(
            "# Relayer throughput\n\nCommand: `make bench` (runs `cargo bench -p crowdprove-relayer --bench throughput -- --proofs {proofs} --out {path}`).\nMachine: {cpu}, {cores} cores. Proofs are small-parameter chunk proofs; the pipeline reads each from the blob store, decodes it, verifies it against the statement, job id and prover the database holds for it, and records the verdict, on the relayer's worker pool.\n\n{table}"
        );
        std::fs::write(root.join(&path), doc).unwrap();
        eprintln!("wrote {path}");
    }
}
