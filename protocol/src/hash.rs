//! Digests and hashes as the chain and the wire carry them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The Goldilocks modulus, 2^64 - 2^32 + 1: the field of the circuits' Poseidon digests.
pub const FIELD_ORDER: u64 = 0xffff_ffff_0000_0001;

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
        let limbs = std::array::from_fn(|i| {
            u64::from_be_bytes(bytes[i * 8..(i + 1) * 8].try_into().expect("8 bytes"))
        });
        let d = Digest(limbs);
        d.is_canonical().then_some(d)
    }

    /// Whether every limb is below the field order (so it names exactly one field element).
    pub fn is_canonical(&self) -> bool {
        self.0.iter().all(|&l| l < FIELD_ORDER)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex0x(&self.to_bytes()))
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
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

/// Parses a 0x-hex bytes32 (the prefix is optional); `None` for anything else.
pub fn parse_hash(s: &str) -> Option<[u8; 32]> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s))
        .ok()?
        .try_into()
        .ok()
}

/// Formats bytes as 0x-hex.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_bytes_round_trip_and_reject_non_canonical_limbs() {
        let d = Digest([1, 2, FIELD_ORDER - 1, 0xdead_beef]);
        assert_eq!(Digest::from_bytes(&d.to_bytes()), Some(d));
        let mut bad = d.to_bytes();
        bad[0..8].copy_from_slice(&FIELD_ORDER.to_be_bytes());
        assert_eq!(
            Digest::from_bytes(&bad),
            None,
            "the order itself is not canonical"
        );
    }

    #[test]
    fn keccak_matches_the_evm() {
        assert_eq!(
            hex0x(&keccak256(b"")),
            "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn hashes_parse_only_as_32_bytes() {
        let h = keccak256(b"x");
        assert_eq!(parse_hash(&hex0x(&h)), Some(h));
        assert_eq!(
            parse_hash(&hex::encode(h)),
            Some(h),
            "the prefix is optional"
        );
        assert_eq!(parse_hash("0x1234"), None);
        assert_eq!(parse_hash(&format!("{}00", hex0x(&h))), None);
        assert_eq!(parse_hash("0xzz"), None);
    }
}
