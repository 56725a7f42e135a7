//! bindings/: Rust types of the CrowdProve contracts (Coordinator, its events and errors) and
//! their bytecode, so Rust code can deploy and call them. Knows nothing of proofs.
//!
//! Filled in by the relayer issue; until then this crate only names the contract.

/// Name of the on-chain Job Distributor contract, as in `contracts/Coordinator.sol`.
pub const COORDINATOR: &str = "Coordinator";
