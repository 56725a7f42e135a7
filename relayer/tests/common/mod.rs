//! A devnet for relayer tests: anvil, a deployed Coordinator, a running relayer, and a minimal
//! test prover that leases, fetches, proves, submits and uploads through the real interfaces.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::DynProvider;

use crowdprove_bindings::Coordinator;
use crowdprove_bindings::test_utils::TestChain;
use crowdprove_circuits::{Circuits, JobWitness, Proof, ProverAddress};
use crowdprove_protocol::{JobInfo, JobStatus, ParamSet, Statement};
use crowdprove_relayer::test_utils::{NetSpec, init_test_tracing, test_net};
use crowdprove_relayer::{RelayerConfig, RelayerHandle};

pub const SET: ParamSet = ParamSet::Small;
pub const BOND: u64 = 10;
pub const REWARD: u64 = 3;
pub const SLASH: u64 = 5;
pub const UPLOAD_DEADLINE: u32 = 10;

pub struct Net {
    pub chain: TestChain,
    pub dir: tempfile::TempDir,
    pub cfg: RelayerConfig,
}

impl Net {
    /// Anvil plus a deployed Coordinator; `chunks` per demo batch, `batches` batches.
    pub async fn new(chunks: u32, batches: u64) -> Net {
        init_test_tracing();
        let dir = tempfile::tempdir().unwrap();
        let spec = NetSpec {
            batches,
            seed: 5,
            bond: U256::from(BOND),
            slash: U256::from(SLASH),
            reward: U256::from(REWARD),
            upload_deadline: UPLOAD_DEADLINE,
            verify_workers: 2,
            ..NetSpec::new(SET, chunks)
        };
        let (chain, cfg) = test_net(&spec, dir.path()).await.unwrap();
        Net { chain, dir, cfg }
    }

    /// A network with its relayer running; returns the relayer and its URL too.
    pub async fn running(chunks: u32, batches: u64) -> (Net, RelayerHandle, String) {
        let net = Net::new(chunks, batches).await;
        let relayer = net.start_relayer().await;
        let base = format!("http://{}", relayer.addr);
        (net, relayer, base)
    }

    pub async fn start_relayer(&self) -> RelayerHandle {
        crowdprove_relayer::start(self.cfg.clone()).await.unwrap()
    }

    pub fn coord(&self) -> Coordinator::CoordinatorInstance<DynProvider> {
        self.chain.coord()
    }

    /// A funded, bonded prover for anvil account `index`.
    pub async fn prover(&self, index: usize, leases: u64, base: &str) -> TestProver {
        self.chain
            .stake(index, U256::from(BOND * leases))
            .await
            .unwrap();
        TestProver {
            address: self.chain.address(index),
            coord: self.chain.coord_as(index),
            http: reqwest::Client::new(),
            base: base.to_string(),
        }
    }

    /// Moves chain time forward and mines a block.
    pub async fn advance(&self, secs: u64) {
        self.chain.advance(secs).await.unwrap();
    }

    /// The contract's own accounting identity over these provers.
    pub async fn books_balance(&self, provers: &[Address]) {
        let (held, sum) = self.chain.books(provers).await.unwrap();
        assert_eq!(
            held, sum,
            "token balance = bonds + unbonding + earnings + escrow + slashes owed"
        );
    }
}

pub struct TestProver {
    pub address: Address,
    pub coord: Coordinator::CoordinatorInstance<DynProvider>,
    pub http: reqwest::Client,
    pub base: String,
}

pub enum Step {
    Proved(u64),
    /// Another prover completed the job first.
    Dropped,
    NoJob,
}

impl TestProver {
    pub fn addr(&self) -> ProverAddress {
        ProverAddress(self.address.0.0)
    }

    pub async fn lease(&self) -> Option<(u64, u64)> {
        let pending = self.coord.lease().send().await.ok()?;
        let receipt = pending.get_receipt().await.unwrap();
        let ev = receipt.decoded_log::<Coordinator::JobLeased>()?;
        Some((ev.requestId, ev.requestId >> 24))
    }

    /// Leases, retrying while no job is posted yet.
    pub async fn lease_wait(&self) -> (u64, u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(l) = self.lease().await {
                return l;
            }
            assert!(Instant::now() < deadline, "nothing to lease for 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fetches a job, retrying while the relayer has not seen its batch yet.
    pub async fn fetch(&self, job_id: u64) -> (JobInfo, Vec<u8>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self
                .http
                .get(format!("{}/v1/jobs/{job_id}", self.base))
                .send()
                .await
                .unwrap();
            if r.status().is_success() {
                let info: JobInfo = r.json().await.unwrap();
                let w = self
                    .http
                    .get(format!("{}/v1/jobs/{job_id}/witness", self.base))
                    .send()
                    .await
                    .unwrap();
                assert!(w.status().is_success());
                return (info, w.bytes().await.unwrap().to_vec());
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id} never appeared at the relayer"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn prove(&self, info: &JobInfo, witness: &[u8], job_id: u64) -> Proof {
        let w = JobWitness::decode(witness).unwrap();
        let circuits = Circuits::shared(SET);
        let expected: Statement = info.statement.into();
        let addr = self.addr();
        tokio::task::spawn_blocking(move || {
            assert_eq!(
                circuits.statement_of(&w).unwrap(),
                expected,
                "witness proves the leaf's statement"
            );
            circuits.prove_job(&w, job_id, addr).unwrap()
        })
        .await
        .unwrap()
    }

    /// Leases a job (waiting for one), fetches and proves it; returns the lease and the proof,
    /// not yet submitted.
    pub async fn lease_and_prove(&self) -> (u64, Proof) {
        let (rid, job) = self.lease_wait().await;
        let (info, witness) = self.fetch(job).await;
        let proof = self.prove(&info, &witness, job).await;
        (rid, proof)
    }

    pub async fn submit(&self, request_id: u64, hash: [u8; 32]) {
        self.try_submit(request_id, hash).await.unwrap();
    }

    /// Submits; an error when the chain refuses (e.g. the job was completed meanwhile).
    pub async fn try_submit(&self, request_id: u64, hash: [u8; 32]) -> Result<(), String> {
        let pending = self
            .coord
            .submitProof(request_id, B256::from(hash))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        pending.get_receipt().await.map_err(|e| e.to_string())?;
        Ok(())
    }

    pub async fn upload(&self, request_id: u64, bytes: &[u8]) -> reqwest::StatusCode {
        self.http
            .put(format!("{}/v1/proofs/{request_id}", self.base))
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Steps until one job is proven (the relayer may not have posted yet); returns it.
    pub async fn prove_one(&self) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Step::Proved(job) = self.step().await {
                return job;
            }
            assert!(Instant::now() < deadline, "no job to prove for a minute");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn job_complete(&self, job: u64) -> bool {
        let status = self
            .coord
            .job(job.try_into().unwrap())
            .call()
            .await
            .unwrap()
            .status;
        JobStatus::try_from(status).unwrap() != JobStatus::Pending
    }

    /// Leases a job and does it honestly, dropping it if another prover completes it first.
    pub async fn step(&self) -> Step {
        let Some((rid, job)) = self.lease().await else {
            return Step::NoJob;
        };
        tracing::info!(prover = %self.address, rid, job, "test prover leased");
        if self.job_complete(job).await {
            return Step::Dropped;
        }
        let (info, witness) = self.fetch(job).await;
        let proof = self.prove(&info, &witness, job).await;
        if self.try_submit(rid, proof.hash()).await.is_err() {
            assert!(
                self.job_complete(job).await,
                "a submission refused for a job still pending"
            );
            return Step::Dropped;
        }
        assert!(self.upload(rid, proof.as_bytes()).await.is_success());
        tracing::info!(prover = %self.address, rid, job, "test prover uploaded");
        Step::Proved(job)
    }
}

/// Waits until `f` is true, polling.
pub async fn eventually<F: AsyncFnMut() -> bool>(what: &str, secs: u64, mut f: F) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn final_dir(net: &Net) -> PathBuf {
    net.dir.path().join("final")
}
