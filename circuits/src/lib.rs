//! circuits/: the proof system. The demo rollup, its chunk and aggregation circuits, and a
//! small API (prove, verify, sizes) that hides the proof system from the relayer and the
//! client. Knows nothing of the chain.
//!
//! Filled in by the circuits issue.

/// Version of the proof byte format that this crate writes and reads.
pub const PROOF_FORMAT_VERSION: u8 = 1;
