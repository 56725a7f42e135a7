//! The Groth16 prover and verifier driven as a circuit registry drives any external proof
//! system (crowdprove_circuits::registry): through its commands and files, with the same inputs
//! the client's prover and the relayer's verifier hand it.

use std::path::Path;

use crowdprove_circuits::CircuitId;
use crowdprove_circuits::registry::{Checked, External, ExternalInputs, Registry};
use crowdprove_groth16::{Keys, sample};
use crowdprove_protocol::{Digest, Statement};

const EXE: &str = env!("CARGO_BIN_EXE_crowdprove-groth16");

fn registry(id: [u8; 32]) -> External {
    let text = format!(
        "[[circuit]]\nname = \"cubic\"\nid = \"0x{}\"\nprove = [\"{EXE}\", \"prove\", \"{{witness}}\", \"{{inputs}}\", \"{{proof}}\"]\nverify = [\"{EXE}\", \"verify\", \"{{proof}}\", \"{{inputs}}\"]\ntimeout_secs = 60\nmax_proof_bytes = 1024\n",
        hex::encode(id)
    );
    Registry::parse(&text, Path::new("circuits.toml"))
        .unwrap()
        .external(&CircuitId(id))
        .unwrap()
        .clone()
}

fn statement(commitment: [u8; 32]) -> Statement {
    Statement {
        pre_root: Digest::ZERO,
        post_root: Digest::ZERO,
        commitment: Digest::from_bytes(&commitment).expect("canonical limbs"),
        range_start: 0,
        range_end: 1,
    }
}

#[test]
fn the_id_command_names_the_verifying_key() {
    let out = std::process::Command::new(EXE).arg("id").output().unwrap();
    assert!(out.status.success());
    let id = Keys::setup().unwrap().id();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("0x{}", hex::encode(id)),
        "the same keys from the public seed, in every process"
    );
}

#[test]
fn a_groth16_proof_is_bound_to_its_statement_job_and_prover() {
    let id = Keys::setup().unwrap().id();
    let x = registry(id);
    let (witness, y) = sample(7);
    let inputs = ExternalInputs::new(CircuitId(id), 42, [0xaa; 20], statement(y));
    let proof = x.prove(&witness, &inputs).unwrap();
    assert!(
        proof.len() < 200,
        "a Groth16 proof is small: {}",
        proof.len()
    );
    assert_eq!(x.verify(&proof, &inputs).unwrap(), Checked::Valid);

    let other_job = ExternalInputs::new(CircuitId(id), 43, [0xaa; 20], statement(y));
    let other_prover = ExternalInputs::new(CircuitId(id), 42, [0xbb; 20], statement(y));
    let (_, other_y) = sample(8);
    let other_statement = ExternalInputs::new(CircuitId(id), 42, [0xaa; 20], statement(other_y));
    for (what, i) in [
        ("another job", &other_job),
        ("a copier", &other_prover),
        ("another statement", &other_statement),
    ] {
        assert!(
            matches!(x.verify(&proof, i).unwrap(), Checked::Invalid(_)),
            "the proof verifies for {what}"
        );
    }
    let mut tampered = proof.clone();
    tampered[5] ^= 1;
    assert!(matches!(
        x.verify(&tampered, &inputs).unwrap(),
        Checked::Invalid(_)
    ));
    assert!(matches!(
        x.verify(b"junk", &inputs).unwrap(),
        Checked::Invalid(_)
    ));
}

#[test]
fn a_wrong_witness_or_circuit_is_the_tools_error_not_a_verdict() {
    let id = Keys::setup().unwrap().id();
    let x = registry(id);
    let (_, y) = sample(7);
    let (wrong, _) = sample(9);
    let inputs = ExternalInputs::new(CircuitId(id), 1, [1; 20], statement(y));
    let e = x.prove(&wrong, &inputs).unwrap_err().to_string();
    assert!(e.contains("does not solve"), "{e}");
    // Inputs naming another circuit: the verifier refuses to answer (exit 2), which the
    // relayer must not take for an Invalid verdict.
    let foreign = ExternalInputs::new(CircuitId([3; 32]), 1, [1; 20], statement(y));
    let e = x.verify(&[0; 100], &foreign).unwrap_err().to_string();
    assert!(
        e.contains("exit status: 2") && e.contains("the job is of circuit"),
        "{e}"
    );
}
