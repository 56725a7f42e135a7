//! What a job is to the parties that exchange it: its witness (a chunk's transfers, or an
//! aggregation's child proofs) and the keccak Merkle tree whose root a batch posts on-chain.

use crate::hash::keccak256;
use crate::proof::Proof;
use crate::statement::JobKind;
use crate::witness::{ChunkWitness, WitnessError};

const AGGREGATION_MAGIC: [u8; 3] = *b"CPA";
const AGGREGATION_VERSION: u8 = 1;

/// The witness of an aggregation job at `level`: the proofs of its children one level down
/// (one for the last node of an odd level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregationWitness {
    /// The level of the job (its children are at `level - 1`).
    pub level: u8,
    /// The left child's proof.
    pub left: Proof,
    /// The right child's proof, if the node has one.
    pub right: Option<Proof>,
}

impl AggregationWitness {
    /// The versioned encoding: header, level, whether there is a right child, then each proof
    /// with a 4-byte big-endian length.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 2 * self.left.as_bytes().len());
        out.extend_from_slice(&AGGREGATION_MAGIC);
        out.extend_from_slice(&[AGGREGATION_VERSION, self.level, self.right.is_some() as u8]);
        for p in std::iter::once(&self.left).chain(&self.right) {
            out.extend_from_slice(&(p.as_bytes().len() as u32).to_be_bytes());
            out.extend_from_slice(p.as_bytes());
        }
        out
    }

    /// Decodes untrusted bytes; never panics. The child proofs are not verified here.
    pub fn decode(bytes: &[u8]) -> Result<AggregationWitness, WitnessError> {
        if bytes.len() < 6 || bytes[..3] != AGGREGATION_MAGIC || bytes[3] != AGGREGATION_VERSION {
            return Err(WitnessError::BadHeader);
        }
        let (level, has_right) = (bytes[4], bytes[5]);
        if level == 0 || has_right > 1 {
            return Err(WitnessError::Malformed("bad level or child flag".into()));
        }
        let mut rest = &bytes[6..];
        let mut take = || -> Result<Proof, WitnessError> {
            if rest.len() < 4 {
                return Err(WitnessError::Malformed("truncated".into()));
            }
            let len = u32::from_be_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
            let body = rest
                .get(4..4 + len)
                .ok_or_else(|| WitnessError::Malformed("truncated".into()))?;
            rest = &rest[4 + len..];
            Proof::from_bytes(body.to_vec()).map_err(|e| WitnessError::Malformed(e.to_string()))
        };
        let left = take()?;
        let right = if has_right == 1 { Some(take()?) } else { None };
        if !rest.is_empty() {
            return Err(WitnessError::Malformed("trailing bytes".into()));
        }
        Ok(AggregationWitness { level, left, right })
    }
}

/// A job's witness, of either kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobWitness {
    /// A round-0 job.
    Chunk(ChunkWitness),
    /// An aggregation job.
    Aggregation(AggregationWitness),
}

impl JobWitness {
    /// Decodes untrusted bytes of either kind; never panics.
    pub fn decode(bytes: &[u8]) -> Result<JobWitness, WitnessError> {
        if bytes.starts_with(&AGGREGATION_MAGIC) {
            AggregationWitness::decode(bytes).map(JobWitness::Aggregation)
        } else {
            ChunkWitness::decode(bytes).map(JobWitness::Chunk)
        }
    }

    /// The encoding whose keccak256 is the leaf's `witnessHash`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            JobWitness::Chunk(w) => w.encode(),
            JobWitness::Aggregation(w) => w.encode(),
        }
    }

    /// The job kind, as the contract numbers batches.
    pub fn kind(&self) -> JobKind {
        match self {
            JobWitness::Chunk(_) => JobKind::Round0,
            JobWitness::Aggregation(_) => JobKind::Aggregation,
        }
    }

    /// The tree level of the job.
    pub fn level(&self) -> u8 {
        match self {
            JobWitness::Chunk(_) => 0,
            JobWitness::Aggregation(w) => w.level,
        }
    }
}

/// The keccak Merkle tree over a batch's job leaves. A node is `keccak256(left ‖ right)`; a
/// level with an odd count pairs its last node with zero bytes32. One leaf is its own root.
#[derive(Clone, Debug)]
pub struct JobTree {
    levels: Vec<Vec<[u8; 32]>>,
}

impl JobTree {
    /// The tree over `leaves` (at least one).
    pub fn new(leaves: Vec<[u8; 32]>) -> JobTree {
        assert!(!leaves.is_empty(), "a batch has at least one job");
        let mut levels = vec![leaves];
        while levels.last().expect("non-empty").len() > 1 {
            let below = levels.last().expect("non-empty");
            let next = below
                .chunks(2)
                .map(|pair| node(&pair[0], pair.get(1).unwrap_or(&[0; 32])))
                .collect();
            levels.push(next);
        }
        JobTree { levels }
    }

    /// The root posted on-chain.
    pub fn root(&self) -> [u8; 32] {
        self.levels.last().expect("non-empty")[0]
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Whether the tree has no leaves (never: see [`JobTree::new`]).
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: usize) -> Option<[u8; 32]> {
        self.levels[0].get(index).copied()
    }

    /// The sibling path of leaf `index`, leaf level first.
    pub fn path(&self, index: usize) -> Option<Vec<[u8; 32]>> {
        if index >= self.len() {
            return None;
        }
        let mut path = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            path.push(level.get(i ^ 1).copied().unwrap_or([0; 32]));
            i /= 2;
        }
        Some(path)
    }

    /// Whether `leaf` sits at `index` under `root` with this `path`.
    pub fn verify(leaf: [u8; 32], index: u64, path: &[[u8; 32]], root: [u8; 32]) -> bool {
        if path.len() >= 64 || index >> path.len() != 0 {
            return false;
        }
        let mut acc = leaf;
        for (level, sibling) in path.iter().enumerate() {
            acc = if (index >> level) & 1 == 1 {
                node(sibling, &acc)
            } else {
                node(&acc, sibling)
            };
        }
        acc == root
    }
}

fn node(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    keccak256(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamSet;

    #[test]
    fn every_leaf_proves_against_the_root() {
        for n in [1usize, 2, 3, 5, 8, 13] {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| keccak256(&[i as u8])).collect();
            let tree = JobTree::new(leaves.clone());
            for (i, leaf) in leaves.iter().enumerate() {
                let path = tree.path(i).unwrap();
                assert!(
                    JobTree::verify(*leaf, i as u64, &path, tree.root()),
                    "n={n} i={i}"
                );
                assert!(!JobTree::verify(*leaf, (i as u64) ^ 1, &path, tree.root()) || n == 1);
            }
            assert!(tree.path(n).is_none());
        }
        let one = JobTree::new(vec![[7; 32]]);
        assert_eq!(one.root(), [7; 32]);
        assert!(
            !JobTree::verify([7; 32], 1, &[], [7; 32]),
            "index beyond the path"
        );
    }

    #[test]
    fn aggregation_witness_round_trips_and_refuses_garbage() {
        let p = Proof::new(ParamSet::Small, 1, vec![1, 2, 3]);
        let q = Proof::new(ParamSet::Small, 1, vec![4, 5]);
        for w in [
            AggregationWitness {
                level: 2,
                left: p.clone(),
                right: Some(q.clone()),
            },
            AggregationWitness {
                level: 2,
                left: p.clone(),
                right: None,
            },
        ] {
            let bytes = w.encode();
            assert_eq!(
                JobWitness::decode(&bytes),
                Ok(JobWitness::Aggregation(w.clone()))
            );
            for cut in 0..bytes.len() {
                assert!(
                    AggregationWitness::decode(&bytes[..cut]).is_err(),
                    "cut {cut}"
                );
            }
            let mut long = bytes.clone();
            long.push(0);
            assert!(AggregationWitness::decode(&long).is_err());
        }
    }
}
