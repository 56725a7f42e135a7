//! What the parties exchange off-chain, as JSON: a batch's manifest (kept in the blob store),
//! the job description the relayer serves to provers, and the final-proof record its sink
//! writes. Hashes travel as 0x-hex bytes32, digests likewise, kinds as the contract's numbers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash::{Digest, hex0x, parse_hash};
use crate::ids::JobKind;
use crate::params::ParamSet;
use crate::statement::{Statement, job_leaf};
use crate::tree::{JobTree, TreeShape};

/// Version of the manifest format.
pub const MANIFEST_VERSION: u32 = 2;

/// A digest as a 0x-hex bytes32 string; decoding refuses a limb outside the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HexDigest(pub Digest);

impl Serialize for HexDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex0x(&self.0.to_bytes()))
    }
}

impl<'de> Deserialize<'de> for HexDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes = hex32::deserialize(d)?;
        Digest::from_bytes(&bytes)
            .map(HexDigest)
            .ok_or_else(|| serde::de::Error::custom("not a field digest"))
    }
}

/// Serde of a bytes32 as 0x-hex, for `#[serde(with = "hex32")]`.
mod hex32 {
    use super::*;

    pub(super) fn serialize<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex0x(v))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        parse_hash(&s).ok_or_else(|| serde::de::Error::custom("expected a 0x-hex bytes32"))
    }
}

/// Serde of a list of bytes32 as 0x-hex strings.
mod hex32_vec {
    use super::*;

    pub(super) fn serialize<S: serde::Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|h| hex0x(h)))
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<[u8; 32]>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| {
                parse_hash(s).ok_or_else(|| serde::de::Error::custom("expected 0x-hex bytes32s"))
            })
            .collect()
    }
}

/// A statement in JSON: digests as 0x-hex bytes32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementJson {
    /// State root before the range.
    pub pre_root: HexDigest,
    /// State root after it.
    pub post_root: HexDigest,
    /// Commitment to the range's transfers.
    pub commitment: HexDigest,
    /// First chunk.
    pub range_start: u32,
    /// One past the last chunk.
    pub range_end: u32,
}

impl From<Statement> for StatementJson {
    fn from(s: Statement) -> Self {
        StatementJson {
            pre_root: HexDigest(s.pre_root),
            post_root: HexDigest(s.post_root),
            commitment: HexDigest(s.commitment),
            range_start: s.range_start,
            range_end: s.range_end,
        }
    }
}

impl From<StatementJson> for Statement {
    fn from(s: StatementJson) -> Self {
        Statement {
            pre_root: s.pre_root.0,
            post_root: s.post_root.0,
            commitment: s.commitment.0,
            range_start: s.range_start,
            range_end: s.range_end,
        }
    }
}

impl Statement {
    /// The JSON bytes the relayer's database keeps.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(&StatementJson::from(*self)).expect("a statement serializes")
    }

    /// Reads [`Statement::to_json`]'s bytes; `None` if they are not a statement.
    pub fn from_json(bytes: &[u8]) -> Option<Statement> {
        serde_json::from_slice::<StatementJson>(bytes)
            .ok()
            .map(Into::into)
    }
}

/// One job of a batch's proving tree, as its manifest describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeJob {
    /// Its index in the batch (job id minus the batch's first job id).
    pub index: u32,
    /// Its tree level (0: a round-0 job).
    pub level: u8,
    /// Its node index within the level.
    pub node: u32,
    /// Round0 at level 0, Aggregation above.
    pub kind: JobKind,
    /// What its proof must state.
    pub statement: Statement,
    /// keccak256 of its witness; zero for an aggregation node, whose witness is its children's
    /// winning proofs, known only once they are proven (the chain holds their hashes).
    pub witness_hash: [u8; 32],
}

/// A batch's manifest: the statements of its whole proving tree and the witness hashes of its
/// round-0 jobs. Stored in the blob store under the batch's witness root, it is what lets a
/// relayer that lost its database rebuild its jobs from the chain's `BatchPosted` events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// The parameter set of its circuits.
    pub params: ParamSet,
    /// The statements of the tree, level by level (level 0: the round-0 jobs).
    pub tree: Vec<Vec<StatementJson>>,
    /// keccak256 of each round-0 job's witness, in leaf order.
    #[serde(with = "hex32_vec")]
    pub witnesses: Vec<[u8; 32]>,
}

impl Manifest {
    /// The tree's shape; `None` if the statements do not fill exactly the tree over the
    /// round-0 jobs.
    pub fn shape(&self) -> Option<TreeShape> {
        let shape = TreeShape::new(u32::try_from(self.witnesses.len()).ok()?)?;
        let fits = self.tree.len() == usize::from(shape.height()) + 1
            && self
                .tree
                .iter()
                .enumerate()
                .all(|(l, level)| level.len() == shape.nodes_at(l as u8) as usize);
        fits.then_some(shape)
    }

    /// Every job of the tree in batch order (leaves, then each level up); empty if the
    /// manifest is not a whole tree.
    pub fn jobs(&self) -> Vec<TreeJob> {
        let Some(shape) = self.shape() else {
            return Vec::new();
        };
        shape
            .jobs()
            .enumerate()
            .map(|(i, n)| TreeJob {
                index: i as u32,
                level: n.level,
                node: n.index,
                kind: JobKind::at_level(n.level),
                statement: self.tree[n.level as usize][n.index as usize].into(),
                witness_hash: if n.level == 0 {
                    self.witnesses[n.index as usize]
                } else {
                    [0; 32]
                },
            })
            .collect()
    }

    /// The leaves of the batch's job tree, one per job in batch order.
    pub fn leaves(&self) -> Vec<[u8; 32]> {
        self.jobs()
            .iter()
            .map(|j| job_leaf(j.index, j.kind, j.level, j.statement.hash(), j.witness_hash))
            .collect()
    }

    /// The batch's job tree.
    pub fn job_tree(&self) -> JobTree {
        JobTree::new(self.leaves())
    }

    /// JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a manifest serializes")
    }

    /// Parses JSON bytes; `None` unless they are a manifest of this version with a whole tree.
    pub fn decode(bytes: &[u8]) -> Option<Manifest> {
        serde_json::from_slice::<Manifest>(bytes)
            .ok()
            .filter(|m| m.version == MANIFEST_VERSION && m.shape().is_some())
    }
}

/// What the relayer serves about one job (`GET /jobs/{id}`): enough for a prover to check
/// the witness against the batch's on-chain root before proving it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobInfo {
    /// The job.
    pub job_id: u64,
    /// Its batch.
    pub batch_id: u64,
    /// Its leaf index in the batch.
    pub index: u64,
    /// Its kind (Round0 at level 0, Aggregation above).
    pub kind: JobKind,
    /// Tree level.
    pub level: u8,
    /// The parameter set of its circuits.
    pub params: ParamSet,
    /// What its proof must state.
    pub statement: StatementJson,
    /// keccak256 of the statement's ABI encoding.
    #[serde(with = "hex32")]
    pub statement_hash: [u8; 32],
    /// keccak256 of the witness bytes.
    #[serde(with = "hex32")]
    pub witness_hash: [u8; 32],
    /// The leaf.
    #[serde(with = "hex32")]
    pub leaf: [u8; 32],
    /// Sibling path of the leaf, leaf level first.
    #[serde(with = "hex32_vec")]
    pub path: Vec<[u8; 32]>,
    /// The batch's witness root (also on chain).
    #[serde(with = "hex32")]
    pub witness_root: [u8; 32],
}

/// A batch's final proof as the relayer's sink hands it over: `batch-<id>.json` beside
/// `batch-<id>.proof` in a directory sink, or the body of a webhook POST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalProof {
    /// The source batch.
    pub batch_id: u64,
    /// keccak256 of the proof bytes, as recorded on chain.
    #[serde(with = "hex32")]
    pub proof_hash: [u8; 32],
    /// What the proof states: the batch's outer roots and its whole chunk range.
    pub statement: StatementJson,
    /// The proof bytes as 0x-hex, in a webhook's body only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_hex: Option<String>,
}

impl FinalProof {
    /// Where a directory sink at `dir` puts batch `batch_id`'s record.
    pub fn record_path(dir: &Path, batch_id: u64) -> PathBuf {
        dir.join(format!("batch-{batch_id}.json"))
    }

    /// Where a directory sink at `dir` puts batch `batch_id`'s proof bytes.
    pub fn proof_path(dir: &Path, batch_id: u64) -> PathBuf {
        dir.join(format!("batch-{batch_id}.proof"))
    }

    /// Reads a directory sink's record of batch `batch_id`: `Ok(None)` if there is none yet.
    pub fn read(dir: &Path, batch_id: u64) -> std::io::Result<Option<FinalProof>> {
        let path = Self::record_path(dir, batch_id);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement() -> Statement {
        Statement {
            pre_root: Digest([1, 2, 3, 4]),
            post_root: Digest([5, 6, 7, 8]),
            commitment: Digest([9, 10, 11, 12]),
            range_start: 0,
            range_end: 2,
        }
    }

    #[test]
    fn manifests_round_trip_and_refuse_other_versions_and_torn_trees() {
        let leaf = |i: u32| Statement {
            range_start: i,
            range_end: i + 1,
            ..statement()
        };
        // Three leaves: level 1 has a pair and a single-child node, level 2 the top.
        let top = Statement {
            range_start: 0,
            range_end: 3,
            ..statement()
        };
        let m = Manifest {
            version: MANIFEST_VERSION,
            params: ParamSet::Small,
            tree: vec![
                vec![leaf(0).into(), leaf(1).into(), leaf(2).into()],
                vec![leaf(0).into(), leaf(2).into()],
                vec![top.into()],
            ],
            witnesses: vec![[7; 32], [8; 32], [9; 32]],
        };
        let bytes = m.encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(&hex0x(&[7; 32])), "{text}");
        assert_eq!(Manifest::decode(&bytes), Some(m.clone()));
        let jobs = m.jobs();
        assert_eq!(jobs.len(), 6);
        assert_eq!(
            (jobs[4].level, jobs[4].node, jobs[4].kind),
            (1, 1, JobKind::Aggregation)
        );
        assert_eq!(
            jobs[4].witness_hash, [0; 32],
            "a node's witness is not known at posting"
        );
        assert_eq!(jobs[2].witness_hash, [9; 32]);
        assert_eq!(
            m.leaves()[5],
            job_leaf(5, JobKind::Aggregation, 2, top.hash(), [0; 32])
        );
        let old = text.replace(r#""version":2"#, r#""version":1"#);
        assert_eq!(Manifest::decode(old.as_bytes()), None);
        let mut torn = m.clone();
        torn.tree[1].pop();
        assert_eq!(Manifest::decode(&torn.encode()), None, "a level short");
        assert!(torn.jobs().is_empty());
        let mut extra = m;
        extra.witnesses.push([1; 32]);
        assert_eq!(
            Manifest::decode(&extra.encode()),
            None,
            "a leaf without its tree"
        );
    }

    #[test]
    fn statements_refuse_digests_outside_the_field() {
        let s = statement();
        assert_eq!(Statement::from_json(&s.to_json()), Some(s));
        let text = String::from_utf8(s.to_json()).unwrap();
        let bad = text.replacen("0x0000000000000001", "0xffffffffffffffff", 1);
        assert_ne!(bad, text);
        assert_eq!(Statement::from_json(bad.as_bytes()), None);
    }

    #[test]
    fn final_proof_records_are_read_back_from_a_directory() {
        let dir = std::env::temp_dir().join(format!("crowdprove-protocol-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(FinalProof::read(&dir, 9).unwrap(), None, "none yet");
        let record = FinalProof {
            batch_id: 9,
            proof_hash: [3; 32],
            statement: statement().into(),
            proof_hex: None,
        };
        std::fs::write(
            FinalProof::record_path(&dir, 9),
            serde_json::to_vec(&record).unwrap(),
        )
        .unwrap();
        assert_eq!(FinalProof::read(&dir, 9).unwrap(), Some(record));
        std::fs::write(FinalProof::record_path(&dir, 9), b"{").unwrap();
        assert!(
            FinalProof::read(&dir, 9).is_err(),
            "a torn record is an error, not none"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
