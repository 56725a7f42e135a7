//! `crowdprove-relayer`: the operator's service (see [`crowdprove_relayer::cli`]).

fn main() {
    crowdprove_relayer::cli::main_from(std::env::args_os())
}
