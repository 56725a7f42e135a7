//! circuits/: the proof system. The demo rollup (accounts in a Poseidon Merkle tree, transfers,
//! a seeded sequencer), its chunk circuit and one aggregation circuit per tree level, and the
//! small API that hides plonky2 from the relayer and the client: [`Circuits::prove_chunk`],
//! [`Circuits::prove_aggregation`], [`Circuits::verify`]. Knows nothing of the chain beyond
//! the keccak256 encodings the chain commits to (statement hash, job leaf).
//!
//! The public API is not generic: plonky2's field, config and hasher are fixed here, so its
//! prover is monomorphized in this crate, which is built at opt-level 3 even in tests.

mod api;
mod circuit;
mod hash;
mod jobs;
mod params;
mod proof;
mod rollup;
mod statement;
mod tree;
mod witness;

pub use api::{CircuitId, Circuits, MAX_LEVEL, ProveError, VerifyError};
pub use hash::{Digest, FIELD_ORDER, keccak256};
pub use jobs::{AggregationWitness, JobTree, JobWitness};
pub use params::{ParamSet, Params, UnknownParamSet};
pub use proof::{MAX_PROOF_BYTES, PROOF_FORMAT_VERSION, Proof, ProofFormatError};
pub use rollup::{
    Account, AccountTree, BALANCE_BITS, Batch, GENESIS_BALANCE, MAX_BALANCE, Sequencer, Transfer,
};
pub use statement::{
    BadAddress, JobKind, NUM_PUBLIC_INPUTS, ProverAddress, PublicInputs, Statement, job_leaf,
};
pub use tree::{TreeNode, TreeShape};
pub use witness::{
    ChunkSummary, ChunkWitness, MAX_WITNESS_BYTES, TransferWitness, WITNESS_VERSION, WitnessError,
};
