//! prover-client/: what a community prover runs. Leases jobs on-chain, fetches witnesses from
//! the relayer, proves, verifies locally, submits and uploads, and never loses a finished proof.
//!
//! Filled in by the prover-client issue.
