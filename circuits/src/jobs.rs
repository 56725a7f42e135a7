//! What a job is to the parties that exchange it: its witness (a chunk's transfers, or an
//! aggregation's child proofs).

use crate::proof::Proof;
use crate::witness::{ChunkWitness, WitnessError};
use crowdprove_protocol::JobKind;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crowdprove_protocol::ParamSet;

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
