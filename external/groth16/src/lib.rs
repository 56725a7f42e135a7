//! A second, independent proof system for CrowdProve's circuit registry: Groth16 over BN254
//! (arkworks), behind the same external-command contract as any operator's prover
//! (`crowdprove_circuits::registry`). Its circuit is deliberately small, "I know x with
//! x³ + x + 5 = y", because what it shows is that nothing in the Coordinator, the relayer or the
//! client depends on plonky2: a job's statement (its leaf's `commitment`, read as y) and the job
//! id and lease holder are the proof's public inputs, so a proof is bound to its job and prover
//! as the built-in circuits' are.
//!
//! The keys come from a setup seeded with a public constant: anyone can rebuild them, and so
//! anyone could forge proofs. That is right for a devnet and a test (every party derives the
//! same keys offline, and the circuit id is the verifying key's hash), and wrong for money: a
//! real deployment runs a ceremony and ships the keys.

pub mod cli;

use ark_bn254::{Bn254, Fr};
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof, ProvingKey};
use ark_relations::lc;
use ark_relations::r1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError, Variable};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::Deserialize;
use sha3::{Digest, Keccak256};

/// The setup's public seed (see the crate docs).
const SETUP_SEED: u64 = 0x6372_6f77_6470_726f;

/// The circuit: x³ + x + 5 = y, with the job id and the prover as public inputs too.
#[derive(Clone)]
struct Cubic {
    x: Option<Fr>,
    y: Fr,
    job: Fr,
    prover: Fr,
}

impl ConstraintSynthesizer<Fr> for Cubic {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let y = cs.new_input_variable(|| Ok(self.y))?;
        let job = cs.new_input_variable(|| Ok(self.job))?;
        let prover = cs.new_input_variable(|| Ok(self.prover))?;
        let missing = || SynthesisError::AssignmentMissing;
        let x = cs.new_witness_variable(|| self.x.ok_or_else(missing))?;
        let x2v = self.x.map(|x| x * x);
        let x2 = cs.new_witness_variable(|| x2v.ok_or_else(missing))?;
        let x3v = x2v.zip(self.x).map(|(a, b)| a * b);
        let x3 = cs.new_witness_variable(|| x3v.ok_or_else(missing))?;
        cs.enforce_constraint(lc!() + x, lc!() + x, lc!() + x2)?;
        cs.enforce_constraint(lc!() + x2, lc!() + x, lc!() + x3)?;
        cs.enforce_constraint(
            lc!() + x3 + x + (Fr::from(5u64), Variable::One),
            lc!() + Variable::One,
            lc!() + y,
        )?;
        // The job and the prover enter a constraint each, so that the verifying key weighs
        // them: a proof made for one job or prover does not verify for another.
        cs.enforce_constraint(lc!() + job, lc!() + Variable::One, lc!() + job)?;
        cs.enforce_constraint(lc!() + prover, lc!() + Variable::One, lc!() + prover)?;
        Ok(())
    }
}

/// The proving and verifying keys, from the public seed.
pub struct Keys {
    pk: ProvingKey<Bn254>,
    pvk: PreparedVerifyingKey<Bn254>,
    id: [u8; 32],
}

impl Keys {
    /// Runs the (deterministic, devnet-only) setup.
    pub fn setup() -> anyhow::Result<Keys> {
        let mut rng = ChaCha20Rng::seed_from_u64(SETUP_SEED);
        let blank = Cubic {
            x: None,
            y: Fr::from(0u64),
            job: Fr::from(0u64),
            prover: Fr::from(0u64),
        };
        let (pk, vk) = Groth16::<Bn254>::circuit_specific_setup(blank, &mut rng)
            .map_err(|e| anyhow::anyhow!("setup: {e}"))?;
        let mut bytes = Vec::new();
        vk.serialize_compressed(&mut bytes)?;
        let id = Keccak256::digest(&bytes).into();
        let pvk = Groth16::<Bn254>::process_vk(&vk).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Keys { pk, pvk, id })
    }

    /// The circuit id: keccak256 of the compressed verifying key.
    pub fn id(&self) -> [u8; 32] {
        self.id
    }

    /// Proves knowledge of the witness `x` (32 bytes, big-endian) for `inputs`.
    pub fn prove(&self, witness: &[u8], inputs: &Inputs) -> anyhow::Result<Vec<u8>> {
        let public = self.public(inputs)?;
        anyhow::ensure!(
            witness.len() == 32,
            "the witness is 32 bytes (x, big-endian)"
        );
        let x = Fr::from_be_bytes_mod_order(witness);
        anyhow::ensure!(
            x * x * x + x + Fr::from(5u64) == public[0],
            "the witness does not solve x³ + x + 5 = y for this statement"
        );
        let circuit = Cubic {
            x: Some(x),
            y: public[0],
            job: public[1],
            prover: public[2],
        };
        let mut rng = ChaCha20Rng::from_entropy();
        let proof = Groth16::<Bn254>::prove(&self.pk, circuit, &mut rng)
            .map_err(|e| anyhow::anyhow!("proving: {e}"))?;
        let mut out = Vec::new();
        proof.serialize_compressed(&mut out)?;
        Ok(out)
    }

    /// `Ok(true)` if `proof` verifies for `inputs`, `Ok(false)` if not (malformed bytes
    /// included); `Err` only when the inputs themselves are unusable.
    pub fn verify(&self, proof: &[u8], inputs: &Inputs) -> anyhow::Result<bool> {
        let public = self.public(inputs)?;
        let Ok(proof) = Proof::<Bn254>::deserialize_compressed(proof) else {
            return Ok(false);
        };
        Ok(Groth16::<Bn254>::verify_with_processed_vk(&self.pvk, &public, &proof).unwrap_or(false))
    }

    fn public(&self, inputs: &Inputs) -> anyhow::Result<[Fr; 3]> {
        let id = format!("0x{}", hex::encode(self.id));
        anyhow::ensure!(
            inputs.circuit_id.eq_ignore_ascii_case(&id),
            "the job is of circuit {}, this is {id}",
            inputs.circuit_id
        );
        let y = parse_hex(&inputs.statement.commitment, 32)
            .map_err(|e| anyhow::anyhow!("the statement's commitment: {e}"))?;
        let prover =
            parse_hex(&inputs.prover, 20).map_err(|e| anyhow::anyhow!("the prover: {e}"))?;
        Ok([
            Fr::from_be_bytes_mod_order(&y),
            Fr::from(inputs.job_id),
            Fr::from_be_bytes_mod_order(&prover),
        ])
    }
}

/// The registry's inputs file, the fields this circuit reads.
#[derive(Clone, Debug, Deserialize)]
pub struct Inputs {
    /// The batch's circuit id.
    pub circuit_id: String,
    /// The job.
    pub job_id: u64,
    /// The lease holder.
    pub prover: String,
    /// The leaf's statement; its `commitment` is y.
    pub statement: Statement,
}

/// The part of a statement this circuit reads.
#[derive(Clone, Debug, Deserialize)]
pub struct Statement {
    /// y, as 32 bytes of `0x` hex (reduced modulo the field's order).
    pub commitment: String,
}

fn parse_hex(s: &str, len: usize) -> anyhow::Result<Vec<u8>> {
    let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(s))?;
    anyhow::ensure!(
        bytes.len() == len,
        "{} bytes where {len} were expected",
        bytes.len()
    );
    Ok(bytes)
}

/// The statement a witness proves, as the registry's `statement` command prints it: y in the
/// `commitment`, the roots zero, a range of one. `Err` if y does not fit a statement digest
/// (four Goldilocks limbs; [`sample`] picks witnesses whose y does).
pub fn statement_json(witness: &[u8]) -> anyhow::Result<String> {
    anyhow::ensure!(
        witness.len() == 32,
        "the witness is 32 bytes (x, big-endian)"
    );
    let x = Fr::from_be_bytes_mod_order(witness);
    let c = y_bytes(x);
    anyhow::ensure!(
        canonical(&c),
        "this witness's y does not fit a statement digest (a limb over the Goldilocks order)"
    );
    let zero = format!("0x{}", "00".repeat(32));
    Ok(format!(
        "{{\"pre_root\":\"{zero}\",\"post_root\":\"{zero}\",\"commitment\":\"0x{}\",\"range_start\":0,\"range_end\":1}}",
        hex::encode(c)
    ))
}

fn y_bytes(x: Fr) -> [u8; 32] {
    let y = x * x * x + x + Fr::from(5u64);
    // A BN254 scalar is four 64-bit limbs: 32 bytes exactly.
    let mut c = [0u8; 32];
    c.copy_from_slice(&y.into_bigint().to_bytes_be());
    c
}

// Whether each 8-byte limb is below the Goldilocks order, as a statement's digests must be.
fn canonical(c: &[u8; 32]) -> bool {
    const GOLDILOCKS: u64 = 0xffff_ffff_0000_0001;
    c.chunks(8)
        .all(|l| u64::from_be_bytes(l.try_into().expect("8 bytes")) < GOLDILOCKS)
}

/// A job for this circuit from a seed: its witness (x) and its statement's commitment
/// (y = x³ + x + 5, big-endian), for a source that posts them and for tests.
pub fn sample(seed: u64) -> (Vec<u8>, [u8; 32]) {
    // A statement's digests are four limbs of the Goldilocks field (the built-in circuits'):
    // y is taken only when each 8-byte limb of its 32 bytes is one.
    let mut x = Fr::from(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    loop {
        let c = y_bytes(x);
        if canonical(&c) {
            return (x.into_bigint().to_bytes_be(), c);
        }
        x += Fr::from(1u64);
    }
}
