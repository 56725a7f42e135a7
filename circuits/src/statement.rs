//! What a proof states (its public inputs), the hashes the chain commits to, and the encoding
//! of a job's Merkle leaf.

use std::fmt;
use std::str::FromStr;

use plonky2::field::types::PrimeField64;

use crate::hash::{Digest, F, hash_elements, keccak256};

/// Public inputs of every proof here, in this order: pre root (4), post root (4), commitment
/// (4), range start, range end, job id, prover address as 5 big-endian 32-bit limbs.
pub const NUM_PUBLIC_INPUTS: usize = 20;

/// What a proof of a tree node states about the rollup, known when its job is posted:
/// applying the committed transfers of chunks [range_start, range_end) to `pre_root` gives
/// `post_root`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Statement {
    /// State root before the range.
    pub pre_root: Digest,
    /// State root after it.
    pub post_root: Digest,
    /// Commitment to the range's transfers (a chunk's slots, or its children's commitments).
    pub commitment: Digest,
    /// First chunk of the range.
    pub range_start: u32,
    /// One past the last chunk of the range.
    pub range_end: u32,
}

impl Statement {
    /// `keccak256(abi.encode(preRoot, postRoot, commitment, uint32 start, uint32 end))`: the
    /// `publicInputsHash` field of the job's leaf.
    pub fn hash(&self) -> [u8; 32] {
        let mut buf = Vec::with_capacity(5 * 32);
        buf.extend_from_slice(&self.pre_root.to_bytes());
        buf.extend_from_slice(&self.post_root.to_bytes());
        buf.extend_from_slice(&self.commitment.to_bytes());
        buf.extend_from_slice(&abi_word(self.range_start.into()));
        buf.extend_from_slice(&abi_word(self.range_end.into()));
        keccak256(&buf)
    }

    /// The statement of an aggregation node with children `left` and, unless the node is the
    /// last of an odd level, `right`. `None` if the children do not join (roots or ranges).
    pub fn aggregate(left: &Statement, right: Option<&Statement>) -> Option<Statement> {
        let (post_root, right_commitment, range_end) = match right {
            Some(r) => {
                if left.post_root != r.pre_root || left.range_end != r.range_start {
                    return None;
                }
                (r.post_root, r.commitment, r.range_end)
            }
            None => (left.post_root, Digest::ZERO, left.range_end),
        };
        let mut inputs = left.commitment.0.to_vec();
        inputs.extend_from_slice(&right_commitment.0);
        Some(Statement {
            pre_root: left.pre_root,
            post_root,
            commitment: hash_elements(&inputs),
            range_start: left.range_start,
            range_end,
        })
    }
}

/// A prover's 20-byte address, which its proofs bind.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct ProverAddress(pub [u8; 20]);

impl ProverAddress {
    /// The address as five big-endian 32-bit limbs.
    pub fn limbs(&self) -> [u32; 5] {
        std::array::from_fn(|i| u32::from_be_bytes(self.0[i * 4..i * 4 + 4].try_into().unwrap()))
    }

    fn from_limbs(limbs: [u32; 5]) -> ProverAddress {
        let mut out = [0u8; 20];
        for (i, l) in limbs.iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&l.to_be_bytes());
        }
        ProverAddress(out)
    }
}

impl fmt::Display for ProverAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for ProverAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A string that is not a 0x-prefixed 20-byte hex address.
#[derive(Debug, thiserror::Error)]
#[error("not a 20-byte hex address: {0}")]
pub struct BadAddress(pub String);

impl FromStr for ProverAddress {
    type Err = BadAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix("0x").unwrap_or(s);
        if hex.len() != 40 || !hex.is_ascii() {
            return Err(BadAddress(s.to_string()));
        }
        let mut out = [0u8; 20];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16)
                .map_err(|_| BadAddress(s.to_string()))?;
        }
        Ok(ProverAddress(out))
    }
}

/// Everything a proof's public inputs say: the statement, and the job id and prover address
/// that were fixed at lease time, so that a proof copied or replayed for another job fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicInputs {
    /// What the proof states about the rollup.
    pub statement: Statement,
    /// The job the proof is for.
    pub job_id: u64,
    /// The prover whose proof it is.
    pub prover: ProverAddress,
}

impl PublicInputs {
    #[cfg(test)]
    pub(crate) fn to_fields(self) -> Vec<F> {
        use plonky2::field::types::Field;
        let s = self.statement;
        let mut v = Vec::with_capacity(NUM_PUBLIC_INPUTS);
        v.extend(s.pre_root.to_fields());
        v.extend(s.post_root.to_fields());
        v.extend(s.commitment.to_fields());
        v.push(F::from_canonical_u32(s.range_start));
        v.push(F::from_canonical_u32(s.range_end));
        v.push(F::from_canonical_u64(self.job_id));
        v.extend(self.prover.limbs().map(F::from_canonical_u32));
        v
    }

    /// Reads public inputs as a proof carries them; `None` unless they are 20 elements whose
    /// range, job id and address limbs are in range.
    pub(crate) fn from_fields(fields: &[F]) -> Option<PublicInputs> {
        if fields.len() != NUM_PUBLIC_INPUTS {
            return None;
        }
        let u = |i: usize| fields[i].to_canonical_u64();
        let digest = |at: usize| Digest([u(at), u(at + 1), u(at + 2), u(at + 3)]);
        let u32_at = |i: usize| u32::try_from(u(i)).ok();
        let mut limbs = [0u32; 5];
        for (k, l) in limbs.iter_mut().enumerate() {
            *l = u32_at(15 + k)?;
        }
        Some(PublicInputs {
            statement: Statement {
                pre_root: digest(0),
                post_root: digest(4),
                commitment: digest(8),
                range_start: u32_at(12)?,
                range_end: u32_at(13)?,
            },
            job_id: u(14),
            prover: ProverAddress::from_limbs(limbs),
        })
    }
}

/// The kind of a batch's jobs, as the contract numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A chunk of transfers.
    Round0 = 0,
    /// Two child proofs joined into one.
    Aggregation = 1,
}

/// The Merkle leaf of a batch's job `index`:
/// `keccak256(abi.encode(uint256 index, uint8 kind, uint8 level, bytes32 publicInputsHash,
/// bytes32 witnessHash))`.
pub fn job_leaf(
    index: u32,
    kind: JobKind,
    level: u8,
    statement_hash: [u8; 32],
    witness_hash: [u8; 32],
) -> [u8; 32] {
    let mut buf = Vec::with_capacity(5 * 32);
    buf.extend_from_slice(&abi_word(index.into()));
    buf.extend_from_slice(&abi_word(kind as u64));
    buf.extend_from_slice(&abi_word(level.into()));
    buf.extend_from_slice(&statement_hash);
    buf.extend_from_slice(&witness_hash);
    keccak256(&buf)
}

fn abi_word(x: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&x.to_be_bytes());
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PublicInputs {
        PublicInputs {
            statement: Statement {
                pre_root: Digest([1, 2, 3, 4]),
                post_root: Digest([5, 6, 7, 8]),
                commitment: Digest([9, 10, 11, 12]),
                range_start: 3,
                range_end: 4,
            },
            job_id: (1 << 40) - 1,
            prover: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse()
                .unwrap(),
        }
    }

    #[test]
    fn public_inputs_round_trip_through_fields() {
        let pi = sample();
        assert_eq!(PublicInputs::from_fields(&pi.to_fields()), Some(pi));
        assert_eq!(PublicInputs::from_fields(&pi.to_fields()[..19]), None);
    }

    #[test]
    fn addresses_parse_and_print() {
        let a = sample().prover;
        assert_eq!(a.to_string(), "0x70997970c51812dc3a010c7d01b50e0d17dc79c8");
        assert_eq!(a.limbs()[0], 0x7099_7970);
        assert!("0x1234".parse::<ProverAddress>().is_err());
        assert!(
            "0xzz997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse::<ProverAddress>()
                .is_err()
        );
    }

    #[test]
    fn aggregate_joins_adjacent_children_only() {
        let a = sample().statement;
        let b = Statement {
            pre_root: a.post_root,
            range_start: 4,
            range_end: 5,
            ..a
        };
        let ab = Statement::aggregate(&a, Some(&b)).unwrap();
        assert_eq!((ab.pre_root, ab.post_root), (a.pre_root, b.post_root));
        assert_eq!((ab.range_start, ab.range_end), (3, 5));
        let gap = Statement {
            range_start: 5,
            range_end: 6,
            ..b
        };
        assert_eq!(Statement::aggregate(&a, Some(&gap)), None);
        let single = Statement::aggregate(&a, None).unwrap();
        assert_eq!((single.post_root, single.range_end), (a.post_root, 4));
        assert_ne!(single.commitment, ab.commitment);
    }

    #[test]
    fn leaf_encoding_is_abi_encode() {
        // abi.encode(uint256(1), uint8(0), uint8(0), bytes32(0), bytes32(0)) is five words.
        let mut words = vec![0u8; 160];
        words[31] = 1;
        assert_eq!(
            job_leaf(1, JobKind::Round0, 0, [0; 32], [0; 32]),
            keccak256(&words)
        );
    }
}
