//! circuits/: the proof system. The demo rollup (accounts in a Poseidon Merkle tree, transfers,
//! a seeded sequencer), its chunk circuit and one aggregation circuit per tree level, and the
//! small API that hides plonky2 from the relayer and the client: [`Circuits::prove_chunk`],
//! [`Circuits::prove_aggregation`], [`Circuits::verify`]. Knows nothing of the chain: the
//! statement, the job tree and the leaf encoding it proves against are crowdprove-protocol's.
//!
//! The public API is not generic: plonky2's field, config and hasher are fixed here, so its
//! prover is monomorphized in this crate, which is built at opt-level 3 even in tests.

mod api;
pub mod backend;
mod circuit;
mod hash;
mod jobs;
mod proof;
pub mod registry;
mod rollup;
mod statement;
mod witness;

pub use api::{CircuitId, Circuits, MAX_LEVEL, ProveError, VerifyError};
pub use jobs::{AggregationWitness, JobWitness};
pub use proof::{MAX_PROOF_BYTES, PROOF_FORMAT_VERSION, Proof, ProofFormatError};
pub use rollup::{
    Account, AccountTree, BALANCE_BITS, Batch, GENESIS_BALANCE, MAX_BALANCE, Sequencer, Transfer,
};
pub use statement::{
    BadAddress, NUM_PUBLIC_INPUTS, ProverAddress, PublicInputs, aggregate_statement,
    tree_statements,
};
pub use witness::{
    ChunkSummary, ChunkWitness, MAX_WITNESS_BYTES, TransferWitness, WITNESS_VERSION, WitnessError,
};
