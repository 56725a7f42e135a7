//! sim/: a deterministic discrete-event simulator of the CrowdProve protocol. The queue is the
//! contract's, rule for rule ([`model`], checked against the Solidity contract on recorded
//! traces); provers have the paper's hardware classes and the faults a permissionless network
//! meets; the relayer posts each source batch's whole proving tree, whose nodes become fresh
//! on-chain as their children's proofs are judged valid. It reproduces the
//! paper's Tables 2 and 3 and compares reassignment policies at the scale of thousands of
//! provers.

pub mod compare;
pub mod engine;
pub mod model;
pub mod paper;
pub mod plot;
pub mod rng;
pub mod rules;
pub mod scenario;
pub mod trace;

pub use engine::{Outcome, Sim, run};
pub use scenario::{
    Economics, Fault, FaultKind, Hardware, Policy, ProverGroup, Scenario, Strike, Timing,
};
