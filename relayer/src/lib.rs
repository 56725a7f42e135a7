//! relayer/: the operator's side. Turns a rollup's witnesses into on-chain batches, serves
//! witnesses over HTTP, verifies submitted proofs and posts verdicts, and drives each batch's
//! aggregation tree to one final proof.
//!
//! Filled in by the relayer issue.
