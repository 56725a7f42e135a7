//! protocol/: CrowdProve's shared vocabulary, the one place where the parties agree on what
//! the chain and the wire say. Request ids, job kinds, job and lease states and verdicts as
//! the Coordinator numbers them; the contract's limits; the job leaf encoding, the keccak job
//! tree and the shape of a batch's proving tree; the manifest and job-info JSON that the
//! relayer serves and the final-proof record its sink writes; parameter-set names.
//!
//! Knows nothing of proofs (plonky2 lives in circuits/), of the chain's transport (alloy lives
//! in bindings/) or of HTTP: every other crate depends on this one, and it on none of them,
//! so a prover client never links the relayer and the simulator never links alloy.

mod hash;
mod ids;
pub mod limits;
mod params;
mod statement;
mod tree;
mod wire;

pub use hash::{Digest, FIELD_ORDER, hex0x, keccak256, parse_hash};
pub use ids::{BadCode, JobKind, JobStatus, LeaseState, RequestId, Verdict};
pub use params::{ParamSet, Params, UnknownParamSet};
pub use statement::{Statement, abi_word, job_leaf};
pub use tree::{JobTree, TreeNode, TreeShape};
pub use wire::{
    FinalProof, HexDigest, JobInfo, MANIFEST_VERSION, Manifest, StatementJson, TreeJob,
};
