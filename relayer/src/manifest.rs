//! A batch's manifest: what each of its jobs must prove and the hash of its witness, and for a
//! round-0 batch the statements of its whole aggregation tree. Stored in the blob store under
//! the batch's witness root, it is what lets a relayer that lost its database rebuild its jobs
//! from the chain's `BatchPosted` events.

use serde::{Deserialize, Serialize};

use crowdprove_circuits::{Digest, JobKind, JobTree, ParamSet, Statement, job_leaf};

/// Version of the manifest format.
pub const MANIFEST_VERSION: u32 = 1;

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

/// A digest as a 0x-hex bytes32 string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HexDigest(pub Digest);

impl Serialize for HexDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", hex::encode(self.0.to_bytes())))
    }
}

impl<'de> Deserialize<'de> for HexDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes: [u8; 32] = hex::decode(s.trim_start_matches("0x"))
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| serde::de::Error::custom("expected a 0x-hex bytes32"))?;
        Digest::from_bytes(&bytes)
            .map(HexDigest)
            .ok_or_else(|| serde::de::Error::custom("not a field digest"))
    }
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

/// Encodes a statement for the database.
pub fn encode_statement(s: &Statement) -> Vec<u8> {
    serde_json::to_vec(&StatementJson::from(*s)).expect("a statement serializes")
}

/// Decodes a statement from the database.
pub fn decode_statement(bytes: &[u8]) -> Option<Statement> {
    serde_json::from_slice::<StatementJson>(bytes)
        .ok()
        .map(Into::into)
}

/// One job of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestJob {
    /// Its tree node within its level.
    pub node: u64,
    /// What its proof must state.
    pub statement: StatementJson,
    /// keccak256 of its witness, 0x-hex.
    pub witness_hash: String,
}

/// A batch's manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version.
    pub version: u32,
    /// The parameter set of its circuits.
    pub params: ParamSet,
    /// 0 round 0, 1 aggregation.
    pub kind: u8,
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
        let kind = if self.kind == 0 {
            JobKind::Round0
        } else {
            JobKind::Aggregation
        };
        self.jobs
            .iter()
            .enumerate()
            .map(|(i, j)| {
                let statement: Statement = j.statement.into();
                job_leaf(
                    i as u32,
                    kind,
                    self.level,
                    statement.hash(),
                    parse_hash(&j.witness_hash).unwrap_or([0; 32]),
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

    /// Parses JSON bytes.
    pub fn decode(bytes: &[u8]) -> Option<Manifest> {
        serde_json::from_slice::<Manifest>(bytes)
            .ok()
            .filter(|m| m.version == MANIFEST_VERSION && !m.jobs.is_empty())
    }
}

/// Parses a 0x-hex bytes32.
pub fn parse_hash(s: &str) -> Option<[u8; 32]> {
    hex::decode(s.trim_start_matches("0x"))
        .ok()?
        .try_into()
        .ok()
}

/// Formats bytes as 0x-hex.
pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}
