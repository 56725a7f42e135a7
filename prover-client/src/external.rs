//! External proof systems on the client's side: the jobs of a circuit the registry
//! (`--circuits`, [`crowdprove_circuits::registry`]) gives an external prover are proven by its
//! command, and the built-in chunk prover is itself offered as such a command pair, so that an
//! operator can run it like any other: `crowdprove-prover prove-chunk --params P WITNESS INPUTS
//! PROOF` and `crowdprove-prover verify-chunk --params P PROOF INPUTS` (exit 0: valid, 10:
//! invalid, anything else: the tool failed).

use std::path::Path;

use anyhow::{Context, bail, ensure};

use crowdprove_circuits::registry::ExternalInputs;
use crowdprove_circuits::{Circuits, JobWitness, ProverAddress, PublicInputs};
use crowdprove_protocol::{ParamSet, StatementJson, hex0x};

// Reads an inputs file, checks it names the chunk circuit of `circuits`, and returns what a
// proof must bind.
fn read_inputs(circuits: &Circuits, path: &Path) -> anyhow::Result<PublicInputs> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let i: ExternalInputs = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: not the inputs JSON", path.display()))?;
    let ours = hex0x(&circuits.circuit_id(0)?.0);
    ensure!(
        i.circuit_id.eq_ignore_ascii_case(&ours),
        "the job is of circuit {}; these are the {} chunk circuits, {ours}",
        i.circuit_id,
        circuits.params().set
    );
    let statement: StatementJson =
        serde_json::from_value(i.statement).context("the inputs' statement")?;
    Ok(PublicInputs {
        statement: statement.into(),
        job_id: i.job_id,
        prover: i
            .prover
            .parse::<ProverAddress>()
            .context("the inputs' prover")?,
    })
}

/// `prove-chunk`: proves the chunk witness at `witness` for `inputs`, writes the proof.
pub fn prove_chunk(
    set: ParamSet,
    witness: &Path,
    inputs: &Path,
    proof: &Path,
) -> anyhow::Result<()> {
    let circuits = Circuits::build(set);
    let expected = read_inputs(&circuits, inputs)?;
    let bytes = std::fs::read(witness).with_context(|| format!("reading {}", witness.display()))?;
    let JobWitness::Chunk(w) = JobWitness::decode(&bytes).context("the witness")? else {
        bail!("the witness is an aggregation's, not a chunk's");
    };
    ensure!(
        w.statement(set)? == expected.statement,
        "the witness proves another statement than the inputs name"
    );
    let p = circuits.prove_chunk(&w, expected.job_id, expected.prover)?;
    std::fs::write(proof, p.as_bytes()).with_context(|| format!("writing {}", proof.display()))
}

/// `verify-chunk`: `Ok(Err(why))` when the proof is invalid, `Err` when the check could not run.
pub fn verify_chunk(
    set: ParamSet,
    proof: &Path,
    inputs: &Path,
) -> anyhow::Result<Result<(), String>> {
    let circuits = Circuits::build(set);
    let expected = read_inputs(&circuits, inputs)?;
    let bytes = std::fs::read(proof).with_context(|| format!("reading {}", proof.display()))?;
    Ok(circuits
        .verify(&bytes, 0, &expected)
        .map_err(|e| e.to_string()))
}
