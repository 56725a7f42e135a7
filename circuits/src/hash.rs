//! Field and Poseidon helpers shared by the native rollup and the circuits. The digest type
//! itself, and keccak, are the protocol's.

use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::field::types::{Field, PrimeField64};
use plonky2::hash::hash_types::HashOut;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::plonk::config::{Hasher, PoseidonGoldilocksConfig};

pub(crate) use crowdprove_protocol::Digest;

/// The field of every circuit here.
pub(crate) type F = GoldilocksField;
/// The proof system configuration: Poseidon over Goldilocks.
pub(crate) type C = PoseidonGoldilocksConfig;
/// The extension degree of the configuration.
pub(crate) const D: usize = 2;

/// Conversions between a protocol [`Digest`] and plonky2's hash type.
pub(crate) trait FieldDigest: Sized {
    /// The four limbs as field elements.
    fn to_hash_out(self) -> HashOut<F>;
    /// Canonical limbs of a hash.
    fn from_hash_out(h: HashOut<F>) -> Self;
    /// The limbs as fields (tests build public inputs with it).
    #[cfg(test)]
    fn to_fields(self) -> [F; 4];
}

impl FieldDigest for Digest {
    fn to_hash_out(self) -> HashOut<F> {
        HashOut {
            elements: self.0.map(F::from_canonical_u64),
        }
    }

    fn from_hash_out(h: HashOut<F>) -> Digest {
        Digest(h.elements.map(|e| e.to_canonical_u64()))
    }

    #[cfg(test)]
    fn to_fields(self) -> [F; 4] {
        self.0.map(F::from_canonical_u64)
    }
}

/// Poseidon compression of two digests, the Merkle tree's inner node.
pub(crate) fn two_to_one(left: Digest, right: Digest) -> Digest {
    Digest::from_hash_out(PoseidonHash::two_to_one(
        left.to_hash_out(),
        right.to_hash_out(),
    ))
}

/// Poseidon sponge (overwrite mode, no padding) over field elements given as u64s below the
/// field order, as `hash_n_to_hash_no_pad` computes it in-circuit.
pub(crate) fn hash_elements(inputs: &[u64]) -> Digest {
    let fields: Vec<F> = inputs.iter().map(|&x| F::from_canonical_u64(x)).collect();
    Digest::from_hash_out(PoseidonHash::hash_no_pad(&fields))
}

#[cfg(test)]
mod tests {
    use plonky2::field::types::Field64;

    use super::*;

    #[test]
    fn the_protocol_field_order_is_goldilocks() {
        assert_eq!(crowdprove_protocol::FIELD_ORDER, GoldilocksField::ORDER);
        let d = Digest([1, 2, GoldilocksField::ORDER - 1, 3]);
        assert_eq!(Digest::from_hash_out(d.to_hash_out()), d);
    }
}
