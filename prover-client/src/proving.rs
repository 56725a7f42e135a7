//! The second stage: proves the ready jobs one after another, starting the next the moment the
//! worker answers. The proof is spooled before it is handed on, so a crash from then on loses
//! nothing. A job another prover completes is dropped mid-proof by killing the worker; a warm
//! spare takes its place at once, so the next job never waits for a circuit rebuild, and a
//! worker that dies mid-proof is replaced the same way and the job tried again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crowdprove_circuits::backend::Backend;
use crowdprove_protocol::{JobStatus, ParamSet, hex0x, keccak256};

use crate::config::Connected;
use crate::give_back::GiveBack;
use crate::leaser::Ready;
use crate::runner::{Stop, stopped_now};
use crate::spool::{Spool, SpoolEntry};
use crate::state::{Failure, Shared};
use crate::worker::{Request, Response, Worker};

/// A spooled proof on its way to the deliverer.
pub struct Proven {
    /// What the spool holds of it.
    pub entry: SpoolEntry,
    /// The proof bytes.
    pub proof: Vec<u8>,
    /// A lease is booked to ride on its submission (`submitAndLease`).
    pub ride: bool,
}

/// Tries of one job on workers that die under it before it counts as a failure.
const WORKER_TRIES: u32 = 2;

/// How the worker processes are started.
#[derive(Clone)]
pub struct WorkerSpec {
    /// The circuits.
    pub set: ParamSet,
    /// Where the worker builds Merkle trees.
    pub backend: Backend,
    /// Threads to prove with.
    pub threads: usize,
    /// Levels whose circuits a fresh worker builds before it is used.
    pub warm_levels: u8,
    /// Keep a warm spare.
    pub spare: bool,
    /// The circuit registry the worker proves external circuits' jobs with.
    pub circuits: Option<std::path::PathBuf>,
}

impl WorkerSpec {
    /// Starts a worker and builds its circuits up to `warm_levels`.
    pub async fn warm(self) -> anyhow::Result<Worker> {
        let mut w = Worker::spawn(
            self.set,
            self.backend,
            self.threads,
            self.circuits.as_deref(),
        )?;
        w.circuit_id(self.warm_levels).await?;
        Ok(w)
    }

    /// A spare warming in the background, if spares are kept.
    pub fn spare(&self) -> Option<JoinHandle<anyhow::Result<Worker>>> {
        self.spare.then(|| tokio::spawn(self.clone().warm()))
    }
}

/// The proving stage.
pub struct Prover {
    /// The chain (to see a job completed by another prover).
    pub conn: Arc<Connected>,
    /// Shared state.
    pub shared: Arc<Shared>,
    /// Ready jobs.
    pub ready: mpsc::Receiver<Ready>,
    /// Spooled proofs, to the deliverer.
    pub proven: mpsc::UnboundedSender<Proven>,
    /// The spool.
    pub spool: Arc<Spool>,
    /// How workers start.
    pub spec: WorkerSpec,
    /// The worker in use.
    pub worker: Worker,
    /// The spare, warm (or warming).
    pub spare: Option<JoinHandle<anyhow::Result<Worker>>>,
    /// How often to look whether the job in the worker is still open.
    pub poll: Duration,
    /// How the run is asked to stop.
    pub stop: Stop,
    /// Where leases this stage will not finish go.
    pub give_back: Arc<GiveBack>,
}

// What became of one try of a job.
enum Try {
    Answer(Response),
    Died(anyhow::Error),
    Taken,
    Stopped,
}

impl Prover {
    /// Proves until the queue closes or the run stops now.
    pub async fn run(mut self) {
        let mut spare = self.spare.take();
        loop {
            let job = tokio::select! {
                j = self.ready.recv() => match j { Some(j) => j, None => break },
                _ = stopped_now(&mut self.stop) => break,
            };
            // A client that cannot produce what the chain accepts proves nothing more: each
            // submission could be slashed.
            if self.shared.stopped_for_good() {
                self.abandon(&job, "stopped for good", |_| {});
                continue;
            }
            if self.taken(job.job_id).await {
                tracing::info!(
                    job = job.job_id,
                    "another prover completed a queued job; dropping it"
                );
                self.finish(&job, |c| c.dropped += 1);
                continue;
            }
            tracing::info!(
                job = job.job_id,
                request = job.request_id,
                level = job.level,
                "proving"
            );
            let req = Request::Prove {
                job_id: job.job_id,
                prover: self.conn.address.0.0,
                level: job.level,
                top: job.top,
                circuit: job.circuit,
                statement: job.statement.into(),
                witness: job.witness.clone(),
            };
            let started = Instant::now();
            self.shared
                .update(|c| c.proving = Some((job.job_id, job.level, started)));
            let mut tries = 0;
            let outcome = loop {
                let t = self.attempt(&req, job.job_id).await;
                // Stopping now: the worker is killed with this process, nothing replaces it.
                if matches!(t, Try::Answer(_) | Try::Stopped) {
                    break t;
                }
                // The worker is mid-proof or dead: replace it with the spare.
                if let Err(e) = self.replace(&mut spare).await {
                    self.shared.fail(Failure::Own(format!(
                        "cannot start a proving worker: {e:#}"
                    )));
                    break t;
                }
                match t {
                    Try::Died(e) => {
                        tries += 1;
                        tracing::warn!(job = job.job_id, error = %format!("{e:#}"), "the proving worker died mid-proof");
                        if tries >= WORKER_TRIES {
                            break Try::Died(e);
                        }
                    }
                    other => break other,
                }
            };
            let secs = started.elapsed().as_secs_f64();
            self.shared.update(|c| {
                c.proving = None;
                c.proving_secs += secs;
            });
            match outcome {
                Try::Answer(Response::Proof(bytes)) => self.hand_on(&job, bytes),
                Try::Answer(Response::Refused(why)) => {
                    self.abandon(&job, "its witness is refused", |c| c.refused += 1);
                    self.shared.fail(Failure::Job(format!(
                        "job {}: the relayer's witness is refused: {why}",
                        job.job_id
                    )));
                }
                Try::Answer(other) => {
                    self.abandon(&job, "proving failed", |_| {});
                    self.shared.fail(Failure::Own(format!(
                        "job {}: proving failed: {other:?}",
                        job.job_id
                    )));
                }
                Try::Died(e) => {
                    self.abandon(&job, "the proving worker died under it", |_| {});
                    self.shared.fail(Failure::Own(format!(
                        "job {}: the proving worker died {WORKER_TRIES} times under it: {e:#}",
                        job.job_id
                    )));
                }
                Try::Taken => {
                    tracing::info!(
                        job = job.job_id,
                        "another prover completed this job first; dropping it mid-proof"
                    );
                    self.finish(&job, |c| c.dropped += 1);
                }
                Try::Stopped => {
                    self.abandon(&job, "stopped now", |_| {});
                    break;
                }
            }
        }
        // Jobs still queued when stopping now go back to the chain.
        self.ready.close();
        while let Ok(job) = self.ready.try_recv() {
            self.abandon(&job, "stopped now", |_| {});
        }
        tracing::debug!("proving stage done");
    }

    // One try: the worker's answer, or why there is none. Meanwhile, each poll, whether
    // another prover completed the job.
    async fn attempt(&mut self, req: &Request, job_id: u64) -> Try {
        let conn = self.conn.clone();
        let poll = self.poll;
        let mut stop = self.stop.clone();
        let watch = async move {
            loop {
                tokio::time::sleep(poll).await;
                if taken(&conn, job_id).await {
                    return;
                }
            }
        };
        tokio::select! {
            r = self.worker.prove(req) => match r {
                Ok(resp) => Try::Answer(resp),
                Err(e) => Try::Died(e),
            },
            _ = watch => Try::Taken,
            _ = stopped_now(&mut stop) => Try::Stopped,
        }
    }

    // Swaps in the spare (or a fresh worker) for the one in use, and starts the next spare.
    async fn replace(
        &mut self,
        spare: &mut Option<JoinHandle<anyhow::Result<Worker>>>,
    ) -> anyhow::Result<()> {
        let fresh = match spare.take() {
            Some(h) => match h.await {
                Ok(Ok(w)) => w,
                _ => self.spec.clone().warm().await?,
            },
            None => self.spec.clone().warm().await?,
        };
        // Dropping the old one kills it (kill_on_drop).
        self.worker = fresh;
        *spare = self.spec.spare();
        Ok(())
    }

    async fn taken(&self, job_id: u64) -> bool {
        taken(&self.conn, job_id).await
    }

    // Spools the proof and hands it on, booking the next lease on its submission if one is
    // wanted now.
    fn hand_on(&mut self, job: &Ready, proof: Vec<u8>) {
        let entry = SpoolEntry {
            request_id: job.request_id,
            job_id: job.job_id,
            proof_hash: hex0x(&keccak256(&proof)),
        };
        if let Err(e) = self.spool.put(&entry, &proof) {
            self.abandon(job, "the spool cannot be written", |_| {});
            self.shared.fail(Failure::Own(format!(
                "cannot write the spool, so a proof cannot be kept until delivered: {e:#}"
            )));
            return;
        }
        crate::faults::after_spool();
        self.shared.release(job.job_id);
        let ride = self.shared.hand_on(*self.stop.borrow() == 0);
        if self.proven.send(Proven { entry, proof, ride }).is_err() {
            // The deliverer is gone (stopping now): the spool keeps it for the next start.
            self.shared.update(|c| {
                c.delivering -= 1;
                c.riding -= usize::from(ride);
            });
        }
    }

    // Lets go of a job it will not finish, giving its lease back.
    fn abandon(&self, job: &Ready, why: &str, f: impl FnOnce(&mut crate::state::Counts)) {
        self.give_back.lease(job.request_id, job.job_id, why);
        self.finish(job, f);
    }

    fn finish(&self, job: &Ready, f: impl FnOnce(&mut crate::state::Counts)) {
        self.shared.release(job.job_id);
        self.shared.update(|c| {
            c.in_hand -= 1;
            f(c);
        });
    }
}

/// Whether a job is no longer open on the chain (a read that fails says it is still open).
pub async fn taken(conn: &Connected, job_id: u64) -> bool {
    let Ok(id) = job_id.try_into() else {
        return false;
    };
    match conn.coordinator.job(id).call().await {
        Ok(j) => JobStatus::try_from(j.status) != Ok(JobStatus::Pending),
        Err(_) => false,
    }
}
