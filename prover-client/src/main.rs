//! `crowdprove-prover`: stake, run the proving loop, get paid (see `crowdprove_prover::cli`).

fn main() {
    crowdprove_prover::cli::main()
}
