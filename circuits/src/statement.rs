//! What a proof states in the circuits' terms: its public inputs as field elements, the
//! prover address they bind, and how an aggregation's statement follows from its children's.

use std::fmt;
use std::str::FromStr;

use plonky2::field::types::PrimeField64;

use crowdprove_protocol::{Statement, TreeShape};

use crate::hash::{Digest, F, hash_elements};

/// Public inputs of every proof here, in this order: pre root (4), post root (4), commitment
/// (4), range start, range end, job id, prover address as 5 big-endian 32-bit limbs.
pub const NUM_PUBLIC_INPUTS: usize = 20;

/// The statement of an aggregation node with children `left` and, unless the node is the
/// last of an odd level, `right`. `None` if the children do not join (roots or ranges).
pub fn aggregate_statement(left: &Statement, right: Option<&Statement>) -> Option<Statement> {
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

/// The statement every job of `shape` must prove, level by level, from the chunks'
/// statements. `None` if there are not `shape.chunks()` of them or they do not join up.
pub fn tree_statements(shape: &TreeShape, chunks: &[Statement]) -> Option<Vec<Vec<Statement>>> {
    if chunks.len() != shape.chunks() as usize {
        return None;
    }
    let mut levels = vec![chunks.to_vec()];
    for level in 1..=shape.height() {
        let below = &levels[level as usize - 1];
        let row = (0..shape.nodes_at(level))
            .map(|i| {
                let (l, r) = shape.node(level, i)?.children?;
                aggregate_statement(&below[l as usize], r.map(|r| &below[r as usize]))
            })
            .collect::<Option<Vec<_>>>()?;
        levels.push(row);
    }
    Some(levels)
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
        use crate::hash::FieldDigest;
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
        let ab = aggregate_statement(&a, Some(&b)).unwrap();
        assert_eq!((ab.pre_root, ab.post_root), (a.pre_root, b.post_root));
        assert_eq!((ab.range_start, ab.range_end), (3, 5));
        let gap = Statement {
            range_start: 5,
            range_end: 6,
            ..b
        };
        assert_eq!(aggregate_statement(&a, Some(&gap)), None);
        let single = aggregate_statement(&a, None).unwrap();
        assert_eq!((single.post_root, single.range_end), (a.post_root, 4));
        assert_ne!(single.commitment, ab.commitment);
    }

    #[test]
    fn statements_reduce_to_the_outer_roots() {
        let roots: Vec<Digest> = (0..8).map(|i| Digest([i, 0, 0, 0])).collect();
        let chunks: Vec<Statement> = (0..7)
            .map(|i| Statement {
                pre_root: roots[i],
                post_root: roots[i + 1],
                commitment: Digest([100 + i as u64, 0, 0, 0]),
                range_start: i as u32,
                range_end: i as u32 + 1,
            })
            .collect();
        let t = TreeShape::new(7).unwrap();
        let levels = tree_statements(&t, &chunks).unwrap();
        let top = levels.last().unwrap()[0];
        assert_eq!((top.pre_root, top.post_root), (roots[0], roots[7]));
        assert_eq!((top.range_start, top.range_end), (0, 7));
        let mut broken = chunks.clone();
        broken[3].pre_root = Digest([99, 0, 0, 0]);
        assert!(
            tree_statements(&t, &broken).is_none(),
            "a gap in the roots does not join"
        );
    }
}
