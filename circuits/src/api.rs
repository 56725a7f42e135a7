//! The small API that hides the proof system: build the circuits of a parameter set once per
//! process, prove chunks and aggregations, verify proofs against the public inputs the caller
//! expects. A second backend (a GPU prover) would sit behind these same calls.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use plonky2::plonk::circuit_data::CircuitData;
use plonky2::plonk::proof::ProofWithPublicInputs;

use crate::circuit::aggregate::AggregationCircuit;
use crate::circuit::chunk::ChunkCircuit;
use crate::hash::{C, D, Digest, F, FieldDigest};
use crate::jobs::JobWitness;
use crate::proof::{Proof, ProofFormatError};
use crate::statement::{ProverAddress, PublicInputs, aggregate_statement};
use crate::witness::{ChunkWitness, WitnessError};
use crowdprove_protocol::Statement;
use crowdprove_protocol::{ParamSet, Params};

/// Highest tree level a circuit is built for (2^32 chunks).
pub const MAX_LEVEL: u8 = 32;

/// The digest of a circuit's verifier data: what the chain records per batch as `circuitId`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CircuitId(pub [u8; 32]);

/// Why a proof was not made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The witness is malformed or does not apply to its pre-state root.
    #[error("witness refused: {0}")]
    Witness(#[from] WitnessError),
    /// A child proof of an aggregation is not a valid proof of the level below.
    #[error("child proof refused: {0}")]
    Child(#[from] VerifyError),
    /// The children do not join: the left's post root is not the right's pre root, or their
    /// chunk ranges are not adjacent.
    #[error("child proofs do not join (roots or chunk ranges are not adjacent)")]
    NotAdjacent,
    /// The level is not one this crate builds circuits for.
    #[error("no aggregation circuit at level {0} (levels 1..={MAX_LEVEL})")]
    BadLevel(u8),
    /// The proof system failed or the result did not verify.
    #[error("proving failed: {0}")]
    Backend(String),
}

/// Why a proof did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    /// The header is wrong.
    #[error(transparent)]
    Format(#[from] ProofFormatError),
    /// The proof is for another parameter set.
    #[error("proof is for parameter set {found}, expected {expected}")]
    WrongParams {
        /// This verifier's set.
        expected: ParamSet,
        /// The proof's set.
        found: ParamSet,
    },
    /// The proof is for another tree level.
    #[error("proof is for level {found}, expected level {expected}")]
    WrongLevel {
        /// The level asked for.
        expected: u8,
        /// The proof's level.
        found: u8,
    },
    /// The bytes do not decode to a proof of that circuit, or not canonically.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof states something else than expected.
    #[error("proof's {field} differs from the expected one")]
    Mismatch {
        /// The first public input that differs.
        field: &'static str,
    },
    /// The proof does not verify.
    #[error("proof does not verify: {0}")]
    Invalid(String),
}

/// The circuits of one parameter set: the chunk circuit, built at once, and the aggregation
/// circuit of each level, built when first needed. Every party builds the same circuits from
/// the same parameters, so circuit ids agree everywhere.
pub struct Circuits {
    params: Params,
    chunk: ChunkCircuit,
    levels: Mutex<Vec<Arc<AggregationCircuit>>>,
}

enum Level<'a> {
    Chunk(&'a ChunkCircuit),
    Aggregation(Arc<AggregationCircuit>),
}

impl Level<'_> {
    fn data(&self) -> &CircuitData<F, C, D> {
        match self {
            Level::Chunk(c) => &c.data,
            Level::Aggregation(a) => &a.data,
        }
    }
}

impl Circuits {
    /// The circuits of `set`, built once per process and shared.
    pub fn shared(set: ParamSet) -> Arc<Circuits> {
        static REGISTRY: OnceLock<Mutex<HashMap<ParamSet, Arc<Circuits>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Default::default);
        // Building under the lock: a second caller waits for the first build instead of
        // starting its own.
        let mut map = registry.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(set)
            .or_insert_with(|| Arc::new(Circuits::build(set)))
            .clone()
    }

    /// Builds the circuits of `set` for this caller alone (see [`Circuits::shared`]).
    pub fn build(set: ParamSet) -> Circuits {
        let params = set.params();
        let started = Instant::now();
        let chunk = ChunkCircuit::build(&params);
        tracing::debug!(
            params = %set,
            degree_bits = chunk.data.common.degree_bits(),
            secs = started.elapsed().as_secs_f64(),
            "built the chunk circuit"
        );
        Circuits {
            params,
            chunk,
            levels: Mutex::new(Vec::new()),
        }
    }

    /// The parameters these circuits are built for.
    pub fn params(&self) -> Params {
        self.params
    }

    /// Log2 of the rows of the circuit at `level` (0: the chunk circuit).
    pub fn degree_bits(&self, level: u8) -> Result<usize, ProveError> {
        Ok(self.level(level)?.data().common.degree_bits())
    }

    /// Whether proofs of levels `a` and `b` have the same shape (common circuit data), so that
    /// only the verifier data fixed in the next level's circuit tells them apart.
    #[doc(hidden)]
    pub fn same_shape(&self, a: u8, b: u8) -> Result<bool, ProveError> {
        Ok(self.level(a)?.data().common == self.level(b)?.data().common)
    }

    /// The id of the circuit whose proofs a batch at `level` takes (0: round-0 chunks).
    pub fn circuit_id(&self, level: u8) -> Result<CircuitId, ProveError> {
        let level = self.level(level)?;
        Ok(CircuitId(
            Digest::from_hash_out(level.data().verifier_only.circuit_digest).to_bytes(),
        ))
    }

    fn level(&self, level: u8) -> Result<Level<'_>, ProveError> {
        if level == 0 {
            return Ok(Level::Chunk(&self.chunk));
        }
        if level > MAX_LEVEL {
            return Err(ProveError::BadLevel(level));
        }
        let mut built = self.levels.lock().unwrap_or_else(|e| e.into_inner());
        while built.len() < level as usize {
            let started = Instant::now();
            let next = match built.last() {
                None => AggregationCircuit::build(
                    &self.chunk.data.common,
                    &self.chunk.data.verifier_only,
                ),
                Some(child) => {
                    AggregationCircuit::build(&child.data.common, &child.data.verifier_only)
                }
            };
            tracing::debug!(
                params = %self.params.set,
                level = built.len() + 1,
                degree_bits = next.data.common.degree_bits(),
                secs = started.elapsed().as_secs_f64(),
                "built an aggregation circuit"
            );
            built.push(Arc::new(next));
        }
        Ok(Level::Aggregation(built[level as usize - 1].clone()))
    }

    /// Proves a chunk for `job_id` and `prover`. The witness is replayed first (a witness that
    /// does not apply is refused before any proving), and the proof is verified before it is
    /// returned.
    pub fn prove_chunk(
        &self,
        witness: &ChunkWitness,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<Proof, ProveError> {
        let statement = witness.statement(self.params.set)?;
        let expected = PublicInputs {
            statement,
            job_id,
            prover,
        };
        let proof = run(|| self.chunk.prove(witness, job_id, prover))?;
        self.seal(0, proof, &expected)
    }

    /// Proves the aggregation at `level` of two proofs of the level below (or of `left` alone,
    /// for the last node of an odd level). The children are verified and must join.
    pub fn prove_aggregation(
        &self,
        level: u8,
        left: &Proof,
        right: Option<&Proof>,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<Proof, ProveError> {
        if level == 0 || level > MAX_LEVEL {
            return Err(ProveError::BadLevel(level));
        }
        let (l, l_pis) = self.decode_verified(left, level - 1)?;
        let right = right
            .map(|r| self.decode_verified(r, level - 1))
            .transpose()?;
        let statement =
            aggregate_statement(&l_pis.statement, right.as_ref().map(|(_, p)| &p.statement))
                .ok_or(ProveError::NotAdjacent)?;
        let expected = PublicInputs {
            statement,
            job_id,
            prover,
        };
        let circuit = match self.level(level)? {
            Level::Aggregation(a) => a,
            Level::Chunk(_) => unreachable!("level >= 1"),
        };
        let proof = run(|| circuit.prove(&l, right.as_ref().map(|(p, _)| p), job_id, prover))?;
        self.seal(level, proof, &expected)
    }

    /// What a proof of the job with this witness must state: a chunk's replayed statement, or
    /// the join of an aggregation's children (which must be valid proofs of the level below).
    pub fn statement_of(&self, witness: &JobWitness) -> Result<Statement, ProveError> {
        match witness {
            JobWitness::Chunk(w) => Ok(w.statement(self.params.set)?),
            JobWitness::Aggregation(w) => {
                if w.level == 0 || w.level > MAX_LEVEL {
                    return Err(ProveError::BadLevel(w.level));
                }
                let (_, l) = self.decode_verified(&w.left, w.level - 1)?;
                let r = w
                    .right
                    .as_ref()
                    .map(|r| self.decode_verified(r, w.level - 1))
                    .transpose()?;
                aggregate_statement(&l.statement, r.as_ref().map(|(_, p)| &p.statement))
                    .ok_or(ProveError::NotAdjacent)
            }
        }
    }

    /// Proves the job with this witness for `job_id` and `prover`.
    pub fn prove_job(
        &self,
        witness: &JobWitness,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<Proof, ProveError> {
        match witness {
            JobWitness::Chunk(w) => self.prove_chunk(w, job_id, prover),
            JobWitness::Aggregation(w) => {
                self.prove_aggregation(w.level, &w.left, w.right.as_ref(), job_id, prover)
            }
        }
    }

    /// Proves a chunk without replaying the witness first, so tests can show that the circuit
    /// itself refuses what the replay refuses.
    #[doc(hidden)]
    pub fn prove_chunk_unchecked(
        &self,
        witness: &ChunkWitness,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<Proof, ProveError> {
        let proof = run(|| self.chunk.prove(witness, job_id, prover))?;
        run(|| self.chunk.data.verify(proof.clone()))?;
        Ok(Proof::new(self.params.set, 0, proof.to_bytes()))
    }

    /// Proves an aggregation without the API's checks on the children, so tests can show that
    /// the circuit itself refuses what the API refuses.
    #[doc(hidden)]
    pub fn prove_aggregation_unchecked(
        &self,
        level: u8,
        left: &Proof,
        right: Option<&Proof>,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<Proof, ProveError> {
        let circuit = match self.level(level)? {
            Level::Aggregation(a) => a,
            Level::Chunk(_) => return Err(ProveError::BadLevel(0)),
        };
        let decode = |p: &Proof| -> Result<ProofWithPublicInputs<F, C, D>, ProveError> {
            let data = self.level(p.level())?;
            decode_body(p.body(), data.data()).map_err(ProveError::Child)
        };
        let l = decode(left)?;
        let r = right.map(decode).transpose()?;
        let proof = run(|| circuit.prove(&l, r.as_ref(), job_id, prover))?;
        run(|| circuit.data.verify(proof.clone()))?;
        Ok(Proof::new(self.params.set, level, proof.to_bytes()))
    }

    /// Verifies untrusted proof bytes for a job at `level` against the public inputs the caller
    /// expects (the statement committed in the job's leaf, the job id and the lease holder).
    /// Never panics.
    pub fn verify(
        &self,
        bytes: &[u8],
        level: u8,
        expected: &PublicInputs,
    ) -> Result<(), VerifyError> {
        let proof = Proof::from_bytes(bytes.to_vec())?;
        let (decoded, found) = self.decode(&proof, level)?;
        compare(&found, expected)?;
        let data = self
            .level(level)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        let data = data.data();
        match catch_unwind(AssertUnwindSafe(|| data.verify(decoded))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(VerifyError::Invalid(e.to_string())),
            Err(_) => Err(VerifyError::Invalid("the verifier panicked".into())),
        }
    }

    /// Reads the public inputs of a proof of `level` without verifying it.
    pub fn public_inputs(&self, bytes: &[u8], level: u8) -> Result<PublicInputs, VerifyError> {
        let proof = Proof::from_bytes(bytes.to_vec())?;
        Ok(self.decode(&proof, level)?.1)
    }

    fn decode(
        &self,
        proof: &Proof,
        level: u8,
    ) -> Result<(ProofWithPublicInputs<F, C, D>, PublicInputs), VerifyError> {
        if proof.param_set() != self.params.set {
            return Err(VerifyError::WrongParams {
                expected: self.params.set,
                found: proof.param_set(),
            });
        }
        if proof.level() != level {
            return Err(VerifyError::WrongLevel {
                expected: level,
                found: proof.level(),
            });
        }
        let data = self
            .level(level)
            .map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let decoded = decode_body(proof.body(), data.data())?;
        let pis = PublicInputs::from_fields(&decoded.public_inputs)
            .ok_or_else(|| VerifyError::Malformed("public inputs out of range".into()))?;
        Ok((decoded, pis))
    }

    fn decode_verified(
        &self,
        proof: &Proof,
        level: u8,
    ) -> Result<(ProofWithPublicInputs<F, C, D>, PublicInputs), VerifyError> {
        let (decoded, pis) = self.decode(proof, level)?;
        self.verify(proof.as_bytes(), level, &pis)?;
        Ok((decoded, pis))
    }

    // Verifies a fresh proof and checks it states what was expected before handing it out.
    fn seal(
        &self,
        level: u8,
        proof: ProofWithPublicInputs<F, C, D>,
        expected: &PublicInputs,
    ) -> Result<Proof, ProveError> {
        let sealed = Proof::new(self.params.set, level, proof.to_bytes());
        self.verify(sealed.as_bytes(), level, expected)
            .map_err(|e| ProveError::Backend(format!("the new proof does not verify: {e}")))?;
        Ok(sealed)
    }
}

// Runs the prover, turning its errors and panics (plonky2 panics on unsatisfiable witnesses)
// into an error.
fn run<T>(f: impl FnOnce() -> anyhow::Result<T>) -> Result<T, ProveError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ProveError::Backend(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the prover panicked".into());
            Err(ProveError::Backend(msg))
        }
    }
}

fn decode_body(
    body: &[u8],
    data: &CircuitData<F, C, D>,
) -> Result<ProofWithPublicInputs<F, C, D>, VerifyError> {
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        ProofWithPublicInputs::from_bytes(body.to_vec(), &data.common)
    }))
    .map_err(|_| VerifyError::Malformed("decoder panicked".into()))?
    .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    // One proof, one encoding: trailing bytes or non-canonical field elements would give the
    // same proof another hash.
    if decoded.to_bytes() != body {
        return Err(VerifyError::Malformed(
            "not the canonical encoding of its proof".into(),
        ));
    }
    Ok(decoded)
}

fn compare(found: &PublicInputs, expected: &PublicInputs) -> Result<(), VerifyError> {
    let (f, e) = (&found.statement, &expected.statement);
    let field = if f.pre_root != e.pre_root {
        "pre-state root"
    } else if f.post_root != e.post_root {
        "post-state root"
    } else if f.commitment != e.commitment {
        "transfer commitment"
    } else if (f.range_start, f.range_end) != (e.range_start, e.range_end) {
        "chunk range"
    } else if found.job_id != expected.job_id {
        "job id"
    } else if found.prover != expected.prover {
        "prover address"
    } else {
        return Ok(());
    };
    Err(VerifyError::Mismatch { field })
}
