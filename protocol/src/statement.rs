//! What a proof of a tree node states, and the keccak encodings the chain commits to.

use crate::hash::{Digest, keccak256};
use crate::ids::JobKind;

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
    buf.extend_from_slice(&abi_word(u8::from(kind).into()));
    buf.extend_from_slice(&abi_word(level.into()));
    buf.extend_from_slice(&statement_hash);
    buf.extend_from_slice(&witness_hash);
    keccak256(&buf)
}

/// A u64 as one ABI word (32 bytes, big-endian).
pub fn abi_word(x: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&x.to_be_bytes());
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_encoding_is_abi_encode() {
        // abi.encode(uint256(1), uint8(0), uint8(0), bytes32(0), bytes32(0)) is five words.
        let mut words = vec![0u8; 160];
        words[31] = 1;
        assert_eq!(
            job_leaf(1, JobKind::Round0, 0, [0; 32], [0; 32]),
            keccak256(&words)
        );
        words[63] = 1;
        words[95] = 3;
        assert_eq!(
            job_leaf(1, JobKind::Aggregation, 3, [0; 32], [0; 32]),
            keccak256(&words)
        );
    }
}
