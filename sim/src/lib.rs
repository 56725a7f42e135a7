//! sim/: a deterministic discrete-event simulator of the protocol (the contract's queue
//! semantics, provers with hardware classes and faults), to measure the design at the scale of
//! thousands of provers.
//!
//! Filled in by the simulator issue.
