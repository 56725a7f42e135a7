//! What the parties exchange off-chain, as JSON: a batch's manifest (kept in the blob store),
//! the job description the relayer serves to provers, and the final-proof record its sink
//! writes. Hashes travel as 0x-hex bytes32, digests likewise, kinds as the contract's numbers.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash::{Digest, hex0x, parse_hash};
use crate::ids::JobKind;
use crate::params::ParamSet;
use crate::statement::{Statement, job_leaf};
use crate::tree::JobTree;

/// Version of the manifest format.
pub const MANIFEST_VERSION: u32 = 1;

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

/// One job of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestJob {
    /// Its tree node within its level.
    pub node: u64,
    /// What its proof must state.
    pub statement: StatementJson,
    /// keccak256 of its witness.
    #[serde(with = "hex32")]
    pub witness_hash: [u8; 32],
}

/// A batch's manifest: what each of its jobs must prove and the hash of its witness, and for
/// a round-0 batch the statements of its whole aggregation tree. Stored in the blob store
/// under the batch's witness root, it is what lets a relayer that lost its database rebuild
/// its jobs from the chain's `BatchPosted` events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// The parameter set of its circuits.
    pub params: ParamSet,
    /// The kind of its jobs.
    pub kind: JobKind,
    /// Tree level of its jobs.
    pub level: u8,
    /// For a round-0 batch, the statements of its whole tree, level by level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tree: Vec<Vec<StatementJson>>,
    /// The jobs, in leaf order.
    pub jobs: Vec<ManifestJob>,
}

impl Manifest {
    /// The leaves of the batch's job tree.
    pub fn leaves(&self) -> Vec<[u8; 32]> {
        self.jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let statement: Statement = j.statement.into();
                job_leaf(
                    i as u32,
                    self.kind,
                    self.level,
                    statement.hash(),
                    j.witness_hash,
                )
            })
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

    /// Parses JSON bytes; `None` unless they are a manifest of this version with jobs.
    pub fn decode(bytes: &[u8]) -> Option<Manifest> {
        serde_json::from_slice::<Manifest>(bytes)
            .ok()
            .filter(|m| m.version == MANIFEST_VERSION && !m.jobs.is_empty())
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
    /// The kind of its batch.
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
    fn manifests_round_trip_and_refuse_other_versions() {
        let m = Manifest {
            version: MANIFEST_VERSION,
            params: ParamSet::Small,
            kind: JobKind::Aggregation,
            level: 1,
            tree: vec![],
            jobs: vec![ManifestJob {
                node: 0,
                statement: statement().into(),
                witness_hash: [7; 32],
            }],
        };
        let bytes = m.encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#""kind":1"#),
            "kinds are the contract's numbers: {text}"
        );
        assert!(text.contains(&format!(r#""witness_hash":"{}""#, hex0x(&[7; 32]))));
        assert_eq!(Manifest::decode(&bytes), Some(m.clone()));
        let leaf = job_leaf(0, JobKind::Aggregation, 1, statement().hash(), [7; 32]);
        assert_eq!(m.job_tree().root(), leaf, "one leaf is its own root");
        let old = text.replace(r#""version":1"#, r#""version":0"#);
        assert_eq!(Manifest::decode(old.as_bytes()), None);
        let bad_kind = text.replace(r#""kind":1"#, r#""kind":7"#);
        assert_eq!(Manifest::decode(bad_kind.as_bytes()), None);
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
