//! Field, digest and hash helpers shared by the native rollup and the circuits.

use std::fmt;

use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::field::types::{Field, Field64, PrimeField64};
use plonky2::hash::hash_types::HashOut;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::plonk::config::{Hasher, PoseidonGoldilocksConfig};
use serde::{Deserialize, Serialize};

/// The field of every circuit here.
pub(crate) type F = GoldilocksField;
/// The proof system configuration: Poseidon over Goldilocks.
pub(crate) type C = PoseidonGoldilocksConfig;
/// The extension degree of the configuration.
pub(crate) const D: usize = 2;

/// The Goldilocks modulus, 2^64 - 2^32 + 1.
pub const FIELD_ORDER: u64 = GoldilocksField::ORDER;

/// A Poseidon digest: four Goldilocks elements as canonical u64s. On-chain it is the bytes32
/// of the four limbs, each big-endian, first limb first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Digest(pub [u64; 4]);

impl Digest {
    /// The all-zero digest (an empty leaf; "no right child" in aggregation).
    pub const ZERO: Digest = Digest([0; 4]);

    /// The bytes32 form used on-chain and in Keccak encodings.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, limb) in self.0.iter().enumerate() {
            out[i * 8..(i + 1) * 8].copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// Parses the bytes32 form; `None` if a limb is not a canonical field element.
    pub fn from_bytes(bytes: &[u8; 32]) -> Option<Digest> {
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i * 8..(i + 1) * 8]);
            *limb = u64::from_be_bytes(b);
        }
        let d = Digest(limbs);
        d.is_canonical().then_some(d)
    }

    /// Whether every limb is below the field order (so it names exactly one field element).
    pub fn is_canonical(&self) -> bool {
        self.0.iter().all(|&l| l < FIELD_ORDER)
    }

    pub(crate) fn to_hash_out(self) -> HashOut<F> {
        HashOut {
            elements: self.0.map(F::from_canonical_u64),
        }
    }

    pub(crate) fn from_hash_out(h: HashOut<F>) -> Digest {
        Digest(h.elements.map(|e| e.to_canonical_u64()))
    }

    #[cfg(test)]
    pub(crate) fn to_fields(self) -> [F; 4] {
        self.0.map(F::from_canonical_u64)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x")?;
        for b in self.to_bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
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

/// Keccak-256, as the EVM computes it.
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    use tiny_keccak::{Hasher as _, Keccak};
    let mut k = Keccak::v256();
    k.update(bytes);
    let mut out = [0u8; 32];
    k.finalize(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_bytes_round_trip_and_reject_non_canonical_limbs() {
        let d = Digest([1, 2, FIELD_ORDER - 1, 0xdead_beef]);
        assert_eq!(Digest::from_bytes(&d.to_bytes()), Some(d));
        let mut bad = d.to_bytes();
        bad[0..8].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(Digest::from_bytes(&bad), None);
    }

    #[test]
    fn keccak_matches_the_evm() {
        // keccak256("") as the EVM computes it.
        let h = keccak256(b"");
        assert_eq!(
            h[..4],
            [0xc5, 0xd2, 0x46, 0x01],
            "keccak256 of the empty string starts c5d24601"
        );
    }
}
