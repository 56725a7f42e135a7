//! The root crate: `crowdprove devnet`, the one-command local network (anvil, the contracts,
//! the relayer and several prover clients proving a real batch), its summary, and the harness
//! the end-to-end tests in `tests/` drive.

pub mod devnet;
pub mod report;
