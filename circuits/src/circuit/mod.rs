//! The plonky2 circuits. Everything generic over plonky2's field and config is instantiated
//! here, with the concrete types of `hash.rs`, so plonky2's prover is compiled in this crate.

pub(crate) mod aggregate;
pub(crate) mod chunk;

use plonky2::hash::hash_types::{HashOutTarget, NUM_HASH_OUT_ELTS};
use plonky2::hash::hashing::PlonkyPermutation;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::iop::target::{BoolTarget, Target};
use plonky2::iop::witness::PartialWitness;
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::{CircuitConfig, CircuitData};
use plonky2::plonk::config::AlgebraicHasher;
use plonky2::plonk::proof::ProofWithPublicInputs;
use plonky2::util::timing::TimingTree;

use crate::hash::{C, D, F};

/// Proves with plonky2's prover. With the crate's `timing` feature, plonky2 records how long
/// each of its steps took and logs the tree at info level when the proof is done (see
/// `examples/timing.rs`); without it the tree records nothing.
pub(crate) fn prove(
    data: &CircuitData<F, C, D>,
    pw: PartialWitness<F>,
) -> anyhow::Result<ProofWithPublicInputs<F, C, D>> {
    let mut timing = TimingTree::new("prove", log::Level::Info);
    let proof =
        plonky2::plonk::prover::prove::<F, C, D>(&data.prover_only, &data.common, pw, &mut timing)?;
    #[cfg(feature = "timing")]
    timing.print();
    Ok(proof)
}

/// The configuration of every circuit: plonky2's standard recursion config (~100-bit security),
/// so that every proof can be verified inside the next level's circuit.
pub(crate) fn config() -> CircuitConfig {
    CircuitConfig::standard_recursion_config()
}

/// The root of the path from `leaf` up through `siblings`, turning at each level by the index
/// bit: bit 0 puts the running node on the left. One Poseidon gate per level.
pub(crate) fn merkle_root(
    b: &mut CircuitBuilder<F, D>,
    leaf: HashOutTarget,
    bits: &[BoolTarget],
    siblings: &[HashOutTarget],
) -> HashOutTarget {
    let zero = b.zero();
    let mut node = leaf;
    for (&bit, sibling) in bits.iter().zip(siblings) {
        type Perm = <PoseidonHash as AlgebraicHasher<F>>::AlgebraicPermutation;
        let mut perm = Perm::new(core::iter::repeat(zero));
        perm.set_from_slice(&node.elements, 0);
        perm.set_from_slice(&sibling.elements, NUM_HASH_OUT_ELTS);
        let out = PoseidonHash::permute_swapped(perm, bit, b);
        node = HashOutTarget::from_vec(out.squeeze()[..NUM_HASH_OUT_ELTS].to_vec());
    }
    node
}

/// Constrains `x == y` when `cond` is true; nothing when it is false.
pub(crate) fn assert_eq_if(b: &mut CircuitBuilder<F, D>, cond: BoolTarget, x: Target, y: Target) {
    let chosen = b.select(cond, x, y);
    b.connect(chosen, y);
}

/// [`assert_eq_if`] for every element of two digests.
pub(crate) fn assert_hash_eq_if(
    b: &mut CircuitBuilder<F, D>,
    cond: BoolTarget,
    x: HashOutTarget,
    y: HashOutTarget,
) {
    for (&xi, &yi) in x.elements.iter().zip(&y.elements) {
        assert_eq_if(b, cond, xi, yi);
    }
}

/// `x` if `cond`, else `y`, element by element.
pub(crate) fn select_hash(
    b: &mut CircuitBuilder<F, D>,
    cond: BoolTarget,
    x: HashOutTarget,
    y: HashOutTarget,
) -> HashOutTarget {
    let elements = std::array::from_fn(|i| b.select(cond, x.elements[i], y.elements[i]));
    HashOutTarget { elements }
}
