//! The proving worker: a long-lived child process (`crowdprove-prover worker`) that owns the
//! circuits and proves one job at a time. plonky2's prover cannot be interrupted in-process;
//! a job another prover completed is dropped by killing the worker, and a warm spare takes its
//! place (`crate::proving`). Messages are length-prefixed bincode over stdin/stdout.

use std::io::{Read, Write};
use std::process::Stdio;

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crowdprove_circuits::backend::{Backend, choose};
use std::path::Path;

use crowdprove_circuits::registry::{Checked, External, ExternalInputs, Registry};
use crowdprove_circuits::{CircuitId, Circuits, JobWitness, ProverAddress, PublicInputs};
use crowdprove_protocol::{ParamSet, Statement, StatementJson};

/// A request to the worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// The id of the circuit at `level`.
    CircuitId {
        /// Tree level (0: chunks).
        level: u8,
    },
    /// Prove a job whose leaf commits to `statement`.
    Prove {
        /// The job.
        job_id: u64,
        /// The prover the proof binds.
        prover: [u8; 20],
        /// Tree level.
        level: u8,
        /// The top level of the job's tree: the worker builds the circuits up to it in the
        /// background, so that its first job of each level does not wait seconds for them.
        top: u8,
        /// The batch's circuit id: a round-0 job of a circuit the registry gives an external
        /// prover is proven by its command.
        circuit: [u8; 32],
        /// What the leaf says the proof must state.
        statement: StatementJson,
        /// The witness bytes.
        witness: Vec<u8>,
    },
}

/// The worker's answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    /// A circuit id.
    CircuitId([u8; 32]),
    /// A proof, verified against the committed statement, the job id and the prover.
    Proof(Vec<u8>),
    /// The witness does not prove what the leaf commits to: the relayer served a bad witness.
    Refused(String),
    /// Proving failed.
    Failed(String),
}

fn write_frame(out: &mut impl Write, msg: &impl Serialize) -> anyhow::Result<()> {
    let body = bincode::serialize(msg)?;
    out.write_all(&(body.len() as u32).to_be_bytes())?;
    out.write_all(&body)?;
    out.flush()?;
    Ok(())
}

fn read_frame<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> anyhow::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    input.read_exact(&mut body)?;
    Ok(Some(bincode::deserialize(&body)?))
}

/// The worker's main loop (in the child process): opens `backend`, builds the circuits of
/// `set` and answers requests until stdin closes.
pub fn serve(set: ParamSet, backend: Backend, registry: Option<&Path>) -> anyhow::Result<()> {
    let registry = registry
        .map(Registry::load)
        .transpose()?
        .unwrap_or_default();
    let chosen = choose(backend)?;
    if let Some(why) = &chosen.fallback {
        eprintln!("crowdprove-prover worker: backend cpu (auto: {why})");
    }
    chosen.install();
    let circuits = std::sync::Arc::new(Circuits::build(set));
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut warmed = 0;
    while let Some(req) = read_frame::<Request>(&mut input)? {
        if let Request::Prove { top, .. } = req {
            if top > warmed {
                warmed = top;
                let c = circuits.clone();
                std::thread::spawn(move || {
                    let _ = c.circuit_id(top);
                });
            }
        }
        let resp = match req {
            Request::CircuitId { level } => match circuits.circuit_id(level) {
                Ok(id) => Response::CircuitId(id.0),
                Err(e) => Response::Failed(e.to_string()),
            },
            Request::Prove {
                job_id,
                prover,
                level: 0,
                circuit,
                statement,
                witness,
                ..
            } if registry.external(&CircuitId(circuit)).is_some() => {
                let x = registry.external(&CircuitId(circuit)).expect("matched");
                prove_external(x, circuit, job_id, prover, statement.into(), &witness)
            }
            Request::Prove {
                job_id,
                prover,
                level,
                statement,
                witness,
                ..
            } => {
                crate::faults::worker_proving();
                prove(
                    &circuits,
                    job_id,
                    ProverAddress(prover),
                    level,
                    statement.into(),
                    &witness,
                )
            }
        };
        write_frame(&mut output, &resp)?;
    }
    Ok(())
}

fn prove(
    circuits: &Circuits,
    job_id: u64,
    prover: ProverAddress,
    level: u8,
    statement: Statement,
    witness: &[u8],
) -> Response {
    let witness = match JobWitness::decode(witness) {
        Ok(w) => w,
        Err(e) => return Response::Refused(format!("the witness does not decode: {e}")),
    };
    if witness.level() != level {
        return Response::Refused(format!(
            "the witness is for level {}, the job is at level {level}",
            witness.level()
        ));
    }
    match circuits.statement_of(&witness) {
        Ok(s) if s == statement => {}
        Ok(_) => {
            return Response::Refused(
                "the witness proves another statement than the leaf commits to".into(),
            );
        }
        Err(e) => return Response::Refused(format!("the witness is unusable: {e}")),
    }
    let proof = match circuits.prove_job(&witness, job_id, prover) {
        Ok(p) => p,
        Err(e) => return Response::Failed(e.to_string()),
    };
    // Never hand out what the chain would not accept: check it as the relayer will.
    match circuits.verify(
        proof.as_bytes(),
        level,
        &PublicInputs {
            statement,
            job_id,
            prover,
        },
    ) {
        Ok(()) => Response::Proof(proof.into_bytes()),
        Err(e) => Response::Failed(format!("the new proof does not verify: {e}")),
    }
}

// Proves a round-0 job with its circuit's external prover, and checks the proof with the
// external verifier as the relayer will.
fn prove_external(
    x: &External,
    circuit: [u8; 32],
    job_id: u64,
    prover: [u8; 20],
    statement: Statement,
    witness: &[u8],
) -> Response {
    let inputs = ExternalInputs::new(CircuitId(circuit), job_id, prover, statement);
    let proof = match x.prove(witness, &inputs) {
        Ok(p) => p,
        Err(e) => return Response::Failed(e.to_string()),
    };
    match x.verify(&proof, &inputs) {
        Ok(Checked::Valid) => Response::Proof(proof),
        Ok(Checked::Invalid(why)) => Response::Failed(format!(
            "the external prover's proof does not verify: {why}"
        )),
        Err(e) => Response::Failed(e.to_string()),
    }
}

/// The client's side of a worker: spawns `crowdprove-prover worker` and sends requests;
/// dropping it kills the process (how a job is dropped mid-proof).
pub struct Worker {
    // Held so that dropping the worker kills its process (kill_on_drop).
    _child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

impl Worker {
    /// Starts a worker of `set` on `backend` using `threads` threads.
    pub fn spawn(
        set: ParamSet,
        backend: Backend,
        threads: usize,
        circuits: Option<&Path>,
    ) -> anyhow::Result<Worker> {
        let exe = std::env::current_exe().context("locating this program to start its worker")?;
        let mut cmd = Command::new(exe);
        cmd.args([
            "worker",
            "--params",
            set.name(),
            "--backend",
            &backend.to_string(),
        ]);
        if let Some(c) = circuits {
            cmd.arg("--circuits").arg(c);
        }
        let mut child = cmd
            .env("RAYON_NUM_THREADS", threads.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting the proving worker")?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("worker stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("worker stdout"))?;
        Ok(Worker {
            _child: child,
            stdin,
            stdout,
        })
    }

    async fn call(&mut self, req: &Request) -> anyhow::Result<Response> {
        let body = bincode::serialize(req)?;
        self.stdin
            .write_all(&(body.len() as u32).to_be_bytes())
            .await?;
        self.stdin.write_all(&body).await?;
        self.stdin.flush().await?;
        let mut len = [0u8; 4];
        self.stdout
            .read_exact(&mut len)
            .await
            .context("the proving worker died")?;
        let mut resp = vec![0u8; u32::from_be_bytes(len) as usize];
        self.stdout
            .read_exact(&mut resp)
            .await
            .context("the proving worker died")?;
        Ok(bincode::deserialize(&resp)?)
    }

    /// The id of the circuit this worker builds for `level`.
    pub async fn circuit_id(&mut self, level: u8) -> anyhow::Result<[u8; 32]> {
        match self.call(&Request::CircuitId { level }).await? {
            Response::CircuitId(id) => Ok(id),
            Response::Failed(e) | Response::Refused(e) => bail!("circuit of level {level}: {e}"),
            Response::Proof(_) => bail!("unexpected answer from the worker"),
        }
    }

    /// Proves a job. Not cancel-safe: a dropped call leaves the worker mid-answer, so the
    /// caller replaces it (and dropping a `Worker` kills its process).
    pub async fn prove(&mut self, req: &Request) -> anyhow::Result<Response> {
        self.call(req).await
    }
}
