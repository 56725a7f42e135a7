//! `crowdprove-groth16`: the commands a circuit registry names (see the library's docs).
//!
//! ```text
//! crowdprove-groth16 id                        # the circuit id, for the registry's `id`
//! crowdprove-groth16 prove WITNESS INPUTS PROOF
//! crowdprove-groth16 verify PROOF INPUTS       # exit 0 valid, 10 invalid, 2 error
//! crowdprove-groth16 statement WITNESS         # the statement JSON the witness proves
//! crowdprove-groth16 sample SEED               # a job: witness hex and the statement's commitment
//! ```
//!
//! (`crowdprove groth16 ...` runs the same commands.)

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    crowdprove_groth16::cli::main_from(&args)
}
