//! The demo rollup: accounts (balance, nonce) in a Poseidon Merkle tree, transfers with
//! balance and nonce checks, and a seeded sequencer that cuts batches into chunks.

use std::collections::HashMap;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::hash::{Digest, two_to_one};
use crate::witness::{ChunkWitness, TransferWitness};
use crowdprove_protocol::{ParamSet, Params};

/// Balances are below 2^48, so a sum or difference of two never wraps the field.
pub const BALANCE_BITS: usize = 48;
/// The largest balance or amount.
pub const MAX_BALANCE: u64 = (1 << BALANCE_BITS) - 1;
/// What the sequencer funds each genesis account with.
pub const GENESIS_BALANCE: u64 = 1_000_000_000;

/// One account: its leaf in the tree is `[balance, nonce, 0, 0]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Spendable balance, below 2^48.
    pub balance: u64,
    /// Transfers sent so far.
    pub nonce: u64,
}

impl Account {
    /// The leaf digest. Leaves are not hashed: `[balance, nonce, 0, 0]` is already an injective
    /// encoding, which saves a Poseidon permutation per leaf in the circuit.
    pub fn leaf(&self) -> Digest {
        Digest([self.balance, self.nonce, 0, 0])
    }
}

/// A transfer of `amount` from account `from` (whose nonce must be `nonce`) to account `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    /// Sender's index in the tree.
    pub from: u64,
    /// Recipient's index in the tree.
    pub to: u64,
    /// Amount moved.
    pub amount: u64,
    /// The sender's nonce before this transfer.
    pub nonce: u64,
}

/// Root of the path from `leaf` at `index` up through `siblings` (leaf level first).
pub(crate) fn path_root(leaf: Digest, index: u64, siblings: &[Digest]) -> Digest {
    let mut node = leaf;
    for (level, sibling) in siblings.iter().enumerate() {
        node = if (index >> level) & 1 == 1 {
            two_to_one(*sibling, node)
        } else {
            two_to_one(node, *sibling)
        };
    }
    node
}

/// A sparse Merkle tree of accounts: absent accounts are zero, absent subtrees take their
/// level's default digest.
#[derive(Clone, Debug)]
pub struct AccountTree {
    depth: usize,
    defaults: Vec<Digest>,
    nodes: HashMap<(usize, u64), Digest>,
    accounts: HashMap<u64, Account>,
}

impl AccountTree {
    /// An empty tree of 2^depth accounts.
    pub fn new(depth: usize) -> Self {
        let mut defaults = vec![Account::default().leaf()];
        for level in 0..depth {
            defaults.push(two_to_one(defaults[level], defaults[level]));
        }
        AccountTree {
            depth,
            defaults,
            nodes: HashMap::new(),
            accounts: HashMap::new(),
        }
    }

    /// The tree's depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The root digest.
    pub fn root(&self) -> Digest {
        self.node(self.depth, 0)
    }

    /// The account at `index` (zero if never touched).
    pub fn account(&self, index: u64) -> Account {
        self.accounts.get(&index).copied().unwrap_or_default()
    }

    fn node(&self, level: usize, index: u64) -> Digest {
        self.nodes
            .get(&(level, index))
            .copied()
            .unwrap_or(self.defaults[level])
    }

    /// The siblings of the path from `index` to the root, leaf level first.
    pub fn path(&self, index: u64) -> Vec<Digest> {
        (0..self.depth)
            .map(|level| self.node(level, (index >> level) ^ 1))
            .collect()
    }

    /// Writes the account at `index` and updates the path above it.
    pub fn set(&mut self, index: u64, account: Account) {
        assert!(index < 1 << self.depth, "account index outside the tree");
        self.accounts.insert(index, account);
        let mut node = account.leaf();
        self.nodes.insert((0, index), node);
        for level in 0..self.depth {
            let i = index >> level;
            let sibling = self.node(level, i ^ 1);
            node = if i & 1 == 1 {
                two_to_one(sibling, node)
            } else {
                two_to_one(node, sibling)
            };
            self.nodes.insert((level + 1, i >> 1), node);
        }
    }
}

/// A batch of chunks as the sequencer produced it.
#[derive(Clone, Debug)]
pub struct Batch {
    /// The parameter set its chunks are for.
    pub params: ParamSet,
    /// State root before the batch.
    pub pre_root: Digest,
    /// State root after the batch.
    pub post_root: Digest,
    /// The chunks, each one round-0 proving job.
    pub chunks: Vec<ChunkWitness>,
}

/// The demo rollup's sequencer: deterministic from its seed, it produces batches of valid
/// transfers and the witnesses that prove them.
#[derive(Clone, Debug)]
pub struct Sequencer {
    params: Params,
    rng: ChaCha8Rng,
    tree: AccountTree,
}

impl Sequencer {
    /// A sequencer whose genesis funds `funded_accounts` accounts, reproducible from `seed`.
    pub fn new(set: ParamSet, seed: u64) -> Self {
        let params = set.params();
        let mut tree = AccountTree::new(params.tree_depth);
        for index in 0..params.funded_accounts {
            tree.set(
                index,
                Account {
                    balance: GENESIS_BALANCE,
                    nonce: 0,
                },
            );
        }
        Sequencer {
            params,
            rng: ChaCha8Rng::seed_from_u64(seed),
            tree,
        }
    }

    /// The current state root.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// The current account tree.
    pub fn tree(&self) -> &AccountTree {
        &self.tree
    }

    /// Produces the next batch: `chunks` full chunks of random valid transfers, applied to the
    /// state, so the next batch starts where this one ends.
    pub fn next_batch(&mut self, chunks: u32) -> Batch {
        let pre_root = self.root();
        let per_chunk = self.params.transfers_per_chunk;
        let chunks = (0..chunks)
            .map(|chunk_index| {
                let chunk_pre = self.root();
                let transfers = (0..per_chunk).map(|_| self.next_transfer()).collect();
                ChunkWitness {
                    params: self.params.set,
                    chunk_index,
                    pre_root: chunk_pre,
                    transfers,
                }
            })
            .collect();
        Batch {
            params: self.params.set,
            pre_root,
            post_root: self.root(),
            chunks,
        }
    }

    // A random transfer from a funded account, to another funded account or (one in four) to
    // a fresh one anywhere in the tree; applied at once, returned with its Merkle paths.
    fn next_transfer(&mut self) -> TransferWitness {
        let funded = self.params.funded_accounts;
        let from = self.rng.next_u64() % funded;
        let to = if self.rng.next_u64() % 4 == 0 {
            self.rng.next_u64() % (1 << self.params.tree_depth)
        } else {
            self.rng.next_u64() % funded
        };
        let sender = self.tree.account(from);
        let amount = if sender.balance == 0 {
            0
        } else {
            1 + self.rng.next_u64() % sender.balance.min(10_000)
        };
        let transfer = Transfer {
            from,
            to,
            amount,
            nonce: sender.nonce,
        };
        let sender_path = self.tree.path(from);
        self.tree.set(
            from,
            Account {
                balance: sender.balance - amount,
                nonce: sender.nonce + 1,
            },
        );
        let recipient = self.tree.account(to);
        let recipient_path = self.tree.path(to);
        self.tree.set(
            to,
            Account {
                balance: recipient.balance + amount,
                nonce: recipient.nonce,
            },
        );
        TransferWitness {
            transfer,
            sender,
            sender_path,
            recipient,
            recipient_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_reproduce_the_root() {
        let mut tree = AccountTree::new(6);
        tree.set(
            5,
            Account {
                balance: 10,
                nonce: 1,
            },
        );
        tree.set(
            62,
            Account {
                balance: 7,
                nonce: 0,
            },
        );
        for index in [0, 5, 31, 62, 63] {
            let leaf = tree.account(index).leaf();
            assert_eq!(
                path_root(leaf, index, &tree.path(index)),
                tree.root(),
                "index {index}"
            );
        }
    }

    #[test]
    fn sequencer_is_deterministic_and_chains_batches() {
        let mut a = Sequencer::new(ParamSet::Small, 7);
        let mut b = Sequencer::new(ParamSet::Small, 7);
        let first = a.next_batch(2);
        assert_eq!(first.post_root, b.next_batch(2).post_root);
        let second = a.next_batch(1);
        assert_eq!(second.pre_root, first.post_root, "batches chain");
        assert_ne!(
            Sequencer::new(ParamSet::Small, 8).next_batch(1).post_root,
            first.post_root
        );
    }
}
