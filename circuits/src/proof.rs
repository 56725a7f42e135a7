//! Proof bytes: an 8-byte header (format version, parameter set, tree level) and the proof.

use std::fmt;

use crowdprove_protocol::ParamSet;
use crowdprove_protocol::keccak256;

/// Leading bytes of every proof.
pub(crate) const PROOF_MAGIC: [u8; 3] = *b"CPP";
/// Version of the proof format written here.
pub const PROOF_FORMAT_VERSION: u8 = 1;
/// Length of the header.
pub(crate) const PROOF_HEADER_LEN: usize = 8;
/// Largest proof accepted; ours are about 150 KB.
pub const MAX_PROOF_BYTES: usize = 1 << 20;

/// A proof as it travels: header, then the proof system's bytes. Its keccak256 is what the
/// prover commits to on-chain.
#[derive(Clone, PartialEq, Eq)]
pub struct Proof {
    bytes: Vec<u8>,
}

/// Why proof bytes were refused before any verification.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofFormatError {
    /// Larger than any proof we make.
    #[error("proof of {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// The size given.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a CrowdProve proof of a version we read.
    #[error("not a CrowdProve proof of format version {PROOF_FORMAT_VERSION}")]
    BadHeader,
    /// The header names a parameter set we do not know.
    #[error("unknown parameter set id {0}")]
    UnknownParams(u8),
}

impl Proof {
    pub(crate) fn new(set: ParamSet, level: u8, body: Vec<u8>) -> Proof {
        let mut bytes = Vec::with_capacity(PROOF_HEADER_LEN + body.len());
        bytes.extend_from_slice(&PROOF_MAGIC);
        bytes.extend_from_slice(&[PROOF_FORMAT_VERSION, set.id(), level, 0, 0]);
        bytes.extend_from_slice(&body);
        Proof { bytes }
    }

    /// Wraps bytes from elsewhere after checking the header; the proof itself is checked by
    /// [`crate::Circuits::verify`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Proof, ProofFormatError> {
        if bytes.len() > MAX_PROOF_BYTES {
            return Err(ProofFormatError::TooLarge {
                size: bytes.len(),
                limit: MAX_PROOF_BYTES,
            });
        }
        if bytes.len() < PROOF_HEADER_LEN
            || bytes[..3] != PROOF_MAGIC
            || bytes[3] != PROOF_FORMAT_VERSION
            || bytes[6..8] != [0, 0]
        {
            return Err(ProofFormatError::BadHeader);
        }
        ParamSet::from_id(bytes[4]).ok_or(ProofFormatError::UnknownParams(bytes[4]))?;
        Ok(Proof { bytes })
    }

    /// The parameter set whose circuits made it.
    pub fn param_set(&self) -> ParamSet {
        ParamSet::from_id(self.bytes[4]).expect("checked when built")
    }

    /// The tree level: 0 for a chunk proof.
    pub fn level(&self) -> u8 {
        self.bytes[5]
    }

    /// All bytes, header included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// All bytes, header included.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// keccak256 of the bytes: the hash submitted on-chain.
    pub fn hash(&self) -> [u8; 32] {
        keccak256(&self.bytes)
    }

    pub(crate) fn body(&self) -> &[u8] {
        &self.bytes[PROOF_HEADER_LEN..]
    }
}

impl fmt::Debug for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Proof({} level {}, {} bytes)",
            self.param_set(),
            self.level(),
            self.bytes.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_is_checked() {
        let p = Proof::new(ParamSet::Default, 3, vec![7; 10]);
        let back = Proof::from_bytes(p.as_bytes().to_vec()).unwrap();
        assert_eq!(
            (back.param_set(), back.level(), back.body()),
            (ParamSet::Default, 3, &[7u8; 10][..])
        );
        let mut bad = p.as_bytes().to_vec();
        bad[0] = b'X';
        assert_eq!(Proof::from_bytes(bad), Err(ProofFormatError::BadHeader));
        let mut unknown = p.as_bytes().to_vec();
        unknown[4] = 200;
        assert_eq!(
            Proof::from_bytes(unknown),
            Err(ProofFormatError::UnknownParams(200))
        );
        assert_eq!(
            Proof::from_bytes(vec![1, 2]),
            Err(ProofFormatError::BadHeader)
        );
        assert!(matches!(
            Proof::from_bytes(vec![0; MAX_PROOF_BYTES + 1]),
            Err(ProofFormatError::TooLarge { .. })
        ));
    }
}
