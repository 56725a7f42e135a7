//! The relayer's own pipeline, measured: `make bench` runs `benches/throughput.rs`, which
//! sets the stage (proofs, a chain with submissions) and calls these to time the relayer's
//! verify and verdict duties as the work loop runs them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;

use crowdprove_circuits::{Circuits, Proof, ProverAddress};
use crowdprove_protocol::{ParamSet, RequestId, Statement, Verdict};

use crate::blobs::{BlobKind, BlobStore};
use crate::chain::Chain;
use crate::config::RelayerConfig;
use crate::db::{Db, JobRow};
use crate::service::{Duty, Service, Shared};

/// A proof to feed the verifiers: its job and what it states.
pub struct Sample {
    /// The job it proves.
    pub job_id: u64,
    /// What it states.
    pub statement: Statement,
    /// The proof, bound to the job and the bench's prover.
    pub proof: Proof,
}

fn shared(cfg: RelayerConfig, circuits: Arc<Circuits>) -> anyhow::Result<Arc<Shared>> {
    let db = Arc::new(Db::open(&cfg.store.db)?);
    let blobs = BlobStore::open(&cfg.store.blobs)?;
    let chain = Chain::new(
        &cfg.chain.rpc_url,
        cfg.chain.signer()?,
        cfg.chain.coordinator_address()?,
        std::time::Duration::from_secs(cfg.follow.stuck_after_secs),
    )?;
    Ok(Arc::new(Shared::new(cfg, db, blobs, chain, circuits)))
}

/// Verified proofs per second through the verify duty (blob read, decode, verify against the
/// statement, job and prover the database holds, verdict written) with `workers` threads:
/// `n` uploaded submissions of `samples`, in turn, all proven by `prover`. No chain is
/// needed; the database and blobs go under `dir`.
pub async fn verification_rate(
    set: ParamSet,
    samples: &[Sample],
    prover: ProverAddress,
    n: usize,
    workers: Option<usize>,
    dir: &Path,
) -> anyhow::Result<f64> {
    anyhow::ensure!(!samples.is_empty(), "no sample proofs");
    let mut cfg = RelayerConfig::local(
        "http://127.0.0.1:9".into(),
        PrivateKeySigner::random(),
        Address::ZERO,
        dir,
    );
    cfg.jobs.params = set;
    cfg.verdicts.verify_workers = workers;
    let s = shared(cfg, Circuits::shared(set))?;
    for sample in samples {
        s.blobs
            .put(BlobKind::Proof, sample.proof.as_bytes().to_vec())
            .await?;
        s.db.transaction(|tx| {
            tx.insert_job(&JobRow {
                job_id: sample.job_id,
                batch_id: 1,
                idx: sample.job_id - 1,
                level: 0,
                node: sample.job_id - 1,
                statement: sample.statement.to_json(),
                witness_hash: [0; 32],
                winning_proof: None,
            })
        })?;
    }
    s.db.transaction(|tx| {
        for i in 0..n {
            let sample = &samples[i % samples.len()];
            tx.insert_submission(
                RequestId::new(i as u64 + 1, 1).0,
                sample.job_id,
                &prover.0,
                &sample.proof.hash(),
                0,
                i as u64,
                0,
                true,
            )?;
        }
        Ok(())
    })?;
    let service = Service::new(s.clone())?;
    let m = &s.metrics;
    let started = Instant::now();
    while ((m.proofs_valid.get() + m.proofs_invalid.get()) as usize) < n {
        service.run_duty(Duty::Verify).await?;
        let _ = tokio::time::timeout(Duration::from_millis(50), s.wake.notified()).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        m.proofs_invalid.get() == 0,
        "{} sample proofs did not verify",
        m.proofs_invalid.get()
    );
    Ok(n as f64 / elapsed)
}

/// What posting verdicts took.
#[derive(Clone, Copy, Debug)]
pub struct VerdictRun {
    /// Verdicts posted.
    pub verdicts: u64,
    /// `recordVerdicts` transactions.
    pub transactions: u64,
    /// Their gas.
    pub gas: u64,
    /// Seconds from the first to the last.
    pub secs: f64,
}

/// Follows a chain on which `n` submissions await verdicts, decides them all Valid as the
/// verifiers would, and times the verdicts duty posting them (`cfg.verdicts.verdict_batch`
/// per transaction).
pub async fn verdict_posting(cfg: RelayerConfig, n: usize) -> anyhow::Result<VerdictRun> {
    let set = cfg.jobs.params;
    let s = shared(cfg, Circuits::shared(set))?;
    let service = Service::new(s.clone())?;
    loop {
        service.run_duty(Duty::Follow).await?;
        let head = alloy::providers::Provider::get_block_number(&s.chain.provider).await?;
        if s.db.cursor()?.is_some_and(|c| c >= head) {
            break;
        }
    }
    let waiting = s.db.counts()?.awaiting_verdict as usize;
    anyhow::ensure!(
        waiting == n,
        "the relayer followed {waiting} submissions, not {n}"
    );
    for r in s.db.undecided(n)? {
        s.db.set_local_verdict(r.request_id, Some(Verdict::Valid), 0)?;
    }
    let m = &s.metrics;
    let started = Instant::now();
    while m.verdicts_sent.get() < n as u64 {
        service.run_duty(Duty::Verdicts).await?;
    }
    Ok(VerdictRun {
        verdicts: m.verdicts_sent.get(),
        transactions: m.verdict_txs.get(),
        gas: m.verdict_gas.get(),
        secs: started.elapsed().as_secs_f64(),
    })
}
