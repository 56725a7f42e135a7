//! `crowdprove`: the one-command local network. Until the relayer and prover client land,
//! `make demo` runs `tools/demo-contract.sh` (one job's life cycle with cast).

fn main() {
    eprintln!(
        "crowdprove devnet is not built yet; `make demo` runs one job's life cycle on anvil with cast"
    );
    std::process::exit(2);
}
