//! prover-client/: what a community prover runs. It leases jobs on-chain, fetches their
//! witnesses from the relayer, checks them against the chain, proves them in a stoppable worker
//! process, verifies the proof locally, spools it, submits its hash on-chain and uploads it, and
//! never loses a finished proof: the spool survives crashes and Ctrl-C.

pub mod api;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deliver;
pub mod external;
mod faults;
pub mod give_back;
pub mod leaser;
pub mod proving;
pub mod runner;
pub mod spool;
pub mod state;
pub mod worker;
