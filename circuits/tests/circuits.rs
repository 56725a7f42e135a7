//! The circuits end to end with the small parameter set: honest proofs verify and bind their
//! job and prover; wrong statements, tampered bytes, foreign levels and gaps are refused; odd
//! and even batches reduce to one final proof.

use std::sync::{Arc, OnceLock};

use crowdprove_circuits::{
    Batch, Circuits, Proof, ProveError, ProverAddress, PublicInputs, Sequencer, VerifyError,
    tree_statements,
};
use crowdprove_protocol::{Digest, ParamSet, Statement, TreeShape};
use proptest::prelude::*;

const SET: ParamSet = ParamSet::Small;
const ALICE: ProverAddress = ProverAddress([0xa1; 20]);
const BOB: ProverAddress = ProverAddress([0xb0; 20]);

fn circuits() -> Arc<Circuits> {
    Circuits::shared(SET)
}

/// One proven chunk shared by the cheap tests.
fn proven_chunk() -> &'static (Batch, Proof, PublicInputs) {
    static CELL: OnceLock<(Batch, Proof, PublicInputs)> = OnceLock::new();
    CELL.get_or_init(|| {
        let batch = Sequencer::new(SET, 11).next_batch(1);
        let statement = batch.chunks[0].statement(SET).unwrap();
        let proof = circuits().prove_chunk(&batch.chunks[0], 42, ALICE).unwrap();
        (
            batch,
            proof,
            PublicInputs {
                statement,
                job_id: 42,
                prover: ALICE,
            },
        )
    })
}

#[test]
fn honest_chunk_proof_verifies() {
    let (batch, proof, expected) = proven_chunk();
    circuits().verify(proof.as_bytes(), 0, expected).unwrap();
    assert_eq!(expected.statement.pre_root, batch.pre_root);
    assert_eq!(expected.statement.post_root, batch.post_root);
    assert_eq!(
        (expected.statement.range_start, expected.statement.range_end),
        (0, 1)
    );
    assert_eq!(
        circuits().public_inputs(proof.as_bytes(), 0).unwrap(),
        *expected
    );
}

#[test]
fn proof_checked_against_anything_else_fails() {
    let (_, proof, expected) = proven_chunk();
    let c = circuits();
    let mut cases: Vec<(PublicInputs, &str)> = Vec::new();
    let mut e = *expected;
    e.prover = BOB;
    cases.push((e, "prover address"));
    let mut e = *expected;
    e.job_id = 43;
    cases.push((e, "job id"));
    let mut e = *expected;
    e.statement.pre_root = Digest([1, 2, 3, 4]);
    cases.push((e, "pre-state root"));
    let mut e = *expected;
    e.statement.post_root = Digest([1, 2, 3, 4]);
    cases.push((e, "post-state root"));
    let mut e = *expected;
    e.statement.commitment = Digest([1, 2, 3, 4]);
    cases.push((e, "transfer commitment"));
    let mut e = *expected;
    e.statement.range_start = 1;
    e.statement.range_end = 2;
    cases.push((e, "chunk range"));
    for (wrong, field) in cases {
        assert_eq!(
            c.verify(proof.as_bytes(), 0, &wrong),
            Err(VerifyError::Mismatch { field })
        );
    }
    assert_eq!(
        c.verify(proof.as_bytes(), 1, expected),
        Err(VerifyError::WrongLevel {
            expected: 1,
            found: 0
        })
    );
}

// Finds the 5 address limbs (as little-endian u64 field elements) in the proof's bytes.
fn limb_offset(bytes: &[u8], address: ProverAddress) -> usize {
    let needle: Vec<u8> = address
        .limbs()
        .iter()
        .flat_map(|&l| u64::from(l).to_le_bytes())
        .collect();
    bytes
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("address limbs in the proof")
}

#[test]
fn copied_proof_with_the_address_rewritten_does_not_verify() {
    // A copier takes Alice's proof and rewrites the public inputs to its own address: the
    // statement then matches Bob's lease, but the proof no longer verifies.
    let (_, proof, expected) = proven_chunk();
    let mut bytes = proof.as_bytes().to_vec();
    let at = limb_offset(&bytes, ALICE);
    for (k, limb) in BOB.limbs().iter().enumerate() {
        bytes[at + 8 * k..at + 8 * k + 8].copy_from_slice(&u64::from(*limb).to_le_bytes());
    }
    let mut bobs = *expected;
    bobs.prover = BOB;
    assert!(matches!(
        circuits().verify(&bytes, 0, &bobs),
        Err(VerifyError::Invalid(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tampered_bytes_fail_with_an_error(pos in any::<prop::sample::Index>(), xor in 1u8..=255, cut in any::<prop::sample::Index>()) {
        let (_, proof, expected) = proven_chunk();
        let mut flipped = proof.as_bytes().to_vec();
        let i = pos.index(flipped.len());
        flipped[i] ^= xor;
        prop_assert!(circuits().verify(&flipped, 0, expected).is_err());
        let truncated = &proof.as_bytes()[..cut.index(proof.as_bytes().len())];
        prop_assert!(circuits().verify(truncated, 0, expected).is_err());
    }

    #[test]
    fn random_bytes_fail_with_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (_, _, expected) = proven_chunk();
        let mut framed = b"CPP\x01\x01\x00\x00\x00".to_vec();
        framed.extend_from_slice(&bytes);
        prop_assert!(circuits().verify(&bytes, 0, expected).is_err());
        prop_assert!(circuits().verify(&framed, 0, expected).is_err());
    }
}

#[test]
fn trailing_bytes_are_refused() {
    let (_, proof, expected) = proven_chunk();
    let mut long = proof.as_bytes().to_vec();
    long.push(0);
    assert!(matches!(
        circuits().verify(&long, 0, expected),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn a_partial_chunk_proves_with_empty_slots() {
    let mut chunk = Sequencer::new(SET, 12).next_batch(1).chunks.remove(0);
    chunk.transfers.truncate(10);
    let statement = chunk.statement(SET).unwrap();
    let proof = circuits().prove_chunk(&chunk, 7, BOB).unwrap();
    circuits()
        .verify(
            proof.as_bytes(),
            0,
            &PublicInputs {
                statement,
                job_id: 7,
                prover: BOB,
            },
        )
        .unwrap();
}

#[test]
fn no_wrong_post_root_can_be_proven() {
    let chunk = Sequencer::new(SET, 13).next_batch(1).chunks.remove(0);
    let c = circuits();
    // Minting: the sender's balance is raised beyond what the tree holds.
    let mut minted = chunk.clone();
    minted.transfers[0].sender.balance += 1_000;
    assert!(matches!(
        c.prove_chunk(&minted, 1, ALICE),
        Err(ProveError::Witness(_))
    ));
    assert!(
        c.prove_chunk_unchecked(&minted, 1, ALICE).is_err(),
        "the circuit refuses it too"
    );
    // Overspending: more than the sender has, with the balance left as it is.
    let mut overspent = chunk.clone();
    overspent.transfers[3].transfer.amount = overspent.transfers[3].sender.balance + 1;
    assert!(c.prove_chunk_unchecked(&overspent, 1, ALICE).is_err());
    // A recipient path that does not lead to the root after the debit.
    let mut moved = chunk;
    moved.transfers[5].recipient_path[0] = Digest([9, 9, 9, 9]);
    assert!(c.prove_chunk_unchecked(&moved, 1, ALICE).is_err());
}

/// Proves a whole batch's tree: every chunk, then every aggregation level, each job with its
/// own id. Returns the top proof and its expected public inputs.
fn prove_tree(batch: &Batch) -> (Proof, PublicInputs, Vec<Vec<Proof>>) {
    let c = circuits();
    let shape = TreeShape::new(batch.chunks.len() as u32).unwrap();
    let chunk_statements: Vec<Statement> = batch
        .chunks
        .iter()
        .map(|w| w.statement(SET).unwrap())
        .collect();
    let statements = tree_statements(&shape, &chunk_statements).unwrap();
    let mut job_id = 100;
    let mut levels: Vec<Vec<Proof>> = vec![
        batch
            .chunks
            .iter()
            .map(|w| {
                job_id += 1;
                c.prove_chunk(w, job_id, ALICE).unwrap()
            })
            .collect(),
    ];
    for level in 1..=shape.height() {
        let below = &levels[level as usize - 1];
        let row = (0..shape.nodes_at(level))
            .map(|i| {
                let (l, r) = shape.node(level, i).unwrap().children.unwrap();
                job_id += 1;
                let proof = c
                    .prove_aggregation(
                        level,
                        &below[l as usize],
                        r.map(|r| &below[r as usize]),
                        job_id,
                        BOB,
                    )
                    .unwrap();
                let expected = PublicInputs {
                    statement: statements[level as usize][i as usize],
                    job_id,
                    prover: BOB,
                };
                c.verify(proof.as_bytes(), level, &expected).unwrap();
                proof
            })
            .collect();
        levels.push(row);
    }
    let top = levels.last().unwrap()[0].clone();
    let expected = c.public_inputs(top.as_bytes(), shape.height()).unwrap();
    assert_eq!(expected.statement, statements.last().unwrap()[0]);
    (top, expected, levels)
}

#[test]
fn batches_of_four_and_five_chunks_reduce_to_one_final_proof() {
    let mut seq = Sequencer::new(SET, 21);
    for chunks in [4, 5] {
        let batch = seq.next_batch(chunks);
        let (top, pis, levels) = prove_tree(&batch);
        let shape = TreeShape::new(chunks).unwrap();
        assert_eq!(top.level(), shape.height());
        assert_eq!(
            pis.statement.pre_root, batch.pre_root,
            "{chunks} chunks: outer pre root"
        );
        assert_eq!(
            pis.statement.post_root, batch.post_root,
            "{chunks} chunks: outer post root"
        );
        assert_eq!(
            (pis.statement.range_start, pis.statement.range_end),
            (0, chunks)
        );
        if chunks == 5 {
            look_alike_level_cannot_be_aggregated(&levels);
        }
    }
}

// Level-1 and level-2 proofs have the same shape; only the verifier data constant in each
// level's circuit tells them apart. Feeding level-1 proofs to the level-3 circuit must fail.
fn look_alike_level_cannot_be_aggregated(levels: &[Vec<Proof>]) {
    let c = circuits();
    assert!(
        c.same_shape(1, 2).unwrap(),
        "level-1 and level-2 proofs look alike"
    );
    let (a, b) = (&levels[1][0], &levels[1][1]);
    assert!(matches!(
        c.prove_aggregation(3, a, Some(b), 1, ALICE),
        Err(ProveError::Child(VerifyError::WrongLevel {
            expected: 2,
            found: 1
        }))
    ));
    assert!(
        c.prove_aggregation_unchecked(3, a, Some(b), 1, ALICE)
            .is_err()
    );
    // And a chunk proof cannot stand in for a level-1 proof at level 2.
    assert!(
        c.prove_aggregation_unchecked(2, &levels[0][0], None, 1, ALICE)
            .is_err()
    );
}

#[test]
fn non_adjacent_chunks_cannot_be_aggregated() {
    let batch = Sequencer::new(SET, 31).next_batch(3);
    let c = circuits();
    let p0 = c.prove_chunk(&batch.chunks[0], 1, ALICE).unwrap();
    let p2 = c.prove_chunk(&batch.chunks[2], 3, ALICE).unwrap();
    assert!(matches!(
        c.prove_aggregation(1, &p0, Some(&p2), 4, ALICE),
        Err(ProveError::NotAdjacent)
    ));
    assert!(
        c.prove_aggregation_unchecked(1, &p0, Some(&p2), 4, ALICE)
            .is_err(),
        "the circuit refuses the gap"
    );
    assert!(matches!(
        c.prove_aggregation(1, &p2, Some(&p0), 4, ALICE),
        Err(ProveError::NotAdjacent)
    ));
}

#[test]
fn circuit_ids_are_deterministic_and_distinct_per_level() {
    let fresh = Circuits::build(SET);
    let shared = circuits();
    assert_eq!(fresh.circuit_id(0).unwrap(), shared.circuit_id(0).unwrap());
    assert_ne!(shared.circuit_id(0).unwrap(), shared.circuit_id(1).unwrap());
    assert_ne!(shared.circuit_id(1).unwrap(), shared.circuit_id(2).unwrap());
    assert!(matches!(
        shared.circuit_id(33),
        Err(ProveError::BadLevel(33))
    ));
}
