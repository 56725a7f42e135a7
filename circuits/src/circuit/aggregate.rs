//! The aggregation circuit of one tree level: verifies two proofs of the level below against
//! that level's verifier data, fixed as a constant of this circuit (the whole verifier target,
//! not only a digest), checks that they join, and states their union.

use anyhow::Result;
use plonky2::field::types::Field;
use plonky2::hash::hash_types::HashOutTarget;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::iop::target::{BoolTarget, Target};
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::{CircuitData, CommonCircuitData, VerifierOnlyCircuitData};
use plonky2::plonk::proof::{ProofWithPublicInputs, ProofWithPublicInputsTarget};

use super::{assert_eq_if, assert_hash_eq_if, config, select_hash};
use crate::hash::{C, D, F};
use crate::statement::ProverAddress;

/// The built aggregation circuit of one level.
pub(crate) struct AggregationCircuit {
    pub(crate) data: CircuitData<F, C, D>,
    left: ProofWithPublicInputsTarget<D>,
    right: ProofWithPublicInputsTarget<D>,
    has_right: BoolTarget,
    job_id: Target,
    prover: [Target; 5],
}

fn hash_at(pis: &[Target], at: usize) -> HashOutTarget {
    HashOutTarget {
        elements: [pis[at], pis[at + 1], pis[at + 2], pis[at + 3]],
    }
}

impl AggregationCircuit {
    /// Builds the circuit that joins proofs of the circuit given by `child`.
    pub(crate) fn build(
        child_common: &CommonCircuitData<F, D>,
        child_verifier: &VerifierOnlyCircuitData<C, D>,
    ) -> AggregationCircuit {
        let mut b = CircuitBuilder::<F, D>::new(config());
        let child = b.constant_verifier_data::<C>(child_verifier);
        let left = b.add_virtual_proof_with_pis(child_common);
        let right = b.add_virtual_proof_with_pis(child_common);
        b.verify_proof::<C>(&left, &child, child_common);
        b.verify_proof::<C>(&right, &child, child_common);
        // The last node of an odd level has no right child: the prover passes the left proof
        // twice and clears `has_right`; the node then states exactly what its left child does.
        let has_right = b.add_virtual_bool_target_safe();

        let (l, r) = (&left.public_inputs, &right.public_inputs);
        assert_hash_eq_if(&mut b, has_right, hash_at(l, 4), hash_at(r, 0));
        assert_eq_if(&mut b, has_right, l[13], r[12]);
        let post_root = select_hash(&mut b, has_right, hash_at(r, 4), hash_at(l, 4));
        let right_commitment: Vec<Target> =
            (8..12).map(|i| b.mul(has_right.target, r[i])).collect();
        let mut joined = l[8..12].to_vec();
        joined.extend(right_commitment);
        let commitment = b.hash_n_to_hash_no_pad::<PoseidonHash>(joined);
        let range_end = b.select(has_right, r[13], l[13]);
        let job_id = b.add_virtual_target();
        let prover: [Target; 5] = std::array::from_fn(|_| b.add_virtual_target());

        b.register_public_inputs(&l[0..4]);
        b.register_public_inputs(&post_root.elements);
        b.register_public_inputs(&commitment.elements);
        b.register_public_inputs(&[l[12], range_end, job_id]);
        b.register_public_inputs(&prover);
        AggregationCircuit {
            // On the CPU whatever backend proves: a circuit's digest (its id on the chain) and
            // the verifier data aggregation embeds must not hang on a GPU's good behaviour.
            data: plonky2::backend::with_commit_backend(None, || b.build::<C>()),
            left,
            right,
            has_right,
            job_id,
            prover,
        }
    }

    /// Proves the union of `left` and `right` (or `left` alone).
    pub(crate) fn prove(
        &self,
        left: &ProofWithPublicInputs<F, C, D>,
        right: Option<&ProofWithPublicInputs<F, C, D>>,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<ProofWithPublicInputs<F, C, D>> {
        let mut pw = PartialWitness::<F>::new();
        pw.set_proof_with_pis_target(&self.left, left)?;
        pw.set_proof_with_pis_target(&self.right, right.unwrap_or(left))?;
        pw.set_bool_target(self.has_right, right.is_some())?;
        pw.set_target(self.job_id, F::from_canonical_u64(job_id))?;
        for (t, limb) in self.prover.iter().zip(prover.limbs()) {
            pw.set_target(*t, F::from_canonical_u32(limb))?;
        }
        super::prove(&self.data, pw)
    }
}
