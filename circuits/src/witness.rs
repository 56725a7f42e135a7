//! A chunk's witness: its transfers and the Merkle paths they need, in a versioned binary
//! encoding whose keccak256 is the `witnessHash` of the job's leaf.

use bincode::Options;
use serde::{Deserialize, Serialize};

use crate::hash::{Digest, hash_elements};
use crate::rollup::{Account, MAX_BALANCE, Transfer, path_root};
use crowdprove_protocol::ParamSet;
use crowdprove_protocol::Statement;
use crowdprove_protocol::{FIELD_ORDER, keccak256};

/// Leading bytes of an encoded witness.
pub(crate) const WITNESS_MAGIC: [u8; 3] = *b"CPW";
/// Version of the witness encoding written here.
pub const WITNESS_VERSION: u8 = 1;
/// Largest witness accepted (the paper set's witness is about 3.6 MB).
pub const MAX_WITNESS_BYTES: usize = 16 << 20;

/// One transfer with the accounts it touches and their Merkle paths: the sender's against the
/// root before the transfer, the recipient's against the root after the sender was updated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferWitness {
    /// The transfer.
    pub transfer: Transfer,
    /// The sender's account before the transfer.
    pub sender: Account,
    /// Siblings of the sender's leaf, leaf level first.
    pub sender_path: Vec<Digest>,
    /// The recipient's account after the sender was updated, before it is credited.
    pub recipient: Account,
    /// Siblings of the recipient's leaf then, leaf level first.
    pub recipient_path: Vec<Digest>,
}

/// The witness of one round-0 job: the transfers of chunk `chunk_index`, applied to `pre_root`.
/// A chunk holds up to `transfers_per_chunk` transfers; the remaining slots are empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkWitness {
    /// The parameter set whose chunk circuit proves it.
    pub params: ParamSet,
    /// The chunk's position in its batch: the job proves the range [index, index + 1).
    pub chunk_index: u32,
    /// State root before the chunk.
    pub pre_root: Digest,
    /// The transfers, in order.
    pub transfers: Vec<TransferWitness>,
}

/// Why witness bytes were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WitnessError {
    /// The bytes are not a witness of a version we read.
    #[error("not a CrowdProve witness of version {WITNESS_VERSION}")]
    BadHeader,
    /// The bytes are larger than any witness we make.
    #[error("witness of {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// The size given.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The body does not decode.
    #[error("malformed witness: {0}")]
    Malformed(String),
    /// The witness is for another parameter set.
    #[error("witness is for parameter set {found}, expected {expected}")]
    WrongParams {
        /// The set asked for.
        expected: ParamSet,
        /// The set the witness names.
        found: ParamSet,
    },
    /// More transfers than the chunk circuit has slots.
    #[error("{count} transfers do not fit a chunk of {slots}")]
    TooManyTransfers {
        /// Transfers given.
        count: usize,
        /// Slots per chunk.
        slots: usize,
    },
    /// A transfer is out of range or does not apply to the state.
    #[error("transfer {index} is invalid: {reason}")]
    BadTransfer {
        /// Its position in the chunk.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

fn codec() -> impl Options {
    bincode::options()
        .with_limit(MAX_WITNESS_BYTES as u64)
        .with_fixint_encoding()
        .reject_trailing_bytes()
}

/// What a chunk does, derived by replaying it: its roots and the commitment to its transfers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkSummary {
    /// State root before the chunk.
    pub pre_root: Digest,
    /// State root after it.
    pub post_root: Digest,
    /// Poseidon commitment to its transfer slots.
    pub commitment: Digest,
}

impl ChunkWitness {
    /// The versioned encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.transfers.len() * 64 * (1 + self.depth()));
        out.extend_from_slice(&WITNESS_MAGIC);
        out.push(WITNESS_VERSION);
        codec()
            .serialize_into(&mut out, self)
            .expect("a witness always serializes");
        out
    }

    /// keccak256 of the encoding: the `witnessHash` of the job's leaf.
    pub fn hash(&self) -> [u8; 32] {
        keccak256(&self.encode())
    }

    /// Decodes untrusted bytes. Never panics; the result is not yet checked against a state
    /// (see [`ChunkWitness::summary`]).
    pub fn decode(bytes: &[u8]) -> Result<ChunkWitness, WitnessError> {
        if bytes.len() > MAX_WITNESS_BYTES + 4 {
            return Err(WitnessError::TooLarge {
                size: bytes.len(),
                limit: MAX_WITNESS_BYTES,
            });
        }
        if bytes.len() < 4 || bytes[..3] != WITNESS_MAGIC || bytes[3] != WITNESS_VERSION {
            return Err(WitnessError::BadHeader);
        }
        codec()
            .deserialize(&bytes[4..])
            .map_err(|e| WitnessError::Malformed(e.to_string()))
    }

    fn depth(&self) -> usize {
        self.params.params().tree_depth
    }

    /// Checks the witness against its parameter set and replays it: every path must lead to the
    /// running root, every transfer must be within range, spend at most the sender's balance and
    /// carry the sender's nonce. Returns what the chunk proves.
    pub fn summary(&self, expected: ParamSet) -> Result<ChunkSummary, WitnessError> {
        if self.params != expected {
            return Err(WitnessError::WrongParams {
                expected,
                found: self.params,
            });
        }
        let p = expected.params();
        if self.transfers.len() > p.transfers_per_chunk {
            return Err(WitnessError::TooManyTransfers {
                count: self.transfers.len(),
                slots: p.transfers_per_chunk,
            });
        }
        if !self.pre_root.is_canonical() {
            return Err(WitnessError::BadTransfer {
                index: 0,
                reason: "pre-state root is not canonical",
            });
        }
        let mut root = self.pre_root;
        for (index, tw) in self.transfers.iter().enumerate() {
            root = tw
                .apply(root, p.tree_depth)
                .map_err(|reason| WitnessError::BadTransfer { index, reason })?;
        }
        Ok(ChunkSummary {
            pre_root: self.pre_root,
            post_root: root,
            commitment: self.commitment(),
        })
    }

    /// The statement a proof of this chunk must make (its roots, commitment and range).
    pub fn statement(&self, expected: ParamSet) -> Result<Statement, WitnessError> {
        let s = self.summary(expected)?;
        Ok(Statement {
            pre_root: s.pre_root,
            post_root: s.post_root,
            commitment: s.commitment,
            range_start: self.chunk_index,
            range_end: self.chunk_index + 1,
        })
    }

    /// The commitment to the chunk's transfer slots: Poseidon over `[active, from, to, amount,
    /// nonce]` for every slot, empty slots all zero.
    pub fn commitment(&self) -> Digest {
        commitment_of(&self.slot_elements())
    }

    pub(crate) fn slot_elements(&self) -> Vec<u64> {
        let slots = self.params.params().transfers_per_chunk;
        let mut out = Vec::with_capacity(slots * SLOT_ELEMENTS);
        for tw in &self.transfers {
            let t = tw.transfer;
            out.extend_from_slice(&[1, t.from, t.to, t.amount, t.nonce]);
        }
        out.resize(slots * SLOT_ELEMENTS, 0);
        out
    }
}

/// Field elements per transfer slot in the commitment.
pub(crate) const SLOT_ELEMENTS: usize = 5;

pub(crate) fn commitment_of(slot_elements: &[u64]) -> Digest {
    hash_elements(slot_elements)
}

impl TransferWitness {
    // Applies the transfer to `root`, checking everything the circuit checks; the new root.
    fn apply(&self, root: Digest, depth: usize) -> Result<Digest, &'static str> {
        let t = self.transfer;
        if self.sender_path.len() != depth || self.recipient_path.len() != depth {
            return Err("a Merkle path has the wrong length");
        }
        if t.from >= 1 << depth || t.to >= 1 << depth {
            return Err("account index outside the tree");
        }
        if t.amount > MAX_BALANCE {
            return Err("amount above the maximum balance");
        }
        let canonical = |a: &Account| a.balance < FIELD_ORDER && a.nonce < FIELD_ORDER - 1;
        if !canonical(&self.sender) || !canonical(&self.recipient) || t.nonce >= FIELD_ORDER {
            return Err("a value is not a field element");
        }
        if !self
            .sender_path
            .iter()
            .chain(&self.recipient_path)
            .all(Digest::is_canonical)
        {
            return Err("a Merkle path digest is not a field element");
        }
        if path_root(self.sender.leaf(), t.from, &self.sender_path) != root {
            return Err("sender's path does not lead to the current root");
        }
        if self.sender.nonce != t.nonce {
            return Err("nonce is not the sender's");
        }
        if self.sender.balance < t.amount || self.sender.balance > MAX_BALANCE {
            return Err("sender's balance does not cover the amount");
        }
        let sender = Account {
            balance: self.sender.balance - t.amount,
            nonce: self.sender.nonce + 1,
        };
        let mid = path_root(sender.leaf(), t.from, &self.sender_path);
        if path_root(self.recipient.leaf(), t.to, &self.recipient_path) != mid {
            return Err("recipient's path does not lead to the root after the debit");
        }
        let credited = self
            .recipient
            .balance
            .checked_add(t.amount)
            .filter(|&b| b <= MAX_BALANCE);
        let Some(balance) = credited else {
            return Err("recipient's balance would exceed the maximum");
        };
        let recipient = Account {
            balance,
            nonce: self.recipient.nonce,
        };
        Ok(path_root(recipient.leaf(), t.to, &self.recipient_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::Sequencer;
    use proptest::prelude::*;

    #[test]
    fn summary_replays_the_sequencer() {
        let mut seq = Sequencer::new(ParamSet::Small, 1);
        let batch = seq.next_batch(3);
        let mut root = batch.pre_root;
        for chunk in &batch.chunks {
            let s = chunk.summary(ParamSet::Small).unwrap();
            assert_eq!(s.pre_root, root);
            root = s.post_root;
        }
        assert_eq!(root, batch.post_root);
    }

    #[test]
    fn encoding_round_trips_and_hash_is_of_the_bytes() {
        let chunk = Sequencer::new(ParamSet::Small, 2)
            .next_batch(1)
            .chunks
            .remove(0);
        let bytes = chunk.encode();
        assert_eq!(ChunkWitness::decode(&bytes).unwrap(), chunk);
        assert_eq!(chunk.hash(), keccak256(&bytes));
    }

    #[test]
    fn refuses_bad_headers_trailing_bytes_and_other_params() {
        let chunk = Sequencer::new(ParamSet::Small, 3)
            .next_batch(1)
            .chunks
            .remove(0);
        let mut bytes = chunk.encode();
        bytes[3] = 9;
        assert_eq!(ChunkWitness::decode(&bytes), Err(WitnessError::BadHeader));
        let mut long = chunk.encode();
        long.push(0);
        assert!(matches!(
            ChunkWitness::decode(&long),
            Err(WitnessError::Malformed(_))
        ));
        assert!(matches!(
            chunk.summary(ParamSet::Default),
            Err(WitnessError::WrongParams { .. })
        ));
    }

    #[test]
    fn refuses_overspend_wrong_nonce_and_wrong_paths() {
        let chunk = Sequencer::new(ParamSet::Small, 4)
            .next_batch(1)
            .chunks
            .remove(0);
        let mut overspend = chunk.clone();
        overspend.transfers[0].transfer.amount = overspend.transfers[0].sender.balance + 1;
        assert!(matches!(
            overspend.summary(ParamSet::Small),
            Err(WitnessError::BadTransfer { index: 0, .. })
        ));
        let mut nonce = chunk.clone();
        nonce.transfers[1].transfer.nonce += 1;
        assert!(matches!(
            nonce.summary(ParamSet::Small),
            Err(WitnessError::BadTransfer { index: 1, .. })
        ));
        let mut path = chunk.clone();
        path.transfers[2].recipient_path[3] = Digest([1, 2, 3, 4]);
        assert!(matches!(
            path.summary(ParamSet::Small),
            Err(WitnessError::BadTransfer { index: 2, .. })
        ));
        let mut minted = chunk;
        minted.transfers[0].sender.balance += 5;
        assert!(
            minted.summary(ParamSet::Small).is_err(),
            "a balance the tree does not hold"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = ChunkWitness::decode(&bytes);
            let mut framed = WITNESS_MAGIC.to_vec();
            framed.push(WITNESS_VERSION);
            framed.extend_from_slice(&bytes);
            if let Ok(w) = ChunkWitness::decode(&framed) {
                let _ = w.summary(ParamSet::Small);
            }
        }

        #[test]
        fn mutated_witnesses_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let chunk = Sequencer::new(ParamSet::Small, 5).next_batch(1).chunks.remove(0);
            let mut bytes = chunk.encode();
            let i = pos.index(bytes.len());
            bytes[i] = byte;
            if let Ok(w) = ChunkWitness::decode(&bytes) {
                let _ = w.summary(ParamSet::Small);
            }
        }
    }
}
